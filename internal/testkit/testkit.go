// Package testkit holds what the tests of several packages build the same
// way: a store over a fresh SQLite database.
package testkit

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/audittrail/audittrail/sqlite"
	"github.com/audittrail/audittrail/store"
)

// OpenStore returns a store over a fresh SQLite database in a temporary
// directory, on the clock now, closed when the test ends.
func OpenStore(tb testing.TB, now func() time.Time) *store.Store {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "audittrail.db"), now)
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	st := store.New(db)
	tb.Cleanup(func() { st.Close() })
	return st
}

// Package testkit holds what the tests of several packages build the same
// way: a store over a fresh SQLite database, and the service over it.
package testkit

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
	"github.com/audittrail/audittrail/sqlite"
	"github.com/audittrail/audittrail/store"
	"github.com/audittrail/audittrail/tlog"
)

// OpenStore returns a store over a fresh SQLite database in a temporary
// directory, on the clock now, closed when the test ends.
func OpenStore(tb testing.TB, now func() time.Time) *store.Store {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil { // as the store wants its directory
		tb.Fatal(err)
	}
	db := sqlite.NewDB(filepath.Join(dir, "audittrail.db"), now)
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	st := store.New(db)
	tb.Cleanup(func() { st.Close() })
	return st
}

// NewService returns the service over st with the built-in catalog, an
// integrity log signed by a key of its own, the configuration cfg and the
// clock now; a nil logger discards.
func NewService(tb testing.TB, st audittrail.Store, cfg service.Config, now func() time.Time, logger *slog.Logger) *service.Service {
	tb.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	catalog, err := audittrail.NewCatalog(nil)
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := tlog.NewEphemeralSigner()
	if err != nil {
		tb.Fatal(err)
	}
	log := &tlog.Log{Store: st, Signer: signer, Logger: logger, Now: now}
	return service.New(st, catalog, log, cfg, now, logger)
}

package ui_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/testkit"
	"github.com/audittrail/audittrail/service"
)

// newTestService returns a service over a fresh SQLite database in a
// temporary directory, on the clock time.Now, with the default
// configuration.
func newTestService(tb testing.TB) *service.Service {
	tb.Helper()
	st := testkit.OpenStore(tb, time.Now)
	catalog, err := audittrail.NewCatalog(nil)
	if err != nil {
		tb.Fatal(err)
	}
	// The UI signs no checkpoints and proves nothing: no integrity log.
	return service.New(st, catalog, nil, service.DefaultConfig(), time.Now, discardLogger())
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

package ui_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/audittrail/audittrail/internal/testkit"
	"github.com/audittrail/audittrail/service"
)

// newTestService returns a service over a fresh SQLite database in a
// temporary directory, on the clock time.Now, with the default
// configuration.
func newTestService(tb testing.TB) *service.Service {
	tb.Helper()
	return testkit.NewService(tb, testkit.OpenStore(tb, time.Now), service.DefaultConfig(), time.Now, nil)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

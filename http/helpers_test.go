package http

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/testkit"
	"github.com/audittrail/audittrail/service"
)

// testServer is what the tests of this package run against: the API over
// the service over a real SQLite store.
type testServer struct {
	*Server
	svc   *service.Service
	store audittrail.Store
}

// testOptions configure newTestServer; the zero value is the defaults with
// the real clock.
type testOptions struct {
	Now           func() time.Time
	Limits        *Config
	Logger        *slog.Logger
	OperatorToken string
	LoginAttempts int
	// Wrap, when set, wraps the store under the service (to count or fail
	// its calls).
	Wrap func(audittrail.Store) audittrail.Store
	// Store, when set, is the store to serve instead of a new one (two
	// servers over one database).
	Store audittrail.Store
}

// newTestServer returns a server over a fresh SQLite database, closed when
// the test ends.
func newTestServer(tb testing.TB, o testOptions) *testServer {
	tb.Helper()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	limits := DefaultConfig()
	if o.Limits != nil {
		limits = *o.Limits
	}
	st := o.Store
	if st == nil {
		st = testkit.OpenStore(tb, o.Now)
	}
	if o.Wrap != nil {
		st = o.Wrap(st)
	}
	cfg := service.DefaultConfig()
	cfg.OperatorToken = o.OperatorToken
	if o.LoginAttempts > 0 {
		cfg.LoginAttempts = o.LoginAttempts
	}
	svc := testkit.NewService(tb, st, cfg, o.Now, o.Logger)
	return &testServer{Server: NewServer(svc, limits, o.Logger), svc: svc, store: st}
}

// change runs fn in a write transaction of the account, recording nothing.
func (s *testServer) change(tb testing.TB, accountID string, fn func(tx audittrail.Tx) error) {
	tb.Helper()
	err := s.store.Change(context.Background(), accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		return nil, fn(tx)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

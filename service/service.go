package service

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/ingest"
	"github.com/audittrail/audittrail/tlog"
)

// Config is the service's configuration: what an operator sets when
// starting it.
type Config struct {
	// OperatorToken is the credential of the operator ("" turns it off).
	OperatorToken string
	// Retention is how long records are kept and shown.
	Retention audittrail.Retention
	// TokenTTL is how long a user token lasts.
	TokenTTL time.Duration
	// LoginAttempts failed logins per account and login name are allowed
	// within LoginWindow; more are refused with ETOOMANYREQUESTS.
	LoginAttempts int
	LoginWindow   time.Duration
	// ExportIdleTimeout is how long an export waits for a client that
	// reads nothing before dropping it and freeing its slot
	// (export.DefaultIdleTimeout when zero; never when negative).
	ExportIdleTimeout time.Duration
}

// MinOperatorToken is the shortest operator token the service accepts
// (SPEC §5): serve refuses to start with a shorter one.
const MinOperatorToken = 32

// Defaults of Config.
const (
	DefaultTokenTTL      = 12 * time.Hour
	DefaultLoginAttempts = 5
	DefaultLoginWindow   = time.Minute
)

// DefaultConfig returns the configuration of a service started without
// options.
func DefaultConfig() Config {
	return Config{Retention: audittrail.DefaultRetention, TokenTTL: DefaultTokenTTL,
		LoginAttempts: DefaultLoginAttempts, LoginWindow: DefaultLoginWindow}
}

// Service implements the product's operations over a store. It is safe for
// concurrent use.
type Service struct {
	store    audittrail.Store
	catalog  *audittrail.Catalog
	ingester *ingest.Ingester
	log      *tlog.Log
	cfg      Config
	now      func() time.Time
	logger   *slog.Logger

	throttle *loginThrottle
	exports  export.Slots
	access   *accessWriter
	hashing  chan struct{} // a slot per password check that may run at once
}

// New returns the service over store. log signs and proves the accounts'
// Merkle logs; now is the service's one clock (time.Now in production).
func New(store audittrail.Store, catalog *audittrail.Catalog, log *tlog.Log, cfg Config, now func() time.Time, logger *slog.Logger) *Service {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.LoginAttempts <= 0 {
		cfg.LoginAttempts = DefaultLoginAttempts
	}
	if cfg.LoginWindow <= 0 {
		cfg.LoginWindow = DefaultLoginWindow
	}
	if cfg.Retention == (audittrail.Retention{}) {
		cfg.Retention = audittrail.DefaultRetention
	}
	return &Service{
		store:    store,
		catalog:  catalog,
		ingester: ingest.New(catalog, now),
		log:      log,
		cfg:      cfg,
		now:      now,
		logger:   logger,
		throttle: newLoginThrottle(cfg.LoginAttempts, cfg.LoginWindow),
		access:   &accessWriter{store: store},
		hashing:  make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
}

// Catalog returns the catalog of object types the service records.
func (s *Service) Catalog() *audittrail.Catalog { return s.catalog }

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// Now returns the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Store returns the store under the service, for the maintenance jobs of
// the binary (retention purge, checkpoints) and for probes (/readyz).
func (s *Service) Store() audittrail.Store { return s.store }

// windowStart is the oldest moment the retention window shows now.
func (s *Service) windowStart() time.Time { return s.cfg.Retention.Start(s.now()) }

// Subscribe calls fn after each transaction that made records durable —
// a platform's batch, or the service's own records of a change — with the
// account and the seq range committed, on this process or (PostgreSQL) any
// replica, until the returned function is called. It is the seam that
// streaming and witnessing build on; fn must not block.
func (s *Service) Subscribe(fn func(audittrail.Commit)) (unsubscribe func()) {
	return s.store.Subscribe(fn)
}

// read authorizes p with a on the account and returns what fn reads in one
// read transaction.
func read[T any](ctx context.Context, s *Service, p *audittrail.Principal, a Access, accountID string, fn func(audittrail.Tx) (T, error)) (v T, err error) {
	if err := Authorize(p, a, accountID); err != nil {
		return v, err
	}
	err = s.store.View(ctx, func(tx audittrail.Tx) (err error) {
		v, err = fn(tx)
		return err
	})
	return v, err
}

// readList is read for a list, which is never nil: an answer lists none
// as [], not null.
func readList[T any](ctx context.Context, s *Service, p *audittrail.Principal, a Access, accountID string, fn func(audittrail.Tx) ([]T, error)) ([]T, error) {
	list, err := read(ctx, s, p, a, accountID, fn)
	if list == nil && err == nil {
		list = []T{}
	}
	return list, err
}

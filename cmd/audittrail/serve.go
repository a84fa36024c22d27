package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/demo"
	"github.com/audittrail/audittrail/export"
	athttp "github.com/audittrail/audittrail/http"
	"github.com/audittrail/audittrail/ingest"
	"github.com/audittrail/audittrail/service"
	"github.com/audittrail/audittrail/tlog"
	"github.com/audittrail/audittrail/ui"
)

// ServeCommand runs the service: `audittrail serve`.
type ServeCommand struct {
	Addr      string
	Storage   storageFlags
	Catalog   string
	Retention string
	Demo      bool
	TokenTTL  time.Duration
	LogFormat string

	LoginAttempts int
	LoginWindow   time.Duration
	Keys          keyFlags
	Rates         rateFlags

	// DrainTimeout bounds how long a stop waits for the requests in flight;
	// DrainDelay is how long it answers new requests with 503 at least.
	DrainTimeout time.Duration
	DrainDelay   time.Duration

	// ExportIdleTimeout drops an export client that reads nothing for
	// that long, freeing its export slot.
	ExportIdleTimeout time.Duration

	cancel context.CancelFunc // stops the background jobs
	jobs   sync.WaitGroup

	store    audittrail.Store
	server   *http.Server
	listener net.Listener
	drainer  *athttp.Drainer
	logger   *slog.Logger
}

// NewServeCommand returns the command with its defaults.
func NewServeCommand() *ServeCommand { return &ServeCommand{} }

// ParseFlags reads the command line and the environment.
func (m *ServeCommand) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("audittrail serve", flag.ContinueOnError)
	fs.StringVar(&m.Addr, "addr", ":8080", "address to listen on (use :0 for any free port)")
	m.Storage.register(fs)
	m.Keys.register(fs)
	m.Rates.register(fs)
	fs.StringVar(&m.Catalog, "catalog", "", "JSON file of object types to add to the built-in catalog")
	fs.StringVar(&m.Retention, "retention", "13mo", "how long records are kept: months (13mo) or a Go duration (36h)")
	fs.BoolVar(&m.Demo, "demo", false, "create the demo account (admin / admin) with a year of history on an empty store")
	fs.DurationVar(&m.TokenTTL, "token-ttl", 12*time.Hour, "lifetime of user tokens")
	fs.StringVar(&m.LogFormat, "log-format", "text", "log format: text or json")
	fs.IntVar(&m.LoginAttempts, "login-attempts", service.DefaultLoginAttempts, "failed logins allowed per account and login name within --login-window")
	fs.DurationVar(&m.LoginWindow, "login-window", service.DefaultLoginWindow, "window of --login-attempts; a throttled login may try again when its oldest failure leaves it")
	fs.DurationVar(&m.DrainTimeout, "drain-timeout", 30*time.Second, "on SIGTERM, how long to wait for the requests in flight before cutting them short")
	fs.DurationVar(&m.DrainDelay, "drain-delay", 0, "on SIGTERM, how long at least to keep answering new requests with 503 before closing the listener, so that a load balancer polling /readyz stops sending first")
	fs.DurationVar(&m.ExportIdleTimeout, "export-idle-timeout", export.DefaultIdleTimeout, "drop an export client that reads nothing for this long, which frees its export slot")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: audittrail serve [--addr :8080] [--data DIR | --db postgres://...] [--catalog FILE] [--retention 13mo] [--demo]")
		fs.PrintDefaults()
	}
	return parseFlags(fs, args)
}

// Run opens the store, seeds the demo if asked, and starts serving in the
// background. Close stops it.
func (m *ServeCommand) Run(ctx context.Context) error {
	m.logger = newLogger(m.LogFormat)
	retention, err := audittrail.ParseRetention(m.Retention)
	if err != nil {
		return err
	}
	catalog, err := loadCatalog(m.Catalog)
	if err != nil {
		return err
	}
	m.Storage.Logger = m.logger
	if m.store, err = m.Storage.open(); err != nil {
		return err
	}

	signer, err := m.Keys.signer(ctx, m.store, &m.Storage, true)
	if err != nil {
		return err
	}
	if m.ExportIdleTimeout <= 0 {
		return fmt.Errorf("--export-idle-timeout must be positive")
	}
	if m.LoginAttempts < 1 || m.LoginWindow <= 0 {
		return fmt.Errorf("--login-attempts must be at least 1 and --login-window positive")
	}
	limits, err := m.Rates.config(m.logger)
	if err != nil {
		return err
	}
	cfg := service.Config{
		OperatorToken: os.Getenv("AUDITTRAIL_OPERATOR_TOKEN"),
		Retention:     retention,
		TokenTTL:      m.TokenTTL,
		LoginAttempts: m.LoginAttempts,
		LoginWindow:   m.LoginWindow,

		ExportIdleTimeout: m.ExportIdleTimeout,
	}
	if cfg.OperatorToken == "" {
		m.logger.Warn("AUDITTRAIL_OPERATOR_TOKEN is not set: the operator API (creating accounts) is off")
	} else if n := len(cfg.OperatorToken); n < service.MinOperatorToken {
		return fmt.Errorf("AUDITTRAIL_OPERATOR_TOKEN is %d characters; it must be at least %d (for example: openssl rand -hex 32)", n, service.MinOperatorToken)
	}
	// One clock for every component.
	now := time.Now
	log := &tlog.Log{Store: m.store, Signer: signer, Logger: m.logger, Now: now}
	svc := service.New(m.store, catalog, log, cfg, now, m.logger)

	if m.Demo {
		created, err := demo.Seed(ctx, m.store, ingest.New(catalog, now), now())
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if created {
			fmt.Println("audittrail: demo account created: account demo, administrator admin / admin (a demo-only password)")
		}
	}

	// Background jobs: checkpoints (a new one within a second of new
	// records, and at least every 10 minutes), and the hourly purge.
	jobs, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.jobs.Add(2)
	go func() { defer m.jobs.Done(); log.Run(jobs, time.Second) }()
	go func() { defer m.jobs.Done(); m.purgeEvery(jobs, time.Hour, retention) }()

	if m.listener, err = net.Listen("tcp", m.Addr); err != nil {
		return err
	}
	m.drainer = athttp.NewDrainer(ui.New(svc, athttp.NewServer(svc, limits, m.logger), m.logger))
	m.server = &http.Server{
		Handler:           m.drainer,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := m.server.Serve(m.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.logger.Error("serve", "error", err.Error())
		}
	}()
	fmt.Printf("audittrail: listening on http://%s\n", m.URL())
	return nil
}

// URL returns the address the service listens on, with a usable host.
func (m *ServeCommand) URL() string {
	addr := m.listener.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// Close stops the service without losing a request: it drains (see drain),
// stops the background jobs, then closes the store once its writer has
// answered every write it took.
func (m *ServeCommand) Close() error {
	var errs []error
	if m.server != nil {
		errs = append(errs, m.drain())
	}
	if m.cancel != nil {
		m.cancel()
		m.jobs.Wait()
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
	}
	return errors.Join(errs...)
}

// drain answers every new request with 503 unavailable (/readyz included)
// while the requests in flight run to their end, for at least DrainDelay and
// at most DrainTimeout, then closes the listener and the connections. It
// fails when requests were still running at DrainTimeout and were cut short.
func (m *ServeCommand) drain() error {
	start := time.Now()
	timeout := m.DrainTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	m.logger.Info("stopping: new requests are answered 503 while those in flight finish",
		"in_flight", m.drainer.Active(), "drain_timeout", timeout.String())
	err := m.drainer.Drain(ctx)
	if err == nil {
		if rest := m.DrainDelay - time.Since(start); rest > 0 {
			select {
			case <-time.After(rest):
			case <-ctx.Done():
			}
		}
		err = m.server.Shutdown(ctx)
	}
	if err != nil {
		m.server.Close()
		return fmt.Errorf("stop: %d requests still running after %s were cut short: %w", m.drainer.Active(), timeout, err)
	}
	m.logger.Info("stopped serving", "drained_in", time.Since(start).String())
	return nil
}

func newLogger(format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(safeLogWriter{os.Stderr}, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

func loadCatalog(path string) (*audittrail.Catalog, error) {
	if path == "" {
		return audittrail.NewCatalog(nil)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--catalog: %w", err)
	}
	defer f.Close()
	return audittrail.ReadCatalog(f)
}

// purgeEvery runs the retention purge at start and then every interval.
func (m *ServeCommand) purgeEvery(ctx context.Context, interval time.Duration, retention audittrail.Retention) {
	for {
		purge(ctx, m.store, retention, m.logger)
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

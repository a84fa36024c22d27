package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Ensure DB implements the backend interfaces.
var (
	_ audittrail.Backend         = (*DB)(nil)
	_ audittrail.CommitListener  = (*DB)(nil)
	_ audittrail.Tx              = (*txn)(nil)
	_ audittrail.CommitAnnouncer = (*txn)(nil)
)

const (
	// defaultMaxConns is the size of the pool when neither MaxConns nor the
	// URL's pool_max_conns sets it. Each replica holds at most this many
	// connections; PostgreSQL's max_connections (100 by default) bounds the
	// sum over all replicas.
	defaultMaxConns = 10

	// partitionInterval is how often the background loop creates the
	// partitions of the months ahead.
	partitionInterval = 6 * time.Hour

	// writeTimeout bounds a write transaction once it has begun. A write
	// runs to its end whatever happens to the caller's context (see write).
	writeTimeout = time.Minute

	// maxAttempts is how many times a write that failed on a deadlock or a
	// serialization failure is run.
	maxAttempts = 3

	// connectTimeout bounds the opening of a connection, when the URL's
	// connect_timeout does not: a database that does not answer at all (a
	// host that is down, a network that drops packets) fails the request
	// with EUNAVAILABLE after this long, rather than holding it.
	connectTimeout = 10 * time.Second

	// pingTimeout bounds Ping's query, and the pool's check of a connection
	// that was idle before it is used.
	pingTimeout = 2 * time.Second
)

// monthsBack and monthsAhead bound the months whose partitions
// EnsurePartitions creates, around the month of now. Only tests change them
// (SetPartitionWindow in export_test.go), to open many stores quickly.
var monthsBack, monthsAhead = 14, 3

// errClosed answers what comes after Close.
var errClosed = errors.New("postgres: database is closed")

// errReadOnly answers a write to a store opened with ReadOnly.
var errReadOnly = errors.New("postgres: the store is open read-only; writes are refused")

// DB is the PostgreSQL backend: a pool of connections to one database, in
// which any number of DBs (one per replica of the service) write at once.
// See the package documentation for the schema, the locks and the roles.
type DB struct {
	// URL is the database's connection string, as pgx reads it
	// (postgres://user@host:5432/db?sslmode=disable&search_path=audittrail).
	// Parameters that pgx does not know are sent to the server as run-time
	// parameters; search_path chooses the schema. pool_max_conns and the
	// other pgxpool parameters apply.
	URL string

	// ReadOnly opens the database for reading only: no migration, no
	// partition created, every transaction READ ONLY, so that a command that
	// checks the database (audittrail verify, export) sees it exactly as it
	// is and never changes it. Writes fail. Open fails if migrations are
	// pending.
	ReadOnly bool

	// MaxConns is the most connections the pool opens; 0 means the URL's
	// pool_max_conns, else 10.
	MaxConns int32

	now func() time.Time // the backend's clock, read once per transaction (Tx.Now)

	// instance tells this DB's announcements of commits (AnnounceCommit)
	// from the other processes', which ListenCommits reports; schema is
	// the schema it uses, since the channel of the announcements is the
	// database's, which other schemas share.
	instance string
	schema   string

	pool      *pgxpool.Pool
	closed    atomic.Bool
	stop      context.CancelFunc // stops the partition loop
	loopDone  chan struct{}      // closed when the partition loop has returned
	closeOnce sync.Once
}

// NewDB returns the backend of the database at url, whose transactions read
// the clock now when they begin (time.Now if nil). Call Open before use.
func NewDB(url string, now func() time.Time) *DB {
	if now == nil {
		now = time.Now
	}
	return &DB{URL: url, now: now, instance: audittrail.NewID("")}
}

// Open connects, applies the migrations not applied yet (unless ReadOnly),
// creates the partitions around the store's clock and starts the loop that
// keeps creating them until Close.
func (db *DB) Open() (err error) {
	if db.URL == "" {
		return errors.New("postgres: database URL required")
	}
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	switch {
	case db.MaxConns > 0:
		cfg.MaxConns = db.MaxConns
	case !strings.Contains(db.URL, "pool_max_conns"):
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.ConnConfig.ConnectTimeout <= 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	// A connection idle for a second is pinged before use; one that does
	// not answer in time is dropped, and another taken or opened.
	cfg.PingTimeout = pingTimeout
	cfg.MaxConnLifetime = time.Hour
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = time.Minute
	params := cfg.ConnConfig.RuntimeParams
	if params["application_name"] == "" {
		params["application_name"] = "audittrail"
	}
	if db.ReadOnly {
		// Every transaction is READ ONLY: a write that got past the checks
		// of this package would still be refused by the server.
		params["default_transaction_read_only"] = "on"
	}

	ctx := context.Background()
	if db.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer func() {
		if err != nil {
			db.pool.Close()
			db.closed.Store(true)
		}
	}()
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.pool.Ping(pctx); err != nil {
		return fmt.Errorf("postgres: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	if err := db.migrate(ctx); err != nil {
		return err
	}
	if db.ReadOnly {
		return nil
	}
	db.warnDurability(pctx)
	if err := db.EnsurePartitions(ctx, db.now()); err != nil {
		return err
	}
	lctx, stop := context.WithCancel(ctx)
	db.stop, db.loopDone = stop, make(chan struct{})
	go db.partitionLoop(lctx)
	return nil
}

// Close stops the partition loop, waits for the transactions under way and
// closes the connections. Writes and reads after Close fail.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.closed.Store(true)
		if db.stop != nil {
			db.stop()
			<-db.loopDone
		}
		if db.pool != nil {
			db.pool.Close()
		}
	})
	return nil
}

// Ping reports whether the database can be reached and takes writes (for
// /readyz): it runs a query on a connection of the pool, which must answer
// within pingTimeout (and the caller's deadline), and finds the schema on a
// server that is not a standby in recovery. Otherwise it returns
// EUNAVAILABLE naming the trouble: the database cannot be reached, the
// connection was lost, it did not answer in time, or it is a standby. It
// writes nothing: a server that answers queries but cannot write (a full
// disk) passes, and its writes answer 503.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	var standby bool
	err := db.read(ctx, func(tx *txn) error {
		var n int
		return tx.queryRow(`SELECT pg_is_in_recovery(), (SELECT count(*) FROM schema_migrations)`).Scan(&standby, &n)
	})
	if err == nil && standby && !db.ReadOnly {
		return audittrail.Errorf(audittrail.EUNAVAILABLE, "the database is a standby in recovery and accepts no writes; point the service at the primary")
	}
	return err
}

// warnDurability logs a warning when the settings of the connections make
// a COMMIT return before its WAL record is on disk (synchronous_commit=off)
// or make the server skip its syncs (fsync=off): a write acknowledged then
// could be lost in a crash of the database server. The settings are the
// server's, the database's or role's, or the URL's; the service does not
// change them.
func (db *DB) warnDurability(ctx context.Context) {
	var syncCommit, fsync string
	err := db.pool.QueryRow(ctx, `SELECT current_setting('synchronous_commit'), current_setting('fsync')`).Scan(&syncCommit, &fsync)
	if err == nil && (syncCommit == "off" || fsync == "off") {
		slog.Default().Warn("postgres: acknowledged writes may be lost if the database server crashes; set synchronous_commit to on (or remote_apply) and fsync to on",
			"synchronous_commit", syncCommit, "fsync", fsync)
	}
}

// partitionLoop runs EnsurePartitions every partitionInterval until ctx
// ends. A failure is logged and tried again at the next tick: Open created
// the partitions of three months ahead, so there is time.
func (db *DB) partitionLoop(ctx context.Context) {
	defer close(db.loopDone)
	tick := time.NewTicker(partitionInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := db.EnsurePartitions(ctx, db.now()); err != nil && ctx.Err() == nil {
			slog.Default().Error("postgres: create partitions", "error", err.Error())
		}
	}
}

// EnsurePartitions creates the monthly partitions of records from 14 months
// before the month of now to 3 months after it, those that do not exist
// yet, except months that the retention purge already passed. Replicas may
// call it at once: the database function it calls takes a lock.
func (db *DB) EnsurePartitions(ctx context.Context, now time.Time) error {
	if db.ReadOnly {
		return errReadOnly
	}
	now = now.UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	from, to := month.AddDate(0, -monthsBack, 0), month.AddDate(0, monthsAhead, 0)
	err := db.write(ctx, func(tx *txn) error {
		_, err := tx.exec(`SELECT audittrail_ensure_partitions($1::date, $2::date)`, from.Format(time.DateOnly), to.Format(time.DateOnly))
		return err
	})
	if isInsufficientPrivilege(err) {
		return fmt.Errorf("postgres: create the partitions of records: %w; grant the service role EXECUTE on audittrail_ensure_partitions (see the role setup)", err)
	} else if err != nil {
		return fmt.Errorf("postgres: create the partitions of records: %w", err)
	}
	return nil
}

// LoadOrCreateKey returns the secret stored under name, storing the result
// of create first if there is none. Replicas that start at once end up with
// the same secret: the first one stored wins, and the others read it. A
// store opened ReadOnly only reads; ENOTFOUND when nothing is stored.
func (db *DB) LoadOrCreateKey(ctx context.Context, name string, create func() (string, error)) (string, error) {
	var value string
	err := db.read(ctx, func(tx *txn) error {
		return tx.queryRow(`SELECT value FROM secrets WHERE name = $1`, name).Scan(&value)
	})
	if err == nil {
		return value, nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return "", err
	}
	if db.ReadOnly {
		return "", audittrail.Errorf(audittrail.ENOTFOUND, "no secret named %q is stored; start the service once to create it", name)
	}
	created, err := create()
	if err != nil {
		return "", err
	}
	err = db.write(ctx, func(tx *txn) error {
		if _, err := tx.exec(`INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
			name, created, tx.now); err != nil {
			return err
		}
		return tx.queryRow(`SELECT value FROM secrets WHERE name = $1`, name).Scan(&value)
	})
	return value, err
}

// migrate applies, in name order, each embedded migration not recorded in
// the schema_migrations table yet, each in its own transaction, holding an
// advisory lock of the schema meanwhile so that replicas starting at once
// apply each migration once. When every migration is applied it changes
// nothing and needs no right beyond SELECT on schema_migrations, so that the
// service may run as a role without DDL rights.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)

	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Release()

	var schema *string
	var role string
	if err := conn.QueryRow(ctx, `SELECT current_schema(), current_user`).Scan(&schema, &role); err != nil {
		return fmt.Errorf("postgres: %w", err)
	} else if schema == nil {
		var path string
		conn.QueryRow(ctx, `SHOW search_path`).Scan(&path)
		return fmt.Errorf("postgres: no schema to use: the search_path (%s) names no schema that exists; create it, or set search_path in the URL", path)
	}
	db.schema = *schema

	pending, err := pendingMigrations(ctx, conn, names)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return nil
	}
	if db.ReadOnly {
		return fmt.Errorf("postgres: schema %s: %d migrations are pending (%s); open the database read-write once, as the schema's owner, to apply them",
			*schema, len(pending), strings.Join(pending, ", "))
	}

	const lock = `hashtext('audittrail.migrate.' || current_schema())`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lock+`)`); err != nil {
		return fmt.Errorf("postgres: lock for migrations: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock(`+lock+`)`)

	noRights := func(err error) error {
		return fmt.Errorf("postgres: schema %s: %d migrations are pending (%s) and role %s may not apply them (%v); "+
			"run the migrations as the schema's owner role: open the database once with the owner's URL "+
			"(for example audittrail serve --db postgres://OWNER@HOST/DB?search_path=%s), then start the service again",
			*schema, len(pending), strings.Join(pending, ", "), role, err, *schema)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		if isInsufficientPrivilege(err) {
			return noRights(err)
		}
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	// Another replica may have applied some while this one waited.
	if pending, err = pendingMigrations(ctx, conn, names); err != nil {
		return err
	}
	for _, name := range pending {
		if err := migrateFile(ctx, conn, name); err != nil {
			if isInsufficientPrivilege(err) {
				return noRights(err)
			}
			return fmt.Errorf("postgres: migration %s: %w", name, err)
		}
	}
	return nil
}

// pendingMigrations returns the names, of those given, that
// schema_migrations does not record; all of them when the table does not
// exist.
func pendingMigrations(ctx context.Context, conn *pgxpool.Conn, names []string) ([]string, error) {
	applied := map[string]bool{}
	rows, err := conn.Query(ctx, `SELECT name FROM schema_migrations`)
	if err == nil {
		var name string
		_, err = pgx.ForEachRow(rows, []any{&name}, func() error {
			applied[name] = true
			return nil
		})
	}
	if err != nil && !isUndefinedTable(err) {
		if isInsufficientPrivilege(err) {
			return nil, fmt.Errorf("postgres: read schema_migrations: %w; grant the service role SELECT on it (see the role setup in docs)", err)
		}
		return nil, fmt.Errorf("postgres: read schema_migrations: %w", err)
	}
	var pending []string
	for _, name := range names {
		if !applied[strings.TrimPrefix(name, "migrations/")] {
			pending = append(pending, strings.TrimPrefix(name, "migrations/"))
		}
	}
	return pending, nil
}

func migrateFile(ctx context.Context, conn *pgxpool.Conn, name string) error {
	buf, err := fs.ReadFile(migrationFS, "migrations/"+name)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, string(buf)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
		return err
	})
}

// querier is what the statements of a transaction run on: a pgx.Tx for a
// write, the pool for a read.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// txn is a transaction (audittrail.Tx) with the backend's clock read once
// at its start.
type txn struct {
	ctx context.Context
	now time.Time
	q   querier
	db  *DB
}

// Now returns the time at which the transaction began.
func (tx *txn) Now() time.Time { return tx.now }

func (tx *txn) exec(sql string, args ...any) (pgconn.CommandTag, error) {
	return tx.q.Exec(tx.ctx, sql, args...)
}

func (tx *txn) query(sql string, args ...any) (pgx.Rows, error) {
	return tx.q.Query(tx.ctx, sql, args...)
}

func (tx *txn) queryRow(sql string, args ...any) pgx.Row {
	return tx.q.QueryRow(tx.ctx, sql, args...)
}

// View runs fn in a READ ONLY, REPEATABLE READ transaction: every
// statement of fn sees the database as of the first one.
func (db *DB) View(ctx context.Context, fn func(audittrail.Tx) error) error {
	if db.pool == nil || db.closed.Load() {
		return errClosed
	}
	return driverError(pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(ptx pgx.Tx) error {
		return fn(&txn{ctx: ctx, now: audittrail.TruncateTime(db.now()), q: ptx, db: db})
	}))
}

// Update runs fn in a write transaction (see write). fn may run more than
// once and must be safe to rerun.
func (db *DB) Update(ctx context.Context, fn func(audittrail.Tx) error) error {
	return db.write(ctx, func(tx *txn) error { return fn(tx) })
}

// collect runs query and returns its rows, each scanned by scan.
func collect[T any](tx *txn, scan func(pgx.Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := tx.query(query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
}

// scanID scans a row of one id.
func scanID(row pgx.Row) (id string, err error) { return id, row.Scan(&id) }

// read runs fn on the pool, outside a transaction: each statement of fn
// sees the database as of its own start. It serves this package's own reads
// of one statement (Ping, LoadOrCreateKey).
func (db *DB) read(ctx context.Context, fn func(tx *txn) error) error {
	if db.pool == nil || db.closed.Load() {
		return errClosed
	}
	return driverError(fn(&txn{ctx: ctx, now: audittrail.TruncateTime(db.now()), q: db.pool, db: db}))
}

// write runs fn in a transaction (READ COMMITTED) and commits it. ctx
// bounds the wait for a connection; once the transaction has begun, it runs
// to its end under a context of its own (bounded by writeTimeout), so that
// its outcome is the truth: a caller that gave up cannot leave a write
// half-known. A transaction that fails on a deadlock or a serialization
// failure is run again, up to maxAttempts times; one whose connection broke
// before COMMIT was sent (the server rolled it back) is run once more, on
// another connection, so that a connection that died in the pool since its
// last use (the database restarted) costs no failed request. fn must be
// safe to rerun.
//
// Failures become domain errors through writeError: a failure of the
// database is EUNAVAILABLE, and so is a COMMIT whose answer never came,
// whose outcome nobody knows: a write is never reported done unless the
// server answered its COMMIT.
func (db *DB) write(ctx context.Context, fn func(tx *txn) error) error {
	if db.pool == nil || db.closed.Load() {
		return errClosed
	} else if db.ReadOnly {
		return errReadOnly
	}
	for attempt := 1; ; attempt++ {
		committing, err := db.writeOnce(ctx, fn)
		switch {
		case err == nil:
			return nil
		case !committing && db.closed.Load():
			return errClosed
		case attempt < maxAttempts && isRetryable(err):
			continue
		case attempt == 1 && !committing && brokenConn(err) && ctx.Err() == nil:
			continue
		}
		return writeError(err, committing)
	}
}

// writeOnce runs fn in one transaction on a connection of the pool, and
// reports whether its failure, if any, came once COMMIT had been sent.
func (db *DB) writeOnce(ctx context.Context, fn func(tx *txn) error) (committing bool, err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	ptx, err := conn.Begin(wctx)
	if err != nil {
		return false, err
	}
	if err := fn(&txn{ctx: wctx, now: audittrail.TruncateTime(db.now()), q: ptx, db: db}); err != nil {
		ptx.Rollback(wctx) // on a broken connection, the server rolls back by itself
		return false, err
	}
	if err := ptx.Commit(wctx); err != nil {
		return true, err
	}
	return false, nil
}

// utc returns t in UTC: timestamptz columns come back in the local zone.
func utc(t time.Time) time.Time { return t.UTC() }

// utcPtr returns *t in UTC, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/audittrail/audittrail"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Ensure DB implements the backend interface.
var (
	_ audittrail.Backend = (*DB)(nil)
	_ audittrail.Tx      = (*txn)(nil)
)

const (
	// maxBatch is the most writes that one transaction carries.
	maxBatch = 256
	// readConns is the size of the read pool.
	readConns = 4
)

// errClosed answers the writes and reads that come after Close.
var errClosed = errors.New("sqlite: database is closed")

// DB is the SQLite backend. Writes go through one goroutine that owns the
// single write connection and commits the writes waiting for it together
// (group commit); reads use a separate pool of read-only connections.
type DB struct {
	// Path is the database file.
	Path string

	// now is the backend's clock, read once per transaction (Tx.Now).
	now func() time.Time

	// ReadOnly opens the database for reading only: no migration, no
	// writer, no checkpointer, so that a command that checks the database
	// (audittrail verify) sees it exactly as it is and never changes it.
	// Writes fail.
	ReadOnly bool

	// Logger receives the warning that Open made the data directory or a
	// database file private (slog.Default() if nil).
	Logger *slog.Logger

	wdb     *sql.DB       // holds the one write connection
	wconn   *sql.Conn     // the write connection, used only by the writer goroutine
	rdb     *sql.DB       // read-only connections
	readers chan struct{} // one token per read transaction running
	cdb     *sql.DB       // the checkpointer's connection

	checkpointerDone chan struct{} // closed when the checkpointer has returned

	ops        chan *op      // writes waiting for the writer
	closing    chan struct{} // closed by Close: the writer stops taking writes
	writerDone chan struct{} // closed when the writer goroutine has returned
	closeOnce  sync.Once

	// stmts holds the statements of writes, prepared once on the write
	// connection, since compiling a statement costs more than running it.
	// Only the writer goroutine uses it.
	stmts map[string]*sql.Stmt

	// rstmts holds the statements of reads, prepared on the read pool:
	// database/sql prepares each on a read connection the first time it
	// runs there and keeps it, so a read compiles its SQL once per
	// connection rather than on every call.
	rstmts struct {
		sync.Mutex
		m map[string]*sql.Stmt
	}

	commits atomic.Int64
	written atomic.Int64

	// failing is set by a batch that failed because the storage could not
	// write (storageTrouble), and cleared by a batch that commits.
	failing atomic.Bool
}

// NewDB returns the backend of the database file at path, whose
// transactions read the clock now when they begin (time.Now if nil). Call
// Open before use.
func NewDB(path string, now func() time.Time) *DB {
	if now == nil {
		now = time.Now
	}
	return &DB{
		Path:       path,
		now:        now,
		ops:        make(chan *op),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
		stmts:      make(map[string]*sql.Stmt),
	}
}

// Open opens the database file, creating it and its directory if needed,
// applies the migrations not applied yet, and starts the writer. The
// directory is made 0700 and the database's files 0600 (see secureFiles);
// Open refuses a directory open to other users that it cannot make
// private.
func (db *DB) Open() (err error) {
	if db.Path == "" {
		return errors.New("sqlite: database path required")
	} else if strings.ContainsRune(db.Path, '?') {
		return fmt.Errorf("sqlite: database path %q must not contain '?'", db.Path)
	}
	if db.ReadOnly {
		if _, err := os.Stat(db.Path); err != nil {
			return fmt.Errorf("sqlite: open %s: %w", db.Path, err)
		}
		if err := db.openReadPool(); err != nil {
			db.closeConns()
			db.rdb = nil
			return err
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(db.Path), dirMode); err != nil {
		return fmt.Errorf("sqlite: create database directory: %w", err)
	}
	if err := db.secureFiles(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			db.closeConns()
			db.wdb, db.wconn, db.rdb = nil, nil, nil
		}
	}()

	if db.wdb, err = sql.Open("sqlite", DSN(db.Path, false)); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", db.Path, err)
	}
	db.wdb.SetMaxOpenConns(1)
	db.wdb.SetMaxIdleConns(1)
	db.wdb.SetConnMaxLifetime(0)
	db.wdb.SetConnMaxIdleTime(0)
	if err := db.migrate(); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", db.Path, err)
	}
	if db.wconn, err = db.wdb.Conn(context.Background()); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", db.Path, err)
	}

	if err := db.openReadPool(); err != nil {
		return err
	}

	if db.cdb, err = sql.Open("sqlite", DSN(db.Path, false)); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", db.Path, err)
	}
	db.cdb.SetMaxOpenConns(1)
	// The WAL and shared-memory files that opening made.
	if err := db.secureFiles(); err != nil {
		return err
	}

	go db.writeLoop()
	db.checkpointerDone = make(chan struct{})
	go db.checkpointLoop()
	return nil
}

// openReadPool opens the pool of read-only connections.
func (db *DB) openReadPool() (err error) {
	if db.rdb, err = sql.Open("sqlite", DSN(db.Path, true)); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", db.Path, err)
	}
	db.rdb.SetMaxOpenConns(readConns + 1) // one for preparing statements (readStmt)
	db.rdb.SetMaxIdleConns(readConns + 1)
	db.readers = make(chan struct{}, readConns)
	if err := db.rdb.Ping(); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", db.Path, err)
	}
	return nil
}

// DSN returns the data source name of the database file at path, with the
// pragmas that every connection runs when it opens:
//
//   - journal_mode=WAL: readers never block the writer, nor it them.
//   - synchronous=FULL: a commit returns only once the WAL is synced to
//     disk. In WAL mode, NORMAL syncs only at checkpoints, so the last
//     commits before a power loss could be lost; the API answers 201 only
//     for durable records, so every commit must reach the disk. Group commit
//     pays for that sync once per batch rather than once per write.
//   - busy_timeout=5000: wait for a lock held by another process (a CLI
//     command running beside the server) rather than fail at once.
//   - foreign_keys=ON: SQLite does not enforce them otherwise.
//   - temp_store=MEMORY: the statement journal that each write's savepoint
//     needs stays in memory rather than in a temporary file.
//
// Write transactions begin IMMEDIATE, so that one that reads before it
// writes can never fail to upgrade its lock. Read connections are
// query_only.
func DSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "temp_store(MEMORY)")
	// Checkpoints (copying the WAL back into the database file) run in the
	// background (checkpointLoop), not in the commit of the write that
	// happens to cross the WAL's size threshold.
	q.Add("_pragma", "wal_autocheckpoint(0)")
	if readOnly {
		q.Add("_pragma", "query_only(true)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// Close stops the writer once it has answered the writes it took, then
// closes the connections. Writes and reads after Close fail.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		close(db.closing)
		if db.wconn != nil && db.rdb != nil {
			<-db.writerDone
		}
		if db.checkpointerDone != nil {
			<-db.checkpointerDone
			db.cdb.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		}
		err = db.closeConns()
	})
	return err
}

func (db *DB) closeConns() error {
	var errs []error
	for _, s := range db.stmts {
		errs = append(errs, s.Close())
	}
	db.rstmts.Lock()
	for _, s := range db.rstmts.m {
		errs = append(errs, s.Close())
	}
	db.rstmts.m = nil
	db.rstmts.Unlock()
	if db.wconn != nil {
		errs = append(errs, db.wconn.Close())
	}
	if db.rdb != nil {
		errs = append(errs, db.rdb.Close())
	}
	if db.wdb != nil {
		errs = append(errs, db.wdb.Close())
	}
	if db.cdb != nil {
		errs = append(errs, db.cdb.Close())
	}
	return errors.Join(errs...)
}

// checkpointInterval is how often the checkpointer copies the WAL back into
// the database file.
const checkpointInterval = 250 * time.Millisecond

// walLimit is the size of the WAL file above which the checkpointer resets
// it. A passive checkpoint copies frames but cannot rewind the WAL while
// writes keep coming, so under a steady load the file would grow without
// bound; a TRUNCATE checkpoint waits for the readers, blocks the writer for
// the moment it takes to finish copying, and empties the file.
const walLimit = 64 << 20

// checkpointLoop runs passive checkpoints beside the writer until Close: a
// passive checkpoint copies what no reader still needs and never blocks the
// writer, so commits only append to the WAL and sync it. When the WAL has
// grown past walLimit all the same, it is truncated.
func (db *DB) checkpointLoop() {
	defer close(db.checkpointerDone)
	tick := time.NewTicker(checkpointInterval)
	defer tick.Stop()
	for {
		select {
		case <-db.closing:
			return
		case <-tick.C:
			mode := "PASSIVE"
			if fi, err := os.Stat(db.Path + "-wal"); err == nil && fi.Size() > walLimit {
				mode = "TRUNCATE"
			}
			db.cdb.Exec(`PRAGMA wal_checkpoint(` + mode + `)`)
		}
	}
}

// Ping reports whether the database can be read and, once a write has
// failed because the storage could not write (a full disk, an I/O error),
// whether it can be written again. Until a write succeeds, each Ping checks
// that the disk has some room again (minFree), then sends a probe write
// through the writer, so that the store finds out by itself that the
// storage has recovered even when no other write comes. Returns
// EUNAVAILABLE naming the trouble meanwhile.
func (db *DB) Ping(ctx context.Context) error {
	select {
	case <-db.closing:
		return errClosed
	default:
	}
	if db.rdb == nil {
		return errClosed
	}
	var n int
	if err := db.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations`).Scan(&n); err != nil {
		return err
	}
	if !db.failing.Load() {
		return nil
	}
	// A full disk may still take the probe's page (into the room that a
	// failed write left in the WAL) and not the next batch.
	if free, ok := diskFree(filepath.Dir(db.Path)); ok && free < minFree {
		return audittrail.Errorf(audittrail.EUNAVAILABLE, "storage cannot write: the disk is full (%d bytes free)", free)
	}
	// The probe rewrites a row as it is: a transaction that changes no data
	// but has a page to write to the WAL and to sync, as every write does.
	err := db.write(ctx, func(tx *txn) error {
		_, err := tx.exec(`UPDATE migrations SET name = name WHERE rowid = (SELECT MIN(rowid) FROM migrations)`)
		return err
	})
	if trouble := storageTrouble(err); trouble != "" {
		return fmt.Errorf("%w: %w", audittrail.Errorf(audittrail.EUNAVAILABLE, "storage cannot write: %s", trouble), err)
	}
	return err
}

// minFree is the free space that a disk must have again, after a write
// failed, for Ping to report the store ready.
const minFree = 1 << 20

// Stats counts the work of the writer since Open.
type Stats struct {
	Commits int64 // transactions committed
	Writes  int64 // writes run in those transactions, failed ones included
}

// Stats returns the writer's counters. Writes/Commits is the mean size of a
// group commit.
func (db *DB) Stats() Stats {
	return Stats{Commits: db.commits.Load(), Writes: db.written.Load()}
}

// migrate applies, in name order, each embedded migration not yet recorded
// in the migrations table, each in its own transaction.
func (db *DB) migrate() error {
	if _, err := db.wdb.Exec(`CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY) STRICT`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(name string) error {
	tx, err := db.wdb.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	} else if n != 0 {
		return nil
	}
	buf, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(string(buf)); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO migrations (name) VALUES (?)`, name); err != nil {
		return err
	}
	return tx.Commit()
}

// txn is a transaction (audittrail.Tx) with the backend's clock read once
// at its start. Its
// statements run under the context the transaction was given: the caller's
// for a read, the writer's for a write, so that a caller giving up can never
// interrupt a statement of a batch it shares with other writes.
type txn struct {
	ctx context.Context
	now time.Time
	tx  *sql.Tx // a read's transaction; nil for a write, which runs on the write connection
	db  *DB
}

// Now returns the time at which the transaction began.
func (tx *txn) Now() time.Time { return tx.now }

// writeStmt returns the statement of query on the write connection,
// preparing it the first time.
func (db *DB) writeStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.stmts[query]; ok {
		return s, nil
	}
	s, err := db.wconn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	db.stmts[query] = s
	return s, nil
}

// maxReadStmts bounds the read statements kept prepared. Listings build
// their SQL from the filters given, so the texts are many but finite; past
// the bound a read runs unprepared.
const maxReadStmts = 512

// readStmt returns the statement of query in the read transaction tx,
// prepared on its connection once and kept; nil when the cache is full.
// The parent statement is prepared on a connection that no transaction
// holds: the pool has one more connection than read runs transactions at
// once, so one is always free for it.
func (tx *txn) readStmt(query string) (*sql.Stmt, error) {
	db := tx.db
	db.rstmts.Lock()
	s, ok := db.rstmts.m[query]
	full := len(db.rstmts.m) >= maxReadStmts
	db.rstmts.Unlock()
	if !ok {
		if full {
			return nil, nil
		}
		prepared, err := db.rdb.PrepareContext(tx.ctx, query)
		if err != nil {
			return nil, err
		}
		db.rstmts.Lock()
		if s, ok = db.rstmts.m[query]; ok {
			prepared.Close() // another read prepared it meanwhile
		} else {
			if db.rstmts.m == nil {
				db.rstmts.m = map[string]*sql.Stmt{}
			}
			db.rstmts.m[query], s = prepared, prepared
		}
		db.rstmts.Unlock()
	}
	return tx.tx.StmtContext(tx.ctx, s), nil
}

func (tx *txn) exec(query string, args ...any) (sql.Result, error) {
	if tx.tx != nil {
		return tx.tx.ExecContext(tx.ctx, query, args...)
	}
	s, err := tx.db.writeStmt(tx.ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(tx.ctx, args...)
}

func (tx *txn) query(query string, args ...any) (*sql.Rows, error) {
	if tx.tx != nil {
		s, err := tx.readStmt(query)
		if err != nil {
			return nil, err
		} else if s != nil {
			return s.QueryContext(tx.ctx, args...)
		}
		return tx.tx.QueryContext(tx.ctx, query, args...)
	}
	s, err := tx.db.writeStmt(tx.ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(tx.ctx, args...)
}

// scanner is a row to scan: a *sql.Row, or *sql.Rows at a row.
type scanner interface{ Scan(...any) error }

// errRow is a row that could not be queried.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (tx *txn) queryRow(query string, args ...any) scanner {
	if tx.tx != nil {
		s, err := tx.readStmt(query)
		if err != nil {
			return errRow{err}
		} else if s != nil {
			return s.QueryRowContext(tx.ctx, args...)
		}
		return tx.tx.QueryRowContext(tx.ctx, query, args...)
	}
	s, err := tx.db.writeStmt(tx.ctx, query)
	if err != nil {
		return errRow{err}
	}
	return s.QueryRowContext(tx.ctx, args...)
}

// collect runs query and returns its rows, each scanned by scan.
func collect[T any](tx *txn, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := tx.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// View runs fn in a read-only transaction of the read pool, which sees one
// snapshot of the database.
func (db *DB) View(ctx context.Context, fn func(audittrail.Tx) error) error {
	return db.read(ctx, func(tx *txn) error { return fn(tx) })
}

// Update runs fn in a write transaction: in its own savepoint of the
// writer's next batch, which commits with the writes waiting beside it
// (group commit). It returns once the batch is durable, or fn's error, or
// the batch's. Every write runs alone on the one write connection, so a
// write holds every account.
func (db *DB) Update(ctx context.Context, fn func(audittrail.Tx) error) error {
	return db.write(ctx, func(tx *txn) error { return fn(tx) })
}

// read runs fn in a read-only transaction of the read pool.
func (db *DB) read(ctx context.Context, fn func(tx *txn) error) error {
	if db.rdb == nil {
		return errClosed
	}
	select {
	case db.readers <- struct{}{}:
		defer func() { <-db.readers }()
	case <-ctx.Done():
		return ctx.Err()
	}
	tx, err := db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(&txn{ctx: ctx, now: audittrail.TruncateTime(db.now()), tx: tx, db: db}); err != nil {
		return err
	}
	return tx.Commit()
}

// op is one write waiting for the writer.
type op struct {
	ctx  context.Context
	fn   func(tx *txn) error
	done chan error // receives the outcome; buffered
}

// write runs fn in a transaction of the writer and returns once that
// transaction has committed (or failed). The writer runs fn inside its own
// savepoint, so an error of fn undoes fn's changes only; when fn returns nil
// but the commit fails, write returns the commit's error.
//
// ctx bounds the wait for the writer. Once the writer has taken fn, write
// waits for the truthful outcome whatever happens to ctx: the writer skips fn
// if ctx is done before fn starts, and otherwise runs it to the end.
func (db *DB) write(ctx context.Context, fn func(tx *txn) error) error {
	if db.wconn == nil {
		return errClosed
	}
	o := &op{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.closing:
		return errClosed
	}
	return unavailable(<-o.done)
}

// writeLoop is the writer: it takes a write, then every write already
// waiting (up to maxBatch), and commits them in one transaction, so that
// concurrent writers share the cost of one sync.
func (db *DB) writeLoop() {
	defer close(db.writerDone)
	batch := make([]*op, 0, maxBatch)
	for {
		select {
		case o := <-db.ops:
			batch = append(batch[:0], o)
		case <-db.closing:
			return
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case o := <-db.ops:
				batch = append(batch, o)
			default:
				break drain
			}
		}

		errs := make([]error, len(batch))
		err := db.commitBatch(batch, errs)
		db.noteFailure(err, errs)
		for i, o := range batch {
			if errs[i] == nil {
				errs[i] = err
			}
			o.done <- errs[i]
			batch[i] = nil
		}

	}
}

// noteFailure notes whether the storage failed in a batch (the error of the
// transaction err, or of a write errs[i]), and forgets the failure once a
// batch has committed a write.
func (db *DB) noteFailure(err error, errs []error) {
	failed, committed := storageTrouble(err) != "", false
	for _, e := range errs {
		failed = failed || storageTrouble(e) != ""
		committed = committed || e == nil
	}
	if failed {
		db.failing.Store(true)
	} else if err == nil && committed {
		db.failing.Store(false)
	}
}

// commitBatch runs the writes of batch in one transaction, each inside its
// own savepoint, and commits. It sets errs[i] to the error of batch[i]
// itself and returns the error of the transaction, which is the outcome of
// every write whose own error is nil.
//
// The transaction is plain SQL on the write connection, which the writer
// owns, so that the statements prepared on it once serve every batch.
func (db *DB) commitBatch(batch []*op, errs []error) (err error) {
	// The batch runs under a context of its own: it is shared by writers
	// whose contexts end at different times.
	tx := &txn{ctx: context.Background(), now: audittrail.TruncateTime(db.now()), db: db}
	if _, err := tx.exec(`BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if err != nil {
			// SQLite may have rolled back already (after an I/O error, a
			// full disk); then this fails, and there is nothing to do.
			tx.exec(`ROLLBACK`)
		}
	}()

	ran := 0
	for i, o := range batch {
		if err := o.ctx.Err(); err != nil {
			errs[i] = err // given up before it started: nothing written
			continue
		}
		ran++
		if _, err := tx.exec(`SAVEPOINT op`); err != nil {
			return fmt.Errorf("sqlite: savepoint: %w", err)
		}
		if errs[i] = runOp(o, tx); errs[i] != nil {
			// When this fails, SQLite has already rolled the whole
			// transaction back: the batch fails.
			if _, err := tx.exec(`ROLLBACK TO op`); err != nil {
				return fmt.Errorf("sqlite: rollback to savepoint: %w", err)
			}
		}
		if _, err := tx.exec(`RELEASE op`); err != nil {
			return fmt.Errorf("sqlite: release savepoint: %w", err)
		}
	}
	db.written.Add(int64(ran))
	if ran == 0 {
		_, err := tx.exec(`ROLLBACK`)
		return err
	}
	if _, err := tx.exec(`COMMIT`); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	db.commits.Add(1)
	return nil
}

// runOp runs one write, turning a panic into its error so that a bug in one
// write cannot stop the writer and leave every other writer waiting.
func runOp(o *op, tx *txn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlite: panic in write: %v", r)
		}
	}()
	return o.fn(tx)
}

// ms returns t as the INTEGER that columns keep: unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS returns the time of a column in unix milliseconds, in UTC.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// nullMS returns t for a nullable time column.
func nullMS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(*t), Valid: true}
}

// fromNullMS returns the time of a nullable time column.
func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// Package postgres is the PostgreSQL storage of audittrail, for when one
// machine is not enough: any number of stateless `audittrail serve`
// replicas share one database (PostgreSQL 15 or later), each with a DB of
// this package. It is an audittrail.Backend (and an
// audittrail.CommitListener): the rules of storage are package store's,
// over it (store.New), which passes the same conformance suite (storetest)
// as over the embedded SQLite store.
//
// It is built on pgx (github.com/jackc/pgx/v5) and its pool, pgxpool. A DB
// holds at most MaxConns connections (10 unless MaxConns or the URL's
// pool_max_conns says otherwise), recycled every hour and closed after five
// idle minutes; the sum over the replicas must stay below the server's
// max_connections.
//
// # Schema and migrations
//
// The schema is in migrations/, embedded in the binary. Open applies, in
// name order, each migration that the schema_migrations table does not
// record, each in its own transaction, while it holds a session advisory
// lock named after the schema, so that replicas starting at once apply each
// migration once. The schema is the first of the connection's search_path
// (set it in the URL: ?search_path=audittrail, or per role). Times are
// timestamptz with millisecond precision, always in UTC on the way out.
// Every table of an account's data leads with account_id, and so does every
// key and index.
//
// # Records, partitions and retention
//
// records is partitioned by RANGE on the record's date, one partition per
// calendar month in UTC (records_p2026_11 holds November 2026), so that the
// retention purge drops whole months instead of deleting rows one by one.
// The store creates the partitions itself: EnsurePartitions, which Open
// calls and a background loop of every DB runs again every six hours,
// creates those from 14 months before the month of the store's clock to 3
// months after it. A DEFAULT partition, records_default, is the safety net
// for a record whose month has no partition (dated more than three months
// ahead, or in a month that the purge already dropped, or older than the
// window): it is stored there, listed and counted like any other, and
// purged row by row. When EnsurePartitions later creates the partition of
// a month that the default partition holds rows of, it moves them into it.
//
// PurgeRecords(cutoff) runs the database function audittrail_purge step by
// step, each step a short transaction of its own: it detaches each month
// partition wholly before the cutoff (an exclusive lock on records held
// only for that step's commit), then notes the (account_id, seq) of its
// rows in purged and drops it; then it deletes the rows dated before the
// cutoff that remain (in the partly expired month and in the default
// partition), 10,000 at a time, noting them in purged too. The leaves and
// nodes of the Merkle tree stay, so proofs and checkpoints signed before
// the purge stay valid, and `audittrail verify` tells a purged record from
// a deleted one. The greatest cutoff applied is kept (purge_horizon), and
// EnsurePartitions never creates a month that the purge already passed. A
// month that a purge detached but did not drop (the process died between
// the two steps) is finished by the next purge.
//
// Indexes serve the listings of SPEC §6, which are newest first by (date,
// seq) and page with a keyset on that pair, never an offset: (account_id,
// date, seq) serves every listing, and the filters that pick out few rows
// of a large account each have an index that ends with the same order
// (object_type, object_id, object_name, originator_id, originator_name), so
// that a page reads only the rows it returns. action_type, element and q
// are checked on the rows that the scan of (account_id, date, seq) meets in
// order; each index costs every insert, and theirs would rarely be better.
// A BRIN index on date lets the purge find the expired rows of a month
// without reading the rest. A cursor is the (date, seq) of the last record
// of a page (see audittrail.Cursor): it means the same on every replica.
//
// Appends write records and tree nodes with COPY (pgx's CopyFrom, the
// binary copy protocol): for a batch of 500 records and their about 1,000 nodes
// it took about 20% less time than one multi-row INSERT ... SELECT FROM
// unnest($1, ...) per table (30 against 38 ms on a loaded 2-core machine;
// see BenchmarkInsert500).
//
// # Locks: many replicas writing at once
//
// Writes (Update) run in READ COMMITTED transactions. The one place that
// assigns seqs and extends an account's Merkle tree is the append
// transaction (the store's), and it starts by locking the account's row
// (LockAccount: SELECT ... FOR NO KEY UPDATE,
// which excludes the other appends and changes of the account but not the
// foreign key checks of rows that refer to it). Holding it, the append
// reads next_seq and the tree's compact range, looks up the idempotency
// keys of the batch, inserts the records, the tree's new nodes and the new
// keys, and writes next_seq and the tree back, all in the one transaction:
// the appends of an account, from any replica, run one after the other,
// each seeing what the one before committed, so seqs have no gap and no
// duplicate, and the tree always matches the records. Behind the lock, the
// primary key of tree_nodes (account_id, level, idx) refuses a seq used
// twice (a record's leaf is node (0, seq)), and that of idempotency
// (account_id, key) a key stored twice. Every other write of an account's
// data (users, profiles, keys, settings), which may append the service's
// own records, takes the same lock first, so locks are always taken in the
// same order and cannot deadlock; a transaction that fails on a deadlock
// or a serialization failure all the same is run again, up to three times.
//
// AddCheckpoint takes the account's lock too, and refuses (ECONFLICT) a
// checkpoint of a smaller tree than the newest stored: when replicas sign
// at once, the history of checkpoints only grows, and tlog.Log answers the
// loser with the newest checkpoint stored. The checkpoint signing key
// itself is a secret that every replica must share: LoadOrCreateKey stores
// the first one created (INSERT ... ON CONFLICT DO NOTHING, then SELECT),
// so replicas starting at once agree on it.
//
// Once a write has begun, it runs to its end under a context of its own
// (at most a minute), whatever happens to the caller's: its outcome is the
// truth, never a write the caller gave up on that committed all the same.
// Reads (View) run in READ ONLY, REPEATABLE READ transactions, every
// statement on the snapshot of the first.
//
// # Commits across replicas
//
// A transaction that appends records announces them (AnnounceCommit) with
// pg_notify on the channel audittrail_commits, which PostgreSQL delivers
// when, and only if, it commits. ListenCommits LISTENs on that channel on
// a connection of its own, outside the pool, and reports what the other
// DBs of the same schema announced (the payload names the DB, a random id,
// and the schema, since the channel is the whole database's): a Store with
// subscribers passes those commits on, beside its own, which it announced
// itself when they committed and so hears once.
//
// # Append-only, and least privilege
//
// Triggers refuse every UPDATE, DELETE and TRUNCATE of records, tree_nodes,
// checkpoints and purged, whoever runs it, with one exception: the purge
// deletes records with the setting audittrail.purge on for its own
// transaction. That setting is no security boundary by itself (any role
// may set it); privileges are. The design has two roles (testdata/roles.sql
// and testdata/grants.sql are the setup to copy):
//
//   - The owner owns the schema and everything in it, runs the migrations,
//     and owns the SECURITY DEFINER functions audittrail_ensure_partitions
//     and audittrail_purge, whose search_path is pinned to the schema. Only
//     the migration step connects as it.
//   - The service role, which the replicas connect as, has SELECT and
//     INSERT on records, tree_nodes, checkpoints and idempotency, SELECT on
//     purged, what it needs on accounts, people and credentials, and
//     EXECUTE on the two functions; no UPDATE, DELETE or TRUNCATE on
//     records or the log, no ownership, no DDL. It creates partitions and
//     purges only through the owner's functions.
//
// When every migration is applied, Open needs no right beyond SELECT on
// schema_migrations; when some are pending and the role may not apply
// them, Open fails and says to run them as the owner (open the database
// once with the owner's URL). A DB opened ReadOnly (audittrail verify and
// export) applies no migration, creates no partition, and runs every
// transaction READ ONLY.
package postgres

// Package sqlite is the embedded storage of audittrail, the default: one
// SQLite database file (modernc.org/sqlite, pure Go), nothing to set up.
// It is an audittrail.Backend: it runs transactions and reads and writes
// rows; the rules of storage (seqs, idempotency, the Merkle tree, the
// self-audit) are package store's, over it (store.New).
//
// # Durability
//
// The API answers 201 only once records are durable, so every commit must
// reach the disk before it returns. The database runs in WAL mode, where
// readers and the writer do not block each other, with synchronous=FULL: in
// WAL mode the usual NORMAL syncs the WAL only at checkpoints, so the last
// commits before a power loss could be lost although they were answered;
// FULL syncs the WAL at each commit.
//
// # Group commit
//
// A sync costs far more than the work of a write, so writes share it. Every
// write goes through one writer goroutine, which owns the one write
// connection. A caller submits its write as a function of the transaction
// and waits. The writer takes a write, then every write already waiting (up
// to 256), runs them all in one transaction, each inside its own savepoint
// (a write that fails is rolled back to its savepoint and does not spoil the
// others), commits once, and answers each write: its own error, or else the
// commit's. Thirty-two concurrent writers thus pay for a handful of syncs
// rather than thirty-two. With a single writer, the account's next seq is
// read and advanced by one transaction at a time, so seqs never have gaps or
// duplicates. Stats reports how many writes the commits carried.
//
// The writer keeps the statements of writes prepared on its connection, and
// callers do what does not need the database (ids, JSON, search text) before
// they submit, so that the one goroutine every write waits for does as
// little as it can. Record ids sort in about the order they were made (see
// audittrail.NewRecordID), so that inserts land at the end of the index on id instead
// of dirtying a random page of it that the commit would then write and sync.
//
// A caller's context bounds its wait for the writer. Once the writer has
// taken a write, its outcome is reported truthfully: a write whose context
// ended before it started is skipped and answers the context's error; a
// write that started runs to the end under the writer's own context, since
// an interrupted statement could roll back the whole shared transaction.
//
// Reads (View) use a separate pool of query_only connections, each read in
// its own transaction and so on one snapshot. Statements of reads are kept
// prepared on the pool too.
//
// # Schema
//
// The schema is in migrations/, applied in name order at Open, each file in
// its own transaction and recorded in the migrations table. Times are
// INTEGER unix milliseconds in UTC. Every table of an account's data leads
// with account_id, and so does every key and index. The records of an
// account are keyed by (account_id, seq); listings are newest first by
// (date, seq) and page with a keyset on that pair, never an offset, served
// by an index on (account_id, date, seq) and, for each equality filter, one
// on (account_id, column, date, seq).
package sqlite

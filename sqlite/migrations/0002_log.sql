-- The Merkle log of each account (see package tlog): the tree's size and
-- compact range beside the account, every node that roots a perfect subtree
-- (level 0: the leaf hashes), the signed checkpoints, and the seqs whose
-- records the retention purge removed. AppendRecords writes the leaves and
-- nodes in the transaction that inserts the records.
ALTER TABLE accounts ADD COLUMN tree_size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN tree_hashes BLOB NOT NULL DEFAULT x'';

CREATE TABLE tree_nodes (
	account_id TEXT NOT NULL REFERENCES accounts (id),
	level      INTEGER NOT NULL,
	idx        INTEGER NOT NULL,
	hash       BLOB NOT NULL CHECK (length(hash) = 32),
	PRIMARY KEY (account_id, level, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE checkpoints (
	id         INTEGER PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	tree_size  INTEGER NOT NULL,
	root_hash  BLOB NOT NULL,
	note       BLOB NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX checkpoints_account ON checkpoints (account_id, id);

CREATE TABLE purged (
	account_id TEXT NOT NULL REFERENCES accounts (id),
	seq        INTEGER NOT NULL,
	PRIMARY KEY (account_id, seq)
) STRICT, WITHOUT ROWID;

-- Append-only: records, nodes and checkpoints are never updated, and
-- records are deleted only by the retention purge, which opens purge_gate
-- inside its own transaction.
CREATE TABLE purge_gate (opened INTEGER NOT NULL) STRICT;

CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records WHEN NOT EXISTS (SELECT 1 FROM purge_gate)
BEGIN SELECT RAISE(ABORT, 'records are append-only: only the retention purge deletes them'); END;
CREATE TRIGGER tree_nodes_no_update BEFORE UPDATE ON tree_nodes
BEGIN SELECT RAISE(ABORT, 'the Merkle log is append-only'); END;
CREATE TRIGGER tree_nodes_no_delete BEFORE DELETE ON tree_nodes
BEGIN SELECT RAISE(ABORT, 'the Merkle log is append-only'); END;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

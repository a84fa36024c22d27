-- The Merkle log of each account (see package tlog): every node that roots
-- a perfect subtree (level 0: the leaf hashes, idx = the record's seq), the
-- signed checkpoints, and the seqs whose records the retention purge
-- removed. AppendRecords writes the leaves and nodes in the transaction
-- that inserts the records, and the tree's size and compact range beside
-- the account. Nodes, checkpoints and purged seqs are never updated or
-- deleted: the purge removes records and keeps their leaves, so proofs and
-- checkpoints stay valid.
CREATE TABLE tree_nodes (
	account_id text NOT NULL,
	level      smallint NOT NULL CHECK (level >= 0 AND level < 64),
	idx        bigint NOT NULL CHECK (idx >= 0),
	hash       bytea NOT NULL CHECK (length(hash) = 32),
	PRIMARY KEY (account_id, level, idx)
);

-- Checkpoints of an account only grow: AddCheckpoint, under the account's
-- row lock, refuses one smaller than the newest, so id order is size order.
CREATE TABLE checkpoints (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id),
	tree_size  bigint NOT NULL CHECK (tree_size >= 0),
	root_hash  bytea NOT NULL,
	note       bytea NOT NULL,
	created_at timestamptz NOT NULL
);
CREATE INDEX checkpoints_account ON checkpoints (account_id, id);

CREATE TABLE purged (
	account_id text NOT NULL,
	seq        bigint NOT NULL,
	PRIMARY KEY (account_id, seq)
);

-- The latest cutoff the purge applied: audittrail_ensure_partitions creates
-- no partition wholly before it, so that a month the purge dropped is not
-- created again.
CREATE TABLE purge_horizon (
	one    boolean PRIMARY KEY DEFAULT true CHECK (one),
	cutoff timestamptz NOT NULL
);

CREATE TRIGGER tree_nodes_append_only BEFORE UPDATE OR DELETE ON tree_nodes
	FOR EACH ROW EXECUTE FUNCTION audittrail_refuse();
CREATE TRIGGER tree_nodes_no_truncate BEFORE TRUNCATE ON tree_nodes
	FOR EACH STATEMENT EXECUTE FUNCTION audittrail_refuse();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
	FOR EACH ROW EXECUTE FUNCTION audittrail_refuse();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION audittrail_refuse();
CREATE TRIGGER purged_append_only BEFORE UPDATE OR DELETE ON purged
	FOR EACH ROW EXECUTE FUNCTION audittrail_refuse();
CREATE TRIGGER purged_no_truncate BEFORE TRUNCATE ON purged
	FOR EACH STATEMENT EXECUTE FUNCTION audittrail_refuse();

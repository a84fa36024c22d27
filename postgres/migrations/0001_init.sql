-- Accounts, their people and their credentials. Times are timestamptz with
-- millisecond precision (the store truncates before it writes). Every table
-- of an account's data leads with account_id, and so does every key and
-- index, so that each query is scoped by account and served by an index
-- that starts with it.

CREATE TABLE accounts (
	id                     text PRIMARY KEY,
	name                   text NOT NULL,
	timezone               text NOT NULL DEFAULT 'UTC',
	audit_trail_enabled    boolean NOT NULL DEFAULT false,
	audit_trail_enabled_at timestamptz,
	-- next_seq is the seq of the account's next record: seqs are 0, 1, 2, …
	-- without gaps, assigned only by the transaction that appends while it
	-- holds this row's lock.
	next_seq               bigint NOT NULL DEFAULT 0 CHECK (next_seq >= 0),
	-- The account's Merkle tree (see package tlog): its size and its compact
	-- range (the 32-byte roots of the perfect subtrees covering it, left to
	-- right, concatenated), written by the same transaction as the records.
	tree_size              bigint NOT NULL DEFAULT 0 CHECK (tree_size >= 0),
	tree_hashes            bytea NOT NULL DEFAULT '\x',
	created_at             timestamptz NOT NULL
);

CREATE TABLE profiles (
	account_id  text NOT NULL REFERENCES accounts (id),
	id          text NOT NULL,
	name        text NOT NULL,
	description text NOT NULL DEFAULT '',
	role        text NOT NULL,
	permissions text[] NOT NULL DEFAULT '{}',
	built_in    boolean NOT NULL DEFAULT false,
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, name)
);

CREATE TABLE users (
	account_id    text NOT NULL REFERENCES accounts (id),
	id            text NOT NULL,
	login_name    text NOT NULL,
	name          text NOT NULL,
	email         text NOT NULL DEFAULT '',
	profile_id    text NOT NULL,
	enabled       boolean NOT NULL DEFAULT true,
	password_hash text NOT NULL DEFAULT '',
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, login_name),
	-- A user's profile is one of the same account's.
	FOREIGN KEY (account_id, profile_id) REFERENCES profiles (account_id, id)
);

CREATE INDEX users_profile ON users (account_id, profile_id);

CREATE TABLE publisher_keys (
	account_id text NOT NULL REFERENCES accounts (id),
	id         text NOT NULL,
	name       text NOT NULL,
	prefix     text NOT NULL,
	hash       bytea NOT NULL UNIQUE, -- hash of the secret; the secret is never stored
	created_at timestamptz NOT NULL,
	revoked_at timestamptz,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE tokens (
	hash       bytea PRIMARY KEY, -- hash of the token; the token is never stored
	account_id text NOT NULL,
	user_id    text NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
);

CREATE INDEX tokens_user ON tokens (account_id, user_id);

-- Secrets that every replica must share, such as the key that signs
-- checkpoints (DB.LoadOrCreateKey). The first replica to store one wins.
CREATE TABLE secrets (
	name       text PRIMARY KEY,
	value      text NOT NULL,
	created_at timestamptz NOT NULL
);

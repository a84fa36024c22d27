-- Times are INTEGER unix milliseconds, UTC. Every table of an account's data
-- leads with account_id, and so does every key and index, so that each query
-- is scoped by account and served by an index that starts with it.

CREATE TABLE accounts (
	id                     TEXT PRIMARY KEY,
	name                   TEXT NOT NULL,
	timezone               TEXT NOT NULL DEFAULT 'UTC',
	audit_trail_enabled    INTEGER NOT NULL DEFAULT 0 CHECK (audit_trail_enabled IN (0, 1)),
	audit_trail_enabled_at INTEGER,
	-- next_seq is the seq of the account's next record: seqs are 0, 1, 2, …
	-- without gaps, assigned by the one transaction that appends.
	next_seq               INTEGER NOT NULL DEFAULT 0 CHECK (next_seq >= 0),
	created_at             INTEGER NOT NULL
) STRICT;

CREATE TABLE profiles (
	account_id  TEXT NOT NULL REFERENCES accounts (id),
	id          TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	role        TEXT NOT NULL,
	permissions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(permissions)), -- JSON array of strings
	built_in    INTEGER NOT NULL DEFAULT 0 CHECK (built_in IN (0, 1)),
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, name)
) STRICT;

CREATE TABLE users (
	account_id    TEXT NOT NULL REFERENCES accounts (id),
	id            TEXT NOT NULL,
	login_name    TEXT NOT NULL,
	name          TEXT NOT NULL,
	email         TEXT NOT NULL DEFAULT '',
	profile_id    TEXT NOT NULL,
	enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	password_hash TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, login_name),
	-- A user's profile is one of the same account's.
	FOREIGN KEY (account_id, profile_id) REFERENCES profiles (account_id, id)
) STRICT;

CREATE INDEX users_profile ON users (account_id, profile_id);

CREATE TABLE publisher_keys (
	account_id TEXT NOT NULL REFERENCES accounts (id),
	id         TEXT NOT NULL,
	name       TEXT NOT NULL,
	prefix     TEXT NOT NULL,
	hash       BLOB NOT NULL UNIQUE, -- hash of the secret; the secret is never stored
	created_at INTEGER NOT NULL,
	revoked_at INTEGER,
	PRIMARY KEY (account_id, id)
) STRICT;

CREATE TABLE tokens (
	hash       BLOB PRIMARY KEY, -- hash of the token; the token is never stored
	account_id TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX tokens_user ON tokens (account_id, user_id);

-- records is append-only. originator holds the whole Originator as JSON;
-- originator_id and originator_name repeat two of its fields for the
-- originator filter. search_text is audittrail.SearchText of the record,
-- which the q filter searches.
CREATE TABLE records (
	account_id      TEXT NOT NULL REFERENCES accounts (id),
	seq             INTEGER NOT NULL CHECK (seq >= 0),
	id              TEXT NOT NULL UNIQUE,
	change_id       TEXT NOT NULL,
	object_type     TEXT NOT NULL,
	object_id       TEXT NOT NULL,
	object_name     TEXT NOT NULL,
	action_type     TEXT NOT NULL,
	element         TEXT NOT NULL,
	old_value       TEXT NOT NULL,
	new_value       TEXT NOT NULL,
	date            INTEGER NOT NULL,
	originator_id   TEXT NOT NULL,
	originator_name TEXT NOT NULL,
	originator      TEXT NOT NULL CHECK (json_valid(originator)),
	automatic       INTEGER NOT NULL CHECK (automatic IN (0, 1)),
	received_at     INTEGER NOT NULL,
	source          TEXT NOT NULL,
	search_text     TEXT NOT NULL,
	PRIMARY KEY (account_id, seq)
) STRICT;

-- Listings are newest first by (date, seq) and page with a keyset on the
-- same pair. One index serves the listing without an equality filter; each
-- equality filter has its own index that ends with the same order, so that
-- a page reads only the rows it returns.
CREATE INDEX records_date            ON records (account_id, date DESC, seq DESC);
CREATE INDEX records_object_type     ON records (account_id, object_type, date DESC, seq DESC);
CREATE INDEX records_action_type     ON records (account_id, action_type, date DESC, seq DESC);
CREATE INDEX records_element         ON records (account_id, element, date DESC, seq DESC);
CREATE INDEX records_object_name     ON records (account_id, object_name, date DESC, seq DESC);
CREATE INDEX records_object_id       ON records (account_id, object_id, date DESC, seq DESC);
CREATE INDEX records_originator_id   ON records (account_id, originator_id, date DESC, seq DESC);
CREATE INDEX records_originator_name ON records (account_id, originator_name, date DESC, seq DESC);

-- An idempotency key stored with the records it produced: seqs first_seq to
-- first_seq+count-1 of the account (count is 0 for a change that made no
-- record). fingerprint tells an honest retry from other content.
CREATE TABLE idempotency (
	account_id  TEXT NOT NULL REFERENCES accounts (id),
	key         TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	first_seq   INTEGER NOT NULL,
	count       INTEGER NOT NULL CHECK (count >= 0),
	PRIMARY KEY (account_id, key)
) STRICT, WITHOUT ROWID;

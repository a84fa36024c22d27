-- The access log (SPEC §11): one row per read of an account's trail. Rows
-- are appended and never changed; the retention purge deletes those older
-- than the records it purges, through purge_gate like records.
CREATE TABLE access_log (
	account_id       TEXT NOT NULL REFERENCES accounts (id),
	id               TEXT NOT NULL,
	at               INTEGER NOT NULL,
	actor_kind       TEXT NOT NULL,
	actor_id         TEXT NOT NULL,
	actor_login_name TEXT NOT NULL,
	actor_name       TEXT NOT NULL,
	action           TEXT NOT NULL,
	format           TEXT NOT NULL,
	filters          TEXT NOT NULL CHECK (json_valid(filters)), -- JSON object of strings
	records          INTEGER NOT NULL,
	status           INTEGER NOT NULL,
	ip               TEXT NOT NULL,
	user_agent       TEXT NOT NULL,
	PRIMARY KEY (account_id, at, id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log WHEN NOT EXISTS (SELECT 1 FROM purge_gate)
BEGIN SELECT RAISE(ABORT, 'the access log is append-only: only the retention purge deletes from it'); END;

-- The access log (SPEC §11): one row per read of an account's trail. Rows
-- are appended and never changed; the retention purge (audittrail_purge_access,
-- run as the owner) deletes those older than the records it purges.
CREATE TABLE access_log (
	account_id       text NOT NULL REFERENCES accounts (id),
	id               text NOT NULL,
	at               timestamptz NOT NULL,
	actor_kind       text NOT NULL,
	actor_id         text NOT NULL,
	actor_login_name text NOT NULL,
	actor_name       text NOT NULL,
	action           text NOT NULL,
	format           text NOT NULL,
	filters          jsonb NOT NULL,
	records          bigint NOT NULL,
	status           integer NOT NULL,
	ip               text NOT NULL,
	user_agent       text NOT NULL,
	PRIMARY KEY (account_id, at, id)
);

CREATE FUNCTION audittrail_access_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' AND current_setting('audittrail.purge', true) = 'on' THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
	FOR EACH ROW EXECUTE FUNCTION audittrail_access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
	FOR EACH STATEMENT EXECUTE FUNCTION audittrail_refuse();

-- audittrail_purge_access deletes up to max_rows entries dated before
-- cutoff and returns how many it deleted; the caller repeats it until that
-- is fewer than max_rows.
CREATE FUNCTION audittrail_purge_access(cutoff timestamptz, max_rows integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET TimeZone = 'UTC' SET lock_timeout = '10s' AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM set_config('audittrail.purge', 'on', true);
	DELETE FROM access_log WHERE (account_id, at, id) IN (
		SELECT account_id, at, id FROM access_log WHERE at < cutoff LIMIT max_rows);
	GET DIAGNOSTICS n = ROW_COUNT;
	PERFORM set_config('audittrail.purge', 'off', true);
	RETURN n;
END
$$;

REVOKE ALL ON FUNCTION audittrail_purge_access(timestamptz, integer) FROM PUBLIC;

DO $$
BEGIN
	EXECUTE format('ALTER FUNCTION audittrail_purge_access(timestamptz, integer) SET search_path = %I, pg_temp', current_schema());
END
$$;

-- Partitions and the retention purge run as the schema's owner through
-- these SECURITY DEFINER functions, so that the service role needs neither
-- DDL rights nor DELETE on records (see testdata/grants.sql). Both take the
-- same transaction-level advisory lock, so replicas never run them at once.
-- Their search_path is pinned to this schema (and pg_temp last), as a
-- SECURITY DEFINER function's must be. Each waits at most 10 s for a lock
-- (lock_timeout): DDL waiting for its lock on records would hold up every
-- query queued behind it, so it gives up instead and is run again later.

-- audittrail_ensure_partitions creates the monthly partition of records
-- for each month from from_month to to_month (inclusive) that has none,
-- except months wholly before the purge's horizon, and returns how many it
-- created. Rows of such a month already in records_default (dated where no
-- partition was) move to the new partition.
CREATE FUNCTION audittrail_ensure_partitions(from_month date, to_month date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET TimeZone = 'UTC' SET lock_timeout = '10s' AS $$
DECLARE
	m       date := date_trunc('month', from_month)::date;
	horizon timestamptz;
	lo      timestamptz;
	hi      timestamptz;
	part    text;
	created integer := 0;
BEGIN
	IF to_month > from_month + 3660 THEN
		RAISE EXCEPTION 'audittrail_ensure_partitions: at most ten years of months at a time';
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('audittrail.partitions.' || current_schema()));
	SELECT cutoff INTO horizon FROM purge_horizon;
	WHILE m <= to_month LOOP
		lo := m::timestamp AT TIME ZONE 'UTC';
		hi := (m + interval '1 month')::timestamp AT TIME ZONE 'UTC';
		part := 'records_p' || to_char(m, 'YYYY_MM');
		IF (horizon IS NULL OR hi > horizon) AND to_regclass(quote_ident(part)) IS NULL THEN
			IF EXISTS (SELECT 1 FROM records_default WHERE date >= lo AND date < hi) THEN
				EXECUTE format('CREATE TABLE %I (LIKE records INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
				PERFORM set_config('audittrail.purge', 'on', true);
				EXECUTE format('WITH moved AS (DELETE FROM records_default WHERE date >= $1 AND date < $2 RETURNING *)
					INSERT INTO %I SELECT * FROM moved', part) USING lo, hi;
				PERFORM set_config('audittrail.purge', 'off', true);
				EXECUTE format('ALTER TABLE records ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
			ELSE
				EXECUTE format('CREATE TABLE %I PARTITION OF records FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
			END IF;
			created := created + 1;
		END IF;
		m := (m + interval '1 month')::date;
	END LOOP;
	RETURN created;
END
$$;

-- audittrail_purge does one step of the retention purge of the records
-- dated before cutoff, and returns how many records that step removed and
-- whether more steps remain; the caller repeats it until more is false,
-- each call in its own transaction. The steps, in order:
--
--  1. A month table detached by step 2 (of this call's purge, or of one
--     that stopped before it could finish; a month wholly before the
--     horizon, never a table an operator detached inside the retention
--     window): the (account_id, seq) of its rows go to purged, and the
--     table is dropped. No other transaction sees the table any more, so
--     nothing waits for this, however long it takes.
--  2. A month partition wholly before cutoff is detached from records.
--     That takes an exclusive lock on records, held only until this short
--     transaction commits; a record of that month that arrives later lands
--     in records_default and goes by step 3.
--  3. Up to max_rows rows dated before cutoff (in the partly-expired month
--     and in records_default) are deleted through the purge gate, and
--     their (account_id, seq) go to purged.
--
-- Leaves and nodes of the tree stay, so proofs and checkpoints stay valid.
CREATE FUNCTION audittrail_purge(cutoff timestamptz, max_rows integer, OUT removed bigint, OUT more boolean)
LANGUAGE plpgsql SECURITY DEFINER SET TimeZone = 'UTC' SET lock_timeout = '10s' AS $$
DECLARE
	part text;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('audittrail.partitions.' || current_schema()));
	INSERT INTO purge_horizon (cutoff) VALUES (cutoff)
		ON CONFLICT (one) DO UPDATE SET cutoff = greatest(purge_horizon.cutoff, excluded.cutoff);

	SELECT c.relname INTO part FROM pg_class c
	WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND NOT c.relispartition
		AND c.relname ~ '^records_p[0-9]{4}_[0-9]{2}$'
		AND (to_date(substr(c.relname, 10), 'YYYY_MM') + interval '1 month')::timestamp AT TIME ZONE 'UTC'
			<= (SELECT h.cutoff FROM purge_horizon h)
	ORDER BY c.relname LIMIT 1;
	IF part IS NOT NULL THEN
		EXECUTE format('INSERT INTO purged (account_id, seq) SELECT account_id, seq FROM %I ON CONFLICT DO NOTHING', part);
		GET DIAGNOSTICS removed = ROW_COUNT;
		EXECUTE format('DROP TABLE %I', part);
		more := true;
		RETURN;
	END IF;

	SELECT c.relname INTO part FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = 'records'::regclass AND c.relname ~ '^records_p[0-9]{4}_[0-9]{2}$'
		AND (to_date(substr(c.relname, 10), 'YYYY_MM') + interval '1 month')::timestamp AT TIME ZONE 'UTC' <= cutoff
	ORDER BY c.relname LIMIT 1;
	IF part IS NOT NULL THEN
		EXECUTE format('ALTER TABLE records DETACH PARTITION %I', part);
		removed := 0;
		more := true;
		RETURN;
	END IF;

	PERFORM set_config('audittrail.purge', 'on', true);
	WITH gone AS (
		DELETE FROM records
		WHERE date < cutoff AND (account_id, seq, date) IN (
			SELECT r.account_id, r.seq, r.date FROM records r WHERE r.date < cutoff LIMIT max_rows)
		RETURNING account_id, seq
	)
	INSERT INTO purged (account_id, seq) SELECT account_id, seq FROM gone ON CONFLICT DO NOTHING;
	GET DIAGNOSTICS removed = ROW_COUNT;
	PERFORM set_config('audittrail.purge', 'off', true);
	more := removed >= max_rows;
END
$$;

REVOKE ALL ON FUNCTION audittrail_ensure_partitions(date, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION audittrail_purge(timestamptz, integer) FROM PUBLIC;

DO $$
BEGIN
	EXECUTE format('ALTER FUNCTION audittrail_ensure_partitions(date, date) SET search_path = %I, pg_temp', current_schema());
	EXECUTE format('ALTER FUNCTION audittrail_purge(timestamptz, integer) SET search_path = %I, pg_temp', current_schema());
END
$$;

-- records is append-only and partitioned by month of date, so that the
-- retention purge drops whole months (see audittrail_purge in 0004). The
-- monthly partitions (records_pYYYY_MM) are created ahead of time by
-- audittrail_ensure_partitions; records_default catches a record whose
-- month has no partition (dated far in the past or the future), and the
-- purge deletes its expired rows one by one.
--
-- originator holds the whole Originator as JSON; originator_id and
-- originator_name repeat two of its fields for the originator filter.
-- search_text is audittrail.SearchText of the record (lowercased), which
-- the q filter searches.
--
-- A unique key of a partitioned table must hold the partition key, so the
-- primary key is (account_id, seq, date). That seq is unique per account is
-- guaranteed by the one transaction that assigns seqs under the account's
-- row lock, and enforced by the primary key of the record's leaf in
-- tree_nodes (account_id, 0, seq), written in the same transaction.
--
-- No foreign key to accounts: the appending transaction holds the
-- account's row lock, accounts are never deleted, and a foreign key would
-- cost a lookup per inserted row.
CREATE TABLE records (
	account_id      text NOT NULL,
	seq             bigint NOT NULL CHECK (seq >= 0),
	id              text NOT NULL,
	change_id       text NOT NULL,
	object_type     text NOT NULL,
	object_id       text NOT NULL,
	object_name     text NOT NULL,
	action_type     text NOT NULL,
	element         text NOT NULL,
	old_value       text NOT NULL,
	new_value       text NOT NULL,
	date            timestamptz NOT NULL,
	originator_id   text NOT NULL,
	originator_name text NOT NULL,
	originator      jsonb NOT NULL,
	automatic       boolean NOT NULL,
	received_at     timestamptz NOT NULL,
	source          text NOT NULL,
	search_text     text NOT NULL,
	PRIMARY KEY (account_id, seq, date)
) PARTITION BY RANGE (date);

CREATE TABLE records_default PARTITION OF records DEFAULT;

-- Listings are newest first by (date, seq) and page with a keyset on that
-- pair, never an offset. records_date serves every listing: alone, and
-- under the filters that match many rows (action_type, element, q), whose
-- conditions are checked on the rows the scan meets in order. The filters
-- that pick out few rows of a large account have an index that ends with
-- the same order, so that a page reads only the rows it returns:
-- object_type (a rare type among many), object_id (one object's history),
-- object_name, and the originator (one person's changes, by id or by name).
-- action_type (three values) and element (mostly combined with a type)
-- have none: each index costs every insert, and theirs would rarely beat
-- records_date. The primary key serves reads by seq (verify, idempotent
-- retries); records_id serves FindRecord, probing each month's index.
-- records_brin lets the purge find the expired rows of the partly-expired
-- month and of the default partition without reading the rest.
CREATE INDEX records_date            ON records (account_id, date, seq);
CREATE INDEX records_id              ON records (account_id, id);
CREATE INDEX records_object_type     ON records (account_id, object_type, date, seq);
CREATE INDEX records_object_id       ON records (account_id, object_id, date, seq);
CREATE INDEX records_object_name     ON records (account_id, object_name, date, seq);
CREATE INDEX records_originator_id   ON records (account_id, originator_id, date, seq);
CREATE INDEX records_originator_name ON records (account_id, originator_name, date, seq);
CREATE INDEX records_brin            ON records USING brin (date);

-- An idempotency key stored with the records it produced: seqs first_seq to
-- first_seq+count-1 of the account (count is 0 for a change that made no
-- record). fingerprint tells an honest retry from other content. The
-- primary key makes a key count once even if two transactions raced past
-- the lookup, which the account's row lock already prevents.
CREATE TABLE idempotency (
	account_id  text NOT NULL REFERENCES accounts (id),
	key         text NOT NULL,
	fingerprint text NOT NULL,
	first_seq   bigint NOT NULL,
	count       bigint NOT NULL CHECK (count >= 0),
	PRIMARY KEY (account_id, key)
);

-- Append-only: records are never updated, and deleted only by the
-- retention purge (audittrail_purge), which opens the gate
-- audittrail.purge for its own transaction. The gate is no security
-- boundary by itself (any role may set a custom setting): it stops the
-- owner's mistakes, and the service role has no DELETE privilege at all
-- (see testdata/grants.sql). Row triggers of a partitioned table are cloned
-- onto every partition, present and future.
CREATE FUNCTION audittrail_records_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' AND current_setting('audittrail.purge', true) = 'on' THEN
		RETURN OLD;
	ELSIF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'records are append-only: only the retention purge deletes them'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RAISE EXCEPTION 'records are append-only: UPDATE refused'
		USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records
	FOR EACH ROW EXECUTE FUNCTION audittrail_records_append_only();

CREATE FUNCTION audittrail_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON records
	FOR EACH STATEMENT EXECUTE FUNCTION audittrail_refuse();

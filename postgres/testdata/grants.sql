-- What the service role may do. Run this as audittrail_owner once the
-- migrations are applied (open the database once with the owner's URL,
-- for example `audittrail serve --db postgres://audittrail_owner@HOST/DB`),
-- and again after an upgrade whose release notes say so.
SET search_path = audittrail;

-- Open checks that every migration is applied.
GRANT SELECT ON schema_migrations TO audittrail_service;

-- Accounts, their people and credentials: read and change, never delete an
-- account. next_seq and the tree columns advance with each append.
GRANT SELECT, INSERT ON accounts TO audittrail_service;
GRANT UPDATE (name, timezone, audit_trail_enabled, audit_trail_enabled_at, next_seq, tree_size, tree_hashes)
	ON accounts TO audittrail_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON profiles, users TO audittrail_service;
GRANT SELECT, INSERT ON publisher_keys TO audittrail_service;
GRANT UPDATE (revoked_at) ON publisher_keys TO audittrail_service;
GRANT SELECT, INSERT, DELETE ON tokens TO audittrail_service;

-- The checkpoint signing key that every replica shares.
GRANT SELECT, INSERT ON secrets TO audittrail_service;

-- Records and the Merkle log: append and read, nothing else. No UPDATE, no
-- DELETE, no TRUNCATE, on records or on any of its partitions.
GRANT SELECT, INSERT ON records, idempotency, tree_nodes, checkpoints TO audittrail_service;
GRANT SELECT ON purged TO audittrail_service;

-- Partitions are created, and expired records purged, only through these
-- functions, which run as the owner (SECURITY DEFINER).
GRANT EXECUTE ON FUNCTION audittrail_ensure_partitions(date, date) TO audittrail_service;
GRANT EXECUTE ON FUNCTION audittrail_purge(timestamptz, integer) TO audittrail_service;

-- The access log: append and read; the purge deletes through its function.
GRANT SELECT, INSERT ON access_log TO audittrail_service;
GRANT EXECUTE ON FUNCTION audittrail_purge_access(timestamptz, integer) TO audittrail_service;

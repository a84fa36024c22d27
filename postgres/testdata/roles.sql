-- Roles for running audittrail on PostgreSQL with least privilege. Run this
-- once, as a superuser (or a role with CREATEROLE), connected to the
-- database that audittrail will use; then run the migrations as the owner,
-- then testdata/grants.sql as the owner.

-- The owner owns the schema and everything in it. It runs the migrations,
-- and it owns the two functions through which the service creates the
-- monthly partitions of records and purges expired records. Only the
-- migration step connects as it.
CREATE ROLE audittrail_owner LOGIN PASSWORD 'change-me';

-- The service role is what every `audittrail serve` replica connects as.
-- It reads and appends; it cannot change or delete a record, a node of the
-- Merkle tree or a checkpoint, and it cannot run DDL.
CREATE ROLE audittrail_service LOGIN PASSWORD 'change-me-too';

CREATE SCHEMA audittrail AUTHORIZATION audittrail_owner;
GRANT USAGE ON SCHEMA audittrail TO audittrail_service;

-- So that neither URL needs ?search_path=audittrail.
ALTER ROLE audittrail_owner SET search_path = audittrail;
ALTER ROLE audittrail_service SET search_path = audittrail;

// Package ingest turns what a platform sends — records, or changes as
// before/after snapshots — into the entries a store appends. It holds the
// rules of acceptance: required fields, limits, dates, the catalog,
// enablement, redaction of sensitive elements (before anything reaches a
// store or a log) and the fingerprints behind idempotency keys. A batch is
// all or nothing: every problem becomes one detail, and one problem refuses
// the whole batch.
package ingest

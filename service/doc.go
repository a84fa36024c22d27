// Package service is the one implementation of the product's operations
// (SPEC §4–§7): accounts, people, keys, logins, ingestion, reading, exports
// and the integrity log. Every operation takes the acting principal and
// does, in this order, authorization, validation, the retention clamp and
// the self-audit, so that each rule of the contract exists once.
//
// The front ends — the HTTP API (http/), the web UI (ui/), the
// LiveEngage-compatible API (liveengage/) and the CLI (cmd/audittrail) —
// are thin clients: they parse their input, call a Service method and
// render its answer or its *audittrail.Error. The service reads and writes
// through an audittrail.Store; a change of people or settings runs in one
// Store.Change transaction, so that what it reads to decide and to diff is
// still true when it writes.
package service

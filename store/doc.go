// Package store is the storage of the service, written once over any
// audittrail.Backend.
//
// A backend (sqlite/, postgres/) runs transactions and reads and writes rows;
// it knows SQL and its driver, and nothing of the rules below. The Store
// built here by New holds those rules, for every backend alike:
//
//   - A record's row: its time-ordered id (audittrail.NewRecordID), its
//     originator as JSON and its search text, made before the transaction.
//   - The append: the account locked (Tx.LockAccount), audittrail.CheckAppend,
//     the idempotency rule (one look-up of the keys of a batch), seqs without
//     gaps from the log head, and the Merkle tree extended in the same
//     transaction (tlog.Tree: the new leaves and nodes stored, the head
//     saved).
//   - Change: a change of the account's data and the records the service
//     writes about it (SPEC §4), stored together or not at all.
//   - The log kept level with the records (CatchUp), checkpoints that only
//     grow, and listings read a page per transaction.
//   - The post-commit seam: Subscribe hears each commit that made records
//     durable, this process's own and, over a backend that several
//     processes share (audittrail.CommitListener), the others'.
//
// The Store takes its clock from the backend: every time it sets is the
// transaction's (Tx.Now), read once when the transaction began.
package store

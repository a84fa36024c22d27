// Package tlog is the integrity log of audittrail: each account's records
// form an append-only Merkle tree in seq order (RFC 6962 / RFC 9162),
// whose signed checkpoints let anyone prove that a record is in the log and
// that the log was only ever appended to.
//
// # Leaves
//
// A record's leaf is its canonical bytes: the record exactly as the API
// returns it, without "id" and "received_at" (which the server assigns and
// which say nothing of the change), serialized with the JSON
// Canonicalization Scheme (RFC 8785): object keys sorted, no whitespace,
// strings escaped minimally. The leaf hash is SHA-256(0x00 ‖ bytes), an
// interior node SHA-256(0x01 ‖ left ‖ right), as transparency-dev/merkle's
// RFC 6962 hasher computes them. docs/INTEGRITY.md has a worked example and
// testdata/ a test vector.
//
// # The tree in storage
//
// A store keeps, per account, every node of the tree that is the root of a
// perfect subtree (level 0 being the leaf hashes) and the compact range of
// the whole tree (the roots of the perfect subtrees that cover it, left to
// right). Appending a leaf with Tree.Append yields the new nodes to store;
// the root is the hash of the compact range. Inclusion and consistency
// proofs are built from stored nodes only. Purging old records deletes their
// contents and keeps their nodes, so proofs and checkpoints stay valid.
//
// # Checkpoints
//
// A checkpoint is a C2SP tlog-checkpoint note: the origin line
// "audittrail/{account}", the tree size, the base64 root hash, optional
// extension lines, then an Ed25519 signature line made with
// golang.org/x/mod/sumdb/note.
package tlog

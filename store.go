package audittrail

import (
	"context"
	"time"
)

// The storage seam has two sides.
//
// A Backend (sqlite/, postgres/) holds SQL and nothing else: it runs
// transactions, and its Tx reads and writes rows, translating its driver's
// errors into the domain's codes in one place. A third backend needs only
// that.
//
// A Store (store/) is built once over any Backend: it holds what both
// backends used to repeat — record rows and ids, the gap-free seq, the
// idempotency rule, the Merkle tree's upkeep, the self-audit append in the
// change's transaction, the post-commit notifications. The service layer
// (service/) uses a Store; nothing else writes.

// Backend is a storage engine.
type Backend interface {
	// View runs fn in a read-only transaction that sees one snapshot.
	View(ctx context.Context, fn func(Tx) error) error

	// Update runs fn in a write transaction: committed when fn returns nil,
	// rolled back when it returns an error (which Update returns). A nil
	// return means the transaction is durable. Transactions that lock the
	// same account (Tx.LockAccount) run one after the other.
	Update(ctx context.Context, fn func(Tx) error) error

	// PurgeRecords removes the records of every account dated before
	// cutoff, keeping their leaves and nodes so that proofs and checkpoints
	// stay valid, notes each removed seq as purged, and returns how many it
	// removed. The access log's entries from before cutoff go with them,
	// since they are kept as long as records (SPEC §11). Each backend purges its own way (batches, partitions).
	PurgeRecords(ctx context.Context, cutoff time.Time) (int, error)

	// Ping reports whether the storage can be reached and, after a write
	// failed for want of space or an I/O error, whether it can be written
	// again (for /readyz). Its error says what is wrong.
	Ping(ctx context.Context) error
	Close() error
}

// Tx is a transaction of a Backend. Every method that touches an account's
// data takes the account id and scopes its queries by it. Now is the
// transaction's clock, read once when it began.
//
// The Tx that a Store hands to the functions of View and Change sets first
// what the store decides for every backend: the ids of new profiles, users
// and keys (when empty), created and updated times (by Now), the
// account's default timezone, and it checks that a user's profile is one
// of the account's (EVALIDATION) and that no user holds a profile being
// deleted (ECONFLICT). A backend's own Tx is given rows with those set.
type Tx interface {
	Now() time.Time

	AccountTx
	PeopleTx
	CredentialTx
	RecordTx
	LogTx
	AccessTx
}

// AccountTx reads and writes accounts.
type AccountTx interface {
	// CreateAccount inserts a. Returns EALREADYEXISTS if the id is taken.
	CreateAccount(a *Account) error
	// FindAccount returns ENOTFOUND if the account does not exist.
	FindAccount(id string) (*Account, error)
	// LockAccount returns the account and the head of its log, and holds
	// the account against every other transaction that locks it until this
	// one ends. Returns ENOTFOUND.
	LockAccount(id string) (*Account, LogHead, error)
	// UpdateAccount stores a's name, timezone and audit-trail state.
	// Returns ENOTFOUND.
	UpdateAccount(a *Account) error
	// FindAccountIDs returns the ids of all accounts (for maintenance jobs).
	FindAccountIDs() ([]string, error)
}

// PeopleTx reads and writes the profiles and users of accounts.
type PeopleTx interface {
	FindProfiles(accountID string) ([]*Profile, error)
	// FindProfile returns ENOTFOUND.
	FindProfile(accountID, id string) (*Profile, error)
	// CreateProfile returns EALREADYEXISTS when the name is taken in the account.
	CreateProfile(p *Profile) error
	// UpdateProfile stores p's name, description, role, permissions and
	// updated time, and sets its other fields as stored. Returns
	// ENOTFOUND, EALREADYEXISTS.
	UpdateProfile(p *Profile) error
	// DeleteProfile returns ENOTFOUND, or (through a Store) ECONFLICT
	// while users hold it.
	DeleteProfile(accountID, id string) error
	// CountProfileUsers counts the users of the account holding the profile.
	CountProfileUsers(accountID, profileID string) (int, error)

	FindUsers(accountID string) ([]*User, error)
	// FindUser and FindUserByLogin return ENOTFOUND.
	FindUser(accountID, id string) (*User, error)
	FindUserByLogin(accountID, loginName string) (*User, error)
	// CreateUser returns EALREADYEXISTS when the login name is taken in the
	// account, and (through a Store) EVALIDATION when its profile is not
	// one of the account's.
	CreateUser(u *User) error
	// UpdateUser stores every field of u but its created time, which it
	// sets as stored. Returns ENOTFOUND, EALREADYEXISTS, EVALIDATION as
	// CreateUser.
	UpdateUser(u *User) error
	// DeleteUser deletes the user and their tokens. Returns ENOTFOUND.
	DeleteUser(accountID, id string) error
}

// CredentialTx keeps publisher keys and user tokens, by hash only.
type CredentialTx interface {
	// CreatePublisherKey stores k (without its secret) and the hash of its secret.
	CreatePublisherKey(k *PublisherKey, hash []byte) error
	FindPublisherKeys(accountID string) ([]*PublisherKey, error)
	// FindPublisherKey returns ENOTFOUND.
	FindPublisherKey(accountID, id string) (*PublisherKey, error)
	// RevokePublisherKey sets the key's revoked time to at, if it is not
	// revoked yet. Returns ENOTFOUND.
	RevokePublisherKey(accountID, id string, at time.Time) error

	CreateToken(t *Token) error
	// DeleteToken removes a token; deleting an unknown token is not an error.
	DeleteToken(hash []byte) error
	// DeleteUserTokens removes every token of the user of the account (API
	// tokens and UI sessions alike); a user without tokens, or an unknown
	// one, is not an error.
	DeleteUserTokens(accountID, userID string) error
	// Authenticate returns the principal behind a publisher key or user
	// token hash, with the user's profile as it is now. Returns
	// EUNAUTHENTICATED for an unknown or revoked key, an unknown or expired
	// token (by Now), or a token whose user is disabled or deleted.
	Authenticate(hash []byte) (*Principal, error)
}

// RecordRow is a record about to be inserted, with the columns derived
// from it: its originator as JSON and its SearchText.
type RecordRow struct {
	Record     *Record
	Originator string
	SearchText string
}

// IdempotencyKey is a stored idempotency key: the fingerprint of what was
// first sent with it and the seqs of the records first stored,
// [FirstSeq, FirstSeq+Count).
type IdempotencyKey struct {
	Key         string
	Fingerprint string
	FirstSeq    int64
	Count       int64
}

// RecordTx reads and writes records.
type RecordTx interface {
	// InsertRecords inserts rows, whose records have every field set.
	InsertRecords(rows []RecordRow) error
	// FindRecords calls fn with each record of the page that f selects
	// (f.Limit of them at most), newest first by (date, seq), starting
	// after f.After.
	FindRecords(f RecordFilter, fn func(*Record) error) error
	// CountRecords counts the records matching f (Limit and After ignored).
	CountRecords(f RecordFilter) (int, error)
	// FindRecord returns ENOTFOUND.
	FindRecord(accountID, id string) (*Record, error)
	// FindRecordsBySeq calls fn with the stored records of the account
	// whose seq is in [from, to), in seq order, at most limit of them.
	FindRecordsBySeq(accountID string, from, to int64, limit int, fn func(*Record) error) error

	// FindIdempotencyKeys returns the stored keys among keys, by key.
	FindIdempotencyKeys(accountID string, keys []string) (map[string]IdempotencyKey, error)
	// InsertIdempotencyKeys stores keys.
	InsertIdempotencyKeys(accountID string, keys []IdempotencyKey) error
}

// AccessTx appends to and reads the access logs of accounts (SPEC §11).
type AccessTx interface {
	// InsertAccessEntries appends entries, of any accounts, whose fields
	// are all set.
	InsertAccessEntries(entries []*AccessEntry) error
	// FindAccessEntries calls fn with each entry of the page that f
	// selects (f.Limit of them at most), newest first by (at, id),
	// starting after f.After.
	FindAccessEntries(f AccessFilter, fn func(*AccessEntry) error) error
}

// LogHead is the state of an account's log kept beside the account: the
// next seq to give, and the size and compact range of its Merkle tree (the
// roots of the perfect subtrees that cover it, left to right).
type LogHead struct {
	NextSeq    int64
	TreeSize   uint64
	TreeHashes [][]byte
}

// TreeNode is a stored node of an account's Merkle tree.
type TreeNode struct {
	ID   NodeID
	Hash []byte
}

// LogTx reads and writes the Merkle trees and checkpoints of accounts.
type LogTx interface {
	// FindLogHead returns the head of the account's log, without locking
	// the account (LockAccount does). Returns ENOTFOUND.
	FindLogHead(accountID string) (LogHead, error)
	// SaveLogHead stores the head of the account's log.
	SaveLogHead(accountID string, head LogHead) error
	// InsertTreeNodes stores nodes of the account's tree.
	InsertTreeNodes(accountID string, nodes []TreeNode) error
	// TreeNodes returns the hashes of the given nodes, in order. Returns
	// ENOTFOUND when one is not stored.
	TreeNodes(accountID string, ids []NodeID) ([][]byte, error)
	// LeafHashes returns the stored leaf hashes of the account by seq and
	// the seqs whose records the retention purge removed.
	LeafHashes(accountID string) (leaves [][]byte, purged map[int64]bool, err error)
	// FindAccountsBehind returns the accounts whose tree is smaller than
	// their next seq (records written before the log existed).
	FindAccountsBehind() ([]string, error)

	// InsertCheckpoint stores cp, its CreatedAt set.
	InsertCheckpoint(cp *Checkpoint) error
	// LatestCheckpoint returns the newest checkpoint; ENOTFOUND if none.
	LatestCheckpoint(accountID string) (*Checkpoint, error)
	// FindCheckpoints returns every checkpoint of the account, oldest first.
	FindCheckpoints(accountID string) ([]*Checkpoint, error)
}

// Commit tells which records a transaction made durable: the account's
// seqs [FirstSeq, EndSeq). It is what the post-commit seam announces.
type Commit struct {
	AccountID string
	FirstSeq  int64
	EndSeq    int64
}

// CommitListener is a Backend that several processes share (PostgreSQL
// replicas): its write transactions announce the records they commit
// (CommitAnnouncer), and ListenCommits hears what the other processes
// announced. A Store over such a backend passes those commits to its
// subscribers, beside its own.
type CommitListener interface {
	// ListenCommits calls fn with each commit that another process
	// announced, in the order they committed, until ctx ends or the
	// connection it listens on fails; it returns ctx's error or that
	// failure. Commits announced while it is not listening are not heard.
	// It never reports a commit of its own process.
	ListenCommits(ctx context.Context, fn func(Commit)) error
}

// CommitAnnouncer is a Tx of a CommitListener: AnnounceCommit tells the
// other processes about c once the transaction commits, and never if it
// rolls back.
type CommitAnnouncer interface {
	AnnounceCommit(c Commit) error
}

// Store is the storage that the service layer uses, built once over a
// Backend by package store. Its operations keep the rules of storage
// itself: a change and its trail stored together, gap-free seqs,
// idempotency, the Merkle tree in the append's transaction.
type Store interface {
	LogStore

	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error

	// Change runs fn in a write transaction holding the account's lock, so
	// that what fn reads stays true until it commits. fn checks and writes
	// through tx and returns the records the service writes about the
	// change (SPEC §4); Change appends them in the same transaction, dated
	// by its clock, when the account's audit trail is on before or after
	// fn. A change and its trail are stored together or not at all.
	// Returns fn's error, ENOTFOUND for an unknown account.
	Change(ctx context.Context, accountID string, fn func(tx Tx) ([]Entry, error)) error

	// CreateAccount stores a new account with its profiles and its first
	// administrator, all or nothing. Returns EALREADYEXISTS if the id is taken.
	CreateAccount(ctx context.Context, a *Account, profiles []*Profile, admin *User) error

	// FindAccount returns ENOTFOUND if the account does not exist.
	FindAccount(ctx context.Context, id string) (*Account, error)

	// FindAccountIDs returns the ids of all accounts.
	FindAccountIDs(ctx context.Context) ([]string, error)

	// Authenticate returns the principal behind a credential hash (see
	// CredentialTx.Authenticate).
	Authenticate(ctx context.Context, hash []byte) (*Principal, error)

	// AppendRecords stores the records of entries durably, all or nothing,
	// and returns them as stored, in order: ID, Seq (the account's next
	// positions, without gaps) and ReceivedAt are set by the store, Date is
	// cut to milliseconds. Inside its transaction it applies CheckAppend to
	// the account and the idempotency rule: an entry whose key was stored
	// before answers the records first stored when its Fingerprint matches,
	// else the whole call fails with EIDEMPOTENCYCONFLICT. Returns
	// ENOTFOUND, EAUDITTRAILDISABLED, EBEFOREENABLED, EIDEMPOTENCYCONFLICT.
	AppendRecords(ctx context.Context, accountID string, entries []Entry) ([]*Record, error)

	// FindRecords returns at most f.Limit records matching f, newest first
	// by (date, seq), starting after f.After.
	FindRecords(ctx context.Context, f RecordFilter) ([]*Record, error)

	// CountRecords counts the records matching f (Limit and After ignored).
	CountRecords(ctx context.Context, f RecordFilter) (int, error)

	// FindRecord returns ENOTFOUND.
	FindRecord(ctx context.Context, accountID, id string) (*Record, error)

	// IterateRecords calls fn with every record matching f (Limit ignored),
	// newest first, starting after f.After, a page at a time, each page in
	// its own transaction and fn called between them. It stops at, and
	// returns, the first error of fn or of ctx.
	IterateRecords(ctx context.Context, f RecordFilter, fn func(*Record) error) error

	// AppendAccess appends entries to the access logs of their accounts
	// durably, all in one transaction.
	AppendAccess(ctx context.Context, entries []*AccessEntry) error

	// FindAccessEntries returns at most f.Limit entries matching f, newest
	// first by (at, id), starting after f.After.
	FindAccessEntries(ctx context.Context, f AccessFilter) ([]*AccessEntry, error)

	// Subscribe calls fn after each transaction that made records durable,
	// with the account and seq range it committed, until the returned
	// function is called. fn runs on the committing goroutine and must not
	// block. On a backend shared by several processes (PostgreSQL
	// replicas), commits of the other processes are announced too.
	Subscribe(fn func(Commit)) (unsubscribe func())

	// Ping reports whether the storage can be reached and written.
	Ping(ctx context.Context) error
	Close() error
}

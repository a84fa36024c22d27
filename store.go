package audittrail

import (
	"context"
)

// Store is the storage of the service.
//
// Every method that changes an account's users, profiles, publisher keys or
// settings takes audit: the records the service writes about that change
// (SPEC §4, "the service audits itself"). The store appends them in the
// transaction of the change, dated by its clock, so that a change and its
// trail are stored together or not at all; it writes none while the
// account's audit trail is off (for a change of the trail's own state: off
// both before and after the change).
// Each backend (sqlite/, postgres/)
// implements it, and storetest/ holds the one conformance suite that every
// backend must pass. Every method that touches an account's data takes the
// account id and scopes its queries by it.
type Store interface {
	AccountStore
	PeopleStore
	CredentialStore
	RecordStore
	LogStore

	// Ping reports whether the storage can be reached and, after a write
	// failed for want of space or an I/O error, whether it can be written
	// again (for /readyz). Its error says what is wrong.
	Ping(ctx context.Context) error
	Close() error
}

// AccountStore keeps accounts.
type AccountStore interface {
	// CreateAccount stores a new account with its profiles and its first
	// administrator, all or nothing. Returns EALREADYEXISTS if the id is taken.
	CreateAccount(ctx context.Context, a *Account, profiles []*Profile, admin *User) error

	// FindAccount returns ENOTFOUND if the account does not exist.
	FindAccount(ctx context.Context, id string) (*Account, error)

	// UpdateAccount applies upd and returns the account as stored. Turning
	// the audit trail on sets AuditTrailEnabledAt to the store's clock;
	// turning it off keeps the last enabling time. Returns ENOTFOUND.
	UpdateAccount(ctx context.Context, id string, upd AccountUpdate, audit ...Entry) (*Account, error)

	// FindAccountIDs returns the ids of all accounts (for maintenance jobs).
	FindAccountIDs(ctx context.Context) ([]string, error)
}

// PeopleStore keeps the profiles and users of accounts.
type PeopleStore interface {
	FindProfiles(ctx context.Context, accountID string) ([]*Profile, error)
	// FindProfile returns ENOTFOUND.
	FindProfile(ctx context.Context, accountID, id string) (*Profile, error)
	// CreateProfile returns EALREADYEXISTS when the name is taken in the account.
	CreateProfile(ctx context.Context, p *Profile, audit ...Entry) error
	// UpdateProfile stores p's name, description, role and permissions.
	// Returns ENOTFOUND, EALREADYEXISTS.
	UpdateProfile(ctx context.Context, p *Profile, audit ...Entry) error
	// DeleteProfile returns ENOTFOUND, or ECONFLICT while users hold it.
	DeleteProfile(ctx context.Context, accountID, id string, audit ...Entry) error

	FindUsers(ctx context.Context, accountID string) ([]*User, error)
	// FindUser and FindUserByLogin return ENOTFOUND.
	FindUser(ctx context.Context, accountID, id string) (*User, error)
	FindUserByLogin(ctx context.Context, accountID, loginName string) (*User, error)
	// CreateUser returns EALREADYEXISTS when the login name is taken in the account.
	CreateUser(ctx context.Context, u *User, audit ...Entry) error
	// UpdateUser stores every field of u. Returns ENOTFOUND, EALREADYEXISTS.
	UpdateUser(ctx context.Context, u *User, audit ...Entry) error
	// DeleteUser deletes the user and their tokens. Returns ENOTFOUND.
	DeleteUser(ctx context.Context, accountID, id string, audit ...Entry) error
}

// CredentialStore keeps publisher keys and user tokens, by hash only.
type CredentialStore interface {
	// CreatePublisherKey stores k (without its secret) and the hash of its secret.
	CreatePublisherKey(ctx context.Context, k *PublisherKey, hash []byte, audit ...Entry) error
	FindPublisherKeys(ctx context.Context, accountID string) ([]*PublisherKey, error)
	// RevokePublisherKey marks the key revoked at the store's clock and returns
	// it. Returns ENOTFOUND.
	RevokePublisherKey(ctx context.Context, accountID, id string, audit ...Entry) (*PublisherKey, error)

	CreateToken(ctx context.Context, t *Token) error
	// DeleteToken removes a token; deleting an unknown token is not an error.
	DeleteToken(ctx context.Context, hash []byte) error

	// Authenticate returns the principal behind a publisher key or user token
	// hash, with the user's profile as it is now. Returns EUNAUTHENTICATED for
	// an unknown or revoked key, an unknown or expired token, or a token whose
	// user is disabled or deleted.
	Authenticate(ctx context.Context, hash []byte) (*Principal, error)
}

// RecordStore keeps the records of accounts.
type RecordStore interface {
	// AppendRecords stores the records of entries durably, all or nothing,
	// and returns them as stored, in order: ID, Seq (the account's next
	// positions, without gaps) and ReceivedAt are set by the store. Inside its
	// transaction it applies CheckAppend to the account and the idempotency
	// rule: an entry whose key was stored before answers the records first
	// stored when its Fingerprint matches, else the whole call fails with
	// EIDEMPOTENCYCONFLICT. Returns ENOTFOUND, EAUDITTRAILDISABLED,
	// EBEFOREENABLED, EIDEMPOTENCYCONFLICT.
	AppendRecords(ctx context.Context, accountID string, entries []Entry) ([]*Record, error)

	// FindRecords returns at most f.Limit records matching f, newest first by
	// (date, seq), starting after f.After.
	FindRecords(ctx context.Context, f RecordFilter) ([]*Record, error)

	// CountRecords counts the records matching f (Limit and After ignored).
	CountRecords(ctx context.Context, f RecordFilter) (int, error)

	// FindRecord returns ENOTFOUND.
	FindRecord(ctx context.Context, accountID, id string) (*Record, error)

	// IterateRecords calls fn with every record matching f (Limit ignored),
	// newest first, starting after f.After, holding at most a page of records
	// in memory. It stops at, and returns, the first error of fn or of ctx.
	IterateRecords(ctx context.Context, f RecordFilter, fn func(*Record) error) error
}

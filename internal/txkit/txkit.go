// Package txkit holds what the transactions of the SQL backends (sqlite/,
// postgres/) share besides their SQL: the messages of the domain errors
// that their error translation gives, and the rule that turns a token's
// user into a principal. A backend's Tx uses it; nothing else does.
package txkit

import (
	"fmt"

	"github.com/audittrail/audittrail"
)

// Messages of ENOTFOUND and EALREADYEXISTS, for a backend's translate.
func AccountNotFound(id string) string { return fmt.Sprintf("account %s not found", id) }
func AccountExists(id string) string   { return fmt.Sprintf("account %s already exists", id) }
func ProfileNotFound(id string) string { return fmt.Sprintf("profile %s not found", id) }
func ProfileExists(name string) string {
	return fmt.Sprintf("a profile named %q already exists in this account", name)
}
func UserNotFound(id string) string     { return fmt.Sprintf("user %s not found", id) }
func LoginNotFound(login string) string { return fmt.Sprintf("no user with login name %q", login) }
func LoginTaken(login string) string {
	return fmt.Sprintf("the login name %q is already taken in this account", login)
}
func KeyNotFound(id string) string    { return fmt.Sprintf("publisher key %s not found", id) }
func RecordNotFound(id string) string { return fmt.Sprintf("record %s not found", id) }
func NoCheckpoint(accountID string) string {
	return fmt.Sprintf("account %s has no checkpoint yet", accountID)
}

const (
	KeyExists   = "this publisher key already exists"
	TokenExists = "this token already exists"
)

// NodeNotStored is the ENOTFOUND of a node of the tree that is not stored.
func NodeNotStored(accountID string, id audittrail.NodeID) error {
	return audittrail.Errorf(audittrail.ENOTFOUND, "node %d/%d of the log of account %s is not stored", id.Level, id.Index, accountID)
}

// Unauthenticated is the error of a credential that finds no principal.
func Unauthenticated() error {
	return audittrail.Errorf(audittrail.EUNAUTHENTICATED, "the credential is unknown, revoked or expired; sign in again or use a valid publisher key")
}

// UserPrincipal returns the principal of the user whose token was found,
// with the user's profile as it is now: EUNAUTHENTICATED when the user is
// gone or disabled.
func UserPrincipal(tx audittrail.PeopleTx, accountID, userID string) (*audittrail.Principal, error) {
	user, err := tx.FindUser(accountID, userID)
	if audittrail.ErrorCode(err) == audittrail.ENOTFOUND || (err == nil && !user.Enabled) {
		return nil, Unauthenticated()
	} else if err != nil {
		return nil, err
	}
	profile, err := tx.FindProfile(accountID, user.ProfileID)
	if err != nil {
		return nil, err
	}
	return &audittrail.Principal{Kind: audittrail.PrincipalUser, AccountID: accountID, User: user, Profile: profile}, nil
}

// Rows is a driver's result set at its cursor: *sql.Rows, pgx.Rows.
type Rows interface {
	Next() bool
	Err() error
}

// EachRecord calls fn with each record of rows, which scan reads from the
// row at the cursor, and returns the first error of scan or fn, or else of
// rows.
func EachRecord(rows Rows, scan func() (*audittrail.Record, error), fn func(*audittrail.Record) error) error {
	for rows.Next() {
		r, err := scan()
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

package service

import (
	"context"
	"strings"

	"github.com/audittrail/audittrail"
)

// FindPublisherKeys returns the account's publisher keys, revoked ones
// included, oldest first, never their secrets. Administrators only.
func (s *Service) FindPublisherKeys(ctx context.Context, p *audittrail.Principal, accountID string) ([]*audittrail.PublisherKey, error) {
	return readList(ctx, s, p, Administrator, accountID, func(tx audittrail.Tx) ([]*audittrail.PublisherKey, error) { return tx.FindPublisherKeys(accountID) })
}

// CreatePublisherKey makes a publisher key for the account and returns it
// with its secret in Key, which is shown this once and stored only as a
// hash. Recorded under publisher_keys. The name "audittrail" is reserved
// for the service's own records. Returns EVALIDATION, EVALUETOOLONG.
func (s *Service) CreatePublisherKey(ctx context.Context, p *audittrail.Principal, accountID, name string) (*audittrail.PublisherKey, error) {
	if err := Authorize(p, Administrator, accountID); err != nil {
		return nil, err
	}
	if err := validKeyName(name); err != nil {
		return nil, err
	}
	k, secret := audittrail.NewPublisherKey(accountID, name, s.now())
	err := s.store.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		audit, err := s.ingester.ServiceChange(accountID, audittrail.TypePublisherKeys, k.ID, k.Name, nil, audittrail.PublisherKeySnapshot(k), p.Originator())
		if err != nil {
			return nil, err
		}
		return audit, tx.CreatePublisherKey(k, audittrail.HashSecret(secret))
	})
	if err != nil {
		return nil, err
	}
	k.Key = secret
	return k, nil
}

// RevokePublisherKey revokes a key of the account: the next request made
// with it is refused. Revoking a revoked key keeps its first revocation
// time and records nothing new. Returns ENOTFOUND.
func (s *Service) RevokePublisherKey(ctx context.Context, p *audittrail.Principal, accountID, id string) error {
	if err := Authorize(p, Administrator, accountID); err != nil {
		return err
	}
	return s.store.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		before, err := tx.FindPublisherKey(accountID, id)
		if err != nil {
			return nil, err
		}
		after := *before
		if after.RevokedAt == nil {
			now := tx.Now()
			after.RevokedAt = &now
		}
		audit, err := s.ingester.ServiceChange(accountID, audittrail.TypePublisherKeys, before.ID, before.Name,
			audittrail.PublisherKeySnapshot(before), audittrail.PublisherKeySnapshot(&after), p.Originator())
		if err != nil {
			return nil, err
		}
		return audit, tx.RevokePublisherKey(accountID, id, *after.RevokedAt)
	})
}

// validKeyName applies SPEC §5 to a publisher key's name, which becomes
// the source of every record written with the key: 1 to 64 characters of
// ASCII letters, digits, space, '.', '_' and '-' (so that no look-alike
// letter, zero-width or control character can make one name pass for
// another), and never the service's own, audittrail, in any case or in a
// spelling that reads the same once spaces, dots, underscores and hyphens
// are taken out ("Audit Trail", "audit-trail").
func validKeyName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > MaxKeyName {
		return audittrail.Errorf(audittrail.EVALIDATION, "name must be 1 to %d characters", MaxKeyName)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '.' || c == '_' || c == '-') {
			return audittrail.Errorf(audittrail.EVALIDATION, "name may hold only ASCII letters, digits, spaces, '.', '_' and '-' (%q is not one)", c)
		}
	}
	// Also "Audit Trail", "audit-trail": spaces, dots, underscores and
	// hyphens inside do not make it another name to a reader.
	if audittrail.FoldName(name) == audittrail.SourceService {
		return audittrail.Errorf(audittrail.EVALIDATION, "the name %q is reserved for the records the service writes itself; choose another", audittrail.SourceService)
	}
	return nil
}

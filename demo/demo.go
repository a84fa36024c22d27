package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
)

// The demo account and the credentials that `audittrail serve --demo`
// prints at start.
const (
	AccountID     = "demo"
	AccountName   = "Demo Contact Center"
	Timezone      = "America/New_York"
	AdminLogin    = "admin"
	AdminPassword = "admin" // demo-only: deliberately below the password policy
)

// Source is the source of the demo's records, as the name of a publisher
// key would be for a platform's.
const Source = "demo"

// person is one of the demo account's users.
type person struct {
	login, name, employeeID string
	profile                 int // index in audittrail.BuiltinProfiles
	userAgent, authType     string
	weight                  int      // share of the staff's changes they make
	types                   []string // object types they change; nil for all
}

const (
	chromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	safariMac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
	firefoxLinux  = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	edgeWindows   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
	chromeMac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

// people are the users of the demo account; the first is the administrator
// who signs in with AdminLogin / AdminPassword.
var people = []person{
	{AdminLogin, "Alex Morgan", "E10001", 0, chromeWindows, "SSO", 34, nil},
	{"priya.raman", "Priya Raman", "E10017", 0, safariMac, "SSO", 26, nil},
	{"marcus.webb", "Marcus Webb", "E10042", 0, firefoxLinux, "Password", 22, nil},
	{"sofia.delgado", "Sofia Delgado", "E10058", 0, edgeWindows, "SSO", 12, nil},
	{"daniel.okafor", "Daniel Okafor", "E10103", 1, chromeMac, "SSO", 6, []string{"users", "agent_groups"}},
	{"jordan.lee", "Jordan Lee", "E11210", 3, chromeWindows, "SSO", 0, nil},
	{"hannah.schmidt", "Hannah Schmidt", "E11277", 3, chromeWindows, "SSO", 0, nil},
}

// Seed fills an empty store with the demo account. It does nothing and
// returns created=false when the account "demo" already exists.
//
// The history starts almost 13 months before now, and records dated before
// the audit trail was enabled are refused (before_enabled), so Seed enables
// the account's trail as of that past moment, by a change of its own
// (enableAt): nothing but the demo enables an audit trail retroactively.
//
// The history ends at now; in must accept it (in's clock no more than 5 minutes
// before now). The records go through in.PrepareChanges and
// store.AppendRecords in batches of at most 1,000 changes, so a failure
// part-way leaves the account with part of its history, and a later Seed
// leaves it as it is.
func Seed(ctx context.Context, store audittrail.Store, in *ingest.Ingester, now time.Time) (created bool, err error) {
	if _, err := store.FindAccount(ctx, AccountID); err == nil {
		return false, nil
	} else if audittrail.ErrorCode(err) != audittrail.ENOTFOUND {
		return false, fmt.Errorf("demo: %w", err)
	}
	loc, err := time.LoadLocation(Timezone)
	if err != nil {
		return false, fmt.Errorf("demo: %w", err)
	}
	now = now.In(loc)
	from := enabledAt(now)

	staff, err := createAccount(ctx, store, from.AddDate(0, 0, -40))
	if err != nil {
		return false, err
	}
	if err := enableAt(ctx, store, from); err != nil {
		return true, fmt.Errorf("demo: enable the audit trail: %w", err)
	}
	acct, err := store.FindAccount(ctx, AccountID)
	if err != nil {
		return true, fmt.Errorf("demo: %w", err)
	}
	if !acct.AuditTrailEnabled || acct.AuditTrailEnabledAt == nil || acct.AuditTrailEnabledAt.After(from) {
		return true, fmt.Errorf("demo: the store did not enable the audit trail as of %s", audittrail.FormatTime(from))
	}

	batch := make([]ingest.ChangeInput, 0, ingest.MaxBatch)
	flush := func() error {
		entries, err := in.PrepareChanges(acct, batch, Source)
		if err != nil {
			return fmt.Errorf("demo: prepare changes: %w", err)
		}
		entries = withRecords(entries)
		if len(entries) > 0 {
			if _, err := store.AppendRecords(ctx, AccountID, entries); err != nil {
				return fmt.Errorf("demo: append records: %w", err)
			}
		}
		batch = batch[:0]
		return nil
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for c := range history(rng, loc, from, now, staff) {
		batch = append(batch, c)
		if len(batch) == ingest.MaxBatch {
			if err := flush(); err != nil {
				return true, err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return true, err
		}
	}
	return true, nil
}

// enabledAt returns when the demo's audit trail was enabled: at half past
// nine on the day after now minus 13 months, which keeps the whole history
// inside the default retention window however the time zone shifts.
func enabledAt(now time.Time) time.Time {
	d := now.AddDate(0, -13, 1)
	return time.Date(d.Year(), d.Month(), d.Day(), 9, 30, 0, 0, now.Location())
}

// createAccount stores the account, its profiles and its people, created
// at the given moment, and returns the people who make changes in the
// history, as originators.
func createAccount(ctx context.Context, store audittrail.Store, at time.Time) ([]actor, error) {
	acct, admin := audittrail.NewAccount(AccountID, AccountName, Timezone, at)
	profiles := audittrail.BuiltinProfiles(AccountID, acct.CreatedAt)
	users := []*audittrail.User{admin}
	for i, p := range people {
		u := admin
		pw := AdminPassword
		if i > 0 {
			u = &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: AccountID, Enabled: true, CreatedAt: acct.CreatedAt, UpdatedAt: acct.CreatedAt}
			pw = audittrail.NewSecret("")
			users = append(users, u)
		}
		u.LoginName, u.Name, u.Email = p.login, p.name, email(p.name)
		u.ProfileID = profiles[p.profile].ID
		u.PasswordHash = audittrail.HashPassword(pw)
	}
	if err := store.CreateAccount(ctx, acct, profiles, admin); err != nil {
		return nil, fmt.Errorf("demo: create account: %w", err)
	}
	err := store.Change(ctx, AccountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		for _, u := range users[1:] {
			if err := tx.CreateUser(u); err != nil {
				return nil, fmt.Errorf("demo: create user %s: %w", u.LoginName, err)
			}
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	var staff []actor
	for i, u := range users {
		p := people[i]
		if p.weight == 0 {
			continue
		}
		staff = append(staff, actor{
			o: audittrail.Originator{ID: u.ID, Name: u.Name, LoginName: u.LoginName, EmployeeID: p.employeeID,
				Profiles: []string{profiles[p.profile].Name}, UserAgent: p.userAgent, AuthType: p.authType},
			weight: p.weight,
			types:  p.types,
		})
	}
	return staff, nil
}

// enableAt enables the demo account's audit trail as of at, a moment in
// the past, so that the history from at on is accepted. The change is not
// recorded: the trail is off before it, and its first record is the
// history's.
func enableAt(ctx context.Context, store audittrail.Store, at time.Time) error {
	return store.Change(ctx, AccountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		a, err := tx.FindAccount(AccountID)
		if err != nil {
			return nil, err
		}
		at := audittrail.TruncateTime(at)
		a.AuditTrailEnabled, a.AuditTrailEnabledAt = true, &at
		return nil, tx.UpdateAccount(a)
	})
}

// withRecords drops the entries of edits that changed nothing.
func withRecords(entries []audittrail.Entry) []audittrail.Entry {
	out := entries[:0]
	for _, e := range entries {
		if len(e.Records) > 0 {
			out = append(out, e)
		}
	}
	return out
}

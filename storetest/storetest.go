// Package storetest is the conformance suite of audittrail.Store, written
// once and run against every backend: a backend's tests call Run with a
// function that opens a new, empty store of that backend.
//
// The suite assumes nothing of a backend beyond the interface and these
// conventions: the Create methods set the created (and updated) times of
// what they are given to the store's clock, the Update methods its updated
// time; times come back in UTC with millisecond precision. It creates
// accounts with random ids, so that backends whose tests share one database
// (PostgreSQL) can run it, and it never counts on what other tests stored.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

// OpenFunc opens a new store whose clock is now. It registers the store's
// Close with tb.Cleanup.
type OpenFunc func(tb testing.TB, now func() time.Time) audittrail.Store

// Run runs the conformance suite against the stores that open opens.
func Run(t *testing.T, open func(tb testing.TB, now func() time.Time) audittrail.Store) {
	t.Run("Ping", func(t *testing.T) {
		s, _ := MustOpen(t, open)
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping: got %v, want nil", err)
		}
	})
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, open) })
	t.Run("Enablement", func(t *testing.T) { testEnablement(t, open) })
	t.Run("Profiles", func(t *testing.T) { testProfiles(t, open) })
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("PublisherKeys", func(t *testing.T) { testPublisherKeys(t, open) })
	t.Run("Authenticate", func(t *testing.T) { testAuthenticate(t, open) })
	t.Run("AppendRecords", func(t *testing.T) { testAppendRecords(t, open) })
	t.Run("Idempotency", func(t *testing.T) { testIdempotency(t, open) })
	t.Run("FindRecords", func(t *testing.T) { testFindRecords(t, open) })
	t.Run("Count", func(t *testing.T) { testCount(t, open) })
	t.Run("Cursor", func(t *testing.T) { testCursor(t, open) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("Log", func(t *testing.T) { testLog(t, open) })
	t.Run("Change", func(t *testing.T) { testChange(t, open) })
	t.Run("Access", func(t *testing.T) { testAccess(t, open) })
}

// start is the time at which every test's clock starts.
var start = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// Clock is a clock that tests move. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// MustOpen opens a new store whose clock starts at a fixed time.
func MustOpen(tb testing.TB, open OpenFunc) (audittrail.Store, *Clock) {
	tb.Helper()
	clk := &Clock{now: start}
	return open(tb, clk.Now), clk
}

var ctx = context.Background()

// randomID returns prefix followed by random hex digits.
func randomID(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Fixture is an account created by MustCreateAccount.
type Fixture struct {
	Account  *audittrail.Account
	Profiles []*audittrail.Profile // the built-in ones; Profiles[0] is Administrator
	Admin    *audittrail.User
}

// MustCreateAccount creates an account with the built-in profiles and an
// administrator, and enables its audit trail at the clock's time when
// enabled is true.
func MustCreateAccount(tb testing.TB, s audittrail.Store, clk *Clock, enabled bool) *Fixture {
	tb.Helper()
	id := randomID("t-")
	a := &audittrail.Account{ID: id, Name: "Account " + id, Timezone: "Europe/Paris"}
	profiles := audittrail.BuiltinProfiles(id, clk.Now())
	admin := &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: id, LoginName: "admin", Name: "Ada Admin",
		Email: "ada@example.com", ProfileID: profiles[0].ID, Enabled: true, PasswordHash: "$argon2id$fake"}
	if err := s.CreateAccount(ctx, a, profiles, admin); err != nil {
		tb.Fatalf("CreateAccount: %v", err)
	}
	if enabled {
		on := true
		var err error
		if a, err = UpdateAccount(ctx, s, id, audittrail.AccountUpdate{AuditTrailEnabled: &on}); err != nil {
			tb.Fatalf("UpdateAccount: %v", err)
		}
	}
	return &Fixture{Account: a, Profiles: profiles, Admin: admin}
}

// NewRecord returns a record of a users object dated date, as a handler
// would pass it to AppendRecords.
func NewRecord(date time.Time) *audittrail.Record {
	return &audittrail.Record{
		ObjectType: "users",
		ObjectID:   "u-1",
		ObjectName: "Jane Doe",
		ActionType: audittrail.ActionEdit,
		Element:    "Email",
		OldValue:   "jane@old.example",
		NewValue:   "jane@new.example",
		Date:       date,
		Originator: audittrail.Originator{ID: "o-1", Name: "Olga Operator"},
		ChangeID:   audittrail.NewID("chg_"),
		Source:     "platform",
	}
}

// Records returns n records dated date.
func Records(n int, date time.Time) []*audittrail.Record {
	rs := make([]*audittrail.Record, n)
	for i := range rs {
		rs[i] = NewRecord(date)
		rs[i].ObjectID = fmt.Sprintf("u-%d", i)
	}
	return rs
}

// Entries returns one entry without idempotency key per record.
func Entries(rs ...*audittrail.Record) []audittrail.Entry {
	es := make([]audittrail.Entry, len(rs))
	for i, r := range rs {
		es[i] = audittrail.Entry{Records: []*audittrail.Record{r}}
	}
	return es
}

// MustAppend appends entries and returns the stored records.
func MustAppend(tb testing.TB, s audittrail.Store, accountID string, entries ...audittrail.Entry) []*audittrail.Record {
	tb.Helper()
	rs, err := s.AppendRecords(ctx, accountID, entries)
	if err != nil {
		tb.Fatalf("AppendRecords: %v", err)
	}
	return rs
}

// MustFindAll returns every record of the account, newest first, by paging.
func MustFindAll(tb testing.TB, s audittrail.Store, accountID string) []*audittrail.Record {
	tb.Helper()
	return mustPage(tb, s, audittrail.RecordFilter{AccountID: accountID}, audittrail.MaxLimit)
}

// mustPage returns every record matching f, paging limit records at a time.
func mustPage(tb testing.TB, s audittrail.Store, f audittrail.RecordFilter, limit int) []*audittrail.Record {
	tb.Helper()
	f.Limit, f.After = limit, nil
	all := []*audittrail.Record{}
	for page := 0; ; page++ {
		rs, err := s.FindRecords(ctx, f)
		if err != nil {
			tb.Fatalf("FindRecords: %v", err)
		} else if len(rs) > limit {
			tb.Fatalf("page of %d records: got %d, want at most %d", limit, len(rs), limit)
		} else if page > 100000 {
			tb.Fatalf("paging does not end")
		}
		all = append(all, rs...)
		if len(rs) < limit {
			return all
		}
		f.After = audittrail.CursorOf(rs[len(rs)-1])
	}
}

// CheckCode fails the test unless err has the domain error code want.
func CheckCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := audittrail.ErrorCode(err); got != want {
		tb.Fatalf("error code: got %q (%v), want %q", got, err, want)
	}
}

// CheckRecords fails the test unless got and want hold the same records in
// the same order.
func CheckRecords(tb testing.TB, got, want []*audittrail.Record) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("records: got %d, want %d\ngot  %s\nwant %s", len(got), len(want), seqs(got), seqs(want))
	}
	for i := range got {
		if g, w := recordString(got[i]), recordString(want[i]); g != w {
			tb.Fatalf("record %d: got %v, want %v", i, g, w)
		}
	}
}

// recordString shows every field of r, to compare records.
func recordString(r *audittrail.Record) string {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	return "account_id=" + r.AccountID + " " + string(b)
}

// seqs shows the seqs of rs, for messages.
func seqs(rs []*audittrail.Record) string {
	var b strings.Builder
	b.WriteString("[")
	for i, r := range rs {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprint(&b, r.Seq)
	}
	b.WriteString("]")
	return b.String()
}

// checkTime fails the test unless got is the instant want.
func checkTime(tb testing.TB, what string, got, want time.Time) {
	tb.Helper()
	if !got.Equal(want) {
		tb.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// checkTimePtr fails the test unless got and want are both nil or the same instant.
func checkTimePtr(tb testing.TB, what string, got, want *time.Time) {
	tb.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		tb.Fatalf("%s: got %v, want %v", what, got, want)
	case !got.Equal(*want):
		tb.Fatalf("%s: got %v, want %v", what, *got, *want)
	}
}

func ptr[T any](v T) *T { return &v }

// MustEnabledAccount creates the account id with its built-in profiles and
// an administrator, its audit trail enabled at the store's clock.
func MustEnabledAccount(tb testing.TB, s audittrail.Store, id string, now time.Time) string {
	tb.Helper()
	ctx := context.Background()
	profiles := audittrail.BuiltinProfiles(id, now)
	admin := &audittrail.User{AccountID: id, LoginName: "admin", Name: "Admin", ProfileID: profiles[0].ID, Enabled: true}
	if err := s.CreateAccount(ctx, &audittrail.Account{ID: id, Name: "Acme"}, profiles, admin); err != nil {
		tb.Fatal(err)
	}
	on := true
	if _, err := UpdateAccount(ctx, s, id, audittrail.AccountUpdate{AuditTrailEnabled: &on}); err != nil {
		tb.Fatal(err)
	}
	return id
}

// PlanFilters are the listings whose query plans each backend checks: each
// must read an index in the listing's order, never sort the matching rows.
func PlanFilters(now time.Time) map[string]audittrail.RecordFilter {
	after := &audittrail.Cursor{Date: now, Seq: 10}
	from, to := now.Add(-time.Hour), now
	return map[string]audittrail.RecordFilter{
		"All":              {},
		"After":            {After: after},
		"FromTo":           {From: &from, To: &to},
		"ObjectType":       {ObjectTypes: []string{"users"}, After: after},
		"ActionType":       {ActionTypes: []string{"add"}, After: after},
		"Element":          {Element: "Name", After: after},
		"ObjectName":       {ObjectName: "Alice", After: after},
		"ObjectID":         {ObjectID: "u1", After: after},
		"OriginatorName":   {Originator: "Ann", After: after},
		"Originators":      {Originators: []string{"Ann", "7"}, After: after},
		"ExcludeLPA":       {ExcludeLPA: true, ExcludeAutomatic: true, After: after},
		"Query":            {Query: "x", After: after},
		"LiveEngageFilter": {ObjectTypes: []string{"users", "skills"}, Originators: []string{"Ann"}, ExcludeLPA: true, From: &from},
	}
}

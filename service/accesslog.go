package service

import (
	"context"
	"net/url"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/audittrail/audittrail"
)

// The access log (SPEC §11): every read of an account's trail is written
// down before its answer goes out, through logged, the one seam every read
// operation of the service passes. An entry that cannot be written fails
// the read with EUNAVAILABLE: there is no unlogged read.

// accessWriteTimeout bounds how long a read waits for its entry to be
// written before it fails.
const accessWriteTimeout = 10 * time.Second

// reading is what a read operation says about itself for its entry.
type reading struct {
	account string
	action  string
	format  string
	filters map[string]string
}

// logged runs a read of the account's trail as p: it authorizes p as a
// viewer, runs fn, which returns how many records its answer holds, and
// writes the entry, whatever fn's outcome. A refused read is logged too
// (SPEC §11: status ≥ 400 after authentication), except a credential of
// another account's, whose reads an account never learns of (isolation:
// to that caller the account does not exist). It returns fn's error, or
// EUNAVAILABLE when the entry could not be written.
func (s *Service) logged(ctx context.Context, p *audittrail.Principal, rd reading, fn func() (int, error)) error {
	err := Authorize(p, Viewer, rd.account)
	n := 0
	if err == nil {
		n, err = fn()
	}
	if p == nil || (p.AccountID != "" && p.AccountID != rd.account) || audittrail.ErrorCode(err) == audittrail.EUNAUTHENTICATED {
		return err
	}
	if p.AccountID == "" { // the operator or the CLI, who may name any account
		if _, ferr := s.store.FindAccount(ctx, rd.account); ferr != nil {
			return err // no such account: nothing to log it in
		}
	}
	e := &audittrail.AccessEntry{
		AccountID: rd.account,
		At:        s.now(),
		Actor:     actorOf(p),
		Action:    rd.action,
		Format:    rd.format,
		Filters:   rd.filters,
		Records:   n,
		Status:    200,
		IP:        p.IP,
		UserAgent: audittrail.Clip(p.UserAgent),
	}
	if err != nil {
		e.Status = audittrail.ErrorStatus(audittrail.ErrorCode(err))
	}
	cleanEntry(e)
	if werr := s.access.write(ctx, e); werr != nil {
		s.logger.Error("access log: entry not written; the read is refused", "account", rd.account, "action", rd.action, "error", werr.Error())
		return &unloggedError{cause: werr}
	}
	return err
}

// cleanEntry makes every text of e storable by any backend, whatever a
// caller sent: valid UTF-8 without NUL (PostgreSQL's text holds none),
// each clipped.
func cleanEntry(e *audittrail.AccessEntry) {
	clean := func(s string) string {
		return audittrail.Clip(strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD"))
	}
	e.IP, e.UserAgent = clean(e.IP), clean(e.UserAgent)
	filters := make(map[string]string, len(e.Filters))
	for k, v := range e.Filters {
		filters[clean(k)] = clean(v)
	}
	e.Filters = filters
}

// unloggedError is the EUNAVAILABLE of a read whose entry could not be
// written; it wraps the cause, which the caller is not shown.
type unloggedError struct{ cause error }

func (e *unloggedError) Error() string { return "access log: " + e.cause.Error() }
func (e *unloggedError) Unwrap() []error {
	return []error{audittrail.Errorf(audittrail.EUNAVAILABLE, "the read could not be recorded in the access log, so it was refused; try again shortly"), e.cause}
}

// RefuseRead logs a read of the account's trail that a front end refused
// before it could call the operation (query parameters it could not
// read), and returns err, or EUNAVAILABLE when it could not be logged.
func (s *Service) RefuseRead(ctx context.Context, p *audittrail.Principal, accountID, action, format string, q url.Values, err error) error {
	return s.logged(ctx, p, reading{account: accountID, action: action, format: format, filters: givenFilters(q)}, func() (int, error) {
		return 0, err
	})
}

// actorOf returns who p is, for the access log.
func actorOf(p *audittrail.Principal) audittrail.AccessActor {
	switch {
	case p.Kind == audittrail.PrincipalUser && p.User != nil:
		return audittrail.AccessActor{Kind: audittrail.ActorUser, ID: p.User.ID, LoginName: p.User.LoginName, Name: p.User.Name}
	case p.Kind == audittrail.PrincipalPublisher && p.Key != nil:
		return audittrail.AccessActor{Kind: audittrail.ActorPublisherKey, ID: p.Key.ID, Name: p.Key.Name}
	case p.Kind == audittrail.PrincipalOperator:
		return audittrail.AccessActor{Kind: audittrail.ActorOperator, ID: "operator", Name: "Operator"}
	case p.Kind == audittrail.PrincipalLocal:
		name := localUser()
		return audittrail.AccessActor{Kind: audittrail.ActorCLI, ID: name, LoginName: name, Name: "audittrail CLI (" + name + ")"}
	}
	return audittrail.AccessActor{Kind: p.Kind}
}

// localUser is the operating system's name of the user running the CLI.
var localUser = sync.OnceValue(func() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
})

// givenFilters returns query values as an entry's filters: each name with
// its values joined by commas, each value clipped.
func givenFilters(q url.Values) map[string]string {
	m := make(map[string]string, len(q))
	for name, vs := range q {
		if len(m) == 32 {
			break
		}
		m[audittrail.Clip(name)] = audittrail.Clip(strings.Join(vs, ","))
	}
	return m
}

// GivenFilters returns the filters of f as given, under the API's names,
// before the service clamps f to the retention window.
func GivenFilters(f audittrail.RecordFilter) map[string]string {
	m := map[string]string{}
	set := func(name, v string) {
		if v != "" {
			m[name] = audittrail.Clip(v)
		}
	}
	if f.From != nil {
		set("from", audittrail.FormatTime(*f.From))
	}
	if f.To != nil {
		set("to", audittrail.FormatTime(*f.To))
	}
	set("object_type", strings.Join(f.ObjectTypes, ","))
	set("action_type", strings.Join(f.ActionTypes, ","))
	set("element", f.Element)
	set("object_name", f.ObjectName)
	set("object_id", f.ObjectID)
	set("originator", f.Originator)
	set("originators", strings.Join(f.Originators, ","))
	set("q", f.Query)
	if f.ExcludeLPA {
		set("exclude_lpa", "true")
	}
	if f.ExcludeAutomatic {
		set("exclude_automatic", "true")
	}
	if f.After != nil {
		set("cursor", f.After.String())
	}
	return m
}

// accessWriter writes access entries by group commit: a read hands its
// entry over and waits; whichever entries arrive while one transaction is
// being written go together in the next, so that many concurrent reads
// share one durable commit instead of each paying its own.
type accessWriter struct {
	store audittrail.Store

	mu       sync.Mutex
	pending  []pendingEntry
	flushing bool
}

type pendingEntry struct {
	e    *audittrail.AccessEntry
	done chan error
}

// maxAccessBatch bounds the entries of one transaction.
const maxAccessBatch = 512

// write appends e durably, with the entries of the reads running beside it.
func (w *accessWriter) write(ctx context.Context, e *audittrail.AccessEntry) error {
	done := make(chan error, 1)
	w.mu.Lock()
	w.pending = append(w.pending, pendingEntry{e, done})
	if !w.flushing {
		w.flushing = true
		go w.flush()
	}
	w.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// The entry may yet be written; the read fails all the same.
		return ctx.Err()
	}
}

// flush writes the pending entries, a batch at a time, until none are left.
func (w *accessWriter) flush() {
	for {
		w.mu.Lock()
		batch := w.pending[:min(len(w.pending), maxAccessBatch)]
		w.pending = w.pending[len(batch):]
		if len(batch) == 0 {
			w.flushing = false
			w.pending = nil
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		entries := make([]*audittrail.AccessEntry, len(batch))
		for i, p := range batch {
			entries[i] = p.e
		}
		ctx, cancel := context.WithTimeout(context.Background(), accessWriteTimeout)
		err := w.store.AppendAccess(ctx, entries)
		cancel()
		for _, p := range batch {
			p.done <- err
		}
	}
}

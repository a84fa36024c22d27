package store

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/audittrail/audittrail"
)

// Ensure Store implements the store interface.
var _ audittrail.Store = (*Store)(nil)

const (
	// iteratePage is how many records IterateRecords reads per transaction.
	iteratePage = 256
	// seqPage is how many records IterateRecordsBySeq reads per transaction.
	seqPage = 1024
)

// Store is the storage of the service over a Backend (see the package
// documentation). It is safe for concurrent use.
type Store struct {
	b audittrail.Backend

	mu      sync.Mutex
	subs    map[int]func(audittrail.Commit)
	nextSub int
	// listening is set while the loop that hears the other processes'
	// commits runs (a CommitListener backend with subscribers).
	stopListen context.CancelFunc
	listenDone chan struct{}
	closed     bool
}

// New returns the Store over b. Close closes b.
func New(b audittrail.Backend) *Store {
	return &Store{b: b, subs: map[int]func(audittrail.Commit){}}
}

// Backend returns the backend the store was built over, for what only a
// backend does (a backend's statistics, its maintenance).
func (s *Store) Backend() audittrail.Backend { return s.b }

// view returns what fn reads in a read transaction of s's backend.
func view[T any](ctx context.Context, s *Store, fn func(audittrail.Tx) (T, error)) (v T, err error) {
	err = s.b.View(ctx, func(t audittrail.Tx) error {
		v, err = fn(t)
		return err
	})
	return v, err
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(audittrail.Tx) error) error {
	return s.b.View(ctx, func(t audittrail.Tx) error { return fn(tx{t}) })
}

// Change runs fn in a write transaction holding the account's lock and
// appends the records fn returns, dated by the transaction's clock, when
// the account's audit trail is on before fn or after it: turning the trail
// off is recorded (judged by the state before), turning it on too (by the
// state after); nothing is recorded while it stays off. The audit records
// are not subject to CheckAppend. fn may run more than once (a backend
// retries a transaction that met a deadlock), so it must only read and
// write through tx. Returns fn's error, ENOTFOUND for an unknown account.
func (s *Store) Change(ctx context.Context, accountID string, fn func(audittrail.Tx) ([]audittrail.Entry, error)) error {
	var c audittrail.Commit
	err := s.b.Update(ctx, func(btx audittrail.Tx) error {
		c = audittrail.Commit{}
		t := tx{btx}
		before, head, err := t.LockAccount(accountID)
		if err != nil {
			return err
		}
		entries, err := fn(t)
		if err != nil || len(entries) == 0 {
			return err
		}
		after, err := t.FindAccount(accountID)
		if err != nil {
			return err
		}
		if !before.AuditTrailEnabled && !after.AuditTrailEnabled {
			return nil
		}
		now := t.Now()
		rows, err := newRecordRows(accountID, entries, &now)
		if err != nil {
			return err
		}
		_, c, err = appendRecords(btx, accountID, head, entries, rows)
		return err
	})
	if err != nil {
		return err
	}
	s.announce(c)
	return nil
}

// CreateAccount stores a, its profiles and its first administrator (admin
// may be nil) in one transaction, setting the AccountID of the profiles and
// of admin, their ids when empty, and their created times (see Tx). The
// default timezone is UTC; an account created enabled is enabled as of now.
// Returns EALREADYEXISTS if the id is taken.
func (s *Store) CreateAccount(ctx context.Context, a *audittrail.Account, profiles []*audittrail.Profile, admin *audittrail.User) error {
	return s.b.Update(ctx, func(btx audittrail.Tx) error {
		t := tx{btx}
		if err := t.CreateAccount(a); err != nil {
			return err
		}
		for _, p := range profiles {
			p.AccountID = a.ID
			if err := t.CreateProfile(p); err != nil {
				return err
			}
		}
		if admin == nil {
			return nil
		}
		admin.AccountID = a.ID
		return t.CreateUser(admin)
	})
}

// FindAccount returns ENOTFOUND if the account does not exist.
func (s *Store) FindAccount(ctx context.Context, id string) (*audittrail.Account, error) {
	return view(ctx, s, func(t audittrail.Tx) (*audittrail.Account, error) { return t.FindAccount(id) })
}

// FindAccountIDs returns the ids of all accounts, in order.
func (s *Store) FindAccountIDs(ctx context.Context) ([]string, error) {
	return view(ctx, s, audittrail.Tx.FindAccountIDs)
}

// Authenticate returns the principal behind a credential hash (see
// audittrail.CredentialTx). Returns EUNAUTHENTICATED.
func (s *Store) Authenticate(ctx context.Context, hash []byte) (*audittrail.Principal, error) {
	return view(ctx, s, func(t audittrail.Tx) (*audittrail.Principal, error) { return t.Authenticate(hash) })
}

// FindRecords returns at most f.Limit records matching f (DefaultLimit when
// f.Limit <= 0), newest first by (date, seq), starting after f.After.
func (s *Store) FindRecords(ctx context.Context, f audittrail.RecordFilter) (rs []*audittrail.Record, err error) {
	if f.Limit <= 0 {
		f.Limit = audittrail.DefaultLimit
	}
	err = s.b.View(ctx, func(t audittrail.Tx) error {
		rs = make([]*audittrail.Record, 0, min(f.Limit, 256))
		return t.FindRecords(f, func(r *audittrail.Record) error {
			rs = append(rs, r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// CountRecords counts the records matching f (Limit and After ignored).
func (s *Store) CountRecords(ctx context.Context, f audittrail.RecordFilter) (int, error) {
	f.After, f.Limit = nil, 0
	return view(ctx, s, func(t audittrail.Tx) (int, error) { return t.CountRecords(f) })
}

// FindRecord returns ENOTFOUND.
func (s *Store) FindRecord(ctx context.Context, accountID, id string) (*audittrail.Record, error) {
	return view(ctx, s, func(t audittrail.Tx) (*audittrail.Record, error) { return t.FindRecord(accountID, id) })
}

// IterateRecords calls fn with every record matching f, newest first by
// (date, seq), starting after f.After; f.Limit is ignored. It reads a page
// of records at a time, each in its own read transaction, and calls fn once
// the page is read: memory stays bounded by a page, and a slow fn (an export
// to a slow client) holds neither a connection nor a snapshot. Like paging
// with a cursor, it never repeats or skips a record that was there when it
// started, even while new records arrive. It stops at, and returns, the
// first error of fn or of ctx.
func (s *Store) IterateRecords(ctx context.Context, f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	f.Limit = iteratePage
	return s.paged(ctx, iteratePage, func(t audittrail.Tx, last *audittrail.Record, page func(*audittrail.Record) error) error {
		if last != nil {
			f.After = audittrail.CursorOf(last)
		}
		return t.FindRecords(f, page)
	}, fn)
}

// IterateRecordsBySeq calls fn with every stored record of the account in
// seq order, whatever its date, a page per read transaction.
func (s *Store) IterateRecordsBySeq(ctx context.Context, accountID string, fn func(*audittrail.Record) error) error {
	return s.paged(ctx, seqPage, func(t audittrail.Tx, last *audittrail.Record, page func(*audittrail.Record) error) error {
		from := int64(0)
		if last != nil {
			from = last.Seq + 1
		}
		return t.FindRecordsBySeq(accountID, from, math.MaxInt64, seqPage, page)
	}, fn)
}

// paged calls fn with every record that read gives, reading pages of at
// most size records, each in its own read transaction, and calling fn
// between them. read reads the page after last, the last record of the
// page before (nil for the first page). It stops at, and returns, the first
// error of fn or of a read.
func (s *Store) paged(ctx context.Context, size int, read func(t audittrail.Tx, last *audittrail.Record, page func(*audittrail.Record) error) error, fn func(*audittrail.Record) error) error {
	page := make([]*audittrail.Record, 0, size)
	var last *audittrail.Record
	for {
		err := s.b.View(ctx, func(t audittrail.Tx) error {
			page = page[:0]
			return read(t, last, func(r *audittrail.Record) error {
				page = append(page, r)
				return nil
			})
		})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < size {
			return nil
		}
		last = page[len(page)-1]
	}
}

// TreeHead returns the size and compact range of the account's tree.
// Returns ENOTFOUND.
func (s *Store) TreeHead(ctx context.Context, accountID string) (size uint64, hashes [][]byte, err error) {
	err = s.b.View(ctx, func(t audittrail.Tx) error {
		head, err := t.FindLogHead(accountID)
		size, hashes = head.TreeSize, head.TreeHashes
		return err
	})
	return size, hashes, err
}

// TreeNodes returns the hashes of the given nodes, in order. Returns
// ENOTFOUND when one is not stored.
func (s *Store) TreeNodes(ctx context.Context, accountID string, ids []audittrail.NodeID) ([][]byte, error) {
	return view(ctx, s, func(t audittrail.Tx) ([][]byte, error) { return t.TreeNodes(accountID, ids) })
}

// LeafHashes returns the stored leaf hashes of the account by seq, and the
// seqs the retention purge removed.
func (s *Store) LeafHashes(ctx context.Context, accountID string) (leaves [][]byte, purged map[int64]bool, err error) {
	err = s.b.View(ctx, func(t audittrail.Tx) error {
		leaves, purged, err = t.LeafHashes(accountID)
		return err
	})
	return leaves, purged, err
}

// AddCheckpoint stores a signed checkpoint, setting its created time to the
// transaction's clock. The checkpoints of an account only grow: holding the
// account's lock, it refuses with ECONFLICT a checkpoint of a smaller tree
// than the newest stored, which another signer stored meanwhile. A
// checkpoint of the same size is stored (a quiet tree is signed again once
// its newest checkpoint is old). Returns ENOTFOUND, ECONFLICT.
func (s *Store) AddCheckpoint(ctx context.Context, cp *audittrail.Checkpoint) error {
	return s.b.Update(ctx, func(t audittrail.Tx) error {
		if _, _, err := t.LockAccount(cp.AccountID); err != nil {
			return err
		}
		newest, err := t.LatestCheckpoint(cp.AccountID)
		if err == nil && newest.TreeSize > cp.TreeSize {
			return audittrail.Errorf(audittrail.ECONFLICT, "a checkpoint of a larger tree (size %d) is already stored for account %s; checkpoints only grow", newest.TreeSize, cp.AccountID)
		} else if err != nil && audittrail.ErrorCode(err) != audittrail.ENOTFOUND {
			return err
		}
		cp.CreatedAt = t.Now()
		return t.InsertCheckpoint(cp)
	})
}

// LatestCheckpoint returns the newest checkpoint of the account; ENOTFOUND
// if none.
func (s *Store) LatestCheckpoint(ctx context.Context, accountID string) (*audittrail.Checkpoint, error) {
	return view(ctx, s, func(t audittrail.Tx) (*audittrail.Checkpoint, error) { return t.LatestCheckpoint(accountID) })
}

// FindCheckpoints returns every checkpoint of the account, oldest first.
func (s *Store) FindCheckpoints(ctx context.Context, accountID string) ([]*audittrail.Checkpoint, error) {
	return view(ctx, s, func(t audittrail.Tx) ([]*audittrail.Checkpoint, error) { return t.FindCheckpoints(accountID) })
}

// PurgeRecords removes the records of every account dated before cutoff,
// the backend's way (see Backend.PurgeRecords).
func (s *Store) PurgeRecords(ctx context.Context, cutoff time.Time) (int, error) {
	return s.b.PurgeRecords(ctx, cutoff)
}

// Ping reports whether the storage can be reached and written.
func (s *Store) Ping(ctx context.Context) error { return s.b.Ping(ctx) }

// Close stops hearing other processes' commits and closes the backend.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	stop, done := s.stopListen, s.listenDone
	s.stopListen = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	return s.b.Close()
}

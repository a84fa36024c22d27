package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/audittrail/audittrail"
)

// Subscribe calls fn after each transaction that made records durable (an
// append, or the audit of a change), with the account and the seqs it
// committed, until the returned function is called. fn runs on the
// committing goroutine, after the commit, and must not block. Over a
// backend that several processes share (audittrail.CommitListener), the
// other processes' commits are heard too, on the listening goroutine, while
// the store has subscribers; each commit is announced once.
func (s *Store) Subscribe(fn func(audittrail.Commit)) (unsubscribe func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = fn
	if l, ok := s.b.(audittrail.CommitListener); ok && s.stopListen == nil && !s.closed {
		ctx, stop := context.WithCancel(context.Background())
		s.stopListen, s.listenDone = stop, make(chan struct{})
		go s.listen(ctx, l, s.listenDone)
	}
	return func() {
		s.mu.Lock()
		delete(s.subs, id)
		s.mu.Unlock()
	}
}

// announce calls the subscribers with c, unless c committed nothing.
func (s *Store) announce(c audittrail.Commit) {
	if c.EndSeq <= c.FirstSeq {
		return
	}
	s.mu.Lock()
	fns := make([]func(audittrail.Commit), 0, len(s.subs))
	for _, fn := range s.subs {
		fns = append(fns, fn)
	}
	s.mu.Unlock()
	for _, fn := range fns {
		fn(c)
	}
}

// listenRetry bounds the wait before listening again after the listening
// connection failed.
const listenRetry = 10 * time.Second

// listen hears the commits of the other processes until ctx ends, listening
// again after a failure, with a backoff.
func (s *Store) listen(ctx context.Context, l audittrail.CommitListener, done chan struct{}) {
	defer close(done)
	wait := 100 * time.Millisecond
	for {
		start := time.Now()
		err := l.ListenCommits(ctx, s.announce)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > listenRetry {
			wait = 100 * time.Millisecond
		}
		slog.Default().Warn("store: listening for the commits of other processes failed; listening again", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetry)
	}
}

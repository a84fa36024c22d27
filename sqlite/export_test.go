package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// RecordQuery exposes the query of a page of records, to check its plan.
var RecordQuery = recordQuery

// Pragma returns the value of a pragma on the write connection (write true)
// or on a connection of the read pool.
func (db *DB) Pragma(name string, write bool) (v string, err error) {
	q := fmt.Sprintf("PRAGMA %s", name)
	if write {
		err = db.write(context.Background(), func(tx *txn) error { return tx.queryRow(q).Scan(&v) })
	} else {
		err = db.read(context.Background(), func(tx *txn) error { return tx.queryRow(q).Scan(&v) })
	}
	return v, err
}

// Block holds the writer busy until release is called, so that the writes
// submitted meanwhile wait for it and go in the next batch.
func (db *DB) Block() (release func()) {
	started, done := make(chan struct{}), make(chan struct{})
	go db.write(context.Background(), func(tx *txn) error {
		close(started)
		<-done
		return nil
	})
	<-started
	return func() { close(done) }
}

// WaitForWriters waits until n writes are waiting for the writer held by
// Block: n goroutines blocked in write's select, as their stacks show. It
// lets a test release the writer once they all wait, whatever the time they
// take to get there, rather than after a sleep. (The tests of this package
// are not parallel: the writes waiting are the test's.)
func WaitForWriters(tb testing.TB, n int) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		buf := make([]byte, 1<<20)
		for {
			if m := runtime.Stack(buf, true); m < len(buf) {
				buf = buf[:m]
				break
			}
			buf = make([]byte, 2*len(buf))
		}
		waiting := 0
		for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
			if bytes.Contains(g, []byte(" [select")) && bytes.Contains(g, []byte("sqlite.(*DB).write(")) {
				waiting++
			}
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("writes waiting for the writer: got %d after a minute, want %d", waiting, n)
		}
		time.Sleep(time.Millisecond)
	}
}

package sqlite

import (
	"context"
	"fmt"
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

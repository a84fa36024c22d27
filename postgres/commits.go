package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/audittrail/audittrail"
	"github.com/jackc/pgx/v5"
)

// commitChannel is the channel of NOTIFY on which the replicas announce the
// records they commit.
const commitChannel = "audittrail_commits"

// announcement is the payload of a notification on commitChannel.
type announcement struct {
	Instance  string `json:"i"` // the DB that committed (DB.instance)
	Schema    string `json:"s"` // its schema
	AccountID string `json:"a"`
	FirstSeq  int64  `json:"f"`
	EndSeq    int64  `json:"e"`
}

// AnnounceCommit notifies commitChannel of c in the transaction:
// PostgreSQL delivers the notification to the listeners when, and only if,
// the transaction commits.
func (tx *txn) AnnounceCommit(c audittrail.Commit) error {
	payload, err := json.Marshal(announcement{Instance: tx.db.instance, Schema: tx.db.schema, AccountID: c.AccountID, FirstSeq: c.FirstSeq, EndSeq: c.EndSeq})
	if err != nil {
		return err
	}
	_, err = tx.exec(`SELECT pg_notify('`+commitChannel+`', $1)`, string(payload))
	return err
}

// ListenCommits listens on commitChannel, on a connection of its own
// (outside the pool), and calls fn with each commit announced by another
// DB on the same schema, until ctx ends or the connection fails. Its own
// announcements are left out: the Store announced them already, when they
// committed.
func (db *DB) ListenCommits(ctx context.Context, fn func(audittrail.Commit)) error {
	if db.pool == nil || db.closed.Load() {
		return errClosed
	}
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return driverError(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+commitChannel); err != nil {
		return driverError(err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return driverError(err)
		}
		var a announcement
		if err := json.Unmarshal([]byte(n.Payload), &a); err != nil {
			return fmt.Errorf("postgres: notification on %s: %w", commitChannel, err)
		}
		if a.Instance != db.instance && a.Schema == db.schema {
			fn(audittrail.Commit{AccountID: a.AccountID, FirstSeq: a.FirstSeq, EndSeq: a.EndSeq})
		}
	}
}

package benchkit

import (
	"database/sql"
	"fmt"

	"github.com/audittrail/audittrail/sqlite"
)

// The raw baselines run the store's own SQL on the store's file, with the
// store's pragmas (sqlite.DSN), on a database/sql connection of their own.

// OpenRaw opens a database/sql pool of one connection on the store's file
// at path, with the store's pragmas, and checks that they took.
func OpenRaw(path string, readOnly bool) (*sql.DB, error) {
	db, err := sql.Open("sqlite", sqlite.DSN(path, readOnly))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	var mode string
	var sync int
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil {
		db.Close()
		return nil, err
	}
	if mode != "wal" || sync != 2 {
		db.Close()
		return nil, fmt.Errorf("raw connection: journal_mode %s, synchronous %d; want wal, 2 (FULL)", mode, sync)
	}
	return db, nil
}

// RecordColumns are the columns the store reads of a record (a copy of
// sqlite/record.go's), so that a raw query reads what the store reads.
const RecordColumns = `account_id, seq, id, change_id, object_type, object_id, object_name, action_type, element,
	old_value, new_value, date, originator, automatic, received_at, source`

// RawRecord holds the RecordColumns of a row, in the store's column types.
type RawRecord struct {
	Account, ID, ChangeID, ObjectType, ObjectID, ObjectName, ActionType, Element string
	OldValue, NewValue, Originator, Source                                       string
	Seq, Date, ReceivedAt                                                        int64
	Automatic                                                                    bool
}

// Scan reads the current row of rows, selected with RecordColumns.
func (c *RawRecord) Scan(rows *sql.Rows) error {
	return rows.Scan(&c.Account, &c.Seq, &c.ID, &c.ChangeID, &c.ObjectType, &c.ObjectID, &c.ObjectName, &c.ActionType, &c.Element,
		&c.OldValue, &c.NewValue, &c.Date, &c.Originator, &c.Automatic, &c.ReceivedAt, &c.Source)
}

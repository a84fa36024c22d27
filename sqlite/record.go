package sqlite

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/txkit"
)

// InsertRecords inserts rows, by one prepared statement run per row.
func (tx *txn) InsertRecords(rows []audittrail.RecordRow) error {
	for _, row := range rows {
		r := row.Record
		if _, err := tx.exec(insertRecord, r.AccountID, r.Seq, r.ID, r.ChangeID, r.ObjectType, r.ObjectID, r.ObjectName, r.ActionType, r.Element,
			r.OldValue, r.NewValue, ms(r.Date), r.Originator.ID, r.Originator.Name, row.Originator, r.Automatic, ms(r.ReceivedAt), r.Source,
			row.SearchText); err != nil {
			return err
		}
	}
	return nil
}

const insertRecord = `
	INSERT INTO records (account_id, seq, id, change_id, object_type, object_id, object_name, action_type, element,
		old_value, new_value, date, originator_id, originator_name, originator, automatic, received_at, source, search_text)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// CountRecords counts the records matching f (Limit and After ignored).
func (tx *txn) CountRecords(f audittrail.RecordFilter) (n int, err error) {
	f.After = nil
	where, args := RecordWhere(f)
	err = tx.queryRow(`SELECT COUNT(*) FROM records WHERE `+where, args...).Scan(&n)
	return n, err
}

// FindRecord returns ENOTFOUND.
func (tx *txn) FindRecord(accountID, id string) (*audittrail.Record, error) {
	var r audittrail.Record
	if err := scanRecordInto(tx.queryRow(`SELECT `+recordColumns+` FROM records WHERE account_id = ? AND id = ?`, accountID, id), &r); err != nil {
		return nil, translate(err, txkit.RecordNotFound(id), "")
	}
	return &r, nil
}

// FindRecordsBySeq calls fn with the stored records of the account whose
// seq is in [from, to), in seq order, at most limit of them.
func (tx *txn) FindRecordsBySeq(accountID string, from, to int64, limit int, fn func(*audittrail.Record) error) error {
	return tx.queryRecords(limit, fn, `SELECT `+recordColumns+` FROM records WHERE account_id = ? AND seq >= ? AND seq < ? ORDER BY seq LIMIT ?`,
		accountID, from, to, limit)
}

// FindIdempotencyKeys returns the stored keys among keys, by key, read by
// one statement whatever their number (the keys go as one JSON array).
func (tx *txn) FindIdempotencyKeys(accountID string, keys []string) (map[string]audittrail.IdempotencyKey, error) {
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	found, err := collect(tx, func(row scanner) (k audittrail.IdempotencyKey, err error) {
		return k, row.Scan(&k.Key, &k.Fingerprint, &k.FirstSeq, &k.Count)
	}, `SELECT key, fingerprint, first_seq, count FROM idempotency WHERE account_id = ? AND key IN (SELECT value FROM json_each(?))`,
		accountID, string(list))
	if err != nil {
		return nil, err
	}
	m := make(map[string]audittrail.IdempotencyKey, len(found))
	for _, k := range found {
		m[k.Key] = k
	}
	return m, nil
}

// InsertIdempotencyKeys stores keys.
func (tx *txn) InsertIdempotencyKeys(accountID string, keys []audittrail.IdempotencyKey) error {
	for _, k := range keys {
		if _, err := tx.exec(`INSERT INTO idempotency (account_id, key, fingerprint, first_seq, count) VALUES (?, ?, ?, ?, ?)`,
			accountID, k.Key, k.Fingerprint, k.FirstSeq, k.Count); err != nil {
			return err
		}
	}
	return nil
}

// RecordWhere returns the WHERE clause that selects the records of f, and
// its arguments: the one place that turns a filter into SQL, for listing,
// counting and iterating alike. Its first condition is always the account.
// It is exported for the raw baselines of the benchmarks (cmd/atbench),
// which run the very SQL the backend runs.
func RecordWhere(f audittrail.RecordFilter) (string, []any) {
	where, args := []string{"account_id = ?"}, []any{f.AccountID}
	if f.From != nil {
		where, args = append(where, "date >= ?"), append(args, ms(*f.From))
	}
	if f.To != nil {
		where, args = append(where, "date <= ?"), append(args, ms(*f.To))
	}
	if len(f.ObjectTypes) > 0 {
		where, args = append(where, "object_type IN ("+placeholders(len(f.ObjectTypes))+")"), appendStrings(args, f.ObjectTypes)
	}
	if len(f.ActionTypes) > 0 {
		where, args = append(where, "action_type IN ("+placeholders(len(f.ActionTypes))+")"), appendStrings(args, f.ActionTypes)
	}
	if f.Element != "" {
		where, args = append(where, "element = ?"), append(args, f.Element)
	}
	if f.ObjectName != "" {
		where, args = append(where, "object_name = ?"), append(args, f.ObjectName)
	}
	if f.ObjectID != "" {
		where, args = append(where, "object_id = ?"), append(args, f.ObjectID)
	}
	if f.Originator != "" {
		where, args = append(where, "(originator_id = ? OR originator_name = ?)"), append(args, f.Originator, f.Originator)
	}
	if len(f.Originators) > 0 {
		in := placeholders(len(f.Originators))
		where = append(where, "(originator_id IN ("+in+") OR originator_name IN ("+in+"))")
		args = appendStrings(appendStrings(args, f.Originators), f.Originators)
	}
	if f.ExcludeLPA {
		where = append(where, "json_extract(originator, '$.is_lpa') IS NOT 1")
	}
	if f.ExcludeAutomatic {
		where = append(where, "automatic = 0")
	}
	if f.Query != "" {
		where, args = append(where, "instr(search_text, ?) > 0"), append(args, audittrail.SearchFold(f.Query))
	}
	if f.After != nil {
		// The keyset: the records after the cursor in the newest-first
		// order. The leading "date <= ?" is implied by the rest; it is there
		// so that the index on date bounds the scan.
		d := ms(f.After.Date)
		where = append(where, "date <= ? AND (date < ? OR (date = ? AND seq < ?))")
		args = append(args, d, d, d, f.After.Seq)
	}
	return strings.Join(where, " AND "), args
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func appendStrings(args []any, ss []string) []any {
	for _, s := range ss {
		args = append(args, s)
	}
	return args
}

// recordQuery returns the query of the page of records that f selects.
func recordQuery(f audittrail.RecordFilter) (string, []any) {
	where, args := RecordWhere(f)
	return `SELECT ` + recordColumns + ` FROM records WHERE ` + where + ` ORDER BY date DESC, seq DESC LIMIT ?`, append(args, f.Limit)
}

// FindRecords calls fn with each record of the page that f selects
// (f.Limit of them at most), newest first by (date, seq), starting after
// f.After.
func (tx *txn) FindRecords(f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	query, args := recordQuery(f)
	return tx.queryRecords(f.Limit, fn, query, args...)
}

// queryRecords calls fn with each record that query selects, at most limit
// of them, allocated a few at a time.
func (tx *txn) queryRecords(limit int, fn func(*audittrail.Record) error, query string, args ...any) error {
	rows, err := tx.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var slab []audittrail.Record
	return txkit.EachRecord(rows, func() (*audittrail.Record, error) {
		if len(slab) == 0 {
			slab = make([]audittrail.Record, min(limit, 32))
		}
		r := &slab[0]
		slab = slab[1:]
		return r, scanRecordInto(rows, r)
	}, fn)
}

const recordColumns = `account_id, seq, id, change_id, object_type, object_id, object_name, action_type, element,
	old_value, new_value, date, originator, automatic, received_at, source`

// scanRecordInto scans a row of recordColumns into r, which must be zero.
func scanRecordInto(row scanner, r *audittrail.Record) error {
	var originator string
	var date, receivedAt int64
	if err := row.Scan(&r.AccountID, &r.Seq, &r.ID, &r.ChangeID, &r.ObjectType, &r.ObjectID, &r.ObjectName, &r.ActionType, &r.Element,
		&r.OldValue, &r.NewValue, &date, &originator, &r.Automatic, &receivedAt, &r.Source); err != nil {
		return err
	}
	if err := audittrail.DecodeOriginator(originator, &r.Originator); err != nil {
		return fmt.Errorf("record %s: originator: %w", r.ID, err)
	}
	r.Date, r.ReceivedAt = fromMS(date), fromMS(receivedAt)
	return nil
}

package postgres

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/txkit"
	"github.com/jackc/pgx/v5"
)

// InsertRecords inserts rows by one COPY.
func (tx *txn) InsertRecords(rows []audittrail.RecordRow) error {
	copyRows := make([][]any, len(rows))
	for i, row := range rows {
		r := row.Record
		copyRows[i] = []any{r.AccountID, r.Seq, r.ID, r.ChangeID, r.ObjectType, r.ObjectID, r.ObjectName, r.ActionType,
			r.Element, r.OldValue, r.NewValue, r.Date, r.Originator.ID, r.Originator.Name, row.Originator, r.Automatic, r.ReceivedAt,
			r.Source, row.SearchText}
	}
	_, err := tx.q.CopyFrom(tx.ctx, pgx.Identifier{"records"}, recordCopyColumns, pgx.CopyFromRows(copyRows))
	return err
}

var recordCopyColumns = []string{"account_id", "seq", "id", "change_id", "object_type", "object_id", "object_name", "action_type",
	"element", "old_value", "new_value", "date", "originator_id", "originator_name", "originator", "automatic", "received_at",
	"source", "search_text"}

// CountRecords counts the records matching f (Limit and After ignored).
func (tx *txn) CountRecords(f audittrail.RecordFilter) (n int, err error) {
	f.After = nil
	where, args := recordWhere(f)
	err = tx.queryRow(`SELECT count(*) FROM records WHERE `+where, args...).Scan(&n)
	return n, err
}

// FindRecord returns ENOTFOUND.
func (tx *txn) FindRecord(accountID, id string) (*audittrail.Record, error) {
	r, err := scanRecord(tx.queryRow(`SELECT `+recordColumns+` FROM records WHERE account_id = $1 AND id = $2`, accountID, id))
	return r, translate(err, txkit.RecordNotFound(id), "")
}

// FindRecordsBySeq calls fn with the stored records of the account whose
// seq is in [from, to), in seq order, at most limit of them.
func (tx *txn) FindRecordsBySeq(accountID string, from, to int64, limit int, fn func(*audittrail.Record) error) error {
	return tx.queryRecords(fn, `SELECT `+recordColumns+` FROM records WHERE account_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq LIMIT $4`,
		accountID, from, to, limit)
}

// FindIdempotencyKeys returns the stored keys among keys, by key, read by
// one statement.
func (tx *txn) FindIdempotencyKeys(accountID string, keys []string) (map[string]audittrail.IdempotencyKey, error) {
	rows, err := tx.query(`SELECT key, fingerprint, first_seq, count FROM idempotency WHERE account_id = $1 AND key = ANY($2)`, accountID, keys)
	if err != nil {
		return nil, err
	}
	found := map[string]audittrail.IdempotencyKey{}
	var k audittrail.IdempotencyKey
	_, err = pgx.ForEachRow(rows, []any{&k.Key, &k.Fingerprint, &k.FirstSeq, &k.Count}, func() error {
		found[k.Key] = k
		return nil
	})
	return found, err
}

// InsertIdempotencyKeys stores keys by one COPY.
func (tx *txn) InsertIdempotencyKeys(accountID string, keys []audittrail.IdempotencyKey) error {
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{accountID, k.Key, k.Fingerprint, k.FirstSeq, k.Count}
	}
	_, err := tx.q.CopyFrom(tx.ctx, pgx.Identifier{"idempotency"}, []string{"account_id", "key", "fingerprint", "first_seq", "count"},
		pgx.CopyFromRows(rows))
	return err
}

// recordWhere returns the WHERE clause that selects the records of f, and
// its arguments: the one place that turns a filter into SQL, for listing,
// counting and iterating alike. Its first condition is always the account.
func recordWhere(f audittrail.RecordFilter) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// in matches one value with =, so that the index on (account_id,
	// column, date, seq) serves the order; several with = ANY.
	in := func(column string, values []string) string {
		if len(values) == 1 {
			return column + " = " + arg(values[0])
		}
		return column + " = ANY(" + arg(values) + ")"
	}

	where := []string{"account_id = " + arg(f.AccountID)}
	if f.From != nil {
		where = append(where, "date >= "+arg(audittrail.TruncateTime(*f.From)))
	}
	if f.To != nil {
		where = append(where, "date <= "+arg(audittrail.TruncateTime(*f.To)))
	}
	if len(f.ObjectTypes) > 0 {
		where = append(where, in("object_type", f.ObjectTypes))
	}
	if len(f.ActionTypes) > 0 {
		where = append(where, in("action_type", f.ActionTypes))
	}
	if f.Element != "" {
		where = append(where, "element = "+arg(f.Element))
	}
	if f.ObjectName != "" {
		where = append(where, "object_name = "+arg(f.ObjectName))
	}
	if f.ObjectID != "" {
		where = append(where, "object_id = "+arg(f.ObjectID))
	}
	if f.Originator != "" {
		o := arg(f.Originator)
		where = append(where, "(originator_id = "+o+" OR originator_name = "+o+")")
	}
	if len(f.Originators) > 0 {
		o := arg(f.Originators)
		where = append(where, "(originator_id = ANY("+o+") OR originator_name = ANY("+o+"))")
	}
	if f.ExcludeLPA {
		where = append(where, `NOT (originator @> '{"is_lpa": true}')`)
	}
	if f.ExcludeAutomatic {
		where = append(where, "NOT automatic")
	}
	if f.Query != "" {
		// A substring of the lowercased search text, taken literally:
		// strpos, unlike LIKE, has no wildcards to escape.
		where = append(where, "strpos(search_text, "+arg(audittrail.SearchFold(f.Query))+") > 0")
	}
	if f.After != nil {
		// The keyset: the records after the cursor in the newest-first
		// order, as a row comparison that the index on (account_id, date,
		// seq) bounds. The leading "date <= ?" is implied by it; it is
		// there so that the months after the cursor are pruned.
		d, s := arg(audittrail.TruncateTime(f.After.Date)), arg(f.After.Seq)
		where = append(where, "date <= "+d+" AND (date, seq) < ("+d+", "+s+")")
	}
	return strings.Join(where, " AND "), args
}

// recordQuery returns the query of the page of records that f selects.
func recordQuery(f audittrail.RecordFilter) (string, []any) {
	where, args := recordWhere(f)
	args = append(args, f.Limit)
	return `SELECT ` + recordColumns + ` FROM records WHERE ` + where +
		` ORDER BY date DESC, seq DESC LIMIT $` + strconv.Itoa(len(args)), args
}

// FindRecords calls fn with each record of the page that f selects
// (f.Limit of them at most), newest first by (date, seq), starting after
// f.After.
func (tx *txn) FindRecords(f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	query, args := recordQuery(f)
	return tx.queryRecords(fn, query, args...)
}

// queryRecords calls fn with each record that query selects.
func (tx *txn) queryRecords(fn func(*audittrail.Record) error, query string, args ...any) error {
	rows, err := tx.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return txkit.EachRecord(rows, func() (*audittrail.Record, error) { return scanRecord(rows) }, fn)
}

const recordColumns = `account_id, seq, id, change_id, object_type, object_id, object_name, action_type, element,
	old_value, new_value, date, originator, automatic, received_at, source`

// scanRecord scans a row of recordColumns. The originator comes as jsonb
// prints it, which audittrail.DecodeOriginator reads without reflection.
func scanRecord(row pgx.Row) (*audittrail.Record, error) {
	var r audittrail.Record
	var originator string
	if err := row.Scan(&r.AccountID, &r.Seq, &r.ID, &r.ChangeID, &r.ObjectType, &r.ObjectID, &r.ObjectName, &r.ActionType, &r.Element,
		&r.OldValue, &r.NewValue, &r.Date, &originator, &r.Automatic, &r.ReceivedAt, &r.Source); err != nil {
		return nil, err
	}
	if err := audittrail.DecodeOriginator(originator, &r.Originator); err != nil {
		return nil, fmt.Errorf("record %s: originator: %w", r.ID, err)
	}
	r.Date, r.ReceivedAt = utc(r.Date), utc(r.ReceivedAt)
	return &r, nil
}

package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/audittrail/audittrail"
)

// iteratePage is how many records IterateRecords reads per query.
const iteratePage = 256

// AppendRecords stores the records of entries durably, all or nothing, and
// returns them as stored, in entry order. The records given are not changed:
// the store returns copies with AccountID, ID, Seq (the account's next
// positions, without gaps), ReceivedAt (the store's clock) set and Date cut
// to milliseconds. An entry whose idempotency key was stored before, by this
// call or an earlier one, answers the records first stored when its
// fingerprint matches, else the whole call fails with EIDEMPOTENCYCONFLICT.
// Returns ENOTFOUND, EAUDITTRAILDISABLED, EBEFOREENABLED,
// EIDEMPOTENCYCONFLICT.
func (db *DB) AppendRecords(ctx context.Context, accountID string, entries []audittrail.Entry) (rs []*audittrail.Record, err error) {
	// What does not depend on the account's state is made here, in the
	// caller's goroutine, so that the one writer has less to do.
	rows, err := newRecordRows(accountID, entries)
	if err != nil {
		return nil, err
	}
	err = db.write(ctx, func(tx *txn) error {
		rs, err = appendRecords(tx, accountID, entries, rows, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// FindRecords returns at most f.Limit records matching f (DefaultLimit when
// f.Limit <= 0), newest first by (date, seq), starting after f.After.
func (db *DB) FindRecords(ctx context.Context, f audittrail.RecordFilter) (rs []*audittrail.Record, err error) {
	if f.Limit <= 0 {
		f.Limit = audittrail.DefaultLimit
	}
	rs = make([]*audittrail.Record, 0, min(f.Limit, 256))
	err = db.read(ctx, func(tx *txn) error {
		return findRecords(tx, f, func(r *audittrail.Record) error {
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
func (db *DB) CountRecords(ctx context.Context, f audittrail.RecordFilter) (n int, err error) {
	f.After = nil
	where, args := recordWhere(f)
	err = db.read(ctx, func(tx *txn) error {
		return tx.queryRow(`SELECT COUNT(*) FROM records WHERE `+where, args...).Scan(&n)
	})
	return n, err
}

// FindRecord returns ENOTFOUND.
func (db *DB) FindRecord(ctx context.Context, accountID, id string) (r *audittrail.Record, err error) {
	err = db.read(ctx, func(tx *txn) error {
		r, err = scanRecord(tx.queryRow(`SELECT `+recordColumns+` FROM records WHERE account_id = ? AND id = ?`, accountID, id))
		return translate(err, fmt.Sprintf("record %s not found", id), "")
	})
	return r, err
}

// IterateRecords calls fn with every record matching f, newest first by
// (date, seq), starting after f.After; f.Limit is ignored. It reads a page
// of records at a time, each in its own read transaction, and calls fn once
// the page is read: memory stays bounded by a page, and a slow fn (an export
// to a slow client) holds neither a connection of the read pool nor a
// snapshot of the database. Like paging with a cursor, it never repeats or
// skips a record that was there when it started, even while new records
// arrive. It stops at, and returns, the first error of fn.
func (db *DB) IterateRecords(ctx context.Context, f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	f.Limit = iteratePage
	page := make([]*audittrail.Record, 0, iteratePage)
	for {
		page = page[:0]
		err := db.read(ctx, func(tx *txn) error {
			return findRecords(tx, f, func(r *audittrail.Record) error {
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
		if len(page) < iteratePage {
			return nil
		}
		f.After = audittrail.CursorOf(page[len(page)-1])
	}
}

// recordWhere returns the WHERE clause that selects the records of f, and
// its arguments: the one place that turns a filter into SQL, for listing,
// counting and iterating alike. Its first condition is always the account.
func recordWhere(f audittrail.RecordFilter) (string, []any) {
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
	where, args := recordWhere(f)
	return `SELECT ` + recordColumns + ` FROM records WHERE ` + where + ` ORDER BY date DESC, seq DESC LIMIT ?`, append(args, f.Limit)
}

// findRecords calls fn with each record of the page that f selects.
func findRecords(tx *txn, f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	query, args := recordQuery(f)
	rows, err := tx.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var slab []audittrail.Record // records are allocated a few at a time
	for rows.Next() {
		if len(slab) == 0 {
			slab = make([]audittrail.Record, min(f.Limit, 32))
		}
		r := &slab[0]
		slab = slab[1:]
		if err := scanRecordInto(rows, r); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

const recordColumns = `account_id, seq, id, change_id, object_type, object_id, object_name, action_type, element,
	old_value, new_value, date, originator, automatic, received_at, source`

func scanRecord(row scanner) (*audittrail.Record, error) {
	var r audittrail.Record
	if err := scanRecordInto(row, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// scanRecordInto scans a row of recordColumns into r, which must be zero.
func scanRecordInto(row scanner, r *audittrail.Record) error {
	var originator string
	var date, receivedAt int64
	if err := row.Scan(&r.AccountID, &r.Seq, &r.ID, &r.ChangeID, &r.ObjectType, &r.ObjectID, &r.ObjectName, &r.ActionType, &r.Element,
		&r.OldValue, &r.NewValue, &date, &originator, &r.Automatic, &receivedAt, &r.Source); err != nil {
		return err
	}
	if err := decodeOriginator(originator, &r.Originator); err != nil {
		return fmt.Errorf("record %s: originator: %w", r.ID, err)
	}
	r.Date, r.ReceivedAt = fromMS(date), fromMS(receivedAt)
	return nil
}

// decodeOriginator reads the originator column into o, which must be zero,
// with the outcome of json.Unmarshal. The column holds what json.Marshal
// wrote: an object of the known keys, without spaces. That form, with
// strings that need no unescaping, is read here without reflection, every
// string a substring of s; anything else (an escape, a space, an unknown
// key, a null, invalid UTF-8) goes to json.Unmarshal, so that the result
// never differs from it.
func decodeOriginator(s string, o *audittrail.Originator) error {
	if !decodeOriginatorFast(s, o) {
		*o = audittrail.Originator{}
		return json.Unmarshal([]byte(s), o)
	}
	return nil
}

// decodeOriginatorFast decodes the plain form of s into o and reports
// whether it could.
func decodeOriginatorFast(s string, o *audittrail.Originator) bool {
	// str reads the plain string at s[i:] and returns it and the index after it.
	str := func(i int) (string, int, bool) {
		if i >= len(s) || s[i] != '"' {
			return "", 0, false
		}
		for j := i + 1; j < len(s); j++ {
			switch c := s[j]; {
			case c == '"':
				v := s[i+1 : j]
				return v, j + 1, utf8.ValidString(v)
			case c == '\\' || c < 0x20:
				return "", 0, false
			}
		}
		return "", 0, false
	}
	if len(s) < 2 || s[0] != '{' {
		return false
	}
	i := 1
	if s[i] == '}' {
		return i+1 == len(s)
	}
	for {
		key, j, ok := str(i)
		if !ok || j >= len(s) || s[j] != ':' {
			return false
		}
		i = j + 1
		var field *string
		switch key {
		case "id":
			field = &o.ID
		case "name":
			field = &o.Name
		case "login_name":
			field = &o.LoginName
		case "employee_id":
			field = &o.EmployeeID
		case "user_agent":
			field = &o.UserAgent
		case "auth_type":
			field = &o.AuthType
		case "is_lpa":
			switch {
			case strings.HasPrefix(s[i:], "true"):
				o.IsLPA, i = true, i+4
			case strings.HasPrefix(s[i:], "false"):
				o.IsLPA, i = false, i+5
			default:
				return false
			}
		case "profiles":
			if i >= len(s) || s[i] != '[' {
				return false
			}
			i++
			profiles := []string{}
			for i < len(s) && s[i] != ']' {
				if len(profiles) > 0 {
					if s[i] != ',' {
						return false
					}
					i++
				}
				p, j, ok := str(i)
				if !ok {
					return false
				}
				profiles, i = append(profiles, p), j
			}
			if i >= len(s) {
				return false
			}
			o.Profiles, i = profiles, i+1
		default:
			return false
		}
		if field != nil {
			v, j, ok := str(i)
			if !ok {
				return false
			}
			*field, i = v, j
		}
		if i >= len(s) {
			return false
		}
		switch s[i] {
		case ',':
			i++
		case '}':
			return i+1 == len(s)
		default:
			return false
		}
	}
}

// recordRow is a record about to be inserted, with the columns derived
// from it.
type recordRow struct {
	r          *audittrail.Record // a copy of the entry's record
	originator string             // JSON
	searchText string
}

// newRecordRows returns the rows of the records of entries, in order, with
// their ids.
func newRecordRows(accountID string, entries []audittrail.Entry) ([][]recordRow, error) {
	rows := make([][]recordRow, len(entries))
	for i, e := range entries {
		rows[i] = make([]recordRow, len(e.Records))
		for j, in := range e.Records {
			r := *in
			r.AccountID, r.ID, r.Date = accountID, newRecordID(), audittrail.TruncateTime(r.Date)
			originator, err := json.Marshal(r.Originator)
			if err != nil {
				return nil, err
			}
			rows[i][j] = recordRow{r: &r, originator: string(originator), searchText: audittrail.SearchText(&r)}
		}
	}
	return rows, nil
}

// newRecordID returns a new record id: like audittrail.NewID("rec_"), 15
// bytes in base32, but its first 6 bytes are the time in microseconds (the
// low 48 bits) and the other 9 random. Ids made in order sort in about that
// order, so that each insert lands near the end of the index on id rather
// than on a random page of it: a random id would dirty one more page per
// record, which every commit would write and sync.
func newRecordID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMicro())<<16)
	rand.Read(b[6:])
	return "rec_" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:15]))
}

// appendAudit appends, in the transaction of a change made through the
// service, the records the service writes about it (SPEC §4), dated by the
// store's clock. acct is the account as it decides whether the trail is on:
// nothing is written while it is off.
func appendAudit(tx *txn, acct *audittrail.Account, entries []audittrail.Entry) error {
	if len(entries) == 0 || !acct.AuditTrailEnabled {
		return nil
	}
	rows, err := newRecordRows(acct.ID, entries)
	if err != nil {
		return err
	}
	for _, rs := range rows {
		for _, row := range rs {
			row.r.Date = tx.now
		}
	}
	_, err = appendRecords(tx, acct.ID, entries, rows, false)
	return err
}

// auditAccount appends audit entries to the account as it is now.
func auditAccount(tx *txn, accountID string, audit []audittrail.Entry) error {
	if len(audit) == 0 {
		return nil
	}
	acct, err := findAccount(tx, accountID)
	if err != nil {
		return err
	}
	return appendAudit(tx, acct, audit)
}

// appendRecords appends the rows of entries to the account, applying
// audittrail.CheckAppend when check is true.
func appendRecords(tx *txn, accountID string, entries []audittrail.Entry, rows [][]recordRow, check bool) ([]*audittrail.Record, error) {
	var next int64
	var treeSize uint64
	var treeHashes []byte
	acct, err := scanAccount(scanFunc(func(dest ...any) error {
		return tx.queryRow(`SELECT `+accountColumns+`, next_seq, tree_size, tree_hashes FROM accounts WHERE id = ?`, accountID).
			Scan(append(dest, &next, &treeSize, &treeHashes)...)
	}))
	if err != nil {
		return nil, translate(err, fmt.Sprintf("account %s not found", accountID), "")
	}
	if check {
		if err := audittrail.CheckAppend(acct, entries); err != nil {
			return nil, err
		}
	}

	log, err := openLog(tx, accountID, treeSize, treeHashes)
	if err != nil {
		return nil, err
	}
	out := []*audittrail.Record{}
	for i, e := range entries {
		if e.IdempotencyKey != "" {
			prev, found, err := findIdempotent(tx, accountID, i, e)
			if err != nil {
				return nil, err
			} else if found {
				out = append(out, prev...)
				continue
			}
		}

		first := next
		for _, row := range rows[i] {
			r := *row.r
			r.Seq, r.ReceivedAt = next, tx.now
			if _, err := tx.exec(insertRecord, r.AccountID, r.Seq, r.ID, r.ChangeID, r.ObjectType, r.ObjectID, r.ObjectName, r.ActionType, r.Element,
				r.OldValue, r.NewValue, ms(r.Date), r.Originator.ID, r.Originator.Name, row.originator, r.Automatic, ms(r.ReceivedAt), r.Source,
				row.searchText); err != nil {
				return nil, err
			}
			if err := log.append(&r); err != nil {
				return nil, err
			}
			out = append(out, &r)
			next++
		}

		if e.IdempotencyKey != "" {
			if _, err := tx.exec(`INSERT INTO idempotency (account_id, key, fingerprint, first_seq, count) VALUES (?, ?, ?, ?, ?)`,
				accountID, e.IdempotencyKey, e.Fingerprint, first, next-first); err != nil {
				return nil, err
			}
		}
	}

	if _, err := tx.exec(`UPDATE accounts SET next_seq = ? WHERE id = ?`, next, accountID); err != nil {
		return nil, err
	}
	if err := log.save(); err != nil {
		return nil, err
	}
	return out, nil
}

const insertRecord = `
	INSERT INTO records (account_id, seq, id, change_id, object_type, object_id, object_name, action_type, element,
		old_value, new_value, date, originator_id, originator_name, originator, automatic, received_at, source, search_text)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// findIdempotent looks up the idempotency key of entry i. It returns the
// records first stored under the key when the fingerprints match, found
// false for a new key, and EIDEMPOTENCYCONFLICT when the key was stored with
// another fingerprint.
func findIdempotent(tx *txn, accountID string, i int, e audittrail.Entry) (rs []*audittrail.Record, found bool, err error) {
	var fingerprint string
	var first, count int64
	err = tx.queryRow(`SELECT fingerprint, first_seq, count FROM idempotency WHERE account_id = ? AND key = ?`,
		accountID, e.IdempotencyKey).Scan(&fingerprint, &first, &count)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	if fingerprint != e.Fingerprint {
		_, key, _ := strings.Cut(e.IdempotencyKey, ":") // the client's id, without the route's namespace
		msg := fmt.Sprintf("id %q was already used for other content; a retry must send the same content, a new change needs a new id", key)
		return nil, false, &audittrail.Error{
			Code:    audittrail.EIDEMPOTENCYCONFLICT,
			Message: fmt.Sprintf("item %d: %s; nothing was stored", i, msg),
			Details: []audittrail.ErrorDetail{{Index: i, Field: "id", Message: msg, Code: audittrail.EIDEMPOTENCYCONFLICT}},
		}
	}

	rows, err := tx.query(`SELECT `+recordColumns+` FROM records WHERE account_id = ? AND seq >= ? AND seq < ? ORDER BY seq`,
		accountID, first, first+count)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	rs = []*audittrail.Record{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, false, err
		}
		rs = append(rs, r)
	}
	return rs, true, rows.Err()
}

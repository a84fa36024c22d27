package sqlite

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/audittrail/audittrail"
)

// InsertAccessEntries appends entries to the access log.
func (tx *txn) InsertAccessEntries(entries []*audittrail.AccessEntry) error {
	for _, e := range entries {
		filters, err := json.Marshal(e.Filters)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO access_log (account_id, id, at, actor_kind, actor_id, actor_login_name, actor_name,
			action, format, filters, records, status, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.AccountID, e.ID, ms(e.At), e.Actor.Kind, e.Actor.ID, e.Actor.LoginName, e.Actor.Name,
			e.Action, e.Format, string(filters), e.Records, e.Status, e.IP, e.UserAgent); err != nil {
			return err
		}
	}
	return nil
}

// FindAccessEntries calls fn with each entry of the page that f selects,
// newest first by (at, id).
func (tx *txn) FindAccessEntries(f audittrail.AccessFilter, fn func(*audittrail.AccessEntry) error) error {
	where, args := []string{"account_id = ?"}, []any{f.AccountID}
	if f.From != nil {
		where, args = append(where, "at >= ?"), append(args, ms(*f.From))
	}
	if f.To != nil {
		where, args = append(where, "at <= ?"), append(args, ms(*f.To))
	}
	if f.Actor != "" {
		where = append(where, "(lower(actor_id) = lower(?) OR lower(actor_login_name) = lower(?) OR instr(lower(actor_name), lower(?)) > 0)")
		args = append(args, f.Actor, f.Actor, f.Actor)
	}
	if len(f.Actions) > 0 {
		where, args = append(where, "action IN ("+placeholders(len(f.Actions))+")"), appendStrings(args, f.Actions)
	}
	if f.After != nil {
		where, args = append(where, "(at, id) < (?, ?)"), append(args, ms(f.After.At), f.After.ID)
	}
	args = append(args, f.Limit)
	rows, err := tx.query(`SELECT account_id, id, at, actor_kind, actor_id, actor_login_name, actor_name, action, format,
		filters, records, status, ip, user_agent FROM access_log WHERE `+strings.Join(where, " AND ")+
		` ORDER BY at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e audittrail.AccessEntry
		var at int64
		var filters string
		if err := rows.Scan(&e.AccountID, &e.ID, &at, &e.Actor.Kind, &e.Actor.ID, &e.Actor.LoginName, &e.Actor.Name,
			&e.Action, &e.Format, &filters, &e.Records, &e.Status, &e.IP, &e.UserAgent); err != nil {
			return err
		}
		e.At = fromMS(at)
		if err := json.Unmarshal([]byte(filters), &e.Filters); err != nil {
			return fmt.Errorf("access entry %s: filters: %w", e.ID, err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

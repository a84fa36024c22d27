package postgres

import (
	"encoding/json"
	"fmt"
	"strconv"
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
			action, format, filters, records, status, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			e.AccountID, e.ID, audittrail.TruncateTime(e.At), e.Actor.Kind, e.Actor.ID, e.Actor.LoginName, e.Actor.Name,
			e.Action, e.Format, string(filters), e.Records, e.Status, e.IP, e.UserAgent); err != nil {
			return err
		}
	}
	return nil
}

// FindAccessEntries calls fn with each entry of the page that f selects,
// newest first by (at, id).
func (tx *txn) FindAccessEntries(f audittrail.AccessFilter, fn func(*audittrail.AccessEntry) error) error {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"account_id = " + arg(f.AccountID)}
	if f.From != nil {
		where = append(where, "at >= "+arg(audittrail.TruncateTime(*f.From)))
	}
	if f.To != nil {
		where = append(where, "at <= "+arg(audittrail.TruncateTime(*f.To)))
	}
	if f.Actor != "" {
		a := arg(f.Actor)
		where = append(where, "(lower(actor_id) = lower("+a+") OR lower(actor_login_name) = lower("+a+") OR strpos(lower(actor_name), lower("+a+")) > 0)")
	}
	if len(f.Actions) > 0 {
		where = append(where, "action = ANY("+arg(f.Actions)+")")
	}
	if f.After != nil {
		where = append(where, "(at, id) < ("+arg(audittrail.TruncateTime(f.After.At))+", "+arg(f.After.ID)+")")
	}
	rows, err := tx.query(`SELECT account_id, id, at, actor_kind, actor_id, actor_login_name, actor_name, action, format,
		filters::text, records, status, ip, user_agent FROM access_log WHERE `+strings.Join(where, " AND ")+
		` ORDER BY at DESC, id DESC LIMIT `+arg(f.Limit), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e audittrail.AccessEntry
		var filters string
		if err := rows.Scan(&e.AccountID, &e.ID, &e.At, &e.Actor.Kind, &e.Actor.ID, &e.Actor.LoginName, &e.Actor.Name,
			&e.Action, &e.Format, &filters, &e.Records, &e.Status, &e.IP, &e.UserAgent); err != nil {
			return err
		}
		e.At = utc(e.At)
		if err := json.Unmarshal([]byte(filters), &e.Filters); err != nil {
			return fmt.Errorf("access entry %s: filters: %w", e.ID, err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

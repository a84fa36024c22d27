package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/sqlite"
	"github.com/xuri/excelize/v2"
	_ "modernc.org/sqlite" // the "sqlite" driver of the raw baseline (the store registers it too)
)

// dataset is what the benchmarks need of the filled data directory.
type dataset struct {
	dbPath string
	token  string // an administrator's token
	n      int    // records in the account
	loc    *time.Location
	cat    *audittrail.Catalog

	// The xlsx export: the newest min(n, 100,000) records, selected by
	// xlsxFrom when n is larger.
	xlsxN    int
	xlsxFrom *time.Time
	// The baseline's rows, header first: the cells the export writes, the
	// date as a float with dateStyle.
	rows      [][]any
	dateStyle int
}

// xlsxQuery is the query string of the xlsx export.
func (d *dataset) xlsxQuery() string {
	if d.xlsxFrom == nil {
		return ""
	}
	return "?" + url.Values{"from": {audittrail.FormatTime(*d.xlsxFrom)}}.Encode()
}

// prepare fills a data directory with one account holding cfg.n records,
// through the store, and prepares the xlsx baseline's rows from it.
func prepare(ctx context.Context, cfg *config, dir string) (*dataset, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	d := &dataset{dbPath: filepath.Join(dir, "audittrail.db"), n: cfg.n}
	var err error
	if d.loc, err = time.LoadLocation(timezone); err != nil {
		return nil, err
	}
	if d.cat, err = audittrail.NewCatalog(nil); err != nil {
		return nil, err
	}
	if err := fillStore(ctx, d, cfg.n); err != nil {
		return nil, err
	}
	if err := prepareRows(ctx, d); err != nil {
		return nil, fmt.Errorf("baseline rows: %w", err)
	}
	return d, nil
}

// fillStore creates the account, its administrator and a token, enables
// the audit trail in the past, and appends n records dated over the last 12
// months or so (inside the 13-month retention window, so that the server's
// purge at start keeps them all), oldest first, 5,000 per AppendRecords.
func fillStore(ctx context.Context, d *dataset, n int) error {
	db := sqlite.NewDB(d.dbPath)
	if err := db.Open(); err != nil {
		return err
	}
	defer db.Close()

	now := time.Now()
	acct, admin := audittrail.NewAccount(accountID, "Benchmark", timezone, now)
	profiles := audittrail.BuiltinProfiles(acct.ID, acct.CreatedAt)
	admin.LoginName, admin.Name, admin.Email, admin.ProfileID = "admin", "Bench Admin", "admin@bench.example", profiles[0].ID
	if err := db.CreateAccount(ctx, acct, profiles, admin); err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	d.token = audittrail.NewSecret("att_")
	if err := db.CreateToken(ctx, &audittrail.Token{Hash: audittrail.HashSecret(d.token), AccountID: accountID, UserID: admin.ID,
		ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	start, end := audittrail.DefaultRetention.Start(now).Add(30*24*time.Hour), now.Add(-time.Minute)
	if err := db.EnableAuditTrailAt(ctx, accountID, start.Add(-time.Hour)); err != nil {
		return fmt.Errorf("enable audit trail: %w", err)
	}

	// Every date distinct, to the millisecond, so that a `from` selects
	// exactly the newest 100,000 when there are more.
	step := end.Sub(start) / time.Duration(n)
	if step < 2*time.Millisecond {
		return fmt.Errorf("-n %d: too many records for distinct dates", n)
	}
	g := newGen(7)
	begin, last := time.Now(), time.Now()
	for done := 0; done < n; {
		k := min(fillBatch, n-done)
		entries := make([]audittrail.Entry, k)
		for i := range entries {
			jitter := time.Duration(g.r.Int64N(int64(step - time.Millisecond)))
			date := start.Add(time.Duration(done+i) * step).Add(jitter)
			entries[i] = audittrail.Entry{Records: []*audittrail.Record{g.record(date)}}
		}
		if _, err := db.AppendRecords(ctx, accountID, entries); err != nil {
			return err
		}
		done += k
		if time.Since(last) > 10*time.Second || done == n {
			last = time.Now()
			fmt.Printf("  fill: %s records in %s (%s)\n", commas(int64(done)), time.Since(begin).Round(time.Second),
				rate(float64(done)/time.Since(begin).Seconds(), "rec/s"))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := db.Close(); err != nil { // checkpoints the WAL into the file, as a server's stop would
		return err
	}
	var size int64
	for _, s := range []string{"", "-wal"} {
		if st, err := os.Stat(d.dbPath + s); err == nil {
			size += st.Size()
		}
	}
	fmt.Printf("  through the store's AppendRecords, %d per call; dates %s to %s; account zone %s; database %s MB\n",
		fillBatch, start.Format(time.DateOnly), end.Format(time.DateOnly), timezone, commas(size>>20))
	return nil
}

// prepareRows reads the records of the xlsx export with a raw query and
// turns them into the cells the export writes: labels from the catalog, the
// date as Excel's serial number in the account's zone, the originator's name.
func prepareRows(ctx context.Context, d *dataset) error {
	raw, err := openRaw(d.dbPath)
	if err != nil {
		return err
	}
	defer raw.Close()
	var version string
	if err := raw.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&version); err != nil {
		return err
	}
	fmt.Printf("  SQLite %s (modernc.org/sqlite)\n", version)
	from := audittrail.DefaultRetention.Start(time.Now())
	d.xlsxN = min(d.n, maxXLSX)
	if d.n > maxXLSX {
		var date int64
		if err := raw.QueryRowContext(ctx, `SELECT date FROM records WHERE account_id = ? ORDER BY date DESC, seq DESC LIMIT 1 OFFSET ?`,
			accountID, maxXLSX-1).Scan(&date); err != nil {
			return err
		}
		t := time.UnixMilli(date).UTC()
		d.xlsxFrom, from = &t, t
	}

	// The style id that NewStyle gives the date format in a new file.
	f := excelize.NewFile()
	d.dateStyle, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptr(export.XLSXDateFormat)})
	f.Close()
	if err != nil {
		return err
	}

	rows, err := raw.QueryContext(ctx, `SELECT `+recordColumns+` FROM records WHERE account_id = ? AND date >= ? ORDER BY date DESC, seq DESC`,
		accountID, from.UnixMilli())
	if err != nil {
		return err
	}
	defer rows.Close()
	header := make([]any, len(export.Columns))
	for i, c := range export.Columns {
		header[i] = c
	}
	d.rows = append(make([][]any, 0, d.xlsxN+1), header)
	for rows.Next() {
		var c rawCols
		if err := c.scan(rows); err != nil {
			return err
		}
		var o audittrail.Originator
		if err := json.Unmarshal([]byte(c.originator), &o); err != nil {
			return err
		}
		d.rows = append(d.rows, []any{d.cat.Label(c.objectType), c.objectName, audittrail.ActionLabel(c.actionType), c.element,
			c.oldValue, c.newValue, excelize.Cell{StyleID: d.dateStyle, Value: export.ExcelTime(time.UnixMilli(c.date), d.loc)}, o.Name})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(d.rows)-1 != d.xlsxN {
		return fmt.Errorf("%d rows for the xlsx export, want %d", len(d.rows)-1, d.xlsxN)
	}
	fmt.Printf("  xlsx: the newest %s records (query %q); baseline rows prepared in memory\n", commas(int64(d.xlsxN)), d.xlsxQuery())
	return nil
}

// recordColumns is a copy of the store's (sqlite/record.go): the raw
// baseline reads the very columns the store reads.
const recordColumns = `account_id, seq, id, change_id, object_type, object_id, object_name, action_type, element,
	old_value, new_value, date, originator, automatic, received_at, source`

// rawCols holds the recordColumns of a row, in the store's column types.
type rawCols struct {
	acct, id, changeID, objectType, objectID, objectName, actionType, element string
	oldValue, newValue, originator, source                                    string
	seq, date, receivedAt                                                     int64
	automatic                                                                 bool
}

func (c *rawCols) scan(rows *sql.Rows) error {
	return rows.Scan(&c.acct, &c.seq, &c.id, &c.changeID, &c.objectType, &c.objectID, &c.objectName, &c.actionType, &c.element,
		&c.oldValue, &c.newValue, &c.date, &c.originator, &c.automatic, &c.receivedAt, &c.source)
}

// dsn is the store's data source name of a read connection (a copy of
// sqlite.dsn, which is not exported): the baseline reads with the same
// pragmas.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "wal_autocheckpoint(0)")
	q.Add("_pragma", "query_only(true)")
	return path + "?" + q.Encode()
}

// openRaw opens a database/sql pool of one read-only connection on the
// store's file, with the store's pragmas.
func openRaw(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		db.Close()
		return nil, err
	}
	if mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("raw connection: journal_mode %s, want wal", mode)
	}
	return db, nil
}

func ptr[T any](v T) *T { return &v }

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/internal/benchkit"
	"github.com/audittrail/audittrail/sqlite"
	"github.com/audittrail/audittrail/store"
	"github.com/xuri/excelize/v2"
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
	b := sqlite.NewDB(d.dbPath, nil)
	if err := b.Open(); err != nil {
		return err
	}
	db := store.New(b)
	defer db.Close()

	now := time.Now()
	acct, admin := audittrail.NewAccount(accountID, "Benchmark", timezone, now)
	profiles := audittrail.BuiltinProfiles(acct.ID, acct.CreatedAt)
	admin.LoginName, admin.Name, admin.Email, admin.ProfileID = "admin", "Bench Admin", "admin@bench.example", profiles[0].ID
	if err := db.CreateAccount(ctx, acct, profiles, admin); err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	d.token = audittrail.NewSecret("att_")
	start, end := audittrail.DefaultRetention.Start(now).Add(30*24*time.Hour), now.Add(-time.Minute)
	// The token, and the audit trail enabled in the past: a change of the
	// account that only a benchmark (or the demo) makes.
	err := db.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		if err := tx.CreateToken(&audittrail.Token{Hash: audittrail.HashSecret(d.token), AccountID: accountID, UserID: admin.ID,
			ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
			return nil, fmt.Errorf("create token: %w", err)
		}
		a, err := tx.FindAccount(accountID)
		if err != nil {
			return nil, err
		}
		at := audittrail.TruncateTime(start.Add(-time.Hour))
		a.AuditTrailEnabled, a.AuditTrailEnabledAt = true, &at
		return nil, tx.UpdateAccount(a)
	})
	if err != nil {
		return fmt.Errorf("set up account: %w", err)
	}

	// Every date distinct, to the millisecond, so that a `from` selects
	// exactly the newest 100,000 when there are more.
	if err := benchkit.Fill(ctx, db, benchkit.NewGen(7), accountID, "bench-platform", n, fillBatch, start, end); err != nil {
		return fmt.Errorf("-n %d: %w", n, err)
	}
	if err := db.Close(); err != nil { // checkpoints the WAL into the file, as a server's stop would
		return err
	}
	fmt.Printf("  through the store's AppendRecords, %d per call; dates %s to %s; account zone %s; database %s MB\n",
		fillBatch, start.Format(time.DateOnly), end.Format(time.DateOnly), timezone, benchkit.Commas(benchkit.DBSize(d.dbPath)>>20))
	return nil
}

// prepareRows reads the records of the xlsx export with a raw query and
// turns them into the cells the export writes: labels from the catalog, the
// date as Excel's serial number in the account's zone, the originator's name.
func prepareRows(ctx context.Context, d *dataset) error {
	raw, err := benchkit.OpenRaw(d.dbPath, true)
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

	rows, err := raw.QueryContext(ctx, `SELECT `+benchkit.RecordColumns+` FROM records WHERE account_id = ? AND date >= ? ORDER BY date DESC, seq DESC`,
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
		var c benchkit.RawRecord
		if err := c.Scan(rows); err != nil {
			return err
		}
		var o audittrail.Originator
		if err := json.Unmarshal([]byte(c.Originator), &o); err != nil {
			return err
		}
		d.rows = append(d.rows, []any{d.cat.Label(c.ObjectType), c.ObjectName, audittrail.ActionLabel(c.ActionType), c.Element,
			c.OldValue, c.NewValue, excelize.Cell{StyleID: d.dateStyle, Value: export.ExcelTime(time.UnixMilli(c.Date), d.loc)}, o.Name})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(d.rows)-1 != d.xlsxN {
		return fmt.Errorf("%d rows for the xlsx export, want %d", len(d.rows)-1, d.xlsxN)
	}
	fmt.Printf("  xlsx: the newest %s records (query %q); baseline rows prepared in memory\n", benchkit.Commas(int64(d.xlsxN)), d.xlsxQuery())
	return nil
}

func ptr[T any](v T) *T { return &v }

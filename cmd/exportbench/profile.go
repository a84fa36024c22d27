package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"runtime"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/internal/benchkit"
	"github.com/audittrail/audittrail/service"
	"github.com/audittrail/audittrail/sqlite"
	"github.com/audittrail/audittrail/store"
)

// profileReps is how many times each export runs under the profiler, so
// that a profile of 100,000 records holds enough samples.
const profileReps = 5

// profileInProcess profiles each export and its baseline in this process,
// profileReps times each. Ours runs as the server's handler does (the same
// filter, encoder and export.Write over the store) to io.Discard; the
// server is stopped by then, so nothing else uses the data. The baselines
// run as in the rounds. Files: PREFIX-xlsx.pprof, PREFIX-xlsx-baseline.pprof,
// PREFIX-csv.pprof, PREFIX-csv-baseline.pprof.
func profileInProcess(ctx context.Context, cfg *config, d *dataset) error {
	err := withProfile(cfg.cpuprofile, "xlsx-baseline", func() error {
		for range profileReps {
			begin := time.Now()
			n, err := baselineXLSX(d)
			if err != nil {
				return err
			}
			fmt.Printf("  xlsx baseline in-process: %s bytes in %s\n", benchkit.Commas(n), benchkit.Secs(time.Since(begin)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The baseline's rows are not ours to scan in the collector.
	d.rows = nil
	runtime.GC()

	b := sqlite.NewDB(d.dbPath, nil)
	if err := b.Open(); err != nil {
		return err
	}
	db := store.New(b)
	defer db.Close()
	for _, format := range []string{export.FormatXLSX, export.FormatCSV} {
		q := url.Values{}
		if format == export.FormatXLSX && d.xlsxFrom != nil {
			q.Set("from", audittrail.FormatTime(*d.xlsxFrom))
		}
		f, err := service.ParseFilter(q, accountID, false)
		if err != nil {
			return err
		}
		service.Clamp(&f, audittrail.DefaultRetention, time.Now())
		err = withProfile(cfg.cpuprofile, format, func() error {
			for range profileReps {
				if err := exportInProcess(ctx, d, db, format, f); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		runtime.GC()
	}

	raw, err := benchkit.OpenRaw(d.dbPath, true)
	if err != nil {
		return err
	}
	defer raw.Close()
	return withProfile(cfg.cpuprofile, "csv-baseline", func() error {
		for range profileReps {
			begin := time.Now()
			n, size, err := baselineCSV(ctx, raw)
			if err != nil {
				return err
			}
			fmt.Printf("  csv baseline in-process: %s records, %s bytes in %s\n", benchkit.Commas(int64(n)), benchkit.Commas(size), benchkit.Secs(time.Since(begin)))
		}
		return nil
	})
}

// exportInProcess runs one export as the server's handler does, to io.Discard.
func exportInProcess(ctx context.Context, d *dataset, db audittrail.Store, format string, f audittrail.RecordFilter) error {
	begin := time.Now()
	if format == export.FormatXLSX {
		if err := export.CheckSize(ctx, db, f); err != nil {
			return err
		}
	}
	cw := &countWriter{w: io.Discard}
	enc, err := export.NewEncoder(format, cw, d.cat, d.loc)
	if err != nil {
		return err
	}
	n, err := export.Write(ctx, db, f, enc, nil)
	if err != nil {
		return err
	}
	fmt.Printf("  %s in-process (export.Write over the store): %s records, %s bytes in %s\n", format, benchkit.Commas(int64(n)), benchkit.Commas(cw.n), benchkit.Secs(time.Since(begin)))
	return nil
}

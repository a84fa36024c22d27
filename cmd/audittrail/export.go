package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/service"
)

// ExportCommand writes an account's records to a file or stdout:
// `audittrail export`. It reads storage directly, with the same filters,
// encoders and limits as the API's export routes.
type ExportCommand struct {
	Account   string
	Format    string
	Output    string
	Catalog   string
	Retention string
	Storage   storageFlags
	filters   map[string]*string
}

// Run parses args and writes the export.
func (c *ExportCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audittrail export", flag.ContinueOnError)
	fs.StringVar(&c.Account, "account", "", "account id")
	fs.StringVar(&c.Format, "format", "csv", "xlsx, csv or ndjson")
	fs.StringVar(&c.Output, "o", "", "output file (default: standard output)")
	fs.StringVar(&c.Catalog, "catalog", "", "JSON file of object types added to the built-in catalog (for labels)")
	fs.StringVar(&c.Retention, "retention", "13mo", "retention window: nothing older is exported")
	c.Storage.register(fs)
	c.filters = map[string]*string{}
	for _, name := range service.FilterParams {
		c.filters[name] = fs.String(flagName(name), "", "filter "+name+", as the API's query parameter")
	}
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: audittrail export --account ID --format xlsx|csv|ndjson [filters] [-o FILE]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if c.Account == "" {
		return fmt.Errorf("--account is required")
	}
	if c.Format != export.FormatXLSX && c.Format != export.FormatCSV && c.Format != export.FormatNDJSON {
		return fmt.Errorf("--format %q: use xlsx, csv or ndjson", c.Format)
	}
	retention, err := audittrail.ParseRetention(c.Retention)
	if err != nil {
		return err
	}
	catalog, err := loadCatalog(c.Catalog)
	if err != nil {
		return err
	}
	q := url.Values{}
	for name, v := range c.filters {
		if *v != "" {
			q.Set(name, *v)
		}
	}
	f, err := service.ParseFilter(q, c.Account, false)
	if err != nil {
		return fmt.Errorf("%s", audittrail.ErrorMessage(err))
	}

	// Read-write: the export is written in the access log before a
	// record goes out (SPEC §11).
	store, err := c.Storage.openStore(false)
	if err != nil {
		return err
	}
	defer store.Close()
	// The export runs the service's own (the API's filters, retention
	// clamp, Excel cap) as the local principal.
	cfg := service.DefaultConfig()
	cfg.Retention = retention
	svc := service.New(store, catalog, nil, cfg, time.Now, slog.New(slog.DiscardHandler))
	exp, err := svc.OpenExport(ctx, service.Local(), f, c.Format)
	if err != nil {
		return fmt.Errorf("%s", audittrail.ErrorMessage(err))
	}
	defer exp.Close()

	out := os.Stdout
	if c.Output != "" {
		if out, err = os.Create(c.Output); err != nil {
			return err
		}
		defer out.Close()
	}
	w := bufio.NewWriterSize(out, 256<<10)
	start, last := time.Now(), time.Now()
	n, err := exp.WriteTo(ctx, w, func(n int) {
		if time.Since(last) >= time.Second {
			fmt.Fprintf(os.Stderr, "audittrail: exported %d records (%s)\n", n, time.Since(start).Round(time.Second))
			last = time.Now()
		}
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil && c.Output != "" {
		err = out.Sync()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "audittrail: exported %d records in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

func flagName(param string) string {
	b := []byte(param)
	for i, c := range b {
		if c == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}

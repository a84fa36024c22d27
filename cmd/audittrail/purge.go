package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/audittrail/audittrail"
)

// PurgeCommand runs the retention job now: `audittrail purge`.
type PurgeCommand struct {
	Retention string
	Storage   storageFlags
}

// Run parses args and purges.
func (c *PurgeCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audittrail purge", flag.ContinueOnError)
	fs.StringVar(&c.Retention, "retention", "13mo", "how long records are kept: months (13mo) or a Go duration (36h)")
	c.Storage.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	retention, err := audittrail.ParseRetention(c.Retention)
	if err != nil {
		return err
	}
	store, err := c.Storage.open()
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := purge(ctx, store, retention, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		return err
	}
	fmt.Printf("audittrail: purged %d records older than %s\n", n, c.Retention)
	return nil
}

// purge removes the records that fell out of the retention window, keeping
// their leaf hashes, and logs what it did.
func purge(ctx context.Context, store audittrail.Store, retention audittrail.Retention, logger *slog.Logger) (int, error) {
	cutoff := retention.Start(time.Now())
	n, err := store.PurgeRecords(ctx, cutoff)
	if err != nil {
		logger.Error("purge failed", "cutoff", audittrail.FormatTime(cutoff), "error", err.Error())
		return n, err
	}
	logger.Info("purge", "cutoff", audittrail.FormatTime(cutoff), "retention", retention.String(), "records", n)
	return n, nil
}

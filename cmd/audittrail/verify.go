package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/tlog"
)

// errVerifyFailed makes the command exit 1 after it printed its findings.
var errVerifyFailed = errors.New("verification failed")

// VerifyCommand checks an account's log: `audittrail verify`. Against
// storage it recomputes every leaf from the records, rebuilds the tree and
// checks it against every stored checkpoint; offline (--export) it checks an
// NDJSON export against a checkpoint an auditor was given.
type VerifyCommand struct {
	Account    string
	Export     string
	Checkpoint string
	Key        string
	Storage    storageFlags
	Keys       keyFlags
}

// Run parses args and verifies.
func (c *VerifyCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audittrail verify", flag.ContinueOnError)
	fs.StringVar(&c.Account, "account", "", "account id")
	fs.StringVar(&c.Export, "export", "", "offline: an NDJSON export of the account's records (all of them, seq 0 to the checkpoint's size)")
	fs.StringVar(&c.Checkpoint, "checkpoint", "", "offline: a signed checkpoint file")
	fs.StringVar(&c.Key, "key", "", "offline: the service's verifier key (GET /api/v1/checkpoint-key), or a file holding it")
	c.Storage.register(fs)
	c.Keys.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var (
		copy tlog.LogCopy
		vkey string
		err  error
	)
	if c.Export != "" {
		copy, vkey, err = c.offline()
	} else {
		var done func()
		copy, vkey, done, err = c.fromStorage(ctx)
		if done != nil {
			defer done()
		}
	}
	if err != nil {
		return err
	}
	rep, err := tlog.Verify(copy, vkey)
	if err != nil {
		return err
	}
	for _, f := range rep.Findings {
		fmt.Println(f)
	}
	fmt.Fprintf(os.Stderr, "audittrail: account %s: %d records, tree size %d, %d checkpoints, %d problems\n",
		copy.Account, rep.Records, rep.TreeSize, rep.Checkpoints, len(rep.Findings))
	if !rep.OK() {
		return errVerifyFailed
	}
	return nil
}

func (c *VerifyCommand) fromStorage(ctx context.Context) (tlog.LogCopy, string, func(), error) {
	if c.Account == "" {
		return tlog.LogCopy{}, "", nil, fmt.Errorf("--account is required")
	}
	store, err := c.Storage.openReadOnly()
	if err != nil {
		return tlog.LogCopy{}, "", nil, err
	}
	signer, err := c.Keys.signer(ctx, store, &c.Storage, false)
	if err != nil {
		store.Close()
		return tlog.LogCopy{}, "", nil, err
	}
	if _, err := store.FindAccount(ctx, c.Account); err != nil {
		store.Close()
		return tlog.LogCopy{}, "", nil, fmt.Errorf("%s", audittrail.ErrorMessage(err))
	}
	leaves, purged, err := store.LeafHashes(ctx, c.Account)
	if err != nil {
		store.Close()
		return tlog.LogCopy{}, "", nil, err
	}
	cps, err := store.FindCheckpoints(ctx, c.Account)
	if err != nil {
		store.Close()
		return tlog.LogCopy{}, "", nil, err
	}
	copy := tlog.LogCopy{
		Account: c.Account,
		Leaves:  leaves,
		Purged:  func(seq int64) bool { return purged[seq] },
		Records: func(fn func(*audittrail.Record) error) error { return store.IterateRecordsBySeq(ctx, c.Account, fn) },
	}
	for _, cp := range cps {
		copy.Checkpoints = append(copy.Checkpoints, cp.Note)
	}
	return copy, signer.VerifierKey(), func() { store.Close() }, nil
}

// offline reads an NDJSON export, a checkpoint and a key from files.
func (c *VerifyCommand) offline() (tlog.LogCopy, string, error) {
	if c.Checkpoint == "" || c.Key == "" {
		return tlog.LogCopy{}, "", fmt.Errorf("--export needs --checkpoint and --key")
	}
	note, err := os.ReadFile(c.Checkpoint)
	if err != nil {
		return tlog.LogCopy{}, "", err
	}
	vkey := c.Key
	if b, err := os.ReadFile(c.Key); err == nil {
		vkey = strings.TrimSpace(string(b))
	}
	cp, err := tlog.OpenCheckpoint(note, vkey)
	if err != nil {
		return tlog.LogCopy{}, "", err
	}
	account := strings.TrimPrefix(cp.Origin, "audittrail/")
	if c.Account != "" && c.Account != account {
		return tlog.LogCopy{}, "", fmt.Errorf("the checkpoint is of account %s, not %s", account, c.Account)
	}
	recs, err := readNDJSON(c.Export)
	if err != nil {
		return tlog.LogCopy{}, "", err
	}
	return tlog.LogCopy{
		Account: account,
		Purged:  func(int64) bool { return false },
		Records: func(fn func(*audittrail.Record) error) error {
			for _, r := range recs {
				if err := fn(r); err != nil {
					return err
				}
			}
			return nil
		},
		Checkpoints: [][]byte{note},
	}, vkey, nil
}

// readNDJSON reads an export's records, in seq order.
func readNDJSON(path string) ([]*audittrail.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []*audittrail.Record
	r := bufio.NewReaderSize(f, 1<<20)
	dec := json.NewDecoder(r)
	for line := 1; ; line++ {
		var rec audittrail.Record
		if err := dec.Decode(&rec); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: record %d: %w", path, line, err)
		}
		recs = append(recs, &rec)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	return recs, nil
}

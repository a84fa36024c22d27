package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/benchkit"
	"github.com/audittrail/audittrail/postgres"
	"github.com/audittrail/audittrail/store"
	"github.com/jackc/pgx/v5"
)

// The PostgreSQL benchmarks (issue 7) are not in the default set: they
// need a server, given by -db or $AUDITTRAIL_BENCH_POSTGRES. Each run makes
// its own schemas, named bench_<random>_<what>, and drops them when done;
// it never changes the server's settings.
//
//   - pgingest: batches of 500 POSTed by one sequential client to the real
//     `audittrail serve --db`, versus the same rows written by pgx CopyFrom
//     straight into records, in a second schema migrated the same way.
//     Target ≥ 0.60.
//   - pgreplicas: one replica versus two against one database, the same
//     number of clients in all, with one account and with two; where the
//     CPU went, and the bottleneck.
//   - pgpurge: one month's partition dropped by the store's purge versus
//     DELETE of the same rows.

const envBenchPostgres = "AUDITTRAIL_BENCH_POSTGRES"

// pgRun is the PostgreSQL server of a run: its URL, the prefix of the
// schemas this run makes, a connection for making and dropping them, and
// one for the meter.
type pgRun struct {
	url     string // as given
	prefix  string // bench_<random>
	admin   *pgx.Conn
	mon     *pgx.Conn // the meter's (see meter.go)
	monPID  int       // the backend of mon, left out of what the meter counts
	dataDir string    // the server's data_directory, for its disk's statistics
	schemas []string  // made and not yet dropped
	bin     string    // the built audittrail binary, once built
}

// postgres returns the run's PostgreSQL server, connecting on first use.
func (cfg *config) postgres(ctx context.Context) (*pgRun, error) {
	if cfg.pg != nil {
		return cfg.pg, nil
	}
	if cfg.pgURL == "" {
		return nil, fmt.Errorf("the PostgreSQL benchmarks need a server: -db postgres://... or $%s", envBenchPostgres)
	}
	b := make([]byte, 4)
	rand.Read(b)
	p := &pgRun{url: cfg.pgURL, prefix: "bench_" + hex.EncodeToString(b)}
	var err error
	if p.admin, err = pgx.Connect(ctx, withParams(cfg.pgURL, map[string]string{"application_name": p.prefix + "-admin"})); err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if p.mon, err = pgx.Connect(ctx, withParams(cfg.pgURL, map[string]string{"application_name": p.prefix + "-meter"})); err != nil {
		p.admin.Close(ctx)
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := p.mon.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&p.monPID); err != nil {
		p.close()
		return nil, err
	}
	cfg.pg = p
	if err := p.describe(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// describe prints the server's version and the settings the figures
// depend on.
func (p *pgRun) describe(ctx context.Context) error {
	var version string
	if err := p.admin.QueryRow(ctx, `SELECT version()`).Scan(&version); err != nil {
		return err
	}
	version, _, _ = strings.Cut(version, " on ")
	settings := []string{"shared_buffers", "synchronous_commit", "wal_level", "fsync", "wal_sync_method", "full_page_writes",
		"commit_delay", "max_wal_size", "checkpoint_timeout", "autovacuum", "max_connections"}
	var parts []string
	for _, name := range settings {
		var v string
		if err := p.admin.QueryRow(ctx, `SELECT current_setting($1)`, name).Scan(&v); err != nil {
			return err
		}
		parts = append(parts, name+"="+v)
	}
	// data_directory needs pg_read_all_settings; without it the disk's
	// statistics are left out.
	if err := p.admin.QueryRow(ctx, `SELECT current_setting('data_directory')`).Scan(&p.dataDir); err != nil {
		p.dataDir = ""
	}
	fmt.Printf("postgres %s, schemas %s_*\n", version, p.prefix)
	fmt.Printf("         %s\n", strings.Join(parts, " "))
	if p.dataDir != "" {
		wd, _ := os.Getwd()
		disk := "device unknown"
		if d, err := benchkit.ReadDiskStat(p.dataDir); err == nil {
			disk = "device " + d.Device
		}
		fmt.Printf("         data_directory %s (%s, %s)\n", p.dataDir, benchkit.DescribeFS(p.dataDir, wd), disk)
	}
	return nil
}

// newSchema makes the schema <prefix>_<tag> and returns its name.
func (p *pgRun) newSchema(ctx context.Context, tag string) (string, error) {
	name := p.prefix + "_" + tag
	if _, err := p.admin.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create schema %s: %w", name, err)
	}
	p.schemas = append(p.schemas, name)
	return name, nil
}

// dropSchema drops a schema of the run, even after ctx ended.
func (p *pgRun) dropSchema(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := p.admin.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
		fmt.Printf("  (could not drop schema %s: %v)\n", name, err)
		return
	}
	p.schemas = slices.DeleteFunc(p.schemas, func(s string) bool { return s == name })
}

// close drops the schemas left and closes the connections.
func (p *pgRun) close() {
	for _, name := range slices.Clone(p.schemas) {
		p.dropSchema(name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if p.mon != nil {
		p.mon.Close(ctx)
	}
	if p.admin != nil {
		p.admin.Close(ctx)
	}
}

// schemaURL returns the server's URL with the schema as search_path and
// app as application_name, by which the meter finds the backends.
func (p *pgRun) schemaURL(schema, app string) string {
	return withParams(p.url, map[string]string{"search_path": schema, "application_name": app})
}

// withParams sets query parameters of a PostgreSQL URL.
func withParams(raw string, params map[string]string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// pgAccount is an account made for a PostgreSQL benchmark.
type pgAccount struct {
	id  string
	key string // publisher key secret
}

// pgSetup migrates the schema of url by opening the store on it (the
// store's own migrations and partitions), and makes the accounts with
// their audit trail enabled and a publisher key each, through the store's
// methods, as newEnv does on SQLite; then it closes the store.
func pgSetup(ctx context.Context, url string, ids ...string) ([]pgAccount, error) {
	b := postgres.NewDB(url, nil)
	if err := b.Open(); err != nil {
		return nil, err
	}
	db := store.New(b)
	defer db.Close()
	var out []pgAccount
	for _, id := range ids {
		now := time.Now()
		acct, admin := audittrail.NewAccount(id, "Benchmark "+id, "UTC", now)
		profiles := audittrail.BuiltinProfiles(acct.ID, acct.CreatedAt)
		admin.LoginName, admin.Name, admin.Email, admin.ProfileID = "admin", "Bench Admin", "admin@bench.example", profiles[0].ID
		if err := db.CreateAccount(ctx, acct, profiles, admin); err != nil {
			return nil, fmt.Errorf("create account %s: %w", id, err)
		}
		secret, err := setUpAccount(ctx, db, id, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, pgAccount{id: id, key: secret})
	}
	return out, nil
}

// serveBinary builds cmd/audittrail into the run's directory, once.
func (p *pgRun) serveBinary(ctx context.Context, cfg *config) (string, error) {
	if p.bin != "" {
		return p.bin, nil
	}
	bin := filepath.Join(cfg.dir, "audittrail")
	fmt.Printf("  building %s (go build ./cmd/audittrail)\n", bin)
	if err := benchkit.Build(ctx, bin, "./cmd/audittrail"); err != nil {
		return "", err
	}
	p.bin = bin
	return bin, nil
}

// startReplica starts `audittrail serve --db url` with the rate limits
// off (the benchmarks measure capacity, not the limits). Its log goes to
// name.log in the run's directory.
func (p *pgRun) startReplica(ctx context.Context, cfg *config, url, name string) (*benchkit.Server, error) {
	bin, err := p.serveBinary(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return benchkit.StartServer(ctx, bin, filepath.Join(cfg.dir, name+".log"), nil,
		"--db", url, "--data", filepath.Join(cfg.dir, name+"-data"), "--rate-ingest", "0", "--rate-read", "0")
}

// postRecords POSTs a batch to the account on the server and reads the
// whole answer; it fails unless the status is 201.
func postRecords(ctx context.Context, s *benchkit.Server, a pgAccount, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/api/v1/accounts/"+a.id+"/records", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("POST %s: status %d: %s", req.URL.Path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// recordRow returns the columns that the store COPYs for r
// (postgres/record.go, recordCopyColumns), with the values it derives.
func recordRow(r *audittrail.Record) ([]any, error) {
	originator, err := jsonString(r.Originator)
	if err != nil {
		return nil, err
	}
	return []any{r.AccountID, r.Seq, r.ID, r.ChangeID, r.ObjectType, r.ObjectID, r.ObjectName, r.ActionType,
		r.Element, r.OldValue, r.NewValue, r.Date, r.Originator.ID, r.Originator.Name, originator, r.Automatic, r.ReceivedAt,
		r.Source, audittrail.SearchText(r)}, nil
}

// recordCopyColumns is a copy of the store's (postgres/record.go).
var recordCopyColumns = []string{"account_id", "seq", "id", "change_id", "object_type", "object_id", "object_name", "action_type",
	"element", "old_value", "new_value", "date", "originator_id", "originator_name", "originator", "automatic", "received_at",
	"source", "search_text"}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// reversed returns a copy of s in reverse order.
func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The suite runs against each backend: SQLite always, and PostgreSQL when
// AUDITTRAIL_TEST_POSTGRES gives a server's URL. TestMain runs the tests on
// SQLite, then runs the same test binary again with AUDITTRAIL_E2E_BACKEND=
// postgres, where every data directory a test makes stands for a fresh
// PostgreSQL schema of its own.
const (
	envPostgres = "AUDITTRAIL_TEST_POSTGRES"
	envBackend  = "AUDITTRAIL_E2E_BACKEND"
	envBinary   = "AUDITTRAIL_E2E_BINARY"
)

// backend is the backend under test: "sqlite" or "postgres".
var backend = "sqlite"

// onPostgres reports whether the suite runs against PostgreSQL.
func onPostgres() bool { return backend == "postgres" }

// SQLiteOnly skips a test that looks at SQLite's files themselves.
func SQLiteOnly(tb testing.TB, why string) {
	tb.Helper()
	if onPostgres() {
		tb.Skipf("SQLite only: %s", why)
	}
}

// runOnPostgres runs this test binary again, with the same arguments,
// against PostgreSQL, and returns its exit code.
func runOnPostgres() int {
	if os.Getenv(envPostgres) == "" {
		fmt.Fprintf(os.Stderr, "e2e: %s is not set: the end-to-end suite ran on SQLite only\n", envPostgres)
		return 0
	}
	fmt.Fprintln(os.Stderr, "e2e: running the end-to-end suite again on PostgreSQL")
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), envBackend+"=postgres", envBinary+"="+binary)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "e2e: PostgreSQL run:", err)
		return 1
	}
	return 0
}

// schemas maps each data directory of the PostgreSQL run to its schema.
var schemas struct {
	sync.Mutex
	byDir map[string]string
}

// StorageArgs returns the storage flags of the backend under test for the
// storage that the data directory dir stands for: --data dir on SQLite, and
// on PostgreSQL --db with the URL of a schema made for dir on first use.
func StorageArgs(tb testing.TB, dir string) []string {
	tb.Helper()
	if !onPostgres() {
		return []string{"--data", dir}
	}
	return []string{"--data", dir, "--db", schemaURL(tb, dir)}
}

// StorageArgs returns the storage flags of the server's storage.
func (s *Server) StorageArgs(tb testing.TB) []string { return StorageArgs(tb, s.Data) }

// schemaURL returns the URL of dir's schema, creating the schema on first use.
func schemaURL(tb testing.TB, dir string) string {
	tb.Helper()
	schemas.Lock()
	defer schemas.Unlock()
	if schemas.byDir == nil {
		schemas.byDir = map[string]string{}
	}
	name, ok := schemas.byDir[dir]
	if !ok {
		b := make([]byte, 6)
		rand.Read(b)
		name = "e2e_" + hex.EncodeToString(b)
		if err := pgExec(`CREATE SCHEMA ` + name); err != nil {
			tb.Fatalf("PostgreSQL: create schema: %v", err)
		}
		schemas.byDir[dir] = name
	}
	return withSearchPath(os.Getenv(envPostgres), name)
}

// withSearchPath adds the schema to a PostgreSQL URL as its search_path.
func withSearchPath(raw, schema string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// dropSchemas drops the schemas the PostgreSQL run made.
func dropSchemas() {
	schemas.Lock()
	defer schemas.Unlock()
	for _, name := range schemas.byDir {
		if err := pgExec(`DROP SCHEMA ` + name + ` CASCADE`); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: drop schema %s: %v\n", name, err)
		}
	}
}

// pgExec runs one statement on the test server.
func pgExec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, os.Getenv(envPostgres))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// StoredBytes returns what the storage holds, for tests that search it for
// secrets: the files of the data directory on SQLite, a pg_dump of the
// schema on PostgreSQL.
func (s *Server) StoredBytes(tb testing.TB) map[string][]byte {
	tb.Helper()
	if !onPostgres() {
		files := map[string][]byte{}
		err := filepath.WalkDir(s.Data, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				if os.IsNotExist(err) {
					return nil // a WAL file that went away during the walk
				}
				return err
			}
			b, err := os.ReadFile(p)
			if os.IsNotExist(err) {
				return nil
			}
			files[p] = b
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
		if len(files) == 0 {
			tb.Fatalf("data directory %s: got no files, want the database", s.Data)
		}
		return files
	}
	schemas.Lock()
	name := schemas.byDir[s.Data]
	schemas.Unlock()
	cmd := exec.Command("pg_dump", "--dbname", os.Getenv(envPostgres), "--schema", name, "--data-only")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("pg_dump: %v: %s", err, stderr.String())
	}
	if !strings.Contains(string(out), "PostgreSQL database dump") {
		tb.Fatalf("pg_dump: got no dump")
	}
	return map[string][]byte{"pg_dump of " + name: out}
}

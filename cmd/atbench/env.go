package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	athttp "github.com/audittrail/audittrail/http"
	"github.com/audittrail/audittrail/internal/benchkit"
	"github.com/audittrail/audittrail/sqlite"
	"github.com/audittrail/audittrail/store"
)

const (
	accountID = "bench"
	keyName   = "bench-platform"
	batchSize = 500
)

// env is our side: a SQLite store in the temp dir, the real HTTP server
// over it behind a TCP listener on 127.0.0.1, an account with its audit trail
// enabled, a publisher key and an administrator's token.
type env struct {
	path    string
	db      *store.Store
	backend *sqlite.DB
	ts      *httptest.Server
	client  *http.Client
	key     string // publisher key secret
	token   string // user token of an administrator (audit_trail.view)
	keep    bool
}

// newEnv opens a fresh store named name in cfg.dir. With enabledAt nil the
// audit trail is enabled now; otherwise as of enabledAt (so that older
// dates can be filled in).
func newEnv(ctx context.Context, cfg *config, name string, enabledAt *time.Time) (*env, error) {
	e := &env{path: filepath.Join(cfg.dir, name+".db"), keep: cfg.keep}
	e.backend = sqlite.NewDB(e.path, nil)
	if err := e.backend.Open(); err != nil {
		return nil, err
	}
	e.db = store.New(e.backend)
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	now := time.Now()
	acct, admin := audittrail.NewAccount(accountID, "Benchmark", "UTC", now)
	profiles := audittrail.BuiltinProfiles(acct.ID, acct.CreatedAt)
	admin.LoginName, admin.Name, admin.Email, admin.ProfileID = "admin", "Bench Admin", "admin@bench.example", profiles[0].ID
	if err := e.db.CreateAccount(ctx, acct, profiles, admin); err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	secret, err := setUpAccount(ctx, e.db, accountID, enabledAt)
	if err != nil {
		return nil, err
	}
	e.key = secret
	e.token = audittrail.NewSecret("att_")
	err = e.db.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		return nil, tx.CreateToken(&audittrail.Token{Hash: audittrail.HashSecret(e.token), AccountID: accountID, UserID: admin.ID,
			ExpiresAt: now.Add(24 * time.Hour)})
	})
	if err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}

	srv, err := benchkit.NewAPI(e.db, athttp.DefaultConfig())
	if err != nil {
		return nil, err
	}
	e.ts = httptest.NewServer(srv) // a real TCP listener on 127.0.0.1:0
	e.client = &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			DisableCompression:  true,
		},
	}
	ok = true
	return e, nil
}

func (e *env) close() {
	if e.ts != nil {
		e.ts.Close()
	}
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	if e.db != nil {
		e.db.Close()
	}
	if !e.keep {
		removeDB(e.path)
	}
}

func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
}

func (e *env) url(path string) string { return e.ts.URL + "/api/v1/accounts/" + accountID + path }

// post sends body and reads the whole answer; it fails unless the status is 201.
func (e *env) post(ctx context.Context, path string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url(path), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "application/json")
	return e.do(req, http.StatusCreated, nil)
}

// get reads the whole answer into buf (if not nil); it fails unless the status is 200.
func (e *env) get(ctx context.Context, pathAndQuery string, buf *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url(pathAndQuery), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	return e.do(req, http.StatusOK, buf)
}

func (e *env) do(req *http.Request, want int, buf *bytes.Buffer) error {
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.Path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if buf != nil {
		_, err = buf.ReadFrom(resp.Body)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	return err
}

// createSchema makes a store file at path with the store's schema and the
// bench account (the records' foreign key needs it), then closes it: the
// store does not expose its schema, so the baselines get it by opening a
// sqlite.DB once (its migrations run on Open).
func createSchema(ctx context.Context, path string) error {
	b := sqlite.NewDB(path, nil)
	if err := b.Open(); err != nil {
		return err
	}
	db := store.New(b)
	acct, _ := audittrail.NewAccount(accountID, "Benchmark", "UTC", time.Now())
	if err := db.CreateAccount(ctx, acct, nil, nil); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

// setUpAccount turns the account's audit trail on, now when enabledAt is
// nil (as the service does) or else as of enabledAt, and makes it a
// publisher key, returning its secret.
func setUpAccount(ctx context.Context, db audittrail.Store, id string, enabledAt *time.Time) (string, error) {
	key, secret := audittrail.NewPublisherKey(id, keyName, time.Now())
	err := db.Change(ctx, id, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		a, err := tx.FindAccount(id)
		if err != nil {
			return nil, err
		}
		at := tx.Now()
		if enabledAt != nil {
			at = audittrail.TruncateTime(*enabledAt)
		}
		a.AuditTrailEnabled, a.AuditTrailEnabledAt = true, &at
		if err := tx.UpdateAccount(a); err != nil {
			return nil, fmt.Errorf("enable audit trail: %w", err)
		}
		return nil, tx.CreatePublisherKey(key, audittrail.HashSecret(secret))
	})
	if err != nil {
		return "", fmt.Errorf("set up account %s: %w", id, err)
	}
	return secret, nil
}

// insertRecord is the store's INSERT of a record (sqlite/record.go).
const insertRecord = `
	INSERT INTO records (account_id, seq, id, change_id, object_type, object_id, object_name, action_type, element,
		old_value, new_value, date, originator_id, originator_name, originator, automatic, received_at, source, search_text)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// recordQuery is the store's query of a page of records, with
// benchkit.RecordColumns: the very SELECT the store runs.
func recordQuery(f audittrail.RecordFilter) (string, []any) {
	where, args := sqlite.RecordWhere(f)
	return `SELECT ` + benchkit.RecordColumns + ` FROM records WHERE ` + where + ` ORDER BY date DESC, seq DESC LIMIT ?`, append(args, f.Limit)
}

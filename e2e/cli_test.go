package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// run runs the binary with args and returns its stdout, stderr and exit
// code, failing the test if it does not end within 5 minutes (a hang).
func run(tb testing.TB, args ...string) (stdout, stderr string, code int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, storageArgs(tb, args)...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUDITTRAIL_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		tb.Fatalf("audittrail %v: did not end: %s", args, errb.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		tb.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// storageArgs replaces each "--data DIR" of args with the storage flags of
// the backend under test for DIR (StorageArgs), so that every command runs
// against the storage of the server that DIR stands for.
func storageArgs(tb testing.TB, args []string) []string {
	tb.Helper()
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--data" && i+1 < len(args) {
			out = append(out, StorageArgs(tb, args[i+1])...)
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// TestAccountCreateCommand checks `audittrail account create` (SPEC §9):
// it prints the administrator's password and a publisher key that a server
// on the same data directory then accepts.
func TestAccountCreateCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	stdout, stderr, code := run(t, "account", "create", "--id", "cli-acct", "--name", "CLI Account", "--admin", "boss", "--data", dir)
	if code != 0 {
		t.Fatalf("exit code: got %v, want %v: %s", code, 0, stderr)
	}
	var out struct {
		Account struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"account"`
		Admin struct {
			LoginName string `json:"login_name"`
			Password  string `json:"password"`
		} `json:"admin"`
		PublisherKey struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Key  string `json:"key"`
		} `json:"publisher_key"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("stdout: got %v, want JSON: %s", err, stdout)
	}
	if out.Account.ID != "cli-acct" || out.Account.Name != "CLI Account" || out.Admin.LoginName != "boss" {
		t.Errorf("output: got %+v, want account cli-acct / CLI Account and administrator boss", out)
	}
	if len(out.Admin.Password) < 8 || out.PublisherKey.Key == "" {
		t.Fatalf("output: got password %q and key %q, want both", out.Admin.Password, out.PublisherKey.Key)
	}

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		_, stderr, code := run(t, "account", "create", "--id", "cli-acct", "--name", "Again", "--admin", "boss", "--data", dir)
		if code == 0 {
			t.Errorf("exit code: got %v, want non-zero", code)
		}
		if !strings.Contains(stderr, "exists") {
			t.Errorf("stderr: got %q, want it to say the account exists", stderr)
		}
	})

	t.Run("ErrValidation", func(t *testing.T) {
		for _, args := range [][]string{
			{"--id", "Bad Id", "--name", "X", "--admin", "boss"},
			{"--id", "ok-id", "--admin", "boss"},
			{"--id", "ok-id", "--name", "X"},
			{"--id", "ok-id", "--name", "X", "--admin", "boss", "--timezone", "Nowhere/Land"},
		} {
			if _, _, code := run(t, append([]string{"account", "create", "--data", dir}, args...)...); code == 0 {
				t.Errorf("%v: exit code: got 0, want non-zero", args)
			}
		}
	})

	t.Run("OK", func(t *testing.T) {
		srv := MustStartIn(t, dir)
		login := srv.Must(t, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": "cli-acct", "login_name": "boss", "password": out.Admin.Password}).JSON(t)
		a := &Account{ID: "cli-acct", AdminToken: login["token"].(string), Key: out.PublisherKey.Key}
		MustError(t, srv.PostRecords(t, a, rec()), 409, "audit_trail_disabled")
		srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"audit_trail_enabled": true})
		rs := srv.MustRecords(t, a, rec())
		if rs[0].Source != out.PublisherKey.Name || rs[0].Source == "" {
			t.Errorf("source: got %q, want the key's name %q", rs[0].Source, out.PublisherKey.Name)
		}
		if p := srv.List(t, a, vals("object_type", "users")); len(p.Records) != 1 || p.Records[0].ID != rs[0].ID {
			t.Errorf("records: got %v, want [%v]", ids(p.Records), rs[0].ID)
		}
		// The password was printed, never stored.
		for p, b := range srv.StoredBytes(t) {
			if bytes.Contains(b, []byte(out.Admin.Password)) || bytes.Contains(b, []byte(out.PublisherKey.Key)) {
				t.Errorf("%s holds the password or the key", p)
			}
		}
	})
}

// TestDemo checks `audittrail serve --demo` (SPEC §9): the demo account
// with its administrator admin / admin and a history across all eight
// object types; then, served again with a short retention, the same
// history is cut to the window (SPEC §7).
func TestDemo(t *testing.T) {
	t.Parallel()
	srv := MustStart(t, "--demo")
	login := srv.Must(t, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": "demo", "login_name": "admin", "password": "admin"}).JSON(t)
	a := &Account{ID: "demo", AdminToken: login["token"].(string)}
	if out := srv.Stdout(); !strings.Contains(out, "demo") || !strings.Contains(out, "admin") {
		t.Errorf("stdout: got %q, want the demo account's credentials printed", out)
	}

	total := srv.Count(t, a, nil)
	if total <= 10000 {
		t.Errorf("count: got %v, want more than %v", total, 10000)
	}
	for _, typ := range []string{"users", "skills", "agent_groups", "permissions", "lobs", "post_conversation_survey", "campaign_scheduling", "working_hours"} {
		if n := srv.Count(t, a, vals("object_type", typ)); n == 0 {
			t.Errorf("count of %s: got %v, want some", typ, n)
		}
	}
	now := time.Now()
	old := srv.List(t, a, vals("to", ts(now.AddDate(0, -6, 0)), "limit", "1"))
	if len(old.Records) != 1 {
		t.Fatalf("records older than 6 months: got none, want the demo's history")
	}
	if n := srv.Count(t, a, vals("to", ts(now.AddDate(0, -12, 0)))); n == 0 {
		t.Errorf("count older than 12 months: got %v, want some", n)
	}
	oldID := old.Records[0].ID
	srv.Must(t, 200, "GET", a.path("/records/"+oldID), a.AdminToken, nil)

	t.Run("OKRetention", func(t *testing.T) {
		srv.Stop(t)
		srv := MustStartIn(t, srv.Data, "--retention", "36h", "--demo")
		login := srv.Must(t, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": "demo", "login_name": "admin", "password": "admin"}).JSON(t)
		a := &Account{ID: "demo", AdminToken: login["token"].(string)}
		start := time.Now().Add(-36 * time.Hour)
		n := srv.Count(t, a, nil)
		if n >= total {
			t.Errorf("count with 36h retention: got %v, want less than %v", n, total)
		}
		if got := srv.Count(t, a, vals("from", "2000-01-01T00:00:00Z")); got != n {
			t.Errorf("count from 2000: got %v, want %v (clamped to the window)", got, n)
		}
		if got := srv.Count(t, a, vals("to", ts(start.Add(-time.Hour)))); got != 0 {
			t.Errorf("count before the window: got %v, want %v", got, 0)
		}
		p := srv.List(t, a, vals("from", "2000-01-01T00:00:00Z", "limit", "1000"))
		if len(p.Records) == 0 {
			t.Errorf("records in the window: got none, want the last 36 hours of the demo")
		}
		for _, r := range p.Records {
			if r.Time(t).Before(start.Add(-time.Minute)) {
				t.Errorf("record %s: got date %s, want inside the window (after %s)", r.ID, r.Date, ts(start))
			}
		}
		MustError(t, srv.Do(t, "GET", a.path("/records/"+oldID), a.AdminToken, nil), 404, "not_found")
	})
}

// TestShutdown checks that SIGTERM lets a request in flight finish, and
// that the process then exits 0.
func TestShutdown(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "shutdown", true)
	n := srv.Count(t, a, nil)

	// A slow client: the body arrives in two parts.
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", srv.URL+a.path("/records"), pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.Key)
	// The transport sends the body once the handler asks for it (100
	// Continue): once the first half is written, the request is in flight.
	req.Header.Set("Expect", "100-continue")
	type result struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: time.Minute}}).Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- result{status: resp.StatusCode, body: b}
	}()
	body, _ := json.Marshal(records(rec("object_id", "slow-1"), rec("object_id", "slow-2")))
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}

	exited := make(chan error, 1)
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() { exited <- srv.cmd.Wait() }()
	defer func() {
		select {
		case <-exited:
		default:
			srv.cmd.Process.Kill()
			<-exited
		}
	}()

	// New requests are answered 503 once the signal is taken, while the
	// request finishes (issue 8; TestGracefulStop checks the rest).
	waitFor(t, "/healthz 503 after SIGTERM", time.Minute, func() bool {
		r, err := doRaw(srv, "GET", "/healthz", "", nil)
		if err != nil {
			t.Fatalf("/healthz after SIGTERM with a request in flight: %v", err)
		}
		return r.Status == 503
	})
	MustError(t, srv.Do(t, "GET", "/healthz", "", nil), 503, "unavailable")
	select {
	case err := <-exited:
		exited <- err
		t.Fatalf("process: exited (%v) with a request in flight, want it to wait", err)
	default:
	}

	if _, err := pw.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	select {
	case r := <-done:
		if r.err != nil || r.status != 201 {
			t.Errorf("request in flight: got %v %d %s, want 201", r.err, r.status, r.body)
		}
	case <-time.After(time.Minute):
		t.Fatal("request in flight: no answer within a minute")
	}

	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("exit: got %v, want status 0; logs:\n%s", err, srv.Logs())
		}
	case <-time.After(time.Minute):
		t.Fatal("process: still running a minute after SIGTERM")
	}

	// What was accepted is there after a restart.
	srv2 := MustStartIn(t, srv.Data)
	login := srv2.Must(t, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "admin", "password": "correct horse battery"}).JSON(t)
	a.AdminToken = login["token"].(string)
	if got := srv2.Count(t, a, nil); got != n+2 {
		t.Errorf("count after restart: got %v, want %v", got, n+2)
	}
}

// TestServeErrors checks that serve refuses bad flags and exits non-zero.
func TestServeErrors(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"object_types": [{"key": "logins"}]}`), 0o600)
	t.Run("ErrShortOperatorToken", func(t *testing.T) {
		cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
		cmd.Env = append(os.Environ(), "AUDITTRAIL_OPERATOR_TOKEN=0123456789")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "at least 32") {
			t.Errorf("serve with a 10-character operator token: got %v: %s, want a refusal naming the minimum", err, out)
		}
	})
	for _, args := range [][]string{
		{"--retention", "forever"},
		{"--catalog", bad},
		{"--catalog", filepath.Join(t.TempDir(), "missing.json")},
	} {
		_, stderr, code := run(t, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...)...)
		if code == 0 || stderr == "" {
			t.Errorf("serve %v: got exit code %d and %q, want non-zero and a message", args, code, stderr)
		}
	}
}

// Package e2e drives the real audittrail binary over HTTP, as a platform,
// an operator and an administrator would.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is the audittrail binary built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	if b := os.Getenv(envBackend); b != "" {
		// The PostgreSQL run, started by the SQLite run's TestMain.
		backend, binary = b, os.Getenv(envBinary)
		code := m.Run()
		dropSchemas()
		os.Exit(code)
	}
	dir, err := os.MkdirTemp("", "audittrail-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "audittrail")
	build := exec.Command("go", "build", "-o", binary, "../cmd/audittrail")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	code := m.Run()
	if pg := runOnPostgres(); code == 0 {
		code = pg
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// OperatorToken is the operator token every test server runs with.
const OperatorToken = "operator-token-for-tests-0123456789"

// Server is a running audittrail process.
type Server struct {
	URL  string
	Data string
	cmd  *exec.Cmd
	logs *syncBuffer
	out  *syncBuffer
}

// MustStart starts `audittrail serve` on 127.0.0.1:0 with a fresh data
// directory and extra args, and stops it when the test ends.
func MustStart(tb testing.TB, args ...string) *Server {
	tb.Helper()
	s := &Server{Data: tb.TempDir(), logs: &syncBuffer{}}
	s.start(tb, args...)
	tb.Cleanup(func() { s.Stop(tb) })
	return s
}

func (s *Server) start(tb testing.TB, args ...string) {
	tb.Helper()
	serve := append([]string{"serve", "--addr", "127.0.0.1:0"}, s.StorageArgs(tb)...)
	s.cmd = exec.Command(binary, append(serve, args...)...)
	s.cmd.Env = append(os.Environ(), "AUDITTRAIL_OPERATOR_TOKEN="+OperatorToken)
	s.cmd.Stderr = s.logs
	s.out = &syncBuffer{}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.out.Write([]byte(sc.Text() + "\n"))
			if u, ok := strings.CutPrefix(sc.Text(), "audittrail: listening on "); ok {
				found <- u
			}
		}
	}()
	select {
	case s.URL = <-found:
	case <-time.After(2 * time.Minute): // a hang, not a speed
		s.cmd.Process.Kill()
		tb.Fatalf("server did not start within 2 min; logs:\n%s", s.logs.String())
	}
}

// Stop sends SIGTERM and waits for the process to end.
func (s *Server) Stop(tb testing.TB) {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute): // a hang, not a speed
		s.cmd.Process.Kill()
		<-done
	}
}

// Logs returns what the server wrote to stderr so far.
func (s *Server) Logs() string { return s.logs.String() }

// Stdout returns what the server wrote to stdout so far.
func (s *Server) Stdout() string { return s.out.String() }

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *Response) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// ErrorCode returns error.code of an error body, or "".
func (r *Response) ErrorCode() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Do sends a request with an optional bearer credential and JSON body
// (a string or []byte is sent as is; anything else is marshaled).
func (s *Server) Do(tb testing.TB, method, path, cred string, body any) *Response {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Must sends a request and fails the test unless the status is want.
func (s *Server) Must(tb testing.TB, want int, method, path, cred string, body any) *Response {
	tb.Helper()
	r := s.Do(tb, method, path, cred, body)
	if r.Status != want {
		tb.Fatalf("%s %s: got status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// Account is an account made ready by MustAccount: the administrator's
// token and a publisher key, with the audit trail enabled when asked.
type Account struct {
	ID, AdminToken, Key string
}

// MustAccount creates an account through the operator API, logs its
// administrator in, creates a publisher key, and enables the audit trail
// if enable is true.
func (s *Server) MustAccount(tb testing.TB, id string, enable bool) *Account {
	tb.Helper()
	s.Must(tb, 201, "POST", "/api/v1/accounts", OperatorToken, map[string]any{
		"id": id, "name": "Account " + id, "timezone": "Europe/Paris",
		"admin": map[string]any{"login_name": "admin", "name": "Ada Admin", "email": "ada@example.com", "password": "correct horse battery"},
	})
	a := &Account{ID: id}
	login := s.Must(tb, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": id, "login_name": "admin", "password": "correct horse battery"}).JSON(tb)
	a.AdminToken = login["token"].(string)
	key := s.Must(tb, 201, "POST", "/api/v1/accounts/"+id+"/publisher-keys", a.AdminToken, map[string]string{"name": "platform"}).JSON(tb)
	a.Key = key["key"].(string)
	if enable {
		s.Must(tb, 200, "PATCH", "/api/v1/accounts/"+id, a.AdminToken, map[string]any{"audit_trail_enabled": true})
	}
	return a
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package export_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail/export"
)

// TestIdleWriter_DropsStalledClient checks that a client that reads
// nothing makes the export's write fail once the idle time has passed,
// though the export as a whole may last longer: the deadline is per write.
func TestIdleWriter_DropsStalledClient(t *testing.T) {
	const idle = 200 * time.Millisecond
	failed := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := export.NewIdleWriter(w, http.NewResponseController(w), idle)
		chunk := []byte(strings.Repeat("x", 32<<10) + "\n")
		for {
			if _, err := out.Write(chunk); err != nil {
				if !out.TimedOut() {
					t.Errorf("TimedOut after %v: got false, want true", err)
				}
				failed <- err
				return
			}
		}
	}))
	defer srv.Close()

	conn := dialSmall(t, srv.Listener.Addr().String())
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("write to a client that reads nothing: got %v, want a deadline error", err)
		}
	case <-time.After(time.Minute): // a hang, not a speed
		t.Fatal("the write to a client that reads nothing never failed")
	}
}

// TestIdleWriter_SlowReader checks that a client that keeps reading, however
// slowly in all, is not dropped: each write renews the deadline.
func TestIdleWriter_SlowReader(t *testing.T) {
	const idle = 500 * time.Millisecond
	const chunks = 8
	done := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := export.NewIdleWriter(w, http.NewResponseController(w), idle)
		for range chunks {
			if _, err := out.Write([]byte("line\n")); err != nil {
				done <- err
				return
			}
			if err := out.Flush(); err != nil {
				done <- err
				return
			}
			time.Sleep(idle / 4) // the whole answer takes longer than idle
		}
		done <- out.Close()
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || strings.Count(string(b), "line\n") != chunks {
		t.Fatalf("slow answer: got %q (%v), want %d lines", b, err, chunks)
	}
	if err := <-done; err != nil {
		t.Fatalf("writes to a client that reads: got %v, want nil", err)
	}
}

// TestIdleWriter_KeepAlive checks that the deadline of an export does not
// outlive it: the next request on the same connection, sent after the idle
// time, is answered (net/http lifts a handler's write deadline once the
// response is finished).
func TestIdleWriter_KeepAlive(t *testing.T) {
	const idle = 100 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/export" {
			out := export.NewIdleWriter(w, http.NewResponseController(w), idle)
			out.Write([]byte("exported\n"))
			if err := out.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			return
		}
		io.WriteString(w, strings.Repeat("next\n", 1000))
	}))
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	get := func(path string) (string, error) {
		if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return "", err
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if b, err := get("/export"); err != nil || b != "exported\n" {
		t.Fatalf("export: got %q (%v)", b, err)
	}
	time.Sleep(3 * idle)
	if b, err := get("/next"); err != nil || strings.Count(b, "next\n") != 1000 {
		t.Fatalf("the next request on the connection, after the idle time: got %d bytes (%v), want its whole answer", len(b), err)
	}
}

// dialSmall connects to addr with a small receive buffer, so that a
// client that reads nothing stops the server's writes soon.
func dialSmall(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetReadBuffer(4 << 10)
	}
	return conn
}

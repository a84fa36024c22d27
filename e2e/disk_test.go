//go:build linux

package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestDiskFailure makes the storage under a running server fail, two ways:
//
//   - FileSizeLimit lowers the server process's RLIMIT_FSIZE to 0 with
//     prlimit(2), so that every write to a file fails with EFBIG (the Go
//     runtime ignores the SIGXFSZ that comes with it), and raises it again.
//     It needs no privilege (a process may lower the limits of its own
//     user's children), so it runs everywhere on Linux.
//   - Tmpfs puts the data directory on a 16 MiB tmpfs and fills it up with
//     a file, which it then removes: a real full disk (ENOSPC). It needs to
//     mount, so it runs as root with CAP_SYS_ADMIN only, and is skipped,
//     saying so, elsewhere.
//
// While the storage fails, every POST answers 201 (its records stored) or
// 503 unavailable naming the trouble, never another status; reads still
// work and show nothing of a refused batch; /readyz answers 503 naming the
// trouble. Once the storage is back, the server recovers by itself, without
// a restart: /readyz answers 200, the refused batch retried with the same
// ids is stored once, and later writes succeed. Afterwards SQLite's
// integrity_check passes and `audittrail verify` holds.
func TestDiskFailure(t *testing.T) {
	t.Parallel()
	SQLiteOnly(t, "makes the disk under SQLite's files fail; PostgreSQL's disk is its server's")

	t.Run("FileSizeLimit", func(t *testing.T) {
		t.Parallel()
		srv := MustStart(t)
		var old syscall.Rlimit
		diskFailure(t, srv, "an I/O error",
			func(tb testing.TB) {
				tb.Helper()
				pid := srv.cmd.Process.Pid
				if err := prlimitFileSize(pid, nil, &old); err != nil {
					tb.Fatalf("prlimit: %v", err)
				}
				if err := prlimitFileSize(pid, &syscall.Rlimit{Cur: 0, Max: old.Max}, nil); err != nil {
					tb.Fatalf("prlimit: %v", err)
				}
			},
			func(tb testing.TB) {
				tb.Helper()
				if err := prlimitFileSize(srv.cmd.Process.Pid, &old, nil); err != nil {
					tb.Fatalf("prlimit: %v", err)
				}
			})
	})

	t.Run("Tmpfs", func(t *testing.T) {
		t.Parallel()
		mnt := filepath.Join(t.TempDir(), "mnt")
		if err := os.Mkdir(mnt, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=16m,mode=0700"); err != nil {
			t.Skipf("cannot mount a tmpfs here (%v): it needs root with CAP_SYS_ADMIN; FileSizeLimit makes the writes fail without privileges", err)
		}
		t.Cleanup(func() { // after the server has stopped
			if err := syscall.Unmount(mnt, 0); err != nil {
				t.Errorf("unmount %s: %v", mnt, err)
			}
		})
		srv := MustStartIn(t, filepath.Join(mnt, "data"))
		filler := filepath.Join(mnt, "filler")
		diskFailure(t, srv, "the disk is full",
			func(tb testing.TB) {
				tb.Helper()
				n, err := fill(filler)
				if err != nil {
					tb.Fatalf("fill the tmpfs: %v", err)
				}
				tb.Logf("filled the tmpfs with %d MiB", n>>20)
			},
			func(tb testing.TB) {
				tb.Helper()
				if err := os.Remove(filler); err != nil {
					tb.Fatal(err)
				}
			})
	})
}

// diskFailure runs the scenario of TestDiskFailure on srv: fail makes its
// storage fail, heal brings it back; trouble is what the 503s say.
func diskFailure(t *testing.T, srv *Server, trouble string, fail, heal func(testing.TB)) {
	a := srv.MustAccount(t, "disk", true)
	l := newLoad(srv.URL, a)
	b := 0
	for ; b < 3; b++ {
		l.mustAck(t, loadBatch(0, b, 50))
	}

	fail(t)
	failedAt := time.Now()
	// Big batches, until the storage's room (a WAL that a checkpoint had
	// rewound) is used up.
	var refused []map[string]any
	for ; refused == nil && b < 200; b++ {
		items := loadBatch(0, b, 500)
		r, err := l.post(items)
		if err != nil {
			t.Fatal(err)
		}
		switch r.Status {
		case 201:
			l.ack(t, items, r, 1, time.Now())
		case 503:
			mustUnavailable(t, r, trouble)
			refused = items
		default:
			t.Fatalf("POST records on a failing disk: got status %d, want 201 or 503: %s", r.Status, r.Body)
		}
	}
	if refused == nil {
		t.Fatalf("got no 503 after %d batches on a failing disk", b)
	}
	t.Logf("first 503 after %d batches: %s", b-3, srv.Do(t, "GET", "/readyz", "", nil).Body)
	for range 3 {
		r, err := l.post(refused)
		if err != nil {
			t.Fatal(err)
		}
		mustUnavailable(t, r, trouble)
	}
	mustUnavailable(t, srv.Do(t, "GET", "/readyz", "", nil), trouble)
	// Another kind of write, a small one: it may fit in the room that the
	// refused batch left in the WAL; then it is stored.
	other := srv.Do(t, "POST", "/api/v1/accounts", OperatorToken, map[string]any{
		"id": "other", "name": "Other",
		"admin": map[string]any{"login_name": "admin", "name": "Ada Admin", "email": "ada@example.com", "password": "correct horse battery"},
	})
	if other.Status != 201 {
		mustUnavailable(t, other, trouble)
	}
	// A read must be in the access log before it answers (SPEC §11): on a
	// disk that cannot write, reads are refused too, with 503.
	MustError(t, srv.Do(t, "GET", a.path("/records"), a.AdminToken, nil), 503, "unavailable")

	heal(t)
	healedAt := time.Now()
	deadline := time.Now().Add(time.Minute)
	for {
		r := srv.Do(t, "GET", "/readyz", "", nil)
		if r.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz a minute after the disk came back: got %d, want 200: %s", r.Status, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("failing for %s; ready again %s after the disk came back", healedAt.Sub(failedAt).Round(time.Millisecond), time.Since(healedAt).Round(time.Millisecond))
	// Reads work again, and show the acknowledged records and nothing else.
	recs := srv.exportAll(t, a)
	mustStoredOnce(t, recs, l.acked, nil)
	if got := countLoad(recs); got != len(l.acked) {
		t.Fatalf("records of the load: got %d, want the %d acknowledged", got, len(l.acked))
	}
	l.mustAck(t, refused)
	l.mustAck(t, refused) // a retry of a stored batch answers the records first stored
	for range 3 {
		l.mustAck(t, loadBatch(0, b, 500))
		b++
	}

	recs = srv.exportAll(t, a)
	mustStoredOnce(t, recs, l.acked, nil)
	if got := countLoad(recs); got != len(l.acked) {
		t.Fatalf("records of the load: got %d, want the %d acknowledged", got, len(l.acked))
	}
	login := srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": "other", "login_name": "admin", "password": "correct horse battery"})
	if other.Status == 201 && login.Status != 200 {
		t.Fatalf("account created with 201 on the failing disk: login got %d, want 200: %s", login.Status, login.Body)
	} else if other.Status != 201 && login.Status == 200 {
		t.Fatalf("account refused with %d on the failing disk: login got 200, want it unknown", other.Status)
	}
	t.Logf("the small write on the failing disk got %d", other.Status)
	if strings.Contains(srv.Logs(), "panic") {
		t.Fatalf("the server panicked:\n%s", srv.Logs())
	}
	srv.Stop(t)
	mustStorageIntact(t, srv.Data)
	mustVerify(t, srv.Data, a.ID)
}

// mustUnavailable checks that r is 503 unavailable in the contract's error
// body, and that its message names the trouble.
func mustUnavailable(tb testing.TB, r *Response, trouble string) {
	tb.Helper()
	e := MustError(tb, r, 503, "unavailable")
	if !strings.Contains(e.Message, trouble) {
		tb.Fatalf("message: got %q, want it to name the trouble, %q", e.Message, trouble)
	}
}

// countLoad counts the records that a load's items made.
func countLoad(recs []Record) int {
	n := 0
	for _, r := range recs {
		if strings.HasPrefix(r.ObjectID, loadPrefix) {
			n++
		}
	}
	return n
}

// fill writes zeros to a new file at path until the file system is full,
// and returns how many bytes it wrote.
func fill(path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var n int64
	for {
		m, err := f.Write(buf)
		n += int64(m)
		if errors.Is(err, syscall.ENOSPC) {
			return n, nil
		} else if err != nil {
			return n, err
		} else if n > 1<<30 {
			return n, fmt.Errorf("wrote 1 GiB and the file system is not full")
		}
	}
}

// prlimitFileSize sets the RLIMIT_FSIZE of process pid to lim when lim is
// not nil, and stores the limit it had in old when old is not nil.
func prlimitFileSize(pid int, lim, old *syscall.Rlimit) error {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_FSIZE,
		uintptr(unsafe.Pointer(lim)), uintptr(unsafe.Pointer(old)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

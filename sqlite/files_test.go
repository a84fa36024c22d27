package sqlite_test

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audittrail/audittrail/sqlite"
	"github.com/audittrail/audittrail/store"
	"github.com/audittrail/audittrail/storetest"
)

// TestDB_FileModes checks that the database's directory is 0700 and its
// files (the database, its WAL and its shared-memory file) 0600 once it is
// open (issue 14 item 8): a directory and files open to other users are
// made private with a warning, and a directory the service must not change
// is refused.
func TestDB_FileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not say who may read a file on Windows")
	}
	files := func(path string) []string { return []string{path, path + "-wal", path + "-shm"} }
	checkModes := func(t *testing.T, path string) {
		t.Helper()
		checkMode(t, filepath.Dir(path), 0o700)
		for _, name := range files(path) {
			checkMode(t, name, 0o600)
		}
	}

	t.Run("New", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "audittrail.db")
		db, logs := openLogged(t, path)
		mustWrite(t, db, "new")
		checkModes(t, path)
		if logs.String() != "" {
			t.Errorf("a new private directory: got warnings %q, want none", logs.String())
		}
	})

	t.Run("OpenDirectoryFixed", func(t *testing.T) {
		// A data directory of 0755 with files of 0644, as an older version
		// or a hand-made directory left them.
		dir := filepath.Join(t.TempDir(), "data")
		path := filepath.Join(dir, "audittrail.db")
		db, _ := openLogged(t, path)
		mustWrite(t, db, "before")
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		for _, name := range files(path)[1:] {
			if err := os.WriteFile(name, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range files(path) {
			chmod(t, name, 0o644)
		}
		chmod(t, dir, 0o755)

		db, logs := openLogged(t, path)
		mustWrite(t, db, "after")
		checkModes(t, path)
		for _, name := range append([]string{dir}, files(path)...) {
			if !strings.Contains(logs.String(), name+" ") {
				t.Errorf("warnings %q: want one naming %s", logs.String(), name)
			}
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "changed its mode to 0700") ||
			!strings.Contains(logs.String(), "mode_was=0755") {
			t.Errorf("warnings %q: want a warning that the directory's mode 0755 was changed to 0700", logs.String())
		}
	})

	t.Run("ErrSharedDirectory", func(t *testing.T) {
		// A directory such as /tmp (sticky bit, open to all) is not the
		// service's to change: refused, and left as it was.
		dir := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		chmod(t, dir, 0o777|fs.ModeSticky)
		err := sqlite.NewDB(filepath.Join(dir, "audittrail.db"), nil).Open()
		if err == nil || !strings.Contains(err.Error(), "chmod 700 "+dir) || !strings.Contains(err.Error(), "0777") {
			t.Fatalf("Open in a shared directory: got %v, want an error that says to make it private", err)
		}
		checkMode(t, dir, 0o777)
		if _, err := os.Stat(filepath.Join(dir, "audittrail.db")); err == nil {
			t.Errorf("Open refused, but made a database file")
		}
	})

	t.Run("ErrNotOwned", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("giving a directory to another user needs root")
		}
		dir := filepath.Join(t.TempDir(), "theirs")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		chmod(t, dir, 0o755)
		if err := os.Chown(dir, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		err := sqlite.NewDB(filepath.Join(dir, "audittrail.db"), nil).Open()
		if err == nil || !strings.Contains(err.Error(), "belongs to user id 4242") || !strings.Contains(err.Error(), "chmod 700") {
			t.Fatalf("Open in another user's directory: got %v, want an error that says whose it is", err)
		}
		checkMode(t, dir, 0o755)
	})
}

// lockedBuffer is a bytes.Buffer that the logger may write from any goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// openLogged opens the backend at path with its warnings logged to the
// returned buffer, and closes it at the end of the test.
func openLogged(t *testing.T, path string) (*sqlite.DB, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	db := sqlite.NewDB(path, nil)
	db.Logger = slog.New(slog.NewTextHandler(logs, nil))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, logs
}

// mustWrite makes an account, so that the WAL holds a commit.
func mustWrite(t *testing.T, db *sqlite.DB, id string) {
	t.Helper()
	storetest.MustEnabledAccount(t, store.New(db), id, time.Now())
}

func chmod(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("mode of %s: got %04o, want %04o", filepath.Base(path), got, want)
	}
}

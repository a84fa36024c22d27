package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
)

// The database holds every account's trail, users and password hashes:
// its directory and files are the service's own. Open makes the directory
// 0700 and the database file, its WAL and its shared-memory file 0600. A
// directory open to other users is made private, with a warning, when the
// service owns it; one it does not own (or a shared one such as /tmp,
// with the sticky bit) is refused, since changing it could lock others out
// and leaving it would show them the database.
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// files returns the database file and the files SQLite keeps beside it.
func (db *DB) files() []string {
	return []string{db.Path, db.Path + "-wal", db.Path + "-shm"}
}

// secureFiles makes the database's directory private, creates the
// database file 0600 if it does not exist yet (SQLite gives its WAL and
// shared-memory files the database file's mode), and makes the files
// that exist private. Called before the database is opened, and again once
// it is open for the files SQLite made meanwhile.
func (db *DB) secureFiles() error {
	if runtime.GOOS == "windows" {
		return nil // modes do not say who may read a file there
	}
	dir := filepath.Dir(db.Path)
	if err := db.makePrivate(dir, dirMode, "data directory"); err != nil {
		return err
	}
	f, err := os.OpenFile(db.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("sqlite: create %s: %w", db.Path, err)
	}
	for _, name := range db.files() {
		if err := db.makePrivate(name, fileMode, "database file"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// makePrivate gives path the mode want when other users may use it,
// saying so in a warning; it refuses, with an error that says what to do,
// a path that the service does not own, or a shared directory.
func (db *DB) makePrivate(path string, want fs.FileMode, what string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	mode := fi.Mode().Perm()
	if mode&0o077 == 0 {
		return nil
	}
	refuse := func(why string) error {
		return fmt.Errorf("sqlite: the %s %s is open to other users (mode %04o) and %s: make it private (chmod %o %s), or choose another data directory", what, path, mode, why, want, path)
	}
	if fi.Mode()&fs.ModeSticky != 0 {
		return refuse("is a shared directory (sticky bit set), which the service does not change")
	}
	if uid, ok := ownerOf(fi); ok && uid != os.Geteuid() {
		return refuse(fmt.Sprintf("belongs to user id %d, not to the user the service runs as (%d)", uid, os.Geteuid()))
	}
	if err := os.Chmod(path, want); err != nil {
		return refuse(fmt.Sprintf("could not be changed: %v", err))
	}
	db.logger().Warn("the "+what+" was open to other users: changed its mode to "+fmt.Sprintf("%04o", want),
		"path", path, "mode_was", fmt.Sprintf("%04o", mode), "mode", fmt.Sprintf("%04o", want))
	return nil
}

func (db *DB) logger() *slog.Logger {
	if db.Logger != nil {
		return db.Logger
	}
	return slog.Default()
}

package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/audittrail/audittrail/postgres"
	"github.com/audittrail/audittrail/sqlite"
	"github.com/audittrail/audittrail/store"
)

// open opens the storage that the flags name, migrating it if needed, and
// brings the Merkle log of every account level with its records.
func (s *storageFlags) open() (*store.Store, error) {
	st, err := s.openStore(false)
	if err != nil {
		return nil, err
	}
	if err := st.CatchUp(context.Background()); err != nil {
		st.Close()
		return nil, fmt.Errorf("catch up the log: %w", err)
	}
	return st, nil
}

// openReadOnly opens the storage that the flags name for reading only: a
// command that checks storage (verify) never changes it, nor catches up
// its log. (export writes its access log entry, so it opens the storage
// read-write.)
func (s *storageFlags) openReadOnly() (*store.Store, error) {
	return s.openStore(true)
}

func (s *storageFlags) openStore(readOnly bool) (*store.Store, error) {
	if s.DB != "" {
		db := postgres.NewDB(s.DB, time.Now)
		db.ReadOnly = readOnly
		if err := db.Open(); err != nil {
			return nil, fmt.Errorf("open %s: %w", redactURL(s.DB), err)
		}
		return store.New(db), nil
	}
	if !readOnly {
		if err := os.MkdirAll(s.Data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	db := sqlite.NewDB(filepath.Join(s.Data, "audittrail.db"), time.Now)
	db.ReadOnly = readOnly
	db.Logger = s.Logger
	if err := db.Open(); err != nil {
		return nil, fmt.Errorf("open %s: %w", s.Data, err)
	}
	return store.New(db), nil
}

// redactURL hides the password of a database URL in messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the --db URL"
	}
	return u.Redacted()
}

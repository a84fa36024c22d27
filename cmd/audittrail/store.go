package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/postgres"
	"github.com/audittrail/audittrail/sqlite"
)

// open opens the storage that the flags name, migrating it if needed.
func (s *storageFlags) open() (audittrail.Store, error) {
	return s.openStore(false)
}

// openReadOnly opens the storage that the flags name for reading only: a
// command that checks storage (verify) or reads it (export) never changes it.
func (s *storageFlags) openReadOnly() (audittrail.Store, error) {
	return s.openStore(true)
}

func (s *storageFlags) openStore(readOnly bool) (audittrail.Store, error) {
	if s.DB != "" {
		db := postgres.NewDB(s.DB)
		db.ReadOnly = readOnly
		if err := db.Open(); err != nil {
			return nil, fmt.Errorf("open %s: %w", redactURL(s.DB), err)
		}
		return db, nil
	}
	if !readOnly {
		if err := os.MkdirAll(s.Data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	db := sqlite.NewDB(filepath.Join(s.Data, "audittrail.db"))
	db.ReadOnly = readOnly
	if err := db.Open(); err != nil {
		return nil, fmt.Errorf("open %s: %w", s.Data, err)
	}
	return db, nil
}

// redactURL hides the password of a database URL in messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the --db URL"
	}
	return u.Redacted()
}

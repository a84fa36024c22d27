package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/sqlite"
)

// openStore opens the storage that the flags name.
func (s *storageFlags) open() (audittrail.Store, error) {
	if s.DB != "" {
		return nil, errPostgres
	}
	if err := os.MkdirAll(s.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	db := sqlite.NewDB(filepath.Join(s.Data, "audittrail.db"))
	if err := db.Open(); err != nil {
		return nil, fmt.Errorf("open %s: %w", s.Data, err)
	}
	return db, nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/tlog"
)

// keyFlags name the checkpoint signing key: a file given by flag or
// environment; else, with the embedded store, checkpoint.key in the data
// directory, and with PostgreSQL, a key kept in the database so that every
// replica signs with the same one. Either is created on first start.
type keyFlags struct {
	File string
}

func (k *keyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.File, "checkpoint-key-file", "", "file holding the Ed25519 note key that signs checkpoints (default: checkpoint.key in --data, or with --db a key kept in the database; created on first start)")
}

// keyStore is a backend that keeps the checkpoint key for every replica.
type keyStore interface {
	LoadOrCreateKey(ctx context.Context, name string, create func() (string, error)) (string, error)
}

// checkpointKeyName is the name of the checkpoint key in a keyStore.
const checkpointKeyName = "checkpoint"

// signer loads the signing key, creating it when create is true and none
// exists yet.
func (k *keyFlags) signer(ctx context.Context, store audittrail.Store, s *storageFlags, create bool) (*tlog.Signer, error) {
	generate := tlog.GenerateKey
	if !create {
		generate = func() (string, error) {
			return "", errors.New("no checkpoint key has been made yet: start the service once")
		}
	}
	var backend audittrail.Backend
	if bs, ok := store.(interface{ Backend() audittrail.Backend }); ok {
		backend = bs.Backend()
	}
	if ks, ok := backend.(keyStore); ok && k.File == "" {
		skey, err := ks.LoadOrCreateKey(ctx, checkpointKeyName, generate)
		if err != nil {
			return nil, fmt.Errorf("checkpoint key: %w", err)
		}
		return tlog.NewSigner(skey)
	}
	path := k.File
	if path == "" {
		path = filepath.Join(s.Data, "checkpoint.key")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create && k.File == "" {
		skey, err := generate()
		if err != nil {
			return nil, err
		}
		if err := writeFileAtomic(path, []byte(skey+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("checkpoint key: %w", err)
		}
		b = []byte(skey)
	} else if err != nil {
		return nil, fmt.Errorf("checkpoint key: %w", err)
	}
	return tlog.NewSigner(strings.TrimSpace(string(b)))
}

// writeFileAtomic writes a new file whole or not at all: a temporary file
// beside it, synced, renamed into place, and the directory synced, so that
// a crash or a full disk during the first start never leaves a partial key
// that every later start would refuse.
func writeFileAtomic(path string, b []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

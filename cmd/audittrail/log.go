package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/audittrail/audittrail/tlog"
)

// keyFlags name the checkpoint signing key: a file given by flag or
// environment, else checkpoint.key in the data directory, created on first
// start.
type keyFlags struct {
	File string
}

func (k *keyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.File, "checkpoint-key-file", "", "file holding the Ed25519 note key that signs checkpoints (default: checkpoint.key in --data, created on first start)")
}

// signer loads the signing key, creating it when create is true and the
// default file does not exist yet.
func (k *keyFlags) signer(s *storageFlags, create bool) (*tlog.Signer, error) {
	path := k.File
	if path == "" {
		if s.DB != "" {
			return nil, errors.New("--checkpoint-key-file is required with --db: every replica must sign with the same key")
		}
		path = filepath.Join(s.Data, "checkpoint.key")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create && k.File == "" {
		skey, err := tlog.GenerateKey()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(skey+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("checkpoint key: %w", err)
		}
		b = []byte(skey)
	} else if err != nil {
		return nil, fmt.Errorf("checkpoint key: %w", err)
	}
	return tlog.NewSigner(strings.TrimSpace(string(b)))
}

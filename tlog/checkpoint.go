package tlog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Origin returns the origin line of an account's checkpoints.
func Origin(account string) string { return "audittrail/" + account }

// Checkpoint is the signed statement of a log's size and root (C2SP
// tlog-checkpoint).
type Checkpoint struct {
	Origin     string
	Size       uint64
	Hash       []byte
	Extensions []string // optional lines after the root hash
}

// String returns the checkpoint's note text.
func (c Checkpoint) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash))
	for _, e := range c.Extensions {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.String()
}

// maxCheckpointBytes bounds what ParseCheckpoint reads.
const maxCheckpointBytes = 16 << 10

// ParseCheckpoint reads a checkpoint's note text (without signatures).
func ParseCheckpoint(text string) (Checkpoint, error) {
	if len(text) > maxCheckpointBytes {
		return Checkpoint{}, errors.New("tlog: checkpoint too large")
	}
	if !strings.HasSuffix(text, "\n") {
		return Checkpoint{}, errors.New("tlog: checkpoint must end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, errors.New("tlog: checkpoint needs origin, size and root hash lines")
	}
	if lines[0] == "" {
		return Checkpoint{}, errors.New("tlog: checkpoint origin is empty")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || (lines[1] != "0" && strings.HasPrefix(lines[1], "0")) {
		return Checkpoint{}, fmt.Errorf("tlog: checkpoint size %q is not a decimal number", lines[1])
	}
	hash, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(hash) != 32 {
		return Checkpoint{}, fmt.Errorf("tlog: checkpoint root hash is not 32 bytes of base64")
	}
	for _, e := range lines[3:] {
		if e == "" {
			return Checkpoint{}, errors.New("tlog: empty extension line in checkpoint")
		}
	}
	return Checkpoint{Origin: lines[0], Size: size, Hash: hash, Extensions: lines[3:]}, nil
}

// KeyName is the name of the service's signing key in notes.
const KeyName = "audittrail"

// GenerateKey returns a new Ed25519 signer key in the note format.
func GenerateKey() (string, error) {
	skey, _, err := note.GenerateKey(rand.Reader, KeyName)
	return skey, err
}

// NewEphemeralSigner returns a signer with a new key that is kept nowhere:
// for tests and benchmarks, whose checkpoints need no verifier later.
func NewEphemeralSigner() (*Signer, error) {
	skey, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	return NewSigner(skey)
}

// Signer signs checkpoints.
type Signer struct {
	signer note.Signer
	vkey   string
}

// NewSigner returns a signer for a note signer key ("PRIVATE+KEY+name+hash+key").
func NewSigner(skey string) (*Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("tlog: checkpoint key: %w", err)
	}
	vkey, err := verifierKey(strings.TrimSpace(skey))
	if err != nil {
		return nil, err
	}
	return &Signer{signer: s, vkey: vkey}, nil
}

// verifierKey derives the public verifier key from a signer key.
func verifierKey(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return "", errors.New("tlog: malformed checkpoint key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("tlog: checkpoint key is not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// VerifierKey returns the public key in the note verifier-key form
// ("<name>+<hash>+<base64 key>").
func (s *Signer) VerifierKey() string { return s.vkey }

// Sign returns the signed note of c.
func (s *Signer) Sign(c Checkpoint) ([]byte, error) {
	return note.Sign(&note.Note{Text: c.String()}, s.signer)
}

// OpenCheckpoint verifies a signed checkpoint with a verifier key and
// returns it. It fails unless the note carries a valid signature of that key.
func OpenCheckpoint(signed []byte, vkey string) (Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: verifier key: %w", err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: checkpoint signature: %w", err)
	}
	return ParseCheckpoint(n.Text)
}

// SameRoot reports whether a checkpoint states the given root.
func (c Checkpoint) SameRoot(root []byte) bool { return bytes.Equal(c.Hash, root) }

package tlog_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/audittrail/audittrail/tlog"
)

// fuzzSignerKey is a fixed signer key, so that the seeds are the same from
// run to run. (A test key: it signs nothing outside the tests.)
const fuzzSignerKey = "PRIVATE+KEY+audittrail+8eb441bc+AeMqBViOWTdxZglQfP84D0oyxBD+oYnCDNlwkB+HE4H6"

// FuzzCheckpointKeys reads the keys of the integrity log: the signer key of
// --checkpoint-key-file and a verifier key as a client holds it. A signer
// key that reads signs checkpoints that its own verifier key opens,
// unchanged; a verifier key opens a checkpoint signed with fuzzSignerKey
// only if it is that key's public half.
func FuzzCheckpointKeys(f *testing.F) {
	real, err := tlog.NewSigner(fuzzSignerKey)
	if err != nil {
		f.Fatal(err)
	}
	vkey := real.VerifierKey()
	cp := tlog.Checkpoint{Origin: tlog.Origin("acme"), Size: 7, Hash: bytes.Repeat([]byte{9}, 32), Extensions: []string{"timestamp 1767322800"}}
	signed, err := real.Sign(cp)
	if err != nil {
		f.Fatal(err)
	}
	for _, k := range []struct{ skey, vkey string }{
		{fuzzSignerKey, vkey},
		{fuzzSignerKey + "\n", " " + vkey + "\r\n"},
		{strings.Replace(fuzzSignerKey, "audittrail", "other", 1), strings.Replace(vkey, "audittrail", "other", 1)},
		{strings.TrimPrefix(fuzzSignerKey, "PRIVATE+KEY+"), vkey + "="},
		{"PRIVATE+KEY+audittrail+00000000+AQ", "audittrail+00000000+AQ"},
		{"PRIVATE+KEY+a+b+c+d", "a+b+c+d"},
		{"PRIVATE+KEY+\x1b[31m+b8a9bf4e+AUhT", "\x1b[31m+b8a9bf4e+AQ"},
		{"", ""},
	} {
		f.Add(k.skey, k.vkey)
	}
	realKey := publicKey(vkey)
	f.Fuzz(func(t *testing.T, skey, vk string) {
		if s, err := tlog.NewSigner(skey); err == nil {
			note, err := s.Sign(cp)
			if err != nil {
				t.Fatalf("signer key %q reads but does not sign: %v", skey, err)
			}
			got, err := tlog.OpenCheckpoint(note, s.VerifierKey())
			if err != nil || got.String() != cp.String() {
				t.Fatalf("signer key %q: its own verifier key %q opens %q (%v), want %q", skey, s.VerifierKey(), got.String(), err, cp.String())
			}
		}
		got, err := tlog.OpenCheckpoint(signed, vk)
		if err != nil {
			return
		}
		if got.String() != cp.String() {
			t.Fatalf("verifier key %q opened %q, want %q", vk, got.String(), cp.String())
		}
		if k := publicKey(vk); !bytes.Equal(k, realKey) {
			t.Fatalf("verifier key %q (public key %x) opened a checkpoint signed by %x", vk, k, realKey)
		}
	})
}

// publicKey returns the Ed25519 public key of a note verifier key
// ("name+hash+base64(0x01 ‖ key)"), or nil.
func publicKey(vkey string) []byte {
	parts := strings.SplitN(strings.TrimSpace(vkey), "+", 3)
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(b) < 1 {
		return nil
	}
	return b[1:]
}

package tlog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/tlog"
	"github.com/gowebpki/jcs"
)

// leafVector is testdata/leaf-vector.json: a record as the API answers it,
// its canonical bytes (RFC 8785, without id and received_at) and its leaf
// hash, hex. docs/INTEGRITY.md walks through the same example.
type leafVector struct {
	Record    json.RawMessage `json:"record"`
	Canonical string          `json:"canonical"`
	LeafHash  string          `json:"leaf_hash"`
}

func readLeafVector(t *testing.T) leafVector {
	t.Helper()
	b, err := os.ReadFile("../testdata/leaf-vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var v leafVector
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("leaf-vector.json: %v", err)
	}
	if len(v.Record) == 0 || v.Canonical == "" || v.LeafHash == "" {
		t.Fatalf("leaf-vector.json: record, canonical and leaf_hash are all required")
	}
	return v
}

// TestLeafVector checks the test vector against the code: the record
// decoded as the API's JSON gives exactly the canonical bytes and the leaf
// hash of the vector.
func TestLeafVector(t *testing.T) {
	v := readLeafVector(t)
	var r audittrail.Record
	if err := json.Unmarshal(v.Record, &r); err != nil {
		t.Fatalf("record: %v", err)
	}
	if got := tlog.LeafData(&r); string(got) != v.Canonical {
		t.Errorf("LeafData:\ngot  %s\nwant %s", got, v.Canonical)
	}
	if got := hex.EncodeToString(tlog.LeafHash(&r)); got != v.LeafHash {
		t.Errorf("LeafHash: got %s, want %s", got, v.LeafHash)
	}
	// The record re-encoded by the service is the record of the vector.
	again, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, again, v.Record) {
		t.Errorf("the record does not survive a round trip through audittrail.Record:\ngot  %s\nwant %s", again, v.Record)
	}
}

// TestLeafVectorIndependent checks the vector by the definition alone, with
// no code of the service: RFC 8785 of the record's JSON without id and
// received_at, then SHA-256 of 0x00 and those bytes.
func TestLeafVectorIndependent(t *testing.T) {
	v := readLeafVector(t)
	var m map[string]any
	if err := json.Unmarshal(v.Record, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["id"]; !ok {
		t.Fatal("the vector's record has no id: it must be the record as the API answers it")
	}
	if _, ok := m["received_at"]; !ok {
		t.Fatal("the vector's record has no received_at: it must be the record as the API answers it")
	}
	delete(m, "id")
	delete(m, "received_at")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	canon, err := jcs.Transform(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(canon) != v.Canonical {
		t.Errorf("RFC 8785 of the record:\ngot  %s\nwant %s", canon, v.Canonical)
	}
	sum := sha256.Sum256(append([]byte{0x00}, v.Canonical...))
	if got := hex.EncodeToString(sum[:]); got != v.LeafHash {
		t.Errorf("SHA-256(0x00 ‖ canonical): got %s, want %s", got, v.LeafHash)
	}
	// The hasher of the tree agrees with the definition.
	if got := hex.EncodeToString(tlog.Hasher.HashLeaf([]byte(v.Canonical))); got != v.LeafHash {
		t.Errorf("tlog.Hasher.HashLeaf: got %s, want %s", got, v.LeafHash)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

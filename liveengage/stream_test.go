package liveengage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/audittrail/audittrail"
)

// maxWriter records the largest single write.
type maxWriter struct {
	bytes.Buffer
	max, writes int
}

func (w *maxWriter) Write(p []byte) (int, error) {
	w.max, w.writes = max(w.max, len(p)), w.writes+1
	return w.Buffer.Write(p)
}

// TestAnswerStreams checks that an answer goes out a few records at a
// time: with 80 records of 60 KB under 32 fields (150 MB of answer), no
// write holds more than the buffer and one record.
func TestAnswerStreams(t *testing.T) {
	req := &graphQLRequest{Query: "{auditData {a: newValue b: newValue}}"}
	c, errs := prepare(req)
	if errs != nil {
		t.Fatal(errs)
	}
	value := strings.Repeat("x", 60<<10)
	recs := make([]*audittrail.Record, 80)
	for i := range recs {
		recs[i] = &audittrail.Record{ObjectType: "skills", NewValue: value}
	}
	a := &Answer{h: &Handler{}, c: c, recs: recs, s: &search{accountID: "acme"}}
	var w maxWriter
	if _, err := a.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	record := 2*len(value) + 64
	if w.writes < 2 || w.max > flushAt+record {
		t.Errorf("%d writes, the largest %d bytes; want several, each at most %d", w.writes, w.max, flushAt+record)
	}
	var body struct {
		Data struct {
			AuditData []map[string]string `json:"auditData"`
		} `json:"data"`
	}
	if err := json.Unmarshal(w.Bytes(), &body); err != nil || len(body.Data.AuditData) != 80 || body.Data.AuditData[79]["b"] != value {
		t.Errorf("the streamed answer is not the whole answer: %v", err)
	}
}

// TestFragmentFanOut checks that a fragment spread many times is read
// once per selection set: twelve fragments, each spreading the next six
// times (6^11 spreads if each were walked), prepare in one pass.
func TestFragmentFanOut(t *testing.T) {
	var b strings.Builder
	b.WriteString("{auditData {...f0}}\n")
	for i := range 12 {
		fmt.Fprintf(&b, "fragment f%d on AuditData {", i)
		if i == 11 {
			b.WriteString(" element newValue")
		} else {
			for range 6 {
				fmt.Fprintf(&b, " ...f%d", i+1)
			}
		}
		b.WriteString("}\n")
	}
	c, errs := prepare(&graphQLRequest{Query: b.String()})
	if errs != nil {
		t.Fatal(errs)
	}
	if len(c.items) != 2 {
		t.Errorf("items: got %d, want 2 (element, newValue)", len(c.items))
	}
}

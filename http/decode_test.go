package http

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
)

func TestDecodeJSON(t *testing.T) {
	for _, tt := range []struct {
		name, body, code, mention string
	}{
		{"ErrUnknownField", `{"records":[{"object_typ":"users"}]}`, audittrail.EINVALIDJSON, "object_typ"},
		{"ErrSyntax", `{"records": [}`, audittrail.EINVALIDJSON, "byte"},
		{"ErrType", `{"records": {"a":1}}`, audittrail.EINVALIDJSON, "records"},
		{"ErrEmpty", ``, audittrail.EINVALIDJSON, "empty"},
		{"ErrTrailing", `{"records":[]} {}`, audittrail.EINVALIDJSON, "more than one"},
		{"ErrTruncated", `{"records":[`, audittrail.EINVALIDJSON, "early"},
		{"ErrTooLarge", `{"records":["` + strings.Repeat("x", MaxBodyBytes) + `"]}`, audittrail.EBODYTOOLARGE, "MiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, MaxBodyBytes)
			var v struct {
				Records []ingest.RecordInput `json:"records"`
			}
			err := decodeJSON(r, &v)
			if code := audittrail.ErrorCode(err); code != tt.code {
				t.Fatalf("got %s (%v), want %s", code, err, tt.code)
			}
			if msg := audittrail.ErrorMessage(err); !strings.Contains(msg, tt.mention) {
				t.Fatalf("got message %q, want it to mention %q", msg, tt.mention)
			}
		})
	}
}

// FuzzIngest feeds request bodies through the ingest decoder and the
// ingester: whatever the input, the answer is records or a client error
// with a code of the contract, never a panic or an internal error.
func FuzzIngest(f *testing.F) {
	for _, s := range []string{
		`{"records":[{"object_type":"users","object_id":"1","object_name":"Bob","action_type":"edit","element":"email","old_value":"a@x","new_value":"b@x","originator":{"name":"Ada"}}]}`,
		`{"records":[{"object_type":"logins","object_name":"x","action_type":"add","element":"e","originator":{"name":"A"}}]}`,
		`{"records":[{"object_type":"skills","object_name":"S","action_type":"add","element":"e","new_value":[1,"a",{"b":null}],"date":"2026-11-25T11:00:00Z","originator":{"name":"A","profiles":["x"]}}]}`,
		`{"changes":[{"object_type":"users","object_id":7,"object_name":"Bob","before":{"a":{"b":[1,2]}},"after":{"a":{"b":[2,1]},"password":"x"},"originator":{"name":"A"}}]}`,
		`{"changes":[{"object_type":"users","object_name":"Bob","before":null,"after":null,"originator":{"name":"A"}}]}`,
		`{"records":[]}`, `{}`, `[]`, `{"records":[{"id":"k","old_value":1e400}]}`, "{\"records\":[{\"object_name\":\"\xff\"}]}",
	} {
		f.Add([]byte(s))
	}
	cat, _ := audittrail.NewCatalog(nil)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	in := ingest.New(cat, func() time.Time { return now })
	at := now.Add(-time.Hour)
	acct := &audittrail.Account{ID: "acme", AuditTrailEnabled: true, AuditTrailEnabledAt: &at}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(string(body)))
		var v struct {
			Records []ingest.RecordInput `json:"records"`
			Changes []ingest.ChangeInput `json:"changes"`
		}
		err := decodeJSON(r, &v)
		if err == nil {
			if len(v.Records) > 0 || len(v.Changes) == 0 {
				_, err = in.PrepareRecords(acct, v.Records, "fuzz")
			} else {
				_, err = in.PrepareChanges(acct, v.Changes, "fuzz")
			}
		}
		if err != nil {
			if status := ErrorStatusCode(audittrail.ErrorCode(err)); status < 400 || status >= 500 {
				t.Fatalf("got %v (status %d), want a client error", err, status)
			}
		}
	})
}

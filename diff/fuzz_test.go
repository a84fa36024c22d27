package diff_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/diff"
)

// FuzzCompute feeds Compute two JSON documents, before and after (null for
// an add or a delete), and checks what must hold for any input: no panic,
// an object compared with itself has no changes, sensitive values never
// leave in the clear, and the output depends only on the input.
func FuzzCompute(f *testing.F) {
	for _, seed := range []string{
		`null {"name":"Ann","email":"ann@example.com","max_chats":3,"enabled":true}`,
		`{"login_name":"ann","skills":["b","a"]} null`,
		`{"name":"Ann"} {"name":"Anna"}`,
		`{"routing":{"max_wait":30,"mode":"fifo"}} {"routing":{"max_wait":45,"mode":"fifo"}}`,
		`{"member_of":["a","a","b"]} {"member_of":["b","a"]}`,
		`{"member_of":["a, b"]} {"member_of":["a","b"]}`,
		`{"shifts":[{"day":"mon","from":9}]} {"shifts":[{"from":9,"day":"mon"},{"day":"tue"}]}`,
		`{"a":{"b":1}} {"a":2}`,
		`{"max_chats":1} {"max_chats":1.0}`,
		`{"password":"old","api_key":"k","auth":{"token":"t"}} {"password":"","api_key":["k2"],"auth":{"token":null}}`,
		`{"nickname":null,"a":{}} {"a.b":1,"a":{"c":[[1,2],{"x":"<&>"}]}}`,
		`{"a.b":1,"a":{"b":2}} {}`,
		`{"":1} {"x":{"":2}}`,
		`{"k":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]} {"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":1}}}}}}}}}}}}}}}}}`,
		`{"n":1e400,"m":-0,"s":"\u0000\ud800"} {"n":1E+2,"m":0.0}`,
	} {
		f.Add([]byte(seed))
	}
	users, err := audittrail.NewCatalog(nil)
	if err != nil {
		f.Fatal(err)
	}
	typ, _ := users.Type("users")

	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var before, after map[string]any
		if dec.Decode(&before) != nil || dec.Decode(&after) != nil {
			t.Skip()
		}

		got, err := diff.Compute(typ, before, after)
		again, err2 := diff.Compute(typ, before, after)
		if !slices.Equal(got, again) || audittrail.ErrorMessage(err) != audittrail.ErrorMessage(err2) {
			t.Fatalf("got %v (%v), want %v (%v)", again, err2, got, err)
		}
		if err != nil {
			if code := audittrail.ErrorCode(err); code != audittrail.EVALIDATION {
				t.Fatalf("got %v, want %v", code, audittrail.EVALIDATION)
			}
			return
		}
		if before == nil && after == nil {
			t.Fatalf("got %v, want an error for both nil", got)
		}
		keys := map[string]bool{}
		for _, c := range got {
			if c.Key == "" || keys[c.Key] {
				t.Fatalf("got key %q twice or empty in %v", c.Key, got)
			}
			keys[c.Key] = true
			if c.Sensitive && (c.Old != "" && c.Old != audittrail.Redacted || c.New != "" && c.New != audittrail.Redacted) {
				t.Fatalf("got %+v, want redacted values", c)
			}
			switch {
			case before == nil && (c.Action != audittrail.ActionAdd || c.Old != "" || c.New == ""):
				t.Fatalf("got %+v, want an add with a new value", c)
			case after == nil && (c.Action != audittrail.ActionDelete || c.New != "" || c.Old == ""):
				t.Fatalf("got %+v, want a delete with an old value", c)
			case before != nil && after != nil && c.Action != audittrail.ActionEdit:
				t.Fatalf("got %+v, want an edit", c)
			}
		}

		for _, x := range []map[string]any{before, after} {
			if x == nil {
				continue
			}
			if same, err := diff.Compute(typ, x, x); err != nil || len(same) != 0 {
				t.Fatalf("got %v, %v, want no changes for an object against itself", same, err)
			}
		}
		if before != nil && after != nil {
			back, err := diff.Compute(typ, after, before)
			if err != nil || len(back) != len(got) {
				t.Fatalf("got %v, %v, want %d changes the other way round", back, err, len(got))
			}
		}
	})
}

package audittrail

import (
	"encoding/json"
	"reflect"
	"testing"
)

// originators are stored forms, as json.Marshal writes them, and others
// that decodeOriginator must hand to json.Unmarshal.
var originators = []string{
	`{"id":"o-1","name":"Olivia Admin"}`,
	`{"id":"o-1","name":"Olivia Admin","login_name":"olivia","employee_id":"E1","profiles":["Administrator","Agent"],"user_agent":"curl/8","auth_type":"sso","is_lpa":true}`,
	// jsonb's forms: one space after each colon and comma.
	`{"id": "o-1", "name": "Olivia Admin"}`, `{"id": "a", "is_lpa": true, "profiles": ["Administrator", "Agent"]}`, `{"profiles": []}`,
	`{"id":  "a"}`, `{"id": "a",  "name": "b"}`, `{"profiles": ["a",  "b"]}`, `{"id" : "a"}`,
	`{"id":"","name":""}`, `{}`, `{"id":"a","profiles":[]}`, `{"is_lpa":false}`, `{"id":"Zoë","name":"日本語 🎉"}`,
	`{"id":"a","id":"b"}`, `{"profiles":["a"],"profiles":["b","c"]}`, `{"is_lpa":true,"is_lpa":false}`,
	// json.Unmarshal's business: escapes, spaces, case, nulls, other keys,
	// numbers, invalid UTF-8, and what is not JSON at all.
	`{"id":"say \"hi\"","name":"back\\slash"}`, `{"name":"line\nbreak\u2028\ud83c\udf89"}`, `{"name":"<\u003c&>"}`,
	`{ "id": "a" }`, ` {"id":"a"}`, `{"id":"a"} `, `{"ID":"a","Name":"b"}`, `{"id":null,"name":"b"}`, `{"profiles":null}`,
	`{"extra":"x","id":"a"}`, `{"id":1}`, `{"is_lpa":1}`, `{"is_lpa":"true"}`, "{\"name\":\"bad \xff\"}", "{\"name\":\"tab\tin\"}",
	`{"id":"a",}`, `{"id":"a"`, `{"id":"a}`, `{"profiles":["a",]}`, `{"profiles":["a"`, `{"profiles":[1]}`, `{"id":"a"}x`,
	`{"is_lpa":tru}`, `{"is_lpa":truex}`, `[]`, `null`, `""`, ``, `{`, `}`, `{"id"}`, `{"id":}`,
}

// TestDecodeOriginator checks that DecodeOriginator answers what
// json.Unmarshal answers, error or value.
func TestDecodeOriginator(t *testing.T) {
	for _, s := range originators {
		checkDecodeOriginator(t, s)
	}
	// What the store writes decodes on the fast path.
	for _, o := range []Originator{{ID: "o", Name: "n"}, {ID: "o", Name: "n", LoginName: "l", EmployeeID: "e",
		Profiles: []string{"p"}, UserAgent: "u", AuthType: "a", IsLPA: true}} {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var got Originator
		if !decodeOriginatorFast(string(b), &got) || !reflect.DeepEqual(got, o) {
			t.Errorf("decodeOriginatorFast(%s): got %+v, want %+v on the fast path", b, got, o)
		}
	}
	// And what PostgreSQL prints of a jsonb column.
	jsonb := `{"id": "o", "name": "n", "is_lpa": true, "profiles": ["p", "q"], "auth_type": "a"}`
	want := Originator{ID: "o", Name: "n", IsLPA: true, Profiles: []string{"p", "q"}, AuthType: "a"}
	if got := (Originator{}); !decodeOriginatorFast(jsonb, &got) || !reflect.DeepEqual(got, want) {
		t.Errorf("decodeOriginatorFast(%s): got %+v, want %+v on the fast path", jsonb, got, want)
	}
}

func FuzzDecodeOriginator(f *testing.F) {
	for _, s := range originators {
		f.Add(s)
	}
	f.Fuzz(checkDecodeOriginator)
}

func checkDecodeOriginator(t *testing.T, s string) {
	t.Helper()
	var got, want Originator
	err := DecodeOriginator(s, &got)
	wantErr := json.Unmarshal([]byte(s), &want)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("DecodeOriginator(%q): got error %v, want %v", s, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeOriginator(%q): got %#v, want %#v", s, got, want)
	}
}

package ingest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestDecodeValueFastPath checks that plain strings, read without the
// decoder, decode to what the decoder makes of them.
func TestDecodeValueFastPath(t *testing.T) {
	for _, raw := range []string{`"plain"`, `""`, `"é 日本 😀"`, `"with \"escape\""`, `"tab\tx"`, `"\u00e9"`, `"a\\b"`, `12`, `null`, `["b","a"]`, `{"a":1}`, `"<b>&</b>"`} {
		got, err := decodeValue(json.RawMessage(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", raw, got, want)
		}
	}
}

package audittrail

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestIsSensitiveName checks SPEC §2's rule: names that fold (NFKC, case
// folding, no spaces, '.', '_', '-') to hold a secret's word.
func TestIsSensitiveName(t *testing.T) {
	for _, n := range []string{"password", "PassWord", "user_passwd", "passphrase", "client_secret", "Token", "refresh-token",
		"api_key", "API-Key", "apikey", "api key", "Api Key", "api.key", "api__key", "private_key", "PrivateKey", "private key",
		"private.key", "api_Key", "paſsword", "ＡＰＩ＿ＫＥＹ", "api\u200bkey", "Pass\u00a0word", "secretary", "tok en", "pass_word"} {
		if !IsSensitiveName(n) {
			t.Errorf("IsSensitiveName(%q): got false, want true", n)
		}
	}
	for _, n := range []string{"email", "max_chats", "", "key", "api", "private", "description", "tokn"} {
		if IsSensitiveName(n) {
			t.Errorf("IsSensitiveName(%q): got true, want false", n)
		}
	}
}

// FuzzFoldName checks that the ASCII fast path of FoldName folds as the
// Unicode path does.
func FuzzFoldName(f *testing.F) {
	for _, s := range []string{"password", "API_KEY", "private-key", "email", "Api Key", "a.b_c-d\te"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				return
			}
		}
		if got, want := FoldName(s), foldUnicode(s); got != want {
			t.Fatalf("FoldName(%q): got %q, want %q (the Unicode path)", s, got, want)
		}
	})
}

// TestSensitivePath checks that walking a dotted path a key at a time
// answers what IsSensitiveName answers for the whole path, however the
// words fall across the keys.
func TestSensitivePath(t *testing.T) {
	for _, path := range [][]string{
		{"api", "key"}, {"private", "key"}, {"config", "api", "key"}, {"pass", "word"}, {"x", "pa", "ss", "ph", "ra", "se"},
		{"a", "b"}, {"config", "x"}, {"api"}, {"very_long_segment_name_with_api", "key"}, {"very_long_segment_name", "api_key"},
		{"passphras", "e"}, {"p", "a", "s", "s", "p", "h", "r", "a", "s", "e"}, {"ＡＰＩ", "ｋｅｙ"}, {"Private", "Key"},
	} {
		if got, want := walkPath(path), IsSensitiveName(strings.Join(path, ".")); got != want {
			t.Errorf("SensitivePath over %q: got %v, want %v", path, got, want)
		}
	}
}

// walkPath reports whether SensitivePath finds path sensitive at its end
// or on the way.
func walkPath(path []string) bool {
	tail := ""
	for _, k := range path {
		var sensitive bool
		if tail, sensitive = SensitivePath(tail, k); sensitive {
			return true
		}
	}
	return false
}

// FuzzSensitivePath checks the walk against the whole path on any text.
func FuzzSensitivePath(f *testing.F) {
	for _, s := range []string{"api.key", "config.api.key", "pass.phr.ase", "a.b", "ＡＰＩ.ｋｅｙ", "x.private.key.y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if parts := strings.Split(s, "."); walkPath(parts) != IsSensitiveName(s) {
			t.Fatalf("SensitivePath over %q: got %v, want %v", parts, walkPath(parts), IsSensitiveName(s))
		}
	})
}

// TestDescribe checks the one rule both ingestion routes use: the catalog's
// mark, on the element or a dotted prefix, and the folded names.
func TestDescribe(t *testing.T) {
	typ := &ObjectType{Key: "widgets", Elements: []Element{{Key: "pin", Label: "PIN", Sensitive: true}, {Key: "color", Label: "Colour"}}}
	for _, tt := range []struct {
		typ       *ObjectType
		name      string
		label     string
		sensitive bool
	}{
		{typ, "pin", "PIN", true}, {typ, "PIN", "PIN", true}, {typ, "pin.code", "Pin code", true}, {typ, "color", "Colour", false},
		{typ, "api.key", "Api key", true}, {typ, "Api Key", "Api Key", true}, {typ, "private.key", "Private key", true},
		{typ, "color.api_key", "Color api key", true}, {typ, "color.name", "Color name", false},
		{nil, "api.key", "Api key", true}, {nil, "pin.code", "Pin code", false}, {nil, "name", "Name", false},
	} {
		label, sensitive := tt.typ.Describe(tt.name)
		if label != tt.label || sensitive != tt.sensitive {
			t.Errorf("Describe(%q): got %q, %v; want %q, %v", tt.name, label, sensitive, tt.label, tt.sensitive)
		}
	}
}

func BenchmarkIsSensitiveName(b *testing.B) {
	for _, n := range []string{"max_chats", "Max no. of live chats", "routing.max_wait", "password", "Ｍａｘ ｎｏ. ｏｆ ｌｉｖｅ ｃｈａｔｓ"} {
		b.Run(n, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				IsSensitiveName(n)
			}
		})
	}
}

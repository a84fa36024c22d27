package audittrail

import (
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

package audittrail

import "testing"

// TestIsSensitiveNameFastPath checks that the ASCII fast path of
// IsSensitiveName means what the pattern means.
func TestIsSensitiveNameFastPath(t *testing.T) {
	names := []string{"password", "PassWord", "user_passwd", "client_secret", "Token", "refresh-token", "api_key", "API-Key", "apikey",
		"api key", "api__key", "private_key", "PrivateKey", "private key", "email", "max_chats", "pass_word", "secretary", "", "tok en", "paſsword", "api_Key"}
	for _, n := range names {
		if got, want := IsSensitiveName(n), sensitivePattern.MatchString(n); got != want {
			t.Errorf("IsSensitiveName(%q): got %v, want %v (the pattern)", n, got, want)
		}
	}
}

func FuzzIsSensitiveName(f *testing.F) {
	for _, s := range []string{"password", "API_KEY", "private-key", "email", "paſsword"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := IsSensitiveName(s), sensitivePattern.MatchString(s); got != want {
			t.Fatalf("IsSensitiveName(%q): got %v, want %v (the pattern)", s, got, want)
		}
	})
}

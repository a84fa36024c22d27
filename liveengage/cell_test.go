package liveengage

import "testing"

// TestSafeCell checks the export's formula defusing: every trigger gets a
// quote, but for plain numbers (SPEC §10).
func TestSafeCell(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"-1", "-1"}, {"+3", "+3"}, {"1e5", "1e5"}, {"-0.5", "-0.5"}, {"+.5E-3", "+.5E-3"}, {"42", "42"},
		{"", ""}, {"Sales", "Sales"},
		{"=1+1", "'=1+1"}, {"@mallory", "'@mallory"}, {"-5 days", "'-5 days"}, {"+1-2", "'+1-2"}, {"-Inf", "'-Inf"},
		{"-", "'-"}, {"+", "'+"}, {"-1e", "'-1e"}, {"-0x10", "'-0x10"}, {"\t1", "'\t1"}, {"\r1", "'\r1"}, {"-1\n=cmd", "'-1\n=cmd"},
		// Past white space, invisible characters and quotes, and full-width forms (issue 14).
		{" =1+1", "' =1+1"}, {"\n=1+1", "'\n=1+1"}, {"\u00a0=1", "'\u00a0=1"}, {"\u200b=1", "'\u200b=1"}, {"\ufeff=1", "'\ufeff=1"},
		{"\uff1d1+1", "'\uff1d1+1"}, {"\uff0b1", "'\uff0b1"}, {"\uff0d1", "'\uff0d1"}, {"\uff20x", "'\uff20x"}, {" -1", "' -1"}, {"\"=1", "'\"=1"},
	} {
		if got := safeCell(tt.in); got != tt.want {
			t.Errorf("safeCell(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

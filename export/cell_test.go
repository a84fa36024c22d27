package export_test

import (
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/audittrail/audittrail/export"
)

// TestSafeCellForms checks SPEC §6 "no cell of any export is ever a formula"
// past what a spreadsheet skips or does not show before a formula.
func TestSafeCellForms(t *testing.T) {
	for _, v := range []string{
		"=1+1", "+1", "-1", "@SUM(1)", "\t1", "\r1", "\t", "\r",
		" =1+1", "  +1", "\n=1+1", "\r\n=1", "\v=1", "\f=1", "\u0085=1", // white space
		"\u00a0=1+1", "\u2007=1", "\u3000=1", "\u2028=1", // no-break, figure, ideographic space, line separator
		"\u200b=1+1", "\ufeff=1+1", "\u2060=1", "\u200e=1", "\u200f=1", "\u061c=1", // zero-width, BOM, joiner, bidi marks
		"\u202a=1", "\u202e=1", "\u2066=1", "\u2069=1", "\u00ad=1", "\u034f=1", "\ufe0f=1", "\u3164=1", // bidi, soft hyphen, ignorables
		"\x00=1", "\x1b=1", // controls
		"'=1", "\"=1", "\u201c=1", "\u2018@x", "\uff02=1", // quotes
		"\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(1)", "\ufe661", "\ufe621", "\ufe631", "\ufe6bx", "\u22121", "\u207c1", "\u208b1", "\ufb291", // full-width, small, minus sign, super- and subscripts
		" \u200b\"\ufeff\u00a0\uff1dcmd|' /C calc'!A0", // all at once
	} {
		if got := export.SafeCell(v); got != "'"+v {
			t.Errorf("SafeCell(%q): got %q, want %q", v, got, "'"+v)
		}
	}
	for _, v := range []string{"", "Jane", " Jane", "\u200bJane", "a=1", "1+1", "e-mail", "x@y", "'quoted", "\"quoted\"", "ab\t=1", " 1",
		"\n1", "\u202eexe.txt", "   ", "\u200b", "\u0301=1", "\xff=1"} {
		if got := export.SafeCell(v); got != v {
			t.Errorf("SafeCell(%q): got %q, want it unchanged", v, got)
		}
	}
}

// FuzzSafeCell holds SafeCell to an independent statement of the rule: a
// value is prefixed exactly when it starts with a tab or a carriage return,
// or its first character that is not white space, a control, format or
// default-ignorable character or a quote reads, once NFKC-normalized, as =,
// +, - or @ or the minus sign.
func FuzzSafeCell(f *testing.F) {
	for _, s := range []string{"=1+1", " =1+1", "\n=1+1", "\u00a0=1", "\u200b=1", "\ufeff=1", "\uff1d1", "\uff0b1", "\uff0d1", "\uff20x",
		"'=1", "Jane", "-1", "", "\t", "\u202e=1", "\u2212 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := export.SafeCell(s)
		want := s
		if formula(s) {
			want = "'" + s
		}
		if got != want {
			t.Fatalf("SafeCell(%q): got %q, want %q", s, got, want)
		}
	})
}

func formula(s string) bool {
	if strings.HasPrefix(s, "\t") || strings.HasPrefix(s, "\r") {
		return true
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) ||
			strings.ContainsRune("'\"\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\uff02\uff07", r) {
			continue
		}
		if n := norm.NFKC.String(string(r)); n == "=" || n == "+" || n == "-" || n == "@" || n == "\u2212" {
			return true
		}
		return false
	}
	return false
}

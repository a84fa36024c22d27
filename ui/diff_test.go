package ui

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

func TestDiffHTML(t *testing.T) {
	for _, tt := range []struct {
		name, old, new, wantOld, wantNew string
	}{
		{"Equal", "same", "same", "same", "same"},
		{"Add", "", "new value", "", "new value"},
		{"Delete", "old value", "", "old value", ""},
		{"Word", "Max wait 60 seconds", "Max wait 90 seconds", "Max wait <del>60</del> seconds", "Max wait <ins>90</ins> seconds"},
		{"Phrase", "Handles billing questions", "Handles billing and refund questions",
			"Handles billing questions", "Handles billing <ins>and refund </ins>questions"},
		{"ListItem", "Agents, Managers, Take over conversations, Use content", "Agents, Managers, Use content",
			"Agents, Managers, <del>Take over conversations, </del>Use content", "Agents, Managers, Use content"},
		{"Replace", "Standard Business Hours", "Support Hours - EMEA",
			"<del>Standard Business</del> Hours", "<ins>Support</ins> Hours<ins> - EMEA</ins>"},
		{"Escaped", "<b>x</b>", "<b>y</b>", "&lt;b&gt;<del>x</del>&lt;/b&gt;", "&lt;b&gt;<ins>y</ins>&lt;/b&gt;"},
		{"Redacted", "********", "********", "********", "********"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, n := diffHTML(tt.old, tt.new)
			if string(o) != tt.wantOld || string(n) != tt.wantNew {
				t.Errorf("diffHTML(%q, %q):\ngot  %s | %s\nwant %s | %s", tt.old, tt.new, o, n, tt.wantOld, tt.wantNew)
			}
		})
	}
}

func TestDiffHTML_Large(t *testing.T) {
	// Values of 64 KiB that differ throughout are marked as a whole, fast.
	a := strings.Repeat("alpha beta ", 6000)
	b := strings.Repeat("gamma delta ", 6000)
	o, n := diffHTML(a, b)
	if !strings.HasPrefix(string(o), "<del>") || !strings.HasPrefix(string(n), "<ins>") {
		t.Errorf("got %.40s | %.40s, want the whole values marked", o, n)
	}
}

var tags = regexp.MustCompile(`</?(del|ins)>`)

func FuzzDiffHTML(f *testing.F) {
	f.Add("Handles billing questions", "Handles billing and refund questions")
	f.Add("a, b, c", "a, c, d")
	f.Add("<script>", "</script>")
	f.Add("é ü 漢字", "é 漢字 ü")
	f.Fuzz(func(t *testing.T, a, b string) {
		o, n := diffHTML(a, b)
		// The marks are the only tags: everything else is escaped.
		for _, side := range []string{string(o), string(n)} {
			if strings.Contains(tags.ReplaceAllString(side, ""), "<") {
				t.Fatalf("unescaped markup in %q", side)
			}
		}
		// Without the marks, each side is its value.
		// (html/template writes NUL as U+FFFD, as browsers read it.)
		nul := strings.NewReplacer("\x00", "\uFFFD")
		if got, want := html.UnescapeString(tags.ReplaceAllString(string(o), "")), nul.Replace(a); got != want {
			t.Fatalf("old side: got %q, want %q", got, want)
		}
		if got, want := html.UnescapeString(tags.ReplaceAllString(string(n), "")), nul.Replace(b); got != want {
			t.Fatalf("new side: got %q, want %q", got, want)
		}
	})
}

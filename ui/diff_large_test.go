package ui

import (
	"strings"
	"testing"
)

// TestDiffHTMLLarge: two values of 64 KiB, the limit, that differ from
// their first byte (so that the whole of both is marked) diff in linear
// work: a handful of allocations, not one copy of the text per word, which
// took seconds per record and let one batch of records stall the page.
func TestDiffHTMLLarge(t *testing.T) {
	old := strings.Repeat("CR\r\nLF ab, \x1b[31m <x> =y ", 3000)[:64<<10]
	new := "=" + old[:64<<10-1]
	if n := len(tokenize(old)); n < 40000 {
		t.Fatalf("got %d words, want a value of many words", n)
	}
	allocs := testing.AllocsPerRun(3, func() { diffHTML(old, new) })
	if allocs > 1000 {
		t.Fatalf("diffHTML of two 64 KiB values: got %.0f allocations, want at most 1000", allocs)
	}
}

package ui

import (
	"html/template"
	"strings"
	"unicode"
)

// maxDiffCells bounds the work of one diff: the product of the numbers of
// words that differ on each side. Past it, the differing middle is marked
// as a whole (values are at most 64 KiB, so this stays a few milliseconds).
const maxDiffCells = 1 << 20

type diffOp int

const (
	opEqual diffOp = iota
	opDelete
	opInsert
)

type diffSpan struct {
	op   diffOp
	text string
}

// diffHTML returns the old and the new value as HTML, escaped, with the
// words that the new value removed marked <del> in the old one and the
// words it added marked <ins> in the new one. Values that are equal, or of
// which one side is empty (an add or a delete), are not marked.
func diffHTML(oldValue, newValue string) (oldHTML, newHTML template.HTML) {
	if oldValue == newValue || oldValue == "" || newValue == "" {
		return template.HTML(template.HTMLEscapeString(oldValue)), template.HTML(template.HTMLEscapeString(newValue))
	}
	spans := diffWords(oldValue, newValue)
	return side(spans, opDelete, "del"), side(spans, opInsert, "ins")
}

// side renders one side of a diff: the equal spans and the spans of op,
// runs of op marked with tag (the other side's spans left out).
func side(spans []diffSpan, op diffOp, tag string) template.HTML {
	var b strings.Builder
	open := false
	for _, s := range spans {
		if s.op != opEqual && s.op != op {
			continue
		}
		if changed := s.op == op; changed != open {
			if changed {
				b.WriteString("<" + tag + ">")
			} else {
				b.WriteString("</" + tag + ">")
			}
			open = changed
		}
		b.WriteString(template.HTMLEscapeString(s.text))
	}
	if open {
		b.WriteString("</" + tag + ">")
	}
	return template.HTML(b.String())
}

// diffWords compares two texts word by word (runs of letters and digits,
// runs of spaces, and single punctuation marks) by their longest common
// subsequence, and returns the spans of both in order.
func diffWords(a, b string) []diffSpan {
	x, y := tokenize(a), tokenize(b)
	// The common head and tail need no table.
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	// The text of the last span grows in a builder: appending to a string
	// would copy it for every token, seconds for a 64 KiB value.
	var (
		spans []diffSpan
		last  strings.Builder
	)
	flush := func() {
		if len(spans) > 0 {
			spans[len(spans)-1].text = last.String()
		}
		last.Reset()
	}
	add := func(op diffOp, toks ...string) {
		for _, t := range toks {
			if len(spans) == 0 || spans[len(spans)-1].op != op {
				flush()
				spans = append(spans, diffSpan{op: op})
			}
			last.WriteString(t)
		}
	}
	add(opEqual, x[:pre]...)
	xm, ym := x[pre:len(x)-suf], y[pre:len(y)-suf]
	if len(xm)*len(ym) > maxDiffCells {
		add(opDelete, xm...)
		add(opInsert, ym...)
	} else {
		for _, op := range cleanup(lcs(xm, ym)) {
			add(op.op, op.text)
		}
	}
	add(opEqual, x[len(x)-suf:]...)
	flush()
	return spans
}

// lcs returns the edit of x into y, one token per span, deletions before
// insertions where they meet.
func lcs(x, y []string) []diffSpan {
	n, m := len(x), len(y)
	// t[i][j] is the length of the LCS of x[i:] and y[j:].
	t := make([][]int32, n+1)
	for i := range t {
		t[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				t[i][j] = t[i+1][j+1] + 1
			} else {
				t[i][j] = max(t[i+1][j], t[i][j+1])
			}
		}
	}
	var out []diffSpan
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			out = append(out, diffSpan{opEqual, x[i]})
			i, j = i+1, j+1
		case t[i+1][j] >= t[i][j+1]:
			out = append(out, diffSpan{opDelete, x[i]})
			i++
		default:
			out = append(out, diffSpan{opInsert, y[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, diffSpan{opDelete, x[i]})
	}
	for ; j < m; j++ {
		out = append(out, diffSpan{opInsert, y[j]})
	}
	return out
}

// cleanup folds into the change around it an equal run that holds no word
// (a space, a comma) and lies between two changes, so that a changed phrase
// is marked as one piece rather than word by word.
func cleanup(ops []diffSpan) []diffSpan {
	out := make([]diffSpan, 0, len(ops))
	for i := 0; i < len(ops); {
		if ops[i].op != opEqual {
			out = append(out, ops[i])
			i++
			continue
		}
		j := i
		hasWord := false
		for j < len(ops) && ops[j].op == opEqual {
			hasWord = hasWord || isWord(ops[j].text)
			j++
		}
		if !hasWord && i > 0 && j < len(ops) {
			for _, s := range ops[i:j] {
				out = append(out, diffSpan{opDelete, s.text}, diffSpan{opInsert, s.text})
			}
		} else {
			out = append(out, ops[i:j]...)
		}
		i = j
	}
	return out
}

func isWord(tok string) bool {
	for _, r := range tok {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// tokenize splits s into runs of letters and digits, runs of spaces, and
// single other characters.
func tokenize(s string) []string {
	var toks []string
	start, kind := 0, -1
	for i, r := range s {
		k := 2
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			k = 0
		} else if unicode.IsSpace(r) {
			k = 1
		}
		if k != kind || k == 2 {
			if i > start {
				toks = append(toks, s[start:i])
			}
			start, kind = i, k
		}
	}
	if start < len(s) {
		toks = append(toks, s[start:])
	}
	return toks
}

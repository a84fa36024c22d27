package main

import (
	"io"
	"strconv"
	"unicode/utf8"
)

// safeLogWriter writes JSON log lines with the characters that slog's JSON
// handler leaves raw but that a terminal or a log viewer would act on
// escaped as \uXXXX: C1 controls (U+0080–U+009F, which include CSI) and
// the bidirectional overrides, embeddings, isolates and marks (U+202A–
// U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), which can make a log line
// read otherwise than it is. They occur only inside JSON strings, where
// the escape means the same character, so the line stays the same JSON.
type safeLogWriter struct{ w io.Writer }

// unsafeInLog reports whether r is written escaped.
func unsafeInLog(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0x200e || r == 0x200f || r == 0x061c
}

func (s safeLogWriter) Write(p []byte) (int, error) {
	var out []byte
	for i := 0; i < len(p); {
		if p[i] < utf8.RuneSelf {
			if out != nil {
				out = append(out, p[i])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		if unsafeInLog(r) {
			if out == nil {
				out = append(make([]byte, 0, len(p)+16), p[:i]...)
			}
			out = append(out, `\u`...)
			h := strconv.FormatInt(int64(r), 16)
			for range 4 - len(h) {
				out = append(out, '0')
			}
			out = append(out, h...)
		} else if out != nil {
			out = append(out, p[i:i+n]...)
		}
		i += n
	}
	if out == nil {
		return s.w.Write(p)
	}
	if _, err := s.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

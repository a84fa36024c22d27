package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestSafeLogWriter checks that JSON log lines carry no raw C1 control or
// bidi override, and stay JSON that decodes to the same text.
func TestSafeLogWriter(t *testing.T) {
	var buf bytes.Buffer
	hostile := "evil\u202efdp.exe \u009b31m red \u0085 next \u2066iso\u2069 é😀"
	slog.New(slog.NewJSONHandler(safeLogWriter{&buf}, nil)).Info(hostile, "user_agent", hostile)
	line := buf.String()
	for _, r := range line {
		if unsafeInLog(r) {
			t.Fatalf("raw %U in the log line %q", r, line)
		}
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, line)
	}
	if m["msg"] != hostile || m["user_agent"] != hostile {
		t.Errorf("decoded: %q, want %q", m["msg"], hostile)
	}
	if !strings.Contains(line, `\u202e`) || !strings.Contains(line, "é😀") {
		t.Errorf("line %s: want the override escaped and other text as it was", line)
	}
}

package service

import (
	"testing"
	"time"
)

func TestLoginThrottle(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	th := newLoginThrottle(3, time.Minute)
	key := throttleKey("acme", "Ada")
	for i := 0; i < 3; i++ {
		if w := th.wait(key, now); w != 0 {
			t.Fatalf("attempt %d: got wait %v, want 0", i, w)
		}
		th.fail(key, now.Add(time.Duration(i)*time.Second))
	}
	if w := th.wait(throttleKey("acme", "ADA"), now.Add(3*time.Second)); w != 57*time.Second {
		t.Fatalf("got wait %v, want 57s (login names compare without case)", w)
	}
	if w := th.wait(throttleKey("other", "ada"), now); w != 0 {
		t.Fatalf("other account: got wait %v, want 0", w)
	}
	if w := th.wait(key, now.Add(time.Minute)); w != 0 {
		t.Fatalf("after the window: got wait %v, want 0", w)
	}
	for i := 0; i < 3; i++ {
		th.fail(key, now.Add(61*time.Second))
	}
	if w := th.wait(key, now.Add(61*time.Second)); w != time.Minute {
		t.Fatalf("three new failures: got wait %v, want 1m", w)
	}
	th.succeed(key)
	if w := th.wait(key, now.Add(61*time.Second)); w != 0 {
		t.Fatalf("after success: got wait %v, want 0", w)
	}
}

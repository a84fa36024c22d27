package service

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoginThrottle(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	th := newLoginThrottle(3, time.Minute)
	key := throttleKey("acme", "Ada")
	for i := 0; i < 3; i++ {
		if w := th.admit(key, now.Add(time.Duration(i)*time.Second)); w != 0 {
			t.Fatalf("attempt %d: got wait %v, want 0", i, w)
		}
	}
	if w := th.admit(throttleKey("acme", "ADA"), now.Add(3*time.Second)); w != 57*time.Second {
		t.Fatalf("got wait %v, want 57s (login names compare without case)", w)
	}
	if w := th.admit(throttleKey("other", "ada"), now); w != 0 {
		t.Fatalf("other account: got wait %v, want 0", w)
	}
	th.refund(key, now.Add(2*time.Second))
	if w := th.admit(key, now.Add(3*time.Second)); w != 0 {
		t.Fatalf("after a refund: got wait %v, want 0", w)
	}
	if w := th.admit(key, now.Add(time.Minute)); w != 0 {
		t.Fatalf("after the window: got wait %v, want 0", w)
	}
	th.succeed(key)
	if w := th.admit(key, now.Add(61*time.Second)); w != 0 {
		t.Fatalf("after success: got wait %v, want 0", w)
	}
}

// TestLoginThrottleConcurrent checks SPEC §5: attempts are counted before
// the password is checked, so of many at once only the limit get through.
func TestLoginThrottleConcurrent(t *testing.T) {
	th := newLoginThrottle(5, time.Minute)
	now := time.Now()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if th.admit(throttleKey("acme", "ada"), now) == 0 {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != 5 {
		t.Errorf("admitted: got %d of 100 concurrent attempts, want 5", n)
	}
}

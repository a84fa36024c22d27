package service

import (
	"strings"
	"sync"
	"time"
)

// loginThrottle limits failed logins per account and login name: after max
// failures within window, further attempts are refused until the oldest of
// them leaves the window. A real user is therefore never locked out for
// longer than window, and a guesser gets at most max tries per window. It
// lives in the process: with several replicas, each counts its own.
type loginThrottle struct {
	max    int
	window time.Duration

	mu    sync.Mutex
	fails map[string][]time.Time
	ops   int
}

// maxThrottleKeys bounds the memory a flood of distinct login names can take.
const maxThrottleKeys = 100_000

func newLoginThrottle(max int, window time.Duration) *loginThrottle {
	return &loginThrottle{max: max, window: window, fails: map[string][]time.Time{}}
}

func throttleKey(account, login string) string { return account + "\x00" + strings.ToLower(login) }

// wait returns how long the caller must wait before trying again, or 0.
func (t *loginThrottle) wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	recent := t.recent(key, now)
	if len(recent) < t.max {
		return 0
	}
	return recent[len(recent)-t.max].Add(t.window).Sub(now)
}

// fail counts a failed attempt.
func (t *loginThrottle) fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ops++; t.ops%1024 == 0 || len(t.fails) >= maxThrottleKeys {
		t.sweep(now)
	}
	if len(t.fails) >= maxThrottleKeys {
		return
	}
	t.fails[key] = append(t.recent(key, now), now)
}

// succeed forgets the failures of a key after a successful login.
func (t *loginThrottle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, key)
}

// recent returns the failures of key inside the window ending at now.
func (t *loginThrottle) recent(key string, now time.Time) []time.Time {
	list := t.fails[key]
	i := 0
	for i < len(list) && now.Sub(list[i]) >= t.window {
		i++
	}
	if i == len(list) {
		delete(t.fails, key)
		return nil
	}
	list = list[i:]
	if len(list) > t.max {
		list = list[len(list)-t.max:]
	}
	t.fails[key] = list
	return list
}

func (t *loginThrottle) sweep(now time.Time) {
	for k := range t.fails {
		t.recent(k, now)
	}
}

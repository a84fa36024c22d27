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

// admit counts an attempt before its password is checked (SPEC §5), so
// that concurrent attempts cannot pass the limit together: it returns 0
// when the attempt may go on, counted as a failure until succeed forgets
// it, or how long the caller must wait before trying again.
func (t *loginThrottle) admit(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ops++; t.ops%1024 == 0 || len(t.fails) >= maxThrottleKeys {
		t.sweep(now)
	}
	recent := t.recent(key, now)
	if len(recent) >= t.max {
		return recent[len(recent)-t.max].Add(t.window).Sub(now)
	}
	if len(t.fails) < maxThrottleKeys || recent != nil {
		t.fails[key] = append(recent, now)
	}
	return 0
}

// refund takes back the attempt admitted at at, for a check that could not
// be made (the storage failed, the password checks were all busy).
func (t *loginThrottle) refund(key string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.fails[key]
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Equal(at) {
			t.fails[key] = append(list[:i:i], list[i+1:]...)
			return
		}
	}
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

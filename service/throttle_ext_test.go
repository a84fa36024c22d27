package service_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

// TestPasswordChecksBounded checks SPEC §5: no more password checks run at
// once than there are CPUs; a login that cannot get one within
// PasswordCheckWait answers unavailable with a Retry-After, for unknown
// users too. The wait is set to a microsecond, far less than one Argon2id
// computation (19 MiB, 2 passes) takes on any machine.
func TestPasswordChecksBounded(t *testing.T) {
	svc, _ := newService(t)
	defer func(w time.Duration) { service.PasswordCheckWait = w }(service.PasswordCheckWait)
	service.PasswordCheckWait = time.Microsecond
	var busy, checked atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			_, err := svc.Login(context.Background(), "acme", fmt.Sprintf("nobody-%d", i), "wrong password")
			var th *service.LoginThrottled
			switch {
			case errors.As(err, &th) && audittrail.ErrorCode(err) == audittrail.EUNAVAILABLE && th.RetryAfter > 0:
				busy.Add(1)
			case audittrail.ErrorCode(err) == audittrail.EUNAUTHENTICATED:
				checked.Add(1)
			default:
				t.Errorf("login: %v", err)
			}
		})
	}
	wg.Wait()
	if busy.Load() == 0 || checked.Load() == 0 {
		t.Errorf("40 logins at once: %d refused as busy, %d checked; want some of each", busy.Load(), checked.Load())
	}
}

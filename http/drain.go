package http

import (
	"context"
	"net/http"
	"sync"

	"github.com/audittrail/audittrail"
)

// Drainer is the service's outermost handler, which lets it stop without
// losing a request. Until Drain is called it passes every request on to the
// handler it wraps. From then on it answers each new request, /readyz
// included, with 503 unavailable in the contract's error body and
// Connection: close, so that a load balancer takes the replica out and
// clients send again elsewhere, while the requests it passed on before run
// to their normal end.
//
// It sits outside the UI too, whose pages call the API in process: a page
// that was being served when Drain came finishes with its API calls.
type Drainer struct {
	next http.Handler

	mu       sync.Mutex
	draining bool
	active   int           // requests passed on and not ended
	idle     chan struct{} // closed when draining with no request active
}

// NewDrainer returns a Drainer in front of next.
func NewDrainer(next http.Handler) *Drainer {
	return &Drainer{next: next, idle: make(chan struct{})}
}

// ServeHTTP passes r on, or answers 503 once Drain was called.
func (d *Drainer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !d.enter() {
		w.Header().Set("Connection", "close")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{errorObject{
			Code:    audittrail.EUNAVAILABLE,
			Message: "the service is shutting down; send the request again (another replica, or this one once it has restarted, will answer it)",
			Details: []audittrail.ErrorDetail{},
		}})
		return
	}
	defer d.leave()
	d.next.ServeHTTP(w, r)
}

func (d *Drainer) enter() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.draining {
		return false
	}
	d.active++
	return true
}

func (d *Drainer) leave() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.active--
	if d.draining && d.active == 0 {
		close(d.idle)
	}
}

// Drain makes every request from now on answer 503, and returns once the
// requests passed on before have ended, or with ctx's error when ctx ends
// first. Calling it again waits again.
func (d *Drainer) Drain(ctx context.Context) error {
	d.mu.Lock()
	if !d.draining {
		d.draining = true
		if d.active == 0 {
			close(d.idle)
		}
	}
	d.mu.Unlock()
	select {
	case <-d.idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Active returns how many requests passed on have not ended yet.
func (d *Drainer) Active() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.active
}

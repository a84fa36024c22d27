package http

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestDrainer(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	d := NewDrainer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	}))

	if w := serveDrainer(d, "/fast"); w.Code != http.StatusNoContent {
		t.Fatalf("before Drain: got status %d, want 204", w.Code)
	}
	slow := make(chan *httptest.ResponseRecorder)
	go func() { slow <- serveDrainer(d, "/slow") }()
	<-entered

	drained := make(chan error)
	go func() { drained <- d.Drain(context.Background()) }()
	deadline := time.Now().Add(time.Minute) // a hang, not a speed
	for {
		w := serveDrainer(d, "/readyz")
		if w.Code == http.StatusServiceUnavailable {
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != "unavailable" || body.Error.Details == nil {
				t.Fatalf("while draining: got body %s, want the contract's error body with code unavailable", w.Body)
			}
			if c := w.Header().Get("Connection"); c != "close" {
				t.Fatalf("Connection: got %q, want close", c)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Drain: got status %d, want 503", w.Code)
		}
		time.Sleep(time.Millisecond)
	}

	// A bounded wait ends with the request still in flight.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := d.Drain(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Drain with a request in flight: got %v, want %v", err, context.DeadlineExceeded)
	}
	select {
	case err := <-drained:
		t.Fatalf("Drain returned %v with a request in flight", err)
	default:
	}
	if n := d.Active(); n != 1 {
		t.Fatalf("Active: got %d, want 1", n)
	}

	close(release)
	if w := <-slow; w.Code != http.StatusNoContent {
		t.Fatalf("request in flight: got status %d, want its own, 204", w.Code)
	}
	if err := <-drained; err != nil {
		t.Fatalf("Drain: got %v, want nil", err)
	}
	if err := d.Drain(context.Background()); err != nil {
		t.Fatalf("Drain again: got %v, want nil", err)
	}
}

func serveDrainer(h http.Handler, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w
}

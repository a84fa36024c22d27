package export

import (
	"errors"
	"io"
	"os"
	"time"
)

// DefaultIdleTimeout is how long an export waits for a client that reads
// nothing before it drops the client and frees its export slot.
const DefaultIdleTimeout = 60 * time.Second

// Deadliner is the part of a network response that IdleWriter needs;
// net/http's *ResponseController is one.
type Deadliner interface {
	SetWriteDeadline(t time.Time) error
	Flush() error
}

// IdleWriter writes an export to a network client under a write deadline
// that each write and flush renews: a client that reads nothing for the
// idle time makes the write fail, which ends the export and frees its
// slot, however long the whole download takes. A client that reads slowly
// but steadily keeps it going.
type IdleWriter struct {
	w        io.Writer
	c        Deadliner
	idle     time.Duration
	timedOut bool
}

// NewIdleWriter returns a writer to w, the body of the response that c
// controls, with the idle time idle (no deadline when idle <= 0). Call
// Close once the export is written.
func NewIdleWriter(w io.Writer, c Deadliner, idle time.Duration) *IdleWriter {
	return &IdleWriter{w: w, c: c, idle: idle}
}

// arm sets the deadline of the next write. A response that cannot have a
// deadline (not a network connection) is written without one.
func (w *IdleWriter) arm() {
	if w.idle > 0 {
		w.c.SetWriteDeadline(time.Now().Add(w.idle))
	}
}

// Write writes p within the idle time.
func (w *IdleWriter) Write(p []byte) (int, error) {
	w.arm()
	n, err := w.w.Write(p)
	w.note(err)
	return n, err
}

// Flush pushes what the response buffered to the client within the idle
// time.
func (w *IdleWriter) Flush() error {
	w.arm()
	err := w.c.Flush()
	w.note(err)
	return err
}

func (w *IdleWriter) note(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		w.timedOut = true
	}
}

// TimedOut reports whether a write failed because the client read nothing
// for the idle time: the export was dropped.
func (w *IdleWriter) TimedOut() bool { return w.timedOut }

// Idle returns the idle time.
func (w *IdleWriter) Idle() time.Duration { return w.idle }

// Close pushes what is buffered within the idle time. The deadline stays
// for the end of the response that the server writes after the handler;
// net/http lifts it before the next request on the connection.
func (w *IdleWriter) Close() error { return w.Flush() }

package sink

import (
	"context"
	"sync"
)

// closeGuard is the Close side of a sink's lifecycle: Close may come
// while a Write is in progress, and must end it. The zero value is not
// usable; make one with newCloseGuard.
type closeGuard struct {
	closing context.Context // cancelled by close
	cancel  context.CancelFunc

	mu     sync.Mutex
	closed bool
}

func newCloseGuard() closeGuard {
	closing, cancel := context.WithCancel(context.Background())
	return closeGuard{closing: closing, cancel: cancel}
}

// isClosed reports whether close was called.
func (g *closeGuard) isClosed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

// begin starts an operation: it fails with ErrClosed (named for the sink)
// after close, and otherwise returns ctx, also ended by close, and the
// function that releases it.
func (g *closeGuard) begin(ctx context.Context, sinkName string) (context.Context, func(), error) {
	if g.isClosed() {
		return nil, nil, closedError(sinkName)
	}
	ctx, stop := context.WithCancel(ctx)
	unhook := context.AfterFunc(g.closing, stop)
	return ctx, func() { unhook(); stop() }, nil
}

// close marks the sink closed and ends the operations in progress; it
// reports false when it was closed already.
func (g *closeGuard) close() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.closed = true
	g.cancel()
	return true
}

func closedError(sinkName string) error { return &closedErr{sinkName} }

type closedErr struct{ sink string }

func (e *closedErr) Error() string { return e.sink + " sink: " + ErrClosed.Error() }
func (e *closedErr) Unwrap() error { return ErrClosed }

package sink

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Default retry bounds, used where a Retry leaves them zero.
const (
	DefaultRetryInitial = 100 * time.Millisecond
	DefaultRetryMax     = 30 * time.Second
)

// Retry is a retry policy: exponential backoff with full jitter. Before
// retry n (n = 1, 2, ...) it sleeps a uniformly random duration in
// [0, min(Max, Initial·2^(n-1))]. Permanent errors are never retried.
//
// The zero Retry is valid: Initial 100ms, Max 30s, retrying until the
// context ends. A Retry is a value and safe for concurrent use (as long as
// Sleep is).
type Retry struct {
	// Initial is the backoff cap of the first retry, overriding the
	// default 100ms.
	Initial time.Duration
	// Max bounds the backoff cap, overriding the default 30s.
	Max time.Duration
	// Attempts bounds the calls of fn, first one included; 0 retries until
	// the context ends.
	Attempts int
	// Sleep waits d or until ctx ends, returning ctx's error then; nil
	// uses a timer. Tests inject a fake.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Backoff returns the cap of the sleep before retry n (n >= 1):
// min(Max, Initial·2^(n-1)).
func (r Retry) Backoff(n int) time.Duration {
	initial, maxd := r.Initial, r.Max
	if initial <= 0 {
		initial = DefaultRetryInitial
	}
	if maxd <= 0 {
		maxd = DefaultRetryMax
	}
	if maxd < initial {
		maxd = initial
	}
	d := initial
	for i := 1; i < n && d < maxd; i++ {
		d *= 2 // no overflow: d < maxd before doubling
	}
	return min(d, maxd)
}

// Do calls fn until it succeeds, returns a permanent error, the attempts
// run out, or ctx ends; it returns nil or the last error (wrapped with
// ctx's error when ctx ended, so errors.Is(err, context.Canceled) holds).
func (r Retry) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	sleep := r.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if IsPermanent(err) {
			return err
		}
		if r.Attempts > 0 && n >= r.Attempts {
			return fmt.Errorf("after %d attempts: %w", n, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		}
		d := time.Duration(rand.Int64N(int64(r.Backoff(n)) + 1))
		if serr := sleep(ctx, d); serr != nil {
			return fmt.Errorf("%w (last error: %w)", serr, err)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

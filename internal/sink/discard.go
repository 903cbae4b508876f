package sink

import (
	"context"
	"fmt"
	"sync/atomic"
)

func init() {
	RegisterType(Type{Name: "discard", Open: openDiscard, Validate: validateDiscard})
}

// Discard is the "discard" sink: it acknowledges every batch at once and
// keeps only counts, for benchmarks and dry runs. It has no settings.
// Safe for concurrent use.
type Discard struct {
	records, bytes, batches atomic.Uint64
	closed                  atomic.Bool
}

var _ Sink = (*Discard)(nil)

func validateDiscard(spec Spec, _ Env) error { return NewSettings(spec).Err() }

func openDiscard(_ context.Context, _ Spec, _ Env) (Sink, error) { return &Discard{}, nil }

// Write counts the batch.
func (d *Discard) Write(_ context.Context, b *Batch) error {
	if d.closed.Load() {
		return fmt.Errorf("discard sink: %w", ErrClosed)
	}
	var n uint64
	for i := range b.Records {
		n += uint64(len(b.Records[i].Value))
	}
	d.records.Add(uint64(len(b.Records)))
	d.bytes.Add(n)
	d.batches.Add(1)
	return nil
}

// Close marks the sink closed.
func (d *Discard) Close(context.Context) error {
	d.closed.Store(true)
	return nil
}

// Records is how many records were written.
func (d *Discard) Records() uint64 { return d.records.Load() }

// Bytes is how many bytes of records were written.
func (d *Discard) Bytes() uint64 { return d.bytes.Load() }

// Batches is how many batches were written.
func (d *Discard) Batches() uint64 { return d.batches.Load() }

// Package sinktest checks that a sink keeps the contract of
// [sink.Sink] (Run), and has an in-memory sink with failure injection for
// tests of the code that drives sinks (Memory).
package sinktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/sink"
)

// Run checks the contract every sink keeps. open returns a new sink on an
// empty destination; read returns the records delivered there so far, in
// order (nil read skips the content checks, for sinks whose destination
// cannot be read back). Run checks that:
//
//   - Write delivers every record of a batch, in order, by the time it
//     returns (acknowledged means readable);
//   - batches land in the order written, empty batches included;
//   - the sink does not keep the records' memory after Write (the runtime
//     reuses it);
//   - Close is idempotent, and Write after Close fails with an error
//     wrapping sink.ErrClosed that is permanent.
func Run(t *testing.T, open func() sink.Sink, read func() [][]byte) {
	t.Helper()
	ctx := context.Background()
	s := open()
	var want [][]byte
	buf := make([]byte, 0, 1<<16)
	id := 0
	sizes := []int{1, 3, 0, 100, 1, 1000, 7}
	for bi, n := range sizes {
		buf = buf[:0]
		b := &sink.Batch{Offsets: map[int32]int64{0: int64(id + n)}, ID: "test/0/" + strconv.Itoa(id), ContentType: "application/x-ndjson"}
		var ends []int
		for range n {
			buf = fmt.Appendf(buf, "{\"id\":%d,\"batch\":%d,\"pad\":%q}\n", id, bi, bytes.Repeat([]byte{'x'}, id%50))
			ends = append(ends, len(buf))
			id++
		}
		start := 0
		for i, end := range ends {
			b.Records = append(b.Records, sink.Record{Value: buf[start:end:end], Partition: 0, Offset: int64(id - n + i)})
			want = append(want, bytes.Clone(buf[start:end]))
			start = end
		}
		if err := s.Write(ctx, b); err != nil {
			t.Fatalf("batch %d: Write: %v", bi, err)
		}
		// The runtime reuses the memory at once.
		for i := range buf {
			buf[i] = '#'
		}
		if read != nil {
			check(t, fmt.Sprintf("after batch %d", bi), read(), want)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	err := s.Write(ctx, &sink.Batch{Records: []sink.Record{{Value: []byte("{}\n")}}, ID: "test/0/late"})
	if !errors.Is(err, sink.ErrClosed) || !sink.IsPermanent(err) {
		t.Fatalf("Write after Close: %v, want a permanent error wrapping sink.ErrClosed", err)
	}
	if read != nil {
		check(t, "after Close", read(), want)
	}
}

func check(t *testing.T, when string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records delivered, want %d", when, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: record %d is %q, want %q", when, i, got[i], want[i])
		}
	}
}

// SplitLines splits newline-terminated records, for read functions of
// sinks that write NDJSON.
func SplitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}

// Memory is an in-memory sink for tests: it keeps copies of what it
// acknowledges and fails writes on request. Safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	records [][]byte
	batches []Batch
	fails   []error
	closed  bool
}

var _ sink.Sink = (*Memory)(nil)

// Batch is what Memory remembers of an acknowledged batch.
type Batch struct {
	ID          string
	Offsets     map[int32]int64
	ContentType string
	Records     int
}

// FailNext makes the next len(errs) writes fail with errs in order,
// without applying anything.
func (m *Memory) FailNext(errs ...error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fails = append(m.fails, errs...)
}

// Write acknowledges b, or fails as FailNext asked.
func (m *Memory) Write(_ context.Context, b *sink.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("memory sink: %w", sink.ErrClosed)
	}
	if len(m.fails) > 0 {
		err := m.fails[0]
		m.fails = m.fails[1:]
		return err
	}
	for _, r := range b.Records {
		m.records = append(m.records, bytes.Clone(r.Value))
	}
	offs := make(map[int32]int64, len(b.Offsets))
	for p, o := range b.Offsets {
		offs[p] = o
	}
	m.batches = append(m.batches, Batch{ID: b.ID, Offsets: offs, ContentType: b.ContentType, Records: len(b.Records)})
	return nil
}

// Close marks the sink closed.
func (m *Memory) Close(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// Records returns copies of the records acknowledged so far, in order.
func (m *Memory) Records() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([][]byte(nil), m.records...)
}

// Batches returns the batches acknowledged so far, in order.
func (m *Memory) Batches() []Batch {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Batch(nil), m.batches...)
}

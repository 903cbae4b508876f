package job

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sql"
)

// memSink records the batches it acknowledges; fail makes the next writes
// fail.
type memSink struct {
	batches []sink.Batch
	rows    []string
	fail    int
}

func (m *memSink) Write(_ context.Context, b *sink.Batch) error {
	if m.fail > 0 {
		m.fail--
		return errors.New("receiver down")
	}
	cp := *b
	cp.Records = nil
	m.batches = append(m.batches, cp)
	for _, r := range b.Records {
		m.rows = append(m.rows, strings.TrimSpace(string(r.Value)))
	}
	return nil
}

func (m *memSink) Close(context.Context) error { return nil }

type deadLetters struct{ reasons []string }

func (d *deadLetters) DeadLetter(_ context.Context, r *kgo.Record, reason string, _ error) error {
	d.reasons = append(d.reasons, reason)
	return nil
}

func newTestPipeline(t *testing.T, text string, s sink.Sink, dl DeadLetterer, maxRecords int) *Pipeline {
	t.Helper()
	q, err := sql.Analyze(text, eventAvro)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := format.New("JSON", q.Columns)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPipeline(PipelineConfig{
		Job: "t", Query: q, Reader: eventAvro, Schemas: StaticSchemas{1: eventAvro},
		Format: enc, Sink: s, DeadLetter: dl, MaxBatchRecords: maxRecords,
		Retry: sink.Retry{Initial: time.Millisecond, Max: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func records(t *testing.T, part int32, from, to int) []*kgo.Record {
	var out []*kgo.Record
	for id := from; id < to; id++ {
		r := eventRecord(t, "events", id, 0)
		r.Partition, r.Offset = part, int64(id)
		out = append(out, r)
	}
	return out
}

func TestPipelineBatchesAndOffsets(t *testing.T) {
	s := &memSink{}
	p := newTestPipeline(t, testSQL, s, nil, 4)
	ctx := context.Background()
	if err := p.Process(ctx, records(t, 0, 0, 10)); err != nil {
		t.Fatal(err)
	}
	// 9 rows pass (id 3 is filtered): two full batches of 4 so far.
	if len(s.batches) != 2 || len(s.rows) != 8 {
		t.Fatalf("%d batches, %d rows", len(s.batches), len(s.rows))
	}
	if s.rows[0] != `{"id":0,"action":"deny"}` {
		t.Fatalf("row %s", s.rows[0])
	}
	// The second batch ended with id 8 (the 8th row): everything up to and
	// including offset 8 is done, offset 9 is not yet delivered.
	if got := p.Committable()[0]; got != 9 {
		t.Fatalf("committable %d, want 9", got)
	}
	if b := s.batches[0]; b.ID != "t/0/0+4" || b.Offsets[0] != 5 || b.ContentType == "" {
		t.Fatalf("first batch %+v", b)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := p.Committable()[0]; got != 10 || len(s.rows) != 9 {
		t.Fatalf("after flush: committable %d, %d rows", got, len(s.rows))
	}
	st := p.Stats()
	if st.In != 10 || st.Out != 9 || st.Filtered != 1 || st.Batches != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPipelineRetriesSink(t *testing.T) {
	s := &memSink{fail: 2}
	p := newTestPipeline(t, testSQL, s, nil, 100)
	ctx := context.Background()
	if err := p.Process(ctx, records(t, 0, 0, 5)); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.rows) != 4 || p.Stats().SinkErrors != 2 {
		t.Fatalf("%d rows, %d sink errors", len(s.rows), p.Stats().SinkErrors)
	}
	// A sink that refuses for good fails the pipeline, and nothing is
	// committable past what was delivered.
	s.fail = 1 << 30
	p.cfg.Retry.Attempts = 3
	if err := p.Process(ctx, records(t, 0, 5, 8)); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err == nil {
		t.Fatal("flush to a dead sink succeeded")
	}
	if got := p.Committable()[0]; got != 5 {
		t.Fatalf("committable %d after a failed write, want 5", got)
	}
}

func TestPipelineDeadLetters(t *testing.T) {
	s, dl := &memSink{}, &deadLetters{}
	p := newTestPipeline(t, "SELECT id, 100 / (id - 2) AS x FROM tenant", s, dl, 100)
	recs := records(t, 0, 0, 4)
	recs[1].Value = []byte{0x80}                                  // a varint cut short
	recs[3].Headers = nil                                         // no schema reference
	if err := p.Process(context.Background(), recs); err != nil { // id 2 divides by zero
		t.Fatal(err)
	}
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(dl.reasons, ","); got != "decode,eval,schema_ref" {
		t.Fatalf("dead letters %s", got)
	}
	if len(s.rows) != 1 || s.rows[0] != `{"id":0,"x":-50}` || p.Committable()[0] != 4 {
		t.Fatalf("rows %v, committable %v", s.rows, p.Committable())
	}
}

func TestPipelineAggregationHoldsOffsets(t *testing.T) {
	s := &memSink{}
	p := newTestPipeline(t, "SELECT WINDOW_START, COUNT(*) AS n FROM tenant GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)", s, nil, 100)
	ctx := context.Background()
	// ids are milliseconds: 0..1499 spans two one-second windows, the
	// second still open.
	if err := p.Process(ctx, records(t, 0, 0, 1500)); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// ts = 1_764_000_000_000 + id ms: the window boundary falls at id 1000.
	if len(s.rows) != 0 {
		t.Fatalf("rows before the watermark passed a window: %v", s.rows)
	}
	if got := p.Committable()[0]; got != 0 {
		t.Fatalf("committable %d while every record is in an open window", got)
	}
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.rows) != 2 || !strings.HasSuffix(s.rows[0], `"n":1000}`) || p.Committable()[0] != 1500 {
		t.Fatalf("rows %v committable %v", s.rows, p.Committable())
	}
}

// TestPipelineFramedBatches: a format that frames batches (a JSON array
// here) reaches the sink as one record per batch holding the whole frame.
func TestPipelineFramedBatches(t *testing.T) {
	q, err := sql.Analyze(testSQL, eventAvro)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := format.NewWithOptions("JSON", q.Columns, format.Options{Array: true})
	if err != nil {
		t.Fatal(err)
	}
	s := &memSink{}
	p, err := NewPipeline(PipelineConfig{Job: "t", Query: q, Reader: eventAvro, Schemas: StaticSchemas{1: eventAvro},
		Format: enc, Sink: s, MaxBatchRecords: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Process(context.Background(), records(t, 0, 0, 10)); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(s.rows) != 3 {
		t.Fatalf("%d records for 3 batches: %q", len(s.rows), s.rows)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(s.rows[0]), &rows); err != nil || len(rows) != 4 || rows[3]["id"] != 4.0 {
		t.Fatalf("first batch %q: %v", s.rows[0], err)
	}
	if p.Stats().Out != 9 {
		t.Fatalf("stats %+v", p.Stats())
	}
}

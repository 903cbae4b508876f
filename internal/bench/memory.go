package bench

import (
	"context"
	"fmt"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/sink"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/gen"
	"github.com/sluicehq/sluice/internal/nexmark"
	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/sql"
)

// How the in-memory scenarios hand records over, as a Kafka fetch would:
// partitions × batches of batchRecords, each Process call one poll of
// partitions × batchRecords (the job polls up to 2,000 records at a time).
const (
	memPartitions = 4
	batchRecords  = 500
	benchTopic    = "bench"
)

// start is the event time of the first record: fixed, so runs compare.
var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// source writes records of one schema: next appends the Avro body of
// record i (event time start + i ms for firewall logs) to dst.
type source struct {
	schema string
	newGen func() func(dst []byte, i int) ([]byte, error)
}

// firewall is internal/gen's FirewallLog v1, one record per millisecond.
var firewall = source{schema: gen.FirewallLogV1, newGen: func() func([]byte, int) ([]byte, error) {
	s := gen.NewStream("acme-corp", 1, gen.DefaultThreatRatio)
	var r gen.Record
	ms := start.UnixMilli()
	return func(dst []byte, i int) ([]byte, error) {
		s.Next(&r, ms+int64(i))
		return r.AppendV1(dst)
	}
}}

// bids are Nexmark bids, 1,000 per second of event time.
var bids = source{schema: nexmark.BidSchema, newGen: func() func([]byte, int) ([]byte, error) {
	s := nexmark.NewBidStream(1, start, 1000)
	return func(dst []byte, _ int) ([]byte, error) { return s.Next(dst), nil }
}}

// records encodes n records of src as Kafka records with the schema
// version header, grouped into polls. Values share large buffers and the
// records one slab, so that setup leaves few objects for the GC.
func records(src source, n int) (polls [][]*kgo.Record, bytes int64, err error) {
	next := src.newGen()
	slab := make([]kgo.Record, n)
	ptrs := make([]*kgo.Record, n)
	headers := []kgo.RecordHeader{{Key: wire.Header, Value: wire.HeaderValue(1)}}
	var arena []byte
	var offsets [memPartitions]int64
	for i := range n {
		if cap(arena)-len(arena) < 1024 {
			arena = make([]byte, 0, 4<<20)
		}
		at := len(arena)
		if arena, err = next(arena, i); err != nil {
			return nil, 0, fmt.Errorf("encode record %d: %w", i, err)
		}
		r := &slab[i]
		r.Value = arena[at:len(arena):len(arena)]
		r.Headers = headers
		r.Topic = benchTopic
		r.Partition = int32(i / batchRecords % memPartitions)
		r.Offset = offsets[r.Partition]
		offsets[r.Partition]++
		r.Timestamp = start.Add(time.Duration(i) * time.Millisecond)
		ptrs[i] = r
		bytes += int64(len(r.Value))
	}
	const poll = memPartitions * batchRecords
	for i := 0; i < n; i += poll {
		polls = append(polls, ptrs[i:min(i+poll, n):min(i+poll, n)])
	}
	return polls, bytes, nil
}

// memSpec is an in-memory scenario.
type memSpec struct {
	name, query string
	format      string // JSON when empty
	formatOpts  format.Options
	// receiver, when set, starts the sink's destination and returns the
	// sink to use (discard when nil) and a stop function.
	receiver  func() (sink.Spec, sink.Env, func(), error)
	source    source
	def       int // default record count
	target    float64
	maxAllocs float64
}

// runMemory encodes the records, builds the job pipeline (decode → SQL →
// JSON → discard sink), and measures running every record through it,
// including the final flush (and, for an aggregation, emitting the
// windows still open).
func runMemory(ctx context.Context, cfg Config, m memSpec) (Result, error) {
	res := newResult(m.name, m.query)
	n := cfg.records(m.def)
	reader, err := avro.Parse(m.source.schema)
	if err != nil {
		return res, err
	}
	q, err := sql.Analyze(m.query, reader)
	if err != nil {
		return res, fmt.Errorf("%s: %w", m.name, err)
	}
	cfg.progress("%s: encoding %d records", m.name, n)
	polls, bytesIn, err := records(m.source, n)
	if err != nil {
		return res, err
	}
	var spec sink.Spec
	var env sink.Env
	if m.receiver != nil {
		var stop func()
		if spec, env, stop, err = m.receiver(); err != nil {
			return res, err
		}
		defer stop()
	}
	p, err := newPipeline(ctx, m.name, q, reader, m.format, m.formatOpts, spec, env)
	if err != nil {
		return res, err
	}
	defer p.Close(context.WithoutCancel(ctx))
	cfg.progress("%s: measuring", m.name)
	mt, err := begin(cfg.CPUProfile)
	if err != nil {
		return res, err
	}
	defer mt.end()
	for _, recs := range polls {
		if err := p.Process(ctx, recs); err != nil {
			return res, fmt.Errorf("%s: %w", m.name, err)
		}
	}
	if err := p.Drain(ctx); err != nil {
		return res, fmt.Errorf("%s: %w", m.name, err)
	}
	s, err := mt.end()
	if err != nil {
		return res, err
	}
	st := p.Stats()
	if st.In != uint64(n) {
		return res, fmt.Errorf("%s: the pipeline took %d records of %d", m.name, st.In, n)
	}
	if st.Bad > 0 {
		return res, fmt.Errorf("%s: %d records dead-lettered", m.name, st.Bad)
	}
	res.fill(int64(n), int64(st.Out), bytesIn, s)
	res.CPUScope = "process (user + system, all goroutines; one goroutine runs the pipeline)"
	res.TargetRecordsPerCPUSecond = m.target
	if m.maxAllocs > 0 {
		res.MaxAllocsPerRecord = &m.maxAllocs
	}
	res.judge()
	return res, nil
}

package job

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/engine"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sql"
)

// Schemas finds the writer schema a record names (its schema version
// header or Confluent id).
type Schemas = decode.Schemas[wire.Ref]

// StaticSchemas is a fixed set of writer schemas by version, for tests and
// benchmarks.
type StaticSchemas map[int]*avro.Schema

// WriterSchema returns the schema of ref's version.
func (s StaticSchemas) WriterSchema(_ context.Context, ref wire.Ref) (*avro.Schema, error) {
	if w, ok := s[ref.Version]; ok && ref.Version > 0 {
		return w, nil
	}
	return nil, fmt.Errorf("%v: %w", ref, decode.ErrUnknownSchema)
}

// Dead-letter reasons, as the sluice-reason header and the metric label
// carry them.
const (
	ReasonSchemaRef     = "schema_ref"     // no readable schema reference (header or Confluent frame)
	ReasonUnknownSchema = "unknown_schema" // the reference names no schema of the tenant
	ReasonDecode        = "decode"         // the body does not decode with its writer schema
	ReasonEval          = "eval"           // an expression failed (overflow, division by zero, a CAST)
	ReasonLate          = "late"           // later than the allowed lateness (when dead-lettering late records)
	ReasonTooManyGroups = "too_many_groups"
	ReasonEncode        = "encode" // the result could not be encoded
)

// DeadLetterer receives the records a job cannot process. DeadLetter
// returns once the record is durably stored, so that the job may then
// commit past it.
type DeadLetterer interface {
	DeadLetter(ctx context.Context, rec *kgo.Record, reason string, cause error) error
}

// Batch defaults.
const (
	DefaultMaxBatchRecords = 1000
	DefaultMaxBatchBytes   = 1 << 20
)

// PipelineConfig configures a Pipeline.
type PipelineConfig struct {
	// Job names the job in batch ids and dead letters.
	Job   string
	Query *sql.Query
	// QueryID fingerprints the query (QueryID of its text) in the
	// checkpoints of an aggregation.
	QueryID string
	Reader  *avro.Schema
	// Schemas gives writer schemas; Cache (optional, shared between jobs)
	// holds compiled decoders.
	Schemas Schemas
	Cache   *decode.Cache
	Format  format.Encoder
	Sink    sink.Sink
	// Retry is how failed sink writes are retried; the zero value retries
	// until the context ends.
	Retry sink.Retry
	// DeadLetter receives bad records; nil counts and drops them.
	DeadLetter DeadLetterer
	Engine     engine.Options
	// MaxBatchRecords and MaxBatchBytes cut batches; defaults
	// DefaultMaxBatchRecords and DefaultMaxBatchBytes.
	MaxBatchRecords int
	MaxBatchBytes   int
	// Delivered, when set, is called after each acknowledged batch with
	// the offsets that may now be committed (see Pipeline.Committable).
	Delivered func(offsets map[int32]int64, oldest time.Time)
}

// Stats count what a pipeline did.
type Stats struct {
	In           uint64 // records taken
	BytesIn      uint64
	Out          uint64 // result rows delivered (acknowledged)
	BytesOut     uint64
	Filtered     uint64
	Late         uint64 // dropped as late (dead-lettered late records count in DeadLettered)
	DeadLettered map[string]uint64
	Batches      uint64
	SinkErrors   uint64 // failed sink writes (each retry counts)
}

// Pipeline runs a task's records through decode, the query, encoding and
// the sink, in the calling goroutine: Process blocks while the sink writes,
// which is how a slow sink slows consumption. It tracks, per partition, the
// offsets whose records are all delivered, filtered or dead-lettered.
// A Pipeline is not safe for concurrent use.
type Pipeline struct {
	cfg    PipelineConfig
	filter *decode.Resolver[wire.Ref] // nil without a WHERE that needs fewer fields
	all    *decode.Resolver[wire.Ref]
	task   *engine.Task
	in     engine.Input
	emit   engine.EmitFunc
	// framed is the format when it frames batches (a JSON array, a CSV
	// header, an Avro container): a batch then goes to the sink as one
	// record holding the whole framed payload.
	framed format.BatchEncoder

	// The batch being built: encoded rows back to back in buf, ends[i] is
	// where row i ends; parts and offs are their sources.
	buf    []byte
	ends   []int
	parts  []int32
	offs   []int64
	oldest time.Time // timestamp of the oldest source record in the batch
	recs   []sink.Record
	batch  sink.Batch

	aggWM, aggSeq int64 // names batches of aggregate results: watermark, sequence

	next      map[int32]int64 // per partition: the offset after the last record taken
	committed Checkpoint      // as of the last acknowledged batch: safe to commit
	// restored is the checkpoint an aggregation resumed from, committed
	// again until its replay has rebuilt the open windows.
	restored *Checkpoint

	// cur is the record being processed, for the rows it emits, and ctx
	// the context of the call that emits them.
	cur   *kgo.Record
	ctx   context.Context
	stats Stats

	lastRef wire.Ref // the writer schema of the decoders in in
}

// NewPipeline checks the configuration and compiles the decoders.
func NewPipeline(c PipelineConfig) (*Pipeline, error) {
	if c.Query == nil || c.Reader == nil || c.Schemas == nil || c.Format == nil || c.Sink == nil {
		return nil, errors.New("job: a pipeline needs a query, a reader schema, writer schemas, a format and a sink")
	}
	if c.Cache == nil {
		c.Cache = decode.NewCache(64)
	}
	if c.MaxBatchRecords <= 0 {
		c.MaxBatchRecords = DefaultMaxBatchRecords
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	q := c.Query
	p := &Pipeline{cfg: c, next: map[int32]int64{}, committed: Checkpoint{Offsets: map[int32]int64{}}}
	p.stats.DeadLettered = map[string]uint64{}
	var err error
	if p.all, err = decode.NewResolver(c.Cache, c.Schemas, c.Reader, q.Fields); err != nil {
		return nil, fmt.Errorf("job: decoder: %w", err)
	}
	if q.Where != nil && q.FilterFields > 0 && q.FilterFields < len(q.Fields) {
		if p.filter, err = decode.NewResolver(c.Cache, c.Schemas, c.Reader, q.Fields[:q.FilterFields]); err != nil {
			return nil, fmt.Errorf("job: filter decoder: %w", err)
		}
	}
	p.task = engine.NewTask(q, c.Engine)
	p.emit = p.add
	p.framed, _ = c.Format.(format.BatchEncoder)
	p.batch.ContentType = c.Format.ContentType()
	if a, ok := c.Format.(interface{ Schema() string }); ok {
		p.batch.Schema = a.Schema() // Avro: receivers may want it
	}
	return p, nil
}

// Start tells the pipeline where each partition starts, so that its
// offsets name every partition from the beginning, read or not.
func (p *Pipeline) Start(offsets map[int32]int64) {
	for part, off := range offsets {
		if _, ok := p.next[part]; !ok {
			p.next[part] = off
			p.committed.Offsets[part] = off
		}
	}
}

// Resume starts the pipeline from a checkpoint and returns, per
// partition, where to consume from. An aggregation re-reads from the
// checkpoint's offsets to rebuild the open windows (see engine
// Task.Restore) and emits nothing the checkpoint's task emitted; a
// filter/project query starts at its stop offsets.
func (p *Pipeline) Resume(c Checkpoint) map[int32]int64 {
	agg := p.cfg.Query.Agg != nil
	at := c.resumeAt(agg)
	p.Start(at)
	if f, ok := c.restoreFor(p.cfg.QueryID); ok && agg {
		p.task.Restore(f, c.Offsets, c.Stops())
		if p.task.Replaying() {
			r := Checkpoint{Offsets: maps.Clone(c.Offsets), Next: c.Stops(), Frontier: &f, Query: p.cfg.QueryID}
			p.restored, p.committed = &r, r
		}
	}
	return at
}

// Stats returns the pipeline's counters; DeadLettered is a copy.
func (p *Pipeline) Stats() Stats {
	s := p.stats
	es := p.task.Stats()
	s.Filtered, s.Late = es.Filtered, es.Late-es.Errors[engine.ReasonLate]
	s.DeadLettered = make(map[string]uint64, len(p.stats.DeadLettered))
	for k, v := range p.stats.DeadLettered {
		s.DeadLettered[k] = v
	}
	return s
}

// Engine is the query's operator state (watermark, open windows).
func (p *Pipeline) Engine() *engine.Task { return p.task }

// Process runs records through the query, writing batches to the sink as
// they fill. Bad records are dead-lettered and processing goes on; an
// error means the sink or the dead-letter topic could not take what it was
// given before ctx ended (or refused it for good), and the pipeline must
// be discarded: the job restarts from its committed offsets.
func (p *Pipeline) Process(ctx context.Context, recs []*kgo.Record) error {
	p.ctx = ctx
	defer func() { p.ctx, p.cur = nil, nil }()
	for _, r := range recs {
		if err := p.one(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pipeline) one(ctx context.Context, r *kgo.Record) error {
	p.stats.In++
	p.stats.BytesIn += uint64(len(r.Value))
	p.next[r.Partition] = r.Offset + 1
	ref, body, err := wire.Parse(r.Headers, r.Value)
	if err != nil {
		return p.deadLetter(ctx, r, ReasonSchemaRef, err)
	}
	in := &p.in
	in.Partition, in.Offset, in.Payload = r.Partition, r.Offset, body
	if ref != p.lastRef || in.All == nil {
		// Records of one writer schema come in runs: look the decoders
		// up when the schema changes.
		if in.All, err = p.all.Decoder(ctx, ref); err != nil {
			in.All = nil
			return p.decoderError(ctx, r, err)
		}
		in.Filter = nil
		if p.filter != nil {
			if in.Filter, err = p.filter.Decoder(ctx, ref); err != nil {
				in.All = nil
				return p.decoderError(ctx, r, err)
			}
		}
		p.lastRef = ref
	}
	p.cur = r
	if err := p.task.Process(in, p.emit); err != nil {
		return p.processError(ctx, r, err)
	}
	return nil
}

// processError dead-letters a record the engine or the encoder refused;
// any other error (from the sink) is the pipeline's. It is apart from one
// because the error targets of errors.As escape to the heap.
func (p *Pipeline) processError(ctx context.Context, r *kgo.Record, err error) error {
	var re *engine.RecordError
	var ee encodeError
	switch {
	case errors.As(err, &ee):
		return p.deadLetter(ctx, r, ReasonEncode, ee.err)
	case errors.As(err, &re):
		return p.deadLetter(ctx, r, reasonOf(re.Reason), re.Err)
	}
	return err // from the sink, through add
}

func reasonOf(r engine.Reason) string {
	switch r {
	case engine.ReasonDecode:
		return ReasonDecode
	case engine.ReasonLate:
		return ReasonLate
	case engine.ReasonTooManyGroups:
		return ReasonTooManyGroups
	}
	return ReasonEval
}

// decoderError sorts a failure to find a record's decoder: an unknown or
// incompatible writer schema is the record's fault, anything else (the
// registry unreachable) the job's.
func (p *Pipeline) decoderError(ctx context.Context, r *kgo.Record, err error) error {
	var ce *decode.CompileError
	switch {
	case errors.Is(err, decode.ErrUnknownSchema):
		return p.deadLetter(ctx, r, ReasonUnknownSchema, err)
	case errors.As(err, &ce):
		return p.deadLetter(ctx, r, ReasonDecode, err)
	}
	return fmt.Errorf("job: writer schema of %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
}

func (p *Pipeline) deadLetter(ctx context.Context, r *kgo.Record, reason string, cause error) error {
	p.stats.DeadLettered[reason]++
	if p.cfg.DeadLetter == nil {
		return nil
	}
	if err := p.cfg.DeadLetter.DeadLetter(ctx, r, reason, cause); err != nil {
		return fmt.Errorf("job: dead-letter %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	return nil
}

// encodeError is a row the format could not encode, blamed on the record
// it came from.
type encodeError struct{ err error }

func (e encodeError) Error() string { return "encode: " + e.err.Error() }

// add encodes one result row into the batch, writing the batch when full.
func (p *Pipeline) add(o *engine.Output) error {
	if p.framed != nil && len(p.ends) == 0 {
		p.buf = p.framed.AppendBatchStart(p.buf[:0])
	}
	start := len(p.buf)
	buf, err := p.cfg.Format.AppendRow(p.buf, o.Values)
	if err != nil {
		p.buf = p.buf[:start]
		if o.Offset < 0 {
			return fmt.Errorf("encode an aggregate result: %w", err)
		}
		return encodeError{err}
	}
	p.buf = buf
	// The latency metric follows source records; aggregate results are
	// late by design (they wait for the watermark).
	if o.Offset >= 0 && p.cur != nil && (p.oldest.IsZero() || p.cur.Timestamp.Before(p.oldest)) {
		p.oldest = p.cur.Timestamp
	}
	p.ends = append(p.ends, len(p.buf))
	p.parts = append(p.parts, o.Partition)
	p.offs = append(p.offs, o.Offset)
	if len(p.ends) >= p.cfg.MaxBatchRecords || len(p.buf) >= p.cfg.MaxBatchBytes {
		ctx := p.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		return p.write(ctx)
	}
	return nil
}

// Flush writes what is buffered and lets processing time pass for the
// engine (idle partitions, window emission). After it returns nil,
// Committable covers every record taken so far.
func (p *Pipeline) Flush(ctx context.Context) error {
	p.ctx = ctx
	defer func() { p.ctx = nil }()
	if err := p.task.Tick(p.emit); err != nil {
		return err
	}
	return p.write(ctx)
}

// Drain emits every open window (the end of a bounded input) and flushes.
func (p *Pipeline) Drain(ctx context.Context) error {
	p.ctx = ctx
	defer func() { p.ctx = nil }()
	if err := p.task.Drain(p.emit); err != nil {
		return err
	}
	return p.write(ctx)
}

// write delivers the current batch (retrying under the policy) and moves
// the committable offsets up to everything taken so far.
func (p *Pipeline) write(ctx context.Context) error {
	if n := len(p.ends); n > 0 {
		p.recs = p.recs[:0]
		if p.framed != nil {
			buf, err := p.framed.AppendBatchEnd(p.buf, n)
			if err != nil {
				return fmt.Errorf("job: encode the batch: %w", err)
			}
			p.buf = buf
			p.recs = append(p.recs, sink.Record{Value: p.buf, Partition: p.parts[0], Offset: p.offs[0]})
		} else {
			start := 0
			for i, end := range p.ends {
				p.recs = append(p.recs, sink.Record{Value: p.buf[start:end:end], Partition: p.parts[i], Offset: p.offs[i]})
				start = end
			}
		}
		p.batch.Records = p.recs
		ck := p.checkpoint()
		p.batch.Offsets, p.batch.Meta = ck.Offsets, ck.Meta()
		p.batch.ID = p.batchID()
		err := p.cfg.Retry.Do(ctx, func(ctx context.Context) error {
			err := p.cfg.Sink.Write(ctx, &p.batch)
			if err != nil {
				p.stats.SinkErrors++
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("job: sink: %w", err)
		}
		p.stats.Out += uint64(n)
		p.stats.BytesOut += uint64(len(p.buf))
		p.stats.Batches++
		p.buf, p.ends, p.parts, p.offs = p.buf[:0], p.ends[:0], p.parts[:0], p.offs[:0]
	}
	oldest := p.oldest
	p.oldest = time.Time{}
	p.committed = p.checkpoint()
	if p.cfg.Delivered != nil {
		p.cfg.Delivered(p.committed.Offsets, oldest)
	}
	return nil
}

// checkpoint is the pipeline's checkpoint now: per partition, the offset
// after the last record taken, held back to the earliest record still in
// an open window, and an aggregation's frontier. While an aggregation
// replays, it is the one it resumed from.
func (p *Pipeline) checkpoint() Checkpoint {
	if p.restored != nil {
		if p.task.Replaying() {
			return *p.restored
		}
		p.restored = nil
	}
	c := Checkpoint{Offsets: maps.Clone(p.next)}
	for part, off := range p.task.OpenOffsets() {
		if cur, ok := c.Offsets[part]; !ok || off < cur {
			c.Offsets[part] = off
		}
	}
	if f, ok := p.task.Frontier(); ok {
		c.Next, c.Frontier, c.Query = maps.Clone(p.next), &f, p.cfg.QueryID
	}
	return c
}

// batchID names a batch for idempotent receivers: the job, the first
// source position of the batch and its row count (the same batch retried
// has the same ID).
func (p *Pipeline) batchID() string {
	b := make([]byte, 0, len(p.cfg.Job)+32)
	b = append(b, p.cfg.Job...)
	b = append(b, '/')
	if p.offs[0] < 0 {
		// Aggregate results: named by the watermark that emitted them,
		// which the same input reproduces.
		if wm := p.task.Watermark(); wm != p.aggWM {
			p.aggWM, p.aggSeq = wm, 0
		}
		b = append(b, "w/"...)
		b = strconv.AppendInt(b, p.aggWM, 10)
		b = append(b, '/')
		b = strconv.AppendInt(b, p.aggSeq, 10)
		p.aggSeq++
		return string(b)
	}
	b = strconv.AppendInt(b, int64(p.parts[0]), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, p.offs[0], 10)
	// The row count too: after a restart, a batch starting at the same
	// offset may hold more rows, and a receiver deduplicating by ID must
	// not drop those.
	b = append(b, '+')
	b = strconv.AppendInt(b, int64(len(p.ends)), 10)
	return string(b)
}

// Committable returns, per partition, the offset up to which every record
// has been delivered, filtered or dead-lettered (and is in no open window)
// as of the last acknowledged batch or Flush: what may be committed.
func (p *Pipeline) Committable() map[int32]int64 {
	return maps.Clone(p.committed.Offsets)
}

// Checkpoint is Committable with the rest of the checkpoint: the stop
// offsets and an aggregation's frontier.
func (p *Pipeline) Checkpoint() Checkpoint { return p.committed }

package bench

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/job"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sql"
)

// pipeline is the job pipeline the in-memory scenarios drive: what a job
// task runs for each poll, without the Kafka client.
type pipeline struct {
	p   *job.Pipeline
	snk sink.Sink
}

type pipeStats struct{ In, Out, Bad uint64 }

// newPipeline builds the job pipeline for q: records of schema version 1
// (the reader schema) → q → the format (JSON when empty) → the discard
// sink.
func newPipeline(ctx context.Context, name string, q *sql.Query, reader *avro.Schema, formatName string, opts format.Options, spec sink.Spec, env sink.Env) (*pipeline, error) {
	if formatName == "" {
		formatName = "JSON"
	}
	enc, err := format.NewWithOptions(formatName, q.Columns, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if spec.Type == "" {
		spec = sink.Spec{Type: "discard"}
	}
	env.Output = job.SinkOutput(formatName, q.Columns, enc)
	snk, err := sink.Open(ctx, spec, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p, err := job.NewPipeline(job.PipelineConfig{
		Job: "bench-" + name, Query: q, Reader: reader,
		Schemas: job.StaticSchemas{1: reader}, Format: enc, Sink: snk,
	})
	if err != nil {
		_ = snk.Close(ctx)
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	parts := make([]int32, memPartitions)
	for i := range parts {
		parts[i] = int32(i)
	}
	p.Engine().AssignPartitions(parts...)
	return &pipeline{p: p, snk: snk}, nil
}

func (p *pipeline) Process(ctx context.Context, recs []*kgo.Record) error {
	return p.p.Process(ctx, recs)
}

// Drain emits the windows still open and writes what is buffered.
func (p *pipeline) Drain(ctx context.Context) error { return p.p.Drain(ctx) }

func (p *pipeline) Stats() pipeStats {
	st := p.p.Stats()
	s := pipeStats{In: st.In, Out: st.Out}
	for _, n := range st.DeadLettered {
		s.Bad += n
	}
	return s
}

func (p *pipeline) Close(ctx context.Context) error { return p.snk.Close(ctx) }

// runJob runs the filter-json query as a Sluice job (internal/job's task:
// its Kafka source, pipeline, discard sink and offset commits) over the
// bench topic from the earliest offsets, until it has taken n records,
// and stops it at a checkpoint.
func runJob(ctx context.Context, addr string, reader *avro.Schema, n int) (pipeStats, error) {
	t, err := job.Start(ctx, job.Spec{
		ID: e2eJobID, Tenant: "bench", Topic: benchTopic,
		Kafka: kafkaconn.Config{Bootstrap: []string{addr}},
		SQL:   QueryFilter, Reader: reader, Format: "JSON",
		Sink:      sink.Spec{Type: "discard"},
		StartFrom: job.StartFrom{Earliest: true},
	}, job.Deps{Schemas: job.StaticSchemas{1: reader}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return pipeStats{}, err
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for t.Stats().In < uint64(n) {
		select {
		case <-tick.C:
		case <-t.Done():
			return pipeStats{}, fmt.Errorf("the job ended early: %v", t.Err())
		case <-ctx.Done():
			_, _ = t.Stop(context.WithoutCancel(ctx))
			return pipeStats{}, ctx.Err()
		}
	}
	if _, err := t.Stop(ctx); err != nil {
		return pipeStats{}, err
	}
	st := t.Stats()
	s := pipeStats{In: st.In, Out: st.Out}
	for _, k := range st.DeadLettered {
		s.Bad += k
	}
	return s, nil
}

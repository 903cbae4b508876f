package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/engine"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sql"
)

// GroupID is the Kafka consumer group under which a job's offsets are
// committed, so that standard Kafka tools show its lag. Sluice does not
// join the group: partitions are assigned explicitly.
func GroupID(jobID string) string { return "sluice.job." + jobID }

// DeadLetterTopic is the per-tenant topic bad records go to.
func DeadLetterTopic(tenant string) string { return "sluice.dlq." + tenant }

// StartFrom is where a job reads a partition it has no committed offset
// for.
type StartFrom struct {
	// Earliest, Latest, or neither: then At, a point in time (the first
	// record whose timestamp is at or after it).
	Earliest, Latest bool
	At               time.Time
}

// ParseStartFrom reads "earliest", "latest" or an RFC 3339 time.
func ParseStartFrom(s string) (StartFrom, error) {
	switch strings.ToLower(s) {
	case "", "earliest":
		return StartFrom{Earliest: true}, nil
	case "latest":
		return StartFrom{Latest: true}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return StartFrom{}, fmt.Errorf("startFrom %q: want earliest, latest or an RFC 3339 time such as 2026-11-26T15:04:05Z", s)
	}
	return StartFrom{At: t}, nil
}

// Spec is what a task runs: the running form of a subscription, for a set
// of partitions of the tenant topic.
type Spec struct {
	// ID names the job: its consumer group is GroupID(ID).
	ID     string
	Tenant string
	Topic  string
	Kafka  kafkaconn.Config
	// Cluster names the cluster Kafka connects to (in the catalog): with
	// Topic it names the job's source, which sinks keep offsets by.
	Cluster string
	// Partitions the task owns; nil for every partition of the topic.
	Partitions []int32
	SQL        string
	// Reader is the schema the query was written against.
	Reader        *avro.Schema
	Format        string
	FormatOptions format.Options
	Sink          sink.Spec
	// StartFrom applies to partitions with no committed offset.
	StartFrom StartFrom
	// Lateness is the allowed lateness of an aggregation (default
	// engine.DefaultLateness); DeadLetterLate sends late records to the
	// dead-letter topic instead of dropping them.
	Lateness       time.Duration
	DeadLetterLate bool
	// Batching: a batch goes to the sink when it has MaxBatchRecords rows
	// or MaxBatchBytes bytes, or MaxBatchDelay after its first row
	// (default 200ms).
	MaxBatchRecords int
	MaxBatchBytes   int
	MaxBatchDelay   time.Duration
	// Retry is the sink's retry policy (zero: retry until stopped).
	Retry sink.Retry
	// ExactlyOnce asks the sink for exactly-once delivery (a subscription's
	// deliveryGuarantee); only sink types that support it are given it.
	ExactlyOnce bool
}

// SinkOutput describes a job's output to its sink: the format (by name,
// lower case), the result columns and, for Avro, the schema.
func SinkOutput(formatName string, cols []sql.OutputColumn, enc format.Encoder) sink.Output {
	out := sink.Output{Format: strings.ToLower(formatName), ContentType: enc.ContentType(), Columns: cols}
	if a, ok := enc.(interface{ Schema() string }); ok {
		out.Schema = a.Schema()
	}
	return out
}

// TaskName names a task by the partitions it owns, stably across restarts
// ("all", or "p0-3,7"): sinks that fence a previous instance of the same
// task (a Kafka transactional id) key on it.
func TaskName(parts []int32) string {
	if parts == nil {
		return "all"
	}
	ps := slices.Clone(parts)
	slices.Sort(ps)
	var b strings.Builder
	b.WriteByte('p')
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1] == ps[j]+1 {
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(ps[i])))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(ps[j])))
		}
		i = j + 1
	}
	return b.String()
}

// Deps are what tasks share.
type Deps struct {
	Schemas Schemas
	Cache   *decode.Cache // optional
	Metrics *Metrics      // optional
	Logger  *slog.Logger  // optional
	SinkEnv sink.Env
}

// Memory bounds of a task's source: at most maxConcurrentFetches fetches of
// FetchMaxBytes (compressed) wait to be processed (see docs/jobs.md).
const (
	FetchMaxBytes          = 8 << 20
	FetchMaxPartitionBytes = 1 << 20
	maxConcurrentFetches   = 2
	pollRecords            = 2000
	defaultBatchDelay      = 200 * time.Millisecond
	commitInterval         = time.Second
)

// Task runs one job task: it consumes its partitions from the given
// offsets, runs the pipeline, commits offsets after the sink acknowledged,
// and stops either at a checkpoint (Stop) or abruptly (its context ends).
type Task struct {
	spec  Spec
	deps  Deps
	log   *slog.Logger
	cl    *kgo.Client
	adm   *kadm.Client
	pipe  *Pipeline
	snk   sink.Sink
	dlq   *kafkaDeadLetters
	stats *taskMetrics

	parts    []int32            // the partitions consumed, sorted
	polled   atomic.Int64       // records taken from the client, for tests of backpressure
	stopPoll context.CancelFunc // ends the current poll; the loop then checkpoints
	stopping chan struct{}
	done     chan struct{}
	err      error
	ckpt     Checkpoint
}

// Start analyses the query, opens the sink, finds the starting offsets and
// starts consuming. The task runs until Stop or until ctx ends (an abrupt
// stop: nothing is flushed or committed).
func Start(ctx context.Context, spec Spec, deps Deps) (*Task, error) {
	if deps.Schemas == nil {
		return nil, errors.New("job: Deps.Schemas is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if spec.MaxBatchDelay <= 0 {
		spec.MaxBatchDelay = defaultBatchDelay
	}
	q, err := sql.Analyze(spec.SQL, spec.Reader)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", spec.ID, err)
	}
	enc, err := format.NewWithOptions(spec.Format, q.Columns, spec.FormatOptions)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", spec.ID, err)
	}
	t := &Task{spec: spec, deps: deps, log: deps.Logger.With("job", spec.ID), stopping: make(chan struct{}), done: make(chan struct{})}
	if t.cl, err = kafkaconn.NewClient(spec.Kafka,
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxBytes(FetchMaxBytes),
		kgo.FetchMaxPartitionBytes(FetchMaxPartitionBytes),
		kgo.MaxConcurrentFetches(maxConcurrentFetches),
	); err != nil {
		return nil, fmt.Errorf("job %s: kafka client: %w", spec.ID, err)
	}
	t.adm = kadm.NewClient(t.cl)
	fail := func(err error) (*Task, error) {
		t.cl.Close()
		if t.snk != nil {
			_ = t.snk.Close(context.WithoutCancel(ctx))
		}
		return nil, fmt.Errorf("job %s: %w", spec.ID, err)
	}
	env := deps.SinkEnv
	env.Job, env.Tenant, env.Task = spec.ID, spec.Tenant, TaskName(spec.Partitions)
	env.ExactlyOnce, env.Topic, env.Source = spec.ExactlyOnce, spec.Topic, spec.Cluster+"/"+spec.Topic
	// The tenant's cluster is the one the job reads, whatever the catalog
	// says now (a topic migrating between clusters).
	resolve := env.KafkaCluster
	env.KafkaCluster = func(ctx context.Context, tenant, name string) (kafkaconn.Config, error) {
		if name == "" {
			return spec.Kafka, nil
		}
		if resolve == nil {
			return kafkaconn.Config{}, fmt.Errorf("no Kafka cluster %q: this process resolves none", name)
		}
		return resolve(ctx, tenant, name)
	}
	env.Output = SinkOutput(spec.Format, q.Columns, enc)
	if t.snk, err = sink.Open(ctx, spec.Sink, env); err != nil {
		return fail(err)
	}
	resume, placed, err := t.resumeCheckpoint(ctx)
	if err != nil {
		return fail(err)
	}
	t.dlq = &kafkaDeadLetters{job: spec.ID, topic: DeadLetterTopic(spec.Tenant), cl: t.cl, adm: t.adm}
	late := engine.DropLate
	if spec.DeadLetterLate {
		late = engine.DeadLetterLate
	}
	t.stats = deps.Metrics.task(spec.ID)
	t.pipe, err = NewPipeline(PipelineConfig{
		Job: spec.ID, Query: q, QueryID: QueryID(spec.SQL), Reader: spec.Reader, Schemas: deps.Schemas, Cache: deps.Cache,
		Format: enc, Sink: t.snk, Retry: spec.Retry, DeadLetter: t.dlq,
		Engine:          engine.Options{Lateness: spec.Lateness, Late: late},
		MaxBatchRecords: spec.MaxBatchRecords, MaxBatchBytes: spec.MaxBatchBytes,
		Delivered: t.stats.delivered,
	})
	if err != nil {
		return fail(err)
	}
	offsets := t.pipe.Resume(resume)
	parts := make([]int32, 0, len(offsets))
	consume := make(map[int32]kgo.Offset, len(offsets))
	for p, o := range offsets {
		parts = append(parts, p)
		consume[p] = kgo.NewOffset().At(o)
	}
	slices.Sort(parts)
	t.parts = parts
	if placed {
		// Partitions placed by startFrom (a new job, partitions added):
		// commit where they start, so that a restart before the first
		// batch starts there too, not where startFrom points then.
		if err := t.commit(ctx, t.pipe.Checkpoint()); err != nil {
			t.log.Warn("commit the starting offsets", "err", err) // the first batch commits them
		}
	}
	t.pipe.Engine().AssignPartitions(parts...)
	t.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{spec.Topic: consume})
	t.stats.setState(StateRunning)
	pollCtx, stopPoll := context.WithCancel(ctx)
	t.stopPoll = stopPoll
	go t.run(ctx, pollCtx)
	return t, nil
}

// resumeCheckpoint is where the task resumes: the checkpoint committed to
// the job's group or, for an exactly-once sink, the one it stored with
// its writes — the sink's when the group's commits were made with the
// same sink, else the later of the two (a sink used in an earlier epoch
// holds an older one). A
// partition neither names starts where StartFrom points for a new job;
// for a job that has committed before, it is new to the job (partitions
// were added) and starts at its earliest offset, so that records written
// to it before the job noticed it are not missed. placed reports whether
// any partition was placed so.
func (t *Task) resumeCheckpoint(ctx context.Context) (ck Checkpoint, placed bool, err error) {
	parts := t.spec.Partitions
	if parts == nil {
		topics, err := t.adm.ListTopics(ctx, t.spec.Topic)
		if err != nil {
			return Checkpoint{}, false, fmt.Errorf("list partitions of %s: %w", t.spec.Topic, err)
		}
		td, ok := topics[t.spec.Topic]
		if !ok || td.Err != nil {
			return Checkpoint{}, false, fmt.Errorf("topic %s: not found (%v)", t.spec.Topic, td.Err)
		}
		parts = td.Partitions.Numbers()
	}
	owned := func(offsets map[int32]int64, meta map[int32]string) Checkpoint {
		mine := map[int32]int64{}
		for _, p := range parts {
			if o, ok := offsets[p]; ok {
				mine[p] = o
			}
		}
		return checkpointOf(mine, meta)
	}
	var committed kadm.OffsetResponses
	err = retryKafka(ctx, func() error {
		var err error
		committed, err = t.adm.FetchOffsets(ctx, GroupID(t.spec.ID))
		if errors.Is(err, kerr.GroupIDNotFound) {
			committed, err = nil, nil // a new job
		}
		return err
	})
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("fetch committed offsets of %s: %w", GroupID(t.spec.ID), err)
	}
	offsets, meta := map[int32]int64{}, map[int32]string{}
	for p, o := range committed[t.spec.Topic] {
		if o.Err == nil && o.At >= 0 {
			offsets[p], meta[p] = o.At, o.Metadata
		}
	}
	fresh := len(offsets) == 0
	ck = owned(offsets, meta)
	if store, ok := t.snk.(sink.OffsetStore); ok {
		// An exactly-once sink keeps the offsets with its writes: they
		// are ahead of the group's commits unless the sink is one the job
		// used before (an update changed the sink, and back).
		offsets, meta, err := store.StoredOffsets(ctx)
		if err != nil {
			return Checkpoint{}, false, fmt.Errorf("offsets stored by the sink: %w", err)
		}
		fresh = fresh && len(offsets) == 0
		stored := owned(offsets, meta)
		switch {
		case ck.Sink == SinkID(t.spec.Sink):
			// The group's commits are this sink's task's: they may run
			// ahead of what the sink made durable. The sink says.
			ck = stored
		case !ck.atLeast(stored):
			// The group's commits are another sink's (an earlier epoch's)
			// and older: partitions the sink never wrote for start where
			// the group says.
			group := ck
			ck = stored
			for p, off := range group.Offsets {
				if _, ok := ck.Offsets[p]; !ok {
					ck.Offsets[p] = off
				}
			}
		}
	}
	var missing []int32
	for _, p := range parts {
		if _, ok := ck.Offsets[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return ck, false, nil
	}
	// Resolve where the missing partitions start to exact offsets, so
	// that a checkpoint names every partition the task owns even if it
	// read nothing from it.
	from := t.spec.StartFrom
	if !fresh {
		from = StartFrom{Earliest: true}
		t.log.Info("partitions new to the job: reading them from their earliest offsets", "topic", t.spec.Topic, "partitions", missing)
	}
	var listed kadm.ListedOffsets
	switch {
	case from.Latest:
		listed, err = t.adm.ListEndOffsets(ctx, t.spec.Topic)
	case from.At.IsZero() || from.Earliest:
		listed, err = t.adm.ListStartOffsets(ctx, t.spec.Topic)
	default:
		listed, err = t.adm.ListOffsetsAfterMilli(ctx, from.At.UnixMilli(), t.spec.Topic)
	}
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("resolve startFrom on %s: %w", t.spec.Topic, err)
	}
	var ends kadm.ListedOffsets
	for _, p := range missing {
		o, ok := listed.Lookup(t.spec.Topic, p)
		if !ok {
			return Checkpoint{}, false, fmt.Errorf("resolve startFrom: no offset for partition %d of %s", p, t.spec.Topic)
		}
		if o.Offset < 0 { // no record at or after the time: start at the end
			if ends == nil {
				if ends, err = t.adm.ListEndOffsets(ctx, t.spec.Topic); err != nil {
					return Checkpoint{}, false, err
				}
			}
			e, _ := ends.Lookup(t.spec.Topic, p)
			o.Offset = e.Offset
		}
		ck.Offsets[p] = o.Offset
	}
	return ck, true, nil
}

func (t *Task) run(ctx, pollCtx context.Context) {
	defer close(t.done)
	defer t.cl.Close()
	err := t.loop(ctx, pollCtx)
	if err == nil {
		// Stopped at a checkpoint: flush, acknowledge, commit.
		err = t.checkpoint(context.WithoutCancel(ctx))
	}
	if cerr := t.snk.Close(context.WithoutCancel(ctx)); err == nil && cerr != nil {
		err = fmt.Errorf("close sink: %w", cerr)
	}
	t.stats.publish(t.pipe)
	t.err = err
	switch {
	case err == nil, ctx.Err() != nil && errors.Is(err, ctx.Err()):
		// Stopped at a checkpoint, or abruptly by the owner.
		t.stats.setState(StateStopped)
		t.stats.forget()
	default:
		// A failed task's series stay, state failed, until the job's
		// next task starts here.
		t.stats.setState(StateFailed)
		t.log.Error("task failed", "err", err)
	}
}

// loop consumes until Stop (nil) or a failure or ctx's end (an error).
func (t *Task) loop(ctx, pollCtx context.Context) error {
	defer t.stopPoll()
	lastFlush, lastCommit := time.Now(), time.Now()
	var committed Checkpoint
	for {
		select {
		case <-t.stopping:
			return nil
		default:
		}
		wait := t.spec.MaxBatchDelay - time.Since(lastFlush)
		pctx, cancel := context.WithTimeout(pollCtx, max(wait, time.Millisecond))
		fetches := t.cl.PollRecords(pctx, pollRecords)
		cancel()
		if err := ctx.Err(); err != nil {
			return err
		}
		var fatal error
		fetches.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			t.stats.fetchError()
			t.log.Warn("fetch", "topic", topic, "partition", p, "err", err)
			if errors.Is(err, kgo.ErrClientClosed) {
				fatal = err
			}
		})
		if fatal != nil {
			return fatal
		}
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if p.Topic == t.spec.Topic && p.Partition >= 0 && p.Err == nil {
				t.stats.highWatermark(p.Partition, p.HighWatermark)
			}
		})
		recs := fetches.Records()
		t.polled.Add(int64(len(recs)))
		if err := t.pipe.Process(ctx, recs); err != nil {
			return err
		}
		if time.Since(lastFlush) >= t.spec.MaxBatchDelay {
			if err := t.pipe.Flush(ctx); err != nil {
				return err
			}
			lastFlush = time.Now()
		}
		t.stats.publish(t.pipe)
		if time.Since(lastCommit) >= commitInterval {
			next := t.pipe.Checkpoint()
			if !maps.Equal(next.Offsets, committed.Offsets) || !maps.Equal(next.Meta(), committed.Meta()) {
				if err := t.commit(ctx, next); err != nil {
					t.log.Warn("commit offsets", "err", err) // retried at the next interval
				} else {
					committed = next
				}
			}
			lastCommit = time.Now()
		}
	}
}

// commit stores the checkpoint under the job's group: the offsets, and
// the rest as their metadata.
func (t *Task) commit(ctx context.Context, ck Checkpoint) error {
	if len(ck.Offsets) == 0 {
		return nil
	}
	var os kadm.Offsets
	ck.Sink = SinkID(t.spec.Sink)
	meta := ck.Meta()
	for p, o := range ck.Offsets {
		os.Add(kadm.Offset{Topic: t.spec.Topic, Partition: p, At: o, LeaderEpoch: -1, Metadata: meta[p]})
	}
	err := retryKafka(ctx, func() error {
		resp, err := t.adm.CommitOffsets(ctx, GroupID(t.spec.ID), os)
		if err == nil {
			err = resp.Error()
		}
		return err
	})
	if err == nil {
		t.stats.committed(ck.Offsets)
	}
	return err
}

// retryKafka retries fn while it fails with an error Kafka calls
// retriable (a coordinator moving or loading, say), for up to about ten
// seconds.
func retryKafka(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 40; attempt++ {
		if err = fn(); err == nil || !kerr.IsRetriable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	return err
}

// checkpoint flushes the pipeline and commits everything it covers.
func (t *Task) checkpoint(ctx context.Context) error {
	if err := t.pipe.Flush(ctx); err != nil {
		return err
	}
	ck := t.pipe.Checkpoint()
	if err := t.commit(ctx, ck); err != nil {
		return fmt.Errorf("commit offsets at the checkpoint: %w", err)
	}
	t.ckpt = ck
	return nil
}

// Stop stops the task at a checkpoint: it stops consuming, delivers what
// it holds, waits for the sink's acknowledgement, commits the offsets and
// returns them. It waits until then or until ctx ends.
func (t *Task) Stop(ctx context.Context) (Checkpoint, error) {
	select {
	case <-t.stopping:
	default:
		close(t.stopping)
	}
	if t.stopPoll != nil {
		t.stopPoll()
	}
	select {
	case <-t.done:
	case <-ctx.Done():
		return Checkpoint{}, ctx.Err()
	}
	return t.ckpt, t.err
}

// Consumed returns, per partition, the offset after the last record taken,
// as of the last poll: where the task has read to.
func (t *Task) Consumed() map[int32]int64 { return t.stats.consumed() }

// Partitions returns the partitions the task consumes, sorted.
func (t *Task) Partitions() []int32 { return slices.Clone(t.parts) }

// Done is closed when the task has ended, by Stop, failure or its context.
func (t *Task) Done() <-chan struct{} { return t.done }

// Err is why the task ended (nil after a clean Stop); valid after Done.
func (t *Task) Err() error { return t.err }

// Stats returns the pipeline's counters as of the last poll.
func (t *Task) Stats() Stats { return t.stats.snapshot() }

// Lag returns, per partition, the records between the committed offset
// and the high watermark, as of the last poll.
func (t *Task) Lag() map[int32]int64 { return t.stats.lag() }

// PurgeOffsets deletes a job's consumer group, and with it the committed
// offsets, so that a job of the same id would start from its startFrom.
func PurgeOffsets(ctx context.Context, conn kafkaconn.Config, jobID string) error {
	cl, err := kafkaconn.NewClient(conn)
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).DeleteGroup(ctx, GroupID(jobID))
	if err == nil {
		err = resp.Err
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil
	}
	return err
}

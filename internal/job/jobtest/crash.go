// Package jobtest runs jobs the way production does, for the tests of the
// sinks that claim exactly-once delivery: [RunCrash] kills a job abruptly
// at random points and restarts it, then checks the destination holds
// every record once.
package jobtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/job"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/sink"
)

// Schema is the source records' schema: ids 0..N-1, a name, and an event
// time 7 seconds apart per id (3,000 records span almost six hours).
const Schema = `{"type":"record","name":"Event","fields":[
	{"name":"id","type":"long"},
	{"name":"name","type":"string"},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}}
]}`

// BaseTime is the event time of id 0.
var BaseTime = time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)

// Crash describes one kill-and-restart run.
type Crash struct {
	// Addr is the source Kafka cluster's bootstrap address.
	Addr string
	// Partitions of the source topic (default 3) and Records, N (default
	// 3,000).
	Partitions int32
	Records    int
	// Kills is how many times the job is killed before the run that is
	// let finish (default 4).
	Kills int
	// SQL is the query (default "SELECT id, name, ts FROM tenant"); it
	// must keep every id, or produce the ids Want names (AggregateSQL).
	SQL string
	// Want are the ids the destination must end up holding, each once;
	// default 0..N-1.
	Want []int64
	// Job is the job id (default: from the topic name, unique per call).
	Job string
	// The sink, the format of its records and the guarantee asked.
	Sink          sink.Spec
	SinkEnv       sink.Env
	Format        string // default JSON
	FormatOptions format.Options
	ExactlyOnce   bool
	// Delivered reads the destination: every id it holds, repeats
	// included.
	Delivered func(ctx context.Context) ([]int64, error)
}

var schemaAvro = avro.MustParse(Schema)

// AggregateSQL is a query for RunCrash over 1-minute tumbling windows:
// each window's row has as id its first id × 100 + its count of records,
// so a window emitted twice, or emitted from part of its records after a
// restart, shows as a wrong id. AggregateWant gives the ids.
const AggregateSQL = "SELECT MIN(id) * 100 + COUNT(*) AS id, COUNT(*) AS n, WINDOW_END AS window_end " +
	"FROM tenant GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)"

// AggregateWant is what AggregateSQL emits for RunCrash's n records on
// its partitions (record id goes to partition id mod partitions) under
// the default lateness of 5 seconds: every window the watermark passes,
// that is every window ending at or before the last partition's highest
// event time less 5 seconds.
func AggregateWant(n, partitions int) []int64 {
	const step, size = 7 * time.Second, time.Minute
	last := time.Duration(max(0, n-partitions)) * step
	var want []int64
	for k := time.Duration(0); (k+1)*size <= last-5*time.Second; k++ {
		first := int64((k*size + step - 1) / step)
		end := min(int64(n), int64(((k+1)*size+step-1)/step))
		want = append(want, first*100+end-first)
	}
	return want
}

// RunCrash produces N records with known ids, runs the job, kills it
// abruptly (its context cancelled, mid-batch if it is in one: no flush,
// no commit, no clean close) at random points Kills times, restarting it
// each time from what the sink or the consumer group says was delivered,
// then lets the last run deliver everything and stops it at a checkpoint.
// It fails the test unless the destination holds exactly the N ids, each
// once. It returns the job id.
func RunCrash(t testing.TB, c Crash) string {
	t.Helper()
	if c.Partitions <= 0 {
		c.Partitions = 3
	}
	if c.Records <= 0 {
		c.Records = 3000
	}
	if c.Kills <= 0 {
		c.Kills = 4
	}
	if c.SQL == "" {
		c.SQL = "SELECT id, name, ts FROM tenant"
	}
	if c.Format == "" {
		c.Format = "JSON"
	}
	topic := kafkatest.TopicName(t)
	if c.Job == "" {
		c.Job = "crash-" + topic
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 9))
	t.Logf("crash run: job %s, %d records, %d kills, seed %d", c.Job, c.Records, c.Kills, seed)

	if c.Want == nil {
		c.Want = make([]int64, c.Records)
		for i := range c.Want {
			c.Want[i] = int64(i)
		}
	}
	cl := kafkatest.NewClient(t, c.Addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	if resp, err := adm.CreateTopic(ctx, c.Partitions, -1, nil, topic); err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", topic, err, resp.Err)
	}
	recs := make([]*kgo.Record, 0, c.Records)
	for id := range c.Records {
		v, err := schemaAvro.Encode(map[string]any{"id": int64(id), "name": "event-" + strconv.Itoa(id),
			"ts": BaseTime.Add(time.Duration(id) * 7 * time.Second).UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(id)), Value: v, Partition: int32(id) % c.Partitions,
			Headers: []kgo.RecordHeader{{Key: wire.Header, Value: wire.HeaderValue(1)}}})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}

	spec := job.Spec{
		ID: c.Job, Tenant: "crash", Topic: topic,
		Kafka: kafkaconn.Config{Bootstrap: strings.Split(c.Addr, ",")},
		SQL:   c.SQL, Reader: schemaAvro, Format: c.Format, FormatOptions: c.FormatOptions,
		Sink: c.Sink, ExactlyOnce: c.ExactlyOnce,
		MaxBatchDelay: 10 * time.Millisecond,
		Retry:         sink.Retry{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond},
	}
	deps := job.Deps{Schemas: job.StaticSchemas{1: schemaAvro}, SinkEnv: c.SinkEnv}

	// The job's sink is the real one wrapped in a crash point, which
	// kills the run at a chosen write: before it, during it or after it
	// (the sink has the rows, the runtime has not committed).
	cp := &crashPoint{inner: c.Sink}
	crashPoints.Store(c.Job, cp)
	defer crashPoints.Delete(c.Job)
	spec.Sink = sink.Spec{Type: crashSinkType, Settings: map[string]any{"job": c.Job}}
	batches := len(c.Want) / 60 // batches of 5 to 125 rows, 65 on average
	for kill := range c.Kills {
		// Batches of varying size, so that batch boundaries move between
		// runs; small enough that the killed runs cannot deliver every
		// row (few rows, as an aggregation's, with one batch each).
		spec.MaxBatchRecords = 5 + rng.IntN(min(120, max(1, len(c.Want)/(2*(c.Kills+1)))))
		runCtx, cancel := context.WithCancel(ctx)
		how := killHow(rng.IntN(3))
		cp.arm(1+rng.IntN(max(1, batches/(c.Kills+1))), how, time.Duration(rng.IntN(2000))*time.Microsecond, cancel)
		task, err := job.Start(runCtx, spec, deps)
		if err != nil {
			cancel()
			t.Fatalf("start (run %d): %v", kill+1, err)
		}
		select {
		case <-task.Done():
		case <-time.After(60 * time.Second):
			cancel()
			writes, at := cp.progress()
			t.Fatalf("run %d was not killed within a minute (%d rows out, %d writes, kill armed at %d)", kill+1, task.Stats().Out, writes, at)
		}
		cancel()
		if !cp.fired() {
			t.Fatalf("run %d ended before it was killed: %v", kill+1, task.Err())
		}
		_, at := cp.progress()
		t.Logf("run %d: killed %s write %d (batches of %d)", kill+1, how, at, spec.MaxBatchRecords)
	}
	cp.arm(0, 0, 0, nil)

	spec.MaxBatchRecords = 5 + rng.IntN(120)
	task, err := job.Start(ctx, spec, deps)
	if err != nil {
		t.Fatalf("start (last run): %v", err)
	}
	var got []int64
	deadline := time.Now().Add(90 * time.Second)
	for {
		got, err = c.Delivered(ctx)
		if err != nil {
			t.Fatalf("read the destination: %v", err)
		}
		if len(got) >= len(c.Want) || time.Now().After(deadline) {
			break
		}
		select {
		case <-task.Done():
			t.Fatalf("last run ended: %v", task.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Logf("last run: the destination holds %d ids, %d rows out (batches of %d)", len(got), task.Stats().Out, spec.MaxBatchRecords)
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := task.Stop(stopCtx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if got, err = c.Delivered(ctx); err != nil {
		t.Fatalf("read the destination: %v", err)
	}
	if err := exactlyOnce(got, c.Want); err != nil {
		t.Fatal(err)
	}
	return c.Job
}

const crashSinkType = "jobtest-crash"

func init() {
	sink.RegisterType(sink.Type{Name: crashSinkType, Open: openCrashPoint, ExactlyOnce: true})
}

// crashPoints holds the crash point of each running RunCrash, by job.
var crashPoints sync.Map

type killHow int

const (
	killBefore killHow = iota // the write never reaches the sink
	killDuring                // the context ends while the sink writes
	killAfter                 // the sink acknowledged; nothing is committed
)

func (k killHow) String() string { return [...]string{"before", "during", "after"}[k] }

// crashPoint counts a run's writes and kills it at the armed one.
type crashPoint struct {
	inner sink.Spec

	mu     sync.Mutex
	writes int
	at     int // kill at this write; 0: never
	how    killHow
	delay  time.Duration // into the write, for killDuring
	kill   context.CancelFunc
	done   bool
}

func (c *crashPoint) arm(at int, how killHow, delay time.Duration, kill context.CancelFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes, c.at, c.how, c.delay, c.kill, c.done = 0, at, how, delay, kill, false
}

// progress returns the writes of this run so far and the one the kill is
// armed at.
func (c *crashPoint) progress() (writes, at int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.at
}

func (c *crashPoint) fired() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

// next counts a write and says whether and how to kill the run at it.
func (c *crashPoint) next() (kill context.CancelFunc, how killHow, delay time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	if c.at == 0 || c.writes != c.at {
		return nil, 0, 0
	}
	c.done = true
	return c.kill, c.how, c.delay
}

func openCrashPoint(ctx context.Context, spec sink.Spec, env sink.Env) (sink.Sink, error) {
	job, _ := spec.Settings["job"].(string)
	v, ok := crashPoints.Load(job)
	if !ok {
		return nil, fmt.Errorf("jobtest: no crash run for job %q", job)
	}
	cp := v.(*crashPoint)
	inner, err := sink.Open(ctx, cp.inner, env)
	if err != nil {
		return nil, err
	}
	s := &crashSink{cp: cp, inner: inner}
	if store, ok := inner.(sink.OffsetStore); ok {
		return &crashStoreSink{s, store}, nil
	}
	return s, nil
}

type crashSink struct {
	cp    *crashPoint
	inner sink.Sink
}

func (s *crashSink) Write(ctx context.Context, b *sink.Batch) error {
	kill, how, delay := s.cp.next()
	switch {
	case kill == nil:
		return s.inner.Write(ctx, b)
	case how == killBefore:
		kill()
		return ctx.Err()
	case how == killDuring:
		// A write quicker than the delay is killed right after.
		timer := time.AfterFunc(delay, kill)
		defer timer.Stop()
	}
	err := s.inner.Write(ctx, b)
	kill()
	if err == nil {
		err = ctx.Err()
	}
	return err
}

func (s *crashSink) Close(ctx context.Context) error { return s.inner.Close(ctx) }

// crashStoreSink passes on the inner sink's stored offsets.
type crashStoreSink struct {
	*crashSink
	sink.OffsetStore
}

// exactlyOnce checks that ids are want, each once.
func exactlyOnce(ids, want []int64) error {
	count := make(map[int64]int, len(want))
	for _, id := range want {
		count[id]--
	}
	for _, id := range ids {
		count[id]++
	}
	var dup, missing, extra []int64
	for _, id := range slices.Sorted(maps.Keys(count)) {
		switch n := count[id]; {
		case n > 0 && slices.Contains(want, id):
			dup = append(dup, id)
		case n > 0:
			extra = append(extra, id)
		case n < 0:
			missing = append(missing, id)
		}
	}
	if len(dup) == 0 && len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	return fmt.Errorf("destination holds %d ids, want %d: %d duplicated (first %v), %d missing (first %v), %d unexpected (first %v)",
		len(ids), len(want), len(dup), dup[:min(len(dup), 10)], len(missing), missing[:min(len(missing), 10)], len(extra), extra[:min(len(extra), 10)])
}

// ParseIDs reads the "id" of every JSON object in NDJSON (or a JSON array
// per line): what sinks writing JSON hold.
func ParseIDs(b []byte) ([]int64, error) {
	var ids []int64
	d := json.NewDecoder(bytes.NewReader(b))
	for {
		var row struct {
			ID *int64 `json:"id"`
		}
		err := d.Decode(&row)
		if err == io.EOF {
			return ids, nil
		}
		if err != nil {
			return ids, fmt.Errorf("parse ids: %w", err)
		}
		if row.ID == nil {
			return ids, errors.New("parse ids: a row without an id")
		}
		ids = append(ids, *row.ID)
	}
}

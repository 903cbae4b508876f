package job

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/testenv"
)

const eventSchema = `{"type":"record","name":"Event","fields":[
	{"name":"id","type":"long"},
	{"name":"action","type":"string"},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"pad","type":"string"}
]}`

var eventAvro = avro.MustParse(eventSchema)

// skipped reports whether record id is filtered out by testSQL.
func skipped(id int) bool { return id%10 == 3 }

const testSQL = "SELECT id, action FROM tenant WHERE action <> 'skip'"

func eventRecord(t testing.TB, topic string, id int, pad int) *kgo.Record {
	t.Helper()
	action := "deny"
	if skipped(id) {
		action = "skip"
	}
	v, err := eventAvro.Encode(map[string]any{"id": int64(id), "action": action, "ts": int64(1_764_000_000_000 + id), "pad": strings.Repeat("x", pad)})
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(id)), Value: v,
		Headers: []kgo.RecordHeader{{Key: wire.Header, Value: wire.HeaderValue(1)}}}
}

// env is one test's topic and job on one cluster.
type env struct {
	t      *testing.T
	addr   string
	topic  string
	tenant string
	out    string
	cl     *kgo.Client
	adm    *kadm.Client
}

func newEnv(t *testing.T, addr string, partitions int32, opts ...kgo.Opt) *env {
	e := &env{t: t, addr: addr, topic: kafkatest.TopicName(t), out: filepath.Join(t.TempDir(), "out.ndjson")}
	e.tenant = e.topic
	e.cl = kafkatest.NewClient(t, addr, append([]kgo.Opt{kgo.DefaultProduceTopic(e.topic)}, opts...)...)
	e.adm = kadm.NewClient(e.cl)
	resp, err := e.adm.CreateTopic(context.Background(), partitions, -1, nil, e.topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	return e
}

func (e *env) produce(from, to int, pad int) {
	e.t.Helper()
	var recs []*kgo.Record
	for id := from; id < to; id++ {
		recs = append(recs, eventRecord(e.t, e.topic, id, pad))
	}
	if err := e.cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		e.t.Fatalf("produce: %v", err)
	}
}

func (e *env) spec(id string) Spec {
	return Spec{
		ID: id, Tenant: e.tenant, Topic: e.topic,
		Kafka: kafkaconn.Config{Bootstrap: strings.Split(e.addr, ",")},
		SQL:   testSQL, Reader: eventAvro, Format: "JSON",
		Sink:            sink.Spec{Type: "file", Settings: map[string]any{"path": e.out, "fsync": false}},
		MaxBatchRecords: 50, MaxBatchDelay: 20 * time.Millisecond,
	}
}

func (e *env) start(ctx context.Context, s Spec) *Task {
	e.t.Helper()
	task, err := Start(ctx, s, Deps{Schemas: StaticSchemas{1: eventAvro}})
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	return task
}

// delivered reads the ids in the output file, with how often each came.
func (e *env) delivered() map[int]int {
	e.t.Helper()
	f, err := os.Open(e.out)
	if os.IsNotExist(err) {
		return map[int]int{}
	}
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	out := map[int]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row struct {
			ID     int    `json:"id"`
			Action string `json:"action"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			e.t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		out[row.ID]++
	}
	return out
}

// produceSlowly writes [from, to) in small chunks, so that a task reading
// meanwhile is stopped mid-stream; the returned channel closes when done.
func (e *env) produceSlowly(from, to int) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for id := from; id < to; id += 50 {
			var recs []*kgo.Record
			for j := id; j < min(id+50, to); j++ {
				recs = append(recs, eventRecord(e.t, e.topic, j, 10))
			}
			if err := e.cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				e.t.Errorf("produce: %v", err)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return done
}

// want lists the ids of [0, n) the query keeps.
func want(n int) []int {
	var ids []int
	for id := 0; id < n; id++ {
		if !skipped(id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// waitFor polls until at least n distinct ids were delivered.
func (e *env) waitFor(n int, d time.Duration) map[int]int {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := e.delivered()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d distinct ids delivered after %v, want %d", len(got), d, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkAll(t *testing.T, got map[int]int, n int, exactlyOnce bool) {
	t.Helper()
	dups := 0
	for _, id := range want(n) {
		switch c := got[id]; {
		case c == 0:
			t.Fatalf("id %d was never delivered", id)
		case c > 1:
			dups += c - 1
		}
	}
	if len(got) != len(want(n)) {
		t.Fatalf("%d distinct ids delivered, want %d (filtered ones leaked?)", len(got), len(want(n)))
	}
	if exactlyOnce && dups > 0 {
		t.Fatalf("%d duplicates after a stop at a checkpoint, want none", dups)
	}
	t.Logf("%d ids, %d duplicates", len(got), dups)
}

// TestAbruptStopAtLeastOnce: a task cancelled abruptly mid-stream and
// restarted delivers every record at least once.
func TestAbruptStopAtLeastOnce(t *testing.T) {
	for _, target := range kafkatest.Targets(t) {
		t.Run(target.Name, func(t *testing.T) {
			const n = 3000
			e := newEnv(t, target.Addr, 3)
			e.produce(0, n/2, 10)
			ctx, cancel := context.WithCancel(context.Background())
			task := e.start(ctx, e.spec("abrupt"))
			e.waitFor(100, 30*time.Second)
			produced := e.produceSlowly(n/2, n)
			time.Sleep(30 * time.Millisecond)
			cancel() // abrupt, mid-stream: nothing flushed or committed on the way out
			<-task.Done()
			<-produced
			task = e.start(context.Background(), e.spec("abrupt"))
			got := e.waitFor(len(want(n)), 60*time.Second)
			if _, err := task.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkAll(t, got, n, false)
		})
	}
}

// TestStopAtCheckpointExactlyOnce: a task stopped at a checkpoint mid-
// stream and restarted delivers every record exactly once, and the
// checkpoint is committed under the job's group.
func TestStopAtCheckpointExactlyOnce(t *testing.T) {
	for _, target := range kafkatest.Targets(t) {
		t.Run(target.Name, func(t *testing.T) {
			const n = 3000
			e := newEnv(t, target.Addr, 3)
			e.produce(0, n/2, 10)
			task := e.start(context.Background(), e.spec("ckpt"))
			e.waitFor(50, 30*time.Second)
			produced := e.produceSlowly(n/2, n)
			time.Sleep(30 * time.Millisecond)
			ckpt, err := task.Stop(context.Background()) // mid-stream
			if err != nil {
				t.Fatal(err)
			}
			<-produced
			// The checkpoint is what the group holds, and what was taken.
			committed, err := e.adm.FetchOffsets(context.Background(), GroupID("ckpt"))
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			for p, off := range ckpt.Offsets {
				o, ok := committed.Lookup(e.topic, p)
				if !ok || o.At != off {
					t.Fatalf("partition %d: checkpoint %d, committed %+v", p, off, o)
				}
				total += off
			}
			t.Logf("stopped at %v (%d of %d records)", ckpt.Offsets, total, n)
			task = e.start(context.Background(), e.spec("ckpt"))
			got := e.waitFor(len(want(n)), 60*time.Second)
			if _, err := task.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkAll(t, got, n, true)
		})
	}
}

// TestPoisonRecordDeadLettered: a record that does not decode goes to the
// dead-letter topic with headers saying why and where from; the records
// after it are delivered.
func TestPoisonRecordDeadLettered(t *testing.T) {
	for _, target := range kafkatest.Targets(t) {
		t.Run(target.Name, func(t *testing.T) {
			e := newEnv(t, target.Addr, 1)
			e.produce(0, 100, 0)
			poison := &kgo.Record{Topic: e.topic, Value: []byte{0x02, 0xff, 0xff},
				Headers: []kgo.RecordHeader{{Key: wire.Header, Value: wire.HeaderValue(1)}}}
			noRef := &kgo.Record{Topic: e.topic, Value: []byte("not avro")}
			unknown := &kgo.Record{Topic: e.topic, Value: []byte{0},
				Headers: []kgo.RecordHeader{{Key: wire.Header, Value: wire.HeaderValue(9)}}}
			if err := e.cl.ProduceSync(context.Background(), poison, noRef, unknown).FirstErr(); err != nil {
				t.Fatal(err)
			}
			e.produce(100, 200, 0)
			task := e.start(context.Background(), e.spec("poison"))
			got := e.waitFor(len(want(200)), 30*time.Second)
			if _, err := task.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkAll(t, got, 200, true)
			st := task.Stats()
			if st.DeadLettered[ReasonDecode] != 1 || st.DeadLettered[ReasonSchemaRef] != 1 || st.DeadLettered[ReasonUnknownSchema] != 1 {
				t.Fatalf("dead-lettered %v", st.DeadLettered)
			}

			// The dead-letter topic holds the three, in order, with headers.
			cl := kafkatest.NewClient(t, target.Addr, kgo.ConsumeTopics(DeadLetterTopic(e.tenant)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			var dead []*kgo.Record
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for len(dead) < 3 {
				fs := cl.PollFetches(ctx)
				if err := ctx.Err(); err != nil {
					t.Fatalf("dead letters: %d of 3 after 30s", len(dead))
				}
				dead = append(dead, fs.Records()...)
			}
			headers := func(r *kgo.Record) map[string]string {
				m := map[string]string{}
				for _, h := range r.Headers {
					m[h.Key] = string(h.Value)
				}
				return m
			}
			for i, wantReason := range []string{ReasonDecode, ReasonSchemaRef, ReasonUnknownSchema} {
				h := headers(dead[i])
				if h[HeaderReason] != wantReason || h[HeaderJob] != "poison" || h[HeaderTopic] != e.topic ||
					h[HeaderPartition] != "0" || h[HeaderOffset] != strconv.Itoa(100+i) || h[HeaderError] == "" {
					t.Errorf("dead letter %d headers %v", i, h)
				}
			}
			if !bytes.Equal(dead[0].Value, poison.Value) {
				t.Errorf("dead letter value %x, want the original %x", dead[0].Value, poison.Value)
			}
		})
	}
}

// TestCompressionCodecs: batches compressed with each codec Kafka has are
// read.
func TestCompressionCodecs(t *testing.T) {
	addr := testenv.KafkaClusters(t, 1)[0]
	for _, c := range []struct {
		name  string
		codec kgo.CompressionCodec
	}{{"gzip", kgo.GzipCompression()}, {"snappy", kgo.SnappyCompression()}, {"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, addr, 2, kgo.ProducerBatchCompression(c.codec), kgo.ProducerLinger(5*time.Millisecond))
			e.produce(0, 500, 200)
			task := e.start(context.Background(), e.spec("codec-"+c.name))
			got := e.waitFor(len(want(500)), 30*time.Second)
			if _, err := task.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkAll(t, got, 500, true)
		})
	}
}

// stallSink takes nothing: every Write blocks until its context ends.
type stallSink struct{ writes *atomic.Int64 }

func (s stallSink) Write(ctx context.Context, _ *sink.Batch) error {
	s.writes.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

func (stallSink) Close(context.Context) error { return nil }

var stallWrites atomic.Int64

func init() {
	sink.Register("test-stall", func(context.Context, sink.Spec, sink.Env) (sink.Sink, error) {
		return stallSink{&stallWrites}, nil
	})
}

// TestStalledSinkBoundsMemory: with a sink that never acknowledges, the
// task stops consuming and its memory stays within the documented bound
// (the fetch buffers and one batch), however much the topic holds.
func TestStalledSinkBoundsMemory(t *testing.T) {
	addr := testenv.KafkaClusters(t, 1)[0]
	// Uncompressed: the fetch bound is on bytes as the broker sends them,
	// and the padding would compress a hundredfold.
	e := newEnv(t, addr, 4, kgo.ProducerBatchCompression(kgo.NoCompression()))
	const n, pad = 120_000, 500 // about 60 MB
	for from := 0; from < n; from += 10_000 {
		e.produce(from, from+10_000, pad)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := e.spec("stall")
	s.Sink = sink.Spec{Type: "test-stall"}
	s.MaxBatchRecords = 1000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	task := e.start(ctx, s)
	deadline := time.Now().Add(30 * time.Second)
	for stallWrites.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if stallWrites.Load() == 0 {
		t.Fatal("the sink was never written to")
	}
	time.Sleep(3 * time.Second) // time for anything unbounded to pile up
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)

	const bound = 2*maxConcurrentFetches*FetchMaxBytes + 4*DefaultMaxBatchBytes
	t.Logf("heap grew %d KiB with the sink stalled (bound %d KiB); %d records taken of %d", grew>>10, bound>>10, task.polled.Load(), n)
	if grew > bound {
		t.Fatalf("heap grew %d bytes with a stalled sink, more than the %d-byte bound", grew, bound)
	}
	if in := task.polled.Load(); in >= n/2 {
		t.Fatalf("the task took all %d records although its sink never acknowledged", in)
	}
	cancel()
	<-task.Done()
}

func TestParseStartFrom(t *testing.T) {
	for in, want := range map[string]string{"": "earliest", "earliest": "earliest", "LATEST": "latest", "2026-11-26T15:04:05Z": "at 2026-11-26T15:04:05Z"} {
		s, err := ParseStartFrom(in)
		got := "at " + s.At.Format(time.RFC3339)
		switch {
		case s.Earliest:
			got = "earliest"
		case s.Latest:
			got = "latest"
		}
		if err != nil || got != want {
			t.Errorf("%q: %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseStartFrom("yesterday"); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
		t.Errorf("bad startFrom: %v", err)
	}
}

// offsetSink keeps rows and the offsets of its last batch, as an
// exactly-once sink stores them with its writes.
type offsetSink struct {
	mu     sync.Mutex
	rows   []string
	stored map[int32]int64
}

func (s *offsetSink) taken() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rows...)
}

func (s *offsetSink) Write(_ context.Context, b *sink.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range b.Records {
		s.rows = append(s.rows, strings.TrimSpace(string(r.Value)))
	}
	for p, o := range b.Offsets {
		s.stored[p] = o
	}
	return nil
}

func (s *offsetSink) Close(context.Context) error { return nil }

func (s *offsetSink) StoredOffsets(context.Context) (map[int32]int64, map[int32]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.stored), nil, nil
}

var offsetSinks = map[string]*offsetSink{}

func init() {
	sink.Register("test-offsets", func(_ context.Context, spec sink.Spec, _ sink.Env) (sink.Sink, error) {
		return offsetSinks[spec.Settings["name"].(string)], nil
	})
}

// TestSinkStoredOffsets: a sink that stores offsets with its writes
// decides where a task starts, not the consumer group.
func TestSinkStoredOffsets(t *testing.T) {
	e := newEnv(t, kafkatest.Fake(t), 1)
	e.produce(0, 100, 0)
	os := &offsetSink{stored: map[int32]int64{0: 60}}
	offsetSinks[t.Name()] = os
	s := e.spec("stored")
	s.Sink = sink.Spec{Type: "test-offsets", Settings: map[string]any{"name": t.Name()}}
	task := e.start(context.Background(), s)
	deadline := time.Now().Add(20 * time.Second)
	for len(want(100))-len(want(60)) > len(os.taken()) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ckpt, err := task.Stop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rows := os.taken()
	if len(rows) != len(want(100))-len(want(60)) || rows[0] != `{"id":60,"action":"deny"}` || ckpt.Offsets[0] != 100 {
		t.Fatalf("%d rows from %v, checkpoint %v", len(rows), rows[:min(1, len(rows))], ckpt.Offsets)
	}
}

// TestSinkOrGroup: the group's commits run ahead of an exactly-once
// sink's stored offsets. When they are the same sink's (a sink that
// acknowledges records before they are durable), the sink decides; when
// they are another sink's (the job switched sinks, and back), the later
// checkpoint does.
func TestSinkOrGroup(t *testing.T) {
	for _, same := range []bool{true, false} {
		t.Run(fmt.Sprintf("same sink %v", same), func(t *testing.T) {
			e := newEnv(t, kafkatest.Fake(t), 1)
			e.produce(0, 100, 0)
			os := &offsetSink{stored: map[int32]int64{0: 60}}
			offsetSinks[t.Name()] = os
			s := e.spec("lineage")
			s.Sink = sink.Spec{Type: "test-offsets", Settings: map[string]any{"name": t.Name()}}
			committed := Checkpoint{Offsets: map[int32]int64{0: 80}, Sink: SinkID(s.Sink)}
			if !same {
				committed.Sink = SinkID(sink.Spec{Type: "file", Settings: map[string]any{"path": "/x"}})
			}
			resp, err := e.adm.CommitOffsets(context.Background(), GroupID(s.ID),
				kadm.Offsets{e.topic: {0: {Topic: e.topic, Partition: 0, At: 80, LeaderEpoch: -1, Metadata: committed.Meta()[0]}}})
			if err == nil {
				err = resp.Error()
			}
			if err != nil {
				t.Fatal(err)
			}
			task := e.start(context.Background(), s)
			from := 60
			if !same {
				from = 80
			}
			deadline := time.Now().Add(20 * time.Second)
			for len(want(100))-len(want(from)) > len(os.taken()) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if _, err := task.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			if rows := os.taken(); len(rows) != len(want(100))-len(want(from)) {
				t.Fatalf("%d rows, want those from offset %d (%d)", len(rows), from, len(want(100))-len(want(from)))
			}
		})
	}
}

// TestStartFromLatest: a job with no committed offsets and startFrom
// latest skips what the topic already holds.
func TestStartFromLatest(t *testing.T) {
	e := newEnv(t, kafkatest.Fake(t), 2)
	e.produce(0, 100, 0)
	s := e.spec("latest")
	s.StartFrom = StartFrom{Latest: true}
	task := e.start(context.Background(), s)
	time.Sleep(200 * time.Millisecond) // the task has found the end before the next records
	e.produce(100, 200, 0)
	got := e.waitFor(len(want(200))-len(want(100)), 20*time.Second)
	if _, err := task.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for id := range got {
		if id < 100 {
			t.Fatalf("id %d, written before the job started at latest, was delivered", id)
		}
	}
}

// TestMetrics: a running task's series are exported, with bounded labels,
// and go away when it stops.
func TestMetrics(t *testing.T) {
	e := newEnv(t, kafkatest.Fake(t), 2)
	e.produce(0, 100, 0)
	reg := prometheus.NewRegistry()
	task, err := Start(context.Background(), e.spec("metered"), Deps{Schemas: StaticSchemas{1: eventAvro}, Metrics: NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(len(want(100)), 20*time.Second)
	values := func() map[string]float64 {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, f := range families {
			for _, m := range f.Metric {
				name := f.GetName()
				for _, l := range m.Label {
					name += "," + l.GetName() + "=" + l.GetValue()
				}
				switch {
				case m.Counter != nil:
					out[name] = m.Counter.GetValue()
				case m.Gauge != nil:
					out[name] = m.Gauge.GetValue()
				case m.Histogram != nil:
					out[name] = float64(m.Histogram.GetSampleCount())
				}
			}
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	var v map[string]float64
	for {
		v = values()
		if v["sluice_job_records_in_total,job=metered"] == 100 && v["sluice_job_lag_records,job=metered,partition=0"] == 0 &&
			v["sluice_job_lag_records,job=metered,partition=1"] == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name, want := range map[string]float64{
		"sluice_job_records_in_total,job=metered":                          100,
		"sluice_job_records_out_total,job=metered":                         90,
		"sluice_job_records_filtered_total,job=metered":                    10,
		"sluice_job_state,job=metered,state=running":                       1,
		"sluice_job_state,job=metered,state=failed":                        0,
		"sluice_job_lag_records,job=metered,partition=0":                   0,
		"sluice_job_records_dead_lettered_total,job=metered,reason=decode": -1, // absent: none
	} {
		got, ok := v[name]
		if want < 0 {
			if ok {
				t.Errorf("%s = %v, want absent", name, got)
			}
			continue
		}
		if !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if v["sluice_job_latency_seconds,job=metered"] == 0 || v["sluice_job_bytes_in_total,job=metered"] == 0 {
		t.Errorf("latency observations %v, bytes in %v", v["sluice_job_latency_seconds,job=metered"], v["sluice_job_bytes_in_total,job=metered"])
	}
	if _, err := task.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name := range values() {
		if strings.Contains(name, "job=metered") {
			t.Errorf("series %s left after the task stopped", name)
		}
	}
}

// TestTasksSplitPartitions: a job runs as several tasks, each owning some
// partitions; together they deliver everything once, commit under the one
// group, and their metrics add up.
func TestTasksSplitPartitions(t *testing.T) {
	e := newEnv(t, kafkatest.Fake(t), 3)
	e.produce(0, 600, 0)
	reg := prometheus.NewRegistry()
	deps := Deps{Schemas: StaticSchemas{1: eventAvro}, Metrics: NewMetrics(reg)}
	var tasks []*Task
	for _, parts := range [][]int32{{0, 1}, {2}} {
		s := e.spec("split")
		s.Partitions = parts
		task, err := Start(context.Background(), s, deps)
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, task)
	}
	got := e.waitFor(len(want(600)), 20*time.Second)
	checkAll(t, got, 600, true)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var running float64
	for _, f := range families {
		if f.GetName() == "sluice_job_state" {
			for _, m := range f.Metric {
				for _, l := range m.Label {
					if l.GetName() == "state" && l.GetValue() == "running" {
						running = m.Gauge.GetValue()
					}
				}
			}
		}
	}
	if running != 2 {
		t.Fatalf("%v running tasks in the state gauge, want 2", running)
	}
	total := map[int32]int64{}
	for i, task := range tasks {
		ckpt, err := task.Stop(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for p, o := range ckpt.Offsets {
			if _, dup := total[p]; dup {
				t.Fatalf("task %d reports partition %d, which another task owns", i, p)
			}
			total[p] = o
		}
	}
	committed, err := e.adm.FetchOffsets(context.Background(), GroupID("split"))
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for p := int32(0); p < 3; p++ {
		o, ok := committed.Lookup(e.topic, p)
		if !ok || o.At != total[p] {
			t.Fatalf("partition %d committed %+v, checkpoint %d", p, o, total[p])
		}
		sum += o.At
	}
	if sum != 600 {
		t.Fatalf("committed offsets sum to %d, want 600", sum)
	}
}

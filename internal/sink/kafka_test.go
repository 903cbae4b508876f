package sink_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/job"
	"github.com/sluicehq/sluice/internal/job/jobtest"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sink/sinktest"
	"github.com/sluicehq/sluice/internal/sql"
)

// kafkaEnv resolves every cluster name to the one at addr.
func kafkaEnv(addr string) sink.Env {
	return sink.Env{Tenant: "acme", KafkaCluster: func(_ context.Context, _, name string) (kafkaconn.Config, error) {
		if name != "" && name != "main" {
			return kafkaconn.Config{}, errors.New("no cluster " + name)
		}
		return kafkaconn.Config{Bootstrap: strings.Split(addr, ",")}, nil
	}}
}

func kafkaTopic(t *testing.T, addr string, partitions int32) string {
	t.Helper()
	topic := kafkatest.TopicName(t)
	resp, err := kafkatest.NewAdmin(t, addr).CreateTopic(context.Background(), partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	return topic
}

// kafkaReader reads a topic with isolation.level=read_committed, keeping
// what it read between calls (committed records never go away).
type kafkaReader struct {
	t     testing.TB
	cl    *kgo.Client
	topic string
	recs  []*kgo.Record
	first bool
}

func newKafkaReader(t testing.TB, addr, topic string) *kafkaReader {
	cl := kafkatest.NewClient(t, addr, kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(50*time.Millisecond))
	return &kafkaReader{t: t, cl: cl, topic: topic, first: true}
}

// read returns every record read so far, after polling until the topic
// has been quiet for a while (longer the first time, while the consumer
// finds the partitions' leaders).
func (r *kafkaReader) read() []*kgo.Record {
	r.t.Helper()
	minWait := 300 * time.Millisecond
	if r.first {
		minWait, r.first = 2*time.Second, false
	}
	start := time.Now()
	for quiet := 0; quiet < 2 || time.Since(start) < minWait; {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		fs := r.cl.PollFetches(ctx)
		cancel()
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				r.t.Fatalf("consume %s: %v", r.topic, err)
			}
		})
		recs := fs.Records()
		r.recs = append(r.recs, recs...)
		if len(recs) == 0 {
			quiet++
		} else {
			quiet = 0
		}
		if time.Since(start) > time.Minute {
			r.t.Fatalf("consume %s: still reading after a minute", r.topic)
		}
	}
	return r.recs
}

// kafkaRead returns every record of topic a read_committed consumer sees.
func kafkaRead(t testing.TB, addr, topic string) []*kgo.Record {
	t.Helper()
	return newKafkaReader(t, addr, topic).read()
}

func kafkaSpec(topic string, extra map[string]any) sink.Spec {
	s := map[string]any{"topic": topic}
	for k, v := range extra {
		s[k] = v
	}
	return sink.Spec{Type: "kafka", Settings: s}
}

func TestKafkaContract(t *testing.T) {
	for _, target := range kafkatest.Targets(t) {
		t.Run(target.Name, func(t *testing.T) {
			for _, eo := range []bool{false, true} {
				name := "at-least-once"
				if eo {
					name = "exactly-once"
				}
				t.Run(name, func(t *testing.T) {
					topic := kafkaTopic(t, target.Addr, 1)
					env := kafkaEnv(target.Addr)
					env.ExactlyOnce, env.Job, env.Topic = eo, kafkatest.TopicName(t), kafkaTopic(t, target.Addr, 1)
					sinktest.Run(t, func() sink.Sink {
						s, err := sink.Open(context.Background(), kafkaSpec(topic, nil), env)
						if err != nil {
							t.Fatalf("Open: %v", err)
						}
						return s
					}, func() [][]byte {
						var out [][]byte
						for _, r := range kafkaRead(t, target.Addr, topic) {
							out = append(out, r.Value)
						}
						return out
					})
				})
			}
		})
	}
}

// kafkaOutput is the output of "SELECT id, user, ts ..." in format.
func kafkaOutput(t *testing.T, formatName string, opts format.Options) sink.Output {
	t.Helper()
	cols := []sql.OutputColumn{{Name: "id", Type: sql.TypeBigInt}, {Name: "user", Type: sql.TypeVarchar}, {Name: "ts", Type: sql.TypeTimestamp}}
	enc, err := format.NewWithOptions(formatName, cols, opts)
	if err != nil {
		t.Fatal(err)
	}
	return job.SinkOutput(formatName, cols, enc)
}

// kafkaRows encodes rows (id, user, ts) with out's format.
func kafkaRows(t *testing.T, formatName string, out sink.Output, n int) *sink.Batch {
	t.Helper()
	enc, err := format.New(formatName, out.Columns)
	if err != nil {
		t.Fatal(err)
	}
	b := &sink.Batch{ContentType: out.ContentType, ID: "j/0/0+" + strconv.Itoa(n), Offsets: map[int32]int64{0: int64(n)}}
	ts := time.Date(2026, 11, 26, 15, 4, 5, 0, time.UTC)
	for i := range n {
		row := []sql.Value{{I: int64(i)}, {B: []byte("user-" + strconv.Itoa(i%3))}, {I: ts.Add(time.Duration(i) * time.Second).UnixMicro()}}
		if i == 4 {
			row[1] = sql.Null
		}
		v, err := enc.AppendRow(nil, row)
		if err != nil {
			t.Fatal(err)
		}
		b.Records = append(b.Records, sink.Record{Value: v, Partition: 0, Offset: int64(i)})
	}
	return b
}

// TestKafkaKeyAndHeaders: the key comes from a result column (JSON and
// Avro records), NULL gives no key, records of one key share a
// partition, and the headers setting is on every record.
func TestKafkaKeyAndHeaders(t *testing.T) {
	addr := kafkatest.Fake(t)
	for _, f := range []string{"JSON", "AVRO"} {
		t.Run(f, func(t *testing.T) {
			topic := kafkaTopic(t, addr, 4)
			env := kafkaEnv(addr)
			env.Output = kafkaOutput(t, f, format.Options{})
			s, err := sink.Open(context.Background(), kafkaSpec(topic, map[string]any{
				"key": "user", "headers": map[string]any{"source": "sluice-test"}, "compression": "zstd"}), env)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			if err := s.Write(context.Background(), kafkaRows(t, f, env.Output, 30)); err != nil {
				t.Fatal(err)
			}
			recs := kafkaRead(t, addr, topic)
			if len(recs) != 30 {
				t.Fatalf("%d records, want 30", len(recs))
			}
			parts := map[string]int32{}
			for _, r := range recs {
				if len(r.Headers) != 1 || r.Headers[0].Key != "source" || string(r.Headers[0].Value) != "sluice-test" {
					t.Fatalf("headers %v", r.Headers)
				}
				if r.Key == nil {
					continue
				}
				k := string(r.Key)
				if !strings.HasPrefix(k, "user-") {
					t.Fatalf("key %q", k)
				}
				if p, ok := parts[k]; ok && p != r.Partition {
					t.Fatalf("key %s in partitions %d and %d", k, p, r.Partition)
				}
				parts[k] = r.Partition
			}
			nulls := 0
			for _, r := range recs {
				if r.Key == nil {
					nulls++
				}
			}
			if len(parts) != 3 || nulls != 1 {
				t.Fatalf("keys %v, %d records without a key; want 3 keys and 1 NULL", parts, nulls)
			}
		})
	}
}

func TestKafkaConfigErrors(t *testing.T) {
	addr := kafkatest.Fake(t)
	topic := kafkaTopic(t, addr, 1)
	env := kafkaEnv(addr)
	env.Output = kafkaOutput(t, "JSON", format.Options{})
	csv := kafkaEnv(addr)
	csv.Output = kafkaOutput(t, "CSV", format.Options{})
	array := kafkaEnv(addr)
	array.Output = kafkaOutput(t, "JSON", format.Options{Array: true})
	for _, c := range []struct {
		name     string
		settings map[string]any
		env      sink.Env
		field    string
		msg      string
	}{
		{"no topic", map[string]any{}, env, "topic", "required"},
		{"bad topic", map[string]any{"topic": "a/b"}, env, "topic", "not a Kafka topic name"},
		{"compression", map[string]any{"topic": topic, "compression": "brotli"}, env, "compression", "want none, gzip"},
		{"unknown key", map[string]any{"topic": topic, "key": "usr"}, env, "key", `"usr" is not a result column`},
		{"key of CSV", map[string]any{"topic": topic, "key": "user"}, csv, "key", "not text/csv records"},
		{"key of a JSON array", map[string]any{"topic": topic, "key": "user"}, array, "key", "each record a batch"},
		{"reserved header", map[string]any{"topic": topic, "headers": map[string]any{"sluice-job": "x"}}, env, "headers", "are the sink's"},
		{"header not a string", map[string]any{"topic": topic, "headers": map[string]any{"n": 1.0}}, env, "headers", "must be a string"},
		{"timeout", map[string]any{"topic": topic, "transactionTimeout": "1h"}, env, "transactionTimeout", "at most 15m"},
		{"misspelt", map[string]any{"topic": topic, "keys": "user"}, env, "keys", "unknown setting"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := sink.Validate(sink.Spec{Type: "kafka", Settings: c.settings}, c.env)
			ces := sink.ConfigErrors(err)
			if len(ces) != 1 || ces[0].Field != c.field || !strings.Contains(ces[0].Message, c.msg) {
				t.Fatalf("got %v, want a %s error with %q", err, c.field, c.msg)
			}
		})
	}
	// What only Open (and Probe) find: the cluster and the topic.
	for _, c := range []struct {
		name     string
		settings map[string]any
		field    string
		msg      string
	}{
		{"missing topic", map[string]any{"topic": "no-such-topic"}, "topic", "does not exist"},
		{"unknown cluster", map[string]any{"topic": topic, "cluster": "elsewhere"}, "cluster", "no cluster elsewhere"},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec := sink.Spec{Type: "kafka", Settings: c.settings}
			for _, err := range []error{sink.Probe(context.Background(), spec, env), openEnvErr(spec, env)} {
				ces := sink.ConfigErrors(err)
				if len(ces) != 1 || ces[0].Field != c.field || !strings.Contains(ces[0].Message, c.msg) {
					t.Fatalf("got %v, want a %s error with %q", err, c.field, c.msg)
				}
			}
		})
	}
}

// TestKafkaFencing: a second instance of the same task takes over the
// transactional id; the first can no longer write (a zombie), and the
// transaction it had open is aborted, its records never visible.
func TestKafkaFencing(t *testing.T) {
	for _, target := range kafkatest.Targets(t) {
		t.Run(target.Name, func(t *testing.T) {
			topic := kafkaTopic(t, target.Addr, 1)
			env := kafkaEnv(target.Addr)
			env.ExactlyOnce, env.Job, env.Task, env.Topic = true, kafkatest.TopicName(t), "all", kafkaTopic(t, target.Addr, 1)
			env.Output = kafkaOutput(t, "JSON", format.Options{})
			ctx := context.Background()
			first, err := sink.Open(ctx, kafkaSpec(topic, nil), env)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close(ctx)
			if err := first.Write(ctx, kafkaRows(t, "JSON", env.Output, 5)); err != nil {
				t.Fatal(err)
			}
			second, err := sink.Open(ctx, kafkaSpec(topic, nil), env)
			if err != nil {
				t.Fatal(err)
			}
			defer second.Close(ctx)
			stored, _, err := second.(sink.OffsetStore).StoredOffsets(ctx)
			if err != nil || stored[0] != 5 {
				t.Fatalf("stored offsets %v, %v; want partition 0 at 5", stored, err)
			}
			b := kafkaRows(t, "JSON", env.Output, 8)
			b.Meta = map[int32]string{0: "frontier"}
			err = first.Write(ctx, b)
			if err == nil || !sink.IsPermanent(err) {
				t.Fatalf("the fenced instance wrote: %v", err)
			}
			if err := second.Write(ctx, b); err != nil {
				t.Fatal(err)
			}
			if recs := kafkaRead(t, target.Addr, topic); len(recs) != 5+8 {
				t.Fatalf("%d committed records, want 13 (the zombie's batch must not be visible)", len(recs))
			}
			stored, meta, err := second.(sink.OffsetStore).StoredOffsets(ctx)
			if err != nil || stored[0] != 8 || meta[0] != "frontier" {
				t.Fatalf("stored offsets %v %v, %v; want partition 0 at 8 with its metadata", stored, meta, err)
			}
		})
	}
}

// TestKafkaCrash kills a job writing to Kafka at random points; a
// read_committed reader sees every record, or every window of an
// aggregation, exactly once.
func TestKafkaCrash(t *testing.T) {
	for _, target := range kafkatest.Targets(t) {
		for _, agg := range []bool{false, true} {
			name := target.Name
			if agg {
				name += "/aggregate"
			}
			t.Run(name, func(t *testing.T) {
				topic := kafkaTopic(t, target.Addr, 2)
				reader := newKafkaReader(t, target.Addr, topic)
				crash := jobtest.Crash{Addr: target.Addr, ExactlyOnce: true,
					Sink:    kafkaSpec(topic, map[string]any{"key": "id"}),
					SinkEnv: sink.Env{KafkaCluster: kafkaEnv(target.Addr).KafkaCluster},
					Delivered: func(context.Context) ([]int64, error) {
						var b []byte
						for _, r := range reader.read() {
							b = append(b, r.Value...)
						}
						return jobtest.ParseIDs(b)
					}}
				if agg {
					crash.SQL, crash.Want = jobtest.AggregateSQL, jobtest.AggregateWant(3000, 3)
				}
				jobtest.RunCrash(t, crash)
			})
		}
	}
}

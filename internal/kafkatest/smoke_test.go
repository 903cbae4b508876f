package kafkatest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/testenv"
)

// TestSmoke runs one produce/consume/add-partitions round against kfake and
// real Apache Kafka, the basics every Kafka-facing part of Sluice relies on.
func TestSmoke(t *testing.T) {
	for _, tg := range Targets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			smoke(t, tg)
		})
	}
}

func smoke(t *testing.T, tg Target) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	adm := NewAdmin(t, tg.Addr)
	logBrokerVersion(ctx, t, tg, adm)

	topic := TopicName(t)
	created, err := adm.CreateTopic(ctx, 2, 1, nil, topic)
	if err == nil {
		err = created.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}

	producer := NewClient(t, tg.Addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var want []*kgo.Record
	for i := range 6 {
		want = append(want, &kgo.Record{
			Topic:     topic,
			Partition: int32(i % 2),
			Key:       fmt.Appendf(nil, "key-%d", i),
			Value:     fmt.Appendf(nil, "value-%d", i),
			Headers: []kgo.RecordHeader{
				{Key: "seq", Value: fmt.Appendf(nil, "%d", i)},
				{Key: "empty", Value: []byte{}},
				{Key: "seq", Value: []byte("repeated keys keep their order")},
			},
		})
	}
	produce(ctx, t, producer, want...)
	consumer := NewClient(t, tg.Addr,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			topic: {0: kgo.NewOffset().AtStart(), 1: kgo.NewOffset().AtStart()},
		}),
		// A partition added to the consumer joins at its next fetch; a
		// short long-poll makes that come in ms, not the default 5s.
		kgo.FetchMaxWait(100*time.Millisecond))
	assertRecords(t, want, poll(ctx, t, consumer, len(want)))

	// CreatePartitions adds to the count (UpdatePartitions would set it).
	added, err := adm.CreatePartitions(ctx, 1, topic)
	if err == nil {
		err = added.Error()
	}
	if err != nil {
		t.Fatalf("add a partition to %s: %v", topic, err)
	}
	if got := partitionCount(ctx, t, adm, topic, 3); got != 3 {
		t.Fatalf("after adding one partition to a 2-partition topic, metadata lists %d partitions, want 3", got)
	}

	// Clients learn of new partitions only with fresh metadata.
	producer.ForceMetadataRefresh()
	waitFor(ctx, t, "producer to see partition 2", func() bool {
		leader, _, err := producer.PartitionLeader(topic, 2)
		return err == nil && leader >= 0
	})
	fresh := &kgo.Record{Topic: topic, Partition: 2, Key: []byte("key-new"), Value: []byte("value-new"),
		Headers: []kgo.RecordHeader{{Key: "partition", Value: []byte("2")}}}
	produce(ctx, t, producer, fresh)
	consumer.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {2: kgo.NewOffset().AtStart()}})
	consumer.ForceMetadataRefresh()
	assertRecords(t, []*kgo.Record{fresh}, poll(ctx, t, consumer, 1))
}

// logBrokerVersion names the broker in the test log: what the test command
// says it started, and what the broker's ApiVersions says it is.
func logBrokerVersion(ctx context.Context, t *testing.T, tg Target, adm *kadm.Client) {
	t.Helper()
	versions, err := adm.ApiVersions(ctx)
	if err != nil {
		t.Fatalf("api versions: %v", err)
	}
	for _, v := range versions.Sorted() {
		if v.Err != nil {
			t.Fatalf("api versions from node %d: %v", v.NodeID, v.Err)
		}
		if !tg.Real {
			// kfake's ApiVersions mixes releases; a guess would mislead.
			t.Logf("broker: kfake at %s", tg.Addr)
			continue
		}
		t.Logf("broker: Apache Kafka %s=%q at %s, node %d answers ApiVersions as %s",
			testenv.KafkaVersionVar, os.Getenv(testenv.KafkaVersionVar), tg.Addr, v.NodeID, v.VersionGuess())
	}
}

func produce(ctx context.Context, t *testing.T, cl *kgo.Client, rs ...*kgo.Record) {
	t.Helper()
	for _, res := range cl.ProduceSync(ctx, rs...) {
		if res.Err != nil {
			t.Fatalf("produce to %s/%d: %v", res.Record.Topic, res.Record.Partition, res.Err)
		}
	}
}

// poll fetches until n records arrived, and fails on more or on an error.
func poll(ctx context.Context, t *testing.T, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	var got []*kgo.Record
	for len(got) < n {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records: %v", len(got), n, ctx.Err())
		}
		if err := fetches.Err(); err != nil {
			t.Fatalf("fetch: %v", err)
		}
		got = append(got, fetches.Records()...)
	}
	if len(got) != n {
		t.Fatalf("consumed %d records, want %d", len(got), n)
	}
	return got
}

// assertRecords compares per partition, where Kafka keeps order.
func assertRecords(t *testing.T, want, got []*kgo.Record) {
	t.Helper()
	type rec struct {
		key, value string
		headers    []kgo.RecordHeader
	}
	byPartition := func(rs []*kgo.Record) map[int32][]rec {
		m := map[int32][]rec{}
		for _, r := range rs {
			m[r.Partition] = append(m[r.Partition], rec{string(r.Key), string(r.Value), r.Headers})
		}
		return m
	}
	w, g := byPartition(want), byPartition(got)
	if len(w) != len(g) {
		t.Fatalf("records came from %d partitions, want %d", len(g), len(w))
	}
	for p, wrs := range w {
		grs := g[p]
		if len(grs) != len(wrs) {
			t.Fatalf("partition %d: %d records, want %d", p, len(grs), len(wrs))
		}
		for i := range wrs {
			if grs[i].key != wrs[i].key || grs[i].value != wrs[i].value {
				t.Errorf("partition %d record %d: key %q value %q, want key %q value %q", p, i, grs[i].key, grs[i].value, wrs[i].key, wrs[i].value)
			}
			if !slices.EqualFunc(grs[i].headers, wrs[i].headers, func(a, b kgo.RecordHeader) bool {
				return a.Key == b.Key && string(a.Value) == string(b.Value)
			}) {
				t.Errorf("partition %d record %d: headers %q, want %q", p, i, grs[i].headers, wrs[i].headers)
			}
		}
	}
}

// partitionCount reads the topic's partition count from metadata, waiting
// (bounded by ctx) for it to reach want: a real broker publishes the new
// partition asynchronously.
func partitionCount(ctx context.Context, t *testing.T, adm *kadm.Client, topic string, want int) int {
	t.Helper()
	var got int
	waitFor(ctx, t, fmt.Sprintf("%s to list %d partitions", topic, want), func() bool {
		topics, err := adm.ListTopics(ctx, topic)
		if err != nil {
			t.Fatalf("list topic %s: %v", topic, err)
		}
		td := topics[topic]
		if td.Err != nil {
			t.Fatalf("list topic %s: %v", topic, td.Err)
		}
		got = len(td.Partitions)
		return got >= want
	})
	return got
}

// waitFor polls cond every 50ms until it holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

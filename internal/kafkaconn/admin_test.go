package kafkaconn_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/kafkatest"
)

// TestAdmin walks a topic through its life on kfake and on real Kafka with
// the same code.
func TestAdmin(t *testing.T) {
	for _, tg := range kafkatest.Targets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			testAdmin(t, tg)
		})
	}
}

func testAdmin(t *testing.T, tg kafkatest.Target) {
	ctx := testContext(t, 2*time.Minute)
	cfg := kafkaconn.Config{Bootstrap: []string{tg.Addr}}
	adm := newAdmin(t, cfg)
	if err := adm.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	before, err := adm.Usage(ctx)
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	t.Logf("usage before: %+v", before)

	topic := kafkatest.TopicName(t)
	missing := topic + "-missing"
	overrides := map[string]string{"retention.ms": "3600000", "max.message.bytes": "2097152"}

	// Create, and create again.
	if err := adm.CreateTopic(ctx, topic, 2, 1, overrides); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	err = adm.CreateTopic(ctx, topic, 2, 1, overrides)
	if !errors.Is(err, kafkaconn.ErrTopicExists) || !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Fatalf("second CreateTopic: %v, want ErrTopicExists wrapping kerr.TopicAlreadyExists", err)
	}
	mentions(t, err, topic, tg.Addr, "TOPIC_ALREADY_EXISTS")
	t.Logf("CreateTopic again: %v", err)

	// A replication factor above the broker count is Kafka's error.
	err = adm.CreateTopic(ctx, topic+"-rf", 1, 3, nil)
	if !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Errorf("CreateTopic(replication factor 3 on 1 broker) = %v, want kerr.InvalidReplicationFactor", err)
	}
	mentions(t, err, topic+"-rf", tg.Addr)

	// Topics shows what was set, and only that.
	got := waitTopic(ctx, t, adm, topic, "to appear", func(tp kafkaconn.Topic, ok bool) bool { return ok })
	if got.Name != topic || got.Partitions != 2 || got.ReplicationFactor != 1 {
		t.Errorf("Topics()[%s] = %+v, want 2 partitions, replication factor 1", topic, got)
	}
	if !maps.Equal(got.Configs, overrides) {
		t.Errorf("Topics()[%s].Configs = %v, want exactly the overrides %v (no broker defaults)", topic, got.Configs, overrides)
	}
	some, err := adm.Topics(ctx, topic, missing, topic)
	if err != nil {
		t.Fatalf("Topics(%s, %s): %v", topic, missing, err)
	}
	if _, ok := some[missing]; ok || len(some) != 1 {
		t.Errorf("Topics(existing, missing) = %v, want only the existing topic", some)
	}
	all, err := adm.Topics(ctx)
	if err != nil {
		t.Fatalf("Topics(): %v", err)
	}
	if _, ok := all[topic]; !ok {
		t.Errorf("Topics() lacks %s", topic)
	}
	for name := range all {
		if strings.HasPrefix(name, "__") {
			t.Errorf("Topics() lists internal topic %s", name)
		}
	}

	// SetTopicConfigs changes one key and leaves the other.
	if err := adm.SetTopicConfigs(ctx, topic, map[string]string{"retention.ms": "7200000"}); err != nil {
		t.Fatalf("SetTopicConfigs: %v", err)
	}
	got = waitTopic(ctx, t, adm, topic, "retention.ms=7200000", func(tp kafkaconn.Topic, ok bool) bool {
		return ok && tp.Configs["retention.ms"] == "7200000"
	})
	if want := map[string]string{"retention.ms": "7200000", "max.message.bytes": "2097152"}; !maps.Equal(got.Configs, want) {
		t.Errorf("after SetTopicConfigs, Configs = %v, want %v", got.Configs, want)
	}
	// Kafka rejects config names it does not know; kfake stores any.
	err = adm.SetTopicConfigs(ctx, topic, map[string]string{"no.such.config": "1"})
	t.Logf("SetTopicConfigs(unknown key): %v", err)
	if tg.Real && !errors.Is(err, kerr.InvalidConfig) {
		t.Errorf("SetTopicConfigs(unknown key) = %v, want kerr.InvalidConfig", err)
	}
	if !tg.Real && err != nil {
		t.Errorf("kfake SetTopicConfigs(unknown key) = %v; kfake used to accept any key, update this test", err)
	}
	bad := topic + "-bad-config"
	err = adm.CreateTopic(ctx, bad, 1, 1, map[string]string{"retention.ms": "soon"})
	t.Logf("CreateTopic(retention.ms=soon): %v", err)
	if tg.Real && !errors.Is(err, kerr.InvalidConfig) {
		t.Errorf("CreateTopic(retention.ms=soon) = %v, want kerr.InvalidConfig", err)
	}
	if !tg.Real {
		if err != nil {
			t.Errorf("kfake CreateTopic(retention.ms=soon) = %v; kfake used to accept any value, update this test", err)
		} else if err := adm.DeleteTopic(ctx, bad); err != nil {
			t.Error(err)
		}
	}
	err = adm.SetTopicConfigs(ctx, missing, map[string]string{"retention.ms": "1000"})
	if !errors.Is(err, kafkaconn.ErrUnknownTopic) {
		t.Errorf("SetTopicConfigs(missing topic) = %v, want ErrUnknownTopic", err)
	}
	mentions(t, err, missing, tg.Addr)

	// SetPartitions: up, equal, down, unknown.
	if err := adm.SetPartitions(ctx, topic, 4); err != nil {
		t.Fatalf("SetPartitions(4): %v", err)
	}
	waitTopic(ctx, t, adm, topic, "4 partitions", func(tp kafkaconn.Topic, ok bool) bool { return ok && tp.Partitions == 4 })
	if err := adm.SetPartitions(ctx, topic, 4); err != nil {
		t.Errorf("SetPartitions(4) again: %v, want nil", err)
	}
	err = adm.SetPartitions(ctx, topic, 3)
	if !errors.Is(err, kafkaconn.ErrPartitionDecrease) {
		t.Errorf("SetPartitions(3) = %v, want ErrPartitionDecrease", err)
	}
	mentions(t, err, topic, tg.Addr, "has 4", "asked for 3")
	err = adm.SetPartitions(ctx, missing, 3)
	if !errors.Is(err, kafkaconn.ErrUnknownTopic) {
		t.Errorf("SetPartitions(missing) = %v, want ErrUnknownTopic", err)
	}
	mentions(t, err, missing, tg.Addr)

	// Usage counts the topic; Bytes grows with what is produced.
	mid, err := adm.Usage(ctx)
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	t.Logf("usage after create: %+v", mid)
	if mid.Brokers != 1 || mid.Topics < 1 || mid.Partitions < 4 {
		t.Errorf("Usage() = %+v, want 1 broker and at least 1 topic with 4 partitions", mid)
	}
	if !tg.Real && (mid.Topics != before.Topics+1 || mid.Partitions != before.Partitions+4) {
		// kfake is ours alone; a real cluster is shared with other tests.
		t.Errorf("kfake Usage() = %+v, want one more topic and 4 more partitions than %+v", mid, before)
	}
	const records, size = 64, 4096
	produce(ctx, t, cfg, topic, records, size)
	var after kafkaconn.Usage
	waitFor(ctx, t, "Usage().Bytes to grow", func() (bool, error) {
		var err error
		after, err = adm.Usage(ctx)
		return after.Bytes >= mid.Bytes+records*size, err
	})
	t.Logf("usage after producing %d bytes: %+v", records*size, after)

	// Delete, and delete again.
	if err := adm.DeleteTopic(ctx, topic); err != nil {
		t.Fatalf("DeleteTopic: %v", err)
	}
	waitTopic(ctx, t, adm, topic, "to disappear", func(tp kafkaconn.Topic, ok bool) bool { return !ok })
	err = adm.DeleteTopic(ctx, topic)
	if !errors.Is(err, kafkaconn.ErrUnknownTopic) || !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("second DeleteTopic = %v, want ErrUnknownTopic wrapping kerr.UnknownTopicOrPartition", err)
	}
	mentions(t, err, topic, tg.Addr)
	if err := adm.SetPartitions(ctx, topic, 8); !errors.Is(err, kafkaconn.ErrUnknownTopic) {
		t.Errorf("SetPartitions(deleted topic) = %v, want ErrUnknownTopic", err)
	}
}

// waitTopic polls Topics(name) until cond holds and returns what it saw.
func waitTopic(ctx context.Context, t *testing.T, adm *kafkaconn.Admin, name, what string, cond func(kafkaconn.Topic, bool) bool) kafkaconn.Topic {
	t.Helper()
	var tp kafkaconn.Topic
	waitFor(ctx, t, name+" "+what, func() (bool, error) {
		ts, err := adm.Topics(ctx, name)
		var ok bool
		tp, ok = ts[name]
		return err == nil && cond(tp, ok), err
	})
	return tp
}

// mentions fails the test unless err's text contains every one of want.
func mentions(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		return // reported by the caller's errors.Is check
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// produce writes n records of size bytes to topic through NewClient.
func produce(ctx context.Context, t *testing.T, cfg kafkaconn.Config, topic string, n, size int) {
	t.Helper()
	cl, err := kafkaconn.NewClient(cfg, kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer cl.Close()
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Value: bytes.Repeat([]byte{byte('a' + i%26)}, size)}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// TestAdminUnreachable checks that a cluster that does not answer fails
// every call in seconds, with an error naming its address.
func TestAdminUnreachable(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t)
	adm := newAdmin(t, kafkaconn.Config{Bootstrap: []string{addr}})
	ctx := testContext(t, time.Minute)
	for _, call := range []struct {
		name string
		fn   func() error
	}{
		{"Ping", func() error { return adm.Ping(ctx) }},
		{"Topics", func() error { _, err := adm.Topics(ctx); return err }},
		{"CreateTopic", func() error { return adm.CreateTopic(ctx, "t", 1, 1, nil) }},
		{"Usage", func() error { _, err := adm.Usage(ctx); return err }},
	} {
		start := time.Now()
		err := call.fn()
		took := time.Since(start)
		t.Logf("%s on closed port: %v after %v", call.name, err, took.Round(time.Millisecond))
		if err == nil {
			t.Fatalf("%s against closed port %s succeeded", call.name, addr)
		}
		mentions(t, err, addr)
		if took > 10*time.Second {
			t.Errorf("%s took %v to fail, want < 10s", call.name, took)
		}
	}
}

// TestPingHungBroker checks that a broker that accepts connections and
// never answers is given up on after RequestTimeoutOverhead, not minutes.
func TestPingHungBroker(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); conns.Wait() })
	conns.Go(func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // read nothing, answer nothing
		}
	})
	adm := newAdmin(t, kafkaconn.Config{Bootstrap: []string{ln.Addr().String()}})
	start := time.Now()
	err = adm.Ping(testContext(t, time.Minute))
	took := time.Since(start)
	t.Logf("Ping of a hung broker: %v after %v", err, took.Round(time.Millisecond))
	if err == nil {
		t.Fatal("Ping of a broker that never answers succeeded")
	}
	mentions(t, err, ln.Addr().String())
	if took > 2*kafkaconn.RequestTimeoutOverhead+3*time.Second {
		t.Errorf("Ping took %v, want about twice RequestTimeoutOverhead (%v)", took, kafkaconn.RequestTimeoutOverhead)
	}

	// A shorter context wins.
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start = time.Now()
	err = adm.Ping(ctx)
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > 3*time.Second {
		t.Errorf("Ping with a 1s context: %v after %v, want context.DeadlineExceeded after about 1s", err, took)
	}
}

// TestAdminConcurrent runs calls from several goroutines on one Admin
// (under -race) and closes it twice.
func TestAdminConcurrent(t *testing.T) {
	addr := kafkatest.Fake(t)
	adm, err := kafkaconn.NewAdmin(kafkaconn.Config{Bootstrap: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t, time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Go(func() {
			name := kafkatest.TopicName(t)
			if err := adm.CreateTopic(ctx, name, int32(1+i%3), 1, map[string]string{"retention.ms": "60000"}); err != nil {
				errs <- err
				return
			}
			if err := adm.SetPartitions(ctx, name, 4); err != nil {
				errs <- err
			}
			if _, err := adm.Topics(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	u, err := adm.Usage(ctx)
	if err != nil || u.Topics != 8 || u.Partitions != 32 {
		t.Errorf("Usage() = %+v, %v; want 8 topics, 32 partitions", u, err)
	}
	adm.Close()
	adm.Close()
	if err := adm.Ping(ctx); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

// TestTopicConfigSources checks that Topics reports a topic's own overrides
// and none of the values it inherits: Kafka's defaults, static broker
// configs (the test brokers set segment sizes in server.properties) and
// dynamic cluster-wide broker configs, which the test sets.
func TestTopicConfigSources(t *testing.T) {
	for _, tg := range kafkatest.Targets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t, time.Minute)
			raw := kafkatest.NewAdmin(t, tg.Addr)
			// 1 TiB per partition: a real limit, but one no test
			// sharing the cluster comes near.
			const key, value = "log.retention.bytes", "1099511627776"
			setBroker := func(ctx context.Context, op kadm.IncrementalOp, v *string) error {
				resps, err := raw.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: op, Name: key, Value: v}})
				if err == nil {
					for _, r := range resps {
						err = errors.Join(err, r.Err)
					}
				}
				return err
			}
			if err := setBroker(ctx, kadm.SetConfig, kadm.StringPtr(value)); err != nil {
				t.Fatalf("set cluster-wide %s: %v", key, err)
			}
			t.Cleanup(func() {
				// The test's context is over by now.
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := setBroker(ctx, kadm.DeleteConfig, nil); err != nil {
					t.Errorf("reset cluster-wide %s: %v", key, err)
				}
			})

			adm := newAdmin(t, kafkaconn.Config{Bootstrap: []string{tg.Addr}})
			topic := kafkatest.TopicName(t)
			if err := adm.CreateTopic(ctx, topic, 1, 1, map[string]string{"cleanup.policy": "compact"}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := adm.DeleteTopic(ctx, topic); err != nil {
					t.Error(err)
				}
			})

			// Wait until the broker reports the inherited value, then
			// log where each interesting value comes from.
			sources := map[string]string{}
			waitFor(ctx, t, "the cluster-wide config to show on the topic", func() (bool, error) {
				rcs, err := raw.DescribeTopicConfigs(ctx, topic)
				if err != nil {
					return false, err
				}
				rc, err := rcs.On(topic, nil)
				if err != nil || rc.Err != nil {
					return false, errors.Join(err, rc.Err)
				}
				inherited := false
				for _, c := range rc.Configs {
					switch c.Key {
					case "retention.bytes", "log.retention.bytes":
						inherited = inherited || c.MaybeValue() == value
					case "cleanup.policy", "segment.bytes", "retention.ms", "log.retention.ms":
					default:
						continue
					}
					sources[c.Key] = fmt.Sprintf("%s=%s", c.Source, c.MaybeValue())
				}
				return inherited, nil
			})
			t.Logf("DescribeConfigs sources on %s: %v", tg.Name, sources)

			got, err := adm.Topics(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]string{"cleanup.policy": "compact"}; !maps.Equal(got[topic].Configs, want) {
				t.Errorf("Topics()[%s].Configs = %v, want only the override %v", topic, got[topic].Configs, want)
			}
		})
	}
}

// TestSetPartitionsConcurrent has several callers raise one topic to the
// same total at once: each must get nil, whichever of them Kafka answers
// first, since the result is what every one of them asked for.
func TestSetPartitionsConcurrent(t *testing.T) {
	for _, tg := range kafkatest.Targets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t, time.Minute)
			adm := newAdmin(t, kafkaconn.Config{Bootstrap: []string{tg.Addr}})
			topic := kafkatest.TopicName(t)
			if err := adm.CreateTopic(ctx, topic, 1, 1, nil); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := adm.DeleteTopic(ctx, topic); err != nil {
					t.Error(err)
				}
			})
			waitTopic(ctx, t, adm, topic, "to appear", func(_ kafkaconn.Topic, ok bool) bool { return ok })
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if err := adm.SetPartitions(ctx, topic, 6); err != nil {
						t.Errorf("concurrent SetPartitions(6): %v", err)
					}
				})
			}
			wg.Wait()
			waitTopic(ctx, t, adm, topic, "6 partitions", func(tp kafkaconn.Topic, ok bool) bool { return ok && tp.Partitions == 6 })
		})
	}
}

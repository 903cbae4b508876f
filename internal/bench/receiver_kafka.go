package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/sink"
)

// KafkaVar, when set, aims the sink-kafka scenario at a real Kafka
// cluster (bootstrap addresses) instead of an in-process broker.
const KafkaVar = "SLUICE_BENCH_KAFKA"

// kafkaReceiver returns an exactly-once kafka sink writing to a fresh
// topic: on an in-process broker (kfake) whose CPU is part of the measured
// process, or on the cluster SLUICE_BENCH_KAFKA names.
func kafkaReceiver() (sink.Spec, sink.Env, func(), error) {
	var addrs []string
	stop := func() {}
	if v := strings.TrimSpace(os.Getenv(KafkaVar)); v != "" {
		addrs = strings.Split(v, ",")
	} else {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			return sink.Spec{}, sink.Env{}, nil, fmt.Errorf("start the in-process broker: %w", err)
		}
		addrs, stop = c.ListenAddrs(), c.Close
	}
	suffix := time.Now().Format("20060102-150405.000000")
	out, source := "sluice-bench-out-"+suffix, "sluice-bench-source-"+suffix
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		stop()
		return sink.Spec{}, sink.Env{}, nil, err
	}
	adm := kadm.NewClient(cl)
	cleanup := func() {
		// A real cluster keeps no bench topics; kfake goes away whole.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, out, source)
		cl.Close()
		stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The output topic, and the source topic the transactions commit
	// offsets for (it must exist on the cluster).
	for topic, parts := range map[string]int32{out: 1, source: memPartitions} {
		resp, err := adm.CreateTopic(ctx, parts, -1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			cleanup()
			return sink.Spec{}, sink.Env{}, nil, fmt.Errorf("create topic %s: %w", topic, err)
		}
	}
	env := sink.Env{
		AllowPrivate: true, ExactlyOnce: true, Job: "bench-sink-kafka", Topic: source,
		KafkaCluster: func(context.Context, string, string) (kafkaconn.Config, error) {
			return kafkaconn.Config{Bootstrap: addrs}, nil
		},
	}
	return sink.Spec{Type: "kafka", Settings: map[string]any{"topic": out}}, env, cleanup, nil
}

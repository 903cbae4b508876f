package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The topic's partition count in e2e-kafka, the job's id, and the default
// record count.
const (
	e2ePartitions = 4
	e2eRecords    = 2_000_000
	e2eJobID      = "bench"
)

// runE2E starts an in-process broker (kfake) on loopback, fills a topic
// with firewall records, and then, measured separately in the same run,
// reads them all with a bare franz-go consumer that only counts, and with
// a Sluice job running the filter-json query into the discard sink. Both
// measurements count the whole process's CPU: the broker's share of it is
// in both.
func runE2E(ctx context.Context, cfg Config) (Result, error) {
	const name = "e2e-kafka"
	res := newResult(name, QueryFilter)
	n := cfg.records(e2eRecords)
	reader, err := avro.Parse(firewall.schema)
	if err != nil {
		return res, err
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(e2ePartitions, benchTopic))
	if err != nil {
		return res, fmt.Errorf("%s: start broker: %w", name, err)
	}
	defer cluster.Close()
	addr := cluster.ListenAddrs()[0]

	cfg.progress("%s: producing %d records to %s (%d partitions) on %s", name, n, benchTopic, e2ePartitions, addr)
	bytesIn, err := fill(ctx, addr, n)
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}

	cfg.progress("%s: measuring the bare consumer", name)
	mt, err := begin(nil)
	if err != nil {
		return res, err
	}
	got, err := bareConsume(ctx, addr, n)
	bare, merr := mt.end()
	if err != nil {
		return res, fmt.Errorf("%s: bare consumer: %w", name, err)
	}
	if merr != nil {
		return res, merr
	}

	cfg.progress("%s: measuring the Sluice job", name)
	if mt, err = begin(cfg.CPUProfile); err != nil {
		return res, err
	}
	st, err := runJob(ctx, addr, reader, n)
	s, merr := mt.end()
	if err != nil {
		return res, fmt.Errorf("%s: job: %w", name, err)
	}
	if merr != nil {
		return res, merr
	}
	if st.Bad > 0 {
		return res, fmt.Errorf("%s: %d records dead-lettered", name, st.Bad)
	}

	res.fill(int64(n), int64(st.Out), bytesIn, s)
	res.CPUScope = "process (user + system, all goroutines): broker, Kafka client and job alike, for the job and the bare consumer"
	b := &BareConsumer{Records: got, WallSeconds: bare.wall.Seconds(), CPUSeconds: bare.cpu.Seconds(),
		AllocsPerRecord: float64(bare.mallocs) / float64(max(got, 1))}
	if bare.cpu > 0 {
		b.RecordsPerCPUSecond = float64(got) / bare.cpu.Seconds()
	}
	res.BareConsumer = b
	if b.RecordsPerCPUSecond > 0 {
		ratio := res.RecordsPerCPUSecond / b.RecordsPerCPUSecond
		res.RatioVsBareConsumer = &ratio
	}
	res.TargetRatio = TargetE2ERatio
	res.judge()
	return res, nil
}

// fill produces n firewall records (with the schema version header),
// in blocks of batchRecords per partition, without compression.
func fill(ctx context.Context, addr string, n int) (int64, error) {
	polls, bytes, err := records(firewall, n)
	if err != nil {
		return 0, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(100_000))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	var firstErr error
	failed := make(chan error, 1)
	for _, poll := range polls {
		for _, r := range poll {
			rec := &kgo.Record{Topic: benchTopic, Value: r.Value, Headers: r.Headers, Partition: r.Partition, Timestamp: r.Timestamp}
			cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
				if err != nil {
					select {
					case failed <- err:
					default:
					}
				}
			})
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, fmt.Errorf("produce: %w", err)
	}
	select {
	case firstErr = <-failed:
		return 0, fmt.Errorf("produce: %w", firstErr)
	default:
	}
	return bytes, nil
}

// bareConsume reads the topic from the start with a franz-go consumer at
// its defaults, counting records, until it has n.
func bareConsume(ctx context.Context, addr string, n int) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(benchTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	var got int64
	for got < int64(n) {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return got, err
		}
		if err := fs.Err0(); err != nil {
			return got, err
		}
		got += int64(fs.NumRecords())
	}
	return got, nil
}

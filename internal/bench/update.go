package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/schema"
	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/subscription"
)

// The reliable-update scenario: a subscription's SQL switches between a
// filter and a 10-second tumbling aggregation, while a producer writes.
const (
	updateDefault    = 20
	updatePartitions = 4
	updateSchema     = `{"type":"record","name":"Flow","fields":[{"name":"id","type":"long"},{"name":"key","type":"string"},{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}}]}`
	updateFilter     = "SELECT id, key FROM tenant WHERE key <> 'k0'"
	updateAggregate  = "SELECT key, COUNT(*) AS n, WINDOW_END FROM tenant GROUP BY TUMBLE(ts, INTERVAL '10' SECOND), key"
)

// UpdateLatency is what reliable-update measured: per update, from the
// worker beginning to stop epoch N to epoch N+1 consuming (Took), the
// stop alone (Stop), and from the API write to epoch N+1 consuming
// (Applied, which adds noticing the change).
type UpdateLatency struct {
	Updates   int     `json:"updates"`
	TookP50Ms float64 `json:"took_p50_ms"`
	TookP99Ms float64 `json:"took_p99_ms"`
	TookMaxMs float64 `json:"took_max_ms"`
	StopP50Ms float64 `json:"stop_p50_ms"`
	// AppliedP50Ms and AppliedP99Ms include the API write and the runner
	// noticing it (at once in one process).
	AppliedP50Ms float64 `json:"applied_p50_ms"`
	AppliedP99Ms float64 `json:"applied_p99_ms"`
}

// runReliableUpdate runs a control plane and a worker in this process
// (SQLite store, the in-process broker or SLUICE_BENCH_KAFKA), creates a
// subscription, and applies cfg.Records updates (default 20) while a
// producer writes about 2,000 records a second, each after the job has
// consumed for a while.
func runReliableUpdate(ctx context.Context, cfg Config) (Result, error) {
	const name = "reliable-update"
	res := newResult(name, updateFilter+" ⇄ "+updateAggregate)
	updates := cfg.records(updateDefault)

	var addrs []string
	if v := strings.TrimSpace(os.Getenv(KafkaVar)); v != "" {
		addrs = strings.Split(v, ",")
	} else {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			return res, fmt.Errorf("%s: start the in-process broker: %w", name, err)
		}
		defer c.Close()
		addrs = c.ListenAddrs()
	}
	dir, err := os.MkdirTemp("", "sluice-bench-update-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, "sqlite://"+filepath.ToSlash(filepath.Join(dir, "sluice.db")))
	if err != nil {
		return res, err
	}
	defer db.Close()
	evs := events.NewLog(db)
	reg := schema.New(db, schema.Config{})
	cat := catalog.New(db, evs, catalog.Config{Schemas: reg, Logger: slog.New(slog.DiscardHandler)})
	defer cat.Close()
	tenant := "bench-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	if _, err := cat.RegisterCluster(ctx, catalog.ClusterSpec{Name: "bench", Region: "local", Connection: kafkaconn.Config{Bootstrap: addrs}}); err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	if _, err := cat.CreateTenant(ctx, catalog.TenantSpec{Name: tenant, Region: "local", Partitions: updatePartitions, ReplicationFactor: 1}); err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	if _, _, err := reg.Register(ctx, tenant, updateSchema); err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	route, err := cat.Route(ctx, tenant)
	if err != nil {
		return res, err
	}

	pctx, stopProducing := context.WithCancel(ctx)
	defer stopProducing()
	var produced atomic.Int64
	perr := make(chan error, 1)
	go func() { perr <- produceFlow(pctx, addrs, route.Topic, &produced) }()

	svc := subscription.New(db, subscription.Config{Schemas: reg})
	updated, unsubscribe := evs.Subscribe(256)
	defer unsubscribe()
	runner := subscription.NewRunner(svc, subscription.RunnerConfig{Node: "bench", Catalog: cat, Events: evs,
		Logger: slog.New(slog.DiscardHandler)})
	rctx, stopRunner := context.WithCancel(ctx)
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- runner.Run(rctx) }()
	defer func() { stopRunner(); <-runnerDone }()

	sub, err := svc.Create(ctx, subscription.Spec{Application: "bench", Tenant: tenant, SQL: updateFilter, Lateness: "1 second",
		Sink: sink.Spec{Type: "discard"}}, false)
	if err != nil {
		return res, fmt.Errorf("%s: create the subscription: %w", name, err)
	}
	if _, err := waitRunning(ctx, svc, sub.ID, sub.Epoch); err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}

	cfg.progress("%s: %d updates of a job on %d partitions while records are produced", name, updates, updatePartitions)
	mt, err := begin(cfg.CPUProfile)
	if err != nil {
		return res, err
	}
	var took, stops, applied []float64
	for i := range updates {
		select {
		case <-time.After(300 * time.Millisecond): // let the epoch consume
		case err := <-perr:
			return res, fmt.Errorf("%s: producer: %w", name, err)
		case <-ctx.Done():
			return res, ctx.Err()
		}
		sql := updateAggregate
		if i%2 == 1 {
			sql = updateFilter
		}
		spec := sub.Spec
		spec.SQL = sql
		start := time.Now()
		if sub, err = svc.Replace(ctx, sub.ID, spec, 0); err != nil {
			return res, fmt.Errorf("%s: update %d: %w", name, i+1, err)
		}
		ms, stopMs, err := waitUpdated(ctx, updated, sub.ID, sub.Epoch)
		if err != nil {
			return res, fmt.Errorf("%s: update %d: %w", name, i+1, err)
		}
		applied = append(applied, float64(time.Since(start).Microseconds())/1000)
		took, stops = append(took, ms), append(stops, stopMs)
		cfg.progress("%s: update %d (epoch %d): %.1f ms", name, i+1, sub.Epoch, ms)
	}
	s, err := mt.end()
	if err != nil {
		return res, err
	}
	stopProducing()
	if err := <-perr; err != nil && !errors.Is(err, context.Canceled) {
		return res, fmt.Errorf("%s: producer: %w", name, err)
	}
	st, err := svc.Status(ctx, sub.ID)
	if err != nil {
		return res, err
	}
	res.fill(produced.Load(), int64(0), 0, s)
	res.CPUScope = "process (user + system, all goroutines): broker, producer, control plane and worker"
	res.Update = &UpdateLatency{Updates: len(took),
		TookP50Ms: percentile(took, 0.50), TookP99Ms: percentile(took, 0.99), TookMaxMs: slices.Max(took),
		StopP50Ms: percentile(stops, 0.50), AppliedP50Ms: percentile(applied, 0.50), AppliedP99Ms: percentile(applied, 0.99)}
	if st.Epoch != sub.Epoch {
		return res, fmt.Errorf("%s: the job ends at epoch %d, want %d", name, st.Epoch, sub.Epoch)
	}
	return res, nil
}

// percentile is the nearest-rank percentile of xs.
func percentile(xs []float64, p float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	i := max(0, int(float64(len(s))*p+0.999999)-1)
	return s[min(i, len(s)-1)]
}

// waitRunning waits until the subscription's job runs epoch.
func waitRunning(ctx context.Context, svc *subscription.Service, id string, epoch int64) (subscription.Status, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := svc.Status(ctx, id)
		if err == nil && st.Epoch == epoch && st.ActualState == subscription.StateRunning {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("epoch %d of %s not running within 30s: %+v (%v)", epoch, id, st, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitUpdated waits for the event of the job reaching epoch and returns
// how long the update took and its stop.
func waitUpdated(ctx context.Context, evs <-chan events.Event, id string, epoch int64) (took, stop float64, err error) {
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-evs:
			if e.Details["subscription"] != id {
				continue
			}
			switch e.Kind {
			case subscription.EventJobStopped:
				stop, _ = strconv.ParseFloat(e.Details["stop_ms"], 64)
			case subscription.EventJobUpdated:
				if e.Details["epoch"] == strconv.FormatInt(epoch, 10) {
					took, err = strconv.ParseFloat(e.Details["took_ms"], 64)
					return took, stop, err
				}
			case subscription.EventJobStartFailed:
				return 0, 0, fmt.Errorf("epoch %d did not start: %s", epoch, e.Message)
			}
		case <-timeout:
			return 0, 0, fmt.Errorf("epoch %d not running within 30s", epoch)
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		}
	}
}

// produceFlow writes about 2,000 records a second of updateSchema, event
// time now, until ctx ends.
func produceFlow(ctx context.Context, addrs []string, topic string, n *atomic.Int64) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer cl.Close()
	s := avro.MustParse(updateSchema)
	hdr := []kgo.RecordHeader{{Key: wire.Header, Value: wire.HeaderValue(1)}}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for id := int64(0); ; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		recs := make([]*kgo.Record, 0, 20)
		for range 20 {
			v, err := s.Encode(map[string]any{"id": id, "key": "k" + strconv.FormatInt(id%16, 10), "ts": time.Now().UnixMilli()})
			if err != nil {
				return err
			}
			recs = append(recs, &kgo.Record{Key: []byte(strconv.FormatInt(id, 10)), Value: v, Headers: hdr})
			id++
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return err
		}
		n.Add(int64(len(recs)))
	}
}

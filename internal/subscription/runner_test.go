package subscription

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema"
	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

const eventSchema = `{"type":"record","name":"E","fields":[{"name":"id","type":"long"}]}`

// TestRunnersShareByLease: two workers on one store never run the same
// subscription; when the one running it stops, the other takes it over
// from the committed offsets, and nothing is lost.
func TestRunnersShareByLease(t *testing.T) {
	ctx := context.Background()
	f := newRunnerFixture(t)
	svc, produce := f.svc, f.produce
	produce(0, 100)

	out := filepath.Join(t.TempDir(), "out.ndjson")
	sub, err := svc.Create(ctx, Spec{Application: "app", Tenant: "acme", SQL: "SELECT id FROM tenant",
		Sink: sink.Spec{Type: "file", Settings: map[string]any{"path": out, "fsync": false}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	start := func(node string) (context.CancelFunc, chan struct{}) {
		r := NewRunner(svc, RunnerConfig{Node: node, Catalog: f.cat})
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _ = r.Run(rctx); close(done) }()
		return cancel, done
	}
	stopA, doneA := start("worker-a")
	waitFor(t, func() bool { return len(ids(t, out)) == 100 })
	stopB, doneB := start("worker-b")
	defer func() { stopB(); <-doneB }()
	time.Sleep(2 * runnerInterval) // b reconciles, and must leave it to a
	st, err := svc.Status(ctx, sub.ID)
	if err != nil || st.Worker != "worker-a" || st.ActualState != StateRunning {
		t.Fatalf("status %+v, %v", st, err)
	}

	// a stops (releasing its leases); b takes over from the checkpoint.
	stopA()
	<-doneA
	produce(100, 200)
	waitFor(t, func() bool { return len(ids(t, out)) == 200 })
	waitFor(t, func() bool {
		st, err := svc.Status(ctx, sub.ID)
		return err == nil && st.Worker == "worker-b" && st.ActualState == StateRunning
	})
	for id, n := range ids(t, out) {
		if n != 1 {
			t.Fatalf("id %d delivered %d times across the hand-over at a checkpoint", id, n)
		}
	}
}

// runnerFixture is a store, a catalog with tenant acme (2 partitions on
// an in-process broker) and its schema, and a subscription service.
type runnerFixture struct {
	svc     *Service
	cat     *catalog.Service
	events  *events.Log
	produce func(from, to int)
}

func newRunnerFixture(t *testing.T) *runnerFixture {
	ctx := context.Background()
	addr := kafkatest.Fake(t)
	db := storetest.SQLite(t)
	reg := schema.New(db, schema.Config{})
	evs := events.NewLog(db)
	cat := catalog.New(db, evs, catalog.Config{Schemas: reg})
	t.Cleanup(cat.Close)
	if _, err := cat.RegisterCluster(ctx, catalog.ClusterSpec{Name: "c", Region: "r", Connection: kafkaconn.Config{Bootstrap: []string{addr}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateTenant(ctx, catalog.TenantSpec{Name: "acme", Region: "r", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.Register(ctx, "acme", eventSchema); err != nil {
		t.Fatal(err)
	}
	route, err := cat.Route(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	cl := kafkatest.NewClient(t, addr, kgo.DefaultProduceTopic(route.Topic))
	s := avro.MustParse(eventSchema)
	produce := func(from, to int) {
		for id := from; id < to; id++ {
			v, _ := s.Encode(map[string]any{"id": int64(id)})
			r := &kgo.Record{Key: []byte(fmt.Sprint(id)), Value: v, Headers: []kgo.RecordHeader{{Key: wire.Header, Value: wire.HeaderValue(1)}}}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	svc := New(db, Config{Schemas: reg, SinkEnv: sink.Env{AllowPrivate: true}})
	return &runnerFixture{svc: svc, cat: cat, events: evs, produce: produce}
}

// run runs a runner until the test ends.
func (f *runnerFixture) run(t *testing.T, node string) *Runner {
	r := NewRunner(f.svc, RunnerConfig{Node: node, Catalog: f.cat, Events: f.events})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func ids(t *testing.T, path string) map[int]int {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row struct{ ID int }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		out[row.ID]++
	}
	return out
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

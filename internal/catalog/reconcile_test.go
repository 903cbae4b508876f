package catalog

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// TestReconcileFindsDrift changes a tenant topic behind Sluice's back and
// checks the reconciler adopts the partition increase, reports config drift
// and a missing topic once each, and offers the events to subscribers.
func TestReconcileFindsDrift(t *testing.T) {
	for _, tg := range kafkatest.Targets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, storetest.SQLite(t))
			sub, cancel := f.events.Subscribe(16)
			defer cancel()
			cluster := uniqueName(t, "c")
			f.register(t, cluster, "eu", tg.Addr, Limits{})
			name := uniqueName(t, "acme")
			tn, err := f.svc.CreateTenant(ctx, TenantSpec{Name: name, Region: "eu", Partitions: 2})
			if err != nil {
				t.Fatal(err)
			}
			adm := kafkatest.NewAdmin(t, tg.Addr)

			// Nothing changed: nothing to report.
			if err := f.svc.ReconcileCluster(ctx, cluster); err != nil {
				t.Fatal(err)
			}
			if ev, _ := f.events.List(ctx, eventsFilter(name)); len(ev) != 0 {
				t.Fatalf("events with no drift: %+v", ev)
			}

			// Partitions added directly: adopted.
			if _, err := adm.UpdatePartitions(ctx, 5, tn.Topic); err != nil {
				t.Fatal(err)
			}
			waitPartitions(t, tg.Addr, tn.Topic, 5)
			if err := f.svc.ReconcileCluster(ctx, cluster); err != nil {
				t.Fatal(err)
			}
			top, _ := f.svc.Topic(ctx, cluster, tn.Topic)
			if top.Partitions != 5 {
				t.Fatalf("recorded partitions after adoption = %d, want 5", top.Partitions)
			}
			e := next(t, sub)
			if e.Kind != EventPartitionsAdopted || e.Tenant != name || e.Details["before"] != "2" || e.Details["after"] != "5" {
				t.Fatalf("event = %+v, want partitions adopted 2 -> 5", e)
			}

			// A managed config changed directly: drift, reported once.
			if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: ptr("1234567")}}, tn.Topic); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := f.svc.ReconcileCluster(ctx, cluster); err != nil {
					t.Fatal(err)
				}
			}
			drift := f.eventsOf(t, EventConfigDrift)
			if len(drift) != 1 || drift[0].Topic != tn.Topic {
				t.Fatalf("config drift events = %+v, want exactly one", drift)
			}
			if e := next(t, sub); e.Kind != EventConfigDrift {
				t.Fatalf("event = %+v, want config drift", e)
			}

			// Put back: resolved.
			want := strconv.FormatInt(DefaultRetention.Milliseconds(), 10)
			if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: &want}}, tn.Topic); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.ReconcileCluster(ctx, cluster); err != nil {
				t.Fatal(err)
			}
			if e := next(t, sub); e.Kind != EventDriftResolved {
				t.Fatalf("event = %+v, want drift resolved", e)
			}

			// Deleted directly: missing.
			if _, err := adm.DeleteTopics(ctx, tn.Topic); err != nil {
				t.Fatal(err)
			}
			waitPartitions(t, tg.Addr, tn.Topic, 0)
			if err := f.svc.ReconcileCluster(ctx, cluster); err != nil {
				t.Fatal(err)
			}
			if e := next(t, sub); e.Kind != EventTopicMissing || e.Topic != tn.Topic {
				t.Fatalf("event = %+v, want topic missing", e)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// next returns the next event offered to a subscriber, failing the test
// when none comes.
func next(t *testing.T, sub <-chan events.Event) events.Event {
	t.Helper()
	select {
	case e := <-sub:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event offered within 10s")
		return events.Event{}
	}
}

// TestUnreachableAndRecovered stops a cluster and brings it back on the same
// address: the probe marks it unreachable, placement skips it, and it
// recovers when it answers again.
func TestUnreachableAndRecovered(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t))
	port := freePort(t)
	dir := t.TempDir()
	start := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	kc := start()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	f.register(t, "one", "eu", addr, Limits{})

	kc.Close()
	c, err := f.svc.ProbeCluster(ctx, "one")
	if err != nil {
		t.Fatal(err)
	}
	if c.State() != Unreachable || c.LastError == "" {
		t.Fatalf("after the broker stopped: %+v", c)
	}
	_, err = f.svc.CreateTenant(ctx, TenantSpec{Name: "acme", Region: "eu"})
	wantCode(t, err, Conflict, "one: unreachable")
	if ev := f.eventsOf(t, EventClusterUnreachable); len(ev) != 1 {
		t.Fatalf("unreachable events = %+v", ev)
	}

	kc = start()
	defer kc.Close()
	f.clock.advance(15 * time.Second)
	if c, err = f.svc.ProbeCluster(ctx, "one"); err != nil || c.State() != Active || !c.LastSeen.Equal(f.clock.now()) {
		t.Fatalf("after the broker returned: %+v, %v", c, err)
	}
	if ev := f.eventsOf(t, EventClusterRecovered); len(ev) != 1 {
		t.Fatalf("recovered events = %+v", ev)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestTwoServersReportOnce: servers sharing a store both reconcile, and each
// finding is still reported once.
func TestTwoServersReportOnce(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	a, b := newFixture(t, s), newFixture(t, s)
	addr := kafkatest.Fake(t)
	a.register(t, "one", "eu", addr, Limits{})
	tn, err := a.svc.CreateTenant(ctx, TenantSpec{Name: "acme", Region: "eu", Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kafkatest.NewAdmin(t, addr).UpdatePartitions(ctx, 3, tn.Topic); err != nil {
		t.Fatal(err)
	}
	waitPartitions(t, addr, tn.Topic, 3)
	done := make(chan error, 2)
	for _, f := range []*fixture{a, b} {
		go func() { done <- f.svc.ReconcileCluster(ctx, "one") }()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if ev := a.eventsOf(t, EventPartitionsAdopted); len(ev) != 1 {
		t.Fatalf("adoption events = %+v, want exactly one", ev)
	}
}

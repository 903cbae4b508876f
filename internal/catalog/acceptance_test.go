package catalog

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/store/storetest"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestRealClustersPlacementAndAdoption is the acceptance test against two
// real Kafka clusters: placement picks the less loaded one, and a partition
// increase made directly with kadm is adopted within one reconcile interval
// by the running reconciler.
func TestRealClustersPlacementAndAdoption(t *testing.T) {
	addrs := testenv.KafkaClusters(t, 2)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		ev := events.NewLog(s)
		svc := New(s, ev, Config{})
		defer svc.Close()
		f := &fixture{svc: svc, events: ev}
		region := uniqueName(t, "r")
		busy, idle := uniqueName(t, "busy"), uniqueName(t, "idle")
		f.register(t, busy, region, addrs[0], Limits{})
		f.register(t, idle, region, addrs[1], Limits{})

		// Load the first cluster with a pinned tenant of many partitions.
		big := uniqueName(t, "big")
		if _, err := svc.CreateTenant(ctx, TenantSpec{Name: big, Region: region, Partitions: 200, Cluster: busy}); err != nil {
			t.Fatal(err)
		}
		defer svc.DeleteTenant(context.Background(), big)
		// Probe until the busy cluster's metadata shows the new topic: a
		// real broker lists a just-created topic a moment later.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			b, err := svc.ProbeCluster(ctx, busy)
			if err != nil {
				t.Fatal(err)
			}
			if b.Usage.Partitions >= 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("busy cluster's probe still counts %d partitions, want at least 200", b.Usage.Partitions)
			}
		}
		if _, err := svc.ProbeCluster(ctx, idle); err != nil {
			t.Fatal(err)
		}
		name := uniqueName(t, "acme")
		tn, err := svc.CreateTenant(ctx, TenantSpec{Name: name, Region: region, Partitions: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.DeleteTenant(context.Background(), name)
		if tn.Cluster != idle {
			b, berr := svc.Cluster(ctx, busy)
			i, ierr := svc.Cluster(ctx, idle)
			t.Fatalf("placed on %s, want the less loaded %s (busy: %+v %v; idle: %+v %v)", tn.Cluster, idle, b.Usage, berr, i.Usage, ierr)
		}

		const interval = 2 * time.Second
		sub, unsub := ev.Subscribe(64)
		defer unsub()
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- (&Reconciler{Service: svc, Interval: interval, ProbeInterval: time.Hour}).Run(rctx) }()
		defer func() { stop(); <-done }()

		adm := kafkatest.NewAdmin(t, addrs[1])
		changed := time.Now()
		if _, err := adm.UpdatePartitions(ctx, 4, tn.Topic); err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case e := <-sub:
				if e.Kind != EventPartitionsAdopted || e.Topic != tn.Topic {
					continue
				}
				took := time.Since(changed)
				t.Logf("partition increase adopted %v after it was made (reconcile interval %v)", took.Round(time.Millisecond), interval)
				if took > 2*interval+5*time.Second {
					t.Fatalf("adopted after %v, more than one reconcile interval (%v) late", took, interval)
				}
				if top, _ := svc.Topic(ctx, idle, tn.Topic); top.Partitions != 4 {
					t.Fatalf("recorded partitions = %d, want 4", top.Partitions)
				}
				return
			case <-time.After(30 * time.Second):
				t.Fatal("partition increase not adopted within 30s")
			}
		}
	})
}

// TestRealClusterStopsAnswering freezes a real Kafka broker of its own (so
// no other test is disturbed): the probe marks the cluster unreachable, and
// it recovers when the broker runs again.
func TestRealClusterStopsAnswering(t *testing.T) {
	testenv.KafkaClusters(t, 1) // real Kafka is part of this run
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	home, _ := os.UserHomeDir()
	cfg := kafkatest.Config{Dir: t.TempDir(), CacheDir: filepath.Join(home, ".cache", "sluice", "kafkatest")}
	st, err := kafkatest.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer kafkatest.Stop(context.Background(), cfg)
	broker := st.Clusters[0]

	f := newFixture(t, storetest.SQLite(t))
	f.svc.cfg.ProbeTimeout = 3 * time.Second
	f.register(t, "frozen", "eu", broker.Addr, Limits{})

	if err := syscall.Kill(-broker.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			syscall.Kill(-broker.PID, syscall.SIGCONT)
		}
	}()
	c, err := f.svc.ProbeCluster(ctx, "frozen")
	if err != nil || c.State() != Unreachable {
		t.Fatalf("probe of a frozen broker = %+v, %v; want unreachable", c, err)
	}
	t.Logf("frozen broker reported unreachable: %s", c.LastError)

	if err := syscall.Kill(-broker.PID, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	deadline := time.Now().Add(30 * time.Second)
	for {
		f.clock.advance(15 * time.Second)
		if c, err = f.svc.ProbeCluster(ctx, "frozen"); err == nil && c.State() == Active {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster did not recover after the broker resumed: %+v, %v", c, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	kinds := []string{}
	for _, e := range f.eventsOf(t, "") {
		kinds = append(kinds, e.Kind)
	}
	if len(kinds) != 2 || kinds[0] != EventClusterUnreachable || kinds[1] != EventClusterRecovered {
		t.Fatalf("events = %v, want unreachable then recovered", kinds)
	}
}

package catalog

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// TestCrashBetweenIntentAndKafka kills each operation after its intent is
// stored and before Kafka is called, then starts a fresh service on the same
// store — as a restarted process would — and checks the reconciler finishes
// the operation: no orphan topics, no records pointing at nothing.
func TestCrashBetweenIntentAndKafka(t *testing.T) {
	for _, tg := range kafkatest.Targets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.SQLite(t)
			crashed := newFixture(t, s)
			cluster := uniqueName(t, "c")
			crashed.register(t, cluster, "eu", tg.Addr, Limits{})
			crashed.svc.beforeKafka = func(Operation) error { return errCrashed }
			name := uniqueName(t, "acme")

			// Create: the tenant is recorded, Kafka has no topic yet.
			if _, err := crashed.svc.CreateTenant(ctx, TenantSpec{Name: name, Region: "eu", Partitions: 2}); err != errCrashed {
				t.Fatalf("create = %v, want the simulated crash", err)
			}
			tn, err := crashed.svc.Tenant(ctx, name)
			if err != nil || tn.State != Provisioning {
				t.Fatalf("tenant after crash = %+v, %v; want provisioning", tn, err)
			}
			waitPartitions(t, tg.Addr, tn.Topic, 0)

			restarted := newFixture(t, s)
			// Within the dead process's lease the operation is left alone.
			if n, err := restarted.svc.RecoverOperations(ctx); err != nil || n != 0 {
				t.Fatalf("recover within lease = %d, %v; want 0", n, err)
			}
			restarted.clock.advance(3 * time.Minute)
			if n, err := restarted.svc.RecoverOperations(ctx); err != nil || n != 1 {
				t.Fatalf("recover = %d, %v; want 1", n, err)
			}
			if tn, err = restarted.svc.Tenant(ctx, name); err != nil || tn.State != Ready {
				t.Fatalf("tenant after recovery = %+v, %v; want ready", tn, err)
			}
			waitPartitions(t, tg.Addr, tn.Topic, 2)
			if ev := restarted.eventsOf(t, EventOperationRecovered); len(ev) != 1 || ev[0].Topic != tn.Topic {
				t.Fatalf("recovery events = %+v", ev)
			}

			// Set partitions, crashed, then recovered.
			crashed.clock.advance(3 * time.Minute)
			if _, err := crashed.svc.SetPartitions(ctx, cluster, tn.Topic, 4); err != errCrashed {
				t.Fatalf("set partitions = %v, want the simulated crash", err)
			}
			// One operation per topic at a time.
			if _, err := restarted.svc.SetPartitions(ctx, cluster, tn.Topic, 6); CodeOf(err) != Conflict {
				t.Fatalf("second operation while one is pending = %v, want conflict", err)
			}
			restarted.clock.advance(3 * time.Minute)
			if n, err := restarted.svc.RecoverOperations(ctx); err != nil || n != 1 {
				t.Fatalf("recover set partitions = %d, %v", n, err)
			}
			if top, err := restarted.svc.Topic(ctx, cluster, tn.Topic); err != nil || top.Partitions != 4 {
				t.Fatalf("topic after recovery = %+v, %v; want 4 partitions", top, err)
			}
			waitPartitions(t, tg.Addr, tn.Topic, 4)

			// Delete, crashed, then recovered: topic and records both go.
			crashed.clock.advance(6 * time.Minute)
			if err := crashed.svc.DeleteTenant(ctx, name); err != errCrashed {
				t.Fatalf("delete = %v, want the simulated crash", err)
			}
			if tn, _ := restarted.svc.Tenant(ctx, name); tn.State != Deleting {
				t.Fatalf("tenant after crashed delete = %+v, want deleting", tn)
			}
			restarted.clock.advance(10 * time.Minute)
			if n, err := restarted.svc.RecoverOperations(ctx); err != nil || n != 1 {
				t.Fatalf("recover delete = %d, %v", n, err)
			}
			if _, err := restarted.svc.Tenant(ctx, name); CodeOf(err) != NotFound {
				t.Fatalf("tenant after recovered delete: %v", err)
			}
			waitPartitions(t, tg.Addr, tn.Topic, 0)
			pending, err := restarted.svc.ListOperations(ctx, OpFilter{State: OpPending})
			if err != nil || len(pending) != 0 {
				t.Fatalf("pending operations left: %+v, %v", pending, err)
			}
		})
	}
}

// TestKafkaRefusalLeavesNothing: when Kafka refuses to create the topic, the
// tenant is not half-created. The refusal is provoked by a replication factor
// the cluster's brokers cannot meet, as when brokers left since the last probe.
func TestKafkaRefusalLeavesNothing(t *testing.T) {
	for _, tg := range kafkatest.Targets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.SQLite(t)
			f := newFixture(t, s)
			cluster := uniqueName(t, "c")
			f.register(t, cluster, "eu", tg.Addr, Limits{})
			if _, err := s.Exec(ctx, `UPDATE clusters SET brokers = 3 WHERE name = ?`, cluster); err != nil {
				t.Fatal(err)
			}
			name := uniqueName(t, "acme")
			_, err := f.svc.CreateTenant(ctx, TenantSpec{Name: name, Region: "eu", Partitions: 1, ReplicationFactor: 3})
			wantCode(t, err, Conflict, "refused")
			if _, err := f.svc.Tenant(ctx, name); CodeOf(err) != NotFound {
				t.Fatalf("tenant after refused create: %v", err)
			}
			if tops, err := f.svc.Topics(ctx, TopicFilter{}); err != nil || len(tops) != 0 {
				t.Fatalf("topics after refused create: %+v, %v", tops, err)
			}
			ops, err := f.svc.ListOperations(ctx, OpFilter{State: OpFailed})
			if err != nil || len(ops) != 1 || ops[0].Error == "" {
				t.Fatalf("failed operations: %+v, %v; want one with its reason", ops, err)
			}
			// The name is free again.
			if _, err := f.svc.CreateTenant(ctx, TenantSpec{Name: name, Region: "eu", Partitions: 1, ReplicationFactor: 1}); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.DeleteTenant(ctx, name); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestStateSurvivesRestart: everything the catalog records is in the store,
// on SQLite and on PostgreSQL.
func TestStateSurvivesRestart(t *testing.T) {
	addr := kafkatest.Fake(t)
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s1, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, s1)
		cluster := uniqueName(t, "c")
		f.register(t, cluster, "eu", addr, Limits{MaxPartitions: 500})
		name := uniqueName(t, "acme")
		want, err := f.svc.CreateTenant(ctx, TenantSpec{Name: name, Region: "eu", Partitions: 2})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.Close()
		s1.Close()

		s2 := storetest.Open(t, dsn)
		g := newFixture(t, s2)
		c, err := g.svc.Cluster(ctx, cluster)
		if err != nil || c.Limits.MaxPartitions != 500 || c.Connection.Bootstrap[0] != addr || !c.Reachable {
			t.Fatalf("cluster after restart = %+v, %v", c, err)
		}
		got, err := g.svc.Tenant(ctx, name)
		if err != nil || got != want {
			t.Fatalf("tenant after restart = %+v, %v; want %+v", got, err, want)
		}
		if r, err := g.svc.Route(ctx, name); err != nil || r.Topic != want.Topic {
			t.Fatalf("route after restart = %+v, %v", r, err)
		}
		// And the restarted service still operates on Kafka.
		if _, err := g.svc.SetPartitions(ctx, cluster, want.Topic, 3); err != nil {
			t.Fatal(err)
		}
		if err := g.svc.DeleteTenant(ctx, name); err != nil {
			t.Fatal(err)
		}
	})
}

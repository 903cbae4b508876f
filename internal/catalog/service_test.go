package catalog

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// TestTenantLifecycle runs the catalog's Kafka operations against kfake and
// real Kafka: what the records say must be what the cluster has.
func TestTenantLifecycle(t *testing.T) {
	for _, tg := range kafkatest.Targets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, storetest.SQLite(t))
			adm := kafkatest.NewAdmin(t, tg.Addr)
			cluster := uniqueName(t, "c")
			f.register(t, cluster, "eu", tg.Addr, Limits{})

			name := uniqueName(t, "acme")
			tn, err := f.svc.CreateTenant(ctx, TenantSpec{Name: name, Region: "eu", Partitions: 3,
				Retention: time.Hour, Configs: map[string]string{"cleanup.policy": "delete"}})
			if err != nil {
				t.Fatal(err)
			}
			if tn.State != Ready || tn.Cluster != cluster || tn.Topic != "sluice.tenant."+name+".1" || tn.RouteVersion != 1 {
				t.Fatalf("tenant = %+v", tn)
			}
			waitPartitions(t, tg.Addr, tn.Topic, 3)
			cfgs, err := adm.DescribeTopicConfigs(ctx, tn.Topic)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := cfgs.On(tn.Topic, nil)
			if err != nil {
				t.Fatal(err)
			}
			retention := ""
			for _, c := range rc.Configs {
				if c.Key == "retention.ms" && c.Value != nil {
					retention = *c.Value
				}
			}
			if retention != strconv.Itoa(int(time.Hour.Milliseconds())) {
				t.Fatalf("retention.ms on Kafka = %q, want 3600000", retention)
			}

			r, err := f.svc.Route(ctx, name)
			if err != nil || r.Topic != tn.Topic || r.Cluster != cluster || r.BootstrapServers[0] != tg.Addr || r.Version != 1 {
				t.Fatalf("route = %+v, %v", r, err)
			}

			// Duplicates and bad input change nothing.
			_, err = f.svc.CreateTenant(ctx, TenantSpec{Name: name, Region: "eu"})
			wantCode(t, err, Conflict, "already exists")
			_, err = f.svc.CreateTenant(ctx, TenantSpec{Name: "Bad_Name", Region: "eu"})
			wantCode(t, err, Invalid, "name")
			_, err = f.svc.CreateTenant(ctx, TenantSpec{Name: uniqueName(t, "x"), Region: "eu", Partitions: -2})
			wantCode(t, err, Invalid, "partitions")
			_, err = f.svc.CreateTenant(ctx, TenantSpec{Name: uniqueName(t, "x"), Region: "mars"})
			wantCode(t, err, Conflict, "in region eu")

			// Partitions grow; they never shrink.
			top, err := f.svc.SetPartitions(ctx, cluster, tn.Topic, 5)
			if err != nil || top.Partitions != 5 {
				t.Fatalf("set partitions: %+v, %v", top, err)
			}
			waitPartitions(t, tg.Addr, tn.Topic, 5)
			_, err = f.svc.SetPartitions(ctx, cluster, tn.Topic, 4)
			wantCode(t, err, Invalid, "migrate")

			top, err = f.svc.SetTopicConfigs(ctx, cluster, tn.Topic, map[string]string{"retention.ms": "7200000"})
			if err != nil || top.Configs["retention.ms"] != "7200000" || top.Configs["cleanup.policy"] != "delete" {
				t.Fatalf("set configs: %+v, %v", top, err)
			}

			// A cluster holding tenants cannot be deregistered.
			wantCode(t, f.svc.DeregisterCluster(ctx, cluster), Conflict, "tenant topic")

			if err := f.svc.DeleteTenant(ctx, name); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Tenant(ctx, name); CodeOf(err) != NotFound {
				t.Fatalf("tenant after delete: %v", err)
			}
			waitPartitions(t, tg.Addr, tn.Topic, 0)
			if err := f.svc.DeregisterCluster(ctx, cluster); err != nil {
				t.Fatal(err)
			}
			wantCode(t, f.svc.DeregisterCluster(ctx, cluster), NotFound, "")
		})
	}
}

func TestRegisterClusterValidates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t))
	addr := kafkatest.Fake(t)
	f.register(t, "one", "eu", addr, Limits{})

	for _, tt := range []struct {
		spec  ClusterSpec
		code  Code
		field string
	}{
		{ClusterSpec{Name: "one", Region: "eu", Connection: kafkaconn.Config{Bootstrap: []string{addr}}}, Conflict, ""},
		{ClusterSpec{Name: "Two", Region: "eu", Connection: kafkaconn.Config{Bootstrap: []string{addr}}}, Invalid, "name"},
		{ClusterSpec{Name: "two", Region: "", Connection: kafkaconn.Config{Bootstrap: []string{addr}}}, Invalid, "region"},
		{ClusterSpec{Name: "two", Region: "eu", Connection: kafkaconn.Config{Bootstrap: []string{"no-port"}}}, Invalid, "bootstrapServers[0]"},
		{ClusterSpec{Name: "two", Region: "eu", Connection: kafkaconn.Config{Bootstrap: []string{"127.0.0.1:1"}}}, Invalid, "bootstrapServers"},
		{ClusterSpec{Name: "two", Region: "eu", Connection: kafkaconn.Config{Bootstrap: []string{addr}}, Limits: Limits{MaxPartitions: -1}}, Invalid, "limits.maxPartitions"},
		{ClusterSpec{Name: "two", Region: "eu", Connection: kafkaconn.Config{Bootstrap: []string{addr}}, State: Unreachable}, Invalid, "state"},
	} {
		_, err := f.svc.RegisterCluster(ctx, tt.spec)
		if CodeOf(err) != tt.code {
			t.Errorf("register %+v: %v, want code %d", tt.spec, err, tt.code)
			continue
		}
		var ce *Error
		if tt.field != "" && (!asError(err, &ce) || ce.Field != tt.field) {
			t.Errorf("register %+v: %v, want field %q", tt.spec, err, tt.field)
		}
	}
	list, err := f.svc.Clusters(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("clusters after bad registrations: %+v, %v; want just one", list, err)
	}
}

// TestUpdateClusterChangesRoutes: moving a cluster's bootstrap changes the
// route version of its tenants, so producers refetch.
func TestUpdateClusterChangesRoutes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t))
	addr := kafkatest.Fake(t)
	f.register(t, "one", "eu", addr, Limits{})
	if _, err := f.svc.CreateTenant(ctx, TenantSpec{Name: "acme", Region: "eu", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	draining := Draining
	c, err := f.svc.UpdateCluster(ctx, "one", ClusterUpdate{State: &draining})
	if err != nil || c.State() != Draining {
		t.Fatalf("drain: %+v, %v", c, err)
	}
	_, err = f.svc.CreateTenant(ctx, TenantSpec{Name: "globex", Region: "eu"})
	wantCode(t, err, Conflict, "one: draining")

	region := "us"
	_, err = f.svc.UpdateCluster(ctx, "one", ClusterUpdate{Region: &region})
	wantCode(t, err, Conflict, "region cannot change")

	// Disabled TLS is no TLS: not a connection change.
	plain := kafkaconn.Config{Bootstrap: []string{addr}, TLS: &kafkaconn.TLS{}}
	if _, err := f.svc.UpdateCluster(ctx, "one", ClusterUpdate{Connection: &plain}); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.svc.Route(ctx, "acme"); r.Version != 1 {
		t.Fatalf("route version after a no-op connection update = %d, want 1", r.Version)
	}

	// Same broker, another spelling of its address: a connection change.
	conn := kafkaconn.Config{Bootstrap: []string{strings.Replace(addr, "127.0.0.1", "localhost", 1)}}
	if _, err := f.svc.UpdateCluster(ctx, "one", ClusterUpdate{Connection: &conn}); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.Route(ctx, "acme")
	if err != nil || r.Version != 2 || r.BootstrapServers[0] != conn.Bootstrap[0] {
		t.Fatalf("route after connection change = %+v, %v; want version 2", r, err)
	}
	bad := kafkaconn.Config{Bootstrap: []string{"127.0.0.1:1"}}
	_, err = f.svc.UpdateCluster(ctx, "one", ClusterUpdate{Connection: &bad})
	wantCode(t, err, Invalid, "answered")
	if r, _ := f.svc.Route(ctx, "acme"); r.Version != 2 {
		t.Fatalf("a refused connection change bumped the route to %d", r.Version)
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

// waitPartitions waits until Kafka reports the topic with n partitions (0:
// absent), asking with a fresh client each time: clients cache metadata, and
// a real broker takes a moment to propagate a change.
func waitPartitions(t *testing.T, addr, topic string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cl := kafkatest.NewClient(t, addr)
		details, err := kadm.NewClient(cl).ListTopics(context.Background(), topic)
		cl.Close()
		got := 0
		if d, ok := details[topic]; ok && d.Err == nil {
			got = len(d.Partitions)
		}
		if err == nil && got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s on %s has %d partitions (err %v), want %d", topic, addr, got, err, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

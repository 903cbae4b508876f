package catalog

import (
	"context"
	"testing"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// TestMoveTenant: a tenant moves to an existing topic of another cluster,
// which is adopted; its route and version follow, an event records it.
// Bad moves are refused with the field at fault.
func TestMoveTenant(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t))
	a, b := kafkatest.Fake(t), kafkatest.Fake(t)
	f.register(t, "a", "eu", a, Limits{})
	f.register(t, "b", "eu", b, Limits{})
	tn, err := f.svc.CreateTenant(ctx, TenantSpec{Name: "acme", Region: "eu", Partitions: 2, Cluster: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.MoveTenant(ctx, "acme", "b", tn.Topic); err == nil {
		t.Fatal("moved to a topic that does not exist")
	} else {
		wantCode(t, err, Invalid, "has no topic")
	}
	_, err = f.svc.MoveTenant(ctx, "acme", "nope", tn.Topic)
	wantCode(t, err, Invalid, `cluster "nope" is not registered`)
	_, err = f.svc.MoveTenant(ctx, "ghost", "b", tn.Topic)
	wantCode(t, err, NotFound, "ghost")

	if resp, err := kafkatest.NewAdmin(t, b).CreateTopic(ctx, 3, 1, nil, tn.Topic); err != nil || resp.Err != nil {
		t.Fatalf("create the copy: %v %v", err, resp.Err)
	}
	moved, err := f.svc.MoveTenant(ctx, "acme", "b", tn.Topic)
	if err != nil || moved.Cluster != "b" || moved.Topic != tn.Topic || moved.RouteVersion != tn.RouteVersion+1 {
		t.Fatalf("moved: %+v, %v", moved, err)
	}
	if r, err := f.svc.Route(ctx, "acme"); err != nil || r.Cluster != "b" || r.BootstrapServers[0] != b || r.Version != moved.RouteVersion {
		t.Fatalf("route after the move: %+v, %v", r, err)
	}
	if topic, err := f.svc.Topic(ctx, "b", tn.Topic); err != nil || topic.Tenant != "acme" || topic.Partitions != 3 {
		t.Fatalf("adopted topic: %+v, %v", topic, err)
	}
	if evs := f.eventsOf(t, "tenant.moved"); len(evs) != 1 || evs[0].Details["from"] != "a/"+tn.Topic || evs[0].Details["to"] != "b/"+tn.Topic {
		t.Fatalf("events %+v", evs)
	}
	// Moving where it is changes nothing; a topic of another tenant is refused.
	if again, err := f.svc.MoveTenant(ctx, "acme", "b", tn.Topic); err != nil || again.RouteVersion != moved.RouteVersion {
		t.Fatalf("move to the same topic: %+v, %v", again, err)
	}
	if _, err := f.svc.CreateTenant(ctx, TenantSpec{Name: "globex", Region: "eu", Partitions: 1, Cluster: "a"}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.MoveTenant(ctx, "globex", "b", tn.Topic)
	wantCode(t, err, Invalid, `is tenant "acme"'s`)
}

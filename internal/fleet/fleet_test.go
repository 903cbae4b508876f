package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

func TestBeatListRemove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r := NewRegistry(s)
		clock := time.Date(2026, 11, 26, 12, 0, 0, 123456000, time.UTC)
		r.now = func() time.Time { return clock }

		a := NewNode("v1.2.3", "server", "worker")
		b := NewNode("v1.2.3", "worker")
		if err := r.Beat(ctx, &a); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Second)
		if err := r.Beat(ctx, &b); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Minute)
		if err := r.Beat(ctx, &a); err != nil {
			t.Fatal(err)
		}

		nodes, err := r.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes) != 2 || nodes[0].ID != a.ID || nodes[1].ID != b.ID {
			t.Fatalf("List = %+v, want a then b", nodes)
		}
		got := nodes[0]
		if !got.StartedAt.Equal(a.StartedAt) || !got.HeartbeatAt.Equal(clock) || got.Version != "v1.2.3" ||
			len(got.Roles) != 2 || got.Roles[0] != "server" || got.Roles[1] != "worker" {
			t.Fatalf("node a = %+v, want started %v, beat %v, roles server,worker", got, a.StartedAt, clock)
		}
		if !Alive(nodes[0], clock, DefaultTTL) || Alive(nodes[1], clock, DefaultTTL) {
			t.Fatalf("alive: a=%v b=%v, want a alive and b (silent a minute) not", Alive(nodes[0], clock, DefaultTTL), Alive(nodes[1], clock, DefaultTTL))
		}

		if err := r.forget(ctx, clock.Add(-30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := r.Remove(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if nodes, err = r.List(ctx); err != nil || len(nodes) != 0 {
			t.Fatalf("after forget and remove: %+v, %v; want none", nodes, err)
		}
	})
}

func TestHeartbeaterRegistersAndDeregisters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		r := NewRegistry(s)
		h := &Heartbeater{Registry: r, Node: NewNode("dev", "worker"), Interval: 10 * time.Millisecond}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.Run(ctx) }()

		// Wait for a second beat: the heartbeat time must move.
		var first time.Time
		deadline := time.Now().Add(10 * time.Second)
		for {
			nodes, err := r.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(nodes) == 1 {
				if first.IsZero() {
					first = nodes[0].HeartbeatAt
				} else if nodes[0].HeartbeatAt.After(first) {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no second heartbeat within 10s: %+v", nodes)
			}
			time.Sleep(5 * time.Millisecond)
		}

		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
		if nodes, err := r.List(context.Background()); err != nil || len(nodes) != 0 {
			t.Fatalf("after stop: %+v, %v; want the node removed", nodes, err)
		}
	})
}

package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/store"
)

// errCrashed stops apply after the intent is recorded and before Kafka is
// called, leaving everything as a process that died there would.
var errCrashed = errors.New("simulated crash before the Kafka call")

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	svc    *Service
	events *events.Log
	clock  *clock
}

func newFixture(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	c := newClock()
	ev := events.NewLog(s, events.WithClock(c.now))
	svc := New(s, ev, Config{Now: c.now, ProbeTimeout: 5 * time.Second, KafkaTimeout: 15 * time.Second})
	t.Cleanup(svc.Close)
	return &fixture{svc: svc, events: ev, clock: c}
}

// uniqueName is a tenant or cluster name no other test (or earlier run
// against the same real clusters) uses.
func uniqueName(t *testing.T, prefix string) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return prefix + "-" + hex.EncodeToString(b[:])
}

func (f *fixture) register(t *testing.T, name, region, addr string, limits Limits) Cluster {
	t.Helper()
	c, err := f.svc.RegisterCluster(context.Background(), ClusterSpec{Name: name, Region: region,
		Connection: kafkaconn.Config{Bootstrap: []string{addr}}, Limits: limits})
	if err != nil {
		t.Fatalf("register cluster %s at %s: %v", name, addr, err)
	}
	return c
}

func (f *fixture) eventsOf(t *testing.T, kind string) []events.Event {
	t.Helper()
	list, err := f.events.List(context.Background(), events.Filter{Kind: kind, Limit: events.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func wantCode(t *testing.T, err error, code Code, contains string) {
	t.Helper()
	if CodeOf(err) != code {
		t.Fatalf("error = %v (code %d), want code %d", err, CodeOf(err), code)
	}
	if contains != "" && !strings.Contains(err.Error(), contains) {
		t.Fatalf("error = %q, want it to mention %q", err, contains)
	}
}

func eventsFilter(tenant string) events.Filter { return events.Filter{Tenant: tenant} }

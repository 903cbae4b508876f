package gen

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema/wire"
)

// fakeRegistry keeps each tenant's schemas in memory, returning the existing
// version for a schema registered again, as the real registry does.
type fakeRegistry struct {
	mu       sync.Mutex
	subjects map[string][]string
	err      error
}

func (f *fakeRegistry) Register(_ context.Context, tenant, schema string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	if f.subjects == nil {
		f.subjects = map[string][]string{}
	}
	if i := slices.Index(f.subjects[tenant], schema); i >= 0 {
		return i + 1, nil
	}
	f.subjects[tenant] = append(f.subjects[tenant], schema)
	return len(f.subjects[tenant]), nil
}

func (f *fakeRegistry) versions(tenant string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.subjects[tenant])
}

// routes sends each tenant to a cluster and topic of the test's choosing.
type routes map[string]Route

func (r routes) Route(_ context.Context, tenant string) (Route, error) {
	rt, ok := r[tenant]
	if !ok {
		return Route{}, errors.New("no route for " + tenant)
	}
	return rt, nil
}

// createTopic creates a 3-partition topic unique to the test.
func createTopic(t *testing.T, addr, suffix string) string {
	t.Helper()
	topic := kafkatest.TopicName(t) + "-" + suffix
	resp, err := kafkatest.NewAdmin(t, addr).CreateTopic(context.Background(), 3, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	return topic
}

// topicSize is the number of records in topic: the sum of its end offsets.
func topicSize(t *testing.T, addr, topic string) int64 {
	t.Helper()
	ends, err := kafkatest.NewAdmin(t, addr).ListEndOffsets(context.Background(), topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// consume reads the first n records of topic, in no particular order.
func consume(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := kafkatest.NewClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records from %s within 30s", len(out), n, topic)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func run(t *testing.T, g *Generator, ctx context.Context) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return within 60s")
	}
}

func newGen(t *testing.T, cfg Config) *Generator {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGeneratorCountAndRoll is the end-to-end test: Count records per
// tenant land in each tenant's topic, every one decodes with the schema its
// header names, and records after RollAfter carry the second version.
func TestGeneratorCountAndRoll(t *testing.T) {
	const count, rollAfter = 1000, 300
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tg := range kafkatest.Targets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			tenants := []string{"acme", "globex"}
			rt := routes{}
			for _, name := range tenants {
				rt[name] = Route{BootstrapServers: []string{tg.Addr}, Topic: createTopic(t, tg.Addr, name)}
			}
			reg := &fakeRegistry{}
			g := newGen(t, Config{Tenants: tenants, Count: count, RollAfter: rollAfter, Seed: 7,
				ThreatRatio: DefaultThreatRatio, Start: start, Registry: reg, Router: rt})
			run(t, g, context.Background())

			st := g.Stats()
			if st.Produced != 2*count || st.Sent != 2*count || st.Failed != 0 || st.LastError != "" {
				t.Fatalf("stats = %+v, want %d sent and none failed", st, 2*count)
			}
			for _, name := range tenants {
				if got := reg.versions(name); !slices.Equal(got, []string{FirewallLogV1, FirewallLogV2}) {
					t.Fatalf("tenant %s: registered %d schemas, want FirewallLogV1 then FirewallLogV2", name, len(got))
				}
				topic := rt[name].Topic
				if n := topicSize(t, tg.Addr, topic); n != count {
					t.Fatalf("topic %s holds %d records, want %d", topic, n, count)
				}
				checkRecords(t, consume(t, tg.Addr, topic, count), name, rollAfter, start)
			}
		})
	}
}

// checkRecords decodes every record with the schema its header names and
// checks keys, versions and the reproducible event-time clock (1 ms apart
// at Rate 0).
func checkRecords(t *testing.T, recs []*kgo.Record, tenant string, rollAfter int, start time.Time) {
	t.Helper()
	type decoded struct {
		version int
		rec     Record
		key     string
	}
	var all []decoded
	for _, kr := range recs {
		ref, body, err := wire.Parse(kr.Headers, kr.Value)
		if err != nil {
			t.Fatalf("record at %d/%d: %v", kr.Partition, kr.Offset, err)
		}
		s := schemaV1
		if ref.Version == 2 {
			s = schemaV2
		} else if ref.Version != 1 {
			t.Fatalf("record at %d/%d: header names %v, want version 1 or 2", kr.Partition, kr.Offset, ref)
		}
		var d decoded
		d.version, d.key = ref.Version, string(kr.Key)
		if rest, err := s.Decode(body, &d.rec); err != nil || len(rest) != 0 {
			t.Fatalf("record at %d/%d: decode with version %d: %v (%d bytes left)", kr.Partition, kr.Offset, ref.Version, err, len(rest))
		}
		all = append(all, d)
	}
	// Session ids increase in production order.
	slices.SortFunc(all, func(a, b decoded) int { return int(a.rec.SessionID - b.rec.SessionID) })
	for i, d := range all {
		wantVersion := 1
		if i >= rollAfter {
			wantVersion = 2
		}
		switch {
		case d.version != wantVersion:
			t.Fatalf("record %d of %s: version %d, want %d", i, tenant, d.version, wantVersion)
		case d.rec.Tenant != tenant:
			t.Fatalf("record %d of %s: tenant %q", i, tenant, d.rec.Tenant)
		case d.key != strconv.FormatInt(d.rec.SessionID, 10):
			t.Fatalf("record %d of %s: key %q, want the session id %d", i, tenant, d.key, d.rec.SessionID)
		case d.rec.EventTime != start.UnixMilli()+int64(i):
			t.Fatalf("record %d of %s: event time %d, want %d", i, tenant, d.rec.EventTime, start.UnixMilli()+int64(i))
		case (d.rec.DeviceID != "") != (wantVersion == 2):
			t.Fatalf("record %d of %s: device_id %q in a version %d record", i, tenant, d.rec.DeviceID, d.version)
		}
	}
}

// TestGeneratorClientPerCluster routes two tenants to two clusters.
func TestGeneratorClientPerCluster(t *testing.T) {
	a, b := kafkatest.Fake(t), kafkatest.Fake(t)
	rt := routes{
		"acme":   {BootstrapServers: []string{a}, Topic: createTopic(t, a, "acme")},
		"globex": {BootstrapServers: []string{b}, Topic: createTopic(t, b, "globex")},
	}
	g := newGen(t, Config{Tenants: []string{"acme", "globex"}, Count: 50, Registry: &fakeRegistry{}, Router: rt})
	run(t, g, context.Background())
	if n := topicSize(t, a, rt["acme"].Topic); n != 50 {
		t.Errorf("acme's topic on cluster a holds %d records, want 50", n)
	}
	if n := topicSize(t, b, rt["globex"].Topic); n != 50 {
		t.Errorf("globex's topic on cluster b holds %d records, want 50", n)
	}
}

// TestGeneratorRate checks the rate by counting over a short run, with
// bounds wide enough for a loaded machine.
func TestGeneratorRate(t *testing.T) {
	addr := kafkatest.Fake(t)
	tenants := []string{"acme", "globex"}
	rt := routes{}
	for _, name := range tenants {
		rt[name] = Route{BootstrapServers: []string{addr}, Topic: createTopic(t, addr, name)}
	}
	const rate, runFor = 200, 1500 * time.Millisecond
	g := newGen(t, Config{Tenants: tenants, Rate: rate, Registry: &fakeRegistry{}, Router: rt})
	ctx, cancel := context.WithTimeout(context.Background(), runFor)
	defer cancel()
	began := time.Now()
	run(t, g, ctx)
	took := time.Since(began)
	if took > runFor+10*time.Second {
		t.Errorf("Run took %v to stop after its context ended", took-runFor)
	}
	want := rate * runFor.Seconds() // 300
	for _, ts := range g.Stats().Tenants {
		if float64(ts.Sent) < want/2 || float64(ts.Sent) > want*1.4 {
			t.Errorf("tenant %s: %d records in %v at %d/s, want about %.0f", ts.Tenant, ts.Sent, runFor, rate, want)
		}
		if ts.Failed != 0 {
			t.Errorf("tenant %s: %d failed", ts.Tenant, ts.Failed)
		}
	}
	// On the wall clock, event times lie within the run.
	for _, kr := range consume(t, addr, rt["acme"].Topic, 10) {
		_, body, _ := wire.Parse(kr.Headers, kr.Value)
		var r Record
		if _, err := schemaV1.Decode(body, &r); err != nil {
			t.Fatal(err)
		}
		if et := time.UnixMilli(r.EventTime); et.Before(began.Add(-time.Second)) || et.After(time.Now()) {
			t.Fatalf("event time %v outside the run (%v to now)", et, began)
		}
	}
}

// TestGeneratorStopsOnCancel stops an unbounded, unthrottled run: Run
// returns nil, and every record it handed to Kafka was delivered.
func TestGeneratorStopsOnCancel(t *testing.T) {
	for _, tg := range kafkatest.Targets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			topic := createTopic(t, tg.Addr, "acme")
			g := newGen(t, Config{Tenants: []string{"acme"}, MaxInFlight: 256, Registry: &fakeRegistry{},
				Router: routes{"acme": {BootstrapServers: []string{tg.Addr}, Topic: topic}}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- g.Run(ctx) }()
			deadline := time.Now().Add(30 * time.Second)
			for g.Stats().Sent < 2000 {
				if time.Now().After(deadline) {
					t.Fatalf("only %d records sent within 30s", g.Stats().Sent)
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run after cancel: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("Run did not return within 15s of cancel")
			}
			st := g.Stats()
			if st.Failed != 0 || st.Produced != st.Sent {
				t.Fatalf("after stop: %+v, want every produced record sent", st)
			}
			if n := topicSize(t, tg.Addr, topic); n != st.Sent {
				t.Fatalf("topic holds %d records, stats say %d sent", n, st.Sent)
			}
		})
	}
}

// TestGeneratorCountsFailures produces to a topic that does not exist:
// every record fails, Stats says so, and Run still returns.
func TestGeneratorCountsFailures(t *testing.T) {
	addr := kafkatest.Fake(t)
	g := newGen(t, Config{Tenants: []string{"acme"}, Count: 10, Registry: &fakeRegistry{},
		Router:    routes{"acme": {BootstrapServers: []string{addr}, Topic: "no-such-topic"}},
		KafkaOpts: []kgo.Opt{kgo.UnknownTopicRetries(1)}})
	run(t, g, context.Background())
	st := g.Stats()
	if st.Failed != 10 || st.Sent != 0 || !strings.Contains(st.LastError, "tenant acme: ") {
		t.Fatalf("stats = %+v, want 10 failed with the last error", st)
	}
}

// TestGeneratorFlushTimeout stops with records no broker took: they count
// as failed once FlushTimeout passes, and Stats is final when Run returns.
func TestGeneratorFlushTimeout(t *testing.T) {
	g := newGen(t, Config{Tenants: []string{"acme"}, Count: 5, FlushTimeout: 300 * time.Millisecond,
		Registry: &fakeRegistry{}, Router: routes{"acme": {BootstrapServers: []string{unusedAddr(t)}, Topic: "t"}}})
	began := time.Now()
	run(t, g, context.Background())
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("Run took %v with a 300ms flush timeout", took)
	}
	if st := g.Stats(); st.Produced != 5 || st.Failed != 5 || st.LastError == "" {
		t.Fatalf("stats = %+v, want all 5 failed", st)
	}
}

// unusedAddr is an address nothing listens on.
func unusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestGeneratorSetupErrors(t *testing.T) {
	addr := "127.0.0.1:1" // never contacted: setup fails first
	ok := routes{"acme": {BootstrapServers: []string{addr}, Topic: "t"}}
	for _, tc := range []struct {
		name string
		reg  Registry
		rt   Router
		want string
	}{
		{"route", &fakeRegistry{}, routes{}, "route of tenant acme: no route for acme"},
		{"empty route", &fakeRegistry{}, routes{"acme": {Topic: "t"}}, "route of tenant acme: no bootstrap servers"},
		{"registry", &fakeRegistry{err: errors.New("409 Conflict")}, ok, "register schema FirewallLogV1 for tenant acme: 409 Conflict"},
		{"version", RegistryFunc(func(context.Context, string, string) (int, error) { return 0, nil }), ok, "version 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGen(t, Config{Tenants: []string{"acme"}, Registry: tc.reg, Router: tc.rt})
			err := g.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, want an error containing %q", err, tc.want)
			}
			if err := g.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "more than once") {
				t.Fatalf("second Run = %v", err)
			}
		})
	}
	// A setup interrupted by the caller is a stop, not a failure.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	blocked := RouterFunc(func(ctx context.Context, _ string) (Route, error) { return Route{}, ctx.Err() })
	if err := newGen(t, Config{Tenants: []string{"acme"}, Registry: &fakeRegistry{}, Router: blocked}).Run(ctx); err != nil {
		t.Fatalf("Run with a cancelled context = %v, want nil", err)
	}
}

// TestGeneratorRollFailure stops Run with an error when the second schema
// is refused.
func TestGeneratorRollFailure(t *testing.T) {
	addr := kafkatest.Fake(t)
	topic := createTopic(t, addr, "acme")
	reg := RegistryFunc(func(_ context.Context, _, schema string) (int, error) {
		if schema == FirewallLogV2 {
			return 0, errors.New("409 Conflict: incompatible")
		}
		return 1, nil
	})
	g := newGen(t, Config{Tenants: []string{"acme"}, RollAfter: 20, Registry: reg,
		Router: routes{"acme": {BootstrapServers: []string{addr}, Topic: topic}}})
	err := g.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "roll tenant acme to schema FirewallLogV2 after 20 records: 409 Conflict") {
		t.Fatalf("Run = %v", err)
	}
	// The 20 records before the roll were still delivered.
	if st := g.Stats(); st.Sent != 20 || topicSize(t, addr, topic) != 20 {
		t.Fatalf("stats %+v, want the 20 records before the roll sent", st)
	}
}

func TestNewValidates(t *testing.T) {
	base := func() Config {
		return Config{Tenants: []string{"acme"}, Registry: &fakeRegistry{}, Router: routes{}}
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Tenants = nil }, "no tenants"},
		{func(c *Config) { c.Tenants = []string{"a", ""} }, "empty"},
		{func(c *Config) { c.Tenants = []string{"a", "b", "a"} }, "tenant a is listed twice"},
		{func(c *Config) { c.Rate = -1 }, "rate -1"},
		{func(c *Config) { c.Rate = 1e9 }, "rate 1e+09"},
		{func(c *Config) { c.ThreatRatio = 1.5 }, "threat ratio 1.5"},
		{func(c *Config) { c.RollAfter = -1 }, "roll after -1"},
		{func(c *Config) { c.Count = -1 }, "count -1"},
		{func(c *Config) { c.MaxInFlight = -1 }, "max in flight"},
		{func(c *Config) { c.FlushTimeout = -1 }, "flush timeout"},
		{func(c *Config) { c.Registry = nil }, "no schema registry"},
		{func(c *Config) { c.Router = nil }, "no router"},
	} {
		cfg := base()
		tc.edit(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New = %v, want an error containing %q", err, tc.want)
		}
	}
	if _, err := New(base()); err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
}

package gen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/schema/wire"
)

// Registry registers the generator's schemas.
type Registry interface {
	// Register registers schema (Avro JSON text) for tenant, or finds it
	// already registered, and returns its version: what the
	// sluice-schema-version header of records written with it carries.
	Register(ctx context.Context, tenant, schema string) (version int, err error)
}

// RegistryFunc adapts a function to Registry, as http.HandlerFunc does.
type RegistryFunc func(ctx context.Context, tenant, schema string) (int, error)

// Register calls f.
func (f RegistryFunc) Register(ctx context.Context, tenant, schema string) (int, error) {
	return f(ctx, tenant, schema)
}

// Route is where a tenant's records go.
type Route struct {
	BootstrapServers []string
	Topic            string
}

// Router tells the generator where each tenant's records go.
type Router interface {
	Route(ctx context.Context, tenant string) (Route, error)
}

// RouterFunc adapts a function to Router.
type RouterFunc func(ctx context.Context, tenant string) (Route, error)

// Route calls f.
func (f RouterFunc) Route(ctx context.Context, tenant string) (Route, error) { return f(ctx, tenant) }

// Defaults for the Config fields that name them.
const (
	// DefaultThreatRatio is the share of threat logs `sluice gen` and
	// `sluice dev` use.
	DefaultThreatRatio  = 0.05
	DefaultMaxInFlight  = 4096
	DefaultFlushTimeout = 5 * time.Second
	// MaxRate bounds Config.Rate; far beyond what one producer sends.
	MaxRate = 10_000_000
)

// Config says what a Generator produces. The zero values of the optional
// fields are documented on them.
type Config struct {
	// Tenants to produce for; at least one, no duplicates.
	Tenants []string
	// Rate is records per second per tenant; 0 means as fast as Kafka
	// takes them (MaxInFlight bounds what is outstanding).
	Rate float64
	// ThreatRatio, in [0, 1], is the share of threat logs; 0 gives only
	// traffic logs. Callers usually want DefaultThreatRatio.
	ThreatRatio float64
	// Seed makes the record contents deterministic: each tenant's records
	// are NewStream(tenant, Seed, ThreatRatio).
	Seed int64
	// RollAfter, when positive, registers FirewallLogV2 for a tenant after
	// that many of its records and writes the rest with it. 0 never rolls.
	RollAfter int64
	// Count, when positive, stops each tenant after that many records;
	// Run returns once all are delivered or failed. 0 runs until the
	// context ends.
	Count int64
	// Start, when set, is the event time of each tenant's first record;
	// later ones follow 1/Rate apart (1 ms apart at Rate 0), whatever the
	// wall clock says, so a run with the same Seed and Start is
	// reproducible. Zero stamps records with the time they are due, which
	// tracks the wall clock.
	Start time.Time

	Registry Registry
	Router   Router
	// KafkaOpts are added to every Kafka client's options (after the seed
	// brokers, so they may override them): TLS, SASL, tuning.
	KafkaOpts []kgo.Opt
	// MaxInFlight bounds the records handed to Kafka and not yet
	// acknowledged, over all tenants, overriding DefaultMaxInFlight. The
	// generator waits for acknowledgements beyond it.
	MaxInFlight int
	// FlushTimeout bounds how long Run waits at the end for outstanding
	// records, overriding DefaultFlushTimeout; records still outstanding
	// then count as failed.
	FlushTimeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (c *Config) validate() error {
	if len(c.Tenants) == 0 {
		return errors.New("no tenants")
	}
	for i, t := range c.Tenants {
		if t == "" {
			return errors.New("a tenant name is empty")
		}
		if slices.Contains(c.Tenants[:i], t) {
			return fmt.Errorf("tenant %s is listed twice", t)
		}
	}
	switch {
	case math.IsNaN(c.Rate) || c.Rate < 0 || c.Rate > MaxRate:
		return fmt.Errorf("rate %v: want 0 (unlimited) to %d records/s", c.Rate, MaxRate)
	case math.IsNaN(c.ThreatRatio) || c.ThreatRatio < 0 || c.ThreatRatio > 1:
		return fmt.Errorf("threat ratio %v: want 0 to 1", c.ThreatRatio)
	case c.RollAfter < 0:
		return fmt.Errorf("roll after %d records: must not be negative", c.RollAfter)
	case c.Count < 0:
		return fmt.Errorf("count %d: must not be negative", c.Count)
	case c.MaxInFlight < 0:
		return fmt.Errorf("max in flight %d: must not be negative", c.MaxInFlight)
	case c.FlushTimeout < 0:
		return fmt.Errorf("flush timeout %v: must not be negative", c.FlushTimeout)
	case c.Registry == nil:
		return errors.New("no schema registry")
	case c.Router == nil:
		return errors.New("no router")
	}
	return nil
}

// Pacing of the produce loop.
const (
	// minWait batches records at high rates: at most 200 wake-ups a second
	// however high the rate.
	minWait = 5 * time.Millisecond
	// maxBatch bounds the records of one tenant per pass, so other tenants
	// and a cancelled context get their turn.
	maxBatch = 10_000
	// errorLogInterval spaces out warnings about failed records; Stats
	// counts every one.
	errorLogInterval = 10 * time.Second
)

// Generator produces synthetic firewall logs for a set of tenants into their
// routed Kafka topics. Create it with New and call Run once; Stats may be
// called at any time from any goroutine.
type Generator struct {
	cfg     Config
	log     *slog.Logger
	tenants []*tenant
	started atomic.Bool

	// Owned by Run's goroutine.
	rec   Record
	slots int
	// free holds slots whose records Kafka has acknowledged or failed; its
	// capacity, MaxInFlight, bounds what is outstanding.
	free chan *slot

	errMu    sync.Mutex
	lastErr  string
	lastLog  time.Time
	unlogged int64
}

type tenant struct {
	name   string
	stream *Stream

	// Set by setup and the loop, read only by Run's goroutine.
	topic     string
	client    *kgo.Client
	rolled    bool
	header    []byte // the current version in ASCII decimal; shared by its records
	generated int64
	skipped   int64 // records the rate clock skipped after a stall

	produced, sent, failed, version atomic.Int64
}

// slot is one reusable outstanding record with its buffers.
type slot struct {
	rec        kgo.Record
	key, value []byte
	hdr        [1]kgo.RecordHeader
	t          *tenant
	promise    func(*kgo.Record, error)
}

// New checks cfg and returns a generator for it. Nothing is contacted until
// Run.
func New(cfg Config) (*Generator, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.FlushTimeout == 0 {
		cfg.FlushTimeout = DefaultFlushTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Tenants = slices.Clone(cfg.Tenants)
	g := &Generator{cfg: cfg, log: cfg.Logger, free: make(chan *slot, cfg.MaxInFlight)}
	for _, name := range cfg.Tenants {
		g.tenants = append(g.tenants, &tenant{name: name, stream: NewStream(name, cfg.Seed, cfg.ThreatRatio)})
	}
	return g, nil
}

// Run looks up each tenant's route, registers FirewallLogV1 for it, and
// produces until ctx ends or every tenant has Count records. Then it waits
// up to FlushTimeout for outstanding records, closes its Kafka clients, and
// returns. It returns nil when it stopped because ctx ended or Count was
// reached, even if records failed (Stats counts them); an error means it
// could not go on: a route, a registration (also the roll to
// FirewallLogV2), a Kafka client or an encoding failed.
func (g *Generator) Run(ctx context.Context) error {
	if !g.started.CompareAndSwap(false, true) {
		return errors.New("generator: Run called more than once")
	}
	clients, err := g.setup(ctx)
	if err != nil {
		closeClients(clients)
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	g.log.Info("generating firewall logs", "tenants", g.cfg.Tenants, "rate", g.cfg.Rate,
		"count", g.cfg.Count, "rollAfter", g.cfg.RollAfter, "seed", g.cfg.Seed)
	// Records are produced under a context of their own, so that stopping
	// the loop does not fail the records already handed to Kafka: they get
	// FlushTimeout to be delivered.
	produceCtx, cancelProduce := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelProduce()
	err = g.loop(ctx, produceCtx)
	g.flush(clients, cancelProduce)
	if err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// setup routes and registers every tenant and makes one Kafka client per
// distinct set of bootstrap servers.
func (g *Generator) setup(ctx context.Context) (map[string]*kgo.Client, error) {
	clients := map[string]*kgo.Client{}
	for _, t := range g.tenants {
		rt, err := g.cfg.Router.Route(ctx, t.name)
		if err != nil {
			return clients, fmt.Errorf("route of tenant %s: %w", t.name, err)
		}
		if len(rt.BootstrapServers) == 0 || rt.Topic == "" {
			return clients, fmt.Errorf("route of tenant %s: no bootstrap servers or no topic", t.name)
		}
		v, err := g.cfg.Registry.Register(ctx, t.name, FirewallLogV1)
		if err != nil {
			return clients, fmt.Errorf("register schema FirewallLogV1 for tenant %s: %w", t.name, err)
		}
		if err := t.setVersion(v); err != nil {
			return clients, fmt.Errorf("register schema FirewallLogV1 for tenant %s: %w", t.name, err)
		}
		key := strings.Join(slices.Sorted(slices.Values(rt.BootstrapServers)), ",")
		cl := clients[key]
		if cl == nil {
			opts := append([]kgo.Opt{
				kgo.SeedBrokers(rt.BootstrapServers...),
				kgo.ClientID("sluice-gen"),
				// Never more buffered than the slots allow, so Produce
				// does not block on the client's own limit.
				kgo.MaxBufferedRecords(g.cfg.MaxInFlight),
			}, g.cfg.KafkaOpts...)
			if cl, err = kgo.NewClient(opts...); err != nil {
				return clients, fmt.Errorf("kafka client for %s (tenant %s): %w", key, t.name, err)
			}
			clients[key] = cl
		}
		t.client, t.topic = cl, rt.Topic
	}
	return clients, nil
}

func (t *tenant) setVersion(v int) error {
	if v <= 0 {
		return fmt.Errorf("the registry answered version %d, want a positive version", v)
	}
	t.header = strconv.AppendInt(nil, int64(v), 10)
	t.version.Store(int64(v))
	return nil
}

// loop paces the tenants until ctx ends, every tenant reached Count, or a
// registration or encoding fails.
func (g *Generator) loop(ctx, produceCtx context.Context) error {
	begin := time.Now()
	anchor := begin.UnixMilli()
	if !g.cfg.Start.IsZero() {
		anchor = g.cfg.Start.UnixMilli()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		pending := false
		wait := time.Duration(math.MaxInt64)
		for _, t := range g.tenants {
			if g.done(t) {
				continue
			}
			now := time.Now()
			n := g.owed(t, now.Sub(begin))
			for range n {
				if err := g.produce(ctx, produceCtx, t, g.eventTime(t, anchor, now)); err != nil {
					return err
				}
			}
			if g.done(t) {
				continue
			}
			pending = true
			switch {
			case g.cfg.Rate == 0:
				wait = 0
			default:
				// The next record is due at (generated+skipped)/Rate.
				next := time.Duration(float64(t.generated+t.skipped) / g.cfg.Rate * float64(time.Second))
				if w := next - time.Since(begin); w <= 0 {
					wait = 0
				} else {
					wait = min(wait, max(w, minWait))
				}
			}
		}
		if !pending {
			return nil
		}
		if wait == 0 {
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
	}
	return nil
}

func (g *Generator) done(t *tenant) bool { return g.cfg.Count > 0 && t.generated >= g.cfg.Count }

// owed is how many records t should produce now: those due by elapsed on
// its rate clock, at most a second's worth (a generator that stalled
// longer skips the rest rather than bursting), at most maxBatch, and never
// beyond Count.
func (g *Generator) owed(t *tenant, elapsed time.Duration) int64 {
	left := int64(maxBatch)
	if g.cfg.Count > 0 {
		left = min(left, g.cfg.Count-t.generated)
	}
	if g.cfg.Rate == 0 {
		return left
	}
	// Record k is due at k/Rate: the first at once.
	due := int64(elapsed.Seconds()*g.cfg.Rate) + 1 - t.skipped - t.generated
	if burst := max(1, int64(g.cfg.Rate)); due > burst {
		t.skipped += due - burst
		due = burst
	}
	return max(0, min(due, left))
}

// eventTime is the event time of t's next record, in Unix milliseconds.
func (g *Generator) eventTime(t *tenant, anchor int64, now time.Time) int64 {
	reproducible := !g.cfg.Start.IsZero()
	switch {
	case g.cfg.Rate == 0 && reproducible:
		return anchor + t.generated
	case g.cfg.Rate == 0:
		return now.UnixMilli()
	}
	seq := t.generated
	if !reproducible {
		// On the wall clock a skipped stretch is a gap in time too.
		seq += t.skipped
	}
	return anchor + int64(float64(seq)*1000/g.cfg.Rate)
}

// produce hands t's next record to Kafka, rolling the schema first when it
// is time to.
func (g *Generator) produce(ctx, produceCtx context.Context, t *tenant, eventTime int64) error {
	if g.cfg.RollAfter > 0 && !t.rolled && t.generated >= g.cfg.RollAfter {
		if err := g.roll(ctx, t); err != nil {
			return err
		}
	}
	s, err := g.acquire(ctx)
	if err != nil {
		return err
	}
	t.stream.Next(&g.rec, eventTime)
	if t.rolled {
		s.value, err = g.rec.AppendV2(s.value[:0])
	} else {
		s.value, err = g.rec.AppendV1(s.value[:0])
	}
	if err != nil {
		g.free <- s
		return fmt.Errorf("encode a record of tenant %s: %w", t.name, err)
	}
	s.key = strconv.AppendInt(s.key[:0], g.rec.SessionID, 10)
	s.hdr[0] = kgo.RecordHeader{Key: wire.Header, Value: t.header}
	s.rec = kgo.Record{Topic: t.topic, Key: s.key, Value: s.value, Headers: s.hdr[:]}
	s.t = t
	t.generated++
	t.produced.Add(1)
	t.client.Produce(produceCtx, &s.rec, s.promise)
	return nil
}

func (g *Generator) roll(ctx context.Context, t *tenant) error {
	v, err := g.cfg.Registry.Register(ctx, t.name, FirewallLogV2)
	if err == nil {
		err = t.setVersion(v)
	}
	if err != nil {
		return fmt.Errorf("roll tenant %s to schema FirewallLogV2 after %d records: %w", t.name, t.generated, err)
	}
	t.rolled = true
	g.log.Info("rolled to a new schema version", "tenant", t.name, "version", v, "after", t.generated)
	return nil
}

// acquire returns a free slot, making one while fewer than MaxInFlight
// exist, else waiting for Kafka to acknowledge a record.
func (g *Generator) acquire(ctx context.Context) (*slot, error) {
	select {
	case s := <-g.free:
		return s, nil
	default:
	}
	if g.slots < g.cfg.MaxInFlight {
		g.slots++
		s := &slot{}
		s.promise = func(_ *kgo.Record, err error) { g.delivered(s, err) }
		return s, nil
	}
	select {
	case s := <-g.free:
		return s, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// delivered is every record's promise. kgo calls promises serially per
// client and they must not block: the send cannot, as free has room for
// every slot.
func (g *Generator) delivered(s *slot, err error) {
	t := s.t
	s.t = nil
	if err != nil {
		t.failed.Add(1)
		g.noteError(t, err)
	} else {
		t.sent.Add(1)
	}
	g.free <- s
}

func (g *Generator) noteError(t *tenant, err error) {
	g.errMu.Lock()
	defer g.errMu.Unlock()
	g.lastErr = "tenant " + t.name + ": " + err.Error()
	g.unlogged++
	if now := time.Now(); now.Sub(g.lastLog) >= errorLogInterval {
		g.log.Warn("records failed to produce", "count", g.unlogged, "last", g.lastErr)
		g.lastLog, g.unlogged = now, 0
	}
}

// flush waits up to FlushTimeout for outstanding records, then closes the
// clients, which fails whatever is still outstanding, and waits for every
// record's promise.
func (g *Generator) flush(clients map[string]*kgo.Client, cancelProduce context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.FlushTimeout)
	defer cancel()
	for key, cl := range clients {
		if err := cl.Flush(ctx); err != nil {
			g.log.Warn("records still outstanding at stop count as failed", "brokers", key, "timeout", g.cfg.FlushTimeout, "err", err)
			cancelProduce()
		}
	}
	closeClients(clients)
	// Close fails what was still buffered, but calls those promises on
	// goroutines of its own: wait for every slot to come back so that
	// Stats is final when Run returns. Close guarantees the promises; the
	// bound only guards against a client bug hanging Run.
	bound := time.NewTimer(g.cfg.FlushTimeout + 10*time.Second)
	defer bound.Stop()
	for range g.slots {
		select {
		case <-g.free:
		case <-bound.C:
			g.log.Error("records never reported back after the Kafka clients closed", "timeout", g.cfg.FlushTimeout+10*time.Second)
			return
		}
	}
}

func closeClients(clients map[string]*kgo.Client) {
	for _, cl := range clients {
		cl.Close()
	}
}

// TenantStats counts one tenant's records.
type TenantStats struct {
	Tenant string `json:"tenant"`
	// Produced records were handed to Kafka; each is eventually Sent or
	// Failed.
	Produced int64 `json:"produced"`
	// Sent records were acknowledged by Kafka.
	Sent   int64 `json:"sent"`
	Failed int64 `json:"failed"`
	// SchemaVersion is the version the tenant's records are written with
	// now; 0 before registration.
	SchemaVersion int `json:"schemaVersion"`
}

// Stats is a snapshot of a generator's counters.
type Stats struct {
	Tenants  []TenantStats `json:"tenants"`
	Produced int64         `json:"produced"`
	Sent     int64         `json:"sent"`
	Failed   int64         `json:"failed"`
	// LastError is the last produce failure, "" if none.
	LastError string `json:"lastError,omitempty"`
}

// Stats returns the counters so far, tenants in Config order. Once Run has
// returned they are final: Produced = Sent + Failed.
func (g *Generator) Stats() Stats {
	st := Stats{Tenants: make([]TenantStats, len(g.tenants))}
	for i, t := range g.tenants {
		// Outcomes first: a record is counted produced before it can be
		// sent or failed, so this order never shows more outcomes than
		// records.
		ts := TenantStats{Tenant: t.name, Sent: t.sent.Load(), Failed: t.failed.Load()}
		ts.Produced = t.produced.Load()
		ts.SchemaVersion = int(t.version.Load())
		st.Tenants[i] = ts
		st.Produced += ts.Produced
		st.Sent += ts.Sent
		st.Failed += ts.Failed
	}
	g.errMu.Lock()
	st.LastError = g.lastErr
	g.errMu.Unlock()
	return st
}

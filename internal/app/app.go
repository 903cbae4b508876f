// Package app assembles a Sluice process from its parts for the roles it
// plays (server, worker, or both in `sluice dev`), runs them together, and
// stops them in order.
//
// Shutdown order: the HTTP API stops taking requests and drains, the control
// loops and workers stop (a node deregisters itself), and only then are the
// shared resources closed — Kafka clients, then the store. The embedded dev
// broker is owned by the caller and closed after Run returns.
package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/api"
	"github.com/sluicehq/sluice/internal/buildinfo"
	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/fleet"
	"github.com/sluicehq/sluice/internal/job"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/schema"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/subscription"
)

// Roles a process can play.
const (
	RoleServer = "server"
	RoleWorker = "worker"
)

// Options configure a process.
type Options struct {
	Roles []string
	// HTTPAddr is where the API (server) or the probes and metrics (worker) listen.
	HTTPAddr string
	// StoreDSN selects the metadata store: sqlite:///path or postgres://...
	StoreDSN string
	// Kafka lists bootstrap servers of a Kafka cluster this process must
	// reach to be ready. Empty means none.
	Kafka []string
	// HeartbeatInterval overrides fleet.DefaultInterval.
	HeartbeatInterval time.Duration
	// ReconcileInterval and ProbeInterval pace the catalog's reconciler
	// (servers only), overriding its defaults of 1m and 15s.
	ReconcileInterval time.Duration
	ProbeInterval     time.Duration
	Logger            *slog.Logger

	// Subscriptions: what sinks may reach (sluice dev allows loopback and
	// private addresses; sluice server only when the operator says so),
	// and the limits on subscriptions (zero: the defaults).
	SinkEnv           sink.Env
	MaxSQLBytes       int
	MaxPerApplication int
}

// Process is an assembled Sluice process, ready to Run.
type Process struct {
	opts     Options
	log      *slog.Logger
	Store    *store.Store
	API      *api.Server
	Registry *prometheus.Registry
	Events   *events.Log
	Catalog  *catalog.Service
	Schemas  *schema.Registry
	// Jobs exports the metrics of the jobs this process runs (workers).
	Jobs *job.Metrics
	// Subscriptions is the subscription service.
	Subscriptions *subscription.Service
	node          fleet.Node
	kafka         *kgo.Client
}

// Open connects to the store (migrating it), builds the API and binds its
// listener. On error nothing is left open.
func Open(ctx context.Context, opts Options) (_ *Process, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	p := &Process{opts: opts, log: opts.Logger, Registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	p.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if p.Store, err = store.Open(ctx, opts.StoreDSN); err != nil {
		return nil, err
	}
	p.API = api.New(api.Config{Addr: opts.HTTPAddr, Registry: p.Registry, Logger: p.log})
	p.API.AddCheck("store", p.Store.Ping)
	if len(opts.Kafka) > 0 {
		if p.kafka, err = kgo.NewClient(kgo.SeedBrokers(opts.Kafka...)); err != nil {
			return nil, fmt.Errorf("kafka client for %v: %w", opts.Kafka, err)
		}
		p.API.AddCheck("kafka", p.kafka.Ping)
	}
	p.Events = events.NewLog(p.Store)
	p.Schemas = schema.New(p.Store, schema.Config{})
	p.Catalog = catalog.New(p.Store, p.Events, catalog.Config{Logger: p.log, Schemas: p.Schemas})
	// Workers serve only the probes and /metrics; the REST API is the servers'.
	sinkEnv := opts.SinkEnv
	sinkEnv.KafkaCluster = p.kafkaCluster
	p.Subscriptions = subscription.New(p.Store, subscription.Config{Schemas: p.Schemas, SinkEnv: sinkEnv,
		MaxSQLBytes: opts.MaxSQLBytes, MaxPerApplication: opts.MaxPerApplication})
	if p.hasRole(RoleServer) {
		p.Registry.MustRegister(catalog.NewCollector(p.Catalog))
		Register(p.API.API(), Deps{Nodes: fleet.NewRegistry(p.Store), Catalog: p.Catalog, Events: p.Events,
			Schemas: p.Schemas, Subscriptions: p.Subscriptions})
		p.API.Mount(api.ConfluentPrefix, api.NewConfluent(p.Schemas, p.Catalog, p.log))
	}
	if p.hasRole(RoleWorker) {
		p.Jobs = job.NewMetrics(p.Registry)
	}
	p.node = fleet.NewNode(buildinfo.Get().Version, opts.Roles...)
	if err = p.API.Listen(); err != nil {
		return nil, err
	}
	return p, nil
}

// Deps are what the API's operations need. Register accepts zero values so
// the OpenAPI description can be produced without running anything.
type Deps struct {
	Nodes         api.NodeLister
	Catalog       *catalog.Service
	Events        *events.Log
	Schemas       *schema.Registry
	Subscriptions *subscription.Service
}

// Register adds every API operation to a. It is the one place that lists
// them, used both by running processes and by OpenAPI generation.
func Register(a huma.API, d Deps) {
	api.RegisterNodes(a, d.Nodes)
	api.RegisterCatalog(a, d.Catalog)
	api.RegisterEvents(a, d.Events)
	api.RegisterSchemas(a, d.Schemas)
	api.RegisterSQL(a, d.Schemas)
	api.RegisterSubscriptions(a, d.Subscriptions)
}

func (p *Process) hasRole(role string) bool { return slices.Contains(p.opts.Roles, role) }

// Node is this process's identity in the fleet.
func (p *Process) Node() fleet.Node { return p.node }

// Run runs every part until ctx ends or one part fails, then stops all of them
// and closes the store and Kafka clients. It returns the first failure.
func (p *Process) Run(ctx context.Context) error {
	defer p.Close()
	var g run.Group
	add := func(name string, fn func(context.Context) error) {
		cctx, cancel := context.WithCancel(ctx)
		g.Add(func() error {
			if err := fn(cctx); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			// A part that returns on its own before shutdown stops the process.
			return cctx.Err()
		}, func(error) { cancel() })
	}
	add("http api", p.API.Run)
	hb := &fleet.Heartbeater{Registry: fleet.NewRegistry(p.Store), Node: p.node,
		Interval: p.opts.HeartbeatInterval, Logger: p.log}
	add("heartbeat", hb.Run)
	if p.hasRole(RoleServer) {
		rec := &catalog.Reconciler{Service: p.Catalog, Interval: p.opts.ReconcileInterval,
			ProbeInterval: p.opts.ProbeInterval, Logger: p.log.With("loop", "catalog")}
		add("catalog reconciler", rec.Run)
		add("event pruning", p.pruneEvents)
	}
	if p.hasRole(RoleWorker) {
		runner := subscription.NewRunner(p.Subscriptions, subscription.RunnerConfig{Node: p.node.ID, Catalog: p.Catalog,
			Jobs: job.Deps{Metrics: p.Jobs}, Events: p.Events, Logger: p.log.With("loop", "subscriptions")})
		add("subscription runner", runner.Run)
	}
	err := g.Run()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// eventRetention is how long events are kept.
const eventRetention = 30 * 24 * time.Hour

// pruneEvents deletes events older than eventRetention, hourly.
func (p *Process) pruneEvents(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := p.Events.Prune(ctx, time.Now().Add(-eventRetention)); err != nil && ctx.Err() == nil {
			p.log.Warn("pruning events failed", "err", err)
		} else if n > 0 {
			p.log.Info("pruned old events", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Close releases what Open acquired; Run calls it on return. Use it only
// when Run is not called.
func (p *Process) Close() {
	if p.Catalog != nil {
		p.Catalog.Close()
	}
	if p.kafka != nil {
		p.kafka.Close()
	}
	if p.Store != nil {
		if err := p.Store.Close(); err != nil {
			p.log.Warn("closing store", "err", err)
		}
	}
}

// OpenAPI returns the OpenAPI 3.1 description of the API in JSON, as served at
// /openapi.json.
func OpenAPI() ([]byte, error) {
	s := api.New(api.Config{Addr: "127.0.0.1:0"})
	Register(s.API(), Deps{})
	return s.API().OpenAPI().MarshalJSON()
}

// OpenAPIIndented is OpenAPI formatted for humans and diffs, as committed in
// docs/openapi.json.
func OpenAPIIndented() ([]byte, error) {
	spec, err := OpenAPI()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, spec, "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// kafkaCluster resolves the cluster a kafka sink writes to: a registered
// cluster by name, or the one holding the tenant's topic.
func (p *Process) kafkaCluster(ctx context.Context, tenant, name string) (kafkaconn.Config, error) {
	if name == "" {
		route, err := p.Catalog.Route(ctx, tenant)
		if err != nil {
			return kafkaconn.Config{}, err
		}
		name = route.Cluster
	}
	c, err := p.Catalog.Cluster(ctx, name)
	if err != nil {
		return kafkaconn.Config{}, err
	}
	return c.Connection, nil
}

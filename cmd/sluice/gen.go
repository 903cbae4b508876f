package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/buildinfo"
	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/client"
	"github.com/sluicehq/sluice/internal/gen"
)

// genProgressInterval spaces the progress lines of `sluice gen`; tests
// shorten it.
var genProgressInterval = 5 * time.Second

func newGenCmd() *cobra.Command {
	o := &clientOpts{}
	var (
		tenants     []string
		rate        float64
		count       int64
		duration    time.Duration
		threatRatio float64
		rollAfter   int64
		seed        int64
		start       string
	)
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Produce synthetic firewall logs into tenants' topics",
		Long: `Produce realistic synthetic firewall logs — traffic logs and a share of threat
logs — into each tenant's data topic, at a steady rate per tenant.

For each tenant, gen asks the API for its route, registers the record schema
sluice.demo.FirewallLog with the tenant's schema registry, and then writes
Avro records straight to Kafka, each with a sluice-schema-version header
naming the registered version. --roll-schema-after registers version 2 of the
schema (a device_id field added with a default) mid-stream and writes the
remaining records with it.

Progress goes to standard error every 5s; a summary goes to standard output at
the end. It runs until --count records per tenant, --duration, or Ctrl-C,
then waits up to 5s for outstanding records. It exits 1 if any record failed.
Fields and distributions are described in docs/generator.md.`,
		Example: `  sluice gen --count 10000
  sluice gen --tenants acme,globex --rate 500 --duration 10m
  sluice gen --tenants acme --rate 0 --count 1000000          # as fast as Kafka takes them
  sluice gen --tenants acme --count 5000 --roll-schema-after 2000 --seed 42 --start 2026-01-01T00:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := gen.Config{Rate: rate, ThreatRatio: threatRatio, RollAfter: rollAfter, Count: count, Seed: seed}
			switch {
			case math.IsNaN(rate) || rate < 0 || rate > gen.MaxRate:
				return fmt.Errorf("--rate %v: want 0 (as fast as possible) to %d records/s", rate, gen.MaxRate)
			case count < 0:
				return fmt.Errorf("--count %d: must not be negative", count)
			case duration < 0:
				return fmt.Errorf("--duration %v: must not be negative", duration)
			case math.IsNaN(threatRatio) || threatRatio < 0 || threatRatio > 1:
				return fmt.Errorf("--threat-ratio %v: want 0 to 1", threatRatio)
			case rollAfter < 0:
				return fmt.Errorf("--roll-schema-after %d: must not be negative", rollAfter)
			}
			for i, t := range tenants {
				if t == "" {
					return errors.New("--tenants: a tenant name is empty")
				}
				if slices.Contains(tenants[:i], t) {
					return fmt.Errorf("--tenants: %s is given twice", t)
				}
			}
			if start != "" {
				t, err := time.Parse(time.RFC3339Nano, start)
				if err != nil {
					return fmt.Errorf("--start %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", start)
				}
				cfg.Start = t
			}
			if !cmd.Flags().Changed("seed") {
				cfg.Seed = time.Now().UnixNano()
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			if len(tenants) == 0 {
				if tenants, err = readyTenants(ctx, c); err != nil {
					return err
				}
			}
			cfg.Tenants = tenants
			src := apiGenSource{c}
			cfg.Registry, cfg.Router = src, src
			g, err := gen.New(cfg)
			if err != nil {
				return err
			}
			return runGen(ctx, cmd, g, cfg.Seed, o.json())
		},
	}
	o.register(cmd)
	f := cmd.Flags()
	f.StringSliceVar(&tenants, "tenants", nil, "tenants to produce for, comma-separated (default: every ready tenant the API lists)")
	f.Float64Var(&rate, "rate", 100, "records per second per tenant; 0 is as fast as Kafka takes them")
	f.Int64Var(&count, "count", 0, "stop after this many records per tenant; 0 runs until --duration or Ctrl-C")
	f.DurationVar(&duration, "duration", 0, "stop after this long, such as 30s or 10m; 0 runs until --count or Ctrl-C")
	f.Float64Var(&threatRatio, "threat-ratio", gen.DefaultThreatRatio, "share of threat logs, 0 to 1; the rest are traffic logs")
	f.Int64Var(&rollAfter, "roll-schema-after", 0, "after this many records of a tenant, register schema version 2 (adds device_id) and write the rest with it; 0 never")
	f.Int64Var(&seed, "seed", 0, "seed of the record contents, for a reproducible run (default: a random seed, printed in the summary)")
	f.StringVar(&start, "start", "", "event time of each tenant's first record, RFC 3339; later ones follow 1/rate apart (1ms at --rate 0) instead of the wall clock")
	return cmd
}

// readyTenants lists the tenants whose topics exist, by name.
func readyTenants(ctx context.Context, c *client.Client) ([]string, error) {
	list, err := c.Tenants(ctx)
	if err != nil {
		return nil, apiErr("list tenants", err)
	}
	var names []string
	for _, t := range list {
		if t.State == catalog.Ready {
			names = append(names, t.Name)
		}
	}
	if len(names) == 0 {
		return nil, errors.New("no ready tenants to produce for: create one with `sluice tenant create`, or name them with --tenants")
	}
	return names, nil
}

// runGen runs g until it stops, printing progress to stderr and a summary
// to stdout. Failed records make it return an error, after the summary.
func runGen(ctx context.Context, cmd *cobra.Command, g *gen.Generator, seed int64, asJSON bool) error {
	began := time.Now()
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	tick := time.NewTicker(genProgressInterval)
	defer tick.Stop()
	var err error
	last, lastAt := int64(0), began
wait:
	for {
		select {
		case err = <-done:
			break wait
		case now := <-tick.C:
			st := g.Stats()
			printGenProgress(cmd.ErrOrStderr(), st, float64(st.Sent-last)/now.Sub(lastAt).Seconds())
			last, lastAt = st.Sent, now
		}
	}
	if err != nil {
		return apiErr("gen", err)
	}
	st := g.Stats()
	took := time.Since(began)
	if asJSON {
		if err := printJSON(cmd.OutOrStdout(), struct {
			gen.Stats
			Seconds float64 `json:"seconds"`
			Seed    int64   `json:"seed"`
		}{st, took.Seconds(), seed}); err != nil {
			return err
		}
	} else if err := printGenSummary(cmd.OutOrStdout(), st, took, seed); err != nil {
		return err
	}
	if st.Failed > 0 {
		return fmt.Errorf("%d of %d records failed; last error: %s", st.Failed, st.Produced, st.LastError)
	}
	return nil
}

// printGenProgress writes one line such as
//
//	gen: 1500 sent (300/s), 0 failed; acme 500 v1, globex 500 v2
func printGenProgress(w io.Writer, st gen.Stats, rate float64) {
	parts := make([]string, len(st.Tenants))
	for i, t := range st.Tenants {
		parts[i] = t.Tenant + " " + strconv.FormatInt(t.Sent, 10) + " v" + strconv.Itoa(t.SchemaVersion)
	}
	line := fmt.Sprintf("gen: %d sent (%.0f/s), %d failed; %s", st.Sent, rate, st.Failed, strings.Join(parts, ", "))
	if st.LastError != "" {
		line += "; last error: " + st.LastError
	}
	fmt.Fprintln(w, line)
}

func printGenSummary(w io.Writer, st gen.Stats, took time.Duration, seed int64) error {
	rows := make([][]string, len(st.Tenants))
	for i, t := range st.Tenants {
		rows[i] = []string{t.Tenant, strconv.FormatInt(t.Sent, 10), strconv.FormatInt(t.Failed, 10), strconv.Itoa(t.SchemaVersion)}
	}
	if err := printTable(w, []string{"TENANT", "SENT", "FAILED", "SCHEMA VERSION"}, rows); err != nil {
		return err
	}
	rate := 0.0
	if took > 0 {
		rate = float64(st.Sent) / took.Seconds()
	}
	_, err := fmt.Fprintf(w, "Sent %d records in %v (%.0f/s), %d failed; seed %d.\n",
		st.Sent, took.Round(100*time.Millisecond), rate, st.Failed, seed)
	return err
}

// apiGenSource lets the generator work through the REST API: routes from
// /v1/tenants/{tenant}/route, schemas registered with the tenant's schema
// registry.
type apiGenSource struct{ c *client.Client }

func (a apiGenSource) Route(ctx context.Context, tenant string) (gen.Route, error) {
	r, err := a.c.Route(ctx, tenant)
	return gen.Route{BootstrapServers: r.BootstrapServers, Topic: r.Topic}, err
}

func (a apiGenSource) Register(ctx context.Context, tenant, schema string) (int, error) {
	s, err := a.c.RegisterSchema(ctx, tenant, schema)
	return s.Version, err
}

// devGenFlushTimeout leaves `sluice dev` room within its 10s stop grace.
const devGenFlushTimeout = 3 * time.Second

// runDevGenerator produces demo traffic for tenants through the API at
// baseURL until ctx ends. A failure is logged rather than returned: demo
// traffic is not worth stopping `sluice dev` for.
func runDevGenerator(ctx context.Context, baseURL string, tenants []string, rate float64) {
	log := slog.Default().With("component", "gen")
	c, err := client.New(baseURL, client.WithUserAgent("sluice-dev/"+buildinfo.Get().Version))
	if err == nil {
		src := apiGenSource{c}
		var g *gen.Generator
		g, err = gen.New(gen.Config{Tenants: tenants, Rate: rate, ThreatRatio: gen.DefaultThreatRatio,
			Seed: time.Now().UnixNano(), Registry: src, Router: src, FlushTimeout: devGenFlushTimeout, Logger: log})
		if err == nil {
			err = g.Run(ctx)
		}
	}
	if err != nil {
		log.Error("demo traffic generator stopped", "err", err)
	}
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/app"
	"github.com/sluicehq/sluice/internal/devbroker"
	"github.com/sluicehq/sluice/internal/gen"
	"github.com/sluicehq/sluice/internal/sink"
)

func newDevCmd() *cobra.Command {
	var (
		dataDir     string
		kafkaListen string
		kafka       string
		httpAddr    string
		storeDSN    string
		genRate     float64
		loops       loopFlags
		subs        subscriptionFlags
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run all of Sluice in one process on embedded defaults",
		Long: `Run all of Sluice in one process: an embedded Kafka-protocol broker, a SQLite
metadata store, the HTTP API and every other part, with nothing to install.

The embedded broker (franz-go's kfake) persists topics, records and consumer
offsets under --data-dir, so a restart keeps them. Use --kafka to run against
an existing Kafka cluster instead.

The demo tenants (acme, globex, initech) get synthetic firewall logs at
--gen-rate records/s each, produced as ` + "`sluice gen`" + ` would (docs/generator.md).

SIGINT or SIGTERM drains and exits within 10 seconds.`,
		Example: `  sluice dev
  sluice dev --data-dir /tmp/sluice --http 127.0.0.1:9090
  sluice dev --kafka 127.0.0.1:29092`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := subs.validate(); err != nil {
				return err
			}
			if err := loops.validate(); err != nil {
				return err
			}
			if math.IsNaN(genRate) || genRate < 0 || genRate > gen.MaxRate {
				return fmt.Errorf("--gen-rate %v: want 0 (off) to %d records/s", genRate, gen.MaxRate)
			}
			ctx, stop := signalContext()
			defer stop()
			if err := os.MkdirAll(dataDir, 0o755); err != nil {
				return fmt.Errorf("data dir: %w", err)
			}
			if storeDSN == "" {
				abs, err := filepath.Abs(filepath.Join(dataDir, "sluice.db"))
				if err != nil {
					return fmt.Errorf("data dir: %w", err)
				}
				storeDSN = "sqlite://" + abs
			}

			brokerDesc := kafka + " (external)"
			if kafka == "" {
				b, err := devbroker.Start(devbroker.Config{Listen: kafkaListen, DataDir: filepath.Join(dataDir, "kafka")})
				if err != nil {
					return err
				}
				// Closed after the process has stopped using it.
				defer b.Close()
				kafka = b.Addr()
				brokerDesc = kafka + " (embedded)"
			}

			p, err := app.Open(ctx, app.Options{
				Roles:    []string{app.RoleServer, app.RoleWorker},
				HTTPAddr: httpAddr,
				StoreDSN: storeDSN,
				Kafka:    strings.Split(kafka, ","),

				ReconcileInterval: loops.reconcile,
				ProbeInterval:     loops.probe,
				// A development convenience: sinks may reach this machine.
				SinkEnv:           sink.Env{AllowPrivate: true},
				MaxSQLBytes:       subs.maxSQLBytes,
				MaxPerApplication: subs.maxPerApp,
			})
			if err != nil {
				return err
			}
			if err := p.SeedDev(ctx, strings.Split(kafka, ",")); err != nil {
				p.Close()
				return err
			}
			base := "http://" + p.API.Addr()
			genDesc := "off (--gen-rate 0)"
			demoOut, err := filepath.Abs(filepath.Join(dataDir, "demo", app.DemoTenant+"-alerts.ndjson"))
			if err != nil {
				p.Close()
				return err
			}
			demoDesc := "off (it reads the generator's records; --gen-rate 0)"
			if genRate > 0 {
				genDesc = fmt.Sprintf("%g firewall logs/s into each demo tenant (--gen-rate)", genRate)
				demoDesc = fmt.Sprintf("%s\n             → %s (tail -f it)", app.DemoSQL, demoOut)
				if err := os.MkdirAll(filepath.Dir(demoOut), 0o755); err != nil {
					p.Close()
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), `Sluice dev is running.
  API        %[1]s/v1
  OpenAPI    %[1]s/openapi.json   (docs: %[1]s/docs)
  health     %[1]s/healthz   %[1]s/readyz
  metrics    %[1]s/metrics
  Kafka      %[2]s, cluster "local" with tenants %[5]s
  generator  %[6]s
  demo job   %[7]s
  store      %[3]s
  data dir   %[4]s
Press Ctrl-C to stop.
`, base, brokerDesc, p.Store, dataDir, strings.Join(app.DevTenants, ", "), genDesc, demoDesc)
			// The generator goes through the API like any producer; its
			// first requests wait in the listen backlog until Run serves.
			genCtx, stopGen := context.WithCancel(ctx)
			genDone := make(chan struct{})
			go func() {
				defer close(genDone)
				if genRate > 0 {
					runDevGenerator(genCtx, base, app.DevTenants, genRate)
				}
			}()
			demoDone := make(chan struct{})
			go func() {
				defer close(demoDone)
				if genRate > 0 {
					runDemoJob(genCtx, p, demoOut)
				}
			}()
			err = p.Run(ctx)
			// The demo job and the generator stop before the deferred close
			// of the embedded broker they use.
			stopGen()
			<-demoDone
			<-genDone
			if err != nil {
				return err
			}
			slog.Info("stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "./.sluice", "directory for the embedded broker's data and the SQLite store")
	f.StringVar(&kafkaListen, "kafka-listen", "127.0.0.1:9092", "address of the embedded Kafka broker")
	f.StringVar(&kafka, "kafka", "", "bootstrap servers (host:port,...) of an existing Kafka cluster to use instead of the embedded broker")
	f.StringVar(&httpAddr, "http", "127.0.0.1:8080", "address of the HTTP API")
	f.StringVar(&storeDSN, "store", "", "metadata store (default sqlite://<data-dir>/sluice.db); also postgres://user:pass@host/db")
	f.Float64Var(&genRate, "gen-rate", 5, "records per second of synthetic firewall logs into each demo tenant; 0 turns the generator off")
	loops.add(f)
	subs.addLimits(f)
	return cmd
}

// runDemoJob runs the demo job until ctx ends, then stops it at a
// checkpoint, so a restart of sluice dev goes on where it stopped.
func runDemoJob(ctx context.Context, p *app.Process, out string) {
	// The job outlives ctx by its stop at a checkpoint.
	runCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	task, err := p.StartDemoJob(ctx, runCtx, out)
	if err != nil {
		if ctx.Err() == nil {
			slog.Error("demo job did not start", "err", err)
		}
		return
	}
	select {
	case <-ctx.Done():
	case <-task.Done():
		slog.Error("demo job stopped", "err", task.Err())
		return
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := task.Stop(stopCtx); err != nil {
		slog.Warn("demo job: stop at a checkpoint", "err", err)
	}
}

package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/app"
)

func newWorkerCmd() *cobra.Command {
	var httpAddr, storeDSN string
	var subs subscriptionFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker process that joins the fleet to run streaming jobs",
		Long: `Run a Sluice worker. A worker registers itself in the shared store (see
GET /v1/nodes on a server) and keeps a heartbeat there while it runs; it
serves only /healthz, /readyz and /metrics on --http.

Run as many workers as the load needs, each with the same --store as the
servers.`,
		Example: `  sluice worker --store postgres://sluice:secret@db:5432/sluice --http 0.0.0.0:8081`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if storeDSN == "" {
				return errors.New("--store is required: the same store as the servers")
			}
			ctx, stop := signalContext()
			defer stop()
			p, err := app.Open(ctx, app.Options{Roles: []string{app.RoleWorker}, HTTPAddr: httpAddr, StoreDSN: storeDSN,
				SinkEnv: subs.sinkEnv()})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Sluice worker %s: probes and metrics on http://%s, store %s\n", p.Node().ID, p.API.Addr(), p.Store)
			return p.Run(ctx)
		},
	}
	cmd.Flags().StringVar(&httpAddr, "http", "127.0.0.1:8081", "address for /healthz, /readyz and /metrics")
	cmd.Flags().StringVar(&storeDSN, "store", "", "metadata store shared with the servers (required)")
	subs.addSinks(cmd.Flags())
	return cmd
}

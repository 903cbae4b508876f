package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/app"
)

func newServerCmd() *cobra.Command {
	var httpAddr, storeDSN string
	var loops loopFlags
	var subs subscriptionFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the API and control loops against real Kafka clusters and a shared store",
		Long: `Run the Sluice control plane: the HTTP API and the control loops. Run one or
more servers against one shared PostgreSQL store; workers run the jobs.

Kafka clusters are registered through the API, not given as flags.`,
		Example: `  sluice server --store postgres://sluice:secret@db:5432/sluice --http 0.0.0.0:8080`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if storeDSN == "" {
				return errors.New("--store is required (postgres://... in production, or sqlite:///path/sluice.db)")
			}
			if err := loops.validate(); err != nil {
				return err
			}
			if err := subs.validate(); err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			p, err := app.Open(ctx, app.Options{Roles: []string{app.RoleServer}, HTTPAddr: httpAddr, StoreDSN: storeDSN,
				ReconcileInterval: loops.reconcile, ProbeInterval: loops.probe,
				SinkEnv: subs.sinkEnv(), MaxSQLBytes: subs.maxSQLBytes, MaxPerApplication: subs.maxPerApp})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Sluice server: API on http://%s, store %s\n", p.API.Addr(), p.Store)
			return p.Run(ctx)
		},
	}
	cmd.Flags().StringVar(&httpAddr, "http", "127.0.0.1:8080", "address of the HTTP API")
	cmd.Flags().StringVar(&storeDSN, "store", "", "metadata store: postgres://user:pass@host:5432/db or sqlite:///path/sluice.db (required)")
	loops.add(cmd.Flags())
	subs.addLimits(cmd.Flags())
	subs.addSinks(cmd.Flags())
	return cmd
}

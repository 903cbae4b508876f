package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/client"
)

func newOperationsCmd() *cobra.Command {
	o := &clientOpts{}
	var (
		state  string
		tenant string
		limit  int
	)
	cmd := &cobra.Command{
		Use:     "operations",
		Aliases: []string{"ops"},
		Short:   "List the Kafka operations the catalog recorded",
		Long: `List Kafka operations (topic create, set partitions, set configs, delete),
newest first. Each is recorded before it is applied; a pending one is being
applied or will be finished by the reconciler, a failed one says why.`,
		Example: "  sluice operations\n  sluice operations --state pending\n  sluice operations --tenant acme -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := client.OperationFilter{State: catalog.OpState(state), Tenant: tenant, Limit: limit}
			switch f.State {
			case "", catalog.OpPending, catalog.OpDone, catalog.OpFailed:
			default:
				return fmt.Errorf("--state %q: want pending, done or failed", state)
			}
			if limit < 1 || limit > maxPage {
				return fmt.Errorf("--limit %d: want 1 to %d", limit, maxPage)
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.Operations(cmd.Context(), f)
			if err != nil {
				return apiErr("list operations", err)
			}
			if o.json() {
				return printJSON(cmd.OutOrStdout(), struct {
					Operations []client.Operation `json:"operations"`
				}{orEmpty(list)})
			}
			rows := make([][]string, len(list))
			for i, op := range list {
				rows[i] = []string{shortID(op.ID), string(op.Kind), op.Cluster, op.Topic, opParams(op.Params),
					string(op.State), strconv.Itoa(op.Attempts), ago(op.CreatedAt), op.Error}
			}
			return printTable(cmd.OutOrStdout(),
				[]string{"ID", "KIND", "CLUSTER", "TOPIC", "PARAMS", "STATE", "ATTEMPTS", "CREATED", "ERROR"}, rows)
		},
	}
	o.register(cmd)
	f := cmd.Flags()
	f.StringVar(&state, "state", "", "only operations in this state: pending, done or failed")
	f.StringVar(&tenant, "tenant", "", "only this tenant's operations")
	f.IntVar(&limit, "limit", 100, "most operations to list, newest first (at most 1000)")
	return cmd
}

// shortID is enough of a UUID to tell operations apart on screen; -o json
// has the whole id.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func opParams(p catalog.OpParams) string {
	var parts []string
	if p.Partitions > 0 {
		parts = append(parts, "partitions="+strconv.Itoa(int(p.Partitions)))
	}
	if p.ReplicationFactor > 0 {
		parts = append(parts, "rf="+strconv.Itoa(int(p.ReplicationFactor)))
	}
	return strings.Join(append(parts, sortedPairs(p.Configs)...), " ")
}

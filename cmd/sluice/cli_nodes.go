package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/client"
)

func newNodesCmd() *cobra.Command {
	o := &clientOpts{}
	cmd := &cobra.Command{
		Use:   "nodes",
		Short: "List the running Sluice processes",
		Long: `List every server and worker process that has registered, with its version,
roles and last heartbeat. A process that died stays listed, not alive, for a
day.`,
		Example: "  sluice nodes\n  sluice nodes -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.Nodes(cmd.Context())
			if err != nil {
				return apiErr("list nodes", err)
			}
			if o.json() {
				return printJSON(cmd.OutOrStdout(), struct {
					Nodes []client.Node `json:"nodes"`
				}{orEmpty(list)})
			}
			rows := make([][]string, len(list))
			for i, n := range list {
				alive := "yes"
				if !n.Alive {
					alive = "no"
				}
				rows[i] = []string{shortID(n.ID), n.Hostname, n.Version, strings.Join(n.Roles, ","), alive,
					ago(n.StartedAt), ago(n.HeartbeatAt)}
			}
			return printTable(cmd.OutOrStdout(), []string{"ID", "HOSTNAME", "VERSION", "ROLES", "ALIVE", "STARTED", "HEARTBEAT"}, rows)
		},
	}
	o.register(cmd)
	return cmd
}

package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/client"
)

func newTopicCmd() *cobra.Command {
	o := &clientOpts{}
	cmd := &cobra.Command{
		Use:     "topic",
		Aliases: []string{"topics"},
		Short:   "Inspect tenant topics, add partitions, set configs",
		Long: `Inspect the tenant data topics Sluice recorded, add partitions to them and set
their configs. Every change goes through the catalog, which records it as an
operation (see "sluice operations") and then watches the topic for drift.`,
		// Runnable, so that a mistyped subcommand is an error rather than help.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	o.register(cmd)
	cmd.AddCommand(newTopicListCmd(o), newTopicGetCmd(o), newTopicSetPartitionsCmd(o), newTopicSetConfigCmd(o))
	return cmd
}

func newTopicListCmd(o *clientOpts) *cobra.Command {
	var f client.TopicFilter
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List tenant topics",
		Example: "  sluice topic list\n  sluice topic list --cluster eu1\n  sluice topic list --tenant acme -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.Topics(cmd.Context(), f)
			if err != nil {
				return apiErr("list topics", err)
			}
			if o.json() {
				return printJSON(cmd.OutOrStdout(), struct {
					Topics []client.Topic `json:"topics"`
				}{orEmpty(list)})
			}
			return printTopicTable(cmd, list)
		},
	}
	cmd.Flags().StringVar(&f.Cluster, "cluster", "", "only topics on this cluster")
	cmd.Flags().StringVar(&f.Tenant, "tenant", "", "only this tenant's topics")
	return cmd
}

func newTopicGetCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use:     "get CLUSTER TOPIC",
		Short:   "Show a tenant topic and the configs Sluice watches",
		Example: "  sluice topic get eu1 sluice.tenant.acme.1",
		Args:    exactArgs("CLUSTER", "TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			t, err := c.Topic(cmd.Context(), args[0], args[1])
			if err != nil {
				return apiErr("get topic "+args[1]+" on cluster "+args[0], err)
			}
			if o.json() {
				return printJSON(cmd.OutOrStdout(), t)
			}
			return printFields(cmd.OutOrStdout(), []field{
				{"Cluster", t.Cluster},
				{"Topic", t.Name},
				{"Tenant", t.Tenant},
				{"State", string(t.State)},
				{"Partitions", strconv.Itoa(int(t.Partitions))},
				{"Replication factor", strconv.Itoa(int(t.ReplicationFactor))},
				{"Configs", strings.Join(sortedPairs(t.Configs), "\n")},
				{"Created", stamp(t.CreatedAt)},
				{"Updated", stamp(t.UpdatedAt)},
			})
		},
	}
}

func newTopicSetPartitionsCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "set-partitions CLUSTER TOPIC N",
		Short: "Raise a topic's partition count to N",
		Long: `Raise a topic's partition count to N, the new total. Kafka cannot remove
partitions, so a smaller N is refused: a topic shrinks by migrating its
tenant to a new topic with fewer partitions.`,
		Example: "  sluice topic set-partitions eu1 sluice.tenant.acme.1 12",
		Args:    exactArgs("CLUSTER", "TOPIC", "N"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.ParseInt(args[2], 10, 32)
			if err != nil || n < 1 {
				return fmt.Errorf("partition count %q: want a whole number of at least 1", args[2])
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			t, err := c.UpdateTopic(cmd.Context(), args[0], args[1], client.TopicUpdate{Partitions: int32(n)})
			if err != nil {
				return apiErr("set partitions of "+args[1], err)
			}
			return printTopic(cmd, o, t)
		},
	}
}

func newTopicSetConfigCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "set-config CLUSTER TOPIC KEY=VALUE [KEY=VALUE...]",
		Short: "Set topic-level configs on a tenant topic",
		Long: `Set topic-level configs on a tenant topic. Sluice records them and reports
drift when they are changed behind its back. Configs not named are left as
they are.`,
		Example: "  sluice topic set-config eu1 sluice.tenant.acme.1 retention.ms=259200000 max.message.bytes=2097152",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 3 {
				return fmt.Errorf("%s takes CLUSTER TOPIC and at least one KEY=VALUE; see --help", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			configs, err := parseKeyValues("config", args[2:])
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			t, err := c.UpdateTopic(cmd.Context(), args[0], args[1], client.TopicUpdate{Configs: configs})
			if err != nil {
				return apiErr("set configs of "+args[1], err)
			}
			return printTopic(cmd, o, t)
		},
	}
}

func printTopic(cmd *cobra.Command, o *clientOpts, t client.Topic) error {
	if o.json() {
		return printJSON(cmd.OutOrStdout(), t)
	}
	return printTopicTable(cmd, []client.Topic{t})
}

func printTopicTable(cmd *cobra.Command, list []client.Topic) error {
	rows := make([][]string, len(list))
	for i, t := range list {
		rows[i] = []string{t.Cluster, t.Name, t.Tenant, string(t.State), strconv.Itoa(int(t.Partitions)),
			strconv.Itoa(int(t.ReplicationFactor))}
	}
	return printTable(cmd.OutOrStdout(), []string{"CLUSTER", "TOPIC", "TENANT", "STATE", "PARTITIONS", "RF"}, rows)
}

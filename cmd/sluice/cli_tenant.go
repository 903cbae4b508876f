package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/client"
)

func newTenantCmd() *cobra.Command {
	o := &clientOpts{}
	cmd := &cobra.Command{
		Use:     "tenant",
		Aliases: []string{"tenants"},
		Short:   "Create, inspect and delete tenants and their data topics",
		Long: `Create, inspect and delete tenants. Each tenant's events land in a data topic of
its own, sluice.tenant.<name>.<generation>, on a cluster of its region that
placement chooses; producers find it through the tenant's route.`,
		// Runnable, so that a mistyped subcommand is an error rather than help.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	o.register(cmd)
	cmd.AddCommand(newTenantCreateCmd(o), newTenantListCmd(o), newTenantGetCmd(o), newTenantDeleteCmd(o), newTenantRouteCmd(o), newTenantMoveCmd(o))
	return cmd
}

func newTenantCreateCmd(o *clientOpts) *cobra.Command {
	var (
		region      string
		partitions  int32
		replication int16
		retention   string
		configs     []string
		cluster     string
	)
	cmd := &cobra.Command{
		Use:   "create NAME --region REGION",
		Short: "Create a tenant and its data topic",
		Long: `Create a tenant and its data topic. Placement chooses an active, reachable
cluster of the region with headroom (the least loaded one) unless --cluster
pins one. The server answers 409 with each cluster's reason when none can
take the tenant.`,
		Example: `  sluice tenant create acme --region eu-west
  sluice tenant create globex --region eu-west --partitions 12 --retention 72h \
      --config cleanup.policy=delete --config max.message.bytes=2097152 --cluster eu1`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := client.TenantRequest{Name: args[0], Region: region, Partitions: partitions,
				ReplicationFactor: replication, Cluster: cluster}
			if cmd.Flags().Changed("partitions") && partitions < 1 {
				return fmt.Errorf("--partitions %d: must be at least 1", partitions)
			}
			if cmd.Flags().Changed("replication-factor") && replication < 1 {
				return fmt.Errorf("--replication-factor %d: must be at least 1", replication)
			}
			if retention != "" {
				d, err := parseDuration(retention)
				if err != nil {
					return fmt.Errorf("--retention: %w", err)
				}
				if d < time.Millisecond {
					return fmt.Errorf("--retention %s: must be at least 1ms", retention)
				}
				req.RetentionMs = d.Milliseconds()
			}
			if len(configs) > 0 {
				m, err := parseKeyValues("--config", configs)
				if err != nil {
					return err
				}
				req.Configs = m
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			t, err := c.CreateTenant(cmd.Context(), req)
			if err != nil {
				return apiErr("create tenant "+args[0], err)
			}
			if o.json() {
				return printJSON(cmd.OutOrStdout(), t)
			}
			return printTenantTable(cmd, []client.Tenant{t})
		},
	}
	f := cmd.Flags()
	f.StringVar(&region, "region", "", "region whose clusters may hold the data topic")
	f.Int32Var(&partitions, "partitions", 0, "partitions of the data topic (server default: 6)")
	f.Int16Var(&replication, "replication-factor", 0, "replicas of each partition (server default: 3, or the cluster's broker count if smaller)")
	f.StringVar(&retention, "retention", "", "how long records are kept, e.g. 72h or 7d (server default: 7d)")
	f.StringArrayVar(&configs, "config", nil, "further topic config as key=value; repeat for several")
	f.StringVar(&cluster, "cluster", "", "put the data topic on this cluster instead of letting placement choose")
	_ = cmd.MarkFlagRequired("region")
	return cmd
}

func newTenantListCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List tenants",
		Example: "  sluice tenant list\n  sluice tenant list -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.Tenants(cmd.Context())
			if err != nil {
				return apiErr("list tenants", err)
			}
			if o.json() {
				return printJSON(cmd.OutOrStdout(), struct {
					Tenants []client.Tenant `json:"tenants"`
				}{orEmpty(list)})
			}
			return printTenantTable(cmd, list)
		},
	}
}

func newTenantGetCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use:     "get NAME",
		Short:   "Show a tenant",
		Example: "  sluice tenant get acme\n  sluice tenant get acme -o json",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			t, err := c.Tenant(cmd.Context(), args[0])
			if err != nil {
				return apiErr("get tenant "+args[0], err)
			}
			if o.json() {
				return printJSON(cmd.OutOrStdout(), t)
			}
			return printFields(cmd.OutOrStdout(), []field{
				{"Name", t.Name},
				{"Region", t.Region},
				{"State", string(t.State)},
				{"Cluster", t.Cluster},
				{"Topic", t.Topic},
				{"Route version", strconv.FormatInt(t.RouteVersion, 10)},
				{"Created", stamp(t.CreatedAt)},
				{"Updated", stamp(t.UpdatedAt)},
			})
		},
	}
}

func newTenantMoveCmd(o *clientOpts) *cobra.Command {
	var cluster, topic string
	cmd := &cobra.Command{
		Use:   "move NAME --cluster CLUSTER --topic TOPIC",
		Short: "Make an existing topic (a copy on another cluster, say) the tenant's data topic",
		Long: `Make an existing topic on a registered cluster the tenant's data topic. The
catalog does not copy records: create the topic (or mirror the tenant's topic
there) first. The route changes, so producers move to it; every job of the
tenant reads its old topic to the end (no record written there for 3
seconds), then the new one from its start, as a new epoch.`,
		Example: "  sluice tenant move acme --cluster eu2 --topic sluice.tenant.acme.1",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			t, err := c.MoveTenant(cmd.Context(), args[0], cluster, topic)
			if err != nil {
				return apiErr("move tenant "+args[0], err)
			}
			if o.json() {
				return printJSON(cmd.OutOrStdout(), t)
			}
			return printTenantTable(cmd, []client.Tenant{t})
		},
	}
	f := cmd.Flags()
	f.StringVar(&cluster, "cluster", "", "the registered cluster holding the topic")
	f.StringVar(&topic, "topic", "", "the topic, which must exist")
	_ = cmd.MarkFlagRequired("cluster")
	_ = cmd.MarkFlagRequired("topic")
	return cmd
}

func newTenantDeleteCmd(o *clientOpts) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:     "delete NAME --yes",
		Aliases: []string{"rm"},
		Short:   "Delete a tenant, its data topic and every record in it",
		Long: `Delete a tenant: its data topic is deleted from Kafka with every record in it,
then the tenant. This cannot be undone, so --yes is required.`,
		Example: "  sluice tenant delete acme --yes",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			name := args[0]
			if !yes {
				// Name what would go, so the refusal is worth reading; a
				// missing tenant is reported as such.
				t, err := c.Tenant(cmd.Context(), name)
				if err != nil {
					return apiErr("delete tenant "+name, err)
				}
				return fmt.Errorf("deleting tenant %q deletes topic %s on cluster %s with every record in it; "+
					"add --yes to do so", name, t.Topic, t.Cluster)
			}
			if err := c.DeleteTenant(cmd.Context(), name); err != nil {
				return apiErr("delete tenant "+name, err)
			}
			if !o.json() {
				fmt.Fprintf(cmd.OutOrStdout(), "tenant %q deleted\n", name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm that the tenant's data is to be deleted")
	return cmd
}

func newTenantRouteCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "route NAME",
		Short: "Show where producers write a tenant's records",
		Long: `Show the bootstrap servers and topic producers write the tenant's records to.
The route version changes whenever either does; producers cache the route and
fetch it again when it changes or writes fail.`,
		Example: "  sluice tenant route acme\n  sluice tenant route acme -o json",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			r, err := c.Route(cmd.Context(), args[0])
			if err != nil {
				return apiErr("route of tenant "+args[0], err)
			}
			if o.json() {
				return printJSON(cmd.OutOrStdout(), r)
			}
			return printFields(cmd.OutOrStdout(), []field{
				{"Tenant", r.Tenant},
				{"Cluster", r.Cluster},
				{"Bootstrap", strings.Join(r.BootstrapServers, ",")},
				{"Topic", r.Topic},
				{"Version", strconv.FormatInt(r.Version, 10)},
				{"Schema version", schemaVersionText(r.SchemaVersion)},
			})
		},
	}
}

func printTenantTable(cmd *cobra.Command, list []client.Tenant) error {
	rows := make([][]string, len(list))
	for i, t := range list {
		rows[i] = []string{t.Name, t.Region, string(t.State), t.Cluster, t.Topic, strconv.FormatInt(t.RouteVersion, 10)}
	}
	return printTable(cmd.OutOrStdout(), []string{"NAME", "REGION", "STATE", "CLUSTER", "TOPIC", "ROUTE"}, rows)
}

// schemaVersionText shows a route's schema version, or that none is registered.
func schemaVersionText(v int) string {
	if v == 0 {
		return "none registered"
	}
	return strconv.Itoa(v)
}

package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/client"
)

// saslPasswordEnv passes a SASL password without putting it on a command
// line, where other users could read it from the process list.
const saslPasswordEnv = "SLUICE_SASL_PASSWORD"

func newClusterCmd() *cobra.Command {
	o := &clientOpts{}
	cmd := &cobra.Command{
		Use:     "cluster",
		Aliases: []string{"clusters"},
		Short:   "Register, inspect and change Kafka clusters",
		Long: `Register, inspect and change the Kafka clusters tenants' topics are placed on.

Connection secrets (the TLS client key, the SASL password) are sent once and
never shown again: "cluster get" only says whether they are set.`,
		// Runnable, so that a mistyped subcommand is an error rather than help.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	o.register(cmd)
	cmd.AddCommand(newClusterAddCmd(o), newClusterListCmd(o), newClusterGetCmd(o), newClusterUpdateCmd(o),
		newClusterStateCmd(o, "drain", catalog.Draining), newClusterStateCmd(o, "activate", catalog.Active),
		newClusterRemoveCmd(o))
	return cmd
}

// clusterFlags are the settings of cluster add and cluster update.
type clusterFlags struct {
	region            string
	bootstrap         []string
	tls               bool
	tlsCAFile         string
	tlsCertFile       string
	tlsKeyFile        string
	tlsServerName     string
	tlsInsecure       bool
	saslMechanism     string
	saslUsername      string
	saslPasswordFile  string
	maxPartitions     int
	maxBytesPerSecond int64
	state             string
}

var (
	tlsFlags    = []string{"tls", "tls-ca-file", "tls-cert-file", "tls-key-file", "tls-server-name", "tls-insecure-skip-verify"}
	saslFlags   = []string{"sasl-mechanism", "sasl-username", "sasl-password-file"}
	limitsFlags = []string{"max-partitions", "max-bytes-per-second"}
)

func (cf *clusterFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&cf.region, "region", "", "region of the cluster; tenants are placed on clusters of their region")
	f.StringSliceVar(&cf.bootstrap, "bootstrap", nil, "bootstrap servers, host:port[,host:port...]; one must answer")
	f.BoolVar(&cf.tls, "tls", false, "connect with TLS (implied by the other --tls-* flags)")
	f.StringVar(&cf.tlsCAFile, "tls-ca-file", "", "PEM file of the CAs that sign the brokers' certificates (default: system roots)")
	f.StringVar(&cf.tlsCertFile, "tls-cert-file", "", "PEM client certificate file, for brokers that require one (with --tls-key-file)")
	f.StringVar(&cf.tlsKeyFile, "tls-key-file", "", "PEM client key file of --tls-cert-file; stored as a secret")
	f.StringVar(&cf.tlsServerName, "tls-server-name", "", "name to check broker certificates against instead of each address's host")
	f.BoolVar(&cf.tlsInsecure, "tls-insecure-skip-verify", false, "accept any broker certificate (tests only: no protection against a man in the middle)")
	f.StringVar(&cf.saslMechanism, "sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	f.StringVar(&cf.saslUsername, "sasl-username", "", "SASL user name")
	f.StringVar(&cf.saslPasswordFile, "sasl-password-file", "",
		"file holding the SASL password ('-' reads standard input); without it $"+saslPasswordEnv+" is used")
	f.IntVar(&cf.maxPartitions, "max-partitions", 0, "most partitions placement may fill the cluster to (0: no limit)")
	f.Int64Var(&cf.maxBytesPerSecond, "max-bytes-per-second", 0, "write rate at which placement stops choosing the cluster (0: no limit)")
	f.StringVar(&cf.state, "state", "", "active (takes new tenants) or draining (keeps its tenants, takes no new ones)")
}

func anyChanged(cmd *cobra.Command, names ...string) bool {
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

func checkState(s string) error {
	if s != string(catalog.Active) && s != string(catalog.Draining) {
		return fmt.Errorf("--state %q: want active or draining", s)
	}
	return nil
}

// tlsSettings builds the TLS settings to send from the flags given, on top of
// cur (the stored settings, for update). It returns nil when there is nothing
// to send. The client key is only read from a file: an empty key makes the
// server keep the stored one.
func (cf *clusterFlags) tlsSettings(cmd *cobra.Command, cur *client.Cluster) (*client.TLS, error) {
	if !anyChanged(cmd, tlsFlags...) {
		return nil, nil
	}
	others := anyChanged(cmd, tlsFlags[1:]...)
	if cmd.Flags().Changed("tls") && !cf.tls {
		if others {
			return nil, fmt.Errorf("--tls=false turns TLS off: it cannot be combined with other --tls-* flags")
		}
		if cur == nil || cur.TLS == nil || !cur.TLS.Enabled {
			// Already plaintext: sending {enabled:false} would still count
			// as a connection change and bump every tenant's route.
			return nil, nil
		}
		return &client.TLS{Enabled: false}, nil
	}
	t := &client.TLS{Enabled: true}
	if cur != nil && cur.TLS != nil && cur.TLS.Enabled {
		t.CACert, t.ClientCert, t.ServerName, t.InsecureSkipVerify =
			cur.TLS.CACert, cur.TLS.ClientCert, cur.TLS.ServerName, cur.TLS.InsecureSkipVerify
	}
	if cur == nil && cmd.Flags().Changed("tls-cert-file") != cmd.Flags().Changed("tls-key-file") {
		return nil, fmt.Errorf("--tls-cert-file and --tls-key-file go together")
	}
	read := func(flag, name string) (string, error) {
		b, err := os.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("--%s: %w", flag, err)
		}
		return string(b), nil
	}
	var err error
	if cmd.Flags().Changed("tls-ca-file") {
		if t.CACert, err = read("tls-ca-file", cf.tlsCAFile); err != nil {
			return nil, err
		}
	}
	if cmd.Flags().Changed("tls-cert-file") {
		if t.ClientCert, err = read("tls-cert-file", cf.tlsCertFile); err != nil {
			return nil, err
		}
	}
	if cmd.Flags().Changed("tls-key-file") {
		if t.ClientKey, err = read("tls-key-file", cf.tlsKeyFile); err != nil {
			return nil, err
		}
	}
	if cmd.Flags().Changed("tls-server-name") {
		t.ServerName = cf.tlsServerName
	}
	if cmd.Flags().Changed("tls-insecure-skip-verify") {
		t.InsecureSkipVerify = cf.tlsInsecure
	}
	return t, nil
}

// saslSettings builds the SASL settings to send, on top of cur for update,
// or nil when no --sasl-* flag is given. $SLUICE_SASL_PASSWORD is only read
// together with a --sasl-* flag, so a password exported for one cluster is
// never sent to another by an unrelated update.
func (cf *clusterFlags) saslSettings(cmd *cobra.Command, cur *client.Cluster) (*client.SASL, error) {
	if !anyChanged(cmd, saslFlags...) {
		return nil, nil
	}
	s := &client.SASL{}
	storedPassword := false
	if cur != nil && cur.SASL != nil {
		s.Mechanism, s.Username, storedPassword = cur.SASL.Mechanism, cur.SASL.Username, cur.SASL.PasswordSet
	}
	if cmd.Flags().Changed("sasl-mechanism") {
		s.Mechanism = strings.ToUpper(cf.saslMechanism)
	}
	if cmd.Flags().Changed("sasl-username") {
		s.Username = cf.saslUsername
	}
	if cmd.Flags().Changed("sasl-password-file") {
		pw, err := readSecretFile(cmd, "sasl-password-file", cf.saslPasswordFile)
		if err != nil {
			return nil, err
		}
		s.Password = pw
	} else if pw, ok := os.LookupEnv(saslPasswordEnv); ok && pw != "" {
		s.Password = pw
	}
	switch {
	case s.Mechanism == "":
		return nil, fmt.Errorf("SASL needs --sasl-mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	case s.Username == "":
		return nil, fmt.Errorf("SASL needs --sasl-username")
	case s.Password == "" && !storedPassword:
		return nil, fmt.Errorf("SASL needs a password: --sasl-password-file FILE ('-' for standard input) or $%s", saslPasswordEnv)
	}
	return s, nil
}

func newClusterAddCmd(o *clientOpts) *cobra.Command {
	cf := &clusterFlags{}
	cmd := &cobra.Command{
		Use:   "add NAME --region REGION --bootstrap HOST:PORT[,...]",
		Short: "Register a Kafka cluster",
		Long: `Register a Kafka cluster. The server checks that a broker answers before it
records the cluster; tenants of the cluster's region can then be placed on it.

Secrets never go on the command line: the TLS client key is read from
--tls-key-file and the SASL password from --sasl-password-file or the
environment variable ` + saslPasswordEnv + `.`,
		Example: `  sluice cluster add eu1 --region eu-west --bootstrap kafka-1:9092,kafka-2:9092
  SLUICE_SASL_PASSWORD=s3cret sluice cluster add eu2 --region eu-west \
      --bootstrap kafka.example.com:9093 --tls-ca-file ca.pem \
      --sasl-mechanism SCRAM-SHA-512 --sasl-username sluice --max-partitions 4000`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			req := client.ClusterRequest{Name: args[0], Region: cf.region, BootstrapServers: cf.bootstrap,
				Limits: client.Limits{MaxPartitions: cf.maxPartitions, MaxBytesPerSecond: cf.maxBytesPerSecond}}
			if cmd.Flags().Changed("state") {
				if err := checkState(cf.state); err != nil {
					return err
				}
				req.State = catalog.ClusterState(cf.state)
			}
			if req.TLS, err = cf.tlsSettings(cmd, nil); err != nil {
				return err
			}
			if req.SASL, err = cf.saslSettings(cmd, nil); err != nil {
				return err
			}
			cl, err := c.RegisterCluster(cmd.Context(), req)
			if err != nil {
				return apiErr("register cluster "+args[0], err)
			}
			return printCluster(cmd, o, cl)
		},
	}
	cf.register(cmd)
	_ = cmd.MarkFlagRequired("region")
	_ = cmd.MarkFlagRequired("bootstrap")
	return cmd
}

func newClusterUpdateCmd(o *clientOpts) *cobra.Command {
	cf := &clusterFlags{}
	cmd := &cobra.Command{
		Use:   "update NAME [flags]",
		Short: "Change a cluster's region, connection, limits or state",
		Long: `Change the settings given as flags and keep all others. New connection settings
must answer before they are saved, and change the route of every tenant on
the cluster, so producers pick them up.

TLS settings not given are kept (and --tls-key-file may be left out to keep
the stored key); so are the SASL user, mechanism and password. To rotate the
SASL password, give --sasl-password-file or set ` + saslPasswordEnv + ` together
with a --sasl-* flag.`,
		Example: `  sluice cluster update eu1 --max-partitions 6000
  sluice cluster update eu1 --bootstrap kafka-3:9092,kafka-4:9092
  sluice cluster update eu1 --sasl-username sluice --sasl-password-file /run/secrets/kafka`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			name := args[0]
			if !anyChanged(cmd, slices.Concat([]string{"region", "bootstrap", "state"}, tlsFlags, saslFlags, limitsFlags)...) {
				return fmt.Errorf("nothing to change: give at least one setting, see --help")
			}
			var u client.ClusterUpdate
			if cmd.Flags().Changed("region") {
				u.Region = &cf.region
			}
			if cmd.Flags().Changed("bootstrap") {
				u.BootstrapServers = cf.bootstrap
			}
			if cmd.Flags().Changed("state") {
				if err := checkState(cf.state); err != nil {
					return err
				}
				st := catalog.ClusterState(cf.state)
				u.State = &st
			}
			if anyChanged(cmd, limitsFlags...) {
				u.Limits = &client.LimitsUpdate{}
				if cmd.Flags().Changed("max-partitions") {
					u.Limits.MaxPartitions = &cf.maxPartitions
				}
				if cmd.Flags().Changed("max-bytes-per-second") {
					u.Limits.MaxBytesPerSecond = &cf.maxBytesPerSecond
				}
			}
			// TLS and SASL replace the stored settings whole: start from
			// what is stored so that only the flags given change.
			if anyChanged(cmd, slices.Concat(tlsFlags, saslFlags)...) {
				cur, err := c.Cluster(cmd.Context(), name)
				if err != nil {
					return apiErr("update cluster "+name, err)
				}
				if u.TLS, err = cf.tlsSettings(cmd, &cur); err != nil {
					return err
				}
				if u.SASL, err = cf.saslSettings(cmd, &cur); err != nil {
					return err
				}
			}
			cl, err := c.UpdateCluster(cmd.Context(), name, u)
			if err != nil {
				return apiErr("update cluster "+name, err)
			}
			return printCluster(cmd, o, cl)
		},
	}
	cf.register(cmd)
	return cmd
}

// newClusterStateCmd is drain or activate: a shorthand for update --state.
func newClusterStateCmd(o *clientOpts, verb string, state catalog.ClusterState) *cobra.Command {
	short := map[catalog.ClusterState]string{
		catalog.Draining: "Stop placing new tenants on a cluster; its tenants stay",
		catalog.Active:   "Let placement put new tenants on a cluster again",
	}[state]
	return &cobra.Command{
		Use:     verb + " NAME",
		Short:   short,
		Long:    short + ". The same as: sluice cluster update NAME --state " + string(state) + ".",
		Example: "  sluice cluster " + verb + " eu1",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			cl, err := c.UpdateCluster(cmd.Context(), args[0], client.ClusterUpdate{State: &state})
			if err != nil {
				return apiErr(verb+" cluster "+args[0], err)
			}
			return printCluster(cmd, o, cl)
		},
	}
}

func newClusterListCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List registered clusters",
		Long: `List registered clusters with their state and what the last health probe
measured: brokers, partitions of all non-internal topics, and write rate.`,
		Example: "  sluice cluster list\n  sluice cluster list -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.Clusters(cmd.Context())
			if err != nil {
				return apiErr("list clusters", err)
			}
			if o.json() {
				return printJSON(cmd.OutOrStdout(), struct {
					Clusters []client.Cluster `json:"clusters"`
				}{orEmpty(list)})
			}
			return printClusterTable(cmd, list)
		},
	}
}

func newClusterGetCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use:     "get NAME",
		Short:   "Show a cluster's settings, health and use",
		Long:    `Show a cluster's settings, health and use. Secrets are never shown, only whether they are set.`,
		Example: "  sluice cluster get eu1\n  sluice cluster get eu1 -o json",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			cl, err := c.Cluster(cmd.Context(), args[0])
			if err != nil {
				return apiErr("get cluster "+args[0], err)
			}
			if o.json() {
				return printJSON(cmd.OutOrStdout(), cl)
			}
			return printFields(cmd.OutOrStdout(), clusterFields(cl))
		},
	}
}

func newClusterRemoveCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm", "deregister"},
		Short:   "Deregister a cluster that holds no tenant topics",
		Long: `Deregister a cluster. The server refuses while tenant topics are on it; nothing
on the cluster itself changes.`,
		Example: "  sluice cluster remove eu1",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			if err := c.DeregisterCluster(cmd.Context(), args[0]); err != nil {
				return apiErr("remove cluster "+args[0], err)
			}
			if !o.json() {
				fmt.Fprintf(cmd.OutOrStdout(), "cluster %q removed\n", args[0])
			}
			return nil
		},
	}
}

// printCluster shows one cluster after a change: a table row, or its JSON.
func printCluster(cmd *cobra.Command, o *clientOpts, cl client.Cluster) error {
	if o.json() {
		return printJSON(cmd.OutOrStdout(), cl)
	}
	return printClusterTable(cmd, []client.Cluster{cl})
}

func printClusterTable(cmd *cobra.Command, list []client.Cluster) error {
	rows := make([][]string, len(list))
	for i, c := range list {
		rows[i] = []string{c.Name, c.Region, string(c.State), strconv.Itoa(c.Usage.Brokers), strconv.Itoa(c.Usage.Partitions),
			bytesIEC(c.Usage.BytesPerSecond) + "/s", ago(c.LastSeen)}
	}
	return printTable(cmd.OutOrStdout(), []string{"NAME", "REGION", "STATE", "BROKERS", "PARTITIONS", "BYTES/S", "LAST SEEN"}, rows)
}

func clusterFields(c client.Cluster) []field {
	reach := "yes"
	if !c.Reachable {
		reach = "no"
	}
	tls := "off"
	if t := c.TLS; t != nil && t.Enabled {
		parts := []string{"on", "CA: system roots"}
		if t.CACert != "" {
			parts[1] = "CA: custom"
		}
		if t.ClientCert != "" || t.ClientKeySet {
			parts = append(parts, "client cert: "+setOrNot(t.ClientCert != ""), "client key: "+setOrNot(t.ClientKeySet))
		}
		if t.ServerName != "" {
			parts = append(parts, "server name: "+t.ServerName)
		}
		if t.InsecureSkipVerify {
			parts = append(parts, "certificates NOT verified")
		}
		tls = strings.Join(parts, ", ")
	}
	sasl := "off"
	if s := c.SASL; s != nil {
		sasl = fmt.Sprintf("%s, user %q, password: %s", s.Mechanism, s.Username, setOrNot(s.PasswordSet))
	}
	limit := func(n int64, format func(int64) string) string {
		if n == 0 {
			return "no limit"
		}
		return format(n)
	}
	measured := "never measured"
	if !c.Usage.MeasuredAt.IsZero() {
		measured = fmt.Sprintf("%d broker(s), %d partitions, %s on disk, %s/s (measured %s)", c.Usage.Brokers,
			c.Usage.Partitions, bytesIEC(float64(c.Usage.Bytes)), bytesIEC(c.Usage.BytesPerSecond), ago(c.Usage.MeasuredAt))
	}
	return []field{
		{"Name", c.Name},
		{"Region", c.Region},
		{"State", string(c.State)},
		{"Reachable", reach},
		{"Bootstrap", strings.Join(c.BootstrapServers, ", ")},
		{"TLS", tls},
		{"SASL", sasl},
		{"Max partitions", limit(int64(c.Limits.MaxPartitions), func(n int64) string { return strconv.FormatInt(n, 10) })},
		{"Max bytes/s", limit(c.Limits.MaxBytesPerSecond, func(n int64) string { return bytesIEC(float64(n)) + "/s" })},
		{"Usage", measured},
		{"Last seen", stamp(c.LastSeen)},
		{"Last error", c.LastError},
		{"Created", stamp(c.CreatedAt)},
		{"Updated", stamp(c.UpdatedAt)},
	}
}

func setOrNot(b bool) string {
	if b {
		return "set"
	}
	return "not set"
}

// orEmpty makes a nil list print as [] in JSON, as the API sends it.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/buildinfo"
	"github.com/sluicehq/sluice/internal/client"
)

// defaultServer is where the client commands look for the API: the default
// --http of `sluice dev` and `sluice server`.
const defaultServer = "http://127.0.0.1:8080"

const clientGroup = "client"

// addClientCommands adds the commands that talk to a running Sluice through
// its HTTP API, in a help group of their own.
func addClientCommands(root *cobra.Command) {
	root.AddGroup(&cobra.Group{ID: clientGroup, Title: "Client commands (talk to a running Sluice API, see --server):"})
	for _, c := range []*cobra.Command{newClusterCmd(), newTenantCmd(), newTopicCmd(), newOperationsCmd(), newEventsCmd(), newNodesCmd(), newSQLCmd(), newSubCmd(), newGenCmd()} {
		c.GroupID = clientGroup
		noEnvExcept(c, "server", "timeout")
		root.AddCommand(c)
	}
}

// clientOpts are the flags every client command shares. They are persistent
// flags of each top-level client command rather than of the root, so that
// `sluice dev --help` does not offer --server.
type clientOpts struct {
	server  string
	output  string
	timeout time.Duration
}

func (o *clientOpts) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.server, "server", defaultServer, "base URL of the Sluice API")
	f.StringVarP(&o.output, "output", "o", "table", "output format: table or json")
	f.DurationVar(&o.timeout, "timeout", client.DefaultTimeout, "how long to wait for each API request")
}

// client checks the shared flags and returns a client for --server.
func (o *clientOpts) client() (*client.Client, error) {
	if o.output != "table" && o.output != "json" {
		return nil, fmt.Errorf("--output %q: want table or json", o.output)
	}
	if o.timeout < 0 {
		return nil, fmt.Errorf("--timeout %v: must not be negative", o.timeout)
	}
	c, err := client.New(o.server, client.WithTimeout(o.timeout), client.WithUserAgent("sluice-cli/"+buildinfo.Get().Version))
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	return c, nil
}

func (o *clientOpts) json() bool { return o.output == "json" }

// apiErr adds what to do to an error from the client: when nothing answered,
// the usual cause is a server that is not running or a wrong --server.
func apiErr(what string, err error) error {
	var ue *client.UnreachableError
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w\n  is Sluice running there? Point --server (or SLUICE_SERVER) at its API", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// printJSON writes v as indented JSON, the API's own representation.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printTable writes rows under header, aligned; empty cells show as "-".
func printTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(dashEmpty(r), "\t"))
	}
	return tw.Flush()
}

// field is one line of a detail view.
type field struct{ name, value string }

// printFields writes "Name:  value" lines, aligned, for `get` commands. A
// multi-line value continues indented under its value column.
func printFields(w io.Writer, fields []field) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, f := range fields {
		v := f.value
		if v == "" {
			v = "-"
		}
		lines := strings.Split(v, "\n")
		fmt.Fprintf(tw, "%s:\t%s\n", f.name, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(tw, "\t%s\n", l)
		}
	}
	return tw.Flush()
}

func dashEmpty(r []string) []string {
	out := make([]string, len(r))
	for i, c := range r {
		if c == "" {
			c = "-"
		}
		out[i] = c
	}
	return out
}

// ago says how long before now t was, as "45s ago"; "never" for zero.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
}

// stamp is t in UTC, RFC 3339 to the second, with how long ago it was.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339) + " (" + ago(t) + ")"
}

// bytesIEC formats n bytes with binary units: 0 B, 1.5 KiB, 12 MiB.
func bytesIEC(n float64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%.0f B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}
	i := -1
	for n >= unit && i < len(units)-1 {
		n /= unit
		i++
	}
	if n < 10 {
		return fmt.Sprintf("%.1f %s", n, units[i])
	}
	return fmt.Sprintf("%.0f %s", n, units[i])
}

// parseKeyValues parses k=v arguments of --config and set-config. Values may
// contain '=' and ','; a key given twice is a mistake worth reporting.
func parseKeyValues(what string, args []string) (map[string]string, error) {
	out := make(map[string]string, len(args))
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		k = strings.TrimSpace(k)
		switch {
		case !ok:
			return nil, fmt.Errorf("%s %q: want key=value, such as retention.ms=86400000", what, a)
		case k == "":
			return nil, fmt.Errorf("%s %q: the key before '=' is empty", what, a)
		case v == "":
			return nil, fmt.Errorf("%s %q: the value after '=' is empty", what, a)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s: %s is given twice", what, k)
		}
		out[k] = v
	}
	return out, nil
}

// sortedPairs renders a map as "k=v" lines sorted by key.
func sortedPairs(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m[k]
	}
	return out
}

// parseDuration is time.ParseDuration that also takes whole days ("7d"),
// which retention and --since are usually thought of in.
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 90m, 36h or 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 90m, 36h or 7d", s)
	}
	return d, nil
}

// parseSince reads --since: an RFC 3339 time, a date, or a duration before
// now ("1h" is an hour ago).
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		return t, nil
	}
	d, err := parseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time (2026-01-02T15:04:05Z), a date (2026-01-02) or a duration ago (90s, 1h, 7d)", s)
	}
	return now.Add(-d), nil
}

// readSecretFile reads a secret from a file, or from standard input for "-",
// without its trailing newline.
func readSecretFile(cmd *cobra.Command, flag, name string) (string, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flag, err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" && name == "-" {
		return "", fmt.Errorf("--%s -: nothing on standard input", flag)
	}
	if s == "" {
		return "", fmt.Errorf("--%s %s: the file is empty", flag, name)
	}
	return s, nil
}

// exactArgs is cobra.ExactArgs with the argument names in the message.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return fmt.Errorf("%s takes %s, got %d argument(s); see --help", cmd.CommandPath(),
				strings.Join(names, " "), len(args))
		}
		if i := slices.Index(args, ""); i >= 0 {
			return fmt.Errorf("%s: %s is empty", cmd.CommandPath(), names[i])
		}
		return nil
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/internal/client"
)

// maxSpecBytes bounds a subscription file, as the API bounds its body.
const maxSpecBytes = 256 << 10

func newSubCmd() *cobra.Command {
	o := &clientOpts{}
	cmd := &cobra.Command{
		Use:     "sub",
		Aliases: []string{"subs", "subscription", "subscriptions"},
		Short:   "Create, change, pause and inspect SQL subscriptions",
		Long: `Create, change, pause and inspect subscriptions: an application's SQL query
over a tenant's records, with the sink its results go to. Each subscription
runs as a job on a worker; a change to its spec (or a restart) moves the job
to a new epoch.

The sub commands also print YAML: -o table, json or yaml.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	o.register(cmd)
	cmd.PersistentFlags().Lookup("output").Usage = "output format: table, json or yaml"
	cmd.AddCommand(newSubCreateCmd(o), newSubListCmd(o), newSubGetCmd(o), newSubEditCmd(o), newSubDeleteCmd(o),
		newSubActionCmd(o, "pause"), newSubActionCmd(o, "resume"), newSubActionCmd(o, "restart"),
		newSubDAGCmd(o), newSubStatusCmd(o))
	return cmd
}

// subClient checks --output, which takes yaml too for the sub commands, and
// returns a client for --server.
func subClient(o *clientOpts) (*client.Client, error) {
	switch o.output {
	case "table", "json", "yaml":
	default:
		return nil, fmt.Errorf("--output %q: want table, json or yaml", o.output)
	}
	cp := *o
	cp.output = "json" // what clientOpts.client accepts
	return cp.client()
}

// emit writes v as JSON or YAML when -o asks for it, else calls table.
func emit(cmd *cobra.Command, o *clientOpts, v any, table func() error) error {
	switch o.output {
	case "json":
		return printJSON(cmd.OutOrStdout(), v)
	case "yaml":
		return printYAML(cmd.OutOrStdout(), v)
	}
	return table()
}

// printYAML writes v as YAML with the field names of its JSON form (the
// API's own representation), in the same order.
func printYAML(w io.Writer, v any) error {
	b, err := toYAML(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func toYAML(v any) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(js, &n); err != nil {
		return nil, err
	}
	blockStyle(&n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// blockStyle drops the flow style and quoting of a node decoded from JSON,
// so that it encodes as block YAML, quoting only where YAML needs it (and a
// multi-line SQL query as a literal block).
func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
	// A sink's settings come sorted; its type reads better first.
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := n.Content[i+1]; n.Content[i].Value == "sink" && v.Kind == yaml.MappingNode {
			for j := 2; j+1 < len(v.Content); j += 2 {
				if v.Content[j].Value == "type" {
					pair := []*yaml.Node{v.Content[j], v.Content[j+1]}
					v.Content = append(pair, slices.Delete(v.Content, j, j+2)...)
					break
				}
			}
		}
	}
}

// readOnlyFields are the server-assigned fields of a subscription: a spec
// file may carry them (the output of `sub get -o yaml`, edited), and they
// are ignored.
var readOnlyFields = []string{"id", "state", "schemaVersion", "version", "epoch", "createdAt", "updatedAt"}

// parseSpec reads a subscription spec in JSON or YAML. name is the file
// name for messages. It also returns the id the file names, if any.
func parseSpec(name string, b []byte) (client.SubscriptionSpec, string, error) {
	var spec client.SubscriptionSpec
	if len(bytes.TrimSpace(b)) == 0 {
		return spec, "", fmt.Errorf("%s: empty: want a subscription in JSON or YAML", name)
	}
	var doc any
	if t := bytes.TrimSpace(b); t[0] == '{' {
		if err := json.Unmarshal(b, &doc); err != nil {
			return spec, "", fmt.Errorf("%s: not valid JSON: %w", name, err)
		}
	} else if err := yaml.Unmarshal(b, &doc); err != nil {
		return spec, "", fmt.Errorf("%s: not valid YAML: %w", name, err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return spec, "", fmt.Errorf("%s: want an object with application, tenant, sql and sink", name)
	}
	id, _ := m["id"].(string)
	for _, f := range readOnlyFields {
		delete(m, f)
	}
	js, err := json.Marshal(m)
	if err != nil {
		return spec, "", fmt.Errorf("%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return spec, "", fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "json: "))
	}
	return spec, id, nil
}

// readSpecFile reads a spec from a file, or standard input for "-".
func readSpecFile(cmd *cobra.Command, file string) (client.SubscriptionSpec, string, error) {
	var b []byte
	var err error
	name := file
	if file == "-" {
		name = "standard input"
		b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxSpecBytes+1))
	} else {
		b, err = readLimited(file)
	}
	if err != nil {
		return client.SubscriptionSpec{}, "", fmt.Errorf("-f: %w", err)
	}
	if len(b) > maxSpecBytes {
		return client.SubscriptionSpec{}, "", fmt.Errorf("-f %s: larger than %d bytes", file, maxSpecBytes)
	}
	return parseSpec(name, b)
}

func readLimited(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSpecBytes+1))
}

// subError is an API error as subErr words it; it unwraps to the
// *client.Error.
type subError struct {
	msg string
	err error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.err }

// subErr is apiErr that says a field error once (the API repeats it, with
// its location, as the detail) and points at the SQL a 422 locates by line
// and column, under the line it is on.
func subErr(what string, err error, sql string) error {
	var ce *client.Error
	if !errors.As(err, &ce) {
		return apiErr(what, err)
	}
	if len(ce.Errors) == 1 && ce.Detail == ce.Errors[0].Location+": "+ce.Errors[0].Message {
		title := ce.Title
		if title == "" {
			title = http.StatusText(ce.Status)
		}
		err = &subError{msg: fmt.Sprintf("%s: %d %s: %s", what, ce.Status, title, ce.Errors[0]), err: err}
	} else {
		err = apiErr(what, err)
	}
	if sql == "" {
		return err
	}
	for _, fe := range ce.Errors {
		pos, ok := fe.Value.(map[string]any)
		if fe.Location != "body.sql" || !ok {
			continue
		}
		line, _ := pos["line"].(float64)
		col, _ := pos["column"].(float64)
		lines := strings.Split(sql, "\n")
		if line < 1 || int(line) > len(lines) || col < 1 {
			continue
		}
		text := strings.ReplaceAll(lines[int(line)-1], "\t", " ")
		caret := strings.Repeat(" ", min(int(col)-1, len(text))) + "^"
		return fmt.Errorf("%w\n  %s\n  %s", err, text, caret)
	}
	return err
}

// sinkSummary names a sink in a table: its type, and a file sink's path.
func sinkSummary(s client.Subscription) string {
	if p, ok := s.Sink.Settings["path"].(string); ok && s.Sink.Type == "file" {
		return "file " + p
	}
	return s.Sink.Type
}

// sinkDetail is a sink's type and settings, with values of settings that
// look secret hidden.
func sinkDetail(s client.Subscription) string {
	parts := []string{s.Sink.Type}
	keys := make([]string, 0, len(s.Sink.Settings))
	for k := range s.Sink.Settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := fmt.Sprint(s.Sink.Settings[k])
		lk := strings.ToLower(k)
		if strings.Contains(lk, "password") || strings.Contains(lk, "secret") || strings.Contains(lk, "token") || strings.Contains(lk, "key") {
			v = "(set)"
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

func printSubTable(cmd *cobra.Command, list []client.Subscription) error {
	rows := make([][]string, len(list))
	for i, s := range list {
		rows[i] = []string{s.ID, s.Application, s.Tenant, s.State, strconv.FormatInt(s.Epoch, 10),
			strconv.Itoa(s.SchemaVersion), sinkSummary(s), ago(s.UpdatedAt)}
	}
	return printTable(cmd.OutOrStdout(), []string{"ID", "APPLICATION", "TENANT", "STATE", "EPOCH", "SCHEMA", "SINK", "UPDATED"}, rows)
}

func printSubFields(cmd *cobra.Command, s client.Subscription) error {
	return printFields(cmd.OutOrStdout(), []field{
		{"ID", s.ID},
		{"Application", s.Application},
		{"Tenant", s.Tenant},
		{"State", s.State},
		{"Version", strconv.FormatInt(s.Version, 10)},
		{"Epoch", strconv.FormatInt(s.Epoch, 10)},
		{"Schema version", strconv.Itoa(s.SchemaVersion)},
		{"Output format", s.OutputFormat},
		{"Sink", sinkDetail(s)},
		{"Start from", s.StartFrom},
		{"Delivery", s.DeliveryGuarantee},
		{"Lateness", s.Lateness},
		{"Labels", strings.Join(sortedPairs(s.Labels), "\n")},
		{"SQL", strings.TrimSpace(s.SQL)},
		{"Created", stamp(s.CreatedAt)},
		{"Updated", stamp(s.UpdatedAt)},
	})
}

func newSubCreateCmd(o *clientOpts) *cobra.Command {
	var (
		file   string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a subscription from a JSON or YAML file",
		Long: `Create a subscription from a file in JSON or YAML (- for standard input) with
its application, tenant, sql and sink, and optionally outputFormat, startFrom,
deliveryGuarantee, lateness and labels. The server analyses the SQL against the
tenant's current reader schema first; a query that does not fit is reported
with its line and column, and nothing is created. The job starts within
seconds.

--dry-run validates the same way, also opens and closes the sink, and saves
nothing. Server-assigned fields in the file (id, state, version, epoch, ...)
are ignored.`,
		Example: `  sluice sub create -f sub.yaml
  sluice sub create -f sub.json --dry-run
  sluice sub get sub-abc -o yaml | sed 's/app-a/app-b/' | sluice sub create -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("no subscription: give a JSON or YAML file with -f (- for standard input)")
			}
			spec, _, err := readSpecFile(cmd, file)
			if err != nil {
				return err
			}
			c, err := subClient(o)
			if err != nil {
				return err
			}
			s, err := c.CreateSubscription(cmd.Context(), spec, dryRun)
			if err != nil {
				return subErr("create subscription", err, spec.SQL)
			}
			return emit(cmd, o, s, func() error {
				if dryRun {
					_, err := fmt.Fprintf(cmd.OutOrStdout(), "dry run: the subscription is valid against schema version %d of tenant %q and its %s sink opened; nothing was saved\n",
						s.SchemaVersion, s.Tenant, s.Sink.Type)
					return err
				}
				return printSubTable(cmd, []client.Subscription{s})
			})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the subscription in JSON or YAML (- for standard input)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and check the sink's connectivity; save nothing")
	return cmd
}

func newSubListCmd(o *clientOpts) *cobra.Command {
	var (
		f   client.SubscriptionFilter
		all bool
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List subscriptions",
		Long: `List subscriptions in id order, a page of --limit at a time (the server's
default is 100). When there are more, the cursor of the next page is printed on
standard error, for --after; --all reads every page.`,
		Example: `  sluice sub list
  sluice sub list --tenant acme --state paused
  sluice sub list --application billing --all -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.State != "" && f.State != "running" && f.State != "paused" {
				return fmt.Errorf("--state %q: want running or paused", f.State)
			}
			if f.Limit < 0 || f.Limit > 1000 {
				return fmt.Errorf("--limit %d: want 1 to 1000", f.Limit)
			}
			c, err := subClient(o)
			if err != nil {
				return err
			}
			var list []client.Subscription
			next := ""
			for {
				page, n, err := c.Subscriptions(cmd.Context(), f)
				if err != nil {
					return apiErr("list subscriptions", err)
				}
				list, next = append(list, page...), n
				if !all || next == "" {
					break
				}
				f.After = next
			}
			err = emit(cmd, o, struct {
				Subscriptions []client.Subscription `json:"subscriptions"`
				Next          string                `json:"next,omitempty"`
			}{orEmpty(list), next}, func() error { return printSubTable(cmd, list) })
			if err == nil && next != "" && o.output == "table" {
				fmt.Fprintf(cmd.ErrOrStderr(), "more subscriptions: add --after %s for the next page, or --all\n", next)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Application, "application", "", "only the subscriptions of this application")
	fl.StringVar(&f.Tenant, "tenant", "", "only the subscriptions of this tenant")
	fl.StringVar(&f.State, "state", "", "only those in this desired state: running or paused")
	fl.IntVar(&f.Limit, "limit", 0, "subscriptions per page, 1 to 1000 (default: the server's, 100)")
	fl.StringVar(&f.After, "after", "", "start after this id: the next cursor of the previous page")
	fl.BoolVar(&all, "all", false, "read every page")
	return cmd
}

func newSubGetCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use:     "get ID",
		Short:   "Show a subscription",
		Example: "  sluice sub get sub-abc\n  sluice sub get sub-abc -o yaml > sub.yaml",
		Args:    exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := subClient(o)
			if err != nil {
				return err
			}
			s, _, err := c.Subscription(cmd.Context(), args[0])
			if err != nil {
				return apiErr("get subscription "+args[0], err)
			}
			return emit(cmd, o, s, func() error { return printSubFields(cmd, s) })
		},
	}
}

// settable are the top-level fields --set takes.
var settable = []string{"sql", "outputFormat", "startFrom", "deliveryGuarantee", "lateness"}

// setPatch turns --set key=value arguments into a JSON merge patch. An
// empty value removes the field (so the server's default applies); a sink
// setting of true or false is a boolean.
func setPatch(sets []string) ([]byte, error) {
	patch := map[string]any{}
	seen := map[string]bool{}
	for _, a := range sets {
		k, v, ok := strings.Cut(a, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("--set %q: want key=value, such as sql='SELECT ...' or sink.path=/tmp/out.ndjson", a)
		}
		if seen[k] {
			return nil, fmt.Errorf("--set: %s is given twice", k)
		}
		seen[k] = true
		var val any = v
		if v == "" {
			val = nil
		}
		switch group, sub, nested := strings.Cut(k, "."); {
		case nested && (group == "sink" || group == "labels") && sub != "":
			if group == "sink" && (v == "true" || v == "false") {
				val = v == "true"
			}
			m, _ := patch[group].(map[string]any)
			if m == nil {
				m = map[string]any{}
				patch[group] = m
			}
			m[sub] = val
		case !nested && slices.Contains(settable, k):
			if k == "sql" && v == "" {
				return nil, errors.New("--set sql=: the query cannot be empty")
			}
			patch[k] = val
		default:
			return nil, fmt.Errorf("--set %s: want one of %s, sink.<setting> or labels.<name>", k, strings.Join(settable, ", "))
		}
	}
	return json.Marshal(patch)
}

func newSubEditCmd(o *clientOpts) *cobra.Command {
	var (
		file    string
		sets    []string
		ifMatch string
	)
	cmd := &cobra.Command{
		Use:   "edit ID",
		Short: "Change a subscription's spec in an editor, from a file, or with --set",
		Long: `Change a subscription's spec. Without flags it opens the spec as YAML in
$VISUAL or $EDITOR (else vi) and, when the file is saved changed, replaces the
spec with it, provided nobody has changed the subscription meanwhile (If-Match
the version read). A file saved unchanged changes nothing; one emptied cancels.

-f replaces the spec with one from a JSON or YAML file (- for standard input);
an application or tenant it leaves out is the subscription's own. --set changes
single fields with a merge patch: sql, outputFormat, startFrom,
deliveryGuarantee, lateness, sink.<setting> and labels.<name>; an empty value
removes the field. --if-match VERSION makes -f and --set conditional.

Every change is validated as create does. A changed spec restarts the job at a
new epoch; the application and tenant cannot change.`,
		Example: `  sluice sub edit sub-abc
  sluice sub edit sub-abc -f sub.yaml
  sluice sub edit sub-abc --set sql="SELECT src_ip FROM tenant WHERE action = 'deny'"
  sluice sub edit sub-abc --set sink.path=/var/sluice/out.ndjson --set labels.team=sec --if-match 3`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if file != "" && len(sets) > 0 {
				return errors.New("give -f or --set, not both")
			}
			if ifMatch != "" && file == "" && len(sets) == 0 {
				return errors.New("--if-match goes with -f or --set; the editor checks the version it read itself")
			}
			if ifMatch != "" {
				if _, err := strconv.ParseInt(strings.Trim(ifMatch, `"`), 10, 64); err != nil {
					return fmt.Errorf("--if-match %q: want a version number such as 3", ifMatch)
				}
				ifMatch = `"` + strings.Trim(ifMatch, `"`) + `"`
			}
			var patch []byte
			var spec client.SubscriptionSpec
			var fileID string
			var err error
			switch {
			case len(sets) > 0:
				if patch, err = setPatch(sets); err != nil {
					return err
				}
			case file != "":
				if spec, fileID, err = readSpecFile(cmd, file); err != nil {
					return err
				}
				if fileID != "" && fileID != id {
					return fmt.Errorf("-f %s is subscription %s, not %s", file, fileID, id)
				}
			}
			c, err := subClient(o)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var s client.Subscription
			switch {
			case patch != nil:
				var sql string
				if set := slices.IndexFunc(sets, func(a string) bool { return strings.HasPrefix(a, "sql=") }); set >= 0 {
					sql = strings.TrimPrefix(sets[set], "sql=")
				}
				s, err = c.PatchSubscription(ctx, id, patch, ifMatch)
				if err != nil {
					return subErr("edit subscription "+id, err, sql)
				}
			case file != "":
				cur, etag, err := c.Subscription(ctx, id)
				if err != nil {
					return apiErr("edit subscription "+id, err)
				}
				if spec.Application == "" {
					spec.Application = cur.Application
				}
				if spec.Tenant == "" {
					spec.Tenant = cur.Tenant
				}
				if ifMatch == "" {
					ifMatch = etag
				}
				s, err = c.ReplaceSubscription(ctx, id, spec, ifMatch)
				if err != nil {
					return subErr("edit subscription "+id, err, spec.SQL)
				}
			default:
				var changed bool
				s, changed, err = editInEditor(cmd, c, id)
				if err != nil {
					return err
				}
				if !changed {
					if o.output == "table" {
						fmt.Fprintf(cmd.OutOrStdout(), "subscription %s: no change\n", id)
						return nil
					}
				}
			}
			return emit(cmd, o, s, func() error {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "subscription %s: version %d, epoch %d\n", s.ID, s.Version, s.Epoch)
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&file, "file", "f", "", "replace the spec with this JSON or YAML file (- for standard input)")
	fl.StringArrayVar(&sets, "set", nil, "change one field as key=value: sql, outputFormat, startFrom, deliveryGuarantee, lateness, sink.<setting>, labels.<name>; repeat for several")
	fl.StringVar(&ifMatch, "if-match", "", "change only if the subscription is at this version (its ETag)")
	return cmd
}

// editorHeader starts the file an editor opens; YAML ignores it.
const editorHeader = `# Edit subscription %s (version %d) and save to apply it; a changed spec
# restarts the job at a new epoch. The application and tenant cannot change.
# Save it unchanged to change nothing, or empty it to cancel.
`

// editInEditor opens the subscription's spec in the user's editor and
// replaces it with the result, conditional on the version read. It reports
// whether anything changed (and the current subscription when not).
func editInEditor(cmd *cobra.Command, c *client.Client, id string) (client.Subscription, bool, error) {
	ctx := cmd.Context()
	cur, etag, err := c.Subscription(ctx, id)
	if err != nil {
		return cur, false, apiErr("edit subscription "+id, err)
	}
	body, err := toYAML(cur.Spec)
	if err != nil {
		return cur, false, err
	}
	orig := append([]byte(fmt.Sprintf(editorHeader, cur.ID, cur.Version)), body...)
	f, err := os.CreateTemp("", "sluice-sub-*.yaml")
	if err != nil {
		return cur, false, err
	}
	path := f.Name()
	keep := false
	defer func() {
		if !keep {
			_ = os.Remove(path)
		}
	}()
	_, err = f.Write(orig)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cur, false, err
	}
	if err := runEditor(cmd, path); err != nil {
		return cur, false, err
	}
	edited, err := os.ReadFile(path)
	if err != nil {
		return cur, false, err
	}
	if bytes.Equal(edited, orig) {
		return cur, false, nil
	}
	if len(bytes.TrimSpace(stripComments(edited))) == 0 {
		return cur, false, errors.New("edit cancelled: the file was emptied")
	}
	keep = true // until the change is made, the user's edit is worth keeping
	spec, fileID, err := parseSpec(path, edited)
	if err == nil && fileID != "" && fileID != id {
		err = fmt.Errorf("%s is subscription %s, not %s", path, fileID, id)
	}
	if err != nil {
		return cur, false, fmt.Errorf("%w\n  your edit is kept in %s: fix it and run sluice sub edit %s -f %s --if-match %d", err, path, id, path, cur.Version)
	}
	if was, _ := json.Marshal(cur.Spec); bytes.Equal(mustJSON(spec), was) {
		keep = false
		return cur, false, nil
	}
	s, err := c.ReplaceSubscription(ctx, id, spec, etag)
	if err != nil {
		err = subErr("edit subscription "+id, err, spec.SQL)
		if client.StatusOf(err) == 412 {
			return s, false, fmt.Errorf("%w\n  subscription %s changed while you edited it; your edit is kept in %s (run sluice sub edit %s again, or apply it anyway with sluice sub edit %s -f %s)",
				err, id, path, id, id, path)
		}
		return s, false, fmt.Errorf("%w\n  your edit is kept in %s: fix it and run sluice sub edit %s -f %s --if-match %d", err, path, id, path, cur.Version)
	}
	keep = false
	return s, true, nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// stripComments drops the lines that are YAML comments.
func stripComments(b []byte) []byte {
	var out [][]byte
	for l := range bytes.SplitSeq(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// runEditor opens path in $VISUAL, $EDITOR or vi, through the shell so that
// an editor with arguments ("code --wait") works.
func runEditor(cmd *cobra.Command, path string) error {
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	var ed *exec.Cmd
	if runtime.GOOS == "windows" {
		f := strings.Fields(editor)
		ed = exec.CommandContext(cmd.Context(), f[0], append(f[1:], path)...)
	} else {
		ed = exec.CommandContext(cmd.Context(), "sh", "-c", editor+` "$1"`, "sh", path)
	}
	ed.Stdin, ed.Stdout, ed.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := ed.Run(); err != nil {
		return fmt.Errorf("editor %q: %w (set VISUAL or EDITOR to the editor to use)", editor, err)
	}
	return nil
}

func newSubDeleteCmd(o *clientOpts) *cobra.Command {
	var yes, purge bool
	cmd := &cobra.Command{
		Use:     "delete ID --yes",
		Aliases: []string{"rm"},
		Short:   "Delete a subscription and stop its job",
		Long: `Delete a subscription: its job stops at a checkpoint and the subscription is
gone. Its consumer group offsets (sluice.job.<id>) are kept unless
--purge-offsets. This cannot be undone, so --yes is required.`,
		Example: "  sluice sub delete sub-abc --yes\n  sluice sub delete sub-abc --purge-offsets --yes",
		Args:    exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := subClient(o)
			if err != nil {
				return err
			}
			id := args[0]
			if !yes {
				s, _, err := c.Subscription(cmd.Context(), id)
				if err != nil {
					return apiErr("delete subscription "+id, err)
				}
				what := "its offsets are kept"
				if purge {
					what = "its offsets are deleted too"
				}
				return fmt.Errorf("deleting subscription %s stops the job of application %q over tenant %q (%s); add --yes to do so",
					id, s.Application, s.Tenant, what)
			}
			if err := c.DeleteSubscription(cmd.Context(), id, purge); err != nil {
				return apiErr("delete subscription "+id, err)
			}
			if o.output == "table" {
				fmt.Fprintf(cmd.OutOrStdout(), "subscription %s deleted\n", id)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm that the subscription is to be deleted")
	cmd.Flags().BoolVar(&purge, "purge-offsets", false, "also delete the job's committed consumer group offsets")
	return cmd
}

func newSubActionCmd(o *clientOpts, action string) *cobra.Command {
	short := map[string]string{
		"pause":   "Pause a subscription: its job stops at a checkpoint",
		"resume":  "Resume a paused subscription",
		"restart": "Restart a subscription's job at a new epoch, from its committed offsets",
	}[action]
	return &cobra.Command{
		Use:     action + " ID",
		Short:   short,
		Example: fmt.Sprintf("  sluice sub %s sub-abc\n  sluice sub %s sub-abc -o json", action, action),
		Args:    exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := subClient(o)
			if err != nil {
				return err
			}
			do := map[string]func(context.Context, string) (client.Subscription, error){
				"pause": c.PauseSubscription, "resume": c.ResumeSubscription, "restart": c.RestartSubscription,
			}[action]
			s, err := do(cmd.Context(), args[0])
			if err != nil {
				return apiErr(action+" subscription "+args[0], err)
			}
			return emit(cmd, o, s, func() error { return printSubTable(cmd, []client.Subscription{s}) })
		},
	}
}

func newSubDAGCmd(o *clientOpts) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "dag ID",
		Short: "Write a subscription's operator DAG as JSON, DOT or SVG",
		Long: `Write the subscription's operator DAG as the server renders it: --format json
(the plan), dot (Graphviz DOT) or svg (a picture), to standard output or the
file -o names. Here -o is the output file, not the output format.`,
		Example: `  sluice sub dag sub-abc
  sluice sub dag sub-abc --format svg -o dag.svg
  sluice sub dag sub-abc --format dot | dot -Tpng > dag.png`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "json" && format != "dot" && format != "svg" {
				return fmt.Errorf("--format %q: want json, dot or svg", format)
			}
			if slices.Contains([]string{"table", "json", "yaml"}, out) {
				return fmt.Errorf("-o %s: for dag, -o names the output file; the format is --format (json, dot or svg)", out)
			}
			c, err := subClient(&clientOpts{server: o.server, timeout: o.timeout, output: "table"})
			if err != nil {
				return err
			}
			b, err := c.SubscriptionDAG(cmd.Context(), args[0], format)
			if err != nil {
				return apiErr("DAG of subscription "+args[0], err)
			}
			if len(b) > 0 && b[len(b)-1] != '\n' {
				b = append(b, '\n')
			}
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			return os.WriteFile(out, b, 0o644)
		},
	}
	cmd.Flags().StringVar(&format, "format", "json", "json, dot or svg")
	// Shadows the group's --output: for dag it names the file written.
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the DAG to this file (default: standard output)")
	return cmd
}

func newSubStatusCmd(o *clientOpts) *cobra.Command {
	var (
		watch    bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show the desired and actual state of a subscription's job",
		Long: `Show the desired state of the subscription against what the worker running its
job last reported: its state (starting, running, paused, failed, updating, or
unknown when no worker has reported for 15 seconds), the epoch and schema
version it runs, records in and out per second over the last minute, the lag
of each partition and the last error.

--watch shows it again every --interval until Ctrl-C.`,
		Example: `  sluice sub status sub-abc
  sluice sub status sub-abc --watch --interval 5s`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if interval < 100*time.Millisecond {
				return fmt.Errorf("--interval %v: must be at least 100ms", interval)
			}
			c, err := subClient(o)
			if err != nil {
				return err
			}
			id := args[0]
			if !watch {
				st, err := c.SubscriptionStatus(cmd.Context(), id)
				if err != nil {
					return apiErr("status of subscription "+id, err)
				}
				return emit(cmd, o, st, func() error { return printStatus(cmd, st) })
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return watchStatus(ctx, cmd, o, c, id, interval)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "show the status again every --interval until Ctrl-C")
	cmd.Flags().DurationVar(&interval, "interval", 2*time.Second, "how often --watch asks")
	return cmd
}

// watchStatus prints the status every interval until ctx ends, each after
// a separator line.
func watchStatus(ctx context.Context, cmd *cobra.Command, o *clientOpts, c *client.Client, id string, interval time.Duration) error {
	w := cmd.OutOrStdout()
	failures := 0
	for n := 0; ; n++ {
		st, err := c.SubscriptionStatus(ctx, id)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && retryable(err) && failures+1 < followFailures:
			failures++
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: %v (retrying in %v)\n", err, interval)
		case err != nil:
			return apiErr("status of subscription "+id, err)
		default:
			failures = 0
			switch {
			case n > 0 && o.output == "yaml":
				fmt.Fprintln(w, "---")
			case n > 0 && o.output == "table":
				fmt.Fprintf(w, "\n--- %s ---\n", time.Now().Format(time.TimeOnly))
			}
			if err := emit(cmd, o, st, func() error { return printStatus(cmd, st) }); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

func printStatus(cmd *cobra.Command, st client.SubscriptionStatus) error {
	epoch := "-"
	if st.Epoch > 0 {
		epoch = strconv.FormatInt(st.Epoch, 10)
	}
	schema := "-"
	if st.SchemaVersion > 0 {
		schema = strconv.Itoa(st.SchemaVersion)
	}
	lag := "-"
	if len(st.Lag) > 0 {
		var total int64
		parts := make([]string, len(st.Lag))
		for i, l := range st.Lag {
			total += l.Lag
			parts[i] = fmt.Sprintf("p%d=%d", l.Partition, l.Lag)
		}
		lag = strconv.FormatInt(total, 10) + " (" + strings.Join(parts, " ") + ")"
	}
	lastErr := st.LastError
	if lastErr != "" && !st.LastErrorAt.IsZero() {
		lastErr += "\n" + stamp(st.LastErrorAt)
	}
	return printFields(cmd.OutOrStdout(), []field{
		{"ID", st.ID},
		{"Desired state", st.DesiredState},
		{"Actual state", st.ActualState},
		{"Worker", st.Worker},
		{"Epoch", epoch + " (desired " + strconv.FormatInt(st.DesiredEpoch, 10) + ")"},
		{"Schema version", schema},
		{"Records in/s", strconv.FormatFloat(st.InPerSecond, 'f', 1, 64)},
		{"Records out/s", strconv.FormatFloat(st.OutPerSecond, 'f', 1, 64)},
		{"Lag", lag},
		{"Last error", lastErr},
		{"Reported", stamp(st.UpdatedAt)},
	})
}

package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/internal/api"
	"github.com/sluicehq/sluice/internal/client"
	"github.com/sluicehq/sluice/internal/client/clienttest"
	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/twmb/franz-go/pkg/kadm"
)

// syncBuffer is an output buffer that a command and the test may use at
// once: --follow writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs sluice commands in-process against one server.
type cli struct {
	t   *testing.T
	url string
	// stdin, when set, is the commands' standard input.
	stdin string
}

// run executes `sluice args... --server URL` and returns its standard output
// and error.
func (c cli) run(args ...string) (string, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out syncBuffer
	err := c.runContext(ctx, &out, args...)
	return out.String(), err
}

func (c cli) runContext(ctx context.Context, out *syncBuffer, args ...string) error {
	root := newRootCmd()
	root.SetArgs(append(args, "--server", c.url, "--log-level", "error"))
	root.SetOut(out)
	root.SetErr(out)
	root.SetIn(strings.NewReader(c.stdin))
	return root.ExecuteContext(ctx)
}

// ok runs a command that must succeed and returns its output.
func (c cli) ok(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("sluice %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// fails runs a command that must fail with an error containing every part.
func (c cli) fails(args []string, parts ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err == nil {
		c.t.Fatalf("sluice %s succeeded, want an error\n%s", strings.Join(args, " "), out)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			c.t.Errorf("sluice %s: error %q does not contain %q", strings.Join(args, " "), err, p)
		}
	}
	return err.Error()
}

func startCLI(t *testing.T) (cli, *clienttest.Server) {
	srv := clienttest.Start(t)
	return cli{t: t, url: srv.URL}, srv
}

// table parses aligned table output into its header and rows of cells.
func table(t *testing.T, out string) (header []string, rows [][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	split := regexp.MustCompile(`\s{2,}`)
	header = split.Split(strings.TrimSpace(lines[0]), -1)
	for _, l := range lines[1:] {
		rows = append(rows, split.Split(strings.TrimSpace(l), -1))
	}
	return header, rows
}

func wantHeader(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("header = %q, want %q", got, want)
	}
}

func decodeJSON(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
}

func TestCLICluster(t *testing.T) {
	c, srv := startCLI(t)

	out := c.ok("cluster", "add", "eu1", "--region", "eu", "--bootstrap", srv.Kafka, "--max-partitions", "100")
	h, rows := table(t, out)
	wantHeader(t, h, "NAME", "REGION", "STATE", "BROKERS", "PARTITIONS", "BYTES/S", "LAST SEEN")
	if len(rows) != 1 || strings.Join(rows[0][:5], " ") != "eu1 eu active 1 0" || rows[0][5] != "0 B/s" {
		t.Fatalf("cluster add printed %q", rows)
	}
	c.fails([]string{"cluster", "add", "eu1", "--region", "eu", "--bootstrap", srv.Kafka},
		`register cluster eu1: 409 Conflict: cluster "eu1" is already registered`)
	c.fails([]string{"cluster", "add", "eu2", "--region", "eu"}, `required flag(s) "bootstrap" not set`)

	out = c.ok("cluster", "add", "eu2", "--region", "eu", "--bootstrap", srv.Kafka, "--state", "draining", "-o", "json")
	var added map[string]any
	decodeJSON(t, out, &added)
	if added["name"] != "eu2" || added["state"] != "draining" || added["bootstrapServers"].([]any)[0] != srv.Kafka {
		t.Fatalf("cluster add -o json = %v", added)
	}

	_, rows = table(t, c.ok("cluster", "list"))
	if len(rows) != 2 || rows[0][0] != "eu1" || rows[1][0] != "eu2" || rows[1][2] != "draining" {
		t.Fatalf("cluster list rows = %q", rows)
	}
	var list struct {
		Clusters []struct {
			Name   string
			Limits struct{ MaxPartitions int }
		}
	}
	decodeJSON(t, c.ok("cluster", "list", "-o", "json"), &list)
	if len(list.Clusters) != 2 || list.Clusters[0].Limits.MaxPartitions != 100 {
		t.Fatalf("cluster list -o json = %+v", list)
	}

	// Setting one limit keeps the other.
	c.ok("cluster", "update", "eu1", "--max-bytes-per-second", "1048576")
	get := c.ok("cluster", "get", "eu1")
	for _, want := range []string{"Max partitions:  100\n", "Max bytes/s:     1.0 MiB/s\n", "Bootstrap:       " + srv.Kafka + "\n", "TLS:             off\n"} {
		if !strings.Contains(get, want) {
			t.Errorf("cluster get does not contain %q:\n%s", want, get)
		}
	}
	c.fails([]string{"cluster", "update", "eu1"}, "nothing to change")

	_, rows = table(t, c.ok("cluster", "activate", "eu2"))
	if rows[0][2] != "active" {
		t.Fatalf("cluster activate printed %q", rows)
	}
	_, rows = table(t, c.ok("cluster", "drain", "eu2"))
	if rows[0][2] != "draining" {
		t.Fatalf("cluster drain printed %q", rows)
	}
	if out := c.ok("cluster", "remove", "eu2"); out != "cluster \"eu2\" removed\n" {
		t.Fatalf("cluster remove printed %q", out)
	}
	c.fails([]string{"cluster", "get", "eu2"}, `get cluster eu2: 404 Not Found: cluster "eu2"`)
}

// TestCLIClusterSecrets registers a SASL cluster and checks that the
// password is taken from the environment or a file, never printed, and kept
// by updates that do not mention it.
func TestCLIClusterSecrets(t *testing.T) {
	c, _ := startCLI(t)
	const password = "s3cret-pw"
	kafka := kafkatest.Fake(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "admin", password))

	c.fails([]string{"cluster", "add", "sec", "--region", "eu", "--bootstrap", kafka, "--sasl-mechanism", "PLAIN", "--sasl-username", "admin"},
		"SASL needs a password")
	t.Setenv(saslPasswordEnv, password)
	c.ok("cluster", "add", "sec", "--region", "eu", "--bootstrap", kafka, "--sasl-mechanism", "plain", "--sasl-username", "admin")

	get := c.ok("cluster", "get", "sec")
	if !strings.Contains(get, `SASL:            PLAIN, user "admin", password: set`) {
		t.Errorf("cluster get does not say the password is set:\n%s", get)
	}
	js := c.ok("cluster", "get", "sec", "-o", "json")
	var view struct{ SASL map[string]any }
	decodeJSON(t, js, &view)
	if view.SASL["passwordSet"] != true || view.SASL["mechanism"] != "PLAIN" {
		t.Errorf("cluster get -o json sasl = %v", view.SASL)
	}
	for _, out := range []string{get, js, c.ok("cluster", "list", "-o", "json")} {
		if strings.Contains(out, password) {
			t.Fatalf("output shows the password:\n%s", out)
		}
	}

	// Updates that do not touch SASL keep it: the cluster stays reachable
	// with the stored password even though none is sent.
	t.Setenv(saslPasswordEnv, "")
	c.ok("cluster", "update", "sec", "--sasl-username", "admin", "--max-partitions", "10")
	if get := c.ok("cluster", "get", "sec"); !strings.Contains(get, "password: set") || !strings.Contains(get, "Reachable:       yes") {
		t.Errorf("after update:\n%s", get)
	}

	// A wrong password from a file is refused by the broker, so the
	// server keeps the old settings.
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails([]string{"cluster", "update", "sec", "--sasl-password-file", pwFile}, "422 Unprocessable Entity: body.bootstrapServers")

	// The right one from standard input is accepted.
	in := c
	in.stdin = password + "\n"
	in.ok("cluster", "update", "sec", "--sasl-password-file", "-")
	in.stdin = ""
	in.fails([]string{"cluster", "update", "sec", "--sasl-password-file", "-"}, "--sasl-password-file -: nothing on standard input")
}

func TestCLITenant(t *testing.T) {
	c, srv := startCLI(t)
	c.ok("cluster", "add", "eu1", "--region", "eu", "--bootstrap", srv.Kafka)

	out := c.ok("tenant", "create", "acme", "--region", "eu", "--partitions", "3", "--retention", "2d",
		"--config", "cleanup.policy=compact,delete")
	h, rows := table(t, out)
	wantHeader(t, h, "NAME", "REGION", "STATE", "CLUSTER", "TOPIC", "ROUTE")
	if strings.Join(rows[0], " ") != "acme eu ready eu1 sluice.tenant.acme.1 1" {
		t.Fatalf("tenant create printed %q", rows)
	}
	c.fails([]string{"tenant", "create", "acme", "--region", "eu"}, `create tenant acme: 409 Conflict: tenant "acme" already exists`)
	c.fails([]string{"tenant", "create", "Acme", "--region", "eu"}, "422 Unprocessable Entity: body.name: expected string to match pattern")

	get := c.ok("tenant", "get", "acme")
	for _, want := range []string{"Name:           acme\n", "State:          ready\n", "Topic:          sluice.tenant.acme.1\n", "Route version:  1\n"} {
		if !strings.Contains(get, want) {
			t.Errorf("tenant get does not contain %q:\n%s", want, get)
		}
	}
	var tenant map[string]any
	decodeJSON(t, c.ok("tenant", "get", "acme", "-o", "json"), &tenant)
	if tenant["cluster"] != "eu1" || tenant["routeVersion"] != 1.0 {
		t.Fatalf("tenant get -o json = %v", tenant)
	}
	var tenants struct{ Tenants []map[string]any }
	decodeJSON(t, c.ok("tenant", "list", "-o", "json"), &tenants)
	if len(tenants.Tenants) != 1 {
		t.Fatalf("tenant list -o json = %v", tenants)
	}

	route := c.ok("tenant", "route", "acme")
	want := "Tenant:          acme\nCluster:         eu1\nBootstrap:       " + srv.Kafka +
		"\nTopic:           sluice.tenant.acme.1\nVersion:         1\nSchema version:  none registered\n"
	if route != want {
		t.Fatalf("tenant route =\n%s\nwant\n%s", route, want)
	}
	var r struct {
		BootstrapServers []string
		RouteVersion     int
	}
	decodeJSON(t, c.ok("tenant", "route", "acme", "-o", "json"), &r)
	if len(r.BootstrapServers) != 1 || r.RouteVersion != 1 {
		t.Fatalf("tenant route -o json = %+v", r)
	}

	topic := c.ok("topic", "get", "eu1", "sluice.tenant.acme.1")
	if !strings.Contains(topic, "cleanup.policy=compact,delete\n") || !strings.Contains(topic, "retention.ms=172800000\n") {
		t.Errorf("topic get does not show the configs given at create:\n%s", topic)
	}

	// Move: to an existing topic only; the route follows.
	c.fails([]string{"tenant", "move", "acme", "--cluster", "eu1", "--topic", "no-such-topic"}, "422", `has no topic "no-such-topic"`)
	copyAdm := kadm.NewClient(kafkatest.NewClient(t, srv.Kafka))
	if resp, err := copyAdm.CreateTopic(context.Background(), 2, 1, nil, "acme-copy"); err != nil || resp.Err != nil {
		t.Fatalf("create acme-copy: %v %v", err, resp.Err)
	}
	var moved map[string]any
	decodeJSON(t, c.ok("tenant", "move", "acme", "--cluster", "eu1", "--topic", "acme-copy", "-o", "json"), &moved)
	if moved["topic"] != "acme-copy" || moved["routeVersion"] != 2.0 {
		t.Fatalf("tenant move -o json = %v", moved)
	}
	if route := c.ok("tenant", "route", "acme"); !strings.Contains(route, "Topic:           acme-copy\n") {
		t.Fatalf("route after the move:\n%s", route)
	}

	// Delete needs --yes, and names what it would delete.
	c.fails([]string{"tenant", "delete", "acme"}, "acme-copy", "every record", "--yes")
	c.ok("tenant", "get", "acme")
	if out := c.ok("tenant", "delete", "acme", "--yes"); out != "tenant \"acme\" deleted\n" {
		t.Fatalf("tenant delete printed %q", out)
	}
	c.fails([]string{"tenant", "get", "acme"}, `404 Not Found: tenant "acme" does not exist`)
	c.fails([]string{"tenant", "delete", "acme"}, "404 Not Found")
	if _, rows := table(t, c.ok("tenant", "list")); len(rows) != 0 {
		t.Fatalf("tenant list after delete: %q", rows)
	}
}

func TestCLITopic(t *testing.T) {
	c, srv := startCLI(t)
	c.ok("cluster", "add", "eu1", "--region", "eu", "--bootstrap", srv.Kafka)
	c.ok("tenant", "create", "acme", "--region", "eu", "--partitions", "3")
	const topic = "sluice.tenant.acme.1"

	h, rows := table(t, c.ok("topic", "set-partitions", "eu1", topic, "5"))
	wantHeader(t, h, "CLUSTER", "TOPIC", "TENANT", "STATE", "PARTITIONS", "RF")
	if strings.Join(rows[0], " ") != "eu1 "+topic+" acme active 5 1" {
		t.Fatalf("set-partitions printed %q", rows)
	}
	msg := c.fails([]string{"topic", "set-partitions", "eu1", topic, "2"},
		"422 Unprocessable Entity: body.partitions: 2 is fewer than the topic's 5 partitions", "migrate the tenant")
	if strings.Count(msg, "Kafka cannot remove partitions") != 1 {
		t.Errorf("the reason is repeated: %q", msg)
	}
	c.fails([]string{"topic", "set-partitions", "eu1", topic, "many"}, `partition count "many"`)

	var tp struct {
		Partitions int
		Configs    map[string]string
	}
	decodeJSON(t, c.ok("topic", "set-config", "eu1", topic, "max.message.bytes=2097152", "-o", "json"), &tp)
	if tp.Partitions != 5 || tp.Configs["max.message.bytes"] != "2097152" {
		t.Fatalf("set-config -o json = %+v", tp)
	}
	c.fails([]string{"topic", "set-config", "eu1", topic, "retention.ms"}, `config "retention.ms": want key=value`)
	c.fails([]string{"topic", "set-config", "eu1", topic}, "at least one KEY=VALUE")

	_, rows = table(t, c.ok("topic", "list", "--tenant", "acme"))
	if len(rows) != 1 || rows[0][4] != "5" {
		t.Fatalf("topic list rows = %q", rows)
	}
	if _, rows = table(t, c.ok("topic", "list", "--cluster", "other")); len(rows) != 0 {
		t.Fatalf("topic list --cluster other = %q", rows)
	}

	h, rows = table(t, c.ok("operations", "--tenant", "acme"))
	wantHeader(t, h, "ID", "KIND", "CLUSTER", "TOPIC", "PARAMS", "STATE", "ATTEMPTS", "CREATED", "ERROR")
	if len(rows) != 3 || rows[0][1] != "topic.set_configs" || rows[1][4] != "partitions=5" || rows[2][1] != "topic.create" {
		t.Fatalf("operations rows = %q", rows)
	}
	var ops struct{ Operations []map[string]any }
	decodeJSON(t, c.ok("operations", "--state", "pending", "-o", "json"), &ops)
	if ops.Operations == nil || len(ops.Operations) != 0 {
		t.Fatalf("operations --state pending -o json = %v", ops)
	}
}

func TestCLIEvents(t *testing.T) {
	c, srv := startCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	appendEvent := func(kind, tenant, msg string) events.Event {
		t.Helper()
		e, err := srv.Process.Events.Append(ctx, events.Event{Kind: kind, Cluster: "eu1", Tenant: tenant, Message: msg,
			Details: map[string]string{"from": "3", "to": "6"}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	first := appendEvent("topic.partitions_adopted", "acme", "topic sluice.tenant.acme.1 went from 3 to 6 partitions outside Sluice")
	appendEvent("cluster.unreachable", "", "cluster eu1 stopped answering")

	h, rows := table(t, c.ok("events", "--since", "1h"))
	wantHeader(t, h, "ID", "TIME", "KIND", "CLUSTER", "TENANT", "MESSAGE")
	if len(rows) != 2 || rows[0][2] != "topic.partitions_adopted" || rows[1][4] != "-" {
		t.Fatalf("events rows = %q", rows)
	}
	// Details already in the message are not repeated; others are added.
	if rows[0][5] != "topic sluice.tenant.acme.1 went from 3 to 6 partitions outside Sluice" ||
		rows[1][5] != "cluster eu1 stopped answering from=3 to=6" {
		t.Errorf("messages = %q, %q", rows[0][5], rows[1][5])
	}

	var page struct{ Events []events.Event }
	decodeJSON(t, c.ok("events", "--kind", "cluster.unreachable", "-o", "json"), &page)
	if len(page.Events) != 1 || page.Events[0].Kind != "cluster.unreachable" {
		t.Fatalf("events --kind -o json = %+v", page)
	}
	decodeJSON(t, c.ok("events", "--after-id", "0", "--limit", "1", "-o", "json"), &page)
	if len(page.Events) != 1 || page.Events[0].ID != first.ID {
		t.Fatalf("events --limit 1 = %+v", page)
	}
	if _, rows := table(t, c.ok("events", "--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))); len(rows) != 0 {
		t.Fatalf("events from the future = %q", rows)
	}
	c.fails([]string{"events", "--since", "yesterday"}, `--since "yesterday"`)

	// --follow prints what is there, then what comes, until cancelled.
	fctx, stop := context.WithCancel(ctx)
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- c.runContext(fctx, &out, "events", "--follow", "--tenant", "acme", "--poll-interval", "100ms", "--limit", "1")
	}()
	waitFor(t, &out, "went from 3 to 6")
	appendEvent("topic.config_drift", "acme", "retention.ms of sluice.tenant.acme.1 changed outside Sluice")
	appendEvent("topic.config_drift", "globex", "not for acme")
	waitFor(t, &out, "retention.ms of sluice.tenant.acme.1 changed")
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("events --follow returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("events --follow did not stop within 10s of cancel")
	}
	got := out.String()
	if strings.Count(got, "ID  ") != 1 || strings.Contains(got, "not for acme") || strings.Contains(got, "stopped answering") {
		t.Fatalf("events --follow printed:\n%s", got)
	}
	// Columns stay aligned across pages.
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 3 || strings.Index(lines[1], "topic.") != strings.Index(lines[2], "topic.") {
		t.Fatalf("events --follow lines are not aligned:\n%s", got)
	}
}

// waitFor polls out until it contains s.
func waitFor(t *testing.T, out *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("output does not contain %q within 10s:\n%s", s, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCLINodes(t *testing.T) {
	c, _ := startCLI(t)
	h, rows := table(t, c.ok("nodes"))
	wantHeader(t, h, "ID", "HOSTNAME", "VERSION", "ROLES", "ALIVE", "STARTED", "HEARTBEAT")
	if len(rows) != 1 || rows[0][3] != "server" || rows[0][4] != "yes" {
		t.Fatalf("nodes rows = %q", rows)
	}
}

// TestCLILocalValidation covers mistakes caught before any request, so the
// server address does not matter.
func TestCLILocalValidation(t *testing.T) {
	c := cli{t: t, url: unusedAddr(t)}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tenant", "create", "a", "--region", "eu", "--config", "cleanup.policy"}, `--config "cleanup.policy": want key=value`},
		{[]string{"tenant", "create", "a", "--region", "eu", "--config", "=x"}, "the key before '=' is empty"},
		{[]string{"tenant", "create", "a", "--region", "eu", "--config", "a=1", "--config", "a=2"}, "a is given twice"},
		{[]string{"tenant", "create", "a", "--region", "eu", "--retention", "soon"}, `--retention: "soon" is not a duration`},
		{[]string{"tenant", "create", "a"}, `required flag(s) "region" not set`},
		{[]string{"tenant", "get"}, "takes NAME"},
		{[]string{"cluster", "list", "-o", "yaml"}, `--output "yaml": want table or json`},
		{[]string{"cluster", "add", "x", "--region", "r", "--bootstrap", "h:1", "--state", "gone"}, `--state "gone"`},
		{[]string{"cluster", "add", "x", "--region", "r", "--bootstrap", "h:1", "--tls-cert-file", "c.pem"}, "go together"},
		{[]string{"cluster", "add", "x", "--region", "r", "--bootstrap", "h:1", "--tls=false", "--tls-server-name", "k"}, "--tls=false"},
		{[]string{"cluster", "add", "x", "--region", "r", "--bootstrap", "h:1", "--sasl-username", "u"}, "--sasl-mechanism"},
		{[]string{"topic", "get", "c"}, "takes CLUSTER TOPIC"},
		{[]string{"operations", "--state", "stuck"}, `--state "stuck"`},
		{[]string{"events", "--limit", "0"}, "--limit 0"},
		{[]string{"events", "--poll-interval", "1ms", "--follow"}, "--poll-interval"},
	} {
		c.fails(tc.args, tc.want)
	}
}

func TestCLIUnreachable(t *testing.T) {
	addr := unusedAddr(t)
	c := cli{t: t, url: addr}
	c.fails([]string{"tenant", "list"}, "list tenants: cannot reach the Sluice API at "+addr, "refused", "--server", "SLUICE_SERVER")
}

// unusedAddr is the URL of a port nothing listens on.
func unusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

func TestCLIServerFromEnvironment(t *testing.T) {
	srv := clienttest.Start(t)
	t.Setenv("SLUICE_SERVER", srv.URL)
	root := newRootCmd()
	var out syncBuffer
	root.SetArgs([]string{"nodes", "-o", "json"})
	root.SetOut(&out)
	if err := root.Execute(); err != nil {
		t.Fatalf("SLUICE_SERVER=%s sluice nodes: %v", srv.URL, err)
	}
	var nodes struct{ Nodes []map[string]any }
	decodeJSON(t, out.String(), &nodes)
	if len(nodes.Nodes) != 1 {
		t.Fatalf("nodes = %v", nodes)
	}
}

// TestCLIHelp checks that every client command documents itself with an
// example and names the environment variable of --server.
func TestCLIHelp(t *testing.T) {
	root := newRootCmd()
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if !cmd.HasSubCommands() && cmd.Example == "" {
			t.Errorf("%s has no example", cmd.CommandPath())
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	for _, cmd := range root.Commands() {
		if cmd.GroupID != clientGroup {
			continue
		}
		walk(cmd)
		r := newRootCmd()
		var out strings.Builder
		r.SetOut(&out)
		r.SetArgs([]string{cmd.Name(), "--help"})
		if err := r.Execute(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "[$SLUICE_SERVER]") || !strings.Contains(out.String(), "-o, --output") {
			t.Errorf("sluice %s --help lacks --server or --output:\n%s", cmd.Name(), out.String())
		}
	}
}

// TestClusterUpdateMerges checks what cluster update sends for TLS and SASL,
// which the API replaces whole: the stored settings with the flags applied.
func TestClusterUpdateMerges(t *testing.T) {
	parse := func(args ...string) (*cobra.Command, *clusterFlags) {
		cf := &clusterFlags{}
		cmd := &cobra.Command{Use: "update"}
		cf.register(cmd)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		return cmd, cf
	}
	cur := client.Cluster{TLS: &api.TLSView{Enabled: true, CACert: "CA PEM", ClientKeySet: true, ServerName: "old"},
		SASL: &api.SASLView{Mechanism: "PLAIN", Username: "svc", PasswordSet: true}}

	cmd, cf := parse("--tls-server-name", "kafka.internal")
	tls, err := cf.tlsSettings(cmd, &cur)
	if err != nil || *tls != (client.TLS{Enabled: true, CACert: "CA PEM", ServerName: "kafka.internal"}) {
		t.Fatalf("--tls-server-name: %+v, %v (want the CA kept and no client key, so the stored one stays)", tls, err)
	}
	if sasl, err := cf.saslSettings(cmd, &cur); sasl != nil || err != nil {
		t.Fatalf("no --sasl-* flag: SASL %+v, %v, want none sent", sasl, err)
	}

	cmd, cf = parse("--tls=false")
	if tls, err = cf.tlsSettings(cmd, &client.Cluster{}); tls != nil || err != nil {
		t.Fatalf("--tls=false on a plaintext cluster: %+v, %v, want nothing sent", tls, err)
	}
	if tls, err = cf.tlsSettings(cmd, &cur); err != nil || *tls != (client.TLS{}) {
		t.Fatalf("--tls=false: %+v, %v", tls, err)
	}

	t.Setenv(saslPasswordEnv, "")
	cmd, cf = parse("--sasl-mechanism", "scram-sha-512")
	sasl, err := cf.saslSettings(cmd, &cur)
	if err != nil || *sasl != (client.SASL{Mechanism: "SCRAM-SHA-512", Username: "svc"}) {
		t.Fatalf("--sasl-mechanism: %+v, %v (want the user kept and no password, so the stored one stays)", sasl, err)
	}
	if _, err := cf.saslSettings(cmd, &client.Cluster{}); err == nil || !strings.Contains(err.Error(), "--sasl-username") {
		t.Fatalf("SASL without a stored user: %v", err)
	}
}

package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/internal/client"
)

// startSubCLI starts a server with tenants acme and globex; acme has a
// schema with action and port fields, globex none.
func startSubCLI(t *testing.T) cli {
	t.Helper()
	c, srv := startCLI(t)
	c.ok("cluster", "add", "local", "--region", "eu", "--bootstrap", srv.Kafka)
	c.ok("tenant", "create", "acme", "--region", "eu", "--partitions", "1")
	c.ok("tenant", "create", "globex", "--region", "eu", "--partitions", "1")
	schema := `{"schema":"{\"type\":\"record\",\"name\":\"Log\",\"fields\":[{\"name\":\"action\",\"type\":\"string\"},{\"name\":\"port\",\"type\":\"int\"}]}"}`
	resp, err := http.Post(srv.URL+"/v1/tenants/acme/schemas", "application/json", strings.NewReader(schema))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("register schema: %v %v", resp, err)
	}
	resp.Body.Close()
	return c
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	subJSON = `{"application": "billing", "tenant": "acme", "sql": "SELECT port FROM tenant WHERE action = 'deny'", "sink": {"type": "discard"}}`
	subYAML = `application: alerts
tenant: acme
sql: |
  SELECT action, port
  FROM tenant
  WHERE port > 1000
sink:
  type: discard
labels:
  team: sec
`
)

// createSub creates a subscription from a JSON spec and returns it.
func createSub(t *testing.T, c cli, spec string) client.Subscription {
	t.Helper()
	var s client.Subscription
	decodeJSON(t, c.ok("sub", "create", "-f", writeFile(t, "sub.json", spec), "-o", "json"), &s)
	return s
}

func getSub(t *testing.T, c cli, id string) client.Subscription {
	t.Helper()
	var s client.Subscription
	decodeJSON(t, c.ok("sub", "get", id, "-o", "json"), &s)
	return s
}

func TestSubCreate(t *testing.T) {
	c := startSubCLI(t)

	// JSON file: a table row.
	h, rows := table(t, c.ok("sub", "create", "-f", writeFile(t, "sub.json", subJSON)))
	wantHeader(t, h, "ID", "APPLICATION", "TENANT", "STATE", "EPOCH", "SCHEMA", "SINK", "UPDATED")
	if len(rows) != 1 || !strings.HasPrefix(rows[0][0], "sub-") || strings.Join(rows[0][1:7], " ") != "billing acme running 1 1 discard" {
		t.Fatalf("create printed %q", rows)
	}

	// YAML file, -o yaml.
	var y map[string]any
	out := c.ok("sub", "create", "-f", writeFile(t, "sub.yaml", subYAML), "-o", "yaml")
	if err := yaml.Unmarshal([]byte(out), &y); err != nil {
		t.Fatalf("create -o yaml: %v\n%s", err, out)
	}
	if y["application"] != "alerts" || y["sql"] != "SELECT action, port\nFROM tenant\nWHERE port > 1000\n" || y["outputFormat"] != "JSON" ||
		y["labels"].(map[string]any)["team"] != "sec" || y["epoch"] != 1 || y["sink"].(map[string]any)["type"] != "discard" {
		t.Fatalf("create -o yaml:\n%s", out)
	}
	if !strings.Contains(out, "sql: |\n  SELECT action, port\n") {
		t.Errorf("the SQL is not a literal block:\n%s", out)
	}

	// Standard input, YAML; a file sink.
	sinkPath := filepath.Join(t.TempDir(), "out.ndjson")
	c.stdin = "application: audit\ntenant: acme\nsql: SELECT * FROM tenant\nsink: {type: file, path: " + sinkPath + ", fsync: true}\nstartFrom: latest\n"
	var s client.Subscription
	decodeJSON(t, c.ok("sub", "create", "-f", "-", "-o", "json"), &s)
	if s.Application != "audit" || s.StartFrom != "latest" || s.Sink.Type != "file" || s.Sink.Settings["path"] != sinkPath || s.Sink.Settings["fsync"] != true {
		t.Fatalf("create from stdin: %+v", s)
	}
	c.stdin = ""

	// A dry run validates and saves nothing.
	out = c.ok("sub", "create", "-f", writeFile(t, "dry.json", strings.Replace(subJSON, "billing", "dry", 1)), "--dry-run")
	if out != "dry run: the subscription is valid against schema version 1 of tenant \"acme\" and its discard sink opened; nothing was saved\n" {
		t.Fatalf("dry run printed %q", out)
	}
	if _, rows := table(t, c.ok("sub", "list", "--application", "dry")); len(rows) != 0 {
		t.Fatalf("the dry run saved %q", rows)
	}
	if _, rows := table(t, c.ok("sub", "list")); len(rows) != 3 {
		t.Fatalf("list after creating 3: %q", rows)
	}

	// Errors.
	badSQL := writeFile(t, "bad.yaml", "application: x\ntenant: acme\nsql: |\n  SELECT port\n  FROM tenant WHERE acton = 'deny'\nsink: {type: discard}\n")
	msg := c.fails([]string{"sub", "create", "-f", badSQL},
		"create subscription: 422 Unprocessable Entity: body.sql: line 2, column 19: unknown column acton (did you mean action?)",
		"\n  FROM tenant WHERE acton = 'deny'\n                    ^")
	if strings.Count(msg, "unknown column") != 1 {
		t.Errorf("the SQL error is said more than once:\n%s", msg)
	}
	c.fails([]string{"sub", "create", "-f", writeFile(t, "t.json", strings.Replace(subJSON, `"acme"`, `"nosuch"`, 1))},
		`422 Unprocessable Entity: body.tenant: no tenant "nosuch"`)
	c.fails([]string{"sub", "create", "-f", writeFile(t, "t.json", strings.Replace(subJSON, `"acme"`, `"globex"`, 1))},
		`tenant "globex" has no schema yet`)
	c.fails([]string{"sub", "create", "-f", writeFile(t, "s.json", strings.Replace(subJSON, "discard", "nosuch", 1))}, "422", "body.sink")
	c.fails([]string{"sub", "create", "-f", filepath.Join(t.TempDir(), "missing.yaml")}, "-f: open", "no such file")
	c.fails([]string{"sub", "create", "-f", writeFile(t, "bad.json", `{"application": "x",`)}, "bad.json: not valid JSON")
	c.fails([]string{"sub", "create", "-f", writeFile(t, "bad.yaml", "application: [x\n")}, "bad.yaml: not valid YAML")
	c.fails([]string{"sub", "create", "-f", writeFile(t, "typo.yaml", "application: x\ntenant: acme\nsqll: SELECT 1\n")}, `typo.yaml: unknown field "sqll"`)
	c.fails([]string{"sub", "create", "-f", writeFile(t, "list.yaml", "- a\n- b\n")}, "want an object")
	c.fails([]string{"sub", "create", "-f", writeFile(t, "empty.yaml", "\n")}, "empty.yaml: empty")
	c.fails([]string{"sub", "create"}, "no subscription: give a JSON or YAML file with -f")
	c.fails([]string{"sub", "create", "-f", writeFile(t, "sub.json", subJSON), "-o", "xml"}, `--output "xml": want table, json or yaml`)
}

func TestSubListGet(t *testing.T) {
	c := startSubCLI(t)
	a := createSub(t, c, subJSON)
	b := createSub(t, c, strings.Replace(subJSON, "billing", "alerts", 1))
	d := createSub(t, c, strings.Replace(subJSON, "billing", "alerts", 1))
	c.ok("sub", "pause", d.ID)

	h, rows := table(t, c.ok("sub", "list"))
	wantHeader(t, h, "ID", "APPLICATION", "TENANT", "STATE", "EPOCH", "SCHEMA", "SINK", "UPDATED")
	if len(rows) != 3 {
		t.Fatalf("list: %q", rows)
	}
	_, rows = table(t, c.ok("sub", "list", "--application", "alerts", "--state", "running"))
	if len(rows) != 1 || rows[0][0] != b.ID {
		t.Fatalf("list --application alerts --state running: %q", rows)
	}
	_, rows = table(t, c.ok("sub", "list", "--state", "paused", "--tenant", "acme"))
	if len(rows) != 1 || rows[0][0] != d.ID || rows[0][3] != "paused" {
		t.Fatalf("list --state paused: %q", rows)
	}
	if _, rows = table(t, c.ok("sub", "list", "--tenant", "globex")); len(rows) != 0 {
		t.Fatalf("list --tenant globex: %q", rows)
	}

	// Pages: --limit shows the next cursor, --all follows it.
	var page struct {
		Subscriptions []client.Subscription
		Next          string
	}
	decodeJSON(t, c.ok("sub", "list", "--limit", "2", "-o", "json"), &page)
	if len(page.Subscriptions) != 2 || page.Next == "" {
		t.Fatalf("list --limit 2: %+v", page)
	}
	if out := c.ok("sub", "list", "--limit", "2"); !strings.Contains(out, "more subscriptions: add --after "+page.Next) {
		t.Errorf("list --limit 2 does not name the next page:\n%s", out)
	}
	next := page.Next
	page.Next = ""
	decodeJSON(t, c.ok("sub", "list", "--limit", "2", "--after", next, "-o", "json"), &page)
	if len(page.Subscriptions) != 1 || page.Next != "" {
		t.Fatalf("list --after: %+v", page)
	}
	decodeJSON(t, c.ok("sub", "list", "--limit", "1", "--all", "-o", "json"), &page)
	if len(page.Subscriptions) != 3 || page.Next != "" {
		t.Fatalf("list --limit 1 --all: %+v", page)
	}
	c.fails([]string{"sub", "list", "--state", "stopped"}, `--state "stopped": want running or paused`)

	// get: fields, JSON, YAML.
	out := c.ok("sub", "get", a.ID)
	for _, want := range []string{"ID:              " + a.ID + "\n", "Application:     billing\n", "State:           running\n",
		"Version:         1\n", "Sink:            discard\n", "Lateness:        5 seconds\n", "SQL:             SELECT port FROM tenant WHERE action = 'deny'\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("get does not contain %q:\n%s", want, out)
		}
	}
	if got := getSub(t, c, a.ID); got.ID != a.ID || got.SQL != a.SQL || got.Version != 1 {
		t.Errorf("get -o json: %+v", got)
	}
	out = c.ok("sub", "get", a.ID, "-o", "yaml")
	var y struct {
		ID        string         `yaml:"id"`
		SQL       string         `yaml:"sql"`
		StartFrom string         `yaml:"startFrom"`
		Version   int            `yaml:"version"`
		Sink      map[string]any `yaml:"sink"`
	}
	if err := yaml.Unmarshal([]byte(out), &y); err != nil || y.ID != a.ID || y.SQL != a.SQL || y.StartFrom != "earliest" || y.Version != 1 || y.Sink["type"] != "discard" {
		t.Errorf("get -o yaml: %+v, %v\n%s", y, err, out)
	}
	if !strings.HasPrefix(out, "application: billing\ntenant: acme\n") || !strings.Contains(out, "\nschemaVersion: 1\n") {
		t.Errorf("get -o yaml does not keep the JSON field names and order:\n%s", out)
	}

	// What get -o yaml prints can be sent back as a new subscription.
	c.stdin = strings.Replace(out, "billing", "copy", 1)
	if _, rows = table(t, c.ok("sub", "create", "-f", "-")); len(rows) != 1 || rows[0][0] == a.ID || rows[0][1] != "copy" {
		t.Fatalf("create from get -o yaml: %q", rows)
	}
	c.stdin = ""

	c.fails([]string{"sub", "get", "sub-nosuch"}, `get subscription sub-nosuch: 404 Not Found: no subscription "sub-nosuch"`)
}

func TestSubEdit(t *testing.T) {
	c := startSubCLI(t)
	s := createSub(t, c, subJSON)

	// --set: a changed query is a new version and a new epoch.
	out := c.ok("sub", "edit", s.ID, "--set", "sql=SELECT action FROM tenant", "--set", "labels.team=sec")
	if out != "subscription "+s.ID+": version 2, epoch 2\n" {
		t.Fatalf("edit --set printed %q", out)
	}
	got := getSub(t, c, s.ID)
	if got.SQL != "SELECT action FROM tenant" || got.Labels["team"] != "sec" || got.Version != 2 || got.Epoch != 2 {
		t.Fatalf("after edit --set: %+v", got)
	}
	// A changed sink setting, and a removed label.
	sinkPath := filepath.Join(t.TempDir(), "out.ndjson")
	c.ok("sub", "edit", s.ID, "--set", "sink.type=file", "--set", "sink.path="+sinkPath, "--set", "sink.fsync=false", "--set", "labels.team=")
	got = getSub(t, c, s.ID)
	if got.Sink.Type != "file" || got.Sink.Settings["path"] != sinkPath || got.Sink.Settings["fsync"] != false || len(got.Labels) != 0 || got.Epoch != 3 {
		t.Fatalf("after edit --set sink.*: %+v", got)
	}

	// -f, JSON: a file without application and tenant takes the
	// subscription's.
	f := writeFile(t, "spec.json", `{"sql": "SELECT port FROM tenant", "sink": {"type": "discard"}, "lateness": "1 minute"}`)
	var after client.Subscription
	decodeJSON(t, c.ok("sub", "edit", s.ID, "-f", f, "-o", "json"), &after)
	if after.SQL != "SELECT port FROM tenant" || after.Lateness != "1 minute" || after.Version != 4 || after.Epoch != 4 || after.Application != "billing" {
		t.Fatalf("edit -f: %+v", after)
	}
	// The same spec again: a new version, the same epoch (no restart).
	decodeJSON(t, c.ok("sub", "edit", s.ID, "-f", f, "-o", "json"), &after)
	if after.Version != 5 || after.Epoch != 4 {
		t.Fatalf("edit -f unchanged: version %d epoch %d, want 5 and 4", after.Version, after.Epoch)
	}

	// If-Match: a stale version is refused.
	c.fails([]string{"sub", "edit", s.ID, "--set", "sql=SELECT 1 FROM tenant", "--if-match", "2"},
		"edit subscription "+s.ID+": 412 Precondition Failed: subscription "+s.ID+" is at version 5, not 2")
	c.fails([]string{"sub", "edit", s.ID, "-f", f, "--if-match", "3"}, "412 Precondition Failed")
	c.ok("sub", "edit", s.ID, "--set", "startFrom=latest", "--if-match", "5")

	// Errors, none of which change anything.
	c.fails([]string{"sub", "edit", s.ID, "--set", "sql=SELECT\n  prot FROM tenant"},
		"422 Unprocessable Entity: body.sql: line 2, column 3: unknown column prot (did you mean port?)", "\n    prot FROM tenant\n    ^")
	c.fails([]string{"sub", "edit", s.ID, "--set", "lateness=soon"}, "body.lateness")
	c.fails([]string{"sub", "edit", s.ID, "--set", "tenant=globex"}, "--set tenant: want one of sql, outputFormat")
	c.fails([]string{"sub", "edit", s.ID, "--set", "sql"}, `--set "sql": want key=value`)
	c.fails([]string{"sub", "edit", s.ID, "--set", "sql="}, "the query cannot be empty")
	resp, err := http.Post(c.url+"/v1/tenants/globex/schemas", "application/json", strings.NewReader(`{"schema":"{\"type\":\"record\",\"name\":\"L\",\"fields\":[]}"}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("register schema: %v %v", resp, err)
	}
	resp.Body.Close()
	c.fails([]string{"sub", "edit", s.ID, "-f", writeFile(t, "t.json", `{"tenant": "globex", "sql": "SELECT 1 FROM tenant", "sink": {"type": "discard"}}`)},
		`body.tenant: cannot change from "acme"`)
	c.fails([]string{"sub", "edit", s.ID, "-f", f, "--set", "sql=x"}, "give -f or --set, not both")
	c.fails([]string{"sub", "edit", s.ID, "--if-match", "3"}, "--if-match goes with -f or --set")
	c.fails([]string{"sub", "edit", s.ID, "--set", "startFrom=earliest", "--if-match", "x"}, `--if-match "x": want a version number`)
	c.fails([]string{"sub", "edit", "sub-nosuch", "--set", "startFrom=earliest"}, `404 Not Found: no subscription "sub-nosuch"`)
	c.fails([]string{"sub", "edit", "sub-nosuch", "-f", f}, `404 Not Found: no subscription "sub-nosuch"`)
	if got := getSub(t, c, s.ID); got.Version != 6 {
		t.Fatalf("a failed edit changed the subscription: version %d, want 6", got.Version)
	}
}

// editor makes an $EDITOR: a shell script running body with the file as $1.
func editor(t *testing.T, body string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nset -e\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", p)
}

// keptFile is the file an error message says the edit is kept in.
func keptFile(msg string) string {
	_, after, _ := strings.Cut(msg, "your edit is kept in ")
	return strings.TrimRight(strings.Fields(after)[0], ":")
}

func TestSubEditInEditor(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // where edits are kept
	c := startSubCLI(t)
	s := createSub(t, c, subJSON)

	// The editor sees the spec as YAML, and what it changes is applied.
	seen := filepath.Join(t.TempDir(), "seen.yaml")
	editor(t, `cp "$1" `+seen+`; sed -i "s/action = 'deny'/action = 'allow'/" "$1"`)
	if out := c.ok("sub", "edit", s.ID); out != "subscription "+s.ID+": version 2, epoch 2\n" {
		t.Fatalf("edit printed %q", out)
	}
	if got := getSub(t, c, s.ID); got.SQL != "SELECT port FROM tenant WHERE action = 'allow'" {
		t.Fatalf("after edit: %+v", got)
	}
	b, _ := os.ReadFile(seen)
	if !strings.HasPrefix(string(b), "# Edit subscription "+s.ID+" (version 1)") ||
		!strings.Contains(string(b), "\napplication: billing\ntenant: acme\nsql: SELECT port FROM tenant WHERE action = 'deny'\n") ||
		strings.Contains(string(b), "\nid:") {
		t.Errorf("the editor was given:\n%s", b)
	}

	// Saved unchanged: no change.
	editor(t, `touch "$1"`)
	if out := c.ok("sub", "edit", s.ID); out != "subscription "+s.ID+": no change\n" {
		t.Fatalf("unchanged edit printed %q", out)
	}
	// Reformatted, the same spec: no change either.
	editor(t, `sed -i '/^#/d' "$1"`)
	if out := c.ok("sub", "edit", s.ID); out != "subscription "+s.ID+": no change\n" {
		t.Fatalf("comment-only edit printed %q", out)
	}
	// Emptied: cancelled.
	editor(t, `: > "$1"`)
	c.fails([]string{"sub", "edit", s.ID}, "edit cancelled")
	// The editor fails.
	editor(t, "exit 3")
	c.fails([]string{"sub", "edit", s.ID}, "exit status 3")
	// An invalid edit is kept for -f.
	editor(t, `sed -i 's/port FROM/prot FROM/' "$1"`)
	msg := c.fails([]string{"sub", "edit", s.ID}, "unknown column prot", "your edit is kept in ")
	kept := keptFile(msg)
	if b, err := os.ReadFile(kept); err != nil || !strings.Contains(string(b), "SELECT prot FROM") {
		t.Fatalf("kept edit %s: %v\n%s", kept, err, b)
	}
	if got := getSub(t, c, s.ID); got.Version != 2 {
		t.Fatalf("failed edits changed the subscription: version %d", got.Version)
	}

	// Someone else changes the subscription while the editor is open: 412,
	// and the edit is kept.
	dir := t.TempDir()
	editor(t, `touch `+dir+`/opened; while [ ! -f `+dir+`/go ]; do sleep 0.02; done; sed -i 's/allow/deny/' "$1"`)
	errc := make(chan error, 1)
	go func() {
		_, err := c.run("sub", "edit", s.ID)
		errc <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for _, err := os.Stat(dir + "/opened"); err != nil; _, err = os.Stat(dir + "/opened") {
		if time.Now().After(deadline) {
			t.Fatal("the editor did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.ok("sub", "restart", s.ID)
	if err := os.WriteFile(dir+"/go", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	if err == nil || !strings.Contains(err.Error(), "412 Precondition Failed") || !strings.Contains(err.Error(), "changed while you edited it; your edit is kept in") {
		t.Fatalf("concurrent edit: %v", err)
	}
	kept = keptFile(err.Error())
	// Applying the kept edit with -f.
	c.ok("sub", "edit", s.ID, "-f", kept)
	if got := getSub(t, c, s.ID); got.SQL != "SELECT port FROM tenant WHERE action = 'deny'" || got.Version != 4 || got.Epoch != 4 {
		t.Fatalf("after edit -f of the kept file: %+v", got)
	}
}

func TestSubLifecycle(t *testing.T) {
	c := startSubCLI(t)
	s := createSub(t, c, subJSON)

	_, rows := table(t, c.ok("sub", "pause", s.ID))
	if rows[0][3] != "paused" || rows[0][4] != "1" {
		t.Fatalf("pause printed %q", rows)
	}
	if _, rows = table(t, c.ok("sub", "list", "--state", "paused")); len(rows) != 1 {
		t.Fatalf("list --state paused after pause: %q", rows)
	}
	var got client.Subscription
	decodeJSON(t, c.ok("sub", "resume", s.ID, "-o", "json"), &got)
	if got.State != "running" || got.Epoch != 1 || got.Version != 3 {
		t.Fatalf("resume: %+v", got)
	}
	_, rows = table(t, c.ok("sub", "restart", s.ID))
	if rows[0][3] != "running" || rows[0][4] != "2" {
		t.Fatalf("restart printed %q", rows)
	}

	// status: the in-process server runs no jobs, so no worker reports.
	out := c.ok("sub", "status", s.ID)
	for _, want := range []string{"ID:              " + s.ID + "\n", "Desired state:   running\n", "Actual state:    unknown\n",
		"Epoch:           - (desired 2)\n", "Lag:             -\n", "Reported:        never\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not contain %q:\n%s", want, out)
		}
	}
	var st client.SubscriptionStatus
	decodeJSON(t, c.ok("sub", "status", s.ID, "-o", "json"), &st)
	if st.DesiredState != "running" || st.ActualState != "unknown" || st.DesiredEpoch != 2 {
		t.Fatalf("status -o json: %+v", st)
	}

	// dag in each format, to standard output or a file.
	var plan struct{ Nodes []struct{ Kind string } }
	decodeJSON(t, c.ok("sub", "dag", s.ID), &plan)
	if len(plan.Nodes) == 0 || plan.Nodes[0].Kind != "source" || plan.Nodes[len(plan.Nodes)-1].Kind != "sink" {
		t.Fatalf("dag: %+v", plan)
	}
	if out := c.ok("sub", "dag", s.ID, "--format", "dot"); !strings.HasPrefix(out, "digraph plan {") || !strings.Contains(out, "action = 'deny'") {
		t.Errorf("dag --format dot:\n%s", out)
	}
	svg := filepath.Join(t.TempDir(), "dag.svg")
	if out := c.ok("sub", "dag", s.ID, "--format", "svg", "-o", svg); out != "" {
		t.Errorf("dag -o FILE printed %q", out)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.HasPrefix(strings.TrimPrefix(string(b), `<?xml version="1.0" encoding="UTF-8"?>`+"\n"), "<svg") {
		t.Errorf("dag --format svg: %v\n%.200s", err, b)
	}
	c.fails([]string{"sub", "dag", s.ID, "--format", "png"}, `--format "png": want json, dot or svg`)
	c.fails([]string{"sub", "dag", s.ID, "-o", "json"}, "-o names the output file")
	c.fails([]string{"sub", "dag", "sub-nosuch"}, `404 Not Found: no subscription "sub-nosuch"`)

	// delete asks for --yes, then the subscription is gone.
	c.fails([]string{"sub", "delete", s.ID}, "deleting subscription "+s.ID+" stops the job", "add --yes")
	if out := c.ok("sub", "delete", s.ID, "--yes", "--purge-offsets"); out != "subscription "+s.ID+" deleted\n" {
		t.Fatalf("delete printed %q", out)
	}
	c.fails([]string{"sub", "get", s.ID}, "404 Not Found")
	if _, rows = table(t, c.ok("sub", "list")); len(rows) != 0 {
		t.Fatalf("list after delete: %q", rows)
	}

	// Unknown ids.
	for _, args := range [][]string{{"pause", "sub-nosuch"}, {"resume", "sub-nosuch"}, {"restart", "sub-nosuch"},
		{"status", "sub-nosuch"}, {"delete", "sub-nosuch", "--yes"}, {"delete", "sub-nosuch"}} {
		c.fails(append([]string{"sub"}, args...), `404 Not Found: no subscription "sub-nosuch"`)
	}
	c.fails([]string{"sub", "get"}, "takes ID")
}

func TestSubStatusWatch(t *testing.T) {
	c := startSubCLI(t)
	s := createSub(t, c, subJSON)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- c.runContext(ctx, &out, "sub", "status", s.ID, "--watch", "--interval", "100ms") }()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), "Desired state:") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("--watch did not redraw within 10s:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("--watch ended with %v", err)
	}
	if strings.Count(out.String(), "\n--- ") < 2 {
		t.Errorf("--watch prints no separators:\n%s", out.String())
	}
	c.fails([]string{"sub", "status", s.ID, "--watch", "--interval", "1ms"}, "--interval 1ms: must be at least 100ms")
}

func TestSubYAMLSinkTypeFirst(t *testing.T) {
	b, err := toYAML(map[string]any{"sink": map[string]any{"type": "file", "fsync": true, "path": "/tmp/x"}, "sql": "SELECT 1\nFROM tenant"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "sink:\n  type: file\n  fsync: true\n  path: /tmp/x\nsql: |-\n  SELECT 1\n  FROM tenant\n"; string(b) != want {
		t.Fatalf("toYAML:\n%s\nwant\n%s", b, want)
	}
}

package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestCLISQLExplain(t *testing.T) {
	c, srv := startCLI(t)
	c.ok("cluster", "add", "local", "--region", "eu", "--bootstrap", srv.Kafka)
	c.ok("tenant", "create", "acme", "--region", "eu", "--partitions", "1")
	schema := `{"schema":"{\"type\":\"record\",\"name\":\"Log\",\"fields\":[{\"name\":\"action\",\"type\":\"string\"},{\"name\":\"port\",\"type\":\"int\"}]}"}`
	resp, err := http.Post(srv.URL+"/v1/tenants/acme/schemas", "application/json", strings.NewReader(schema))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("register schema: %v %v", resp, err)
	}
	resp.Body.Close()

	out := c.ok("sql", "explain", "acme", "select port from tenant where action = 'deny'")
	for _, want := range []string{
		"SELECT port FROM tenant WHERE action = 'deny'",
		"reads action, port (the filter needs only action)",
		"port    INTEGER",
		"-> Filter\n     condition: action = 'deny'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
	c.stdin = "SELECT * FROM tenant"
	if out := c.ok("sql", "explain", "acme", "-f", "-", "--format", "dot"); !strings.HasPrefix(out, "digraph plan {") {
		t.Errorf("--format dot:\n%s", out)
	}
	var ex struct {
		Columns []struct{ Name, Type string }
	}
	decodeJSON(t, c.ok("sql", "explain", "acme", "-o", "json", "SELECT port + 1 AS next FROM tenant"), &ex)
	if len(ex.Columns) != 1 || ex.Columns[0].Name != "next" || ex.Columns[0].Type != "INTEGER" {
		t.Errorf("json columns %+v", ex.Columns)
	}
	c.fails([]string{"sql", "explain", "acme", "SELECT prot FROM tenant"}, "line 1, column 8", "did you mean port?")
	c.fails([]string{"sql", "explain", "acme"}, "no query")
	c.fails([]string{"sql", "explain", "acme", "SELECT 1 FROM tenant", "--format", "svg"}, `--format "svg"`)
}

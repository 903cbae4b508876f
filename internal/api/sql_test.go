package api

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

func TestExplain(t *testing.T) {
	addr := kafkatest.Fake(t)
	s := storetest.SQLite(t)
	h := newSchemaServer(t, s, addr, "acme", "empty")
	srv := New(Config{Addr: "127.0.0.1:0"})
	RegisterSQL(srv.API(), schema.New(s, schema.Config{}))
	explain := srv.Handler()
	if code, body := do(t, h, "POST", "/v1/tenants/acme/schemas", `{"schema":`+jsonString(eventV1)+`}`); code != 201 {
		t.Fatalf("register = %d %v", code, body)
	}

	code, body := do(t, explain, "POST", "/v1/tenants/acme/explain",
		`{"sql":"select port, id from tenant where action = 'DENY';","outputFormat":"JSON","sink":"file out.ndjson"}`)
	if code != 200 {
		t.Fatalf("explain = %d %v", code, body)
	}
	if body["sql"] != "SELECT port, id FROM tenant WHERE action = 'DENY'" || body["schemaVersion"] != 1.0 ||
		body["filterFields"] != 1.0 || len(body["fields"].([]any)) != 3 || body["readsAll"] != false {
		t.Fatalf("explain body %v", body)
	}
	nodes := body["plan"].(map[string]any)["nodes"].([]any)
	if len(nodes) != 7 || !strings.Contains(body["dot"].(string), "digraph plan") {
		t.Fatalf("plan %v", body["plan"])
	}
	cols := body["columns"].([]any)
	if cols[0].(map[string]any)["type"] != "INTEGER" {
		t.Fatalf("columns %v", cols)
	}

	for _, c := range []struct {
		tenant, body string
		code         int
		want         string
	}{
		{"acme", `{"sql":"SELECT prot FROM tenant"}`, 422, `"message":"unknown column prot (did you mean port?)","location":"body.sql","value":{"column":8,"line":1}`},
		{"acme", `{"sql":"SELECT FROM tenant"}`, 422, `"location":"body.sql"`},
		{"acme", `{"sql":"SELECT COUNT(*) FROM tenant"}`, 422, "aggregate without GROUP BY"},
		{"acme", `{"sql":"SELECT id FROM tenant","lateness":"soon"}`, 422, "body.lateness"},
		{"acme", `{"sql":""}`, 422, "body.sql"},
		{"acme", `{"sql":"SELECT id FROM tenant","schemaVersion":7}`, 404, "version 7"},
		{"empty", `{"sql":"SELECT id FROM tenant"}`, 404, ""},
		{"nobody", `{"sql":"SELECT id FROM tenant"}`, 404, ""},
	} {
		code, raw := doRaw(t, explain, "POST", "/v1/tenants/"+c.tenant+"/explain", c.body)
		if code != c.code || !strings.Contains(raw, c.want) {
			t.Errorf("%s %s = %d %s; want %d with %s", c.tenant, c.body, code, raw, c.code, c.want)
		}
	}
}

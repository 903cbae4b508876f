package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/store/storetest"
	"github.com/sluicehq/sluice/internal/subscription"
)

// newSubscriptionServer serves the catalog, schemas and subscriptions over
// one SQLite store, with tenant acme holding eventV1.
func newSubscriptionServer(t *testing.T, cfg subscription.Config) (http.Handler, http.Handler) {
	t.Helper()
	s := storetest.SQLite(t)
	h := newSchemaServer(t, s, kafkatest.Fake(t), "acme", "empty")
	if code, body := do(t, h, "POST", "/v1/tenants/acme/schemas", `{"schema":`+jsonString(eventV1)+`}`); code != 201 {
		t.Fatalf("register = %d %v", code, body)
	}
	cfg.Schemas = schema.New(s, schema.Config{})
	srv := New(Config{Addr: "127.0.0.1:0"})
	RegisterSubscriptions(srv.API(), subscription.New(s, cfg))
	return srv.Handler(), h
}

func doHeaders(t *testing.T, h http.Handler, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(context.Background()))
	return rec
}

func TestSubscriptionsREST(t *testing.T) {
	dir := t.TempDir()
	h, _ := newSubscriptionServer(t, subscription.Config{SinkEnv: sink.Env{AllowPrivate: true}})
	spec := func(app, sql, file string) string {
		return `{"application":"` + app + `","tenant":"acme","sql":"` + sql + `","sink":{"type":"file","path":"` + filepath.Join(dir, file) + `"},"labels":{"team":"soc"}}`
	}

	// Create: 201 with defaults, an id and an ETag.
	rec := doHeaders(t, h, "POST", "/v1/subscriptions", spec("siem", "SELECT id, port FROM tenant WHERE action = 'DENY'", "a.ndjson"))
	if rec.Code != 201 || rec.Header().Get("ETag") != `"1"` {
		t.Fatalf("create = %d %s %s", rec.Code, rec.Header(), rec.Body)
	}
	code, sub := do(t, h, "GET", "/v1/subscriptions", "")
	list := sub["subscriptions"].([]any)
	if code != 200 || len(list) != 1 {
		t.Fatalf("list = %d %v", code, sub)
	}
	first := list[0].(map[string]any)
	id := first["id"].(string)
	for k, want := range map[string]any{"outputFormat": "JSON", "startFrom": "earliest", "deliveryGuarantee": "at-least-once",
		"lateness": "5 seconds", "state": "running", "epoch": 1.0, "version": 1.0, "schemaVersion": 1.0, "application": "siem"} {
		if first[k] != want {
			t.Errorf("%s = %v, want %v", k, first[k], want)
		}
	}
	if first["sink"].(map[string]any)["type"] != "file" {
		t.Errorf("sink %v", first["sink"])
	}

	// Dry run: validated, the sink checked, nothing saved.
	rec = doHeaders(t, h, "POST", "/v1/subscriptions?dryRun=true", spec("siem", "SELECT * FROM tenant", "dry.ndjson"))
	if rec.Code != 200 {
		t.Fatalf("dry run = %d %s", rec.Code, rec.Body)
	}
	if _, sub = do(t, h, "GET", "/v1/subscriptions?application=siem", ""); len(sub["subscriptions"].([]any)) != 1 {
		t.Fatalf("dry run saved a subscription: %v", sub)
	}

	// Filters and pages.
	for _, app := range []string{"a1", "a2", "a2"} {
		if rec := doHeaders(t, h, "POST", "/v1/subscriptions", spec(app, "SELECT id FROM tenant", app+".ndjson")); rec.Code != 201 {
			t.Fatalf("create %s = %d %s", app, rec.Code, rec.Body)
		}
	}
	if _, sub = do(t, h, "GET", "/v1/subscriptions?application=a2", ""); len(sub["subscriptions"].([]any)) != 2 {
		t.Fatalf("filter by application: %v", sub)
	}
	_, page := do(t, h, "GET", "/v1/subscriptions?limit=3", "")
	if len(page["subscriptions"].([]any)) != 3 || page["next"] == nil {
		t.Fatalf("page 1: %v", page)
	}
	_, page2 := do(t, h, "GET", "/v1/subscriptions?limit=3&after="+page["next"].(string), "")
	if len(page2["subscriptions"].([]any)) != 1 || page2["next"] != nil {
		t.Fatalf("page 2: %v", page2)
	}

	// Get with ETag; PUT with a stale If-Match is 412, with the right one a
	// new version and, the SQL having changed, a new epoch.
	rec = doHeaders(t, h, "GET", "/v1/subscriptions/"+id, "")
	if rec.Code != 200 || rec.Header().Get("ETag") != `"1"` {
		t.Fatalf("get = %d %s", rec.Code, rec.Header())
	}
	changed := spec("siem", "SELECT id FROM tenant", "a.ndjson")
	if rec = doHeaders(t, h, "PUT", "/v1/subscriptions/"+id, changed, "If-Match", `"7"`); rec.Code != 412 {
		t.Fatalf("stale PUT = %d %s", rec.Code, rec.Body)
	}
	rec = doHeaders(t, h, "PUT", "/v1/subscriptions/"+id, changed, "If-Match", `"1"`)
	if rec.Code != 200 || rec.Header().Get("ETag") != `"2"` || !strings.Contains(rec.Body.String(), `"epoch":2`) {
		t.Fatalf("PUT = %d %s %s", rec.Code, rec.Header(), rec.Body)
	}
	// The same spec again: a new version, the same epoch.
	rec = doHeaders(t, h, "PUT", "/v1/subscriptions/"+id, changed)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"epoch":2`) || !strings.Contains(rec.Body.String(), `"version":3`) {
		t.Fatalf("unchanged PUT = %d %s", rec.Code, rec.Body)
	}

	// PATCH: a merge patch of the spec.
	rec = doHeaders(t, h, "PATCH", "/v1/subscriptions/"+id, `{"labels":{"team":null,"tier":"gold"},"lateness":"1 minute"}`,
		"Content-Type", "application/merge-patch+json")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"labels":{"tier":"gold"}`) || !strings.Contains(rec.Body.String(), `"lateness":"1 minute"`) {
		t.Fatalf("PATCH = %d %s", rec.Code, rec.Body)
	}

	// Pause, resume, restart.
	for _, c := range []struct{ action, want string }{{"pause", `"state":"paused"`}, {"resume", `"state":"running"`}, {"restart", `"epoch":4`}} {
		if rec = doHeaders(t, h, "POST", "/v1/subscriptions/"+id+":"+c.action, ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), c.want) {
			t.Fatalf("%s = %d %s", c.action, rec.Code, rec.Body)
		}
	}
	if _, sub = do(t, h, "GET", "/v1/subscriptions?state=paused", ""); len(sub["subscriptions"].([]any)) != 0 {
		t.Fatalf("state filter: %v", sub)
	}

	// DAG in three forms, and status with no worker.
	for format, want := range map[string]string{"json": `"kind":"source"`, "dot": "digraph plan {", "svg": "<svg"} {
		rec = doHeaders(t, h, "GET", "/v1/subscriptions/"+id+"/dag?format="+format, "")
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Fatalf("dag %s = %d %.200s", format, rec.Code, rec.Body)
		}
	}
	if rec = doHeaders(t, h, "GET", "/v1/subscriptions/"+id+"/output-schema", ""); rec.Code != 200 ||
		!strings.Contains(rec.Body.String(), `"name":"SluiceResult"`) || !strings.Contains(rec.Body.String(), `"id"`) {
		t.Fatalf("output schema = %d %s", rec.Code, rec.Body)
	}
	if code, st := do(t, h, "GET", "/v1/subscriptions/"+id+"/status", ""); code != 200 || st["actualState"] != "unknown" || st["desiredState"] != "running" || st["desiredEpoch"] != 4.0 {
		t.Fatalf("status = %d %v", code, st)
	}

	// Delete: gone for every read.
	if rec = doHeaders(t, h, "DELETE", "/v1/subscriptions/"+id+"?purgeOffsets=true", ""); rec.Code != 204 {
		t.Fatalf("delete = %d %s", rec.Code, rec.Body)
	}
	for _, path := range []string{"/v1/subscriptions/" + id, "/v1/subscriptions/" + id + "/status", "/v1/subscriptions/" + id + "/dag"} {
		if code, _ := do(t, h, "GET", path, ""); code != 404 {
			t.Errorf("GET %s after delete = %d", path, code)
		}
	}
}

func TestSubscriptionsBadInput(t *testing.T) {
	dir := t.TempDir()
	h, _ := newSubscriptionServer(t, subscription.Config{SinkEnv: sink.Env{AllowPrivate: true}, MaxSQLBytes: 200, MaxPerApplication: 2})
	file := `{"type":"file","path":"` + filepath.Join(dir, "out.ndjson") + `"}`
	body := func(fields string) string {
		return `{"application":"siem","tenant":"acme","sql":"SELECT id FROM tenant","sink":` + file + `,` + fields + `}`
	}
	for _, c := range []struct {
		name, body string
		code       int
		want       string
	}{
		{"unknown column", `{"application":"siem","tenant":"acme","sql":"SELECT prot FROM tenant","sink":` + file + `}`, 422,
			`"location":"body.sql","value":{"column":8,"line":1}`},
		{"syntax", `{"application":"siem","tenant":"acme","sql":"SELECT FROM tenant","sink":` + file + `}`, 422, `"location":"body.sql"`},
		{"aggregate without window", `{"application":"siem","tenant":"acme","sql":"SELECT COUNT(*) FROM tenant","sink":` + file + `}`, 422, "aggregate without GROUP BY"},
		{"unknown tenant", `{"application":"siem","tenant":"nobody","sql":"SELECT 1 FROM tenant","sink":` + file + `}`, 422, `no tenant \"nobody\"`},
		{"tenant without schema", `{"application":"siem","tenant":"empty","sql":"SELECT 1 FROM tenant","sink":` + file + `}`, 422, "has no schema yet"},
		{"unknown sink", `{"application":"siem","tenant":"acme","sql":"SELECT id FROM tenant","sink":{"type":"ftp"}}`, 422, "body.sink"},
		{"sink setting", `{"application":"siem","tenant":"acme","sql":"SELECT id FROM tenant","sink":{"type":"file"}}`, 422, "body.sink.path"},
		{"sink directory", `{"application":"siem","tenant":"acme","sql":"SELECT id FROM tenant","sink":{"type":"file","path":"/nonexistent/dir/x"}}`, 422, "body.sink.path"},
		{"format", body(`"outputFormat":"XML"`), 422, "body.outputFormat"},
		{"format options", body(`"outputFormat":"CSV","formatOptions":{"delimiter":";;"}`), 422, "body.formatOptions"},
		{"avro codec", body(`"outputFormat":"AVRO","formatOptions":{"container":true,"codec":"lzma"}`), 422, "codec"},
		{"startFrom", body(`"startFrom":"yesterday"`), 422, "body.startFrom"},
		{"lateness", body(`"lateness":"soon"`), 422, "body.lateness"},
		{"guarantee", body(`"deliveryGuarantee":"exactly-once"`), 422, "body.deliveryGuarantee"},
		{"application name", `{"application":"Bad App","tenant":"acme","sql":"SELECT id FROM tenant","sink":` + file + `}`, 422, "body.application"},
		{"sql too long", `{"application":"siem","tenant":"acme","sql":"SELECT id FROM tenant WHERE ` + strings.Repeat("id = 1 OR ", 30) + `id = 2","sink":` + file + `}`, 422, "MaxSQLBytes"},
		{"body too large", `{"application":"siem","sql":"` + strings.Repeat("x", MaxSubscriptionBytes) + `"}`, 413, ""},
		{"not JSON", `{`, 400, ""},
	} {
		rec := doHeaders(t, h, "POST", "/v1/subscriptions", c.body)
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("%s: %d %.300s; want %d with %s", c.name, rec.Code, rec.Body, c.code, c.want)
		}
	}

	// The per-application limit is 429 naming it.
	for i := 0; i < 2; i++ {
		if rec := doHeaders(t, h, "POST", "/v1/subscriptions", body(`"labels":{}`)); rec.Code != 201 {
			t.Fatalf("create %d = %d %s", i, rec.Code, rec.Body)
		}
	}
	if rec := doHeaders(t, h, "POST", "/v1/subscriptions", body(`"labels":{}`)); rec.Code != 429 || !strings.Contains(rec.Body.String(), "MaxPerApplication") {
		t.Fatalf("third subscription = %d %s", rec.Code, rec.Body)
	}

	_, list := do(t, h, "GET", "/v1/subscriptions", "")
	id := list["subscriptions"].([]any)[0].(map[string]any)["id"].(string)
	for _, c := range []struct {
		method, path, body string
		headers            []string
		code               int
		want               string
	}{
		{"GET", "/v1/subscriptions/sub-nope", "", nil, 404, "no subscription"},
		{"PUT", "/v1/subscriptions/sub-nope", body(`"labels":{}`), nil, 404, ""},
		{"DELETE", "/v1/subscriptions/sub-nope", "", nil, 404, ""},
		{"POST", "/v1/subscriptions/sub-nope:pause", "", nil, 404, ""},
		{"POST", "/v1/subscriptions/" + id + ":explode", "", nil, 422, "target"},
		{"PUT", "/v1/subscriptions/" + id, body(`"labels":{}`), []string{"If-Match", "garbage"}, 400, "If-Match"},
		{"DELETE", "/v1/subscriptions/" + id, "", []string{"If-Match", `"99"`}, 412, "version"},
		{"PUT", "/v1/subscriptions/" + id, `{"application":"other","tenant":"acme","sql":"SELECT id FROM tenant","sink":` + file + `}`, nil, 422, "cannot change"},
		{"PATCH", "/v1/subscriptions/" + id, `{"sql":"SELECT nope FROM tenant"}`, []string{"Content-Type", "application/merge-patch+json"}, 422, "unknown column nope"},
		{"PATCH", "/v1/subscriptions/" + id, `{"bogus":1}`, []string{"Content-Type", "application/merge-patch+json"}, 422, "bogus"},
		{"PATCH", "/v1/subscriptions/" + id, `[1`, []string{"Content-Type", "application/merge-patch+json"}, 422, "not JSON"},
		{"GET", "/v1/subscriptions/" + id + "/dag?format=png", "", nil, 422, "format"},
	} {
		rec := doHeaders(t, h, c.method, c.path, c.body, c.headers...)
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("%s %s: %d %.300s; want %d with %s", c.method, c.path, rec.Code, rec.Body, c.code, c.want)
		}
	}
}

// TestSubscriptionSecretsNeverReturned: a sink's secret settings are
// redacted in every answer, and sending the placeholder back keeps them.
func TestSubscriptionSecretsNeverReturned(t *testing.T) {
	h, _ := newSubscriptionServer(t, subscription.Config{})
	body := `{"application":"siem","tenant":"acme","sql":"SELECT id FROM tenant",
		"sink":{"type":"https","url":"https://receiver.example.com/in","authToken":"s3cret-token"}}`
	rec := doHeaders(t, h, "POST", "/v1/subscriptions", body)
	if rec.Code != 201 || strings.Contains(rec.Body.String(), "s3cret") || !strings.Contains(rec.Body.String(), `"authToken":"********"`) {
		t.Fatalf("create = %d %s", rec.Code, rec.Body)
	}
	_, list := do(t, h, "GET", "/v1/subscriptions", "")
	id := list["subscriptions"].([]any)[0].(map[string]any)["id"].(string)
	for _, path := range []string{"/v1/subscriptions", "/v1/subscriptions/" + id, "/v1/subscriptions/" + id + "/dag?format=dot"} {
		if rec := doHeaders(t, h, "GET", path, ""); strings.Contains(rec.Body.String(), "s3cret") {
			t.Errorf("GET %s shows the secret: %s", path, rec.Body)
		}
	}
	// What a client read, sent back: the stored token stays (the sink type
	// and URL are unchanged, so the epoch does not move either).
	got := doHeaders(t, h, "GET", "/v1/subscriptions/"+id, "").Body.String()
	rec = doHeaders(t, h, "PUT", "/v1/subscriptions/"+id, strings.Replace(body, "s3cret-token", "********", 1))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"epoch":1`) {
		t.Fatalf("PUT with the placeholder = %d %s (read %s)", rec.Code, rec.Body, got)
	}
	// A new token is a change: a new epoch.
	rec = doHeaders(t, h, "PUT", "/v1/subscriptions/"+id, strings.Replace(body, "s3cret-token", "other-token", 1))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"epoch":2`) || strings.Contains(rec.Body.String(), "other-token") {
		t.Fatalf("PUT with a new token = %d %s", rec.Code, rec.Body)
	}
}

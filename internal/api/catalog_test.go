package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

func newCatalogServer(t *testing.T) (http.Handler, string) {
	t.Helper()
	s := storetest.SQLite(t)
	ev := events.NewLog(s)
	svc := catalog.New(s, ev, catalog.Config{})
	t.Cleanup(svc.Close)
	srv := New(Config{Addr: "127.0.0.1:0"})
	RegisterCatalog(srv.API(), svc)
	RegisterEvents(srv.API(), ev)
	return srv.Handler(), kafkatest.Fake(t)
}

func do(t *testing.T, h http.Handler, method, path, body string) (int, map[string]any) {
	t.Helper()
	code, raw := doRaw(t, h, method, path, body)
	var out map[string]any
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, path, raw)
		}
	}
	return code, out
}

// doRaw is do returning the body as text.
func doRaw(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(context.Background()))
	return rec.Code, rec.Body.String()
}

// TestCatalogBadInput: every mistake a caller can make is a 4xx naming the
// problem, never a 5xx, and leaves nothing behind.
func TestCatalogBadInput(t *testing.T) {
	h, addr := newCatalogServer(t)
	if code, body := do(t, h, "POST", "/v1/clusters", `{"name":"one","region":"eu","bootstrapServers":["`+addr+`"]}`); code != 201 {
		t.Fatalf("register = %d %v", code, body)
	}
	if code, body := do(t, h, "POST", "/v1/tenants", `{"name":"acme","region":"eu","partitions":2}`); code != 201 {
		t.Fatalf("create tenant = %d %v", code, body)
	}
	tests := []struct {
		method, path, body string
		code               int
		location, detail   string
	}{
		{"POST", "/v1/clusters", `{"name":"one","region":"eu","bootstrapServers":["` + addr + `"]}`, 409, "", "already registered"},
		{"POST", "/v1/clusters", `{"name":"Two","region":"eu","bootstrapServers":["` + addr + `"]}`, 422, "body.name", ""},
		{"POST", "/v1/clusters", `{"name":"two","region":"eu","bootstrapServers":[]}`, 422, "body.bootstrapServers", ""},
		{"POST", "/v1/clusters", `{"name":"two","region":"eu","bootstrapServers":["nohost"]}`, 422, "body.bootstrapServers[0]", ""},
		{"POST", "/v1/clusters", `{"name":"two","region":"eu","bootstrapServers":["127.0.0.1:1"]}`, 422, "body.bootstrapServers", "answered"},
		{"POST", "/v1/clusters", `{"name":"two","region":"eu","bootstrapServers":["` + addr + `"],"sasl":{"mechanism":"GSSAPI","username":"u","password":"p"}}`, 422, "body.sasl.mechanism", ""},
		{"POST", "/v1/clusters", `{"name":"two","region":"eu","bootstrapServers":["` + addr + `"],"limits":{"maxPartitions":-1}}`, 422, "body.limits.maxPartitions", ""},
		{"POST", "/v1/clusters", `{"name":`, 400, "", ""},
		{"GET", "/v1/clusters/nope", "", 404, "", "not registered"},
		{"PATCH", "/v1/clusters/nope", `{"state":"draining"}`, 404, "", ""},
		{"PATCH", "/v1/clusters/one", `{"state":"unreachable"}`, 422, "body.state", ""},
		{"DELETE", "/v1/clusters/one", "", 409, "", "tenant topic"},
		{"DELETE", "/v1/clusters/nope", "", 404, "", ""},
		{"POST", "/v1/tenants", `{"name":"acme","region":"eu"}`, 409, "", "already exists"},
		{"POST", "/v1/tenants", `{"name":"a_b","region":"eu"}`, 422, "body.name", ""},
		{"POST", "/v1/tenants", `{"name":"zeta","region":"eu","partitions":0}`, 422, "body.partitions", ""},
		{"POST", "/v1/tenants", `{"name":"zeta","region":"eu","partitions":-4}`, 422, "body.partitions", ""},
		{"POST", "/v1/tenants", `{"name":"zeta","region":"eu","replicationFactor":5}`, 422, "body.replicationFactor", ""},
		{"POST", "/v1/tenants", `{"name":"zeta","region":"eu","configs":{"Bad Key":"1"}}`, 422, "body.configs.Bad Key", ""},
		{"POST", "/v1/tenants", `{"name":"zeta","region":"mars"}`, 409, "", "region \"mars\""},
		{"POST", "/v1/tenants", `{"name":"zeta","region":"eu","cluster":"nope"}`, 422, "body.cluster", ""},
		{"GET", "/v1/tenants/nope", "", 404, "", ""},
		{"DELETE", "/v1/tenants/nope", "", 404, "", ""},
		{"GET", "/v1/tenants/nope/route", "", 404, "", ""},
		{"GET", "/v1/clusters/one/topics/nope", "", 404, "", ""},
		{"PATCH", "/v1/clusters/one/topics/sluice.tenant.acme.1", `{"partitions":1}`, 422, "body.partitions", "migrat"},
		{"PATCH", "/v1/clusters/one/topics/sluice.tenant.acme.1", `{}`, 422, "", "partitions or configs"},
		{"GET", "/v1/events?limit=0", "", 422, "query.limit", ""},
		{"GET", "/v1/events?since=yesterday", "", 422, "query.since", ""},
	}
	for _, tt := range tests {
		code, body := do(t, h, tt.method, tt.path, tt.body)
		if code != tt.code {
			t.Errorf("%s %s %s = %d %v, want %d", tt.method, tt.path, tt.body, code, body, tt.code)
			continue
		}
		if tt.detail != "" && !strings.Contains(body["detail"].(string), tt.detail) {
			t.Errorf("%s %s: detail %q does not mention %q", tt.method, tt.path, body["detail"], tt.detail)
		}
		if tt.location != "" {
			found := false
			errs, _ := body["errors"].([]any)
			for _, e := range errs {
				if e.(map[string]any)["location"] == tt.location {
					found = true
				}
			}
			if !found {
				t.Errorf("%s %s %s: errors %v do not name %s", tt.method, tt.path, tt.body, body["errors"], tt.location)
			}
		}
	}
	// Nothing was half-created.
	if _, body := do(t, h, "GET", "/v1/tenants", ""); len(body["tenants"].([]any)) != 1 {
		t.Fatalf("tenants after bad requests: %v", body)
	}
	if _, body := do(t, h, "GET", "/v1/clusters", ""); len(body["clusters"].([]any)) != 1 {
		t.Fatalf("clusters after bad requests: %v", body)
	}
}

// TestClusterSecretsNeverReturned: the API says a secret is set, never what
// it is, and a PATCH that leaves the password out keeps it.
func TestClusterSecretsNeverReturned(t *testing.T) {
	h, _ := newCatalogServer(t)
	addr := kafkatest.Fake(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "sluice", "hunter2-secret"))
	sasl := `"sasl":{"mechanism":"SCRAM-SHA-256","username":"sluice","password":"hunter2-secret"}`
	code, body := do(t, h, "POST", "/v1/clusters", `{"name":"one","region":"eu","bootstrapServers":["`+addr+`"],`+sasl+`}`)
	if code != 201 {
		t.Fatalf("register with SASL = %d %v", code, body)
	}
	for _, path := range []string{"/v1/clusters/one", "/v1/clusters"} {
		code, body := do(t, h, "GET", path, "")
		raw, _ := json.Marshal(body)
		if code != 200 || strings.Contains(string(raw), "hunter2") || !strings.Contains(string(raw), `"passwordSet":true`) {
			t.Fatalf("GET %s = %d %s: want passwordSet and no password", path, code, raw)
		}
	}
	// Wrong password: refused at registration, naming the field.
	code, body = do(t, h, "POST", "/v1/clusters", `{"name":"two","region":"eu","bootstrapServers":["`+addr+`"],`+
		`"sasl":{"mechanism":"SCRAM-SHA-256","username":"sluice","password":"wrong"}}`)
	if code != 422 || strings.Contains(body["detail"].(string), "wrong") {
		t.Fatalf("register with a wrong password = %d %v", code, body)
	}
	// Changing the username only keeps the stored password, which still works.
	code, body = do(t, h, "PATCH", "/v1/clusters/one", `{"sasl":{"mechanism":"SCRAM-SHA-256","username":"sluice"},"limits":{"maxPartitions":10}}`)
	if code != 200 || body["limits"].(map[string]any)["maxPartitions"] != 10.0 {
		t.Fatalf("patch without password = %d %v", code, body)
	}
	// Limits change field by field.
	code, body = do(t, h, "PATCH", "/v1/clusters/one", `{"limits":{"maxBytesPerSecond":1000}}`)
	lim, _ := body["limits"].(map[string]any)
	if code != 200 || lim["maxPartitions"] != 10.0 || lim["maxBytesPerSecond"] != 1000.0 {
		t.Fatalf("patch one limit = %d %v", code, body)
	}
}

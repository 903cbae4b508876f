package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// newSchemaServer serves the catalog, the schema registry and the
// Confluent-compatible API over s, with a kfake cluster "local" and the
// given tenants.
func newSchemaServer(t *testing.T, s *store.Store, addr string, tenants ...string) http.Handler {
	t.Helper()
	reg := schema.New(s, schema.Config{})
	svc := catalog.New(s, events.NewLog(s), catalog.Config{Schemas: reg})
	t.Cleanup(svc.Close)
	srv := New(Config{Addr: "127.0.0.1:0"})
	RegisterCatalog(srv.API(), svc)
	RegisterSchemas(srv.API(), reg)
	srv.Mount(ConfluentPrefix, NewConfluent(reg, svc, nil))
	h := srv.Handler()
	if code, body := do(t, h, "POST", "/v1/clusters", `{"name":"local","region":"eu","bootstrapServers":["`+addr+`"]}`); code != 201 {
		t.Fatalf("register cluster = %d %v", code, body)
	}
	for _, name := range tenants {
		if code, body := do(t, h, "POST", "/v1/tenants", `{"name":"`+name+`","region":"eu","partitions":1}`); code != 201 {
			t.Fatalf("create tenant %s = %d %v", name, code, body)
		}
	}
	return h
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

const eventV1 = `{"type":"record","name":"Event","namespace":"com.acme","fields":[` +
	`{"name":"id","type":"long"},{"name":"action","type":{"type":"enum","name":"Action","symbols":["ALLOW","DENY"]}},` +
	`{"name":"port","type":"int"}]}`

func TestSchemasREST(t *testing.T) {
	addr := kafkatest.Fake(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newSchemaServer(t, s, addr, "acme")

		// Registered as a string: 201 with everything.
		code, body := do(t, h, "POST", "/v1/tenants/acme/schemas", `{"schema":`+jsonString(eventV1)+`}`)
		if code != 201 {
			t.Fatalf("register = %d %v", code, body)
		}
		id := body["id"].(float64)
		if id < 1 || body["tenant"] != "acme" || body["version"] != 1.0 || body["schema"] != eventV1 ||
			!strings.HasPrefix(body["canonical"].(string), `{"name":"com.acme.Event","type":"record"`) ||
			len(body["fingerprint"].(string)) != 64 || body["deleted"] != false || body["createdAt"] == nil {
			t.Fatalf("register body = %v", body)
		}

		// The same schema as a JSON object, reformatted: 200, the same version.
		reformatted := strings.ReplaceAll(eventV1, ",", ", ")
		code, body = do(t, h, "POST", "/v1/tenants/acme/schemas", `{"schema": `+reformatted+`}`)
		if code != 200 || body["id"] != id || body["version"] != 1.0 || body["schema"] != eventV1 {
			t.Fatalf("re-register = %d %v", code, body)
		}

		// The route names the schema version.
		if code, body := do(t, h, "GET", "/v1/tenants/acme/route", ""); code != 200 || body["schemaVersion"] != 1.0 {
			t.Fatalf("route = %d %v", code, body)
		}

		// Incompatible: 409 listing every incompatibility.
		v2 := `{"type":"record","name":"Event","namespace":"com.acme","fields":[` +
			`{"name":"id","type":"int"},{"name":"action","type":{"type":"enum","name":"Action","symbols":["ALLOW"]}},` +
			`{"name":"port","type":"int"},{"name":"severity","type":"int"},{"name":"tags","type":{"type":"array","items":"string"}}]}`
		code, body = do(t, h, "POST", "/v1/tenants/acme/schemas", `{"schema":`+v2+`}`)
		if code != 409 {
			t.Fatalf("incompatible = %d %v", code, body)
		}
		if !strings.Contains(body["detail"].(string), "BACKWARD compatibility (checked against version 1): 4 incompatibilities") {
			t.Fatalf("detail = %v", body["detail"])
		}
		type detail struct{ Location, Message string }
		var got []detail
		for _, e := range body["errors"].([]any) {
			m := e.(map[string]any)
			got = append(got, detail{m["location"].(string), m["message"].(string)})
			if v := m["value"].(map[string]any); v["version"] != 1.0 || v["direction"] != "backward" {
				t.Fatalf("error value = %v", v)
			}
		}
		const ctx = " (the new schema reading data written with version 1)"
		want := []detail{
			{"id", "writer type long cannot be read as reader type int" + ctx},
			{"action", `writer enum symbols "DENY" are missing from the reader enum, which has no default` + ctx},
			{"severity", "field is missing from the writer and has no default in the reader" + ctx},
			{"tags", "field is missing from the writer and has no default in the reader" + ctx},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("errors =\n%v\nwant\n%v", got, want)
		}

		// Compatibility mode.
		if code, body := do(t, h, "GET", "/v1/tenants/acme/compatibility", ""); code != 200 || body["mode"] != "BACKWARD" {
			t.Fatalf("get mode = %d %v", code, body)
		}
		if code, body := do(t, h, "PUT", "/v1/tenants/acme/compatibility", `{"mode":"NONE"}`); code != 200 || body["mode"] != "NONE" {
			t.Fatalf("set mode = %d %v", code, body)
		}
		code, body = do(t, h, "POST", "/v1/tenants/acme/schemas", `{"schema":`+v2+`}`)
		if code != 201 || body["version"] != 2.0 {
			t.Fatalf("register under NONE = %d %v", code, body)
		}

		// List, get, soft delete.
		code, body = do(t, h, "GET", "/v1/tenants/acme/schemas", "")
		if code != 200 || len(body["schemas"].([]any)) != 2 {
			t.Fatalf("list = %d %v", code, body)
		}
		if code, body := do(t, h, "GET", "/v1/tenants/acme/schemas/latest", ""); code != 200 || body["version"] != 2.0 {
			t.Fatalf("latest = %d %v", code, body)
		}
		if code, body := do(t, h, "DELETE", "/v1/tenants/acme/schemas/latest", ""); code != 204 {
			t.Fatalf("delete = %d %v", code, body)
		}
		if code, body := do(t, h, "GET", "/v1/tenants/acme/schemas/2", ""); code != 200 || body["deleted"] != true || body["deletedAt"] == nil {
			t.Fatalf("deleted version = %d %v", code, body)
		}
		if code, body := do(t, h, "GET", "/v1/tenants/acme/schemas/latest", ""); code != 200 || body["version"] != 1.0 {
			t.Fatalf("latest after delete = %d %v", code, body)
		}
		code, body = do(t, h, "GET", "/v1/tenants/acme/schemas", "")
		if code != 200 || len(body["schemas"].([]any)) != 1 {
			t.Fatalf("list after delete = %d %v", code, body)
		}
		code, body = do(t, h, "GET", "/v1/tenants/acme/schemas?deleted=true", "")
		if code != 200 || len(body["schemas"].([]any)) != 2 {
			t.Fatalf("list with deleted = %d %v", code, body)
		}
		if code, _ := do(t, h, "DELETE", "/v1/tenants/acme/schemas/1", ""); code != 204 {
			t.Fatalf("delete v1 = %d", code)
		}
		if code, body := do(t, h, "GET", "/v1/tenants/acme/route", ""); code != 200 || body["schemaVersion"] != 0.0 {
			t.Fatalf("route with every version deleted = %d %v", code, body)
		}
	})
}

// TestSchemasBadInput: every mistake is a 4xx naming the problem.
func TestSchemasBadInput(t *testing.T) {
	addr := kafkatest.Fake(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newSchemaServer(t, s, addr, "acme")
		if code, body := do(t, h, "POST", "/v1/tenants/acme/schemas", `{"schema":`+eventV1+`}`); code != 201 {
			t.Fatalf("register = %d %v", code, body)
		}
		tests := []struct {
			method, path, body string
			code               int
			location, detail   string
		}{
			{"POST", "/v1/tenants/nope/schemas", `{"schema":` + eventV1 + `}`, 404, "", `tenant "nope" does not exist`},
			{"POST", "/v1/tenants/acme/schemas", `{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"strin\"}]}"}`,
				422, "body.schema", `not a valid Avro schema: unknown type "strin"`},
			{"POST", "/v1/tenants/acme/schemas", `{"schema":"{\"type\":\"record\","}`, 422, "body.schema", "invalid schema json"},
			{"POST", "/v1/tenants/acme/schemas", `{"schema":{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}}`,
				422, "body.schema", `record field "a": invalid default`},
			{"POST", "/v1/tenants/acme/schemas", `{"schema":42}`, 422, "body.schema", "must be a string"},
			{"POST", "/v1/tenants/acme/schemas", `{"schema":""}`, 422, "body.schema", "empty"},
			{"POST", "/v1/tenants/acme/schemas", `{"schema":null}`, 422, "body.schema", "required"},
			{"POST", "/v1/tenants/acme/schemas", `{}`, 422, "body", ""},
			{"POST", "/v1/tenants/acme/schemas", `{"schema":`, 400, "", ""},
			{"GET", "/v1/tenants/nope/schemas", "", 404, "", "does not exist"},
			{"GET", "/v1/tenants/acme/schemas/9", "", 404, "", "has no schema version 9"},
			{"GET", "/v1/tenants/nope/schemas/1", "", 404, "", "does not exist"},
			{"GET", "/v1/tenants/acme/schemas/zero", "", 422, "path.version", "not a version"},
			{"GET", "/v1/tenants/acme/schemas/0", "", 422, "path.version", "not a version"},
			{"GET", "/v1/tenants/acme/schemas/-1", "", 422, "path.version", "not a version"},
			{"DELETE", "/v1/tenants/acme/schemas/9", "", 404, "", "has no schema version 9"},
			{"DELETE", "/v1/tenants/acme/schemas/x", "", 422, "path.version", ""},
			{"GET", "/v1/tenants/nope/compatibility", "", 404, "", "does not exist"},
			{"PUT", "/v1/tenants/acme/compatibility", `{"mode":"SIDEWAYS"}`, 422, "body.mode", ""},
			{"PUT", "/v1/tenants/acme/compatibility", `{}`, 422, "body", ""},
			{"PUT", "/v1/tenants/nope/compatibility", `{"mode":"FULL"}`, 404, "", "does not exist"},
			{"POST", "/v1/tenants/acme/schemas", `{"schema":"` + strings.Repeat(" ", maxSchemaBytes) + `"}`, 413, "", ""},
		}
		for _, tt := range tests {
			code, body := do(t, h, tt.method, tt.path, tt.body)
			if code != tt.code {
				t.Errorf("%s %s %.200s = %d %v, want %d", tt.method, tt.path, tt.body, code, body, tt.code)
				continue
			}
			if tt.detail != "" && !strings.Contains(body["detail"].(string), tt.detail) {
				t.Errorf("%s %s %s: detail %q does not mention %q", tt.method, tt.path, tt.body, body["detail"], tt.detail)
			}
			if tt.location != "" {
				errs, _ := body["errors"].([]any)
				found := false
				for _, e := range errs {
					if strings.HasPrefix(e.(map[string]any)["location"].(string), tt.location) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s %s %s: errors %v do not point at %s", tt.method, tt.path, tt.body, body["errors"], tt.location)
				}
			}
		}
		// Nothing was half-created.
		if code, body := do(t, h, "GET", "/v1/tenants/acme/schemas?deleted=true", ""); code != 200 || len(body["schemas"].([]any)) != 1 {
			t.Fatalf("list = %d %v", code, body)
		}
	})
}

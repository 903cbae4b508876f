package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/store/storetest"
)

// TestSchemaRegistryWiring: a server serves the schema REST operations and
// the Confluent-compatible API; a worker serves neither.
func TestSchemaRegistryWiring(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	for role, want := range map[string]int{RoleServer: 200, RoleWorker: 404} {
		p, err := Open(context.Background(), Options{Roles: []string{role}, HTTPAddr: "127.0.0.1:0", StoreDSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/confluent/config", "/confluent/schemas/types"} {
			rec := httptest.NewRecorder()
			p.API.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != want {
				t.Errorf("%s GET %s = %d %s, want %d", role, path, rec.Code, rec.Body, want)
			}
		}
		rec := httptest.NewRecorder()
		p.API.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/tenants/acme/schemas", nil))
		if role == RoleServer && (rec.Code != 404 || !strings.Contains(rec.Body.String(), `tenant \"acme\" does not exist`)) {
			t.Errorf("server GET schemas of an unknown tenant = %d %s", rec.Code, rec.Body)
		}
		p.Close()
	}
}

package client_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSchemaRequests checks what RegisterSchema and LatestSchema send and
// how they read the answers, against the registry's REST contract.
func TestSchemaRequests(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const avsc = `{"type":"record","name":"R","fields":[]}`
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/tenants/{tenant}/schemas", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in) != 1 || in["schema"] != avsc {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"id": 7, "tenant": r.PathValue("tenant"), "version": 2,
			"schema": avsc, "fingerprint": "ab12", "createdAt": created})
	})
	mux.HandleFunc("GET /v1/tenants/{tenant}/schemas/latest", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("tenant") != "acme" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"title":"Not Found","status":404,"detail":"tenant \"x y\" has no schema"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": 7, "tenant": "acme", "version": 2, "schema": avsc,
			"fingerprint": "ab12", "createdAt": created, "canonical": "ignored"})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := testContext(t)
	c := newClient(t, srv.URL)

	s, err := c.RegisterSchema(ctx, "acme", avsc)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != 7 || s.Tenant != "acme" || s.Version != 2 || s.Schema != avsc || s.Fingerprint != "ab12" || !s.CreatedAt.Equal(created) {
		t.Fatalf("RegisterSchema = %+v", s)
	}
	if latest, err := c.LatestSchema(ctx, "acme"); err != nil || latest != s {
		t.Fatalf("LatestSchema = %+v, %v; want %+v", latest, err, s)
	}
	_, err = c.LatestSchema(ctx, "x y")
	wantError(t, err, http.StatusNotFound, `tenant "x y" has no schema`)
	for _, call := range []func() error{
		func() error { _, err := c.RegisterSchema(ctx, "", avsc); return err },
		func() error { _, err := c.LatestSchema(ctx, ""); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "tenant name is empty") {
			t.Errorf("empty tenant: %v", err)
		}
	}
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestReadyzReflectsChecks(t *testing.T) {
	s := New(Config{Addr: "127.0.0.1:0"})
	var storeErr error
	s.AddCheck("store", func(context.Context) error { return storeErr })
	s.AddCheck("kafka", func(context.Context) error { return nil })

	code, body := get(t, s.Handler(), "/readyz")
	if code != http.StatusOK {
		t.Fatalf("readyz = %d %s, want 200", code, body)
	}

	storeErr = errors.New("database is locked")
	code, body = get(t, s.Handler(), "/readyz")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with failing store = %d, want 503", code)
	}
	var hb HealthBody
	if err := json.Unmarshal([]byte(body), &hb); err != nil {
		t.Fatal(err)
	}
	want := []CheckResult{{Name: "kafka", OK: true}, {Name: "store", OK: false, Error: "database is locked"}}
	if hb.Status != "unavailable" || len(hb.Checks) != 2 || hb.Checks[0] != want[0] || hb.Checks[1] != want[1] {
		t.Fatalf("readyz body = %+v, want checks %+v", hb, want)
	}

	// Liveness does not depend on checks.
	if code, _ := get(t, s.Handler(), "/healthz"); code != http.StatusOK {
		t.Fatalf("healthz = %d, want 200", code)
	}
}

func TestReadyzBoundsHungChecks(t *testing.T) {
	s := New(Config{Addr: "127.0.0.1:0"})
	s.AddCheck("hung", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	start := time.Now()
	code, body := get(t, s.Handler(), "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "deadline exceeded") {
		t.Fatalf("readyz = %d %s, want 503 naming the deadline", code, body)
	}
	if d := time.Since(start); d > checkTimeout+20*time.Second { // generous: -race on a loaded 2-core machine
		t.Fatalf("readyz took %v with a hung check", d)
	}
}

func TestMetricsAndOpenAPI(t *testing.T) {
	s := New(Config{Addr: "127.0.0.1:0"})
	get(t, s.Handler(), "/healthz")
	code, body := get(t, s.Handler(), "/metrics")
	if code != http.StatusOK || !strings.Contains(body, `sluice_http_requests_total{code="200",operation="healthz"} 1`) {
		t.Fatalf("metrics = %d, missing the healthz request count:\n%s", code, body)
	}
	code, body = get(t, s.Handler(), "/openapi.json")
	if code != http.StatusOK {
		t.Fatalf("openapi.json = %d", code)
	}
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths["/readyz"] == nil || doc.Paths["/healthz"] == nil {
		t.Fatalf("openapi.json = version %q with paths %v", doc.OpenAPI, doc.Paths)
	}
}

func TestRunServesAndStops(t *testing.T) {
	s := New(Config{Addr: "127.0.0.1:0"})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	resp, err := http.Get("http://" + s.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz = %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestListenReportsAddressInUse(t *testing.T) {
	a := New(Config{Addr: "127.0.0.1:0"})
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	b := New(Config{Addr: a.Addr()})
	if err := b.Listen(); err == nil || !strings.Contains(err.Error(), a.Addr()) {
		t.Fatalf("second Listen on %s = %v, want an error naming the address", a.Addr(), err)
	}
}

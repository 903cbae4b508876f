package client_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/client"
	"github.com/sluicehq/sluice/internal/client/clienttest"
)

// TestSubscriptions runs each subscription method against the real API:
// ETags and If-Match, merge patches, raw DAG bodies, problems.
func TestSubscriptions(t *testing.T) {
	srv := clienttest.Start(t)
	ctx := context.Background()
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterCluster(ctx, client.ClusterRequest{Name: "local", Region: "eu", BootstrapServers: []string{srv.Kafka}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTenant(ctx, client.TenantRequest{Name: "acme", Region: "eu", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterSchema(ctx, "acme", `{"type":"record","name":"L","fields":[{"name":"port","type":"int"}]}`); err != nil {
		t.Fatal(err)
	}
	spec := client.SubscriptionSpec{Application: "app", Tenant: "acme", SQL: "SELECT port FROM tenant"}
	spec.Sink.Type = "discard"

	if _, err := c.CreateSubscription(ctx, spec, true); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if list, next, err := c.Subscriptions(ctx, client.SubscriptionFilter{}); err != nil || len(list) != 0 || next != "" {
		t.Fatalf("after a dry run: %v %q %v", list, next, err)
	}
	s, err := c.CreateSubscription(ctx, spec, false)
	if err != nil || s.Version != 1 || s.Epoch != 1 || s.State != "running" || s.OutputFormat != "JSON" {
		t.Fatalf("create: %+v, %v", s, err)
	}
	if _, err := c.CreateSubscription(ctx, spec, false); err != nil {
		t.Fatal(err)
	}
	list, next, err := c.Subscriptions(ctx, client.SubscriptionFilter{Application: "app", Limit: 1})
	if err != nil || len(list) != 1 || next == "" {
		t.Fatalf("list --limit 1: %v %q %v", list, next, err)
	}
	if list, next, err = c.Subscriptions(ctx, client.SubscriptionFilter{Limit: 1, After: next}); err != nil || len(list) != 1 || next != "" {
		t.Fatalf("second page: %v %q %v", list, next, err)
	}

	got, etag, err := c.Subscription(ctx, s.ID)
	if err != nil || etag != `"1"` || got.ID != s.ID {
		t.Fatalf("get: %+v %q %v", got, etag, err)
	}
	spec.SQL = "SELECT port + 1 AS p FROM tenant"
	if s, err = c.ReplaceSubscription(ctx, s.ID, spec, etag); err != nil || s.Version != 2 || s.Epoch != 2 {
		t.Fatalf("replace: %+v, %v", s, err)
	}
	if _, err := c.ReplaceSubscription(ctx, s.ID, spec, etag); client.StatusOf(err) != http.StatusPreconditionFailed {
		t.Fatalf("replace with a stale ETag: %v", err)
	}
	if s, err = c.PatchSubscription(ctx, s.ID, []byte(`{"labels": {"team": "sec"}}`), `"2"`); err != nil || s.Labels["team"] != "sec" || s.Version != 3 || s.Epoch != 2 { // labels do not restart the job
		t.Fatalf("patch: %+v, %v", s, err)
	}
	if _, err := c.PatchSubscription(ctx, s.ID, []byte(`{"sql": "SELECT nope FROM tenant"}`), ""); client.StatusOf(err) != http.StatusUnprocessableEntity ||
		!strings.Contains(err.Error(), "line 1, column 8") {
		t.Fatalf("patch with bad SQL: %v", err)
	}
	if _, err := c.PatchSubscription(ctx, s.ID, []byte(`{`), ""); err == nil {
		t.Fatal("a patch that is not JSON was sent")
	}

	if s, err = c.PauseSubscription(ctx, s.ID); err != nil || s.State != "paused" {
		t.Fatalf("pause: %+v, %v", s, err)
	}
	if s, err = c.ResumeSubscription(ctx, s.ID); err != nil || s.State != "running" {
		t.Fatalf("resume: %+v, %v", s, err)
	}
	if s, err = c.RestartSubscription(ctx, s.ID); err != nil || s.Epoch != 3 {
		t.Fatalf("restart: %+v, %v", s, err)
	}

	for format, prefix := range map[string]string{"": `{"nodes":`, "json": `{"nodes":`, "dot": "digraph plan {", "svg": "<?xml"} {
		b, err := c.SubscriptionDAG(ctx, s.ID, format)
		if err != nil || !strings.HasPrefix(string(b), prefix) {
			t.Errorf("DAG %q: %v\n%.100s", format, err, b)
		}
	}
	if _, err := c.SubscriptionDAG(ctx, s.ID, "png"); err == nil {
		t.Error("DAG format png accepted")
	}
	st, err := c.SubscriptionStatus(ctx, s.ID)
	if err != nil || st.DesiredState != "running" || st.ActualState != "unknown" || st.DesiredEpoch != 3 {
		t.Fatalf("status: %+v, %v", st, err)
	}

	if err := c.DeleteSubscription(ctx, s.ID, true); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, _, err := c.Subscription(ctx, s.ID); client.StatusOf(err) != http.StatusNotFound {
		t.Fatalf("get after delete: %v", err)
	}
	if err := c.DeleteSubscription(ctx, s.ID, false); client.StatusOf(err) != http.StatusNotFound {
		t.Fatalf("delete again: %v", err)
	}
	if _, _, err := c.Subscription(ctx, ""); err == nil || !strings.Contains(err.Error(), "subscription name is empty") {
		t.Fatalf("empty id: %v", err)
	}
}

package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/client"
	"github.com/sluicehq/sluice/internal/client/clienttest"
	"github.com/sluicehq/sluice/internal/events"
)

func newClient(t *testing.T, url string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// wantError asserts that err is a *client.Error with the status and that its
// message contains every part.
func wantError(t *testing.T, err error, status int, parts ...string) *client.Error {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want *client.Error %d", err, err, status)
	}
	if ce.Status != status {
		t.Fatalf("status = %d, want %d (%v)", ce.Status, status, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
	return ce
}

// TestEveryMethod walks the whole metadata API through the client against a
// real server.
func TestEveryMethod(t *testing.T) {
	srv := clienttest.Start(t)
	ctx := testContext(t)
	c := newClient(t, srv.URL)

	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	// Clusters.
	cl, err := c.RegisterCluster(ctx, client.ClusterRequest{Name: "eu1", Region: "eu", BootstrapServers: []string{srv.Kafka},
		Limits: client.Limits{MaxPartitions: 100}})
	if err != nil {
		t.Fatalf("RegisterCluster: %v", err)
	}
	if cl.Name != "eu1" || cl.State != catalog.Active || !cl.Reachable || cl.Usage.Brokers != 1 || cl.Limits.MaxPartitions != 100 {
		t.Fatalf("registered cluster = %+v", cl)
	}
	_, err = c.RegisterCluster(ctx, client.ClusterRequest{Name: "eu1", Region: "eu", BootstrapServers: []string{srv.Kafka}})
	wantError(t, err, http.StatusConflict, "409 Conflict: ", "eu1")

	list, err := c.Clusters(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "eu1" {
		t.Fatalf("Clusters = %+v, %v", list, err)
	}
	draining := catalog.Draining
	cl, err = c.UpdateCluster(ctx, "eu1", client.ClusterUpdate{State: &draining})
	if err != nil || cl.State != catalog.Draining || cl.Limits.MaxPartitions != 100 {
		t.Fatalf("UpdateCluster draining = %+v, %v", cl, err)
	}
	active := catalog.Active
	rate := int64(1 << 20)
	if _, err := c.UpdateCluster(ctx, "eu1", client.ClusterUpdate{State: &active, Limits: &client.LimitsUpdate{MaxBytesPerSecond: &rate}}); err != nil {
		t.Fatalf("UpdateCluster active: %v", err)
	}
	// Limits change field by field: maxPartitions stays.
	if cl, err = c.Cluster(ctx, "eu1"); err != nil || cl.State != catalog.Active || cl.Limits != (client.Limits{MaxPartitions: 100, MaxBytesPerSecond: rate}) {
		t.Fatalf("Cluster = %+v, %v", cl, err)
	}
	noLimit := 0
	if cl, err = c.UpdateCluster(ctx, "eu1", client.ClusterUpdate{Limits: &client.LimitsUpdate{MaxPartitions: &noLimit}}); err != nil ||
		cl.Limits != (client.Limits{MaxBytesPerSecond: rate}) {
		t.Fatalf("UpdateCluster removing maxPartitions = %+v, %v", cl.Limits, err)
	}

	// Tenants.
	tn, err := c.CreateTenant(ctx, client.TenantRequest{Name: "acme", Region: "eu", Partitions: 3,
		RetentionMs: time.Hour.Milliseconds(), Configs: map[string]string{"cleanup.policy": "delete"}})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if tn.Cluster != "eu1" || tn.Topic != "sluice.tenant.acme.1" || tn.State != catalog.Ready {
		t.Fatalf("created tenant = %+v", tn)
	}
	tenants, err := c.Tenants(ctx)
	if err != nil || len(tenants) != 1 {
		t.Fatalf("Tenants = %+v, %v", tenants, err)
	}
	if tn, err = c.Tenant(ctx, "acme"); err != nil || tn.Name != "acme" {
		t.Fatalf("Tenant = %+v, %v", tn, err)
	}
	rt, err := c.Route(ctx, "acme")
	if err != nil || rt.Topic != tn.Topic || rt.Cluster != "eu1" || len(rt.BootstrapServers) != 1 || rt.Version != 1 {
		t.Fatalf("Route = %+v, %v", rt, err)
	}

	// Topics.
	topics, err := c.Topics(ctx, client.TopicFilter{Tenant: "acme"})
	if err != nil || len(topics) != 1 || topics[0].Partitions != 3 || topics[0].Configs["retention.ms"] != "3600000" {
		t.Fatalf("Topics = %+v, %v", topics, err)
	}
	if none, err := c.Topics(ctx, client.TopicFilter{Cluster: "elsewhere"}); err != nil || len(none) != 0 {
		t.Fatalf("Topics on another cluster = %+v, %v", none, err)
	}
	tp, err := c.UpdateTopic(ctx, "eu1", tn.Topic, client.TopicUpdate{Partitions: 5})
	if err != nil || tp.Partitions != 5 {
		t.Fatalf("UpdateTopic partitions = %+v, %v", tp, err)
	}
	tp, err = c.UpdateTopic(ctx, "eu1", tn.Topic, client.TopicUpdate{Configs: map[string]string{"max.message.bytes": "2097152"}})
	if err != nil || tp.Configs["max.message.bytes"] != "2097152" {
		t.Fatalf("UpdateTopic configs = %+v, %v", tp, err)
	}
	if tp, err = c.Topic(ctx, "eu1", tn.Topic); err != nil || tp.Partitions != 5 || tp.Tenant != "acme" {
		t.Fatalf("Topic = %+v, %v", tp, err)
	}

	// Operations: create, set partitions, set configs; newest first.
	ops, err := c.Operations(ctx, client.OperationFilter{Tenant: "acme", State: catalog.OpDone})
	if err != nil || len(ops) != 3 || ops[0].Kind != catalog.OpSetConfigs || ops[2].Kind != catalog.OpCreateTopic {
		t.Fatalf("Operations = %+v, %v", ops, err)
	}
	if ops, err = c.Operations(ctx, client.OperationFilter{Limit: 1}); err != nil || len(ops) != 1 {
		t.Fatalf("Operations limit 1 = %+v, %v", ops, err)
	}

	// Events: appended directly, since none of the above is an event.
	start := time.Now().Add(-time.Second)
	var appended []events.Event
	for i, kind := range []string{"test.one", "test.two", "test.one"} {
		e, err := srv.Process.Events.Append(ctx, events.Event{Kind: kind, Cluster: "eu1", Tenant: "acme",
			Message: "event " + string(rune('a'+i))})
		if err != nil {
			t.Fatal(err)
		}
		appended = append(appended, e)
	}
	evs, err := c.Events(ctx, client.EventFilter{Kind: "test.one", Since: start})
	if err != nil || len(evs) != 2 || evs[0].ID != appended[0].ID || evs[1].ID != appended[2].ID {
		t.Fatalf("Events kind test.one = %+v, %v", evs, err)
	}
	if evs, err = c.Events(ctx, client.EventFilter{Tenant: "acme", AfterID: appended[0].ID, Limit: 1}); err != nil ||
		len(evs) != 1 || evs[0].ID != appended[1].ID {
		t.Fatalf("Events after %d limit 1 = %+v, %v", appended[0].ID, evs, err)
	}
	if evs, err = c.Events(ctx, client.EventFilter{Since: time.Now().Add(time.Hour)}); err != nil || len(evs) != 0 {
		t.Fatalf("Events in the future = %+v, %v", evs, err)
	}

	// Nodes: the server heartbeats as it starts.
	nodes, err := c.Nodes(ctx)
	if err != nil || len(nodes) != 1 || !nodes[0].Alive || nodes[0].Roles[0] != "server" {
		t.Fatalf("Nodes = %+v, %v", nodes, err)
	}

	// Deletion, and its guards.
	wantError(t, c.DeregisterCluster(ctx, "eu1"), http.StatusConflict, "still holds")
	if err := c.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	_, err = c.Tenant(ctx, "acme")
	wantError(t, err, http.StatusNotFound, `404 Not Found: tenant "acme" does not exist`)
	if err := c.DeregisterCluster(ctx, "eu1"); err != nil {
		t.Fatalf("DeregisterCluster: %v", err)
	}
	_, err = c.Cluster(ctx, "eu1")
	wantError(t, err, http.StatusNotFound)
}

func TestProblemDecoding(t *testing.T) {
	srv := clienttest.Start(t)
	ctx := testContext(t)
	c := newClient(t, srv.URL)
	if _, err := c.RegisterCluster(ctx, client.ClusterRequest{Name: "local", Region: "local", BootstrapServers: []string{srv.Kafka}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTenant(ctx, client.TenantRequest{Name: "acme", Region: "local", Partitions: 3}); err != nil {
		t.Fatal(err)
	}

	t.Run("404", func(t *testing.T) {
		_, err := c.Route(ctx, "nope")
		ce := wantError(t, err, 404)
		if ce.Title != "Not Found" || ce.Detail != `tenant "nope" does not exist` || len(ce.Errors) != 0 {
			t.Fatalf("error = %#v", ce)
		}
		if err.Error() != `404 Not Found: tenant "nope" does not exist` {
			t.Fatalf("Error() = %q", err)
		}
	})
	t.Run("409", func(t *testing.T) {
		_, err := c.CreateTenant(ctx, client.TenantRequest{Name: "acme", Region: "local"})
		if got := err.Error(); got != `409 Conflict: tenant "acme" already exists` {
			t.Fatalf("Error() = %q", got)
		}
		if client.StatusOf(err) != 409 {
			t.Fatalf("StatusOf = %d", client.StatusOf(err))
		}
	})
	t.Run("422 schema", func(t *testing.T) {
		_, err := c.CreateTenant(ctx, client.TenantRequest{Name: "Bad Name", Region: "local", Partitions: -1})
		ce := wantError(t, err, 422, "422 Unprocessable Entity: validation failed\n",
			"\n  body.name: expected string to match pattern", `(got "Bad Name")`, "\n  body.partitions: expected number >= 1")
		if len(ce.Errors) != 2 || ce.Errors[0].Location != "body.name" || ce.Errors[0].Value != "Bad Name" {
			t.Fatalf("field errors = %+v", ce.Errors)
		}
	})
	t.Run("422 catalog", func(t *testing.T) {
		_, err := c.UpdateTopic(ctx, "local", "sluice.tenant.acme.1", client.TopicUpdate{Partitions: 2})
		ce := wantError(t, err, 422, "422 Unprocessable Entity: body.partitions: 2 is fewer than the topic's 3 partitions", "migrate")
		if len(ce.Errors) != 1 || ce.Errors[0].Location != "body.partitions" {
			t.Fatalf("field errors = %+v", ce.Errors)
		}
		if strings.Count(err.Error(), "Kafka cannot remove partitions") != 1 {
			t.Fatalf("the message is repeated: %q", err)
		}
	})
	t.Run("422 query", func(t *testing.T) {
		_, err := c.Operations(ctx, client.OperationFilter{State: "bogus"})
		wantError(t, err, 422, "query.state: expected value to be one of")
	})
	t.Run("empty name", func(t *testing.T) {
		if _, err := c.Cluster(ctx, ""); err == nil || !strings.Contains(err.Error(), "cluster name is empty") {
			t.Fatalf("Cluster(\"\") = %v", err)
		}
	})
}

func TestSecretsAreNotEchoed(t *testing.T) {
	fe := client.FieldError{Location: "body.sasl.password", Message: "too short", Value: "hunter2"}
	if strings.Contains(fe.String(), "hunter2") {
		t.Fatalf("FieldError.String() = %q echoes the password", fe.String())
	}
	fe = client.FieldError{Location: "body.region", Message: "bad", Value: "EU"}
	if fe.String() != `body.region: bad (got "EU")` {
		t.Fatalf("FieldError.String() = %q", fe.String())
	}
}

func TestNonProblemError(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>upstream down</html>\nmore"))
	}))
	defer ts.Close()
	_, err := newClient(t, ts.URL).Tenants(testContext(t))
	wantError(t, err, 502, "502 Bad Gateway: unexpected answer to GET "+ts.URL+"/v1/tenants: <html>upstream down</html>")
}

func TestNotASluiceAPI(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>hello</html>"))
	}))
	defer ts.Close()
	_, err := newClient(t, ts.URL).Tenants(testContext(t))
	if err == nil || !strings.Contains(err.Error(), "is this a Sluice API?") {
		t.Fatalf("error = %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	// A port that was just free: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	_, err = newClient(t, addr).Clusters(testContext(t))
	var ue *client.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("error = %v (%T), want *client.UnreachableError", err, err)
	}
	want := "cannot reach the Sluice API at http://" + addr + " (GET http://" + addr + "/v1/clusters): "
	if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Error() = %q, want prefix %q", err, want)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	_, err := newClient(t, ts.URL, client.WithTimeout(50*time.Millisecond)).Nodes(testContext(t))
	var ue *client.UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "no answer from the Sluice API at "+ts.URL+" within 50ms") {
		t.Fatalf("error = %v", err)
	}

	// A caller that gives up is told so, not that the server is down.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = newClient(t, ts.URL).Nodes(ctx)
	if !errors.Is(err, context.Canceled) || errors.As(err, &ue) {
		t.Fatalf("cancelled: error = %v (%T)", err, err)
	}
}

func TestOptions(t *testing.T) {
	var gotUA, gotPath string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUA, gotPath = r.UserAgent(), r.URL.EscapedPath()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"$schema":"x","nodes":[]}`))
	}))
	defer ts.Close()
	hc := &http.Client{Transport: http.DefaultTransport}
	// A path prefix (behind a reverse proxy) is kept; a scheme-less address gets http.
	c := newClient(t, strings.TrimPrefix(ts.URL, "http://")+"/sluice/", client.WithHTTPClient(hc), client.WithUserAgent("test/1"))
	if c.BaseURL() != ts.URL+"/sluice" {
		t.Fatalf("BaseURL = %q", c.BaseURL())
	}
	nodes, err := c.Nodes(testContext(t))
	if err != nil || nodes == nil || len(nodes) != 0 {
		t.Fatalf("Nodes = %#v, %v", nodes, err)
	}
	if gotUA != "test/1" || gotPath != "/sluice/v1/nodes" {
		t.Fatalf("request: user agent %q, path %q", gotUA, gotPath)
	}

	for _, bad := range []string{"", "ftp://x", "http://", "http://h/?q=1", "http://u:pw@h:1"} {
		if _, err := client.New(bad); err == nil {
			t.Errorf("New(%q) succeeded", bad)
		}
	}
	if _, err := client.New("h:1", client.WithTimeout(-time.Second)); err == nil {
		t.Error("New with a negative timeout succeeded")
	}
}

func TestPathsAreEscaped(t *testing.T) {
	var got string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer ts.Close()
	if _, err := newClient(t, ts.URL).Topic(testContext(t), "a/b", "t?x"); err != nil {
		t.Fatal(err)
	}
	if got != "/v1/clusters/a%2Fb/topics/t%3Fx" {
		t.Fatalf("path = %q", got)
	}
}

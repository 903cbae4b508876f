package app

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/api"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// TestServerAndWorkerShareAStore runs a server and a worker as separate
// processes would, on one store: the server lists both, and each removes
// itself on shutdown.
func TestServerAndWorkerShareAStore(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := func(role string) (*Process, chan error, context.CancelFunc) {
			p, err := Open(ctx, Options{Roles: []string{role}, HTTPAddr: "127.0.0.1:0", StoreDSN: dsn})
			if err != nil {
				t.Fatal(err)
			}
			pctx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- p.Run(pctx) }()
			return p, done, stop
		}
		server, serverDone, stopServer := start(RoleServer)
		worker, workerDone, stopWorker := start(RoleWorker)

		// A worker serves probes and metrics, not the REST API.
		for path, want := range map[string]int{"/readyz": 200, "/metrics": 200, "/v1/nodes": 404} {
			resp, err := http.Get("http://" + worker.API.Addr() + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("worker GET %s = %d, want %d", path, resp.StatusCode, want)
			}
		}

		nodes := waitNodes(t, "http://"+server.API.Addr(), 2)
		roles := map[string]bool{}
		for _, n := range nodes {
			roles[n.Roles[0]] = n.Alive
		}
		if !roles[RoleServer] || !roles[RoleWorker] {
			t.Fatalf("nodes = %+v, want an alive server and worker", nodes)
		}

		stopWorker()
		if err := <-workerDone; err != nil {
			t.Fatalf("worker Run = %v", err)
		}
		waitNodes(t, "http://"+server.API.Addr(), 1)
		stopServer()
		if err := <-serverDone; err != nil {
			t.Fatalf("server Run = %v", err)
		}
	})
}

func waitNodes(t *testing.T, base string, n int) []api.NodeStatus {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var body struct{ Nodes []api.NodeStatus }
		resp, err := http.Get(base + "/v1/nodes")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
		}
		if err == nil && len(body.Nodes) == n {
			return body.Nodes
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d nodes, have %+v (err %v)", n, body.Nodes, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOpenReportsBadStore(t *testing.T) {
	_, err := Open(context.Background(), Options{HTTPAddr: "127.0.0.1:0", StoreDSN: "mysql://x"})
	if err == nil {
		t.Fatal("Open with a mysql DSN succeeded")
	}
}

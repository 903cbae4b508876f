// Package clienttest runs a real Sluice API in-process for tests of the
// client and the CLI: the server role of internal/app on a fresh SQLite store,
// with an in-process kfake broker to register as a cluster.
package clienttest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/app"
	"github.com/sluicehq/sluice/internal/client"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// Server is a running API.
type Server struct {
	// URL is the API's base URL, http://127.0.0.1:<port>.
	URL string
	// Kafka is the bootstrap address of a kfake broker no cluster record
	// points at yet.
	Kafka   string
	Process *app.Process
}

// Start runs the API until the test ends. Its logs go nowhere unless -v is
// given, so failures of the API itself still show up when debugging.
func Start(t testing.TB) *Server {
	t.Helper()
	kafka := kafkatest.Fake(t)
	logger := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := app.Open(ctx, app.Options{Roles: []string{app.RoleServer}, HTTPAddr: "127.0.0.1:0",
		StoreDSN: storetest.SQLiteDSN(t), Logger: logger})
	if err != nil {
		cancel()
		t.Fatalf("open sluice: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	// Registered after kafkatest.Fake's cleanup, so it runs first: the
	// process stops before its broker goes away.
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sluice process: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("sluice process did not stop within 15s")
		}
	})
	srv := &Server{URL: "http://" + p.API.Addr(), Kafka: kafka, Process: p}
	srv.waitForHeartbeat(t)
	return srv
}

// waitForHeartbeat returns once the process lists itself in /v1/nodes, so
// tests see the same server state however fast they start asking.
func (s *Server) waitForHeartbeat(t testing.TB) {
	t.Helper()
	c, err := client.New(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		nodes, err := c.Nodes(context.Background())
		if err == nil && len(nodes) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API did not list its own node within 15s (last error: %v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// Package api is Sluice's HTTP API: the REST resources under /v1, the probes
// /healthz and /readyz, Prometheus metrics at /metrics, and the OpenAPI 3.1
// description at /openapi.json.
//
// Resources are huma operations, so their validation, RFC 7807 errors and the
// OpenAPI description all come from one declaration. Other packages add their
// operations through Server.API before Run.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicehq/sluice/internal/buildinfo"
)

// Config configures a Server. The zero value of every field but Addr is usable.
type Config struct {
	// Addr is the host:port to listen on, e.g. 127.0.0.1:8080.
	Addr string
	// Registry collects Sluice's metrics; the server adds its own HTTP
	// metrics and serves the registry at /metrics. Nil creates one.
	Registry *prometheus.Registry
	// Logger receives request errors and lifecycle messages.
	Logger *slog.Logger
	// ShutdownTimeout bounds how long Run waits for in-flight requests
	// after its context ends, overriding the default 5s.
	ShutdownTimeout time.Duration
}

// Server serves the API. Register operations through API and readiness checks
// through AddCheck before calling Listen or Run; after that the server is
// safe for concurrent use.
type Server struct {
	cfg      Config
	mux      *http.ServeMux
	api      huma.API
	ready    *readiness
	srv      *http.Server
	listener net.Listener
}

// New builds a server with the probes, /metrics and /openapi.json in place.
func New(cfg Config) *Server {
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), ready: &readiness{}}

	hc := huma.DefaultConfig("Sluice API", buildinfo.Get().Version)
	hc.Info.Description = "Sluice runs SQL subscriptions over tenants' Kafka topics as streaming jobs. " +
		"Errors are RFC 7807 problem documents."
	hc.OpenAPIPath = "/openapi"
	s.api = humago.New(s.mux, hc)
	s.api.UseMiddleware(newHTTPMetrics(cfg.Registry).middleware)

	registerProbes(s.api, s.ready)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{Registry: cfg.Registry}))
	return s
}

// API is where other packages register their operations.
func (s *Server) API() huma.API { return s.api }

// Mount serves h for every request under prefix (e.g. "/confluent"), with
// the prefix stripped from the path h sees. Call it before Listen or Run.
// Such handlers are outside the OpenAPI description and huma's middleware.
func (s *Server) Mount(prefix string, h http.Handler) {
	prefix = strings.TrimSuffix(prefix, "/")
	s.mux.Handle(prefix+"/", http.StripPrefix(prefix, h))
}

// Handler serves every route; tests use it with httptest.
func (s *Server) Handler() http.Handler { return s.mux }

// AddCheck adds a readiness check: /readyz answers 503 while any check fails.
func (s *Server) AddCheck(name string, check func(context.Context) error) {
	s.ready.add(name, check)
}

// Listen binds the listening socket, so that address errors surface before
// anything is reported as started. Run calls it when it has not been called.
func (s *Server) Listen() error {
	if s.listener != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("http listen on %s: %w", s.cfg.Addr, err)
	}
	s.listener = ln
	return nil
}

// Addr is the bound address (useful with port 0); empty before Listen.
func (s *Server) Addr() string {
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// Run serves until ctx ends, then stops accepting connections and waits up to
// ShutdownTimeout for in-flight requests before closing them.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.srv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.listener) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.cfg.Logger.Warn("http shutdown did not drain in time; closing connections", "err", err)
		_ = s.srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

// httpMetrics counts requests by operation and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_http_requests_total",
			Help: "HTTP API requests by operation and status code.",
		}, []string{"operation", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_http_request_duration_seconds",
			Help:    "HTTP API request latency by operation.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *httpMetrics) middleware(ctx huma.Context, next func(huma.Context)) {
	start := time.Now()
	next(ctx)
	op := ctx.Operation().OperationID
	m.requests.WithLabelValues(op, strconv.Itoa(ctx.Status())).Inc()
	m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

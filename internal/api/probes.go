package api

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// checkTimeout bounds each readiness check so a hung dependency makes
// /readyz answer 503 instead of hanging the prober.
const checkTimeout = 2 * time.Second

type readiness struct {
	mu     sync.Mutex
	checks map[string]func(context.Context) error
}

func (r *readiness) add(name string, check func(context.Context) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checks == nil {
		r.checks = make(map[string]func(context.Context) error)
	}
	r.checks[name] = check
}

// run runs every check concurrently and reports each one's outcome.
func (r *readiness) run(ctx context.Context) (ok bool, results []CheckResult) {
	r.mu.Lock()
	names := make([]string, 0, len(r.checks))
	for n := range r.checks {
		names = append(names, n)
	}
	checks := r.checks
	r.mu.Unlock()
	sort.Strings(names)

	results = make([]CheckResult, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			res := CheckResult{Name: n, OK: true}
			if err := checks[n](cctx); err != nil {
				res.OK, res.Error = false, err.Error()
			}
			results[i] = res
		})
	}
	wg.Wait()
	ok = true
	for _, res := range results {
		ok = ok && res.OK
	}
	return ok, results
}

// CheckResult is the outcome of one readiness check.
type CheckResult struct {
	Name  string `json:"name" doc:"What was checked, e.g. store or kafka."`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty" doc:"Why the check failed."`
}

// HealthBody is the body of /healthz and /readyz.
type HealthBody struct {
	Status string        `json:"status" enum:"ok,unavailable"`
	Checks []CheckResult `json:"checks,omitempty"`
}

type healthOutput struct {
	Status int
	Body   HealthBody
}

func registerProbes(api huma.API, ready *readiness) {
	huma.Register(api, huma.Operation{
		OperationID: "healthz",
		Method:      http.MethodGet,
		Path:        "/healthz",
		Summary:     "Liveness probe",
		Description: "Answers 200 while the process is serving HTTP. It does not check dependencies: use /readyz for that.",
		Tags:        []string{"Probes"},
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		return &healthOutput{Status: http.StatusOK, Body: HealthBody{Status: "ok"}}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "readyz",
		Method:      http.MethodGet,
		Path:        "/readyz",
		Summary:     "Readiness probe",
		Description: "Runs every readiness check (store, Kafka, …) and answers 200 when all pass, 503 with the failing checks otherwise.",
		Tags:        []string{"Probes"},
		Responses: map[string]*huma.Response{
			"503": {Description: "A dependency is not ready; the body lists each check."},
		},
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		ok, results := ready.run(ctx)
		out := &healthOutput{Status: http.StatusOK, Body: HealthBody{Status: "ok", Checks: results}}
		if !ok {
			out.Status, out.Body.Status = http.StatusServiceUnavailable, "unavailable"
		}
		return out, nil
	})
}

package app

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/job"
	"github.com/sluicehq/sluice/internal/sink"
)

// The demo job `sluice dev` runs, so a newcomer sees results at once.
const (
	DemoTenant = "acme"
	DemoJobID  = "demo-acme"
	DemoSQL    = "SELECT event_time, src_ip, dst_ip, dst_port, application, action, threat_name FROM tenant WHERE action <> 'allow'"
)

// StartDemoJob runs DemoSQL over the demo tenant into an NDJSON file at
// path. It waits (until ctx ends) for the tenant to have a schema, which
// the demo generator registers when it starts; the job then runs until
// stopped or until runCtx ends.
func (p *Process) StartDemoJob(ctx, runCtx context.Context, path string) (*job.Task, error) {
	var version int
	for {
		r, err := p.Catalog.Route(ctx, DemoTenant)
		if err != nil {
			return nil, err
		}
		if r.SchemaVersion > 0 {
			version = r.SchemaVersion
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	r, err := p.Catalog.Route(ctx, DemoTenant)
	if err != nil {
		return nil, err
	}
	c, err := p.Catalog.Cluster(ctx, r.Cluster)
	if err != nil {
		return nil, err
	}
	s, err := p.Schemas.Version(ctx, DemoTenant, version)
	if err != nil {
		return nil, err
	}
	reader, err := avro.Parse(s.Text)
	if err != nil {
		return nil, fmt.Errorf("demo tenant schema: %w", err)
	}
	return job.Start(runCtx, job.Spec{
		ID: DemoJobID, Tenant: DemoTenant, Topic: r.Topic, Kafka: c.Connection,
		SQL: DemoSQL, Reader: reader, Format: "JSON",
		Sink:      sink.Spec{Type: "file", Settings: map[string]any{"path": path}},
		StartFrom: job.StartFrom{Earliest: true},
	}, job.Deps{Schemas: p.Schemas.Writers(DemoTenant), Metrics: p.Jobs, Logger: p.log})
}

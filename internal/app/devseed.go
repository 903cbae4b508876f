package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// Names `sluice dev` gives its broker and demo tenants.
const (
	DevCluster = "local"
	DevRegion  = "local"
)

// DevTenants are created by `sluice dev` so there is data to subscribe to.
var DevTenants = []string{"acme", "globex", "initech"}

// SeedDev registers the dev broker as cluster "local" (or points the existing
// record at its current address) and creates the demo tenants that do not
// exist yet. It is idempotent, so every `sluice dev` start runs it.
func (p *Process) SeedDev(ctx context.Context, bootstrap []string) error {
	conn := kafkaconn.Config{Bootstrap: bootstrap}
	c, err := p.Catalog.Cluster(ctx, DevCluster)
	switch {
	case catalog.CodeOf(err) == catalog.NotFound:
		if _, err := p.Catalog.RegisterCluster(ctx, catalog.ClusterSpec{Name: DevCluster, Region: DevRegion, Connection: conn}); err != nil {
			return fmt.Errorf("register dev cluster: %w", err)
		}
	case err != nil:
		return err
	case !slices.Equal(c.Connection.Bootstrap, bootstrap):
		if _, err := p.Catalog.UpdateCluster(ctx, DevCluster, catalog.ClusterUpdate{Connection: &conn}); err != nil {
			return fmt.Errorf("point dev cluster at %v: %w", bootstrap, err)
		}
	}
	for _, name := range DevTenants {
		_, err := p.Catalog.Tenant(ctx, name)
		if catalog.CodeOf(err) != catalog.NotFound {
			if err != nil {
				return err
			}
			continue
		}
		if _, err := p.Catalog.CreateTenant(ctx, catalog.TenantSpec{Name: name, Region: DevRegion, Partitions: 3, Cluster: DevCluster}); err != nil {
			return fmt.Errorf("create demo tenant %s: %w", name, err)
		}
	}
	return nil
}

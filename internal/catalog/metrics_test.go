package catalog

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

func TestCollector(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	f.register(t, "one", "eu", kafkatest.Fake(t), Limits{})
	want := `
# HELP sluice_catalog_cluster_reachable 1 if the cluster answered its last probe, else 0.
# TYPE sluice_catalog_cluster_reachable gauge
sluice_catalog_cluster_reachable{cluster="one",region="eu"} 1
# HELP sluice_catalog_operations_pending Kafka operations recorded and not yet done or failed.
# TYPE sluice_catalog_operations_pending gauge
sluice_catalog_operations_pending 0
`
	if err := testutil.CollectAndCompare(NewCollector(f.svc), strings.NewReader(want),
		"sluice_catalog_cluster_reachable", "sluice_catalog_operations_pending"); err != nil {
		t.Fatal(err)
	}
}

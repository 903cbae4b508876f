package bench

import (
	"os"

	"github.com/sluicehq/sluice/internal/sink"
)

// storageReceiverRollRecords is the roll size of the storage scenario: with
// the default million records over memPartitions partitions, every roll
// is cut by count while the pipeline runs (none is left for Close, which
// is outside the measured time).
const storageReceiverRollRecords = 50_000

// storageReceiver returns a storage sink spec that writes Parquet
// (snappy) files into a file:// bucket in a new temporary directory,
// under the default path template (tenant, subscription, event date and
// hour from the firewall log's event_time), and a stop function that
// removes the directory. The files are fsynced, as in production.
func storageReceiver() (sink.Spec, sink.Env, func(), error) {
	dir, err := os.MkdirTemp("", "sluice-bench-storage-")
	if err != nil {
		return sink.Spec{}, sink.Env{}, nil, err
	}
	spec := sink.Spec{Type: "storage", Settings: map[string]any{
		"url": "file://" + dir, "fileFormat": "parquet", "compression": "snappy",
		"timeColumn": "event_time", "maxRecords": storageReceiverRollRecords,
	}}
	env := sink.Env{Job: "bench-sink-storage-parquet", Tenant: "bench", Task: "all", ExactlyOnce: true}
	return spec, env, func() { _ = os.RemoveAll(dir) }, nil
}

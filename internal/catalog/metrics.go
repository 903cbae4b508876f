package catalog

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the catalog's view of each cluster, and the operations
// still pending, as Prometheus metrics. It reads the store at scrape time, so
// every server reports the same, current values.
type Collector struct {
	svc       *Service
	reachable *prometheus.Desc
	parts     *prometheus.Desc
	bps       *prometheus.Desc
	lastSeen  *prometheus.Desc
	pending   *prometheus.Desc
}

// NewCollector returns a Collector over svc; register it once per process.
func NewCollector(svc *Service) *Collector {
	cl := []string{"cluster", "region"}
	return &Collector{
		svc:       svc,
		reachable: prometheus.NewDesc("sluice_catalog_cluster_reachable", "1 if the cluster answered its last probe, else 0.", cl, nil),
		parts:     prometheus.NewDesc("sluice_catalog_cluster_partitions", "Partitions of non-internal topics on the cluster at its last probe.", cl, nil),
		bps:       prometheus.NewDesc("sluice_catalog_cluster_bytes_per_second", "Write rate of the cluster measured between its last two probes.", cl, nil),
		lastSeen:  prometheus.NewDesc("sluice_catalog_cluster_last_seen_timestamp_seconds", "When the cluster last answered a probe.", cl, nil),
		pending:   prometheus.NewDesc("sluice_catalog_operations_pending", "Kafka operations recorded and not yet done or failed.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.reachable, c.parts, c.bps, c.lastSeen, c.pending} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A store error skips the metrics
// rather than failing the scrape of every other metric.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	clusters, err := c.svc.Clusters(ctx)
	if err != nil {
		c.svc.log.Warn("metrics: cannot list clusters", "err", err)
		return
	}
	for _, cl := range clusters {
		reachable := 0.0
		if cl.Reachable {
			reachable = 1
		}
		ch <- prometheus.MustNewConstMetric(c.reachable, prometheus.GaugeValue, reachable, cl.Name, cl.Region)
		ch <- prometheus.MustNewConstMetric(c.parts, prometheus.GaugeValue, float64(cl.Usage.Partitions), cl.Name, cl.Region)
		ch <- prometheus.MustNewConstMetric(c.bps, prometheus.GaugeValue, cl.Usage.BytesPerSecond, cl.Name, cl.Region)
		if !cl.LastSeen.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.lastSeen, prometheus.GaugeValue, float64(cl.LastSeen.UnixMilli())/1000, cl.Name, cl.Region)
		}
	}
	var n int
	if err := c.svc.db.QueryRow(ctx, `SELECT COUNT(*) FROM kafka_operations WHERE state = ?`, OpPending).Scan(&n); err != nil {
		c.svc.log.Warn("metrics: cannot count pending operations", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(n))
}

package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// Event kinds the catalog records.
const (
	EventClusterUnreachable  = "cluster.unreachable"
	EventClusterRecovered    = "cluster.recovered"
	EventTopicMissing        = "topic.missing"
	EventPartitionsAdopted   = "topic.partitions_adopted"
	EventPartitionsDecreased = "topic.partitions_decreased"
	EventConfigDrift         = "topic.config_drift"
	EventDriftResolved       = "topic.drift_resolved"
	EventOperationRecovered  = "operation.recovered"
)

// ProbeCluster checks that a cluster answers and measures its use, recording
// a change between reachable and unreachable as an event.
func (s *Service) ProbeCluster(ctx context.Context, name string) (Cluster, error) {
	c, err := getCluster(ctx, s.db, name)
	if err != nil {
		return c, err
	}
	now := s.now().UTC()
	admin, err := s.admins.get(c)
	var usageErr error
	if err == nil {
		u, perr := s.probe(ctx, c.Connection, admin)
		if perr == nil {
			prev := c.Usage
			c.Usage = Usage{Brokers: u.Brokers, Partitions: u.Partitions, Bytes: u.Bytes, MeasuredAt: now}
			if !prev.MeasuredAt.IsZero() && now.After(prev.MeasuredAt) && c.Reachable {
				// Retention deletes segments, so bytes can shrink: the rate is a floor of 0.
				c.Usage.BytesPerSecond = max(0, float64(u.Bytes-prev.Bytes)/now.Sub(prev.MeasuredAt).Seconds())
			}
		}
		usageErr = perr
	} else {
		usageErr = err
	}
	wasReachable := c.Reachable
	if usageErr != nil {
		c.Reachable, c.LastError = false, usageErr.Error()
	} else {
		c.Reachable, c.LastError, c.LastSeen = true, "", now
	}
	// Several servers probe the same clusters; only the one whose update
	// flips the recorded state reports the change.
	flipped := false
	if wasReachable != c.Reachable {
		res, err := s.db.Exec(ctx, `UPDATE clusters SET reachable = ? WHERE name = ? AND reachable = ?`,
			c.Reachable, c.Name, wasReachable)
		if err != nil {
			return c, fmt.Errorf("record health of cluster %s: %w", c.Name, err)
		}
		n, _ := res.RowsAffected()
		flipped = n == 1
	}
	if err := updateClusterHealth(ctx, s.db, c); err != nil {
		return c, err
	}
	switch {
	case !flipped:
	case wasReachable && !c.Reachable:
		s.emit(ctx, events.Event{Kind: EventClusterUnreachable, Cluster: c.Name,
			Message: fmt.Sprintf("cluster %s stopped answering: %v", c.Name, usageErr),
			Details: map[string]string{"error": usageErr.Error()}})
	case !wasReachable && c.Reachable:
		s.emit(ctx, events.Event{Kind: EventClusterRecovered, Cluster: c.Name,
			Message: fmt.Sprintf("cluster %s answers again", c.Name)})
	}
	return c, nil
}

// ReconcileCluster compares the recorded topics of a reachable cluster with
// what the cluster has, adopts partition increases made outside Sluice, and
// reports every other difference as an event — each finding once, until it
// changes.
func (s *Service) ReconcileCluster(ctx context.Context, name string) error {
	c, err := s.ProbeCluster(ctx, name)
	if err != nil || !c.Reachable {
		return err
	}
	recs, err := listTopics(ctx, s.db, TopicFilter{Cluster: name})
	if err != nil {
		return err
	}
	var names []string
	for _, r := range recs {
		if r.State == TopicActive {
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	admin, err := s.admins.get(c)
	if err != nil {
		return err
	}
	kctx, cancel := context.WithTimeout(ctx, s.cfg.KafkaTimeout)
	actual, err := admin.Topics(kctx, names...)
	cancel()
	if err != nil {
		return fmt.Errorf("describe topics of cluster %s: %w", name, err)
	}
	for _, r := range recs {
		if r.State != TopicActive {
			continue
		}
		if err := s.reconcileTopic(ctx, r, actual); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) reconcileTopic(ctx context.Context, r topicRecord, actual map[string]kafkaconn.Topic) error {
	a, exists := actual[r.Name]
	base := events.Event{Cluster: r.Cluster, Tenant: r.Tenant, Topic: r.Name}
	if exists && a.Partitions > r.Partitions {
		// Someone added partitions behind Sluice's back: that is safe, and
		// jobs must read the new partitions, so the record follows Kafka.
		before := r.Partitions
		res, err := s.db.Exec(ctx, `UPDATE topics SET partitions = ?, updated_at = ? WHERE cluster = ? AND name = ? AND partitions = ?`,
			a.Partitions, s.now().UTC(), r.Cluster, r.Name, before)
		if err != nil {
			return fmt.Errorf("adopt partitions of topic %s: %w", r.Name, err)
		}
		r.Partitions = a.Partitions
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another server adopted it first, or an operation changed it
		}
		e := base
		e.Kind = EventPartitionsAdopted
		e.Message = fmt.Sprintf("topic %s on %s has %d partitions, not the recorded %d: added outside Sluice, adopted",
			r.Name, r.Cluster, a.Partitions, before)
		e.Details = map[string]string{"before": fmt.Sprint(before), "after": fmt.Sprint(a.Partitions)}
		s.emit(ctx, e)
	}

	var finding events.Event
	switch {
	case !exists:
		finding = base
		finding.Kind = EventTopicMissing
		finding.Message = fmt.Sprintf("topic %s of tenant %s is recorded on cluster %s but the cluster does not have it",
			r.Name, r.Tenant, r.Cluster)
	case a.Partitions < r.Partitions:
		finding = base
		finding.Kind = EventPartitionsDecreased
		finding.Message = fmt.Sprintf("topic %s on %s has %d partitions, fewer than the recorded %d: it was deleted and recreated outside Sluice",
			r.Name, r.Cluster, a.Partitions, r.Partitions)
		finding.Details = map[string]string{"recorded": fmt.Sprint(r.Partitions), "actual": fmt.Sprint(a.Partitions)}
	default:
		if diffs := configDrift(r.Configs, a.Configs); len(diffs) > 0 {
			finding = base
			finding.Kind = EventConfigDrift
			finding.Message = fmt.Sprintf("topic %s on %s: configs differ from what Sluice set: %s",
				r.Name, r.Cluster, strings.Join(diffs, "; "))
			finding.Details = map[string]string{"differences": strings.Join(diffs, "; ")}
		}
	}
	key := ""
	if finding.Kind != "" {
		key = finding.Kind + " " + finding.Message
	}
	if key == r.drift {
		return nil
	}
	if changed, err := setTopicDrift(ctx, s.db, r.Cluster, r.Name, r.drift, key); err != nil || !changed {
		return err
	}
	if finding.Kind == "" {
		s.emit(ctx, events.Event{Kind: EventDriftResolved, Cluster: r.Cluster, Tenant: r.Tenant, Topic: r.Name,
			Message: fmt.Sprintf("topic %s on %s matches its record again", r.Name, r.Cluster)})
		return nil
	}
	s.emit(ctx, finding)
	return nil
}

// configDrift lists each recorded config whose value on Kafka differs.
func configDrift(want, have map[string]string) []string {
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got, ok := have[k]; !ok || got != want[k] {
			if !ok {
				got = "(broker default)"
			}
			diffs = append(diffs, fmt.Sprintf("%s is %s, want %s", k, got, want[k]))
		}
	}
	return diffs
}

// reconcileConcurrency bounds how many clusters one pass works on at once.
const reconcileConcurrency = 8

// Reconciler runs the catalog's control loop: it probes every cluster every
// ProbeInterval, and every Interval also settles pending operations and
// compares every cluster's topics with the records.
type Reconciler struct {
	Service       *Service
	Interval      time.Duration // overriding the default 1m
	ProbeInterval time.Duration // overriding the default 15s
	Logger        *slog.Logger
}

// Run loops until ctx ends. A failing pass is logged and retried at the next
// tick: the loop never stops on an error.
func (r *Reconciler) Run(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	probeEvery := r.ProbeInterval
	if probeEvery <= 0 {
		probeEvery = 15 * time.Second
	}
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	reconcile := time.NewTicker(interval)
	defer reconcile.Stop()
	probe := time.NewTicker(probeEvery)
	defer probe.Stop()
	r.pass(ctx, log, true)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-reconcile.C:
			r.pass(ctx, log, true)
		case <-probe.C:
			r.pass(ctx, log, false)
		}
	}
}

func (r *Reconciler) pass(ctx context.Context, log *slog.Logger, full bool) {
	if full {
		if _, err := r.Service.RecoverOperations(ctx); err != nil && ctx.Err() == nil {
			log.Warn("settling pending Kafka operations failed", "err", err)
		}
	}
	clusters, err := r.Service.Clusters(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("reconcile: cannot list clusters", "err", err)
		}
		return
	}
	// Clusters are independent, and an unreachable one takes a whole probe
	// timeout: probe several at once so one dead cluster does not delay the
	// others' pass.
	var g errgroup.Group
	g.SetLimit(reconcileConcurrency)
	for _, c := range clusters {
		g.Go(func() error {
			if ctx.Err() != nil {
				return nil
			}
			var err error
			if full {
				err = r.Service.ReconcileCluster(ctx, c.Name)
			} else {
				_, err = r.Service.ProbeCluster(ctx, c.Name)
			}
			if err != nil && ctx.Err() == nil {
				log.Warn("reconcile cluster failed", "cluster", c.Name, "err", err)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// ReconcileAll runs one full pass now (what Run does every Interval).
func (r *Reconciler) ReconcileAll(ctx context.Context) {
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	r.pass(ctx, log, true)
}

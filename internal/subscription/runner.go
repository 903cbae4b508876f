package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/job"
	sluicesql "github.com/sluicehq/sluice/internal/sql"
	"github.com/sluicehq/sluice/internal/store"
)

// Actual states a worker reports.
const (
	StateStarting = "starting"
	StateRunning  = "running"
	StatePaused   = "paused"
	StateFailed   = "failed"
	StateUpdating = "updating"
	StateUnknown  = "unknown" // no worker holds the subscription's lease
)

// Runner timings.
const (
	leaseFor       = 15 * time.Second
	runnerInterval = time.Second
	maxBackoff     = time.Minute
	rateWindow     = time.Minute
	stopTimeout    = 30 * time.Second
)

// PartitionLag is one partition's lag.
type PartitionLag struct {
	Partition int32 `json:"partition"`
	Lag       int64 `json:"lag" doc:"Records between the committed offset and the high watermark."`
}

// Status is desired against actual state of a subscription's job.
type Status struct {
	ID            string         `json:"id"`
	DesiredState  string         `json:"desiredState" enum:"running,paused"`
	ActualState   string         `json:"actualState" enum:"starting,running,paused,failed,updating,unknown"`
	Worker        string         `json:"worker,omitempty" doc:"The node running the job."`
	Epoch         int64          `json:"epoch" doc:"The epoch the job runs."`
	DesiredEpoch  int64          `json:"desiredEpoch"`
	SchemaVersion int            `json:"schemaVersion" doc:"The reader schema version the job reads records as."`
	InPerSecond   float64        `json:"recordsInPerSecond" doc:"Records consumed per second over the last minute."`
	OutPerSecond  float64        `json:"recordsOutPerSecond" doc:"Result rows delivered per second over the last minute."`
	Lag           []PartitionLag `json:"lag"`
	Update        *Update        `json:"update,omitempty" doc:"While actualState is updating: the epoch change in progress."`
	LastError     string         `json:"lastError,omitempty"`
	LastErrorAt   time.Time      `json:"lastErrorAt,omitzero"`
	UpdatedAt     time.Time      `json:"updatedAt,omitzero" doc:"When the worker last reported."`
}

// Status returns the subscription's desired and actual state.
func (s *Service) Status(ctx context.Context, id string) (Status, error) {
	sub, err := s.Get(ctx, id)
	if err != nil {
		return Status{}, err
	}
	st := Status{ID: id, DesiredState: sub.State, ActualState: StateUnknown, DesiredEpoch: sub.Epoch, Lag: []PartitionLag{}}
	var raw string
	var owner string
	var until time.Time
	err = s.db.QueryRow(ctx, `SELECT owner, lease_until, status FROM subscription_runs WHERE id = ?`, id).Scan(&owner, &until, &raw)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return st, nil
	case err != nil:
		return st, err
	}
	var reported Status
	if err := json.Unmarshal([]byte(raw), &reported); err != nil {
		return st, fmt.Errorf("status of %s: %w", id, err)
	}
	reported.ID, reported.DesiredState, reported.DesiredEpoch = id, sub.State, sub.Epoch
	if reported.Lag == nil {
		reported.Lag = []PartitionLag{}
	}
	if s.cfg.Now().After(until) {
		reported.ActualState = StateUnknown // the worker stopped reporting
	}
	return reported, nil
}

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	Node    string // this worker's node id
	Catalog *catalog.Service
	Jobs    job.Deps // Schemas is filled per subscription
	Logger  *slog.Logger
	// Events, when set, records what the runner does to jobs: starts,
	// updates, stops, failed starts, rollbacks.
	Events *events.Log
}

// Runner is the worker side of subscriptions: it takes the lease of every
// subscription no other live worker holds, runs its job, restarts it when
// its epoch changes, stops it (at a checkpoint) when it is paused or
// deleted, and reports status. Leases expire when a worker stops
// reporting, so another takes over.
type Runner struct {
	svc  *Service
	cfg  RunnerConfig
	log  *slog.Logger
	runs map[string]*run
	// cache is shared by every job's decoders.
	cache *decode.Cache
	// admins are admin clients of the clusters jobs read, for the
	// partition check.
	admins         map[string]*kadm.Client
	lastTopicCheck time.Time
}

// run is one subscription this worker runs.
type run struct {
	task       *job.Task
	cancel     context.CancelFunc
	epoch      int64
	schema     int
	id, tenant string
	// The topic the task reads, its cluster and its partitions.
	topic, cluster string
	parts          []int32
	// update is the epoch change in progress; reason, why the next one
	// was asked for (when the runner asked); move, the tenant's new topic
	// while the job reads its old one to the end.
	update *Update
	reason string
	move   *move

	lastErr   string
	lastErrAt time.Time
	failures  int
	retryAt   time.Time
	samples   []sample
}

type sample struct {
	at      time.Time
	in, out uint64
}

// NewRunner returns a Runner for svc.
func NewRunner(svc *Service, cfg RunnerConfig) *Runner {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Runner{svc: svc, cfg: cfg, log: cfg.Logger, runs: map[string]*run{}, cache: decode.NewCache(256), admins: map[string]*kadm.Client{}}
}

// Run reconciles every second until ctx ends, then stops every job at a
// checkpoint and gives up the leases.
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTicker(runnerInterval)
	defer t.Stop()
	for {
		if err := r.reconcile(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("subscription runner", "err", err)
		}
		select {
		case <-ctx.Done():
			r.stopAll(context.WithoutCancel(ctx))
			return nil
		case <-t.C:
		case <-r.svc.changed:
		}
	}
}

func (r *Runner) stopAll(ctx context.Context) {
	defer r.closeAdmins()
	for id, rn := range r.runs {
		_, _ = r.stop(ctx, id, rn)
		if _, err := r.svc.db.Exec(ctx, `DELETE FROM subscription_runs WHERE id = ? AND owner = ?`, id, r.cfg.Node); err != nil {
			r.log.Warn("release lease", "subscription", id, "err", err)
		}
	}
}

func (r *Runner) reconcile(ctx context.Context) error {
	subs, err := r.svc.all(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, sub := range subs {
		seen[sub.ID] = true
		held, err := r.lease(ctx, sub.ID)
		if err != nil {
			r.log.Warn("lease", "subscription", sub.ID, "err", err)
			continue
		}
		if !held {
			if rn := r.runs[sub.ID]; rn != nil { // lost it: another worker runs it now
				_, _ = r.stop(ctx, sub.ID, rn)
				delete(r.runs, sub.ID)
			}
			continue
		}
		r.one(ctx, sub)
	}
	for id, rn := range r.runs {
		if !seen[id] {
			_, _ = r.stop(ctx, id, rn)
			delete(r.runs, id)
		}
	}
	r.watchTopics(ctx)
	return nil
}

// lease takes or renews the subscription's lease for this node.
func (r *Runner) lease(ctx context.Context, id string) (bool, error) {
	now := r.svc.cfg.Now().UTC()
	res, err := r.svc.db.Exec(ctx, `UPDATE subscription_runs SET owner = ?, lease_until = ?, updated_at = ? WHERE id = ? AND (owner = ? OR lease_until < ?)`,
		r.cfg.Node, now.Add(leaseFor), now, id, r.cfg.Node, now)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return true, nil
	}
	_, err = r.svc.db.Exec(ctx, `INSERT INTO subscription_runs (id, owner, lease_until, status, updated_at) VALUES (?, ?, ?, ?, ?)`,
		id, r.cfg.Node, now.Add(leaseFor), `{}`, now)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrForeignKey):
		return false, nil // another worker holds it, or it was just deleted
	}
	return false, err
}

// one moves one subscription's job toward its desired state.
func (r *Runner) one(ctx context.Context, sub Subscription) {
	rn := r.runs[sub.ID]
	if rn == nil {
		rn = &run{id: sub.ID, tenant: sub.Tenant}
		r.runs[sub.ID] = rn
	}
	actual := StateRunning
	switch {
	case !sub.deletedAt.IsZero():
		_, _ = r.stop(ctx, sub.ID, rn)
		if sub.purgeOffsets {
			if err := r.purge(ctx, sub); err != nil {
				r.fail(rn, fmt.Errorf("purge offsets: %w", err))
				r.report(ctx, sub, rn, StateFailed)
				return
			}
		}
		if err := r.svc.remove(ctx, sub.ID); err != nil {
			r.log.Warn("remove deleted subscription", "subscription", sub.ID, "err", err)
			return
		}
		delete(r.runs, sub.ID)
		return
	case sub.State == Paused:
		_, _ = r.stop(ctx, sub.ID, rn)
		rn.update = nil
		actual = StatePaused
	default:
		if rn.task != nil {
			select {
			case <-rn.task.Done():
				r.fail(rn, rn.task.Err())
				rn.task, rn.cancel = nil, nil
			default:
			}
		}
		if rn.task != nil && rn.epoch != sub.Epoch {
			r.beginUpdate(ctx, sub, rn)
		}
		if rn.task == nil {
			if rn.update != nil {
				rn.update.ToEpoch = sub.Epoch // changed again while it could not start
			}
			if time.Now().Before(rn.retryAt) {
				actual = StateFailed
				break
			}
			if err := r.start(ctx, sub, rn); err != nil {
				r.fail(rn, err)
				r.startFailed(ctx, sub, rn, err)
				actual = StateFailed
			} else {
				rn.failures = 0
				r.started(ctx, sub, rn)
			}
		}
	}
	if rn.update != nil && actual != StatePaused {
		// An update whose new epoch cannot start yet (the old epoch's
		// checkpoint holds, and the status says what is being retried),
		// or a job reading its old topic to the end before it moves.
		actual = StateUpdating
	}
	r.report(ctx, sub, rn, actual)
}

func (r *Runner) fail(rn *run, err error) {
	if err == nil {
		err = errors.New("the job stopped")
	}
	rn.lastErr, rn.lastErrAt = err.Error(), time.Now().UTC()
	rn.failures++
	backoff := min(time.Duration(1<<min(rn.failures, 10))*time.Second, maxBackoff)
	rn.retryAt = time.Now().Add(backoff)
}

func (r *Runner) start(ctx context.Context, sub Subscription, rn *run) error {
	src := sub.source
	if src.Topic == "" { // the first start: the job reads the tenant's topic
		route, err := r.cfg.Catalog.Route(ctx, sub.Tenant)
		if err != nil {
			return err
		}
		src = Source{Cluster: route.Cluster, Topic: route.Topic}
		if err := r.svc.setSource(ctx, sub.ID, src); err != nil {
			return err
		}
	}
	cluster, err := r.cfg.Catalog.Cluster(ctx, src.Cluster)
	if err != nil {
		return err
	}
	_, reader, err := r.svc.Analyzed(ctx, sub)
	if err != nil {
		return err
	}
	from, err := job.ParseStartFrom(sub.StartFrom)
	if err != nil {
		return err
	}
	if sub.started {
		// startFrom is where a new job starts. One that ran before and
		// finds no offsets on its source has moved to a new topic: it
		// reads it from its start.
		from = job.StartFrom{Earliest: true}
	}
	lateness, _ := sluicesql.ParseInterval(sub.Lateness)
	opts, err := sub.FormatOptions.Format()
	if err != nil {
		return err
	}
	deps := r.cfg.Jobs
	deps.Schemas = r.svc.cfg.Schemas.Writers(sub.Tenant)
	deps.Cache = r.cache
	deps.Logger = r.log
	deps.SinkEnv = r.svc.cfg.SinkEnv
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	task, err := job.Start(runCtx, job.Spec{
		ID: sub.ID, Tenant: sub.Tenant, Topic: src.Topic, Kafka: cluster.Connection, Cluster: src.Cluster,
		SQL: sub.SQL, Reader: reader, Format: sub.OutputFormat, FormatOptions: opts, Sink: sub.Sink, StartFrom: from,
		Lateness: time.Duration(lateness) * time.Microsecond, ExactlyOnce: sub.DeliveryGuarantee == ExactlyOnce,
	}, deps)
	if err != nil {
		cancel()
		return err
	}
	rn.task, rn.cancel, rn.epoch, rn.schema, rn.samples = task, cancel, sub.Epoch, sub.SchemaVersion, nil
	rn.topic, rn.cluster, rn.parts = src.Topic, src.Cluster, task.Partitions()
	r.log.Info("job started", "subscription", sub.ID, "epoch", sub.Epoch, "source", src, "partitions", len(rn.parts))
	return nil
}

// stop stops a job at a checkpoint (abruptly if that takes too long) and
// returns the checkpoint.
func (r *Runner) stop(ctx context.Context, id string, rn *run) (job.Checkpoint, error) {
	if rn.task == nil {
		return job.Checkpoint{}, errors.New("not running")
	}
	sctx, cancel := context.WithTimeout(ctx, stopTimeout)
	defer cancel()
	ckpt, err := rn.task.Stop(sctx)
	if err != nil {
		r.log.Warn("job did not stop at a checkpoint", "subscription", id, "err", err)
	} else {
		r.log.Info("job stopped", "subscription", id, "epoch", rn.epoch, "offsets", ckpt.Offsets)
	}
	rn.cancel()
	rn.task, rn.cancel = nil, nil
	return ckpt, err
}

func (r *Runner) purge(ctx context.Context, sub Subscription) error {
	route, err := r.cfg.Catalog.Route(ctx, sub.Tenant)
	if err != nil {
		return err
	}
	cluster, err := r.cfg.Catalog.Cluster(ctx, route.Cluster)
	if err != nil {
		return err
	}
	return job.PurgeOffsets(ctx, cluster.Connection, sub.ID)
}

// report writes the subscription's status under this node's lease.
func (r *Runner) report(ctx context.Context, sub Subscription, rn *run, actual string) {
	now := time.Now().UTC()
	st := Status{ActualState: actual, Worker: r.cfg.Node, Epoch: rn.epoch, SchemaVersion: rn.schema, Update: rn.update,
		LastError: rn.lastErr, LastErrorAt: rn.lastErrAt, UpdatedAt: now, Lag: []PartitionLag{}}
	if rn.task != nil {
		stats := rn.task.Stats()
		rn.samples = append(rn.samples, sample{at: now, in: stats.In, out: stats.Out})
		for len(rn.samples) > 1 && now.Sub(rn.samples[0].at) > rateWindow {
			rn.samples = rn.samples[1:]
		}
		if first := rn.samples[0]; now.Sub(first.at) > 0 {
			secs := now.Sub(first.at).Seconds()
			st.InPerSecond = float64(stats.In-first.in) / secs
			st.OutPerSecond = float64(stats.Out-first.out) / secs
		}
		for p, l := range rn.task.Lag() {
			st.Lag = append(st.Lag, PartitionLag{Partition: p, Lag: l})
		}
		slices.SortFunc(st.Lag, func(a, b PartitionLag) int { return int(a.Partition - b.Partition) })
	}
	b, _ := json.Marshal(st)
	if _, err := r.svc.db.Exec(ctx, `UPDATE subscription_runs SET status = ?, updated_at = ? WHERE id = ? AND owner = ?`,
		string(b), now, sub.ID, r.cfg.Node); err != nil {
		r.log.Warn("report status", "subscription", sub.ID, "err", err)
	}
}

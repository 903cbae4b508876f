package subscription

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// Reliable update: a change to a subscription's job (its spec, its reader
// schema version, the partition count of its topic) is a new epoch, and
// the worker running the job moves it from epoch N to N+1 by stopping N at
// a checkpoint (its sink flushed and acknowledged, its offsets and, for an
// aggregation, its emission frontier committed) and starting N+1 from that
// checkpoint (see job.Checkpoint). docs/jobs.md tells the whole story.

const (
	// rollbackAfter is how many failed starts of an update's new epoch a
	// subscription with rollback allows before going back to its last
	// good spec.
	rollbackAfter = 3
	// topicCheck is how often the runner looks at its jobs' topics: one
	// catalog read, and one metadata request per cluster.
	topicCheck = 2 * time.Second
	// drainQuiet is how long a job's old topic must have taken no record
	// before the job leaves it for the tenant's new topic.
	drainQuiet = 3 * time.Second
)

// Update is an epoch change in progress, as status shows it.
type Update struct {
	FromEpoch int64     `json:"fromEpoch"`
	ToEpoch   int64     `json:"toEpoch"`
	Since     time.Time `json:"since" doc:"When the worker began stopping the old epoch."`
	Reason    string    `json:"reason,omitempty"`
	// StopOffsets are the old epoch's exact stop offsets, per partition.
	StopOffsets map[int32]int64 `json:"stopOffsets,omitempty" doc:"Where the old epoch stopped: per partition, the offset after the last record it took."`
	Attempts    int             `json:"attempts,omitempty" doc:"Failed starts of the new epoch so far."`
}

// Event kinds the runner records (internal/events).
const (
	EventJobStarted           = "job.started"
	EventJobUpdating          = "job.updating"
	EventJobStopped           = "job.stopped"
	EventJobUpdated           = "job.updated"
	EventJobStartFailed       = "job.start_failed"
	EventJobRolledBack        = "job.rolled_back"
	EventJobPartitionsChanged = "job.partitions_changed"
	EventJobMoving            = "job.source_moving"
	EventJobMoved             = "job.source_moved"
)

// markGood records the subscription's current spec as the last one whose
// job started (at epoch).
func (s *Service) markGood(ctx context.Context, id string, epoch int64) error {
	_, err := s.db.Exec(ctx, `UPDATE subscriptions SET good_spec = spec, good_schema_version = schema_version, good_epoch = epoch
WHERE id = ? AND epoch = ? AND good_epoch < epoch`, id, epoch)
	return err
}

// rollBack returns a subscription whose epoch `failed` could not start to
// its last good spec, as a new epoch. It does nothing (false) when the
// subscription has moved on, or has no good spec other than the failing
// one.
func (s *Service) rollBack(ctx context.Context, id string, failed int64) (Subscription, bool, error) {
	var good sql.NullString
	var goodVersion sql.NullInt64
	var goodEpoch int64
	err := s.db.QueryRow(ctx, `SELECT good_spec, good_schema_version, good_epoch FROM subscriptions WHERE id = ?`, id).
		Scan(&good, &goodVersion, &goodEpoch)
	if err != nil || !good.Valid || goodEpoch == 0 || goodEpoch >= failed {
		return Subscription{}, false, err
	}
	var spec Spec
	if err := decodeSpec(&spec, []byte(good.String)); err != nil {
		return Subscription{}, false, fmt.Errorf("good spec of %s: %w", id, err)
	}
	sub, err := s.update(ctx, id, 0, func(sub *Subscription) error {
		if sub.Epoch != failed {
			return errUnchanged // it moved on meanwhile
		}
		spec.Application, spec.Tenant = sub.Application, sub.Tenant
		sub.Spec, sub.SchemaVersion = spec, int(goodVersion.Int64)
		sub.Epoch++
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return Subscription{}, false, nil
	}
	return sub, err == nil, err
}

// event records what the runner did to a subscription's job.
func (r *Runner) event(ctx context.Context, sub Subscription, topic, kind, msg string, details map[string]string) {
	if r.cfg.Events == nil {
		return
	}
	if details == nil {
		details = map[string]string{}
	}
	details["subscription"], details["worker"] = sub.ID, r.cfg.Node
	if _, err := r.cfg.Events.Append(ctx, events.Event{Kind: kind, Tenant: sub.Tenant, Topic: topic, Message: msg, Details: details}); err != nil {
		r.log.Warn("record event", "kind", kind, "subscription", sub.ID, "err", err)
	}
}

// ms formats d in milliseconds, to the tenth.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

func offsetsText(m map[int32]int64) string {
	b, _ := json.Marshal(m)
	return string(b)
}

// beginUpdate stops the job's running epoch at a checkpoint because the
// subscription is at another epoch now.
func (r *Runner) beginUpdate(ctx context.Context, sub Subscription, rn *run) {
	u := &Update{FromEpoch: rn.epoch, ToEpoch: sub.Epoch, Since: time.Now().UTC(), Reason: rn.reason}
	rn.update, rn.reason = u, ""
	r.report(ctx, sub, rn, StateUpdating)
	r.event(ctx, sub, rn.topic, EventJobUpdating, fmt.Sprintf("Updating the job of %s from epoch %d to %d.", sub.ID, u.FromEpoch, u.ToEpoch),
		map[string]string{"from_epoch": strconv.FormatInt(u.FromEpoch, 10), "to_epoch": strconv.FormatInt(u.ToEpoch, 10), "reason": u.Reason})
	ck, err := r.stop(ctx, sub.ID, rn)
	if err != nil {
		// Stopped abruptly: the new epoch resumes from the last commit.
		r.event(ctx, sub, rn.topic, EventJobStopped, fmt.Sprintf("Epoch %d of %s did not stop at a checkpoint (%v); epoch %d resumes from its last commit.", u.FromEpoch, sub.ID, err, u.ToEpoch),
			map[string]string{"epoch": strconv.FormatInt(u.FromEpoch, 10), "error": err.Error()})
		return
	}
	u.StopOffsets = ck.Stops()
	r.event(ctx, sub, rn.topic, EventJobStopped, fmt.Sprintf("Epoch %d of %s stopped at a checkpoint.", u.FromEpoch, sub.ID),
		map[string]string{"epoch": strconv.FormatInt(u.FromEpoch, 10), "stop_offsets": offsetsText(u.StopOffsets),
			"resume_offsets": offsetsText(ck.Offsets), "stop_ms": ms(time.Since(u.Since))})
}

// started records a started epoch: the spec is good, and an update is
// done.
func (r *Runner) started(ctx context.Context, sub Subscription, rn *run) {
	if err := r.svc.markGood(ctx, sub.ID, sub.Epoch); err != nil {
		r.log.Warn("record the good spec", "subscription", sub.ID, "err", err)
	}
	details := map[string]string{"epoch": strconv.FormatInt(sub.Epoch, 10), "partitions": strconv.Itoa(len(rn.parts))}
	if u := rn.update; u != nil {
		took := time.Since(u.Since)
		details["from_epoch"], details["took_ms"] = strconv.FormatInt(u.FromEpoch, 10), ms(took)
		r.event(ctx, sub, rn.topic, EventJobUpdated, fmt.Sprintf("The job of %s moved from epoch %d to %d in %v.", sub.ID, u.FromEpoch, sub.Epoch, took.Round(time.Millisecond)), details)
		rn.update = nil
		return
	}
	r.event(ctx, sub, rn.topic, EventJobStarted, fmt.Sprintf("The job of %s started at epoch %d.", sub.ID, sub.Epoch), details)
}

// startFailed records a failed start and, for an update of a subscription
// with rollback, goes back to the last good spec after rollbackAfter
// attempts.
func (r *Runner) startFailed(ctx context.Context, sub Subscription, rn *run, err error) {
	details := map[string]string{"epoch": strconv.FormatInt(sub.Epoch, 10), "error": err.Error(), "attempt": strconv.Itoa(rn.failures),
		"retry_at": rn.retryAt.UTC().Format(time.RFC3339)}
	r.event(ctx, sub, rn.topic, EventJobStartFailed, fmt.Sprintf("Epoch %d of %s could not start (attempt %d): %v", sub.Epoch, sub.ID, rn.failures, err), details)
	u := rn.update
	if u == nil {
		return
	}
	u.Attempts = rn.failures
	if !sub.Rollback || rn.failures < rollbackAfter {
		return
	}
	back, ok, rerr := r.svc.rollBack(ctx, sub.ID, sub.Epoch)
	if rerr != nil {
		r.log.Warn("roll back", "subscription", sub.ID, "err", rerr)
		return
	}
	if !ok {
		return
	}
	u.ToEpoch, u.Attempts = back.Epoch, 0
	rn.failures, rn.retryAt = 0, time.Time{}
	r.event(ctx, back, rn.topic, EventJobRolledBack, fmt.Sprintf("Epoch %d of %s could not start %d times: rolled back to the last spec that ran, as epoch %d.", sub.Epoch, sub.ID, rollbackAfter, back.Epoch),
		map[string]string{"failed_epoch": strconv.FormatInt(sub.Epoch, 10), "epoch": strconv.FormatInt(back.Epoch, 10), "error": err.Error()})
}

// watchTopics looks, every topicCheck, at the topic of each running job:
// whether the tenant's topic moved (one catalog read) and whether the
// job's topic has partitions it does not read (one metadata request per
// cluster). Either makes a new epoch; a move first lets the job read its
// old topic to the end.
func (r *Runner) watchTopics(ctx context.Context) {
	if time.Since(r.lastTopicCheck) < topicCheck {
		return
	}
	r.lastTopicCheck = time.Now()
	tenants, err := r.cfg.Catalog.Tenants(ctx)
	if err != nil {
		r.log.Warn("topic check", "err", err)
		return
	}
	routes := make(map[string]Source, len(tenants))
	for _, t := range tenants {
		routes[t.Name] = Source{Cluster: t.Cluster, Topic: t.Topic}
	}
	byCluster := map[string][]*run{}
	for _, rn := range r.runs {
		if rn.task == nil || rn.update != nil && rn.move == nil {
			continue // not running, or being updated
		}
		if to, ok := routes[rn.tenant]; ok && to != (Source{Cluster: rn.cluster, Topic: rn.topic}) {
			r.drain(ctx, rn, to)
			continue
		}
		if rn.move != nil { // the tenant moved back before the job left
			rn.move, rn.update = nil, nil
		}
		byCluster[rn.cluster] = append(byCluster[rn.cluster], rn)
	}
	for name, runs := range byCluster {
		adm, err := r.admin(ctx, name)
		if err != nil {
			r.log.Warn("partition check", "cluster", name, "err", err)
			continue
		}
		topics := map[string]bool{}
		for _, rn := range runs {
			topics[rn.topic] = true
		}
		listed, err := adm.ListTopics(ctx, slices.Collect(maps.Keys(topics))...)
		if err != nil {
			r.log.Warn("partition check", "cluster", name, "err", err)
			continue
		}
		for _, rn := range runs {
			td, ok := listed[rn.topic]
			if !ok || td.Err != nil || len(td.Partitions) <= len(rn.parts) {
				continue
			}
			sub, changed, err := r.svc.nextEpoch(ctx, rn.id, rn.epoch, nil)
			if err != nil {
				r.log.Warn("new epoch for added partitions", "subscription", rn.id, "err", err)
				continue
			}
			if changed {
				rn.reason = fmt.Sprintf("topic %s has %d partitions, the job reads %d", rn.topic, len(td.Partitions), len(rn.parts))
				r.event(ctx, sub, rn.topic, EventJobPartitionsChanged, fmt.Sprintf("Topic %s grew from %d to %d partitions: the job of %s moves to epoch %d.", rn.topic, len(rn.parts), len(td.Partitions), rn.id, sub.Epoch),
					map[string]string{"from": strconv.Itoa(len(rn.parts)), "to": strconv.Itoa(len(td.Partitions)), "epoch": strconv.FormatInt(sub.Epoch, 10)})
				r.one(ctx, sub) // now: seconds matter
			}
		}
	}
}

// move is a job's way from its tenant's old topic to the new one.
type move struct {
	to      Source
	ends    map[int32]int64 // of the old topic, as last listed
	changed time.Time       // when ends last changed
}

// drain lets the job read its old topic to the end (every partition read
// to its end offset, which has not moved for drainQuiet: producers have
// followed the route) and then moves it to the tenant's new topic as a new
// epoch, which reads that topic from its start.
func (r *Runner) drain(ctx context.Context, rn *run, to Source) {
	from := Source{Cluster: rn.cluster, Topic: rn.topic}
	now := time.Now()
	if rn.move == nil || rn.move.to != to {
		rn.move = &move{to: to, changed: now}
		rn.update = &Update{FromEpoch: rn.epoch, ToEpoch: rn.epoch + 1, Since: now.UTC(),
			Reason: fmt.Sprintf("reading %s to its end before moving to %s", from, to)}
		r.event(ctx, Subscription{ID: rn.id, Spec: Spec{Tenant: rn.tenant}}, rn.topic, EventJobMoving,
			fmt.Sprintf("The topic of tenant %s moved to %s: the job of %s reads %s to its end first.", rn.tenant, to, rn.id, from),
			map[string]string{"from": from.String(), "to": to.String()})
	}
	adm, err := r.admin(ctx, rn.cluster)
	if err != nil {
		r.log.Warn("drain", "subscription", rn.id, "err", err)
		return
	}
	listed, err := adm.ListEndOffsets(ctx, rn.topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		r.log.Warn("drain: end offsets", "subscription", rn.id, "topic", rn.topic, "err", err)
		return
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	if !maps.Equal(ends, rn.move.ends) {
		rn.move.ends, rn.move.changed = ends, now
	}
	consumed := rn.task.Consumed()
	for p, end := range ends {
		if consumed[p] < end {
			return
		}
	}
	if now.Sub(rn.move.changed) < drainQuiet {
		return
	}
	sub, changed, err := r.svc.nextEpoch(ctx, rn.id, rn.epoch, &to)
	if err != nil || !changed {
		if err != nil {
			r.log.Warn("move the job's source", "subscription", rn.id, "err", err)
		}
		return
	}
	rn.move, rn.update = nil, nil
	rn.reason = fmt.Sprintf("source moved from %s (read to offsets %s) to %s", from, offsetsText(ends), to)
	r.event(ctx, sub, rn.topic, EventJobMoved, fmt.Sprintf("The job of %s read %s to its end: epoch %d reads %s from its start.", rn.id, from, sub.Epoch, to),
		map[string]string{"from": from.String(), "to": to.String(), "end_offsets": offsetsText(ends), "epoch": strconv.FormatInt(sub.Epoch, 10)})
	r.one(ctx, sub)
}

// setSource records the source of a job's first start.
func (s *Service) setSource(ctx context.Context, id string, src Source) error {
	_, err := s.db.Exec(ctx, `UPDATE subscriptions SET source_cluster = ?, source_topic = ? WHERE id = ? AND source_topic IS NULL`,
		src.Cluster, src.Topic, id)
	return err
}

// nextEpoch starts a new epoch of the subscription's job if it is still at
// epoch (the runner saw its topic grow, or move: then to is its new
// source). It reports whether it did.
func (s *Service) nextEpoch(ctx context.Context, id string, epoch int64, to *Source) (Subscription, bool, error) {
	q, args := `UPDATE subscriptions SET epoch = epoch + 1, version = version + 1, updated_at = ?`, []any{s.cfg.Now().UTC().Truncate(time.Microsecond)}
	if to != nil {
		q += `, source_cluster = ?, source_topic = ?`
		args = append(args, to.Cluster, to.Topic)
	}
	res, err := s.db.Exec(ctx, q+` WHERE id = ? AND epoch = ? AND deleted_at IS NULL`, append(args, id, epoch)...)
	if err != nil {
		return Subscription{}, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Subscription{}, false, nil
	}
	s.notify()
	sub, err := get(ctx, s.db, id)
	return sub, err == nil, err
}

// admin returns the runner's admin client of a cluster.
func (r *Runner) admin(ctx context.Context, name string) (*kadm.Client, error) {
	if adm, ok := r.admins[name]; ok {
		return adm, nil
	}
	c, err := r.cfg.Catalog.Cluster(ctx, name)
	if err != nil {
		return nil, err
	}
	cl, err := kafkaconn.NewClient(c.Connection)
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	r.admins[name] = adm
	return adm, nil
}

func (r *Runner) closeAdmins() {
	for name, adm := range r.admins {
		adm.Close()
		delete(r.admins, name)
	}
}

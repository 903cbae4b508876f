package subscription

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/sink"
)

// unreachableSink is a sink whose Open fails: PostgreSQL on a port nothing
// listens on.
var unreachableSink = sink.Spec{Type: "postgres", Settings: map[string]any{
	"dsn": "postgres://sluice@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", "table": "t", "createTable": true}}

// TestUpdateCannotStart: an update whose new epoch cannot start holds the
// old epoch's checkpoint and retries with backoff, with the status
// updating from the old epoch to the new; with rollback, the subscription
// goes back to its last good spec as a new epoch, and everything is
// delivered once.
func TestUpdateCannotStart(t *testing.T) {
	ctx := context.Background()
	for _, rollback := range []bool{false, true} {
		name := "retries"
		if rollback {
			name = "rolls back"
		}
		t.Run(name, func(t *testing.T) {
			f := newRunnerFixture(t)
			f.produce(0, 50)
			out := filepath.Join(t.TempDir(), "out.ndjson")
			good := Spec{Application: "app", Tenant: "acme", SQL: "SELECT id FROM tenant", Rollback: rollback,
				Sink: sink.Spec{Type: "file", Settings: map[string]any{"path": out, "fsync": false}}}
			sub, err := f.svc.Create(ctx, good, false)
			if err != nil {
				t.Fatal(err)
			}
			f.run(t, "w")
			waitFor(t, func() bool { return len(ids(t, out)) == 50 })

			bad := good
			bad.Sink = unreachableSink
			if sub, err = f.svc.Replace(ctx, sub.ID, bad, 0); err != nil || sub.Epoch != 2 {
				t.Fatalf("replace: epoch %d, %v", sub.Epoch, err)
			}
			var st Status
			waitFor(t, func() bool {
				st, _ = f.svc.Status(ctx, sub.ID)
				return st.ActualState == StateUpdating && st.Update != nil && st.Update.Attempts >= 1
			})
			if st.Epoch != 1 || st.Update.FromEpoch != 1 || st.Update.ToEpoch != 2 || !strings.Contains(st.LastError, "postgres") || len(st.Update.StopOffsets) != 2 {
				t.Fatalf("status while the new epoch cannot start: %+v, update %+v", st, st.Update)
			}
			f.produce(50, 60) // held: nothing reads them until a job runs
			if !rollback {
				waitFor(t, func() bool {
					st, _ = f.svc.Status(ctx, sub.ID)
					return st.Update != nil && st.Update.Attempts >= 2
				})
				if st.ActualState != StateUpdating || st.Epoch != 1 {
					t.Fatalf("status %+v", st)
				}
				return
			}
			waitFor(t, func() bool {
				st, _ = f.svc.Status(ctx, sub.ID)
				return st.Epoch == 3 && st.ActualState == StateRunning
			})
			back, err := f.svc.Get(ctx, sub.ID)
			if err != nil || back.Epoch != 3 || back.Sink.Type != "file" || back.Version <= sub.Version {
				t.Fatalf("after rollback: %+v, %v", back, err)
			}
			waitFor(t, func() bool { return len(ids(t, out)) == 60 })
			for id, n := range ids(t, out) {
				if n != 1 {
					t.Fatalf("id %d delivered %d times", id, n)
				}
			}
			kinds := map[string]int{}
			evs, err := f.events.List(ctx, events.Filter{Tenant: "acme", Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if e.Details["subscription"] == sub.ID {
					kinds[e.Kind]++
				}
			}
			if kinds[EventJobStarted] != 1 || kinds[EventJobUpdating] != 1 || kinds[EventJobStopped] != 1 ||
				kinds[EventJobStartFailed] != rollbackAfter || kinds[EventJobRolledBack] != 1 || kinds[EventJobUpdated] != 1 {
				t.Fatalf("events %v", kinds)
			}
		})
	}
}

// TestRestartIsAnUpdate: a restart (a new epoch with the same spec) goes
// through a checkpoint; labels and rollback are not job changes.
func TestRestartIsAnUpdate(t *testing.T) {
	ctx := context.Background()
	f := newRunnerFixture(t)
	f.produce(0, 20)
	out := filepath.Join(t.TempDir(), "out.ndjson")
	spec := Spec{Application: "app", Tenant: "acme", SQL: "SELECT id FROM tenant",
		Sink: sink.Spec{Type: "file", Settings: map[string]any{"path": out, "fsync": false}}}
	sub, err := f.svc.Create(ctx, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	spec.Labels, spec.Rollback = map[string]string{"team": "siem"}, true
	if sub, err = f.svc.Replace(ctx, sub.ID, spec, 0); err != nil || sub.Epoch != 1 {
		t.Fatalf("labels and rollback changed the epoch to %d (%v)", sub.Epoch, err)
	}
	f.run(t, "w")
	waitFor(t, func() bool { return len(ids(t, out)) == 20 })
	if sub, err = f.svc.Restart(ctx, sub.ID, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		st, _ := f.svc.Status(ctx, sub.ID)
		return st.Epoch == 2 && st.ActualState == StateRunning && st.Update == nil
	})
	f.produce(20, 30)
	waitFor(t, func() bool { return len(ids(t, out)) == 30 })
	for id, n := range ids(t, out) {
		if n != 1 {
			t.Fatalf("id %d delivered %d times", id, n)
		}
	}
}

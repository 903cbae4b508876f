package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// waitLimit bounds every wait on a channel or goroutine: long enough never
// to fire on a slow, raced CI machine, short enough to report a hang.
const waitLimit = 30 * time.Second

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a manual clock for WithClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func mustAppend(t *testing.T, l *events.Log, e events.Event) events.Event {
	t.Helper()
	got, err := l.Append(t.Context(), e)
	if err != nil {
		t.Fatalf("append %+v: %v", e, err)
	}
	return got
}

func mustList(t *testing.T, l *events.Log, f events.Filter) []events.Event {
	t.Helper()
	got, err := l.List(t.Context(), f)
	if err != nil {
		t.Fatalf("list %+v: %v", f, err)
	}
	return got
}

func ids(evs []events.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// receive returns the next event on ch, failing the test if none comes
// within waitLimit or ch is closed.
func receive(t *testing.T, ch <-chan events.Event) events.Event {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed, want an event")
		}
		return e
	case <-timer.C:
		t.Fatal("no event delivered")
	}
	panic("unreachable")
}

// assertEmpty fails if ch holds an event. Only meaningful once everything
// that could have been delivered has been: publishing is synchronous.
func assertEmpty(t *testing.T, ch <-chan events.Event) {
	t.Helper()
	select {
	case e, ok := <-ch:
		t.Fatalf("want no delivery, got %+v (open %v)", e, ok)
	default:
	}
}

func TestAppendAndListFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := &clock{now: t0}
		l := events.NewLog(s, events.WithClock(clk.Now))

		type spec struct{ kind, cluster, tenant string }
		specs := []spec{
			{"topic.missing", "eu1", "acme"},
			{"topic.missing", "eu1", "globex"},
			{"topic.partitions_adopted", "eu1", "acme"},
			{"cluster.unreachable", "us1", ""},
			{"topic.missing", "us1", "acme"},
			{"cluster.recovered", "us1", ""},
		}
		var all []events.Event
		for i, sp := range specs {
			clk.Set(t0.Add(time.Duration(i) * time.Minute))
			e := mustAppend(t, l, events.Event{
				Kind: sp.kind, Cluster: sp.cluster, Tenant: sp.tenant,
				Topic: "t-" + sp.tenant, Message: fmt.Sprintf("event %d.", i),
			})
			if i > 0 && e.ID <= all[i-1].ID {
				t.Fatalf("id %d after %d: want increasing", e.ID, all[i-1].ID)
			}
			if !e.Time.Equal(clk.Now()) {
				t.Fatalf("time %v, want the clock's %v", e.Time, clk.Now())
			}
			all = append(all, e)
		}

		if got := mustList(t, l, events.Filter{}); !slices.EqualFunc(got, all, eventsEqual) {
			t.Fatalf("list all:\n got %+v\nwant %+v", got, all)
		}

		pick := func(idx ...int) []int64 {
			var out []int64
			for _, i := range idx {
				out = append(out, all[i].ID)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    events.Filter
			want []int64
		}{
			{"kind", events.Filter{Kind: "topic.missing"}, pick(0, 1, 4)},
			{"cluster", events.Filter{Cluster: "us1"}, pick(3, 4, 5)},
			{"tenant", events.Filter{Tenant: "acme"}, pick(0, 2, 4)},
			{"since inclusive", events.Filter{Since: all[2].Time}, pick(2, 3, 4, 5)},
			{"since in a non-UTC zone", events.Filter{Since: all[4].Time.In(time.FixedZone("X", -7*3600))}, pick(4, 5)},
			{"since one microsecond later", events.Filter{Since: all[2].Time.Add(time.Microsecond)}, pick(3, 4, 5)},
			{"after id", events.Filter{AfterID: all[3].ID}, pick(4, 5)},
			{"limit", events.Filter{Limit: 2}, pick(0, 1)},
			{"kind and tenant", events.Filter{Kind: "topic.missing", Tenant: "acme"}, pick(0, 4)},
			{"kind and cluster", events.Filter{Kind: "topic.missing", Cluster: "eu1"}, pick(0, 1)},
			{"tenant and since", events.Filter{Tenant: "acme", Since: all[1].Time}, pick(2, 4)},
			{"cluster, since and after id", events.Filter{Cluster: "us1", Since: all[3].Time, AfterID: all[3].ID}, pick(4, 5)},
			{"kind, after id and limit", events.Filter{Kind: "topic.missing", AfterID: all[0].ID, Limit: 1}, pick(1)},
			{"everything", events.Filter{Kind: "topic.missing", Cluster: "us1", Tenant: "acme", Since: all[4].Time, AfterID: all[3].ID}, pick(4)},
			{"no match", events.Filter{Kind: "no.such.kind"}, nil},
			{"after the last id", events.Filter{AfterID: all[5].ID}, nil},
			{"since after the last", events.Filter{Since: all[5].Time.Add(time.Second)}, nil},
		} {
			got := mustList(t, l, tc.f)
			if got == nil {
				t.Errorf("%s: nil result, want an empty slice", tc.name)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("%s: ids %v, want %v", tc.name, ids(got), tc.want)
			}
			for _, e := range got {
				i := slices.IndexFunc(all, func(a events.Event) bool { return a.ID == e.ID })
				if !eventsEqual(e, all[i]) {
					t.Errorf("%s: got %+v, want %+v", tc.name, e, all[i])
				}
			}
		}
	})
}

// eventsEqual compares every field, times by instant and location.
func eventsEqual(a, b events.Event) bool {
	return a.ID == b.ID && a.Time.Equal(b.Time) && a.Time.Location() == b.Time.Location() &&
		a.Kind == b.Kind && a.Cluster == b.Cluster && a.Tenant == b.Tenant &&
		a.Topic == b.Topic && a.Message == b.Message && maps.Equal(a.Details, b.Details)
}

func TestListPagingAndLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		l := events.NewLog(s, events.WithClock(func() time.Time { return t0 }))
		const n = events.MaxLimit + 5
		// One transaction: a thousand separate commits would only slow the test.
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for i := range n {
				kind := "even"
				if i%2 == 1 {
					kind = "odd"
				}
				if _, _, err := l.AppendTx(ctx, tx, events.Event{Kind: kind, Message: fmt.Sprintf("number %d.", i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct{ limit, want int }{
			{0, events.DefaultLimit},
			{-1, events.DefaultLimit},
			{1, 1},
			{events.MaxLimit, events.MaxLimit},
			{events.MaxLimit + 1, events.MaxLimit},
			{1 << 30, events.MaxLimit},
		} {
			if got := mustList(t, l, events.Filter{Limit: tc.limit}); len(got) != tc.want {
				t.Errorf("limit %d: %d events, want %d", tc.limit, len(got), tc.want)
			}
		}

		// Paging forward with AfterID visits every event once, in id order.
		page := func(f events.Filter) []events.Event {
			var seen []events.Event
			for {
				got := mustList(t, l, f)
				seen = append(seen, got...)
				if len(got) < f.Limit {
					return seen
				}
				f.AfterID = got[len(got)-1].ID
			}
		}
		seen := page(events.Filter{Limit: 300})
		if len(seen) != n {
			t.Fatalf("paging saw %d events, want %d", len(seen), n)
		}
		for i, e := range seen {
			if want := fmt.Sprintf("number %d.", i); e.Message != want {
				t.Fatalf("page position %d: %q, want %q", i, e.Message, want)
			}
			if i > 0 && e.ID <= seen[i-1].ID {
				t.Fatalf("ids not increasing: %d after %d", e.ID, seen[i-1].ID)
			}
		}
		odd := page(events.Filter{Kind: "odd", Limit: 100})
		if len(odd) != n/2 {
			t.Fatalf("paging odd saw %d events, want %d", len(odd), n/2)
		}
		for _, e := range odd {
			if e.Kind != "odd" {
				t.Fatalf("kind filter let through %+v", e)
			}
		}
	})
}

func TestDetailsRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		l := events.NewLog(s)
		details := map[string]string{
			"old_partitions": "12",
			"new_partitions": "24",
			"quoted":         `say "hi" \ back`,
			"unicode":        "Zürich → 東京 🚀",
			"empty":          "",
			"":               "empty key",
		}
		e := mustAppend(t, l, events.Event{Kind: "topic.partitions_adopted", Message: "Adopted.", Details: details})
		details["old_partitions"] = "changed by the caller after Append"
		noDetails := mustAppend(t, l, events.Event{Kind: "k", Message: "No details."})
		emptyDetails := mustAppend(t, l, events.Event{Kind: "k", Message: "Empty details.", Details: map[string]string{}})
		if emptyDetails.Details != nil {
			t.Errorf("empty details returned as %#v, want nil", emptyDetails.Details)
		}

		got := mustList(t, l, events.Filter{})
		if len(got) != 3 {
			t.Fatalf("%d events, want 3", len(got))
		}
		want := map[string]string{
			"old_partitions": "12",
			"new_partitions": "24",
			"quoted":         `say "hi" \ back`,
			"unicode":        "Zürich → 東京 🚀",
			"empty":          "",
			"":               "empty key",
		}
		if !maps.Equal(got[0].Details, want) || !maps.Equal(e.Details, want) {
			t.Errorf("details:\n listed   %#v\n appended %#v\n want     %#v", got[0].Details, e.Details, want)
		}
		if got[1].ID != noDetails.ID || got[1].Details != nil || got[2].Details != nil {
			t.Errorf("events without details listed with %#v and %#v, want nil", got[1].Details, got[2].Details)
		}

		// The JSON the API will serve.
		b, err := json.Marshal(got[1])
		if err != nil {
			t.Fatal(err)
		}
		wantJSON := fmt.Sprintf(`{"id":%d,"time":%q,"kind":"k","message":"No details."}`,
			got[1].ID, got[1].Time.Format(time.RFC3339Nano))
		if string(b) != wantJSON {
			t.Errorf("json %s, want %s", b, wantJSON)
		}
	})
}

func TestTimeIsExact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		now := time.Date(2026, 3, 1, 13, 14, 15, 987654321, time.FixedZone("CET", 3600))
		l := events.NewLog(s, events.WithClock(func() time.Time { return now }))
		given := time.Date(1969, 12, 31, 23, 59, 59, 123456999, time.FixedZone("PST", -8*3600))

		defaulted := mustAppend(t, l, events.Event{Kind: "k", Message: "Clock time."})
		explicit := mustAppend(t, l, events.Event{Kind: "k", Message: "Given time.", Time: given})

		for _, tc := range []struct {
			name string
			got  events.Event
			want time.Time
		}{
			{"defaulted", defaulted, time.Date(2026, 3, 1, 12, 14, 15, 987654000, time.UTC)},
			{"explicit", explicit, time.Date(1970, 1, 1, 7, 59, 59, 123456000, time.UTC)},
		} {
			if !tc.got.Time.Equal(tc.want) || tc.got.Time.Location() != time.UTC {
				t.Errorf("%s: appended time %v, want %v", tc.name, tc.got.Time, tc.want)
			}
		}
		got := mustList(t, l, events.Filter{})
		if len(got) != 2 || !eventsEqual(got[0], defaulted) || !eventsEqual(got[1], explicit) {
			t.Fatalf("listed %+v, want %+v and %+v", got, defaulted, explicit)
		}
	})
}

func TestAppendRejectsIncompleteEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		l := events.NewLog(s)
		ch, cancel := l.Subscribe(10)
		defer cancel()
		for _, e := range []events.Event{
			{Message: "No kind."},
			{Kind: "k"},
		} {
			if _, err := l.Append(ctx, e); !errors.Is(err, events.ErrInvalidEvent) {
				t.Errorf("append %+v: %v, want ErrInvalidEvent", e, err)
			}
			err := s.InTx(ctx, func(tx *store.Tx) error {
				_, _, err := l.AppendTx(ctx, tx, e)
				return err
			})
			if !errors.Is(err, events.ErrInvalidEvent) {
				t.Errorf("append in tx %+v: %v, want ErrInvalidEvent", e, err)
			}
		}
		if got := mustList(t, l, events.Filter{}); len(got) != 0 {
			t.Errorf("stored %+v", got)
		}
		assertEmpty(t, ch)
	})
}

func TestSubscribe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		l := events.NewLog(s)
		before := mustAppend(t, l, events.Event{Kind: "k", Message: "Before anyone subscribed."})

		a, cancelA := l.Subscribe(10)
		b, cancelB := l.Subscribe(0) // default buffer
		var appended []events.Event
		for i := range 5 {
			appended = append(appended, mustAppend(t, l, events.Event{
				Kind: "k", Message: fmt.Sprintf("Number %d.", i), Details: map[string]string{"i": fmt.Sprint(i)},
			}))
		}
		for name, ch := range map[string]<-chan events.Event{"a": a, "b": b} {
			for _, want := range appended {
				if got := receive(t, ch); !eventsEqual(got, want) {
					t.Fatalf("subscriber %s: got %+v, want %+v", name, got, want)
				}
			}
			assertEmpty(t, ch)
		}
		if appended[0].ID <= before.ID {
			t.Fatalf("ids not increasing")
		}

		// Each subscriber owns its Details.
		mustAppend(t, l, events.Event{Kind: "k", Message: "Shared?", Details: map[string]string{"x": "1"}})
		ea, eb := receive(t, a), receive(t, b)
		ea.Details["x"] = "changed"
		if eb.Details["x"] != "1" {
			t.Fatalf("subscribers share a details map")
		}

		// Buffered events stay readable after cancel; then the channel is
		// closed. Cancelling again is harmless.
		last := mustAppend(t, l, events.Event{Kind: "k", Message: "Buffered at cancel."})
		cancelA()
		cancelA()
		if got := receive(t, a); got.ID != last.ID {
			t.Fatalf("after cancel got %+v, want the buffered %+v", got, last)
		}
		if e, ok := <-a; ok {
			t.Fatalf("cancelled subscription delivered %+v", e)
		}
		// Appending with a cancelled subscriber neither panics nor counts
		// drops; the other subscriber still receives.
		next := mustAppend(t, l, events.Event{Kind: "k", Message: "After cancel."})
		if got := receive(t, b); got.ID != last.ID {
			t.Fatalf("b got %+v, want %+v", got, last)
		}
		if got := receive(t, b); got.ID != next.ID {
			t.Fatalf("b got %+v, want %+v", got, next)
		}
		if d := l.Dropped(); d != 0 {
			t.Fatalf("dropped %d, want 0", d)
		}
		cancelB()
		if e, ok := <-b; ok {
			t.Fatalf("cancelled subscription delivered %+v", e)
		}
	})
}

func TestSlowSubscriberDropsWithoutBlocking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		l := events.NewLog(s)
		slow, cancelSlow := l.Subscribe(1) // never read until the end
		defer cancelSlow()
		fast, cancelFast := l.Subscribe(100)
		defer cancelFast()

		const n = 20
		ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
		defer cancel()
		done := make(chan []events.Event, 1)
		go func() {
			var appended []events.Event
			for i := range n {
				e, err := l.Append(ctx, events.Event{Kind: "k", Message: fmt.Sprintf("Number %d.", i)})
				if err != nil {
					t.Errorf("append %d: %v", i, err)
					break
				}
				appended = append(appended, e)
			}
			done <- appended
		}()
		var appended []events.Event
		select {
		case appended = <-done:
		case <-ctx.Done():
			t.Fatal("Append blocked on a full subscriber")
		}
		if len(appended) != n {
			t.FailNow()
		}
		for _, want := range appended {
			if got := receive(t, fast); got.ID != want.ID {
				t.Fatalf("fast subscriber got id %d, want %d", got.ID, want.ID)
			}
		}
		if got := receive(t, slow); got.ID != appended[0].ID {
			t.Fatalf("slow subscriber got id %d, want the first, %d", got.ID, appended[0].ID)
		}
		assertEmpty(t, slow)
		if d := l.Dropped(); d != n-1 {
			t.Fatalf("dropped %d, want %d", d, n-1)
		}
		// The log has them all: the slow consumer catches up from its last id.
		rest := mustList(t, l, events.Filter{AfterID: appended[0].ID})
		if !slices.Equal(ids(rest), ids(appended[1:])) {
			t.Fatalf("catch-up listed %v, want %v", ids(rest), ids(appended[1:]))
		}
	})
}

func TestAppendTxPublishesOnlyAfterCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		l := events.NewLog(s)
		ch, cancel := l.Subscribe(10)
		defer cancel()

		// Rolled back: neither stored nor delivered.
		errRollback := errors.New("roll back")
		var rolledBack func()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			_, p, err := l.AppendTx(ctx, tx, events.Event{Kind: "k", Message: "Rolled back."})
			if err != nil {
				return err
			}
			rolledBack = p
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx: %v, want the rollback error", err)
		}
		if rolledBack == nil {
			t.Fatal("AppendTx returned no publish func")
		}
		// Publishing is synchronous, so the marker being the first delivery
		// proves nothing was delivered for the rolled-back append.
		marker := mustAppend(t, l, events.Event{Kind: "marker", Message: "After the rollback."})
		if got := receive(t, ch); got.ID != marker.ID {
			t.Fatalf("got %+v, want the marker", got)
		}
		if got := mustList(t, l, events.Filter{}); !slices.Equal(ids(got), []int64{marker.ID}) {
			t.Fatalf("stored %+v, want only the marker", got)
		}

		// Committed: stored with the caller's change, delivered only when
		// published, and once however often publish is called.
		var stored events.Event
		var publish func()
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO workers (id, hostname, version, roles, started_at, heartbeat_at)
				VALUES (?, 'h', 'v', 'worker', ?, ?)`, "w1", t0, t0); err != nil {
				return err
			}
			e, p, err := l.AppendTx(ctx, tx, events.Event{Kind: "k", Message: "Committed.", Details: map[string]string{"a": "b"}})
			stored, publish = e, p
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := mustList(t, l, events.Filter{Kind: "k"}); len(got) != 1 || !eventsEqual(got[0], stored) {
			t.Fatalf("listed %+v, want %+v", got, stored)
		}
		assertEmpty(t, ch)
		stored.Details["a"] = "changed by the caller before publishing"
		publish()
		publish()
		got := receive(t, ch)
		if got.ID != stored.ID || got.Details["a"] != "b" {
			t.Fatalf("published %+v, want id %d with details a=b", got, stored.ID)
		}
		marker2 := mustAppend(t, l, events.Event{Kind: "marker", Message: "After publishing twice."})
		if got := receive(t, ch); got.ID != marker2.ID {
			t.Fatalf("got %+v, want the second marker: publish delivered twice", got)
		}
		assertEmpty(t, ch)
	})
}

// TestCatchUpMissesNothingUnderConcurrentAppends checks the cursor
// guarantee: a reader woken by a subscription that lists after the last id
// it saw gets every event exactly once, in id order, while writers append
// concurrently, in their own transactions and alone. Without ids becoming
// visible in order, the reader would step past an id still uncommitted.
func TestCatchUpMissesNothingUnderConcurrentAppends(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*waitLimit)
		defer cancel()
		l := events.NewLog(s)
		const writers, perWriter = 6, 25
		const total = writers * perWriter

		wake, cancelWake := l.Subscribe(1)
		defer cancelWake()
		writersDone := make(chan struct{})
		readerDone := make(chan []events.Event, 1)
		go func() {
			var seen []events.Event
			var cursor int64
			for final := false; !final; {
				// After the writers are done, one last read: an id the
				// cursor stepped past would stay missing.
				select {
				case <-wake:
				case <-writersDone:
					final = true
				case <-ctx.Done():
					readerDone <- seen
					return
				}
				for {
					page, err := l.List(ctx, events.Filter{AfterID: cursor, Limit: 7})
					if err != nil {
						t.Errorf("list: %v", err)
						readerDone <- seen
						return
					}
					seen = append(seen, page...)
					if len(page) > 0 {
						cursor = page[len(page)-1].ID
					}
					if len(page) < 7 {
						break
					}
				}
			}
			readerDone <- seen
		}()

		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range perWriter {
					e := events.Event{Kind: "k", Tenant: fmt.Sprint("w", w), Message: fmt.Sprintf("Writer %d, number %d.", w, i)}
					if i%2 == 0 {
						if _, err := l.Append(ctx, e); err != nil {
							t.Errorf("append: %v", err)
							return
						}
						continue
					}
					var publish func()
					err := s.InTx(ctx, func(tx *store.Tx) error {
						_, p, err := l.AppendTx(ctx, tx, e)
						publish = p
						if err != nil {
							return err
						}
						// More work after the append keeps the transaction
						// open while others try to append.
						_, err = tx.Exec(ctx, `SELECT COUNT(*) FROM events`)
						return err
					})
					if err != nil {
						t.Errorf("append in tx: %v", err)
						return
					}
					publish()
				}
			})
		}
		wg.Wait()
		close(writersDone)
		seen := <-readerDone
		if len(seen) != total {
			t.Fatalf("reader saw %d events, want %d", len(seen), total)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i].ID <= seen[i-1].ID {
				t.Fatalf("reader saw id %d after %d", seen[i].ID, seen[i-1].ID)
			}
		}
	})
}

func TestPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		l := events.NewLog(s)
		var all []events.Event
		for i := range 5 {
			all = append(all, mustAppend(t, l, events.Event{
				Kind: "k", Message: fmt.Sprintf("Day %d.", i), Time: t0.Add(time.Duration(i) * 24 * time.Hour),
			}))
		}
		// Strictly before the cutoff goes; at the cutoff stays.
		n, err := l.Prune(ctx, all[2].Time)
		if err != nil || n != 2 {
			t.Fatalf("prune: %d, %v; want 2", n, err)
		}
		if got := mustList(t, l, events.Filter{}); !slices.Equal(ids(got), ids(all[2:])) {
			t.Fatalf("after prune %v, want %v", ids(got), ids(all[2:]))
		}
		if n, err := l.Prune(ctx, all[2].Time); err != nil || n != 0 {
			t.Fatalf("prune again: %d, %v; want 0", n, err)
		}
		if n, err := l.Prune(ctx, time.Time{}); err != nil || n != 0 {
			t.Fatalf("prune before the zero time: %d, %v; want 0", n, err)
		}

		// Pruning everything, the newest included, must not let ids be
		// reused: a consumer's cursor would skip the new events.
		if n, err := l.Prune(ctx, all[4].Time.Add(time.Microsecond).In(time.FixedZone("X", 5*3600))); err != nil || n != 3 {
			t.Fatalf("prune all: %d, %v; want 3", n, err)
		}
		after := mustAppend(t, l, events.Event{Kind: "k", Message: "After pruning all."})
		if after.ID <= all[4].ID {
			t.Fatalf("id %d reused after prune (last was %d)", after.ID, all[4].ID)
		}
		if got := mustList(t, l, events.Filter{AfterID: all[4].ID}); !slices.Equal(ids(got), []int64{after.ID}) {
			t.Fatalf("listed %v after prune, want [%d]", ids(got), after.ID)
		}
	})
}

// TestPruneManyBatches prunes more rows than one batch deletes.
func TestPruneManyBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		l := events.NewLog(s)
		const old = 2 * 5000 // two full batches, then an empty one
		// Bulk insert: the append path is covered elsewhere and would only
		// make this slow.
		if _, err := s.Exec(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO events (occurred_at, kind, message) SELECT ?, 'k', 'Old.' FROM n`, old, t0); err != nil {
			t.Fatal(err)
		}
		kept := mustAppend(t, l, events.Event{Kind: "k", Message: "New.", Time: t0.Add(time.Hour)})
		n, err := l.Prune(ctx, t0.Add(time.Minute))
		if err != nil || n != old {
			t.Fatalf("prune: %d, %v; want %d", n, err, old)
		}
		if got := mustList(t, l, events.Filter{}); !slices.Equal(ids(got), []int64{kept.ID}) {
			t.Fatalf("after prune %v, want [%d]", ids(got), kept.ID)
		}
	})
}

package jobtest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/sink"
)

func TestExactlyOnceCheck(t *testing.T) {
	for _, c := range []struct {
		ids  []int64
		n    int
		want string // "" for a pass
	}{
		{[]int64{2, 0, 1}, 3, ""},
		{[]int64{0, 1, 1, 2}, 3, "1 duplicated (first [1])"},
		{[]int64{0, 2}, 3, "1 missing (first [1])"},
		{[]int64{0, 1, 2, 3}, 3, "1 unexpected (first [3])"},
		{nil, 2, "2 missing (first [0 1])"},
	} {
		want := make([]int64, c.n)
		for i := range want {
			want[i] = int64(i)
		}
		err := exactlyOnce(c.ids, want)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v of %d: %v", c.ids, c.n, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v of %d: got %v, want %q", c.ids, c.n, err, c.want)
		}
	}
}

// TestAggregateWant checks AggregateWant against windows counted from the
// records' event times.
func TestAggregateWant(t *testing.T) {
	const n, parts = 3000, 3
	first, count := map[int64]int64{}, map[int64]int64{}
	var last time.Time // highest event time of the partition behind
	for id := range int64(n) {
		ts := BaseTime.Add(time.Duration(id) * 7 * time.Second)
		w := ts.Truncate(time.Minute).Unix()
		if _, ok := first[w]; !ok {
			first[w] = id
		}
		count[w]++
		if id == n-parts {
			last = ts
		}
	}
	var want []int64
	for _, w := range slices.Sorted(maps.Keys(first)) {
		if !time.Unix(w, 0).Add(time.Minute).After(last.Add(-5 * time.Second)) {
			want = append(want, first[w]*100+count[w])
		}
	}
	if got := AggregateWant(n, parts); !slices.Equal(got, want) {
		t.Fatalf("AggregateWant:\n got %v\nwant %v", got, want)
	}
	if len(want) < 300 {
		t.Fatalf("%d windows", len(want))
	}
}

// TestRunCrashCatchesDuplicates runs the harness on the file sink, which is
// at-least-once: a kill after a write and before the commit makes the
// restarted job write rows again. The harness must see it; the test runs
// until a run shows duplicates (most do) so that it cannot pass by luck.
func TestRunCrashCatchesDuplicates(t *testing.T) {
	addr := kafkatest.Fake(t)
	for attempt := range 5 {
		out := filepath.Join(t.TempDir(), "out.ndjson")
		ft := &fakeT{T: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			RunCrash(ft.sub(), Crash{Addr: addr, Records: 2000, Kills: 3,
				Sink: sink.Spec{Type: "file", Settings: map[string]any{"path": out, "fsync": false}},
				Delivered: func(context.Context) ([]int64, error) {
					return fileIDs(out)
				}})
		}()
		<-done
		if ft.failed && strings.Contains(ft.msg, "duplicated") {
			t.Logf("attempt %d: the harness reported %s", attempt+1, ft.msg)
			return
		}
		if ft.failed {
			t.Fatalf("attempt %d failed otherwise: %s", attempt+1, ft.msg)
		}
	}
	t.Fatal("five kill-and-restart runs of an at-least-once sink showed no duplicate: the harness does not kill mid-stream")
}

func fileIDs(path string) ([]int64, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseIDs(b)
}

// fakeT records the first failure of the code under test and ends its
// goroutine, instead of failing the test.
type fakeT struct {
	*testing.T
	failed bool
	msg    string
}

func (f *fakeT) sub() testing.TB { return f }

func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fakeT) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

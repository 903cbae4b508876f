package job

import (
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/engine"
)

// TestCheckpointMeta: a checkpoint survives being committed as offsets
// and their metadata; metadata that is not Sluice's, or does not agree
// with its offset, counts as none.
func TestCheckpointMeta(t *testing.T) {
	agg := Checkpoint{
		Offsets:  map[int32]int64{0: 10, 1: 20, 2: 5},
		Next:     map[int32]int64{0: 15, 1: 20, 2: 9},
		Frontier: &engine.Frontier{Watermark: 1_000_000, Done: 900_000, Emitted: 3, Max: map[int32]int64{0: 1_005_000, 1: 1_002_000}},
		Query:    QueryID("SELECT COUNT(*) FROM tenant GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)"),
	}
	meta := agg.Meta()
	for p, m := range meta {
		if !strings.HasPrefix(m, metaPrefix) || len(m) > 200 {
			t.Fatalf("partition %d: metadata %q", p, m)
		}
	}
	got := checkpointOf(agg.Offsets, meta)
	want := agg
	want.Next = map[int32]int64{0: 15, 2: 9} // only where they differ from Offsets
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v %+v\nwant %+v %+v", got, got.Frontier, want, want.Frontier)
	}
	if !maps.Equal(got.Stops(), agg.Next) {
		t.Fatalf("stops %v, want %v", got.Stops(), agg.Next)
	}

	filter := Checkpoint{Offsets: map[int32]int64{0: 7}}
	if filter.Meta() != nil {
		t.Fatalf("a filter/project checkpoint has metadata %v", filter.Meta())
	}
	for _, m := range []string{"", "not ours", metaPrefix + "{broken", metaPrefix + `{"n":3}`} {
		got := checkpointOf(map[int32]int64{0: 7}, map[int32]string{0: m})
		if got.Frontier != nil || got.Next != nil || got.Offsets[0] != 7 {
			t.Errorf("metadata %q: %+v", m, got)
		}
	}
}

func TestCheckpointAtLeast(t *testing.T) {
	f := func(done int64, emitted int) *engine.Frontier {
		return &engine.Frontier{Watermark: done, Done: done, Emitted: emitted}
	}
	older := Checkpoint{Offsets: map[int32]int64{0: 5, 1: 5}, Frontier: f(10, 2), Query: "q"}
	newer := Checkpoint{Offsets: map[int32]int64{0: 5, 1: 8}, Frontier: f(10, 3), Query: "q"}
	sameOffsets := Checkpoint{Offsets: map[int32]int64{0: 5, 1: 5}, Frontier: f(10, 5), Query: "q"}
	for _, c := range []struct {
		a, b Checkpoint
		want bool
	}{
		{newer, older, true}, {older, newer, false},
		{sameOffsets, older, true}, {older, sameOffsets, false}, // the frontier decides between equal offsets
		{older, Checkpoint{}, true}, {Checkpoint{}, older, false},
		{Checkpoint{Offsets: map[int32]int64{0: 9}}, older, false}, // a partition missing
	} {
		if got := c.a.atLeast(c.b); got != c.want {
			t.Errorf("%+v atLeast %+v = %v, want %v", c.a.Offsets, c.b.Offsets, got, c.want)
		}
	}
}

func TestCheckpointRestoreFor(t *testing.T) {
	c := Checkpoint{Offsets: map[int32]int64{0: 1}, Frontier: &engine.Frontier{Watermark: 50, Done: 40, Emitted: 7}, Query: "q1"}
	if f, ok := c.restoreFor("q1"); !ok || f.Done != 40 || f.Emitted != 7 {
		t.Fatalf("same query: %+v %v", f, ok)
	}
	// Another query: the windows up to the watermark count as done, and
	// the old query's group count means nothing.
	if f, ok := c.restoreFor("q2"); !ok || f.Done != 50 || f.Emitted != 0 || f.Watermark != 50 {
		t.Fatalf("another query: %+v %v", f, ok)
	}
	if _, ok := (Checkpoint{Offsets: map[int32]int64{0: 1}}).restoreFor("q1"); ok {
		t.Fatal("a filter's checkpoint gave a frontier")
	}
}

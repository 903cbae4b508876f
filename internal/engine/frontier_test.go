package engine

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/sql"
)

// stream is records of several partitions in the order one task took
// them.
type streamRec struct {
	p   int32
	off int64
	r   rec
}

// randomStream makes n records over parts partitions: event times move
// forward with jitter (some records late beyond the lateness), keys from a
// small set.
func randomStream(rng *rand.Rand, n, parts int) []streamRec {
	next := make([]int64, parts)
	clock := make([]int64, parts)
	out := make([]streamRec, 0, n)
	for range n {
		p := rng.IntN(parts)
		clock[p] += rng.Int64N(3 * sec)
		ts := clock[p] - rng.Int64N(4*sec) // out of order, sometimes late
		if rng.IntN(50) == 0 {
			ts -= 30 * sec // late
		}
		out = append(out, streamRec{p: int32(p), off: next[p], r: rec{Key: fmt.Sprint("k", rng.IntN(4)), N: rng.Int64N(100), TS: ms(ts)}})
		next[p]++
	}
	return out
}

// commitPoint is what a runtime would commit at one point: the frontier,
// the offsets to resume from and after the last record taken, and how
// many rows had been delivered.
type commitPoint struct {
	f        Frontier
	from, to map[int32]int64
	rows     int
}

// run processes the stream through a fresh task, capturing a commit point
// after every row (as a batch cut in the middle of a round would) and
// after every record.
func runCapturing(t *testing.T, q *sql.Query, parts int, s []streamRec) ([]string, []commitPoint) {
	h := newHarness(t, q, lateness(5*time.Second))
	next := map[int32]int64{}
	for p := range int32(parts) {
		h.task.AssignPartitions(p)
		next[p] = 0
	}
	var points []commitPoint
	capture := func() {
		f, _ := h.task.Frontier()
		from := maps.Clone(next)
		for p, o := range h.task.OpenOffsets() {
			from[p] = min(from[p], o)
		}
		points = append(points, commitPoint{f: f, from: from, to: maps.Clone(next), rows: len(h.out)})
	}
	em := EmitFunc(func(o *Output) error {
		if err := h.Emit(o); err != nil {
			return err
		}
		capture()
		return nil
	})
	for _, sr := range s {
		next[sr.p] = sr.off + 1
		_ = h.task.Process(&Input{Partition: sr.p, Offset: sr.off, Payload: encode(t, sr.r), Filter: h.flt, All: h.all}, em)
		capture()
	}
	if err := h.task.Drain(h); err != nil {
		t.Fatal(err)
	}
	return h.out, points
}

// resume restores a new task from a commit point and gives it what a
// runtime would read again: each partition from its resume offset, the
// replays first in an order of their own across partitions, then the rest
// in the original order.
func resume(t *testing.T, q *sql.Query, parts int, s []streamRec, cp commitPoint, rng *rand.Rand) []string {
	h := newHarness(t, q, lateness(5*time.Second))
	for p := range int32(parts) {
		h.task.AssignPartitions(p)
	}
	h.task.Restore(cp.f, cp.from, cp.to)
	var replay, rest []streamRec
	for _, sr := range s {
		switch {
		case sr.off < cp.from[sr.p]:
		case sr.off < cp.to[sr.p]:
			replay = append(replay, sr)
		default:
			rest = append(rest, sr)
		}
	}
	// Shuffle the replay across partitions, keeping each partition's order.
	byPart := map[int32][]streamRec{}
	for _, sr := range replay {
		byPart[sr.p] = append(byPart[sr.p], sr)
	}
	replay = replay[:0]
	for len(byPart) > 0 {
		ps := slices.Sorted(maps.Keys(byPart))
		p := ps[rng.IntN(len(ps))]
		replay = append(replay, byPart[p][0])
		if byPart[p] = byPart[p][1:]; len(byPart[p]) == 0 {
			delete(byPart, p)
		}
	}
	for _, sr := range append(replay, rest...) {
		_ = h.task.Process(&Input{Partition: sr.p, Offset: sr.off, Payload: encode(t, sr.r), Filter: h.flt, All: h.all}, h)
	}
	if h.task.Replaying() {
		t.Fatal("still replaying after every record")
	}
	return h.drain()
}

// TestRestoreEmitsEachWindowOnce checks that a task restored from any
// commit point — between records, or in the middle of a round — together
// with what was delivered before it emits exactly what an uninterrupted
// task does.
func TestRestoreEmitsEachWindowOnce(t *testing.T) {
	sum := agg(sql.Sum, colI(cN), sql.TypeBigInt, sql.TypeBigInt)
	for _, tc := range []struct {
		name string
		q    *sql.Query
	}{
		{"tumble", aggQuery(tumble(10*sec), true, countStar(), sum)},
		{"hop", aggQuery(sql.Window{Kind: sql.Hop, Slide: 5 * sec, Size: 15 * sec}, true, countStar(), sum)},
		{"tumble without key", aggQuery(tumble(7*sec), false, countStar())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(20) {
				rng := rand.New(rand.NewPCG(seed, 7))
				const parts = 3
				s := randomStream(rng, 400, parts)
				want, points := runCapturing(t, tc.q, parts, s)
				if len(want) < 20 {
					t.Fatalf("seed %d: only %d rows: the stream is too small to test anything", seed, len(want))
				}
				for range 25 {
					cp := points[rng.IntN(len(points))]
					got := append(slices.Clone(want[:cp.rows]), resume(t, tc.q, parts, s, cp, rng)...)
					if !slices.Equal(got, want) {
						t.Fatalf("seed %d, restored at %+v:\ngot  %d rows %q\nwant %d rows %q", seed, cp, len(got), got, len(want), want)
					}
				}
			}
		})
	}
}

// TestRestoreWithoutReplay: a frontier with nothing to read again ends the
// round and drops nothing of later windows.
func TestRestoreWithoutReplay(t *testing.T) {
	q := aggQuery(tumble(10*sec), true, countStar())
	h := newHarness(t, q, lateness(time.Second))
	h.task.Restore(Frontier{Watermark: 20 * sec, Done: 10 * sec, Emitted: 3, Max: map[int32]int64{0: 21 * sec}},
		map[int32]int64{0: 5}, map[int32]int64{0: 5})
	if h.task.Replaying() {
		t.Fatal("replaying with nothing to replay")
	}
	h.must(0, 5, rec{Key: "a", TS: ms(15 * sec)}) // in [10s,20s): late, the watermark is 20s
	h.must(0, 6, rec{Key: "a", TS: ms(25 * sec)})
	h.must(0, 7, rec{Key: "b", TS: ms(45 * sec)})
	same(t, "windows", h.take(), []string{"a|1|20000000|30000000"})
	if st := h.task.Stats(); st.Late != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestReplayEndsOnIdle: a partition whose replay never comes (its records
// are gone) stops holding emission back after IdleTimeout.
func TestReplayEndsOnIdle(t *testing.T) {
	q := aggQuery(tumble(10*sec), false, countStar())
	h := newHarness(t, q, Options{Lateness: time.Second, IdleTimeout: 10 * time.Second})
	h.task.AssignPartitions(0, 1)
	h.task.Restore(Frontier{Watermark: 0, Done: 0, Max: map[int32]int64{0: sec, 1: sec}},
		map[int32]int64{0: 0, 1: 0}, map[int32]int64{0: 1, 1: 1})
	h.must(0, 0, rec{TS: ms(5 * sec)})
	h.must(0, 1, rec{TS: ms(30 * sec)})
	if !h.task.Replaying() {
		t.Fatal("partition 1 has not been replayed")
	}
	same(t, "nothing while replaying", h.take(), nil)
	same(t, "after the idle timeout", h.tick(11*time.Second), []string{"1|0|10000000"})
	if h.task.Replaying() {
		t.Fatal("still replaying")
	}
}

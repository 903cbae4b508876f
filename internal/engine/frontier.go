package engine

import (
	"math"
	"time"
)

// Frontier is how far an aggregation has emitted. Stored with the offsets
// a task commits, it is what a new task needs to rebuild the old one's open
// windows by reading again from those offsets (see [Task.Restore]) without
// emitting any window, or any group of a window, a second time.
//
// Emission follows one total order, (end, start, key); a round emits, in
// that order, every window the watermark has passed. So "every window
// ending at or before Done, then the first Emitted groups of the windows
// ending in (Done, Watermark]" names exactly what was emitted, including
// when a batch was cut (and committed) in the middle of a round.
type Frontier struct {
	// Watermark is the task's watermark (µs since the Unix epoch).
	Watermark int64 `json:"w"`
	// Done: every window ending at or before it has been emitted (or held
	// nothing). Done <= Watermark; they differ during a round.
	Done int64 `json:"d"`
	// Emitted counts the groups of the round in progress, in emission
	// order, already emitted (or dropped by HAVING or an error).
	Emitted int `json:"e,omitempty"`
	// Max is, per partition, the highest event time seen: the watermark's
	// inputs, so that a restored task's watermark moves as the old one's
	// would have.
	Max map[int32]int64 `json:"m,omitempty"`
}

// Frontier returns the aggregation's emission frontier; false for a
// filter/project query, which has none. While the task replays (see
// Restore) it is the restored frontier: nothing is emitted until the
// replay ends.
func (t *Task) Frontier() (Frontier, bool) {
	g := t.agg
	if g == nil {
		return Frontier{}, false
	}
	if g.replay != nil {
		return g.restored, true
	}
	f := Frontier{Watermark: t.wm.wm, Done: g.done, Emitted: g.emitted, Max: make(map[int32]int64, len(t.wm.parts))}
	for _, ps := range t.wm.parts {
		if ps.max != math.MinInt64 {
			f.Max[ps.id] = ps.max
		}
	}
	return f, true
}

// Restore makes a new task carry on from an old task's frontier. The
// runtime then gives it the records from the old task's committed offsets
// (its OpenOffsets: every record of an open window is at or after them) up
// to the offsets after the last record the old task took, the replay
// bounds `to`, before any new record; `from` are the offsets it reads from.
//
// A record below its partition's bound is a replay: it goes into the
// windows ending after f.Done, which rebuilds every window the old task
// held open, and is otherwise skipped silently (it was emitted, or counted
// late, the first time). Nothing is emitted until every partition has been
// replayed to its bound (or has been idle for IdleTimeout); then the first
// f.Emitted groups after f.Done are dropped, as the old task emitted them.
//
// Tumbling and hopping windows are rebuilt exactly: a record's windows
// depend on its time and key only. Sessions depend on the order records
// arrive in, which a replay over several partitions does not reproduce: a
// record behind the watermark that opened a session overlapping an emitted
// session of its key can be merged into the wrong one. Restore on a
// filter/project task does nothing.
func (t *Task) Restore(f Frontier, from, to map[int32]int64) {
	g := t.agg
	if g == nil {
		return
	}
	now := t.opt.Now()
	for p, m := range f.Max {
		t.wm.assign(p, now)
		t.wm.parts[t.wm.find(p)].max = m
	}
	if f.Watermark > t.wm.wm {
		t.wm.wm = f.Watermark
	}
	t.wm.recompute(now)
	g.done, g.skip, g.emitted = f.Done, f.Emitted, 0
	for p, end := range to {
		if end > from[p] {
			if g.replay == nil {
				g.replay = make(map[int32]int64)
			}
			g.replay[p] = end
		}
	}
	if g.replay != nil {
		g.restored = f
	} else if f.Watermark > g.done {
		// Nothing to read again, so no window of the round in progress is
		// open: the round is over.
		g.done, g.skip = f.Watermark, 0
	}
}

// Replaying reports whether the task is still re-reading records of a
// restored frontier (and so emits nothing yet).
func (t *Task) Replaying() bool { return t.agg != nil && t.agg.replay != nil }

// replayed reports whether in is a replay, and ends the replay of its
// partition at its bound.
func (g *aggregator) replayed(in *Input) bool {
	end, ok := g.replay[in.Partition]
	if !ok {
		return false
	}
	if in.Offset+1 >= end {
		g.endReplay(in.Partition)
	}
	return in.Offset < end
}

func (g *aggregator) endReplay(p int32) {
	delete(g.replay, p)
	if len(g.replay) == 0 {
		g.replay = nil
		g.restored = Frontier{}
	}
}

// endIdleReplays ends the replay of partitions that sent nothing for
// IdleTimeout: their records are gone (retention), so waiting would stall
// every window.
func (g *aggregator) endIdleReplays(now time.Time) {
	for p := range g.replay {
		if i := g.t.wm.find(p); i < 0 || now.Sub(g.t.wm.parts[i].last) >= g.t.opt.IdleTimeout {
			g.endReplay(p)
		}
	}
}

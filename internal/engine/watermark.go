package engine

import (
	"math"
	"slices"
	"time"
)

// partState is the watermark state of one partition.
type partState struct {
	id   int32
	max  int64     // highest event time seen, math.MinInt64 before any
	last time.Time // processing time of the last record (or of assignment)
}

// watermark tracks event time per partition. The watermark is the minimum
// over the non-idle partitions of (max event time − lateness); when every
// partition is idle it is the maximum of that over all of them. It never
// goes backward.
type watermark struct {
	parts    []partState
	lateness int64 // µs
	idle     time.Duration
	now      func() time.Time
	wm       int64
	// nextIdle is the earliest processing time at which an active
	// partition turns idle: until then the watermark only changes when a
	// partition's max does.
	nextIdle time.Time
	anyIdle  bool
}

func (w *watermark) init(lateness int64, idle time.Duration, now func() time.Time) {
	w.lateness, w.idle, w.now = lateness, idle, now
	w.wm = math.MinInt64
}

func (w *watermark) find(p int32) int {
	for i := range w.parts {
		if w.parts[i].id == p {
			return i
		}
	}
	return -1
}

func (w *watermark) assign(p int32, now time.Time) {
	if w.find(p) >= 0 {
		return
	}
	w.parts = append(w.parts, partState{id: p, max: math.MinInt64, last: now})
	w.recompute(now)
}

func (w *watermark) remove(p int32) {
	if i := w.find(p); i >= 0 {
		w.parts = slices.Delete(w.parts, i, i+1)
		w.recompute(w.now())
	}
}

// observe records event time ts on partition p at processing time now.
func (w *watermark) observe(p int32, ts int64, now time.Time) {
	i := w.find(p)
	if i < 0 {
		w.parts = append(w.parts, partState{id: p, max: ts, last: now})
		w.recompute(now)
		return
	}
	ps := &w.parts[i]
	wasIdle := w.anyIdle && now.Sub(ps.last) >= w.idle
	ps.last = now
	if ts > ps.max {
		ps.max = ts
		w.recompute(now)
		return
	}
	if wasIdle || !now.Before(w.nextIdle) {
		w.recompute(now)
	}
}

// advance lets processing time pass.
func (w *watermark) advance(now time.Time) {
	if !now.Before(w.nextIdle) {
		w.recompute(now)
	}
}

func (w *watermark) minus(max int64) int64 {
	if max < math.MinInt64+w.lateness {
		return math.MinInt64
	}
	return max - w.lateness
}

func (w *watermark) recompute(now time.Time) {
	active := false
	minActive := int64(math.MaxInt64)
	maxAll := int64(math.MinInt64)
	w.anyIdle = false
	var next time.Time
	for i := range w.parts {
		ps := &w.parts[i]
		v := w.minus(ps.max)
		maxAll = max(maxAll, v)
		if now.Sub(ps.last) >= w.idle {
			w.anyIdle = true
			continue
		}
		active = true
		minActive = min(minActive, v)
		if t := ps.last.Add(w.idle); next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if next.IsZero() {
		// Nothing can turn idle: only a record changes anything.
		next = now.Add(365 * 24 * time.Hour)
	}
	w.nextIdle = next
	c := maxAll
	if active {
		c = minActive
	}
	if c > w.wm {
		w.wm = c
	}
}

package engine

import (
	"cmp"
	"container/heap"
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/sql"
)

// errNoWindow: a HOP with a slide larger than its size leaves gaps; a
// record in one belongs to no window and is counted as filtered.
var errNoWindow = errors.New("in no window")

// errEmitted: a replayed record that belongs only to windows the task
// being restored emitted already (see Task.Restore).
var errEmitted = errors.New("replayed into emitted windows only")

// partOffset is the earliest offset of a partition held in a window.
type partOffset struct {
	p   int32
	off int64
}

func noteOffset(offs []partOffset, p int32, off int64) []partOffset {
	for i := range offs {
		if offs[i].p == p {
			if off < offs[i].off {
				offs[i].off = off
			}
			return offs
		}
	}
	return append(offs, partOffset{p, off})
}

// group is the state of one key in one window (or one session).
type group struct {
	key  string      // the encoded key values
	keys []sql.Value // decoded, B owned by the group
	aggs []aggState

	// Sessions only.
	start, end int64
	hidx       int // in the session heap
	ks         *keySessions
	offs       []partOffset
}

// window is an open tumbling or hopping window.
type window struct {
	start, end int64
	groups     map[string]*group
	offs       []partOffset
}

// keySessions are the open sessions of one key.
type keySessions struct {
	key  string
	keys []sql.Value
	list []*group
}

// sessionHeap orders open sessions by end.
type sessionHeap []*group

func (h sessionHeap) Len() int           { return len(h) }
func (h sessionHeap) Less(i, j int) bool { return h[i].end < h[j].end }
func (h sessionHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *sessionHeap) Push(x any) {
	g := x.(*group)
	g.hidx = len(*h)
	*h = append(*h, g)
}
func (h *sessionHeap) Pop() any {
	old := *h
	g := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	g.hidx = -1
	return g
}

// aggregator is the windowed aggregation of a Task.
type aggregator struct {
	t     *Task
	a     *sql.Aggregation
	specs []aggSpec
	kinds []sql.Kind // of the keys
	kind  sql.WindowKind
	size  int64 // Tumble, Hop
	slide int64 // Hop
	gap   int64 // Session
	max   int

	groups int // open groups and sessions
	seq    uint64

	// Scratch, reused per record.
	keyBuf  []byte
	keyVals []sql.Value
	args    []sql.Value
	encBuf  []byte
	encEnd  []int // per spec, end of its encoding in encBuf (distinct, approx)
	encs    [][]byte
	starts  []int64
	targets []*group
	wins    []*window

	// Tumble and Hop: open windows by start, and their starts in order.
	windows map[int64]*window
	order   []int64
	last    *window

	// Session: open sessions by key, and by end.
	sessions map[string]*keySessions
	sheap    sessionHeap

	// Emission scratch. emitBuf holds the sessions of a round until each
	// is emitted (they count in openOffsets until then).
	slots   []sql.Value
	emitBuf []*group

	// The emission frontier (see Frontier): done, and the groups of the
	// round in progress handled so far; skip is how many of those a
	// restored task still drops, as the old task emitted them.
	done    int64
	emitted int
	skip    int
	// replay holds, while a restored task re-reads records, each
	// partition's replay bound (nil once every partition is past it);
	// restored is the frontier it was restored from.
	replay   map[int32]int64
	restored Frontier
}

func newAggregator(t *Task, a *sql.Aggregation) *aggregator {
	g := &aggregator{
		t: t, a: a, kind: a.Window.Kind, max: t.opt.MaxGroups,
		size: a.Window.Size, slide: a.Window.Slide, gap: a.Window.Gap, done: math.MinInt64,
	}
	for i := range a.Aggregates {
		g.specs = append(g.specs, compileAgg(&a.Aggregates[i]))
	}
	for _, kt := range a.KeyTypes {
		k := sql.Unknown
		if kt != nil {
			k = kt.Kind
		}
		g.kinds = append(g.kinds, k)
	}
	for len(g.kinds) < len(a.Keys) {
		g.kinds = append(g.kinds, sql.Unknown)
	}
	switch g.kind {
	case sql.Tumble, sql.Hop:
		if g.size <= 0 {
			panic("engine: window size must be positive")
		}
		if g.kind == sql.Tumble || g.slide <= 0 {
			g.slide = g.size
		}
		g.windows = make(map[int64]*window)
	case sql.Session:
		if g.gap <= 0 {
			panic("engine: session gap must be positive")
		}
		g.sessions = make(map[string]*keySessions)
	default:
		panic("engine: unknown window kind " + g.kind.String())
	}
	g.keyVals = make([]sql.Value, len(a.Keys))
	g.args = make([]sql.Value, len(g.specs))
	g.encEnd = make([]int, len(g.specs))
	g.encs = make([][]byte, len(g.specs))
	g.slots = make([]sql.Value, len(a.Keys)+len(g.specs)+2)
	t.vals = make([]sql.Value, len(a.Project))
	return g
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (g *aggregator) openWindows() int { return len(g.windows) }

// process adds the decoded, filtered row of t to its windows.
func (g *aggregator) process(in *Input, out Emitter) error {
	t := g.t
	env := t.env
	a := g.a
	tv := a.Window.Time(env)
	if err := env.Err(); err != nil {
		return t.fail(in, ReasonEval, err)
	}
	if tv.Null {
		return t.fail(in, ReasonEval, ErrNullEventTime)
	}
	ts := tv.I
	for i, k := range a.Keys {
		g.keyVals[i] = k(env)
	}
	for i := range g.specs {
		if s := &g.specs[i]; s.arg != nil {
			g.args[i] = s.arg(env)
		}
	}
	if err := env.Err(); err != nil {
		return t.fail(in, ReasonEval, err)
	}
	g.keyBuf = g.keyBuf[:0]
	for i := range g.keyVals {
		g.keyBuf = appendValue(g.keyBuf, g.kinds[i], &g.keyVals[i])
	}
	g.encode()
	g.seq++

	// A replayed record may rebuild any window the old task had not
	// emitted; a new one only those the watermark has not passed.
	limit, replayed := t.wm.wm, g.replay != nil && g.replayed(in)
	if replayed {
		limit = g.done
	}
	var reason Reason
	var err error
	if g.kind == sql.Session {
		reason, err = g.addSession(in, ts, limit, replayed)
	} else {
		reason, err = g.addWindows(in, ts, limit, replayed)
	}
	var rerr error
	if err != nil {
		if err == errNoWindow {
			t.stats.Filtered++
		} else if err == errEmitted {
			// Read again by a restored task; counted the first time.
		} else if err == ErrLate {
			t.stats.Late++
			if t.opt.Late == DeadLetterLate {
				rerr = t.fail(in, ReasonLate, err)
			}
		} else {
			rerr = t.fail(in, reason, err)
		}
	}
	t.wm.observe(in.Partition, ts, t.opt.Now())
	if err := g.emitClosed(out); err != nil {
		return err
	}
	return rerr
}

// encode encodes the arguments of distinct aggregates and
// APPROX_COUNT_DISTINCT.
func (g *aggregator) encode() {
	buf := g.encBuf[:0]
	any := false
	for i := range g.specs {
		s := &g.specs[i]
		if (s.distinct || s.op == opApprox) && !g.args[i].Null {
			buf = appendValue(buf, s.kind, &g.args[i])
			any = true
		}
		g.encEnd[i] = len(buf)
	}
	g.encBuf = buf
	if !any {
		return
	}
	start := 0
	for i, end := range g.encEnd {
		g.encs[i] = buf[start:end:end]
		start = end
	}
}

// check reports whether adding the current row to grp would fail.
func (g *aggregator) check(grp *group) error {
	for i := range g.specs {
		s := &g.specs[i]
		if s.op == opSumInt && !g.args[i].Null {
			if err := s.check(&grp.aggs[i], &g.args[i], g.encs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *aggregator) apply(grp *group, ts int64) {
	for i := range g.specs {
		g.specs[i].add(&grp.aggs[i], &g.args[i], ts, g.seq, g.encs[i])
	}
}

// newGroup makes a group for the current key, copying its values.
func (g *aggregator) newGroup(key string) *group {
	return &group{key: key, keys: g.copyKeys(), aggs: make([]aggState, len(g.specs)), hidx: -1}
}

func (g *aggregator) copyKeys() []sql.Value {
	keys := make([]sql.Value, len(g.keyVals))
	n := 0
	for i := range g.keyVals {
		n += len(g.keyVals[i].B)
	}
	var buf []byte
	if n > 0 {
		buf = make([]byte, 0, n)
	}
	for i := range g.keyVals {
		keys[i] = g.keyVals[i]
		if b := g.keyVals[i].B; b != nil {
			start := len(buf)
			buf = append(buf, b...)
			keys[i].B = buf[start:len(buf):len(buf)]
		}
	}
	return keys
}

// addWindows adds the current row, at event time ts, to its tumbling or
// hopping windows ending after limit (the watermark; for a replayed
// record, the restored frontier's Done).
func (g *aggregator) addWindows(in *Input, ts, limit int64, replayed bool) (Reason, error) {
	g.starts = g.starts[:0]
	inAny := false // t is in some window (not in a gap between hopping windows)
	for s := floorDiv(ts, g.slide) * g.slide; s > ts-g.size; s -= g.slide {
		inAny = true
		if s+g.size > limit {
			g.starts = append(g.starts, s)
		}
		if g.kind == sql.Tumble {
			break
		}
	}
	if !inAny {
		return 0, errNoWindow
	}
	if len(g.starts) == 0 {
		if replayed {
			return 0, errEmitted
		}
		return ReasonLate, ErrLate
	}
	g.targets = g.targets[:0]
	g.wins = g.wins[:0]
	missing := 0
	for _, s := range g.starts {
		w := g.last
		if w == nil || w.start != s {
			w = g.windows[s]
		}
		var grp *group
		if w != nil {
			grp = w.groups[string(g.keyBuf)]
		}
		if grp == nil {
			missing++
		} else if err := g.check(grp); err != nil {
			return ReasonEval, err
		}
		g.wins = append(g.wins, w)
		g.targets = append(g.targets, grp)
	}
	if missing > 0 && g.groups+missing > g.max {
		return ReasonTooManyGroups, ErrTooManyGroups
	}
	var key string
	for i, grp := range g.targets {
		w := g.wins[i]
		if w == nil {
			w = g.newWindow(g.starts[i])
		}
		if grp == nil {
			if key == "" {
				key = string(g.keyBuf)
			}
			grp = g.newGroup(key)
			w.groups[key] = grp
			g.groups++
		}
		g.apply(grp, ts)
		w.offs = noteOffset(w.offs, in.Partition, in.Offset)
		g.last = w
	}
	return 0, nil
}

func (g *aggregator) newWindow(start int64) *window {
	w := &window{start: start, end: start + g.size, groups: make(map[string]*group)}
	g.windows[start] = w
	i, _ := slices.BinarySearch(g.order, start)
	g.order = slices.Insert(g.order, i, start)
	return w
}

// addSession adds the current row to the session of its key that it falls
// in, opening one (if it would end after limit) or merging several as
// needed.
func (g *aggregator) addSession(in *Input, ts, limit int64, replayed bool) (Reason, error) {
	end := ts + g.gap
	if end < ts {
		end = math.MaxInt64
	}
	ks := g.sessions[string(g.keyBuf)]
	g.targets = g.targets[:0]
	if ks != nil {
		for _, s := range ks.list {
			if s.start < end && ts < s.end {
				g.targets = append(g.targets, s)
			}
		}
	}
	if len(g.targets) == 0 {
		if end <= limit {
			if replayed {
				return 0, errEmitted
			}
			return ReasonLate, ErrLate
		}
		if g.groups+1 > g.max {
			return ReasonTooManyGroups, ErrTooManyGroups
		}
	}
	for _, s := range g.targets {
		if err := g.check(s); err != nil {
			return ReasonEval, err
		}
	}
	var s *group
	if len(g.targets) == 0 {
		if ks == nil {
			ks = &keySessions{key: string(g.keyBuf), keys: g.copyKeys()}
			g.sessions[ks.key] = ks
		}
		s = &group{key: ks.key, keys: ks.keys, aggs: make([]aggState, len(g.specs)), ks: ks, start: ts, end: end}
		ks.list = append(ks.list, s)
		heap.Push(&g.sheap, s)
		g.groups++
	} else {
		s = g.targets[0]
		for _, o := range g.targets[1:] {
			for i := range g.specs {
				g.specs[i].merge(&s.aggs[i], &o.aggs[i])
			}
			s.start, s.end = min(s.start, o.start), max(s.end, o.end)
			for _, po := range o.offs {
				s.offs = noteOffset(s.offs, po.p, po.off)
			}
			heap.Remove(&g.sheap, o.hidx)
			ks.list = slices.DeleteFunc(ks.list, func(x *group) bool { return x == o })
			g.groups--
		}
		s.start, s.end = min(s.start, ts), max(s.end, end)
		heap.Fix(&g.sheap, s.hidx)
	}
	g.apply(s, ts)
	s.offs = noteOffset(s.offs, in.Partition, in.Offset)
	return 0, nil
}

// emitClosed emits every window the watermark has passed: a round, after
// which every window ending at or before the watermark is done.
func (g *aggregator) emitClosed(out Emitter) error {
	if g.replay != nil {
		return nil // rebuilding: the windows are not whole yet
	}
	wm := g.t.wm.wm
	if err := g.emitUpTo(wm, out); err != nil {
		return err
	}
	if wm > g.done {
		g.done, g.emitted = wm, 0
	}
	return nil
}

// handle emits one group of the round in progress, unless a restored task
// is still to drop it.
func (g *aggregator) handle(grp *group, start, end int64, out Emitter) error {
	g.emitted++
	if g.skip > 0 {
		g.skip--
		return nil
	}
	return g.emitGroup(grp, start, end, out)
}

// emitUpTo emits, and frees, every window or session ending at or before
// limit, in order of end, start and key.
func (g *aggregator) emitUpTo(limit int64, out Emitter) error {
	if g.kind == sql.Session {
		return g.emitSessions(limit, out)
	}
	for len(g.order) > 0 {
		w := g.windows[g.order[0]]
		if w.end > limit {
			break
		}
		buf := g.emitBuf[:0]
		for _, grp := range w.groups {
			buf = append(buf, grp)
		}
		slices.SortFunc(buf, func(a, b *group) int { return strings.Compare(a.key, b.key) })
		g.emitBuf = buf
		for i, grp := range buf {
			if err := g.handle(grp, w.start, w.end, out); err != nil {
				clear(buf)
				return err
			}
			delete(w.groups, grp.key)
			buf[i] = nil
			g.groups--
		}
		delete(g.windows, w.start)
		g.order = slices.Delete(g.order, 0, 1)
		if g.last == w {
			g.last = nil
		}
	}
	return nil
}

func (g *aggregator) emitSessions(limit int64, out Emitter) error {
	buf := g.emitBuf[:0]
	for len(g.sheap) > 0 && g.sheap[0].end <= limit {
		buf = append(buf, heap.Pop(&g.sheap).(*group))
	}
	if len(buf) == 0 {
		return nil
	}
	slices.SortFunc(buf, func(a, b *group) int {
		if c := cmp.Compare(a.end, b.end); c != 0 {
			return c
		}
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	g.emitBuf = buf
	var err error
	for i, s := range buf {
		if err == nil {
			err = g.handle(s, s.start, s.end, out)
		}
		// Freed even when Emit failed: the task is to be discarded then.
		ks := s.ks
		ks.list = slices.DeleteFunc(ks.list, func(x *group) bool { return x == s })
		if len(ks.list) == 0 {
			delete(g.sessions, ks.key)
		}
		g.groups--
		buf[i] = nil
	}
	return err
}

// emitGroup computes the output row of a group and emits it unless HAVING
// rejects it.
func (g *aggregator) emitGroup(grp *group, start, end int64, out Emitter) error {
	t := g.t
	env := t.env
	env.Reset()
	slots := g.slots
	n := copy(slots, grp.keys)
	for i := range g.specs {
		v, err := g.specs[i].result(&grp.aggs[i])
		if err != nil {
			g.groupError(err)
			return nil
		}
		slots[n+i] = v
	}
	n += len(g.specs)
	slots[n] = sql.Value{I: start}
	slots[n+1] = sql.Value{I: end}
	env.Slots = slots
	if h := g.a.Having; h != nil {
		v := h(env)
		if err := env.Err(); err != nil {
			g.groupError(err)
			return nil
		}
		if v.Null || v.I != 1 {
			return nil
		}
	}
	for i, p := range g.a.Project {
		t.vals[i] = p(env)
	}
	if err := env.Err(); err != nil {
		g.groupError(err)
		return nil
	}
	t.out.Values = t.vals
	if err := out.Emit(&t.out); err != nil {
		return err
	}
	t.stats.Out++
	return nil
}

func (g *aggregator) groupError(err error) {
	g.t.stats.GroupErrors++
	if f := g.t.opt.GroupError; f != nil {
		f(err)
	}
}

func (g *aggregator) openOffsets(m map[int32]int64) {
	note := func(offs []partOffset) {
		for _, po := range offs {
			if o, ok := m[po.p]; !ok || po.off < o {
				m[po.p] = po.off
			}
		}
	}
	for _, w := range g.windows {
		note(w.offs)
	}
	for _, s := range g.sheap {
		note(s.offs)
	}
	for _, s := range g.emitBuf { // sessions of a round not emitted yet
		if s != nil {
			note(s.offs)
		}
	}
}

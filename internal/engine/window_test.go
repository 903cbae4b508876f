package engine

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/sql"
)

func lateness(d time.Duration) Options { return Options{Lateness: d} }

func TestTumbleCountsPerKey(t *testing.T) {
	q := aggQuery(tumble(minute), true, countStar(), agg(sql.Sum, colI(cN), sql.TypeBigInt, sql.TypeBigInt))
	h := newHarness(t, q, lateness(time.Second))
	h.must(0, 0, rec{Key: "b", N: 1, TS: ms(10 * sec)})
	h.must(0, 1, rec{Key: "a", N: 2, TS: ms(20 * sec)})
	h.must(0, 2, rec{Key: "b", N: 3, TS: ms(59 * sec)})
	h.must(0, 3, rec{Key: "a", N: 4, TS: ms(minute + 10*sec)}) // watermark 69s: first window closes
	same(t, "first window", h.take(), []string{"a|1|2|0|60000000", "b|2|4|0|60000000"})
	h.must(0, 4, rec{Key: "a", N: 5, TS: ms(minute + 30*sec)})
	if st := h.task.Stats(); st.OpenGroups != 1 || st.OpenWindows != 1 {
		t.Fatalf("stats %+v", st)
	}
	same(t, "drain", h.drain(), []string{"a|2|9|60000000|120000000"})
	if st := h.task.Stats(); st.OpenGroups != 0 || st.OpenWindows != 0 || st.Out != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTumbleNegativeTimes(t *testing.T) {
	q := aggQuery(tumble(minute), false, countStar())
	h := newHarness(t, q, Options{})
	h.must(0, 0, rec{TS: ms(-1 * sec)})
	h.must(0, 1, rec{TS: ms(-minute)})
	h.must(0, 2, rec{TS: 0})
	same(t, "windows", h.drain(), []string{"2|-60000000|0", "1|0|60000000"})
}

func TestHopMembership(t *testing.T) {
	// HOP(ts, 1 minute slide, 3 minutes size): a record belongs to 3 windows.
	q := aggQuery(sql.Window{Kind: sql.Hop, Slide: minute, Size: 3 * minute}, false, countStar())
	h := newHarness(t, q, Options{})
	h.must(0, 0, rec{TS: ms(2*minute + 30*sec)}) // windows starting 0, 1, 2 min
	h.must(0, 1, rec{TS: ms(3 * minute)})        // 1, 2, 3
	same(t, "windows", h.drain(), []string{
		"1|0|180000000", "2|60000000|240000000", "2|120000000|300000000", "1|180000000|360000000",
	})
	// A record with some windows emitted goes into the open ones only.
	h = newHarness(t, q, lateness(time.Second))
	h.must(0, 0, rec{TS: ms(10 * minute)}) // watermark 9:59
	h.must(0, 1, rec{TS: ms(6*minute + 30*sec)})
	// 6:30 belongs to [4,7) [5,8) [6,9): all closed by 9:59, so it is late.
	h.must(0, 2, rec{TS: ms(7*minute + 30*sec)}) // [5,8) closed; [6,9) is closed too; [7,10) open
	if st := h.task.Stats(); st.Late != 1 {
		t.Fatalf("stats %+v", st)
	}
	same(t, "open windows", h.drain(), []string{
		"1|420000000|600000000", "1|480000000|660000000", "1|540000000|720000000", "1|600000000|780000000",
	})
}

func TestSessionMergeOutOfOrder(t *testing.T) {
	q := aggQuery(sql.Window{Kind: sql.Session, Gap: 10 * sec}, true, countStar(),
		agg(sql.Sum, colI(cN), sql.TypeBigInt, sql.TypeBigInt))
	h := newHarness(t, q, lateness(time.Minute))
	h.must(0, 0, rec{Key: "a", N: 1, TS: ms(0)})        // [0,10)
	h.must(0, 1, rec{Key: "a", N: 2, TS: ms(25 * sec)}) // [25,35)
	h.must(0, 2, rec{Key: "b", N: 7, TS: ms(5 * sec)})  // b: [5,15)
	if st := h.task.Stats(); st.OpenGroups != 3 {
		t.Fatalf("stats %+v", st)
	}
	h.must(0, 3, rec{Key: "a", N: 4, TS: ms(12 * sec)}) // [12,22) bridges nothing yet: 22 ≤ 25
	if st := h.task.Stats(); st.OpenGroups != 4 {
		t.Fatalf("stats %+v", st)
	}
	h.must(0, 4, rec{Key: "a", N: 8, TS: ms(8 * sec)}) // [8,18) overlaps [0,10) and [12,22): merges them
	if st := h.task.Stats(); st.OpenGroups != 3 {
		t.Fatalf("stats %+v", st)
	}
	h.must(0, 5, rec{Key: "a", N: 16, TS: ms(20 * sec)}) // [20,30) joins [0,22) and [25,35)
	if st := h.task.Stats(); st.OpenGroups != 2 {
		t.Fatalf("stats %+v", st)
	}
	same(t, "sessions", h.drain(), []string{"b|1|7|5000000|15000000", "a|5|31|0|35000000"})
}

func TestSessionEmitsWhenGapPasses(t *testing.T) {
	q := aggQuery(sql.Window{Kind: sql.Session, Gap: 10 * sec}, true, countStar())
	h := newHarness(t, q, lateness(time.Second))
	h.must(0, 0, rec{Key: "a", TS: ms(0)})
	h.must(0, 1, rec{Key: "a", TS: ms(9 * sec)}) // [0,19)
	h.must(0, 2, rec{Key: "b", TS: ms(19 * sec)})
	same(t, "nothing closed", h.take(), nil) // watermark 18s
	h.must(0, 3, rec{Key: "b", TS: ms(20 * sec)})
	same(t, "a closed", h.take(), []string{"a|2|0|19000000"})
	// A record of a at 5s would have belonged to the closed session: late.
	h.must(0, 4, rec{Key: "a", TS: ms(5 * sec)})
	if st := h.task.Stats(); st.Late != 1 {
		t.Fatalf("stats %+v", st)
	}
	// But one at 12s opens [12,22), still open.
	h.must(0, 5, rec{Key: "a", TS: ms(12 * sec)})
	same(t, "drain", h.drain(), []string{"a|1|12000000|22000000", "b|2|19000000|30000000"})
}

func TestWatermarkTwoPartitionsAndIdle(t *testing.T) {
	q := aggQuery(tumble(minute), false, countStar())
	h := newHarness(t, q, Options{Lateness: time.Second, IdleTimeout: 30 * time.Second})
	if h.task.Watermark() != math.MinInt64 {
		t.Fatal("watermark before any record")
	}
	h.task.AssignPartitions(0, 1)
	h.must(0, 0, rec{TS: ms(10 * sec)})
	h.must(0, 1, rec{TS: ms(2 * minute)})
	if wm := h.task.Watermark(); wm != math.MinInt64 {
		t.Fatalf("silent partition 1 does not hold the watermark: %d", wm)
	}
	h.tick(10 * time.Second)
	h.must(1, 0, rec{TS: ms(30 * sec)})
	if wm := h.task.Watermark(); wm != 29*sec {
		t.Fatalf("watermark %d, want the lagging partition's 29s", wm)
	}
	same(t, "held back", h.take(), nil)
	// Partition 0 is idle (39s), partition 1 silent for 29s: still active.
	same(t, "still held back", h.tick(29*time.Second), nil)
	if wm := h.task.Watermark(); wm != 29*sec {
		t.Fatalf("watermark %d", wm)
	}
	// Partition 1 silent 30s: every partition is idle, and the watermark
	// is the max over them, 2min − 1s.
	same(t, "released", h.tick(time.Second), []string{"2|0|60000000"})
	if wm := h.task.Watermark(); wm != 2*minute-sec {
		t.Fatalf("watermark %d", wm)
	}
	// Partition 1 coming back does not move the watermark backward.
	h.must(1, 1, rec{TS: ms(40 * sec)})
	if wm := h.task.Watermark(); wm != 2*minute-sec {
		t.Fatalf("watermark went backward to %d", wm)
	}
	// 40s was late: its window [0,1min) was emitted.
	if st := h.task.Stats(); st.Late != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestIdlePartitionReleasesWatermark(t *testing.T) {
	q := aggQuery(tumble(minute), false, countStar())
	h := newHarness(t, q, Options{Lateness: time.Second, IdleTimeout: 30 * time.Second})
	h.must(1, 0, rec{TS: ms(5 * sec)})
	h.clock = h.clock.Add(time.Second)
	h.must(0, 0, rec{TS: ms(10 * sec)})
	for i := range 40 { // partition 0 keeps sending, partition 1 is silent
		h.clock = h.clock.Add(time.Second)
		h.must(0, int64(i+1), rec{TS: ms(int64(i+61) * sec)})
		if i < 28 && len(h.out) > 0 { // partition 1 turns idle 30s after its record, at i == 28
			t.Fatalf("emitted after %ds: %q", i+2, h.out)
		}
	}
	same(t, "released by idleness", h.take(), []string{"2|0|60000000"})
	if wm := h.task.Watermark(); wm != 99*sec {
		t.Fatalf("watermark %d", wm)
	}
	// Removing a partition releases it too.
	h2 := newHarness(t, q, Options{Lateness: time.Second})
	h2.must(1, 0, rec{TS: ms(5 * sec)})
	h2.must(0, 0, rec{TS: ms(2 * minute)})
	h2.task.RemovePartition(1)
	same(t, "released by removal", h2.tick(0), []string{"1|0|60000000"})
}

func TestWindowEmitsOnce(t *testing.T) {
	q := aggQuery(tumble(minute), true, countStar())
	h := newHarness(t, q, lateness(time.Second))
	h.must(0, 0, rec{Key: "a", TS: ms(sec)})
	h.must(0, 1, rec{Key: "a", TS: ms(2 * minute)})
	same(t, "first", h.take(), []string{"a|1|0|60000000"})
	for i := range 5 {
		h.must(0, int64(2+i), rec{Key: "a", TS: ms(2*minute + int64(i)*sec)})
		h.tick(time.Minute)
	}
	same(t, "again", h.take(), nil)
	same(t, "drain", h.drain(), []string{"a|6|120000000|180000000"})
	same(t, "drain twice", h.drain(), nil)
}

func TestLateRecords(t *testing.T) {
	q := aggQuery(tumble(minute), false, countStar())
	for _, policy := range []LatePolicy{DropLate, DeadLetterLate} {
		h := newHarness(t, q, Options{Lateness: time.Second, Late: policy})
		h.must(0, 0, rec{TS: ms(10 * sec)})
		h.must(0, 1, rec{TS: ms(minute + 2*sec)}) // watermark 61s closes [0,60s)
		same(t, "closed", h.take(), []string{"1|0|60000000"})
		for off, ts := range []int64{59 * sec, 20 * sec} { // [0,60s) was emitted: both are late
			err := h.process(0, int64(2+off), rec{TS: ms(ts)})
			if policy == DropLate && err != nil {
				t.Fatalf("dropped late record returned %v", err)
			}
			if policy == DeadLetterLate {
				var re *RecordError
				if !errors.As(err, &re) || re.Reason != ReasonLate || !errors.Is(err, ErrLate) || re.Offset != int64(2+off) {
					t.Fatalf("got %v", err)
				}
			}
		}
		st := h.task.Stats()
		if st.Late != 2 {
			t.Fatalf("%v: stats %+v", policy, st)
		}
		if want := uint64(0); policy == DeadLetterLate {
			want = 2
			if st.Errors[ReasonLate] != want {
				t.Fatalf("stats %+v", st)
			}
		}
		same(t, "late records not counted", h.drain(), []string{"1|60000000|120000000"})
	}
}

func TestLateWithinLateness(t *testing.T) {
	q := aggQuery(tumble(minute), false, countStar())
	h := newHarness(t, q, lateness(5*time.Second))
	h.must(0, 0, rec{TS: ms(minute + 3*sec)}) // watermark 58s: [0,60s) still open
	h.must(0, 1, rec{TS: ms(59 * sec)})
	same(t, "nothing yet", h.take(), nil)
	h.must(0, 2, rec{TS: ms(minute + 5*sec)}) // watermark 60s
	same(t, "out of order record counted", h.take(), []string{"1|0|60000000"})
}

func TestOpenOffsets(t *testing.T) {
	q := aggQuery(tumble(minute), true, countStar())
	h := newHarness(t, q, lateness(time.Second))
	h.task.AssignPartitions(0, 1)
	h.must(0, 100, rec{Key: "a", TS: ms(sec)})
	h.must(1, 50, rec{Key: "a", TS: ms(2 * sec)})
	h.must(0, 101, rec{Key: "b", TS: ms(61 * sec)})
	h.must(0, 102, rec{Key: "b", TS: ms(62 * sec)})
	if got := h.task.OpenOffsets(); len(got) != 2 || got[0] != 100 || got[1] != 50 {
		t.Fatalf("open offsets %v", got)
	}
	h.must(1, 51, rec{Key: "c", TS: ms(90 * sec)}) // watermark 61s: [0,60s) emitted
	same(t, "first window", h.take(), []string{"a|2|0|60000000"})
	if got := h.task.OpenOffsets(); len(got) != 2 || got[0] != 101 || got[1] != 51 {
		t.Fatalf("open offsets after emission %v", got)
	}
	h.drain()
	if got := h.task.OpenOffsets(); len(got) != 0 {
		t.Fatalf("open offsets after drain %v", got)
	}
	// Sessions too.
	q = aggQuery(sql.Window{Kind: sql.Session, Gap: 10 * sec}, true, countStar())
	h = newHarness(t, q, lateness(time.Second))
	h.must(3, 7, rec{Key: "a", TS: ms(0)})
	h.must(3, 8, rec{Key: "b", TS: ms(15 * sec)}) // watermark 14s: a [0,10) closes
	same(t, "session a", h.take(), []string{"a|1|0|10000000"})
	if got := h.task.OpenOffsets(); len(got) != 1 || got[3] != 8 {
		t.Fatalf("session open offsets %v", got)
	}
}

func TestSumOverflow(t *testing.T) {
	q := aggQuery(tumble(minute), false, agg(sql.Sum, colI(cN), sql.TypeBigInt, sql.TypeBigInt), countStar())
	h := newHarness(t, q, Options{})
	h.must(0, 0, rec{N: math.MaxInt64 - 10})
	h.must(0, 1, rec{N: 10})
	err := h.process(0, 2, rec{N: 1})
	if r, ok := reasonOf(err); !ok || r != ReasonEval || !errors.Is(err, sql.ErrBigIntRange) {
		t.Fatalf("got %v", err)
	}
	h.must(0, 3, rec{N: -5})
	// The overflowing record was not applied, to SUM nor to COUNT.
	same(t, "sum", h.drain(), []string{strconv.FormatInt(math.MaxInt64-5, 10) + "|3|0|60000000"})
	// Negative side.
	h = newHarness(t, q, Options{})
	h.must(0, 0, rec{N: math.MinInt64})
	if err := h.process(0, 1, rec{N: -1}); !errors.Is(err, sql.ErrBigIntRange) {
		t.Fatalf("got %v", err)
	}
}

func TestMinMaxStrings(t *testing.T) {
	q := aggQuery(tumble(minute), false,
		agg(sql.Min, colB(cKey), sql.TypeVarchar, sql.TypeVarchar),
		agg(sql.Max, colB(cKey), sql.TypeVarchar, sql.TypeVarchar),
		agg(sql.Min, colB(cS), sql.TypeVarchar, sql.TypeVarchar),
		agg(sql.Max, colF(cD), sql.TypeDouble, sql.TypeDouble),
		agg(sql.Min, colI(cN), sql.TypeBigInt, sql.TypeBigInt))
	h := newHarness(t, q, Options{})
	// Byte-wise, as PostgreSQL's C collation: "B" < "a" < "ab" < "é".
	for i, k := range []string{"ab", "é", "B", "a"} {
		h.must(0, int64(i), rec{Key: k, N: int64(10 - i*7), D: float64(i)})
	}
	same(t, "min max", h.drain(), []string{"B|é|NULL|3|-11|0|60000000"})
}

func TestMinMaxCopiesBytes(t *testing.T) {
	q := aggQuery(tumble(minute), false, agg(sql.Max, colB(cKey), sql.TypeVarchar, sql.TypeVarchar))
	task := NewTask(q, Options{})
	all := decoder(t, q.Fields)
	buf := encode(t, rec{Key: "zz"})
	if err := task.Process(&Input{Payload: buf, All: all}, EmitFunc(func(*Output) error { return nil })); err != nil {
		t.Fatal(err)
	}
	clear(buf) // the record buffer is reused by the runtime
	var got string
	if err := task.Drain(EmitFunc(func(o *Output) error { got = string(o.Values[0].B); return nil })); err != nil {
		t.Fatal(err)
	}
	if got != "zz" {
		t.Fatalf("max %q", got)
	}
}

func TestApproxCountDistinctAccuracy(t *testing.T) {
	q := aggQuery(tumble(minute), false,
		agg(sql.ApproxCountDistinct, colB(cKey), sql.TypeVarchar, sql.TypeBigInt),
		agg(sql.ApproxCountDistinct, colI(cN), sql.TypeBigInt, sql.TypeBigInt))
	task := NewTask(q, Options{})
	all := decoder(t, q.Fields)
	const n = 100_000
	var buf []byte
	var err error
	nop := EmitFunc(func(*Output) error { return nil })
	for i := range 2 * n { // every value twice
		r := rec{Key: fmt.Sprintf("user-%d", i%n), N: int64(i % n), TS: int64(i % 1000)}
		buf, err = testAvro.AppendEncode(buf[:0], &r)
		if err != nil {
			t.Fatal(err)
		}
		if err := task.Process(&Input{Payload: buf, All: all}, nop); err != nil {
			t.Fatal(err)
		}
	}
	var got [2]int64
	if err := task.Drain(EmitFunc(func(o *Output) error { got[0], got[1] = o.Values[0].I, o.Values[1].I; return nil })); err != nil {
		t.Fatal(err)
	}
	for i, g := range got {
		if e := math.Abs(float64(g)-n) / n; e > 0.02 {
			t.Fatalf("estimate %d: %d, error %.2f%%", i, g, 100*e)
		}
		t.Logf("estimate %d of %d: error %.3f%%", g, n, 100*math.Abs(float64(g)-n)/n)
	}
}

func TestFirstLastByEventTime(t *testing.T) {
	q := aggQuery(tumble(minute), true,
		agg(sql.FirstValue, colI(cN), sql.TypeBigInt, sql.TypeBigInt),
		agg(sql.LastValue, colI(cN), sql.TypeBigInt, sql.TypeBigInt),
		agg(sql.FirstValue, colB(cS), sql.TypeVarchar, sql.TypeVarchar))
	h := newHarness(t, q, lateness(time.Minute))
	h.must(0, 0, rec{Key: "a", N: 1, TS: ms(30 * sec)})
	h.must(0, 1, rec{Key: "a", N: 2, TS: ms(10 * sec), S: strp("x")})
	h.must(0, 2, rec{Key: "a", N: 3, TS: ms(50 * sec)})
	h.must(0, 3, rec{Key: "a", N: 4, TS: ms(10 * sec), S: strp("y")}) // tie with N 2: first seen stays first
	h.must(0, 4, rec{Key: "a", N: 5, TS: ms(50 * sec)})               // tie with N 3: last seen is last
	h.must(0, 5, rec{Key: "a", N: 6, TS: ms(5 * sec)})                // earliest, but S is NULL: ignored by FIRST_VALUE(s)
	same(t, "first last", h.drain(), []string{"a|6|5|x|0|60000000"})

	// Across merged sessions.
	q.Agg.Window = sql.Window{Kind: sql.Session, Gap: 15 * sec, Time: colTS(cTS)}
	h = newHarness(t, q, lateness(time.Minute))
	h.must(0, 0, rec{Key: "a", N: 1, TS: ms(20 * sec)})
	h.must(0, 1, rec{Key: "a", N: 2, TS: ms(0), S: strp("early")})
	h.must(0, 2, rec{Key: "a", N: 3, TS: ms(10 * sec), S: strp("mid")}) // bridges [0,15) and [20,35)
	same(t, "merged", h.drain(), []string{"a|2|1|early|0|35000000"})
}

func TestHaving(t *testing.T) {
	q := aggQuery(tumble(minute), true, countStar())
	q.Agg.Having = func(e *sql.Env) sql.Value { return sql.Bool(e.Slots[1].I >= 2) }
	h := newHarness(t, q, Options{})
	for i, k := range []string{"a", "b", "a", "c", "c", "c"} {
		h.must(0, int64(i), rec{Key: k})
	}
	same(t, "having", h.drain(), []string{"a|2|0|60000000", "c|3|0|60000000"})
	// A NULL HAVING rejects; an error is counted and skips the group.
	q.Agg.Having = func(e *sql.Env) sql.Value {
		if string(e.Slots[0].B) == "a" {
			e.Fail(sql.ErrDivisionByZero)
		}
		return sql.Null
	}
	var errs []error
	h = newHarness(t, q, Options{GroupError: func(err error) { errs = append(errs, err) }})
	h.must(0, 0, rec{Key: "a"})
	h.must(0, 1, rec{Key: "b"})
	same(t, "null having", h.drain(), nil)
	if st := h.task.Stats(); st.GroupErrors != 1 || len(errs) != 1 || errs[0] != sql.ErrDivisionByZero {
		t.Fatalf("stats %+v, errors %v", st, errs)
	}
}

func TestAggregatesNullsAndDistinct(t *testing.T) {
	sArg := colB(cS)
	nArg := func(e *sql.Env) sql.Value { // NULL when s is NULL, else n
		if e.Row.Values[cS].IsNull() {
			return sql.Null
		}
		return sql.Value{I: e.Row.Values[cN].I}
	}
	dArg := func(e *sql.Env) sql.Value {
		if e.Row.Values[cS].IsNull() {
			return sql.Null
		}
		return sql.Value{F: e.Row.Values[cD].F}
	}
	distinct := func(a sql.Aggregate) sql.Aggregate { a.Distinct = true; return a }
	aggs := []sql.Aggregate{
		countStar(),
		agg(sql.Count, sArg, sql.TypeVarchar, sql.TypeBigInt),
		distinct(agg(sql.Count, sArg, sql.TypeVarchar, sql.TypeBigInt)),
		agg(sql.Sum, nArg, sql.TypeBigInt, sql.TypeBigInt),
		distinct(agg(sql.Sum, nArg, sql.TypeBigInt, sql.TypeBigInt)),
		agg(sql.Avg, nArg, sql.TypeBigInt, sql.TypeDouble),
		distinct(agg(sql.Avg, nArg, sql.TypeBigInt, sql.TypeDouble)),
		agg(sql.Sum, dArg, sql.TypeDouble, sql.TypeDouble),
		distinct(agg(sql.Avg, dArg, sql.TypeDouble, sql.TypeDouble)),
		agg(sql.Min, nArg, sql.TypeBigInt, sql.TypeBigInt),
		agg(sql.ApproxCountDistinct, sArg, sql.TypeVarchar, sql.TypeBigInt),
	}
	rows := []rec{
		{Key: "k", N: 1, D: 0.5, S: strp("x")},
		{Key: "k", N: 1, D: 0.5, S: strp("x")},
		{Key: "k", N: 4, D: 2, S: strp("y")},
		{Key: "k", N: 100, D: 100},             // s NULL: every argument NULL
		{Key: "n", N: 100, D: 100},             // a group of NULLs only
		{Key: "k", N: 1, D: 0.5, S: strp("z")}, // n already seen
	}
	want := []string{
		"k|5|4|3|7|5|1.75|2.5|3.5|1.25|1|3|0|60000000",
		"n|1|0|0|NULL|NULL|NULL|NULL|NULL|NULL|NULL|0|0|60000000",
	}
	for _, w := range []sql.Window{tumble(minute), {Kind: sql.Session, Gap: 10 * sec}} {
		q := aggQuery(w, true, aggs...)
		h := newHarness(t, q, lateness(time.Minute))
		// Sessions (gap 10s): [0,10) and [18,28) are bridged by the third
		// record at 9s, merging the distinct sets (both hold x).
		sessionTS := []int64{0, 18, 9, 25, 0, 27}
		for i, r := range rows {
			r.TS = ms(int64(i) * 3 * sec)
			if w.Kind == sql.Session {
				r.TS = ms(sessionTS[i] * sec)
			}
			h.must(0, int64(i), r)
		}
		got := h.drain()
		if w.Kind == sql.Session {
			// Session bounds differ; compare the aggregates.
			for i := range got {
				got[i] = trimWindow(got[i])
			}
			same(t, "session aggregates", got, []string{trimWindow(want[1]), trimWindow(want[0])})
			continue
		}
		same(t, "aggregates", got, want)
	}
}

// trimWindow drops the last two columns.
func trimWindow(s string) string {
	for range 2 {
		for i := len(s) - 1; i >= 0; i-- {
			if s[i] == '|' {
				s = s[:i]
				break
			}
		}
	}
	return s
}

func TestTooManyGroups(t *testing.T) {
	q := aggQuery(tumble(minute), true, countStar())
	h := newHarness(t, q, Options{MaxGroups: 2})
	h.must(0, 0, rec{Key: "a"})
	h.must(0, 1, rec{Key: "b"})
	h.must(0, 2, rec{Key: "a"})
	err := h.process(0, 3, rec{Key: "c"})
	if r, ok := reasonOf(err); !ok || r != ReasonTooManyGroups || !errors.Is(err, ErrTooManyGroups) {
		t.Fatalf("got %v", err)
	}
	same(t, "groups", h.drain(), []string{"a|2|0|60000000", "b|1|0|60000000"})
	h.must(0, 4, rec{Key: "c"}) // room again
	// A HOP record needing several groups is refused whole.
	q = aggQuery(sql.Window{Kind: sql.Hop, Slide: minute, Size: 2 * minute}, false, countStar())
	h = newHarness(t, q, Options{MaxGroups: 3})
	h.must(0, 0, rec{TS: ms(30 * sec)})                                                    // 2 groups
	if err := h.process(0, 1, rec{TS: ms(150 * sec)}); !errors.Is(err, ErrTooManyGroups) { // would need 2 more
		t.Fatalf("got %v", err)
	}
	same(t, "nothing partial", h.drain(), []string{"1|-60000000|60000000", "1|0|120000000"})
}

func TestNullEventTime(t *testing.T) {
	q := aggQuery(tumble(minute), false, countStar())
	q.Agg.Window.Time = func(e *sql.Env) sql.Value { return sql.Null }
	h := newHarness(t, q, Options{})
	err := h.process(0, 0, rec{})
	if r, ok := reasonOf(err); !ok || r != ReasonEval || !errors.Is(err, ErrNullEventTime) {
		t.Fatalf("got %v", err)
	}
}

func TestAggregationWithWhere(t *testing.T) {
	q := aggQuery(tumble(minute), true, countStar())
	q.FilterFields = 2
	q.Where = func(e *sql.Env) sql.Value { return sql.Bool(e.Row.Values[cN].I > 0) }
	h := newHarness(t, q, Options{})
	h.must(0, 0, rec{Key: "a", N: 1})
	h.must(0, 1, rec{Key: "a", N: 0})
	h.must(0, 2, rec{Key: "b", N: 2})
	same(t, "filtered", h.drain(), []string{"a|1|0|60000000", "b|1|0|60000000"})
	if st := h.task.Stats(); st.Filtered != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestKeyEncodingOrder(t *testing.T) {
	enc := func(k sql.Kind, v sql.Value) string { return string(appendValue(nil, k, &v)) }
	ints := []int64{math.MinInt64, -5, -1, 0, 1, 7, math.MaxInt64}
	for i := 1; i < len(ints); i++ {
		if enc(sql.BigInt, sql.Value{I: ints[i-1]}) >= enc(sql.BigInt, sql.Value{I: ints[i]}) {
			t.Fatalf("%d !< %d", ints[i-1], ints[i])
		}
	}
	fl := []float64{math.Inf(-1), -2.5, -1e-300, 0, 1e-300, 3, math.Inf(1), math.NaN()}
	for i := 1; i < len(fl); i++ {
		if enc(sql.Double, sql.Value{F: fl[i-1]}) >= enc(sql.Double, sql.Value{F: fl[i]}) {
			t.Fatalf("%v !< %v", fl[i-1], fl[i])
		}
	}
	if enc(sql.Double, sql.Value{F: math.Copysign(0, -1)}) != enc(sql.Double, sql.Value{F: 0}) {
		t.Fatal("-0 and 0 differ")
	}
	for _, f := range fl[:len(fl)-1] {
		e := enc(sql.Double, sql.Value{F: f})
		if _, g := decodeNumber(sql.Double, e); g != f {
			t.Fatalf("round trip %v: %v", f, g)
		}
	}
	strs := []string{"", "\x00", "\x00\x00", "\x00a", "a", "a\x00", "ab", "b"}
	for i := 1; i < len(strs); i++ {
		if enc(sql.Varchar, sql.Value{B: []byte(strs[i-1])}) >= enc(sql.Varchar, sql.Value{B: []byte(strs[i])}) {
			t.Fatalf("%q !< %q", strs[i-1], strs[i])
		}
	}
	// Two keys: ("a\x00", "b") and ("a", "\x00b") must differ.
	two := func(a, b string) string {
		buf := appendValue(nil, sql.Varchar, &sql.Value{B: []byte(a)})
		return string(appendValue(buf, sql.Varchar, &sql.Value{B: []byte(b)}))
	}
	if two("a\x00", "b") == two("a", "\x00b") {
		t.Fatal("ambiguous key encoding")
	}
	if enc(sql.Varchar, sql.Null) >= enc(sql.Varchar, sql.Value{B: nil}) {
		t.Fatal("NULL does not sort first or equals the empty string")
	}
}

func TestAggregationAllocs(t *testing.T) {
	q := aggQuery(tumble(minute), true, countStar(),
		agg(sql.Sum, colI(cN), sql.TypeBigInt, sql.TypeBigInt),
		agg(sql.Max, colB(cKey), sql.TypeVarchar, sql.TypeVarchar),
		agg(sql.Avg, colF(cD), sql.TypeDouble, sql.TypeDouble))
	task := NewTask(q, Options{})
	all := decoder(t, q.Fields)
	var ins []*Input
	for i, k := range []string{"a", "b", "c"} {
		ins = append(ins, &Input{Offset: int64(i), Payload: encode(t, rec{Key: k, N: 1, D: 1, TS: 1000}), All: all})
	}
	nop := EmitFunc(func(*Output) error { return nil })
	for _, in := range ins { // open the groups
		if err := task.Process(in, nop); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, in := range ins {
			if err := task.Process(in, nop); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per 3 records into existing groups", allocs)
	}
}

func TestHopWithGaps(t *testing.T) {
	// Slide 2 minutes, size 1 minute: [0,1m), [2m,3m) ...; 1m30s is in none.
	q := aggQuery(sql.Window{Kind: sql.Hop, Slide: 2 * minute, Size: minute}, false, countStar())
	h := newHarness(t, q, Options{})
	h.must(0, 0, rec{TS: ms(30 * sec)})
	h.must(0, 1, rec{TS: ms(90 * sec)})
	h.must(0, 2, rec{TS: ms(130 * sec)})
	same(t, "windows", h.drain(), []string{"1|0|60000000", "1|120000000|180000000"})
	if st := h.task.Stats(); st.Late != 0 || st.Filtered != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAvgIntegerPrecision(t *testing.T) {
	q := aggQuery(tumble(minute), false, agg(sql.Avg, colI(cN), sql.TypeBigInt, sql.TypeDouble))
	task := NewTask(q, Options{})
	all := decoder(t, q.Fields)
	nop := EmitFunc(func(*Output) error { return nil })
	// 2^62 + i for i < 1000: the sum leaves int64, and the exact mean is
	// 2^62 + 499.5, which a float64 sum would lose.
	for i := range int64(1000) {
		if err := task.Process(&Input{Payload: encode(t, rec{N: 1<<62 + i}), All: all}, nop); err != nil {
			t.Fatal(err)
		}
	}
	var got float64
	if err := task.Drain(EmitFunc(func(o *Output) error { got = o.Values[0].F; return nil })); err != nil {
		t.Fatal(err)
	}
	if want := float64(1<<62) + 499.5; math.Abs(got-want)/want > 1e-15 {
		t.Fatalf("avg %v, want %v", got, want)
	}
	// Small sums take the exact quotient path.
	q2 := aggQuery(tumble(minute), false, agg(sql.Avg, colI(cN), sql.TypeBigInt, sql.TypeDouble))
	h := newHarness(t, q2, Options{})
	for _, n := range []int64{1, 2, 2} {
		h.must(0, 0, rec{N: n})
	}
	same(t, "avg", h.drain(), []string{strconv.FormatFloat(5.0/3, 'g', -1, 64) + "|0|60000000"})
}

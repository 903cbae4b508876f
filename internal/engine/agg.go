package engine

import (
	"math"
	"math/bits"

	"github.com/axiomhq/hyperloglog"

	"github.com/sluicehq/sluice/internal/sql"
)

// aggOp is an aggregate compiled for its argument type.
type aggOp uint8

const (
	opCountStar aggOp = iota
	opCount
	opSumInt
	opSumFloat
	opAvgInt
	opAvgFloat
	opMin
	opMax
	opApprox
	opFirst
	opLast
)

// aggSpec is one aggregate of the query, ready to run.
type aggSpec struct {
	op       aggOp
	distinct bool // keeps a set of encoded values; only COUNT, SUM and AVG need it
	arg      sql.Eval
	kind     sql.Kind // of the argument
}

func compileAgg(a *sql.Aggregate) aggSpec {
	s := aggSpec{arg: a.Arg}
	if a.ArgType != nil {
		s.kind = a.ArgType.Kind
	}
	isFloat := s.kind == sql.Double
	switch a.Func {
	case sql.Count:
		s.op = opCount
		if a.Arg == nil {
			s.op = opCountStar
		}
		s.distinct = a.Distinct && a.Arg != nil
	case sql.Sum:
		s.op = opSumInt
		if isFloat {
			s.op = opSumFloat
		}
		s.distinct = a.Distinct
	case sql.Avg:
		s.op = opAvgInt
		if isFloat {
			s.op = opAvgFloat
		}
		s.distinct = a.Distinct
	case sql.Min:
		s.op = opMin
	case sql.Max:
		s.op = opMax
	case sql.ApproxCountDistinct:
		s.op = opApprox
	case sql.FirstValue:
		s.op = opFirst
	case sql.LastValue:
		s.op = opLast
	default:
		panic("engine: unknown aggregate " + a.Func.String())
	}
	return s
}

// aggState is the state of one aggregate in one group. One struct serves
// every aggregate so that a group's states are one allocation; each
// aggregate uses the fields it needs.
type aggState struct {
	n   int64   // rows counted (COUNT) or non-NULL rows added (the others)
	lo  uint64  // SUM and AVG of integers: a 128-bit sum, low word
	hi  int64   // high word
	f   float64 // SUM and AVG of doubles
	t   int64   // FIRST_VALUE, LAST_VALUE: event time of v
	seq uint64  // and the order it was seen in, for ties
	v   sql.Value
	buf []byte // owns v.B
	set map[string]struct{}
	hll *hyperloglog.Sketch
}

func add128(hi int64, lo uint64, v int64) (int64, uint64) {
	lo2, carry := bits.Add64(lo, uint64(v), 0)
	return hi + int64(carry) + (v >> 63), lo2
}

func fits64(hi int64, lo uint64) bool { return hi == int64(lo)>>63 }

func float128(hi int64, lo uint64) float64 {
	return float64(hi)*(1<<64) + float64(lo)
}

// check reports whether adding v (non-NULL) would fail: a SUM of integers
// leaving the BIGINT range. enc is v encoded, for distinct aggregates.
func (s *aggSpec) check(st *aggState, v *sql.Value, enc []byte) error {
	if s.op != opSumInt {
		return nil
	}
	if s.distinct && st.set != nil {
		if _, ok := st.set[string(enc)]; ok {
			return nil
		}
	}
	if hi, lo := add128(st.hi, st.lo, v.I); !fits64(hi, lo) {
		return sql.ErrBigIntRange
	}
	return nil
}

// add adds one row. v is the argument (ignored by COUNT(*)); ts and seq
// are the row's event time and arrival order; enc is v encoded (distinct
// aggregates and APPROX_COUNT_DISTINCT).
func (s *aggSpec) add(st *aggState, v *sql.Value, ts int64, seq uint64, enc []byte) {
	if s.op == opCountStar {
		st.n++
		return
	}
	if v.Null {
		return
	}
	if s.distinct {
		if st.set == nil {
			st.set = make(map[string]struct{})
		}
		if _, ok := st.set[string(enc)]; ok {
			return
		}
		st.set[string(enc)] = struct{}{}
	}
	s.addValue(st, v, ts, seq, enc)
}

func (s *aggSpec) addValue(st *aggState, v *sql.Value, ts int64, seq uint64, enc []byte) {
	switch s.op {
	case opCount:
		st.n++
	case opSumInt, opAvgInt:
		st.n++
		st.hi, st.lo = add128(st.hi, st.lo, v.I)
	case opSumFloat, opAvgFloat:
		st.n++
		st.f += v.F
	case opMin:
		if st.n == 0 || compareValues(s.kind, v, &st.v) < 0 {
			st.buf = copyValue(&st.v, v, st.buf)
		}
		st.n++
	case opMax:
		if st.n == 0 || compareValues(s.kind, v, &st.v) > 0 {
			st.buf = copyValue(&st.v, v, st.buf)
		}
		st.n++
	case opFirst:
		if st.n == 0 || ts < st.t || (ts == st.t && seq < st.seq) {
			st.buf = copyValue(&st.v, v, st.buf)
			st.t, st.seq = ts, seq
		}
		st.n++
	case opLast:
		if st.n == 0 || ts > st.t || (ts == st.t && seq > st.seq) {
			st.buf = copyValue(&st.v, v, st.buf)
			st.t, st.seq = ts, seq
		}
		st.n++
	case opApprox:
		if st.hll == nil {
			st.hll = hyperloglog.New14()
		}
		st.hll.Insert(enc)
		st.n++
	}
}

// merge adds the state o into st (sessions merging). o is not used after.
func (s *aggSpec) merge(st, o *aggState) {
	if s.distinct {
		for e := range o.set {
			if st.set == nil {
				st.set = make(map[string]struct{}, len(o.set))
			}
			if _, ok := st.set[e]; ok {
				continue
			}
			st.set[e] = struct{}{}
			var v sql.Value
			if s.op != opCount { // COUNT counts; SUM and AVG need the number
				v.I, v.F = decodeNumber(s.kind, e)
			}
			s.addValue(st, &v, 0, 0, nil)
		}
		return
	}
	if o.n == 0 && o.hll == nil {
		return
	}
	switch s.op {
	case opCountStar, opCount:
		st.n += o.n
	case opSumInt, opAvgInt:
		st.n += o.n
		lo, carry := bits.Add64(st.lo, o.lo, 0)
		st.hi, st.lo = st.hi+o.hi+int64(carry), lo
	case opSumFloat, opAvgFloat:
		st.n += o.n
		st.f += o.f
	case opMin:
		if st.n == 0 || compareValues(s.kind, &o.v, &st.v) < 0 {
			st.buf = copyValue(&st.v, &o.v, st.buf)
		}
		st.n += o.n
	case opMax:
		if st.n == 0 || compareValues(s.kind, &o.v, &st.v) > 0 {
			st.buf = copyValue(&st.v, &o.v, st.buf)
		}
		st.n += o.n
	case opFirst:
		if st.n == 0 || o.t < st.t || (o.t == st.t && o.seq < st.seq) {
			st.buf = copyValue(&st.v, &o.v, st.buf)
			st.t, st.seq = o.t, o.seq
		}
		st.n += o.n
	case opLast:
		if st.n == 0 || o.t > st.t || (o.t == st.t && o.seq > st.seq) {
			st.buf = copyValue(&st.v, &o.v, st.buf)
			st.t, st.seq = o.t, o.seq
		}
		st.n += o.n
	case opApprox:
		st.n += o.n
		if o.hll != nil {
			if st.hll == nil {
				st.hll = o.hll
			} else {
				_ = st.hll.Merge(o.hll) // same precision: cannot fail
			}
		}
	}
}

// result is the aggregate's value. It fails only for a SUM of integers
// beyond BIGINT, which a session merge can produce.
func (s *aggSpec) result(st *aggState) (sql.Value, error) {
	switch s.op {
	case opCountStar, opCount:
		return sql.Value{I: st.n}, nil
	case opApprox:
		if st.hll == nil {
			return sql.Value{}, nil
		}
		return sql.Value{I: int64(min(st.hll.Estimate(), math.MaxInt64))}, nil
	}
	if st.n == 0 {
		return sql.Null, nil
	}
	switch s.op {
	case opSumInt:
		if !fits64(st.hi, st.lo) {
			return sql.Null, sql.ErrBigIntRange
		}
		return sql.Value{I: int64(st.lo)}, nil
	case opSumFloat:
		return sql.Value{F: st.f}, nil
	case opAvgInt:
		if fits64(st.hi, st.lo) {
			sum := int64(st.lo)
			if sum > -1<<53 && sum < 1<<53 {
				// Exact as a float64: the quotient is correctly rounded.
				return sql.Value{F: float64(sum) / float64(st.n)}, nil
			}
			// Quotient and remainder keep the precision a float sum loses.
			q, r := sum/st.n, sum%st.n
			return sql.Value{F: float64(q) + float64(r)/float64(st.n)}, nil
		}
		return sql.Value{F: float128(st.hi, st.lo) / float64(st.n)}, nil
	case opAvgFloat:
		return sql.Value{F: st.f / float64(st.n)}, nil
	}
	return st.v, nil // MIN, MAX, FIRST_VALUE, LAST_VALUE
}

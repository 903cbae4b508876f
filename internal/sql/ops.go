package sql

import (
	"bytes"
	"cmp"
	"math"
	"strings"
)

// rank orders the numeric kinds for implicit widening.
func rank(k Kind) int {
	switch k {
	case Integer:
		return 1
	case BigInt:
		return 2
	case Double:
		return 3
	}
	return 0
}

// unify is the common kind two operands are compared or combined in.
func unify(l, r Kind) (Kind, bool) {
	switch {
	case l == r:
		return l, true
	case l == Unknown:
		return r, true
	case r == Unknown:
		return l, true
	case l.IsNumeric() && r.IsNumeric():
		if rank(l) > rank(r) {
			return l, true
		}
		return r, true
	case (l == Date && r == Timestamp) || (l == Timestamp && r == Date):
		return Timestamp, true
	}
	return 0, false
}

// coerceCost is how many implicit conversions turn x into kind to, -1 when
// none does: overload resolution picks the cheapest signature.
func coerceCost(x *texpr, to Kind) int {
	from := x.typ.Kind
	switch {
	case to == AnyKind, from == to, from == Unknown:
		return 0
	case from == Integer && to == BigInt, from == BigInt && to == Double, from == Date && to == Timestamp:
		return 1
	case from == Integer && to == Double:
		return 2
	case from == Varchar && x.cnst != nil && to != Array && to != Map && to != Record:
		// An untyped string literal, as in PostgreSQL: '2026-11-26' is a
		// TIMESTAMP where one is needed.
		return 3
	}
	return -1
}

// coerce converts x implicitly to kind to.
func (a *analyzer) coerce(x *texpr, to Kind, p Pos) (*texpr, error) {
	from := x.typ.Kind
	if to == AnyKind || from == to {
		return x, nil
	}
	if from == Unknown {
		return constExpr(ScalarType(to), Null, x.pos), nil
	}
	if coerceCost(x, to) < 0 {
		return nil, errAt(p, "expected %s, got %s", to, x.typ)
	}
	conv := castable(from, to)
	if x.cnst != nil {
		if x.cnst.Null {
			return constExpr(ScalarType(to), Null, x.pos), nil
		}
		v, err := conv(NewEnv(), *x.cnst)
		if err != nil {
			return nil, errAt(p, "%v", err)
		}
		if v.B != nil {
			v.B = bytes.Clone(v.B)
		}
		return constExpr(ScalarType(to), v, x.pos), nil
	}
	ev := x.eval
	return &texpr{typ: ScalarType(to), pos: x.pos, eval: func(e *Env) Value {
		v := ev(e)
		if v.Null {
			return Null
		}
		r, err := conv(e, v)
		if err != nil {
			e.Fail(err)
			return Null
		}
		return r
	}}, nil
}

// pair analyses two operands and brings them to a common kind; a string
// literal takes the other side's kind.
func (a *analyzer) pair(le, re Expr, what string, at Pos) (*texpr, *texpr, Kind, error) {
	l, err := a.expr(le)
	if err != nil {
		return nil, nil, 0, err
	}
	r, err := a.expr(re)
	if err != nil {
		return nil, nil, 0, err
	}
	return a.pairOf(l, r, what, at)
}

func (a *analyzer) pairOf(l, r *texpr, what string, at Pos) (*texpr, *texpr, Kind, error) {
	lk, rk := l.typ.Kind, r.typ.Kind
	if lk == Varchar && l.cnst != nil && rk != Varchar && rk != Unknown {
		lk = rk
	} else if rk == Varchar && r.cnst != nil && lk != Varchar && lk != Unknown {
		rk = lk
	}
	k, ok := unify(lk, rk)
	if !ok {
		return nil, nil, 0, errAt(at, "cannot %s %s with %s", what, l.typ, r.typ)
	}
	if k == Unknown {
		k = Varchar
	}
	var err error
	if l, err = a.coerce(l, k, l.pos); err != nil {
		return nil, nil, 0, err
	}
	if r, err = a.coerce(r, k, r.pos); err != nil {
		return nil, nil, 0, err
	}
	return l, r, k, nil
}

func comparable(k Kind) bool {
	switch k {
	case Array, Map, Record:
		return false
	}
	return true
}

// compareFunc orders two non-NULL values of kind k. Doubles order as in
// PostgreSQL: NaN equals NaN and is above every other value.
func compareFunc(k Kind) func(a, b Value) int {
	switch k {
	case Double:
		return compareDouble
	case Varchar, Bytes:
		return func(a, b Value) int { return bytes.Compare(a.B, b.B) }
	}
	return func(a, b Value) int { return cmp.Compare(a.I, b.I) }
}

func compareDouble(a, b Value) int {
	an, bn := math.IsNaN(a.F), math.IsNaN(b.F)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a.F, b.F)
}

// outcome lists, for compare results -1, 0, 1, whether an operator holds.
func outcome(op BinaryOp) [3]bool {
	switch op {
	case Eq:
		return [3]bool{false, true, false}
	case Ne:
		return [3]bool{true, false, true}
	case Lt:
		return [3]bool{true, false, false}
	case Le:
		return [3]bool{true, true, false}
	case Gt:
		return [3]bool{false, false, true}
	}
	return [3]bool{false, true, true} // Ge
}

func (a *analyzer) compare(op BinaryOp, l, r *texpr, at Pos) (*texpr, error) {
	l, r, k, err := a.pairOf(l, r, "compare", at)
	if err != nil {
		return nil, err
	}
	if !comparable(k) {
		return nil, errAt(at, "cannot compare values of type %s", l.typ)
	}
	want := outcome(op)
	lev, rev := l.eval, r.eval
	x := &texpr{typ: TypeBoolean, pos: l.pos}
	// The common filter shapes, column op constant, are written out.
	if r.cnst != nil && !r.cnst.Null {
		c := *r.cnst
		switch k {
		case Boolean, Integer, BigInt, Timestamp, Date, Time, Interval:
			ci := c.I
			x.eval = func(e *Env) Value {
				v := lev(e)
				if v.Null {
					return Null
				}
				return Bool(want[cmp.Compare(v.I, ci)+1])
			}
		case Varchar, Bytes:
			cb := c.B
			x.eval = func(e *Env) Value {
				v := lev(e)
				if v.Null {
					return Null
				}
				return Bool(want[bytes.Compare(v.B, cb)+1])
			}
		}
	}
	if x.eval == nil {
		cf := compareFunc(k)
		x.eval = func(e *Env) Value {
			u, v, ok := both(e, lev, rev)
			if !ok {
				return Null
			}
			return Bool(want[cf(u, v)+1])
		}
	}
	return fold(x, l, r), nil
}

func (a *analyzer) unary(x *Unary) (*texpr, error) {
	v, err := a.expr(x.X)
	if err != nil {
		return nil, err
	}
	ev := v.eval
	switch x.Op {
	case Not:
		if err := wantBoolean(v, "NOT"); err != nil {
			return nil, err
		}
		return fold(&texpr{typ: TypeBoolean, pos: x.Start, eval: notEval(ev)}, v), nil
	case Plus:
		if !v.typ.Kind.IsNumeric() && v.typ.Kind != Interval {
			return nil, errAt(x.Start, "unary + needs a number, got %s", v.typ)
		}
		return v, nil
	}
	k := v.typ.Kind
	out := &texpr{typ: v.typ, pos: x.Start}
	switch {
	case k == Double:
		out.eval = func(e *Env) Value {
			r := ev(e)
			if r.Null {
				return Null
			}
			return Value{F: -r.F}
		}
	case k == Integer || k == BigInt || k == Interval:
		lo, rangeErr := int64(math.MinInt64), ErrBigIntRange
		if k == Integer {
			lo, rangeErr = math.MinInt32, ErrIntegerRange
		}
		out.eval = func(e *Env) Value {
			r := ev(e)
			if r.Null {
				return Null
			}
			if r.I == lo {
				e.Fail(rangeErr)
				return Null
			}
			return Value{I: -r.I}
		}
	default:
		return nil, errAt(x.Start, "unary - needs a number, got %s", v.typ)
	}
	if v.cnst != nil && k.IsInteger() && v.cnst.I == 1<<31 && k == BigInt {
		// -2147483648 is written as -(2147483648): an INTEGER, as in
		// PostgreSQL.
		return constExpr(TypeInteger, Value{I: -1 << 31}, x.Start), nil
	}
	return fold(out, v), nil
}

func (a *analyzer) binary(x *Binary) (*texpr, error) {
	switch {
	case x.Op == And || x.Op == Or:
		return a.logic(x)
	case x.Op.IsComparison():
		l, err := a.expr(x.L)
		if err != nil {
			return nil, err
		}
		r, err := a.expr(x.R)
		if err != nil {
			return nil, err
		}
		return a.compare(x.Op, l, r, x.OpPos)
	case x.Op == Concat:
		return a.concat(x)
	}
	return a.arithmetic(x)
}

func (a *analyzer) logic(x *Binary) (*texpr, error) {
	l, err := a.expr(x.L)
	if err != nil {
		return nil, err
	}
	r, err := a.expr(x.R)
	if err != nil {
		return nil, err
	}
	if err := wantBoolean(l, x.Op.String()); err != nil {
		return nil, err
	}
	if err := wantBoolean(r, x.Op.String()); err != nil {
		return nil, err
	}
	out := &texpr{typ: TypeBoolean, pos: l.pos, eval: andEval(l.eval, r.eval)}
	if x.Op == Or {
		out.eval = orEval(l.eval, r.eval)
	}
	return fold(out, l, r), nil
}

// andEval is AND in three-valued logic: FALSE if either side is, else
// NULL if either side is, else TRUE.
func andEval(lev, rev Eval) Eval {
	return func(e *Env) Value {
		u := lev(e)
		if !u.Null && u.I == 0 {
			return Value{}
		}
		v := rev(e)
		if !v.Null && v.I == 0 {
			return Value{}
		}
		if u.Null || v.Null {
			return Null
		}
		return Value{I: 1}
	}
}

// orEval is OR in three-valued logic.
func orEval(lev, rev Eval) Eval {
	return func(e *Env) Value {
		u := lev(e)
		if !u.Null && u.I != 0 {
			return Value{I: 1}
		}
		v := rev(e)
		if !v.Null && v.I != 0 {
			return Value{I: 1}
		}
		if u.Null || v.Null {
			return Null
		}
		return Value{}
	}
}

// notEval is NOT: NULL stays NULL.
func notEval(ev Eval) Eval {
	return func(e *Env) Value {
		r := ev(e)
		if r.Null {
			return Null
		}
		return Bool(r.I == 0)
	}
}

// both evaluates two operands, reporting false when either is NULL (the
// right one is not evaluated when the left one is NULL).
func both(e *Env, lev, rev Eval) (Value, Value, bool) {
	u := lev(e)
	if u.Null {
		return u, u, false
	}
	v := rev(e)
	return u, v, !v.Null
}

func (a *analyzer) concat(x *Binary) (*texpr, error) {
	l, err := a.expr(x.L)
	if err != nil {
		return nil, err
	}
	r, err := a.expr(x.R)
	if err != nil {
		return nil, err
	}
	lk, rk := l.typ.Kind, r.typ.Kind
	if lk != Varchar && rk != Varchar && lk != Unknown && rk != Unknown {
		return nil, errAt(x.OpPos, "|| joins text: one side must be VARCHAR (CAST the other), got %s and %s", l.typ, r.typ)
	}
	lev, err := a.textOf(l, x.L.Pos())
	if err != nil {
		return nil, err
	}
	rev, err := a.textOf(r, x.R.Pos())
	if err != nil {
		return nil, err
	}
	return fold(&texpr{typ: TypeVarchar, pos: l.pos, eval: func(e *Env) Value {
		u, v, ok := both(e, lev, rev)
		if !ok {
			return Null
		}
		start, b := e.Begin()
		b = append(b, u.B...)
		b = append(b, v.B...)
		return e.End(start, b)
	}}, l, r), nil
}

// textOf is x as VARCHAR, converting other kinds to their text form.
func (a *analyzer) textOf(x *texpr, p Pos) (Eval, error) {
	k := x.typ.Kind
	if k == Varchar || k == Unknown {
		return x.eval, nil
	}
	conv := castable(k, Varchar)
	if conv == nil {
		return nil, errAt(p, "%s has no text form", x.typ)
	}
	ev := x.eval
	return func(e *Env) Value {
		v := ev(e)
		if v.Null {
			return Null
		}
		r, _ := conv(e, v)
		return r
	}, nil
}

var (
	errFloatOverflow  = &EvalError{Msg: "value out of range: overflow"}
	errFloatUnderflow = &EvalError{Msg: "value out of range: underflow"}
	errTimeRange      = &EvalError{Msg: "timestamp out of range"}
)

func (a *analyzer) arithmetic(x *Binary) (*texpr, error) {
	l, err := a.expr(x.L)
	if err != nil {
		return nil, err
	}
	r, err := a.expr(x.R)
	if err != nil {
		return nil, err
	}
	lk, rk := l.typ.Kind, r.typ.Kind
	// Date and time arithmetic.
	switch {
	case (lk == Timestamp || lk == Date) && rk == Interval && (x.Op == Add || x.Op == Sub),
		lk == Interval && (rk == Timestamp || rk == Date) && x.Op == Add:
		if lk == Interval {
			l, r = r, l
		}
		if l, err = a.coerce(l, Timestamp, l.pos); err != nil {
			return nil, err
		}
		return fold(&texpr{typ: TypeTimestamp, pos: l.pos, eval: intOp(x.Op, l.eval, r.eval, math.MinInt64, math.MaxInt64, errTimeRange)}, l, r), nil
	case lk == Interval && rk == Interval && (x.Op == Add || x.Op == Sub):
		return fold(&texpr{typ: TypeInterval, pos: l.pos, eval: intOp(x.Op, l.eval, r.eval, math.MinInt64, math.MaxInt64, errTimeRange)}, l, r), nil
	case (lk == Timestamp || lk == Date) && (rk == Timestamp || rk == Date) && x.Op == Sub && !(lk == Date && rk == Date):
		l, r, _, err = a.pairOf(l, r, "subtract", x.OpPos)
		if err != nil {
			return nil, err
		}
		return fold(&texpr{typ: TypeInterval, pos: l.pos, eval: intOp(Sub, l.eval, r.eval, math.MinInt64, math.MaxInt64, errTimeRange)}, l, r), nil
	case lk == Date && rk == Date && x.Op == Sub:
		return fold(&texpr{typ: TypeInteger, pos: l.pos, eval: intOp(Sub, l.eval, r.eval, math.MinInt32, math.MaxInt32, ErrIntegerRange)}, l, r), nil
	case lk == Date && rk.IsInteger() && (x.Op == Add || x.Op == Sub):
		return fold(&texpr{typ: TypeDate, pos: l.pos, eval: intOp(x.Op, l.eval, r.eval, math.MinInt32, math.MaxInt32, errTimeRange)}, l, r), nil
	}
	if !(lk.IsNumeric() || lk == Unknown || (lk == Varchar && l.cnst != nil)) || !(rk.IsNumeric() || rk == Unknown || (rk == Varchar && r.cnst != nil)) || (lk == Varchar && rk == Varchar) {
		return nil, errAt(x.OpPos, "operator %s needs numbers, got %s and %s", x.Op, l.typ, r.typ)
	}
	l, r, k, err := a.pairOf(l, r, "combine", x.OpPos)
	if err != nil {
		return nil, err
	}
	if k == Varchar {
		k = Integer
	}
	out := &texpr{typ: ScalarType(k), pos: l.pos}
	switch k {
	case Integer:
		out.eval = intOp(x.Op, l.eval, r.eval, math.MinInt32, math.MaxInt32, ErrIntegerRange)
	case BigInt:
		out.eval = intOp(x.Op, l.eval, r.eval, math.MinInt64, math.MaxInt64, ErrBigIntRange)
	case Double:
		if x.Op == Mod {
			return nil, errAt(x.OpPos, "operator %% needs integers (PostgreSQL has no %% for DOUBLE); use MOD on integers or CAST")
		}
		out.eval = floatOp(x.Op, l.eval, r.eval)
	}
	return fold(out, l, r), nil
}

// intOp computes an integer operator, failing with rangeErr when the result
// leaves [lo, hi].
func intOp(op BinaryOp, lev, rev Eval, lo, hi int64, rangeErr *EvalError) Eval {
	check := func(e *Env, r int64, overflow bool) Value {
		if overflow || r < lo || r > hi {
			e.Fail(rangeErr)
			return Null
		}
		return Value{I: r}
	}
	operands := func(e *Env) (int64, int64, bool) {
		u, v, ok := both(e, lev, rev)
		return u.I, v.I, ok
	}
	switch op {
	case Add:
		return func(e *Env) Value {
			x, y, ok := operands(e)
			if !ok {
				return Null
			}
			s := x + y
			return check(e, s, (x > 0 && y > 0 && s < 0) || (x < 0 && y < 0 && s >= 0))
		}
	case Sub:
		return func(e *Env) Value {
			x, y, ok := operands(e)
			if !ok {
				return Null
			}
			s := x - y
			return check(e, s, (x >= 0 && y < 0 && s < 0) || (x < 0 && y > 0 && s >= 0))
		}
	case Mul:
		return func(e *Env) Value {
			x, y, ok := operands(e)
			if !ok {
				return Null
			}
			p := x * y
			return check(e, p, x != 0 && (p/x != y || (x == -1 && y == math.MinInt64)))
		}
	case Div:
		return func(e *Env) Value {
			x, y, ok := operands(e)
			if !ok {
				return Null
			}
			if y == 0 {
				e.Fail(ErrDivisionByZero)
				return Null
			}
			if y == -1 {
				return check(e, -x, x == math.MinInt64)
			}
			return Value{I: x / y}
		}
	}
	return func(e *Env) Value { // Mod
		x, y, ok := operands(e)
		if !ok {
			return Null
		}
		if y == 0 {
			e.Fail(ErrDivisionByZero)
			return Null
		}
		if y == -1 {
			return Value{}
		}
		return Value{I: x % y}
	}
}

// floatOp computes a DOUBLE operator with PostgreSQL's float8 checks.
func floatOp(op BinaryOp, lev, rev Eval) Eval {
	return func(e *Env) Value {
		u, v, ok := both(e, lev, rev)
		if !ok {
			return Null
		}
		x, y := u.F, v.F
		var r float64
		switch op {
		case Add:
			r = x + y
		case Sub:
			r = x - y
		case Mul:
			r = x * y
			if r == 0 && x != 0 && y != 0 {
				e.Fail(errFloatUnderflow)
				return Null
			}
		case Div:
			if y == 0 && !math.IsNaN(x) { // NaN / 0 is NaN in PostgreSQL
				e.Fail(ErrDivisionByZero)
				return Null
			}
			r = x / y
			if r == 0 && x != 0 && !math.IsInf(y, 0) {
				e.Fail(errFloatUnderflow)
				return Null
			}
		}
		if math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
			e.Fail(errFloatOverflow)
			return Null
		}
		return Value{F: r}
	}
}

func (a *analyzer) in(x *In) (*texpr, error) {
	v, err := a.expr(x.X)
	if err != nil {
		return nil, err
	}
	items := make([]*texpr, len(x.List))
	k := v.typ.Kind
	for i, it := range x.List {
		if items[i], err = a.expr(it); err != nil {
			return nil, err
		}
		ik := items[i].typ.Kind
		if ik == Varchar && items[i].cnst != nil && k != Varchar && k != Unknown {
			continue // a string literal takes the column's type
		}
		var ok bool
		if k, ok = unify(k, ik); !ok {
			return nil, errAt(it.Pos(), "IN list item %s is %s, but %s is %s", it, items[i].typ, x.X, v.typ)
		}
	}
	if k == Unknown {
		k = Varchar
	}
	if !comparable(k) {
		return nil, errAt(x.X.Pos(), "cannot compare values of type %s", v.typ)
	}
	if v, err = a.coerce(v, k, x.X.Pos()); err != nil {
		return nil, err
	}
	allConst := true
	evals := make([]Eval, len(items))
	var consts []Value
	hasNull := false
	for i := range items {
		if items[i], err = a.coerce(items[i], k, x.List[i].Pos()); err != nil {
			return nil, err
		}
		evals[i] = items[i].eval
		if c := items[i].cnst; c == nil {
			allConst = false
		} else if c.Null {
			hasNull = true
		} else {
			consts = append(consts, *c)
		}
	}
	cf := compareFunc(k)
	ev, not := v.eval, x.Not
	result := func(found, sawNull bool) Value {
		switch {
		case found:
			return Bool(!not)
		case sawNull:
			return Null
		}
		return Bool(not)
	}
	out := &texpr{typ: TypeBoolean, pos: v.pos}
	if allConst {
		out.eval = func(e *Env) Value {
			u := ev(e)
			if u.Null {
				return Null
			}
			for _, c := range consts {
				if cf(u, c) == 0 {
					return result(true, false)
				}
			}
			return result(false, hasNull)
		}
	} else {
		out.eval = func(e *Env) Value {
			u := ev(e)
			if u.Null {
				return Null
			}
			sawNull := false
			for _, it := range evals {
				c := it(e)
				if c.Null {
					sawNull = true
				} else if cf(u, c) == 0 {
					return result(true, false)
				}
			}
			return result(false, sawNull)
		}
	}
	return fold(out, append(items, v)...), nil
}

func (a *analyzer) between(x *Between) (*texpr, error) {
	v, err := a.expr(x.X)
	if err != nil {
		return nil, err
	}
	lo, err := a.expr(x.Lo)
	if err != nil {
		return nil, err
	}
	hi, err := a.expr(x.Hi)
	if err != nil {
		return nil, err
	}
	ge, err := a.compare(Ge, v, lo, x.Lo.Pos())
	if err != nil {
		return nil, err
	}
	le, err := a.compare(Le, v, hi, x.Hi.Pos())
	if err != nil {
		return nil, err
	}
	ev := andEval(ge.eval, le.eval)
	if x.Not {
		ev = notEval(ev)
	}
	return fold(&texpr{typ: TypeBoolean, pos: v.pos, eval: ev}, v, lo, hi), nil
}

func (a *analyzer) distinct(x *IsDistinctFrom) (*texpr, error) {
	l, r, k, err := a.pair(x.X, x.Y, "compare", x.Y.Pos())
	if err != nil {
		return nil, err
	}
	if !comparable(k) {
		return nil, errAt(x.X.Pos(), "cannot compare values of type %s", l.typ)
	}
	cf := compareFunc(k)
	lev, rev, not := l.eval, r.eval, x.Not
	return fold(&texpr{typ: TypeBoolean, pos: l.pos, eval: func(e *Env) Value {
		u, v := lev(e), rev(e)
		var distinct bool
		switch {
		case u.Null || v.Null:
			distinct = u.Null != v.Null
		default:
			distinct = cf(u, v) != 0
		}
		return Bool(distinct != not)
	}}, l, r), nil
}

func (a *analyzer) like(x *Like) (*texpr, error) {
	v, err := a.expr(x.X)
	if err != nil {
		return nil, err
	}
	p, err := a.expr(x.Pattern)
	if err != nil {
		return nil, err
	}
	for _, o := range []*texpr{v, p} {
		if o.typ.Kind != Varchar && o.typ.Kind != Unknown {
			return nil, errAt(o.pos, "LIKE needs VARCHAR operands, got %s", o.typ)
		}
	}
	esc := int32('\\')
	if x.Escape != nil {
		ex, err := a.expr(x.Escape)
		if err != nil {
			return nil, err
		}
		if ex.cnst == nil || ex.typ.Kind != Varchar {
			return nil, errAt(x.Escape.Pos(), "ESCAPE needs a constant string of one character")
		}
		runes := []rune(string(ex.cnst.B))
		switch len(runes) {
		case 0:
			esc = -1
		case 1:
			esc = runes[0]
		default:
			return nil, errAt(x.Escape.Pos(), "invalid escape string %s: it must be empty or one character", QuoteString(string(ex.cnst.B)))
		}
	}
	if p.cnst != nil && !p.cnst.Null {
		if err := checkLikePattern(p.cnst.B, esc); err != nil {
			return nil, errAt(x.Pattern.Pos(), "%v", err)
		}
	}
	vev, pev, fold_, not := v.eval, p.eval, x.ILike, x.Not
	return fold(&texpr{typ: TypeBoolean, pos: v.pos, eval: func(e *Env) Value {
		s := vev(e)
		if s.Null {
			return Null
		}
		pat := pev(e)
		if pat.Null {
			return Null
		}
		m, err := likeMatch(s.B, pat.B, esc, fold_)
		if err != nil {
			e.Fail(err)
			return Null
		}
		return Bool(m != not)
	}}, v, p), nil
}

func (a *analyzer) caseExpr(x *Case) (*texpr, error) {
	var operand *texpr
	var err error
	if x.Operand != nil {
		if operand, err = a.expr(x.Operand); err != nil {
			return nil, err
		}
	}
	conds := make([]Eval, len(x.Whens))
	results := make([]*texpr, 0, len(x.Whens)+1)
	k := Unknown
	for i, w := range x.Whens {
		c, err := a.expr(w.Cond)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			if c, err = a.compare(Eq, operand, c, w.Cond.Pos()); err != nil {
				return nil, err
			}
		} else if err := wantBoolean(c, "WHEN"); err != nil {
			return nil, err
		}
		conds[i] = c.eval
		r, err := a.expr(w.Result)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	if x.Else != nil {
		r, err := a.expr(x.Else)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	for _, r := range results {
		if r.typ.Kind == Varchar && r.cnst != nil && k != Varchar && k != Unknown {
			continue
		}
		nk, ok := unify(k, r.typ.Kind)
		if !ok {
			return nil, errAt(r.pos, "CASE results must have one type: this one is %s, an earlier one %s", r.typ, ScalarType(k))
		}
		k = nk
	}
	typ := ScalarType(k)
	evals := make([]Eval, len(results))
	for i, r := range results {
		if r.typ.Kind == k {
			typ = r.typ // keep a container type
		}
		if r, err = a.coerce(r, k, r.pos); err != nil {
			return nil, err
		}
		evals[i] = r.eval
	}
	var elseEval Eval
	if x.Else != nil {
		elseEval = evals[len(evals)-1]
	}
	return &texpr{typ: typ, pos: x.Start, eval: func(e *Env) Value {
		for i, c := range conds {
			if v := c(e); !v.Null && v.I != 0 {
				return evals[i](e)
			}
		}
		if elseEval != nil {
			return elseEval(e)
		}
		return Null
	}}, nil
}

func (a *analyzer) cast(x *Cast) (*texpr, error) {
	v, err := a.expr(x.X)
	if err != nil {
		return nil, err
	}
	to, n, err := castTarget(x.Type)
	if err != nil {
		return nil, errAt(x.Type.Start, "%v", err)
	}
	conv := castable(v.typ.Kind, to)
	if conv == nil {
		return nil, errAt(x.Start, "cannot cast %s to %s", v.typ, x.Type)
	}
	ev, try := v.eval, x.Try
	out := &texpr{typ: ScalarType(to), pos: x.Start, eval: func(e *Env) Value {
		u := ev(e)
		if u.Null {
			return Null
		}
		r, err := conv(e, u)
		if err != nil {
			if !try {
				e.Fail(err)
			}
			return Null
		}
		if n > 0 {
			r.B = truncateChars(r.B, n)
		}
		return r
	}}
	if to == v.typ.Kind {
		out.typ = v.typ
	}
	return fold(out, v), nil
}

func (a *analyzer) call(x *FuncCall) (*texpr, error) {
	name := strings.ToUpper(x.Name.Name)
	switch {
	case aggFuncs[name] != 0:
		if a.agg != nil && a.agg.inAgg {
			return nil, errAt(x.Pos(), "aggregate calls cannot be nested")
		}
		return nil, errAt(x.Pos(), "aggregate %s is not allowed here: aggregates belong in the select list or HAVING of a GROUP BY with a window", name)
	case windowFuncs[name] != 0:
		return nil, errAt(x.Pos(), "%s is a window: it belongs in GROUP BY", name)
	case name == "WINDOW_START" || name == "WINDOW_END":
		return nil, errAt(x.Pos(), "%s is only available in the select list or HAVING of a GROUP BY with a window", name)
	}
	if x.Star || x.Distinct {
		return nil, errAt(x.Pos(), "%s is not an aggregate: * and DISTINCT are not allowed in its arguments", name)
	}
	args := make([]*texpr, len(x.Args))
	for i, arg := range x.Args {
		var err error
		if args[i], err = a.expr(arg); err != nil {
			return nil, err
		}
	}
	switch name {
	case "COALESCE":
		return a.coalesce(x, args)
	case "NULLIF":
		return a.nullif(x, args)
	}
	fn := LookupFunction(name)
	if fn == nil {
		names := []string{"COALESCE", "NULLIF"}
		for n := range functions {
			names = append(names, n)
		}
		for n := range aggFuncs {
			names = append(names, n)
		}
		return nil, errAt(x.Pos(), "unknown function %s%s", name, didYouMean(name, names))
	}
	sig := bestSignature(fn, args)
	if sig == nil {
		got := make([]string, len(args))
		for i, arg := range args {
			got[i] = arg.typ.String()
		}
		return nil, errAt(x.Pos(), "no %s(%s); %s takes %s", name, strings.Join(got, ", "), name, signatures(fn))
	}
	built := make([]Arg, len(args))
	for i, arg := range args {
		k := sig.Args[min(i, len(sig.Args)-1)]
		c, err := a.coerce(arg, k, x.Args[i].Pos())
		if err != nil {
			return nil, err
		}
		args[i] = c
		built[i] = Arg{Eval: c.eval, Type: c.typ, Const: c.cnst}
	}
	ev, err := sig.Build(built)
	if err != nil {
		return nil, errAt(x.Pos(), "%s: %v", name, err)
	}
	return fold(&texpr{typ: ScalarType(sig.Result), pos: x.Pos(), eval: ev}, args...), nil
}

// bestSignature picks the overload needing the fewest implicit
// conversions, the first on ties; nil when none fits.
func bestSignature(fn *Function, args []*texpr) *Signature {
	var best *Signature
	bestCost := -1
	for i := range fn.Sigs {
		s := &fn.Sigs[i]
		if len(args) < len(s.Args) || (!s.Variadic && len(args) != len(s.Args)) {
			continue
		}
		cost := 0
		for j, arg := range args {
			c := coerceCost(arg, s.Args[min(j, len(s.Args)-1)])
			if c < 0 {
				cost = -1
				break
			}
			cost += c
		}
		if cost >= 0 && (best == nil || cost < bestCost) {
			best, bestCost = s, cost
		}
	}
	return best
}

func signatures(fn *Function) string {
	var parts []string
	for _, s := range fn.Sigs {
		args := make([]string, len(s.Args))
		for i, k := range s.Args {
			args[i] = k.String()
			if k == AnyKind {
				args[i] = "ANY"
			}
		}
		if s.Variadic {
			args[len(args)-1] += ", ..."
		}
		parts = append(parts, "("+strings.Join(args, ", ")+")")
	}
	return strings.Join(parts, " or ")
}

func (a *analyzer) unifyAll(args []*texpr, what string) (Kind, error) {
	k := Unknown
	for _, r := range args {
		if r.typ.Kind == Varchar && r.cnst != nil && k != Varchar && k != Unknown {
			continue
		}
		nk, ok := unify(k, r.typ.Kind)
		if !ok {
			return 0, errAt(r.pos, "the arguments of %s must have one type: this one is %s, an earlier one %s", what, r.typ, ScalarType(k))
		}
		k = nk
	}
	return k, nil
}

func (a *analyzer) coalesce(x *FuncCall, args []*texpr) (*texpr, error) {
	if len(args) == 0 {
		return nil, errAt(x.Pos(), "COALESCE needs at least one argument")
	}
	k, err := a.unifyAll(args, "COALESCE")
	if err != nil {
		return nil, err
	}
	evals := make([]Eval, len(args))
	typ := ScalarType(k)
	for i, arg := range args {
		if arg.typ.Kind == k {
			typ = arg.typ
		}
		c, err := a.coerce(arg, k, arg.pos)
		if err != nil {
			return nil, err
		}
		evals[i] = c.eval
	}
	return fold(&texpr{typ: typ, pos: x.Pos(), eval: func(e *Env) Value {
		for _, ev := range evals {
			if v := ev(e); !v.Null {
				return v
			}
		}
		return Null
	}}, args...), nil
}

func (a *analyzer) nullif(x *FuncCall, args []*texpr) (*texpr, error) {
	if len(args) != 2 {
		return nil, errAt(x.Pos(), "NULLIF takes two arguments")
	}
	l, r, k, err := a.pairOf(args[0], args[1], "compare", x.Pos())
	if err != nil {
		return nil, err
	}
	if !comparable(k) {
		return nil, errAt(x.Pos(), "cannot compare values of type %s", l.typ)
	}
	cf := compareFunc(k)
	lev, rev := l.eval, r.eval
	return fold(&texpr{typ: l.typ, pos: x.Pos(), eval: func(e *Env) Value {
		u := lev(e)
		if u.Null {
			return Null
		}
		if v := rev(e); !v.Null && cf(u, v) == 0 {
			return Null
		}
		return u
	}}, l, r), nil
}

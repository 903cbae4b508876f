package sql

import (
	"bytes"
	"strconv"
	"strings"
)

// texpr is an analysed expression: its type, its compiled evaluator, and
// its value when it is constant.
type texpr struct {
	typ  *Type
	eval Eval
	cnst *Value
	pos  Pos
}

func constExpr(t *Type, v Value, p Pos) *texpr {
	c := v
	return &texpr{typ: t, eval: func(*Env) Value { return c }, cnst: &c, pos: p}
}

// fold evaluates an expression whose operands are all constant once, at
// analysis. An expression that fails (1/0) is left to fail per record, as
// it is only an error if a record reaches it.
func fold(x *texpr, operands ...*texpr) *texpr {
	for _, o := range operands {
		if o.cnst == nil {
			return x
		}
	}
	env := NewEnv()
	v := x.eval(env)
	if env.Err() != nil {
		return x
	}
	if v.B != nil {
		v.B = bytes.Clone(v.B)
	}
	return constExpr(x.typ, v, x.pos)
}

func (a *analyzer) expr(e Expr) (*texpr, error) {
	if a.agg != nil && !a.agg.inAgg {
		if x, ok, err := a.postAggregate(e); ok || err != nil {
			return x, err
		}
	}
	switch x := e.(type) {
	case *IntLit:
		n, err := strconv.ParseInt(x.Text, 10, 64)
		if err != nil {
			// PostgreSQL reads integers beyond bigint as numeric.
			f, ferr := strconv.ParseFloat(x.Text, 64)
			if ferr != nil {
				return nil, errAt(x.Start, "number %s is out of range", x.Text)
			}
			return constExpr(TypeDouble, Value{F: f}, x.Start), nil
		}
		if n >= -1<<31 && n < 1<<31 {
			return constExpr(TypeInteger, Value{I: n}, x.Start), nil
		}
		return constExpr(TypeBigInt, Value{I: n}, x.Start), nil
	case *FloatLit:
		f, err := strconv.ParseFloat(x.Text, 64)
		if err != nil {
			return nil, errAt(x.Start, "number %s is out of range", x.Text)
		}
		return constExpr(TypeDouble, Value{F: f}, x.Start), nil
	case *StringLit:
		return constExpr(TypeVarchar, Value{B: []byte(x.Value)}, x.Start), nil
	case *BoolLit:
		return constExpr(TypeBoolean, Bool(x.Value), x.Start), nil
	case *NullLit:
		return constExpr(TypeUnknown, Null, x.Start), nil
	case *IntervalLit:
		unit := map[IntervalUnit]int64{Second: microsPerSecond, Minute: 60 * microsPerSecond, Hour: 3600 * microsPerSecond, Day: microsPerDay}[x.Unit]
		if x.Value > (1<<62)/unit {
			return nil, errAt(x.Start, "interval out of range")
		}
		return constExpr(TypeInterval, Value{I: x.Value * unit}, x.Start), nil
	case *TimestampLit:
		us, ok := ParseTimestamp([]byte(x.Value))
		if !ok {
			return nil, errAt(x.Start, "invalid timestamp %s: expected 'YYYY-MM-DD HH:MM:SS[.ffffff][Z|+hh:mm]'", QuoteString(x.Value))
		}
		return constExpr(TypeTimestamp, Value{I: us}, x.Start), nil
	case *Column:
		if len(x.Parts) == 1 && !x.Parts[0].Quoted {
			switch strings.ToUpper(x.Parts[0].Name) {
			case "WINDOW_START", "WINDOW_END":
				if _, _, err := a.resolve(x); err != nil {
					return nil, errAt(x.Pos(), "%s is only available in the select list or HAVING of a GROUP BY with a window", strings.ToUpper(x.Parts[0].Name))
				}
			}
		}
		return a.columnRef(x)
	case *FieldAccess:
		return a.fieldAccess(x)
	case *Index:
		return a.index(x)
	case *Unary:
		return a.unary(x)
	case *Binary:
		return a.binary(x)
	case *In:
		return a.in(x)
	case *Between:
		return a.between(x)
	case *Like:
		return a.like(x)
	case *IsNull:
		v, err := a.expr(x.X)
		if err != nil {
			return nil, err
		}
		ev, not := v.eval, x.Not
		return fold(&texpr{typ: TypeBoolean, pos: x.Pos(), eval: func(e *Env) Value {
			return Bool(ev(e).Null != not)
		}}, v), nil
	case *IsDistinctFrom:
		return a.distinct(x)
	case *Case:
		return a.caseExpr(x)
	case *Cast:
		return a.cast(x)
	case *FuncCall:
		return a.call(x)
	}
	return nil, errAt(e.Pos(), "unsupported expression %s", e)
}

// postAggregate resolves, in the select list or HAVING of an aggregation,
// the expressions that read the group rather than the row: group keys,
// aggregate calls, WINDOW_START and WINDOW_END. ok is false for anything
// else, which is then analysed as usual (its parts come back here).
func (a *analyzer) postAggregate(e Expr) (*texpr, bool, error) {
	sc := a.agg
	slot := func(i int, t *Type) *texpr {
		return &texpr{typ: t, pos: e.Pos(), eval: func(env *Env) Value { return env.Slots[i] }}
	}
	switch x := e.(type) {
	case *IntLit, *FloatLit, *StringLit, *BoolLit, *NullLit, *IntervalLit, *TimestampLit:
		return nil, false, nil
	case *FuncCall:
		name := strings.ToUpper(x.Name.Name)
		if fn := aggFuncs[name]; fn != 0 {
			x, err := a.aggregate(fn, x)
			return x, true, err
		}
		if name == "WINDOW_START" || name == "WINDOW_END" {
			if len(x.Args) > 0 || x.Star || x.Distinct {
				return nil, true, errAt(x.Pos(), "%s takes no arguments", name)
			}
			return windowSlot(name == "WINDOW_END", e.Pos()), true, nil
		}
	case *Column:
		if len(x.Parts) == 1 && !x.Parts[0].Quoted {
			if _, _, err := a.resolve(x); err != nil {
				switch strings.ToUpper(x.Parts[0].Name) {
				case "WINDOW_START":
					return windowSlot(false, e.Pos()), true, nil
				case "WINDOW_END":
					return windowSlot(true, e.Pos()), true, nil
				}
			}
		}
	}
	key := a.keyText(e)
	for i, k := range sc.keys {
		if k == key {
			return slot(i, sc.out.KeyTypes[i]), true, nil
		}
	}
	if c, ok := e.(*Column); ok {
		if _, _, err := a.resolve(c); err != nil {
			return nil, true, err
		}
		return nil, true, errAt(c.Pos(), "column %s must appear in GROUP BY or be used in an aggregate function", c)
	}
	return nil, false, nil
}

// windowSlot reads WINDOW_START or WINDOW_END, the last two slots (their
// index is not known until every aggregate of the query has been seen).
func windowSlot(end bool, p Pos) *texpr {
	back := 2
	if end {
		back = 1
	}
	return &texpr{typ: TypeTimestamp, pos: p, eval: func(env *Env) Value { return env.Slots[len(env.Slots)-back] }}
}

func (a *analyzer) aggregate(fn AggFunc, call *FuncCall) (*texpr, error) {
	sc := a.agg
	text := call.String()
	slotOf := func(i int) *texpr {
		at := len(sc.out.Keys) + i
		t := sc.out.Aggregates[i].Type
		return &texpr{typ: t, pos: call.Pos(), eval: func(env *Env) Value { return env.Slots[at] }}
	}
	if i, ok := sc.aggText[text]; ok {
		return slotOf(i), nil
	}
	ag := Aggregate{Func: fn, Distinct: call.Distinct, Text: text}
	switch {
	case call.Star:
		if fn != Count {
			return nil, errAt(call.Pos(), "%s(*) is not an aggregate; only COUNT(*) is", fn)
		}
		ag.Type = TypeBigInt
	case len(call.Args) != 1:
		return nil, errAt(call.Pos(), "%s takes one argument", fn)
	default:
		sc.inAgg = true
		arg, err := a.expr(call.Args[0])
		sc.inAgg = false
		if err != nil {
			return nil, err
		}
		if containsAggregate(call.Args[0]) {
			return nil, errAt(firstAggregate(call.Args[0]).Pos(), "aggregate calls cannot be nested")
		}
		ag.Arg, ag.ArgType = arg.eval, arg.typ
		k := arg.typ.Kind
		switch k {
		case Array, Map, Record:
			return nil, errAt(call.Args[0].Pos(), "%s cannot aggregate %s, a %s", fn, call.Args[0], arg.typ)
		}
		switch fn {
		case Count, ApproxCountDistinct:
			ag.Type = TypeBigInt
		case Sum:
			switch {
			case k.IsInteger():
				ag.Type = TypeBigInt
			case k == Double, k == Interval:
				ag.Type = ScalarType(k)
			default:
				return nil, errAt(call.Args[0].Pos(), "SUM needs a number; %s is %s", call.Args[0], arg.typ)
			}
		case Avg:
			if !k.IsNumeric() {
				return nil, errAt(call.Args[0].Pos(), "AVG needs a number; %s is %s", call.Args[0], arg.typ)
			}
			ag.Type = TypeDouble
		case Min, Max, FirstValue, LastValue:
			if k == Unknown {
				return nil, errAt(call.Args[0].Pos(), "%s of NULL has no type", fn)
			}
			ag.Type = ScalarType(k)
			if fn == FirstValue || fn == LastValue {
				ag.Type = arg.typ
			}
		}
		if call.Distinct && (fn == Min || fn == Max || fn == FirstValue || fn == LastValue || fn == ApproxCountDistinct) {
			// DISTINCT changes nothing for these; accept it, as PostgreSQL
			// does for MIN and MAX.
			ag.Distinct = false
		}
	}
	sc.out.Aggregates = append(sc.out.Aggregates, ag)
	sc.aggText[text] = len(sc.out.Aggregates) - 1
	return slotOf(len(sc.out.Aggregates) - 1), nil
}

func (a *analyzer) fieldAccess(x *FieldAccess) (*texpr, error) {
	base, err := a.expr(x.X)
	if err != nil {
		return nil, err
	}
	if base.typ.Kind != Record {
		return nil, errAt(x.Name.Start, "%s is %s, which has no fields", x.X, base.typ)
	}
	f, err := fieldNamed(base.typ, x.Name)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, errAt(x.Name.Start, "%s has no field %s%s", x.X, x.Name.Name, didYouMean(x.Name.Name, fieldNames(base.typ)))
	}
	idx := 0
	for i := range base.typ.Fields {
		if &base.typ.Fields[i] == f {
			idx = i
		}
	}
	rd, err := readerOf(f.Type.Avro, 0)
	if err != nil {
		return nil, errAt(x.Name.Start, "field %s: %v", f.Name, err)
	}
	slot := a.slots
	a.slots++
	bev, conv := base.eval, rd.conv
	return &texpr{typ: rd.typ, pos: x.Pos(), eval: func(e *Env) Value {
		v := bev(e)
		if v.Null || v.Nested == nil {
			return Null
		}
		row := e.nestedRow(slot)
		if err := v.Nested.Decode(v.B, row); err != nil {
			e.Fail(err)
			return Null
		}
		return conv(e, &row.Values[idx])
	}}, nil
}

func (a *analyzer) index(x *Index) (*texpr, error) {
	base, err := a.expr(x.X)
	if err != nil {
		return nil, err
	}
	ix, err := a.expr(x.Index)
	if err != nil {
		return nil, err
	}
	var want Kind
	switch base.typ.Kind {
	case Array:
		want = BigInt
	case Map:
		want = Varchar
	default:
		return nil, errAt(x.Index.Pos(), "%s is %s; only arrays (by 1-based position) and maps (by key) can be indexed", x.X, base.typ)
	}
	ix, err = a.coerce(ix, want, x.Index.Pos())
	if err != nil {
		return nil, err
	}
	elem := base.typ.Elem
	rd, err := readerOf(elem.Avro, 0)
	if err != nil {
		return nil, errAt(x.Pos(), "%s: %v", x.X, err)
	}
	slot := a.slots
	a.slots++
	bev, iev, conv, isRecord := base.eval, ix.eval, rd.conv, elem.Kind == Record
	isMap := base.typ.Kind == Map
	return &texpr{typ: rd.typ, pos: x.Pos(), eval: func(e *Env) Value {
		v := bev(e)
		if v.Null || v.Nested == nil {
			return Null
		}
		k := iev(e)
		if k.Null {
			return Null
		}
		dv := v.decodeValue(isMap)
		it := dv.Items()
		row := e.nestedRow(slot)
		for n := int64(1); it.Next(row); n++ {
			if isMap && !bytes.Equal(it.Key(), k.B) || !isMap && n != k.I {
				continue
			}
			if isRecord {
				return Value{B: it.Raw(), Nested: v.Nested}
			}
			return conv(e, &row.Values[0])
		}
		if err := it.Err(); err != nil {
			e.Fail(err)
		}
		return Null
	}}, nil
}

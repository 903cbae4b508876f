package sql

import (
	"encoding/hex"
	"math"

	"github.com/sluicehq/sluice/internal/decode"
)

// reader is how values of one reader Avro type become SQL values.
type reader struct {
	typ  *Type
	conv func(e *Env, v *decode.Value) Value
}

// readerOf maps a reader Avro type to its SQL type and the conversion of its
// decoded values. A union of several non-null types has no SQL type.
func readerOf(dt *decode.Type, depth int) (reader, error) {
	if depth > 32 {
		return reader{}, errUnsupported("a schema nested more than 32 levels deep")
	}
	plain := func(k Kind) reader {
		return reader{typ: &Type{Kind: k, Avro: dt}, conv: convI}
	}
	switch dt.Kind {
	case decode.KindNull:
		return reader{typ: &Type{Kind: Unknown, Avro: dt}, conv: func(*Env, *decode.Value) Value { return Null }}, nil
	case decode.KindBoolean:
		return plain(Boolean), nil
	case decode.KindInt:
		switch dt.Logical {
		case decode.LogicalDate:
			return plain(Date), nil
		case decode.LogicalTimeMillis:
			return reader{typ: &Type{Kind: Time, Avro: dt}, conv: convScale(1000)}, nil
		}
		return plain(Integer), nil
	case decode.KindLong:
		switch dt.Logical {
		case decode.LogicalTimeMicros:
			return plain(Time), nil
		case decode.LogicalTimestampMillis, decode.LogicalLocalTimestampMillis:
			return reader{typ: &Type{Kind: Timestamp, Avro: dt}, conv: convScale(1000)}, nil
		case decode.LogicalTimestampMicros, decode.LogicalLocalTimestampMicros:
			return plain(Timestamp), nil
		case decode.LogicalTimestampNanos, decode.LogicalLocalTimestampNanos:
			return reader{typ: &Type{Kind: Timestamp, Avro: dt}, conv: convNanos}, nil
		}
		return plain(BigInt), nil
	case decode.KindFloat, decode.KindDouble:
		return reader{typ: &Type{Kind: Double, Avro: dt}, conv: convF}, nil
	case decode.KindString, decode.KindEnum:
		return reader{typ: &Type{Kind: Varchar, Avro: dt}, conv: convB}, nil
	case decode.KindBytes, decode.KindFixed:
		switch dt.Logical {
		case decode.LogicalDecimal:
			scale := math.Pow10(dt.Scale)
			return reader{typ: &Type{Kind: Double, Avro: dt}, conv: func(_ *Env, v *decode.Value) Value {
				if v.Kind == decode.KindNull {
					return Null
				}
				return Value{F: decode.DecimalFloat(v.B) / scale}
			}}, nil
		case decode.LogicalUUID:
			return reader{typ: &Type{Kind: Varchar, Avro: dt}, conv: convUUID}, nil
		}
		return reader{typ: &Type{Kind: Bytes, Avro: dt}, conv: convB}, nil
	case decode.KindArray, decode.KindMap:
		elem := dt.Items
		k := Array
		if dt.Kind == decode.KindMap {
			elem, k = dt.Values, Map
		}
		er, err := readerOf(elem, depth+1)
		if err != nil {
			return reader{}, err
		}
		return reader{typ: &Type{Kind: k, Elem: er.typ, Avro: dt}, conv: convNested}, nil
	case decode.KindRecord:
		t := &Type{Kind: Record, Avro: dt, Fields: make([]Field, len(dt.Fields))}
		for i, f := range dt.Fields {
			fr, err := readerOf(f.Type, depth+1)
			if err != nil {
				// A field the query cannot type is still part of the
				// record; it is an error only when a query names it.
				fr.typ = &Type{Kind: Unknown, Avro: f.Type}
			}
			t.Fields[i] = Field{Name: f.Name, Type: fr.typ}
		}
		return reader{typ: t, conv: convNested}, nil
	case decode.KindUnion:
		return reader{}, errUnsupported("a union of several non-null types")
	}
	return reader{}, errUnsupported("Avro type " + dt.Kind.String())
}

type unsupportedError string

func (e unsupportedError) Error() string { return string(e) + " is not supported in SQL" }

func errUnsupported(what string) error { return unsupportedError(what) }

func convI(_ *Env, v *decode.Value) Value {
	if v.Kind == decode.KindNull {
		return Null
	}
	return Value{I: v.I}
}

func convF(_ *Env, v *decode.Value) Value {
	if v.Kind == decode.KindNull {
		return Null
	}
	return Value{F: v.F}
}

func convB(_ *Env, v *decode.Value) Value {
	if v.Kind == decode.KindNull {
		return Null
	}
	return Value{B: v.B}
}

func convNested(_ *Env, v *decode.Value) Value {
	if v.Kind == decode.KindNull {
		return Null
	}
	return Value{B: v.B, Nested: v.Nested}
}

func convNanos(_ *Env, v *decode.Value) Value {
	if v.Kind == decode.KindNull {
		return Null
	}
	return Value{I: floorDiv(v.I, 1000)}
}

func convScale(m int64) func(*Env, *decode.Value) Value {
	return func(e *Env, v *decode.Value) Value {
		if v.Kind == decode.KindNull {
			return Null
		}
		r := v.I * m
		if r/m != v.I {
			e.Fail(EvalErrorf("timestamp out of range"))
			return Null
		}
		return Value{I: r}
	}
}

// convUUID renders a fixed(16) UUID in its text form; a string UUID is
// already text.
func convUUID(e *Env, v *decode.Value) Value {
	if v.Kind == decode.KindNull {
		return Null
	}
	if v.Kind != decode.KindFixed || len(v.B) != 16 {
		return Value{B: v.B}
	}
	start, b := e.Begin()
	var s [36]byte
	hex.Encode(s[0:8], v.B[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], v.B[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], v.B[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], v.B[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], v.B[10:16])
	b = append(b, s[:]...)
	return e.End(start, b)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

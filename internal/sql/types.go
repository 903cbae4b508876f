package sql

import (
	"strings"

	"github.com/sluicehq/sluice/internal/decode"
)

// Kind is the SQL type of an expression. Every type admits NULL.
type Kind uint8

// The SQL kinds, with where a [Value] keeps each one.
const (
	// Unknown is the type of a bare NULL literal until context gives it one.
	Unknown   Kind = iota
	Boolean        // I: 0 or 1
	Integer        // I, within int32 (Avro int)
	BigInt         // I (Avro long)
	Double         // F (Avro float and double; decimals are read as Double)
	Varchar        // B: UTF-8 (Avro string, enum symbol, uuid)
	Bytes          // B (Avro bytes and fixed)
	Timestamp      // I: microseconds since the Unix epoch, UTC
	Date           // I: days since the Unix epoch
	Time           // I: microseconds after midnight
	Interval       // I: microseconds
	Array          // B: the Avro encoding, Nested its decoder; Type.Elem
	Map            // B and Nested as for Array; keys are Varchar, Type.Elem the values
	Record         // B and Nested as for Array; Type.Fields
)

var kindNames = [...]string{
	Unknown: "UNKNOWN", Boolean: "BOOLEAN", Integer: "INTEGER", BigInt: "BIGINT",
	Double: "DOUBLE", Varchar: "VARCHAR", Bytes: "BYTES", Timestamp: "TIMESTAMP",
	Date: "DATE", Time: "TIME", Interval: "INTERVAL", Array: "ARRAY", Map: "MAP",
	Record: "RECORD",
}

// String is the SQL name of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "KIND?"
}

// IsNumeric reports whether k is Integer, BigInt or Double.
func (k Kind) IsNumeric() bool { return k == Integer || k == BigInt || k == Double }

// IsInteger reports whether k is Integer or BigInt.
func (k Kind) IsInteger() bool { return k == Integer || k == BigInt }

// Type is the SQL type of an expression or column. Types are immutable and
// shared; scalar types are the package-level values (TypeBoolean, ...).
type Type struct {
	Kind   Kind
	Elem   *Type   // Array items, Map values
	Fields []Field // Record
	// Avro is the reader Avro type a column was read from (nil for computed
	// values); encoders use it to reproduce enums, logical types and names.
	Avro *decode.Type
}

// Field is one field of a Record type.
type Field struct {
	Name string
	Type *Type
}

// The scalar types.
var (
	TypeUnknown   = &Type{Kind: Unknown}
	TypeBoolean   = &Type{Kind: Boolean}
	TypeInteger   = &Type{Kind: Integer}
	TypeBigInt    = &Type{Kind: BigInt}
	TypeDouble    = &Type{Kind: Double}
	TypeVarchar   = &Type{Kind: Varchar}
	TypeBytes     = &Type{Kind: Bytes}
	TypeTimestamp = &Type{Kind: Timestamp}
	TypeDate      = &Type{Kind: Date}
	TypeTime      = &Type{Kind: Time}
	TypeInterval  = &Type{Kind: Interval}
)

// ScalarType returns the shared Type of a scalar kind.
func ScalarType(k Kind) *Type {
	switch k {
	case Boolean:
		return TypeBoolean
	case Integer:
		return TypeInteger
	case BigInt:
		return TypeBigInt
	case Double:
		return TypeDouble
	case Varchar:
		return TypeVarchar
	case Bytes:
		return TypeBytes
	case Timestamp:
		return TypeTimestamp
	case Date:
		return TypeDate
	case Time:
		return TypeTime
	case Interval:
		return TypeInterval
	}
	return TypeUnknown
}

// String renders the type, e.g. ARRAY<VARCHAR> or RECORD<a BIGINT, b VARCHAR>.
func (t *Type) String() string {
	var b strings.Builder
	t.write(&b, 0)
	return b.String()
}

func (t *Type) write(b *strings.Builder, depth int) {
	if depth > 8 { // recursive schemas
		b.WriteString("...")
		return
	}
	switch t.Kind {
	case Array:
		b.WriteString("ARRAY<")
		t.Elem.write(b, depth+1)
		b.WriteByte('>')
	case Map:
		b.WriteString("MAP<VARCHAR, ")
		t.Elem.write(b, depth+1)
		b.WriteByte('>')
	case Record:
		b.WriteString("RECORD<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name)
			b.WriteByte(' ')
			f.Type.write(b, depth+1)
		}
		b.WriteByte('>')
	default:
		b.WriteString(t.Kind.String())
	}
}

// Value is one SQL value. Which field holds it depends on the static type
// of the expression that produced it (see the Kind constants); Null says
// the value is NULL, and then the other fields are meaningless.
//
// B is a view: into the record buffer, into the query text (literals), or
// into the scratch buffer of the [Env] that computed it. It stays valid
// until that Env is Reset; copy it to keep it longer.
type Value struct {
	Null   bool
	I      int64
	F      float64
	B      []byte
	Nested *decode.Decoder // Array, Map and Record: the decoder of B
}

// Null is the NULL value.
var Null = Value{Null: true}

// Bool returns a Boolean value.
func Bool(b bool) Value {
	if b {
		return Value{I: 1}
	}
	return Value{}
}

// Eval computes an expression for the row in an Env. It must not allocate
// on the success path: computed strings go into the Env's scratch buffer
// (Env.Append). On an evaluation error (division by zero, overflow, a bad
// cast) it calls Env.Fail and returns anything; the caller checks Env.Err.
type Eval func(e *Env) Value

// Env is the per-goroutine evaluation context: the input row, the slots of
// an aggregate's output, scratch memory, and the first error of the current
// evaluation. An Env belongs to one goroutine; Reset it before each row.
type Env struct {
	// Row is the decoded input row; column expressions read Row.Values.
	Row *decode.Row
	// Slots are the values a post-aggregation expression reads: the group
	// keys, the aggregate results, WINDOW_START and WINDOW_END, in the
	// order of Aggregation.Slots.
	Slots []Value

	buf    []byte
	nested []decode.Row // scratch rows for array, map and record access, by node
	err    error
}

// NewEnv returns an Env for the compiled expressions of one query.
func NewEnv() *Env { return &Env{} }

// Reset clears the scratch buffer and the error before the next row. Values
// computed before Reset must no longer be used.
func (e *Env) Reset() {
	e.buf = e.buf[:0]
	e.err = nil
}

// Err is the first evaluation error since Reset, nil if none.
func (e *Env) Err() error { return e.err }

// Fail records an evaluation error; the first one since Reset wins.
func (e *Env) Fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// Append copies b into the scratch buffer and returns a Varchar or Bytes
// value viewing the copy. Use Begin and End to build a value piecewise.
func (e *Env) Append(b []byte) Value {
	start := len(e.buf)
	e.buf = append(e.buf, b...)
	return Value{B: e.buf[start:len(e.buf):len(e.buf)]}
}

// AppendString is Append for a string.
func (e *Env) AppendString(s string) Value {
	start := len(e.buf)
	e.buf = append(e.buf, s...)
	return Value{B: e.buf[start:len(e.buf):len(e.buf)]}
}

// Begin starts building a value in the scratch buffer: append to b and
// pass the start and the result to End.
//
//	start, b := e.Begin()
//	b = append(b, ...)
//	return e.End(start, b)
func (e *Env) Begin() (start int, b []byte) { return len(e.buf), e.buf }

// End finishes a value started with Begin and returns it.
func (e *Env) End(start int, b []byte) Value {
	e.buf = b
	return Value{B: b[start:len(b):len(b)]}
}

// nestedRow returns the scratch row of node slot i.
func (e *Env) nestedRow(i int) *decode.Row {
	if i >= len(e.nested) {
		e.nested = append(e.nested, make([]decode.Row, i+1-len(e.nested))...)
	}
	return &e.nested[i]
}

// decodeValue rebuilds the decoder's view of an array or map value, to
// iterate its items.
func (v Value) decodeValue(isMap bool) decode.Value {
	k := decode.KindArray
	if isMap {
		k = decode.KindMap
	}
	return decode.Value{Kind: k, B: v.B, Nested: v.Nested}
}

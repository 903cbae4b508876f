package decode

import (
	"math/big"
	"strconv"
)

// Kind is the type of one decoded value. Values of a logical type keep the
// Kind of their underlying Avro type; the logical annotation is in the
// column's [Type].
type Kind uint8

// The kinds. The zero Kind is KindNull.
const (
	KindNull    Kind = iota
	KindBoolean      // Value.I is 0 or 1
	KindInt          // Avro int, in Value.I
	KindLong         // Avro long, in Value.I
	KindFloat        // Avro float, in Value.F
	KindDouble       // Avro double, in Value.F
	KindString       // Value.B views the UTF-8 bytes
	KindBytes        // Value.B views the bytes
	KindEnum         // Value.I is the reader's symbol index, Value.B that symbol
	KindFixed        // Value.B views the Type.Size bytes
	KindArray        // Value.B views the encoded array, Value.I is its item count
	KindMap          // Value.B views the encoded map, Value.I is its entry count
	KindRecord       // Value.B views the encoded record
	// KindUnion appears only in a [Type]: a reader union with more than one
	// non-null branch. Its values carry the Kind of the branch they hold.
	KindUnion
)

var kindNames = [...]string{
	KindNull: "null", KindBoolean: "boolean", KindInt: "int", KindLong: "long",
	KindFloat: "float", KindDouble: "double", KindString: "string", KindBytes: "bytes",
	KindEnum: "enum", KindFixed: "fixed", KindArray: "array", KindMap: "map",
	KindRecord: "record", KindUnion: "union",
}

// String is the Avro name of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Logical is an Avro logical type annotation of a reader type.
type Logical uint8

// The logical types. An annotation the specification does not allow on the
// underlying type is ignored, as the specification requires.
const (
	LogicalNone                 Logical = iota
	LogicalDate                         // int: days since the Unix epoch
	LogicalTimeMillis                   // int: milliseconds after midnight
	LogicalTimeMicros                   // long: microseconds after midnight
	LogicalTimestampMillis              // long: milliseconds since the Unix epoch, UTC
	LogicalTimestampMicros              // long
	LogicalTimestampNanos               // long
	LogicalLocalTimestampMillis         // long: wall clock, no zone
	LogicalLocalTimestampMicros         // long
	LogicalLocalTimestampNanos          // long
	LogicalDecimal                      // bytes or fixed: big-endian two's complement unscaled value; Type.Precision, Type.Scale
	LogicalUUID                         // string (text form) or fixed(16)
	LogicalDuration                     // fixed(12): months, days, milliseconds as little-endian uint32s
)

var logicalNames = [...]string{
	LogicalNone: "", LogicalDate: "date", LogicalTimeMillis: "time-millis",
	LogicalTimeMicros: "time-micros", LogicalTimestampMillis: "timestamp-millis",
	LogicalTimestampMicros: "timestamp-micros", LogicalTimestampNanos: "timestamp-nanos",
	LogicalLocalTimestampMillis: "local-timestamp-millis",
	LogicalLocalTimestampMicros: "local-timestamp-micros",
	LogicalLocalTimestampNanos:  "local-timestamp-nanos",
	LogicalDecimal:              "decimal", LogicalUUID: "uuid", LogicalDuration: "duration",
}

// String is the Avro spelling of the annotation, "" for none.
func (l Logical) String() string {
	if int(l) < len(logicalNames) {
		return logicalNames[l]
	}
	return "logical(" + strconv.Itoa(int(l)) + ")"
}

// Type describes the reader type of a column, so that a consumer knows what
// it will get before the first record. Types are shared by decoders and
// read-only.
//
// A reader union of null and one other type is described by that type with
// Nullable set. A reader union with several non-null branches has Kind
// KindUnion and lists every branch, null included, in Branches; a value
// then says which branch it took in Value.Branch.
//
// Types of recursive schemas are cyclic through Items, Values and Fields;
// walk them with a visited set.
type Type struct {
	Kind      Kind
	Nullable  bool
	Logical   Logical
	Precision int      // decimal
	Scale     int      // decimal
	Size      int      // fixed
	Name      string   // full name of a record, enum or fixed
	Symbols   []string // enum, the reader's symbols
	Items     *Type    // array
	Values    *Type    // map
	Fields    []Field  // record
	Branches  []*Type  // KindUnion
}

// Field is one field of a record [Type].
type Field struct {
	Name string
	Type *Type
}

// Column is one output position of a [Decoder]: the projection path it was
// asked for and the reader type of the values it holds.
type Column struct {
	Path string
	Type *Type
}

// Value is one decoded field. Which of I, F and B is set depends on Kind
// (see the Kind constants); the others are zero.
//
// B is a view into the record buffer passed to [Decoder.Decode] (or, for a
// reader default, into memory the Decoder owns): it is valid while that
// buffer is, and must not be written to. Converting it to a string, when
// one is needed, is the consumer's business.
//
// For KindArray, KindMap and KindRecord, B holds the Avro encoding of the
// value as the writer wrote it and Nested is the Decoder that reads it:
// see [Value.Items] for arrays and maps, and decode a record with
// Nested.Decode(B, &row).
type Value struct {
	Kind Kind
	// Branch is the index of the reader union branch the value took, for a
	// column whose reader type is a union; 0 otherwise.
	Branch uint16
	I      int64
	F      float64
	B      []byte
	Nested *Decoder
}

// IsNull reports whether the value is null.
func (v *Value) IsNull() bool { return v.Kind == KindNull }

// Row is the output of one decode: Values[i] belongs to Columns()[i]. A Row
// is reused across records; Decode overwrites every value. A Row belongs to
// one goroutine at a time.
type Row struct {
	Values []Value
}

// DecimalFloat reads the unscaled value of a decimal (big-endian two's
// complement, as Avro writes it in bytes or fixed) as a float64; divide by
// 10^Type.Scale for the value. Beyond 64 bits it allocates.
func DecimalFloat(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	if len(b) <= 8 {
		var u uint64
		for _, c := range b {
			u = u<<8 | uint64(c)
		}
		shift := uint(64 - 8*len(b))
		return float64(int64(u<<shift) >> shift)
	}
	n := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	f, _ := new(big.Float).SetInt(n).Float64()
	return f
}

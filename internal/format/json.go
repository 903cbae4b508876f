package format

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/sql"
)

// maxDepth bounds the nesting of arrays, maps and records the JSON encoder
// follows, as the decoder bounds recursive schemas.
const maxDepth = 256

// errDepth is returned for values nested deeper than maxDepth.
var errDepth = errors.New("value nested more than 256 levels deep")

// JSON encodes rows as newline-delimited JSON objects, one per row, with
// the column names as keys in column order (docs/formats.md has the
// mapping of every type). Everything about a column is worked out once by
// [NewJSON]; AppendRow is a loop over the columns that allocates nothing.
//
// A JSON is not safe for concurrent use: it keeps scratch rows for
// decoding nested values. Use one per task.
type JSON struct {
	cols []jsonCol
	// rows are scratch rows for nested values, one per nesting depth, so
	// that an array of records decodes each record into a row of its own
	// while the array's iteration holds the one above.
	rows []*decode.Row
}

var _ Encoder = (*JSON)(nil)

// jsonCol is one column: its key, ready to append, and how to encode its
// values.
type jsonCol struct {
	name string
	key  []byte // `{"name":` for the first column, `,"name":` for the others
	op   op
	kind decode.Kind // of a nested column: KindArray, KindMap or KindRecord
	node *node       // of a nested column
}

// op is how one value is encoded. Top-level columns use the ops of SQL
// kinds over [sql.Value]; nested values (inside arrays, maps and records)
// use the ops of Avro types over [decode.Value], which still carry the Avro
// representation (timestamp-millis in milliseconds, decimals unscaled).
type op uint8

const (
	opNull op = iota
	opBool
	opInt
	opFloat64
	opFloat32 // an Avro float: printed with the digits of its float32
	opString
	opBytes // base64
	opTimestampMicros
	opDate
	opTimeMicros
	opInterval
	opNested // a top-level array, map or record, encoded by its node
	// Nested ops only.
	opTimestampMillis
	opTimestampNanos
	opTimeMillis
	opDecimal
	opUUIDFixed
	opArray
	opMap
	opRecord
	opUnion
)

// node is how values of one reader Avro type are encoded. Nodes of a
// recursive schema form a cycle.
type node struct {
	op    op
	scale float64 // decimal: 10^scale
	items *node   // array items, map values
	// direct is set for an array or map of (non-nullable) records: its
	// decoder decodes each item straight into one column per field.
	direct   bool
	fields   []field // record
	branches []*node // union, by reader branch index
}

type field struct {
	key []byte // `"name":`
	n   *node
}

// NewJSON returns a JSON encoder for rows of the given columns. It fails
// for an array, map or record column that has no Avro type to decode it
// with (no query produces one today).
func NewJSON(cols []sql.OutputColumn) (*JSON, error) {
	e := &JSON{cols: make([]jsonCol, len(cols))}
	nodes := map[*decode.Type]*node{}
	for i, c := range cols {
		jc := &e.cols[i]
		jc.name = c.Name
		if i == 0 {
			jc.key = append(jc.key, '{')
		} else {
			jc.key = append(jc.key, ',')
		}
		jc.key = appendString(jc.key, []byte(c.Name))
		jc.key = append(jc.key, ':')
		if c.Type == nil {
			return nil, fmt.Errorf("json: column %s has no type", c.Name)
		}
		switch c.Type.Kind {
		case sql.Unknown:
			jc.op = opNull
		case sql.Boolean:
			jc.op = opBool
		case sql.Integer, sql.BigInt:
			jc.op = opInt
		case sql.Double:
			jc.op = opFloat64
			if c.Type.Avro != nil && c.Type.Avro.Kind == decode.KindFloat {
				jc.op = opFloat32
			}
		case sql.Varchar:
			jc.op = opString
		case sql.Bytes:
			jc.op = opBytes
		case sql.Timestamp:
			jc.op = opTimestampMicros
		case sql.Date:
			jc.op = opDate
		case sql.Time:
			jc.op = opTimeMicros
		case sql.Interval:
			jc.op = opInterval
		case sql.Array, sql.Map, sql.Record:
			at := c.Type.Avro
			if at == nil || (at.Kind != decode.KindArray && at.Kind != decode.KindMap && at.Kind != decode.KindRecord) {
				return nil, fmt.Errorf("json: column %s: %s value without its Avro type", c.Name, c.Type)
			}
			jc.op, jc.kind, jc.node = opNested, at.Kind, nodeOf(at, nodes)
		default:
			return nil, fmt.Errorf("json: column %s: unsupported type %s", c.Name, c.Type)
		}
	}
	return e, nil
}

// nodeOf builds the node of a reader type, registering it before its
// children so that recursive types end in a cycle.
func nodeOf(t *decode.Type, seen map[*decode.Type]*node) *node {
	if n, ok := seen[t]; ok {
		return n
	}
	n := &node{}
	seen[t] = n
	switch t.Kind {
	case decode.KindNull:
		n.op = opNull
	case decode.KindBoolean:
		n.op = opBool
	case decode.KindInt:
		switch t.Logical {
		case decode.LogicalDate:
			n.op = opDate
		case decode.LogicalTimeMillis:
			n.op = opTimeMillis
		default:
			n.op = opInt
		}
	case decode.KindLong:
		switch t.Logical {
		case decode.LogicalTimeMicros:
			n.op = opTimeMicros
		case decode.LogicalTimestampMillis, decode.LogicalLocalTimestampMillis:
			n.op = opTimestampMillis
		case decode.LogicalTimestampMicros, decode.LogicalLocalTimestampMicros:
			n.op = opTimestampMicros
		case decode.LogicalTimestampNanos, decode.LogicalLocalTimestampNanos:
			n.op = opTimestampNanos
		default:
			n.op = opInt
		}
	case decode.KindFloat:
		n.op = opFloat32
	case decode.KindDouble:
		n.op = opFloat64
	case decode.KindString, decode.KindEnum:
		n.op = opString
	case decode.KindBytes, decode.KindFixed:
		switch {
		case t.Logical == decode.LogicalDecimal:
			n.op, n.scale = opDecimal, math.Pow10(t.Scale)
		case t.Logical == decode.LogicalUUID && t.Kind == decode.KindFixed && t.Size == 16:
			n.op = opUUIDFixed
		default:
			n.op = opBytes
		}
	case decode.KindArray, decode.KindMap:
		it := t.Items
		n.op = opArray
		if t.Kind == decode.KindMap {
			n.op, it = opMap, t.Values
		}
		n.items = nodeOf(it, seen)
		n.direct = it.Kind == decode.KindRecord && !it.Nullable
	case decode.KindRecord:
		n.op = opRecord
		n.fields = make([]field, len(t.Fields))
		for i, f := range t.Fields {
			key := appendString(nil, []byte(f.Name))
			n.fields[i] = field{key: append(key, ':'), n: nodeOf(f.Type, seen)}
		}
	case decode.KindUnion:
		n.op = opUnion
		n.branches = make([]*node, len(t.Branches))
		for i, b := range t.Branches {
			n.branches[i] = nodeOf(b, seen)
		}
	default:
		n.op = opNull
	}
	return n
}

// ContentType is "application/x-ndjson".
func (e *JSON) ContentType() string { return "application/x-ndjson" }

// AppendRow appends row as one JSON object and a '\n'.
func (e *JSON) AppendRow(dst []byte, row []sql.Value) ([]byte, error) {
	if len(row) != len(e.cols) {
		return dst, fmt.Errorf("json: row has %d values for %d columns", len(row), len(e.cols))
	}
	start := len(dst)
	if len(e.cols) == 0 {
		dst = append(dst, '{')
	}
	for i := range e.cols {
		c := &e.cols[i]
		v := &row[i]
		dst = append(dst, c.key...)
		if v.Null {
			dst = append(dst, "null"...)
			continue
		}
		switch c.op {
		case opNull:
			dst = append(dst, "null"...)
		case opBool:
			dst = appendBool(dst, v.I)
		case opInt:
			dst = strconv.AppendInt(dst, v.I, 10)
		case opFloat64:
			dst = appendFloat(dst, v.F, 64)
		case opFloat32:
			if float64(float32(v.F)) == v.F {
				dst = appendFloat(dst, v.F, 32)
			} else {
				dst = appendFloat(dst, v.F, 64)
			}
		case opString:
			dst = appendString(dst, v.B)
		case opBytes:
			dst = appendBase64(dst, v.B)
		case opTimestampMicros:
			dst = appendTimestamp(dst, v.I)
		case opDate:
			dst = appendDate(dst, v.I)
		case opTimeMicros:
			dst = appendTime(dst, v.I)
		case opInterval:
			dst = appendInterval(dst, v.I)
		case opNested:
			dv := decode.Value{Kind: c.kind, B: v.B, Nested: v.Nested}
			var err error
			if dst, err = e.appendNested(dst, c.node, &dv, 0); err != nil {
				return dst[:start], fmt.Errorf("json: column %s: %w", c.name, err)
			}
		}
	}
	return append(dst, '}', '\n'), nil
}

// row returns the scratch row of a nesting depth.
func (e *JSON) row(depth int) *decode.Row {
	for len(e.rows) <= depth {
		e.rows = append(e.rows, &decode.Row{})
	}
	return e.rows[depth]
}

// appendNested appends a value decoded from Avro, of the type n was built
// for.
func (e *JSON) appendNested(dst []byte, n *node, v *decode.Value, depth int) ([]byte, error) {
	if v.Kind == decode.KindNull {
		return append(dst, "null"...), nil
	}
	if n.op == opUnion {
		if int(v.Branch) >= len(n.branches) {
			return dst, fmt.Errorf("union branch %d out of range", v.Branch)
		}
		n = n.branches[v.Branch]
	}
	switch n.op {
	case opBool:
		return appendBool(dst, v.I), nil
	case opInt:
		return strconv.AppendInt(dst, v.I, 10), nil
	case opFloat64:
		return appendFloat(dst, v.F, 64), nil
	case opFloat32:
		return appendFloat(dst, v.F, 32), nil
	case opString:
		return appendString(dst, v.B), nil
	case opBytes:
		return appendBase64(dst, v.B), nil
	case opDate:
		return appendDate(dst, v.I), nil
	case opTimeMillis:
		return appendTime(dst, v.I*1000), nil
	case opTimeMicros:
		return appendTime(dst, v.I), nil
	case opTimestampMillis:
		if v.I > math.MaxInt64/1000 || v.I < math.MinInt64/1000 {
			return dst, fmt.Errorf("timestamp-millis %d out of range", v.I)
		}
		return appendTimestamp(dst, v.I*1000), nil
	case opTimestampMicros:
		return appendTimestamp(dst, v.I), nil
	case opTimestampNanos:
		return appendTimestamp(dst, floorDiv(v.I, 1000)), nil
	case opDecimal:
		return appendFloat(dst, decode.DecimalFloat(v.B)/n.scale, 64), nil
	case opUUIDFixed:
		return appendUUID(dst, v.B), nil
	case opArray, opMap:
		return e.appendItems(dst, n, v, depth)
	case opRecord:
		return e.appendRecord(dst, n, v, depth)
	}
	return append(dst, "null"...), nil
}

func (e *JSON) appendItems(dst []byte, n *node, v *decode.Value, depth int) ([]byte, error) {
	if depth >= maxDepth {
		return dst, errDepth
	}
	if v.Nested == nil {
		return dst, errors.New("array or map value without a decoder")
	}
	isMap := n.op == opMap
	open, close := byte('['), byte(']')
	if isMap {
		open, close = '{', '}'
	}
	dst = append(dst, open)
	row := e.row(depth)
	it := v.Items()
	first := true
	for it.Next(row) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if isMap {
			dst = appendString(dst, it.Key())
			dst = append(dst, ':')
		}
		var err error
		if n.direct {
			dst, err = appendFields(e, dst, n.items, row, depth+1)
		} else if len(row.Values) != 1 {
			err = errors.New("array or map item decoded into more than one value")
		} else {
			dst, err = e.appendNested(dst, n.items, &row.Values[0], depth+1)
		}
		if err != nil {
			return dst, err
		}
	}
	if err := it.Err(); err != nil {
		return dst, err
	}
	return append(dst, close), nil
}

func (e *JSON) appendRecord(dst []byte, n *node, v *decode.Value, depth int) ([]byte, error) {
	if depth >= maxDepth {
		return dst, errDepth
	}
	if v.Nested == nil {
		return dst, errors.New("record value without a decoder")
	}
	row := e.row(depth)
	if err := v.Nested.Decode(v.B, row); err != nil {
		return dst, err
	}
	return appendFields(e, dst, n, row, depth)
}

// appendFields appends a record decoded into row, one value per field.
func appendFields(e *JSON, dst []byte, n *node, row *decode.Row, depth int) ([]byte, error) {
	if n.op != opRecord {
		return dst, errors.New("record items of a non-record type")
	}
	if len(row.Values) != len(n.fields) {
		return dst, fmt.Errorf("record decoded into %d values for %d fields", len(row.Values), len(n.fields))
	}
	dst = append(dst, '{')
	for i := range n.fields {
		f := &n.fields[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, f.key...)
		var err error
		if dst, err = e.appendNested(dst, f.n, &row.Values[i], depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func appendBool(dst []byte, i int64) []byte {
	if i != 0 {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// appendFloat appends f in the shortest form that reads back as the same
// float64 (bits 64) or float32 (bits 32), as encoding/json writes it:
// plain decimals from 1e-6 to 1e21, exponent form outside. JSON has no NaN
// or infinities; they are null.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 {
		if bits == 64 && (a < 1e-6 || a >= 1e21) ||
			bits == 32 && (float32(a) < 1e-6 || float32(a) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// e-09 to e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

func appendBase64(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendUUID appends a fixed(16) UUID in its text form.
func appendUUID(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(dst, '"')
}

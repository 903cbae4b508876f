package format

import (
	"compress/flate"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/twmb/avro"
	"github.com/twmb/avro/ocf"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/sql"
)

// Avro output: the record and namespace of the output schema.
const (
	avroRecordName = "SluiceResult"
	avroNamespace  = "sluice.output"
)

// Avro encodes rows as Avro binary datums of the output schema
// [AvroSchema] derives from the result columns: by default each row is one
// single-object encoding (0xC3 0x01, the schema's 8-byte little-endian
// CRC-64-AVRO fingerprint, the datum); with Options.Container each batch is
// one complete object container file (header with the schema and codec,
// one data block, sync marker), and Avro is a [BatchEncoder].
//
// The datum is written by hand (zigzag varints, little-endian floats),
// nothing allocates per row. Arrays, maps and records are decoded with
// their Nested decoder and re-encoded in their reader schema, which the
// output schema embeds. An Avro is not safe for concurrent use.
type Avro struct {
	cols      []avroCol
	schema    string
	soe       [10]byte
	container bool
	codec     ocf.Codec // nil for "null"
	header    []byte    // container header, sync marker included
	sync      [16]byte
	block     []byte // container: the datums of the current batch
	count     int    // container: rows in block
	rows      []*decode.Row
}

var _ BatchEncoder = (*Avro)(nil)

type avroCol struct {
	name string
	op   op          // the SQL ops of the JSON encoder; opNull: a field of type "null"
	kind decode.Kind // of a nested column
	node *anode      // of a nested column
}

// anode is how values of one reader Avro type are re-encoded.
type anode struct {
	kind       decode.Kind
	nullable   bool // written as the union ["null", T]
	size       int  // fixed
	nullBranch int  // union: index of the null branch, -1 if none
	items      *anode
	direct     bool // array or map of non-nullable records: items decode into one column per field
	fields     []*anode
	branches   []*anode
}

// AvroSchema returns the Avro schema (JSON text) of the rows an Avro
// encoder writes for the columns: a record sluice.output.SluiceResult with
// one field per column, in order, named after the column (characters Avro
// does not allow in a name become '_', a leading digit gets a '_' in front,
// a duplicate gets _2, _3, ...), each of type ["null", T] with default null
// (a column of unknown type, a bare NULL, is of type "null"). T follows the
// column's SQL type (docs/formats.md); arrays, maps and records keep their
// reader Avro type, named types without a namespace moved into
// sluice.output.
func AvroSchema(cols []sql.OutputColumn) (string, error) {
	s, _, err := avroSchema(cols)
	return s, err
}

// NewAvro returns an Avro encoder for rows of the given columns, with
// Options.Container and Options.Codec. It fails for a column [AvroSchema]
// cannot describe and for an unknown codec.
func NewAvro(cols []sql.OutputColumn, opts Options) (*Avro, error) {
	text, nodes, err := avroSchema(cols)
	if err != nil {
		return nil, err
	}
	s, err := avro.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("avro: derived schema does not parse: %w", err)
	}
	e := &Avro{cols: make([]avroCol, len(cols)), schema: text, container: opts.Container}
	h := avro.NewRabin()
	h.Write(s.Canonical())
	e.soe[0], e.soe[1] = 0xC3, 0x01
	binary.LittleEndian.PutUint64(e.soe[2:], h.Sum64())
	for i, c := range cols {
		ac := &e.cols[i]
		ac.name = c.Name
		switch c.Type.Kind {
		case sql.Unknown:
			ac.op = opNull
		case sql.Boolean:
			ac.op = opBool
		case sql.Integer, sql.BigInt:
			ac.op = opInt
		case sql.Double:
			ac.op = opFloat64
		case sql.Varchar:
			ac.op = opString
		case sql.Bytes:
			ac.op = opBytes
		case sql.Timestamp, sql.Date, sql.Time, sql.Interval:
			ac.op = opInt // all are zigzag varints of Value.I
		case sql.Array, sql.Map, sql.Record:
			ac.op, ac.kind, ac.node = opNested, c.Type.Avro.Kind, nodes[i]
		}
	}
	if e.container {
		switch strings.ToLower(opts.Codec) {
		case "", "null":
		case "deflate":
			e.codec = ocf.DeflateCodec(flate.DefaultCompression)
		case "snappy":
			e.codec = ocf.SnappyCodec()
		case "zstandard", "zstd":
			if e.codec, err = ocf.ZstdCodec(nil, nil); err != nil {
				return nil, fmt.Errorf("avro: %w", err)
			}
		default:
			return nil, fmt.Errorf("avro: unknown codec %q (supported: null, deflate, snappy, zstandard)", opts.Codec)
		}
		codec := "null"
		if e.codec != nil {
			codec = e.codec.Name()
		}
		if _, err := rand.Read(e.sync[:]); err != nil {
			return nil, fmt.Errorf("avro: sync marker: %w", err)
		}
		e.header = append(e.header, 'O', 'b', 'j', 1)
		e.header = appendLong(e.header, 2)
		e.header = appendAvroBytes(e.header, []byte("avro.schema"))
		e.header = appendAvroBytes(e.header, []byte(text))
		e.header = appendAvroBytes(e.header, []byte("avro.codec"))
		e.header = appendAvroBytes(e.header, []byte(codec))
		e.header = append(e.header, 0)
		e.header = append(e.header, e.sync[:]...)
	} else if opts.Codec != "" && !strings.EqualFold(opts.Codec, "null") {
		return nil, errors.New("avro: a codec needs the container option")
	}
	return e, nil
}

// Schema is the output schema, as [AvroSchema] returns it.
func (e *Avro) Schema() string { return e.schema }

// Fingerprint is the CRC-64-AVRO fingerprint of the output schema's
// canonical form, as the single-object header carries it (little-endian).
func (e *Avro) Fingerprint() uint64 { return binary.LittleEndian.Uint64(e.soe[2:]) }

// ContentType is "application/avro" (an object container file per batch)
// or "avro/binary" (single-object encoded datums).
func (e *Avro) ContentType() string {
	if e.container {
		return "application/avro"
	}
	return "avro/binary"
}

// AppendBatchStart starts a container batch; it appends nothing (the
// header is written by AppendBatchEnd, with the block).
func (e *Avro) AppendBatchStart(dst []byte) []byte {
	e.block = e.block[:0]
	e.count = 0
	return dst
}

// AppendBatchEnd appends, for a container, the whole file of the batch:
// header, then (when there are rows) one block of them, compressed with the
// codec, and the sync marker. rows must be the number of rows appended. It
// appends nothing for single-object encoding.
func (e *Avro) AppendBatchEnd(dst []byte, rows int) ([]byte, error) {
	if !e.container {
		return dst, nil
	}
	count, data := e.count, e.block
	e.block, e.count = e.block[:0], 0
	if rows != count {
		return dst, fmt.Errorf("avro: batch end for %d rows, %d were appended", rows, count)
	}
	dst = append(dst, e.header...)
	if count == 0 {
		return dst, nil
	}
	if e.codec != nil {
		var err error
		if data, err = e.codec.Compress(data); err != nil {
			return dst[:len(dst)-len(e.header)], fmt.Errorf("avro: %s: %w", e.codec.Name(), err)
		}
	}
	dst = appendLong(dst, int64(count))
	dst = appendLong(dst, int64(len(data)))
	dst = append(dst, data...)
	return append(dst, e.sync[:]...), nil
}

// AppendRow appends the single-object encoding of row to dst; for a
// container it adds the row's datum to the batch and returns dst as it
// was.
func (e *Avro) AppendRow(dst []byte, row []sql.Value) ([]byte, error) {
	if len(row) != len(e.cols) {
		return dst, fmt.Errorf("avro: row has %d values for %d columns", len(row), len(e.cols))
	}
	if e.container {
		var err error
		start := len(e.block)
		if e.block, err = e.appendDatum(e.block, row); err != nil {
			e.block = e.block[:start]
			return dst, err
		}
		e.count++
		return dst, nil
	}
	start := len(dst)
	dst = append(dst, e.soe[:]...)
	out, err := e.appendDatum(dst, row)
	if err != nil {
		return dst[:start], err
	}
	return out, nil
}

// AppendDatum appends the bare Avro binary datum of row, without header.
func (e *Avro) AppendDatum(dst []byte, row []sql.Value) ([]byte, error) {
	if len(row) != len(e.cols) {
		return dst, fmt.Errorf("avro: row has %d values for %d columns", len(row), len(e.cols))
	}
	start := len(dst)
	out, err := e.appendDatum(dst, row)
	if err != nil {
		return dst[:start], err
	}
	return out, nil
}

func (e *Avro) appendDatum(dst []byte, row []sql.Value) ([]byte, error) {
	for i := range e.cols {
		c := &e.cols[i]
		v := &row[i]
		if c.op == opNull {
			continue
		}
		if v.Null {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, 2)
		switch c.op {
		case opBool:
			dst = append(dst, byte(v.I&1))
		case opInt:
			dst = appendLong(dst, v.I)
		case opFloat64:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.F))
		case opString:
			dst = appendAvroString(dst, v.B)
		case opBytes:
			dst = appendAvroBytes(dst, v.B)
		case opNested:
			dv := decode.Value{Kind: c.kind, B: v.B, Nested: v.Nested}
			var err error
			if dst, err = e.appendBase(dst, c.node, &dv, 0); err != nil {
				return dst, fmt.Errorf("avro: column %s: %w", c.name, err)
			}
		}
	}
	return dst, nil
}

// appendLong appends the zigzag varint of v (Avro int and long).
func appendLong(dst []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

func appendAvroBytes(dst, b []byte) []byte {
	dst = appendLong(dst, int64(len(b)))
	return append(dst, b...)
}

// appendAvroString appends an Avro string; bytes that are not valid UTF-8
// become U+FFFD, as in JSON.
func appendAvroString(dst, s []byte) []byte {
	if utf8.Valid(s) {
		return appendAvroBytes(dst, s)
	}
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			n += 3
		} else {
			n += size
		}
		i += size
	}
	dst = appendLong(dst, int64(n))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// row returns the scratch row of a nesting depth.
func (e *Avro) row(depth int) *decode.Row {
	for len(e.rows) <= depth {
		e.rows = append(e.rows, &decode.Row{})
	}
	return e.rows[depth]
}

// appendValue appends a nested value of n's type, with its union branch.
func (e *Avro) appendValue(dst []byte, n *anode, v *decode.Value, depth int) ([]byte, error) {
	switch {
	case n.kind == decode.KindUnion:
		b := int(v.Branch)
		if v.Kind == decode.KindNull {
			b = n.nullBranch
		}
		if b < 0 || b >= len(n.branches) {
			return dst, fmt.Errorf("union branch %d out of range", v.Branch)
		}
		dst = appendLong(dst, int64(b))
		return e.appendBase(dst, n.branches[b], v, depth)
	case n.nullable:
		if v.Kind == decode.KindNull {
			return append(dst, 0), nil
		}
		dst = append(dst, 2)
	case v.Kind == decode.KindNull && n.kind != decode.KindNull:
		return dst, fmt.Errorf("null for a non-nullable %s", n.kind)
	}
	return e.appendBase(dst, n, v, depth)
}

// appendBase appends a non-null value of n's type, without union branch.
func (e *Avro) appendBase(dst []byte, n *anode, v *decode.Value, depth int) ([]byte, error) {
	switch n.kind {
	case decode.KindNull:
		return dst, nil
	case decode.KindBoolean:
		return append(dst, byte(v.I&1)), nil
	case decode.KindInt, decode.KindLong, decode.KindEnum:
		return appendLong(dst, v.I), nil
	case decode.KindFloat:
		return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(v.F))), nil
	case decode.KindDouble:
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.F)), nil
	case decode.KindString:
		return appendAvroString(dst, v.B), nil
	case decode.KindBytes:
		return appendAvroBytes(dst, v.B), nil
	case decode.KindFixed:
		if len(v.B) != n.size {
			return dst, fmt.Errorf("fixed(%d) value of %d bytes", n.size, len(v.B))
		}
		return append(dst, v.B...), nil
	case decode.KindArray, decode.KindMap:
		return e.appendItems(dst, n, v, depth)
	case decode.KindRecord:
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
		return e.appendFields(dst, n, row, depth)
	}
	return dst, fmt.Errorf("cannot encode %s", n.kind)
}

// appendItems appends an array or map as one block (count, items, 0); the
// count, known only at the end, is moved in front of the items.
func (e *Avro) appendItems(dst []byte, n *anode, v *decode.Value, depth int) ([]byte, error) {
	if depth >= maxDepth {
		return dst, errDepth
	}
	if v.Nested == nil {
		return dst, errors.New("array or map value without a decoder")
	}
	isMap := n.kind == decode.KindMap
	row := e.row(depth)
	it := v.Items()
	p, count := len(dst), 0
	for it.Next(row) {
		if isMap {
			dst = appendAvroString(dst, it.Key())
		}
		var err error
		switch {
		case n.direct:
			dst, err = e.appendFields(dst, n.items, row, depth+1)
		case len(row.Values) != 1:
			err = errors.New("array or map item decoded into more than one value")
		default:
			dst, err = e.appendValue(dst, n.items, &row.Values[0], depth+1)
		}
		if err != nil {
			return dst, err
		}
		count++
	}
	if err := it.Err(); err != nil {
		return dst, err
	}
	if count == 0 {
		return append(dst, 0), nil
	}
	var hdr [10]byte
	h := appendLong(hdr[:0], int64(count))
	end := len(dst)
	dst = append(dst, h...)
	copy(dst[p+len(h):], dst[p:end])
	copy(dst[p:], h)
	return append(dst, 0), nil
}

// appendFields appends a record decoded into row, one value per field.
func (e *Avro) appendFields(dst []byte, n *anode, row *decode.Row, depth int) ([]byte, error) {
	if n.kind != decode.KindRecord {
		return dst, errors.New("record items of a non-record type")
	}
	if len(row.Values) != len(n.fields) {
		return dst, fmt.Errorf("record decoded into %d values for %d fields", len(row.Values), len(n.fields))
	}
	for i, f := range n.fields {
		var err error
		if dst, err = e.appendValue(dst, f, &row.Values[i], depth+1); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// schemaWriter writes the JSON of reader types and builds their nodes.
type schemaWriter struct {
	b     []byte
	named map[*decode.Type]string // full names of the named types written
	taken map[string]bool
	nodes map[*decode.Type]*anode
}

// avroSchema derives the output schema and the nodes of the nested
// columns (nil for the others).
func avroSchema(cols []sql.OutputColumn) (string, []*anode, error) {
	w := &schemaWriter{named: map[*decode.Type]string{}, taken: map[string]bool{avroNamespace + "." + avroRecordName: true}, nodes: map[*decode.Type]*anode{}}
	w.b = append(w.b, `{"type":"record","name":"`+avroRecordName+`","namespace":"`+avroNamespace+`","fields":[`...)
	nodes := make([]*anode, len(cols))
	used := map[string]bool{}
	for i, c := range cols {
		if c.Type == nil {
			return "", nil, fmt.Errorf("avro: column %s has no type", c.Name)
		}
		if i > 0 {
			w.b = append(w.b, ',')
		}
		name := avroName(c.Name)
		if used[name] {
			for k := 2; ; k++ {
				if alt := name + "_" + strconv.Itoa(k); !used[alt] {
					name = alt
					break
				}
			}
		}
		used[name] = true
		w.b = append(w.b, `{"name":`...)
		w.b = appendString(w.b, []byte(name))
		w.b = append(w.b, `,"type":`...)
		if c.Type.Kind == sql.Unknown {
			w.b = append(w.b, `"null","default":null}`...)
			continue
		}
		w.b = append(w.b, `["null",`...)
		switch c.Type.Kind {
		case sql.Boolean:
			w.b = append(w.b, `"boolean"`...)
		case sql.Integer:
			w.b = append(w.b, `"int"`...)
		case sql.BigInt:
			w.b = append(w.b, `"long"`...)
		case sql.Double:
			w.b = append(w.b, `"double"`...)
		case sql.Varchar:
			w.b = append(w.b, `"string"`...)
		case sql.Bytes:
			w.b = append(w.b, `"bytes"`...)
		case sql.Timestamp:
			w.b = append(w.b, `{"type":"long","logicalType":"timestamp-micros"}`...)
		case sql.Date:
			w.b = append(w.b, `{"type":"int","logicalType":"date"}`...)
		case sql.Time:
			w.b = append(w.b, `{"type":"long","logicalType":"time-micros"}`...)
		case sql.Interval:
			w.b = append(w.b, `"long"`...)
		case sql.Array, sql.Map, sql.Record:
			at := c.Type.Avro
			if at == nil || (at.Kind != decode.KindArray && at.Kind != decode.KindMap && at.Kind != decode.KindRecord) {
				return "", nil, fmt.Errorf("avro: column %s: %s value without its Avro type", c.Name, c.Type)
			}
			if err := w.base(at, 0); err != nil {
				return "", nil, fmt.Errorf("avro: column %s: %w", c.Name, err)
			}
			nodes[i] = w.node(at)
		default:
			return "", nil, fmt.Errorf("avro: column %s: unsupported type %s", c.Name, c.Type)
		}
		w.b = append(w.b, `],"default":null}`...)
	}
	w.b = append(w.b, "]}"...)
	return string(w.b), nodes, nil
}

// avroName makes s a valid Avro name: [A-Za-z_][A-Za-z0-9_]*.
func avroName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}

// node builds the node of a reader type, registering it before its
// children so that recursive types end in a cycle.
func (w *schemaWriter) node(t *decode.Type) *anode {
	if n, ok := w.nodes[t]; ok {
		return n
	}
	n := &anode{kind: t.Kind, nullable: t.Nullable, size: t.Size, nullBranch: -1}
	w.nodes[t] = n
	switch t.Kind {
	case decode.KindArray, decode.KindMap:
		it := t.Items
		if t.Kind == decode.KindMap {
			it = t.Values
		}
		n.items = w.node(it)
		n.direct = it.Kind == decode.KindRecord && !it.Nullable
	case decode.KindRecord:
		n.fields = make([]*anode, len(t.Fields))
		for i, f := range t.Fields {
			n.fields[i] = w.node(f.Type)
		}
	case decode.KindUnion:
		n.branches = make([]*anode, len(t.Branches))
		for i, b := range t.Branches {
			n.branches[i] = w.node(b)
			if b.Kind == decode.KindNull && n.nullBranch < 0 {
				n.nullBranch = i
			}
		}
	}
	return n
}

// typ writes a reader type, as ["null", T] when it is nullable.
func (w *schemaWriter) typ(t *decode.Type, depth int) error {
	if !t.Nullable || t.Kind == decode.KindNull || t.Kind == decode.KindUnion {
		return w.base(t, depth)
	}
	w.b = append(w.b, `["null",`...)
	if err := w.base(t, depth); err != nil {
		return err
	}
	w.b = append(w.b, ']')
	return nil
}

// fullName is the output name of a named type: its full name, in
// sluice.output when it has no namespace, made unique.
func (w *schemaWriter) fullName(t *decode.Type) string {
	name := t.Name
	if name == "" {
		name = "T"
	}
	if !strings.Contains(name, ".") {
		name = avroNamespace + "." + name
	}
	if w.taken[name] {
		for k := 2; ; k++ {
			if alt := name + "_" + strconv.Itoa(k); !w.taken[alt] {
				name = alt
				break
			}
		}
	}
	w.taken[name] = true
	return name
}

func (w *schemaWriter) primitive(kind string, t *decode.Type) {
	if t.Logical == decode.LogicalNone {
		w.b = append(w.b, '"')
		w.b = append(w.b, kind...)
		w.b = append(w.b, '"')
		return
	}
	w.b = append(w.b, `{"type":"`...)
	w.b = append(w.b, kind...)
	w.b = append(w.b, '"')
	w.logical(t)
	w.b = append(w.b, '}')
}

func (w *schemaWriter) logical(t *decode.Type) {
	if t.Logical == decode.LogicalNone {
		return
	}
	w.b = append(w.b, `,"logicalType":"`...)
	w.b = append(w.b, t.Logical.String()...)
	w.b = append(w.b, '"')
	if t.Logical == decode.LogicalDecimal {
		w.b = append(w.b, `,"precision":`...)
		w.b = strconv.AppendInt(w.b, int64(t.Precision), 10)
		w.b = append(w.b, `,"scale":`...)
		w.b = strconv.AppendInt(w.b, int64(t.Scale), 10)
	}
}

// base writes a reader type without its nullability.
func (w *schemaWriter) base(t *decode.Type, depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	switch t.Kind {
	case decode.KindNull:
		w.b = append(w.b, `"null"`...)
	case decode.KindBoolean, decode.KindInt, decode.KindLong, decode.KindFloat, decode.KindDouble, decode.KindString, decode.KindBytes:
		w.primitive(t.Kind.String(), t)
	case decode.KindEnum, decode.KindFixed, decode.KindRecord:
		if name, ok := w.named[t]; ok {
			w.b = appendString(w.b, []byte(name))
			return nil
		}
		name := w.fullName(t)
		w.named[t] = name
		w.b = append(w.b, `{"type":"`...)
		w.b = append(w.b, t.Kind.String()...)
		w.b = append(w.b, `","name":`...)
		w.b = appendString(w.b, []byte(name))
		switch t.Kind {
		case decode.KindEnum:
			w.b = append(w.b, `,"symbols":[`...)
			for i, s := range t.Symbols {
				if i > 0 {
					w.b = append(w.b, ',')
				}
				w.b = appendString(w.b, []byte(s))
			}
			w.b = append(w.b, ']')
		case decode.KindFixed:
			w.b = append(w.b, `,"size":`...)
			w.b = strconv.AppendInt(w.b, int64(t.Size), 10)
			w.logical(t)
		case decode.KindRecord:
			w.b = append(w.b, `,"fields":[`...)
			for i, f := range t.Fields {
				if i > 0 {
					w.b = append(w.b, ',')
				}
				w.b = append(w.b, `{"name":`...)
				w.b = appendString(w.b, []byte(f.Name))
				w.b = append(w.b, `,"type":`...)
				if err := w.typ(f.Type, depth+1); err != nil {
					return err
				}
				w.b = append(w.b, '}')
			}
			w.b = append(w.b, ']')
		}
		w.b = append(w.b, '}')
	case decode.KindArray:
		w.b = append(w.b, `{"type":"array","items":`...)
		if err := w.typ(t.Items, depth+1); err != nil {
			return err
		}
		w.b = append(w.b, '}')
	case decode.KindMap:
		w.b = append(w.b, `{"type":"map","values":`...)
		if err := w.typ(t.Values, depth+1); err != nil {
			return err
		}
		w.b = append(w.b, '}')
	case decode.KindUnion:
		w.b = append(w.b, '[')
		for i, b := range t.Branches {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			if err := w.base(b, depth+1); err != nil {
				return err
			}
		}
		w.b = append(w.b, ']')
	default:
		return fmt.Errorf("unsupported Avro type %s", t.Kind)
	}
	return nil
}

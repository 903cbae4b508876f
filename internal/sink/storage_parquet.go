package sink

import (
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/sluicehq/sluice/internal/buildinfo"
	"github.com/sluicehq/sluice/internal/sql"
)

// storageParquetSchema is the Parquet schema of a query's result columns
// (one optional column each, in result order) and how each column's JSON
// value is converted.
type storageParquetSchema struct {
	schema *parquet.Schema
	names  []string
	kinds  []sql.Kind
}

// parquetColumns is a group whose fields keep the result columns' order
// (parquet.Group sorts them by name).
type parquetColumns struct {
	parquet.Group
	fields []parquet.Field
}

func (g parquetColumns) Fields() []parquet.Field { return g.fields }

// newStorageParquetSchema maps every result column to an optional Parquet
// column (docs/sinks.md): integers to INT32/INT64, DOUBLE, BOOLEAN,
// VARCHAR to STRING, BYTES to BYTE_ARRAY, TIMESTAMP to TIMESTAMP(MICROS,
// UTC), DATE, TIME(MICROS), INTERVAL to INT64 microseconds, and arrays,
// maps and records to JSON text. Names taken twice get _2, _3...
func newStorageParquetSchema(cols []sql.OutputColumn) *storageParquetSchema {
	p := &storageParquetSchema{}
	g := parquet.Group{}
	for _, c := range cols {
		kind := sql.Unknown
		if c.Type != nil {
			kind = c.Type.Kind
		}
		name := c.Name
		for n := 2; ; n++ {
			if _, taken := g[name]; !taken {
				break
			}
			name = c.Name + "_" + strconv.Itoa(n)
		}
		var node parquet.Node
		switch kind {
		case sql.Boolean:
			node = parquet.Leaf(parquet.BooleanType)
		case sql.Integer:
			node = parquet.Int(32)
		case sql.BigInt, sql.Interval:
			node = parquet.Int(64)
		case sql.Double:
			node = parquet.Leaf(parquet.DoubleType)
		case sql.Bytes:
			node = parquet.Leaf(parquet.ByteArrayType)
		case sql.Timestamp:
			node = parquet.Timestamp(parquet.Microsecond)
		case sql.Date:
			node = parquet.Date()
		case sql.Time:
			node = parquet.Time(parquet.Microsecond)
		case sql.Array, sql.Map, sql.Record:
			node = parquet.JSON()
		default: // VARCHAR, and a bare NULL column
			node = parquet.String()
		}
		g[name] = parquet.Optional(node)
		p.names = append(p.names, name)
		p.kinds = append(p.kinds, kind)
	}
	byName := map[string]parquet.Field{}
	for _, f := range g.Fields() {
		byName[f.Name()] = f
	}
	root := parquetColumns{Group: g}
	for _, n := range p.names {
		root.fields = append(root.fields, byName[n])
	}
	p.schema = parquet.NewSchema("sluice_result", root)
	return p
}

// storageParquetCodec is the Parquet compression by setting name.
func storageParquetCodec(name string) compress.Codec {
	switch name {
	case "none":
		return &parquet.Uncompressed
	case "gzip":
		return &parquet.Gzip
	case "zstd":
		return &parquet.Zstd
	}
	return &parquet.Snappy
}

// parquetRows is how many rows go to the writer at once.
const parquetRows = 512

// storageParquetWriter writes Parquet files from JSON records. It keeps
// its buffers between files; not safe for concurrent use.
type storageParquetWriter struct {
	p     *storageParquetSchema
	w     *parquet.GenericWriter[any]
	rows  []parquet.Row
	vals  []parquet.Value
	arena []byte // decoded strings and bytes of the rows in flight
	obj   jsonObject
}

func newStorageParquetWriter(p *storageParquetSchema, codec string) *storageParquetWriter {
	return &storageParquetWriter{p: p, w: parquet.NewGenericWriter[any](io.Discard, p.schema,
		parquet.Compression(storageParquetCodec(codec)),
		parquet.CreatedBy("sluice", buildinfo.Get().Version, ""))}
}

// write writes one Parquet file of recs to out; each record is a JSON
// object whose fields are the result columns in order. A record that is
// not is an error naming it.
func (pw *storageParquetWriter) write(out io.Writer, recs []storageRec) error {
	pw.w.Reset(out)
	n := len(pw.p.kinds)
	for len(recs) > 0 {
		chunk := recs[:min(len(recs), parquetRows)]
		recs = recs[len(chunk):]
		pw.rows, pw.arena = pw.rows[:0], pw.arena[:0]
		if need := len(chunk) * n; cap(pw.vals) < need {
			pw.vals = make([]parquet.Value, need)
		}
		for i := range chunk {
			row := pw.vals[i*n : i*n : (i+1)*n]
			row, err := pw.row(row, chunk[i].val)
			if err != nil {
				return fmt.Errorf("record at offset %d: %w", chunk[i].off, err)
			}
			pw.rows = append(pw.rows, row)
		}
		if _, err := pw.w.WriteRows(pw.rows); err != nil {
			return err
		}
	}
	return pw.w.Close()
}

// row appends the values of one JSON record to row.
func (pw *storageParquetWriter) row(row parquet.Row, rec []byte) (parquet.Row, error) {
	kinds := pw.p.kinds
	o := &pw.obj
	o.reset(rec)
	for {
		raw, ok := o.next()
		if !ok {
			break
		}
		i := o.n - 1
		if i >= len(kinds) {
			return row, fmt.Errorf("more fields than the %d result columns", len(kinds))
		}
		v, err := pw.value(kinds[i], raw)
		if err != nil {
			return row, fmt.Errorf("column %s: %w", pw.p.names[i], err)
		}
		row = append(row, v.Level(0, definition(v), i))
	}
	if o.err != nil {
		return row, o.err
	}
	if len(row) != len(kinds) {
		return row, fmt.Errorf("%d fields for %d result columns", len(row), len(kinds))
	}
	return row, nil
}

func definition(v parquet.Value) int {
	if v.IsNull() {
		return 0
	}
	return 1
}

// value converts one raw JSON value, as docs/formats.md says the JSON
// format writes a column of kind k.
func (pw *storageParquetWriter) value(k sql.Kind, raw []byte) (parquet.Value, error) {
	if string(raw) == "null" {
		return parquet.NullValue(), nil
	}
	bad := func() (parquet.Value, error) {
		return parquet.Value{}, fmt.Errorf("%.40q is not a JSON %s", raw, k)
	}
	switch k {
	case sql.Boolean:
		switch string(raw) {
		case "true":
			return parquet.BooleanValue(true), nil
		case "false":
			return parquet.BooleanValue(false), nil
		}
		return bad()
	case sql.Integer:
		n, ok := parseJSONInt(raw)
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return bad()
		}
		return parquet.Int32Value(int32(n)), nil
	case sql.BigInt:
		n, ok := parseJSONInt(raw)
		if !ok {
			return bad()
		}
		return parquet.Int64Value(n), nil
	case sql.Double:
		// The string does not outlive the call: ParseFloat's error holds
		// it, and is dropped here.
		f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(raw), len(raw)), 64)
		if err != nil {
			return bad()
		}
		return parquet.DoubleValue(f), nil
	case sql.Array, sql.Map, sql.Record:
		return parquet.ByteArrayValue(raw), nil
	}
	text, arena, ok := jsonString(raw, pw.arena)
	pw.arena = arena
	if !ok {
		return bad()
	}
	switch k {
	case sql.Bytes:
		start := len(pw.arena)
		pw.arena = slices.Grow(pw.arena, base64.StdEncoding.DecodedLen(len(text)))
		dst := pw.arena[start : start+base64.StdEncoding.DecodedLen(len(text))]
		n, err := base64.StdEncoding.Decode(dst, text)
		if err != nil {
			return bad()
		}
		pw.arena = pw.arena[:start+n]
		return parquet.ByteArrayValue(pw.arena[start : start+n : start+n]), nil
	case sql.Timestamp:
		us, ok := sql.ParseTimestamp(text)
		if !ok {
			return bad()
		}
		return parquet.Int64Value(us), nil
	case sql.Date:
		d, ok := sql.ParseDate(text)
		if !ok || d < math.MinInt32 || d > math.MaxInt32 {
			return bad()
		}
		return parquet.Int32Value(int32(d)), nil
	case sql.Time:
		us, ok := sql.ParseTime(text)
		if !ok {
			return bad()
		}
		return parquet.Int64Value(us), nil
	case sql.Interval:
		us, ok := parseISODuration(text)
		if !ok {
			return bad()
		}
		return parquet.Int64Value(us), nil
	}
	return parquet.ByteArrayValue(text), nil
}

// parseJSONInt reads a JSON integer (no fraction or exponent).
func parseJSONInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return int64(-u), true
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

// parseISODuration reads an INTERVAL as the JSON format writes it, an
// ISO 8601 duration of days, hours, minutes and seconds (a day is 24
// hours): "-P1DT2H3M4.5S", "PT0S". It returns microseconds.
func parseISODuration(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) < 2 || b[0] != 'P' {
		return 0, false
	}
	b = b[1:]
	var us int64
	inTime, any := false, false
	for len(b) > 0 {
		if b[0] == 'T' {
			if inTime {
				return 0, false
			}
			inTime, b = true, b[1:]
			continue
		}
		i := 0
		for i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == '.') {
			i++
		}
		if i == 0 || i == len(b) {
			return 0, false
		}
		unit := b[i]
		var mult int64
		switch unit {
		case 'D':
			mult = 86_400_000_000
		case 'H':
			mult = 3_600_000_000
		case 'M':
			mult = 60_000_000
		case 'S':
			mult = 1_000_000
		}
		if mult == 0 || (unit == 'D') == inTime {
			return 0, false
		}
		num := b[:i]
		var whole, frac int64
		if dot := slices.Index(num, '.'); dot >= 0 {
			if unit != 'S' {
				return 0, false
			}
			fd := num[dot+1:]
			if len(fd) == 0 || len(fd) > 6 {
				return 0, false
			}
			f, ok := parseJSONInt(fd)
			if !ok {
				return 0, false
			}
			for j := len(fd); j < 6; j++ {
				f *= 10
			}
			frac, num = f, num[:dot]
		}
		w, ok := parseJSONInt(num)
		if !ok || w > math.MaxInt64/mult {
			return 0, false
		}
		whole = w
		us += whole*mult + frac
		any = true
		b = b[i+1:]
	}
	if !any {
		return 0, false
	}
	if neg {
		us = -us
	}
	return us, true
}

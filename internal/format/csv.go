package format

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/sql"
)

// CSV encodes rows as RFC 4180 records: one line per row, fields in column
// order, separated by the delimiter and ended by the line ending (CRLF by
// default). A field is quoted when it holds the delimiter, '"', CR or LF
// (or with Options.QuoteAll), with '"' doubled inside. NULL is NullText,
// unquoted. Scalars are written in the text of their JSON form without the
// JSON quotes (timestamps RFC 3339, bytes base64, booleans true/false,
// doubles the shortest digits that read back, NaN and ±Infinity as NaN,
// Infinity, -Infinity); arrays, maps and records as their JSON text in one
// field. docs/formats.md has the table.
//
// With Options.Header it is a [BatchEncoder] whose AppendBatchStart writes
// the column names. A CSV is not safe for concurrent use.
type CSV struct {
	j        *JSON // the per-column ops and the nested-value writer
	delim    []byte
	null     []byte
	eol      []byte
	quoteAll bool
	header   []byte // the header line, nil without Options.Header
	scratch  []byte
}

var _ BatchEncoder = (*CSV)(nil)

// NewCSV returns a CSV encoder for rows of the given columns. It fails for
// an invalid delimiter or line ending, and for the columns [NewJSON]
// refuses.
func NewCSV(cols []sql.OutputColumn, opts Options) (*CSV, error) {
	j, err := NewJSON(cols)
	if err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	d := opts.Delimiter
	if d == 0 {
		d = ','
	}
	if d == '"' || d == '\r' || d == '\n' || !utf8.ValidRune(d) || d == utf8.RuneError {
		return nil, fmt.Errorf("csv: invalid delimiter %q", d)
	}
	e := &CSV{j: j, delim: utf8.AppendRune(nil, d), null: []byte(opts.NullText), quoteAll: opts.QuoteAll}
	switch opts.LineEnding {
	case "", "\r\n":
		e.eol = []byte("\r\n")
	case "\n":
		e.eol = []byte("\n")
	default:
		return nil, fmt.Errorf("csv: line ending %q is neither \"\\r\\n\" nor \"\\n\"", opts.LineEnding)
	}
	for i := range e.null {
		if c := e.null[i]; c == '"' || c == '\r' || c == '\n' {
			return nil, errors.New(`csv: NULL text must not hold '"', CR or LF`)
		}
	}
	if len(e.null) > 0 && containsDelim(e.null, e.delim) {
		return nil, errors.New("csv: NULL text must not hold the delimiter")
	}
	if opts.Header {
		e.header = []byte{}
		for i, c := range cols {
			if i > 0 {
				e.header = append(e.header, e.delim...)
			}
			e.header = e.appendField(e.header, []byte(c.Name), true)
		}
		e.header = append(e.header, e.eol...)
	}
	return e, nil
}

// ContentType is "text/csv; charset=utf-8; header=present" (or absent).
func (e *CSV) ContentType() string {
	if e.header != nil {
		return "text/csv; charset=utf-8; header=present"
	}
	return "text/csv; charset=utf-8; header=absent"
}

// AppendBatchStart appends the header line, when there is one.
func (e *CSV) AppendBatchStart(dst []byte) []byte { return append(dst, e.header...) }

// AppendBatchEnd appends nothing: a CSV batch needs no trailer.
func (e *CSV) AppendBatchEnd(dst []byte, rows int) ([]byte, error) { return dst, nil }

// AppendRow appends row as one record and the line ending.
func (e *CSV) AppendRow(dst []byte, row []sql.Value) ([]byte, error) {
	cols := e.j.cols
	if len(row) != len(cols) {
		return dst, fmt.Errorf("csv: row has %d values for %d columns", len(row), len(cols))
	}
	start := len(dst)
	for i := range cols {
		c := &cols[i]
		v := &row[i]
		if i > 0 {
			dst = append(dst, e.delim...)
		}
		if v.Null || c.op == opNull {
			dst = append(dst, e.null...)
			continue
		}
		p := len(dst)
		switch c.op {
		case opBool:
			dst = e.scalar(appendBool(dst, v.I), p)
		case opInt:
			dst = e.scalar(strconv.AppendInt(dst, v.I, 10), p)
		case opFloat64:
			dst = e.scalar(appendCSVFloat(dst, v.F, 64), p)
		case opFloat32:
			bits := 64
			if float64(float32(v.F)) == v.F {
				bits = 32
			}
			dst = e.scalar(appendCSVFloat(dst, v.F, bits), p)
		case opString:
			dst = e.appendString(dst, v.B)
		case opBytes:
			dst = e.scalar(unquoteTail(appendBase64(dst, v.B), p), p)
		case opTimestampMicros:
			dst = e.scalar(unquoteTail(appendTimestamp(dst, v.I), p), p)
		case opDate:
			dst = e.scalar(unquoteTail(appendDate(dst, v.I), p), p)
		case opTimeMicros:
			dst = e.scalar(unquoteTail(appendTime(dst, v.I), p), p)
		case opInterval:
			dst = e.scalar(unquoteTail(appendInterval(dst, v.I), p), p)
		case opNested:
			dv := decode.Value{Kind: c.kind, B: v.B, Nested: v.Nested}
			var err error
			if e.scratch, err = e.j.appendNested(e.scratch[:0], c.node, &dv, 0); err != nil {
				return dst[:start], fmt.Errorf("csv: column %s: %w", c.name, err)
			}
			dst = e.appendField(dst, e.scratch, false)
		}
	}
	return append(dst, e.eol...), nil
}

// unquoteTail strips the quotes of the JSON string (one that needs no
// escapes) written at dst[p:].
func unquoteTail(dst []byte, p int) []byte {
	n := copy(dst[p:], dst[p+1:len(dst)-1])
	return dst[:p+n]
}

// scalar quotes the field written at dst[p:] when it must be (QuoteAll, or
// a delimiter such as '-' or ':' that a number or a timestamp holds).
func (e *CSV) scalar(dst []byte, p int) []byte {
	if !e.quoteAll && !e.needsQuotes(dst[p:]) {
		return dst
	}
	e.scratch = append(e.scratch[:0], dst[p:]...)
	return e.appendField(dst[:p], e.scratch, true)
}

// appendString appends a string value: as a field, with bytes that are not
// valid UTF-8 replaced by U+FFFD (as JSON does), and quoted when it equals
// the NULL text.
func (e *CSV) appendString(dst, s []byte) []byte {
	if !utf8.Valid(s) {
		e.scratch = e.scratch[:0]
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				e.scratch = append(e.scratch, "\uFFFD"...)
			} else {
				e.scratch = append(e.scratch, s[i:i+size]...)
			}
			i += size
		}
		s = e.scratch
	}
	return e.appendField(dst, s, string(s) == string(e.null))
}

// appendField appends text as one field, quoted when it must be (or when
// force or QuoteAll says so).
func (e *CSV) appendField(dst, text []byte, force bool) []byte {
	if !force && !e.quoteAll && !e.needsQuotes(text) {
		return append(dst, text...)
	}
	dst = append(dst, '"')
	for {
		i := indexByte(text, '"')
		if i < 0 {
			break
		}
		dst = append(dst, text[:i+1]...)
		dst = append(dst, '"')
		text = text[i+1:]
	}
	dst = append(dst, text...)
	return append(dst, '"')
}

func (e *CSV) needsQuotes(text []byte) bool {
	if len(e.delim) == 1 {
		d := e.delim[0]
		for _, c := range text {
			if c == d || c == '"' || c == '\r' || c == '\n' {
				return true
			}
		}
		return false
	}
	for _, c := range text {
		if c == '"' || c == '\r' || c == '\n' {
			return true
		}
	}
	return containsDelim(text, e.delim)
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func containsDelim(text, delim []byte) bool {
	for i := 0; i+len(delim) <= len(text); i++ {
		if string(text[i:i+len(delim)]) == string(delim) {
			return true
		}
	}
	return false
}

// appendCSVFloat is appendFloat with NaN and the infinities spelled out
// (NaN, Infinity, -Infinity: what strconv.ParseFloat, Python's float and
// PostgreSQL read).
func appendCSVFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return appendFloat(dst, f, bits)
}

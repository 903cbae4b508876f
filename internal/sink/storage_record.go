package sink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/sql"
)

// This file reads values back from the records the storage sink is given,
// without decoding more than it needs: the event time of a record, and
// the fields of a JSON record for Parquet.

// jsonObject iterates over the top-level fields of one JSON object (an
// NDJSON record) without decoding it: it checks nesting and strings, not
// the values' grammar.
type jsonObject struct {
	b   []byte
	i   int
	n   int // fields returned
	end bool
	err error
}

// reset starts on rec.
func (o *jsonObject) reset(rec []byte) {
	*o = jsonObject{b: rec}
	i := skipSpace(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		o.fail("not a JSON object")
		return
	}
	o.i = skipSpace(rec, i+1)
	if o.i < len(rec) && rec[o.i] == '}' {
		o.end = true
	}
}

func (o *jsonObject) fail(msg string) {
	o.end, o.err = true, errors.New(msg)
}

// next returns the raw value of the next field, or false at the end of
// the object or on an error (Err).
func (o *jsonObject) next() ([]byte, bool) {
	if o.end {
		return nil, false
	}
	b, i := o.b, o.i
	if i >= len(b) || b[i] != '"' {
		o.fail("not a JSON object: a key is missing")
		return nil, false
	}
	kEnd := skipString(b, i)
	if kEnd < 0 {
		o.fail("not a JSON object: an unterminated key")
		return nil, false
	}
	i = skipSpace(b, kEnd)
	if i >= len(b) || b[i] != ':' {
		o.fail("not a JSON object: a ':' is missing")
		return nil, false
	}
	i = skipSpace(b, i+1)
	vEnd := skipValue(b, i)
	if vEnd < 0 {
		o.fail("not a JSON object: a value is malformed")
		return nil, false
	}
	raw := b[i:vEnd]
	i = skipSpace(b, vEnd)
	switch {
	case i >= len(b):
		o.fail("not a JSON object: unterminated")
		return nil, false
	case b[i] == '}':
		o.end = true
	case b[i] == ',':
		i = skipSpace(b, i+1)
	default:
		o.fail("not a JSON object: a ',' is missing")
		return nil, false
	}
	o.i = i
	o.n++
	return raw, true
}

// jsonString returns the text of a raw JSON string, appending to scratch
// when it has escapes to undo; ok is false when raw is not a string.
func jsonString(raw, scratch []byte) (text, scratchOut []byte, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, scratch, false
	}
	body := raw[1 : len(raw)-1]
	i := bytes.IndexByte(body, '\\')
	if i < 0 {
		return body, scratch, true
	}
	start := len(scratch)
	scratch = append(scratch, body[:i]...)
	for i < len(body) {
		c := body[i]
		if c != '\\' {
			scratch = append(scratch, c)
			i++
			continue
		}
		if i+1 >= len(body) {
			return nil, scratch[:start], false
		}
		switch e := body[i+1]; e {
		case '"', '\\', '/':
			scratch = append(scratch, e)
		case 'b':
			scratch = append(scratch, '\b')
		case 'f':
			scratch = append(scratch, '\f')
		case 'n':
			scratch = append(scratch, '\n')
		case 'r':
			scratch = append(scratch, '\r')
		case 't':
			scratch = append(scratch, '\t')
		case 'u':
			r, n := jsonRune(body[i:])
			if n == 0 {
				return nil, scratch[:start], false
			}
			scratch = utf8.AppendRune(scratch, r)
			i += n
			continue
		default:
			return nil, scratch[:start], false
		}
		i += 2
	}
	return scratch[start:len(scratch):len(scratch)], scratch, true
}

// jsonRune decodes \uXXXX at the start of b (a surrogate pair as one
// rune; a lone surrogate as U+FFFD, as encoding/json does) and returns it
// and the bytes it took, 0 if b does not start with one.
func jsonRune(b []byte) (rune, int) {
	hex4 := func(b []byte) (rune, bool) {
		if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range b[2:6] {
			switch {
			case c >= '0' && c <= '9':
				r = r<<4 | rune(c-'0')
			case c >= 'a' && c <= 'f':
				r = r<<4 | rune(c-'a'+10)
			case c >= 'A' && c <= 'F':
				r = r<<4 | rune(c-'A'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	r, ok := hex4(b)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := hex4(b[6:]); ok {
			if p := utf16.DecodeRune(r, r2); p != utf8.RuneError {
				return p, 12
			}
		}
		return utf8.RuneError, 6
	}
	return r, 6
}

// storageTimeReader reads a record's event time: the timeColumn value.
type storageTimeReader struct {
	kind   sql.Kind // Timestamp or Date
	index  int
	format string
	delim  rune
	avro   *avro.Schema // resolved to read only the time field
	field  string
	row    map[string]any
}

// newStorageTimeReader returns the reader of c's timeColumn, nil without
// one.
func newStorageTimeReader(c *storageConfig) (*storageTimeReader, error) {
	if c.timeIndex < 0 {
		return nil, nil
	}
	r := &storageTimeReader{kind: c.timeKind, index: c.timeIndex, format: c.format, delim: c.delimiter, field: c.timeField}
	if c.format == storageAvro {
		reader, err := storageAvroReader(c.out.Schema, c.timeIndex)
		if err != nil {
			return nil, err
		}
		if r.avro, err = avro.Resolve(c.avroSchema, reader); err != nil {
			return nil, fmt.Errorf("read the time column from Avro records: %w", err)
		}
	}
	return r, nil
}

// storageAvroReader is a reader schema of the output record that keeps
// only field i.
func storageAvroReader(schema string, i int) (*avro.Schema, error) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal([]byte(schema), &rec); err != nil {
		return nil, fmt.Errorf("the output's Avro schema: %w", err)
	}
	var fields []json.RawMessage
	if err := json.Unmarshal(rec["fields"], &fields); err != nil || i >= len(fields) {
		return nil, errors.New("the output's Avro schema does not list the result columns")
	}
	keep, err := json.Marshal([]json.RawMessage{fields[i]})
	if err != nil {
		return nil, err
	}
	rec["fields"] = keep
	text, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	return avro.Parse(string(text))
}

// time returns rec's event time; ok is false when the value is NULL or
// not a time (the roll's write time is used then). An error means the
// record is not what the format promised.
func (r *storageTimeReader) time(rec []byte) (t time.Time, ok bool, err error) {
	var text []byte
	switch r.format {
	case storageAvro:
		if len(rec) < 10 {
			return t, false, errors.New("not an Avro single-object record")
		}
		clear(r.row)
		if r.row == nil {
			r.row = map[string]any{}
		}
		if _, err := r.avro.Decode(rec[10:], &r.row); err != nil {
			return t, false, fmt.Errorf("decode the Avro record: %w", err)
		}
		return avroTime(r.row[r.field])
	case storageCSV:
		text = csvField(rec, r.index, r.delim)
	default: // JSON, and Parquet from JSON
		var o jsonObject
		o.reset(rec)
		for {
			raw, ok := o.next()
			if !ok {
				break
			}
			if o.n-1 == r.index {
				text = raw
				break
			}
		}
		if o.err != nil {
			return t, false, o.err
		}
		if s, _, isStr := jsonString(text, nil); isStr {
			text = s
		} else {
			return t, false, nil // null
		}
	}
	return r.parse(text)
}

func (r *storageTimeReader) parse(text []byte) (time.Time, bool, error) {
	if r.kind == sql.Date {
		if d, ok := sql.ParseDate(text); ok {
			return time.Unix(d*86400, 0).UTC(), true, nil
		}
	}
	if us, ok := sql.ParseTimestamp(text); ok {
		return time.UnixMicro(us).UTC(), true, nil
	}
	return time.Time{}, false, nil
}

// avroTime reads a decoded Avro time value (a union's branch included).
func avroTime(v any) (time.Time, bool, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), true, nil
	case map[string]any:
		for _, inner := range x {
			return avroTime(inner)
		}
	}
	return time.Time{}, false, nil
}

// csvField returns field i of one CSV record (quotes removed, doubled
// quotes kept doubled: a time has none), or nil.
func csvField(rec []byte, i int, delim rune) []byte {
	var d [utf8.UTFMax]byte
	dl := utf8.EncodeRune(d[:], delim)
	sep := d[:dl]
	for n := 0; ; n++ {
		var field []byte
		if len(rec) > 0 && rec[0] == '"' {
			j := 1
			for j < len(rec) {
				if rec[j] == '"' {
					if j+1 < len(rec) && rec[j+1] == '"' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			field = rec[1:min(j, len(rec))]
			rec = rec[min(j+1, len(rec)):]
		} else {
			end := len(rec)
			if k := bytes.Index(rec, sep); k >= 0 {
				end = k
			}
			if k := bytes.IndexAny(rec[:end], "\r\n"); k >= 0 {
				end = k
			}
			field, rec = rec[:end], rec[end:]
		}
		if n == i {
			return field
		}
		if !bytes.HasPrefix(rec, sep) {
			return nil
		}
		rec = rec[dl:]
	}
}

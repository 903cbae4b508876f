package sink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"mime"
	"strconv"
	"time"

	"github.com/twmb/avro"
)

// fieldReader reads one result column back from encoded records, for
// sinks that route by a value (a Kafka key). It reads JSON objects
// (application/x-ndjson), whose fields come in column order, with the
// storage sink's scanner, and Avro single-object records (avro/binary)
// through a reader schema of that column alone; other encodings carry a
// batch per record, or need their format options to be read.
type fieldReader struct {
	column  string
	index   int
	json    bool
	scratch []byte // unescaped JSON strings
	avro    *avro.Schema
	field   string
	row     map[string]any
}

// newFieldReader returns a reader of column from records of out.
func newFieldReader(out Output, column string) (*fieldReader, error) {
	col, i := out.Column(column)
	if i < 0 {
		return nil, fmt.Errorf("%q is not a result column (the query returns %s)", column, columnNames(out))
	}
	r := &fieldReader{column: col.Name, index: i}
	mt, _, _ := mime.ParseMediaType(out.ContentType)
	switch mt {
	case "application/x-ndjson":
		r.json = true
		return r, nil
	case "avro/binary":
		writer, err := avro.Parse(out.Schema)
		if err != nil {
			return nil, fmt.Errorf("the output's Avro schema: %w", err)
		}
		reader, err := storageAvroReader(out.Schema, i)
		if err != nil {
			return nil, err
		}
		if r.avro, err = avro.Resolve(writer, reader); err != nil {
			return nil, fmt.Errorf("read column %s from Avro records: %w", col.Name, err)
		}
		var rec struct {
			Fields []struct {
				Name string `json:"name"`
			} `json:"fields"`
		}
		if err := json.Unmarshal([]byte(out.Schema), &rec); err != nil || len(rec.Fields) != len(out.Columns) {
			return nil, errors.New("the output's Avro schema does not list the result columns")
		}
		r.field, r.row = rec.Fields[i].Name, map[string]any{}
		return r, nil
	}
	return nil, fmt.Errorf("a value can be read from JSON records (one object per row) or Avro single-object records, not %s records (the format options make each record a batch, or CSV)", mt)
}

// text returns the column's value in rec as text: strings as they are,
// numbers and Booleans as JSON writes them, timestamps in RFC 3339, other
// values as JSON; nil for NULL. The text may view rec or the reader's
// memory: valid until the next call.
func (r *fieldReader) text(rec []byte) ([]byte, error) {
	if r.json {
		var o jsonObject
		o.reset(rec)
		for {
			raw, ok := o.next()
			if !ok {
				break
			}
			if o.n-1 != r.index {
				continue
			}
			if bytes.Equal(raw, []byte("null")) {
				return nil, nil
			}
			text, scratch, isStr := jsonString(raw, r.scratch[:0])
			r.scratch = scratch
			if isStr {
				return text, nil
			}
			return raw, nil
		}
		if o.err != nil {
			return nil, o.err
		}
		return nil, fmt.Errorf("no column %q in the record", r.column)
	}
	// Single-object encoding: C3 01, the schema's 8-byte fingerprint, the
	// body.
	if len(rec) < 10 || rec[0] != 0xC3 || rec[1] != 0x01 {
		return nil, errors.New("not an Avro single-object record")
	}
	clear(r.row)
	if _, err := r.avro.Decode(rec[10:], &r.row); err != nil {
		return nil, fmt.Errorf("decode the Avro record: %w", err)
	}
	return avroText(r.row[r.field])
}

func avroText(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(x), nil
	case []byte:
		return x, nil
	case int32:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(nil, x, 10), nil
	case int:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case float32:
		return strconv.AppendFloat(nil, float64(x), 'g', -1, 32), nil
	case float64:
		return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
	case bool:
		return strconv.AppendBool(nil, x), nil
	case time.Time:
		return x.UTC().AppendFormat(nil, time.RFC3339Nano), nil
	case *big.Rat:
		return []byte(x.FloatString(9)), nil
	case map[string]any:
		// A union decodes as {"type": value}.
		if len(x) == 1 {
			for _, inner := range x {
				if _, nested := inner.(map[string]any); !nested {
					return avroText(inner)
				}
			}
		}
	}
	return json.Marshal(v)
}

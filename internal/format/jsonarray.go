package format

import "github.com/sluicehq/sluice/internal/sql"

// newJSONFormat is the "JSON" entry of [New]: NDJSON, or a JSON array per
// batch with Options.Array.
func newJSONFormat(cols []sql.OutputColumn, opts Options) (Encoder, error) {
	j, err := NewJSON(cols)
	if err != nil {
		return nil, err
	}
	if opts.Array {
		return &JSONArray{j: j, first: true}, nil
	}
	return j, nil
}

// JSONArray encodes each batch as one JSON array of row objects:
//
//	[{"a":1},
//	{"a":2}]
//
// with one row per line and a '\n' after the closing bracket; an empty
// batch is "[]\n". It is a [BatchEncoder]: rows are only valid JSON between
// AppendBatchStart and AppendBatchEnd.
type JSONArray struct {
	j     *JSON
	first bool // no row yet in the batch
}

var _ BatchEncoder = (*JSONArray)(nil)

// ContentType is "application/json".
func (e *JSONArray) ContentType() string { return "application/json" }

// AppendBatchStart appends "[".
func (e *JSONArray) AppendBatchStart(dst []byte) []byte {
	e.first = true
	return append(dst, '[')
}

// AppendRow appends the row's object, preceded by ",\n" unless it is the
// first of the batch.
func (e *JSONArray) AppendRow(dst []byte, row []sql.Value) ([]byte, error) {
	start := len(dst)
	if !e.first {
		dst = append(dst, ',', '\n')
	}
	out, err := e.j.AppendRow(dst, row)
	if err != nil {
		return dst[:start], err
	}
	e.first = false
	return out[:len(out)-1], nil // without the NDJSON '\n'
}

// AppendBatchEnd appends "]\n".
func (e *JSONArray) AppendBatchEnd(dst []byte, rows int) ([]byte, error) {
	e.first = true
	return append(dst, ']', '\n'), nil
}

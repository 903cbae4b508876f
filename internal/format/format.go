// Package format encodes result rows for a sink: the "encode" step of a
// job's data path (DESIGN.md sections 3 and 7). An [Encoder] appends the
// encoding of one row at a time to a buffer the caller reuses, so that
// encoding allocates nothing per row.
//
// The formats are JSON (newline-delimited, or an array per batch), CSV
// (RFC 4180) and Avro (single-object encoding per row, or an object
// container file per batch), chosen by name through [New] or
// [NewWithOptions]; docs/formats.md gives the mapping of every SQL type.
// Formats that frame a batch (a JSON array's brackets, a CSV header line,
// an Avro object container file's header and block) also implement
// [BatchEncoder].
package format

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/sql"
)

// Encoder appends the encoding of result rows to a buffer. Encoders are not
// safe for concurrent use; use one per task.
type Encoder interface {
	// AppendRow appends one row (values in the order of the columns the
	// encoder was made for) to dst and returns the extended buffer; for
	// NDJSON, one line with its trailing '\n'. On error (a nested value
	// that does not decode, a row of the wrong width) it returns dst as it
	// was.
	AppendRow(dst []byte, row []sql.Value) ([]byte, error)
	// ContentType is the media type of the encoding, such as
	// "application/x-ndjson".
	ContentType() string
}

// BatchEncoder is implemented by the encoders whose output frames a batch
// of rows: JSON with Options.Array, CSV with Options.Header, Avro with
// Options.Container. The pipeline that delivers batches must, when the
// encoder implements it, call AppendBatchStart on the batch buffer before
// the first row of every batch (also of an empty one it delivers), then
// AppendRow for each row, then AppendBatchEnd after the last row with the
// number of rows AppendRow accepted; only the bytes after AppendBatchEnd are
// a complete batch (for Avro containers AppendRow appends nothing to dst:
// the rows are kept in the encoder until AppendBatchEnd writes the whole
// file). A row AppendRow refused (returned an error for) does not count.
// Batches must not interleave on one encoder.
type BatchEncoder interface {
	Encoder
	// AppendBatchStart appends what precedes the first row of a batch
	// ("[" for a JSON array, the header line for CSV) and resets the
	// encoder's batch state.
	AppendBatchStart(dst []byte) []byte
	// AppendBatchEnd appends what follows the last row ("]" and a newline
	// for a JSON array; for an Avro container the header, one data block
	// with the batch's rows and the sync marker). rows is the number of
	// rows appended since AppendBatchStart; an encoder that counts them
	// itself reports a mismatch as an error and returns dst as it was.
	AppendBatchEnd(dst []byte, rows int) ([]byte, error)
}

// Options are the format options of a subscription. The zero value gives
// every format's defaults, which is what [New] uses. Options that do not
// belong to the chosen format are ignored.
type Options struct {
	// Array (JSON) makes each batch one JSON array ("[" row ",\n" row "]\n"),
	// content type application/json, instead of one object per line.
	Array bool

	// Header (CSV) starts each batch with a line of the column names.
	Header bool
	// Delimiter (CSV) separates fields; 0 means ','. It must be a valid
	// rune other than '"', '\r' and '\n'.
	Delimiter rune
	// NullText (CSV) is written for NULL, unquoted; default "" (an empty
	// field). A string value equal to NullText is quoted so that it stays
	// distinguishable (the empty string is then written as "").
	NullText string
	// QuoteAll (CSV) quotes every field except NULLs; by default a field
	// is quoted only when it holds the delimiter, '"', CR or LF (or equals
	// NullText).
	QuoteAll bool
	// LineEnding (CSV) ends each record: "\r\n" (the default, as RFC 4180
	// says) or "\n".
	LineEnding string

	// Container (Avro) makes each batch a complete Avro object container
	// file (header, one data block, sync marker) instead of one
	// single-object encoded datum per row.
	Container bool
	// Codec (Avro container) compresses the data block: "null" (the
	// default, also ""), "deflate", "snappy" or "zstandard" (also "zstd").
	Codec string
}

// ErrUnknownFormat is wrapped by the error [New] returns for a format name
// it does not know: the subscription API answers it with a 4xx.
var ErrUnknownFormat = errors.New("unknown output format")

// formats are the supported formats, by canonical name.
var formats = []struct {
	name string
	new  func(cols []sql.OutputColumn, opts Options) (Encoder, error)
}{
	{"JSON", newJSONFormat},
	{"CSV", func(cols []sql.OutputColumn, opts Options) (Encoder, error) { return NewCSV(cols, opts) }},
	{"AVRO", func(cols []sql.OutputColumn, opts Options) (Encoder, error) { return NewAvro(cols, opts) }},
}

// Names lists the supported format names, in their canonical spelling.
func Names() []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = f.name
	}
	return out
}

// New returns the encoder for a format name ("JSON", "CSV" or "AVRO";
// case-insensitive) and the columns of the result, with the format's
// default options: NewWithOptions(name, cols, Options{}). An unknown name
// is an error wrapping [ErrUnknownFormat] that lists the supported formats.
func New(name string, cols []sql.OutputColumn) (Encoder, error) {
	return NewWithOptions(name, cols, Options{})
}

// NewWithOptions is [New] with format options (see [Options]). An invalid
// option for the chosen format (a bad CSV delimiter, an unknown Avro codec)
// is an error. The encoder implements [BatchEncoder] when the options make
// the format frame batches.
func NewWithOptions(name string, cols []sql.OutputColumn, opts Options) (Encoder, error) {
	for _, f := range formats {
		if strings.EqualFold(name, f.name) {
			return f.new(cols, opts)
		}
	}
	return nil, fmt.Errorf("%w %q (supported: %s)", ErrUnknownFormat, name, strings.Join(Names(), ", "))
}

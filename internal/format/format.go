// Package format encodes result rows for a sink: the "encode" step of a
// job's data path (DESIGN.md sections 3 and 7). An [Encoder] appends the
// encoding of one row at a time to a buffer the caller reuses, so that
// encoding allocates nothing per row.
//
// JSON (newline-delimited) is the format so far; docs/formats.md gives the
// mapping of every SQL type. CSV and Avro will be further Encoders chosen
// by name through [New]; formats that frame a batch (an Avro object
// container file's header, a CSV header line) will add that through an
// optional interface rather than by changing Encoder.
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

// ErrUnknownFormat is wrapped by the error [New] returns for a format name
// it does not know: the subscription API answers it with a 4xx.
var ErrUnknownFormat = errors.New("unknown output format")

// formats are the supported formats, by canonical name.
var formats = []struct {
	name string
	new  func(cols []sql.OutputColumn) (Encoder, error)
}{
	{"JSON", func(cols []sql.OutputColumn) (Encoder, error) { return NewJSON(cols) }},
}

// Names lists the supported format names, in their canonical spelling.
func Names() []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = f.name
	}
	return out
}

// New returns the encoder for a format name ("JSON"; case-insensitive) and
// the columns of the result. An unknown name is an error wrapping
// [ErrUnknownFormat] that lists the supported formats.
func New(name string, cols []sql.OutputColumn) (Encoder, error) {
	for _, f := range formats {
		if strings.EqualFold(name, f.name) {
			return f.new(cols)
		}
	}
	return nil, fmt.Errorf("%w %q (supported: %s)", ErrUnknownFormat, name, strings.Join(Names(), ", "))
}

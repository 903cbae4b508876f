// Package wire is the contract between a Kafka record and the schema its
// value was written with. It is pure and dependency-light so the job runtime
// and producers can use it without the registry or the store.
//
// A record's value is Avro binary. Its writer schema is named in one of two
// ways, tried in this order:
//
//  1. a record header Header ("sluice-schema-version") whose value is the
//     tenant's schema version in ASCII decimal, e.g. "3"; the whole value is
//     the Avro body;
//  2. without that header, Confluent framing: byte 0, then the schema's
//     global id as a 4-byte big-endian integer, then the Avro body. This is
//     what Confluent's serializers write, so their producers work unchanged.
//
// A record with the header is never read as framed, even when its value
// starts with byte 0 (a legitimate Avro body may). docs/wire-format.md is
// the user-facing description.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Header is the record header naming the tenant schema version a value was
// written with.
const Header = "sluice-schema-version"

// MaxID is the largest schema id Confluent framing can carry: Confluent's
// clients read the 4 bytes as a signed 32-bit integer.
const MaxID = math.MaxInt32

// confluentMagic is the first byte of a Confluent-framed value, and
// confluentPrefix the length of the magic byte plus the id.
const (
	confluentMagic  = 0
	confluentPrefix = 5
)

// Errors Parse returns, wrapped with the detail; test with errors.Is.
var (
	// ErrNoSchemaRef: no Header, and the value is not Confluent-framed (it
	// is empty or does not start with byte 0).
	ErrNoSchemaRef = errors.New("record names no schema: no " + Header + " header and no Confluent framing")
	// ErrBadHeader: the Header value is not a schema version.
	ErrBadHeader = errors.New("bad " + Header + " header")
	// ErrBadFrame: the value starts with byte 0 but is not a valid
	// Confluent frame (too short, or id 0 or beyond MaxID).
	ErrBadFrame = errors.New("bad Confluent frame")
)

// Ref names the writer schema of one record: the tenant's schema Version
// (from the header) or the global schema ID (from Confluent framing). The
// other field is 0.
type Ref struct {
	Version int
	ID      int64
}

// String is "version 3" or "id 17".
func (r Ref) String() string {
	if r.Version != 0 {
		return "version " + strconv.Itoa(r.Version)
	}
	return "id " + strconv.FormatInt(r.ID, 10)
}

// Parse finds the writer schema of a record with these headers and value
// and returns it with the Avro body, which aliases value. It does not
// allocate unless it fails, and never panics.
func Parse(headers []kgo.RecordHeader, value []byte) (Ref, []byte, error) {
	found := false
	var version int
	for _, h := range headers {
		if h.Key != Header {
			continue
		}
		v, err := parseVersion(h.Value)
		if err != nil {
			return Ref{}, nil, err
		}
		if found && v != version {
			return Ref{}, nil, fmt.Errorf("%w: two headers disagree (%d and %d)", ErrBadHeader, version, v)
		}
		found, version = true, v
	}
	if found {
		return Ref{Version: version}, value, nil
	}
	if len(value) == 0 || value[0] != confluentMagic {
		return Ref{}, nil, ErrNoSchemaRef
	}
	if len(value) < confluentPrefix {
		return Ref{}, nil, fmt.Errorf("%w: %d bytes, want at least %d (magic byte and 4-byte id)", ErrBadFrame, len(value), confluentPrefix)
	}
	id := binary.BigEndian.Uint32(value[1:confluentPrefix])
	if id == 0 || id > MaxID {
		return Ref{}, nil, fmt.Errorf("%w: schema id %d is out of range 1..%d", ErrBadFrame, id, MaxID)
	}
	return Ref{ID: int64(id)}, value[confluentPrefix:], nil
}

// parseVersion reads a version written by HeaderValue: 1 to 10 ASCII digits
// without sign or leading zero, at most math.MaxInt32.
func parseVersion(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 10 || b[0] == '0' {
		return 0, fmt.Errorf("%w: %q is not a positive decimal version", ErrBadHeader, truncate(b))
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %q is not a positive decimal version", ErrBadHeader, truncate(b))
		}
		n = n*10 + int(c-'0')
	}
	if n > math.MaxInt32 {
		return 0, fmt.Errorf("%w: version %s is too large", ErrBadHeader, b)
	}
	return n, nil
}

// truncate keeps error messages short when a header holds garbage.
func truncate(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// HeaderValue is the value of Header for a schema version: its ASCII
// decimal form.
func HeaderValue(version int) []byte {
	return strconv.AppendInt(nil, int64(version), 10)
}

// AppendConfluentFrame appends the Confluent frame prefix for schema id —
// byte 0 and the id as 4 bytes big-endian — to dst; append the Avro body
// after it. id must be in 1..MaxID, as every registry id is; others are
// truncated to 32 bits and make a frame Parse rejects.
func AppendConfluentFrame(dst []byte, id int64) []byte {
	dst = append(dst, confluentMagic)
	return binary.BigEndian.AppendUint32(dst, uint32(id))
}

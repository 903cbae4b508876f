package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/avro"
)

// Schema is one registered version of a tenant's schema.
type Schema struct {
	// ID is global: unique across tenants and never reused, even after the
	// tenant is deleted. Confluent-framed records carry it.
	ID      int64  `json:"id" doc:"Global schema id, unique across tenants; what Confluent-framed records carry."`
	Tenant  string `json:"tenant"`
	Version int    `json:"version" doc:"Per-tenant version, 1, 2, 3…; what the sluice-schema-version header carries."`
	// Text is the schema as registered, byte for byte.
	Text string `json:"schema" doc:"The schema as registered (the original text)."`
	// Canonical is the schema's Avro Parsing Canonical Form, which decides
	// whether two schemas are the same.
	Canonical string `json:"canonical" doc:"Avro Parsing Canonical Form: two schemas are the same version when these are equal."`
	// Fingerprint is the hex SHA-256 of Canonical.
	Fingerprint string    `json:"fingerprint" doc:"Hex SHA-256 of the canonical form."`
	Deleted     bool      `json:"deleted" doc:"Soft-deleted: hidden from lists, latest and compatibility checks, still resolvable by id and version."`
	CreatedAt   time.Time `json:"createdAt"`
	DeletedAt   time.Time `json:"deletedAt,omitzero"`
}

// Mode is a tenant's compatibility mode: what a new schema version must be
// compatible with before it is registered.
type Mode string

// The modes, as Confluent Schema Registry names them. "Latest" is the latest
// non-deleted version; the transitive modes check every non-deleted version.
const (
	// Backward: the new schema can read data written with the latest
	// version. Consumers upgrade first. The default.
	Backward Mode = "BACKWARD"
	// BackwardTransitive: the new schema can read data written with every
	// version.
	BackwardTransitive Mode = "BACKWARD_TRANSITIVE"
	// Forward: the latest version can read data written with the new schema.
	// Producers upgrade first.
	Forward Mode = "FORWARD"
	// ForwardTransitive: every version can read data written with the new
	// schema.
	ForwardTransitive Mode = "FORWARD_TRANSITIVE"
	// Full: both Backward and Forward.
	Full Mode = "FULL"
	// FullTransitive: both BackwardTransitive and ForwardTransitive.
	FullTransitive Mode = "FULL_TRANSITIVE"
	// None: no check.
	None Mode = "NONE"
)

// DefaultMode is the mode of a tenant that never set one.
const DefaultMode = Backward

// Modes lists every mode.
var Modes = []Mode{Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive, None}

// ParseMode reads a mode name, ignoring case and surrounding space.
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToUpper(strings.TrimSpace(s)))
	for _, known := range Modes {
		if m == known {
			return m, nil
		}
	}
	names := make([]string, len(Modes))
	for i, known := range Modes {
		names[i] = string(known)
	}
	return "", &Error{Code: InvalidMode, Field: "mode",
		Message: "unknown compatibility mode " + strconv.Quote(s) + ": use one of " + strings.Join(names, ", ")}
}

func (m Mode) backward() bool {
	return m == Backward || m == BackwardTransitive || m == Full || m == FullTransitive
}

func (m Mode) forward() bool {
	return m == Forward || m == ForwardTransitive || m == Full || m == FullTransitive
}

func (m Mode) transitive() bool {
	return m == BackwardTransitive || m == ForwardTransitive || m == FullTransitive
}

// Direction says which way round a compatibility check ran.
type Direction string

const (
	// Reads: the new schema, as reader, against data written with a
	// registered version (what BACKWARD requires).
	Reads Direction = "backward"
	// ReadBy: a registered version, as reader, against data written with
	// the new schema (what FORWARD requires).
	ReadBy Direction = "forward"
)

// Incompatibility is one reason a reader schema cannot read data written
// with a writer schema, by the Avro specification's resolution rules.
type Incompatibility struct {
	// Path locates the problem from the top-level type: record fields by
	// name, joined with '.', "[]" for array items and "{}" for map values,
	// e.g. "address.zip" or "tags[]"; "(root)" for the top-level type itself.
	Path string `json:"path" doc:"Field path from the top-level type, e.g. address.zip, tags[] (array items), attrs{} (map values); (root) for the top-level type."`
	// Reason says what does not resolve, naming writer and reader.
	Reason string `json:"reason"`
	// Version and Direction are set by the registry: the registered version
	// the new schema was checked against, and which of the two was the
	// reader.
	Version   int       `json:"version,omitempty"`
	Direction Direction `json:"direction,omitempty" enum:"backward,forward"`
}

// Describe is the reason with the registry's context, for people:
// "… (the new schema reading data written with version 2)".
func (i Incompatibility) Describe() string {
	switch i.Direction {
	case Reads:
		return i.Reason + " (the new schema reading data written with version " + strconv.Itoa(i.Version) + ")"
	case ReadBy:
		return i.Reason + " (version " + strconv.Itoa(i.Version) + " reading data written with the new schema)"
	}
	return i.Reason
}

// Parsed is a schema parsed and identified. It is read-only after Parse and
// safe to share between goroutines.
type Parsed struct {
	Avro        *avro.Schema
	Text        string
	Canonical   string
	Fingerprint string
	// Normalized is Text with insignificant formatting removed (compact,
	// object keys sorted): two schemas are the same registration when
	// these are equal, so a changed default or doc is a new version.
	Normalized string
}

// normalized is the schema rebuilt from its parsed tree (names qualified,
// {"type":"int"} as "int") and then compact with object keys sorted: unlike
// the canonical form it keeps defaults, docs, aliases and logical types.
func normalized(s *avro.Schema) string {
	text := s.String()
	if rebuilt, err := s.Root().Schema(); err == nil {
		text = rebuilt.String()
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return text // a bare primitive name
	}
	out, err := json.Marshal(v) // encoding/json sorts map keys
	if err != nil {
		return text
	}
	return string(out)
}

// normalizeText is normalized for stored schema text, which parsed once.
func normalizeText(text string) string {
	s, err := avro.Parse(text)
	if err != nil {
		return text
	}
	return normalized(s)
}

// Parse parses an Avro schema (its JSON text) and computes its canonical
// form and fingerprint. A bad schema is an InvalidSchema Error carrying the
// parser's message.
func Parse(text string) (*Parsed, error) {
	if strings.TrimSpace(text) == "" {
		return nil, &Error{Code: InvalidSchema, Field: "schema", Message: "the schema is empty"}
	}
	s, err := avro.Parse(text)
	if err != nil {
		return nil, &Error{Code: InvalidSchema, Field: "schema", Message: "not a valid Avro schema: " + err.Error()}
	}
	canon := s.Canonical()
	sum := sha256.Sum256(canon)
	return &Parsed{Avro: s, Text: text, Canonical: string(canon), Fingerprint: hex.EncodeToString(sum[:]),
		Normalized: normalized(s)}, nil
}

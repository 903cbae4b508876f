// Package subscription is the subscription service: the desired state of
// every job. Applications create, change, pause and delete subscriptions;
// each is validated before anything runs (the SQL analysed against the
// tenant's current reader schema, the format and sink settings checked),
// and workers reconcile their jobs toward it (internal/job runs them, the
// Runner in this package decides which).
package subscription

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/sink"
)

// States a subscription can be asked to be in.
const (
	Running = "running"
	Paused  = "paused"
)

// Delivery guarantees.
const (
	AtLeastOnce = "at-least-once"
	ExactlyOnce = "exactly-once"
)

// Spec is what an application says it wants: everything but the
// server-assigned fields.
type Spec struct {
	Application       string            `json:"application" minLength:"1" maxLength:"63" pattern:"^[a-z0-9][a-z0-9._-]*$" doc:"The application that owns the subscription."`
	Tenant            string            `json:"tenant" minLength:"1" maxLength:"63" doc:"The tenant whose topic the query reads."`
	SQL               string            `json:"sql" minLength:"1" doc:"The query, e.g. SELECT src_ip, dst_port FROM tenant WHERE action = 'deny'."`
	OutputFormat      string            `json:"outputFormat,omitempty" doc:"JSON (the default; NDJSON), CSV or AVRO."`
	FormatOptions     *FormatOptions    `json:"formatOptions,omitempty" doc:"Options of the output format."`
	Sink              sink.Spec         `json:"sink" doc:"Where results go: an object with type (file, discard) and that sink's settings, e.g. {\"type\": \"file\", \"path\": \"/var/sluice/out.ndjson\"}."`
	StartFrom         string            `json:"startFrom,omitempty" doc:"Where a new job starts: earliest (default), latest, or an RFC 3339 time."`
	DeliveryGuarantee string            `json:"deliveryGuarantee,omitempty" doc:"at-least-once (default) or exactly-once, which the kafka, postgres and storage sinks support (see docs/sinks.md)."`
	Lateness          string            `json:"lateness,omitempty" doc:"Allowed lateness of a windowed aggregation, e.g. '5 seconds' (the default) or '1 minute'."`
	Labels            map[string]string `json:"labels,omitempty" doc:"Free-form labels, up to 32."`
	Rollback          bool              `json:"rollback,omitempty" doc:"When an update's new epoch cannot start (its sink unreachable, say) after 3 attempts, go back to the last spec that ran (a new epoch) instead of retrying it with backoff."`
}

// FormatOptions are the options of the output format (docs/formats.md);
// those of other formats are ignored.
type FormatOptions struct {
	Array      bool   `json:"array,omitempty" doc:"JSON: each batch is one JSON array instead of one object per line."`
	Header     bool   `json:"header,omitempty" doc:"CSV: each batch starts with a line of the column names."`
	Delimiter  string `json:"delimiter,omitempty" maxLength:"4" doc:"CSV: the field delimiter, one character (default ,)."`
	NullText   string `json:"nullText,omitempty" maxLength:"64" doc:"CSV: what NULL is written as (default: an empty field)."`
	QuoteAll   bool   `json:"quoteAll,omitempty" doc:"CSV: quote every field, not only those that need it."`
	LineEnding string `json:"lineEnding,omitempty" enum:"\r\n,\n," doc:"CSV: \r\n (default, as RFC 4180) or \n."`
	Container  bool   `json:"container,omitempty" doc:"AVRO: each batch is a complete Avro container file (OCF) instead of one single-object encoded record per row."`
	Codec      string `json:"codec,omitempty" enum:"null,deflate,snappy,zstandard,zstd," doc:"AVRO container: the block compression."`
}

// Format returns the options as the format package takes them.
func (o *FormatOptions) Format() (format.Options, error) {
	if o == nil {
		return format.Options{}, nil
	}
	out := format.Options{Array: o.Array, Header: o.Header, NullText: o.NullText, QuoteAll: o.QuoteAll,
		LineEnding: o.LineEnding, Container: o.Container, Codec: o.Codec}
	if o.Delimiter != "" {
		r := []rune(o.Delimiter)
		if len(r) != 1 {
			return out, fmt.Errorf("delimiter %q: want one character", o.Delimiter)
		}
		out.Delimiter = r[0]
	}
	return out, nil
}

// Subscription is a stored subscription.
type Subscription struct {
	Spec
	ID string `json:"id" doc:"Server-assigned."`
	// State is the desired state, running or paused.
	State string `json:"state" enum:"running,paused" doc:"Desired state: running or paused (pause and resume change it)."`
	// SchemaVersion is the tenant's reader schema version the query was
	// analysed against; the job reads every record as this version.
	SchemaVersion int `json:"schemaVersion"`
	// Version changes with every write: it is the ETag.
	Version int64 `json:"version" doc:"Changes with every write; sent as the ETag, and If-Match takes it for optimistic concurrency."`
	// Epoch changes with every change the job restarts for.
	Epoch     int64     `json:"epoch" doc:"Increases with every change the job restarts for (spec changes, restart)."`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`

	deletedAt    time.Time
	purgeOffsets bool
	// source is the cluster and topic the job reads (empty before its
	// first start); started, whether any epoch of it ever started.
	source  Source
	started bool
}

// Source is where a job reads: a topic of a registered cluster.
type Source struct {
	Cluster string `json:"cluster"`
	Topic   string `json:"topic"`
}

func (s Source) String() string { return s.Cluster + "/" + s.Topic }

// Redacted returns the subscription with its sink's secret settings
// replaced by sink.Redacted: what the API shows.
func (s Subscription) Redacted() Subscription {
	s.Sink = sink.Redact(s.Sink)
	return s
}

// ETag is the subscription's entity tag.
func (s Subscription) ETag() string { return fmt.Sprintf(`"%d"`, s.Version) }

// storedSpec is the JSON of the spec column.
type storedSpec struct {
	SQL               string            `json:"sql"`
	OutputFormat      string            `json:"outputFormat"`
	FormatOptions     *FormatOptions    `json:"formatOptions,omitempty"`
	Sink              sink.Spec         `json:"sink"`
	StartFrom         string            `json:"startFrom"`
	DeliveryGuarantee string            `json:"deliveryGuarantee"`
	Lateness          string            `json:"lateness"`
	Labels            map[string]string `json:"labels,omitempty"`
	Rollback          bool              `json:"rollback,omitempty"`
}

func encodeSpec(s Spec) ([]byte, error) {
	return json.Marshal(storedSpec{s.SQL, s.OutputFormat, s.FormatOptions, s.Sink, s.StartFrom, s.DeliveryGuarantee, s.Lateness, s.Labels, s.Rollback})
}

// jobSpec is the part of a spec the job runs: a change to it is a new
// epoch. Labels and rollback are not.
func jobSpec(s Spec) []byte {
	s.Labels, s.Rollback = nil, false
	b, _ := encodeSpec(s)
	return b
}

func decodeSpec(s *Spec, b []byte) error {
	var st storedSpec
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	s.SQL, s.OutputFormat, s.FormatOptions, s.Sink, s.StartFrom, s.DeliveryGuarantee, s.Lateness, s.Labels, s.Rollback =
		st.SQL, st.OutputFormat, st.FormatOptions, st.Sink, st.StartFrom, st.DeliveryGuarantee, st.Lateness, st.Labels, st.Rollback
	return nil
}

// Code classifies an Error for the API.
type Code int

// The error codes.
const (
	Invalid      Code = iota + 1 // 422, naming Field (and for SQL, Line and Column)
	NotFound                     // 404
	Conflict                     // 409
	Precondition                 // 412: If-Match does not match
	TooMany                      // 429: a limit on subscriptions per application
)

// Error is a failure the caller can act on.
type Error struct {
	Code    Code
	Field   string // JSON path of the request field at fault, if any
	Message string
	// Line and Column locate an SQL error in the sql field.
	Line, Column int
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

func invalid(field, format string, args ...any) error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the Code of an *Error in err, 0 if there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

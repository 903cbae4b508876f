// Package sink delivers encoded result rows to their destination: the last
// step of a job's data path (DESIGN.md sections 3 and 6).
//
// A [Sink] acknowledges: Write returns only once a batch is durable at the
// destination, and the job runtime commits the batch's source offsets to
// Kafka only after that. A failed Write is retried under a [Retry] policy
// unless the error is [Permanent]; since a failed Write may have been
// partly applied, delivery is at-least-once unless a sink stores the
// offsets with its own writes ([OffsetStore]) and so makes it
// exactly-once.
//
// Sink types register by name ([Register]); a subscription names one in
// its [Spec], and [Open] validates the settings and opens it. docs/sinks.md
// documents every type, its settings and its delivery guarantee.
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/sql"
)

// Record is one encoded result and where it came from.
type Record struct {
	// Value is the encoded row (a view: valid during Write only).
	Value []byte
	// Partition is the source partition, -1 for aggregation results.
	Partition int32
	// Offset is the source offset, -1 for aggregation results.
	Offset int64
}

// Batch is what a sink writes at once. Records (and their Values) view
// memory the runtime reuses after Write returns: a sink that keeps
// anything past Write copies it.
type Batch struct {
	Records []Record
	// Offsets are, for each source partition, the next offset to consume
	// after this batch: what the runtime commits once the batch is
	// acknowledged. Exactly-once sinks store them with their own write.
	Offsets map[int32]int64
	// Meta holds, for some partitions of Offsets, the runtime's metadata
	// of that offset (an aggregation's replay bounds and emission
	// frontier): opaque text of at most a few hundred bytes that
	// exactly-once sinks store with the offset and give back with it.
	Meta map[int32]string
	// ID identifies the batch for idempotency: "<job>/<partition>/<first
	// offset>+<rows>" of its first record (derived from the watermark for
	// aggregations). A batch that is retried keeps its ID.
	ID string
	// ContentType is the media type of the records' encoding, such as
	// "application/x-ndjson".
	ContentType string
	// Schema is the Avro schema (JSON) the records are written with when
	// the format is Avro, for sinks that pass it on; empty otherwise.
	Schema string
}

// Sink delivers batches to one destination.
//
// The runtime calls Write for one batch at a time per task and never
// concurrently on one Sink; Close may be called concurrently with Write
// and after it. Sinks in this package are safe for concurrent use all the
// same.
type Sink interface {
	// Write delivers the batch and returns only when it is durable at the
	// destination (acknowledged), or an error. A failed Write may have
	// been partly applied: the runtime retries it (at-least-once) unless
	// the error is Permanent. Write after Close returns an error wrapping
	// ErrClosed.
	Write(ctx context.Context, b *Batch) error
	// Close flushes and releases resources. It is idempotent: calls after
	// the first return nil.
	Close(ctx context.Context) error
}

// OffsetStore is implemented by exactly-once sinks that store source
// offsets with their own writes (Batch.Offsets and Batch.Meta); the
// runtime then resumes from StoredOffsets when they are ahead of the
// consumer group's commits.
type OffsetStore interface {
	// StoredOffsets returns, per partition, the next offset to consume as
	// of the last acknowledged batch, and the Meta stored with it;
	// partitions never written are absent.
	StoredOffsets(ctx context.Context) (offsets map[int32]int64, meta map[int32]string, err error)
}

// ErrClosed is wrapped by the error of a Write after Close. It is
// permanent.
var ErrClosed = Permanent(errors.New("sink closed"))

// Env is what a sink may need from the runtime. The zero Env is valid: no
// logging, no private network addresses, file paths unrestricted.
type Env struct {
	// Logger receives the sink's logs (never secrets); nil discards them.
	Logger *slog.Logger
	// AllowPrivate lets network sinks connect to loopback, private and
	// link-local addresses (development and tests); otherwise they refuse
	// them, so that a subscription cannot reach into the data centre.
	AllowPrivate bool
	// Job is the id of the job the sink is opened for, when a job opens
	// it; sinks that store offsets key them by it.
	Job string
	// FileRoot, when set, confines file sinks to this directory: relative
	// paths resolve against it, and a path that leaves it (by "..", an
	// absolute path elsewhere or a symbolic link) is refused. Empty: paths
	// are taken as given, relative ones against the working directory.
	FileRoot string
	// ExactlyOnce asks a sink whose type supports it (Type.ExactlyOnce)
	// for exactly-once delivery; otherwise at-least-once is enough, which
	// some sinks do more cheaply.
	ExactlyOnce bool
	// Task names the task the sink is opened for among the job's tasks,
	// stably across restarts (see job.TaskName); sinks that fence a
	// previous instance of the task key on Job and Task.
	Task string
	// Tenant is the tenant whose data the job reads, when a job opens the
	// sink (storage path templates name it).
	Tenant string
	// Topic is the tenant topic the job reads, when a job opens the sink
	// (sinks that commit source offsets name it).
	Topic string
	// Source names the job's source, its cluster and topic ("cluster/
	// topic"), when a job opens the sink. Offsets belong to a source:
	// sinks that store them keep those of each source apart, so that a
	// job whose topic moved (to another cluster, or another topic) starts
	// afresh on the new one.
	Source string
	// KafkaCluster resolves a registered Kafka cluster by name for the
	// kafka sink; the empty name is the cluster holding Tenant's topic.
	// Nil: no cluster can be reached.
	KafkaCluster func(ctx context.Context, tenant, name string) (kafkaconn.Config, error)
	// Output describes the records the sink will be given, when known (a
	// subscription's sink is validated and opened with it): sinks that
	// read result values (a key column, a column mapping, typed files)
	// need it, and refuse settings the output cannot satisfy.
	Output Output
}

// Output is what a sink is given to write: the query's result columns
// and the format they are encoded in.
type Output struct {
	// Format is the format name ("json", "csv", "avro"); empty when
	// unknown.
	Format string
	// ContentType is the media type of the records (Batch.ContentType).
	ContentType string
	// Columns are the result columns, in the order rows carry them.
	Columns []sql.OutputColumn
	// Schema is the Avro schema (JSON) of the records when Format is
	// "avro" (Batch.Schema).
	Schema string
}

// Column returns the result column named name (exactly, then ignoring
// case) and its index, or -1.
func (o Output) Column(name string) (sql.OutputColumn, int) {
	for i, c := range o.Columns {
		if c.Name == name {
			return c, i
		}
	}
	for i, c := range o.Columns {
		if strings.EqualFold(c.Name, name) {
			return c, i
		}
	}
	return sql.OutputColumn{}, -1
}

func (e Env) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// ConfigError says what is wrong with one setting of a sink spec; the
// subscription API answers it with a 4xx naming the field. Open and
// Validate return every problem they find: one *ConfigError, or several
// joined (see [ConfigErrors]). Config errors are permanent.
type ConfigError struct {
	// Type is the sink type ("file").
	Type string
	// Field is the setting ("path"), "type" for the type itself.
	Field string
	// Message says what is wrong ("required", "directory /x does not
	// exist").
	Message string
}

func (e *ConfigError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("sink: %s: %s", e.Field, e.Message)
	}
	return fmt.Sprintf("%s sink: %s: %s", e.Type, e.Field, e.Message)
}

// ConfigErrors returns every *ConfigError in err's tree, in order.
func ConfigErrors(err error) []*ConfigError {
	var out []*ConfigError
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) {
		case nil:
		case *ConfigError:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// permanentError marks an error a retry cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one a retry cannot fix (bad configuration, a
// destination that refused the data as invalid, such as an HTTP 4xx);
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked
// Permanent or is a *ConfigError.
func IsPermanent(err error) bool {
	var p *permanentError
	var c *ConfigError
	return errors.As(err, &p) || errors.As(err, &c)
}

// BatchError reports a batch that was partly delivered: the records at
// the indexes in Failed were not, the others were. A runtime may retry
// just those; retrying the whole batch is always correct for
// at-least-once sinks.
type BatchError struct {
	Failed []int
	Err    error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("%d records of the batch failed: %v", len(e.Failed), e.Err)
}

func (e *BatchError) Unwrap() error { return e.Err }

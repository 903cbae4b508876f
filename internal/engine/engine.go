package engine

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/sql"
)

// Defaults for the Options fields that name them.
const (
	DefaultLateness    = 5 * time.Second
	DefaultIdleTimeout = 30 * time.Second
	DefaultMaxGroups   = 1_000_000
)

// LatePolicy says what happens to a record that arrives after every window
// it belongs to was emitted.
type LatePolicy uint8

// The late policies.
const (
	// DropLate counts the record in Stats.Late and drops it.
	DropLate LatePolicy = iota
	// DeadLetterLate counts it and returns a *RecordError with ReasonLate,
	// so that the runtime dead-letters it.
	DeadLetterLate
)

// Options configure a Task. Zero values take the documented defaults.
type Options struct {
	// Lateness is the allowed lateness: how far behind the highest event
	// time of a partition the watermark stays. Default DefaultLateness
	// (the subscription option `lateness`).
	Lateness time.Duration
	// IdleTimeout: a partition that sent nothing for this long (processing
	// time, by Now) stops holding the watermark back. Default
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Late is DropLate (default) or DeadLetterLate.
	Late LatePolicy
	// MaxGroups bounds the open (window, key) groups (and sessions) held in
	// memory; default DefaultMaxGroups. A record that would open a group
	// beyond it fails with a *RecordError of ReasonTooManyGroups wrapping
	// ErrTooManyGroups and is not applied. See the package documentation
	// for the memory a group takes.
	MaxGroups int
	// Now is the processing clock; default time.Now. Tests use a fake.
	Now func() time.Time
	// GroupError, when set, is told about a group whose HAVING or result
	// columns failed to evaluate at emission (division by zero, a SUM out
	// of the BIGINT range after a session merge). Such a group is skipped
	// and counted in Stats.GroupErrors either way.
	GroupError func(err error)
}

func (o *Options) defaults() {
	if o.Lateness <= 0 {
		o.Lateness = DefaultLateness
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = DefaultMaxGroups
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Input is one record handed to Process.
type Input struct {
	Partition int32
	Offset    int64
	// Payload is the Avro body of the record.
	Payload []byte
	// Filter decodes Query.Fields[:Query.FilterFields]; nil when
	// FilterFields == 0 (then All is used).
	Filter *decode.Decoder
	// All decodes all Query.Fields.
	All *decode.Decoder
}

// Output is one result row.
type Output struct {
	// Values hold one value per Query.Columns. They are valid only during
	// Emit (they view scratch and record memory): the emitter must encode
	// or copy them.
	Values []sql.Value
	// Partition and Offset are the source record for a filter/project
	// query; -1 and -1 for an aggregation.
	Partition int32
	Offset    int64
}

// Emitter receives result rows.
type Emitter interface{ Emit(*Output) error }

// EmitFunc adapts a function to Emitter.
type EmitFunc func(*Output) error

// Emit calls f.
func (f EmitFunc) Emit(o *Output) error { return f(o) }

// Reason classifies a RecordError.
type Reason uint8

// The reasons a record fails.
const (
	ReasonDecode        Reason = iota // the Avro body did not decode
	ReasonEval                        // an expression failed (or the event time is NULL, or a SUM overflows)
	ReasonLate                        // late, under DeadLetterLate
	ReasonTooManyGroups               // it would open a group beyond Options.MaxGroups
	numReasons
)

var reasonNames = [...]string{
	ReasonDecode: "decode", ReasonEval: "eval", ReasonLate: "late", ReasonTooManyGroups: "too_many_groups",
}

// String is a short name of the reason, fit for a metric label.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", r)
}

// Errors a RecordError may wrap.
var (
	// ErrLate is the cause of a ReasonLate error.
	ErrLate = errors.New("record is later than the allowed lateness: every window it belongs to was emitted")
	// ErrTooManyGroups is the cause of a ReasonTooManyGroups error.
	ErrTooManyGroups = errors.New("too many open groups")
	// ErrNullEventTime is the cause of a ReasonEval error for a record
	// whose event time is NULL.
	ErrNullEventTime = &sql.EvalError{Msg: "event time is NULL"}
)

// RecordError is a record the task could not process. The runtime
// dead-letters it, with Reason and the message, and goes on.
type RecordError struct {
	Reason    Reason
	Partition int32
	Offset    int64
	Err       error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("record %d@%d: %s: %v", e.Partition, e.Offset, e.Reason, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Stats are a task's counters. The runtime exports them as metrics.
type Stats struct {
	In       uint64 // records given to Process
	Out      uint64 // rows emitted
	Filtered uint64 // records WHERE rejected
	Late     uint64 // late records, dropped or dead-lettered
	// Errors counts failed records by Reason (Late ones under
	// DeadLetterLate included).
	Errors [numReasons]uint64
	// GroupErrors counts groups skipped at emission because HAVING or a
	// result column failed to evaluate.
	GroupErrors uint64
	OpenGroups  int // open (window, key) groups and sessions
	OpenWindows int // open tumbling or hopping windows
}

// Task runs the operators of one job task (a set of partitions): decode,
// filter, project or aggregate, emit. It is not safe for concurrent use;
// Stats, Watermark and OpenOffsets too must be called from the goroutine
// that calls Process.
type Task struct {
	q    *sql.Query
	opt  Options
	env  *sql.Env
	row  decode.Row
	out  Output
	vals []sql.Value

	filterWhere bool // decode Filter first, then All for the rows that pass

	wm    watermark
	agg   *aggregator // nil for a filter/project query
	stats Stats
}

// NewTask returns a task running q.
func NewTask(q *sql.Query, o Options) *Task {
	o.defaults()
	t := &Task{q: q, opt: o, env: sql.NewEnv()}
	t.env.Row = &t.row
	t.filterWhere = q.Where != nil && q.FilterFields > 0
	t.wm.init(o.Lateness.Microseconds(), o.IdleTimeout, o.Now)
	if q.Agg != nil {
		t.agg = newAggregator(t, q.Agg)
		t.out.Partition, t.out.Offset = -1, -1
	} else {
		t.vals = make([]sql.Value, len(q.Project))
	}
	t.out.Values = t.vals
	return t
}

func (t *Task) fail(in *Input, r Reason, err error) *RecordError {
	t.stats.Errors[r]++
	return &RecordError{Reason: r, Partition: in.Partition, Offset: in.Offset, Err: err}
}

// Process runs one record: decode (the filter fields first when there is a
// WHERE, the rest only for the records that pass), filter, and then either
// project and emit (a filter/project query) or add the record to its
// windows and emit every window the advanced watermark closes.
//
// A record that cannot be processed returns a *RecordError (ReasonDecode,
// ReasonEval, ReasonLate, ReasonTooManyGroups, wrapping the cause): the
// runtime dead-letters it and goes on. An error from Emit is returned as
// is; the task should then be discarded and rebuilt from OpenOffsets and
// the committed offsets.
func (t *Task) Process(in *Input, out Emitter) error {
	t.stats.In++
	env := t.env
	env.Reset()
	q := t.q
	// With a WHERE, decode only what it reads first and the rest for the
	// records that pass.
	first := in.All
	if t.filterWhere && in.Filter != nil {
		first = in.Filter
	}
	if err := first.Decode(in.Payload, &t.row); err != nil {
		return t.fail(in, ReasonDecode, err)
	}
	if q.Where != nil {
		pass := q.Where(env)
		if err := env.Err(); err != nil {
			return t.fail(in, ReasonEval, err)
		}
		if pass.Null || pass.I != 1 {
			t.stats.Filtered++
			return nil
		}
	}
	if first != in.All {
		if err := in.All.Decode(in.Payload, &t.row); err != nil {
			return t.fail(in, ReasonDecode, err)
		}
	}
	if t.agg != nil {
		return t.agg.process(in, out)
	}
	for i, e := range q.Project {
		t.vals[i] = e(env)
	}
	if err := env.Err(); err != nil {
		return t.fail(in, ReasonEval, err)
	}
	t.out.Partition, t.out.Offset = in.Partition, in.Offset
	if err := out.Emit(&t.out); err != nil {
		return err
	}
	t.stats.Out++
	return nil
}

// Tick lets processing time pass: partitions idle past IdleTimeout stop
// holding the watermark back, which may close windows. The runtime calls
// it periodically (every second, say).
func (t *Task) Tick(out Emitter) error {
	if t.agg == nil {
		return nil
	}
	now := t.opt.Now()
	t.wm.advance(now)
	if t.agg.replay != nil {
		t.agg.endIdleReplays(now)
	}
	return t.agg.emitClosed(out)
}

// Drain emits every open window as if the watermark had passed it: the end
// of a bounded input, or tests. The watermark itself does not move.
func (t *Task) Drain(out Emitter) error {
	if t.agg == nil {
		return nil
	}
	return t.agg.emitUpTo(math.MaxInt64, out)
}

// Watermark is the task's watermark in microseconds since the Unix epoch,
// math.MinInt64 before there is one. Windows ending at or before it have
// been emitted.
func (t *Task) Watermark() int64 { return t.wm.wm }

// OpenOffsets returns, per partition, the offset of the earliest record
// still held in an open window: after a restart the runtime must read the
// partition again from there to rebuild the windows (and must not commit
// past it). Partitions with nothing open are absent; a filter/project
// query holds nothing and returns an empty map.
func (t *Task) OpenOffsets() map[int32]int64 {
	m := make(map[int32]int64)
	if t.agg != nil {
		t.agg.openOffsets(m)
	}
	return m
}

// AssignPartitions adds partitions the task owns. The watermark is the
// minimum over the owned, non-idle partitions, so a partition assigned and
// silent holds it back until IdleTimeout passes. Partitions are also added
// implicitly by their first record.
func (t *Task) AssignPartitions(ps ...int32) {
	now := t.opt.Now()
	for _, p := range ps {
		t.wm.assign(p, now)
	}
}

// RemovePartition forgets a partition: it no longer holds the watermark
// back (the next Process or Tick may then close windows). Records of it
// already in open windows stay there.
func (t *Task) RemovePartition(p int32) { t.wm.remove(p) }

// Stats returns the task's counters.
func (t *Task) Stats() Stats {
	s := t.stats
	if t.agg != nil {
		s.OpenGroups = t.agg.groups
		s.OpenWindows = t.agg.openWindows()
	}
	return s
}

// Package engine runs the operators of a job's data path (DESIGN.md
// sections 3 and 7): for each record of a task, decode the fields the
// query reads, filter, and then either project and emit, or add the record
// to its event-time windows and emit the windows the watermark closes. The
// query comes compiled from package sql ([sql.Query]); decoders from
// package decode; encoding and delivery are the emitter's business.
//
// A [Task] is one job task (a set of partitions), driven by one goroutine:
// the runtime calls [Task.Process] per record, [Task.Tick] about once a
// second, [Task.Drain] at the end of a bounded input, and reads
// [Task.OpenOffsets] and [Task.Stats].
//
// # Filter and project
//
// When the query has a WHERE and Query.FilterFields > 0, Process decodes
// only Fields[:FilterFields] (Input.Filter), evaluates WHERE, and decodes
// every field (Input.All) only for the records that pass; a row passes when
// WHERE is TRUE (not NULL, not FALSE). The projection then fills
// Output.Values, which view the record and the evaluation scratch memory
// and are valid only during Emit. Nothing is allocated per record on this
// path: the row, the environment, the output and its values are reused.
//
// # Windows
//
// An aggregation evaluates the event time (Window.Time, microseconds), the
// group keys and the aggregate arguments over the row. Windows are aligned
// to the Unix epoch: TUMBLE of size s puts time t in [⌊t/s⌋·s, +s) (floor
// for negative times too); HOP of slide h and size s in every [k·h, k·h+s)
// containing t; SESSION of gap g gives each key sessions: a record at t
// covers [t, t+g) and opens a session, or extends the sessions of its key
// it overlaps (strictly: a record exactly g after the last one starts a new
// session), merging them when it bridges several. A session ends g after
// its last event.
//
// A group is one key in one window (or one session of a key). Its key is
// the binary encoding of the key values (a NULL marker, integers and
// doubles in 8 order-preserving bytes, strings escaped and terminated), so
// keys sort as their values do and lookups of an existing group allocate
// nothing.
//
// # Watermark and lateness
//
// Each partition tracks the highest event time it has sent. The watermark
// is the minimum over the partitions of (that maximum − Options.Lateness),
// skipping partitions idle for Options.IdleTimeout of processing time
// (Options.Now): a silent partition would otherwise hold every window open
// forever. When every partition is idle the watermark is the maximum of the
// same quantity. Partitions count from their first record or from
// [Task.AssignPartitions] (then an assigned, silent partition holds the
// watermark back until it turns idle). Only records that reach the window
// operator count as activity: a partition whose records WHERE rejects
// goes idle. The watermark never moves backward, not even when an idle
// partition wakes up behind it.
//
// A record is late when every window it belongs to ends at or before the
// watermark: those windows were emitted. Late records are counted in
// Stats.Late and dropped (DropLate) or returned as a *RecordError with
// ReasonLate (DeadLetterLate) for the runtime to dead-letter. A HOP record
// goes into the windows still open and is late only if none is; a SESSION
// record is late when its [t, t+g) ends at or before the watermark and
// overlaps no open session of its key.
//
// # Emission
//
// A window or session is emitted once, when the watermark reaches its end
// (Process and Tick advance the watermark; Drain emits everything as if it
// had passed), in order of end, then start, then encoded key; its state is
// freed right after. The output row is computed over Env.Slots (keys,
// aggregate results, WINDOW_START, WINDOW_END): HAVING (the group is
// skipped unless TRUE), then the projection. A group whose HAVING or
// projection fails to evaluate (or whose SUM left the BIGINT range through
// a session merge) is skipped and counted in Stats.GroupErrors, and
// reported to Options.GroupError. An aggregation's Output has Partition
// and Offset -1.
//
// # Aggregates
//
// COUNT(*), COUNT(x), SUM (BIGINT for integer arguments, kept in 128 bits:
// a record that would take the sum beyond BIGINT fails with
// sql.ErrBigIntRange and is applied to no aggregate of any of its
// windows; DOUBLE for DOUBLE), AVG (DOUBLE; integer sums are exact, so the
// mean is correctly rounded), MIN and MAX (integers, doubles with NaN
// greatest, strings and bytes byte-wise as PostgreSQL's C collation,
// timestamps, booleans), APPROX_COUNT_DISTINCT (HyperLogLog, precision 14,
// github.com/axiomhq/hyperloglog: sparse while small, then 16 KiB; about
// 0.8% standard error), FIRST_VALUE and LAST_VALUE (by event time; ties go
// to the first, respectively last, record seen) and the DISTINCT forms of
// COUNT, SUM and AVG (a set of the encoded values per group). NULL
// arguments are ignored except by COUNT(*); over no non-NULL rows COUNT
// and APPROX_COUNT_DISTINCT are 0 and the others NULL. Every state merges,
// which sessions need. Bytes kept by a state (MIN, MAX, FIRST_VALUE,
// LAST_VALUE, keys, distinct sets) are copies, never views of a record.
//
// # Memory
//
// Options.MaxGroups (default 1,000,000) bounds the open groups; a record
// that would open more fails with ReasonTooManyGroups (a HOP record that
// needs several new groups is refused whole). A group costs, on amd64,
// about 200 bytes plus 56 bytes and the bytes of each key value, plus 144
// bytes per aggregate: for one VARCHAR key of 12 bytes with COUNT(*) and
// SUM, about 600 bytes with the map entry, so the default bound is about
// 600 MB. On top of that, per group: MIN, MAX, FIRST_VALUE and LAST_VALUE
// keep a copy of their value; a DISTINCT aggregate keeps each distinct
// value (its encoding plus about 50 bytes); APPROX_COUNT_DISTINCT grows to
// 16 KiB. Each open window also keeps a map and one (partition, offset)
// pair per partition that contributed to it, and so does each session. A
// job with a high-cardinality key and DISTINCT or APPROX_COUNT_DISTINCT
// wants a lower MaxGroups.
//
// # Offsets
//
// Windows hold records that have not been emitted yet, so the runtime may
// not commit a partition's offset past the earliest record still in an
// open window: [Task.OpenOffsets] gives that offset per partition (absent
// when a partition has nothing open), the point to re-read from after a
// restart to rebuild the windows; reliable update stops a DAG there. It
// moves forward as windows are emitted. Filtered, late and failed records
// are held by no window. After an error from Emit the task's state is
// unspecified (a window may be half emitted): discard the task and rebuild
// it from the committed offsets and OpenOffsets.
//
// Re-reading alone would emit again the windows already emitted whose
// records lie past those offsets. So the runtime commits, with the
// offsets, the task's [Frontier] (what was emitted, to the group, even in
// the middle of a round) and the offset after the last record taken; a
// new task given them by [Task.Restore] rebuilds exactly the windows the
// old one held open and emits each window once.
//
// # Metrics
//
// [Task.Stats] returns counters (records in, rows out, filtered, late,
// errors by [Reason], group errors, open groups and windows); the runtime
// exports them. Like the rest of a Task, call it from the task's goroutine.
package engine

// Package decode turns Avro records into flat rows of the fields a query
// reads: the "decode" step of a job's data path (DESIGN.md sections 3 and
// 7). It resolves each record from the schema it was written with (the
// writer schema) to the schema the job was submitted against (the reader
// schema) by the Avro specification, and decodes only what the projection
// names.
//
// # Compiling
//
// [Compile] takes a writer schema, a reader schema and a projection (reader
// field paths such as "action", "dst_port", "src.ip") and builds a
// [Decoder] once. Resolution happens there, not per record: fields are
// matched by name and then by the reader field's aliases, record, enum and
// fixed names by unqualified name or the reader's aliases; int, long, float
// and double promote upwards and string and bytes into each other; writer
// enum symbols map to the reader's index (or the reader's enum default);
// union branches are picked by the specification's matching rule; reader
// fields the writer lacks take their defaults, computed once. The whole
// pair must resolve, not just the projected fields, so a decoder's
// existence says the schemas are compatible; where the specification
// resolves per datum (a writer union branch the reader cannot take, an
// enum symbol the reader lacks with no default) the records that hit it
// fail with ErrUnresolved and the others decode.
//
// A Decoder is a flat program, one step per writer field: decode into a
// column, skip, or fill a default. Skipping steps over strings and bytes
// by their length, over fixed-size values by their size, and over arrays
// and maps by their block counts, jumping whole blocks when the writer gave
// their byte size. Decoding stops after the step that fills the last
// projected column, so the cost of a record grows with the position of the
// last field read and the bytes after it are never looked at.
//
// # Rows
//
// A [Row] holds one [Value] per projection path, in projection order;
// [Decoder.Columns] gives each column's reader [Type] before any record is
// seen. A Value carries its [Kind] and one of: I (boolean, int, long, the
// enum's reader index, an array's or map's item count), F (float,
// double), B (string, bytes, fixed, the enum's reader symbol). Logical
// types (dates, times, timestamps, decimals, UUIDs, durations) keep the
// Kind of their underlying type; the annotation, with a decimal's
// precision and scale, is on the column's Type.
//
// B is a view into the record buffer, never a copy: the row is valid while
// the buffer is, and nothing is allocated per record (0 allocs/op in the
// benchmarks). Converting views to strings, if ever needed, is the
// consumer's business.
//
// A path may step into a record or into a union of null and one record
// (then every column under it is null when the record is). A path naming
// an array, a map or a record gives that value still encoded, as written:
// B is its Avro encoding and Value.Nested the Decoder for it, compiled for
// the same writer and reader types. Decode a record with
// Nested.Decode(v.B, &row); iterate an array or map with [Value.Items],
// which decodes one item (or map entry, with its key) per step. A nested
// Decoder of a record has one column per reader field; of anything else,
// one column with the empty path. This keeps the common case (filters on a
// few scalar fields) cheap and lets an engine reach into containers only
// when a query does.
//
// # Errors
//
// Bad records never panic. Decode returns a *[DecodeError] wrapping
// [ErrTruncated], [ErrCorrupt] or [ErrUnresolved], with the byte offset and
// the writer field; the runtime dead-letters such records and goes on. A
// length or count larger than what remains of the record is ErrTruncated
// before anything is done with it, so a hostile prefix costs no memory.
// Nesting (recursive schemas) is limited to 256 levels, and arrays of
// items that encode in zero bytes to 4096 items.
//
// Compile returns a *[CompileError] wrapping [ErrSchema],
// [ErrIncompatible], [ErrNoDefault] or [ErrUnknownPath], with the reader
// path.
//
// # Caching
//
// A [Cache] holds compiled decoders keyed by writer and reader
// [Fingerprint] and projection, least recently used evicted first. A
// [Resolver] is one job's view: a reader schema and projection, writer
// schemas fetched through the small [Schemas] interface (so this package
// knows nothing of the registry or the store) by the reference a record
// carries, and a per-reference memo so that finding the decoder for a
// record is one lock-free map read. A reference the registry does not know
// is [ErrUnknownSchema].
//
// # Concurrency
//
// Decoders, Caches and Resolvers are safe for concurrent use. A Row, and an
// [Items] iterator, belong to one goroutine.
package decode

package decode

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/twmb/avro"
)

func mustCompile(tb testing.TB, writer, reader string, projection ...string) *Decoder {
	tb.Helper()
	d, err := CompileJSON(writer, reader, projection)
	if err != nil {
		tb.Fatalf("compile: %v", err)
	}
	return d
}

func varint(v int64) []byte { return appendVarint(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func wantDecodeErr(tb testing.TB, err, target error, offset int) {
	tb.Helper()
	var de *DecodeError
	if !errors.Is(err, target) || !errors.As(err, &de) {
		tb.Fatalf("err = %v, want %v", err, target)
	}
	if offset >= 0 && de.Offset != offset {
		tb.Fatalf("offset = %d, want %d (%v)", de.Offset, offset, err)
	}
}

// Every proper prefix of a record fails with ErrTruncated when every field
// is projected, at an offset inside the prefix; and never panics.
func TestTruncatedAtEveryOffset(t *testing.T) {
	rng := newRand(3)
	ws := avro.MustParse(everything)
	wn, _ := nodeOf(ws)
	var top []string
	for _, f := range wn.fields {
		top = append(top, f.name)
	}
	dEvery := mustCompile(t, everything, everything, top...)
	dFire := mustCompile(t, firewallV1, firewallV1, firewallFields...)
	d3 := mustCompile(t, firewallV1, firewallV1, "action", "dst_port", "src_ip")
	var row Row
	for n := range 20 {
		rec, err := ws.Encode(genValue(rng, wn, 0))
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			d   *Decoder
			rec []byte
		}{{dEvery, rec}, {dFire, firewallRecords(t, 20)[n]}} {
			if err := tc.d.Decode(tc.rec, &row); err != nil {
				t.Fatalf("whole record: %v", err)
			}
			for cut := range len(tc.rec) {
				err := tc.d.Decode(tc.rec[:cut], &row)
				var de *DecodeError
				if !errors.Is(err, ErrTruncated) || !errors.As(err, &de) || de.Offset > cut {
					t.Fatalf("prefix %d of %d: %v", cut, len(tc.rec), err)
				}
			}
		}
	}
	// With three fields projected, only the bytes up to the last of them
	// (action, the 10th field) are needed.
	rec := firewallRecords(t, 1)[0]
	ok := 0
	for cut := range len(rec) {
		if d3.Decode(rec[:cut], &row) == nil {
			ok++
		}
	}
	if ok == 0 || ok == len(rec) {
		t.Fatalf("projection3 decoded %d of %d prefixes", ok, len(rec))
	}
}

func TestCorruptInputs(t *testing.T) {
	const nullable = `{"type":"record","name":"R","fields":[{"name":"u","type":["null","string"]},{"name":"x","type":"int"}]}`
	const ints = `{"type":"record","name":"R","fields":[{"name":"i","type":"int"},{"name":"b","type":"boolean"},{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]}`
	const str = `{"type":"record","name":"R","fields":[{"name":"s","type":"string"}]}`
	tests := []struct {
		name   string
		schema string
		proj   []string
		rec    []byte
		want   error
		offset int
	}{
		{"union index past the end", nullable, []string{"u"}, cat(varint(2)), ErrCorrupt, 0},
		{"negative union index", nullable, []string{"u"}, cat(varint(-1)), ErrCorrupt, 0},
		{"union index skipped", nullable, []string{"x"}, cat(varint(5), varint(1)), ErrCorrupt, 0},
		{"varint too long", ints, []string{"i"}, bytes.Repeat([]byte{0xff}, 11), ErrCorrupt, 0},
		{"varint 10th byte too big", ints, []string{"i"}, append(bytes.Repeat([]byte{0xff}, 9), 0x02), ErrCorrupt, 0},
		{"int beyond 32 bits", ints, []string{"i"}, varint(1 << 40), ErrCorrupt, 0},
		{"boolean 2", ints, []string{"b"}, cat(varint(1), []byte{2}), ErrCorrupt, 1},
		{"enum index past the end", ints, []string{"e"}, cat(varint(1), []byte{1}, varint(2)), ErrCorrupt, 2},
		{"negative length", str, []string{"s"}, varint(-3), ErrCorrupt, 0},
		{"negative length skipped", str, nil, varint(-3), nil, 0},
		{"length past the end", str, []string{"s"}, cat(varint(4), []byte("abc")), ErrTruncated, 0},
		{"empty record", str, []string{"s"}, nil, ErrTruncated, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustCompile(t, tc.schema, tc.schema, tc.proj...)
			var row Row
			err := d.Decode(tc.rec, &row)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantDecodeErr(t, err, tc.want, tc.offset)
		})
	}
}

// A length or count claiming more than the record holds fails before
// anything is allocated for it, whether the value is read, kept encoded or
// skipped.
func TestHugeLengthPrefixDoesNotAllocate(t *testing.T) {
	const schema = `{"type":"record","name":"R","fields":[
		{"name":"s","type":"string"},
		{"name":"a","type":{"type":"array","items":"long"}},
		{"name":"m","type":{"type":"map","values":"string"}},
		{"name":"an","type":{"type":"array","items":"null"}}]}`
	huge := varint(1 << 60)
	tests := []struct {
		name string
		proj []string
		rec  []byte
		want error
	}{
		{"string read", []string{"s"}, cat(huge, []byte("abc")), ErrTruncated},
		{"string skipped", []string{"a"}, cat(huge, []byte("abc")), ErrTruncated},
		{"array count", []string{"a"}, cat(varint(0), huge, varint(1)), ErrTruncated},
		{"array count skipped", []string{"m"}, cat(varint(0), huge, varint(1)), ErrTruncated},
		{"array block size", []string{"a"}, cat(varint(0), varint(-2), huge, varint(1)), ErrTruncated},
		{"array block count beyond size", []string{"a"}, cat(varint(0), varint(-1<<40), varint(2), varint(1), varint(2), varint(0)), ErrCorrupt},
		{"map count", []string{"m"}, cat(varint(0), varint(0), huge), ErrTruncated},
		{"map key length", []string{"m"}, cat(varint(0), varint(0), varint(1), huge), ErrTruncated},
		{"zero-size items", []string{"an"}, cat(varint(0), varint(0), varint(0), huge, varint(0)), ErrCorrupt},
		{"zero-size items in blocks", []string{"an"}, cat(varint(0), varint(0), varint(0), varint(-maxZeroSizeItems), varint(0), varint(-maxZeroSizeItems), varint(0), varint(0)), ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustCompile(t, schema, schema, tc.proj...)
			row := Row{Values: make([]Value, len(tc.proj))}
			wantDecodeErr(t, d.Decode(tc.rec, &row), tc.want, -1)
			// One allocation: the error itself.
			if n := testing.AllocsPerRun(100, func() { _ = d.Decode(tc.rec, &row) }); n > 1 {
				t.Fatalf("%v allocations per decode", n)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 100 {
				_ = d.Decode(tc.rec, &row)
			}
			runtime.ReadMemStats(&after)
			if per := (after.TotalAlloc - before.TotalAlloc) / 100; per > 256 {
				t.Fatalf("%d bytes allocated per decode", per)
			}
		})
	}
}

func TestZeroAllocsPerRecord(t *testing.T) {
	recs := firewallRecords(t, 64)
	for _, tc := range []struct {
		reader string
		proj   []string
	}{
		{firewallV1, []string{"action", "dst_port", "src_ip"}},
		{firewallV1, firewallFields},
		{firewallV2, append(append([]string(nil), firewallFields...), "device_id")},
	} {
		d := mustCompile(t, firewallV1, tc.reader, tc.proj...)
		var row Row
		i := 0
		if n := testing.AllocsPerRun(1000, func() {
			if err := d.Decode(recs[i%len(recs)], &row); err != nil {
				t.Fatal(err)
			}
			i++
		}); n != 0 {
			t.Fatalf("%v: %v allocs per record", tc.proj, n)
		}
	}
	// Iterating an array of records does not allocate either.
	const s = `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"x","type":"string"},{"name":"y","type":"long"}]}}}]}`
	rec, err := avro.MustParse(s).Encode(map[string]any{"a": []any{
		map[string]any{"x": "one", "y": int64(1)}, map[string]any{"x": "two", "y": int64(2)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	d := mustCompile(t, s, s, "a")
	var row, item Row
	sum := int64(0)
	if n := testing.AllocsPerRun(1000, func() {
		if err := d.Decode(rec, &row); err != nil {
			t.Fatal(err)
		}
		it := row.Values[0].Items()
		for it.Next(&item) {
			sum += item.Values[1].I
		}
	}); n != 0 {
		t.Fatalf("%v allocs per record with items", n)
	}
}

// A recursive schema and a record nesting it deeper than maxDepth fail with
// ErrCorrupt rather than exhausting the stack, whether the nesting is
// decoded, kept encoded or skipped.
func TestDeepNesting(t *testing.T) {
	const list = `{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}`
	const outer = `{"type":"record","name":"Outer","fields":[{"name":"l","type":` + list + `},{"name":"after","type":"int"}]}`
	depth := 100_000
	var rec []byte
	for range depth {
		rec = append(rec, 2, 2) // v=1, next: branch 1
	}
	rec = append(rec, 2, 0, 4) // v=1, next: null; after=2
	for _, proj := range [][]string{{"after"}, {"l"}, {"l.next"}} {
		d := mustCompile(t, outer, outer, proj...)
		var row Row
		wantDecodeErr(t, d.Decode(rec, &row), ErrCorrupt, -1)
	}
	// Shallow nesting is fine.
	shallow := append(bytes.Repeat([]byte{2, 2}, 10), 2, 0, 4)
	d := mustCompile(t, outer, outer, "l", "after")
	var row Row
	if err := d.Decode(shallow, &row); err != nil {
		t.Fatal(err)
	}
	if row.Values[1].I != 2 || row.Values[0].Kind != KindRecord {
		t.Fatalf("row %+v", row.Values)
	}
}

func TestWriterUnionToReaderNonUnion(t *testing.T) {
	const w = `{"type":"record","name":"R","fields":[{"name":"a","type":["null","string","int"]}]}`
	const r = `{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}`
	if _, err := avro.Resolve(avro.MustParse(w), avro.MustParse(r)); err == nil {
		t.Log("twmb/avro resolves it too")
	}
	d := mustCompile(t, w, r, "a")
	var row Row
	if err := d.Decode(cat(varint(1), varint(2), []byte("hi")), &row); err != nil || string(row.Values[0].B) != "hi" {
		t.Fatalf("string branch: %v %q", err, row.Values[0].B)
	}
	// The spec resolves per datum: the branches the reader cannot take fail
	// only the records that take them.
	wantDecodeErr(t, d.Decode(varint(0), &row), ErrUnresolved, 1)
	wantDecodeErr(t, d.Decode(cat(varint(2), varint(3)), &row), ErrUnresolved, 1)

	// Reader union, writer not: the first matching branch.
	const r2 = `{"type":"record","name":"R","fields":[{"name":"a","type":["null","bytes","string"]}]}`
	const w2 = `{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}`
	d = mustCompile(t, w2, r2, "a")
	if err := d.Decode(cat(varint(2), []byte("hi")), &row); err != nil || row.Values[0].Kind != KindString || row.Values[0].Branch != 2 {
		t.Fatalf("reader union: %v %+v", err, row.Values[0])
	}
	if c := d.Columns()[0]; c.Type.Kind != KindUnion || !c.Type.Nullable || len(c.Type.Branches) != 3 {
		t.Fatalf("column type %+v", c.Type)
	}
	// Unknown enum symbol without a reader default.
	const ew = `{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]}`
	const er = `{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["B"]}}]}`
	d = mustCompile(t, ew, er, "e")
	if err := d.Decode(varint(1), &row); err != nil || row.Values[0].I != 0 || string(row.Values[0].B) != "B" {
		t.Fatalf("known symbol: %v %+v", err, row.Values[0])
	}
	wantDecodeErr(t, d.Decode(varint(0), &row), ErrUnresolved, 0)
}

func TestCompileErrors(t *testing.T) {
	const base = `{"type":"record","name":"R","fields":[
		{"name":"a","type":"string"},
		{"name":"src","type":["null",{"type":"record","name":"S","fields":[{"name":"ip","type":"string"}]}]},
		{"name":"f","type":{"type":"fixed","name":"F","size":4}},
		{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}},
		{"name":"rec","type":{"type":"record","name":"Q","fields":[{"name":"q","type":"int"}]}}]}`
	tests := []struct {
		name   string
		reader string
		proj   []string
		want   error
		path   string
	}{
		{"unknown field", base, []string{"nope"}, ErrUnknownPath, "nope"},
		{"path through a string", base, []string{"a.b"}, ErrUnknownPath, "a.b"},
		{"unknown nested field", base, []string{"src.port"}, ErrUnknownPath, "src.port"},
		{"empty path", base, []string{""}, ErrUnknownPath, ""},
		{"listed twice", base, []string{"a", "a"}, ErrUnknownPath, "a"},
		{"incompatible type", strings.Replace(base, `"name":"a","type":"string"`, `"name":"a","type":"int"`, 1), []string{"src.ip"}, ErrIncompatible, "a"},
		{"incompatible nested", strings.Replace(base, `"name":"ip","type":"string"`, `"name":"ip","type":"long"`, 1), []string{"a"}, ErrIncompatible, "src.ip"},
		{"missing without default", strings.Replace(base, `{"name":"a","type":"string"},`, `{"name":"a","type":"string"},{"name":"new","type":"int"},`, 1), []string{"a"}, ErrNoDefault, "new"},
		{"record name", strings.Replace(base, `"name":"Q"`, `"name":"Q2"`, 1), []string{"a"}, ErrIncompatible, "rec"},
		{"array items", strings.Replace(base, `"name":"q","type":"int"`, `"name":"q","type":{"type":"array","items":"int"}`, 1), []string{"rec"}, ErrIncompatible, "rec.q"},
		{"fixed size", strings.Replace(base, `"size":4`, `"size":5`, 1), []string{"f"}, ErrIncompatible, "f"},
		{"decimal scale", strings.Replace(base, `"scale":2`, `"scale":3`, 1), []string{"d"}, ErrIncompatible, "d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileJSON(base, tc.reader, tc.proj)
			var ce *CompileError
			if !errors.Is(err, tc.want) || !errors.As(err, &ce) || ce.Path != tc.path {
				t.Fatalf("err = %v, want %v at %q", err, tc.want, tc.path)
			}
		})
	}
	if _, err := CompileJSON(`{`, base, nil); !errors.Is(err, ErrSchema) {
		t.Fatalf("bad json: %v", err)
	}
	if _, err := Compile(nil, nil, nil); !errors.Is(err, ErrSchema) {
		t.Fatalf("nil schema: %v", err)
	}
	// A writer union of which no branch fits is rejected at compile time.
	_, err := CompileJSON(`{"type":"record","name":"R","fields":[{"name":"a","type":["null","int"]}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}`, []string{"a"})
	if !errors.Is(err, ErrIncompatible) {
		t.Fatalf("unresolvable union: %v", err)
	}
}

func TestNullableRecordPaths(t *testing.T) {
	const s = `{"type":"record","name":"R","fields":[
		{"name":"src","type":["null",{"type":"record","name":"S","fields":[{"name":"ip","type":"string"},{"name":"port","type":"int"}]}]},
		{"name":"z","type":"int"}]}`
	d := mustCompile(t, s, s, "src.port", "src", "z")
	cols := d.Columns()
	if !cols[0].Type.Nullable || cols[0].Type.Kind != KindInt || !cols[1].Type.Nullable || cols[1].Type.Kind != KindRecord {
		t.Fatalf("columns %+v %+v", cols[0].Type, cols[1].Type)
	}
	var row Row
	if err := d.Decode(cat(varint(0), varint(9)), &row); err != nil {
		t.Fatal(err)
	}
	if !row.Values[0].IsNull() || !row.Values[1].IsNull() || row.Values[2].I != 9 {
		t.Fatalf("null src: %+v", row.Values)
	}
	rec := cat(varint(1), varint(2), []byte("ip"), varint(80), varint(9))
	if err := d.Decode(rec, &row); err != nil {
		t.Fatal(err)
	}
	if row.Values[0].I != 80 || !bytes.Equal(row.Values[1].B, rec[1:6]) || row.Values[2].I != 9 {
		t.Fatalf("src: %+v", row.Values)
	}
	var inner Row
	if err := row.Values[1].Nested.Decode(row.Values[1].B, &inner); err != nil || string(inner.Values[0].B) != "ip" || inner.Values[1].I != 80 {
		t.Fatalf("nested: %v %+v", err, inner.Values)
	}
}

// Arrays and maps written in blocks with byte sizes (negative counts), as
// Java's block encoders write them, are skipped by size and iterated.
func TestBlockSizedContainers(t *testing.T) {
	const s = `{"type":"record","name":"R","fields":[
		{"name":"a","type":{"type":"array","items":"long"}},
		{"name":"m","type":{"type":"map","values":"string"}},
		{"name":"z","type":"int"}]}`
	arr := cat(varint(-2), varint(2), varint(1), varint(2), varint(1), varint(3), varint(0))
	mp := cat(varint(-1), varint(4), varint(1), []byte("k"), varint(1), []byte("v"), varint(0))
	rec := cat(arr, mp, varint(7))
	var row, item Row
	d := mustCompile(t, s, s, "z")
	if err := d.Decode(rec, &row); err != nil || row.Values[0].I != 7 {
		t.Fatalf("skip: %v %+v", err, row.Values)
	}
	d = mustCompile(t, s, s, "a", "m")
	if err := d.Decode(rec, &row); err != nil {
		t.Fatal(err)
	}
	if row.Values[0].I != 3 || row.Values[1].I != 1 {
		t.Fatalf("counts %d %d", row.Values[0].I, row.Values[1].I)
	}
	var got []int64
	it := row.Values[0].Items()
	for it.Next(&item) {
		got = append(got, item.Values[0].I)
	}
	if it.Err() != nil || len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("items %v %v", got, it.Err())
	}
	it = row.Values[1].Items()
	if !it.Next(&item) || string(it.Key()) != "k" || string(item.Values[0].B) != "v" || it.Next(&item) || it.Err() != nil {
		t.Fatalf("map entry %q %q %v", it.Key(), item.Values[0].B, it.Err())
	}
	var none Value
	it = none.Items()
	if it.Next(&item) {
		t.Fatal("null value has items")
	}
}

// Views are cut to their value: appending to one copies rather than
// overwriting the record.
func TestViewsDoNotAlias(t *testing.T) {
	rec := firewallRecords(t, 1)[0]
	orig := bytes.Clone(rec)
	d := mustCompile(t, firewallV1, firewallV1, "tenant")
	var row Row
	if err := d.Decode(rec, &row); err != nil {
		t.Fatal(err)
	}
	_ = append(row.Values[0].B, "XXXXXXXX"...)
	if !bytes.Equal(rec, orig) {
		t.Fatal("append through a view changed the record")
	}
}

// Row storage is reused and resized between decoders of different widths.
func TestRowReuse(t *testing.T) {
	rec := firewallRecords(t, 1)[0]
	all := mustCompile(t, firewallV1, firewallV1, firewallFields...)
	one := mustCompile(t, firewallV1, firewallV1, "severity")
	var row Row
	if err := all.Decode(rec, &row); err != nil {
		t.Fatal(err)
	}
	p := &row.Values[0]
	if err := one.Decode(rec, &row); err != nil || len(row.Values) != 1 || &row.Values[0] != p {
		t.Fatalf("reuse: %v len %d", err, len(row.Values))
	}
	if row.Values[0].Kind != KindInt {
		t.Fatalf("severity %+v", row.Values[0])
	}
}

func TestErrorAndNameStrings(t *testing.T) {
	de := &DecodeError{Err: ErrCorrupt, Offset: 7, Field: "src.ip", Detail: "negative length"}
	if got := de.Error(); got != "decode field src.ip at byte 7: corrupt record: negative length" {
		t.Fatalf("%q", got)
	}
	ce := &CompileError{Err: ErrNoDefault, Path: ""}
	if got := ce.Error(); got != "compile decoder: (root): reader field missing from writer has no default" {
		t.Fatalf("%q", got)
	}
	if KindEnum.String() != "enum" || Kind(99).String() != "kind(99)" || LogicalTimestampMillis.String() != "timestamp-millis" || Logical(99).String() != "logical(99)" {
		t.Fatal("names")
	}
}

package format

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/avro/ocf"

	"github.com/sluicehq/sluice/internal/sql"
)

func newAvro(t testing.TB, cols []sql.OutputColumn, opts Options) *Avro {
	t.Helper()
	e, err := NewAvro(cols, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var avroScalarCols = []sql.OutputColumn{
	col("b", sql.TypeBoolean), col("i", sql.TypeInteger), col("l", sql.TypeBigInt),
	col("d", sql.TypeDouble), col("s", sql.TypeVarchar), col("by", sql.TypeBytes),
	col("ts", sql.TypeTimestamp), col("dt", sql.TypeDate), col("tm", sql.TypeTime),
	col("iv", sql.TypeInterval), col("n", sql.TypeUnknown), col("we ird-key", sql.TypeBigInt),
	col("l", sql.TypeBigInt), col("9x", sql.TypeBigInt),
}

func avroScalarRow(s string) []sql.Value {
	ts := time.Date(2026, 11, 26, 15, 4, 5, 123_456_000, time.UTC)
	return []sql.Value{
		sql.Bool(true), {I: math.MinInt32}, {I: math.MinInt64}, {F: 1e300},
		{B: []byte(s)}, {B: []byte{0, 1, 2, 0xff, 0xfe}},
		{I: ts.UnixMicro()}, {I: 20783}, {I: (15*3600+4*60+5)*1_000_000 + 123_456},
		{I: -(26*3600 + 5*60) * 1_000_000}, sql.Null, {I: math.MaxInt64}, sql.Null, {I: 0},
	}
}

func TestAvroSchema(t *testing.T) {
	text, err := AvroSchema(avroScalarCols)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"record","name":"SluiceResult","namespace":"sluice.output","fields":[` +
		`{"name":"b","type":["null","boolean"],"default":null},{"name":"i","type":["null","int"],"default":null},` +
		`{"name":"l","type":["null","long"],"default":null},{"name":"d","type":["null","double"],"default":null},` +
		`{"name":"s","type":["null","string"],"default":null},{"name":"by","type":["null","bytes"],"default":null},` +
		`{"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},` +
		`{"name":"dt","type":["null",{"type":"int","logicalType":"date"}],"default":null},` +
		`{"name":"tm","type":["null",{"type":"long","logicalType":"time-micros"}],"default":null},` +
		`{"name":"iv","type":["null","long"],"default":null},{"name":"n","type":"null","default":null},` +
		`{"name":"we_ird_key","type":["null","long"],"default":null},{"name":"l_2","type":["null","long"],"default":null},` +
		`{"name":"_9x","type":["null","long"],"default":null}]}`
	if text != want {
		t.Fatalf("got\n%s\nwant\n%s", text, want)
	}
	if _, err := avro.Parse(text); err != nil {
		t.Fatal(err)
	}
	if _, err := AvroSchema([]sql.OutputColumn{col("a", &sql.Type{Kind: sql.Record})}); err == nil {
		t.Fatal("record without Avro type accepted")
	}
}

// decodeSOE checks the single-object header against the schema and decodes
// the datum with twmb/avro.
func decodeSOE(t *testing.T, s *avro.Schema, msg []byte) map[string]any {
	t.Helper()
	fp, _, err := avro.SingleObjectFingerprint(msg)
	if err != nil {
		t.Fatal(err)
	}
	// The header holds the fingerprint little-endian; Fingerprint returns
	// it big-endian.
	if want := binary.BigEndian.Uint64(s.Fingerprint(avro.NewRabin())); binary.LittleEndian.Uint64(fp[:]) != want {
		t.Fatalf("fingerprint %x, schema's %x", fp, want)
	}
	var m map[string]any
	if rest, err := s.DecodeSingleObject(msg, &m); err != nil || len(rest) != 0 {
		t.Fatalf("decode: %v, %d bytes left", err, len(rest))
	}
	return m
}

func TestAvroScalarsSingleObject(t *testing.T) {
	e := newAvro(t, avroScalarCols, Options{})
	s := avro.MustParse(e.Schema())
	if e.ContentType() != "avro/binary" {
		t.Fatal(e.ContentType())
	}
	for _, str := range nastyStrings {
		out, err := e.AppendRow([]byte("prefix"), avroScalarRow(str))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatal("dst dropped")
		}
		m := decodeSOE(t, s, out[len("prefix"):])
		ts := time.Date(2026, 11, 26, 15, 4, 5, 123_456_000, time.UTC)
		want := map[string]any{
			"b": true, "i": int32(math.MinInt32), "l": int64(math.MinInt64), "d": 1e300,
			"s": strings.ToValidUTF8(str, "\uFFFD"), "by": []byte{0, 1, 2, 0xff, 0xfe},
			"iv": int64(-(26*3600 + 5*60) * 1_000_000), "n": nil, "we_ird_key": int64(math.MaxInt64), "l_2": nil, "_9x": int64(0),
		}
		for k, w := range want {
			if k == "s" {
				continue // checked below
			}
			if !reflect.DeepEqual(m[k], w) {
				t.Errorf("%s: got %#v, want %#v", k, m[k], w)
			}
		}
		var ref string
		_ = jsonUnmarshalString(mustMarshal(t, str), &ref)
		if m["s"] != ref {
			t.Errorf("string %q: got %q, want %q", str, m["s"], ref)
		}
		if got, ok := m["ts"].(time.Time); !ok || !got.Equal(ts) {
			t.Errorf("ts: %#v", m["ts"])
		}
		if got, ok := m["dt"].(time.Time); !ok || !got.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("dt: %#v", m["dt"])
		}
		if got, ok := m["tm"].(time.Duration); !ok || got != (15*3600+4*60+5)*time.Second+123_456*time.Microsecond {
			t.Errorf("tm: %#v", m["tm"])
		}
	}
	// All NULL.
	nulls := make([]sql.Value, len(avroScalarCols))
	for i := range nulls {
		nulls[i] = sql.Null
	}
	out, _ := e.AppendRow(nil, nulls)
	for k, v := range decodeSOE(t, s, out) {
		if v != nil {
			t.Errorf("%s: %v", k, v)
		}
	}
	if _, err := e.AppendRow(nil, nulls[1:]); err == nil {
		t.Fatal("short row accepted")
	}
}

// The nested values decode to what the source record decodes to.
func TestAvroNested(t *testing.T) {
	cols, row := nestedRow(t, nestedSchema, "SELECT * FROM tenant", nestedRecord())
	e := newAvro(t, cols, Options{})
	s, err := avro.Parse(e.Schema())
	if err != nil {
		t.Fatalf("%v\n%s", err, e.Schema())
	}
	out, err := e.AppendRow(nil, row)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeSOE(t, s, out)
	src := avro.MustParse(nestedSchema)
	enc, err := src.Encode(nestedRecord())
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if _, err := src.Decode(enc, &want); err != nil {
		t.Fatal(err)
	}
	// Strings are made valid UTF-8, as in JSON.
	want["src"].(map[string]any)["note"] = "\u2028<&>\uFFFD"
	for _, k := range []string{"src", "tags", "empty", "attrs", "hits", "maybe", "list"} {
		if !reflect.DeepEqual(got[k], want[k]) {
			t.Errorf("%s:\n got %#v\nwant %#v", k, got[k], want[k])
		}
	}
	// Through expressions too.
	cols, row = nestedRow(t, nestedSchema, "SELECT hits[1] AS h, src AS s, src AS s2, hits AS h2 FROM tenant", nestedRecord())
	e = newAvro(t, cols, Options{})
	s = avro.MustParse(e.Schema())
	out, err = e.AppendRow(nil, row)
	if err != nil {
		t.Fatal(err)
	}
	got = decodeSOE(t, s, out)
	if !reflect.DeepEqual(got["s"], want["src"]) || !reflect.DeepEqual(got["s2"], want["src"]) || !reflect.DeepEqual(got["h"], want["hits"].([]any)[0]) {
		t.Errorf("expressions: %#v", got)
	}
	// A corrupt nested value is an error, dst as it was.
	cols, row = nestedRow(t, nestedSchema, "SELECT id, tags FROM tenant", nestedRecord())
	row[1].B = []byte{0x7f}
	e = newAvro(t, cols, Options{})
	if out, err := e.AppendRow([]byte("keep"), row); err == nil || string(out) != "keep" {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestAvroContainer(t *testing.T) {
	cols, nested := nestedRow(t, nestedSchema, "SELECT id, src, hits FROM tenant", nestedRecord())
	cols = append(append([]sql.OutputColumn(nil), avroScalarCols...), cols...)
	for _, codec := range []string{"", "null", "deflate", "snappy", "zstandard"} {
		e, err := NewWithOptions("avro", cols, Options{Container: true, Codec: codec})
		if err != nil {
			t.Fatal(err)
		}
		be := e.(BatchEncoder)
		if e.ContentType() != "application/avro" {
			t.Fatal(e.ContentType())
		}
		for _, n := range []int{0, 1, len(nastyStrings)} {
			out := be.AppendBatchStart([]byte("p"))
			for i := range n {
				row := append(avroScalarRow(nastyStrings[i]), nested...)
				if out, err = e.AppendRow(out, row); err != nil {
					t.Fatal(err)
				}
			}
			if string(out) != "p" {
				t.Fatal("container rows written to dst")
			}
			if _, err := be.AppendBatchEnd(nil, n+1); err == nil {
				t.Fatal("row count mismatch accepted")
			}
			// The failed end reset the batch: do it again.
			out = be.AppendBatchStart(out)
			for i := range n {
				out, _ = e.AppendRow(out, append(avroScalarRow(nastyStrings[i]), nested...))
			}
			if out, err = be.AppendBatchEnd(out, n); err != nil {
				t.Fatal(err)
			}
			r, err := ocf.NewReader(bytes.NewReader(out[1:]))
			if err != nil {
				t.Fatalf("%s, %d rows: %v", codec, n, err)
			}
			var got int
			for {
				var m map[string]any
				if err := r.Decode(&m); err != nil {
					break
				}
				if m["l"] != int64(math.MinInt64) || m["src"].(map[string]any)["ip"] != "10.1.2.3" {
					t.Fatalf("%s: %v", codec, m)
				}
				got++
			}
			if got != n {
				t.Fatalf("%s: read %d rows of %d", codec, got, n)
			}
			want := codec
			if want == "" {
				want = "null"
			}
			if r.Metadata()["avro.codec"] == nil && want != "null" || r.Metadata()["avro.codec"] != nil && string(r.Metadata()["avro.codec"]) != want {
				t.Fatalf("codec %q", r.Metadata()["avro.codec"])
			}
		}
	}
	if _, err := NewWithOptions("avro", cols, Options{Container: true, Codec: "lzo"}); err == nil {
		t.Fatal("unknown codec accepted")
	}
	if _, err := NewWithOptions("avro", cols, Options{Codec: "deflate"}); err == nil {
		t.Fatal("codec without container accepted")
	}
}

func TestAvroAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	nestedCols, nestedVals := nestedRow(t, nestedSchema, "SELECT * FROM tenant", nestedRecord())
	for _, c := range []struct {
		name string
		cols []sql.OutputColumn
		row  []sql.Value
		opts Options
	}{{"scalar", avroScalarCols, avroScalarRow(nastyStrings[4]), Options{}}, {"nested", nestedCols, nestedVals, Options{}},
		{"container", nestedCols, nestedVals, Options{Container: true}}} {
		e := newAvro(t, c.cols, c.opts)
		buf := make([]byte, 0, 4096)
		e.AppendBatchStart(nil)
		for range 200 { // grow the block buffer
			_, _ = e.AppendRow(nil, c.row)
		}
		e.AppendBatchStart(nil)
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := e.AppendRow(buf[:0], c.row); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per row", c.name, allocs)
		}
	}
}

// BenchmarkAvro encodes SELECT * rows of the demo firewall logs (23
// columns) as single-object records, as BenchmarkJSON; container=true adds
// them to a container block (dst stays empty: B/row is 0 there), ending the
// batch, uncompressed, every 1024 rows.
func BenchmarkAvro(b *testing.B) {
	cols, rows := firewallRows(b)
	b.Run("single-object", func(b *testing.B) {
		benchEncoder(b, newAvro(b, cols, Options{}), rows)
	})
	b.Run("container", func(b *testing.B) {
		e := newAvro(b, cols, Options{Container: true})
		buf := make([]byte, 0, 1<<20)
		e.AppendBatchStart(nil)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := e.AppendRow(nil, rows[i%len(rows)]); err != nil {
				b.Fatal(err)
			}
			if i%1024 == 1023 {
				var err error
				if buf, err = e.AppendBatchEnd(buf[:0], 1024); err != nil {
					b.Fatal(err)
				}
				e.AppendBatchStart(nil)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
	})
}

package format

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/sql"
)

func newCSV(t testing.TB, cols []sql.OutputColumn, opts Options) *CSV {
	t.Helper()
	e, err := NewCSV(cols, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// readCSV parses out with encoding/csv.
func readCSV(t *testing.T, out []byte, comma rune) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(out))
	r.Comma = comma
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	return recs
}

func TestCSVScalars(t *testing.T) {
	cols := []sql.OutputColumn{
		col("b", sql.TypeBoolean), col("i", sql.TypeInteger), col("l", sql.TypeBigInt),
		col("d", sql.TypeDouble), col("s", sql.TypeVarchar), col("by", sql.TypeBytes),
		col("ts", sql.TypeTimestamp), col("dt", sql.TypeDate), col("tm", sql.TypeTime),
		col("iv", sql.TypeInterval), col("n", sql.TypeUnknown), col(`we"ird,key`, sql.TypeBigInt),
	}
	ts := time.Date(2026, 11, 26, 15, 4, 5, 123_000_000, time.UTC)
	row := []sql.Value{
		sql.Bool(true), {I: math.MinInt32}, {I: math.MinInt64}, {F: 1e300},
		{B: []byte("a,b\"c")}, {B: []byte{0, 1, 2, 0xff, 0xfe}},
		{I: ts.UnixMicro()}, {I: 20783}, {I: (15*3600+4*60+5)*1_000_000 + 123_456},
		{I: (26*3600 + 5*60) * 1_000_000}, sql.Null, {I: math.MaxInt64},
	}
	e := newCSV(t, cols, Options{Header: true})
	out := e.AppendBatchStart([]byte("prefix"))
	out, err := e.AppendRow(out, row)
	if err != nil {
		t.Fatal(err)
	}
	out, _ = e.AppendBatchEnd(out, 1)
	want := `prefix"b","i","l","d","s","by","ts","dt","tm","iv","n","we""ird,key"` + "\r\n" +
		`true,-2147483648,-9223372036854775808,1e+300,"a,b""c",AAEC//4=,2026-11-26T15:04:05.123Z,2026-11-26,15:04:05.123456,P1DT2H5M,,9223372036854775807` + "\r\n"
	if string(out) != want {
		t.Fatalf("got\n%q\nwant\n%q", out, want)
	}
	if e.ContentType() != "text/csv; charset=utf-8; header=present" {
		t.Fatal(e.ContentType())
	}
	// Doubles: NaN, infinities, float32 digits, negative zero.
	e = newCSV(t, []sql.OutputColumn{col("d", sql.TypeDouble)}, Options{LineEnding: "\n"})
	var got []string
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.1, math.Copysign(0, -1), 5e-324} {
		out, _ := e.AppendRow(nil, []sql.Value{{F: f}})
		got = append(got, string(out))
	}
	if w := "NaN\n Infinity\n -Infinity\n 0.1\n -0\n 5e-324\n"; strings.Join(got, " ") != w {
		t.Fatalf("doubles: %q", got)
	}
	// A delimiter that numbers and timestamps hold quotes them.
	e = newCSV(t, []sql.OutputColumn{col("d", sql.TypeDouble), col("ts", sql.TypeTimestamp)}, Options{Delimiter: '.'})
	out, _ = e.AppendRow(nil, []sql.Value{{F: 1.5}, {I: ts.UnixMicro()}})
	if string(out) != `"1.5"."2026-11-26T15:04:05.123Z"`+"\r\n" {
		t.Fatalf("delimiter '.': %q", out)
	}
	// QuoteAll quotes everything but NULL.
	e = newCSV(t, []sql.OutputColumn{col("l", sql.TypeBigInt), col("s", sql.TypeVarchar), col("x", sql.TypeVarchar)}, Options{QuoteAll: true})
	out, _ = e.AppendRow(nil, []sql.Value{{I: 7}, {B: []byte("x")}, sql.Null})
	if string(out) != `"7","x",`+"\r\n" {
		t.Fatalf("quote all: %q", out)
	}
}

func TestCSVRoundTrip(t *testing.T) {
	cols, nested := nestedRow(t, nestedSchema, "SELECT tags, attrs, src FROM tenant", nestedRecord())
	cols = append([]sql.OutputColumn{col("s", sql.TypeVarchar), col("l", sql.TypeBigInt), col("ts", sql.TypeTimestamp), col("by", sql.TypeBytes)}, cols...)
	e := newCSV(t, cols, Options{Header: true, Delimiter: ';', NullText: `\N`})
	strs := append([]string{`\N`, "semi;colon", "a\rb", ""}, nastyStrings...)
	ts := time.Date(2026, 11, 26, 15, 4, 5, 250_000_000, time.UTC)
	buf := e.AppendBatchStart(nil)
	for i, s := range strs {
		row := append([]sql.Value{{B: []byte(s)}, {I: int64(i)}, {I: ts.UnixMicro()}, {B: []byte(s)}}, nested...)
		var err error
		if buf, err = e.AppendRow(buf, row); err != nil {
			t.Fatal(err)
		}
	}
	// A row of NULLs.
	nulls := make([]sql.Value, len(cols))
	for i := range nulls {
		nulls[i] = sql.Null
	}
	buf, _ = e.AppendRow(buf, nulls)
	buf, _ = e.AppendBatchEnd(buf, len(strs)+1)

	recs := readCSV(t, buf, ';')
	if len(recs) != len(strs)+2 || strings.Join(recs[0], "|") != "s|l|ts|by|tags|attrs|src" {
		t.Fatalf("header or count: %d %q", len(recs), recs[0])
	}
	j := NewJSONOrFail(t, cols[4:])
	wantNested, _ := j.AppendRow(nil, nested)
	for i, s := range strs {
		rec := recs[i+1]
		var ref string
		_ = json.Unmarshal(mustMarshal(t, s), &ref) // invalid UTF-8 replaced as JSON does
		// encoding/csv reads a quoted CRLF as LF.
		ref = strings.ReplaceAll(ref, "\r\n", "\n")
		if rec[0] != ref {
			t.Errorf("string %q: got %q, want %q", s, rec[0], ref)
		}
		if b, err := decodeB64(rec[3]); err != nil || string(b) != s {
			t.Errorf("bytes %q: got %q (%v)", s, rec[3], err)
		}
		if got, err := time.Parse(time.RFC3339Nano, rec[2]); err != nil || !got.Equal(ts) {
			t.Errorf("timestamp %q: %v", rec[2], err)
		}
		// The nested fields are the JSON encoder's text.
		obj := "{" + `"tags":` + rec[4] + `,"attrs":` + rec[5] + `,"src":` + rec[6] + "}\n"
		if obj != string(wantNested) {
			t.Errorf("nested: got %s, want %s", obj, wantNested)
		}
	}
	// The string "\N" is quoted; NULL is not.
	if !bytes.Contains(buf, []byte("\n\"\\N\";0;")) || !bytes.HasSuffix(buf, []byte(`\N;\N;\N;\N;\N;\N;\N`+"\r\n")) {
		t.Fatalf("NULL text: %q", buf)
	}
	for _, v := range recs[len(recs)-1] {
		if v != `\N` {
			t.Fatalf("null row: %q", recs[len(recs)-1])
		}
	}
}

func NewJSONOrFail(t testing.TB, cols []sql.OutputColumn) *JSON {
	t.Helper()
	j, err := NewJSON(cols)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestCSVOptions(t *testing.T) {
	cols := []sql.OutputColumn{col("a", sql.TypeBigInt)}
	for _, o := range []Options{{Delimiter: '"'}, {Delimiter: '\n'}, {Delimiter: utf8RuneError}, {LineEnding: "\r"}, {NullText: "a\nb"}, {NullText: "x,y"}} {
		if _, err := NewWithOptions("csv", cols, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	e, err := NewWithOptions("CSV", cols, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.(BatchEncoder); !ok || e.ContentType() != "text/csv; charset=utf-8; header=absent" {
		t.Fatal("CSV encoder")
	}
	// Without header, the batch is just the rows; empty string vs NULL.
	c := newCSV(t, []sql.OutputColumn{col("s", sql.TypeVarchar), col("t", sql.TypeVarchar)}, Options{Delimiter: '\t', LineEnding: "\n"})
	out := c.AppendBatchStart(nil)
	out, _ = c.AppendRow(out, []sql.Value{{B: []byte("")}, sql.Null})
	out, _ = c.AppendBatchEnd(out, 1)
	if string(out) != "\"\"\t\n" {
		t.Fatalf("got %q", out)
	}
	// A corrupt nested value is an error, dst as it was.
	cols2, row := nestedRow(t, nestedSchema, "SELECT id, tags FROM tenant", nestedRecord())
	row[1].B = []byte{0x7f}
	c = newCSV(t, cols2, Options{})
	if out, err := c.AppendRow([]byte("keep"), row); err == nil || string(out) != "keep" {
		t.Fatalf("got %q, %v", out, err)
	}
	if _, err := c.AppendRow(nil, row[:1]); err == nil {
		t.Fatal("short row accepted")
	}
	if _, err := NewCSV([]sql.OutputColumn{col("a", &sql.Type{Kind: sql.Array, Elem: sql.TypeBigInt})}, Options{}); err == nil {
		t.Fatal("array without Avro type accepted")
	}
	if !errors.Is(func() error { _, err := New("xml", cols); return err }(), ErrUnknownFormat) {
		t.Fatal("unknown format")
	}
}

func TestCSVAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	nestedCols, nestedVals := nestedRow(t, nestedSchema, "SELECT * FROM tenant", nestedRecord())
	scalarCols := []sql.OutputColumn{
		col("b", sql.TypeBoolean), col("l", sql.TypeBigInt), col("d", sql.TypeDouble), col("s", sql.TypeVarchar),
		col("by", sql.TypeBytes), col("ts", sql.TypeTimestamp), col("dt", sql.TypeDate), col("tm", sql.TypeTime), col("iv", sql.TypeInterval),
	}
	scalarRow := []sql.Value{sql.Bool(true), {I: 42}, {F: 0.1}, {B: []byte(nastyStrings[4])}, {B: []byte("bytes")},
		{I: 1_764_169_445_123_456}, {I: 20783}, {I: 1}, {I: 300_000_000}}
	for _, c := range []struct {
		name string
		cols []sql.OutputColumn
		row  []sql.Value
		opts Options
	}{{"scalar", scalarCols, scalarRow, Options{}}, {"scalar-quoteall", scalarCols, scalarRow, Options{QuoteAll: true, Delimiter: '.'}},
		{"nested", nestedCols, nestedVals, Options{Delimiter: ';'}}} {
		e := newCSV(t, c.cols, c.opts)
		buf := make([]byte, 0, 4096)
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

func TestJSONArray(t *testing.T) {
	cols, nested := nestedRow(t, nestedSchema, "SELECT id, src, tags FROM tenant", nestedRecord())
	e, err := NewWithOptions("json", cols, Options{Array: true})
	if err != nil {
		t.Fatal(err)
	}
	be := e.(BatchEncoder)
	if e.ContentType() != "application/json" {
		t.Fatal(e.ContentType())
	}
	for _, n := range []int{0, 1, 3} {
		out := be.AppendBatchStart([]byte("p"))
		for range n {
			if out, err = e.AppendRow(out, nested); err != nil {
				t.Fatal(err)
			}
		}
		out, _ = be.AppendBatchEnd(out, n)
		var got []map[string]any
		if err := json.Unmarshal(out[1:], &got); err != nil || len(got) != n || out[len(out)-1] != '\n' {
			t.Fatalf("%d rows: %q: %v", n, out, err)
		}
		for _, m := range got {
			if m["src"].(map[string]any)["ip"] != "10.1.2.3" || len(m["tags"].([]any)) != 3 {
				t.Fatalf("%v", m)
			}
		}
		if n == 0 && string(out) != "p[]\n" {
			t.Fatalf("empty: %q", out)
		}
	}
	// A refused row leaves the batch valid.
	bad := append([]sql.Value(nil), nested...)
	bad[2].B = []byte{0x7f}
	out := be.AppendBatchStart(nil)
	out, _ = e.AppendRow(out, nested)
	if out2, err := e.AppendRow(out, bad); err == nil || len(out2) != len(out) {
		t.Fatal("bad row accepted")
	}
	out, _ = e.AppendRow(out, nested)
	out, _ = be.AppendBatchEnd(out, 2)
	var got []any
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 2 {
		t.Fatalf("%q: %v", out, err)
	}
}

// BenchmarkCSV encodes SELECT * rows of the demo firewall logs (23
// columns), as BenchmarkJSON.
func BenchmarkCSV(b *testing.B) {
	cols, rows := firewallRows(b)
	e := newCSV(b, cols, Options{})
	benchEncoder(b, e, rows)
}

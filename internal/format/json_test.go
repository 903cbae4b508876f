package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/sql"
)

func col(name string, t *sql.Type) sql.OutputColumn { return sql.OutputColumn{Name: name, Type: t} }

// unmarshal parses one NDJSON line, numbers kept as json.Number.
func unmarshal(t *testing.T, line []byte) map[string]any {
	t.Helper()
	if len(line) == 0 || line[len(line)-1] != '\n' || bytes.Count(line, []byte{'\n'}) != 1 {
		t.Fatalf("not one line: %q", line)
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return m
}

func encode(t *testing.T, cols []sql.OutputColumn, row []sql.Value) []byte {
	t.Helper()
	e, err := NewJSON(cols)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.AppendRow([]byte("prefix"), row)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("prefix")) {
		t.Fatalf("AppendRow dropped dst: %q", out)
	}
	return out[len("prefix"):]
}

var nastyStrings = []string{
	"",
	"plain",
	`quote " and backslash \ and slash /`,
	"controls \x00\x01\x07\b\f\n\r\t\x1b\x1f\x7f end",
	"invalid \xff\xfe utf-8 \xc3\x28 and truncated \xe2\x82",
	"non-ASCII: héllo, 日本語, emoji 🦆, combining e\u0301",
	"line separators \u2028 and \u2029",
	"html <script>alert('x')</script> & co",
	strings.Repeat("long ascii run without escapes ", 20) + "\"",
	"\"\"\"\\\\\\",
	"12345678\n12345678\"1234567\xff",
}

func TestJSONScalars(t *testing.T) {
	cols := []sql.OutputColumn{
		col("b", sql.TypeBoolean), col("i", sql.TypeInteger), col("l", sql.TypeBigInt),
		col("d", sql.TypeDouble), col("s", sql.TypeVarchar), col("by", sql.TypeBytes),
		col("ts", sql.TypeTimestamp), col("dt", sql.TypeDate), col("tm", sql.TypeTime),
		col("iv", sql.TypeInterval), col("n", sql.TypeUnknown), col(`we"ird\key`, sql.TypeBigInt),
	}
	ts := time.Date(2026, 11, 26, 15, 4, 5, 123_000_000, time.UTC)
	row := []sql.Value{
		sql.Bool(true), {I: math.MinInt32}, {I: math.MinInt64}, {F: 1e300},
		{B: []byte(nastyStrings[3])}, {B: []byte{0, 1, 2, 0xff, 0xfe}},
		{I: ts.UnixMicro()}, {I: 20783}, {I: (15*3600+4*60+5)*1_000_000 + 123_456},
		{I: (26*3600 + 5*60) * 1_000_000}, sql.Null, {I: math.MaxInt64},
	}
	out := encode(t, cols, row)
	want := `{"b":true,"i":-2147483648,"l":-9223372036854775808,"d":1e+300,"s":"controls \u0000\u0001\u0007\b\f\n\r\t\u001b\u001f` + "\x7f" + ` end",` +
		`"by":"AAEC//4=","ts":"2026-11-26T15:04:05.123Z","dt":"2026-11-26","tm":"15:04:05.123456","iv":"P1DT2H5M","n":null,"we\"ird\\key":9223372036854775807}` + "\n"
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	m := unmarshal(t, out)
	if m["l"].(json.Number).String() != "-9223372036854775808" || m["s"] != nastyStrings[3] || m["n"] != nil {
		t.Fatalf("round trip: %v", m)
	}
	if got, err := time.Parse(time.RFC3339Nano, m["ts"].(string)); err != nil || !got.Equal(ts) {
		t.Fatalf("timestamp %v: %v", m["ts"], err)
	}

	// Every value NULL.
	nulls := make([]sql.Value, len(cols))
	for i := range nulls {
		nulls[i] = sql.Null
	}
	for k, v := range unmarshal(t, encode(t, cols, nulls)) {
		if v != nil {
			t.Errorf("%s: %v, want null", k, v)
		}
	}
}

func TestJSONStringsRoundTrip(t *testing.T) {
	cols := []sql.OutputColumn{col("s", sql.TypeVarchar)}
	for _, s := range nastyStrings {
		m := unmarshal(t, encode(t, cols, []sql.Value{{B: []byte(s)}}))
		want := strings.ToValidUTF8(s, "\uFFFD")
		// encoding/json replaces each invalid byte, ToValidUTF8 each run.
		var ref string
		_ = json.Unmarshal(mustMarshal(t, s), &ref)
		if m["s"] != ref {
			t.Errorf("%q: got %q, want %q (%q)", s, m["s"], ref, want)
		}
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// appendString writes exactly what encoding/json writes with HTML escaping
// off.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := append([]string(nil), nastyStrings...)
	alphabet := []string{"a", "b", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "é", "\u2028", "\u2029", "\xff", "\xe2\x80", "🦆", "<", "&"}
	for range 2000 {
		var b strings.Builder
		for range r.IntN(40) {
			if r.IntN(3) == 0 {
				b.WriteByte(byte(r.UintN(256)))
			} else {
				b.WriteString(alphabet[r.IntN(len(alphabet))])
			}
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		if got, want := appendString(nil, []byte(s)), mustMarshal(t, s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got  %s\n want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range nastyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendString(nil, []byte(s)), mustMarshal(t, s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got  %s\n want %s", s, got, want)
		}
	})
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e300, -1e300, 5e-324, math.MaxFloat64,
		math.SmallestNonzeroFloat64, 1e21, 1e20, 123456789012345678901, 1e-6, 1e-7, 9.999999e-7, 0.000001234, 3.14159, 1 << 53, -(1 << 63)}
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		f := math.Float64frombits(r.Uint64())
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			vals = append(vals, f)
		}
	}
	for _, f := range vals {
		if got, want := appendFloat(nil, f, 64), mustMarshal(t, f); !bytes.Equal(got, want) {
			t.Fatalf("%v: got %s, want %s", f, got, want)
		}
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) {
			continue
		}
		if got, want := appendFloat(nil, float64(f32), 32), mustMarshal(t, f32); !bytes.Equal(got, want) {
			t.Fatalf("float32 %v: got %s, want %s", f32, got, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := appendFloat(nil, f, 64); string(got) != "null" {
			t.Fatalf("%v: %s", f, got)
		}
	}
}

func TestJSONDoubles(t *testing.T) {
	cols := []sql.OutputColumn{col("d", sql.TypeDouble)}
	for _, f := range []float64{1e300, 5e-324, math.Copysign(0, -1), -1.5, math.MaxFloat64, 0.1} {
		m := unmarshal(t, encode(t, cols, []sql.Value{{F: f}}))
		got, err := m["d"].(json.Number).Float64()
		if err != nil || got != f || math.Signbit(got) != math.Signbit(f) {
			t.Errorf("%v: got %v (%v)", f, m["d"], err)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if m := unmarshal(t, encode(t, cols, []sql.Value{{F: f}})); m["d"] != nil {
			t.Errorf("%v: got %v, want null", f, m["d"])
		}
	}
	// A column read from an Avro float prints the float32's digits, as
	// long as the value is one.
	f32 := &sql.Type{Kind: sql.Double, Avro: &decode.Type{Kind: decode.KindFloat}}
	for _, c := range []struct {
		f    float64
		want string
	}{{float64(float32(0.1)), "0.1"}, {0.1, "0.1"}, {1.0 / 3, "0.3333333333333333"}} {
		out := encode(t, []sql.OutputColumn{col("f", f32)}, []sql.Value{{F: c.f}})
		if want := `{"f":` + c.want + "}\n"; string(out) != want {
			t.Errorf("%v: got %s, want %s", c.f, out, want)
		}
	}
}

func TestTimestampsMatchTimeFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC).UnixMicro()
	vals := []int64{0, -1, 1, lo, hi, 951_782_400_000_000 /* 2000-02-29 */, -62_135_596_800_000_000}
	for range 20000 {
		us := lo + r.Int64N(hi-lo)
		switch r.IntN(3) {
		case 0:
			us -= us % 1_000_000
		case 1:
			us -= us % 1000
		}
		vals = append(vals, us)
	}
	for _, us := range vals {
		tm := time.UnixMicro(us).UTC()
		if got, want := string(appendTimestamp(nil, us)), `"`+tm.Format(time.RFC3339Nano)+`"`; got != want {
			t.Fatalf("%d: got %s, want %s", us, got, want)
		}
		days := floorDiv(us, microsPerDay)
		if got, want := string(appendDate(nil, days)), `"`+tm.Format(time.DateOnly)+`"`; got != want {
			t.Fatalf("date %d: got %s, want %s", days, got, want)
		}
		clock := us - days*microsPerDay
		if got, want := string(appendTime(nil, clock)), `"`+strings.TrimSuffix(strings.TrimRight(tm.Format("15:04:05.000000"), "0"), ".")+`"`; got != want {
			t.Fatalf("time %d: got %s, want %s", clock, got, want)
		}
	}
	for _, c := range []struct {
		us   int64
		want string
	}{
		{time.Date(-1, 3, 1, 0, 0, 0, 0, time.UTC).UnixMicro(), `"-0001-03-01T00:00:00Z"`},
		{time.Date(12345, 1, 2, 3, 4, 5, 6000, time.UTC).UnixMicro(), `"12345-01-02T03:04:05.000006Z"`},
		{math.MaxInt64, `"294247-01-10T04:00:54.775807Z"`},
		{math.MinInt64, `"-290308-12-21T19:59:05.224192Z"`},
	} {
		if got := string(appendTimestamp(nil, c.us)); got != c.want {
			t.Errorf("%d: got %s, want %s", c.us, got, c.want)
		}
	}
	if got := string(appendTime(nil, -1)); got != `"23:59:59.999999"` {
		t.Errorf("time -1: %s", got)
	}
}

func TestIntervals(t *testing.T) {
	const s = int64(1_000_000)
	for _, c := range []struct {
		us   int64
		want string
	}{
		{0, "PT0S"}, {5 * 60 * s, "PT5M"}, {(26*3600 + 0) * s, "P1DT2H"}, {86400 * s, "P1D"},
		{s / 2, "PT0.5S"}, {1, "PT0.000001S"}, {-s, "-PT1S"}, {3*86400*s + 3661*s + 250_000, "P3DT1H1M1.25S"},
		{math.MaxInt64, "P106751991DT4H54.775807S"}, {math.MinInt64, "-P106751991DT4H54.775808S"},
	} {
		if got := string(appendInterval(nil, c.us)); got != `"`+c.want+`"` {
			t.Errorf("%d: got %s, want %q", c.us, got, c.want)
		}
	}
}

const nestedSchema = `{"type":"record","name":"Event","namespace":"t","fields":[
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"id","type":"long"},
 {"name":"f","type":"float"},
 {"name":"e","type":{"type":"enum","name":"Action","symbols":["allow","deny"]}},
 {"name":"u","type":["null","string"],"default":null},
 {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
 {"name":"uidf","type":{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}},
 {"name":"src","type":{"type":"record","name":"Addr","fields":[
   {"name":"ip","type":"string"},
   {"name":"port","type":"int"},
   {"name":"seen","type":{"type":"long","logicalType":"timestamp-millis"}},
   {"name":"seen_ns","type":{"type":"long","logicalType":"timestamp-nanos"}},
   {"name":"day","type":{"type":"int","logicalType":"date"}},
   {"name":"at","type":{"type":"int","logicalType":"time-millis"}},
   {"name":"kind","type":"Action"},
   {"name":"amount","type":{"type":"fixed","name":"Amt","size":4,"logicalType":"decimal","precision":8,"scale":3}},
   {"name":"id","type":"U"},
   {"name":"sid","type":{"type":"string","logicalType":"uuid"}},
   {"name":"raw","type":"bytes"},
   {"name":"ratio","type":"float"},
   {"name":"d","type":"double"},
   {"name":"ok","type":"boolean"},
   {"name":"multi","type":["null","string","long"]},
   {"name":"none","type":["null","string"]},
   {"name":"note","type":"string"}
 ]}},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"empty","type":{"type":"array","items":"long"}},
 {"name":"attrs","type":{"type":"map","values":"long"}},
 {"name":"hits","type":{"type":"array","items":{"type":"record","name":"Hit","fields":[
   {"name":"name","type":"string"},
   {"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}},
   {"name":"scores","type":{"type":"map","values":{"type":"array","items":"double"}}}
 ]}}},
 {"name":"maybe","type":["null","Addr"],"default":null},
 {"name":"list","type":{"type":"record","name":"Node","fields":[
   {"name":"v","type":"int"},
   {"name":"next","type":["null","Node"]}
 ]}}
]}`

var (
	nestedTS   = time.Date(2026, 11, 26, 15, 4, 5, 250_000_000, time.UTC)
	nestedUUID = [16]byte{0x0f, 0x8f, 0xad, 0x5b, 0xd9, 0xcb, 0x46, 0x9f, 0xa1, 0x65, 0x70, 0x86, 0x77, 0x28, 0x95, 0x0e}
)

func nestedRecord() map[string]any {
	addr := map[string]any{
		"ip": "10.1.2.3", "port": int32(51000), "seen": nestedTS.UnixMilli(),
		"seen_ns": nestedTS.Add(123_456_789).UnixNano(), "day": int32(20783),
		"at": int32((13*3600+4*60+5)*1000 + 250), "kind": "deny",
		"amount": [4]byte{0xff, 0xff, 0xff, 0xfe}, "id": nestedUUID,
		"sid": "0f8fad5b-d9cb-469f-a165-70867728950e", "raw": []byte("hi\x00"),
		"ratio": float32(0.1), "d": 5e-324, "ok": true, "multi": int64(-7), "none": nil,
		"note": "\u2028<&>\xff",
	}
	return map[string]any{
		"ts": nestedTS.UnixMilli(), "id": int64(math.MinInt64), "f": float32(1.5), "e": "allow", "u": nil,
		"dec": []byte{0x30, 0x39}, "uidf": nestedUUID, "src": addr,
		"tags": []any{"a", `"q"`, "\n"}, "empty": []any{},
		"attrs": map[string]any{"x\"y": int64(1)},
		"hits": []any{
			map[string]any{"name": "h1", "at": int64(1), "scores": map[string]any{"s": []any{1.5, math.Copysign(0, -1)}}},
			map[string]any{"name": "h2", "at": int64(-1), "scores": map[string]any{}},
		},
		"maybe": nil,
		"list":  map[string]any{"v": int32(1), "next": map[string]any{"v": int32(2), "next": map[string]any{"v": int32(3), "next": nil}}},
	}
}

const nestedWant = `{"ts":"2026-11-26T15:04:05.25Z","id":-9223372036854775808,"f":1.5,"e":"allow","u":null,"dec":123.45,` +
	`"uidf":"0f8fad5b-d9cb-469f-a165-70867728950e",` +
	`"src":{"ip":"10.1.2.3","port":51000,"seen":"2026-11-26T15:04:05.25Z","seen_ns":"2026-11-26T15:04:05.373456Z","day":"2026-11-26",` +
	`"at":"13:04:05.25","kind":"deny","amount":-0.002,"id":"0f8fad5b-d9cb-469f-a165-70867728950e","sid":"0f8fad5b-d9cb-469f-a165-70867728950e",` +
	`"raw":"aGkA","ratio":0.1,"d":5e-324,"ok":true,"multi":-7,"none":null,"note":"\u2028<&>\ufffd"},` +
	`"tags":["a","\"q\"","\n"],"empty":[],"attrs":{"x\"y":1},` +
	`"hits":[{"name":"h1","at":"1970-01-01T00:00:00.000001Z","scores":{"s":[1.5,-0]}},{"name":"h2","at":"1969-12-31T23:59:59.999999Z","scores":{}}],` +
	`"maybe":null,"list":{"v":1,"next":{"v":2,"next":{"v":3,"next":null}}}}` + "\n"

// nestedRow analyses SELECT * over nestedSchema and returns the columns and
// the projected row of rec, as a job computes them.
func nestedRow(t testing.TB, schemaText, query string, rec any) ([]sql.OutputColumn, []sql.Value) {
	t.Helper()
	schema := avro.MustParse(schemaText)
	q, err := sql.Analyze(query, schema)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := decode.Compile(schema, schema, q.Fields)
	if err != nil {
		t.Fatal(err)
	}
	b, err := schema.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	row := &decode.Row{}
	if err := dec.Decode(b, row); err != nil {
		t.Fatal(err)
	}
	env := sql.NewEnv()
	env.Row = row
	vals := make([]sql.Value, len(q.Project))
	for i, p := range q.Project {
		vals[i] = p(env)
	}
	if env.Err() != nil {
		t.Fatal(env.Err())
	}
	return q.Columns, vals
}

func TestJSONNested(t *testing.T) {
	cols, row := nestedRow(t, nestedSchema, "SELECT * FROM tenant", nestedRecord())
	out := encode(t, cols, row)
	if string(out) != nestedWant {
		t.Fatalf("got\n%s\nwant\n%s", out, nestedWant)
	}
	m := unmarshal(t, out)
	src := m["src"].(map[string]any)
	if src["note"] != "\u2028<&>\uFFFD" || src["none"] != nil {
		t.Fatalf("round trip: %v", src)
	}

	// The same values reached through expressions keep their encoding.
	cols, row = nestedRow(t, nestedSchema, "SELECT src.seen, src.amount, hits[1] AS h, src AS s FROM tenant", nestedRecord())
	out = encode(t, cols, row)
	m = unmarshal(t, out)
	if m["seen"] != "2026-11-26T15:04:05.25Z" || m["amount"].(json.Number) != "-0.002" ||
		m["h"].(map[string]any)["name"] != "h1" || m["s"].(map[string]any)["seen"] != "2026-11-26T15:04:05.25Z" {
		t.Fatalf("expressions: %s", out)
	}
}

// A nested value that does not decode is an error, and dst is left as it
// was.
func TestJSONCorruptNested(t *testing.T) {
	cols, row := nestedRow(t, nestedSchema, "SELECT id, tags FROM tenant", nestedRecord())
	row[1].B = []byte{0x7f} // a block of -64 items, and nothing after
	e, err := NewJSON(cols)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.AppendRow([]byte("keep"), row)
	if err == nil || string(out) != "keep" || !strings.Contains(err.Error(), "tags") {
		t.Fatalf("got %q, %v", out, err)
	}
	if _, err := e.AppendRow(nil, row[:1]); err == nil {
		t.Fatal("short row accepted")
	}
}

func TestJSONDepthLimit(t *testing.T) {
	const schema = `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":{"type":"array","items":"long"}}}]}`
	cols, row := nestedRow(t, schema, "SELECT a FROM tenant", map[string]any{"a": []any{[]any{int64(1), int64(2)}, []any{}}})
	if out := encode(t, cols, row); string(out) != `{"a":[[1,2],[]]}`+"\n" {
		t.Fatalf("got %s", out)
	}
	// A linked list as deep as the decoder allows, and the encoder's own
	// limit.
	const list = `{"type":"record","name":"R","fields":[{"name":"l","type":{"type":"record","name":"N","fields":[{"name":"next","type":["null","N"]}]}}]}`
	var n any
	for range 100 {
		n = map[string]any{"next": n}
	}
	cols, row = nestedRow(t, list, "SELECT l FROM tenant", map[string]any{"l": n})
	e, _ := NewJSON(cols)
	out, err := e.AppendRow(nil, row)
	if err != nil || !bytes.HasSuffix(out, []byte(`{"next":null}`+strings.Repeat("}", 100)+"\n")) {
		t.Fatalf("got %v", err)
	}
	dv := decode.Value{Kind: decode.KindRecord, B: row[0].B, Nested: row[0].Nested}
	if _, err := e.appendNested(nil, e.cols[0].node, &dv, maxDepth); !errors.Is(err, errDepth) {
		t.Fatalf("got %v", err)
	}
}

func TestNew(t *testing.T) {
	cols := []sql.OutputColumn{col("a", sql.TypeBigInt)}
	for _, name := range []string{"JSON", "json", "Json"} {
		e, err := New(name, cols)
		if err != nil || e.ContentType() != "application/x-ndjson" {
			t.Fatalf("%s: %v", name, err)
		}
	}
	_, err := New("XML", cols)
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "JSON") || !strings.Contains(err.Error(), `"XML"`) {
		t.Fatalf("got %v", err)
	}
	if _, err := NewJSON([]sql.OutputColumn{col("a", &sql.Type{Kind: sql.Array, Elem: sql.TypeBigInt})}); err == nil {
		t.Fatal("array without Avro type accepted")
	}
	if out := encode(t, nil, nil); string(out) != "{}\n" {
		t.Fatalf("no columns: %q", out)
	}
}

func TestJSONAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	scalarCols := []sql.OutputColumn{
		col("b", sql.TypeBoolean), col("l", sql.TypeBigInt), col("d", sql.TypeDouble), col("s", sql.TypeVarchar),
		col("by", sql.TypeBytes), col("ts", sql.TypeTimestamp), col("dt", sql.TypeDate), col("tm", sql.TypeTime), col("iv", sql.TypeInterval),
	}
	scalarRow := []sql.Value{sql.Bool(true), {I: 42}, {F: 0.1}, {B: []byte(nastyStrings[4])}, {B: []byte("bytes")},
		{I: 1_764_169_445_123_456}, {I: 20783}, {I: 1}, {I: 300_000_000}}
	nestedCols, nestedVals := nestedRow(t, nestedSchema, "SELECT * FROM tenant", nestedRecord())
	for _, c := range []struct {
		name string
		cols []sql.OutputColumn
		row  []sql.Value
	}{{"scalar", scalarCols, scalarRow}, {"nested", nestedCols, nestedVals}} {
		e, err := NewJSON(c.cols)
		if err != nil {
			t.Fatal(err)
		}
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

// BenchmarkJSON encodes SELECT * rows of the demo firewall logs (23
// columns), decoded and projected as a job does.
func BenchmarkJSON(b *testing.B) {
	cols, rows := firewallRows(b)
	e, err := NewJSON(cols)
	if err != nil {
		b.Fatal(err)
	}
	benchEncoder(b, e, rows)
}

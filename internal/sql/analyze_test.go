package sql

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/decode"
)

const testSchema = `{"type":"record","name":"R","fields":[
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"id","type":"long"},
 {"name":"n","type":["null","int"],"default":null},
 {"name":"d","type":"double"},
 {"name":"s","type":"string"},
 {"name":"e","type":{"type":"enum","name":"Action","symbols":["allow","deny","drop"]}},
 {"name":"u","type":["null","string"],"default":null},
 {"name":"src","type":{"type":"record","name":"Addr","fields":[{"name":"ip","type":"string"},{"name":"port","type":"int"}]}},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"attrs","type":{"type":"map","values":"long"}},
 {"name":"hits","type":{"type":"array","items":{"type":"record","name":"Hit","fields":[{"name":"name","type":"string"},{"name":"score","type":"int"}]}}},
 {"name":"day","type":{"type":"int","logicalType":"date"}},
 {"name":"MixedCase","type":"string"},
 {"name":"multi","type":["null","string","long"],"default":null}
]}`

var testRecord = map[string]any{
	"ts":        time.Date(2026, 11, 26, 15, 4, 5, 250_000_000, time.UTC).UnixMilli(),
	"id":        int64(42),
	"n":         int32(7),
	"d":         2.5,
	"s":         "Hello, World",
	"e":         "deny",
	"u":         nil,
	"src":       map[string]any{"ip": "10.1.2.3", "port": int32(51000)},
	"tags":      []any{"a", "b", "c"},
	"attrs":     map[string]any{"x": int64(1), "y": int64(2)},
	"hits":      []any{map[string]any{"name": "h1", "score": int32(10)}, map[string]any{"name": "h2", "score": int32(20)}},
	"day":       int32(20418),
	"MixedCase": "mc",
	"multi":     nil,
}

// run analyses src against the test schema and evaluates it on rec: the
// text form of each output column ("NULL" for NULL), whether the row
// passed WHERE, and the evaluation error.
func run(t *testing.T, src string, rec map[string]any) ([]string, bool, error) {
	t.Helper()
	schema := avro.MustParse(testSchema)
	q, err := Analyze(src, schema)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	dec, err := decode.Compile(schema, schema, q.Fields)
	if err != nil {
		t.Fatalf("%s: decoder: %v", src, err)
	}
	b, err := schema.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	var row decode.Row
	if err := dec.Decode(b, &row); err != nil {
		t.Fatal(err)
	}
	env := NewEnv()
	env.Row = &row
	if q.Where != nil {
		if v := q.Where(env); v.Null || v.I == 0 {
			return nil, false, env.Err()
		}
	}
	var out []string
	for i, p := range q.Project {
		v := p(env)
		if v.Null {
			out = append(out, "NULL")
			continue
		}
		out = append(out, string(AppendText(nil, q.Columns[i].Type.Kind, v)))
	}
	return out, true, env.Err()
}

func TestEvaluate(t *testing.T) {
	cases := []struct {
		expr, want string
	}{
		{"id + 1", "43"},
		{"n * 3", "21"},
		{"7 / 2", "3"},
		{"-7 / 2", "-3"},
		{"-7 % 3", "-1"},
		{"7.0 / 2", "3.5"},
		{"d * 2", "5"},
		{"n + d", "9.5"},
		{"1e20 * 10", "1e+21"},
		{"0.0001 + 0", "0.0001"},
		{"1e15 + 0", "1e+15"},
		{"1e14 + 0", "100000000000000"},
		{"999999999999999.9 + 0", "999999999999999.9"},
		{"-1e15 + 0", "-1e+15"},
		{"0.00001 + 0", "1e-05"},
		{"s || '!'", "Hello, World!"},
		{"s || n", "Hello, World7"},
		{"u || 'x'", "NULL"},
		{"e", "deny"},
		{"e = 'deny'", "true"},
		{"src.ip", "10.1.2.3"},
		{"tenant.src.port", "51000"},
		{"tags[2]", "b"},
		{"tags[4]", "NULL"},
		{"attrs['y']", "2"},
		{"attrs['z']", "NULL"},
		{"hits[2].name", "h2"},
		{"hits[1].score + 1", "11"},
		{"mixedcase", "mc"},
		{`"MixedCase"`, "mc"},
		{"ts", "2026-11-26 15:04:05.25"},
		{"day", "2025-11-26"},
		{"ts > TIMESTAMP '2026-11-26 00:00:00'", "true"},
		{"ts > '2026-11-27'", "false"},
		{"ts - INTERVAL '5' MINUTE", "2026-11-26 14:59:05.25"},
		{"ts - TIMESTAMP '2026-11-26 15:00:00'", "00:04:05.25"},
		{"INTERVAL '1' DAY + INTERVAL '2' HOUR", "1 day 02:00:00"},
		{"NULL AND FALSE", "false"},
		{"NULL AND TRUE", "NULL"},
		{"NULL OR TRUE", "true"},
		{"NOT (u IS NULL)", "false"},
		{"u IS NOT DISTINCT FROM NULL", "true"},
		{"n IS DISTINCT FROM 7", "false"},
		{"n IN (1, 7)", "true"},
		{"n IN (1, NULL)", "NULL"},
		{"n NOT IN (1, 2)", "true"},
		{"n IN (id, 7)", "true"},
		{"e IN ('allow', 'deny')", "true"},
		{"n BETWEEN 1 AND 7", "true"},
		{"n NOT BETWEEN 1 AND 6", "true"},
		{"u BETWEEN 'a' AND 'z'", "NULL"},
		{"s LIKE 'Hello%'", "true"},
		{"s LIKE 'hello%'", "false"},
		{"s ILIKE 'hello%'", "true"},
		{"s LIKE '%, _orld'", "true"},
		{"'50%' LIKE '50!%' ESCAPE '!'", "true"},
		{"'500' LIKE '50!%' ESCAPE '!'", "false"},
		{`'a\b' LIKE 'a\\b'`, "true"},
		{`'a_b' LIKE 'a\_b'`, "true"},
		{`'axb' LIKE 'a\_b'`, "false"},
		{"'Ünïcode' ILIKE 'ü%E'", "true"},
		{"CASE WHEN n > 5 THEN 'big' ELSE 'small' END", "big"},
		{"CASE n WHEN 1 THEN 'one' WHEN 7 THEN 'seven' END", "seven"},
		{"CASE n WHEN 1 THEN 'one' END", "NULL"},
		{"CASE WHEN u IS NULL THEN 1 ELSE 2.5 END", "1"},
		{"POSITION('lo' IN s)", "4"},
		{"POSITION('x' IN 'a' || 'x')", "2"},
		{"POSITION('lo', s)", "4"},
		{"CAST(n AS VARCHAR)", "7"},
		{"CAST('12' AS INT) + 1", "13"},
		{"CAST(2.5 AS INT)", "2"},
		{"CAST(3.5 AS INT)", "4"},
		{"CAST(-2.5 AS BIGINT)", "-2"},
		{"CAST(TRUE AS VARCHAR)", "true"},
		{"CAST('yes' AS BOOLEAN)", "true"},
		{"CAST(s AS VARCHAR(5))", "Hello"},
		{"CAST(ts AS DATE)", "2026-11-26"},
		{"CAST('2026-11-26T10:00:00+01:00' AS TIMESTAMP)", "2026-11-26 09:00:00"},
		{"TRY_CAST('abc' AS INT)", "NULL"},
		{"d::int", "2"},
		{"COALESCE(u, s)", "Hello, World"},
		{"COALESCE(u, NULL)", "NULL"},
		{"COALESCE(n, 2.5)", "7"},
		{"NULLIF(n, 7)", "NULL"},
		{"NULLIF(n, 8)", "7"},
		{"-2147483648", "-2147483648"},
		{"2147483647 + 1::bigint", "2147483648"},
		{"'abc' < 'abd'", "true"},
		{"'B' < 'a'", "true"},
		{"CAST('NaN' AS DOUBLE) > 1e308", "true"},
	}
	for _, c := range cases {
		got, _, err := run(t, "SELECT "+c.expr+" FROM tenant", testRecord)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got[0] != c.want {
			t.Errorf("%s = %s, want %s", c.expr, got[0], c.want)
		}
	}
}

func TestEvaluationErrors(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"n / 0", "division by zero"},
		{"n % (n - 7)", "division by zero"},
		{"d / 0", "division by zero"},
		{"2147483647 + n", "integer out of range"},
		{"9223372036854775807 + id", "bigint out of range"},
		{"id * 9223372036854775807", "bigint out of range"},
		{"-(n - 7 - 2147483647 - 1)", "integer out of range"},
		{"CAST(s AS INT)", `invalid input syntax for type INTEGER: "Hello, World"`},
		{"CAST(id * 100000000 AS INT)", "integer out of range"},
		{"1e308 * d * 1e10", "value out of range: overflow"},
	} {
		_, _, err := run(t, "SELECT "+c.expr+" FROM tenant", testRecord)
		var ee *EvalError
		if !errors.As(err, &ee) || ee.Msg != c.want {
			t.Errorf("%s: error %v, want %q", c.expr, err, c.want)
		}
	}
}

func TestWhere(t *testing.T) {
	for _, c := range []struct {
		where string
		pass  bool
	}{
		{"e = 'deny' AND n < 10", true},
		{"e = 'allow' OR n < 5", false},
		{"u = 'x'", false},       // NULL does not pass
		{"NOT (u = 'x')", false}, // neither does NOT NULL
		{"u IS NULL", true},
	} {
		_, pass, err := run(t, "SELECT id FROM tenant WHERE "+c.where, testRecord)
		if err != nil || pass != c.pass {
			t.Errorf("WHERE %s: pass %v, err %v; want %v", c.where, pass, err, c.pass)
		}
	}
}

func TestFieldsFilterFirst(t *testing.T) {
	q, err := Analyze("SELECT s, id, src.ip FROM tenant WHERE e = 'deny' AND n > 1", avro.MustParse(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"e", "n", "s", "id", "src.ip"}
	if strings.Join(q.Fields, ",") != strings.Join(want, ",") || q.FilterFields != 2 {
		t.Fatalf("fields %v (filter %d), want %v (filter 2)", q.Fields, q.FilterFields, want)
	}
	q, err = Analyze("SELECT * FROM tenant WHERE id = 1", avro.MustParse(testSchema))
	if !errors.As(err, new(*AnalysisError)) || !strings.Contains(err.Error(), "multi") {
		t.Fatalf("SELECT * over a multi-type union: %v", err)
	}
	_ = q
}

func TestStar(t *testing.T) {
	schema := avro.MustParse(`{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"},{"name":"c","type":["null","long"]}]}`)
	q, err := Analyze("SELECT *, a + 1 AS a FROM tenant WHERE b = 'x';", schema)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range q.Columns {
		names = append(names, c.Name+" "+c.Type.String())
	}
	if got := strings.Join(names, ", "); got != "a INTEGER, b VARCHAR, c BIGINT, a_2 INTEGER" {
		t.Fatalf("columns %s", got)
	}
	if !q.Star || strings.Join(q.Fields, ",") != "b,a,c" || q.FilterFields != 1 {
		t.Fatalf("star %v fields %v filter %d", q.Star, q.Fields, q.FilterFields)
	}
	// A bare column is named as the schema spells it.
	q, err = Analyze("SELECT A, B AS Bee, a + 1 FROM tenant", schema)
	if err != nil {
		t.Fatal(err)
	}
	if q.Columns[0].Name != "a" || q.Columns[1].Name != "Bee" || q.Columns[2].Name != "col3" {
		t.Fatalf("names %+v", q.Columns)
	}
}

func TestAnalysisErrors(t *testing.T) {
	schema := avro.MustParse(testSchema)
	for _, c := range []struct {
		src  string
		line int
		col  int
		msg  string
	}{
		{"SELECT sx FROM tenant", 1, 8, "unknown column sx (did you mean s?)"},
		{"SELECT src.ipp FROM tenant", 1, 12, "src has no field ipp (did you mean ip?)"},
		{"SELECT id FROM tenant\nWHERE tss > 1", 2, 7, "unknown column tss (did you mean ts?)"},
		{"SELECT s + 1 FROM tenant", 1, 10, "operator + needs numbers, got VARCHAR and INTEGER"},
		{"SELECT id FROM tenant WHERE s = 1", 1, 31, "cannot compare VARCHAR with INTEGER"},
		{"SELECT id FROM tenant WHERE id", 1, 29, "WHERE needs a BOOLEAN condition; this is BIGINT"},
		{"SELECT COUNT(*) FROM tenant", 1, 8, "aggregate without GROUP BY"},
		{"SELECT s, COUNT(*) FROM tenant GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)", 1, 8, "column s must appear in GROUP BY or be used in an aggregate function"},
		{"SELECT COUNT(*) FROM tenant GROUP BY TUMBLE(id, INTERVAL '1' MINUTE)", 1, 45, "a window needs a TIMESTAMP column as its first argument; id is BIGINT"},
		{"SELECT COUNT(*) FROM tenant GROUP BY s", 1, 38, "a streaming GROUP BY needs a window"},
		{"SELECT id FROM tenant WHERE COUNT(*) > 1", 1, 29, "aggregate COUNT is not allowed here"},
		{"SELECT SUM(COUNT(*)) FROM tenant GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)", 1, 12, "aggregate calls cannot be nested"},
		{"SELECT LOWERR(s) FROM tenant", 1, 8, "unknown function LOWERR"},
		{"SELECT CAST(s AS INTEGRE) FROM tenant", 1, 18, "unknown type INTEGRE (did you mean INTEGER?)"},
		{"SELECT multi FROM tenant", 1, 8, "union of several non-null types is not supported"},
		{"SELECT tags.x FROM tenant", 1, 13, "tags is ARRAY<VARCHAR>, which has no fields"},
		{"SELECT s[1] FROM tenant", 1, 10, "only arrays (by 1-based position) and maps (by key) can be indexed"},
		{"SELECT id FROM tenant WHERE s LIKE 'a!' ESCAPE '!'", 1, 36, "LIKE pattern must not end with escape character"},
		{"SELECT id FROM tenant WHERE ts > 'yesterday'", 1, 34, "invalid input syntax for type TIMESTAMP"},
		{"SELECT COUNT(*) FROM tenant GROUP BY HOP(ts, INTERVAL '5' MINUTE, INTERVAL '1' MINUTE)", 1, 67, "at least its slide"},
		{"SELECT WINDOW_START FROM tenant", 1, 8, "WINDOW_START is only available"},
		{"SELECT d % 2 FROM tenant", 1, 10, "operator % needs integers"},
	} {
		_, err := Analyze(c.src, schema)
		var ae *AnalysisError
		if !errors.As(err, &ae) {
			t.Errorf("%q: got %v, want an AnalysisError", c.src, err)
			continue
		}
		if ae.Pos.Line != c.line || ae.Pos.Column != c.col || !strings.Contains(ae.Msg, c.msg) {
			t.Errorf("%q:\n got  %d:%d %s\n want %d:%d ...%s...", c.src, ae.Pos.Line, ae.Pos.Column, ae.Msg, c.line, c.col, c.msg)
		}
	}
}

func TestAggregationPlan(t *testing.T) {
	q, err := Analyze(`SELECT WINDOW_START, src.ip AS ip, COUNT(*) AS n, SUM(id) * 2 AS twice, COUNT(*) + 1
		FROM tenant WHERE e = 'deny'
		GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), src.ip HAVING COUNT(*) > 2`, avro.MustParse(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	ag := q.Agg
	if ag == nil || ag.Window.Kind != Tumble || ag.Window.Size != 60_000_000 || len(ag.Keys) != 1 || len(ag.Aggregates) != 2 || ag.Having == nil || len(ag.Project) != 5 {
		t.Fatalf("aggregation %+v", ag)
	}
	// Post-aggregation expressions read the slots: key, COUNT, SUM, start, end.
	env := NewEnv()
	env.Slots = []Value{{B: []byte("10.0.0.1")}, {I: 3}, {I: 10}, {I: 60_000_000}, {I: 120_000_000}}
	var got []string
	for i, p := range ag.Project {
		got = append(got, string(AppendText(nil, q.Columns[i].Type.Kind, p(env))))
	}
	if s := strings.Join(got, "|"); s != "1970-01-01 00:01:00|10.0.0.1|3|20|4" {
		t.Fatalf("project %s", s)
	}
	if v := ag.Having(env); v.Null || v.I != 1 {
		t.Fatalf("having %+v", v)
	}
	if strings.Join(q.Fields, ",") != "e,ts,src.ip,id" || q.FilterFields != 1 {
		t.Fatalf("fields %v", q.Fields)
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM tenant WHERE id > 3",
		"SELECT src.ip, COUNT(*) FROM tenant GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), src.ip HAVING COUNT(*) > 1",
		"SELECT CASE n WHEN 1 THEN 'a' END, tags[1], attrs['x'], hits[1].name FROM tenant",
		"SELECT CAST(s AS INT), s LIKE 'a%' ESCAPE '!', n IN (1, NULL) FROM tenant",
		"SELECT SESSION_START FROM tenant GROUP BY SESSION(ts, INTERVAL '5' SECOND)",
	} {
		f.Add(s)
	}
	schema := avro.MustParse(testSchema)
	record, err := schema.Encode(testRecord)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Analyze(src, schema)
		if err != nil {
			if _, ok := ErrorPos(err); !ok {
				t.Fatalf("%q: error without a position: %v", src, err)
			}
			return
		}
		if len(q.Columns) == 0 {
			t.Fatalf("%q: no columns", src)
		}
		// Whatever analyses must also evaluate without panicking.
		dec, err := decode.Compile(schema, schema, q.Fields)
		if err != nil {
			t.Fatalf("%q: decoder for %v: %v", src, q.Fields, err)
		}
		var row decode.Row
		if err := dec.Decode(record, &row); err != nil {
			t.Fatal(err)
		}
		env := NewEnv()
		env.Row = &row
		evals := append([]Eval{q.Where}, q.Project...)
		if a := q.Agg; a != nil {
			evals = append(evals, a.Window.Time)
			evals = append(evals, a.Keys...)
			for _, ag := range a.Aggregates {
				evals = append(evals, ag.Arg)
			}
			env.Slots = make([]Value, len(a.Keys)+len(a.Aggregates)+2)
			for i := range env.Slots {
				env.Slots[i] = Null
			}
			evals = append(evals, a.Having)
			evals = append(evals, a.Project...)
		}
		for _, ev := range evals {
			if ev != nil {
				ev(env)
			}
		}
	})
}

func TestNoAllocations(t *testing.T) {
	schema := avro.MustParse(testSchema)
	q, err := Analyze(`SELECT id, s || '!' AS loud, CAST(n AS VARCHAR), src.ip, tags[2], attrs['y'], hits[2].name,
		CASE WHEN d > 1 THEN 'hi' ELSE 'lo' END, ts + INTERVAL '1' MINUTE
		FROM tenant WHERE e IN ('deny', 'drop') AND n BETWEEN 1 AND 10 AND s LIKE 'Hello%' AND u IS NULL`, schema)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := decode.Compile(schema, schema, q.Fields)
	if err != nil {
		t.Fatal(err)
	}
	b, err := schema.Encode(testRecord)
	if err != nil {
		t.Fatal(err)
	}
	var row decode.Row
	env := NewEnv()
	env.Row = &row
	out := make([]Value, len(q.Project))
	step := func() {
		env.Reset()
		if err := dec.Decode(b, &row); err != nil {
			t.Fatal(err)
		}
		if v := q.Where(env); v.Null || v.I == 0 {
			t.Fatal("filtered out")
		}
		for i, p := range q.Project {
			out[i] = p(env)
		}
		if env.Err() != nil {
			t.Fatal(env.Err())
		}
	}
	step()
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Fatalf("%v allocations per record, want 0", n)
	}
}

func TestPlan(t *testing.T) {
	q, err := Analyze(`SELECT src.ip, COUNT(*) AS n FROM tenant WHERE e = 'deny'
		GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), src.ip HAVING COUNT(*) > 5`, avro.MustParse(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	p := q.Plan(PlanOptions{Source: "acme", Format: "JSON", Sink: "file out.ndjson", Lateness: "5 seconds"})
	var kinds []string
	for _, n := range p.Nodes {
		kinds = append(kinds, n.Kind)
	}
	if got := strings.Join(kinds, ","); got != "source,decode,filter,decode,aggregate,project,encode,sink" {
		t.Fatalf("kinds %s", got)
	}
	if len(p.Edges) != len(p.Nodes)-1 || p.Edges[0].From != p.Nodes[0].ID || p.Edges[0].To != p.Nodes[1].ID {
		t.Fatalf("edges %+v", p.Edges)
	}
	agg := p.Nodes[4].Details
	if agg[0].Value != "TUMBLE(ts, 1 minute)" || agg[1].Value != "src.ip" || agg[2].Value != "COUNT(*)" || agg[3].Value != "COUNT(*) > 5" {
		t.Fatalf("aggregate details %+v", agg)
	}
	dot := p.DOT()
	for _, want := range []string{`"0-source" -> "1-decode";`, `condition: e = 'deny'`, `columns: ip VARCHAR, n BIGINT`, "digraph plan {"} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %q:\n%s", want, dot)
		}
	}
}

// TestLogicalTypes reads every Avro logical type through SQL.
func TestLogicalTypes(t *testing.T) {
	schema := avro.MustParse(`{"type":"record","name":"L","fields":[
		{"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
		{"name":"decf","type":{"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":8,"scale":3}},
		{"name":"uid","type":{"type":"string","logicalType":"uuid"}},
		{"name":"uidf","type":{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}},
		{"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
		{"name":"tu","type":{"type":"long","logicalType":"time-micros"}},
		{"name":"tsu","type":{"type":"long","logicalType":"timestamp-micros"}},
		{"name":"tsn","type":{"type":"long","logicalType":"timestamp-nanos"}},
		{"name":"d","type":{"type":"int","logicalType":"date"}},
		{"name":"fx","type":{"type":"fixed","name":"F","size":2}},
		{"name":"f","type":"float"},
		{"name":"raw","type":"bytes"}
	]}`)
	q, err := Analyze(`SELECT dec, decf, uid, uidf, tm, tu, tsu, tsn, d, fx, f, raw, dec * 2 AS twice,
		tsu > TIMESTAMP '2026-01-01', d < DATE '2030-01-01' FROM tenant`, schema)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := schema.Encode(map[string]any{
		"dec":  []byte{0x30, 0x39},             // 12345 → 123.45
		"decf": []byte{0xff, 0xff, 0xff, 0xfe}, // -2 → -0.002
		"uid":  "0f8fad5b-d9cb-469f-a165-70867728950e",
		"uidf": [16]byte{0x0f, 0x8f, 0xad, 0x5b, 0xd9, 0xcb, 0x46, 0x9f, 0xa1, 0x65, 0x70, 0x86, 0x77, 0x28, 0x95, 0x0e},
		"tm":   int32((13*3600+4*60+5)*1000 + 250),
		"tu":   int64((13*3600+4*60+5)*1_000_000 + 1),
		"tsu":  time.Date(2026, 11, 26, 15, 4, 5, 123456000, time.UTC).UnixMicro(),
		"tsn":  time.Date(2026, 11, 26, 15, 4, 5, 123456789, time.UTC).UnixNano(),
		"d":    int32(20418),
		"fx":   [2]byte{0xca, 0xfe},
		"f":    float32(1.5),
		"raw":  []byte("hi"),
	})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := decode.Compile(schema, schema, q.Fields)
	if err != nil {
		t.Fatal(err)
	}
	var row decode.Row
	if err := dec.Decode(rec, &row); err != nil {
		t.Fatal(err)
	}
	env := NewEnv()
	env.Row = &row
	var got, types []string
	for i, p := range q.Project {
		got = append(got, string(AppendText(nil, q.Columns[i].Type.Kind, p(env))))
		types = append(types, q.Columns[i].Type.Kind.String())
	}
	want := "123.45|-0.002|0f8fad5b-d9cb-469f-a165-70867728950e|0f8fad5b-d9cb-469f-a165-70867728950e|13:04:05.25|13:04:05.000001|" +
		"2026-11-26 15:04:05.123456|2026-11-26 15:04:05.123456|2025-11-26|\\xcafe|1.5|\\x6869|246.9|true|true"
	if s := strings.Join(got, "|"); s != want {
		t.Fatalf("values\n got  %s\n want %s", s, want)
	}
	if s := strings.Join(types, ","); s != "DOUBLE,DOUBLE,VARCHAR,VARCHAR,TIME,TIME,TIMESTAMP,TIMESTAMP,DATE,BYTES,DOUBLE,BYTES,DOUBLE,BOOLEAN,BOOLEAN" {
		t.Fatalf("types %s", s)
	}
}

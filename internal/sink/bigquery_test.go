package sink_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	mathrand "math/rand/v2"
	"net"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"github.com/twmb/avro"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sink/sinktest"
	"github.com/sluicehq/sluice/internal/sql"
)

const (
	bqProjectID = "sluice-test"
	bqTablePath = "projects/sluice-test/datasets/analytics/tables/events"
)

var (
	bqNullable = storagepb.TableFieldSchema_NULLABLE
	bqRequired = storagepb.TableFieldSchema_REQUIRED
	bqRepeated = storagepb.TableFieldSchema_REPEATED
)

// bqSimpleOutput is the output of sinktest.Run's records.
var bqSimpleOutput = sink.Output{
	Format: "json", ContentType: "application/x-ndjson",
	Columns: []sql.OutputColumn{{Name: "id", Type: sql.TypeBigInt}, {Name: "batch", Type: sql.TypeBigInt}, {Name: "pad", Type: sql.TypeVarchar}},
}

// bqSimpleTable makes the table for bqSimpleOutput.
func bqSimpleTable(f *bqFake) {
	f.addTable(bqTablePath,
		bqCol("id", storagepb.TableFieldSchema_INT64, bqRequired),
		bqCol("batch", storagepb.TableFieldSchema_INT64, bqNullable),
		bqCol("pad", storagepb.TableFieldSchema_STRING, bqNullable))
}

// bqSettings are the settings of a sink writing to the fake's table.
func bqSettings(srv *bqServer, extra ...any) map[string]any {
	m := map[string]any{"project": bqProjectID, "dataset": "analytics", "table": "events", "endpoint": srv.addr, "insecure": true}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func bqOpen(t *testing.T, srv *bqServer, out sink.Output, extra ...any) sink.Sink {
	t.Helper()
	s, err := sink.Open(t.Context(), sink.Spec{Type: "bigquery", Settings: bqSettings(srv, extra...)}, sink.Env{AllowPrivate: true, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// bqSimpleBatch is n records of bqSimpleOutput from id first.
func bqSimpleBatch(first, n int) *sink.Batch {
	b := &sink.Batch{ID: fmt.Sprintf("job/0/%d+%d", first, n), ContentType: "application/x-ndjson", Offsets: map[int32]int64{0: int64(first + n)}}
	for i := first; i < first+n; i++ {
		b.Records = append(b.Records, sink.Record{Value: fmt.Appendf(nil, `{"id":%d,"batch":0,"pad":"%s"}`+"\n", i, strings.Repeat("x", i%7)), Partition: 0, Offset: int64(i)})
	}
	return b
}

// bqIDs returns the id column of the rows, in order.
func bqIDs(rows []map[string]any) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r["id"].(int64)
	}
	return out
}

func bqWantIDs(t *testing.T, rows []map[string]any, first, n int) {
	t.Helper()
	got := bqIDs(rows)
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(first + i)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows in the table: ids %v, want each of %d..%d once, in order", got, first, first+n-1)
	}
}

func TestBigQueryContract(t *testing.T) {
	f := newBQFake()
	bqSimpleTable(f)
	srv := startBQServer(t, f)
	sinktest.Run(t, func() sink.Sink { return bqOpen(t, srv, bqSimpleOutput) }, func() [][]byte {
		var out [][]byte
		for _, r := range f.rows(bqTablePath) {
			out = append(out, fmt.Appendf(nil, `{"id":%d,"batch":%d,"pad":%q}`+"\n", r["id"], r["batch"], r["pad"]))
		}
		return out
	})
	creates := f.callsOf("CreateWriteStream")
	if len(creates) != 1 {
		t.Fatalf("%d write streams created, want 1 for every batch", len(creates))
	}
	if len(f.callsOf("AppendRows")) != 1 {
		t.Errorf("%d AppendRows connections, want 1 kept open for every batch", len(f.callsOf("AppendRows")))
	}
	fin := f.callsOf("FinalizeWriteStream")
	if len(fin) != 1 {
		t.Fatalf("%d FinalizeWriteStream calls, want 1 at Close", len(fin))
	}
	f.mu.Lock()
	calls := append([]bqFakeCall(nil), f.calls...)
	f.mu.Unlock()
	for _, c := range calls {
		want := map[string]string{
			"GetWriteStream":      "name=" + strings.ReplaceAll(bqTablePath+"/streams/_default", "/", "%2F"),
			"CreateWriteStream":   "parent=" + strings.ReplaceAll(bqTablePath, "/", "%2F"),
			"AppendRows":          "write_stream=" + strings.ReplaceAll(bqTablePath+"/streams/fake1", "/", "%2F"),
			"FinalizeWriteStream": "name=" + strings.ReplaceAll(bqTablePath+"/streams/fake1", "/", "%2F"),
		}[c.method]
		if got := bqRoutingOf(c); got != want {
			t.Errorf("%s: routing header %q, want %q", c.method, got, want)
		}
		if ua := c.md.Get("user-agent"); len(ua) == 0 || !strings.HasPrefix(ua[0], "sluice-bigquery-sink") {
			t.Errorf("%s: user agent %v", c.method, ua)
		}
	}
	if st := f.stream(bqTablePath + "/streams/fake1"); st.typ != storagepb.WriteStream_COMMITTED || !st.finalized || st.rows != 1112 {
		t.Errorf("write stream: %+v, want COMMITTED, finalized, 1112 rows", st)
	}
}

// bqEventSchema is the source topic of the type tests: a column of every
// kind, all nullable.
const bqEventSchema = `{"type":"record","name":"Ev","namespace":"t","fields":[
 {"name":"b","type":["null","boolean"],"default":null},
 {"name":"i","type":["null","int"],"default":null},
 {"name":"l","type":["null","long"],"default":null},
 {"name":"d","type":["null","double"],"default":null},
 {"name":"s","type":["null","string"],"default":null},
 {"name":"raw","type":["null","bytes"],"default":null},
 {"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
 {"name":"dt","type":["null",{"type":"int","logicalType":"date"}],"default":null},
 {"name":"tm","type":["null",{"type":"long","logicalType":"time-micros"}],"default":null},
 {"name":"ivs","type":["null","string"],"default":null},
 {"name":"tags","type":["null",{"type":"array","items":"string"}],"default":null},
 {"name":"nums","type":["null",{"type":"array","items":"long"}],"default":null},
 {"name":"attrs","type":["null",{"type":"map","values":"long"}],"default":null},
 {"name":"src","type":["null",{"type":"record","name":"Addr","fields":[
   {"name":"ip","type":"string"},
   {"name":"port","type":"int"},
   {"name":"seen","type":{"type":"long","logicalType":"timestamp-millis"}},
   {"name":"note","type":["null","string"]}]}],"default":null},
 {"name":"hits","type":["null",{"type":"array","items":{"type":"record","name":"Hit","fields":[
   {"name":"name","type":"string"},
   {"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}}]}}],"default":null}
]}`

const bqEventQuery = `SELECT b, i, l, d, s, raw, ts, dt, tm, CAST(ivs AS INTERVAL) AS iv, tags, nums, attrs, src, hits, NULL AS nothing FROM tenant`

var bqTS = time.Date(2026, 11, 26, 15, 4, 5, 123456000, time.UTC)

// bqEvents are three source records: every value set, every value NULL,
// and edge values.
func bqEvents() []map[string]any {
	day := int32(bqTS.Unix() / 86400)
	return []map[string]any{
		{
			"b": true, "i": int32(math.MinInt32), "l": int64(math.MaxInt64), "d": 0.1, "s": "é\"\n<&>\u2028",
			"raw": []byte{0, 1, 2, 0xff}, "ts": bqTS.UnixMicro(), "dt": day, "tm": int64((13*3600+4*60+5)*1_000_000 + 250_000),
			"ivs": "93600.5 seconds", "tags": []any{"a", "b,c"}, "nums": []any{int64(1), int64(-2)},
			"attrs": map[string]any{"x": int64(1)},
			"src":   map[string]any{"ip": "10.1.2.3", "port": int32(51000), "seen": bqTS.UnixMilli(), "note": "n"},
			"hits":  []any{map[string]any{"name": "h1", "at": int64(1)}, map[string]any{"name": "h2", "at": int64(-1)}},
		},
		{"b": nil, "i": nil, "l": nil, "d": nil, "s": nil, "raw": nil, "ts": nil, "dt": nil, "tm": nil, "ivs": nil,
			"tags": nil, "nums": nil, "attrs": nil, "src": nil, "hits": nil},
		{
			"b": false, "i": int32(0), "l": int64(math.MinInt64), "d": -1e300, "s": "",
			"raw": []byte{}, "ts": int64(-62135596800000000), "dt": int32(-719162), "tm": int64(0),
			"ivs": "-1.5 seconds", "tags": []any{}, "nums": []any{}, "attrs": map[string]any{},
			"src":  map[string]any{"ip": "", "port": int32(0), "seen": int64(0), "note": nil},
			"hits": []any{},
		},
	}
}

// bqQueryRows runs query over the Avro records as a job does, and returns
// the output (result columns, JSON) and the records the JSON format
// encodes, as the sink gets them.
func bqQueryRows(t testing.TB, schemaText, query string, recs []map[string]any) (sink.Output, []sink.Record) {
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
	enc, err := format.New("json", q.Columns)
	if err != nil {
		t.Fatal(err)
	}
	var out []sink.Record
	for i, rec := range recs {
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
		line, err := enc.AppendRow(nil, vals)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sink.Record{Value: line, Partition: 3, Offset: int64(100 + i)})
	}
	return sink.Output{Format: "json", ContentType: enc.ContentType(), Columns: q.Columns}, out
}

func bqWrite(t *testing.T, s sink.Sink, recs []sink.Record) {
	t.Helper()
	if err := s.Write(t.Context(), &sink.Batch{Records: recs, ID: "job/3/100+" + bqItoa(len(recs)), ContentType: "application/x-ndjson"}); err != nil {
		t.Fatal(err)
	}
}

// bqCompare checks every column of every row.
func bqCompare(t *testing.T, got, want []map[string]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		for k, w := range want[i] {
			if g := got[i][k]; !reflect.DeepEqual(g, w) {
				t.Errorf("row %d, column %s: %#v, want %#v", i, k, g, w)
			}
		}
		for k := range got[i] {
			if _, ok := want[i][k]; !ok {
				t.Errorf("row %d: unexpected column %s = %#v", i, k, got[i][k])
			}
		}
	}
}

func TestBigQueryTypes(t *testing.T) {
	out, recs := bqQueryRows(t, bqEventSchema, bqEventQuery, bqEvents())
	f := newBQFake()
	S, I, T := storagepb.TableFieldSchema_STRING, storagepb.TableFieldSchema_INT64, storagepb.TableFieldSchema_TIMESTAMP
	f.addTable(bqTablePath,
		bqCol("b", storagepb.TableFieldSchema_BOOL, bqNullable),
		bqCol("i", I, bqNullable),
		bqCol("L", I, bqNullable), // names match without regard to case
		bqCol("d", storagepb.TableFieldSchema_DOUBLE, bqNullable),
		bqCol("s", S, bqNullable),
		bqCol("raw", storagepb.TableFieldSchema_BYTES, bqNullable),
		bqCol("ts", T, bqNullable),
		bqCol("dt", storagepb.TableFieldSchema_DATE, bqNullable),
		bqCol("tm", storagepb.TableFieldSchema_TIME, bqNullable),
		bqCol("iv", storagepb.TableFieldSchema_INTERVAL, bqNullable),
		bqCol("tags", S, bqRepeated),
		bqCol("nums", I, bqRepeated),
		bqCol("attrs", storagepb.TableFieldSchema_STRUCT, bqRepeated, bqCol("key", S, bqNullable), bqCol("value", I, bqNullable)),
		bqCol("src", storagepb.TableFieldSchema_STRUCT, bqNullable,
			bqCol("ip", S, bqRequired), bqCol("port", I, bqNullable), bqCol("seen", T, bqNullable), bqCol("note", S, bqNullable), bqCol("extra", S, bqNullable)),
		bqCol("hits", storagepb.TableFieldSchema_STRUCT, bqRepeated, bqCol("name", S, bqNullable), bqCol("at", T, bqNullable)),
		bqCol("nothing", I, bqNullable),
		// Columns the query does not return: NULL, or their default.
		bqCol("comment", S, bqNullable),
		&storagepb.TableFieldSchema{Name: "ingested", Type: T, Mode: bqRequired, DefaultValueExpression: "CURRENT_TIMESTAMP()"},
	)
	srv := startBQServer(t, f)
	s := bqOpen(t, srv, out)
	bqWrite(t, s, recs)

	ms := bqTS.Truncate(time.Millisecond)
	bqCompare(t, f.rows(bqTablePath), []map[string]any{
		{
			"b": true, "i": int64(math.MinInt32), "L": int64(math.MaxInt64), "d": 0.1, "s": "é\"\n<&>\u2028",
			"raw": []byte{0, 1, 2, 0xff}, "ts": bqTS, "dt": "2026-11-26", "tm": "13:04:05.25",
			"iv": "0-0 0 26:0:0.5", "tags": []any{"a", "b,c"}, "nums": []any{int64(1), int64(-2)},
			"attrs": []any{map[string]any{"key": "x", "value": int64(1)}},
			"src":   map[string]any{"ip": "10.1.2.3", "port": int64(51000), "seen": ms, "note": "n", "extra": nil},
			"hits": []any{
				map[string]any{"name": "h1", "at": time.UnixMicro(1).UTC()},
				map[string]any{"name": "h2", "at": time.UnixMicro(-1).UTC()},
			},
			"nothing": nil, "comment": nil, "ingested": nil,
		},
		{
			"b": nil, "i": nil, "L": nil, "d": nil, "s": nil, "raw": nil, "ts": nil, "dt": nil, "tm": nil, "iv": nil,
			"tags": []any{}, "nums": []any{}, "attrs": []any{}, "src": nil, "hits": []any{},
			"nothing": nil, "comment": nil, "ingested": nil,
		},
		{
			"b": false, "i": int64(0), "L": int64(math.MinInt64), "d": -1e300, "s": "",
			"raw": []byte{}, "ts": time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "dt": "0001-01-01", "tm": "00:00:00",
			"iv": "0-0 0 -0:0:1.5", "tags": []any{}, "nums": []any{}, "attrs": []any{},
			"src":  map[string]any{"ip": "", "port": int64(0), "seen": time.UnixMicro(0).UTC(), "note": nil, "extra": nil},
			"hits": []any{}, "nothing": nil, "comment": nil, "ingested": nil,
		},
	})
}

// TestBigQueryOtherColumnTypes writes the same values to the other column
// types that take them.
func TestBigQueryOtherColumnTypes(t *testing.T) {
	query := `SELECT b, i AS "Int Column", l, d, s, raw, ts, dt, tm, CAST(ivs AS INTERVAL) AS iv, CAST(ivs AS INTERVAL) AS ivtext, tags, nums, attrs, src, hits, NULL AS nothing, d AS bd, s AS geo, CAST(dt AS VARCHAR) AS dts FROM tenant`
	out, recs := bqQueryRows(t, bqEventSchema, query, bqEvents()[:2])
	f := newBQFake()
	S, J := storagepb.TableFieldSchema_STRING, storagepb.TableFieldSchema_JSON
	f.addTable(bqTablePath,
		bqCol("b", S, bqNullable),
		bqCol("Int Column", storagepb.TableFieldSchema_NUMERIC, bqNullable), // a flexible name, sent with the column_name annotation
		bqCol("l", storagepb.TableFieldSchema_DOUBLE, bqNullable),
		bqCol("d", storagepb.TableFieldSchema_NUMERIC, bqNullable),
		bqCol("s", J, bqNullable),
		bqCol("raw", S, bqNullable),
		bqCol("ts", storagepb.TableFieldSchema_DATETIME, bqNullable),
		bqCol("dt", J, bqNullable),
		bqCol("tm", S, bqNullable),
		bqCol("iv", storagepb.TableFieldSchema_INT64, bqNullable),
		bqCol("ivtext", S, bqNullable),
		bqCol("tags", J, bqNullable),
		bqCol("nums", S, bqNullable),
		bqCol("attrs", J, bqNullable),
		bqCol("src", J, bqNullable),
		bqCol("hits", S, bqNullable),
		bqCol("nothing", S, bqNullable),
		bqCol("bd", storagepb.TableFieldSchema_BIGNUMERIC, bqNullable),
		bqCol("geo", storagepb.TableFieldSchema_GEOGRAPHY, bqNullable),
		bqCol("dts", storagepb.TableFieldSchema_DATE, bqNullable),
	)
	srv := startBQServer(t, f)
	s := bqOpen(t, srv, out)
	bqWrite(t, s, recs)
	nulls := map[string]any{}
	for _, c := range []string{"b", "Int Column", "l", "d", "s", "raw", "ts", "dt", "tm", "iv", "ivtext", "tags", "nums", "attrs", "src", "hits", "nothing", "bd", "geo", "dts"} {
		nulls[c] = nil
	}
	bqCompare(t, f.rows(bqTablePath), []map[string]any{
		{
			"b": "true", "Int Column": "-2147483648", "l": float64(math.MaxInt64), "d": "0.1", "s": `"é\"\n\u003c\u0026\u003e\u2028"`,
			"raw": "AAEC/w==", "ts": "2026-11-26 15:04:05.123456", "dt": `"2026-11-26"`, "tm": "13:04:05.25",
			"iv": int64(93_600_500_000), "ivtext": "P1DT2H0.5S", "tags": `["a","b,c"]`, "nums": "[1,-2]", "attrs": `{"x":1}`,
			"src":     `{"ip":"10.1.2.3","note":"n","port":51000,"seen":"2026-11-26T15:04:05.123Z"}`,
			"hits":    `[{"name":"h1","at":"1970-01-01T00:00:00.000001Z"},{"name":"h2","at":"1969-12-31T23:59:59.999999Z"}]`,
			"nothing": nil, "bd": "0.1", "geo": "é\"\n<&>\u2028", "dts": "2026-11-26",
		},
		nulls,
	})
}

func TestBigQuerySchemaMismatch(t *testing.T) {
	out, _ := bqQueryRows(t, bqEventSchema, `SELECT b, l, tags, attrs, src FROM tenant`, nil)
	S, I := storagepb.TableFieldSchema_STRING, storagepb.TableFieldSchema_INT64
	good := []*storagepb.TableFieldSchema{
		bqCol("b", storagepb.TableFieldSchema_BOOL, bqNullable), bqCol("l", I, bqNullable), bqCol("tags", S, bqRepeated),
		bqCol("attrs", storagepb.TableFieldSchema_STRUCT, bqRepeated, bqCol("key", S, bqNullable), bqCol("value", I, bqNullable)),
		bqCol("src", storagepb.TableFieldSchema_STRUCT, bqNullable, bqCol("ip", S, bqNullable), bqCol("port", I, bqNullable), bqCol("seen", storagepb.TableFieldSchema_TIMESTAMP, bqNullable), bqCol("note", S, bqNullable)),
	}
	with := func(i int, c *storagepb.TableFieldSchema) []*storagepb.TableFieldSchema {
		cols := append([]*storagepb.TableFieldSchema(nil), good...)
		if i == len(cols) {
			return append(cols, c)
		}
		cols[i] = c
		return cols
	}
	for _, c := range []struct {
		name string
		cols []*storagepb.TableFieldSchema // nil: no table
		want []string
	}{
		{"no table", nil, []string{"table " + bqTablePath + " does not exist"}},
		{"missing column", good[1:], []string{"the table has no column b"}},
		{"wrong type", with(0, bqCol("b", I, bqNullable)), []string{"column b is INT64, which a BOOLEAN value cannot be written to"}},
		{"required not returned", with(5, bqCol("must", S, bqRequired)), []string{"column must is REQUIRED (and has no default), but the query does not return it"}},
		{"repeated for a scalar", with(1, bqCol("l", I, bqRepeated)), []string{"column l is REPEATED (an array), but the query returns BIGINT for it"}},
		{"array to a scalar", with(2, bqCol("tags", I, bqNullable)), []string{"column tags is INT64, which a ARRAY<VARCHAR> value"}},
		{"map to a struct without key", with(3, bqCol("attrs", storagepb.TableFieldSchema_STRUCT, bqRepeated, bqCol("k", S, bqNullable), bqCol("value", I, bqNullable))), []string{"column attrs must be REPEATED STRUCT<key STRING, value ...>"}},
		{"struct lacks a field", with(4, bqCol("src", storagepb.TableFieldSchema_STRUCT, bqNullable, bqCol("ip", S, bqNullable))), []string{"the STRUCT column src has no column src.port", "has no column src.seen"}},
		{"two mistakes", with(0, bqCol("B", S, bqRepeated))[1:], []string{"the table has no column b", "the table has no column b"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newBQFake()
			if c.cols != nil {
				f.addTable(bqTablePath, c.cols...)
			}
			srv := startBQServer(t, f)
			_, err := sink.Open(t.Context(), sink.Spec{Type: "bigquery", Settings: bqSettings(srv)}, sink.Env{AllowPrivate: true, Output: out})
			ces := sink.ConfigErrors(err)
			if len(ces) == 0 || !sink.IsPermanent(err) {
				t.Fatalf("Open: %v, want ConfigErrors", err)
			}
			for _, ce := range ces {
				if ce.Field != "table" || ce.Type != "bigquery" {
					t.Errorf("ConfigError %+v, want field table", ce)
				}
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open: %v, want it to say %q", err, w)
				}
			}
			if n := len(f.callsOf("CreateWriteStream")); n != 0 {
				t.Errorf("%d write streams created by a failed Open", n)
			}
		})
	}
}

func TestBigQuerySettings(t *testing.T) {
	key := bqServiceAccountKey(t)
	env := sink.Env{Output: bqSimpleOutput}
	for _, c := range []struct {
		settings map[string]any
		env      *sink.Env
		want     []string // "field: message part"
	}{
		{map[string]any{}, nil, []string{"project: required", "dataset: required", "table: required"}},
		{map[string]any{"project": "My_Project", "dataset": "a-b", "table": "t/x"}, nil, []string{"project: \"My_Project\" is not a Google Cloud project id", "dataset: \"a-b\" is not a BigQuery dataset id", "table: \"t/x\" is not a BigQuery table id"}},
		{map[string]any{"project": "example.com:my-proj", "dataset": "d", "table": "Événements 2026-1"}, nil, nil},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t", "endpoint": "nohost"}, nil, []string{"endpoint: \"nohost\" is not host:port"}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t", "endpoint": ""}, nil, []string{"endpoint: must not be empty"}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t", "endpoint": "127.0.0.1:9"}, nil, []string{"endpoint: 127.0.0.1 is a loopback address, which sinks may not reach"}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t", "endpoint": "169.254.169.254:443"}, &sink.Env{AllowPrivate: true, Output: bqSimpleOutput}, []string{"endpoint: 169.254.169.254 is a cloud metadata address"}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t", "insecure": true}, nil, []string{"insecure: only with an endpoint"}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t", "insecure": true, "endpoint": "localhost:9", "credentialsJSON": key}, nil, []string{"credentialsJSON: not with insecure"}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t", "credentialsJSON": "{not json"}, nil, []string{"credentialsJSON: not a JSON object"}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t", "credentialsJSON": `{"type":"external_account","credential_source":{"file":"/etc/shadow"}}`}, nil, []string{`credentialsJSON: not a service account key ("type" must be "service_account"`}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t", "credentialsJSON": `{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}`}, nil, []string{`credentialsJSON: "private_key" of the service account key is not an RSA private key`}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t", "credentialsJSON": key, "timeout": "0s", "tablee": "x"}, nil, []string{"timeout: must be positive", "tablee: unknown setting"}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t"}, &sink.Env{Output: sink.Output{Format: "csv", ContentType: "text/csv", Columns: bqSimpleOutput.Columns}}, []string{"type: the bigquery sink takes the JSON output format (outputFormat JSON), not CSV"}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t"}, &sink.Env{Output: sink.Output{Format: "json", ContentType: "application/json", Columns: bqSimpleOutput.Columns}}, []string{"type: the bigquery sink takes one JSON object per record (application/x-ndjson), not application/json"}},
		{map[string]any{"project": "my-proj", "dataset": "d", "table": "t"}, &sink.Env{}, []string{"type: the bigquery sink needs the query's result columns and the JSON output format"}},
	} {
		e := env
		if c.env != nil {
			e = *c.env
		}
		err := sink.Validate(sink.Spec{Type: "bigquery", Settings: c.settings}, e)
		var got []string
		for _, ce := range sink.ConfigErrors(err) {
			got = append(got, ce.Field+": "+ce.Message)
		}
		if len(got) != len(c.want) {
			t.Errorf("%v: %q, want %q", c.settings, got, c.want)
			continue
		}
		for i := range got {
			if !strings.HasPrefix(got[i], c.want[i]) {
				t.Errorf("%v: %q, want %q", c.settings, got[i], c.want[i])
			}
		}
		if err != nil && (strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "/etc/shadow")) {
			t.Errorf("the error quotes the credentials: %v", err)
		}
	}
	if got := sink.SecretSettings("bigquery"); !reflect.DeepEqual(got, []string{"credentialsJSON"}) {
		t.Errorf("secret settings %v", got)
	}
	red := sink.Redact(sink.Spec{Type: "bigquery", Settings: map[string]any{"credentialsJSON": key, "table": "t"}})
	if red.Settings["credentialsJSON"] != sink.Redacted || red.Settings["table"] != "t" {
		t.Errorf("Redact: %v", red.Settings)
	}
	if sink.SupportsExactlyOnce("bigquery") {
		t.Error("the bigquery sink claims exactly-once")
	}
}

// bqServiceAccountKey is a service account key file with a fresh RSA key.
func bqServiceAccountKey(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "sluice-test", "private_key_id": "kid-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "writer@sluice-test.iam.gserviceaccount.com", "client_id": "1",
		"token_uri": "http://127.0.0.1:1/never-called",
	})
	return string(b)
}

// TestBigQueryServiceAccountToken checks the token the sink sends with a
// service account key: a JWT signed with the key, for the BigQuery scope,
// made locally (the key's token_uri is never contacted).
func TestBigQueryServiceAccountToken(t *testing.T) {
	key := bqServiceAccountKey(t)
	auth, err := sink.BQAuthorization(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		t.Fatalf("authorization %q, want a bearer JWT", auth)
	}
	var hdr struct{ Alg, Kid string }
	var claims struct {
		Iss, Sub, Scope string
		Iat, Exp        int64
	}
	for i, v := range []any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	if hdr.Alg != "RS256" || hdr.Kid != "kid-1" {
		t.Errorf("JWT header %+v", hdr)
	}
	if claims.Iss != "writer@sluice-test.iam.gserviceaccount.com" || claims.Sub != claims.Iss || claims.Scope != "https://www.googleapis.com/auth/bigquery" || claims.Exp-claims.Iat != 3600 {
		t.Errorf("JWT claims %+v", claims)
	}
	var sa struct {
		PrivateKey string `json:"private_key"`
	}
	_ = json.Unmarshal([]byte(key), &sa)
	block, _ := pem.Decode([]byte(sa.PrivateKey))
	pk, _ := x509.ParsePKCS8PrivateKey(block.Bytes)
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&pk.(*rsa.PrivateKey).PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Errorf("JWT signature: %v", err)
	}
}

// TestBigQueryLostAcknowledgement: BigQuery stores a batch and the answer
// is lost; the retried batch is not stored again (ALREADY_EXISTS at its
// offset), and the write stream is kept.
func TestBigQueryLostAcknowledgement(t *testing.T) {
	f := newBQFake()
	bqSimpleTable(f)
	f.onAppend = func(n int, _ *storagepb.AppendRowsRequest) bqFault {
		if n == 1 {
			return bqFault{breakAfter: status.Error(codes.Unavailable, "connection reset")}
		}
		return bqFault{}
	}
	srv := startBQServer(t, f)
	s := bqOpen(t, srv, bqSimpleOutput)
	ctx := t.Context()
	b := bqSimpleBatch(0, 4)
	err := s.Write(ctx, b)
	if err == nil || sink.IsPermanent(err) || !strings.Contains(err.Error(), "Unavailable") {
		t.Fatalf("Write with the answer lost: %v, want a retryable error", err)
	}
	bqWantIDs(t, f.rows(bqTablePath), 0, 4) // stored, though not acknowledged
	if err := s.Write(ctx, b); err != nil {
		t.Fatalf("retry: %v", err)
	}
	bqWantIDs(t, f.rows(bqTablePath), 0, 4)
	if err := s.Write(ctx, bqSimpleBatch(4, 2)); err != nil {
		t.Fatal(err)
	}
	bqWantIDs(t, f.rows(bqTablePath), 0, 6)
	if n := len(f.callsOf("CreateWriteStream")); n != 1 {
		t.Errorf("%d write streams, want 1", n)
	}
	if n := len(f.callsOf("AppendRows")); n != 2 {
		t.Errorf("%d AppendRows connections, want 2 (one dropped with the lost answer)", n)
	}
}

// TestBigQueryIdleConnectionLost: the connection kept between batches
// breaks (BigQuery closes idle ones), here after storing the next batch's
// rows; the sink reconnects once within the Write, and the rows are
// stored once.
func TestBigQueryIdleConnectionLost(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault bqFault
	}{
		{"before storing", bqFault{breakBefore: status.Error(codes.Unavailable, "idle connection closed")}},
		{"after storing", bqFault{breakAfter: status.Error(codes.Unavailable, "idle connection closed")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newBQFake()
			bqSimpleTable(f)
			f.onAppend = func(n int, _ *storagepb.AppendRowsRequest) bqFault {
				if n == 2 {
					return c.fault
				}
				return bqFault{}
			}
			s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
			for i := 0; i < 3; i++ {
				if err := s.Write(t.Context(), bqSimpleBatch(i*3, 3)); err != nil {
					t.Fatalf("batch %d: %v", i, err)
				}
			}
			bqWantIDs(t, f.rows(bqTablePath), 0, 9)
			if n := len(f.callsOf("AppendRows")); n != 2 {
				t.Errorf("%d AppendRows connections, want 2", n)
			}
		})
	}
	// A connection that fails again right after reconnecting fails the
	// write.
	f := newBQFake()
	bqSimpleTable(f)
	f.onAppend = func(n int, _ *storagepb.AppendRowsRequest) bqFault {
		if n >= 2 {
			return bqFault{breakBefore: status.Error(codes.Unavailable, "down")}
		}
		return bqFault{}
	}
	s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
	if err := s.Write(t.Context(), bqSimpleBatch(0, 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), bqSimpleBatch(1, 1)); err == nil || sink.IsPermanent(err) {
		t.Fatalf("Write: %v, want a retryable error", err)
	}
	if n := f.appendCount(); n != 3 {
		t.Errorf("%d requests, want 3 (one reconnection)", n)
	}
}

// TestBigQueryFailedMidBatch: a batch sent as several requests fails part
// way, once with the failed request stored and once without; the retry
// sends only what is not known to be stored, at the same offsets, and
// every row ends up in the table once.
func TestBigQueryFailedMidBatch(t *testing.T) {
	defer sink.SetBQMaxRequestBytes(60)()
	for _, c := range []struct {
		name  string
		fault bqFault
	}{
		{"stored, answer lost", bqFault{breakAfter: status.Error(codes.Unavailable, "broken pipe")}},
		{"not stored", bqFault{breakBefore: status.Error(codes.Unavailable, "broken pipe")}},
		{"refused as busy", bqFault{answer: status.New(codes.ResourceExhausted, "slow down")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newBQFake()
			bqSimpleTable(f)
			var offsets []int64
			f.onAppend = func(n int, req *storagepb.AppendRowsRequest) bqFault {
				offsets = append(offsets, req.GetOffset().GetValue())
				if n == 3 {
					return c.fault
				}
				return bqFault{}
			}
			srv := startBQServer(t, f)
			s := bqOpen(t, srv, bqSimpleOutput)
			b := bqSimpleBatch(0, 12)
			err := s.Write(t.Context(), b)
			if err == nil || sink.IsPermanent(err) {
				t.Fatalf("Write: %v, want a retryable error", err)
			}
			firstTry := len(offsets)
			if firstTry != 3 {
				t.Fatalf("%d requests before the failure, want 3", firstTry)
			}
			if err := s.Write(t.Context(), b); err != nil {
				t.Fatalf("retry: %v", err)
			}
			bqWantIDs(t, f.rows(bqTablePath), 0, 12)
			// The retry starts at the failed request, at the same offset.
			if offsets[firstTry] != offsets[2] {
				t.Errorf("offsets of the requests %v: the retry starts at %d, want %d", offsets, offsets[firstTry], offsets[2])
			}
			for i := firstTry + 1; i < len(offsets); i++ {
				if offsets[i] <= offsets[i-1] {
					t.Errorf("offsets of the requests %v are not increasing", offsets)
				}
			}
		})
	}
}

func TestBigQueryErrors(t *testing.T) {
	bad := func(code codes.Code, msg string) func(n int, _ *storagepb.AppendRowsRequest) bqFault {
		return func(n int, _ *storagepb.AppendRowsRequest) bqFault {
			if n == 1 {
				return bqFault{answer: status.New(code, msg)}
			}
			return bqFault{}
		}
	}
	t.Run("rows refused", func(t *testing.T) {
		f := newBQFake()
		bqSimpleTable(f)
		f.onAppend = func(int, *storagepb.AppendRowsRequest) bqFault {
			return bqFault{answer: status.New(codes.InvalidArgument, "Errors found while processing rows"), rowErrors: []*storagepb.RowError{{Index: 1, Code: storagepb.RowError_FIELDS_ERROR, Message: "field pad: too long"}}}
		}
		s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
		err := s.Write(t.Context(), bqSimpleBatch(40, 3))
		if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "record at partition 0 offset 41: field pad: too long") {
			t.Fatalf("Write: %v, want a permanent error naming the record", err)
		}
	})
	t.Run("REQUIRED column NULL", func(t *testing.T) {
		f := newBQFake()
		bqSimpleTable(f)
		s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
		b := bqSimpleBatch(0, 2)
		b.Records[1].Value = []byte(`{"id":null,"batch":0,"pad":""}` + "\n")
		err := s.Write(t.Context(), b)
		if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "record at partition 0 offset 1: column id: NULL, but the table's column is REQUIRED") {
			t.Fatalf("Write: %v, want a permanent error naming the record and column", err)
		}
		if n := f.appendCount(); n != 0 {
			t.Errorf("%d appends: the batch went out", n)
		}
	})
	t.Run("record not of the result columns", func(t *testing.T) {
		f := newBQFake()
		bqSimpleTable(f)
		s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
		for _, rec := range []string{`{"id":1,"batch":0}`, `{"id":1,"batch":0,"pad":"","x":1}`, `[1]`, `{"id":"1","batch":0,"pad":""}`, `{"id":1.5,"batch":0,"pad":""}`, `{"id":1,"batch":0,"pad":""} {}`} {
			err := s.Write(t.Context(), &sink.Batch{ID: "j/0/0+1", ContentType: "application/x-ndjson", Records: []sink.Record{{Value: []byte(rec), Offset: 9}}})
			if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "record at partition 0 offset 9") {
				t.Errorf("record %s: %v, want a permanent error naming it", rec, err)
			}
		}
		if err := s.Write(t.Context(), &sink.Batch{ID: "j/0/0+1", ContentType: "text/csv", Records: []sink.Record{{Value: []byte("1,0,\n")}}}); !sink.IsPermanent(err) {
			t.Errorf("CSV records: %v, want a permanent error", err)
		}
	})
	for _, c := range []struct {
		code      codes.Code
		permanent bool
		field     string
	}{
		{codes.Unavailable, false, ""}, {codes.Internal, false, ""}, {codes.ResourceExhausted, false, ""}, {codes.Aborted, false, ""},
		{codes.InvalidArgument, true, ""}, {codes.PermissionDenied, true, "table"}, {codes.Unauthenticated, true, "credentialsJSON"},
	} {
		t.Run("answer "+c.code.String(), func(t *testing.T) {
			f := newBQFake()
			bqSimpleTable(f)
			f.onAppend = bad(c.code, "no")
			s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
			err := s.Write(t.Context(), bqSimpleBatch(0, 2))
			if err == nil || sink.IsPermanent(err) != c.permanent {
				t.Fatalf("Write: %v, want permanent %v", err, c.permanent)
			}
			if ces := sink.ConfigErrors(err); c.field != "" && (len(ces) != 1 || ces[0].Field != c.field) {
				t.Fatalf("Write: %v, want a ConfigError of %s", err, c.field)
			}
			if !c.permanent {
				if err := s.Write(t.Context(), bqSimpleBatch(0, 2)); err != nil {
					t.Fatalf("retry: %v", err)
				}
				bqWantIDs(t, f.rows(bqTablePath), 0, 2)
			}
		})
	}
	t.Run("connection ends UNAVAILABLE", func(t *testing.T) {
		f := newBQFake()
		bqSimpleTable(f)
		f.onAppend = func(n int, _ *storagepb.AppendRowsRequest) bqFault {
			if n == 1 {
				return bqFault{breakBefore: status.Error(codes.Unavailable, "going away")}
			}
			return bqFault{}
		}
		s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
		if err := s.Write(t.Context(), bqSimpleBatch(0, 2)); err == nil || sink.IsPermanent(err) {
			t.Fatalf("Write: %v, want a retryable error", err)
		}
		if err := s.Write(t.Context(), bqSimpleBatch(0, 2)); err != nil {
			t.Fatal(err)
		}
		bqWantIDs(t, f.rows(bqTablePath), 0, 2)
	})
	t.Run("create stream denied", func(t *testing.T) {
		f := newBQFake()
		bqSimpleTable(f)
		f.onCall = func(m string) error {
			if m == "CreateWriteStream" {
				return status.Error(codes.PermissionDenied, "bigquery.tables.updateData denied")
			}
			return nil
		}
		s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
		err := s.Write(t.Context(), bqSimpleBatch(0, 2))
		if ces := sink.ConfigErrors(err); len(ces) != 1 || ces[0].Field != "table" || !strings.Contains(err.Error(), "bigquery.tables.updateData denied") {
			t.Fatalf("Write: %v, want a ConfigError of table", err)
		}
	})
	t.Run("table dropped", func(t *testing.T) {
		f := newBQFake()
		bqSimpleTable(f)
		s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
		f.mu.Lock()
		delete(f.tables, bqTablePath)
		f.mu.Unlock()
		err := s.Write(t.Context(), bqSimpleBatch(0, 2))
		if ces := sink.ConfigErrors(err); len(ces) != 1 || ces[0].Field != "table" || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("Write: %v, want a ConfigError of table", err)
		}
	})
	t.Run("not BigQuery", func(t *testing.T) {
		empty := grpc.NewServer()
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = empty.Serve(lis) }()
		t.Cleanup(empty.Stop)
		_, err = sink.Open(t.Context(), sink.Spec{Type: "bigquery", Settings: bqSettings(&bqServer{addr: lis.Addr().String()})}, sink.Env{AllowPrivate: true, Output: bqSimpleOutput})
		if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "does not serve the BigQuery Storage Write API") {
			t.Fatalf("Open: %v, want a permanent error", err)
		}
	})
}

// TestBigQueryStreamReplaced: when BigQuery no longer takes the write
// stream (finalized by someone else, or its offsets not what the sink
// wrote), the sink writes the batch to a new one.
func TestBigQueryStreamReplaced(t *testing.T) {
	for _, c := range []struct {
		name   string
		break_ func(f *bqFake, stream string)
	}{
		{"finalized", func(f *bqFake, stream string) { f.streams[stream].finalized = true }},
		{"rows written by another writer", func(f *bqFake, stream string) { f.streams[stream].rows += 2 }},
		{"rows lost", func(f *bqFake, stream string) { f.streams[stream].rows-- }},
		{"gone", func(f *bqFake, stream string) { delete(f.streams, stream) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newBQFake()
			bqSimpleTable(f)
			s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
			if err := s.Write(t.Context(), bqSimpleBatch(0, 2)); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			c.break_(f, bqTablePath+"/streams/fake1")
			f.mu.Unlock()
			err := s.Write(t.Context(), bqSimpleBatch(2, 2))
			if err == nil || sink.IsPermanent(err) {
				t.Fatalf("Write: %v, want a retryable error", err)
			}
			if err := s.Write(t.Context(), bqSimpleBatch(2, 2)); err != nil {
				t.Fatalf("retry: %v", err)
			}
			bqWantIDs(t, f.rows(bqTablePath), 0, 4)
			if n := len(f.callsOf("CreateWriteStream")); n != 2 {
				t.Errorf("%d write streams, want 2", n)
			}
		})
	}
}

// TestBigQueryNewBatchAfterFailure: a different batch after a failed one
// (the runtime gave it up) goes to a new write stream, since the failed
// one's rows may be in the old one.
func TestBigQueryNewBatchAfterFailure(t *testing.T) {
	f := newBQFake()
	bqSimpleTable(f)
	f.onAppend = func(n int, _ *storagepb.AppendRowsRequest) bqFault {
		if n == 1 {
			return bqFault{breakAfter: status.Error(codes.Unavailable, "reset")}
		}
		return bqFault{}
	}
	s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
	if err := s.Write(t.Context(), bqSimpleBatch(0, 2)); err == nil {
		t.Fatal("Write succeeded")
	}
	if err := s.Write(t.Context(), bqSimpleBatch(10, 2)); err != nil {
		t.Fatal(err)
	}
	if got := bqIDs(f.rows(bqTablePath)); !reflect.DeepEqual(got, []int64{0, 1, 10, 11}) {
		t.Fatalf("ids %v", got)
	}
	if n := len(f.callsOf("CreateWriteStream")); n != 2 {
		t.Errorf("%d write streams, want 2", n)
	}
}

// TestBigQueryTimeout: an answer slower than the timeout fails the write
// (retryable); the rows it stored are not stored again by the retry.
func TestBigQueryTimeout(t *testing.T) {
	f := newBQFake()
	bqSimpleTable(f)
	f.onAppend = func(n int, _ *storagepb.AppendRowsRequest) bqFault {
		if n == 1 {
			return bqFault{delay: 2 * time.Second}
		}
		return bqFault{}
	}
	s := bqOpen(t, startBQServer(t, f), bqSimpleOutput, "timeout", "300ms")
	start := time.Now()
	err := s.Write(t.Context(), bqSimpleBatch(0, 3))
	if err == nil || sink.IsPermanent(err) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("Write: %v, want a retryable timeout", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("the write took %v with a 300ms timeout", d)
	}
	if err := s.Write(t.Context(), bqSimpleBatch(0, 3)); err != nil {
		t.Fatal(err)
	}
	bqWantIDs(t, f.rows(bqTablePath), 0, 3)
}

func TestBigQueryCloseDuringWrite(t *testing.T) {
	f := newBQFake()
	bqSimpleTable(f)
	var entered atomic.Bool
	f.onAppend = func(int, *storagepb.AppendRowsRequest) bqFault {
		entered.Store(true)
		return bqFault{delay: 5 * time.Second}
	}
	s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
	done := make(chan error, 1)
	go func() { done <- s.Write(context.Background(), bqSimpleBatch(0, 2)) }()
	for !entered.Load() {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, sink.ErrClosed) {
		t.Fatalf("Write cut by Close: %v, want ErrClosed", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Write(t.Context(), bqSimpleBatch(2, 1)); !errors.Is(err, sink.ErrClosed) || !sink.IsPermanent(err) {
		t.Fatalf("Write after Close: %v", err)
	}
}

func TestBigQueryForbiddenDestination(t *testing.T) {
	f := newBQFake()
	bqSimpleTable(f)
	srv := startBQServer(t, f)
	_, port, _ := strings.Cut(srv.addr, ":")
	settings := bqSettings(srv)
	settings["endpoint"] = "localhost:" + port
	// A name that resolves to loopback: refused when connecting.
	_, err := sink.Open(t.Context(), sink.Spec{Type: "bigquery", Settings: settings}, sink.Env{Output: bqSimpleOutput})
	if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "which sinks may not reach") {
		t.Fatalf("Open: %v, want the destination refused", err)
	}
	if n := len(f.callsOf("GetWriteStream")); n != 0 {
		t.Errorf("the fake got %d calls", n)
	}
	// An IP: refused at once.
	settings["endpoint"] = srv.addr
	err = sink.Validate(sink.Spec{Type: "bigquery", Settings: settings}, sink.Env{Output: bqSimpleOutput})
	if ces := sink.ConfigErrors(err); len(ces) != 1 || ces[0].Field != "endpoint" {
		t.Fatalf("Validate: %v", err)
	}
}

// TestBigQueryLargeBatch sends a batch as several requests, one of them a
// single row larger than the request size.
func TestBigQueryLargeBatch(t *testing.T) {
	defer sink.SetBQMaxRequestBytes(200)()
	f := newBQFake()
	bqSimpleTable(f)
	var sizes []int
	f.onAppend = func(_ int, req *storagepb.AppendRowsRequest) bqFault {
		sizes = append(sizes, len(req.GetProtoRows().GetRows().GetSerializedRows()))
		return bqFault{}
	}
	s := bqOpen(t, startBQServer(t, f), bqSimpleOutput)
	b := bqSimpleBatch(0, 20)
	b.Records[5].Value = fmt.Appendf(nil, `{"id":5,"batch":0,"pad":"%s"}`, bytes.Repeat([]byte("y"), 500))
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	bqWantIDs(t, f.rows(bqTablePath), 0, 20)
	total := 0
	for _, n := range sizes {
		total += n
	}
	if total != 20 || len(sizes) < 3 || !containsInt(sizes, 1) {
		t.Errorf("rows per request %v, want 20 rows over several requests, the large one alone", sizes)
	}
	if got := f.rows(bqTablePath)[5]["pad"]; got != strings.Repeat("y", 500) {
		t.Errorf("large row: %v", got)
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestBigQueryScalarsRoundTrip encodes random values of the scalar types
// with the JSON format, writes them through the sink, and checks that the
// fake stores exactly the values encoded: timestamps to the microsecond
// across BigQuery's range, dates, times, intervals over all of int64,
// doubles bit for bit (NaN and infinities, which JSON writes as null,
// become NULL), 64-bit integers and strings (invalid UTF-8 as U+FFFD, as
// the format writes it).
func TestBigQueryScalarsRoundTrip(t *testing.T) {
	cols := []sql.OutputColumn{
		{Name: "ts", Type: sql.TypeTimestamp}, {Name: "dt", Type: sql.TypeDate}, {Name: "tm", Type: sql.TypeTime},
		{Name: "iv", Type: sql.TypeInterval}, {Name: "ivc", Type: sql.TypeInterval}, {Name: "d", Type: sql.TypeDouble},
		{Name: "l", Type: sql.TypeBigInt}, {Name: "s", Type: sql.TypeVarchar},
	}
	enc, err := format.New("json", cols)
	if err != nil {
		t.Fatal(err)
	}
	f := newBQFake()
	f.addTable(bqTablePath,
		bqCol("ts", storagepb.TableFieldSchema_TIMESTAMP, bqNullable), bqCol("dt", storagepb.TableFieldSchema_DATE, bqNullable),
		bqCol("tm", storagepb.TableFieldSchema_TIME, bqNullable), bqCol("iv", storagepb.TableFieldSchema_INT64, bqNullable),
		bqCol("ivc", storagepb.TableFieldSchema_INTERVAL, bqNullable), bqCol("d", storagepb.TableFieldSchema_DOUBLE, bqNullable),
		bqCol("l", storagepb.TableFieldSchema_INT64, bqNullable), bqCol("s", storagepb.TableFieldSchema_STRING, bqNullable))
	s := bqOpen(t, startBQServer(t, f), sink.Output{Format: "json", ContentType: enc.ContentType(), Columns: cols})
	const minTS, maxTS = -62135596800000000, 253402300799999999
	const maxIV = 87_840_000 * 3_600_000_000
	rnd := mathrand.New(mathrand.NewPCG(1, 2))
	pick := func(edges ...int64) func(lo, hi int64) int64 {
		return func(lo, hi int64) int64 {
			if rnd.IntN(4) == 0 {
				return edges[rnd.IntN(len(edges))]
			}
			return lo + rnd.Int64N(hi-lo+1)
		}
	}
	var want []map[string]any
	for batch := 0; batch < 4; batch++ {
		var buf []byte
		var ends []int
		for range 500 {
			ts := pick(minTS, maxTS, 0, -1, 1)(minTS, maxTS)
			dt := pick(-719162, 2932896, 0, -1)(-719162, 2932896)
			tm := pick(0, 86_399_999_999, 1)(0, 86_399_999_999)
			iv := int64(rnd.Uint64())
			if rnd.IntN(4) == 0 {
				iv = []int64{math.MinInt64, math.MaxInt64, 0, -1, 1, 86_400_000_000}[rnd.IntN(6)]
			}
			ivc := pick(-maxIV, maxIV, 0, -1, 1)(-maxIV, maxIV)
			var d float64
			switch rnd.IntN(6) {
			case 0:
				d = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 5e-324, math.MaxFloat64, 1e21, 1e-7}[rnd.IntN(8)]
			default:
				d = math.Float64frombits(rnd.Uint64())
			}
			l := int64(rnd.Uint64())
			str := make([]byte, rnd.IntN(12))
			for i := range str {
				str[i] = byte(rnd.IntN(256))
			}
			row := []sql.Value{{I: ts}, {I: dt}, {I: tm}, {I: iv}, {I: ivc}, {F: d}, {I: l}, {B: str}}
			if buf, err = enc.AppendRow(buf, row); err != nil {
				t.Fatal(err)
			}
			ends = append(ends, len(buf))
			w := map[string]any{
				"ts": time.UnixMicro(ts).UTC(), "dt": time.Unix(dt*86400, 0).UTC().Format(time.DateOnly),
				"tm": strings.TrimSuffix(strings.TrimRight(time.UnixMicro(tm).UTC().Format("15:04:05.000000"), "0"), "."),
				"iv": iv, "ivc": bqCanonical(ivc), "d": d, "l": l, "s": bqValidUTF8(str),
			}
			if math.IsNaN(d) || math.IsInf(d, 0) {
				w["d"] = nil
			}
			want = append(want, w)
		}
		b := &sink.Batch{ID: fmt.Sprintf("j/0/%d", batch), ContentType: enc.ContentType()}
		start := 0
		for i, end := range ends {
			b.Records = append(b.Records, sink.Record{Value: buf[start:end], Offset: int64(batch*500 + i)})
			start = end
		}
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	got := f.rows(bqTablePath)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		for k, w := range want[i] {
			g := got[i][k]
			if wf, ok := w.(float64); ok {
				if gf, ok := g.(float64); !ok || math.Float64bits(gf) != math.Float64bits(wf) {
					t.Errorf("row %d, %s: %v (%T), want %v", i, k, g, g, wf)
				}
				continue
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("row %d, %s: %#v, want %#v", i, k, g, w)
			}
		}
	}
}

// bqValidUTF8 is str with each byte that is not part of a UTF-8 sequence
// replaced by U+FFFD, as the JSON format writes it.
func bqValidUTF8(str []byte) string {
	var b strings.Builder
	for len(str) > 0 {
		r, n := utf8.DecodeRune(str)
		b.WriteRune(r) // utf8.RuneError for a bad byte, which is U+FFFD
		str = str[n:]
	}
	return b.String()
}

// bqCanonical is BigQuery's canonical INTERVAL text of an exact number of
// microseconds, all of it in the time part: "0-0 0 H:M:S[.F]".
func bqCanonical(us int64) string {
	sign := ""
	if us < 0 {
		sign, us = "-", -us
	}
	h, m, s, f := us/3_600_000_000, us/60_000_000%60, us/1_000_000%60, us%1_000_000
	out := fmt.Sprintf("0-0 0 %s%d:%d:%d", sign, h, m, s)
	if f != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%06d", f), "0")
	}
	return out
}

// TestBigQueryValuesRefused: values BigQuery cannot store fail the batch
// permanently before anything is sent, naming the record and the column.
func TestBigQueryValuesRefused(t *testing.T) {
	out := sink.Output{Format: "json", ContentType: "application/x-ndjson", Columns: []sql.OutputColumn{
		{Name: "tags", Type: &sql.Type{Kind: sql.Array, Elem: sql.TypeVarchar}},
		{Name: "ts", Type: sql.TypeTimestamp},
		{Name: "dt", Type: sql.TypeDate},
		{Name: "src", Type: &sql.Type{Kind: sql.Record, Fields: []sql.Field{{Name: "ip", Type: sql.TypeVarchar}}}},
		{Name: "attrs", Type: &sql.Type{Kind: sql.Map, Elem: sql.TypeBigInt}},
		{Name: "iv", Type: sql.TypeInterval},
	}}
	S := storagepb.TableFieldSchema_STRING
	f := newBQFake()
	f.addTable(bqTablePath,
		bqCol("tags", S, bqRepeated), bqCol("ts", storagepb.TableFieldSchema_TIMESTAMP, bqNullable),
		bqCol("dt", storagepb.TableFieldSchema_DATE, bqNullable),
		bqCol("src", storagepb.TableFieldSchema_STRUCT, bqNullable, bqCol("ip", S, bqRequired)),
		bqCol("attrs", storagepb.TableFieldSchema_STRUCT, bqRepeated, bqCol("key", S, bqRequired), bqCol("value", storagepb.TableFieldSchema_INT64, bqRequired)),
		bqCol("iv", storagepb.TableFieldSchema_INTERVAL, bqNullable))
	s := bqOpen(t, startBQServer(t, f), out)
	const ok = `"tags":[],"ts":null,"dt":null,"src":null,"attrs":{},"iv":null`
	for i, c := range []struct{ rec, want string }{
		{`{"tags":["a",null],"ts":null,"dt":null,"src":null,"attrs":{},"iv":null}`, "column tags: element 1 is NULL, which a BigQuery array cannot hold"},
		{`{"tags":[],"ts":"0000-12-31T23:59:59Z","dt":null,"src":null,"attrs":{},"iv":null}`, `column ts: "0000-12-31T23:59:59Z" is not a timestamp within BigQuery's range`},
		{`{"tags":[],"ts":"10000-01-01T00:00:00Z","dt":null,"src":null,"attrs":{},"iv":null}`, `column ts: "10000-01-01T00:00:00Z" is not a timestamp within BigQuery's range`},
		{`{"tags":[],"ts":null,"dt":"0000-01-01","src":null,"attrs":{},"iv":null}`, `column dt: "0000-01-01" is not a date within BigQuery's range`},
		{`{"tags":[],"ts":null,"dt":null,"src":{"ip":null},"attrs":{},"iv":null}`, "column src.ip: NULL, but the table's column is REQUIRED"},
		{`{"tags":[],"ts":null,"dt":null,"src":null,"attrs":{"a":null},"iv":null}`, `column attrs.value: the value of key "a" is NULL, but the field is REQUIRED`},
		{`{"tags":[],"ts":null,"dt":null,"src":null,"attrs":{},"iv":"P106751991DT4H54.775807S"}`, `column iv: "P106751991DT4H54.775807S" is beyond BigQuery's INTERVAL range`},
		{`{"tags":[],"ts":null,"dt":null,"src":null,"attrs":{},"iv":"P1Y"}`, `column iv: "P1Y" is not an ISO 8601 duration`},
		{`{"tags":"a","ts":null,"dt":null,"src":null,"attrs":{},"iv":null}`, `column tags: not a JSON array`},
		{`{` + ok + `,"tags":[]}`, `the key "tags" comes twice`},
	} {
		b := &sink.Batch{ID: "j/1/" + bqItoa(i), ContentType: "application/x-ndjson", Records: []sink.Record{
			{Value: []byte(`{` + ok + `}`), Partition: 1, Offset: int64(10 * i)},
			{Value: []byte(c.rec + "\n"), Partition: 1, Offset: int64(10*i + 1)},
		}}
		err := s.Write(t.Context(), b)
		want := fmt.Sprintf("record at partition 1 offset %d: %s", 10*i+1, c.want)
		if !sink.IsPermanent(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("record %s: %v, want a permanent error saying %q", c.rec, err, want)
		}
	}
	if n := f.appendCount(); n != 0 {
		t.Errorf("%d appends: a refused batch went out", n)
	}
	// The good record alone is written, with its empty arrays.
	b := &sink.Batch{ID: "j/1/x", ContentType: "application/x-ndjson", Records: []sink.Record{{Value: []byte(`{` + ok + `}`)}}}
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	bqCompare(t, f.rows(bqTablePath), []map[string]any{{"tags": []any{}, "ts": nil, "dt": nil, "src": nil, "attrs": []any{}, "iv": nil}})
}

// TestBigQueryUntypedField: a record field SQL cannot type (a union of
// several types) goes to a STRING or JSON column as JSON text, and is
// refused for any other column.
func TestBigQueryUntypedField(t *testing.T) {
	const schema = `{"type":"record","name":"Ev","namespace":"t","fields":[
 {"name":"src","type":{"type":"record","name":"Addr","fields":[{"name":"ip","type":"string"},{"name":"multi","type":["null","string","long"]}]}}]}`
	out, recs := bqQueryRows(t, schema, `SELECT src, src AS j FROM tenant`, []map[string]any{
		{"src": map[string]any{"ip": "a", "multi": int64(-7)}},
		{"src": map[string]any{"ip": "b", "multi": "x"}},
		{"src": map[string]any{"ip": "c", "multi": nil}},
	})
	S := storagepb.TableFieldSchema_STRING
	f := newBQFake()
	f.addTable(bqTablePath,
		bqCol("src", storagepb.TableFieldSchema_STRUCT, bqNullable, bqCol("ip", S, bqNullable), bqCol("multi", S, bqNullable)),
		bqCol("j", storagepb.TableFieldSchema_JSON, bqNullable))
	s := bqOpen(t, startBQServer(t, f), out)
	bqWrite(t, s, recs)
	bqCompare(t, f.rows(bqTablePath), []map[string]any{
		{"src": map[string]any{"ip": "a", "multi": "-7"}, "j": `{"ip":"a","multi":-7}`},
		{"src": map[string]any{"ip": "b", "multi": "x"}, "j": `{"ip":"b","multi":"x"}`},
		{"src": map[string]any{"ip": "c", "multi": nil}, "j": `{"ip":"c","multi":null}`},
	})

	g := newBQFake()
	g.addTable(bqTablePath,
		bqCol("src", storagepb.TableFieldSchema_STRUCT, bqNullable, bqCol("ip", S, bqNullable), bqCol("multi", storagepb.TableFieldSchema_INT64, bqNullable)),
		bqCol("j", storagepb.TableFieldSchema_JSON, bqNullable))
	_, err := sink.Open(t.Context(), sink.Spec{Type: "bigquery", Settings: bqSettings(startBQServer(t, g))}, sink.Env{AllowPrivate: true, Output: out})
	if ces := sink.ConfigErrors(err); len(ces) != 1 || ces[0].Field != "table" || !strings.Contains(err.Error(), "src.multi has a type the sink cannot read") {
		t.Fatalf("Open: %v", err)
	}
}

// BenchmarkBigQueryEncode measures the conversion of JSON records into
// the rows the sink sends (the rows of TestBigQueryTypes).
func BenchmarkBigQueryEncode(b *testing.B) {
	out, recs := bqQueryRows(b, bqEventSchema, bqEventQuery, bqEvents()[:1])
	S, I, T := storagepb.TableFieldSchema_STRING, storagepb.TableFieldSchema_INT64, storagepb.TableFieldSchema_TIMESTAMP
	enc, err := sink.BQEncoder(out.Columns, &storagepb.TableSchema{Fields: []*storagepb.TableFieldSchema{
		bqCol("b", storagepb.TableFieldSchema_BOOL, bqNullable), bqCol("i", I, bqNullable), bqCol("l", I, bqNullable),
		bqCol("d", storagepb.TableFieldSchema_DOUBLE, bqNullable), bqCol("s", S, bqNullable), bqCol("raw", storagepb.TableFieldSchema_BYTES, bqNullable),
		bqCol("ts", T, bqNullable), bqCol("dt", storagepb.TableFieldSchema_DATE, bqNullable), bqCol("tm", storagepb.TableFieldSchema_TIME, bqNullable),
		bqCol("iv", storagepb.TableFieldSchema_INTERVAL, bqNullable), bqCol("tags", S, bqRepeated), bqCol("nums", I, bqRepeated),
		bqCol("attrs", storagepb.TableFieldSchema_STRUCT, bqRepeated, bqCol("key", S, bqNullable), bqCol("value", I, bqNullable)),
		bqCol("src", storagepb.TableFieldSchema_STRUCT, bqNullable, bqCol("ip", S, bqNullable), bqCol("port", I, bqNullable), bqCol("seen", T, bqNullable), bqCol("note", S, bqNullable)),
		bqCol("hits", storagepb.TableFieldSchema_STRUCT, bqRepeated, bqCol("name", S, bqNullable), bqCol("at", T, bqNullable)),
		bqCol("nothing", I, bqNullable),
	}})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]sink.Record, 1000)
	for i := range batch {
		batch[i] = recs[0]
	}
	b.SetBytes(int64(len(recs[0].Value) * len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := enc(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/row")
}

// TestBigQueryNestedCollections: arrays of arrays (to a REPEATED STRING
// column, each inner array as JSON text), maps of arrays (to entries whose
// value is REPEATED), arrays of records with arrays inside.
func TestBigQueryNestedCollections(t *testing.T) {
	arrOfArr := &sql.Type{Kind: sql.Array, Elem: &sql.Type{Kind: sql.Array, Elem: sql.TypeBigInt}}
	mapOfArr := &sql.Type{Kind: sql.Map, Elem: &sql.Type{Kind: sql.Array, Elem: sql.TypeDouble}}
	recs := &sql.Type{Kind: sql.Array, Elem: &sql.Type{Kind: sql.Record, Fields: []sql.Field{
		{Name: "n", Type: sql.TypeVarchar}, {Name: "tags", Type: &sql.Type{Kind: sql.Array, Elem: sql.TypeVarchar}}}}}
	out := sink.Output{Format: "json", ContentType: "application/x-ndjson", Columns: []sql.OutputColumn{
		{Name: "aa", Type: arrOfArr}, {Name: "ma", Type: mapOfArr}, {Name: "rs", Type: recs}}}
	S := storagepb.TableFieldSchema_STRING
	f := newBQFake()
	f.addTable(bqTablePath,
		bqCol("aa", S, bqRepeated),
		bqCol("ma", storagepb.TableFieldSchema_STRUCT, bqRepeated, bqCol("key", S, bqNullable), bqCol("value", storagepb.TableFieldSchema_DOUBLE, bqRepeated)),
		bqCol("rs", storagepb.TableFieldSchema_STRUCT, bqRepeated, bqCol("n", S, bqNullable), bqCol("tags", S, bqRepeated)))
	s := bqOpen(t, startBQServer(t, f), out)
	err := s.Write(t.Context(), &sink.Batch{ID: "j/0/0+2", ContentType: "application/x-ndjson", Records: []sink.Record{
		{Value: []byte(`{"aa":[[1,2],[]],"ma":{"x":[1.5,-0],"y":[],"z":null},"rs":[{"n":"a","tags":["p","q"]},{"n":null,"tags":null}]}` + "\n")},
		{Value: []byte(`{"aa":null,"ma":null,"rs":null}` + "\n"), Offset: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	bqCompare(t, f.rows(bqTablePath), []map[string]any{
		{
			"aa": []any{"[1,2]", "[]"},
			"ma": []any{
				map[string]any{"key": "x", "value": []any{1.5, math.Copysign(0, -1)}},
				map[string]any{"key": "y", "value": []any{}},
				map[string]any{"key": "z", "value": []any{}},
			},
			"rs": []any{map[string]any{"n": "a", "tags": []any{"p", "q"}}, map[string]any{"n": nil, "tags": []any{}}},
		},
		{"aa": []any{}, "ma": []any{}, "rs": []any{}},
	})
}

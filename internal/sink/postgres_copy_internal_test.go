package sink

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/internal/sql"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// TestPGCopyRows: each JSON value becomes the COPY text PostgreSQL reads
// as that value.
func TestPGCopyRows(t *testing.T) {
	conv := newPGCopyRows(
		[]sql.Kind{sql.Varchar, sql.BigInt, sql.Bytes, sql.Timestamp, sql.Date, sql.Interval, sql.Record, sql.Double, sql.Boolean},
		[]string{"s", "n", "y", "ts", "d", "iv", "r", "f", `we"ird`})
	for _, c := range []struct{ in, want string }{
		// In order, every value as written but strings.
		{`{"s":"a","n":-9223372036854775808,"y":"AAEC//4=","ts":"2026-11-26T15:04:05.123456Z","d":"2026-11-26","iv":"P1DT2H0.5S","r":{"a":[1,"x"]},"f":-0,"we\"ird":true}`,
			"a\t-9223372036854775808\t\\\\x000102fffe\t2026-11-26T15:04:05.123456Z\t2026-11-26\tP1DT2H0.5S\t{\"a\":[1,\"x\"]}\t-0\ttrue\n"},
		// Nulls, missing keys and keys of no column.
		{`{"s":null,"extra":{"deep":[1,2]},"n":null}`, "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"},
		{`{}`, "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"},
		// Out of order, with spaces, an escaped key.
		{" { \"f\" : 1e-300 , \"we\\u0022ird\":false, \"\\u0073\": \"x\" }\n", "x\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t1e-300\tfalse\n"},
		// Strings: JSON escapes out, COPY's in; \N and \. stay text; NUL
		// is U+FFFD; surrogate pairs join, a lone one is U+FFFD.
		{`{"s":"tab\there\nnl\\bs \"q\" \/ \u00e9 \ud83d\ude00 \ud800 \u0000 \\N \\."}`,
			"tab\\there\\nnl\\\\bs \"q\" / é 😀 \ufffd \ufffd \\\\N \\\\.\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"},
		// Nested JSON keeps its text, escapes doubled for COPY, \u0000 as
		// \ufffd but not an escaped backslash before "u0000".
		{`{"r":{"k\"":"a\tb\u0000","l":"\\u0000"}}`, "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t{\"k\\\\\"\":\"a\\\\tb\\\\ufffd\",\"l\":\"\\\\\\\\u0000\"}\t\\N\t\\N\n"},
		// Years before 1 AD get BC; negative intervals a sign per part.
		{`{"ts":"-0001-03-01T00:00:00.5Z","d":"0000-01-01","iv":"-P1DT2H3M4.000005S"}`,
			"\\N\t\\N\t\\N\t0002-03-01T00:00:00.5Z BC\t0001-01-01 BC\tP-1DT-2H-3M-4.000005S\t\\N\t\\N\t\\N\n"},
		{`{"ts":"12345-01-02T03:04:05Z","iv":"-PT0.000001S","y":""}`, "\\N\t\\N\t\\\\x\t12345-01-02T03:04:05Z\t\\N\tPT-0.000001S\t\\N\t\\N\t\\N\n"},
		// A later key of the same name wins, as in jsonb.
		{`{"n":1,"n":2}`, "\\N\t2\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"},
	} {
		got, err := conv.appendRow(nil, nil, []byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("%s:\n got %q, %v\nwant %q", c.in, got, err, c.want)
		}
	}
	got, err := conv.appendRow([]byte("x"), []byte("7\t"), []byte(`{"n":3}`))
	if err != nil || string(got) != "x7\t\\N\t3\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n" {
		t.Errorf("with a prefix: %q, %v", got, err)
	}
}

// TestPGCopyRowsRefused: what is not one JSON object is an error, and
// nothing it holds can end a COPY row early.
func TestPGCopyRowsRefused(t *testing.T) {
	conv := newPGCopyRows([]sql.Kind{sql.Varchar, sql.Bytes, sql.Date}, []string{"s", "y", "d"})
	for _, c := range []struct{ in, want string }{
		{`[1]`, "not a JSON object"},
		{`{"s":"a"`, "want ',' or '}'"},
		{`{"s":"a"}x`, "more after the object"},
		{`{"s" "a"}`, "want ':'"},
		{`{s:"a"}`, "want a key"},
		{`{"s":"a` + "\t" + `b"}`, "control character"},
		{`{"s":"ab}`, "unterminated string"},
		{`{"s":tru}`, "want a value"},
		{`{"s":{"a":[1}}`, "unbalanced"},
		{`{"s":[1,2`, "unterminated value"},
		{`{"y":"not base64!"}`, "column y: BYTES value is not base64"},
		{`{"d":"-1-01-01"}`, "column d: DATE value"},
	} {
		_, err := conv.appendRow(nil, nil, []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.in, err, c.want)
		}
	}
}

// TestPGCopyRowsAllocs: converting a record allocates nothing once the
// buffers have grown.
func TestPGCopyRowsAllocs(t *testing.T) {
	conv := newPGCopyRows([]sql.Kind{sql.Timestamp, sql.Varchar, sql.BigInt, sql.Bytes, sql.Record},
		[]string{"ts", "s", "n", "y", "r"})
	rec := []byte(`{"ts":"2026-11-26T15:04:05.25Z","s":"a\"b\n","n":42,"y":"aGkA","r":{"x":[1,2]}}`)
	buf, _ := conv.appendRow(nil, nil, rec)
	if n := testing.AllocsPerRun(100, func() { buf, _ = conv.appendRow(buf[:0], nil, rec) }); n != 0 {
		t.Fatalf("%v allocations per record", n)
	}
}

// TestPostgresDirectCopy: inserts COPY straight into a table whose
// columns have the result columns' own types and that COPY writes as
// INSERT would; upserts, other types, views, rules and row security go
// through the staging table.
func TestPostgresDirectCopy(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `
CREATE TABLE same (id bigint, port bigint, name varchar(20), at timestamptz, extra text DEFAULT 'x', serial bigserial);
CREATE TABLE other (id bigint, port numeric, name text, at timestamptz);
CREATE TABLE parted (id bigint, port int, name text, at timestamptz) PARTITION BY RANGE (id);
CREATE TABLE parted_all PARTITION OF parted DEFAULT;
CREATE VIEW v AS SELECT * FROM same;
CREATE TABLE ruled (id bigint, port int, name text, at timestamptz);
CREATE RULE r AS ON INSERT TO ruled DO ALSO NOTIFY ruled;
CREATE TABLE secured (id bigint, port int, name text, at timestamptz);
ALTER TABLE secured ENABLE ROW LEVEL SECURITY;`); err != nil {
		t.Fatal(err)
	}
	env := Env{AllowPrivate: true, Output: Output{Format: "json", ContentType: postgresNDJSON, Columns: []sql.OutputColumn{
		{Name: "id", Type: sql.TypeBigInt}, {Name: "port", Type: sql.TypeInteger}, {Name: "name", Type: sql.TypeVarchar}, {Name: "at", Type: sql.TypeTimestamp}}}}
	for _, c := range []struct {
		table  string
		create bool
		key    bool
		direct bool
	}{
		{"created", true, false, true},
		{"created_keyed", true, true, false},
		{"same", false, false, true},
		{"other", false, false, false},
		{"parted", false, false, true},
		{"v", false, false, false},
		{"ruled", false, false, false},
		{"secured", false, false, false},
	} {
		settings := map[string]any{"dsn": dsn, "table": c.table, "createTable": c.create}
		if c.key {
			settings["key"] = "id"
		}
		s, err := Open(ctx, Spec{Type: "postgres", Settings: settings}, env)
		if err != nil {
			t.Fatalf("%s: %v", c.table, err)
		}
		ps := s.(*postgresSink)
		if ps.cols.direct != c.direct {
			t.Errorf("%s: direct %v, want %v", c.table, ps.cols.direct, c.direct)
		}
		if err := s.Write(ctx, &Batch{ID: "b", ContentType: postgresNDJSON, Offsets: map[int32]int64{0: 1},
			Records: []Record{{Value: []byte(`{"id":1,"port":22,"name":"a","at":"2026-11-26T15:04:05Z"}`)}}}); err != nil {
			t.Errorf("%s: %v", c.table, err)
		}
		_ = s.Close(ctx)
	}
}

// BenchmarkPGCopyRows converts firewall log records (23 columns, about
// 560 bytes of JSON) to COPY text.
//
//	go test -run '^$' -bench BenchmarkPGCopyRows ./internal/sink/
func BenchmarkPGCopyRows(b *testing.B) {
	kinds := []sql.Kind{sql.Timestamp, sql.Varchar, sql.BigInt, sql.Varchar, sql.Integer, sql.Varchar, sql.Integer, sql.Varchar,
		sql.Varchar, sql.Varchar, sql.Varchar, sql.Varchar, sql.Varchar, sql.BigInt, sql.BigInt, sql.BigInt, sql.Integer,
		sql.Varchar, sql.Varchar, sql.Integer, sql.Varchar, sql.Varchar, sql.Varchar}
	names := []string{"event_time", "tenant", "session_id", "src_ip", "src_port", "dst_ip", "dst_port", "protocol",
		"application", "action", "rule", "src_zone", "dst_zone", "bytes_sent", "bytes_received", "packets", "duration_ms",
		"user", "country", "severity", "log_type", "threat_name", "threat_category"}
	conv := newPGCopyRows(kinds, names)
	var recs [][]byte
	for i := range 1000 {
		user := "null"
		if i%3 == 0 {
			user = fmt.Sprintf(`"user%d@example.com"`, i%100)
		}
		recs = append(recs, fmt.Appendf(nil, `{"event_time":"2026-11-26T15:04:05.%03dZ","tenant":"acme","session_id":%d,"src_ip":"10.1.%d.%d","src_port":%d,"dst_ip":"203.0.113.%d","dst_port":443,"protocol":"TCP","application":"ssl","action":"allow","rule":"allow-web-outbound","src_zone":"trust","dst_zone":"untrust","bytes_sent":%d,"bytes_received":%d,"packets":%d,"duration_ms":%d,"user":%s,"country":"US","severity":1,"log_type":"TRAFFIC","threat_name":null,"threat_category":null}`,
			i, 1_000_000+i, i%256, i/256, 1024+i, i%200, 1000+i*7, 5000+i*13, 10+i%90, i%30000, user))
	}
	var buf []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			buf = buf[:0]
		}
		var err error
		if buf, err = conv.appendRow(buf, nil, recs[i%1000]); err != nil {
			b.Fatal(err)
		}
	}
}

package sink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sql"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// pgTypeRows are values of every scalar SQL type, a column per type and a
// row per case (NULL where a column has fewer cases), with the extremes
// the JSON format has to get right.
func pgTypeRows() (cols []sql.OutputColumn, rows [][]sql.Value) {
	ts := func(y int, mo time.Month, d, h, mi, s, ns int) sql.Value {
		return sql.Value{I: time.Date(y, mo, d, h, mi, s, ns, time.UTC).UnixMicro()}
	}
	day := func(y int, mo time.Month, d int) sql.Value {
		return sql.Value{I: time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Unix() / 86400}
	}
	i := func(n int64) sql.Value { return sql.Value{I: n} }
	f := func(x float64) sql.Value { return sql.Value{F: x} }
	str := func(s string) sql.Value { return sql.Value{B: []byte(s)} }
	all := make([]byte, 256)
	for b := range all {
		all[b] = byte(b)
	}
	byKind := []struct {
		name string
		kind sql.Kind
		vals []sql.Value
	}{
		{"b", sql.Boolean, []sql.Value{sql.Bool(true), sql.Bool(false)}},
		{"i", sql.Integer, []sql.Value{i(math.MinInt32), i(math.MaxInt32), i(0)}},
		{"l", sql.BigInt, []sql.Value{i(math.MinInt64), i(math.MaxInt64), i(9007199254740993), i(-1)}},
		{"d", sql.Double, []sql.Value{f(0.1), f(math.Copysign(0, -1)), f(5e-324), f(math.MaxFloat64), f(1e21), f(1e-7), f(math.NaN()), f(math.Inf(-1))}},
		{"s", sql.Varchar, []sql.Value{str(""), str("héllo"), str("tab\tnl\ncr\rquote\"bs\\"), str("a\x00b"), str(`\N`), str(`\.`), str("😀\u2028"), str("\xff")}},
		{"y", sql.Bytes, []sql.Value{{B: all}, {B: []byte{}}, str(`\x00`)}},
		{"ts", sql.Timestamp, []sql.Value{ts(2026, 11, 26, 15, 4, 5, 123456000), i(0), i(-1), ts(0, 1, 1, 0, 0, 0, 0), ts(-1000, 3, 1, 12, 0, 0, 500000000), ts(12345, 1, 2, 3, 4, 5, 0)}},
		{"dt", sql.Date, []sql.Value{day(2026, 11, 26), i(0), i(-1), day(0, 1, 1), day(-1000, 2, 29), day(12345, 1, 2)}},
		{"tm", sql.Time, []sql.Value{i(0), i(86_399_999_999), i(43_200_500_000)}},
		{"iv", sql.Interval, []sql.Value{i(0), i(-1), i((26*3600+0)*1e6 + 500_000), i(-(26*3600+3*60+4)*1e6 - 5), i(10_000 * 86_400 * 1e6), i(math.MaxInt64), i(math.MinInt64 + 1)}},
		{"nul", sql.Unknown, nil},
	}
	n := 0
	for _, c := range byKind {
		cols = append(cols, sql.OutputColumn{Name: c.name, Type: &sql.Type{Kind: c.kind}})
		n = max(n, len(c.vals))
	}
	// One more row: NULL in every column.
	for r := range n + 1 {
		row := make([]sql.Value, len(byKind))
		for c, k := range byKind {
			row[c] = sql.Null
			if r < len(k.vals) {
				row[c] = k.vals[r]
			}
		}
		rows = append(rows, row)
	}
	return cols, rows
}

// pgNested are the nested columns' values of each row, as JSON, and what
// PostgreSQL's jsonb holds of them.
var pgNested = []struct{ arr, m, rec string }{
	{`["a",null,1.5,{"x":[true]}]`, `{"k\"ey":"v","tab":"a\tb","nul":"\u0000","bs":"\\u0000"}`, `{"ip":"10.1.2.3","port":51000,"big":9223372036854775807,"at":"2026-11-26T15:04:05.25Z","f":1e-300}`},
	{`[]`, `{}`, `{"deep":{"deeper":[[[]]]}}`},
	{`null`, `null`, `null`},
}

// TestPostgresEveryType: createTable makes a column of the right type for
// every SQL type, and every value, as the JSON format writes it, reads
// back typed and equal (NaN and infinities arrive as NULL, as JSON writes
// them; U+0000 as U+FFFD) — through COPY straight into the table
// (inserts) and through the staging table (upserts).
func TestPostgresEveryType(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	scalar, rows := pgTypeRows()
	enc, err := format.New("JSON", scalar)
	if err != nil {
		t.Fatal(err)
	}
	cols := append([]sql.OutputColumn{col("k", sql.BigInt)}, scalar...)
	cols = append(cols, col("arr", sql.Array), col("m", sql.Map), col("Rec", sql.Record))
	out := pgOutput(t, cols[:len(scalar)+1]...)
	out.Columns = cols
	var recs []string
	for r, row := range rows {
		line, err := enc.AppendRow(nil, row)
		if err != nil {
			t.Fatal(err)
		}
		nested := pgNested[min(r, len(pgNested)-1)]
		recs = append(recs, fmt.Sprintf(`{"k":%d,%s,"arr":%s,"m":%s,"Rec":%s}`, r, bytes.TrimSuffix(line, []byte("}\n"))[1:], nested.arr, nested.m, nested.rec))
	}
	for _, mode := range []struct {
		name string
		key  []any
	}{{"insert", nil}, {"upsert", []any{"k"}}} {
		t.Run(mode.name, func(t *testing.T) {
			table := "typed_" + mode.name
			env := pgEnv
			env.Output = out
			settings := map[string]any{"dsn": dsn, "table": table, "createTable": true}
			if mode.key != nil {
				settings["key"] = mode.key
			}
			s, err := sink.Open(ctx, sink.Spec{Type: "postgres", Settings: settings}, env)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			if err := s.Write(ctx, pgJSONBatch(0, recs...)); err != nil {
				t.Fatal(err)
			}
			var types string
			if err := c.QueryRow(ctx, `SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0`, table).Scan(&types); err != nil {
				t.Fatal(err)
			}
			want := "k bigint, b boolean, i integer, l bigint, d double precision, s text, y bytea, ts timestamp with time zone, dt date, tm time without time zone, iv interval, nul text, arr jsonb, m jsonb, Rec jsonb"
			if types != want {
				t.Fatalf("columns %s\nwant    %s", types, want)
			}
			pgCheckTypedRows(t, c, table, rows)
		})
	}
}

// pgCheckTypedRows reads the table back typed and compares it with the
// rows of pgTypeRows and pgNested.
func pgCheckTypedRows(t *testing.T, c *pgx.Conn, table string, rows [][]sql.Value) {
	t.Helper()
	ctx := context.Background()
	q, err := c.Query(ctx, `SELECT k, b, i, l, d, s, y, ts, dt, tm, iv, nul, arr::text, m::text, "Rec"::text FROM `+table+` ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	n := 0
	for q.Next() {
		var (
			k           int64
			b           *bool
			i           *int32
			l           *int64
			d           *float64
			s, nul      *string
			y           []byte
			ts          *time.Time
			dt          pgtype.Date
			tm          pgtype.Time
			iv          pgtype.Interval
			arr, m, rec *string
		)
		if err := q.Scan(&k, &b, &i, &l, &d, &s, &y, &ts, &dt, &tm, &iv, &nul, &arr, &m, &rec); err != nil {
			t.Fatal(err)
		}
		if k != int64(n) {
			t.Fatalf("row %d has k %d", n, k)
		}
		want := rows[n]
		bad := func(col string, got, want any) {
			if p, ok := got.(*string); ok && p != nil {
				got = *p
			}
			t.Errorf("row %d, %s: got %v, want %v", n, col, got, want)
		}
		isNull := func(v sql.Value, p bool) bool { return v.Null != p }
		if isNull(want[0], b == nil) || b != nil && *b != (want[0].I == 1) {
			bad("b", b, want[0])
		}
		if isNull(want[1], i == nil) || i != nil && int64(*i) != want[1].I {
			bad("i", i, want[1].I)
		}
		if isNull(want[2], l == nil) || l != nil && *l != want[2].I {
			bad("l", l, want[2].I)
		}
		finite := !want[3].Null && !math.IsNaN(want[3].F) && !math.IsInf(want[3].F, 0)
		if finite != (d != nil) || d != nil && math.Float64bits(*d) != math.Float64bits(want[3].F) {
			bad("d", d, want[3].F)
		}
		wantS := strings.ReplaceAll(strings.ToValidUTF8(string(want[4].B), "\ufffd"), "\x00", "\ufffd")
		if isNull(want[4], s == nil) || s != nil && *s != wantS {
			bad("s", s, wantS)
		}
		if isNull(want[5], y == nil) || !bytes.Equal(y, want[5].B) {
			bad("y", y, want[5].B)
		}
		if isNull(want[6], ts == nil) || ts != nil && !ts.Equal(time.UnixMicro(want[6].I)) {
			bad("ts", ts, time.UnixMicro(want[6].I).UTC())
		}
		if wantD := time.Unix(want[7].I*86400, 0).UTC(); want[7].Null == dt.Valid || dt.Valid && !dt.Time.Equal(wantD) {
			bad("dt", dt, wantD)
		}
		if want[8].Null == tm.Valid || tm.Valid && tm.Microseconds != want[8].I {
			bad("tm", tm, want[8].I)
		}
		if want[9].Null == iv.Valid || iv.Valid && (iv.Months != 0 || int64(iv.Days)*86_400_000_000+iv.Microseconds != want[9].I) {
			bad("iv", iv, want[9].I)
		}
		if nul != nil {
			bad("nul", nul, nil)
		}
		nested := pgNested[min(n, len(pgNested)-1)]
		for _, c := range []struct {
			name     string
			got      *string
			wantJSON string
		}{{"arr", arr, nested.arr}, {"m", m, nested.m}, {"Rec", rec, nested.rec}} {
			// jsonb holds no U+0000: the sink writes U+FFFD instead.
			w := strings.ReplaceAll(c.wantJSON, `"\u0000"`, `"\ufffd"`)
			if (c.got == nil) != (w == "null") || c.got != nil && !pgJSONEqual(t, *c.got, w) {
				bad(c.name, c.got, w)
			}
		}
		n++
	}
	if err := q.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(rows) {
		t.Fatalf("%d rows, want %d", n, len(rows))
	}
}

// pgJSONEqual compares two JSON texts as values, numbers exactly (jsonb
// writes 1e-300 in full).
func pgJSONEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var exact func(v any) any
	exact = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			r, ok := new(big.Rat).SetString(string(x))
			if !ok {
				t.Fatalf("number %s", x)
			}
			return r.RatString()
		case []any:
			for i := range x {
				x[i] = exact(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = exact(x[k])
			}
		}
		return v
	}
	dec := func(s string) any {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return exact(v)
	}
	return reflect.DeepEqual(dec(a), dec(b))
}

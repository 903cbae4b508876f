package sink_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/job"
	"github.com/sluicehq/sluice/internal/job/jobtest"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sql"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// pgOutput is a JSON output of the given columns.
func pgOutput(t *testing.T, cols ...sql.OutputColumn) sink.Output {
	t.Helper()
	enc, err := format.New("JSON", cols)
	if err != nil {
		t.Fatal(err)
	}
	return job.SinkOutput("JSON", cols, enc)
}

// pgJSONBatch is a batch of the given NDJSON records, from offset 0 of
// partition 0 on.
func pgJSONBatch(from int64, recs ...string) *sink.Batch {
	b := &sink.Batch{ID: fmt.Sprintf("j/0/%d+%d", from, len(recs)), ContentType: "application/x-ndjson",
		Offsets: map[int32]int64{0: from + int64(len(recs))}}
	for i, r := range recs {
		b.Records = append(b.Records, sink.Record{Value: []byte(r + "\n"), Partition: 0, Offset: from + int64(i)})
	}
	return b
}

func col(name string, k sql.Kind) sql.OutputColumn {
	return sql.OutputColumn{Name: name, Type: &sql.Type{Kind: k}}
}

// TestPostgresColumnsEveryType: createTable makes a column of the right
// type for every SQL type, and every value (as the JSON format writes it)
// reads back exactly, NULLs included.
func TestPostgresColumnsEveryType(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	out := sink.Output{Format: "json", ContentType: "application/x-ndjson", Columns: []sql.OutputColumn{
		col("b", sql.Boolean), col("i", sql.Integer), col("l", sql.BigInt), col("d", sql.Double),
		col("s", sql.Varchar), col("y", sql.Bytes), col("ts", sql.Timestamp), col("dt", sql.Date), col("tm", sql.Time),
		col("iv", sql.Interval), col("arr", sql.Array), col("Rec", sql.Record)}}
	env := pgEnv
	env.Output = out
	s, err := sink.Open(ctx, sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": "typed", "createTable": true}}, env)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	full := `{"b":true,"i":-2147483648,"l":9007199254740993,"d":1e-300,"s":"héllo \"q\"","y":"AAEC//4=","ts":"2026-11-26T15:04:05.123456Z","dt":"2026-11-26","tm":"15:04:05.5","iv":"P1DT2H0.5S","arr":["a","b"],"Rec":{"ip":"10.1.2.3","port":51000}}`
	null := `{"b":null,"i":null,"l":null,"d":null,"s":null,"y":null,"ts":null,"dt":null,"tm":null,"iv":null,"arr":null,"Rec":null}`
	if err := s.Write(ctx, pgJSONBatch(0, full, null)); err != nil {
		t.Fatal(err)
	}
	c := pgConn(t, dsn)
	var types string
	if err := c.QueryRow(ctx, `SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
FROM pg_attribute WHERE attrelid = 'typed'::regclass AND attnum > 0`).Scan(&types); err != nil {
		t.Fatal(err)
	}
	want := "b boolean, i integer, l bigint, d double precision, s text, y bytea, ts timestamp with time zone, dt date, tm time without time zone, iv interval, arr jsonb, Rec jsonb"
	if types != want {
		t.Fatalf("columns %s\nwant    %s", types, want)
	}
	var got []string
	rows, err := c.Query(ctx, `SELECT concat_ws('|', b, i, l, d, s, encode(y, 'hex'), to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), dt, tm, iv, arr, "Rec") FROM typed`)
	if err != nil {
		t.Fatal(err)
	}
	got, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	wantRows := []string{
		`t|-2147483648|9007199254740993|1e-300|héllo "q"|000102fffe|2026-11-26 15:04:05.123456|2026-11-26|15:04:05.5|1 day 02:00:00.5|["a", "b"]|{"ip": "10.1.2.3", "port": 51000}`,
		``,
	}
	if len(got) != 2 || got[0] != wantRows[0] || got[1] != wantRows[1] {
		t.Fatalf("rows\n%q\nwant\n%q", got, wantRows)
	}
}

// pgStrings runs a query of one text column and returns its rows.
func pgStrings(t *testing.T, c *pgx.Conn, query string, args ...any) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return got
}

// TestPostgresUpsert: with key, the last row of a key wins, within a batch
// and across batches; a mapped column takes its value.
func TestPostgresUpsert(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	if _, err := c.Exec(ctx, `CREATE TABLE users (login text PRIMARY KEY, seen bigint NOT NULL, last_ip text, note text DEFAULT 'kept')`); err != nil {
		t.Fatal(err)
	}
	env := pgEnv
	env.Output = pgOutput(t, col("user", sql.Varchar), col("n", sql.BigInt), col("ip", sql.Varchar))
	spec := sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": "users",
		"columns": map[string]any{"user": "login", "n": "seen", "ip": "last_ip"}, "key": []any{"user"}}}
	s, err := sink.Open(ctx, spec, env)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if err := s.Write(ctx, pgJSONBatch(0, `{"user":"ann","n":1,"ip":"10.0.0.1"}`, `{"user":"bob","n":2,"ip":null}`, `{"user":"ann","n":3,"ip":"10.0.0.3"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, pgJSONBatch(3, `{"user":"bob","n":4,"ip":"10.0.0.4"}`)); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Query(ctx, `SELECT concat_ws(',', login, seen, last_ip, note) FROM users ORDER BY login`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ";") != "ann,3,10.0.0.3,kept;bob,4,10.0.0.4,kept" {
		t.Fatalf("rows %v", got)
	}
}

// TestPostgresColumnsRefused: what cannot work is a config error naming
// the setting, at Validate (against the result columns) or at Open
// (against the table).
func TestPostgresColumnsRefused(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	if _, err := c.Exec(ctx, `CREATE TABLE t1 (user_name text, n bigint); CREATE TABLE t2 (user_name int, n bigint)`); err != nil {
		t.Fatal(err)
	}
	out := pgOutput(t, col("user", sql.Varchar), col("n", sql.BigInt))
	env := pgEnv
	env.Output = out
	csvEnv := pgEnv
	cols := []sql.OutputColumn{col("user", sql.Varchar)}
	enc, _ := format.New("CSV", cols)
	csvEnv.Output = job.SinkOutput("CSV", cols, enc)
	for _, c := range []struct {
		name     string
		settings map[string]any
		env      sink.Env
		open     bool
		field    string
		msg      string
	}{
		{"unknown result column", map[string]any{"columns": map[string]any{"usr": "user_name"}}, env, false, "columns", `"usr" is not a result column`},
		{"bad column name", map[string]any{"columns": map[string]any{"user": "user name"}}, env, false, "columns", "is not a column name"},
		{"unknown key", map[string]any{"key": []any{"id"}}, env, false, "key", `"id" is not a result column`},
		{"key twice", map[string]any{"key": []any{"n", "N"}}, env, false, "key", "named twice"},
		{"jsonb with key", map[string]any{"layout": "jsonb", "key": "n"}, env, false, "key", "only the columns layout"},
		{"layout", map[string]any{"layout": "rows"}, env, false, "layout", "want columns"},
		{"CSV", map[string]any{}, csvEnv, false, "type", "takes the JSON format"},
		{"missing column", map[string]any{"table": "t1"}, env, true, "columns", `column "user" of relation "t1" does not exist`},
		{"wrong type", map[string]any{"table": "t2", "columns": map[string]any{"user": "user_name"}}, env, true, "columns", "is of type integer"},
		{"no unique index", map[string]any{"table": "t1", "columns": map[string]any{"user": "user_name"}, "key": "user"}, env, true, "key", "no unique index"},
	} {
		t.Run(c.name, func(t *testing.T) {
			settings := map[string]any{"dsn": dsn, "table": "t_new", "createTable": true}
			for k, v := range c.settings {
				settings[k] = v
			}
			spec := sink.Spec{Type: "postgres", Settings: settings}
			var err error
			if c.open {
				err = openEnvErr(spec, c.env)
			} else {
				err = sink.Validate(spec, c.env)
			}
			ces := sink.ConfigErrors(err)
			if len(ces) != 1 || ces[0].Field != c.field || !strings.Contains(ces[0].Message, c.msg) {
				t.Fatalf("got %v, want one %s error with %q", err, c.field, c.msg)
			}
		})
	}
}

// TestPostgresAggregationResults: aggregation results (partition -1, no
// offset) are written whatever offsets their batch carries — the runtime
// holds a batch's offsets back while windows are open, so they often
// repeat the stored ones — and, having no offset to recognise them by,
// again when their batch is replayed: twice with plain inserts, once
// with a key of the window and group columns.
func TestPostgresAggregationResults(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	env := pgEnv
	env.Output = pgOutput(t, col("window_start", sql.Timestamp), col("src_ip", sql.Varchar), col("n", sql.BigInt))
	agg := func(recs ...string) *sink.Batch {
		b := &sink.Batch{ID: "j/agg", ContentType: "application/x-ndjson", Offsets: map[int32]int64{0: 5, 1: 3}}
		for _, r := range recs {
			b.Records = append(b.Records, sink.Record{Value: []byte(r), Partition: -1, Offset: -1})
		}
		return b
	}
	for _, key := range []any{nil, []any{"window_start", "src_ip"}} {
		t.Run(fmt.Sprintf("key %v", key), func(t *testing.T) {
			table := "agg_insert"
			settings := map[string]any{"dsn": dsn, "createTable": true}
			if key != nil {
				table = "agg_upsert"
				settings["key"] = key
			}
			settings["table"], settings["jobKey"] = table, table
			s, err := sink.Open(ctx, sink.Spec{Type: "postgres", Settings: settings}, env)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			// The offsets stored by a batch while the window was open...
			if err := s.Write(ctx, agg()); err != nil {
				t.Fatal(err)
			}
			// ...are those of the batch that emits it: its rows are written.
			w := agg(`{"window_start":"2026-11-26T15:00:00Z","src_ip":"10.0.0.1","n":3}`, `{"window_start":"2026-11-26T15:00:00Z","src_ip":"10.0.0.2","n":4}`)
			if err := s.Write(ctx, w); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, w); err != nil { // replayed
				t.Fatal(err)
			}
			want := "10.0.0.1:3,10.0.0.1:3,10.0.0.2:4,10.0.0.2:4"
			if key != nil {
				want = "10.0.0.1:3,10.0.0.2:4"
			}
			if got := strings.Join(pgStrings(t, c, `SELECT src_ip || ':' || n FROM `+table+` ORDER BY 1`), ","); got != want {
				t.Fatalf("rows %s, want %s", got, want)
			}
			if got := pgOffsets(t, c, table); !maps.Equal(got, map[int32]int64{0: 5, 1: 3}) {
				t.Fatalf("offsets %v", got)
			}
		})
	}
}

// TestPostgresCrash kills a job writing to PostgreSQL (columns layout,
// plain inserts, so a duplicate would show) at random points: every
// record is in the table exactly once.
func TestPostgresCrash(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	for _, target := range kafkatest.Targets(t) {
		t.Run(target.Name, func(t *testing.T) {
			table := "crash_" + target.Name
			jobtest.RunCrash(t, jobtest.Crash{Addr: target.Addr, ExactlyOnce: true, SinkEnv: pgEnv,
				Sink: sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": table, "createTable": true}},
				Delivered: func(ctx context.Context) ([]int64, error) {
					rows, err := c.Query(ctx, `SELECT id FROM `+table+` WHERE to_regclass('`+table+`') IS NOT NULL`)
					if err != nil {
						if strings.Contains(err.Error(), "does not exist") {
							return nil, nil
						}
						return nil, err
					}
					return pgx.CollectRows(rows, pgx.RowTo[int64])
				}})
			var ts time.Time
			if err := c.QueryRow(context.Background(), `SELECT ts FROM `+table+` WHERE id = 7`).Scan(&ts); err != nil || !ts.Equal(jobtest.BaseTime.Add(49*time.Second)) {
				t.Fatalf("ts of id 7: %v %v", ts, err)
			}
		})
	}
}

package sink_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net/url"
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

// pgJSONOutput is a JSON output of the given columns, which may be nested
// (pgOutput needs an encoder, which needs their Avro types).
func pgJSONOutput(cols ...sql.OutputColumn) sink.Output {
	return sink.Output{Format: "json", ContentType: "application/x-ndjson", Columns: cols}
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
// and across batches; a mapped column takes its value, columns the sink
// does not write keep theirs; replaying a batch changes nothing, even
// with its offsets gone.
func TestPostgresUpsert(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	if _, err := c.Exec(ctx, `CREATE TABLE users (login text PRIMARY KEY, seen bigint NOT NULL, last_ip text, note text DEFAULT 'kept')`); err != nil {
		t.Fatal(err)
	}
	env := pgEnv
	env.Output = pgOutput(t, col("user", sql.Varchar), col("n", sql.BigInt), col("ip", sql.Varchar))
	spec := sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": "users", "jobKey": "u",
		"columns": map[string]any{"user": "login", "n": "seen", "ip": "last_ip"}, "key": []any{"user"}}}
	s, err := sink.Open(ctx, spec, env)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	b1 := pgJSONBatch(0, `{"user":"ann","n":1,"ip":"10.0.0.1"}`, `{"user":"bob","n":2,"ip":null}`, `{"user":"ann","n":3,"ip":"10.0.0.3"}`)
	if err := s.Write(ctx, b1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `UPDATE users SET note = 'mine' WHERE login = 'bob'`); err != nil {
		t.Fatal(err)
	}
	b2 := pgJSONBatch(3, `{"user":"bob","n":4,"ip":"10.0.0.4"}`, `{"user":"cy","n":5,"ip":"10.0.0.5"}`)
	if err := s.Write(ctx, b2); err != nil {
		t.Fatal(err)
	}
	const want = "ann,3,10.0.0.3,kept;bob,4,10.0.0.4,mine;cy,5,10.0.0.5,kept"
	dump := func() string {
		return strings.Join(pgStrings(t, c, `SELECT concat_ws(',', login, seen, last_ip, note) FROM users ORDER BY login`), ";")
	}
	if got := dump(); got != want {
		t.Fatalf("rows %s\nwant %s", got, want)
	}
	// The same batches again: skipped by their offsets. Then with the
	// offsets gone (a replay the offsets do not cover): written again,
	// to the same effect.
	for _, forget := range []bool{false, true} {
		if forget {
			if _, err := c.Exec(ctx, `DELETE FROM sluice_sink_offsets WHERE job = 'u'`); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range []*sink.Batch{b1, b2} {
			if err := s.Write(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if got := dump(); got != want {
			t.Fatalf("after a replay (offsets forgotten %v): rows %s\nwant %s", forget, got, want)
		}
	}
	if got := pgOffsets(t, c, "u"); got[0] != 5 || len(got) != 1 {
		t.Fatalf("offsets %v", got)
	}
}

// TestPostgresUpsertKeys: a key of several columns; rows with a NULL in
// the key never conflict, in a table whose unique index allows NULLs, so
// each is kept; a table of nothing but key columns takes new keys only.
func TestPostgresUpsertKeys(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	if _, err := c.Exec(ctx, `CREATE TABLE hits (tenant text, ip text, n int, UNIQUE (tenant, ip)); CREATE TABLE seen (tenant text, ip text, PRIMARY KEY (ip, tenant))`); err != nil {
		t.Fatal(err)
	}
	env := pgEnv
	env.Output = pgOutput(t, col("tenant", sql.Varchar), col("ip", sql.Varchar), col("n", sql.Integer))
	s, err := sink.Open(ctx, sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": "hits", "key": []any{"tenant", "ip"}}}, env)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	recs := []string{
		`{"tenant":"a","ip":"1","n":1}`, `{"tenant":"a","ip":"2","n":2}`, `{"tenant":"b","ip":"1","n":3}`,
		`{"tenant":"a","ip":null,"n":4}`, `{"tenant":"a","ip":null,"n":5}`, `{"tenant":"a","ip":"1","n":6}`,
	}
	if err := s.Write(ctx, pgJSONBatch(0, recs...)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(pgStrings(t, c, `SELECT concat_ws(',', tenant, coalesce(ip, '-'), n) FROM hits ORDER BY 1`), ";")
	if want := "a,-,4;a,-,5;a,1,6;a,2,2;b,1,3"; got != want {
		t.Fatalf("rows %s, want %s", got, want)
	}

	env.Output = pgOutput(t, col("tenant", sql.Varchar), col("ip", sql.Varchar))
	s2, err := sink.Open(ctx, sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": "seen", "key": []any{"ip", "tenant"}}}, env)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close(ctx)
	for i, b := range [][]string{{`{"tenant":"a","ip":"1"}`, `{"tenant":"a","ip":"1"}`}, {`{"tenant":"a","ip":"1"}`, `{"tenant":"b","ip":"1"}`}} {
		if err := s2.Write(ctx, pgJSONBatch(int64(2*i), b...)); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(pgStrings(t, c, `SELECT tenant || ip FROM seen ORDER BY 1`), ";"); got != "a1;b1" {
		t.Fatalf("rows %s", got)
	}
}

// TestPostgresExistingTable: result columns mapped onto a table of the
// user's with other types, more columns (identity, defaults) and a
// trigger: values take PostgreSQL's assignment casts from the result
// column's type, rows keep their batch order, the trigger fires. The
// same through a view and a table with a rule, which COPY would bypass.
func TestPostgresExistingTable(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	if _, err := c.Exec(ctx, `
CREATE SCHEMA app;
CREATE TABLE app.events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamp,            -- TIMESTAMP into a timestamp without time zone
  src varchar(40) NOT NULL,
  port bigint,             -- INTEGER into bigint
  bytes numeric,           -- BIGINT into numeric
  ratio real,              -- DOUBLE into real
  attrs json,              -- RECORD into json
  inserted timestamptz NOT NULL DEFAULT now(),
  via text);
CREATE FUNCTION app.via() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.via := TG_OP; RETURN NEW; END $$;
CREATE TRIGGER via BEFORE INSERT ON app.events FOR EACH ROW EXECUTE FUNCTION app.via();
CREATE VIEW app.recent AS SELECT at, src, port, bytes, ratio, attrs FROM app.events;
CREATE TABLE app.audit (src text);
CREATE TABLE app.ruled (at timestamptz, src text, port int, bytes bigint, ratio double precision, attrs jsonb);
CREATE RULE audit AS ON INSERT TO app.ruled DO ALSO INSERT INTO app.audit VALUES (NEW.src);
SET TIME ZONE 'America/New_York';`); err != nil {
		t.Fatal(err)
	}
	// Sessions default to New York time: the sink's still write UTC
	// wall-clock times into the timestamp without time zone.
	if _, err := c.Exec(ctx, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), 'America/New_York'); END $$`); err != nil {
		t.Fatal(err)
	}
	env := pgEnv
	env.Output = pgJSONOutput(col("event_time", sql.Timestamp), col("src_ip", sql.Varchar), col("dst_port", sql.Integer),
		col("bytes_sent", sql.BigInt), col("ratio", sql.Double), col("attrs", sql.Record))
	mapping := map[string]any{"event_time": "at", "src_ip": "src", "dst_port": "port", "bytes_sent": "bytes"}
	recs := []string{
		`{"event_time":"2026-11-26T15:04:05.123456Z","src_ip":"10.0.0.1","dst_port":22,"bytes_sent":9223372036854775807,"ratio":0.5,"attrs":{"a":[1]}}`,
		`{"event_time":null,"src_ip":"10.0.0.2","dst_port":null,"bytes_sent":-1,"ratio":null,"attrs":null}`,
		`{"event_time":"1999-12-31T23:59:59Z","src_ip":"10.0.0.3","dst_port":443,"bytes_sent":0,"ratio":1e-3,"attrs":{}}`,
	}
	for _, table := range []string{"app.events", "app.recent", "app.ruled"} {
		s, err := sink.Open(ctx, sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": table, "columns": mapping, "jobKey": table}}, env)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if err := s.Write(ctx, pgJSONBatch(0, recs...)); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		_ = s.Close(ctx)
	}
	// Twice: from the table, then from the view.
	got := pgStrings(t, c, `SELECT concat_ws('|', id, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'), src, port, bytes, ratio, attrs, inserted > now() - interval '1 hour', via) FROM app.events ORDER BY id`)
	want := []string{
		"1|2026-11-26 15:04:05.123456|10.0.0.1|22|9223372036854775807|0.5|{\"a\": [1]}|t|INSERT",
		"2|10.0.0.2|-1|t|INSERT",
		"3|1999-12-31 23:59:59.000000|10.0.0.3|443|0|0.001|{}|t|INSERT",
	}
	want = append(want, strings.Replace(want[0], "1|", "4|", 1), strings.Replace(want[1], "2|", "5|", 1), strings.Replace(want[2], "3|", "6|", 1))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("app.events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A time zone in the DSN is the sink's to choose.
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("TimeZone", "Asia/Tokyo")
	u.RawQuery = q.Encode()
	if _, err := c.Exec(ctx, `CREATE TABLE app.local (at timestamp)`); err != nil {
		t.Fatal(err)
	}
	env.Output = pgJSONOutput(col("at", sql.Timestamp))
	s, err := sink.Open(ctx, sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": u.String(), "table": "app.local"}}, env)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if err := s.Write(ctx, pgJSONBatch(0, `{"at":"2026-11-26T15:04:05Z"}`)); err != nil {
		t.Fatal(err)
	}
	if got := pgStrings(t, c, `SELECT at::text FROM app.local`); len(got) != 1 || got[0] != "2026-11-27 00:04:05" {
		t.Fatalf("with TimeZone=Asia/Tokyo in the DSN: %v", got)
	}
	if got := strings.Join(pgStrings(t, c, `SELECT src FROM app.audit ORDER BY src`), ","); got != "10.0.0.1,10.0.0.2,10.0.0.3" {
		t.Fatalf("the rule of app.ruled did not fire for each row: audit %s", got)
	}
	if got := strings.Join(pgStrings(t, c, `SELECT concat_ws('|', at, src, port, bytes, ratio, attrs) FROM app.ruled ORDER BY src`), "\n"); got !=
		"2026-11-26 10:04:05.123456-05|10.0.0.1|22|9223372036854775807|0.5|{\"a\": [1]}\n10.0.0.2|-1\n1999-12-31 18:59:59-05|10.0.0.3|443|0|0.001|{}" {
		t.Fatalf("app.ruled:\n%s", got)
	}
}

// TestPostgresColumnCase: a result column that is not mapped goes to the
// table column of its name or, if there is none, to the one whose name
// differs only in case (srcIP to srcip, as PostgreSQL folds unquoted
// names), keys included; with two such columns, none is guessed.
func TestPostgresColumnCase(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	if _, err := c.Exec(ctx, `CREATE TABLE hosts (srcip text PRIMARY KEY, "Hits" int, hits int); CREATE TABLE two (srcip text, "SRCIP" text)`); err != nil {
		t.Fatal(err)
	}
	env := pgEnv
	env.Output = pgOutput(t, col("srcIP", sql.Varchar), col("hits", sql.Integer))
	s, err := sink.Open(ctx, sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": "hosts", "key": "srcIP"}}, env)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if err := s.Write(ctx, pgJSONBatch(0, `{"srcIP":"10.0.0.1","hits":1}`, `{"srcIP":"10.0.0.1","hits":2}`)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pgStrings(t, c, `SELECT concat_ws(',', srcip, "Hits", hits) FROM hosts`), ";"); got != "10.0.0.1,2" {
		t.Fatalf("rows %s", got)
	}
	err = openEnvErr(sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": "two"}}, env)
	if ces := sink.ConfigErrors(err); len(ces) != 1 || ces[0].Field != "columns" || !strings.Contains(ces[0].Message, `column "srcIP" of relation "two" does not exist`) {
		t.Fatalf("two candidate columns: %v", err)
	}
}

// TestPostgresColumnsRefused: what cannot work is a config error naming
// the setting, at Validate (against the result columns) or at Open and
// Probe (against the table).
func TestPostgresColumnsRefused(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	role := "sluice_ro_" + strings.ToLower(rand.Text()[:8])
	if _, err := c.Exec(ctx, `CREATE TABLE t1 (user_name text, n bigint); CREATE TABLE t2 (user_name int, n bigint);
CREATE TABLE t3 ("user" text, n bigint, must text NOT NULL, fine text NOT NULL DEFAULT '', id int GENERATED BY DEFAULT AS IDENTITY);
CREATE TABLE t4 ("user" text, n bigint GENERATED ALWAYS AS (1) STORED);
CREATE TABLE t5 ("user" text, n bigint);
CREATE ROLE `+role+` LOGIN; GRANT SELECT ON t5 TO `+role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Roles belong to the cluster, not to the test's database.
		_, _ = c.Exec(context.Background(), `DROP OWNED BY `+role+`; DROP ROLE `+role)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	roDSN := u.String()
	out := pgOutput(t, col("user", sql.Varchar), col("n", sql.BigInt))
	env := pgEnv
	env.Output = out
	cols := []sql.OutputColumn{col("user", sql.Varchar)}
	csvEnv, avroEnv, dupEnv := pgEnv, pgEnv, pgEnv
	dupEnv.Output = pgJSONOutput(col("n", sql.BigInt), col("n", sql.Varchar))
	enc, _ := format.New("CSV", cols)
	csvEnv.Output = job.SinkOutput("CSV", cols, enc)
	enc, _ = format.New("AVRO", cols)
	avroEnv.Output = job.SinkOutput("AVRO", cols, enc)
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
		{"columns not an object", map[string]any{"columns": "user_name"}, env, false, "columns", "must be an object"},
		{"two to one column", map[string]any{"columns": map[string]any{"user": "n"}}, env, false, "columns", "both go to table column n"},
		{"two of one name", map[string]any{}, dupEnv, false, "columns", "the query returns two columns named n: name one otherwise (AS)"},
		{"unknown key", map[string]any{"key": []any{"id"}}, env, false, "key", `"id" is not a result column`},
		{"key twice", map[string]any{"key": []any{"n", "N"}}, env, false, "key", "named twice"},
		{"key not a list", map[string]any{"key": 5}, env, false, "key", "must be a list of column names"},
		{"empty key", map[string]any{"key": []any{"n", ""}}, env, false, "key", "must be a list of column names"},
		{"jsonb with key", map[string]any{"layout": "jsonb", "key": "n"}, env, false, "key", "only the columns layout"},
		{"layout", map[string]any{"layout": "rows"}, env, false, "layout", "want columns"},
		{"columns without result columns", map[string]any{"layout": "columns"}, pgEnv, false, "layout", "needs the query's result columns"},
		{"CSV", map[string]any{}, csvEnv, false, "type", "takes the JSON format"},
		{"Avro", map[string]any{}, avroEnv, false, "type", "takes the JSON format"},
		{"missing table", map[string]any{"table": "nope", "createTable": false}, env, true, "table", "does not exist (set createTable"},
		{"missing column", map[string]any{"table": "t1"}, env, true, "columns", `column "user" of relation "t1" does not exist`},
		{"wrong type", map[string]any{"table": "t2", "columns": map[string]any{"user": "user_name"}}, env, true, "columns", "is of type integer"},
		{"no unique index", map[string]any{"table": "t1", "columns": map[string]any{"user": "user_name"}, "key": "user"}, env, true, "key", "no unique index"},
		{"NOT NULL unfilled", map[string]any{"table": "t3"}, env, true, "columns", "column must is NOT NULL without a default"},
		{"generated column", map[string]any{"table": "t4"}, env, true, "columns", `cannot insert a non-DEFAULT value into column "n"`},
		{"no privilege", map[string]any{"table": "t5", "dsn": roDSN}, env, true, "table", "permission denied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			settings := map[string]any{"dsn": dsn, "table": "t_new", "createTable": true}
			maps.Copy(settings, c.settings)
			spec := sink.Spec{Type: "postgres", Settings: settings}
			errs := []error{sink.Validate(spec, c.env)}
			if c.open {
				errs = append(errs[:0], openEnvErr(spec, c.env), sink.Probe(ctx, spec, c.env))
			}
			for _, err := range errs {
				ces := sink.ConfigErrors(err)
				if len(ces) != 1 || ces[0].Field != c.field || !strings.Contains(ces[0].Message, c.msg) {
					t.Fatalf("got %v, want one %s error with %q", err, c.field, c.msg)
				}
			}
		})
	}
	// Probe created nothing.
	if got := pgStrings(t, c, `SELECT relname::text FROM pg_class WHERE relname IN ('t_new', 'nope', 'sluice_sink_offsets')`); len(got) != 0 {
		t.Fatalf("tables after probing: %v", got)
	}
}

// TestPostgresColumnsAtomic: a batch's rows and offsets commit together.
// A row PostgreSQL refuses (a CHECK of the table) fails the batch
// permanently, with neither its rows nor its offsets stored, and says
// which row; offsets PostgreSQL refuses leave no rows behind.
func TestPostgresColumnsAtomic(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	if _, err := c.Exec(ctx, `CREATE TABLE small (id bigint, n int CHECK (n < 100))`); err != nil {
		t.Fatal(err)
	}
	env := pgEnv
	env.Output = pgOutput(t, col("id", sql.BigInt), col("n", sql.Integer))
	for _, key := range []any{nil, "id"} {
		t.Run(fmt.Sprintf("key %v", key), func(t *testing.T) {
			if _, err := c.Exec(ctx, `TRUNCATE small; DROP TABLE IF EXISTS sluice_sink_offsets`); err != nil {
				t.Fatal(err)
			}
			if key != nil {
				if _, err := c.Exec(ctx, `CREATE UNIQUE INDEX IF NOT EXISTS small_id ON small (id)`); err != nil {
					t.Fatal(err)
				}
			}
			settings := map[string]any{"dsn": dsn, "table": "small", "jobKey": "j"}
			if key != nil {
				settings["key"] = key
			}
			s, err := sink.Open(ctx, sink.Spec{Type: "postgres", Settings: settings}, env)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			if err := s.Write(ctx, pgJSONBatch(0, `{"id":0,"n":1}`, `{"id":1,"n":2}`)); err != nil {
				t.Fatal(err)
			}
			err = s.Write(ctx, pgJSONBatch(2, `{"id":2,"n":3}`, `{"id":3,"n":100}`))
			if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "small_n_check") {
				t.Fatalf("a row the table refuses: %v, want a permanent error naming the check", err)
			}
			if key == nil && !strings.Contains(err.Error(), "line 2") {
				t.Fatalf("the error does not say which row: %v", err)
			}
			if got := strings.Join(pgStrings(t, c, `SELECT id::text FROM small ORDER BY id`), ","); got != "0,1" {
				t.Fatalf("rows after a refused batch: %s", got)
			}
			if got := pgOffsets(t, c, "j"); !maps.Equal(got, map[int32]int64{0: 2}) {
				t.Fatalf("offsets after a refused batch: %v", got)
			}
			// A record that is not the JSON it should be: refused by the
			// sink in the middle of the COPY, which PostgreSQL aborts.
			err = s.Write(ctx, pgJSONBatch(2, `{"id":2,"n":3}`, `{"id":3,"n":tru}`))
			if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "record 1 of batch j/0/2+2: want a value") {
				t.Fatalf("a malformed record: %v, want a permanent error naming it", err)
			}
			if got := strings.Join(pgStrings(t, c, `SELECT id::text FROM small ORDER BY id`), ","); got != "0,1" {
				t.Fatalf("rows after a malformed batch: %s", got)
			}
			if _, err := c.Exec(ctx, `
CREATE OR REPLACE FUNCTION fail_offsets() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'offsets refused'; END $$;
CREATE TRIGGER fail_offsets BEFORE INSERT OR UPDATE ON sluice_sink_offsets FOR EACH ROW EXECUTE FUNCTION fail_offsets();`); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, pgJSONBatch(2, `{"id":2,"n":3}`)); err == nil || !strings.Contains(err.Error(), "offsets refused") {
				t.Fatalf("Write with offsets refused: %v", err)
			}
			if got := strings.Join(pgStrings(t, c, `SELECT id::text FROM small ORDER BY id`), ","); got != "0,1" {
				t.Fatalf("rows after the offsets were refused: %s", got)
			}
			if _, err := c.Exec(ctx, `DROP TRIGGER fail_offsets ON sluice_sink_offsets`); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, pgJSONBatch(2, `{"id":2,"n":3}`)); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(pgStrings(t, c, `SELECT id::text FROM small ORDER BY id`), ","); got != "0,1,2" {
				t.Fatalf("rows after the retry: %s", got)
			}
		})
	}
}

// TestPostgresKilled: the sink's connection is terminated
// (pg_terminate_backend) in the middle of a batch, while PostgreSQL
// writes its rows: the write fails with an error the runtime retries,
// nothing of the batch is stored, rows nor offsets, and the retry writes
// it exactly once on a new connection.
func TestPostgresKilled(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	// Row 3 waits for an advisory lock the test holds.
	if _, err := c.Exec(ctx, `
CREATE FUNCTION wait_on_3() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.id = 3 THEN PERFORM pg_advisory_xact_lock_shared(4242); END IF; RETURN NEW; END $$;
CREATE TABLE ins (id bigint, v text); CREATE TABLE ups (id bigint PRIMARY KEY, v text);
CREATE TRIGGER w BEFORE INSERT ON ins FOR EACH ROW EXECUTE FUNCTION wait_on_3();
CREATE TRIGGER w BEFORE INSERT ON ups FOR EACH ROW EXECUTE FUNCTION wait_on_3();`); err != nil {
		t.Fatal(err)
	}
	env := pgEnv
	env.Output = pgOutput(t, col("id", sql.BigInt), col("v", sql.Varchar))
	for _, table := range []string{"ins", "ups"} {
		t.Run(table, func(t *testing.T) {
			u, _ := url.Parse(dsn)
			q := u.Query()
			q.Set("application_name", "sluice_killed_"+table)
			u.RawQuery = q.Encode()
			settings := map[string]any{"dsn": u.String(), "table": table}
			if table == "ups" {
				settings["key"] = "id"
			}
			s, err := sink.Open(ctx, sink.Spec{Type: "postgres", Settings: settings}, env)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			var recs []string
			for i := range 6 {
				recs = append(recs, fmt.Sprintf(`{"id":%d,"v":"row %d"}`, i, i))
			}
			if _, err := c.Exec(ctx, `SELECT pg_advisory_lock(4242)`); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- s.Write(ctx, pgJSONBatch(0, recs...)) }()
			var pid int
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := c.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, "sluice_killed_"+table).Scan(&pid)
				if err == nil {
					break
				}
				if !errors.Is(err, pgx.ErrNoRows) || time.Now().After(deadline) {
					t.Fatalf("waiting for the sink to block on row 3: %v", err)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if _, err := c.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
				t.Fatal(err)
			}
			err = <-done
			if _, uerr := c.Exec(ctx, `SELECT pg_advisory_unlock(4242)`); uerr != nil {
				t.Fatal(uerr)
			}
			if err == nil || sink.IsPermanent(err) {
				t.Fatalf("Write on a terminated connection: %v, want an error to retry", err)
			}
			if n := pgStrings(t, c, `SELECT id::text FROM `+table); len(n) != 0 {
				t.Fatalf("rows of the failed batch: %v", n)
			}
			if got := pgOffsets(t, c, table); len(got) != 0 {
				t.Fatalf("offsets of the failed batch: %v", got)
			}
			// The runtime retries the batch, then goes on.
			if err := s.Write(ctx, pgJSONBatch(0, recs...)); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if err := s.Write(ctx, pgJSONBatch(6, `{"id":6,"v":"row 6"}`)); err != nil {
				t.Fatalf("next batch: %v", err)
			}
			if got := strings.Join(pgStrings(t, c, `SELECT id || ':' || v FROM `+table+` ORDER BY id`), ","); got != "0:row 0,1:row 1,2:row 2,3:row 3,4:row 4,5:row 5,6:row 6" {
				t.Fatalf("rows after the retry: %s", got)
			}
			if got := pgOffsets(t, c, table); !maps.Equal(got, map[int32]int64{0: 7}) {
				t.Fatalf("offsets after the retry: %v", got)
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
	// The runtime's batches of aggregation results carry metadata that
	// moves with every batch (the emission frontier).
	agg := func(frontier string, recs ...string) *sink.Batch {
		b := &sink.Batch{ID: "j/agg", ContentType: "application/x-ndjson", Offsets: map[int32]int64{0: 5, 1: 3},
			Meta: map[int32]string{0: frontier, 1: frontier}}
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
			if err := s.Write(ctx, agg("f1")); err != nil {
				t.Fatal(err)
			}
			// ...are those of the batch that emits it: its rows are written.
			w := agg("f2", `{"window_start":"2026-11-26T15:00:00Z","src_ip":"10.0.0.1","n":3}`, `{"window_start":"2026-11-26T15:00:00Z","src_ip":"10.0.0.2","n":4}`)
			if err := s.Write(ctx, w); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, w); err != nil { // retried: its metadata is stored, its rows are in
				t.Fatal(err)
			}
			want := "10.0.0.1:3,10.0.0.2:4"
			if got := strings.Join(pgStrings(t, c, `SELECT src_ip || ':' || n FROM `+table+` ORDER BY 1`), ","); got != want {
				t.Fatalf("rows %s, want %s", got, want)
			}
			if got := pgOffsets(t, c, table); !maps.Equal(got, map[int32]int64{0: 5, 1: 3}) {
				t.Fatalf("offsets %v", got)
			}
		})
	}
}

// TestPostgresCrash kills a job writing to PostgreSQL at random points:
// every record is written exactly once. Plain inserts (COPY into the
// table) would show a duplicate as a second row; upserts (through the
// staging table) would hide one, so a trigger logs every row the sink
// inserts or updates, and the log must hold each id once. An aggregation
// must write each window once, from all its records.
func TestPostgresCrash(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	for _, target := range kafkatest.Targets(t) {
		for _, mode := range []string{"insert", "upsert", "aggregate"} {
			t.Run(target.Name+"/"+mode, func(t *testing.T) {
				ctx := context.Background()
				table := "crash_" + target.Name + "_" + mode
				settings := map[string]any{"dsn": dsn, "table": table, "createTable": true}
				read := `SELECT id FROM ` + table + ` WHERE to_regclass('` + table + `') IS NOT NULL`
				if mode == "upsert" {
					settings["key"] = "id"
					read = `SELECT id FROM ` + table + `_log`
					if _, err := c.Exec(ctx, `CREATE TABLE `+table+` (id bigint PRIMARY KEY, name text, ts timestamptz);
CREATE TABLE `+table+`_log (id bigint);
CREATE FUNCTION `+table+`_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO `+table+`_log VALUES (NEW.id); RETURN NEW; END $$;
CREATE TRIGGER log AFTER INSERT OR UPDATE ON `+table+` FOR EACH ROW EXECUTE FUNCTION `+table+`_log();`); err != nil {
						t.Fatal(err)
					}
				}
				crash := jobtest.Crash{Addr: target.Addr, ExactlyOnce: true, SinkEnv: pgEnv}
				if mode == "aggregate" {
					crash.SQL, crash.Want = jobtest.AggregateSQL, jobtest.AggregateWant(3000, 3)
				}
				crash.Sink = sink.Spec{Type: "postgres", Settings: settings}
				crash.Delivered = func(ctx context.Context) ([]int64, error) {
					rows, err := c.Query(ctx, read)
					if err != nil {
						if strings.Contains(err.Error(), "does not exist") {
							return nil, nil
						}
						return nil, err
					}
					return pgx.CollectRows(rows, pgx.RowTo[int64])
				}
				jobtest.RunCrash(t, crash)
				if mode == "aggregate" {
					return
				}
				var ts time.Time
				if err := c.QueryRow(ctx, `SELECT ts FROM `+table+` WHERE id = 7`).Scan(&ts); err != nil || !ts.Equal(jobtest.BaseTime.Add(49*time.Second)) {
					t.Fatalf("ts of id 7: %v %v", ts, err)
				}
			})
		}
	}
}

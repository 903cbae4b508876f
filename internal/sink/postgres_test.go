package sink_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sink/sinktest"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// pgEnv lets the sink reach the test server on 127.0.0.1.
var pgEnv = sink.Env{AllowPrivate: true}

func pgSpec(dsn string, extra map[string]any) sink.Spec {
	s := map[string]any{"dsn": dsn, "table": "events", "createTable": true, "layout": "jsonb"}
	maps.Copy(s, extra)
	return sink.Spec{Type: "postgres", Settings: s}
}

func pgOpen(t *testing.T, spec sink.Spec) sink.Sink {
	t.Helper()
	s, err := sink.Open(context.Background(), spec, pgEnv)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func pgConn(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// pgRow is one row of the sink's table.
type pgRow struct {
	Part *int32
	Off  *int64
	Row  string
}

func pgRows(t *testing.T, c *pgx.Conn, table string) []pgRow {
	t.Helper()
	rows, err := c.Query(context.Background(), `SELECT source_partition, source_offset, "row"::text FROM `+table+` ORDER BY source_partition, source_offset`)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pgRow])
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return out
}

func pgOffsets(t *testing.T, c *pgx.Conn, job string) map[int32]int64 {
	t.Helper()
	rows, err := c.Query(context.Background(), `SELECT partition, next_offset FROM sluice_sink_offsets WHERE job = $1`, job)
	if err != nil {
		t.Fatalf("read offsets: %v", err)
	}
	out := map[int32]int64{}
	var p int32
	var o int64
	if _, err := pgx.ForEachRow(rows, []any{&p, &o}, func() error { out[p] = o; return nil }); err != nil {
		t.Fatalf("read offsets: %v", err)
	}
	return out
}

// pgBatch builds a batch of n records of partition part from offset from.
func pgBatch(job string, part int32, from int64, n int) *sink.Batch {
	b := &sink.Batch{
		ID:          fmt.Sprintf("%s/%d/%d+%d", job, part, from, n),
		ContentType: "application/x-ndjson",
		Offsets:     map[int32]int64{part: from + int64(n)},
	}
	for i := range n {
		off := from + int64(i)
		b.Records = append(b.Records, sink.Record{
			Value:     fmt.Appendf(nil, "{\"p\":%d,\"o\":%d}\n", part, off),
			Partition: part, Offset: off,
		})
	}
	return b
}

func TestPostgresContract(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	sinktest.Run(t, func() sink.Sink {
		return pgOpen(t, pgSpec(dsn, nil))
	}, func() [][]byte {
		// jsonb normalises the text: re-encode in the records' own key
		// order to compare.
		var out [][]byte
		for _, r := range pgRows(t, c, "events") {
			var v struct {
				ID    int    `json:"id"`
				Batch int    `json:"batch"`
				Pad   string `json:"pad"`
			}
			if err := json.Unmarshal([]byte(r.Row), &v); err != nil {
				t.Fatalf("row %s: %v", r.Row, err)
			}
			b, _ := json.Marshal(v)
			out = append(out, append(b, '\n'))
		}
		return out
	})
}

func TestPostgresStoredOffsets(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	s := pgOpen(t, pgSpec(dsn, nil))
	os := s.(sink.OffsetStore)
	if got, _, err := os.StoredOffsets(ctx); err != nil || len(got) != 0 {
		t.Fatalf("StoredOffsets of a new sink: %v, %v; want none", got, err)
	}
	last := pgBatch("j", 0, 3, 4)
	last.Meta = map[int32]string{0: "frontier"} // stored with the offset, and only where given
	for _, b := range []*sink.Batch{pgBatch("j", 0, 0, 3), pgBatch("j", 1, 10, 2), last} {
		if err := s.Write(ctx, b); err != nil {
			t.Fatalf("Write %s: %v", b.ID, err)
		}
	}
	want, wantMeta := map[int32]int64{0: 7, 1: 12}, map[int32]string{0: "frontier"}
	if got, meta, err := os.StoredOffsets(ctx); err != nil || !maps.Equal(got, want) || !maps.Equal(meta, wantMeta) {
		t.Fatalf("StoredOffsets: %v %v, %v; want %v %v", got, meta, err, want, wantMeta)
	}
	// A sink opened later (the job restarted) resumes from them.
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := pgOpen(t, pgSpec(dsn, nil))
	if got, _, err := s2.(sink.OffsetStore).StoredOffsets(ctx); err != nil || !maps.Equal(got, want) {
		t.Fatalf("StoredOffsets after reopening: %v, %v; want %v", got, err, want)
	}
	// The job's offsets belong to its source: on another (its topic
	// moved), it starts afresh; back on the first, it finds them.
	onSource := func(source string) sink.OffsetStore {
		env := pgEnv
		env.Job, env.Source = "j", source
		s, err := sink.Open(ctx, pgSpec(dsn, nil), env)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(ctx) })
		return s.(sink.OffsetStore)
	}
	if err := onSource("a/topic").(sink.Sink).Write(ctx, pgBatch("j", 0, 0, 3)); err != nil {
		t.Fatal(err)
	}
	if got, _, err := onSource("b/topic").StoredOffsets(ctx); err != nil || len(got) != 0 {
		t.Fatalf("StoredOffsets on another source: %v, %v; want none", got, err)
	}
	if got, _, err := onSource("a/topic").StoredOffsets(ctx); err != nil || got[0] != 3 {
		t.Fatalf("StoredOffsets on the first source: %v, %v; want partition 0 at 3", got, err)
	}
	// Another job key on the same table has offsets of its own.
	s3 := pgOpen(t, pgSpec(dsn, map[string]any{"jobKey": "other"}))
	if got, _, err := s3.(sink.OffsetStore).StoredOffsets(ctx); err != nil || len(got) != 0 {
		t.Fatalf("StoredOffsets of another job key: %v, %v; want none", got, err)
	}
	if n := len(pgRows(t, pgConn(t, dsn), "events")); n != 12 {
		t.Fatalf("%d rows, want 12", n)
	}
}

func TestPostgresRetriedBatch(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	s := pgOpen(t, pgSpec(dsn, nil))
	b := pgBatch("j", 0, 0, 5)
	for range 3 { // the same batch again: committed, acknowledgement lost
		if err := s.Write(ctx, b); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if n := len(pgRows(t, c, "events")); n != 5 {
		t.Fatalf("%d rows after writing one batch 3 times, want 5", n)
	}
	// A batch that overlaps what was committed adds only the new records.
	if err := s.Write(ctx, pgBatch("j", 0, 0, 8)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	rows := pgRows(t, c, "events")
	if len(rows) != 8 {
		t.Fatalf("%d rows, want 8", len(rows))
	}
	for i, r := range rows {
		if r.Part == nil || *r.Part != 0 || r.Off == nil || *r.Off != int64(i) {
			t.Fatalf("row %d: %+v", i, r)
		}
		if want := fmt.Sprintf(`{"o": %d, "p": 0}`, i); r.Row != want {
			t.Fatalf("row %d is %s, want %s", i, r.Row, want)
		}
	}
	if got := pgOffsets(t, c, "events"); !maps.Equal(got, map[int32]int64{0: 8}) {
		t.Fatalf("offsets %v", got)
	}
}

func TestPostgresFailedBatchCommitsNothing(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	s := pgOpen(t, pgSpec(dsn, nil))
	if err := s.Write(ctx, pgBatch("j", 0, 0, 2)); err != nil {
		t.Fatal(err)
	}
	// Storing the offsets fails after the rows were copied: the rows must
	// roll back with them.
	if _, err := c.Exec(ctx, `
CREATE FUNCTION fail_offsets() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'offsets refused'; END $$;
CREATE TRIGGER fail_offsets BEFORE INSERT OR UPDATE ON sluice_sink_offsets FOR EACH ROW EXECUTE FUNCTION fail_offsets();`); err != nil {
		t.Fatal(err)
	}
	b := pgBatch("j", 0, 2, 3)
	if err := s.Write(ctx, b); err == nil || !strings.Contains(err.Error(), "offsets refused") {
		t.Fatalf("Write with offsets refused: %v", err)
	}
	if n := len(pgRows(t, c, "events")); n != 2 {
		t.Fatalf("%d rows after a failed batch, want 2", n)
	}
	if got := pgOffsets(t, c, "events"); !maps.Equal(got, map[int32]int64{0: 2}) {
		t.Fatalf("offsets after a failed batch: %v", got)
	}
	if _, err := c.Exec(ctx, `DROP TRIGGER fail_offsets ON sluice_sink_offsets`); err != nil {
		t.Fatal(err)
	}

	// A cancelled context: nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Write(cctx, b); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a cancelled context: %v", err)
	}
	if n := len(pgRows(t, c, "events")); n != 2 {
		t.Fatalf("%d rows after a cancelled batch, want 2", n)
	}

	// The retry succeeds, once.
	if err := s.Write(ctx, b); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := len(pgRows(t, c, "events")); n != 5 {
		t.Fatalf("%d rows after the retry, want 5", n)
	}

	// The table dropped: the write fails (permanently) and stores no offsets.
	if _, err := c.Exec(ctx, `DROP TABLE events`); err != nil {
		t.Fatal(err)
	}
	err := s.Write(ctx, pgBatch("j", 0, 5, 1))
	if err == nil || !sink.IsPermanent(err) {
		t.Fatalf("Write to a dropped table: %v, want a permanent error", err)
	}
	if got := pgOffsets(t, c, "events"); !maps.Equal(got, map[int32]int64{0: 5}) {
		t.Fatalf("offsets after a write to a dropped table: %v", got)
	}
}

func TestPostgresRefusesOtherFormats(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	s := pgOpen(t, pgSpec(dsn, nil))
	b := pgBatch("j", 0, 0, 1)
	b.ContentType = "text/csv; charset=utf-8; header=present"
	err := s.Write(context.Background(), b)
	if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "text/csv") {
		t.Fatalf("Write of CSV: %v, want a permanent error naming the format", err)
	}
	b = pgBatch("j", 0, 0, 1)
	b.Records[0].Value = []byte("[1,2]\n")
	if err := s.Write(context.Background(), b); !sink.IsPermanent(err) {
		t.Fatalf("Write of a JSON array: %v, want a permanent error", err)
	}
}

func TestPostgresSettings(t *testing.T) {
	fields := func(err error) []string {
		var out []string
		for _, ce := range sink.ConfigErrors(err) {
			out = append(out, ce.Field)
		}
		return out
	}
	cases := []struct {
		settings map[string]any
		want     []string
	}{
		{nil, []string{"dsn", "table"}},
		{map[string]any{"dsn": "postgres://h/db", "table": "a.b.c"}, []string{"table"}},
		{map[string]any{"dsn": "postgres://h/db", "table": "1x"}, []string{"table"}},
		{map[string]any{"dsn": "postgres://h/db", "table": "x; DROP TABLE y"}, []string{"table"}},
		{map[string]any{"dsn": "postgres://h/db", "table": strings.Repeat("x", 64)}, []string{"table"}},
		{map[string]any{"dsn": "postgres://h/db", "table": "t", "createTable": "yes"}, []string{"createTable"}},
		{map[string]any{"dsn": "postgres://h/db", "table": "t", "jobKey": ""}, []string{"jobKey"}},
		{map[string]any{"dsn": "postgres://h/db", "table": "t", "tabel": "t"}, []string{"tabel"}},
		{map[string]any{"dsn": 5, "table": "t"}, []string{"dsn"}},
		{map[string]any{"dsn": "postgres://h/db", "table": "analytics.Events_2", "jobKey": "acme-deny", "createTable": false}, nil},
	}
	for _, c := range cases {
		err := sink.Validate(sink.Spec{Type: "postgres", Settings: c.settings}, sink.Env{})
		if got := fields(err); !slices.Equal(got, c.want) {
			t.Errorf("%v: %v (fields %v), want fields %v", c.settings, err, got, c.want)
		}
	}
	if got := sink.SecretSettings("postgres"); !slices.Equal(got, []string{"dsn"}) {
		t.Errorf("secret settings %v", got)
	}
}

func TestPostgresSecretDSN(t *testing.T) {
	const pw = "s3cretPassw0rd"
	ctx := context.Background()
	for _, dsn := range []string{
		"postgres://sluice:" + pw + "@127.0.0.1:notaport/db",
		"host=127.0.0.1 port=99999999 password=" + pw,
		"postgres://sluice:" + pw + "@127.0.0.1:1/db?connect_timeout=2", // nothing listens
		"postgres://sluice:" + pw + "@10.1.2.3:5432/db",                 // private: refused without AllowPrivate
	} {
		spec := sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": "t", "createTable": true}}
		errs := []error{sink.Validate(spec, sink.Env{}), sink.Probe(ctx, spec, sink.Env{})}
		if s, err := sink.Open(ctx, spec, sink.Env{}); err == nil {
			_ = s.Close(ctx)
			t.Fatalf("Open %q succeeded", dsn)
		} else {
			errs = append(errs, err)
		}
		for _, err := range errs {
			if err != nil && (strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), dsn)) {
				t.Errorf("error quotes the secret dsn: %v", err)
			}
		}
		if errs[2] == nil {
			t.Errorf("Open %q: no error", dsn)
		}
	}
	// Refused destinations are permanent: a retry cannot reach them.
	for _, dsn := range []string{"postgres://u:" + pw + "@10.1.2.3:5432/db", "host=/tmp port=5432 password=" + pw} {
		spec := sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": "t"}}
		_, err := sink.Open(ctx, spec, sink.Env{})
		if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "may not reach") || strings.Contains(err.Error(), pw) {
			t.Errorf("Open %q: %v, want a permanent refusal without the password", dsn, err)
		}
	}
}

func TestPostgresTable(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	c := pgConn(t, dsn)
	exists := func(name string) bool {
		var reg *string
		if err := c.QueryRow(ctx, "SELECT to_regclass($1)::text", name).Scan(&reg); err != nil {
			t.Fatal(err)
		}
		return reg != nil
	}
	// Probe changes nothing.
	if err := sink.Probe(ctx, pgSpec(dsn, nil), pgEnv); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if exists("events") || exists("sluice_sink_offsets") {
		t.Fatal("Probe created a table")
	}
	// A missing table without createTable: a config error on table.
	for _, err := range []error{
		sink.Probe(ctx, pgSpec(dsn, map[string]any{"createTable": false}), pgEnv),
		func() error {
			_, err := sink.Open(ctx, pgSpec(dsn, map[string]any{"createTable": false}), pgEnv)
			return err
		}(),
	} {
		if ces := sink.ConfigErrors(err); len(ces) != 1 || ces[0].Field != "table" {
			t.Fatalf("missing table: %v", err)
		}
	}
	// A table without the sink's columns, or with the wrong types.
	if _, err := c.Exec(ctx, `CREATE SCHEMA a; CREATE TABLE a.wrong (x int); CREATE TABLE a.types (source_partition int, source_offset int, "row" text);
CREATE TABLE a.ok (id bigserial, source_partition smallint, source_offset bigint, "row" json, at timestamptz DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"a.wrong", "a.types"} {
		_, err := sink.Open(ctx, pgSpec(dsn, map[string]any{"table": table}), pgEnv)
		if ces := sink.ConfigErrors(err); len(ces) != 1 || ces[0].Field != "table" {
			t.Fatalf("table %s: %v", table, err)
		}
	}
	// A table of the user's with more columns, in another schema.
	s := pgOpen(t, pgSpec(dsn, map[string]any{"table": "a.ok", "createTable": false}))
	b := pgBatch("j", 2, 0, 2)
	b.Records = append(b.Records, sink.Record{Value: []byte(`{"agg":1}`), Partition: -1, Offset: -1})
	if err := s.Write(ctx, b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	rows := pgRows(t, c, "a.ok")
	if len(rows) != 3 || rows[2].Part != nil || rows[2].Off != nil {
		t.Fatalf("rows %+v", rows)
	}
	if !exists("sluice_sink_offsets") {
		t.Fatal("Open did not create sluice_sink_offsets")
	}
}

package sqldiff

// The differential test: generated records and queries, run through Sluice
// (sql.Analyze and the engine) and through PostgreSQL on the same records,
// results compared as multisets.
//
// Every query has a Sluice form and a PostgreSQL form, the same text but for
// these dialect differences, which are by design and rewritten rather than
// reported:
//
//	| Sluice                            | PostgreSQL form                                        | why                                                          |
//	|-----------------------------------|--------------------------------------------------------|--------------------------------------------------------------|
//	| 2.5 (a DOUBLE literal)            | 2.5::float8                                            | Sluice has no numeric type: decimal literals are DOUBLE       |
//	| CAST(x AS DOUBLE)                 | CAST(x AS DOUBLE PRECISION)                            | DOUBLE alone is not a PostgreSQL type                        |
//	| ROUND(d, n), TRUNC(d, n)          | round(d::numeric, n)::float8 (trunc alike)             | PostgreSQL has these for numeric only                        |
//	| SHA256(s), ENCODE(s, f)           | encode(sha256(convert_to(s, 'UTF8')), 'hex'), ...      | PostgreSQL's take bytea                                      |
//	| UNIX_MILLIS(ts)                   | floor(extract(epoch FROM ts) * 1000)::int8             | no such function in PostgreSQL                               |
//	| SUM(bigint)                       | SUM(bigint)::int8                                      | Sluice's SUM of BIGINT is BIGINT and fails on overflow; PostgreSQL's is numeric (so no HAVING next to an unguarded SUM(b): PostgreSQL casts only the groups HAVING keeps) |
//	| GROUP BY TUMBLE(ts, i), k         | GROUP BY date_bin(i, ts, '1970-01-01'), k              | windows are epoch-aligned bins                               |
//	| GROUP BY HOP(ts, slide, size), k  | each row joined to its windows by generate_series      | a row belongs to size/slide windows                          |
//	| GROUP BY SESSION(ts, gap), k      | rows numbered into sessions with lag() and a running sum per key; new session when ts - previous ts >= gap | the engine's session rule (strict overlap of [t, t+gap)) |
//	| WINDOW_START, WINDOW_END          | the bin, bin + size (sessions: min(ts), max(ts) + gap) |                                                              |
//	| FIRST_VALUE(x) / LAST_VALUE(x)    | (array_agg(x ORDER BY ts, id) FILTER (WHERE x IS NOT NULL))[1] (DESC for LAST) | earliest/latest event time, first/last seen on ties, NULLs skipped |
//	| COALESCE, NULLIF                  | the same                                               | special forms in Sluice's analyser, not in sql.LookupFunction |
//
// PostgreSQL runs in a database created with LC_COLLATE 'C' (string
// comparison byte-wise, as Sluice compares) and LC_CTYPE 'C.UTF-8' (so
// LOWER, UPPER, INITCAP and ILIKE fold non-ASCII letters, as Go's unicode
// tables do; with LC_CTYPE 'C' PostgreSQL folds ASCII only); when the
// server has no C.UTF-8 locale it falls back to LC_CTYPE 'C' and leaves out
// the non-ASCII case-folding makers.
//
// Queries that fail in PostgreSQL at run time (overflow, division by zero,
// a bad cast: SQLSTATE classes 22 and 54) are compared by failure. For
// filter/project queries PostgreSQL reruns the query once per record (a
// PL/pgSQL function catching the error), and the records that fail must be
// exactly those Sluice dead-letters (*engine.RecordError offsets), and the
// other records' results must be equal. For aggregations: PostgreSQL fails
// ⇔ Sluice reports an evaluation error for at least one record or group.
// Any other disagreement (one side rejects the query at analysis, a panic,
// different rows) fails the test, unless the maker of the expression is in
// knownDifferences, which leaves it out of the generator or guards the
// rows that differ out of its queries; every entry there says why.
//
// The seed is fixed so runs are reproducible; SQLDIFF_SEED overrides it
// (SQLDIFF_VERBOSE=1 also logs the queries with no rows).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/engine"
	"github.com/sluicehq/sluice/internal/sql"
	"github.com/sluicehq/sluice/internal/testenv"
)

// defaultSeed makes runs reproducible.
const defaultSeed = 20261126

// minQueries is the least number of queries the test must compare.
const minQueries = 200

// knownDifference is why a maker's results differ from PostgreSQL's. With
// a guard, the maker stays in and the guard keeps the rows that differ out
// of its queries; without one, the maker is left out.
type knownDifference struct {
	reason string
	guard  *expr
}

// knownDifferences are the makers (by id) whose results are known to
// differ. Every entry is a bug to fix in Sluice, or a dialect difference
// to move into the table above; delete entries as they are fixed.
var knownDifferences = map[string]knownDifference{}

// nonASCIICase are the makers whose results depend on non-ASCII case
// folding, skipped when PostgreSQL has no C.UTF-8 locale.
var nonASCIICase = []string{"str:lower", "str:upper", "str:lower-upper", "str:initcap", "bool:ilike", "bool:not-ilike", "min-lower"}

func seed(t testing.TB) uint64 {
	if s := os.Getenv("SQLDIFF_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SQLDIFF_SEED=%q: %v", s, err)
		}
		return n
	}
	return defaultSeed
}

// specialForms are the calls Sluice's analyser handles itself rather than
// through the function library (sql.LookupFunction does not list them).
var specialForms = map[string]bool{"COALESCE": true, "NULLIF": true}

// hasFunction is Sluice's function library.
func hasFunction(name string) bool { return specialForms[name] || sql.LookupFunction(name) != nil }

// outcome is one side's result for a query.
type outcome struct {
	rows []row
	// analysis is the error rejecting the query before it runs.
	analysis error
	// eval is the first evaluation error, evalCount how many records (or
	// the drain) failed.
	eval      error
	evalCount int
	// failed are the records (by id) whose evaluation failed, with the
	// error, when known per record: always for Sluice's filter/project
	// queries, and for PostgreSQL's after a per-row rerun of a query that
	// failed. rows are then the results of the other records.
	failed map[int64]string
	// internal is anything else: a bug in the harness or the engine.
	internal error
}

func TestDifferentialPostgres(t *testing.T) {
	admin := testenv.Postgres(t)
	sd := seed(t)
	t.Logf("seed %d (set SQLDIFF_SEED to change)", sd)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, utf8Case := freshDatabase(ctx, t, admin)

	recs := genRecords(sd)
	payloads, err := encodeRecords(recs)
	if err != nil {
		t.Fatal(err)
	}
	if err := loadPostgres(ctx, conn, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, perRowFunc); err != nil {
		t.Fatal(err)
	}
	// The timestamps must round-trip exactly.
	var minTS, maxTS time.Time
	if err := conn.QueryRow(ctx, "SELECT min(ts), max(ts) FROM tenant").Scan(&minTS, &maxTS); err != nil {
		t.Fatal(err)
	}
	wantMin, wantMax := recs[0].ts, recs[0].ts
	for _, r := range recs {
		wantMin, wantMax = min(wantMin, r.ts), max(wantMax, r.ts)
	}
	if minTS.UnixMilli() != wantMin || maxTS.UnixMilli() != wantMax {
		t.Fatalf("timestamps in PostgreSQL are %v..%v, want %v..%v", minTS, maxTS,
			time.UnixMilli(wantMin).UTC(), time.UnixMilli(wantMax).UTC())
	}

	excluded := make(map[string]knownDifference, len(knownDifferences))
	for k, v := range knownDifferences {
		excluded[k] = v
	}
	if !utf8Case {
		for _, id := range nonASCIICase {
			excluded[id] = knownDifference{reason: "PostgreSQL has no C.UTF-8 locale for non-ASCII case folding"}
		}
	}
	g := newGen(sd, hasFunction, excluded)
	for _, reason := range sortedKeys(g.skipped) {
		t.Logf("%s: %s", reason, strings.Join(g.skipped[reason], ", "))
	}
	makerIDs := map[string]bool{}
	for _, m := range allMakers() {
		makerIDs[m.id] = true
	}
	for _, id := range sortedKeys(knownDifferences) {
		if !makerIDs[id] {
			t.Logf("left out (known difference: %s): aggregate %s", knownDifferences[id].reason, id)
		}
	}
	qs := g.generate()
	if len(qs) < minQueries {
		t.Fatalf("generated %d queries, want at least %d", len(qs), minQueries)
	}

	reader, err := avro.Parse(schemaJSON)
	if err != nil {
		t.Fatal(err)
	}
	type tally struct{ compared, empty, rows, bothFailed, failedQueries int }
	byCat := map[string]*tally{}
	failures := 0
	start := time.Now()
	for i, q := range qs {
		tl := byCat[q.cat]
		if tl == nil {
			tl = &tally{}
			byCat[q.cat] = tl
		}
		pg := runPostgres(ctx, conn, q.pg)
		if pg.eval != nil && q.cat != "tumble" && q.cat != "hop" && q.cat != "session" {
			pg = runPostgresPerRow(ctx, conn, q.pg)
		}
		sl := runSluice(q.sl, reader, payloads)
		msg := judge(pg, sl)
		switch {
		case msg == "" && (pg.eval != nil || len(pg.failed) > 0):
			tl.bothFailed++
		case msg == "":
			tl.compared++
			tl.rows += len(pg.rows)
			if len(pg.rows) == 0 {
				tl.empty++
				if os.Getenv("SQLDIFF_VERBOSE") != "" {
					t.Logf("query %d (%s) has no rows: %s", i, q.cat, q.sl)
				}
			}
		default:
			tl.failedQueries++
			failures++
			if failures <= 40 {
				t.Errorf("query %d (%s, seed %d) differs: %s\n\tSluice:     %s\n\tPostgreSQL: %s\n\tconstructs: %s",
					i, q.cat, sd, msg, q.sl, q.pg, strings.Join(uniq(q.cons), ", "))
			}
		}
	}
	for _, cat := range sortedKeys(byCat) {
		tl := byCat[cat]
		t.Logf("%-10s %3d queries: %3d equal results (%d rows, %d queries empty), %3d with the same failures (and equal other rows), %3d differing",
			cat, tl.compared+tl.bothFailed+tl.failedQueries, tl.compared, tl.rows, tl.empty, tl.bothFailed, tl.failedQueries)
	}
	t.Logf("%d queries in %v, %d differ", len(qs), time.Since(start).Round(time.Millisecond), failures)
	if failures > 40 {
		t.Errorf("%d more differing queries not shown", failures-40)
	}
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// judge returns why two outcomes differ, "" when they agree.
func judge(pg, sl outcome) string {
	switch {
	case pg.internal != nil:
		return "PostgreSQL: " + pg.internal.Error()
	case sl.internal != nil:
		return "Sluice internal error: " + sl.internal.Error()
	case pg.analysis != nil && sl.analysis != nil:
		return fmt.Sprintf("both reject the query (a generator bug)\n\tPostgreSQL: %v\n\tSluice: %v", pg.analysis, sl.analysis)
	case pg.analysis != nil:
		return fmt.Sprintf("PostgreSQL rejects the query, Sluice accepts it\n\tPostgreSQL: %v", pg.analysis)
	case sl.analysis != nil:
		return fmt.Sprintf("Sluice rejects the query, PostgreSQL accepts it\n\tSluice: %v", sl.analysis)
	case pg.failed != nil:
		if m := diffFailures(pg.failed, sl.failed); m != "" {
			return m
		}
	case pg.eval != nil && sl.evalCount == 0:
		return fmt.Sprintf("PostgreSQL fails (%v), Sluice evaluates every record (%d rows)", pg.eval, len(sl.rows))
	case pg.eval == nil && sl.evalCount > 0:
		return fmt.Sprintf("Sluice fails %d records (first: %v), PostgreSQL evaluates every row", sl.evalCount, sl.eval)
	case pg.eval != nil:
		return ""
	}
	onlyPG, onlySluice := diff(pg.rows, sl.rows)
	if len(onlyPG) == 0 && len(onlySluice) == 0 {
		return ""
	}
	return fmt.Sprintf("PostgreSQL %d rows, Sluice %d rows\n\tonly in PostgreSQL (%d):%s\n\tonly in Sluice (%d):%s",
		len(pg.rows), len(sl.rows), len(onlyPG), formatRows(onlyPG, 6), len(onlySluice), formatRows(onlySluice, 6))
}

// freshDatabase creates a database for this test (dropped at cleanup) and
// connects to it. It reports whether the database folds non-ASCII case.
func freshDatabase(ctx context.Context, t *testing.T, admin string) (*pgx.Conn, bool) {
	t.Helper()
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	name := "sluice_sqldiff_" + time.Now().UTC().Format("20060102150405") + "_" + hex.EncodeToString(suffix[:])

	ac, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer ac.Close(ctx)
	utf8Case := true
	_, err = ac.Exec(ctx, `CREATE DATABASE "`+name+`" TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C.UTF-8' ENCODING 'UTF8'`)
	if err != nil {
		t.Logf("no C.UTF-8 locale (%v): using LC_CTYPE 'C'", err)
		utf8Case = false
		_, err = ac.Exec(ctx, `CREATE DATABASE "`+name+`" TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C' ENCODING 'UTF8'`)
	}
	if err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ac, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("connect to drop database %s: %v", name, err)
			return
		}
		defer ac.Close(ctx)
		_, _ = ac.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
		if _, err := ac.Exec(ctx, `DROP DATABASE IF EXISTS "`+name+`"`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})

	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", testenv.PostgresVar, err)
	}
	u.Path, u.RawPath = "/"+name, ""
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("connect to %s: %v", name, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "SET statement_timeout = '20s'"); err != nil {
		t.Fatal(err)
	}
	return conn, utf8Case
}

// runPostgres runs a query. Errors of class 22 (data exception: overflow,
// division by zero, bad input) and 54 (program limit exceeded: a string too
// long, chr(0)) are evaluation errors; class 42 (syntax,
// undefined function, type mismatch) and 0A (not supported) are analysis
// errors.
func runPostgres(ctx context.Context, conn *pgx.Conn, text string, args ...any) (out outcome) {
	classify := func(err error) outcome {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			switch {
			case strings.HasPrefix(pe.Code, "22"), strings.HasPrefix(pe.Code, "54"):
				return outcome{eval: err}
			case strings.HasPrefix(pe.Code, "42"), strings.HasPrefix(pe.Code, "0A"):
				return outcome{analysis: err}
			}
		}
		return outcome{internal: err}
	}
	rows, err := conn.Query(ctx, text, args...)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return outcome{internal: err}
		}
		r := make(row, len(vals))
		for i, v := range vals {
			if r[i], err = pgValue(v, fields[i].DataTypeOID); err != nil {
				return outcome{internal: fmt.Errorf("column %s: %w", fields[i].Name, err)}
			}
		}
		out.rows = append(out.rows, r)
	}
	if err := rows.Err(); err != nil {
		return classify(err)
	}
	return out
}

// perRowFunc evaluates a query once per record of tenant, the query's
// FROM tenant narrowed to the one row, and returns the records whose
// evaluation fails with the error.
const perRowFunc = `CREATE FUNCTION sqldiff_failing(q text) RETURNS TABLE(rid int8, msg text)
LANGUAGE plpgsql AS $$
DECLARE
	r int8;
	rec record;
BEGIN
	FOR r IN SELECT id FROM tenant ORDER BY id LOOP
		BEGIN
			EXECUTE q INTO rec USING r;
		EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
			rid := r;
			msg := SQLERRM;
			RETURN NEXT;
		END;
	END LOOP;
END
$$`

// runPostgresPerRow reruns a query that failed, to learn which records
// fail: each record alone through sqldiff_failing, then the query over the
// other records for their results.
func runPostgresPerRow(ctx context.Context, conn *pgx.Conn, text string) outcome {
	if !strings.Contains(text, " FROM tenant") {
		return outcome{internal: fmt.Errorf("per-row rerun: no FROM tenant in %s", text)}
	}
	one := strings.Replace(text, " FROM tenant", " FROM (SELECT * FROM tenant WHERE id = $1) AS tenant", 1)
	rows, err := conn.Query(ctx, "SELECT rid, msg FROM sqldiff_failing($1)", one)
	if err != nil {
		return outcome{internal: fmt.Errorf("per-row rerun: %w", err)}
	}
	failed := map[int64]string{}
	var ids []int64
	for rows.Next() {
		var id int64
		var msg string
		if err := rows.Scan(&id, &msg); err != nil {
			rows.Close()
			return outcome{internal: fmt.Errorf("per-row rerun: %w", err)}
		}
		failed[id] = msg
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return outcome{internal: fmt.Errorf("per-row rerun: %w", err)}
	}
	if len(ids) == 0 {
		return outcome{internal: fmt.Errorf("per-row rerun: the query fails, but no record does alone")}
	}
	rest := strings.Replace(text, " FROM tenant", " FROM (SELECT * FROM tenant WHERE NOT (id = ANY($1))) AS tenant", 1)
	out := runPostgres(ctx, conn, rest, ids)
	if out.eval != nil {
		return outcome{internal: fmt.Errorf("per-row rerun: the records that pass alone fail together: %w", out.eval)}
	}
	out.failed = failed
	return out
}

// diffFailures compares the records that failed on each side.
func diffFailures(pg, sl map[int64]string) string {
	var onlyPG, onlySluice []string
	for _, id := range sortedIDs(pg) {
		if _, ok := sl[id]; !ok {
			onlyPG = append(onlyPG, fmt.Sprintf("%d (%s)", id, pg[id]))
		}
	}
	for _, id := range sortedIDs(sl) {
		if _, ok := pg[id]; !ok {
			onlySluice = append(onlySluice, fmt.Sprintf("%d (%s)", id, sl[id]))
		}
	}
	if len(onlyPG) == 0 && len(onlySluice) == 0 {
		return ""
	}
	show := func(xs []string) string {
		if len(xs) > 6 {
			return strings.Join(xs[:6], ", ") + fmt.Sprintf(" ... %d more", len(xs)-6)
		}
		return strings.Join(xs, ", ")
	}
	return fmt.Sprintf("different records fail (by id): %d fail only in PostgreSQL: %s; %d fail only in Sluice: %s",
		len(onlyPG), show(onlyPG), len(onlySluice), show(onlySluice))
}

func sortedIDs(m map[int64]string) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// pgValue normalises a value pgx decoded.
func pgValue(v any, oid uint32) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return v, nil
	case int16:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case int64:
		return v, nil
	case float32:
		return float64(v), nil
	case float64:
		return v, nil
	case string:
		return v, nil
	case []byte:
		return `\x` + hex.EncodeToString(v), nil
	case time.Time:
		switch oid {
		case pgtype.DateOID:
			return dateDays(v.Unix() / 86400), nil
		default:
			return tsMicros(v.UnixMicro()), nil
		}
	case pgtype.Time:
		return timeMicros(v.Microseconds), nil
	case pgtype.Interval:
		return ivMicros(v.Microseconds + int64(v.Days)*86_400_000_000 + int64(v.Months)*30*86_400_000_000), nil
	case pgtype.Numeric:
		return numericValue(v)
	}
	return nil, fmt.Errorf("unexpected PostgreSQL value %T %v (type oid %d)", v, v, oid)
}

// numericValue turns a numeric into an int64 when it is integral and fits,
// else a float64.
func numericValue(n pgtype.Numeric) (any, error) {
	if !n.Valid {
		return nil, nil
	}
	if n.NaN {
		return math.NaN(), nil
	}
	if n.InfinityModifier != pgtype.Finite {
		return math.Inf(int(n.InfinityModifier)), nil
	}
	// value = Int * 10^Exp
	i := new(big.Int).Set(n.Int)
	exp := n.Exp
	ten := big.NewInt(10)
	for exp < 0 {
		q, r := new(big.Int).QuoRem(i, ten, new(big.Int))
		if r.Sign() != 0 {
			break
		}
		i, exp = q, exp+1
	}
	if exp >= 0 {
		i.Mul(i, new(big.Int).Exp(ten, big.NewInt(int64(exp)), nil))
		if i.IsInt64() {
			return i.Int64(), nil
		}
	}
	f, err := n.Float64Value()
	if err != nil {
		return nil, err
	}
	return f.Float64, nil
}

// runSluice analyses the query and runs it over every record, as a job
// would: partition 0, offsets in order, then Drain. An error from Process
// or Drain that is an evaluation error (the record is dead-lettered) is
// counted; anything else is internal.
func runSluice(text string, reader *avro.Schema, payloads [][]byte) (out outcome) {
	defer func() {
		if p := recover(); p != nil {
			out = outcome{internal: fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
		}
	}()
	q, err := sql.Analyze(text, reader)
	if err != nil {
		return outcome{analysis: err}
	}
	all, err := decode.CompileJSON(schemaJSON, schemaJSON, q.Fields)
	if err != nil {
		return outcome{internal: fmt.Errorf("compile decoder for %v: %w", q.Fields, err)}
	}
	var filter *decode.Decoder
	if q.FilterFields > 0 {
		if filter, err = decode.CompileJSON(schemaJSON, schemaJSON, q.Fields[:q.FilterFields]); err != nil {
			return outcome{internal: fmt.Errorf("compile filter decoder for %v: %w", q.Fields[:q.FilterFields], err)}
		}
	}
	fail := func(err error, where string) bool {
		if isEvalError(err) {
			if out.eval == nil {
				out.eval = fmt.Errorf("%s: %w", where, err)
			}
			out.evalCount++
			var re *engine.RecordError
			if q.Agg == nil && errors.As(err, &re) {
				if out.failed == nil {
					out.failed = map[int64]string{}
				}
				out.failed[re.Offset] = re.Err.Error()
			}
			return true
		}
		out = outcome{internal: fmt.Errorf("%s: %w", where, err)}
		return false
	}
	groupErr := func(err error) { fail(err, "group at emission") }
	task := engine.NewTask(q, engine.Options{Lateness: time.Hour, GroupError: groupErr})
	emit := engine.EmitFunc(func(o *engine.Output) error {
		if len(o.Values) != len(q.Columns) {
			return fmt.Errorf("output has %d values, query has %d columns", len(o.Values), len(q.Columns))
		}
		r := make(row, len(o.Values))
		for i, v := range o.Values {
			r[i] = sluiceValue(v, q.Columns[i].Type.Kind)
		}
		out.rows = append(out.rows, r)
		return nil
	})
	for i, p := range payloads {
		in := &engine.Input{Partition: 0, Offset: int64(i), Payload: p, Filter: filter, All: all}
		if err := task.Process(in, emit); err != nil && !fail(err, fmt.Sprintf("record %d", i)) {
			return out
		}
	}
	if err := task.Drain(emit); err != nil && !fail(err, "drain") {
		return out
	}
	if out.internal == nil && out.evalCount == 0 && task.Stats().GroupErrors > 0 {
		out.evalCount = int(task.Stats().GroupErrors)
		out.eval = errors.New("groups failed at emission (Stats.GroupErrors)")
	}
	return out
}

// isEvalError reports whether err is an evaluation error of one record.
func isEvalError(err error) bool {
	var ee *sql.EvalError
	var re *engine.RecordError
	return errors.As(err, &ee) || errors.As(err, &re)
}

// sluiceValue normalises one output value; it copies bytes.
func sluiceValue(v sql.Value, k sql.Kind) any {
	if v.Null {
		return nil
	}
	switch k {
	case sql.Boolean:
		return v.I != 0
	case sql.Integer, sql.BigInt:
		return v.I
	case sql.Double:
		return v.F
	case sql.Varchar:
		return string(v.B)
	case sql.Bytes:
		return `\x` + hex.EncodeToString(v.B)
	case sql.Timestamp:
		return tsMicros(v.I)
	case sql.Date:
		return dateDays(v.I)
	case sql.Time:
		return timeMicros(v.I)
	case sql.Interval:
		return ivMicros(v.I)
	case sql.Unknown:
		return nil
	}
	return fmt.Sprintf("unsupported kind %v", k)
}

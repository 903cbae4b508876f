package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicehq/sluice/internal/sql"
)

// The postgres sink's layouts.
const (
	// postgresColumns writes one table column per result column.
	postgresColumns = "columns"
	// postgresJSONB writes each record whole into a jsonb column, with its
	// source partition and offset.
	postgresJSONB = "jsonb"
)

// pgColumn is a result column and the table column it goes to.
type pgColumn struct {
	result string
	table  string
	kind   sql.Kind
	// mapped: the columns setting names the table column.
	mapped bool
}

// postgresType is the column type a SQL kind is created as: the type its
// JSON form (docs/formats.md) is read as.
func postgresType(k sql.Kind) string {
	switch k {
	case sql.Boolean:
		return "boolean"
	case sql.Integer:
		return "integer"
	case sql.BigInt:
		return "bigint"
	case sql.Double:
		return "double precision"
	case sql.Bytes:
		return "bytea"
	case sql.Timestamp:
		return "timestamptz"
	case sql.Date:
		return "date"
	case sql.Time:
		return "time"
	case sql.Interval:
		return "interval"
	case sql.Array, sql.Map, sql.Record:
		return "jsonb"
	}
	return "text" // VARCHAR, and a bare NULL
}

// postgresDirect reports whether a table column of type oid reads a
// kind's COPY text exactly as the kind's own type would and then casts
// it: the types the sink COPYs into directly.
func postgresDirect(k sql.Kind, oid uint32) bool {
	switch k {
	case sql.Unknown: // always NULL
		return true
	case sql.Boolean:
		return oid == pgtype.BoolOID
	case sql.Integer:
		return oid == pgtype.Int4OID || oid == pgtype.Int8OID
	case sql.BigInt:
		return oid == pgtype.Int8OID
	case sql.Double:
		return oid == pgtype.Float8OID
	case sql.Varchar:
		return oid == pgtype.TextOID || oid == pgtype.VarcharOID
	case sql.Bytes:
		return oid == pgtype.ByteaOID
	case sql.Timestamp:
		return oid == pgtype.TimestamptzOID
	case sql.Date:
		return oid == pgtype.DateOID
	case sql.Time:
		return oid == pgtype.TimeOID
	case sql.Interval:
		return oid == pgtype.IntervalOID
	case sql.Array, sql.Map, sql.Record:
		return oid == pgtype.JSONBOID
	}
	return false
}

// parseColumnLayout reads the columns, key settings of the columns layout
// against the query's result columns.
func parseColumnLayout(s *Settings, out Output) (cols []pgColumn, keys []string) {
	mapping := s.StringMap("columns")
	keyList := postgresStrings(s, "key")
	if len(out.Columns) == 0 {
		s.Fail("layout", "the columns layout needs the query's result columns, which only a subscription gives the sink: use layout jsonb outside one")
		return nil, nil
	}
	for _, r := range slices.Sorted(maps.Keys(mapping)) {
		if _, i := out.Column(r); i < 0 {
			s.Fail("columns", fmt.Sprintf("%q is not a result column (the query returns %s)", r, columnNames(out)))
		}
		if !postgresIdent.MatchString(mapping[r]) {
			s.Fail("columns", fmt.Sprintf("%q (for %s) is not a column name: letters, digits, _ and $, not starting with a digit, at most 63", mapping[r], r))
		}
	}
	seen := map[string]string{}
	for _, c := range out.Columns {
		col := pgColumn{result: c.Name, table: c.Name, kind: sql.Unknown}
		if c.Type != nil {
			col.kind = c.Type.Kind
		}
		if t, ok := mapping[c.Name]; ok {
			col.table, col.mapped = t, true
		} else {
			for _, r := range slices.Sorted(maps.Keys(mapping)) {
				if strings.EqualFold(r, c.Name) {
					col.table, col.mapped = mapping[r], true
					break
				}
			}
		}
		if prev, dup := seen[col.table]; dup {
			if prev == c.Name {
				s.Fail("columns", fmt.Sprintf("the query returns two columns named %s: name one otherwise (AS)", c.Name))
			} else {
				s.Fail("columns", fmt.Sprintf("result columns %s and %s both go to table column %s (map one of them to another column with columns)", prev, c.Name, col.table))
			}
		}
		seen[col.table] = c.Name
		cols = append(cols, col)
	}
	for _, k := range keyList {
		c, i := out.Column(k)
		if i < 0 {
			s.Fail("key", fmt.Sprintf("%q is not a result column (the query returns %s)", k, columnNames(out)))
			continue
		}
		if slices.Contains(keys, cols[i].table) {
			s.Fail("key", fmt.Sprintf("%q is named twice", c.Name))
			continue
		}
		keys = append(keys, cols[i].table)
	}
	return cols, keys
}

// postgresStrings reads a setting that is a list of strings (or one
// string); an empty list is none.
func postgresStrings(s *Settings, name string) []string {
	v, ok := s.get(name)
	if !ok {
		return nil
	}
	var out []string
	switch x := v.(type) {
	case string:
		out = []string{x}
	case []any:
		for _, e := range x {
			str, _ := e.(string)
			out = append(out, str)
		}
	case []string:
		out = x
	default:
		s.Fail(name, "must be a list of column names")
		return nil
	}
	if slices.Contains(out, "") {
		s.Fail(name, "must be a list of column names")
		return nil
	}
	return out
}

func columnNames(out Output) string {
	names := make([]string, len(out.Columns))
	for i, c := range out.Columns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func pgQuote(name string) string { return pgx.Identifier{name}.Sanitize() }

// pgLiteral quotes s as a SQL string literal, whatever
// standard_conforming_strings says.
func pgLiteral(s string) string {
	return "E'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

// pgColumnsWriter writes batches of the columns layout: decided at Open,
// from the table the sink found or created.
type pgColumnsWriter struct {
	// direct: COPY the rows straight into the table. Otherwise they are
	// COPYed into a temporary staging table (created by stageDDL, in the
	// transaction's prelude) and moved by insert: an upsert, or a table
	// whose columns are not all of the result columns' own types, or that
	// COPY would not treat as INSERT does (rules, row security, a view).
	direct   bool
	copySQL  string
	stageDDL string
	insert   string

	kinds []sql.Kind
	names []string
	conv  sync.Pool // *pgCopyRows
}

func (c postgresConfig) qualifiedColumns() string {
	q := make([]string, len(c.cols))
	for i, col := range c.cols {
		q[i] = pgQuote(col.table)
	}
	return strings.Join(q, ", ")
}

// conflictClause is the ON CONFLICT clause of an upsert, whose rows come
// from the relation alias src; "" without keys.
func (c postgresConfig) conflictClause() string {
	if len(c.keys) == 0 {
		return ""
	}
	var qkeys, set []string
	for _, k := range c.keys {
		qkeys = append(qkeys, pgQuote(k))
	}
	for _, col := range c.cols {
		if !slices.Contains(c.keys, col.table) {
			set = append(set, pgQuote(col.table)+" = EXCLUDED."+pgQuote(col.table))
		}
	}
	q := " ON CONFLICT (" + strings.Join(qkeys, ", ") + ") "
	if len(set) == 0 {
		return q + "DO NOTHING"
	}
	return q + "DO UPDATE SET " + strings.Join(set, ", ")
}

// newColumnsWriter prepares the statements for the table; direct says
// whether COPY may go straight into it (inserts only).
func (c postgresConfig) newColumnsWriter(direct bool) *pgColumnsWriter {
	w := &pgColumnsWriter{direct: direct && len(c.keys) == 0}
	for _, col := range c.cols {
		w.kinds = append(w.kinds, col.kind)
		w.names = append(w.names, col.result)
	}
	w.conv.New = func() any { return newPGCopyRows(w.kinds, w.names) }
	if w.direct {
		w.copySQL = "COPY " + c.table.Sanitize() + " (" + c.qualifiedColumns() + ") FROM STDIN"
		return w
	}
	// The staging table: the batch's ordinal, then a column per result
	// column of the result column's own type. Its name is derived from
	// its definition, so that a session that has one of another shape
	// (a pooler handing sessions around) never confuses the two.
	defs := []string{"ord int NOT NULL"}
	var sel, keyExprs, nullKey []string
	for i, col := range c.cols {
		name := "c" + strconv.Itoa(i)
		defs = append(defs, name+" "+postgresType(col.kind))
		v := "s." + name
		if col.kind == sql.Unknown {
			v = "NULL" // untyped: converts to any column type
		}
		sel = append(sel, v)
		if slices.Contains(c.keys, col.table) {
			keyExprs = append(keyExprs, v)
			nullKey = append(nullKey, v+" IS NULL")
		}
	}
	h := fnv.New64a()
	h.Write([]byte(strings.Join(defs, ", ")))
	stage := fmt.Sprintf("pg_temp.sluice_stage_%016x", h.Sum64())
	w.stageDDL = "CREATE TEMP TABLE IF NOT EXISTS " + stage + " (" + strings.Join(defs, ", ") + ") ON COMMIT DELETE ROWS"
	w.copySQL = "COPY " + stage + " FROM STDIN"
	w.insert = "INSERT INTO " + c.table.Sanitize() + " (" + c.qualifiedColumns() + ") SELECT "
	if len(c.keys) == 0 {
		w.insert += strings.Join(sel, ", ") + " FROM " + stage + " s ORDER BY s.ord"
		return w
	}
	// Of the rows of one key the last wins. Rows with a NULL key never
	// conflict (unless the index treats NULLs as equal): keep them all.
	distinct := strings.Join(keyExprs, ", ") + ", (CASE WHEN " + strings.Join(nullKey, " OR ") + " THEN s.ord END)"
	w.insert += "DISTINCT ON (" + distinct + ") " + strings.Join(sel, ", ") + " FROM " + stage + " s ORDER BY " + distinct + ", s.ord DESC" + c.conflictClause()
	return w
}

// write copies the records in the transaction, converted to COPY text
// (with their ordinal when staging) as COPY reads them, so that the
// conversion of a chunk overlaps PostgreSQL's work on the one before; a
// record the conversion refuses is a permanent error naming it.
func (w *pgColumnsWriter) write(ctx context.Context, c postgresConfig, tx pgx.Tx, recs []Record, batchID string) error {
	conv := w.conv.Get().(*pgCopyRows)
	defer w.conv.Put(conv)
	r := &pgCopyReader{conv: conv, recs: recs, ord: !w.direct, buf: conv.out[:0]}
	_, err := tx.Conn().PgConn().CopyFrom(ctx, r, w.copySQL)
	// CopyFrom can return (the connection broken) while its goroutine
	// still reads: from now on, Read touches neither the records, which
	// the runtime reuses after Write, nor conv.
	r.stop()
	conv.out = r.buf[:0]
	if r.err != nil {
		return Permanent(fmt.Errorf("postgres sink: record %d of batch %s: %w", r.next-1, batchID, r.err))
	}
	if err != nil {
		return c.scrub("copy into "+c.tableName, err)
	}
	if w.direct {
		return nil
	}
	if _, err := tx.Exec(ctx, w.insert); err != nil {
		return c.scrub("insert into "+c.tableName, err)
	}
	return nil
}

// pgCopyReader reads records as COPY text, converting them as it goes.
// Read runs in pgconn's goroutine, stop in the writer's.
type pgCopyReader struct {
	conv *pgCopyRows
	recs []Record
	ord  bool // each row starts with the record's index

	mu      sync.Mutex
	stopped bool
	next    int    // the record to convert next
	buf     []byte // converted, from off on not read yet
	off     int
	pre     []byte
	err     error // the conversion's
}

// errCopyStopped ends a Read after the COPY returned.
var errCopyStopped = errors.New("postgres sink: COPY ended")

// stop makes Read fail without touching anything but the reader.
func (r *pgCopyReader) stop() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
}

// pgCopyChunk is about how much a Read converts at once.
const pgCopyChunk = 32 << 10

func (r *pgCopyReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return 0, errCopyStopped
	}
	if r.off == len(r.buf) {
		if r.err != nil {
			return 0, r.err
		}
		if r.next == len(r.recs) {
			return 0, io.EOF
		}
		r.buf, r.off = r.buf[:0], 0
		for r.next < len(r.recs) && len(r.buf) < pgCopyChunk {
			if r.ord {
				r.pre = strconv.AppendInt(r.pre[:0], int64(r.next), 10)
				r.pre = append(r.pre, '\t')
			}
			var err error
			r.buf, err = r.conv.appendRow(r.buf, r.pre, bytes.TrimSpace(r.recs[r.next].Value))
			r.next++
			if err != nil {
				// COPY is aborted: nothing of the batch is sent whole.
				r.err = err
				return 0, err
			}
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// createColumnsTable creates the table from the result columns, with a
// primary key on the key columns.
func (c postgresConfig) createColumnsTable(ctx context.Context, pool *pgxpool.Pool) error {
	var defs []string
	for _, col := range c.cols {
		defs = append(defs, pgQuote(col.table)+" "+postgresType(col.kind))
	}
	if len(c.keys) > 0 {
		var qkeys []string
		for _, k := range c.keys {
			qkeys = append(qkeys, pgQuote(k))
		}
		defs = append(defs, "PRIMARY KEY ("+strings.Join(qkeys, ", ")+")")
	}
	if _, err := pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+c.table.Sanitize()+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return c.scrub("create table "+c.tableName, err)
	}
	return nil
}

// resolveColumns matches the result columns that columns does not map to
// the existing table's columns: the column of the same name or, when
// there is none, the one column whose name differs only in case (a
// result column srcIP goes to a column srcip, as PostgreSQL folds
// unquoted names to lower case). It returns c with the table's names.
func (c postgresConfig) resolveColumns(ctx context.Context, pool *pgxpool.Pool) (postgresConfig, error) {
	rows, err := pool.Query(ctx, `SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, c.table.Sanitize())
	if err != nil {
		return c, c.scrub("check table "+c.tableName, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return c, c.scrub("check table "+c.tableName, err)
	}
	cols, keys := slices.Clone(c.cols), slices.Clone(c.keys)
	for i, col := range cols {
		if col.mapped || slices.Contains(names, col.table) {
			continue
		}
		var match []string
		for _, n := range names {
			if strings.EqualFold(n, col.table) {
				match = append(match, n)
			}
		}
		if len(match) != 1 {
			continue // planning the insert reports the missing column
		}
		if j := slices.Index(keys, col.table); j >= 0 {
			keys[j] = match[0]
		}
		cols[i].table = match[0]
	}
	c.cols, c.keys = cols, keys
	return c, nil
}

// checkColumnsTable checks that an existing table takes the rows: every
// column exists with a type the result column's own type is assigned to,
// the sink may insert, and with keys there is a unique index on exactly
// the key columns. PostgreSQL itself judges, by planning (EXPLAIN, which
// runs nothing) the insert of a row of typed NULLs. It reports whether
// COPY may go straight into the table.
func (c postgresConfig) checkColumnsTable(ctx context.Context, pool *pgxpool.Pool) (direct bool, err error) {
	sel := make([]string, len(c.cols))
	for i, col := range c.cols {
		sel[i] = "NULL"
		if col.kind != sql.Unknown {
			sel[i] += "::" + postgresType(col.kind)
		}
	}
	_, err = pool.Exec(ctx, "EXPLAIN INSERT INTO "+c.table.Sanitize()+" ("+c.qualifiedColumns()+") SELECT "+strings.Join(sel, ", ")+c.conflictClause())
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "42703": // undefined_column
			return false, &ConfigError{Type: "postgres", Field: "columns", Message: fmt.Sprintf("table %s: %s (map result columns to the table's with columns)", c.tableName, pe.Message)}
		case "42804", "42846", "428C9": // datatype_mismatch, cannot_coerce, generated_always
			return false, &ConfigError{Type: "postgres", Field: "columns", Message: fmt.Sprintf("table %s: %s", c.tableName, pe.Message)}
		case "42P10": // invalid_column_reference: no unique index for ON CONFLICT
			return false, &ConfigError{Type: "postgres", Field: "key", Message: fmt.Sprintf("table %s has no unique index or primary key on exactly (%s), which upserting by key needs", c.tableName, strings.Join(c.keys, ", "))}
		case "42501": // insufficient_privilege
			return false, &ConfigError{Type: "postgres", Field: "table", Message: fmt.Sprintf("table %s: %s", c.tableName, pe.Message)}
		}
	}
	if err != nil {
		return false, c.scrub("check table "+c.tableName, err)
	}
	names := make([]string, len(c.cols))
	for i, col := range c.cols {
		names[i] = col.table
	}
	// A NOT NULL column nothing fills would fail every batch.
	var unfilled []string
	rows, err := pool.Query(ctx, `SELECT a.attname FROM pg_attribute a
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
  AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = '' AND NOT a.attname = ANY($2::text[])
ORDER BY a.attnum`, c.table.Sanitize(), names)
	if err == nil {
		unfilled, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return false, c.scrub("check table "+c.tableName, err)
	}
	if len(unfilled) > 0 {
		return false, &ConfigError{Type: "postgres", Field: "columns", Message: fmt.Sprintf("table %s: column %s is NOT NULL without a default, and no result column goes to it (map one to it with columns)", c.tableName, strings.Join(unfilled, ", "))}
	}
	var kind string
	var rules, rls bool
	var oids []uint32
	err = pool.QueryRow(ctx, `SELECT c.relkind::text, c.relhasrules, c.relrowsecurity,
  (SELECT array_agg(coalesce(a.atttypid, 0) ORDER BY u.ord) FROM unnest($2::text[]) WITH ORDINALITY AS u(name, ord)
   LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = u.name AND a.attnum > 0 AND NOT a.attisdropped)
FROM pg_class c WHERE c.oid = to_regclass($1)`, c.table.Sanitize(), names).Scan(&kind, &rules, &rls, &oids)
	if err != nil {
		return false, c.scrub("check table "+c.tableName, err)
	}
	if kind != "r" && kind != "p" || rules || rls || len(oids) != len(c.cols) {
		return false, nil
	}
	for i, col := range c.cols {
		if !postgresDirect(col.kind, oids[i]) {
			return false, nil
		}
	}
	return true, nil
}

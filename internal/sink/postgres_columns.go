package sink

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
}

// postgresType is the column type a SQL kind is created as, and read from
// its JSON form (docs/formats.md) by jsonb_to_recordset.
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
	return "text"
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
	for _, r := range slices.Sorted(mapKeys(mapping)) {
		if _, i := out.Column(r); i < 0 {
			s.Fail("columns", fmt.Sprintf("%q is not a result column (the query returns %s)", r, columnNames(out)))
		}
		if !postgresIdent.MatchString(mapping[r]) {
			s.Fail("columns", fmt.Sprintf("%q (for %s) is not a column name: letters, digits, _ and $, not starting with a digit, at most 63", mapping[r], r))
		}
	}
	seen := map[string]string{}
	for _, c := range out.Columns {
		col := pgColumn{result: c.Name, table: c.Name, kind: c.Type.Kind}
		if t, ok := mapping[c.Name]; ok {
			col.table = t
		} else {
			for r, t := range mapping {
				if strings.EqualFold(r, c.Name) {
					col.table = t
				}
			}
		}
		if prev, dup := seen[col.table]; dup {
			s.Fail("columns", fmt.Sprintf("result columns %s and %s both go to table column %s", prev, c.Name, col.table))
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
// string).
func postgresStrings(s *Settings, name string) []string {
	v, ok := s.get(name)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			str, ok := e.(string)
			if !ok || str == "" {
				s.Fail(name, "must be a list of column names")
				return nil
			}
			out = append(out, str)
		}
		return out
	case []string:
		return x
	}
	s.Fail(name, "must be a list of column names")
	return nil
}

func columnNames(out Output) string {
	names := make([]string, len(out.Columns))
	for i, c := range out.Columns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func pgQuote(name string) string { return pgx.Identifier{name}.Sanitize() }

// insertSQL is the statement that writes a batch in the columns layout:
// its one parameter is a JSON array of the records; with keys, later rows
// of a key replace earlier ones, in the batch and in the table.
func (c postgresConfig) insertSQL() string {
	var decl, names, sel, tcols []string
	for _, col := range c.cols {
		decl = append(decl, pgQuote(col.result)+" "+jsonbType(col.kind))
		names = append(names, pgQuote(col.result))
		v := "x." + pgQuote(col.result)
		if col.kind == sql.Bytes {
			v = "decode(" + v + ", 'base64')" // the JSON format writes bytes in base64
		}
		sel = append(sel, v)
		tcols = append(tcols, pgQuote(col.table))
	}
	from := "ROWS FROM (jsonb_to_recordset($1::jsonb) AS (" + strings.Join(decl, ", ") + ")) WITH ORDINALITY AS x(" + strings.Join(names, ", ") + ", ord)"
	q := "INSERT INTO " + c.table.Sanitize() + " (" + strings.Join(tcols, ", ") + ") "
	if len(c.keys) == 0 {
		return q + "SELECT " + strings.Join(sel, ", ") + " FROM " + from + " ORDER BY ord"
	}
	var keyExprs, set []string
	for i, col := range c.cols {
		if slices.Contains(c.keys, col.table) {
			keyExprs = append(keyExprs, sel[i])
		} else {
			set = append(set, tcols[i]+" = EXCLUDED."+tcols[i])
		}
	}
	var qkeys []string
	for _, k := range c.keys {
		qkeys = append(qkeys, pgQuote(k))
	}
	q += "SELECT DISTINCT ON (" + strings.Join(keyExprs, ", ") + ") " + strings.Join(sel, ", ") + " FROM " + from +
		" ORDER BY " + strings.Join(keyExprs, ", ") + ", ord DESC ON CONFLICT (" + strings.Join(qkeys, ", ") + ") "
	if len(set) == 0 {
		return q + "DO NOTHING"
	}
	return q + "DO UPDATE SET " + strings.Join(set, ", ")
}

// jsonbType is how jsonb_to_recordset reads a kind's JSON form.
func jsonbType(k sql.Kind) string {
	if k == sql.Bytes {
		return "text"
	}
	return postgresType(k)
}

// createColumnsTable creates the table from the result columns, with a
// primary key on the key columns.
func (c postgresConfig) createColumnsTable(ctx context.Context, pool *pgxpool.Pool) error {
	var defs []string
	for _, col := range c.cols {
		def := pgQuote(col.table) + " " + postgresType(col.kind)
		defs = append(defs, def)
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

// checkColumnsTable checks that an existing table takes the rows: every
// column exists with a type the value converts to, and with keys, a
// unique index on exactly the key columns. It plans the insert on an
// empty batch in a transaction it rolls back, so PostgreSQL itself
// judges the types.
func (c postgresConfig) checkColumnsTable(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return c.scrub("check table "+c.tableName, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, c.insertSQL(), "[]")
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "42703": // undefined_column
			return &ConfigError{Type: "postgres", Field: "columns", Message: fmt.Sprintf("table %s: %s (map result columns to the table's with columns)", c.tableName, pe.Message)}
		case "42804", "42846": // datatype_mismatch, cannot_coerce
			return &ConfigError{Type: "postgres", Field: "columns", Message: fmt.Sprintf("table %s: %s", c.tableName, pe.Message)}
		case "42P10": // invalid_column_reference: no unique index for ON CONFLICT
			return &ConfigError{Type: "postgres", Field: "key", Message: fmt.Sprintf("table %s has no unique index or primary key on exactly (%s), which upserting by key needs", c.tableName, strings.Join(c.keys, ", "))}
		}
	}
	if err != nil {
		return c.scrub("check table "+c.tableName, err)
	}
	return nil
}

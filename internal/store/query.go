package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// Querier is what a repository needs to run SQL: both *Store and *Tx
// satisfy it, so a repository method taking a Querier works inside and
// outside a transaction. Queries use `?` placeholders on both engines.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *Row
	Dialect() Dialect
}

var (
	_ Querier = (*Store)(nil)
	_ Querier = (*Tx)(nil)
)

// Row is the result of QueryRow. Its Scan returns an error wrapping
// ErrNotFound (and sql.ErrNoRows) when there was no row.
type Row struct {
	row *sql.Row
}

// Scan copies the row's columns into dest, as sql.Row.Scan does.
func (r *Row) Scan(dest ...any) error {
	return classify(r.row.Scan(dest...))
}

// Err returns the error, if any, that running the query produced, without
// scanning: nil when there is no row.
func (r *Row) Err() error {
	return classify(r.row.Err())
}

// Rows is the result of Query: a *sql.Rows whose Err and Close classify
// errors as the rest of the package does. A Rows is used by one goroutine.
type Rows struct {
	*sql.Rows
}

// Err returns the error, if any, met while iterating.
func (r *Rows) Err() error { return classify(r.Rows.Err()) }

// Close closes the rows; it is safe to call more than once.
func (r *Rows) Close() error { return classify(r.Rows.Close()) }

// Exec runs a statement that returns no rows.
func (s *Store) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := s.db.ExecContext(ctx, s.dialect.Rebind(query), args...)
	return res, classify(err)
}

// Query runs a query that returns rows. The caller must Close them.
func (s *Store) Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.Rebind(query), args...)
	if err != nil {
		return nil, classify(err)
	}
	return &Rows{rows}, nil
}

// QueryRow runs a query expected to return at most one row. Errors are
// deferred until Row.Scan.
func (s *Store) QueryRow(ctx context.Context, query string, args ...any) *Row {
	return &Row{s.db.QueryRowContext(ctx, s.dialect.Rebind(query), args...)}
}

// Rebind rewrites a query written with `?` placeholders for the dialect.
// SQLite takes `?` as is. For PostgreSQL each bare `?` becomes $1, $2, ...
// in order; a `?` inside a '...' or E'...' string, a "..." identifier, a
// $tag$...$tag$ string, or a -- or /* */ comment is left alone. An
// unterminated quote or comment is copied as is, for the server to reject.
func (d Dialect) Rebind(query string) string {
	if d != Postgres || strings.IndexByte(query, '?') < 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); {
		end := i + 1
		switch c := query[i]; {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
			continue
		case c == '\'':
			// E'...' strings treat backslash as an escape; with the default
			// standard_conforming_strings=on plain ones do not.
			escapes := i > 0 && (query[i-1] == 'E' || query[i-1] == 'e') && (i == 1 || !isIdentByte(query[i-2]))
			end = skipQuoted(query, i, '\'', escapes)
		case c == '"':
			end = skipQuoted(query, i, '"', false)
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			if nl := strings.IndexByte(query[i:], '\n'); nl >= 0 {
				end = i + nl + 1
			} else {
				end = len(query)
			}
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			end = skipBlockComment(query, i)
		case c == '$' && (i == 0 || !isIdentByte(query[i-1])):
			end = skipDollarQuoted(query, i)
		}
		b.WriteString(query[i:end])
		i = end
	}
	return b.String()
}

// skipQuoted returns the index just past the quoted text starting at
// q[start] (the opening quote). A doubled quote stands for itself.
func skipQuoted(q string, start int, quote byte, backslashEscapes bool) int {
	for j := start + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			if backslashEscapes {
				j++
			}
		case quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

// skipBlockComment returns the index just past the /* comment */ starting
// at q[start]. PostgreSQL block comments nest.
func skipBlockComment(q string, start int) int {
	depth := 0
	for j := start; j < len(q)-1; j++ {
		switch {
		case q[j] == '/' && q[j+1] == '*':
			depth++
			j++
		case q[j] == '*' && q[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(q)
}

// skipDollarQuoted returns the index just past the $tag$...$tag$ string
// starting at q[start], or start+1 when the '$' does not open one (a $1
// parameter, say).
func skipDollarQuoted(q string, start int) int {
	j := start + 1
	for j < len(q) && isTagByte(q[j]) && !(j == start+1 && isDigit(q[j])) {
		j++
	}
	if j >= len(q) || q[j] != '$' {
		return start + 1
	}
	tag := q[start : j+1]
	if k := strings.Index(q[j+1:], tag); k >= 0 {
		return j + 1 + k + len(tag)
	}
	return len(q)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isTagByte reports whether c may appear in a dollar-quote tag.
func isTagByte(c byte) bool {
	return c == '_' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

// isIdentByte reports whether c may appear in an unquoted identifier.
func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

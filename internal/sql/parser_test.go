package sql

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// stripPos zeroes every Pos in a tree so trees can be compared by shape.
func stripPos(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stripPos(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(Pos{}) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			stripPos(v.Field(i))
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			stripPos(v.Index(i))
		}
	}
}

func roundTrip(t *testing.T, src string) *Select {
	t.Helper()
	s, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	out := s.String()
	s2, err := Parse(out)
	if err != nil {
		t.Fatalf("reparse of %q (from %q): %v", out, src, err)
	}
	stripPos(reflect.ValueOf(s))
	stripPos(reflect.ValueOf(s2))
	if !reflect.DeepEqual(s, s2) {
		t.Fatalf("round trip of %q changed the tree; formatted as %q", src, out)
	}
	return s
}

func TestParseFormat(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT * FROM tenant", "SELECT * FROM tenant"},
		{"select * from TENANT;", "SELECT * FROM tenant"},
		{`SELECT * FROM "tenant"`, "SELECT * FROM tenant"},
		{"SELECT tenant.*, a FROM tenant", "SELECT tenant.*, a FROM tenant"},
		{"SELECT a AS x, b y, c \"Odd \"\"Name\"\"\" FROM tenant", `SELECT a AS x, b AS y, c AS "Odd ""Name""" FROM tenant`},
		{"SELECT 1, 1.5, .5, 1e3, 2.5E-3, 'it''s', TRUE, false, NULL FROM tenant", "SELECT 1, 1.5, .5, 1e3, 2.5E-3, 'it''s', TRUE, FALSE, NULL FROM tenant"},
		{"SELECT INTERVAL '5' MINUTE, INTERVAL '5 minutes', interval '1' hours, INTERVAL '-2 DAY', INTERVAL '30' second FROM tenant",
			"SELECT INTERVAL '5' MINUTE, INTERVAL '5' MINUTE, INTERVAL '1' HOUR, INTERVAL '-2' DAY, INTERVAL '30' SECOND FROM tenant"},
		{"SELECT TIMESTAMP '2024-01-01 00:00:00', timestamp, interval FROM tenant", "SELECT TIMESTAMP '2024-01-01 00:00:00', timestamp, interval FROM tenant"},
		{`SELECT a.b.c, "A b".c, a."select", a.select, tenant.x FROM tenant`, `SELECT a.b.c, "A b".c, a."select", a.select, tenant.x FROM tenant`},
		{"SELECT a[1], m['key'], a[1].b, (a).b, a[1][2] FROM tenant", "SELECT a[1], m['key'], a[1].b, a.b, a[1][2] FROM tenant"},
		{"SELECT -a, +a, - -a, -(-a), NOT NOT b FROM tenant", "SELECT -a, +a, - -a, - -a, NOT NOT b FROM tenant"},
		{"SELECT a + b * c, (a + b) * c, a - b - c, a - (b - c), a / b % c, a || b || c FROM tenant",
			"SELECT a + b * c, (a + b) * c, a - b - c, a - (b - c), a / b % c, a || b || c FROM tenant"},
		{"SELECT * FROM tenant WHERE a = 1 AND b <> 2 OR c != 3 AND d < 4 AND e <= 5 AND f > 6 AND g >= 7",
			"SELECT * FROM tenant WHERE a = 1 AND b <> 2 OR c <> 3 AND d < 4 AND e <= 5 AND f > 6 AND g >= 7"},
		{"SELECT * FROM tenant WHERE (a OR b) AND NOT c = d", "SELECT * FROM tenant WHERE (a OR b) AND NOT c = d"},
		{"SELECT * FROM tenant WHERE NOT (a AND b)", "SELECT * FROM tenant WHERE NOT (a AND b)"},
		{"SELECT * FROM tenant WHERE a IN (1, 2, 3) AND b NOT IN ('x')", "SELECT * FROM tenant WHERE a IN (1, 2, 3) AND b NOT IN ('x')"},
		{"SELECT * FROM tenant WHERE a BETWEEN 1 AND 2 AND b NOT BETWEEN x + 1 AND y", "SELECT * FROM tenant WHERE a BETWEEN 1 AND 2 AND b NOT BETWEEN x + 1 AND y"},
		{`SELECT * FROM tenant WHERE a LIKE 'x%' OR b NOT ILIKE '%y' OR c LIKE 'a!%' ESCAPE '!'`, `SELECT * FROM tenant WHERE a LIKE 'x%' OR b NOT ILIKE '%y' OR c LIKE 'a!%' ESCAPE '!'`},
		{"SELECT * FROM tenant WHERE a IS NULL OR b IS NOT NULL OR c IS DISTINCT FROM d OR e IS NOT DISTINCT FROM 1",
			"SELECT * FROM tenant WHERE a IS NULL OR b IS NOT NULL OR c IS DISTINCT FROM d OR e IS NOT DISTINCT FROM 1"},
		{"SELECT CASE WHEN a > 1 THEN 'x' WHEN a > 0 THEN 'y' ELSE 'z' END, case a when 1 then 2 end FROM tenant",
			"SELECT CASE WHEN a > 1 THEN 'x' WHEN a > 0 THEN 'y' ELSE 'z' END, CASE a WHEN 1 THEN 2 END FROM tenant"},
		{"SELECT CAST(a AS bigint), try_cast(b AS decimal(10, 2)), a::int, CAST(x AS double precision), CAST(y AS varchar(20)), CAST(t AS timestamp) FROM tenant",
			"SELECT CAST(a AS BIGINT), TRY_CAST(b AS DECIMAL(10, 2)), CAST(a AS INT), CAST(x AS DOUBLE PRECISION), CAST(y AS VARCHAR(20)), CAST(t AS TIMESTAMP) FROM tenant"},
		{"SELECT count(*), COUNT(DISTINCT a), sum(b), now(), coalesce(a, b, 0), nullif(a, ''), lower(\"Name\") FROM tenant",
			"SELECT count(*), COUNT(DISTINCT a), sum(b), now(), coalesce(a, b, 0), nullif(a, ''), lower(\"Name\") FROM tenant"},
		{"SELECT EXTRACT(minute FROM ts), SUBSTRING(s FROM 2 FOR 3), substring(s from 2), SUBSTRING(s, 1, 2) FROM tenant",
			"SELECT EXTRACT('minute', ts), SUBSTRING(s, 2, 3), substring(s, 2), SUBSTRING(s, 1, 2) FROM tenant"},
		{"SELECT src_ip, COUNT(*) AS n FROM tenant WHERE action = 'deny' GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), src_ip HAVING COUNT(*) > 10;",
			"SELECT src_ip, COUNT(*) AS n FROM tenant WHERE action = 'deny' GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), src_ip HAVING COUNT(*) > 10"},
		{"SELECT a -- comment\n, /* block /* nested */ */ b FROM tenant -- end", "SELECT a, b FROM tenant"},
		{"SELECT * FROM tenant WHERE size > 3;", "SELECT * FROM tenant WHERE size > 3"},
	}
	for _, tc := range tests {
		s := roundTrip(t, tc.in)
		if got := s.String(); got != tc.want {
			t.Errorf("Parse(%q).String()\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestPrecedence(t *testing.T) {
	// Each input is formatted fully parenthesised by fp to show the tree.
	tests := []struct{ in, want string }{
		{"a OR b AND c", "(a OR (b AND c))"},
		{"NOT a AND b", "((NOT a) AND b)"},
		{"NOT a = b", "(NOT (a = b))"},
		{"a = b IS NULL", "((a = b) IS NULL)"},
		{"a = b LIKE c", "(a = (b LIKE c))"},
		{"a LIKE b || c", "(a LIKE (b || c))"},
		{"a || b + c", "(a || (b + c))"},
		{"a + b * c", "(a + (b * c))"},
		{"-a * b", "((-a) * b)"},
		{"-a[1]", "(-(a[1]))"},
		{"-a::int", "(-CAST(a AS INT))"},
		{"a BETWEEN b + 1 AND c OR d", "((a BETWEEN (b + 1) AND c) OR d)"},
		{"a IN (1) = TRUE", "((a IN (1)) = TRUE)"},
		{"a IS DISTINCT FROM b = c", "(a IS DISTINCT FROM (b = c))"},
		{"a - b - c", "((a - b) - c)"},
		{"a IS NULL IS NULL", "((a IS NULL) IS NULL)"},
	}
	for _, tc := range tests {
		e, err := ParseExpr(tc.in)
		if err != nil {
			t.Fatalf("ParseExpr(%q): %v", tc.in, err)
		}
		if got := fp(e); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

// fp formats fully parenthesised.
func fp(e Expr) string {
	switch e := e.(type) {
	case *Binary:
		return "(" + fp(e.L) + " " + e.Op.String() + " " + fp(e.R) + ")"
	case *Unary:
		if e.Op == Not {
			return "(NOT " + fp(e.X) + ")"
		}
		return "(" + e.Op.String() + fp(e.X) + ")"
	case *IsNull:
		return "(" + fp(e.X) + " IS NULL)"
	case *IsDistinctFrom:
		return "(" + fp(e.X) + " IS DISTINCT FROM " + fp(e.Y) + ")"
	case *Like:
		return "(" + fp(e.X) + " LIKE " + fp(e.Pattern) + ")"
	case *Between:
		return "(" + fp(e.X) + " BETWEEN " + fp(e.Lo) + " AND " + fp(e.Hi) + ")"
	case *In:
		return "(" + fp(e.X) + " IN (1))"
	case *Index:
		return "(" + fp(e.X) + "[" + fp(e.Index) + "])"
	case *Cast:
		return "CAST(" + fp(e.X) + " AS " + e.Type.String() + ")"
	}
	return e.String()
}

func TestPositions(t *testing.T) {
	s, err := Parse("SELECT a,\n  \"é\".b FROM tenant\nWHERE é = 1")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Items[1].Expr.Pos(); got != (Pos{Offset: 12, Line: 2, Column: 3}) {
		t.Errorf("item 2 at %#v", got)
	}
	if got := s.FromPos; got != (Pos{Offset: 24, Line: 2, Column: 14}) {
		t.Errorf("FROM tenant at %#v", got)
	}
	b := s.Where.(*Binary)
	if b.OpPos != (Pos{Offset: 40, Line: 3, Column: 9}) {
		t.Errorf("= at %#v", b.OpPos)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "line 1, column 1: expected SELECT, found end of input"},
		{"SELEC * FROM tenant", `line 1, column 1: expected SELECT, found "SELEC" (did you mean SELECT?)`},
		{"SELECT * FROM tenant WHERE", "line 1, column 27: expected an expression after WHERE, found end of input"},
		{"SELECT * form tenant", `line 1, column 10: expected FROM after the select list, found "form" (did you mean FROM?)`},
		{"SELECT a, FROM tenant", "line 1, column 11: expected an expression or * in the select list, found FROM"},
		{"SELECT * FROM acme", `line 1, column 15: expected tenant after FROM, found "acme" (a query reads its subscription's tenant topic, which is named tenant)`},
		{"SELECT * FROM tenant t", `line 1, column 22: expected WHERE, GROUP BY or end of input after FROM tenant, found "t" (table aliases are not supported)`},
		{"SELECT * FROM tenant WHERE a = 1 ORDER BY a", "line 1, column 34: ORDER BY is not supported: a streaming query has no end to sort"},
		{"SELECT * FROM tenant; SELECT 1", `line 1, column 23: expected end of input after ";", found SELECT (only one statement is allowed)`},
		{"SELECT * FROM tenant WHERE a = 1)", `line 1, column 33: expected GROUP BY, HAVING, ";" or end of input, found ")"`},
		{"SELECT * FROM tenant WHERE a = 1 GROUPP BY a", `line 1, column 34: expected GROUP BY, HAVING, ";" or end of input, found "GROUPP" (did you mean GROUP?)`},
		{"SELECT * FROM tenant WHERE a = b = c", "line 1, column 34: unexpected \"=\": comparison, LIKE, BETWEEN and IN operators do not associate; add parentheses"},
		{"SELECT * FROM tenant WHERE a LIKE b LIKE c", "line 1, column 37: unexpected LIKE: comparison, LIKE, BETWEEN and IN operators do not associate; add parentheses"},
		{"SELECT (a FROM tenant", `line 1, column 11: expected ")" to close the "(" at line 1, column 8, found FROM`},
		{"SELECT a +\n FROM tenant", `line 2, column 2: expected an expression after "+", found FROM`},
		{"SELECT 'abc FROM tenant", "line 1, column 8: unterminated string literal: expected a closing ' for the one opened here"},
		{`SELECT "abc FROM tenant`, `line 1, column 8: unterminated quoted identifier: expected a closing " for the one opened here`},
		{`SELECT "" FROM tenant`, `line 1, column 8: empty quoted identifier: expected at least one character between ""`},
		{"SELECT a /* x\n FROM tenant", "line 1, column 10: unterminated block comment: expected */ to close the /* opened here"},
		{"SELECT 1e FROM tenant", `line 1, column 9: malformed number "1e": expected digits after the exponent marker`},
		{"SELECT 12abc FROM tenant", `line 1, column 10: malformed number: unexpected 'a' after "12"; expected an operator or space after a number`},
		{"SELECT a ? b FROM tenant", `line 1, column 10: unexpected character '?': expected an identifier, literal, operator or punctuation`},
		{"SELECT a IS 1 FROM tenant", "line 1, column 13: expected NOT, NULL or DISTINCT FROM after IS, found number 1"},
		{"SELECT a IS NOT 1 FROM tenant", "line 1, column 17: expected NULL or DISTINCT FROM after IS NOT, found number 1"},
		{"SELECT a BETWEEN 1 OR 2 FROM tenant", `line 1, column 20: expected AND in BETWEEN ... AND ..., found OR`},
		{"SELECT a IN 1 FROM tenant", `line 1, column 13: expected "(" after IN, found number 1`},
		{"SELECT a IN (SELECT 1) FROM tenant", "line 1, column 14: expected a list of values after IN (, found SELECT (subqueries are not supported)"},
		{"SELECT a IN (1 2) FROM tenant", `line 1, column 16: expected "," or ")" in IN (, found number 2`},
		{"SELECT CASE END FROM tenant", "line 1, column 13: expected an expression after CASE, found END"},
		{"SELECT CASE WHEN a THEN 1 FROM tenant", "line 1, column 27: expected END to close the CASE at line 1, column 8, found FROM"},
		{"SELECT CAST(a bigint) FROM tenant", `line 1, column 15: expected AS in CAST(... AS type), found "bigint"`},
		{"SELECT CAST(a AS 1) FROM tenant", "line 1, column 18: expected a type name after AS, found number 1"},
		{"SELECT CAST(a AS decimal(10 2)) FROM tenant", `line 1, column 29: expected ")" or "," after the parameters of DECIMAL, found number 2`},
		{"SELECT a::1 FROM tenant", "line 1, column 11: expected a type name after ::, found number 1"},
		{"SELECT INTERVAL '5 fortnights' FROM tenant", "line 1, column 17: expected an interval such as INTERVAL '5' MINUTE or INTERVAL '5 minutes' (units SECOND, MINUTE, HOUR, DAY), found INTERVAL '5 fortnights'"},
		{"SELECT INTERVAL 'x' MINUTE FROM tenant", "line 1, column 17: expected a whole number in the interval string before MINUTE, found 'x'"},
		{"SELECT a[1 FROM tenant", `line 1, column 12: expected "]" to close the index, found FROM`},
		{"SELECT a.* FROM tenant", `line 1, column 8: expected * or tenant.*, found "a".* (only the tenant's fields can be expanded with .*)`},
		{"SELECT a.1 FROM tenant", `line 1, column 9: expected FROM or "," after the select list, found number .1`},
		{"SELECT count(* FROM tenant", `line 1, column 16: expected ")" after count(*, found FROM`},
		{"SELECT DISTINCT a FROM tenant", "line 1, column 8: expected a select list after SELECT, found DISTINCT (SELECT DISTINCT is not supported)"},
		{"WITH x AS (SELECT 1) SELECT * FROM tenant", "line 1, column 1: expected SELECT, found WITH (common table expressions are not supported)"},
		{"SELECT * FROM tenant WHERE EXISTS (SELECT 1)", "line 1, column 28: expected an expression, found EXISTS (subqueries are not supported)"},
		{"SELECT a AS FROM tenant WHERE", `line 1, column 18: expected FROM after the select list, found "tenant"`},
		{"SELECT a AS 1 FROM tenant", "line 1, column 13: expected an alias after AS, found number 1"},
		{"SELECT * FROM tenant GROUP a", `line 1, column 28: expected BY after GROUP, found "a"`},
		{"SELECT * FROM tenant HAVING", "line 1, column 28: expected an expression after HAVING, found end of input"},
		{"SELECT\n\ta, é + FROM tenant", "line 2, column 9: expected an expression after \"+\", found FROM"},
		{"SELECT \xff FROM tenant", "line 1, column 8: invalid UTF-8: expected query text in UTF-8"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", tc.in, err)
			continue
		}
		if got := err.Error(); got != tc.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestLimits(t *testing.T) {
	long := "SELECT * FROM tenant WHERE a = '" + strings.Repeat("x", MaxQueryBytes) + "'"
	if _, err := Parse(long); err == nil || !strings.Contains(err.Error(), "expected at most 65536") {
		t.Errorf("long query: %v", err)
	}
	deep := "SELECT " + strings.Repeat("(", 300) + "a" + strings.Repeat(")", 300) + " FROM tenant"
	if _, err := Parse(deep); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("deep query: %v", err)
	}
	deepNot := "SELECT " + strings.Repeat("NOT ", 5000) + "a FROM tenant"
	if _, err := Parse(deepNot); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("deep NOT: %v", err)
	}
	ok := "SELECT " + strings.Repeat("(", 100) + "a" + strings.Repeat(")", 100) + " FROM tenant"
	if _, err := Parse(ok); err != nil {
		t.Errorf("100 levels: %v", err)
	}
	chain := "SELECT a" + strings.Repeat(" + a", 10000) + " FROM tenant"
	roundTrip(t, chain)
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"SELECT * FROM tenant WHERE action = 'deny' AND dst_port < 1024",
		"SELECT src_ip, COUNT(*) AS n, SUM(bytes) FROM tenant GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), src_ip HAVING COUNT(*) > 10;",
		"SELECT a.b.c, m['k'], arr[1].x, -a::bigint, TRY_CAST(b AS DECIMAL(10,2)) FROM tenant",
		"SELECT CASE a WHEN 1 THEN 'x' ELSE NULL END, CASE WHEN b IS NOT NULL THEN 1 END FROM tenant",
		"SELECT * FROM tenant WHERE a NOT BETWEEN 1 AND 2 OR b NOT IN (1,2) OR c NOT ILIKE 'x!%' ESCAPE '!' OR d IS NOT DISTINCT FROM e",
		"SELECT \"Quoted \"\"x\"\"\" AS \"y\", 1e-3, .5, TIMESTAMP '2024-01-01', NOT NOT TRUE FROM tenant /* c */ -- x",
		"SELECT EXTRACT(hour FROM ts), SUBSTRING(s FROM 1 FOR 2), COUNT(DISTINCT a) FROM tenant",
		"SELECT - -1, a||b||c, (a = b) = c FROM tenant",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error is not a *SyntaxError: %v", err)
			}
			if se.Pos.Line < 1 || se.Pos.Column < 1 || se.Pos.Offset < 0 || se.Pos.Offset > len(src) {
				t.Fatalf("bad error position %+v for input of %d bytes", se.Pos, len(src))
			}
			return
		}
		out := s.String()
		s2, err := Parse(out)
		if err != nil {
			t.Fatalf("reparse of %q (from %q): %v", out, src, err)
		}
		stripPos(reflect.ValueOf(s))
		stripPos(reflect.ValueOf(s2))
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip changed the tree: %q -> %q -> %q", src, out, s2.String())
		}
	})
}

// Package sql is Sluice's streaming SQL front end: it parses the dialect
// into a syntax tree with positions (and formats trees back as canonical
// SQL), analyses a statement against the tenant's reader Avro schema, and
// compiles it into closures a job runs per record. (Importers that also use
// database/sql alias it, e.g. sluicesql.) docs/sql.md is the user's
// reference.
//
// # Analysis and compilation
//
// [Analyze] resolves every name against the reader schema (bare names
// case-insensitively, with a "did you mean" on a miss), types every
// expression (Avro types map to the [Kind]s; INTEGER, BIGINT and DOUBLE
// widen implicitly, and a string literal takes the type it is compared
// with), checks aggregates and windows, and returns a [Query]: the reader
// paths the query reads (those WHERE needs first), the result columns, and
// compiled [Eval]s for the filter, the projection or the aggregation's
// keys, arguments and post-aggregation expressions. Errors are
// *[AnalysisError]s with a position.
//
// An Eval is a Go closure over an [Env] holding the decoded row: the tree
// is walked once, at analysis, never per record. Evals return a [Value] by
// value and write computed strings into the Env's scratch buffer, so the
// filter/project path allocates nothing per record. Constant
// subexpressions are folded at analysis; evaluation errors (overflow,
// division by zero, a failed CAST) are recorded in the Env and make the
// runtime dead-letter the record. Semantics follow PostgreSQL: three-valued
// logic, integer overflow checks, truncating integer division, byte-wise
// string comparison, half-to-even rounding of float casts, LIKE with a
// backslash escape.
//
// Scalar functions are registered by name ([Register]) with typed
// overloads; the analyser picks the overload needing the fewest implicit
// conversions and builds it with its constant arguments (a regular
// expression, a CIDR) prepared once. [Query.Plan] gives the operator DAG for
// EXPLAIN, as JSON or Graphviz DOT.
//
// Grammar (keywords are case-insensitive; [x] optional, {x} repeated):
//
//	statement  = select [";"] EOF
//	select     = "SELECT" item {"," item} "FROM" "tenant"
//	             ["WHERE" expr] ["GROUP" "BY" expr {"," expr}] ["HAVING" expr]
//	item       = "*" | "tenant" "." "*" | expr [["AS"] alias]
//	expr       = expr "OR" expr | expr "AND" expr | "NOT" expr
//	           | expr "IS" ["NOT"] "NULL" | expr "IS" ["NOT"] "DISTINCT" "FROM" expr
//	           | expr cmp expr                               (cmp: = <> != < <= > >=)
//	           | expr ["NOT"] ("LIKE" | "ILIKE") expr ["ESCAPE" expr]
//	           | expr ["NOT"] "BETWEEN" expr "AND" expr
//	           | expr ["NOT"] "IN" "(" expr {"," expr} ")"
//	           | expr ("||" | "+" | "-" | "*" | "/" | "%") expr
//	           | ("-" | "+") expr
//	           | expr "::" type | expr "[" expr "]" | expr "." name
//	           | primary
//	primary    = integer | float | string | "TRUE" | "FALSE" | "NULL"
//	           | "INTERVAL" string [unit] | "TIMESTAMP" string | ("DATE" | "TIME") string
//	           | name {"." name} | name "(" [["DISTINCT"] expr {"," expr} | "*"] ")"
//	           | "EXTRACT" "(" name "FROM" expr ")"
//	           | "SUBSTRING" "(" expr "FROM" expr ["FOR" expr] ")"
//	           | "POSITION" "(" expr "IN" expr ")"
//	           | ("CAST" | "TRY_CAST") "(" expr "AS" type ")"
//	           | "CASE" [expr] "WHEN" expr "THEN" expr {"WHEN" expr "THEN" expr} ["ELSE" expr] "END"
//	           | "(" expr ")"
//	type       = word ["PRECISION"] ["(" integer {"," integer} ")"]
//	unit       = SECOND | MINUTE | HOUR | DAY   (plural forms accepted)
//
// Precedence, lowest first, as in PostgreSQL: OR; AND; NOT; IS; comparison;
// LIKE ILIKE BETWEEN IN; || (PostgreSQL's "any other operator" level, above
// comparison and below + -); + -; * / %; unary - +; postfix :: [] and ".".
// Comparison and the LIKE/BETWEEN/IN level do not associate (a = b = c is an
// error, as in PostgreSQL); everything else associates to the left. The
// bounds of BETWEEN and the pattern of LIKE bind tighter than their level, so
// "a BETWEEN 1 AND 2 AND b" means "(a BETWEEN 1 AND 2) AND b".
//
// Lexical rules: identifiers are letters, digits, _ and $ (not starting with
// a digit); reserved words (IsReserved) must be "double quoted" to be names,
// with "" for a quote inside; INTERVAL, TIMESTAMP and the units are not
// reserved, so columns may be called timestamp. Bare names keep their case:
// the analyser matches them case-insensitively and quoted names exactly.
// Strings are 'single quoted' with ” for a quote. Numbers are 12, 1.5, .5,
// 1e3, 2.5E-3; a number may not run into letters. Comments are -- to end of
// line and /* ... */, which nest as in PostgreSQL. x::type is PostgreSQL's
// cast and means CAST(x AS type). INTERVAL '5' MINUTE and INTERVAL '5 minutes'
// both give IntervalLit{5, Minute}. DATE 'x' and TIME 'x' are CAST('x' AS DATE)
// and CAST('x' AS TIME). EXTRACT(f FROM x) is EXTRACT('f', x) and
// SUBSTRING(s FROM a FOR b) is SUBSTRING(s, a, b), and POSITION(a IN b) is
// POSITION(a, b).
//
// Limits: MaxQueryBytes of text and MaxDepth of expression nesting; beyond
// them Parse returns an error rather than exhausting the stack.
//
// Every error is a *SyntaxError with the line and column (1-based, counted in
// runes) and a message naming what was expected and what was found.
package sql

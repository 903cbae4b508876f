// Package sql parses Sluice's streaming SQL dialect into a syntax tree with
// positions, and formats trees back as canonical SQL. (Importers that also
// use database/sql alias it, e.g. sluicesql.) Analysis against the tenant's
// Avro schema, planning and compilation build on this tree.
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
//	           | "INTERVAL" string [unit] | "TIMESTAMP" string
//	           | name {"." name} | name "(" [["DISTINCT"] expr {"," expr} | "*"] ")"
//	           | "EXTRACT" "(" name "FROM" expr ")"
//	           | "SUBSTRING" "(" expr "FROM" expr ["FOR" expr] ")"
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
// both give IntervalLit{5, Minute}. EXTRACT(f FROM x) is EXTRACT('f', x) and
// SUBSTRING(s FROM a FOR b) is SUBSTRING(s, a, b).
//
// Limits: MaxQueryBytes of text and MaxDepth of expression nesting; beyond
// them Parse returns an error rather than exhausting the stack.
//
// Every error is a *SyntaxError with the line and column (1-based, counted in
// runes) and a message naming what was expected and what was found.
package sql

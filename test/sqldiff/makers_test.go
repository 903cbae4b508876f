package sqldiff

import (
	"fmt"
	"strings"
)

// c is shorthand for a construct list.
func c(cs ...string) []string { return cs }

// fixed is a maker of one expression.
func fixed(id string, kind valueKind, cons, fns []string, e expr) maker {
	return maker{id: id, kind: kind, cons: cons, fns: fns, make: func(*gen) expr { return e }}
}

// likePatterns are LIKE patterns with what they exercise. PostgreSQL's
// default escape character is the backslash.
var likePatterns = []struct {
	pat  string
	cons []string
}{
	{"a%", c("like:%")},
	{"%a%", c("like:%")},
	{"%b", c("like:%")},
	{"_", c("like:_")},
	{"__", c("like:_")},
	{"a_b", c("like:_")},
	{"%", c("like:%")},
	{"", c("like:empty")},
	{`%\%`, c("like:default-escape")},
	{`a\_b`, c("like:default-escape")},
	{`%\\%`, c("like:default-escape")},
	{"caf_", c("like:_", "non-ascii")},
	{"é%", c("like:%", "non-ascii")},
	{"Ω%", c("like:%", "non-ascii")},
	{"%É", c("like:%", "non-ascii")},
	{"A%", c("like:%")},
}

var likeEscapePatterns = []string{"%!%%", "%!_%", "x!!y", "a!%b", "!%%", "%!!%"}

// allMakers lists every expression maker.
func allMakers() []maker {
	var ms []maker
	add := func(m ...maker) { ms = append(ms, m...) }

	// Integer arithmetic (guarded: these must not fail).
	gA := func(e expr) expr { return e.guarded(guardA) }
	gAB := func(e expr) expr { return e.guarded(guardA, guardB) }
	add(
		fixed("int:a+c", kInt, c("+"), nil, gA(same("a + c"))),
		fixed("int:a-c", kInt, c("-"), nil, gA(same("a - c"))),
		fixed("int:c-a", kInt, c("-"), nil, gA(same("c - a"))),
		fixed("int:a*c", kInt, c("*"), nil, gA(same("a * c"))),
		fixed("int:b*c", kInt, c("*", "bigint"), nil, gAB(same("b * c"))),
		fixed("int:b+a", kInt, c("+", "bigint"), nil, gAB(same("b + a"))),
		fixed("int:b-c", kInt, c("-", "bigint"), nil, gAB(same("b - c"))),
		fixed("int:neg-a", kInt, c("-", "unary-minus"), nil, gA(same("-a"))),
		fixed("int:a/7", kInt, c("/", "int-div"), nil, same("a / 7")),
		fixed("int:a/-3", kInt, c("/", "int-div"), nil, same("a / -3")),
		fixed("int:c/3", kInt, c("/", "int-div"), nil, same("c / 3")),
		fixed("int:a/nullif-c", kInt, c("/", "int-div", "fn:NULLIF"), c("NULLIF"), same("a / NULLIF(c, 0)")),
		fixed("int:b/nullif-c", kInt, c("/", "int-div", "bigint", "fn:NULLIF"), c("NULLIF"), same("b / NULLIF(c, 0)")),
		fixed("int:a%7", kInt, c("%"), nil, same("a % 7")),
		fixed("int:c%-3", kInt, c("%"), nil, same("c % -3")),
		fixed("int:a%nullif-c", kInt, c("%", "fn:NULLIF"), c("NULLIF"), same("a % NULLIF(c, 0)")),
		fixed("int:b%10", kInt, c("%", "bigint"), nil, same("b % 10")),
		fixed("int:precedence", kInt, c("+", "*", "-"), nil, gA(same("a + c * 2 - -3"))),
		fixed("int:paren", kInt, c("+", "*"), nil, gA(same("(a + c) * 2"))),
		fixed("int:cast-a-bigint", kInt, c("cast:bigint"), nil, same("CAST(a AS BIGINT)")),
		fixed("int:cast-b-int", kInt, c("cast:int"), nil, gAB(same("CAST(b AS INTEGER)"))),
		fixed("int:cast-d-int", kInt, c("cast:int", "rounding"), nil, same("CAST(d AS INTEGER)").guarded(guardD)),
		fixed("int:cast-d-bigint", kInt, c("cast:bigint", "rounding"), nil, same("CAST(d AS BIGINT)")),
		fixed("int:d::int", kInt, c("cast:int", "cast:colon", "rounding"), nil, same("d::int").guarded(guardD)),
		fixed("int:cast-flag-int", kInt, c("cast:int"), nil, same("CAST(flag AS INTEGER)")),
		fixed("int:cast-t-int", kInt, c("cast:int", "cast:from-varchar"), nil, same("CAST(t AS INTEGER)").guarded(guardTI)),
		fixed("int:cast-t-bigint", kInt, c("cast:bigint", "cast:from-varchar"), nil, same("CAST(t AS BIGINT)").guarded(guardTI)),
		fixed("int:coalesce", kInt, c("fn:COALESCE"), c("COALESCE"), same("COALESCE(a, c)")),
		fixed("int:coalesce3", kInt, c("fn:COALESCE", "bigint"), c("COALESCE"), same("COALESCE(a, b, -1)")),
		fixed("int:nullif", kInt, c("fn:NULLIF"), c("NULLIF"), same("NULLIF(c, 5)")),
		fixed("int:case-searched", kInt, c("case-searched"), nil, same("CASE WHEN a > 0 THEN 1 WHEN a < 0 THEN -1 ELSE 0 END")),
		fixed("int:case-no-else", kInt, c("case-searched", "case-no-else"), nil, same("CASE WHEN flag THEN c END")),
		fixed("int:case-simple", kInt, c("case-simple"), nil, same("CASE c WHEN 0 THEN 100 WHEN 1 THEN 101 WHEN -1 THEN 99 ELSE c END")),
		fixed("int:case-simple-null", kInt, c("case-simple", "null-logic"), nil, same("CASE a WHEN NULL THEN 1 ELSE 2 END")),
		fixed("int:case-simple-string", kInt, c("case-simple"), nil, same("CASE k WHEN 'alpha' THEN 1 WHEN 'beta' THEN 2 END")),
		fixed("int:null-arith", kInt, c("+", "null-logic"), nil, same("c + NULL")),
		fixed("int:abs", kInt, c("fn:ABS"), c("ABS"), gA(same("ABS(a)"))),
		fixed("int:abs-c", kInt, c("fn:ABS"), c("ABS"), same("ABS(c)")),
		fixed("int:mod", kInt, c("fn:MOD"), c("MOD"), same("MOD(a, 7)")),
		fixed("int:mod-neg", kInt, c("fn:MOD"), c("MOD"), same("MOD(c, -4)")),
		fixed("int:length", kInt, c("fn:LENGTH", "non-ascii"), c("LENGTH"), same("LENGTH(s)")),
		fixed("int:strpos", kInt, c("fn:STRPOS"), c("STRPOS"), same("STRPOS(s, 'a')")),
		fixed("int:strpos-empty", kInt, c("fn:STRPOS"), c("STRPOS"), same("STRPOS(s, '')")),
		fixed("int:greatest", kInt, c("fn:GREATEST", "null-logic"), c("GREATEST"), same("GREATEST(a, c)")),
		fixed("int:least", kInt, c("fn:LEAST", "null-logic"), c("LEAST"), same("LEAST(a, c, 0)")),
		fixed("int:greatest-bigint", kInt, c("fn:GREATEST", "bigint"), c("GREATEST"), same("GREATEST(a, b)")),
		fixed("int:sign", kInt, c("fn:SIGN"), c("SIGN"), same("SIGN(c)")),
		fixed("int:extract-hour", kInt, c("fn:EXTRACT"), c("EXTRACT"), same("EXTRACT(HOUR FROM ts)")),
		fixed("int:extract-minute", kInt, c("fn:EXTRACT"), c("EXTRACT"), same("EXTRACT(MINUTE FROM ts)")),
		fixed("int:extract-day", kInt, c("fn:EXTRACT"), c("EXTRACT"), same("EXTRACT(DAY FROM ts)")),
	)

	// Doubles.
	gD := func(e expr) expr { return e.guarded(guardD) }
	add(
		fixed("dbl:d+lit", kDbl, c("+", "double"), nil, sf("d + %s", dbl("1.5"))),
		fixed("dbl:d*c", kDbl, c("*", "double"), nil, gD(same("d * c"))),
		fixed("dbl:d-a", kDbl, c("-", "double"), nil, gD(same("d - a"))),
		fixed("dbl:d/4", kDbl, c("/", "double"), nil, same("d / 4")),
		fixed("dbl:a/2.0", kDbl, c("/", "double"), nil, sf("a / %s", dbl("2.0"))),
		fixed("dbl:d/nullif-c", kDbl, c("/", "double", "fn:NULLIF"), c("NULLIF"), same("d / NULLIF(c, 0)")),
		fixed("dbl:c*0.5", kDbl, c("*", "double"), nil, sf("c * %s", dbl("0.5"))),
		fixed("dbl:neg-d", kDbl, c("unary-minus", "double"), nil, same("-d")),
		fixed("dbl:cast-a-double", kDbl, c("cast:double"), nil, expr{sl: "CAST(a AS DOUBLE)", pg: "CAST(a AS DOUBLE PRECISION)"}),
		fixed("dbl:cast-b-double", kDbl, c("cast:double"), nil, expr{sl: "CAST(b AS DOUBLE PRECISION)", pg: "CAST(b AS DOUBLE PRECISION)"}),
		fixed("dbl:cast-t-double", kDbl, c("cast:double", "cast:from-varchar"), nil, expr{sl: "CAST(t AS DOUBLE)", pg: "CAST(t AS DOUBLE PRECISION)"}.guarded(guardTD)),
		fixed("dbl:round", kDbl, c("fn:ROUND", "rounding"), c("ROUND"), same("ROUND(d)")),
		fixed("dbl:round-tenths", kDbl, c("fn:ROUND", "rounding"), c("ROUND"), same("ROUND(d * 10) / 10")),
		fixed("dbl:floor", kDbl, c("fn:FLOOR"), c("FLOOR"), same("FLOOR(d)")),
		fixed("dbl:ceil", kDbl, c("fn:CEIL"), c("CEIL"), same("CEIL(d)")),
		fixed("dbl:abs", kDbl, c("fn:ABS"), c("ABS"), same("ABS(d)")),
		fixed("dbl:power", kDbl, c("fn:POWER"), c("POWER"), gD(same("POWER(d, 2)"))),
		fixed("dbl:power-half", kDbl, c("fn:POWER", "fn:ABS"), c("POWER", "ABS"), sf("POWER(ABS(d), %s)", dbl("0.5"))),
		fixed("dbl:sqrt", kDbl, c("fn:SQRT", "fn:ABS"), c("SQRT", "ABS"), same("SQRT(ABS(d))")),
		fixed("dbl:sign", kDbl, c("fn:SIGN"), c("SIGN"), same("SIGN(d)")),
		fixed("dbl:coalesce", kDbl, c("fn:COALESCE", "double"), c("COALESCE"), sf("COALESCE(d, %s)", dbl("0.5"))),
		fixed("dbl:coalesce-mixed", kDbl, c("fn:COALESCE", "double"), c("COALESCE"), same("COALESCE(d, a)")),
		fixed("dbl:greatest", kDbl, c("fn:GREATEST", "double"), c("GREATEST"), sf("GREATEST(d, %s, a)", dbl("0.5"))),
		fixed("dbl:least", kDbl, c("fn:LEAST", "double"), c("LEAST"), same("LEAST(d, c)")),
		fixed("dbl:case-mixed", kDbl, c("case-searched", "double"), nil, same("CASE WHEN d > 0 THEN d ELSE c END")),
		fixed("dbl:greatest-nan", kDbl, c("fn:GREATEST", "nan-inf"), c("GREATEST"), sf("GREATEST(d, %s)", dbl("0.0"))),
		fixed("dbl:least-nan", kDbl, c("fn:LEAST", "nan-inf"), c("LEAST"), sf("LEAST(d, %s)", dbl("0.0"))),
		fixed("dbl:case-nan", kDbl, c("case-simple", "nan-inf"), nil, expr{sl: "CASE d WHEN CAST('NaN' AS DOUBLE) THEN 1 ELSE 0 END", pg: "CASE d WHEN CAST('NaN' AS DOUBLE PRECISION) THEN 1 ELSE 0 END"}),
		fixed("dbl:nullif-nan", kDbl, c("fn:NULLIF", "nan-inf"), c("NULLIF"), expr{sl: "NULLIF(d, CAST('NaN' AS DOUBLE))", pg: "NULLIF(d, CAST('NaN' AS DOUBLE PRECISION))"}),
		fixed("dbl:extract-second", kDbl, c("fn:EXTRACT"), c("EXTRACT"), same("EXTRACT(SECOND FROM ts)")),
	)

	// Strings.
	add(
		fixed("str:concat-op", kStr, c("||", "null-logic"), nil, same("s || '-' || t")),
		fixed("str:concat-int", kStr, c("||"), nil, same("k || a")),
		fixed("str:concat-bool", kStr, c("||"), nil, same("k || flag")),
		fixed("str:cast-a-varchar", kStr, c("cast:varchar"), nil, same("CAST(a AS VARCHAR)")),
		fixed("str:cast-b-varchar", kStr, c("cast:varchar"), nil, same("CAST(b AS VARCHAR)")),
		fixed("str:cast-d-varchar", kStr, c("cast:varchar", "double"), nil, same("CAST(d AS VARCHAR)")),
		fixed("str:cast-d-text", kStr, c("cast:varchar", "cast:colon", "double"), nil, same("(d / 3)::text")),
		fixed("str:cast-flag-varchar", kStr, c("cast:varchar"), nil, same("CAST(flag AS VARCHAR)")),
		fixed("str:cast-ts-varchar", kStr, c("cast:varchar"), nil, same("CAST(ts AS VARCHAR)")),
		fixed("str:lower", kStr, c("fn:LOWER", "non-ascii"), c("LOWER"), same("LOWER(s)")),
		fixed("str:upper", kStr, c("fn:UPPER", "non-ascii"), c("UPPER"), same("UPPER(s)")),
		fixed("str:substring", kStr, c("fn:SUBSTRING"), c("SUBSTRING"), same("SUBSTRING(s, 2, 3)")),
		fixed("str:substring-from-for", kStr, c("fn:SUBSTRING", "substring-from"), c("SUBSTRING"), same("SUBSTRING(s FROM 0 FOR 2)")),
		fixed("str:substring-from", kStr, c("fn:SUBSTRING", "substring-from"), c("SUBSTRING"), same("SUBSTRING(s FROM 3)")),
		fixed("str:substring-neg", kStr, c("fn:SUBSTRING"), c("SUBSTRING"), same("SUBSTRING(t, -1, 4)")),
		fixed("str:trim", kStr, c("fn:TRIM"), c("TRIM"), same("TRIM(s)")),
		fixed("str:replace", kStr, c("fn:REPLACE"), c("REPLACE"), same("REPLACE(s, 'a', 'XY')")),
		fixed("str:replace-empty", kStr, c("fn:REPLACE"), c("REPLACE"), same("REPLACE(s, '', 'z')")),
		fixed("str:split-part", kStr, c("fn:SPLIT_PART"), c("SPLIT_PART"), same("SPLIT_PART(s, ' ', 2)")),
		fixed("str:split-part-1", kStr, c("fn:SPLIT_PART"), c("SPLIT_PART"), same("SPLIT_PART(s, 'a', 1)")),
		fixed("str:left", kStr, c("fn:LEFT"), c("LEFT"), same("LEFT(s, 2)")),
		fixed("str:left-neg", kStr, c("fn:LEFT"), c("LEFT"), same("LEFT(s, -1)")),
		fixed("str:right", kStr, c("fn:RIGHT", "non-ascii"), c("RIGHT"), same("RIGHT(s, 3)")),
		fixed("str:right-neg", kStr, c("fn:RIGHT"), c("RIGHT"), same("RIGHT(s, -2)")),
		fixed("str:md5", kStr, c("fn:MD5"), c("MD5"), same("MD5(s)")),
		fixed("str:concat-fn", kStr, c("fn:CONCAT", "null-logic"), c("CONCAT"), same("CONCAT(s, '|', a, '|', k)")),
		fixed("str:concat-fn-double", kStr, c("fn:CONCAT", "double"), c("CONCAT"), same("CONCAT(d, '/', c)")),
		fixed("str:coalesce", kStr, c("fn:COALESCE"), c("COALESCE"), same("COALESCE(s, t)")),
		fixed("str:nullif", kStr, c("fn:NULLIF"), c("NULLIF"), same("NULLIF(s, '')")),
		fixed("str:case", kStr, c("case-searched"), nil, same("CASE WHEN s IS NULL THEN 'null' WHEN s = '' THEN 'empty' WHEN s < 'b' THEN 'low' ELSE s END")),
		fixed("str:case-simple", kStr, c("case-simple", "fn:LOWER"), c("LOWER"), same("CASE e WHEN 'RED' THEN 'r' WHEN 'GREEN' THEN 'g' ELSE LOWER(e) END")),
		fixed("str:greatest", kStr, c("fn:GREATEST", "string-cmp"), c("GREATEST"), same("GREATEST(s, t, k)")),
		fixed("str:lower-upper", kStr, c("fn:LOWER", "fn:UPPER"), c("LOWER", "UPPER"), same("UPPER(LOWER(s)) || LOWER(k)")),
		fixed("str:enum", kStr, c("enum"), nil, same("e")),
	)

	// Timestamps.
	add(
		fixed("ts:col", kTS, c("timestamp"), nil, same("ts")),
		fixed("ts:date-trunc-minute", kTS, c("fn:DATE_TRUNC"), c("DATE_TRUNC"), same("DATE_TRUNC('minute', ts)")),
		fixed("ts:date-trunc-hour", kTS, c("fn:DATE_TRUNC"), c("DATE_TRUNC"), same("DATE_TRUNC('hour', ts)")),
		fixed("ts:plus-interval", kTS, c("timestamp", "interval"), nil, same("ts + INTERVAL '90' SECOND")),
	)

	// More of the library, where PostgreSQL has the same function (or a
	// rewrite of it).
	pgOnly := func(sl, pg string) expr { return expr{sl: sl, pg: pg} }
	add(
		fixed("str:btrim", kStr, c("fn:BTRIM"), c("BTRIM"), same("BTRIM(s, 'a ')")),
		fixed("str:ltrim", kStr, c("fn:LTRIM"), c("LTRIM"), same("LTRIM(s)")),
		fixed("str:rtrim", kStr, c("fn:RTRIM"), c("RTRIM"), same("RTRIM(s, ' %')")),
		fixed("str:trim2", kStr, c("fn:TRIM"), c("TRIM"), same("TRIM(s, 'aA')")),
		fixed("int:char-length", kInt, c("fn:CHAR_LENGTH", "non-ascii"), c("CHAR_LENGTH"), same("CHAR_LENGTH(s)")),
		fixed("int:octet-length", kInt, c("fn:OCTET_LENGTH", "non-ascii"), c("OCTET_LENGTH"), same("OCTET_LENGTH(s)")),
		fixed("int:ascii", kInt, c("fn:ASCII", "non-ascii"), c("ASCII"), same("ASCII(s)")),
		fixed("str:chr", kStr, c("fn:CHR"), c("CHR"), same("CHR(c + 100)")),
		fixed("str:concat-ws", kStr, c("fn:CONCAT_WS", "null-logic"), c("CONCAT_WS"), same("CONCAT_WS('-', s, a, k)")),
		fixed("str:concat-ws-bool", kStr, c("fn:CONCAT_WS"), c("CONCAT_WS"), same("CONCAT_WS(',', flag, d)")),
		fixed("str:initcap", kStr, c("fn:INITCAP", "non-ascii"), c("INITCAP"), same("INITCAP(s)")),
		fixed("str:lpad", kStr, c("fn:LPAD"), c("LPAD"), same("LPAD(s, 6, '*')")),
		fixed("str:lpad-short", kStr, c("fn:LPAD"), c("LPAD"), same("LPAD(s, 2)")),
		fixed("str:rpad", kStr, c("fn:RPAD"), c("RPAD"), same("RPAD(s, 5, 'xy')")),
		fixed("str:repeat", kStr, c("fn:REPEAT"), c("REPEAT"), same("REPEAT(s, 2)")),
		fixed("str:reverse", kStr, c("fn:REVERSE", "non-ascii"), c("REVERSE"), same("REVERSE(s)")),
		fixed("str:translate", kStr, c("fn:TRANSLATE"), c("TRANSLATE"), same("TRANSLATE(s, 'ab%', 'x')")),
		fixed("str:substr", kStr, c("fn:SUBSTR"), c("SUBSTR"), same("SUBSTR(s, 2)")),
		fixed("str:split-part-neg", kStr, c("fn:SPLIT_PART"), c("SPLIT_PART"), same("SPLIT_PART(s, ' ', -1)")),
		fixed("str:to-hex", kStr, c("fn:TO_HEX"), c("TO_HEX"), same("TO_HEX(a)")),
		fixed("str:to-hex-bigint", kStr, c("fn:TO_HEX", "bigint"), c("TO_HEX"), same("TO_HEX(b)")),
		fixed("str:sha256", kStr, c("fn:SHA256"), c("SHA256"), pgOnly("SHA256(s)", "encode(sha256(convert_to(s, 'UTF8')), 'hex')")),
		fixed("str:encode-hex", kStr, c("fn:ENCODE"), c("ENCODE"), pgOnly("ENCODE(s, 'hex')", "encode(convert_to(s, 'UTF8'), 'hex')")),
		fixed("str:encode-base64", kStr, c("fn:ENCODE"), c("ENCODE"), pgOnly("ENCODE(s, 'base64')", "encode(convert_to(s, 'UTF8'), 'base64')")),
		fixed("str:regexp-replace", kStr, c("fn:REGEXP_REPLACE"), c("REGEXP_REPLACE"), same("REGEXP_REPLACE(s, '[aA]+', '#')")),
		fixed("str:regexp-replace-g", kStr, c("fn:REGEXP_REPLACE"), c("REGEXP_REPLACE"), same("REGEXP_REPLACE(s, '[aA]', '#', 'g')")),
		fixed("str:regexp-substr", kStr, c("fn:REGEXP_SUBSTR"), c("REGEXP_SUBSTR"), same("REGEXP_SUBSTR(s, '[a-z]+')")),
		fixed("str:cast-varchar-n", kStr, c("cast:varchar"), nil, same("CAST(s AS VARCHAR(3))")),
		fixed("str:concat-null", kStr, c("||", "null-logic"), nil, same("s || NULL")),
		fixed("dbl:round-n", kDbl, c("fn:ROUND", "rounding"), c("ROUND"), pgOnly("ROUND(d, 1)", "round(d::numeric, 1)::float8").guarded(guardD)),
		fixed("dbl:round-neg-n", kDbl, c("fn:ROUND", "rounding"), c("ROUND"), pgOnly("ROUND(d, -2)", "round(d::numeric, -2)::float8").guarded(guardD)),
		fixed("dbl:trunc", kDbl, c("fn:TRUNC"), c("TRUNC"), same("TRUNC(d)")),
		fixed("dbl:trunc-n", kDbl, c("fn:TRUNC"), c("TRUNC"), pgOnly("TRUNC(d, 1)", "trunc(d::numeric, 1)::float8").guarded(guardD)),
		fixed("dbl:exp", kDbl, c("fn:EXP"), c("EXP"), sf("EXP(c / %s)", dbl("4.0"))),
		fixed("dbl:ln", kDbl, c("fn:LN", "fn:ABS"), c("LN", "ABS"), sf("LN(ABS(d) + 1)")),
		fixed("dbl:log10", kDbl, c("fn:LOG10", "fn:ABS"), c("LOG10", "ABS"), same("LOG10(ABS(d) + 1)")),
		fixed("dbl:log", kDbl, c("fn:LOG", "fn:ABS"), c("LOG", "ABS"), same("LOG(ABS(d) + 1)")),
		fixed("dbl:cbrt", kDbl, c("fn:CBRT"), c("CBRT"), same("CBRT(d)")),
		fixed("dbl:trig", kDbl, c("fn:SIN", "fn:COS", "fn:ATAN2"), c("SIN", "COS", "ATAN2"), sf("SIN(c) + COS(d / 1000) + ATAN2(c, %s)", dbl("2.0")).guarded(guardD)),
		fixed("dbl:degrees", kDbl, c("fn:DEGREES", "fn:PI", "fn:ABS"), c("DEGREES", "PI", "ABS"), same("DEGREES(PI() / (ABS(c) + 1))")),
		fixed("dbl:date-part", kDbl, c("fn:DATE_PART"), c("DATE_PART"), same("DATE_PART('minute', ts)")),
		fixed("dbl:extract-epoch", kDbl, c("fn:EXTRACT"), c("EXTRACT"), same("EXTRACT(EPOCH FROM ts)")),
		fixed("dbl:extract-ms", kDbl, c("fn:EXTRACT"), c("EXTRACT"), same("EXTRACT(MILLISECOND FROM ts)")),
		fixed("dbl:extract-dow", kDbl, c("fn:EXTRACT"), c("EXTRACT"), same("EXTRACT(DOW FROM ts) + EXTRACT(DOY FROM ts) + EXTRACT(YEAR FROM ts)")),
		fixed("int:unix-millis", kInt, c("fn:UNIX_MILLIS"), c("UNIX_MILLIS"), pgOnly("UNIX_MILLIS(ts)", "floor(extract(epoch FROM ts) * 1000)::int8")),
		fixed("int:mod-bigint", kInt, c("fn:MOD", "bigint"), c("MOD"), same("MOD(b, 7)")),
		fixed("int:ceil-int", kInt, c("fn:CEIL"), c("CEIL"), same("CEIL(c) + FLOOR(a)")),
		fixed("int:bigint-literal", kInt, c("+", "bigint"), nil, same("a + 3000000000")),
		fixed("int:unary-plus", kInt, c("unary-plus"), nil, same("+c - -a")),
		fixed("int:div-mixed", kDbl, c("/", "int-div", "double"), nil, sf("a / 2 * %s", dbl("1.5"))),
		fixed("ts:date-trunc-second", kTS, c("fn:DATE_TRUNC"), c("DATE_TRUNC"), same("DATE_TRUNC('second', ts)")),
		fixed("ts:date-trunc-day", kTS, c("fn:DATE_TRUNC"), c("DATE_TRUNC"), same("DATE_TRUNC('day', ts)")),
		fixed("ts:minus-interval", kTS, c("timestamp", "interval"), nil, same("ts - INTERVAL '1' HOUR")),
		fixed("ts:greatest", kTS, c("fn:GREATEST", "timestamp"), c("GREATEST"), same("GREATEST(ts, TIMESTAMP '2026-03-01 10:15:00')")),
		fixed("ts:to-timestamp", kTS, c("fn:TO_TIMESTAMP"), c("TO_TIMESTAMP"), sf("TO_TIMESTAMP(c * %s)", dbl("86400.5"))),
		fixed("ts:cast-date", kTS, c("cast:date"), nil, same("CAST(ts AS DATE)")),
		fixed("ts:cast-time", kTS, c("cast:time"), nil, same("CAST(ts AS TIME)")),
		fixed("ts:interval-diff", kTS, c("interval"), nil, same("ts - TIMESTAMP '2026-03-01 10:00:00'")),
		fixed("str:cast-interval-varchar", kStr, c("cast:varchar", "interval"), nil, same("CAST(ts - TIMESTAMP '2026-03-01 10:00:00' AS VARCHAR)")),
		fixed("str:cast-date-varchar", kStr, c("cast:varchar", "cast:date"), nil, same("CAST(CAST(ts AS DATE) AS VARCHAR) || ' ' || CAST(CAST(ts AS TIME) AS VARCHAR)")),
		fixed("str:concat-ts", kStr, c("fn:CONCAT", "timestamp"), c("CONCAT"), same("CONCAT(k, ':', ts)")),
		fixed("dbl:extract-interval", kDbl, c("fn:EXTRACT", "interval"), c("EXTRACT"), same("EXTRACT(EPOCH FROM ts - TIMESTAMP '2026-03-01 10:00:00')")),
		fixed("ts:make-date", kTS, c("fn:MAKE_DATE"), c("MAKE_DATE"), same("MAKE_DATE(2026, 3, ABS(c) + 1)")),
	)

	// Predicates, with random operands.
	add(
		maker{id: "bool:cmp-int-int", kind: kBool, cons: c("cmp:int-int"), make: func(g *gen) expr {
			return sf("%s "+g.cmp()+" %s", same(g.oneOf("a", "b", "c")), same(g.oneOf("c", "a", "0", "-1", "2147483647")))
		}},
		maker{id: "bool:cmp-int-lit", kind: kBool, cons: c("cmp:int-int"), make: func(g *gen) expr {
			return sf("%s "+g.cmp()+" %s", same(g.oneOf("a", "b", "c")), g.smallInt())
		}},
		maker{id: "bool:cmp-int-double", kind: kBool, cons: c("cmp:int-double", "double"), make: func(g *gen) expr {
			return sf("%s "+g.cmp()+" %s", same(g.oneOf("a", "b", "c")), dbl(g.oneOf("2.5", "-0.5", "0.0", "1e3", "2147483646.5")))
		}},
		maker{id: "bool:cmp-double-int", kind: kBool, cons: c("cmp:int-double", "double"), make: func(g *gen) expr {
			return sf("d "+g.cmp()+" %s", same(g.oneOf("a", "c", "0", "3")))
		}},
		maker{id: "bool:cmp-string-lit", kind: kBool, cons: c("cmp:string", "string-cmp"), make: func(g *gen) expr {
			return sf("%s "+g.cmp()+" %s", same(g.oneOf("s", "t", "k")), same(g.oneOf("'b'", "'Alpha'", "'alpha'", "''", "'é'", "'a_b'", "'Z'", "'10'")))
		}},
		maker{id: "bool:cmp-string-string", kind: kBool, cons: c("cmp:string", "string-cmp"), make: func(g *gen) expr {
			return sf("s "+g.cmp()+" %s", same(g.oneOf("t", "k", "e")))
		}},
		maker{id: "bool:is-null", kind: kBool, cons: c("is null"), make: func(g *gen) expr {
			return same(g.oneOf("a", "b", "d", "s", "flag") + " IS NULL")
		}},
		maker{id: "bool:is-not-null", kind: kBool, cons: c("is not null"), make: func(g *gen) expr {
			return same(g.oneOf("a", "b", "d", "s", "flag") + " IS NOT NULL")
		}},
		maker{id: "bool:distinct", kind: kBool, cons: c("is distinct from", "null-logic"), make: func(g *gen) expr {
			return same(g.oneOf("a IS DISTINCT FROM c", "a IS DISTINCT FROM NULL", "s IS DISTINCT FROM t", "flag IS DISTINCT FROM TRUE", "a IS DISTINCT FROM b"))
		}},
		maker{id: "bool:not-distinct", kind: kBool, cons: c("is not distinct from", "null-logic"), make: func(g *gen) expr {
			return same(g.oneOf("a IS NOT DISTINCT FROM c", "s IS NOT DISTINCT FROM NULL", "flag IS NOT DISTINCT FROM FALSE", "a IS NOT DISTINCT FROM b"))
		}},
		maker{id: "bool:between", kind: kBool, cons: c("between"), make: func(g *gen) expr {
			return same(g.oneOf("a BETWEEN -100 AND 100", "c BETWEEN 5 AND -5", "b BETWEEN 0 AND 2147483648", "s BETWEEN 'a' AND 'c'", "ts BETWEEN TIMESTAMP '2026-03-01 10:05:00' AND TIMESTAMP '2026-03-01 10:07:30'"))
		}},
		maker{id: "bool:between-double", kind: kBool, cons: c("between", "double"), make: func(g *gen) expr {
			return sf("d BETWEEN %s AND %s", dbl("-0.5"), dbl("2.5"))
		}},
		maker{id: "bool:not-between", kind: kBool, cons: c("not between"), make: func(g *gen) expr {
			return same(g.oneOf("a NOT BETWEEN -100 AND 100", "c NOT BETWEEN 0 AND 10", "s NOT BETWEEN 'B' AND 'b'"))
		}},
		maker{id: "bool:in", kind: kBool, cons: c("in"), make: func(g *gen) expr {
			return same(g.oneOf("a IN (0, 1, -1, 7)", "c IN (1, 2, 3)", "k IN ('alpha', 'beta')", "s IN ('alpha', 'é', '')", "b IN (1, 2147483648)"))
		}},
		maker{id: "bool:in-null", kind: kBool, cons: c("in", "in-null", "null-logic"), make: func(g *gen) expr {
			return same(g.oneOf("a IN (1, NULL, 7)", "s IN ('alpha', NULL)", "c IN (NULL, 0)"))
		}},
		maker{id: "bool:not-in", kind: kBool, cons: c("not in"), make: func(g *gen) expr {
			return same(g.oneOf("c NOT IN (0, 1)", "k NOT IN ('alpha', 'beta', 'gamma')", "a NOT IN (0, -1)"))
		}},
		maker{id: "bool:not-in-null", kind: kBool, cons: c("not in", "in-null", "null-logic"), make: func(g *gen) expr {
			return same(g.oneOf("c NOT IN (1, NULL)", "s NOT IN ('b', NULL)"))
		}},
		maker{id: "bool:flag", kind: kBool, cons: c("boolean-column", "null-logic"), make: func(g *gen) expr {
			return same(g.oneOf("flag", "NOT flag", "flag = TRUE", "flag <> FALSE", "flag AND c > 0", "flag OR c > 0", "NOT flag OR a IS NULL"))
		}},
		maker{id: "bool:null-logic", kind: kBool, cons: c("null-logic", "and", "or", "not"), make: func(g *gen) expr {
			return same(g.oneOf("(a > 0) AND (s = 'alpha')", "(a > 0) OR (d < 0)", "NOT (a > 0 AND flag)", "(a = NULL) OR c > 0", "NOT (s LIKE 'a%' OR flag)", "(flag AND NULL) IS NULL"))
		}},
		maker{id: "bool:arith", kind: kBool, cons: c("+", "cmp:int-int"), make: func(g *gen) expr {
			return sf("a %% 1000 + c > %s", g.smallInt())
		}},
		maker{id: "bool:like", kind: kBool, cons: c("like"), make: func(g *gen) expr {
			p := likePatterns[g.r.IntN(len(likePatterns))]
			return same(fmt.Sprintf("%s LIKE '%s'", g.oneOf("s", "s", "t"), p.pat))
		}},
		maker{id: "bool:not-like", kind: kBool, cons: c("not like"), make: func(g *gen) expr {
			p := likePatterns[g.r.IntN(len(likePatterns))]
			return same(fmt.Sprintf("s NOT LIKE '%s'", p.pat))
		}},
		maker{id: "bool:ilike", kind: kBool, cons: c("ilike", "non-ascii"), make: func(g *gen) expr {
			return same(fmt.Sprintf("s ILIKE '%s'", g.oneOf("a%", "%B%", "É%", "%É", "caf_", "ALPHA", "%Ω%", "straße")))
		}},
		maker{id: "bool:not-ilike", kind: kBool, cons: c("not ilike"), make: func(g *gen) expr {
			return same(fmt.Sprintf("s NOT ILIKE '%s'", g.oneOf("a%", "%B%", "É%")))
		}},
		maker{id: "bool:like-escape", kind: kBool, cons: c("like", "like:escape"), make: func(g *gen) expr {
			return same(fmt.Sprintf("s LIKE '%s' ESCAPE '!'", likeEscapePatterns[g.r.IntN(len(likeEscapePatterns))]))
		}},
		maker{id: "bool:ilike-escape", kind: kBool, cons: c("ilike", "like:escape"), make: func(g *gen) expr {
			return same("s ILIKE 'A!%%' ESCAPE '!'")
		}},
		maker{id: "bool:like-each-pattern", kind: kBool, cons: c("like", "like:%", "like:_", "like:default-escape", "like:empty"), make: func(g *gen) expr {
			// All patterns at once, as a sum of matches projected per row.
			var parts []string
			for _, p := range likePatterns {
				parts = append(parts, fmt.Sprintf("(s LIKE '%s')", p.pat))
			}
			return same(strings.Join(parts, " OR "))
		}},
		maker{id: "bool:starts-with", kind: kBool, fns: c("STARTS_WITH"), cons: c("fn:STARTS_WITH"), make: func(g *gen) expr {
			return same(fmt.Sprintf("STARTS_WITH(s, '%s')", g.oneOf("a", "A", "", "é", "50")))
		}},
		maker{id: "bool:length", kind: kBool, fns: c("LENGTH"), cons: c("fn:LENGTH"), make: func(g *gen) expr {
			return same("LENGTH(s) > 3")
		}},
		maker{id: "bool:cast-t-bool", kind: kBool, cons: c("cast:boolean", "cast:from-varchar"), make: func(g *gen) expr {
			// CASE must not evaluate THEN for rows failing WHEN.
			return sf("CASE WHEN %s THEN CAST(t AS BOOLEAN) END", guardTB)
		}},
		maker{id: "bool:cast-int-bool", kind: kBool, cons: c("cast:boolean"), make: func(g *gen) expr {
			return same("CAST(c AS BOOLEAN)")
		}},
		maker{id: "bool:null-bounds", kind: kBool, cons: c("between", "null-logic"), make: func(g *gen) expr {
			return same(g.oneOf("a BETWEEN NULL AND 5", "c NOT BETWEEN -5 AND NULL", "s LIKE NULL", "a IN (1, 2, 7) OR NULL", "NOT (a = NULL)"))
		}},
		maker{id: "bool:in-mixed", kind: kBool, cons: c("in", "cmp:int-double", "double"), make: func(g *gen) expr {
			return sf("a IN (1, %s, 7)", dbl("2.5"))
		}},
		maker{id: "bool:bool-cmp", kind: kBool, cons: c("boolean-column"), make: func(g *gen) expr {
			return same(g.oneOf("flag < TRUE", "flag >= FALSE", "flag = (c > 0)"))
		}},
		maker{id: "bool:regexp-like", kind: kBool, fns: c("REGEXP_LIKE"), cons: c("fn:REGEXP_LIKE"), make: func(g *gen) expr {
			return same(fmt.Sprintf("REGEXP_LIKE(s, '%s')", g.oneOf("^a", "[0-9]+", "b$", "^.{3}$")))
		}},
		maker{id: "bool:nan-inf", kind: kBool, cons: c("cmp:double", "nan-inf", "double"), make: func(g *gen) expr {
			nan := expr{sl: "CAST('NaN' AS DOUBLE)", pg: "CAST('NaN' AS DOUBLE PRECISION)"}
			return g.oneOf2(
				sf("d > %s", dbl("1e308")),
				sf("d = %s", nan),
				sf("d < %s", nan),
				sf("d >= %s", nan),
				sf("d <> %s", nan),
				same("d = d"),
				sf("d IN (%s, %s)", nan, dbl("0.5")),
				sf("d BETWEEN %s AND %s", dbl("0.0"), nan),
				sf("d IS DISTINCT FROM %s", nan),
			)
		}},
		maker{id: "bool:enum", kind: kBool, cons: c("enum", "cmp:string"), make: func(g *gen) expr {
			return same(g.oneOf("e = 'RED'", "e <> 'BLUE'", "e < 'GREEN'"))
		}},
	)

	// Error queries: each fails for some rows in PostgreSQL, and must in
	// Sluice.
	fail := func(id string, cons, fns []string, e expr) maker {
		m := fixed(id, kInt, cons, fns, e)
		m.fails = true
		return m
	}
	add(
		fail("err:int-add-overflow", c("overflow", "+"), nil, same("a + 2147483647")),
		fail("err:int-mul-overflow", c("overflow", "*"), nil, same("a * 100000")),
		fail("err:int-neg-overflow", c("overflow", "unary-minus"), nil, same("-a")),
		fail("err:int-sub-overflow", c("overflow", "-"), nil, same("c - a - 2147483647")),
		fail("err:int-div-min", c("overflow", "/"), nil, same("a / -1")),
		fail("err:bigint-mul-overflow", c("overflow", "*", "bigint"), nil, same("b * 4")),
		fail("err:bigint-add-overflow", c("overflow", "+", "bigint"), nil, same("b + b")),
		fail("err:cast-bigint-int", c("overflow", "cast:int"), nil, same("CAST(b AS INTEGER)")),
		fail("err:cast-double-int", c("overflow", "cast:int"), nil, same("CAST(d AS INTEGER)")),
		fail("err:abs-min", c("overflow", "fn:ABS"), c("ABS"), same("ABS(a)")),
		fail("err:div-zero", c("division-by-zero", "/"), nil, same("c / 0")),
		fail("err:div-zero-col", c("division-by-zero", "/"), nil, same("a / c")),
		fail("err:mod-zero", c("division-by-zero", "%"), nil, same("a % (c - c)")),
		fail("err:mod-fn-zero", c("division-by-zero", "fn:MOD"), c("MOD"), same("MOD(a, c)")),
		fail("err:double-div-zero", c("division-by-zero", "double"), nil, same("d / (c - c)")),
		fail("err:cast-t-int", c("cast:int", "cast:from-varchar", "bad-cast"), nil, same("CAST(t AS INTEGER)")),
		fail("err:cast-t-bool", c("cast:boolean", "cast:from-varchar", "bad-cast"), nil, same("CAST(t AS BOOLEAN)")),
		fail("err:cast-t-double", c("cast:double", "cast:from-varchar", "bad-cast"), nil, expr{sl: "CAST(t AS DOUBLE)", pg: "CAST(t AS DOUBLE PRECISION)"}),
		fail("err:ln-negative", c("fn:LN"), c("LN"), same("LN(d)")),
		fail("err:log10-zero", c("fn:LOG10"), c("LOG10"), same("LOG10(c)")),
		fail("err:chr-zero", c("fn:CHR"), c("CHR"), same("CHR(c + 20)")),
		fail("err:case-then", c("case-searched", "division-by-zero"), nil, same("CASE WHEN c > 0 THEN 1 ELSE a / c END")),
		fail("err:cast-d-varchar-int", c("cast:int", "bad-cast"), nil, same("CAST(CAST(d AS VARCHAR) AS INTEGER)")),
		fail("err:sqrt-negative", c("fn:SQRT"), c("SQRT"), same("SQRT(d)")),
		fail("err:power-negative", c("fn:POWER"), c("POWER"), sf("POWER(d, %s)", dbl("0.5"))),
	)
	return ms
}

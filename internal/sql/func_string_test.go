package sql

import (
	"strings"
	"testing"
)

func TestFuncString(t *testing.T) {
	s, i, n := fntStr, fntInt, fntNull
	fnRun(t, []fnCase{
		{"LOWER", []fnArg{s("ÀBC déF")}, "'àbc déf'"},
		{"LOWER", []fnArg{n(Varchar)}, "NULL"},
		{"LOWER", []fnArg{s("A\xffB")}, "'a\xffb'"},
		{"UPPER", []fnArg{s("straße ü")}, "'STRAßE Ü'"},
		{"LENGTH", []fnArg{s("")}, "0"},
		{"LENGTH", []fnArg{s("日本語")}, "3"},
		{"LENGTH", []fnArg{fntBytes("日本語")}, "9"},
		{"OCTET_LENGTH", []fnArg{s("日本語")}, "9"},
		{"CHAR_LENGTH", []fnArg{n(Varchar)}, "NULL"},

		// PostgreSQL's substring rules.
		{"SUBSTRING", []fnArg{s("Thomas"), i(2), i(3)}, "'hom'"},
		{"SUBSTRING", []fnArg{s("Thomas"), i(3)}, "'omas'"},
		{"SUBSTRING", []fnArg{s("Thomas"), i(0), i(3)}, "'Th'"},
		{"SUBSTRING", []fnArg{s("Thomas"), i(-2), i(5)}, "'Th'"},
		{"SUBSTRING", []fnArg{s("Thomas"), i(-5), i(3)}, "''"},
		{"SUBSTRING", []fnArg{s("Thomas"), i(-5)}, "'Thomas'"},
		{"SUBSTRING", []fnArg{s("Thomas"), i(10)}, "''"},
		{"SUBSTRING", []fnArg{s("Thomas"), i(5), i(100)}, "'as'"},
		{"SUBSTRING", []fnArg{s("Thomas"), i(2), i(0)}, "''"},
		{"SUBSTRING", []fnArg{s("Thomas"), i(2), i(-1)}, "error: negative substring length not allowed"},
		{"SUBSTRING", []fnArg{s("héllo wörld"), i(2), i(4)}, "'éllo'"},
		{"SUBSTRING", []fnArg{s("abc"), n(Integer)}, "NULL"},
		{"SUBSTRING", []fnArg{s("abc"), i(2147483647), i(2147483647)}, "''"},
		{"SUBSTRING", []fnArg{s("abc"), i(-2147483648), i(2147483647)}, "''"},
		{"SUBSTR", []fnArg{s("alphabet"), i(3)}, "'phabet'"},

		{"TRIM", []fnArg{s("  a b  ")}, "'a b'"},
		{"TRIM", []fnArg{s("\t a \t")}, "'\t a \t'"},
		{"TRIM", []fnArg{s("xyxtrimyyx"), s("xy")}, "'trim'"},
		{"TRIM", []fnArg{s("ééaéé"), s("é")}, "'a'"},
		{"TRIM", []fnArg{s("xxx"), s("x")}, "''"},
		{"TRIM", []fnArg{s("abc"), s("")}, "'abc'"},
		{"TRIM", []fnArg{s("abc"), n(Varchar)}, "NULL"},
		{"LTRIM", []fnArg{s("  a  ")}, "'a  '"},
		{"RTRIM", []fnArg{s("  a  ")}, "'  a'"},
		{"BTRIM", []fnArg{s("  a  ")}, "'a'"},

		{"SPLIT_PART", []fnArg{s("abc~@~def~@~ghi"), s("~@~"), i(2)}, "'def'"},
		{"SPLIT_PART", []fnArg{s("abc,def,ghi,jkl"), s(","), i(-2)}, "'ghi'"},
		{"SPLIT_PART", []fnArg{s("a,b"), s(","), i(3)}, "''"},
		{"SPLIT_PART", []fnArg{s("a,b"), s(","), i(-3)}, "''"},
		{"SPLIT_PART", []fnArg{s("a,b"), s(","), i(1)}, "'a'"},
		{"SPLIT_PART", []fnArg{s("a,b"), s(","), i(-1)}, "'b'"},
		{"SPLIT_PART", []fnArg{s("a,b"), s(""), i(1)}, "'a,b'"},
		{"SPLIT_PART", []fnArg{s("a,b"), s(""), i(-1)}, "'a,b'"},
		{"SPLIT_PART", []fnArg{s("a,b"), s(""), i(2)}, "''"},
		{"SPLIT_PART", []fnArg{s(""), s(","), i(1)}, "''"},
		{"SPLIT_PART", []fnArg{s("a,,b"), s(","), i(2)}, "''"},
		{"SPLIT_PART", []fnArg{s("a,b"), s(","), i(0)}, "error: field position must not be zero"},
		{"SPLIT_PART", []fnArg{s("a,b"), n(Varchar), i(0)}, "NULL"},

		{"REPLACE", []fnArg{s("abcabc"), s("b"), s("XYZ")}, "'aXYZcaXYZc'"},
		{"REPLACE", []fnArg{s("abc"), s(""), s("X")}, "'abc'"},
		{"REPLACE", []fnArg{s("aaa"), s("aa"), s("b")}, "'ba'"},
		{"REPLACE", []fnArg{s("abc"), s("b"), s("")}, "'ac'"},
		{"REPLACE", []fnArg{s("abc"), s("b"), n(Varchar)}, "NULL"},

		{"CONCAT", []fnArg{s("a"), n(Varchar), fntInt(1), fntDbl(2.5), fntBool(false)}, "'a12.5f'"},
		{"CONCAT", []fnArg{n(Varchar)}, "''"},
		{"CONCAT", []fnArg{fntTS("2024-01-02 03:04:05"), fntNull(Unknown)}, "'2024-01-02 03:04:05'"},
		{"CONCAT_WS", []fnArg{s("-"), s("a"), n(Varchar), s("b")}, "'a-b'"},
		{"CONCAT_WS", []fnArg{n(Varchar), s("a")}, "NULL"},

		{"STARTS_WITH", []fnArg{s("alpha"), s("")}, "TRUE"},
		{"STARTS_WITH", []fnArg{s("alpha"), s("b")}, "FALSE"},
		{"STARTS_WITH", []fnArg{n(Varchar), s("b")}, "NULL"},
		{"ENDS_WITH", []fnArg{s("alpha"), s("ha")}, "TRUE"},
		{"STRPOS", []fnArg{s("héllo"), s("llo")}, "3"},
		{"STRPOS", []fnArg{s("hello"), s("x")}, "0"},
		{"STRPOS", []fnArg{s("hello"), s("")}, "1"},
		{"POSITION", []fnArg{s("llo"), s("héllo")}, "3"},

		{"LEFT", []fnArg{s("abcde"), i(-2)}, "'abc'"},
		{"LEFT", []fnArg{s("abcde"), i(10)}, "'abcde'"},
		{"LEFT", []fnArg{s("abcde"), i(-10)}, "''"},
		{"LEFT", []fnArg{s("åbc"), i(1)}, "'å'"},
		{"RIGHT", []fnArg{s("abcde"), i(-2)}, "'cde'"},
		{"RIGHT", []fnArg{s("abcde"), i(10)}, "'abcde'"},
		{"RIGHT", []fnArg{s("abcde"), i(0)}, "''"},
		{"RIGHT", []fnArg{s("abcdé"), i(1)}, "'é'"},

		{"LPAD", []fnArg{s("hi"), i(5)}, "'   hi'"},
		{"LPAD", []fnArg{s("hello"), i(2)}, "'he'"},
		{"LPAD", []fnArg{s("hi"), i(5), s("")}, "'hi'"},
		{"LPAD", []fnArg{s("hi"), i(-1), s("x")}, "''"},
		{"LPAD", []fnArg{s("hi"), i(4), s("é")}, "'ééhi'"},
		{"LPAD", []fnArg{s("hi"), i(2000000)}, "error: requested length too large"},
		{"RPAD", []fnArg{s("hello"), i(2), s("x")}, "'he'"},
		{"RPAD", []fnArg{s("hi"), i(5)}, "'hi   '"},

		{"REVERSE", []fnArg{s("")}, "''"},
		{"REVERSE", []fnArg{s("日本")}, "'本日'"},
		{"INITCAP", []fnArg{s("hello wORLD 3rd élan o'neil")}, "'Hello World 3rd Élan O''Neil'"},
		{"REPEAT", []fnArg{s("ab"), i(3)}, "'ababab'"},
		{"REPEAT", []fnArg{s("ab"), i(-1)}, "''"},
		{"REPEAT", []fnArg{s("ab"), i(600000)}, "error: requested length too large"},
		{"REPEAT", []fnArg{s("ab"), i(2147483647)}, "error: requested length too large"},
		{"TRANSLATE", []fnArg{s("héllo"), s("él"), s("EL")}, "'hELLo'"},
		{"ASCII", []fnArg{s("é")}, "233"},
		{"ASCII", []fnArg{s("")}, "0"},
		{"CHR", []fnArg{i(233)}, "'é'"},
		{"CHR", []fnArg{i(0)}, "error: null character not permitted"},
		{"CHR", []fnArg{i(0xD800)}, "error: not valid"},
		{"CHR", []fnArg{i(-1)}, "error: not valid"},
		{"TO_HEX", []fnArg{i(-1)}, "'ffffffff'"},
		{"TO_HEX", []fnArg{fntBig(-1)}, "'ffffffffffffffff'"},
		{"TO_HEX", []fnArg{fntBig(0)}, "'0'"},

		{"REGEXP_LIKE", []fnArg{s("Hello"), s("^h")}, "FALSE"},
		{"REGEXP_LIKE", []fnArg{s("Hello"), s("^h"), s("i")}, "TRUE"},
		{"REGEXP_LIKE", []fnArg{s("a\nb"), s("a.b")}, "TRUE"},
		{"REGEXP_LIKE", []fnArg{s("a\nb"), s("a.b"), s("n")}, "FALSE"},
		{"REGEXP_LIKE", []fnArg{s("x\nb"), s("^b$"), s("n")}, "TRUE"},
		{"REGEXP_LIKE", []fnArg{n(Varchar), s("a")}, "NULL"},
		{"REGEXP_LIKE", []fnArg{s("a"), n(Varchar)}, "NULL"},
		{"REGEXP_LIKE", []fnArg{s("a"), s("(")}, "error: invalid regular expression in the pattern of REGEXP_LIKE"},
		{"REGEXP_LIKE", []fnArg{s("a"), s("a"), s("g")}, "error: does not support the \"global\" option"},
		{"REGEXP_LIKE", []fnArg{s("a"), s("a"), s("q")}, "error: invalid regular expression option"},
		{"REGEXP_REPLACE", []fnArg{s("foobarbaz"), s("b(..)"), s("X\\1Y")}, "'fooXarYbaz'"},
		{"REGEXP_REPLACE", []fnArg{s("abc"), s("B"), s("[\\&]"), s("gi")}, "'a[b]c'"},
		{"REGEXP_REPLACE", []fnArg{s("abc"), s("x"), s("y")}, "'abc'"},
		{"REGEXP_REPLACE", []fnArg{s("aaa"), s("a*"), s("-"), s("g")}, "'-'"},
		{"REGEXP_REPLACE", []fnArg{s("a.b"), s("\\."), s("\\\\")}, "'a\\b'"},
		{"REGEXP_SUBSTR", []fnArg{s("abc"), s("x")}, "NULL"},
		{"REGEXP_SUBSTR", []fnArg{s("ABC12"), s("b.")}, "NULL"},
		{"REGEXP_SUBSTR", []fnArg{s("ABC12"), s("b."), s("i")}, "'BC'"},
	})
}

func TestFuncStringNonConstantPattern(t *testing.T) {
	_, _, err := fnBuild("REGEXP_LIKE", false, fntStr("a"), fntStr("a"))
	if err == nil || !strings.Contains(err.Error(), "the pattern of REGEXP_LIKE must be a constant") {
		t.Errorf("REGEXP_LIKE with a column pattern: %v", err)
	}
}

// TestFuncScratchOrder checks that a function building its result in the
// scratch buffer is not confused by arguments that build theirs there too.
func TestFuncScratchOrder(t *testing.T) {
	upper := func(s string) Arg {
		return Arg{Type: TypeVarchar, Eval: func(e *Env) Value { return e.AppendString(strings.ToUpper(s)) }}
	}
	ev, err := LookupFunction("CONCAT").Sigs[0].Build([]Arg{upper("ab"), upper("cd"), upper("ef")})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := LookupFunction("REPLACE").Sigs[0].Build([]Arg{upper("xaxbx"), upper("x"), upper("--")})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEnv()
	for range 3 {
		e.Reset()
		a := ev(e)
		b := rep(e)
		if string(a.B) != "ABCDEF" || string(b.B) != "--A--B--" {
			t.Fatalf("got %q and %q", a.B, b.B)
		}
	}
	// Many arguments (beyond the stack array).
	args := make([]Arg, 40)
	for i := range args {
		args[i] = upper("x")
	}
	ev, _ = LookupFunction("CONCAT").Sigs[0].Build(args)
	if got := ev(NewEnv()); string(got.B) != strings.Repeat("X", 40) {
		t.Fatalf("CONCAT of 40: %q", got.B)
	}
}

package sql

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var fnUpdateDocs = flag.Bool("update-func-docs", false, "rewrite docs/sql-functions.md from the function registry")

// fnDocCategories are the categories of the function library, in the order
// of docs/sql-functions.md, with their section titles.
var fnDocCategories = []struct{ name, title, intro string }{
	{"string", "String functions", "Lengths and positions count characters (UTF-8 code points), not bytes, as PostgreSQL does."},
	{"math", "Mathematical functions", "Integer results are checked for overflow; DOUBLE functions report PostgreSQL's errors (square root or logarithm of a negative number, overflow, underflow) rather than returning NaN or infinities for finite arguments."},
	{"time", "Date and time functions", "All timestamps are UTC (PostgreSQL's timestamp without time zone); weeks start on Monday and week numbers are ISO 8601."},
	{"hash", "Hash and encoding functions", "Digests are lower-case hexadecimal text."},
	{"json", "JSON functions", "The JSON functions read JSON text in a VARCHAR and are lax: text that is not valid JSON gives NULL (FALSE for JSON_EXISTS and JSON_VALID), not an error. A path is a constant subset of SQL/JSON path: an optional `lax`, then `$` followed by steps `.name`, `.\"name\"`, `[\"name\"]` or `['name']` and `[index]` (0-based). Wildcards, filters, `last`, strict mode and lax mode's automatic wrapping and unwrapping of arrays are not supported; when an object repeats a key, the first occurrence counts."},
	{"network", "Network functions", "Addresses are IPv4 or IPv6 text in a VARCHAR. Text that is not an address (including addresses with a zone, such as `fe80::1%eth0`) gives NULL, not an error. An IPv4-mapped IPv6 address such as `::ffff:10.1.2.3` counts as the IPv4 address."},
}

func fnSigString(name string, s Signature) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('(')
	for i, k := range s.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		if k == AnyKind {
			b.WriteString("ANY")
		} else {
			b.WriteString(k.String())
		}
	}
	if s.Variadic {
		b.WriteString(", ...")
	}
	b.WriteString(") → ")
	b.WriteString(s.Result.String())
	return b.String()
}

// fnRenderDocs renders the function reference.
func fnRenderDocs() string {
	var b strings.Builder
	b.WriteString(`# SQL function reference

The scalar functions of Sluice's SQL dialect, by category. Every function
is strict unless its description says otherwise: a NULL argument gives a
NULL result. Arguments are converted to the types of the signature where a
widening conversion exists (INTEGER to BIGINT to DOUBLE). Errors such as
division by zero are evaluation errors: the record is dead-lettered with
the message as the reason. Semantics follow PostgreSQL where PostgreSQL has
the function; differences are noted.

This file is generated from the function registry (internal/sql/func_*.go):
run ` + "`go test ./internal/sql -run TestFuncDocs -update-func-docs`" + ` after changing a
function.

`)
	for _, c := range fnDocCategories {
		b.WriteString("- [" + c.title + "](#" + strings.ReplaceAll(strings.ToLower(c.title), " ", "-") + ")\n")
	}
	for _, c := range fnDocCategories {
		b.WriteString("\n## " + c.title + "\n\n" + c.intro + "\n")
		for _, f := range Functions() {
			if f.Category != c.name {
				continue
			}
			b.WriteString("\n### " + f.Name + "\n\n")
			for _, s := range f.Sigs {
				b.WriteString("    " + fnSigString(f.Name, s) + "\n")
			}
			b.WriteString("\n" + f.Doc + "\n\n")
			b.WriteString("Example: `" + f.Example + "` → `" + f.Result + "`\n")
		}
	}
	return b.String()
}

func TestFuncDocs(t *testing.T) {
	const path = "../../docs/sql-functions.md"
	want := fnRenderDocs()
	if *fnUpdateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("docs/sql-functions.md is out of date: run go test ./internal/sql -run TestFuncDocs -update-func-docs")
	}
}

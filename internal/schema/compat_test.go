package schema

import (
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/avro"
)

// rec builds a record schema named R (namespace com.acme) with the given
// field JSON.
func rec(fields ...string) string {
	return `{"type":"record","name":"R","namespace":"com.acme","fields":[` + strings.Join(fields, ",") + `]}`
}

type compatCase struct {
	name           string
	writer, reader string
	want           []Incompatibility
}

func inc(path, reason string) Incompatibility { return Incompatibility{Path: path, Reason: reason} }

var compatCases = []compatCase{
	{"identical", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"int"}`), nil},
	{"reader adds a field with a default", rec(`{"name":"a","type":"int"}`),
		rec(`{"name":"a","type":"int"}`, `{"name":"b","type":"string","default":"x"}`), nil},
	{"reader adds a field without a default", rec(`{"name":"a","type":"int"}`),
		rec(`{"name":"a","type":"int"}`, `{"name":"b","type":"string"}`),
		[]Incompatibility{inc("b", "field is missing from the writer and has no default in the reader")}},
	{"reader drops a field", rec(`{"name":"a","type":"int"}`, `{"name":"b","type":"string"}`),
		rec(`{"name":"a","type":"int"}`), nil},
	{"int to long", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"long"}`), nil},
	{"int to float", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"float"}`), nil},
	{"int to double", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"double"}`), nil},
	{"long to float", rec(`{"name":"a","type":"long"}`), rec(`{"name":"a","type":"float"}`), nil},
	{"long to double", rec(`{"name":"a","type":"long"}`), rec(`{"name":"a","type":"double"}`), nil},
	{"float to double", rec(`{"name":"a","type":"float"}`), rec(`{"name":"a","type":"double"}`), nil},
	{"string to bytes", rec(`{"name":"a","type":"string"}`), rec(`{"name":"a","type":"bytes"}`), nil},
	{"bytes to string", rec(`{"name":"a","type":"bytes"}`), rec(`{"name":"a","type":"string"}`), nil},
	{"long to int", rec(`{"name":"a","type":"long"}`), rec(`{"name":"a","type":"int"}`),
		[]Incompatibility{inc("a", "writer type long cannot be read as reader type int")}},
	{"double to float", rec(`{"name":"a","type":"double"}`), rec(`{"name":"a","type":"float"}`),
		[]Incompatibility{inc("a", "writer type double cannot be read as reader type float")}},
	{"string to int", rec(`{"name":"a","type":"string"}`), rec(`{"name":"a","type":"int"}`),
		[]Incompatibility{inc("a", "writer type string cannot be read as reader type int")}},
	{"top-level primitive", `"int"`, `"string"`,
		[]Incompatibility{inc("(root)", "writer type int cannot be read as reader type string")}},
	{"top-level promotion", `"int"`, `"long"`, nil},
	{"record to primitive", rec(`{"name":"a","type":"int"}`), `"string"`,
		[]Incompatibility{inc("(root)", "writer type record com.acme.R cannot be read as reader type string")}},

	{"enum gains symbols in the writer", rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C","D"]}}`),
		rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}`),
		[]Incompatibility{inc("e", `writer enum symbols "C", "D" are missing from the reader enum, which has no default`)}},
	{"enum with a reader default", rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}}`),
		rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","Z"],"default":"Z"}}`), nil},
	{"enum loses symbols in the writer", rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}`),
		rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}`), nil},
	{"enum renamed", rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}`),
		rec(`{"name":"e","type":{"type":"enum","name":"F","symbols":["A"]}}`),
		[]Incompatibility{inc("e", "writer enum com.acme.E does not match reader enum com.acme.F: the names differ and no reader alias names the writer")}},
	{"enum renamed with an alias", rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}`),
		rec(`{"name":"e","type":{"type":"enum","name":"F","aliases":["E"],"symbols":["A"]}}`), nil},

	{"fixed size", rec(`{"name":"f","type":{"type":"fixed","name":"F","size":16}}`),
		rec(`{"name":"f","type":{"type":"fixed","name":"F","size":8}}`),
		[]Incompatibility{inc("f", "fixed size differs: writer 16 bytes, reader 8 bytes")}},
	{"fixed renamed", rec(`{"name":"f","type":{"type":"fixed","name":"F","size":4}}`),
		rec(`{"name":"f","type":{"type":"fixed","name":"G","size":4}}`),
		[]Incompatibility{inc("f", "writer fixed com.acme.F does not match reader fixed com.acme.G: the names differ and no reader alias names the writer")}},
	{"decimal scale", rec(`{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}}`),
		rec(`{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":3}}`),
		[]Incompatibility{inc("d", "decimal precision or scale differs: writer decimal(10,2), reader decimal(10,3)")}},

	{"array items", rec(`{"name":"tags","type":{"type":"array","items":"string"}}`),
		rec(`{"name":"tags","type":{"type":"array","items":"int"}}`),
		[]Incompatibility{inc("tags[]", "writer type string cannot be read as reader type int")}},
	{"map values", rec(`{"name":"attrs","type":{"type":"map","values":"long"}}`),
		rec(`{"name":"attrs","type":{"type":"map","values":"int"}}`),
		[]Incompatibility{inc("attrs{}", "writer type long cannot be read as reader type int")}},
	{"array items promoted", rec(`{"name":"xs","type":{"type":"array","items":"int"}}`),
		rec(`{"name":"xs","type":{"type":"array","items":"double"}}`), nil},
	{"array to map", rec(`{"name":"xs","type":{"type":"array","items":"int"}}`),
		rec(`{"name":"xs","type":{"type":"map","values":"int"}}`),
		[]Incompatibility{inc("xs", "writer type array cannot be read as reader type map")}},

	{"nested record field", rec(`{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"}]}}`),
		rec(`{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"int"}]}}`),
		[]Incompatibility{inc("address.zip", "writer type string cannot be read as reader type int")}},
	{"record in an array", rec(`{"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"price","type":"double"}]}}}`),
		rec(`{"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"price","type":"long"}]}}}`),
		[]Incompatibility{inc("items[].price", "writer type double cannot be read as reader type long")}},
	{"record renamed", rec(`{"name":"a","type":"int"}`),
		`{"type":"record","name":"S","namespace":"com.acme","fields":[{"name":"a","type":"int"}]}`,
		[]Incompatibility{inc("(root)", "writer record com.acme.R does not match reader record com.acme.S: the names differ and no reader alias names the writer")}},
	{"record renamed with an alias", rec(`{"name":"a","type":"int"}`),
		`{"type":"record","name":"S","namespace":"com.acme","aliases":["R"],"fields":[{"name":"a","type":"int"}]}`, nil},
	{"record moved to another namespace", rec(`{"name":"a","type":"int"}`),
		`{"type":"record","name":"R","namespace":"org.other","fields":[{"name":"a","type":"int"}]}`, nil},
	{"field renamed with an alias", rec(`{"name":"a","type":"int"}`), rec(`{"name":"b","type":"int","aliases":["a"]}`), nil},
	{"field renamed without an alias", rec(`{"name":"a","type":"int"}`), rec(`{"name":"b","type":"int"}`),
		[]Incompatibility{inc("b", "field is missing from the writer and has no default in the reader")}},
	{"name and alias collide", rec(`{"name":"a","type":"int"}`, `{"name":"b","type":"int"}`),
		rec(`{"name":"a","type":"int","aliases":["b"]}`),
		[]Incompatibility{inc("(root)", `writer fields "a" and "b" both resolve to reader field "a" (a name and an alias collide)`)}},

	{"reader widens to a union", rec(`{"name":"a","type":"string"}`), rec(`{"name":"a","type":["null","string"],"default":null}`), nil},
	{"reader union by promotion", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":["null","long"]}`), nil},
	{"writer type in no reader branch", rec(`{"name":"a","type":"boolean"}`), rec(`{"name":"a","type":["null","string"]}`),
		[]Incompatibility{inc("a", "writer type boolean matches no branch of the reader union [null, string]")}},
	{"writer union narrowed to one type", rec(`{"name":"a","type":["null","string"]}`), rec(`{"name":"a","type":"string"}`),
		[]Incompatibility{inc("a", "writer union branch 0 (null) cannot be read as reader type string")}},
	{"writer union branch missing from the reader union", rec(`{"name":"a","type":["null","int","boolean"]}`),
		rec(`{"name":"a","type":["null","long"]}`),
		[]Incompatibility{inc("a", "writer union branch 2 (boolean) matches no branch of the reader union [null, long]")}},
	{"union of records", rec(`{"name":"x","type":["null",{"type":"record","name":"P","fields":[{"name":"p","type":"int"}]}]}`),
		rec(`{"name":"x","type":["null",{"type":"record","name":"P","fields":[{"name":"p","type":"string"}]}]}`),
		[]Incompatibility{inc("x.p", "writer type int cannot be read as reader type string")}},
	{"union branches reordered", rec(`{"name":"a","type":["null","string","int"]}`), rec(`{"name":"a","type":["int","null","string"]}`), nil},

	{"named type referenced twice", rec(
		`{"name":"home","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"}]}}`,
		`{"name":"work","type":"Address"}`),
		rec(`{"name":"home","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"},{"name":"city","type":"string"}]}}`,
			`{"name":"work","type":"com.acme.Address"}`),
		[]Incompatibility{inc("home.city", "field is missing from the writer and has no default in the reader")}},
	{"recursive type", `{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}`,
		`{"type":"record","name":"Node","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","Node"]},{"name":"w","type":"int"}]}`,
		[]Incompatibility{inc("w", "field is missing from the writer and has no default in the reader")}},

	{"nullable union field defaults to null", rec(`{"name":"a","type":"int"}`),
		rec(`{"name":"a","type":"int"}`, `{"name":"b","type":["null","string"]}`), nil},
	{"union field not led by null needs a default", rec(`{"name":"a","type":"int"}`),
		rec(`{"name":"a","type":"int"}`, `{"name":"b","type":["string","null"]}`),
		[]Incompatibility{inc("b", "field is missing from the writer and has no default in the reader")}},
	{"qualified alias", `{"type":"record","name":"Old","namespace":"x.y","fields":[{"name":"a","type":"int"}]}`,
		`{"type":"record","name":"New","namespace":"com.acme","aliases":["x.y.Old"],"fields":[{"name":"a","type":"int"}]}`, nil},
	{"qualified alias of another namespace", `{"type":"record","name":"Old","namespace":"x.y","fields":[{"name":"a","type":"int"}]}`,
		`{"type":"record","name":"New","namespace":"com.acme","aliases":["p.q.Old"],"fields":[{"name":"a","type":"int"}]}`,
		[]Incompatibility{inc("(root)", "writer record x.y.Old does not match reader record com.acme.New: the names differ and no reader alias names the writer")}},
	{"fixed branch of another size", rec(`{"name":"f","type":["null",{"type":"fixed","name":"F","size":4}]}`),
		rec(`{"name":"f","type":["null",{"type":"fixed","name":"F","size":8}]}`),
		[]Incompatibility{inc("f", "writer union branch 1 (fixed com.acme.F) matches no branch of the reader union [null, fixed com.acme.F]")}},
	{"enum branch", rec(`{"name":"e","type":["null",{"type":"enum","name":"E","symbols":["A","B"]}]}`),
		rec(`{"name":"e","type":["null",{"type":"enum","name":"E","symbols":["A"]}]}`),
		[]Incompatibility{inc("e", `writer enum symbols "B" are missing from the reader enum, which has no default`)}},
	{"map of records", rec(`{"name":"m","type":{"type":"map","values":{"type":"record","name":"V","fields":[{"name":"n","type":"int"}]}}}`),
		rec(`{"name":"m","type":{"type":"map","values":{"type":"record","name":"V","fields":[{"name":"n","type":"boolean"}]}}}`),
		[]Incompatibility{inc("m{}.n", "writer type int cannot be read as reader type boolean")}},
	{"union branch by unqualified name", rec(`{"name":"x","type":["null",{"type":"record","name":"P","namespace":"a","fields":[]}]}`),
		rec(`{"name":"x","type":["null",{"type":"record","name":"P","namespace":"b","fields":[]}]}`), nil},
	{"error type as record", rec(`{"name":"x","type":{"type":"error","name":"Failure","fields":[{"name":"m","type":"string"}]}}`),
		rec(`{"name":"x","type":{"type":"record","name":"Failure","fields":[{"name":"m","type":"string"}]}}`), nil},
	{"reference into another namespace", `{"type":"record","name":"R","namespace":"a","fields":[{"name":"p","type":{"type":"record","name":"P","namespace":"b","fields":[{"name":"q","type":"int"}]}},{"name":"p2","type":"b.P"}]}`,
		`{"type":"record","name":"R","namespace":"a","fields":[{"name":"p","type":{"type":"record","name":"P","namespace":"b","fields":[{"name":"q","type":"int"}]}},{"name":"p2","type":"b.P"}]}`, nil},
	{"nested arrays", rec(`{"name":"g","type":{"type":"array","items":{"type":"array","items":"float"}}}`),
		rec(`{"name":"g","type":{"type":"array","items":{"type":"array","items":"int"}}}`),
		[]Incompatibility{inc("g[][]", "writer type float cannot be read as reader type int")}},

	{"several at once", rec(
		`{"name":"id","type":"long"}`,
		`{"name":"action","type":{"type":"enum","name":"Action","symbols":["ALLOW","DENY","DROP"]}}`,
		`{"name":"src","type":{"type":"record","name":"Endpoint","fields":[{"name":"ip","type":"string"},{"name":"port","type":"int"}]}}`,
		`{"name":"tags","type":{"type":"array","items":"string"}}`),
		rec(
			`{"name":"id","type":"int"}`,
			`{"name":"action","type":{"type":"enum","name":"Action","symbols":["ALLOW","DENY"]}}`,
			`{"name":"src","type":{"type":"record","name":"Endpoint","fields":[{"name":"ip","type":"bytes"},{"name":"port","type":"string"},{"name":"zone","type":"string"}]}}`,
			`{"name":"tags","type":{"type":"array","items":"long"}}`,
			`{"name":"severity","type":"int"}`),
		[]Incompatibility{
			inc("id", "writer type long cannot be read as reader type int"),
			inc("action", `writer enum symbols "DROP" are missing from the reader enum, which has no default`),
			inc("src.port", "writer type int cannot be read as reader type string"),
			inc("src.zone", "field is missing from the writer and has no default in the reader"),
			inc("tags[]", "writer type string cannot be read as reader type long"),
			inc("severity", "field is missing from the writer and has no default in the reader"),
		}},
}

func mustParse(t *testing.T, text string) *avro.Schema {
	t.Helper()
	s, err := avro.Parse(text)
	if err != nil {
		t.Fatalf("parse %s: %v", text, err)
	}
	return s
}

// TestIncompatibilities checks each case's exact findings, and that the
// library's checker gives the same verdict.
func TestIncompatibilities(t *testing.T) {
	for _, tc := range compatCases {
		t.Run(tc.name, func(t *testing.T) {
			w, r := mustParse(t, tc.writer), mustParse(t, tc.reader)
			got := Incompatibilities(w, r)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Incompatibilities =\n%s\nwant\n%s", show(got), show(tc.want))
			}
			libErr := avro.CheckCompatibility(w, r)
			if (libErr == nil) != (len(got) == 0) {
				t.Fatalf("verdicts differ: ours %s, avro.CheckCompatibility %v", show(got), libErr)
			}
		})
	}
}

// TestIncompatibilitiesAgreeWithLibrary runs every ordered pair of schemas
// from the cases through both checkers: the verdicts must agree.
func TestIncompatibilitiesAgreeWithLibrary(t *testing.T) {
	var schemas []*avro.Schema
	seen := map[string]bool{}
	for _, tc := range compatCases {
		for _, text := range []string{tc.writer, tc.reader} {
			if !seen[text] {
				seen[text] = true
				schemas = append(schemas, mustParse(t, text))
			}
		}
	}
	pairs, incompatible := 0, 0
	for _, w := range schemas {
		for _, r := range schemas {
			got := Incompatibilities(w, r)
			libErr := avro.CheckCompatibility(w, r)
			if (libErr == nil) != (len(got) == 0) {
				t.Errorf("writer %s\nreader %s\nours %s\navro.CheckCompatibility %v", w, r, show(got), libErr)
			}
			pairs++
			if libErr != nil {
				incompatible++
			}
		}
	}
	t.Logf("%d pairs, %d incompatible", pairs, incompatible)
}

func show(list []Incompatibility) string {
	if len(list) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for _, i := range list {
		b.WriteString("  " + i.Path + ": " + i.Reason + "\n")
	}
	return b.String()
}

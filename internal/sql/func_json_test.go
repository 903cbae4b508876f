package sql

import (
	"strings"
	"testing"
)

func TestFuncJSON(t *testing.T) {
	s, n := fntStr, fntNull
	doc := s(`{"a": {"b": [10, 2.50, "x\"y\u00e9\ud83d\ude00", true, null, {"c": -1e3}]}, "k\"q": 1, "a b": "sp", "a": "dup"}`)
	fnRun(t, []fnCase{
		{"JSON_VALUE", []fnArg{doc, s("$.a.b[0]")}, "'10'"},
		{"JSON_VALUE", []fnArg{doc, s("$.a.b[1]")}, "'2.50'"},
		{"JSON_VALUE", []fnArg{doc, s("$.a.b[2]")}, "'x\"yé😀'"},
		{"JSON_VALUE", []fnArg{doc, s("$.a.b[3]")}, "'true'"},
		{"JSON_VALUE", []fnArg{doc, s("$.a.b[4]")}, "NULL"},
		{"JSON_VALUE", []fnArg{doc, s("$.a.b[5].c")}, "'-1e3'"},
		{"JSON_VALUE", []fnArg{doc, s("$.a.b[6]")}, "NULL"},
		{"JSON_VALUE", []fnArg{doc, s("$.a.b")}, "NULL"},
		{"JSON_VALUE", []fnArg{doc, s("$.a")}, "NULL"},
		{"JSON_VALUE", []fnArg{doc, s(`$["a"]["b"][0]`)}, "'10'"},
		{"JSON_VALUE", []fnArg{doc, s(`lax $.a.b[ 0 ]`)}, "'10'"},
		{"JSON_VALUE", []fnArg{doc, s(`$."k\"q"`)}, "'1'"},
		{"JSON_VALUE", []fnArg{doc, s(`$['k"q']`)}, "'1'"},
		{"JSON_VALUE", []fnArg{doc, s(`$."a b"`)}, "'sp'"},
		{"JSON_VALUE", []fnArg{doc, s("$.missing")}, "NULL"},
		{"JSON_VALUE", []fnArg{doc, s("$.a.b.c")}, "NULL"},
		{"JSON_VALUE", []fnArg{doc, s("$[0]")}, "NULL"},
		{"JSON_VALUE", []fnArg{s(`"top"`), s("$")}, "'top'"},
		{"JSON_VALUE", []fnArg{s(`{"a": 1`), s("$.a")}, "NULL"},
		{"JSON_VALUE", []fnArg{s(`{"a": 1} x`), s("$.a")}, "NULL"},
		{"JSON_VALUE", []fnArg{s(`{"a": 01}`), s("$.a")}, "NULL"},
		{"JSON_VALUE", []fnArg{s(`{"a": "\x"}`), s("$.a")}, "NULL"},
		{"JSON_VALUE", []fnArg{s("{\"a\": \"\t\"}"), s("$.a")}, "NULL"},
		{"JSON_VALUE", []fnArg{s(`{"a": [1, 2,]}`), s("$.a[0]")}, "NULL"},
		{"JSON_VALUE", []fnArg{s(`{"a\u0062": 5}`), s("$.ab")}, "'5'"},
		{"JSON_VALUE", []fnArg{s(strings.Repeat("[", 300) + strings.Repeat("]", 300)), s("$")}, "NULL"},
		{"JSON_VALUE", []fnArg{s(""), s("$")}, "NULL"},
		{"JSON_VALUE", []fnArg{n(Varchar), s("$")}, "NULL"},
		{"JSON_VALUE", []fnArg{doc, s("$.a[*]")}, "error: invalid path of JSON_VALUE"},
		{"JSON_VALUE", []fnArg{doc, s("a.b")}, "error: invalid path of JSON_VALUE: a path starts with $"},
		{"JSON_VALUE", []fnArg{doc, s("strict $.a")}, "error: strict mode is not supported"},
		{"JSON_QUERY", []fnArg{doc, s("$.a.b[5]")}, `'{"c": -1e3}'`},
		{"JSON_QUERY", []fnArg{doc, s("$.a.b[2]")}, `'"x\"y\u00e9\ud83d\ude00"'`},
		{"JSON_QUERY", []fnArg{doc, s("$.nope")}, "NULL"},
		{"JSON_EXISTS", []fnArg{doc, s("$.a.b[4]")}, "TRUE"},
		{"JSON_EXISTS", []fnArg{doc, s("$.a.b[9]")}, "FALSE"},
		{"JSON_EXISTS", []fnArg{s("nope"), s("$")}, "FALSE"},
		{"JSON_TYPEOF", []fnArg{s(" {} ")}, "'object'"},
		{"JSON_TYPEOF", []fnArg{s("-0.5")}, "'number'"},
		{"JSON_TYPEOF", []fnArg{s("false")}, "'boolean'"},
		{"JSON_TYPEOF", []fnArg{s("null")}, "'null'"},
		{"JSON_TYPEOF", []fnArg{s(`"s"`)}, "'string'"},
		{"JSON_TYPEOF", []fnArg{s("nul")}, "NULL"},
		{"JSON_ARRAY_LENGTH", []fnArg{s("[]")}, "0"},
		{"JSON_ARRAY_LENGTH", []fnArg{s(" [ 1 ] ")}, "1"},
		{"JSON_ARRAY_LENGTH", []fnArg{s("{}")}, "NULL"},
		{"JSON_VALID", []fnArg{s(`{"a": [1, {"b": null}], "c": "\u0041"}`)}, "TRUE"},
		{"JSON_VALID", []fnArg{s(`{"a" 1}`)}, "FALSE"},
		{"JSON_VALID", []fnArg{s(`1.`)}, "FALSE"},
		{"JSON_VALID", []fnArg{s(`-`)}, "FALSE"},
		{"JSON_VALID", []fnArg{s(`"\u12"`)}, "FALSE"},
	})
}

func TestFuncJSONNonConstantPath(t *testing.T) {
	_, _, err := fnBuild("JSON_VALUE", false, fntStr("{}"), fntStr("$.a"))
	if err == nil || !strings.Contains(err.Error(), "the path of JSON_VALUE must be a constant") {
		t.Errorf("JSON_VALUE with a column path: %v", err)
	}
}

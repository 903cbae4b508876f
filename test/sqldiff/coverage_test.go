package sqldiff

import (
	"strings"
	"testing"
)

// requiredConstructs must each appear in at least one generated query when
// every function is available, so coverage cannot silently drop.
var requiredConstructs = []string{
	// filter
	"cmp:int-int", "cmp:int-double", "cmp:string", "and", "or", "not", "null-logic",
	"is null", "is not null", "is distinct from", "is not distinct from",
	"between", "not between", "in", "in-null", "not in",
	"like", "not like", "ilike", "not ilike", "like:%", "like:_", "like:escape", "like:default-escape",
	// project
	"+", "-", "*", "/", "%", "int-div", "unary-minus", "bigint", "double", "overflow", "division-by-zero",
	"||", "case-simple", "case-searched", "case-no-else",
	"cast:int", "cast:bigint", "cast:double", "cast:varchar", "cast:boolean", "cast:from-varchar", "bad-cast", "rounding",
	"fn:COALESCE", "fn:NULLIF", "fn:LOWER", "fn:UPPER", "fn:LENGTH", "fn:SUBSTRING", "substring-from",
	"fn:TRIM", "fn:REPLACE", "fn:SPLIT_PART", "fn:STARTS_WITH", "fn:STRPOS", "fn:LEFT", "fn:RIGHT",
	"fn:ABS", "fn:FLOOR", "fn:CEIL", "fn:ROUND", "fn:MOD", "fn:POWER", "fn:SQRT", "fn:SIGN",
	"fn:GREATEST", "fn:LEAST", "fn:DATE_TRUNC", "fn:EXTRACT", "fn:MD5", "fn:CONCAT",
	"non-ascii", "enum", "timestamp",
	// aggregate
	"window:tumble", "window:hop", "window:session", "window_end", "having", "agg:where",
	"agg:COUNT(*)", "agg:COUNT", "agg:SUM", "agg:SUM bigint", "agg:AVG", "agg:MIN", "agg:MAX",
	"agg:COUNT DISTINCT", "agg:FIRST_VALUE", "agg:LAST_VALUE",
}

// requiredCategories is the least number of queries per category.
var requiredCategories = map[string]int{
	"filter": 60, "project": 100, "predicate": 20, "error": 15, "tumble": 30, "hop": 15, "session": 10,
}

func TestGeneratorCoverage(t *testing.T) {
	all := func(string) bool { return true }
	g := newGen(defaultSeed, all, knownDifferences)
	qs := g.generate()
	if len(qs) < minQueries {
		t.Errorf("generated %d queries, want at least %d", len(qs), minQueries)
	}
	cats := countCategories(qs)
	for _, cat := range sortedKeys(cats) {
		t.Logf("%-10s %d queries", cat, cats[cat])
	}
	for cat, n := range requiredCategories {
		if cats[cat] < n {
			t.Errorf("category %s: %d queries, want at least %d", cat, cats[cat], n)
		}
	}
	cons := countConstructs(qs)
	excludedIDs := map[string]bool{}
	for id, kd := range knownDifferences {
		if kd.guard == nil {
			excludedIDs[id] = true
		}
	}
	// Constructs only excluded makers exercise are reported, not failed:
	// knownDifferences already lists them.
	excludedCons := map[string]bool{}
	for _, m := range allMakers() {
		if excludedIDs[m.id] {
			for _, c := range m.cons {
				excludedCons[c] = true
			}
		}
	}
	for _, c := range requiredConstructs {
		switch {
		case cons[c] > 0:
		case excludedCons[c]:
			t.Logf("construct %q not generated: its makers are in knownDifferences", c)
		default:
			t.Errorf("construct %q is never generated", c)
		}
	}
	t.Logf("constructs: %v", cons)

	// Makers and aggregates must be unique and their functions named.
	ids := map[string]bool{}
	for _, m := range allMakers() {
		if ids[m.id] {
			t.Errorf("maker id %s twice", m.id)
		}
		ids[m.id] = true
		for _, c := range m.cons {
			if f, ok := strings.CutPrefix(c, "fn:"); ok && !contains(m.fns, f) {
				t.Errorf("maker %s exercises %s but does not list it in fns", m.id, f)
			}
		}
	}

	// The same seed gives the same queries.
	again := newGen(defaultSeed, all, knownDifferences).generate()
	for i := range qs {
		if qs[i].sl != again[i].sl || qs[i].pg != again[i].pg {
			t.Fatalf("query %d differs between two generations with one seed:\n%s\n%s", i, qs[i].sl, again[i].sl)
		}
	}

	// Report which functions Sluice's library does not have yet.
	var missing []string
	for _, m := range allMakers() {
		for _, f := range m.fns {
			if !hasFunction(f) && !contains(missing, f) {
				missing = append(missing, f)
			}
		}
	}
	if len(missing) > 0 {
		t.Logf("functions not in sql.LookupFunction yet (their queries are left out of the differential test): %s", strings.Join(missing, ", "))
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

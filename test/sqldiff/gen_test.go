package sqldiff

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
)

// expr is an expression in both dialects. Guards are predicates a query
// using the expression adds to its WHERE so that the expression cannot fail
// (overflow, a bad cast) on any row that passes.
type expr struct {
	sl, pg string
	guards []expr
}

// same is an expression written identically in both dialects.
func same(s string) expr { return expr{sl: s, pg: s} }

// dbl is a DOUBLE literal. PostgreSQL reads 2.5 as numeric, Sluice as
// double; the PostgreSQL form is cast to float8 so both compute in binary
// floating point.
func dbl(s string) expr { return expr{sl: s, pg: s + "::float8"} }

// sf formats an expression in both dialects: each %s takes the matching
// argument's form. Guards of the arguments carry over.
func sf(format string, args ...expr) expr {
	sl := make([]any, len(args))
	pg := make([]any, len(args))
	var guards []expr
	for i, a := range args {
		sl[i], pg[i] = a.sl, a.pg
		guards = append(guards, a.guards...)
	}
	return expr{sl: fmt.Sprintf(format, sl...), pg: fmt.Sprintf(format, pg...), guards: guards}
}

// guarded returns e with extra guards.
func (e expr) guarded(g ...expr) expr {
	e.guards = append(slices.Clip(e.guards), g...)
	return e
}

// Guards keeping arithmetic on the columns within range.
var (
	guardA  = same("(a IS NULL OR a BETWEEN -1000000 AND 1000000)")
	guardB  = same("(b IS NULL OR b BETWEEN -1000000000 AND 1000000000)")
	guardD  = same("(d IS NULL OR d BETWEEN -1000000 AND 1000000)")
	guardTI = same("t IN ('10', '-5', '0', '007', ' 42 ', '2147483647', '+5', ' -7')")
	guardTD = same("t IN ('10', '-5', '0', '007', ' 42 ', '1.5', '-0.25', '3e2', 'NaN', 'Infinity', '-inf', '.5', '5.', '+5')")
	guardTB = same("t IN ('true', 'false', 'yes', 'off', 't', ' true ', 'TRUE', 'y', 'on', '1', 'no', 'of')")
)

// Columns the filter queries project.
var (
	colA, colB, colD = same("a"), same("b"), same("d")
	colS, colFlag    = same("s"), same("flag")
)

// valueKind is the SQL type a maker produces.
type valueKind int

const (
	kInt valueKind = iota
	kDbl
	kStr
	kBool
	kTS
)

// maker makes one kind of expression. Its constructs are the features of
// the dialect it exercises (what TestGeneratorCoverage counts); fns are the
// scalar functions it needs from Sluice's library.
type maker struct {
	id    string
	kind  valueKind
	cons  []string
	fns   []string
	make  func(g *gen) expr
	fails bool // meant to fail for some rows (an error query)
}

// query is one generated query in both dialects.
type query struct {
	cat    string // filter, project, predicate, error, tumble, hop
	sl, pg string
	cons   []string
}

// gen generates queries deterministically from a seed.
type gen struct {
	r *rand.Rand
	// has reports whether Sluice has a scalar function.
	has func(name string) bool
	// excluded makers (knownDifferences), by id.
	excluded map[string]knownDifference

	ints, dbls, strs, bools, tss, errs []maker
	// skipped counts makers left out, by reason.
	skipped map[string][]string
}

func (g *gen) pick(ms []maker) maker { return ms[g.r.IntN(len(ms))] }

func (g *gen) oneOf(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) oneOf2(xs ...expr) expr { return xs[g.r.IntN(len(xs))] }

func (g *gen) cmp() string { return g.oneOf("=", "<>", "<", "<=", ">", ">=", "!=") }

func (g *gen) smallInt() expr { return same(fmt.Sprint(g.r.IntN(21) - 10)) }

// newGen builds a generator. has is the function library check.
func newGen(seed uint64, has func(string) bool, excluded map[string]knownDifference) *gen {
	g := &gen{
		r:        rand.New(rand.NewPCG(seed, 0x9e3779b9)),
		has:      has,
		excluded: excluded,
		skipped:  map[string][]string{},
	}
	for _, m := range allMakers() {
		if kd, ok := excluded[m.id]; ok {
			if kd.guard == nil {
				g.skipped["left out (known difference: "+kd.reason+")"] = append(g.skipped["left out (known difference: "+kd.reason+")"], m.id)
				continue
			}
			g.skipped["guarded (known difference: "+kd.reason+")"] = append(g.skipped["guarded (known difference: "+kd.reason+")"], m.id)
			inner, guard := m.make, *kd.guard
			m.make = func(g *gen) expr { return inner(g).guarded(guard) }
		}
		missing := ""
		for _, f := range m.fns {
			if !has(f) {
				missing = f
				break
			}
		}
		if missing != "" {
			key := "left out: function " + missing + " not in sql.LookupFunction"
			g.skipped[key] = append(g.skipped[key], m.id)
			continue
		}
		switch {
		case m.fails:
			g.errs = append(g.errs, m)
		case m.kind == kInt:
			g.ints = append(g.ints, m)
		case m.kind == kDbl:
			g.dbls = append(g.dbls, m)
		case m.kind == kStr:
			g.strs = append(g.strs, m)
		case m.kind == kBool:
			g.bools = append(g.bools, m)
		case m.kind == kTS:
			g.tss = append(g.tss, m)
		}
	}
	return g
}

// whereOf ANDs the guards of es (deduplicated, in order) and extra.
func whereOf(extra *expr, es ...expr) (expr, bool) {
	var parts []expr
	seen := map[string]bool{}
	for _, e := range es {
		for _, gd := range e.guards {
			if !seen[gd.sl] {
				seen[gd.sl] = true
				parts = append(parts, gd)
			}
		}
	}
	if extra != nil {
		parts = append(parts, sf("(%s)", *extra))
	}
	if len(parts) == 0 {
		return expr{}, false
	}
	w := parts[0]
	for _, p := range parts[1:] {
		w = sf("%s AND %s", w, p)
	}
	return w, true
}

func selectQuery(cat string, cons []string, items []expr, where *expr, guardsFrom ...expr) query {
	var sl, pg strings.Builder
	sl.WriteString("SELECT id")
	pg.WriteString("SELECT id")
	for i, it := range items {
		fmt.Fprintf(&sl, ", %s AS c%d", it.sl, i+1)
		fmt.Fprintf(&pg, ", %s AS c%d", it.pg, i+1)
	}
	sl.WriteString(" FROM tenant")
	pg.WriteString(" FROM tenant")
	if w, ok := whereOf(where, append(slices.Clone(items), guardsFrom...)...); ok {
		sl.WriteString(" WHERE " + w.sl)
		pg.WriteString(" WHERE " + w.pg)
	}
	return query{cat: cat, sl: sl.String(), pg: pg.String(), cons: cons}
}

// generate returns the queries: first one per maker (so every construct
// that is available appears), then random combinations, then aggregations.
func (g *gen) generate() []query {
	var qs []query
	// One query per maker.
	for _, ms := range [][]maker{g.ints, g.dbls, g.strs, g.tss} {
		for _, m := range ms {
			qs = append(qs, selectQuery("project", m.cons, []expr{m.make(g)}, nil))
		}
	}
	for _, m := range g.bools {
		e := m.make(g)
		qs = append(qs, selectQuery("predicate", m.cons, []expr{e}, nil))
		q := selectQuery("filter", m.cons, []expr{colA, colS}, &e)
		qs = append(qs, q)
	}
	for _, m := range g.errs {
		qs = append(qs, selectQuery("error", m.cons, []expr{m.make(g)}, nil))
	}
	// Random projections, with a filter half of the time.
	for range 60 {
		var items []expr
		var cons []string
		for range 2 + g.r.IntN(3) {
			var m maker
			switch x := g.r.IntN(10); {
			case x < 3 && len(g.ints) > 0:
				m = g.pick(g.ints)
			case x < 5 && len(g.dbls) > 0:
				m = g.pick(g.dbls)
			case x < 8 && len(g.strs) > 0:
				m = g.pick(g.strs)
			case x < 9 && len(g.tss) > 0:
				m = g.pick(g.tss)
			default:
				m = g.pick(g.bools)
			}
			items = append(items, m.make(g))
			cons = append(cons, m.cons...)
		}
		var where *expr
		if g.r.IntN(2) == 0 {
			w, c := g.predicate(2)
			where, cons = &w, append(cons, c...)
		}
		qs = append(qs, selectQuery("project", cons, items, where))
	}
	// Random compound filters.
	for range 50 {
		w, cons := g.predicate(3)
		qs = append(qs, selectQuery("filter", cons, []expr{colA, colB, colD, colS, colFlag}, &w))
	}
	// Aggregations.
	for i := range 108 {
		qs = append(qs, g.aggregate(i))
	}
	return qs
}

// predicate combines up to depth predicates with AND, OR and NOT.
func (g *gen) predicate(depth int) (expr, []string) {
	m := g.pick(g.bools)
	e, cons := m.make(g), slices.Clone(m.cons)
	if depth <= 1 || g.r.IntN(4) == 0 {
		if g.r.IntN(5) == 0 {
			return sf("NOT (%s)", e), append(cons, "not")
		}
		return e, cons
	}
	other, ocons := g.predicate(depth - 1)
	cons = append(cons, ocons...)
	op := g.oneOf("AND", "OR")
	out := sf("(%s) "+op+" (%s)", e, other)
	cons = append(cons, strings.ToLower(op))
	if g.r.IntN(4) == 0 {
		out = sf("NOT (%s)", out)
		cons = append(cons, "not")
	}
	return out, cons
}

// agg is an aggregate call in both dialects.
type agg struct {
	id   string
	sl   string
	pg   string // empty: as sl
	cons []string
	fns  []string
	// guardD keeps the huge doubles out: summing 1e15 with small
	// fractions loses them in an order-dependent way.
	guardD bool
}

var aggPool = []agg{
	{id: "count-star", sl: "COUNT(*)", cons: []string{"agg:COUNT(*)"}},
	{id: "count-a", sl: "COUNT(a)", cons: []string{"agg:COUNT"}},
	{id: "count-s", sl: "COUNT(s)", cons: []string{"agg:COUNT"}},
	{id: "count-distinct-a", sl: "COUNT(DISTINCT a)", cons: []string{"agg:COUNT DISTINCT"}},
	{id: "count-distinct-s", sl: "COUNT(DISTINCT s)", cons: []string{"agg:COUNT DISTINCT"}},
	{id: "sum-a", sl: "SUM(a)", cons: []string{"agg:SUM"}},
	{id: "sum-c", sl: "SUM(c)", cons: []string{"agg:SUM"}},
	// SUM of a BIGINT is BIGINT in Sluice (overflow is an error) and
	// numeric in PostgreSQL: the cast makes PostgreSQL fail where Sluice
	// overflows. b's large values are all positive, so an overflow does not
	// depend on the order of the additions.
	{id: "sum-b", sl: "SUM(b)", pg: "SUM(b)::int8", cons: []string{"agg:SUM", "agg:SUM bigint"}},
	{id: "sum-d", sl: "SUM(d)", cons: []string{"agg:SUM"}, guardD: true},
	{id: "sum-distinct-c", sl: "SUM(DISTINCT c)", cons: []string{"agg:SUM", "agg:SUM DISTINCT"}},
	{id: "avg-distinct-c", sl: "AVG(DISTINCT c)", cons: []string{"agg:AVG"}},
	{id: "max-ts", sl: "MAX(ts)", cons: []string{"agg:MAX"}},
	{id: "min-e", sl: "MIN(e)", cons: []string{"agg:MIN", "enum"}},
	{id: "avg-c", sl: "AVG(c)", cons: []string{"agg:AVG"}},
	{id: "avg-a", sl: "AVG(a)", cons: []string{"agg:AVG"}},
	{id: "avg-d", sl: "AVG(d)", cons: []string{"agg:AVG"}, guardD: true},
	{id: "min-s", sl: "MIN(s)", cons: []string{"agg:MIN"}},
	{id: "max-s", sl: "MAX(s)", cons: []string{"agg:MAX"}},
	{id: "min-a", sl: "MIN(a)", cons: []string{"agg:MIN"}},
	{id: "max-d", sl: "MAX(d)", cons: []string{"agg:MAX"}},
	{id: "max-b", sl: "MAX(b)", cons: []string{"agg:MAX"}},
	{id: "min-d", sl: "MIN(d)", cons: []string{"agg:MIN", "nan-inf"}},
	{id: "min-ts", sl: "MIN(ts)", cons: []string{"agg:MIN"}},
	{id: "min-k", sl: "MIN(k)", cons: []string{"agg:MIN"}},
	{id: "sum-case", sl: "SUM(CASE WHEN flag THEN 1 ELSE 0 END)", cons: []string{"agg:SUM", "case-searched"}},
	{id: "count-nullif", sl: "COUNT(NULLIF(c, 0))", cons: []string{"agg:COUNT", "fn:NULLIF"}, fns: []string{"NULLIF"}},
	{id: "max-length", sl: "MAX(LENGTH(s))", cons: []string{"agg:MAX", "fn:LENGTH"}, fns: []string{"LENGTH"}},
	{id: "min-lower", sl: "MIN(LOWER(s))", cons: []string{"agg:MIN", "fn:LOWER"}, fns: []string{"LOWER"}},
	// FIRST_VALUE is the value of the earliest row by event time, first
	// seen (lowest id) on ties, ignoring NULLs; LAST_VALUE the latest, last
	// seen on ties.
	{id: "first-a", sl: "FIRST_VALUE(a)", pg: "(array_agg(a ORDER BY ts, id) FILTER (WHERE a IS NOT NULL))[1]", cons: []string{"agg:FIRST_VALUE"}},
	{id: "last-s", sl: "LAST_VALUE(s)", pg: "(array_agg(s ORDER BY ts DESC, id DESC) FILTER (WHERE s IS NOT NULL))[1]", cons: []string{"agg:LAST_VALUE"}},
	{id: "first-d", sl: "FIRST_VALUE(d)", pg: "(array_agg(d ORDER BY ts, id) FILTER (WHERE d IS NOT NULL))[1]", cons: []string{"agg:FIRST_VALUE"}},
}

var havingPool = []agg{
	{id: "having-count", sl: "COUNT(*) > 3", cons: []string{"having"}},
	{id: "having-sum", sl: "SUM(c) > 0", cons: []string{"having"}},
	{id: "having-max", sl: "MAX(d) IS NOT NULL", cons: []string{"having"}},
	{id: "having-and", sl: "COUNT(a) >= 2 AND MIN(s) < 'm'", cons: []string{"having", "and"}},
}

// windowSpec is a window size in both dialects.
type windowSpec struct {
	sl string // INTERVAL '1' MINUTE
	pg string // '1 minute'
}

var (
	tumbleSizes = []windowSpec{
		{"INTERVAL '1' MINUTE", "1 minute"}, {"INTERVAL '30' SECOND", "30 seconds"},
		{"INTERVAL '5' MINUTE", "5 minutes"}, {"INTERVAL '10' MINUTES", "10 minutes"},
		{"INTERVAL '1 minute'", "1 minute"},
	}
	// hopSizes are slide, size pairs; size is a multiple of slide.
	hopSizes = [][2]windowSpec{
		{{"INTERVAL '1' MINUTE", "1 minute"}, {"INTERVAL '5' MINUTE", "5 minutes"}},
		{{"INTERVAL '30' SECOND", "30 seconds"}, {"INTERVAL '2' MINUTE", "2 minutes"}},
		{{"INTERVAL '5' MINUTE", "5 minutes"}, {"INTERVAL '10' MINUTE", "10 minutes"}},
	}
	sessionGaps = []windowSpec{
		{"INTERVAL '5' SECOND", "5 seconds"}, {"INTERVAL '10' SECONDS", "10 seconds"},
		{"INTERVAL '20' SECOND", "20 seconds"}, {"INTERVAL '1' MINUTE", "1 minute"},
	}
	groupKeys = [][]string{{"k"}, {"k"}, {"k"}, {"e"}, {"flag"}, {"k", "flag"}, {}, {"s"}, {"c % 3"}, {"LOWER(k)"}}
)

// usableAgg reports whether the aggregate may be used in a window of the
// kind; knownDifferences names aggregates as id or kind:id.
func (g *gen) usableAgg(a agg, kind string) bool {
	for _, id := range []string{a.id, kind + ":" + a.id} {
		if kd, ok := g.excluded[id]; ok && kd.guard == nil {
			return false
		}
	}
	for _, f := range a.fns {
		if !g.has(f) {
			return false
		}
	}
	return true
}

// aggregate makes the i-th aggregation query: about a third HOP windows.
func (g *gen) aggregate(i int) query {
	// Of every six: three TUMBLE, two HOP, one SESSION.
	kind := [...]string{"tumble", "tumble", "tumble", "hop", "hop", "session"}[i%6]
	cons := []string{}
	var aggs []agg
	// Cycle through the pool so every aggregate appears, then add random ones.
	first := aggPool[i%len(aggPool)]
	if g.usableAgg(first, kind) {
		aggs = append(aggs, first)
	}
	for range 1 + g.r.IntN(4) {
		a := aggPool[g.r.IntN(len(aggPool))]
		if g.usableAgg(a, kind) && !slices.ContainsFunc(aggs, func(x agg) bool { return x.id == a.id }) {
			aggs = append(aggs, a)
		}
	}
	keys := groupKeys[g.r.IntN(len(groupKeys))]

	var winSL, winStartPG, winEndPG, from, sessionGap string
	groupPG := ""
	switch kind {
	case "session":
		gap := sessionGaps[g.r.IntN(len(sessionGaps))]
		winSL = fmt.Sprintf("SESSION(ts, %s)", gap.sl)
		winStartPG, winEndPG = "min(ts)", fmt.Sprintf("max(ts) + interval '%s'", gap.pg)
		sessionGap = gap.pg
		groupPG = "sid"
		cons = append(cons, "window:session")
	case "hop":
		hs := hopSizes[g.r.IntN(len(hopSizes))]
		slide, size := hs[0], hs[1]
		winSL = fmt.Sprintf("HOP(ts, %s, %s)", slide.sl, size.sl)
		bin := fmt.Sprintf("date_bin('%s', ts, '1970-01-01')", slide.pg)
		from = fmt.Sprintf("tenant CROSS JOIN LATERAL generate_series(%s - interval '%s' + interval '%s', %s, interval '%s') AS w(ws)",
			bin, size.pg, slide.pg, bin, slide.pg)
		winStartPG, winEndPG = "w.ws", fmt.Sprintf("w.ws + interval '%s'", size.pg)
		groupPG = winStartPG
		cons = append(cons, "window:hop")
	default:
		size := tumbleSizes[g.r.IntN(len(tumbleSizes))]
		winSL = fmt.Sprintf("TUMBLE(ts, %s)", size.sl)
		winStartPG = fmt.Sprintf("date_bin('%s', ts, '1970-01-01')", size.pg)
		winEndPG = fmt.Sprintf("%s + interval '%s'", winStartPG, size.pg)
		from = "tenant"
		groupPG = winStartPG
		cons = append(cons, "window:tumble")
	}

	var slItems, pgItems []string
	slItems = append(slItems, "WINDOW_START")
	pgItems = append(pgItems, winStartPG+" AS window_start")
	if g.r.IntN(2) == 0 {
		slItems = append(slItems, "WINDOW_END")
		pgItems = append(pgItems, winEndPG+" AS window_end")
		cons = append(cons, "window_end")
	}
	for _, k := range keys {
		slItems = append(slItems, k)
		pgItems = append(pgItems, k)
	}
	for _, a := range aggs {
		pg := a.pg
		if pg == "" {
			pg = a.sl
		}
		slItems = append(slItems, a.sl)
		pgItems = append(pgItems, pg)
		cons = append(cons, a.cons...)
	}
	if g.r.IntN(6) == 0 {
		slItems = append(slItems, "COUNT(*) * 2 + 1")
		pgItems = append(pgItems, "COUNT(*) * 2 + 1")
		cons = append(cons, "agg:expression")
	}

	var where *expr
	if g.r.IntN(2) == 0 {
		w, c := g.predicate(2)
		where = &w
		cons = append(cons, c...)
		cons = append(cons, "agg:where")
	}
	if slices.ContainsFunc(aggs, func(a agg) bool { return a.guardD }) {
		w := guardD
		if where != nil {
			w = sf("%s AND (%s)", guardD, *where)
		}
		where = &w
	}
	if slices.ContainsFunc(aggs, func(a agg) bool { return a.id == "sum-b" }) && g.r.IntN(2) == 0 {
		// Half the SUM(b) queries keep b small enough not to overflow.
		w := guardB
		if where != nil {
			w = sf("%s AND (%s)", guardB, *where)
		}
		where = &w
	}
	sl := "SELECT " + strings.Join(slItems, ", ") + " FROM tenant"
	pg := "SELECT " + strings.Join(pgItems, ", ") + " FROM "
	if kind == "session" {
		// Sessions per key: a record starts a new one when it comes at
		// least gap after the previous record of its key (by event time),
		// as the records that pass WHERE.
		part := ""
		if len(keys) > 0 {
			part = "PARTITION BY " + strings.Join(keys, ", ") + " "
		}
		inner := "tenant"
		if where != nil {
			inner = "(SELECT * FROM tenant WHERE " + where.pg + ") AS tenant"
		}
		pg += fmt.Sprintf("(SELECT *, sum(brk) OVER (%sORDER BY ts, id ROWS UNBOUNDED PRECEDING) AS sid"+
			" FROM (SELECT *, CASE WHEN ts - lag(ts) OVER (%sORDER BY ts, id) < interval '%s' THEN 0 ELSE 1 END AS brk"+
			" FROM %s) AS x) AS tenant", part, part, sessionGap, inner)
		if where != nil {
			sl += " WHERE " + where.sl
		}
	} else {
		pg += from
		if where != nil {
			sl += " WHERE " + where.sl
			pg += " WHERE " + where.pg
		}
	}
	sl += " GROUP BY " + strings.Join(append([]string{winSL}, keys...), ", ")
	pg += " GROUP BY " + strings.Join(append([]string{groupPG}, keys...), ", ")
	// PostgreSQL computes SUM(b)::int8 only for the groups HAVING keeps,
	// while Sluice fails the record that overflows the sum: no HAVING
	// with an unguarded SUM(b).
	unguardedSumB := slices.ContainsFunc(aggs, func(a agg) bool { return a.id == "sum-b" }) && !strings.Contains(sl, guardB.sl)
	if g.r.IntN(3) == 0 && !unguardedSumB {
		h := havingPool[g.r.IntN(len(havingPool))]
		sl += " HAVING " + h.sl
		pg += " HAVING " + h.sl
		cons = append(cons, h.cons...)
	}
	return query{cat: kind, sl: sl, pg: pg, cons: cons}
}

// countConstructs counts queries by construct.
func countConstructs(qs []query) map[string]int {
	n := map[string]int{}
	for _, q := range qs {
		for _, c := range q.cons {
			n[c]++
		}
	}
	return n
}

// countCategories counts queries by category.
func countCategories(qs []query) map[string]int {
	n := map[string]int{}
	for _, q := range qs {
		n[q.cat]++
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

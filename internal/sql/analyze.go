package sql

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/decode"
)

// AnalysisError is a query that parses but cannot run against the schema:
// an unknown column, a type mismatch, a misplaced aggregate. Pos is where
// the offending expression starts.
type AnalysisError struct {
	Pos Pos
	Msg string
}

func (e *AnalysisError) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorPos returns the position of a *SyntaxError or *AnalysisError in err.
func ErrorPos(err error) (Pos, bool) {
	var se *SyntaxError
	if errors.As(err, &se) {
		return se.Pos, true
	}
	var ae *AnalysisError
	if errors.As(err, &ae) {
		return ae.Pos, true
	}
	return Pos{}, false
}

func errAt(p Pos, format string, args ...any) error {
	return &AnalysisError{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// Limits of one query beyond the parser's.
const (
	// MaxHopWindows bounds how many windows one record of a HOP belongs to
	// (size / slide).
	MaxHopWindows = 1000
)

// Analyze parses text and resolves it against the reader schema, a record:
// every name, type and function is checked, and the expressions are
// compiled. Errors are *SyntaxError or *AnalysisError, both with a
// position.
func Analyze(text string, reader *avro.Schema) (*Query, error) {
	stmt, err := Parse(text)
	if err != nil {
		return nil, err
	}
	return AnalyzeStmt(text, stmt, reader)
}

// AnalyzeStmt is Analyze for a statement already parsed from text.
func AnalyzeStmt(text string, stmt *Select, reader *avro.Schema) (*Query, error) {
	root, err := decode.ReaderType(reader)
	if err != nil {
		return nil, err
	}
	if root.Kind != decode.KindRecord {
		return nil, errAt(stmt.FromPos, "the tenant's schema is %s, not a record", root.Kind)
	}
	rr, err := readerOf(root, 0)
	if err != nil {
		return nil, errAt(stmt.FromPos, "the tenant's schema: %v", err)
	}
	a := &analyzer{root: rr.typ, fieldIdx: map[string]int{}}
	q := &Query{Text: text, Stmt: stmt}
	if err := a.statement(q, stmt); err != nil {
		return nil, err
	}
	q.Fields = a.fields
	return q, nil
}

// analyzer holds the state of one analysis.
type analyzer struct {
	root *Type // the reader record
	// fields are the reader paths read so far; column i of the decoded row
	// is fields[i].
	fields   []string
	fieldIdx map[string]int
	slots    int // scratch rows for nested access
	agg      *aggScope
}

// aggScope is the state of analysing the select list and HAVING of an
// aggregation: expressions there read group keys and aggregates.
type aggScope struct {
	out     *Aggregation
	keys    []string // keyText of each group key
	aggText map[string]int
	inAgg   bool // analysing an aggregate's argument
}

func (a *analyzer) statement(q *Query, s *Select) error {
	// WHERE first, so that its fields come first in the projection.
	if s.Where != nil {
		w, err := a.expr(s.Where)
		if err != nil {
			return err
		}
		if err := wantBoolean(w, "WHERE"); err != nil {
			return err
		}
		q.Where = w.eval
	}
	q.FilterFields = len(a.fields)

	hasAgg := false
	for _, it := range s.Items {
		if it.Expr != nil && containsAggregate(it.Expr) {
			hasAgg = true
		}
	}
	if len(s.GroupBy) == 0 {
		if s.Having != nil {
			return errAt(s.Having.Pos(), "HAVING needs GROUP BY with a window (TUMBLE, HOP or SESSION)")
		}
		if hasAgg {
			for _, it := range s.Items {
				if it.Expr != nil && containsAggregate(it.Expr) {
					p := firstAggregate(it.Expr).Pos()
					return errAt(p, "aggregate without GROUP BY: a stream has no end, so aggregates need GROUP BY with a window, e.g. GROUP BY TUMBLE(event_time, INTERVAL '1' MINUTE)")
				}
			}
		}
		return a.selectList(q, s)
	}
	return a.aggregation(q, s)
}

func (a *analyzer) selectList(q *Query, s *Select) error {
	names := map[string]int{}
	add := func(name string, t *Type, ev Eval) {
		q.Columns = append(q.Columns, OutputColumn{Name: uniqueName(names, name), Type: t})
		if ev != nil {
			q.Project = append(q.Project, ev)
		}
	}
	for i, it := range s.Items {
		if it.Star {
			if a.agg != nil {
				return errAt(it.Start, "SELECT * cannot be used with GROUP BY: name the keys and aggregates")
			}
			q.Star = true
			for _, f := range a.root.Fields {
				if f.Type.Kind == Unknown && f.Type.Avro != nil && f.Type.Avro.Kind != decode.KindNull {
					return errAt(it.Start, "field %s: %v", f.Name, unsupportedField(f.Type))
				}
				col, err := a.column([]string{f.Name}, it.Start)
				if err != nil {
					return err
				}
				add(f.Name, col.typ, col.eval)
			}
			continue
		}
		x, err := a.expr(it.Expr)
		if err != nil {
			return err
		}
		add(a.itemName(it, i), x.typ, x.eval)
	}
	return nil
}

func unsupportedField(t *Type) error {
	if t.Avro != nil && t.Avro.Kind == decode.KindUnion {
		return errUnsupported("a union of several non-null types")
	}
	return errUnsupported("its type")
}

// itemName is the output name of a select item: its alias, the schema's
// name of a column's last part, a function's name, or colN.
func (a *analyzer) itemName(it SelectItem, i int) string {
	if it.Alias != nil {
		return it.Alias.Name
	}
	switch x := it.Expr.(type) {
	case *Column:
		if path, _, err := a.resolve(x); err == nil {
			return path[strings.LastIndexByte(path, '.')+1:]
		}
		return strings.ToLower(x.Parts[len(x.Parts)-1].Name) // WINDOW_START, WINDOW_END
	case *FieldAccess:
		return x.Name.Name
	case *FuncCall:
		return strings.ToLower(x.Name.Name)
	case *Cast:
		if c, ok := x.X.(*Column); ok {
			return c.Parts[len(c.Parts)-1].Name
		}
	}
	return "col" + strconv.Itoa(i+1)
}

// uniqueName keeps output names distinct (encoders need that): a repeated
// name gets _2, _3...
func uniqueName(seen map[string]int, name string) string {
	key := strings.ToLower(name)
	seen[key]++
	if seen[key] == 1 {
		return name
	}
	for n := seen[key]; ; n++ {
		cand := name + "_" + strconv.Itoa(n)
		if seen[strings.ToLower(cand)] == 0 {
			seen[strings.ToLower(cand)] = 1
			return cand
		}
	}
}

var aggFuncs = map[string]AggFunc{
	"COUNT": Count, "SUM": Sum, "AVG": Avg, "MIN": Min, "MAX": Max,
	"APPROX_COUNT_DISTINCT": ApproxCountDistinct, "FIRST_VALUE": FirstValue, "LAST_VALUE": LastValue,
}

var windowFuncs = map[string]WindowKind{"TUMBLE": Tumble, "HOP": Hop, "SESSION": Session}

func isAggregate(e Expr) bool {
	f, ok := e.(*FuncCall)
	return ok && aggFuncs[strings.ToUpper(f.Name.Name)] != 0
}

func containsAggregate(e Expr) bool { return firstAggregate(e) != nil }

// firstAggregate finds an aggregate call in e.
func firstAggregate(e Expr) Expr {
	var found Expr
	walk(e, func(x Expr) bool {
		if found != nil {
			return false
		}
		if isAggregate(x) {
			found = x
			return false
		}
		return true
	})
	return found
}

// walk calls fn on e and, while fn returns true, on its children.
func walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	for _, c := range children(e) {
		walk(c, fn)
	}
}

func children(e Expr) []Expr {
	switch x := e.(type) {
	case *FieldAccess:
		return []Expr{x.X}
	case *Index:
		return []Expr{x.X, x.Index}
	case *Unary:
		return []Expr{x.X}
	case *Binary:
		return []Expr{x.L, x.R}
	case *In:
		return append([]Expr{x.X}, x.List...)
	case *Between:
		return []Expr{x.X, x.Lo, x.Hi}
	case *Like:
		return []Expr{x.X, x.Pattern, x.Escape}
	case *IsNull:
		return []Expr{x.X}
	case *IsDistinctFrom:
		return []Expr{x.X, x.Y}
	case *Case:
		out := []Expr{x.Operand}
		for _, w := range x.Whens {
			out = append(out, w.Cond, w.Result)
		}
		return append(out, x.Else)
	case *Cast:
		return []Expr{x.X}
	case *FuncCall:
		return x.Args
	}
	return nil
}

func (a *analyzer) aggregation(q *Query, s *Select) error {
	out := &Aggregation{}
	sc := &aggScope{out: out, aggText: map[string]int{}}
	var windowAt Expr
	for _, g := range s.GroupBy {
		if f, ok := g.(*FuncCall); ok && windowFuncs[strings.ToUpper(f.Name.Name)] != 0 {
			if windowAt != nil {
				return errAt(g.Pos(), "GROUP BY has more than one window (the first is at %s)", windowAt.Pos())
			}
			windowAt = g
			w, err := a.window(f)
			if err != nil {
				return err
			}
			out.Window = w
			continue
		}
		if containsAggregate(g) {
			return errAt(firstAggregate(g).Pos(), "aggregate functions are not allowed in GROUP BY")
		}
		k, err := a.expr(g)
		if err != nil {
			return err
		}
		switch k.typ.Kind {
		case Array, Map, Record:
			return errAt(g.Pos(), "cannot group by %s, a %s: group by one of its fields", g, k.typ)
		}
		out.Keys = append(out.Keys, k.eval)
		out.KeyTypes = append(out.KeyTypes, k.typ)
		out.KeyText = append(out.KeyText, g.String())
		sc.keys = append(sc.keys, a.keyText(g))
	}
	if windowAt == nil {
		return errAt(s.GroupBy[0].Pos(), "a streaming GROUP BY needs a window: add TUMBLE(ts, INTERVAL '1' MINUTE), HOP(ts, slide, size) or SESSION(ts, gap) to it")
	}
	a.agg = sc
	if err := a.selectList(q, s); err != nil {
		return err
	}
	out.Project, q.Project = q.Project, nil
	if s.Having != nil {
		h, err := a.expr(s.Having)
		if err != nil {
			return err
		}
		if err := wantBoolean(h, "HAVING"); err != nil {
			return err
		}
		out.Having = h.eval
	}
	a.agg = nil
	q.Agg = out
	return nil
}

// keyText identifies a group key so that the select list can refer to it:
// a column by its resolved path, anything else by its canonical SQL.
func (a *analyzer) keyText(e Expr) string {
	if c, ok := e.(*Column); ok {
		if path, _, err := a.resolve(c); err == nil {
			return "column " + path
		}
	}
	return e.String()
}

func (a *analyzer) window(f *FuncCall) (Window, error) {
	kind := windowFuncs[strings.ToUpper(f.Name.Name)]
	want := map[WindowKind]int{Tumble: 2, Hop: 3, Session: 2}[kind]
	usage := map[WindowKind]string{
		Tumble:  "TUMBLE(ts, INTERVAL '1' MINUTE)",
		Hop:     "HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) (slide, then size)",
		Session: "SESSION(ts, INTERVAL '30' SECOND) (the gap)",
	}[kind]
	if f.Star || f.Distinct || len(f.Args) != want {
		return Window{}, errAt(f.Pos(), "%s takes %d arguments: %s", kind, want, usage)
	}
	ts, err := a.expr(f.Args[0])
	if err != nil {
		return Window{}, err
	}
	if ts.typ.Kind != Timestamp {
		return Window{}, errAt(f.Args[0].Pos(), "a window needs a TIMESTAMP column as its first argument; %s is %s (a long with the logical type timestamp-millis or timestamp-micros is a TIMESTAMP)", f.Args[0], ts.typ)
	}
	w := Window{Kind: kind, Time: ts.eval, TimeField: f.Args[0].String()}
	var durs []int64
	for _, arg := range f.Args[1:] {
		d, err := a.expr(arg)
		if err != nil {
			return Window{}, err
		}
		if d.typ.Kind != Interval || d.cnst == nil || d.cnst.Null {
			return Window{}, errAt(arg.Pos(), "%s needs a constant INTERVAL here, such as INTERVAL '1' MINUTE; got %s", kind, d.typ)
		}
		if d.cnst.I <= 0 {
			return Window{}, errAt(arg.Pos(), "the interval must be positive")
		}
		durs = append(durs, d.cnst.I)
	}
	switch kind {
	case Tumble:
		w.Size = durs[0]
	case Hop:
		w.Slide, w.Size = durs[0], durs[1]
		if w.Size < w.Slide {
			return Window{}, errAt(f.Args[2].Pos(), "the size of a HOP window must be at least its slide (otherwise records between windows are lost)")
		}
		if w.Size/w.Slide > MaxHopWindows {
			return Window{}, errAt(f.Args[2].Pos(), "a HOP window of this size and slide puts each record in %d windows; the limit is %d", w.Size/w.Slide, MaxHopWindows)
		}
	case Session:
		w.Gap = durs[0]
	}
	return w, nil
}

func wantBoolean(x *texpr, clause string) error {
	if x.typ.Kind != Boolean && x.typ.Kind != Unknown {
		return errAt(x.pos, "%s needs a BOOLEAN condition; this is %s", clause, x.typ)
	}
	return nil
}

// resolve finds the reader path a column names: parts are matched to
// field names exactly when quoted and case-insensitively when bare, and a
// leading "tenant" qualifier is dropped when it is not itself a field.
func (a *analyzer) resolve(c *Column) (string, *Type, error) {
	path, t, err := a.resolveParts(a.root, c.Parts)
	if err != nil && len(c.Parts) > 1 && strings.EqualFold(c.Parts[0].Name, "tenant") && !c.Parts[0].Quoted {
		if p2, t2, err2 := a.resolveParts(a.root, c.Parts[1:]); err2 == nil {
			return p2, t2, nil
		}
	}
	return path, t, err
}

func (a *analyzer) resolveParts(rec *Type, parts []Ident) (string, *Type, error) {
	var path []string
	t := rec
	for i, p := range parts {
		if t.Kind != Record {
			return "", nil, errAt(p.Start, "%s is %s, which has no fields", strings.Join(path, "."), t)
		}
		f, err := fieldNamed(t, p)
		if err != nil {
			return "", nil, err
		}
		if i == 0 && t == a.root && f == nil {
			return "", nil, errAt(p.Start, "unknown column %s%s", p.Name, didYouMean(p.Name, fieldNames(t)))
		}
		if f == nil {
			return "", nil, errAt(p.Start, "%s has no field %s%s", strings.Join(path, "."), p.Name, didYouMean(p.Name, fieldNames(t)))
		}
		path = append(path, f.Name)
		t = f.Type
	}
	return strings.Join(path, "."), t, nil
}

// fieldNamed finds the field an identifier names, nil when none does.
func fieldNamed(rec *Type, id Ident) (*Field, error) {
	for i := range rec.Fields {
		if rec.Fields[i].Name == id.Name {
			return &rec.Fields[i], nil
		}
	}
	if id.Quoted {
		return nil, nil
	}
	var found *Field
	for i := range rec.Fields {
		if strings.EqualFold(rec.Fields[i].Name, id.Name) {
			if found != nil {
				return nil, errAt(id.Start, "%s is ambiguous: the schema has %s and %s; quote the name to pick one", id.Name, QuoteIdent(found.Name), QuoteIdent(rec.Fields[i].Name))
			}
			found = &rec.Fields[i]
		}
	}
	return found, nil
}

func fieldNames(t *Type) []string {
	out := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		out[i] = f.Name
	}
	return out
}

// didYouMean suggests the closest of candidates to name, or "".
func didYouMean(name string, candidates []string) string {
	best, bestD := "", 1<<30
	lname := strings.ToLower(name)
	sort.Strings(candidates)
	for _, c := range candidates {
		d := editDistance(lname, strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len([]rune(name))/3) {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// column compiles a read of the reader path given by parts (already
// resolved names), registering it in the projection.
func (a *analyzer) column(path []string, p Pos) (*texpr, error) {
	ids := make([]Ident, len(path))
	for i, s := range path {
		ids[i] = Ident{Start: p, Name: s, Quoted: true}
	}
	return a.columnRef(&Column{Parts: ids})
}

func (a *analyzer) columnRef(c *Column) (*texpr, error) {
	path, t, err := a.resolve(c)
	if err != nil {
		return nil, err
	}
	if t.Kind == Unknown && t.Avro != nil && t.Avro.Kind != decode.KindNull {
		return nil, errAt(c.Pos(), "column %s: %v", path, unsupportedField(t))
	}
	rd, err := readerOf(t.Avro, 0)
	if err != nil {
		return nil, errAt(c.Pos(), "column %s: %v", path, err)
	}
	i, ok := a.fieldIdx[path]
	if !ok {
		i = len(a.fields)
		a.fields = append(a.fields, path)
		a.fieldIdx[path] = i
	}
	return &texpr{typ: rd.typ, eval: columnEval(i, rd), pos: c.Pos()}, nil
}

// columnEval reads column i of the row; the common kinds are written out so
// that a filter on them is one call.
func columnEval(i int, rd reader) Eval {
	switch rd.typ.Kind {
	case Boolean, Integer, BigInt, Date:
		return func(e *Env) Value {
			v := &e.Row.Values[i]
			if v.Kind == decode.KindNull {
				return Null
			}
			return Value{I: v.I}
		}
	case Double:
		if rd.typ.Avro.Logical != decode.LogicalDecimal {
			return func(e *Env) Value {
				v := &e.Row.Values[i]
				if v.Kind == decode.KindNull {
					return Null
				}
				return Value{F: v.F}
			}
		}
	case Varchar, Bytes:
		if rd.typ.Avro.Logical != decode.LogicalUUID {
			return func(e *Env) Value {
				v := &e.Row.Values[i]
				if v.Kind == decode.KindNull {
					return Null
				}
				return Value{B: v.B}
			}
		}
	}
	conv := rd.conv
	return func(e *Env) Value { return conv(e, &e.Row.Values[i]) }
}

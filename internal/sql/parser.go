package sql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on input, so that hostile queries fail cleanly.
const (
	// MaxQueryBytes is the longest query text Parse accepts.
	MaxQueryBytes = 64 << 10
	// MaxDepth is the deepest expression nesting Parse accepts (parentheses,
	// prefix operators, function arguments, CASE arms and the like).
	MaxDepth = 200
)

// Parse parses one SELECT statement, optionally followed by a semicolon.
// Every error is a *SyntaxError with the position of the problem.
func Parse(src string) (*Select, error) {
	if len(src) > MaxQueryBytes {
		l := &lexer{src: src, line: 1, col: 1}
		for l.off < MaxQueryBytes {
			l.advance()
		}
		return nil, &SyntaxError{Pos: l.pos(), Msg: fmt.Sprintf("query is %d bytes long; expected at most %d", len(src), MaxQueryBytes)}
	}
	if !utf8.ValidString(src) {
		l := &lexer{src: src, line: 1, col: 1}
		for {
			r, w := utf8.DecodeRuneInString(src[l.off:])
			if r == utf8.RuneError && w <= 1 {
				break
			}
			l.advance()
		}
		return nil, &SyntaxError{Pos: l.pos(), Msg: "invalid UTF-8: expected query text in UTF-8"}
	}
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	return p.parseStatement()
}

// ParseExpr parses a single expression (for tests and tools); the whole input
// must be the expression.
func ParseExpr(src string) (Expr, error) {
	s, err := Parse("SELECT " + src + " FROM tenant")
	if err != nil {
		if se, ok := err.(*SyntaxError); ok {
			se2 := *se
			se2.Pos.Offset -= len("SELECT ")
			if se2.Pos.Line == 1 {
				se2.Pos.Column -= len("SELECT ")
			}
			return nil, &se2
		}
		return nil, err
	}
	if len(s.Items) != 1 || s.Items[0].Star || s.Items[0].Alias != nil {
		return nil, &SyntaxError{Pos: Pos{Line: 1, Column: 1}, Msg: "expected a single expression"}
	}
	return s.Items[0].Expr, nil
}

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) peek(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// describe names a token for an error message.
func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokIdent:
		if kw := t.keyword(); kw != "" {
			return kw
		}
		return strconv.Quote(t.text)
	case tokQuoted:
		return "quoted identifier " + QuoteIdent(t.text)
	case tokInt, tokFloat:
		return "number " + t.text
	case tokString:
		s := t.text
		if utf8.RuneCountInString(s) > 20 {
			s = string([]rune(s)[:20]) + "..."
		}
		return "string " + QuoteString(s)
	}
	return strconv.Quote(t.text)
}

func (p *parser) errAt(pos Pos, format string, args ...any) error {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// unexpected reports that the current token is not what was expected.
func (p *parser) unexpected(expected string) error {
	t := p.tok()
	return p.errAt(t.pos, "expected %s, found %s", expected, describe(t))
}

// expectKeyword consumes kw or fails, suggesting kw when the found word is a
// near miss.
func (p *parser) expectKeyword(kw, context string) error {
	t := p.tok()
	if t.is(kw) {
		p.next()
		return nil
	}
	msg := fmt.Sprintf("expected %s%s, found %s", kw, context, describe(t))
	if t.kind == tokIdent && !strings.EqualFold(t.text, kw) && editDistance(strings.ToUpper(t.text), kw) <= 2 && len(t.text) > 1 {
		msg += fmt.Sprintf(" (did you mean %s?)", kw)
	}
	return p.errAt(t.pos, "%s", msg)
}

func (p *parser) expectOp(op, context string) error {
	if p.tok().isOp(op) {
		p.next()
		return nil
	}
	return p.unexpected(fmt.Sprintf("%q%s", op, context))
}

// unsupported gives a clear message for SQL that is valid elsewhere but not
// in this dialect.
var unsupported = map[string]string{
	"ORDER":     "ORDER BY is not supported: a streaming query has no end to sort",
	"LIMIT":     "LIMIT is not supported in a streaming query",
	"OFFSET":    "OFFSET is not supported in a streaming query",
	"JOIN":      "JOIN is not supported: a query reads only the tenant topic",
	"UNION":     "UNION is not supported",
	"INTERSECT": "INTERSECT is not supported",
	"EXCEPT":    "EXCEPT is not supported",
	"WINDOW":    "a WINDOW clause is not supported; use TUMBLE, HOP or SESSION in GROUP BY",
}

func (p *parser) parseStatement() (*Select, error) {
	t := p.tok()
	if t.is("WITH") {
		return nil, p.errAt(t.pos, "expected SELECT, found WITH (common table expressions are not supported)")
	}
	start := t.pos
	if err := p.expectKeyword("SELECT", ""); err != nil {
		return nil, err
	}
	s := &Select{Start: start}
	if d := p.tok(); d.is("DISTINCT") || d.is("ALL") {
		return nil, p.errAt(d.pos, "expected a select list after SELECT, found %s (SELECT %s is not supported)", describe(d), d.keyword())
	}
	for {
		it, err := p.parseSelectItem()
		if err != nil {
			return nil, err
		}
		s.Items = append(s.Items, it)
		if !p.tok().isOp(",") {
			break
		}
		p.next()
	}
	if err := p.expectKeyword("FROM", " after the select list"); err != nil {
		if t := p.tok(); t.isOp(",") || t.kind == tokEOF || t.kind == tokIdent {
			return nil, err
		}
		return nil, p.unexpected(`FROM or "," after the select list`)
	}
	ft := p.tok()
	if (ft.kind != tokIdent && ft.kind != tokQuoted) || !strings.EqualFold(ft.text, "tenant") || (ft.kind == tokQuoted && ft.text != "tenant") {
		return nil, p.errAt(ft.pos, "expected tenant after FROM, found %s (a query reads its subscription's tenant topic, which is named tenant)", describe(ft))
	}
	p.next()
	s.FromPos = ft.pos
	if t := p.tok(); t.is("AS") || (t.kind == tokIdent && t.keyword() == "") || t.kind == tokQuoted {
		return nil, p.errAt(t.pos, "expected WHERE, GROUP BY or end of input after FROM tenant, found %s (table aliases are not supported)", describe(t))
	}
	if p.tok().is("WHERE") {
		kw := p.next()
		e, err := p.parseExprAfter("WHERE", kw)
		if err != nil {
			return nil, err
		}
		s.Where = e
	}
	if p.tok().is("GROUP") {
		p.next()
		if err := p.expectKeyword("BY", " after GROUP"); err != nil {
			return nil, err
		}
		for {
			e, err := p.parseExprAfter("GROUP BY", p.toks[p.i-1])
			if err != nil {
				return nil, err
			}
			s.GroupBy = append(s.GroupBy, e)
			if !p.tok().isOp(",") {
				break
			}
			p.next()
		}
	}
	if p.tok().is("HAVING") {
		kw := p.next()
		e, err := p.parseExprAfter("HAVING", kw)
		if err != nil {
			return nil, err
		}
		s.Having = e
	}
	if p.tok().isOp(";") {
		p.next()
		if t := p.tok(); t.kind != tokEOF {
			return nil, p.errAt(t.pos, `expected end of input after ";", found %s (only one statement is allowed)`, describe(t))
		}
	}
	if t := p.tok(); t.kind != tokEOF {
		if msg, ok := unsupported[t.keyword()]; ok {
			return nil, p.errAt(t.pos, "%s", msg)
		}
		var expected []string
		if s.Where == nil && len(s.GroupBy) == 0 && s.Having == nil {
			expected = append(expected, "WHERE")
		}
		if len(s.GroupBy) == 0 && s.Having == nil {
			expected = append(expected, "GROUP BY")
		}
		if s.Having == nil {
			expected = append(expected, "HAVING")
		}
		expected = append(expected, `";"`, "end of input")
		msg := fmt.Sprintf("expected %s, found %s", joinOr(expected), describe(t))
		if t.kind == tokIdent && t.keyword() == "" {
			for _, kw := range expected[:len(expected)-2] {
				first := strings.Fields(kw)[0]
				if editDistance(strings.ToUpper(t.text), first) <= 2 && len(t.text) > 2 {
					msg += fmt.Sprintf(" (did you mean %s?)", first)
					break
				}
			}
		}
		return nil, p.errAt(t.pos, "%s", msg)
	}
	return s, nil
}

func joinOr(xs []string) string {
	if len(xs) == 1 {
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// parseExprAfter parses an expression that must follow a clause keyword, so
// that a missing one is reported as such.
func (p *parser) parseExprAfter(clause string, _ token) (Expr, error) {
	if !p.startsExpr() {
		return nil, p.unexpected("an expression after " + clause)
	}
	return p.parseExpr(precLowest)
}

// startsExpr reports whether the current token can begin an expression.
func (p *parser) startsExpr() bool {
	t := p.tok()
	switch t.kind {
	case tokEOF:
		return false
	case tokOp:
		return t.text == "(" || t.text == "-" || t.text == "+"
	case tokIdent:
		switch t.keyword() {
		case "", "NOT", "NULL", "TRUE", "FALSE", "CASE", "CAST", "TRY_CAST", "EXISTS":
			return true
		}
		return false
	}
	return true
}

func (p *parser) parseSelectItem() (SelectItem, error) {
	t := p.tok()
	if t.isOp("*") {
		p.next()
		return SelectItem{Start: t.pos, Star: true}, nil
	}
	if (t.kind == tokIdent || t.kind == tokQuoted) && p.peek(1).isOp(".") && p.peek(2).isOp("*") {
		if !strings.EqualFold(t.text, "tenant") || (t.kind == tokQuoted && t.text != "tenant") {
			return SelectItem{}, p.errAt(t.pos, "expected * or tenant.*, found %s.* (only the tenant's fields can be expanded with .*)", describe(t))
		}
		p.next()
		p.next()
		p.next()
		return SelectItem{Start: t.pos, Star: true, Qualified: true}, nil
	}
	if !p.startsExpr() {
		return SelectItem{}, p.unexpected("an expression or * in the select list")
	}
	e, err := p.parseExpr(precLowest)
	if err != nil {
		return SelectItem{}, err
	}
	it := SelectItem{Start: t.pos, Expr: e}
	a := p.tok()
	switch {
	case a.is("AS"):
		p.next()
		n := p.tok()
		if n.kind != tokIdent && n.kind != tokQuoted {
			return SelectItem{}, p.unexpected("an alias after AS")
		}
		p.next()
		it.Alias = &Ident{Start: n.pos, Name: n.text, Quoted: n.kind == tokQuoted}
	case a.kind == tokQuoted || (a.kind == tokIdent && a.keyword() == ""):
		p.next()
		it.Alias = &Ident{Start: a.pos, Name: a.text, Quoted: a.kind == tokQuoted}
	}
	return it, nil
}

// infix describes the operator at the current position, if any: its
// precedence and how many tokens it takes (NOT IN is two).
func (p *parser) infixPrec() int {
	t := p.tok()
	switch t.kind {
	case tokOp:
		switch t.text {
		case "=", "<>", "!=", "<", "<=", ">", ">=":
			return precCmp
		case "||":
			return precConcat
		case "+", "-":
			return precAdd
		case "*", "/", "%":
			return precMul
		case "::", "[", ".":
			return precPostfix
		}
	case tokIdent:
		switch t.keyword() {
		case "OR":
			return precOr
		case "AND":
			return precAnd
		case "IS":
			return precIs
		case "LIKE", "ILIKE", "BETWEEN", "IN":
			return precLike
		case "NOT":
			switch p.peek(1).keyword() {
			case "LIKE", "ILIKE", "BETWEEN", "IN":
				return precLike
			}
		}
	}
	return precLowest
}

var cmpOps = map[string]BinaryOp{"=": Eq, "<>": Ne, "!=": Ne, "<": Lt, "<=": Le, ">": Gt, ">=": Ge}
var arithOps = map[string]BinaryOp{"+": Add, "-": Sub, "*": Mul, "/": Div, "%": Mod, "||": Concat}

// parseExpr is the Pratt loop: it parses operators binding at least as
// tightly as min.
func (p *parser) parseExpr(min int) (Expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxDepth {
		return nil, p.errAt(p.tok().pos, "expression nested too deeply: expected at most %d levels", MaxDepth)
	}
	left, err := p.parsePrefix()
	if err != nil {
		return nil, err
	}
	lastNonAssoc := precLowest // precedence of a non-associative operator just applied
	for {
		prec := p.infixPrec()
		if prec == precLowest || prec < min {
			return left, nil
		}
		if prec == lastNonAssoc {
			t := p.tok()
			return nil, p.errAt(t.pos, "unexpected %s: comparison, LIKE, BETWEEN and IN operators do not associate; add parentheses", describe(t))
		}
		t := p.next()
		switch {
		case t.kind == tokOp && prec == precPostfix:
			left, err = p.parsePostfix(t, left)
		case t.kind == tokOp && prec == precCmp:
			var r Expr
			r, err = p.operand(prec+1, t)
			if err != nil {
				return nil, err
			}
			left = &Binary{Op: cmpOps[t.text], OpPos: t.pos, L: left, R: r}
			lastNonAssoc = prec
			continue
		case t.kind == tokOp:
			var r Expr
			r, err = p.operand(prec+1, t)
			left = &Binary{Op: arithOps[t.text], OpPos: t.pos, L: left, R: r}
		case t.is("OR") || t.is("AND"):
			var r Expr
			r, err = p.operand(prec+1, t)
			op := And
			if t.is("OR") {
				op = Or
			}
			left = &Binary{Op: op, OpPos: t.pos, L: left, R: r}
		case t.is("IS"):
			left, err = p.parseIs(left)
		default: // [NOT] LIKE | ILIKE | BETWEEN | IN
			left, err = p.parseLikeLevel(t, left)
			lastNonAssoc = prec
			if err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		lastNonAssoc = precLowest
	}
}

// operand parses the right-hand side of operator op.
func (p *parser) operand(min int, op token) (Expr, error) {
	if !p.startsExpr() {
		return nil, p.unexpected("an expression after " + describe(op))
	}
	return p.parseExpr(min)
}

func (p *parser) parsePostfix(t token, left Expr) (Expr, error) {
	switch t.text {
	case "::":
		ty, err := p.parseType("::")
		if err != nil {
			return nil, err
		}
		return &Cast{Start: left.Pos(), X: left, Type: ty}, nil
	case "[":
		idx, err := p.operand(precLowest, t)
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("]", " to close the index"); err != nil {
			return nil, err
		}
		return &Index{X: left, Index: idx}, nil
	}
	// "."
	n := p.tok()
	if n.isOp("*") {
		return nil, p.errAt(n.pos, "expected a field name after \".\", found \"*\" (.* is only allowed as tenant.* in the select list)")
	}
	if n.kind != tokIdent && n.kind != tokQuoted {
		return nil, p.unexpected(`a field name after "."`)
	}
	p.next()
	id := Ident{Start: n.pos, Name: n.text, Quoted: n.kind == tokQuoted}
	if c, ok := left.(*Column); ok {
		c.Parts = append(c.Parts, id)
		return c, nil
	}
	return &FieldAccess{X: left, Name: id}, nil
}

func (p *parser) parseIs(left Expr) (Expr, error) {
	not := false
	if p.tok().is("NOT") {
		p.next()
		not = true
	}
	t := p.tok()
	switch {
	case t.is("NULL"):
		p.next()
		return &IsNull{X: left, Not: not}, nil
	case t.is("DISTINCT"):
		p.next()
		if err := p.expectKeyword("FROM", " after IS DISTINCT"); err != nil {
			return nil, err
		}
		y, err := p.operand(precIs+1, p.toks[p.i-1])
		if err != nil {
			return nil, err
		}
		return &IsDistinctFrom{X: left, Y: y, Not: not}, nil
	}
	if not {
		return nil, p.unexpected("NULL or DISTINCT FROM after IS NOT")
	}
	return nil, p.unexpected("NOT, NULL or DISTINCT FROM after IS")
}

func (p *parser) parseLikeLevel(t token, left Expr) (Expr, error) {
	not := false
	if t.is("NOT") {
		not = true
		t = p.next()
	}
	switch {
	case t.is("IN"):
		if err := p.expectOp("(", " after IN"); err != nil {
			return nil, err
		}
		if s := p.tok(); s.is("SELECT") {
			return nil, p.errAt(s.pos, "expected a list of values after IN (, found SELECT (subqueries are not supported)")
		}
		list, err := p.parseList(")", "IN (")
		if err != nil {
			return nil, err
		}
		return &In{X: left, Not: not, List: list}, nil
	case t.is("BETWEEN"):
		lo, err := p.operand(precLike+1, t)
		if err != nil {
			return nil, err
		}
		if err := p.expectKeyword("AND", " in BETWEEN ... AND ..."); err != nil {
			return nil, err
		}
		hi, err := p.operand(precLike+1, p.toks[p.i-1])
		if err != nil {
			return nil, err
		}
		return &Between{X: left, Not: not, Lo: lo, Hi: hi}, nil
	}
	// LIKE / ILIKE
	pat, err := p.operand(precLike+1, t)
	if err != nil {
		return nil, err
	}
	l := &Like{X: left, Not: not, ILike: t.is("ILIKE"), Pattern: pat}
	if e := p.tok(); e.is("ESCAPE") {
		p.next()
		l.Escape, err = p.operand(precLike+1, e)
		if err != nil {
			return nil, err
		}
	}
	return l, nil
}

// parseList parses expr, expr, ... close; at least one expression.
func (p *parser) parseList(close, context string) ([]Expr, error) {
	var list []Expr
	for {
		if !p.startsExpr() {
			return nil, p.unexpected("an expression in " + context)
		}
		e, err := p.parseExpr(precLowest)
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if p.tok().isOp(",") {
			p.next()
			continue
		}
		if p.tok().isOp(close) {
			p.next()
			return list, nil
		}
		return nil, p.unexpected(fmt.Sprintf("%q or %q in %s", ",", close, context))
	}
}

func (p *parser) parsePrefix() (Expr, error) {
	t := p.tok()
	switch t.kind {
	case tokInt:
		p.next()
		return &IntLit{Start: t.pos, Text: t.text}, nil
	case tokFloat:
		p.next()
		return &FloatLit{Start: t.pos, Text: t.text}, nil
	case tokString:
		p.next()
		return &StringLit{Start: t.pos, Value: t.text}, nil
	case tokQuoted:
		p.next()
		return p.identExpr(t)
	case tokOp:
		switch t.text {
		case "(":
			p.next()
			if s := p.tok(); s.is("SELECT") {
				return nil, p.errAt(s.pos, "expected an expression after \"(\", found SELECT (subqueries are not supported)")
			}
			e, err := p.operand(precLowest, t)
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")", " to close the \"(\" at "+t.pos.String()); err != nil {
				return nil, err
			}
			return e, nil
		case "-", "+":
			p.next()
			x, err := p.operand(precUnary, t)
			if err != nil {
				return nil, err
			}
			op := Neg
			if t.text == "+" {
				op = Plus
			}
			return &Unary{Start: t.pos, Op: op, X: x}, nil
		}
		return nil, p.unexpected("an expression")
	case tokIdent:
		switch t.keyword() {
		case "":
			p.next()
			if n := p.tok(); n.kind == tokString {
				switch {
				case t.is("INTERVAL"):
					return p.parseInterval(t)
				case t.is("TIMESTAMP"):
					p.next()
					return &TimestampLit{Start: t.pos, Value: n.text}, nil
				case t.is("DATE"), t.is("TIME"):
					// DATE '2026-11-26' is CAST('2026-11-26' AS DATE).
					p.next()
					return &Cast{Start: t.pos, X: &StringLit{Start: n.pos, Value: n.text}, Type: TypeName{Start: t.pos, Name: strings.ToUpper(t.text)}}, nil
				}
			}
			return p.identExpr(t)
		case "NOT":
			p.next()
			x, err := p.operand(precNot, t)
			if err != nil {
				return nil, err
			}
			return &Unary{Start: t.pos, Op: Not, X: x}, nil
		case "NULL":
			p.next()
			return &NullLit{Start: t.pos}, nil
		case "TRUE", "FALSE":
			p.next()
			return &BoolLit{Start: t.pos, Value: t.is("TRUE")}, nil
		case "CASE":
			p.next()
			return p.parseCase(t)
		case "CAST", "TRY_CAST":
			p.next()
			return p.parseCast(t)
		case "EXISTS":
			return nil, p.errAt(t.pos, "expected an expression, found EXISTS (subqueries are not supported)")
		}
	}
	return nil, p.unexpected("an expression")
}

// identExpr continues after an identifier: a function call or a column.
func (p *parser) identExpr(t token) (Expr, error) {
	id := Ident{Start: t.pos, Name: t.text, Quoted: t.kind == tokQuoted}
	if !p.tok().isOp("(") {
		return &Column{Parts: []Ident{id}}, nil
	}
	open := p.next()
	f := &FuncCall{Name: id}
	if p.tok().isOp(")") {
		p.next()
		return f, nil
	}
	if p.tok().isOp("*") {
		p.next()
		f.Star = true
		if err := p.expectOp(")", " after "+id.Name+"(*"); err != nil {
			return nil, err
		}
		return f, nil
	}
	if p.tok().is("DISTINCT") {
		p.next()
		f.Distinct = true
	} else if p.tok().is("ALL") {
		p.next()
	}
	if t.kind == tokIdent && !f.Distinct {
		switch strings.ToUpper(t.text) {
		case "EXTRACT":
			if n := p.tok(); (n.kind == tokIdent || n.kind == tokQuoted) && p.peek(1).is("FROM") {
				p.next()
				p.next()
				x, err := p.operand(precLowest, p.toks[p.i-1])
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(")", " to close EXTRACT("); err != nil {
					return nil, err
				}
				f.Args = []Expr{&StringLit{Start: n.pos, Value: strings.ToLower(n.text)}, x}
				return f, nil
			}
		case "SUBSTRING":
			return p.parseSubstring(f, open)
		case "POSITION":
			// POSITION(sub IN s) is POSITION(sub, s); the first operand
			// stops before IN.
			sub, err := p.operand(precLike+1, open)
			if err != nil {
				return nil, err
			}
			if !p.tok().is("IN") {
				rest, err := p.parseListAfterFirst("the arguments of POSITION(")
				if err != nil {
					return nil, err
				}
				f.Args = append([]Expr{sub}, rest...)
				return f, nil
			}
			p.next()
			s, err := p.operand(precLowest, p.toks[p.i-1])
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")", " to close POSITION("); err != nil {
				return nil, err
			}
			f.Args = []Expr{sub, s}
			return f, nil
		}
	}
	args, err := p.parseList(")", "the arguments of "+id.Name+"(")
	if err != nil {
		return nil, err
	}
	f.Args = args
	return f, nil
}

// parseSubstring accepts SUBSTRING(s, a [, b]) and SUBSTRING(s FROM a [FOR b]).
func (p *parser) parseSubstring(f *FuncCall, open token) (Expr, error) {
	s, err := p.operand(precLowest, open)
	if err != nil {
		return nil, err
	}
	if t := p.tok(); !t.is("FROM") {
		rest, err := p.parseListAfterFirst("the arguments of SUBSTRING(")
		if err != nil {
			return nil, err
		}
		f.Args = append([]Expr{s}, rest...)
		return f, nil
	}
	from := p.next()
	a, err := p.operand(precLowest, from)
	if err != nil {
		return nil, err
	}
	f.Args = []Expr{s, a}
	if t := p.tok(); t.is("FOR") {
		p.next()
		b, err := p.operand(precLowest, t)
		if err != nil {
			return nil, err
		}
		f.Args = append(f.Args, b)
	}
	if err := p.expectOp(")", " to close SUBSTRING("); err != nil {
		return nil, err
	}
	return f, nil
}

// parseListAfterFirst continues an argument list whose first element has
// been parsed: either ")" or "," and more.
func (p *parser) parseListAfterFirst(context string) ([]Expr, error) {
	if p.tok().isOp(")") {
		p.next()
		return nil, nil
	}
	if err := p.expectOp(",", " or \")\" in "+context); err != nil {
		return nil, err
	}
	return p.parseList(")", context)
}

var intervalUnits = map[string]IntervalUnit{
	"SECOND": Second, "SECONDS": Second, "MINUTE": Minute, "MINUTES": Minute,
	"HOUR": Hour, "HOURS": Hour, "DAY": Day, "DAYS": Day,
}

// parseInterval parses what follows INTERVAL: '5' MINUTE or '5 minutes'.
func (p *parser) parseInterval(kw token) (Expr, error) {
	str := p.next()
	fields := strings.Fields(str.text)
	if u := p.tok(); u.kind == tokIdent && intervalUnits[strings.ToUpper(u.text)] != "" {
		p.next()
		if len(fields) != 1 {
			return nil, p.errAt(str.pos, "expected a whole number in the interval string before %s, found %s", strings.ToUpper(u.text), QuoteString(str.text))
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return nil, p.errAt(str.pos, "expected a whole number in the interval string before %s, found %s", strings.ToUpper(u.text), QuoteString(str.text))
		}
		return &IntervalLit{Start: kw.pos, Value: n, Unit: intervalUnits[strings.ToUpper(u.text)]}, nil
	}
	if len(fields) == 2 {
		n, err := strconv.ParseInt(fields[0], 10, 64)
		unit := intervalUnits[strings.ToUpper(fields[1])]
		if err == nil && unit != "" {
			return &IntervalLit{Start: kw.pos, Value: n, Unit: unit}, nil
		}
	}
	return nil, p.errAt(str.pos, "expected an interval such as INTERVAL '5' MINUTE or INTERVAL '5 minutes' (units SECOND, MINUTE, HOUR, DAY), found INTERVAL %s", QuoteString(str.text))
}

func (p *parser) parseCase(kw token) (Expr, error) {
	c := &Case{Start: kw.pos}
	if !p.tok().is("WHEN") {
		op, err := p.operand(precLowest, kw)
		if err != nil {
			return nil, err
		}
		c.Operand = op
	}
	for p.tok().is("WHEN") {
		w := p.next()
		cond, err := p.operand(precLowest, w)
		if err != nil {
			return nil, err
		}
		if err := p.expectKeyword("THEN", " after the WHEN condition"); err != nil {
			return nil, err
		}
		res, err := p.operand(precLowest, p.toks[p.i-1])
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, When{Cond: cond, Result: res})
	}
	if len(c.Whens) == 0 {
		return nil, p.unexpected("WHEN in CASE")
	}
	if e := p.tok(); e.is("ELSE") {
		p.next()
		el, err := p.operand(precLowest, e)
		if err != nil {
			return nil, err
		}
		c.Else = el
	}
	if err := p.expectKeyword("END", " to close the CASE at "+kw.pos.String()); err != nil {
		if t := p.tok(); !t.is("WHEN") && !t.is("ELSE") && t.kind != tokIdent {
			return nil, p.unexpected("WHEN, ELSE or END in the CASE at " + kw.pos.String())
		}
		return nil, err
	}
	return c, nil
}

func (p *parser) parseCast(kw token) (Expr, error) {
	name := strings.ToUpper(kw.text)
	if err := p.expectOp("(", " after "+name); err != nil {
		return nil, err
	}
	x, err := p.operand(precLowest, p.toks[p.i-1])
	if err != nil {
		return nil, err
	}
	if err := p.expectKeyword("AS", " in "+name+"(... AS type)"); err != nil {
		return nil, err
	}
	ty, err := p.parseType("AS")
	if err != nil {
		return nil, err
	}
	if err := p.expectOp(")", " to close "+name+"("); err != nil {
		return nil, err
	}
	return &Cast{Start: kw.pos, X: x, Type: ty, Try: name == "TRY_CAST"}, nil
}

func isASCIIName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && isDigit(c)) {
			return false
		}
	}
	return s != ""
}

// parseType parses a type name: a word (DOUBLE PRECISION is two) and an
// optional list of numeric parameters.
func (p *parser) parseType(after string) (TypeName, error) {
	t := p.tok()
	if t.kind != tokIdent || t.keyword() != "" || !isASCIIName(t.text) {
		return TypeName{}, p.unexpected("a type name after " + after)
	}
	p.next()
	ty := TypeName{Start: t.pos, Name: strings.ToUpper(t.text)}
	if ty.Name == "DOUBLE" && p.tok().is("PRECISION") {
		p.next()
		ty.Name = "DOUBLE PRECISION"
	}
	if !p.tok().isOp("(") {
		return ty, nil
	}
	p.next()
	for {
		n := p.tok()
		if n.kind != tokInt {
			return TypeName{}, p.unexpected("a whole number in the parameters of " + ty.Name)
		}
		v, err := strconv.Atoi(n.text)
		if err != nil || v > 1000 {
			return TypeName{}, p.errAt(n.pos, "expected a type parameter between 0 and 1000, found %s", n.text)
		}
		p.next()
		ty.Params = append(ty.Params, v)
		if p.tok().isOp(",") {
			p.next()
			continue
		}
		if err := p.expectOp(")", " or \",\" after the parameters of "+ty.Name); err != nil {
			return TypeName{}, err
		}
		return ty, nil
	}
}

// editDistance is the Levenshtein distance between a and b, for "did you
// mean" hints.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

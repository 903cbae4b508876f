package sql

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Operator precedence, lowest first, following PostgreSQL:
//
//	OR < AND < NOT < IS < comparison < LIKE ILIKE BETWEEN IN < || < + - < * / % < unary - + < postfix :: [] .
//
// Comparison and LIKE/BETWEEN/IN are non-associative (a = b = c is an error,
// as in PostgreSQL); the other binary operators are left-associative.
const (
	precLowest = iota
	precOr
	precAnd
	precNot
	precIs
	precCmp
	precLike
	precConcat
	precAdd
	precMul
	precUnary
	precPostfix
	precPrimary
)

func binaryPrec(op BinaryOp) int {
	switch op {
	case Or:
		return precOr
	case And:
		return precAnd
	case Concat:
		return precConcat
	case Add, Sub:
		return precAdd
	case Mul, Div, Mod:
		return precMul
	}
	return precCmp
}

func exprPrec(e Expr) int {
	switch e := e.(type) {
	case *Binary:
		return binaryPrec(e.Op)
	case *Unary:
		if e.Op == Not {
			return precNot
		}
		return precUnary
	case *IsNull, *IsDistinctFrom:
		return precIs
	case *In, *Between, *Like:
		return precLike
	case *Index, *FieldAccess:
		return precPostfix
	}
	return precPrimary
}

// String formats the statement as canonical SQL: upper-case keywords, single
// spaces, parentheses only where needed. Parsing the result gives back the
// same tree (positions aside).
func (s *Select) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, it := range s.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case it.Star && it.Qualified:
			b.WriteString("tenant.*")
		case it.Star:
			b.WriteString("*")
		default:
			writeExpr(&b, it.Expr, precLowest)
			if it.Alias != nil {
				b.WriteString(" AS ")
				writeIdent(&b, *it.Alias, true)
			}
		}
	}
	b.WriteString(" FROM tenant")
	if s.Where != nil {
		b.WriteString(" WHERE ")
		writeExpr(&b, s.Where, precLowest)
	}
	if len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY ")
		writeList(&b, s.GroupBy)
	}
	if s.Having != nil {
		b.WriteString(" HAVING ")
		writeExpr(&b, s.Having, precLowest)
	}
	return b.String()
}

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e, precLowest)
	return b.String()
}

func (e *IntLit) String() string         { return exprString(e) }
func (e *FloatLit) String() string       { return exprString(e) }
func (e *StringLit) String() string      { return exprString(e) }
func (e *BoolLit) String() string        { return exprString(e) }
func (e *NullLit) String() string        { return exprString(e) }
func (e *IntervalLit) String() string    { return exprString(e) }
func (e *TimestampLit) String() string   { return exprString(e) }
func (e *Column) String() string         { return exprString(e) }
func (e *FieldAccess) String() string    { return exprString(e) }
func (e *Index) String() string          { return exprString(e) }
func (e *Unary) String() string          { return exprString(e) }
func (e *Binary) String() string         { return exprString(e) }
func (e *In) String() string             { return exprString(e) }
func (e *Between) String() string        { return exprString(e) }
func (e *Like) String() string           { return exprString(e) }
func (e *IsNull) String() string         { return exprString(e) }
func (e *IsDistinctFrom) String() string { return exprString(e) }
func (e *Case) String() string           { return exprString(e) }
func (e *Cast) String() string           { return exprString(e) }
func (e *FuncCall) String() string       { return exprString(e) }

// QuoteString returns s as a SQL string literal.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// QuoteIdent returns name as a double-quoted identifier.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// isBare reports whether name lexes as one bare identifier.
func isBare(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		if i == 0 && !isIdentStart(r) || !isIdentPart(r) {
			return false
		}
		if r == utf8.RuneError {
			return false
		}
	}
	return true
}

// writeIdent writes id bare when it was bare and still reads back as the
// same identifier; keywordOK says whether the grammar accepts a reserved word
// in this position (after a dot or AS).
func writeIdent(b *strings.Builder, id Ident, keywordOK bool) {
	if !id.Quoted && isBare(id.Name) && (keywordOK || !IsReserved(id.Name)) {
		b.WriteString(id.Name)
		return
	}
	b.WriteString(QuoteIdent(id.Name))
}

func writeList(b *strings.Builder, es []Expr) {
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(b, e, precLowest)
	}
}

// writeExpr writes e, parenthesised when its precedence is below min.
func writeExpr(b *strings.Builder, e Expr, min int) {
	if e == nil {
		b.WriteString("NULL")
		return
	}
	if exprPrec(e) < min {
		b.WriteByte('(')
		writeExpr(b, e, precLowest)
		b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *IntLit:
		b.WriteString(e.Text)
	case *FloatLit:
		b.WriteString(e.Text)
	case *StringLit:
		b.WriteString(QuoteString(e.Value))
	case *BoolLit:
		if e.Value {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case *NullLit:
		b.WriteString("NULL")
	case *IntervalLit:
		b.WriteString("INTERVAL '")
		b.WriteString(strconv.FormatInt(e.Value, 10))
		b.WriteString("' ")
		b.WriteString(string(e.Unit))
	case *TimestampLit:
		b.WriteString("TIMESTAMP ")
		b.WriteString(QuoteString(e.Value))
	case *Column:
		for i, p := range e.Parts {
			if i > 0 {
				b.WriteByte('.')
			}
			writeIdent(b, p, i > 0)
		}
	case *FieldAccess:
		writeExpr(b, e.X, precPostfix)
		b.WriteByte('.')
		writeIdent(b, e.Name, true)
	case *Index:
		writeExpr(b, e.X, precPostfix)
		b.WriteByte('[')
		writeExpr(b, e.Index, precLowest)
		b.WriteByte(']')
	case *Unary:
		if e.Op == Not {
			b.WriteString("NOT ")
			writeExpr(b, e.X, precNot)
			return
		}
		b.WriteString(e.Op.String())
		var inner strings.Builder
		writeExpr(&inner, e.X, precUnary)
		if s := inner.String(); strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
			b.WriteByte(' ') // keep "- -x" from becoming a comment
		}
		b.WriteString(inner.String())
	case *Binary:
		p := binaryPrec(e.Op)
		lmin, rmin := p, p+1
		if e.Op.IsComparison() {
			lmin = p + 1 // non-associative
		}
		writeExpr(b, e.L, lmin)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeExpr(b, e.R, rmin)
	case *In:
		writeExpr(b, e.X, precLike+1)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		writeList(b, e.List)
		b.WriteByte(')')
	case *Between:
		writeExpr(b, e.X, precLike+1)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" BETWEEN ")
		writeExpr(b, e.Lo, precLike+1)
		b.WriteString(" AND ")
		writeExpr(b, e.Hi, precLike+1)
	case *Like:
		writeExpr(b, e.X, precLike+1)
		if e.Not {
			b.WriteString(" NOT")
		}
		if e.ILike {
			b.WriteString(" ILIKE ")
		} else {
			b.WriteString(" LIKE ")
		}
		writeExpr(b, e.Pattern, precLike+1)
		if e.Escape != nil {
			b.WriteString(" ESCAPE ")
			writeExpr(b, e.Escape, precLike+1)
		}
	case *IsNull:
		writeExpr(b, e.X, precIs)
		if e.Not {
			b.WriteString(" IS NOT NULL")
		} else {
			b.WriteString(" IS NULL")
		}
	case *IsDistinctFrom:
		writeExpr(b, e.X, precIs)
		if e.Not {
			b.WriteString(" IS NOT DISTINCT FROM ")
		} else {
			b.WriteString(" IS DISTINCT FROM ")
		}
		writeExpr(b, e.Y, precIs+1)
	case *Case:
		b.WriteString("CASE")
		if e.Operand != nil {
			b.WriteByte(' ')
			writeExpr(b, e.Operand, precLowest)
		}
		for _, w := range e.Whens {
			b.WriteString(" WHEN ")
			writeExpr(b, w.Cond, precLowest)
			b.WriteString(" THEN ")
			writeExpr(b, w.Result, precLowest)
		}
		if e.Else != nil {
			b.WriteString(" ELSE ")
			writeExpr(b, e.Else, precLowest)
		}
		b.WriteString(" END")
	case *Cast:
		if e.Try {
			b.WriteString("TRY_CAST(")
		} else {
			b.WriteString("CAST(")
		}
		writeExpr(b, e.X, precLowest)
		b.WriteString(" AS ")
		b.WriteString(e.Type.String())
		b.WriteByte(')')
	case *FuncCall:
		writeIdent(b, e.Name, false)
		b.WriteByte('(')
		if e.Star {
			b.WriteByte('*')
		} else {
			if e.Distinct {
				b.WriteString("DISTINCT ")
			}
			writeList(b, e.Args)
		}
		b.WriteByte(')')
	}
}

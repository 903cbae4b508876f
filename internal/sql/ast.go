package sql

import (
	"strconv"
	"strings"
)

// Select is the one statement of the dialect:
//
//	SELECT items FROM tenant [WHERE expr] [GROUP BY expr, ... [HAVING expr]]
type Select struct {
	Start   Pos // the SELECT keyword
	Items   []SelectItem
	FromPos Pos  // the word tenant after FROM
	Where   Expr // nil when absent
	GroupBy []Expr
	Having  Expr // nil when absent
}

// SelectItem is one entry of the select list: *, tenant.*, or an expression
// with an optional alias.
type SelectItem struct {
	Start Pos
	// Star is set for * and tenant.*; Expr and Alias are then empty.
	Star bool
	// Qualified is set for tenant.* (Star is set too).
	Qualified bool
	Expr      Expr
	Alias     *Ident // nil when the item has no alias
}

// Ident is an identifier. Name is as written for bare identifiers (not case
// folded) and the unescaped value for quoted ones.
type Ident struct {
	Start  Pos
	Name   string
	Quoted bool
}

// Expr is an expression node.
type Expr interface {
	// Pos is where the expression starts.
	Pos() Pos
	// String formats the expression as canonical SQL, with parentheses only
	// where precedence needs them.
	String() string
	exprNode()
}

// IntLit is an integer literal, digits as written (no sign: a leading minus
// is a Unary). It may not fit in an int64; the analyser decides its type.
type IntLit struct {
	Start Pos
	Text  string
}

// FloatLit is a decimal or exponent literal as written, e.g. 1.5, .5, 1e-3.
type FloatLit struct {
	Start Pos
	Text  string
}

// StringLit is a 'string' literal; Value is unescaped.
type StringLit struct {
	Start Pos
	Value string
}

// BoolLit is TRUE or FALSE.
type BoolLit struct {
	Start Pos
	Value bool
}

// NullLit is NULL.
type NullLit struct {
	Start Pos
}

// IntervalUnit is the unit of an interval literal.
type IntervalUnit string

// The interval units.
const (
	Second IntervalUnit = "SECOND"
	Minute IntervalUnit = "MINUTE"
	Hour   IntervalUnit = "HOUR"
	Day    IntervalUnit = "DAY"
)

// IntervalLit is INTERVAL '5' MINUTE or INTERVAL '5 minutes', both of which
// parse to Value 5, Unit Minute.
type IntervalLit struct {
	Start Pos
	Value int64
	Unit  IntervalUnit
}

// TimestampLit is TIMESTAMP '...'; the text is checked by the analyser.
type TimestampLit struct {
	Start Pos
	Value string
}

// Column is a reference to a field of the input row, possibly nested:
// a, a.b.c, "Odd Name".x. A leading part may name the table (tenant.x);
// resolving that is the analyser's job.
type Column struct {
	Parts []Ident
}

// FieldAccess is .name applied to something that is not a plain column,
// such as arr[1].name.
type FieldAccess struct {
	X    Expr
	Name Ident
}

// Index is X[Index]: an array element (1-based, as in PostgreSQL) or a map
// lookup.
type Index struct {
	X     Expr
	Index Expr
}

// UnaryOp is a prefix operator.
type UnaryOp int

// The unary operators.
const (
	Neg  UnaryOp = iota + 1 // -x
	Plus                    // +x
	Not                     // NOT x
)

func (o UnaryOp) String() string {
	switch o {
	case Neg:
		return "-"
	case Plus:
		return "+"
	case Not:
		return "NOT"
	}
	return "?"
}

// Unary is a prefix operator applied to X.
type Unary struct {
	Start Pos
	Op    UnaryOp
	X     Expr
}

// BinaryOp is an infix operator.
type BinaryOp int

// The binary operators.
const (
	Add BinaryOp = iota + 1
	Sub
	Mul
	Div
	Mod
	Concat
	Eq
	Ne // <> and !=
	Lt
	Le
	Gt
	Ge
	And
	Or
)

var binaryOpText = map[BinaryOp]string{
	Add: "+", Sub: "-", Mul: "*", Div: "/", Mod: "%", Concat: "||",
	Eq: "=", Ne: "<>", Lt: "<", Le: "<=", Gt: ">", Ge: ">=", And: "AND", Or: "OR",
}

func (o BinaryOp) String() string {
	if s, ok := binaryOpText[o]; ok {
		return s
	}
	return "?"
}

// IsComparison reports whether o is = <> < <= > >=.
func (o BinaryOp) IsComparison() bool { return o >= Eq && o <= Ge }

// Binary is L Op R.
type Binary struct {
	Op    BinaryOp
	OpPos Pos
	L, R  Expr
}

// In is X [NOT] IN (List...).
type In struct {
	X    Expr
	Not  bool
	List []Expr
}

// Between is X [NOT] BETWEEN Lo AND Hi.
type Between struct {
	X      Expr
	Not    bool
	Lo, Hi Expr
}

// Like is X [NOT] LIKE|ILIKE Pattern [ESCAPE Escape].
type Like struct {
	X       Expr
	Not     bool
	ILike   bool
	Pattern Expr
	Escape  Expr // nil when absent
}

// IsNull is X IS [NOT] NULL.
type IsNull struct {
	X   Expr
	Not bool
}

// IsDistinctFrom is X IS [NOT] DISTINCT FROM Y.
type IsDistinctFrom struct {
	X, Y Expr
	Not  bool
}

// When is one WHEN ... THEN ... arm of a CASE.
type When struct {
	Cond   Expr // the condition (searched CASE) or the value compared with the operand (simple CASE)
	Result Expr
}

// Case is CASE [Operand] WHEN ... THEN ... [ELSE Else] END. Operand is nil
// for a searched CASE.
type Case struct {
	Start   Pos
	Operand Expr
	Whens   []When
	Else    Expr // nil when absent
}

// TypeName is a type in CAST: the name upper-cased (DOUBLE PRECISION is one
// name) and its numeric parameters, as in DECIMAL(10, 2) or VARCHAR(20).
// The parser accepts any name; the analyser checks it.
type TypeName struct {
	Start  Pos
	Name   string
	Params []int
}

// String formats the type, e.g. DECIMAL(10, 2).
func (t TypeName) String() string {
	if len(t.Params) == 0 {
		return t.Name
	}
	var b strings.Builder
	b.WriteString(t.Name)
	b.WriteByte('(')
	for i, p := range t.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(p))
	}
	b.WriteByte(')')
	return b.String()
}

// Cast is CAST(X AS Type), X::Type, or TRY_CAST(X AS Type) (Try set).
type Cast struct {
	Start Pos
	X     Expr
	Type  TypeName
	Try   bool
}

// FuncCall is Name(Args...), Name(DISTINCT Args...) or Name(*).
// EXTRACT(f FROM x) parses as EXTRACT('f', x) and SUBSTRING(s FROM a FOR b)
// as SUBSTRING(s, a, b), POSITION(a IN b) as POSITION(a, b).
type FuncCall struct {
	Name     Ident
	Args     []Expr
	Distinct bool
	Star     bool
}

// Paren is not a node: parentheses are not kept in the tree; the formatter
// adds them where precedence needs them.

func (e *IntLit) Pos() Pos         { return e.Start }
func (e *FloatLit) Pos() Pos       { return e.Start }
func (e *StringLit) Pos() Pos      { return e.Start }
func (e *BoolLit) Pos() Pos        { return e.Start }
func (e *NullLit) Pos() Pos        { return e.Start }
func (e *IntervalLit) Pos() Pos    { return e.Start }
func (e *TimestampLit) Pos() Pos   { return e.Start }
func (e *Column) Pos() Pos         { return e.Parts[0].Start }
func (e *FieldAccess) Pos() Pos    { return e.X.Pos() }
func (e *Index) Pos() Pos          { return e.X.Pos() }
func (e *Unary) Pos() Pos          { return e.Start }
func (e *Binary) Pos() Pos         { return e.L.Pos() }
func (e *In) Pos() Pos             { return e.X.Pos() }
func (e *Between) Pos() Pos        { return e.X.Pos() }
func (e *Like) Pos() Pos           { return e.X.Pos() }
func (e *IsNull) Pos() Pos         { return e.X.Pos() }
func (e *IsDistinctFrom) Pos() Pos { return e.X.Pos() }
func (e *Case) Pos() Pos           { return e.Start }
func (e *Cast) Pos() Pos           { return e.Start }
func (e *FuncCall) Pos() Pos       { return e.Name.Start }

func (*IntLit) exprNode()         {}
func (*FloatLit) exprNode()       {}
func (*StringLit) exprNode()      {}
func (*BoolLit) exprNode()        {}
func (*NullLit) exprNode()        {}
func (*IntervalLit) exprNode()    {}
func (*TimestampLit) exprNode()   {}
func (*Column) exprNode()         {}
func (*FieldAccess) exprNode()    {}
func (*Index) exprNode()          {}
func (*Unary) exprNode()          {}
func (*Binary) exprNode()         {}
func (*In) exprNode()             {}
func (*Between) exprNode()        {}
func (*Like) exprNode()           {}
func (*IsNull) exprNode()         {}
func (*IsDistinctFrom) exprNode() {}
func (*Case) exprNode()           {}
func (*Cast) exprNode()           {}
func (*FuncCall) exprNode()       {}

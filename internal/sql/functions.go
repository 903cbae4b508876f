package sql

import (
	"fmt"
	"sort"
	"strings"
)

// Arg is one argument of a scalar function call, as a builder sees it. The
// analyser has already coerced it to the kind the chosen Signature names.
type Arg struct {
	Eval Eval
	Type *Type
	// Const is set when the argument is a constant (a literal, or an
	// expression of literals folded at analysis), so that a builder can
	// prepare it once: compile a regular expression, parse a CIDR or a
	// format. A NULL constant has Const.Null set.
	Const *Value
}

// AnyKind in Signature.Args accepts an argument of any type, unchanged.
const AnyKind Kind = 255

// Signature is one overload of a function.
type Signature struct {
	Args []Kind
	// Variadic lets the last of Args repeat any number of times (at least
	// once).
	Variadic bool
	Result   Kind
	// Build returns the evaluator for a call whose arguments match Args.
	// An error (a constant regular expression that does not compile, say)
	// is reported at the call's position, so say what is wrong with which
	// argument.
	Build func(args []Arg) (Eval, error)
}

// Function is a scalar function of the dialect. Functions must be
// deterministic: a call whose arguments are all constant is evaluated once,
// at analysis.
type Function struct {
	Name     string // upper case
	Category string // string, math, time, hash, json, network, conditional
	Doc      string // one or two sentences for docs/sql.md
	Example  string // a SQL expression using it, e.g. "LOWER('AbC')"
	Result   string // what Example evaluates to, as docs/sql.md shows it
	Sigs     []Signature
}

var functions = map[string]*Function{}

// Register adds a function at package initialisation. It panics on a
// duplicate name, which is a programming error.
func Register(f *Function) {
	name := strings.ToUpper(f.Name)
	if _, dup := functions[name]; dup {
		panic("sql: function registered twice: " + name)
	}
	functions[name] = f
}

// LookupFunction returns the scalar function called name (any case), or nil.
func LookupFunction(name string) *Function { return functions[strings.ToUpper(name)] }

// Functions lists the scalar functions by name.
func Functions() []*Function {
	out := make([]*Function, 0, len(functions))
	for _, f := range functions {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// EvalError is an error evaluating an expression for one record (division
// by zero, integer overflow, a failed CAST). The runtime dead-letters the
// record with Msg as the reason.
type EvalError struct {
	Msg string
}

func (e *EvalError) Error() string { return e.Msg }

// Errors evaluation reports often, allocated once.
var (
	ErrDivisionByZero = &EvalError{Msg: "division by zero"}
	ErrIntegerRange   = &EvalError{Msg: "integer out of range"}
	ErrBigIntRange    = &EvalError{Msg: "bigint out of range"}
)

// EvalErrorf formats an EvalError; it allocates, so keep it off paths that
// can fail for most records.
func EvalErrorf(format string, args ...any) *EvalError {
	return &EvalError{Msg: fmt.Sprintf(format, args...)}
}

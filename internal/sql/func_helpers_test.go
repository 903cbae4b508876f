package sql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

// Helpers for the function library tests: typed argument values, a call
// that picks the exactly matching signature, and a formatter of results as
// SQL literals.

// fnArg is an argument value with its kind.
type fnArg struct {
	k Kind
	v Value
}

func fntStr(s string) fnArg   { return fnArg{Varchar, Value{B: []byte(s)}} }
func fntBytes(s string) fnArg { return fnArg{Bytes, Value{B: []byte(s)}} }
func fntInt(i int64) fnArg    { return fnArg{Integer, Value{I: i}} }
func fntBig(i int64) fnArg    { return fnArg{BigInt, Value{I: i}} }
func fntDbl(f float64) fnArg  { return fnArg{Double, Value{F: f}} }
func fntBool(b bool) fnArg    { return fnArg{Boolean, Bool(b)} }
func fntNull(k Kind) fnArg    { return fnArg{k, Null} }
func fntIval(us int64) fnArg  { return fnArg{Interval, Value{I: us}} }
func fntTimeOfDay(s string) fnArg {
	us, ok := ParseTime([]byte(s))
	if !ok {
		panic("bad time " + s)
	}
	return fnArg{Time, Value{I: us}}
}

func fntTS(s string) fnArg {
	us, ok := ParseTimestamp([]byte(s))
	if !ok {
		panic("bad timestamp " + s)
	}
	return fnArg{Timestamp, Value{I: us}}
}

func fntDate(s string) fnArg {
	d, ok := ParseDate([]byte(s))
	if !ok {
		panic("bad date " + s)
	}
	return fnArg{Date, Value{I: d}}
}

// fnFindSig returns the signature of f whose argument kinds are exactly
// kinds (AnyKind matching anything).
func fnFindSig(f *Function, kinds []Kind) *Signature {
	for i := range f.Sigs {
		s := &f.Sigs[i]
		if fnSigMatches(s, kinds, func(want, got Kind) int {
			if want == AnyKind || want == got {
				return 0
			}
			return -1
		}) >= 0 {
			return s
		}
	}
	return nil
}

// fnSigMatches returns the total cost of the arguments for the signature,
// -1 when it does not apply.
func fnSigMatches(s *Signature, kinds []Kind, cost func(want, got Kind) int) int {
	if len(kinds) < len(s.Args) || !s.Variadic && len(kinds) != len(s.Args) {
		return -1
	}
	total := 0
	for i, k := range kinds {
		want := s.Args[min(i, len(s.Args)-1)]
		c := cost(want, k)
		if c < 0 {
			return -1
		}
		total += c
	}
	return total
}

// fnBuild builds a call of the exactly matching signature with constant
// arguments (Const set when constant is true).
func fnBuild(name string, constant bool, args ...fnArg) (Eval, *Signature, error) {
	f := LookupFunction(name)
	if f == nil {
		return nil, nil, fmt.Errorf("no function %s", name)
	}
	kinds := make([]Kind, len(args))
	for i, a := range args {
		kinds[i] = a.k
	}
	sig := fnFindSig(f, kinds)
	if sig == nil {
		return nil, nil, fmt.Errorf("no signature of %s for %v", name, kinds)
	}
	built := make([]Arg, len(args))
	for i, a := range args {
		v := a.v
		built[i] = Arg{Eval: func(*Env) Value { return v }, Type: ScalarType(a.k)}
		if constant {
			built[i].Const = &v
		}
	}
	ev, err := sig.Build(built)
	return ev, sig, err
}

// fnCall evaluates name(args...) with constant arguments; the error is the
// Build error or the evaluation error.
func fnCall(t testing.TB, name string, args ...fnArg) (Value, error) {
	t.Helper()
	ev, _, err := fnBuild(name, true, args...)
	if err != nil {
		return Null, err
	}
	e := NewEnv()
	v := ev(e)
	if err := e.Err(); err != nil {
		return Null, err
	}
	return v, nil
}

// fnLiteral formats a value of kind k as a SQL literal, as the function
// reference shows results.
func fnLiteral(k Kind, v Value) string {
	if v.Null {
		return "NULL"
	}
	switch k {
	case Boolean:
		if v.I != 0 {
			return "TRUE"
		}
		return "FALSE"
	case Integer, BigInt:
		return strconv.FormatInt(v.I, 10)
	case Double:
		if math.IsInf(v.F, 0) || math.IsNaN(v.F) {
			return fmt.Sprint(v.F)
		}
		return strconv.FormatFloat(v.F, 'f', -1, 64)
	case Varchar:
		return QuoteString(string(v.B))
	case Bytes:
		return "'" + string(AppendText(nil, Bytes, v)) + "'"
	case Timestamp:
		return "TIMESTAMP '" + string(AppendText(nil, Timestamp, v)) + "'"
	case Date:
		return "DATE '" + string(AppendText(nil, Date, v)) + "'"
	case Time:
		return "TIME '" + string(AppendText(nil, Time, v)) + "'"
	case Interval:
		return "INTERVAL '" + string(AppendText(nil, Interval, v)) + "'"
	}
	return "?"
}

// fnCase is one row of a table-driven function test: want is the result
// as a SQL literal, or "error: ..." with a part of the error message.
type fnCase struct {
	name string
	args []fnArg
	want string
}

func fnRun(t *testing.T, cases []fnCase) {
	t.Helper()
	for _, c := range cases {
		ev, sig, err := fnBuild(c.name, true, c.args...)
		got := ""
		if err == nil {
			e := NewEnv()
			v := ev(e)
			if err = e.Err(); err == nil {
				got = fnLiteral(sig.Result, v)
			}
		}
		if err != nil {
			got = "error: " + err.Error()
		}
		ok := got == c.want
		if strings.HasPrefix(c.want, "error: ") {
			ok = strings.HasPrefix(got, "error: ") && strings.Contains(got, strings.TrimPrefix(c.want, "error: "))
		}
		if !ok {
			t.Errorf("%s(%s) = %s, want %s", c.name, fnArgsString(c.args), got, c.want)
		}
		// The same call with non-constant arguments agrees, unless the
		// function needs a constant.
		if err == nil {
			ev2, _, err2 := fnBuild(c.name, false, c.args...)
			if err2 != nil {
				continue
			}
			e := NewEnv()
			v := ev2(e)
			got2 := ""
			if err := e.Err(); err != nil {
				got2 = "error: " + err.Error()
			} else {
				got2 = fnLiteral(sig.Result, v)
			}
			if got2 != got {
				t.Errorf("%s(%s) with non-constant arguments = %s, want %s", c.name, fnArgsString(c.args), got2, got)
			}
		}
	}
}

func fnArgsString(args []fnArg) string {
	var parts []string
	for _, a := range args {
		parts = append(parts, fnLiteral(a.k, a.v))
	}
	return strings.Join(parts, ", ")
}

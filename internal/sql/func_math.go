package sql

import (
	"bytes"
	"math"
	"strconv"
)

// Mathematical functions. Integer results are checked for overflow as in
// PostgreSQL; DOUBLE functions report PostgreSQL's errors for domain
// errors, overflow and underflow instead of returning NaN or infinities
// for finite arguments.

var (
	errFnSqrtNegative = &EvalError{Msg: "cannot take square root of a negative number"}
	errFnLogZero      = &EvalError{Msg: "cannot take logarithm of zero"}
	errFnLogNegative  = &EvalError{Msg: "cannot take logarithm of a negative number"}
	errFnOverflow     = &EvalError{Msg: "value out of range: overflow"}
	errFnUnderflow    = &EvalError{Msg: "value out of range: underflow"}
	errFnZeroPower    = &EvalError{Msg: "zero raised to a negative power is undefined"}
	errFnComplexPower = &EvalError{Msg: "a negative number raised to a non-integer power yields a complex result"}
	errFnInputRange   = &EvalError{Msg: "input is out of range"}
)

func fnDouble(v float64) Value { return Value{F: v} }

// fnCheckFloat reports PostgreSQL's overflow and underflow errors: an
// infinite result from finite input, a zero result from non-zero input.
func fnCheckFloat(e *Env, r float64, inf, zeroOK bool) Value {
	if math.IsInf(r, 0) && !inf {
		e.Fail(errFnOverflow)
		return Null
	}
	if r == 0 && !zeroOK {
		e.Fail(errFnUnderflow)
		return Null
	}
	return fnDouble(r)
}

// fnFloat1 builds a DOUBLE → DOUBLE function.
func fnFloat1(f func(float64) float64) func([]Arg) (Eval, error) {
	return fnStrict1(func(_ *Env, a Value) Value { return fnDouble(f(a.F)) })
}

// fnRoundDecimal rounds x at n decimal places (n < 0 rounds to tens,
// hundreds ...) on its shortest decimal representation, so that
// ROUND(2.675, 2) is 2.68 as with PostgreSQL's numeric; half rounds away
// from zero, and trunc drops the digits instead.
func fnRoundDecimal(x float64, n int64, trunc bool) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return x
	}
	var buf [40]byte
	s := strconv.AppendFloat(buf[:0], x, 'e', -1, 64) // -d.ddde±xx
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	ei := bytes.IndexByte(s, 'e')
	exp := 0
	for _, c := range s[ei+2:] {
		exp = exp*10 + int(c-'0')
	}
	if s[ei+1] == '-' {
		exp = -exp
	}
	var digits [20]byte
	nd := 0
	for _, c := range s[:ei] {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	// x = 0.d1d2... × 10^(exp+1); keep the digits before the rounding point.
	keep := int64(exp) + 1 + n
	if keep >= int64(nd) {
		return x
	}
	if keep < 0 {
		return 0
	}
	var m int64
	for _, c := range digits[:keep] {
		m = m*10 + int64(c-'0')
	}
	if !trunc && digits[keep] >= '5' {
		m++
	}
	if m == 0 {
		return 0
	}
	r := float64(m)
	if n > 0 {
		if n <= 22 {
			r /= fnPow10[n]
		} else {
			r /= math.Pow10(int(n))
		}
	} else if n < 0 {
		r *= math.Pow10(int(-n))
	}
	if neg {
		r = -r
	}
	return r
}

var fnPow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

func fnPower(e *Env, x, y float64) Value {
	if x == 0 && y < 0 {
		e.Fail(errFnZeroPower)
		return Null
	}
	if x < 0 && y != math.Trunc(y) && !math.IsInf(y, 0) {
		e.Fail(errFnComplexPower)
		return Null
	}
	r := math.Pow(x, y)
	finite := !math.IsInf(x, 0) && !math.IsInf(y, 0) && !math.IsNaN(x) && !math.IsNaN(y)
	return fnCheckFloat(e, r, !finite, !finite || x == 0 || r != 0)
}

func fnLog(e *Env, x float64) bool {
	switch {
	case x == 0:
		e.Fail(errFnLogZero)
		return false
	case x < 0:
		e.Fail(errFnLogNegative)
		return false
	}
	return true
}

// fnCompare orders two values of kind k: integers, DOUBLE (NaN above every
// other value, as in PostgreSQL), VARCHAR bytewise.
func fnCompare(k Kind, a, b Value) int {
	switch k {
	case Double:
		switch {
		case math.IsNaN(a.F):
			if math.IsNaN(b.F) {
				return 0
			}
			return 1
		case math.IsNaN(b.F):
			return -1
		case a.F < b.F:
			return -1
		case a.F > b.F:
			return 1
		}
		return 0
	case Varchar, Bytes:
		return bytes.Compare(a.B, b.B)
	}
	switch {
	case a.I < b.I:
		return -1
	case a.I > b.I:
		return 1
	}
	return 0
}

func fnExtremeBuild(greatest bool, k Kind) func([]Arg) (Eval, error) {
	return func(args []Arg) (Eval, error) {
		evals := make([]Eval, len(args))
		for i, a := range args {
			evals[i] = a.Eval
		}
		return func(e *Env) Value {
			best := Null
			for _, ev := range evals {
				v := ev(e)
				if v.Null {
					continue
				}
				if best.Null {
					best = v
					continue
				}
				if c := fnCompare(k, v, best); greatest && c > 0 || !greatest && c < 0 {
					best = v
				}
			}
			return best
		}, nil
	}
}

func init() {
	const cat = "math"
	fnRegister("ABS", cat, "The absolute value; ABS of the most negative INTEGER or BIGINT is an out-of-range error.",
		"ABS(-17.4)", "17.4",
		fnSig(Integer, fnStrict1(func(e *Env, a Value) Value {
			if a.I == math.MinInt32 {
				e.Fail(ErrIntegerRange)
				return Null
			}
			return Value{I: max(a.I, -a.I)}
		}), Integer),
		fnSig(BigInt, fnStrict1(func(e *Env, a Value) Value {
			if a.I == math.MinInt64 {
				e.Fail(ErrBigIntRange)
				return Null
			}
			return Value{I: max(a.I, -a.I)}
		}), BigInt),
		fnSig(Double, fnFloat1(math.Abs), Double))

	round1 := fnFloat1(math.RoundToEven)
	round2 := fnStrict2(func(_ *Env, a, b Value) Value { return fnDouble(fnRoundDecimal(a.F, b.I, false)) })
	fnRegister("ROUND", cat, "ROUND(x) rounds to the nearest integer, halves to even, like PostgreSQL's round(double precision). ROUND(x, n) rounds to n decimal places (n < 0: to tens, hundreds ...), halves away from zero, on the shortest decimal form of x — PostgreSQL has this form only for numeric, whose results it matches.",
		"ROUND(42.4382, 2)", "42.44", fnSig(Double, round1, Double), fnSig(Double, round2, Double, Integer))
	trunc1 := fnFloat1(math.Trunc)
	trunc2 := fnStrict2(func(_ *Env, a, b Value) Value { return fnDouble(fnRoundDecimal(a.F, b.I, true)) })
	fnRegister("TRUNC", cat, "Truncates toward zero, to an integer or to n decimal places (n < 0: to tens, hundreds ...).",
		"TRUNC(42.4382, 2)", "42.43", fnSig(Double, trunc1, Double), fnSig(Double, trunc2, Double, Integer))

	// As in PostgreSQL, an integer argument is converted to DOUBLE and the
	// result is a DOUBLE.
	floor := fnSig(Double, fnFloat1(math.Floor), Double)
	ceil := fnSig(Double, fnFloat1(math.Ceil), Double)
	fnRegister("FLOOR", cat, "The largest integer not greater than the argument, as a DOUBLE (integers are converted, as in PostgreSQL).",
		"FLOOR(-42.8)", "-43", floor)
	fnRegister("CEIL", cat, "The smallest integer not less than the argument, as a DOUBLE (integers are converted, as in PostgreSQL).",
		"CEIL(-42.8)", "-42", ceil)
	fnRegister("CEILING", cat, "The same as CEIL.", "CEILING(95.3)", "96", ceil)

	modInt := fnStrict2(func(e *Env, a, b Value) Value {
		if b.I == 0 {
			e.Fail(ErrDivisionByZero)
			return Null
		}
		if b.I == -1 {
			return Value{}
		}
		return Value{I: a.I % b.I}
	})
	fnRegister("MOD", cat, "The remainder of x / y, with the sign of x; y = 0 is a division-by-zero error.",
		"MOD(-9, 4)", "-1",
		fnSig(Integer, modInt, Integer, Integer), fnSig(BigInt, modInt, BigInt, BigInt),
		fnSig(Double, fnStrict2(func(e *Env, a, b Value) Value {
			if b.F == 0 {
				e.Fail(ErrDivisionByZero)
				return Null
			}
			return fnDouble(math.Mod(a.F, b.F))
		}), Double, Double))

	power := fnStrict2(func(e *Env, a, b Value) Value { return fnPower(e, a.F, b.F) })
	fnRegister("POWER", cat, "x raised to the power y, with PostgreSQL's errors for 0 to a negative power, a negative number to a fractional power, overflow and underflow.",
		"POWER(2, 10)", "1024", fnSig(Double, power, Double, Double))
	fnRegister("POW", cat, "The same as POWER.", "POW(9, 0.5)", "3", fnSig(Double, power, Double, Double))
	fnRegister("SQRT", cat, "The square root; negative arguments are an error.",
		"SQRT(2.25)", "1.5", fnSig(Double, fnStrict1(func(e *Env, a Value) Value {
			if a.F < 0 {
				e.Fail(errFnSqrtNegative)
				return Null
			}
			return fnDouble(math.Sqrt(a.F))
		}), Double))
	fnRegister("CBRT", cat, "The cube root.", "CBRT(64)", "4", fnSig(Double, fnFloat1(math.Cbrt), Double))
	logOf := func(f func(float64) float64) func([]Arg) (Eval, error) {
		return fnStrict1(func(e *Env, a Value) Value {
			if !fnLog(e, a.F) {
				return Null
			}
			return fnDouble(f(a.F))
		})
	}
	fnRegister("LN", cat, "The natural logarithm; zero and negative arguments are errors.",
		"LN(1)", "0", fnSig(Double, logOf(math.Log), Double))
	fnRegister("LOG10", cat, "The base-10 logarithm; zero and negative arguments are errors.",
		"LOG10(1000)", "3", fnSig(Double, logOf(math.Log10), Double))
	fnRegister("LOG", cat, "LOG(x) is the base-10 logarithm, LOG(b, x) the logarithm to base b; zero and negative arguments are errors, and base 1 is a division by zero.",
		"LOG(2, 64)", "6", fnSig(Double, logOf(math.Log10), Double),
		fnSig(Double, fnStrict2(func(e *Env, b, x Value) Value {
			if !fnLog(e, b.F) || !fnLog(e, x.F) {
				return Null
			}
			if b.F == 1 {
				e.Fail(ErrDivisionByZero)
				return Null
			}
			return fnDouble(math.Log(x.F) / math.Log(b.F))
		}), Double, Double))
	fnRegister("EXP", cat, "e raised to the argument; results too large or too small for DOUBLE are errors.",
		"EXP(0)", "1", fnSig(Double, fnStrict1(func(e *Env, a Value) Value {
			finite := !math.IsInf(a.F, 0)
			return fnCheckFloat(e, math.Exp(a.F), !finite, !finite || math.IsNaN(a.F))
		}), Double))
	fnRegister("SIGN", cat, "-1, 0 or 1 as the argument is negative, zero or positive, as a DOUBLE (integers are converted, as in PostgreSQL); 0 for NaN.",
		"SIGN(-8.4)", "-1",
		fnSig(Double, fnStrict1(func(_ *Env, a Value) Value {
			switch {
			case a.F > 0:
				return fnDouble(1)
			case a.F < 0:
				return fnDouble(-1)
			}
			return fnDouble(0)
		}), Double))
	fnRegister("PI", cat, "The constant π.", "PI()", "3.141592653589793",
		fnSig(Double, func([]Arg) (Eval, error) { return func(*Env) Value { return fnDouble(math.Pi) }, nil }))
	fnRegister("DEGREES", cat, "Converts radians to degrees.", "DEGREES(PI())", "180",
		fnSig(Double, fnFloat1(func(x float64) float64 { return x * (180 / math.Pi) }), Double))
	fnRegister("RADIANS", cat, "Converts degrees to radians.", "RADIANS(180)", "3.141592653589793",
		fnSig(Double, fnFloat1(func(x float64) float64 { return x * (math.Pi / 180) }), Double))
	trig := func(f func(float64) float64, lo, hi float64) func([]Arg) (Eval, error) {
		return fnStrict1(func(e *Env, a Value) Value {
			if a.F < lo || a.F > hi {
				e.Fail(errFnInputRange)
				return Null
			}
			return fnDouble(f(a.F))
		})
	}
	inf := math.Inf(1)
	fnRegister("SIN", cat, "The sine of an angle in radians.", "SIN(0)", "0", fnSig(Double, trig(math.Sin, -math.MaxFloat64, math.MaxFloat64), Double))
	fnRegister("COS", cat, "The cosine of an angle in radians.", "COS(0)", "1", fnSig(Double, trig(math.Cos, -math.MaxFloat64, math.MaxFloat64), Double))
	fnRegister("TAN", cat, "The tangent of an angle in radians.", "TAN(0)", "0", fnSig(Double, trig(math.Tan, -math.MaxFloat64, math.MaxFloat64), Double))
	fnRegister("ASIN", cat, "The arcsine in radians; arguments outside [-1, 1] are an error.", "ASIN(1)", "1.5707963267948966", fnSig(Double, trig(math.Asin, -1, 1), Double))
	fnRegister("ACOS", cat, "The arccosine in radians; arguments outside [-1, 1] are an error.", "ACOS(1)", "0", fnSig(Double, trig(math.Acos, -1, 1), Double))
	fnRegister("ATAN", cat, "The arctangent in radians.", "ATAN(1)", "0.7853981633974483", fnSig(Double, trig(math.Atan, -inf, inf), Double))
	fnRegister("ATAN2", cat, "The arctangent of y / x in radians, using the signs of both to pick the quadrant.", "ATAN2(1, 1)", "0.7853981633974483",
		fnSig(Double, fnStrict2(func(_ *Env, y, x Value) Value { return fnDouble(math.Atan2(y.F, x.F)) }), Double, Double))

	var extremes []Signature
	var leasts []Signature
	for _, k := range []Kind{Integer, BigInt, Double, Varchar, Timestamp, Date, Time, Interval} {
		extremes = append(extremes, fnVariadic(k, fnExtremeBuild(true, k), k))
		leasts = append(leasts, fnVariadic(k, fnExtremeBuild(false, k), k))
	}
	fnRegister("GREATEST", cat, "The largest of the arguments, ignoring NULLs (NULL when all are). Strings compare bytewise (the C collation).",
		"GREATEST(3, NULL, 7, 5)", "7", extremes...)
	fnRegister("LEAST", cat, "The smallest of the arguments, ignoring NULLs (NULL when all are). Strings compare bytewise (the C collation).",
		"LEAST(3, NULL, 7, 5)", "3", leasts...)
}

package sql

import (
	"math"
	"testing"
)

func TestFuncMath(t *testing.T) {
	i, b, d, n := fntInt, fntBig, fntDbl, fntNull
	fnRun(t, []fnCase{
		{"ABS", []fnArg{i(-5)}, "5"},
		{"ABS", []fnArg{i(math.MinInt32)}, "error: integer out of range"},
		{"ABS", []fnArg{i(math.MaxInt32)}, "2147483647"},
		{"ABS", []fnArg{b(math.MinInt64)}, "error: bigint out of range"},
		{"ABS", []fnArg{b(-3000000000)}, "3000000000"},
		{"ABS", []fnArg{d(-0.5)}, "0.5"},
		{"ABS", []fnArg{n(Integer)}, "NULL"},

		// round(double precision) rounds halves to even, like rint.
		{"ROUND", []fnArg{d(2.5)}, "2"},
		{"ROUND", []fnArg{d(3.5)}, "4"},
		{"ROUND", []fnArg{d(-2.5)}, "-2"},
		{"ROUND", []fnArg{d(2.4999)}, "2"},
		{"ROUND", []fnArg{d(2.675), i(2)}, "2.68"},
		{"ROUND", []fnArg{d(-2.675), i(2)}, "-2.68"},
		{"ROUND", []fnArg{d(2.5), i(0)}, "3"},
		{"ROUND", []fnArg{d(-0.4), i(0)}, "0"},
		{"ROUND", []fnArg{d(1234.5), i(-2)}, "1200"},
		{"ROUND", []fnArg{d(1250), i(-2)}, "1300"},
		{"ROUND", []fnArg{d(0.05), i(1)}, "0.1"},
		{"ROUND", []fnArg{d(0.0004), i(2)}, "0"},
		{"ROUND", []fnArg{d(0.004), i(2)}, "0"},
		{"ROUND", []fnArg{d(0.005), i(2)}, "0.01"},
		{"ROUND", []fnArg{d(1.1), i(5)}, "1.1"},
		{"ROUND", []fnArg{d(123.456), i(-5)}, "0"},
		{"ROUND", []fnArg{d(1.5e20), i(2)}, "150000000000000000000"},
		{"ROUND", []fnArg{d(math.Inf(-1)), i(2)}, "-Inf"},
		{"TRUNC", []fnArg{d(-42.8)}, "-42"},
		{"TRUNC", []fnArg{d(42.4382), i(-1)}, "40"},
		{"TRUNC", []fnArg{d(-0.19), i(1)}, "-0.1"},

		{"FLOOR", []fnArg{d(-7)}, "-7"},
		{"FLOOR", []fnArg{d(-0.5)}, "-1"},
		{"CEIL", []fnArg{d(0.1)}, "1"},
		{"CEILING", []fnArg{d(-0.1)}, "-0"},

		{"MOD", []fnArg{i(9), i(4)}, "1"},
		{"MOD", []fnArg{i(-9), i(4)}, "-1"},
		{"MOD", []fnArg{i(9), i(-4)}, "1"},
		{"MOD", []fnArg{i(9), i(0)}, "error: division by zero"},
		{"MOD", []fnArg{i(math.MinInt32), i(-1)}, "0"},
		{"MOD", []fnArg{b(math.MinInt64), b(-1)}, "0"},
		{"MOD", []fnArg{d(5.5), d(2)}, "1.5"},
		{"MOD", []fnArg{d(5.5), d(0)}, "error: division by zero"},
		{"MOD", []fnArg{n(Integer), i(0)}, "NULL"},

		{"POWER", []fnArg{d(2), d(-1)}, "0.5"},
		{"POWER", []fnArg{d(0), d(0)}, "1"},
		{"POWER", []fnArg{d(0), d(-1)}, "error: zero raised to a negative power is undefined"},
		{"POWER", []fnArg{d(-8), d(1.0 / 3)}, "error: complex result"},
		{"POWER", []fnArg{d(-2), d(3)}, "-8"},
		{"POWER", []fnArg{d(10), d(400)}, "error: value out of range: overflow"},
		{"POWER", []fnArg{d(10), d(-400)}, "error: value out of range: underflow"},
		{"SQRT", []fnArg{d(-1)}, "error: cannot take square root of a negative number"},
		{"SQRT", []fnArg{d(16)}, "4"},
		{"CBRT", []fnArg{d(-27)}, "-3"},
		{"LN", []fnArg{d(0)}, "error: cannot take logarithm of zero"},
		{"LN", []fnArg{d(-1)}, "error: cannot take logarithm of a negative number"},
		{"LOG10", []fnArg{d(0)}, "error: cannot take logarithm of zero"},
		{"LOG", []fnArg{d(100)}, "2"},
		{"LOG", []fnArg{d(1), d(10)}, "error: division by zero"},
		{"LOG", []fnArg{d(2), d(-1)}, "error: cannot take logarithm of a negative number"},
		{"EXP", []fnArg{d(1)}, "2.718281828459045"},
		{"EXP", []fnArg{d(1000)}, "error: value out of range: overflow"},
		{"EXP", []fnArg{d(-1000)}, "error: value out of range: underflow"},
		{"EXP", []fnArg{d(math.Inf(-1))}, "0"},
		{"SIGN", []fnArg{d(-3)}, "-1"},
		{"SIGN", []fnArg{d(0)}, "0"},
		{"SIGN", []fnArg{d(math.NaN())}, "0"},
		{"SIGN", []fnArg{d(2.5)}, "1"},
		{"PI", nil, "3.141592653589793"},
		{"SIN", []fnArg{d(math.Inf(1))}, "error: input is out of range"},
		{"ASIN", []fnArg{d(2)}, "error: input is out of range"},
		{"ACOS", []fnArg{d(-1)}, "3.141592653589793"},
		{"ATAN2", []fnArg{d(0), d(-1)}, "3.141592653589793"},
		{"DEGREES", []fnArg{d(math.Pi / 2)}, "90"},

		{"GREATEST", []fnArg{i(1), n(Integer), i(3)}, "3"},
		{"GREATEST", []fnArg{n(Integer), n(Integer)}, "NULL"},
		{"GREATEST", []fnArg{d(1), d(math.NaN())}, "NaN"},
		{"LEAST", []fnArg{d(1), d(math.NaN())}, "1"},
		{"GREATEST", []fnArg{fntStr("apple"), fntStr("banana"), fntStr("Cherry")}, "'banana'"},
		{"LEAST", []fnArg{fntStr("apple"), fntStr("banana"), fntStr("Cherry")}, "'Cherry'"},
		{"LEAST", []fnArg{fntTS("2024-01-02"), fntTS("2023-01-02")}, "TIMESTAMP '2023-01-02 00:00:00'"},
		{"GREATEST", []fnArg{b(-1), b(5)}, "5"},
	})
}

func TestFuncRoundDecimal(t *testing.T) {
	for _, c := range []struct {
		x     float64
		n     int64
		trunc bool
		want  float64
	}{
		{1.005, 2, false, 1.01}, // 1.005 is written 1.005: rounds up as numeric does
		{0.125, 2, false, 0.13},
		{-0.125, 2, true, -0.12},
		{9.995, 2, false, 10},
		{99.5, 0, false, 100},
		{5e-324, 400, false, 5e-324},
		{123456789012345678, -3, false, 123456789012346000},
	} {
		if got := fnRoundDecimal(c.x, c.n, c.trunc); got != c.want {
			t.Errorf("fnRoundDecimal(%v, %d, %v) = %v, want %v", c.x, c.n, c.trunc, got, c.want)
		}
	}
}

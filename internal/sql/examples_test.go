package sql

import (
	"math"
	"strings"
	"testing"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/decode"
)

// evalConst evaluates an expression that reads no column.
func evalConst(t *testing.T, expr string) (*Type, Value, error) {
	t.Helper()
	schema := avro.MustParse(`{"type":"record","name":"R","fields":[{"name":"x","type":"int"}]}`)
	q, err := Analyze("SELECT "+expr+" FROM tenant", schema)
	if err != nil {
		return nil, Value{}, err
	}
	env := NewEnv()
	env.Row = &decode.Row{}
	v := q.Project[0](env)
	return q.Columns[0].Type, v, env.Err()
}

// TestFunctionExamples evaluates every function's documented example and
// checks it gives the documented result, so docs/sql-functions.md cannot
// drift from the code.
func TestFunctionExamples(t *testing.T) {
	fns := Functions()
	if len(fns) < 40 {
		t.Errorf("%d scalar functions, want at least 40", len(fns))
	}
	for _, fn := range fns {
		if fn.Example == "" || fn.Result == "" || fn.Doc == "" || fn.Category == "" {
			t.Errorf("%s: Example, Result, Doc and Category must be set", fn.Name)
			continue
		}
		if !strings.Contains(fn.Example, fn.Name+"(") {
			t.Errorf("%s: the example %s does not call it", fn.Name, fn.Example)
		}
		gt, got, err := evalConst(t, fn.Example)
		if err != nil {
			t.Errorf("%s: example %s: %v", fn.Name, fn.Example, err)
			continue
		}
		wt, want, err := evalConst(t, fn.Result)
		if err != nil {
			t.Errorf("%s: result %s: %v", fn.Name, fn.Result, err)
			continue
		}
		if !sameValue(gt.Kind, got, wt.Kind, want) {
			t.Errorf("%s: %s = %s (%s), documented as %s", fn.Name, fn.Example,
				showValue(gt.Kind, got), gt, fn.Result)
		}
	}
}

func showValue(k Kind, v Value) string {
	if v.Null {
		return "NULL"
	}
	if k == Varchar {
		return QuoteString(string(v.B))
	}
	return string(AppendText(nil, k, v))
}

// sameValue compares values of possibly different numeric kinds.
func sameValue(gk Kind, g Value, wk Kind, w Value) bool {
	if g.Null || w.Null {
		return g.Null == w.Null
	}
	if gk.IsNumeric() && wk.IsNumeric() {
		gf, wf := g.F, w.F
		if gk != Double {
			gf = float64(g.I)
		}
		if wk != Double {
			wf = float64(w.I)
		}
		return gf == wf || math.Abs(gf-wf) <= 1e-9*math.Max(math.Abs(gf), math.Abs(wf))
	}
	if gk != wk && !(gk == Bytes && wk == Varchar) {
		return false
	}
	return string(AppendText(nil, gk, g)) == string(AppendText(nil, wk, w)) || (gk == Bytes && string(g.B) == string(w.B))
}

func TestConstantFolding(t *testing.T) {
	for expr, want := range map[string]string{
		"1 + 2 * 3":                    "7",
		"'a' || 'b'":                   "ab",
		"CAST('42' AS BIGINT)":         "42",
		"NULL IS NULL":                 "true",
		"COALESCE(NULL, 1)":            "1",
		"CASE WHEN 1 < 2 THEN 'y' END": "y",
	} {
		k, v, err := evalConst(t, expr)
		if err != nil || string(AppendText(nil, k.Kind, v)) != want {
			t.Errorf("%s = %s, %v; want %s", expr, AppendText(nil, k.Kind, v), err, want)
		}
	}
	// 1/0 is left to fail per record rather than at analysis.
	if _, _, err := evalConst(t, "1 / 0"); err == nil || err.Error() != "division by zero" {
		t.Errorf("1/0: %v", err)
	}
}

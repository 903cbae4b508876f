package sqldiff

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Result values, normalised so that both sides compare: nil (NULL), bool,
// int64, float64, string, and the time kinds below. Integers and doubles
// compare numerically with each other (PostgreSQL's numeric results,
// EXTRACT and AVG, against Sluice's doubles and integers).
type (
	tsMicros   int64 // TIMESTAMP: microseconds since the epoch, UTC
	dateDays   int64 // DATE: days since the epoch
	timeMicros int64 // TIME: microseconds after midnight
	ivMicros   int64 // INTERVAL: microseconds
)

type row []any

// Tolerances for doubles.
const (
	relTol = 1e-9
	absTol = 1e-12
)

func class(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case int64, float64:
		return 2
	case string:
		return 3
	case tsMicros:
		return 4
	case dateDays:
		return 5
	case timeMicros:
		return 6
	case ivMicros:
		return 7
	}
	return 8
}

func nearlyEqual(x, y float64) bool {
	if x == y || (math.IsNaN(x) && math.IsNaN(y)) {
		return true
	}
	d := math.Abs(x - y)
	return d <= absTol || d <= relTol*math.Max(math.Abs(x), math.Abs(y))
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

// cmpValue orders values, equal when within the tolerances.
func cmpValue(x, y any) int {
	cx, cy := class(x), class(y)
	if cx != cy {
		return cmp.Compare(cx, cy)
	}
	switch x := x.(type) {
	case nil:
		return 0
	case bool:
		yb := y.(bool)
		switch {
		case x == yb:
			return 0
		case !x:
			return -1
		}
		return 1
	case int64:
		if yi, ok := y.(int64); ok {
			return cmp.Compare(x, yi)
		}
	case string:
		return strings.Compare(x, y.(string))
	case tsMicros:
		return cmp.Compare(x, y.(tsMicros))
	case dateDays:
		return cmp.Compare(x, y.(dateDays))
	case timeMicros:
		return cmp.Compare(x, y.(timeMicros))
	case ivMicros:
		return cmp.Compare(x, y.(ivMicros))
	}
	if cx == 2 {
		fx, fy := toFloat(x), toFloat(y)
		if nearlyEqual(fx, fy) {
			return 0
		}
		return cmp.Compare(fx, fy) // NaN sorts first
	}
	return strings.Compare(fmt.Sprint(x), fmt.Sprint(y))
}

func cmpRow(a, b row) int {
	for i := range min(len(a), len(b)) {
		if c := cmpValue(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// diff compares two multisets of rows. It returns the rows only PostgreSQL
// produced and those only Sluice produced (both sorted).
func diff(pg, sl []row) (onlyPG, onlySluice []row) {
	pg, sl = slices.Clone(pg), slices.Clone(sl)
	slices.SortStableFunc(pg, cmpRow)
	slices.SortStableFunc(sl, cmpRow)
	i, j := 0, 0
	for i < len(pg) && j < len(sl) {
		switch c := cmpRow(pg[i], sl[j]); {
		case c == 0:
			i++
			j++
		case c < 0:
			onlyPG = append(onlyPG, pg[i])
			i++
		default:
			onlySluice = append(onlySluice, sl[j])
			j++
		}
	}
	onlyPG = append(onlyPG, pg[i:]...)
	onlySluice = append(onlySluice, sl[j:]...)
	return onlyPG, onlySluice
}

func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return fmt.Sprintf("%q", v)
	case float64:
		return fmt.Sprintf("%v(double)", v)
	case tsMicros:
		return fmt.Sprintf("ts(%d)", int64(v))
	}
	return fmt.Sprint(v)
}

func formatRow(r row) string {
	parts := make([]string, len(r))
	for i, v := range r {
		parts[i] = formatValue(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func formatRows(rs []row, max int) string {
	var b strings.Builder
	for i, r := range rs {
		if i == max {
			fmt.Fprintf(&b, "\n\t\t... %d more", len(rs)-max)
			break
		}
		b.WriteString("\n\t\t" + formatRow(r))
	}
	return b.String()
}

package sql

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// typeNames maps the type names CAST accepts to kinds. DECIMAL and NUMERIC
// are DOUBLE: Sluice computes decimals in binary floating point.
var typeNames = map[string]Kind{
	"BOOLEAN": Boolean, "BOOL": Boolean,
	"INT": Integer, "INTEGER": Integer, "INT4": Integer,
	"BIGINT": BigInt, "INT8": BigInt, "LONG": BigInt,
	"DOUBLE": Double, "DOUBLE PRECISION": Double, "FLOAT": Double, "FLOAT8": Double,
	"REAL": Double, "FLOAT4": Double, "DECIMAL": Double, "NUMERIC": Double,
	"VARCHAR": Varchar, "TEXT": Varchar, "STRING": Varchar, "CHAR VARYING": Varchar,
	"BYTES": Bytes, "BYTEA": Bytes, "VARBINARY": Bytes,
	"TIMESTAMP": Timestamp, "DATE": Date, "TIME": Time, "INTERVAL": Interval,
}

// castTarget resolves a CAST's type name. For VARCHAR(n) it also returns n,
// the length values are cut to (as PostgreSQL does on an explicit cast).
func castTarget(t TypeName) (Kind, int, error) {
	k, ok := typeNames[t.Name]
	if !ok {
		names := make([]string, 0, len(typeNames))
		for n := range typeNames {
			names = append(names, n)
		}
		return 0, 0, fmt.Errorf("unknown type %s%s", t.Name, didYouMean(t.Name, names))
	}
	switch {
	case len(t.Params) == 0:
		return k, 0, nil
	case k == Varchar && len(t.Params) == 1 && t.Params[0] > 0:
		return k, t.Params[0], nil
	case (t.Name == "DECIMAL" || t.Name == "NUMERIC") && len(t.Params) <= 2:
		return k, 0, nil
	}
	return 0, 0, fmt.Errorf("type %s takes no such parameters", t)
}

// converter turns a non-NULL value of one kind into another; it reports
// failure with an error (and the caller decides: CAST fails the record,
// TRY_CAST gives NULL).
type converter func(e *Env, v Value) (Value, error)

// castable reports the conversion from one kind to another, nil when there
// is none (a type error at analysis).
func castable(from, to Kind) converter {
	if from == to {
		return func(_ *Env, v Value) (Value, error) { return v, nil }
	}
	if from == Unknown {
		return func(*Env, Value) (Value, error) { return Null, nil }
	}
	if to == Varchar {
		switch from {
		case Array, Map, Record:
			return nil
		}
		return func(e *Env, v Value) (Value, error) {
			start, b := e.Begin()
			return e.End(start, AppendText(b, from, v)), nil
		}
	}
	if from == Varchar {
		return textParser(to)
	}
	switch {
	case from.IsInteger() && to == Integer:
		return func(_ *Env, v Value) (Value, error) {
			if v.I > math.MaxInt32 || v.I < math.MinInt32 {
				return Null, ErrIntegerRange
			}
			return v, nil
		}
	case from.IsInteger() && to == BigInt:
		return func(_ *Env, v Value) (Value, error) { return v, nil }
	case from.IsInteger() && to == Double:
		return func(_ *Env, v Value) (Value, error) { return Value{F: float64(v.I)}, nil }
	case from == Double && to.IsInteger():
		return func(_ *Env, v Value) (Value, error) { return doubleToInt(v.F, to) }
	case from == Integer && to == Boolean, from == Boolean && to == Integer:
		return func(_ *Env, v Value) (Value, error) { return Bool(v.I != 0), nil }
	case from == Timestamp && to == Date:
		return func(_ *Env, v Value) (Value, error) { return Value{I: floorDiv(v.I, microsPerDay)}, nil }
	case from == Timestamp && to == Time:
		return func(_ *Env, v Value) (Value, error) {
			return Value{I: v.I - floorDiv(v.I, microsPerDay)*microsPerDay}, nil
		}
	case from == Date && to == Timestamp:
		return func(_ *Env, v Value) (Value, error) { return Value{I: v.I * microsPerDay}, nil }
	}
	return nil
}

// doubleToInt rounds half to even, as PostgreSQL's float8 to integer cast.
func doubleToInt(f float64, to Kind) (Value, error) {
	r := math.RoundToEven(f)
	if to == Integer {
		if math.IsNaN(r) || r > math.MaxInt32 || r < math.MinInt32 {
			return Null, ErrIntegerRange
		}
		return Value{I: int64(r)}, nil
	}
	if math.IsNaN(r) || r >= 9223372036854775807 || r < -9223372036854775808 {
		return Null, ErrBigIntRange
	}
	return Value{I: int64(r)}, nil
}

func invalidInput(to Kind, b []byte) error {
	return EvalErrorf("invalid input syntax for type %s: %q", to, b)
}

// textParser converts text to kind to, as a cast from VARCHAR does.
func textParser(to Kind) converter {
	switch to {
	case Boolean:
		return func(_ *Env, v Value) (Value, error) {
			if b, ok := parseBool(v.B); ok {
				return Bool(b), nil
			}
			return Null, invalidInput(Boolean, v.B)
		}
	case Integer, BigInt:
		return func(_ *Env, v Value) (Value, error) {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(v.B)), 10, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
					if to == Integer {
						return Null, ErrIntegerRange
					}
					return Null, ErrBigIntRange
				}
				return Null, invalidInput(to, v.B)
			}
			if to == Integer && (n > math.MaxInt32 || n < math.MinInt32) {
				return Null, ErrIntegerRange
			}
			return Value{I: n}, nil
		}
	case Double:
		return func(_ *Env, v Value) (Value, error) {
			s := bytes.TrimSpace(v.B)
			f, err := strconv.ParseFloat(string(s), 64)
			if err != nil || bytes.HasPrefix(bytes.TrimLeft(s, "+-"), []byte("0x")) {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
					return Null, EvalErrorf("%q is out of range for type DOUBLE", v.B)
				}
				return Null, invalidInput(Double, v.B)
			}
			return Value{F: f}, nil
		}
	case Bytes:
		return func(e *Env, v Value) (Value, error) {
			if !bytes.HasPrefix(v.B, []byte(`\x`)) {
				return Value{B: v.B}, nil
			}
			start, b := e.Begin()
			b, err := hex.AppendDecode(b, v.B[2:])
			if err != nil {
				return Null, invalidInput(Bytes, v.B)
			}
			return e.End(start, b), nil
		}
	case Timestamp:
		return func(_ *Env, v Value) (Value, error) {
			if us, ok := ParseTimestamp(v.B); ok {
				return Value{I: us}, nil
			}
			return Null, invalidInput(Timestamp, v.B)
		}
	case Date:
		return func(_ *Env, v Value) (Value, error) {
			if d, ok := ParseDate(v.B); ok {
				return Value{I: d}, nil
			}
			if us, ok := ParseTimestamp(v.B); ok {
				return Value{I: floorDiv(us, microsPerDay)}, nil
			}
			return Null, invalidInput(Date, v.B)
		}
	case Time:
		return func(_ *Env, v Value) (Value, error) {
			if us, ok := ParseTime(v.B); ok {
				return Value{I: us}, nil
			}
			return Null, invalidInput(Time, v.B)
		}
	case Interval:
		return func(_ *Env, v Value) (Value, error) {
			if us, ok := parseIntervalText(string(v.B)); ok {
				return Value{I: us}, nil
			}
			return Null, invalidInput(Interval, v.B)
		}
	}
	return nil
}

// parseBool accepts what PostgreSQL's boolean input accepts: true, false,
// yes, no, on, off, 1, 0 (and unique prefixes of the words), in any case.
func parseBool(b []byte) (bool, bool) {
	s := bytes.ToLower(bytes.TrimSpace(b))
	if len(s) == 0 {
		return false, false
	}
	for _, w := range [...]struct {
		word string
		min  int
		val  bool
	}{{"true", 1, true}, {"false", 1, false}, {"yes", 1, true}, {"no", 1, false}, {"on", 2, true}, {"off", 2, false}, {"1", 1, true}, {"0", 1, false}} {
		if len(s) >= w.min && len(s) <= len(w.word) && string(s) == w.word[:len(s)] {
			return w.val, true
		}
	}
	return false, false
}

// parseIntervalText parses "5 minutes", "2 hours", "1 day", "90 seconds",
// "00:05:00" or a number of seconds.
func parseIntervalText(s string) (int64, bool) {
	b := bytes.TrimSpace([]byte(s))
	if us, ok := ParseTime(b); ok {
		return us, true
	}
	fields := bytes.Fields(b)
	if len(fields) == 0 || len(fields) > 2 {
		return 0, false
	}
	n, err := strconv.ParseFloat(string(fields[0]), 64)
	if err != nil {
		return 0, false
	}
	unit := microsPerSecond
	if len(fields) == 2 {
		u, ok := intervalTextUnits[string(bytes.ToLower(fields[1]))]
		if !ok {
			return 0, false
		}
		unit = u
	}
	v := n * float64(unit)
	if math.Abs(v) > math.MaxInt64/2 {
		return 0, false
	}
	return int64(math.Round(v)), true
}

var intervalTextUnits = map[string]int64{
	"microsecond": 1, "microseconds": 1, "us": 1,
	"millisecond": 1000, "milliseconds": 1000, "ms": 1000,
	"second": microsPerSecond, "seconds": microsPerSecond, "sec": microsPerSecond, "secs": microsPerSecond, "s": microsPerSecond,
	"minute": 60 * microsPerSecond, "minutes": 60 * microsPerSecond, "min": 60 * microsPerSecond, "mins": 60 * microsPerSecond, "m": 60 * microsPerSecond,
	"hour": 3600 * microsPerSecond, "hours": 3600 * microsPerSecond, "h": 3600 * microsPerSecond,
	"day": microsPerDay, "days": microsPerDay, "d": microsPerDay,
	"week": 7 * microsPerDay, "weeks": 7 * microsPerDay,
}

// ParseInterval parses a duration as a subscription option writes it:
// "5 seconds", "1 minute", "00:00:05" or a number of seconds. It returns
// microseconds.
func ParseInterval(s string) (int64, bool) { return parseIntervalText(s) }

// truncateChars cuts a VARCHAR to n characters.
func truncateChars(b []byte, n int) []byte {
	i := 0
	for c := 0; c < n && i < len(b); c++ {
		_, size := utf8.DecodeRune(b[i:])
		i += size
	}
	return b[:i]
}

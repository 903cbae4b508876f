package sql

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Date and time functions. Every timestamp is UTC (PostgreSQL's timestamp
// without time zone); weeks start on Monday and week numbers are ISO 8601.

var (
	errFnTimestampRange = &EvalError{Msg: "timestamp out of range"}
	errFnTimestampNaN   = &EvalError{Msg: "timestamp cannot be NaN"}
)

// fnUnit is a date/time unit or EXTRACT field.
type fnUnit uint8

const (
	fnMicrosecond fnUnit = iota + 1
	fnMillisecond
	fnSecond
	fnMinute
	fnHour
	fnDay
	fnWeek
	fnMonth
	fnQuarter
	fnYear
	fnDecade
	fnCentury
	fnMillennium
	// EXTRACT only:
	fnDow
	fnIsoDow
	fnDoy
	fnIsoYear
	fnEpoch
)

// fnUnits are the unit names and abbreviations PostgreSQL accepts.
var fnUnits = map[string]fnUnit{
	"microsecond": fnMicrosecond, "microseconds": fnMicrosecond, "us": fnMicrosecond, "usec": fnMicrosecond, "usecs": fnMicrosecond,
	"millisecond": fnMillisecond, "milliseconds": fnMillisecond, "ms": fnMillisecond, "msec": fnMillisecond, "msecs": fnMillisecond,
	"second": fnSecond, "seconds": fnSecond, "s": fnSecond, "sec": fnSecond, "secs": fnSecond,
	"minute": fnMinute, "minutes": fnMinute, "m": fnMinute, "min": fnMinute, "mins": fnMinute,
	"hour": fnHour, "hours": fnHour, "h": fnHour, "hr": fnHour, "hrs": fnHour,
	"day": fnDay, "days": fnDay, "d": fnDay,
	"week": fnWeek, "weeks": fnWeek, "w": fnWeek,
	"month": fnMonth, "months": fnMonth, "mon": fnMonth, "mons": fnMonth,
	"quarter": fnQuarter, "qtr": fnQuarter,
	"year": fnYear, "years": fnYear, "y": fnYear, "yr": fnYear, "yrs": fnYear,
	"decade": fnDecade, "decades": fnDecade,
	"century": fnCentury, "centuries": fnCentury,
	"millennium": fnMillennium, "millennia": fnMillennium, "millenniums": fnMillennium,
	"dow": fnDow, "isodow": fnIsoDow, "doy": fnDoy, "isoyear": fnIsoYear, "epoch": fnEpoch,
}

func fnParseUnit(a Arg, what, fn string) (fnUnit, string, error) {
	text, err := fnConstText(a, what, fn)
	if err != nil {
		return 0, "", err
	}
	name := strings.ToLower(strings.TrimSpace(text))
	u, ok := fnUnits[name]
	if !ok {
		return 0, name, fmt.Errorf("%s: unit %q not recognized", fn, text)
	}
	return u, name, nil
}

// fnFloorDiv divides rounding toward minus infinity.
func fnFloorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// fnCivil is the UTC time of microseconds since the epoch.
func fnCivil(us int64) time.Time { return time.UnixMicro(us).UTC() }

// fnMicros is the timestamp of a UTC civil time.
func fnMicros(t time.Time) int64 { return t.Unix()*microsPerSecond + int64(t.Nanosecond()/1000) }

// fnDateTrunc truncates a timestamp to a unit, as PostgreSQL's date_trunc.
func fnDateTrunc(us int64, u fnUnit) int64 {
	switch u {
	case fnMicrosecond:
		return us
	case fnMillisecond:
		return fnFloorDiv(us, 1000) * 1000
	case fnSecond:
		return fnFloorDiv(us, microsPerSecond) * microsPerSecond
	case fnMinute:
		return fnFloorDiv(us, 60*microsPerSecond) * 60 * microsPerSecond
	case fnHour:
		return fnFloorDiv(us, 3600*microsPerSecond) * 3600 * microsPerSecond
	case fnDay:
		return fnFloorDiv(us, microsPerDay) * microsPerDay
	case fnWeek:
		// The epoch was a Thursday: Mondays are 3 days before multiples of 7.
		days := fnFloorDiv(us, microsPerDay)
		return (fnFloorDiv(days+3, 7)*7 - 3) * microsPerDay
	}
	t := fnCivil(us)
	y, m := t.Year(), t.Month()
	switch u {
	case fnMonth:
	case fnQuarter:
		m = (m-1)/3*3 + 1
	case fnYear:
		m = 1
	case fnDecade:
		y, m = int(fnFloorDiv(int64(y), 10)*10), 1
	case fnCentury:
		y, m = int(fnFloorDiv(int64(y)-1, 100)*100+1), 1
	case fnMillennium:
		y, m = int(fnFloorDiv(int64(y)-1, 1000)*1000+1), 1
	}
	return fnMicros(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC))
}

func fnDateTruncBuild(args []Arg) (Eval, error) {
	if fnHasNullConst(args[:1]) {
		return fnNullEval, nil
	}
	u, _, err := fnParseUnit(args[0], "unit", "DATE_TRUNC")
	if err != nil {
		return nil, err
	}
	if u > fnMillennium {
		return nil, fmt.Errorf("DATE_TRUNC: unit %q not supported", string(args[0].Const.B))
	}
	return fnStrict1(func(_ *Env, a Value) Value { return Value{I: fnDateTrunc(a.I, u)} })(args[1:])
}

// fnYearAD turns an astronomical year into PostgreSQL's (no year 0).
func fnYearAD(y int) int {
	if y <= 0 {
		return y - 1
	}
	return y
}

// fnExtractDate computes the calendar fields of a time.
func fnExtractDate(t time.Time, u fnUnit) float64 {
	y := t.Year()
	switch u {
	case fnDay:
		return float64(t.Day())
	case fnWeek:
		_, w := t.ISOWeek()
		return float64(w)
	case fnMonth:
		return float64(t.Month())
	case fnQuarter:
		return float64((t.Month()-1)/3 + 1)
	case fnYear:
		return float64(fnYearAD(y))
	case fnDecade:
		return float64(fnFloorDiv(int64(y), 10))
	case fnCentury:
		if y > 0 {
			return float64((y + 99) / 100)
		}
		return float64(-((99 - (y - 1)) / 100))
	case fnMillennium:
		if y > 0 {
			return float64((y + 999) / 1000)
		}
		return float64(-((999 - (y - 1)) / 1000))
	case fnDow:
		return float64(t.Weekday())
	case fnIsoDow:
		if d := t.Weekday(); d != time.Sunday {
			return float64(d)
		}
		return 7
	case fnDoy:
		return float64(t.YearDay())
	case fnIsoYear:
		iy, _ := t.ISOWeek()
		return float64(fnYearAD(iy))
	}
	return 0
}

// fnExtractClock computes the time-of-day fields of microseconds after
// midnight (or since the epoch: only the remainder matters).
func fnExtractClock(us int64, u fnUnit) float64 {
	inMinute := us - fnFloorDiv(us, 60*microsPerSecond)*60*microsPerSecond
	switch u {
	case fnMicrosecond:
		return float64(inMinute)
	case fnMillisecond:
		return float64(inMinute) / 1000
	case fnSecond:
		return float64(inMinute) / 1e6
	case fnMinute:
		m := fnFloorDiv(us, 60*microsPerSecond)
		return float64(m - fnFloorDiv(m, 60)*60)
	case fnHour:
		h := fnFloorDiv(us, 3600*microsPerSecond)
		return float64(h - fnFloorDiv(h, 24)*24)
	}
	return 0
}

func fnIsClockUnit(u fnUnit) bool { return u >= fnMicrosecond && u <= fnHour }

func fnExtractBuild(fn string, k Kind) func([]Arg) (Eval, error) {
	return func(args []Arg) (Eval, error) {
		if fnHasNullConst(args[:1]) {
			return fnNullEval, nil
		}
		u, name, err := fnParseUnit(args[0], "field", fn)
		if err != nil {
			return nil, err
		}
		var f func(int64) float64
		switch k {
		case Timestamp:
			switch {
			case u == fnEpoch:
				f = func(us int64) float64 { return float64(us) / 1e6 }
			case fnIsClockUnit(u):
				f = func(us int64) float64 { return fnExtractClock(us, u) }
			default:
				f = func(us int64) float64 { return fnExtractDate(fnCivil(us), u) }
			}
		case Date:
			switch {
			case u == fnEpoch:
				f = func(d int64) float64 { return float64(d) * 86400 }
			case fnIsClockUnit(u):
			default:
				f = func(d int64) float64 { return fnExtractDate(fnCivil(d*microsPerDay), u) }
			}
		case Time:
			switch {
			case u == fnEpoch:
				f = func(us int64) float64 { return float64(us) / 1e6 }
			case fnIsClockUnit(u):
				f = func(us int64) float64 { return fnExtractClock(us, u) }
			}
		case Interval:
			if u == fnEpoch {
				f = func(us int64) float64 { return float64(us) / 1e6 }
			}
		}
		if f == nil {
			return nil, fmt.Errorf("%s: unit %q not supported for type %s", fn, name, strings.ToLower(k.String()))
		}
		return fnStrict1(func(_ *Env, a Value) Value { return fnDouble(f(a.I)) })(args[1:])
	}
}

// fnSecondsToMicros converts epoch seconds to a timestamp, rounding to the
// microsecond as PostgreSQL's to_timestamp.
func fnSecondsToMicros(e *Env, s float64) Value {
	if math.IsNaN(s) {
		e.Fail(errFnTimestampNaN)
		return Null
	}
	us := math.RoundToEven(s * 1e6)
	if !(us >= -(1<<63) && us < 1<<63) {
		e.Fail(errFnTimestampRange)
		return Null
	}
	return Value{I: int64(us)}
}

func fnScaleToMicros(e *Env, n, scale int64) Value {
	if n > math.MaxInt64/scale || n < math.MinInt64/scale {
		e.Fail(errFnTimestampRange)
		return Null
	}
	return Value{I: n * scale}
}

// Format directives of FORMAT_TIMESTAMP and TO_TIMESTAMP.
var (
	fnDayNames   = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	fnMonthNames = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

const fnFormatDirectives = "YymdeHIpMSfLjaAbBhuwzZsFTGV%"

// fnCheckFormat reports the first unknown directive of a format.
func fnCheckFormat(f []byte) error {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i+1 == len(f) {
			return fmt.Errorf("the format ends with a lone %%")
		}
		i++
		if !strings.ContainsRune(fnFormatDirectives, rune(f[i])) {
			return fmt.Errorf("unknown directive %%%c in the format", f[i])
		}
	}
	return nil
}

// fnFormatTimestamp appends the timestamp formatted with strftime
// directives; ok is false for an unknown directive.
func fnFormatTimestamp(b []byte, us int64, f []byte) ([]byte, bool) {
	t := fnCivil(us)
	frac := us - fnFloorDiv(us, microsPerSecond)*microsPerSecond
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+1 == len(f) {
			return b, false
		}
		i++
		switch f[i] {
		case 'Y':
			b = appendYearPad(b, t.Year())
		case 'y':
			b = appendPad(b, int64(t.Year()%100+100)%100, 2)
		case 'm':
			b = appendPad(b, int64(t.Month()), 2)
		case 'd':
			b = appendPad(b, int64(t.Day()), 2)
		case 'e':
			if t.Day() < 10 {
				b = append(b, ' ')
			}
			b = appendPad(b, int64(t.Day()), 1)
		case 'H':
			b = appendPad(b, int64(t.Hour()), 2)
		case 'I':
			b = appendPad(b, int64((t.Hour()+11)%12+1), 2)
		case 'p':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'M':
			b = appendPad(b, int64(t.Minute()), 2)
		case 'S':
			b = appendPad(b, int64(t.Second()), 2)
		case 'f':
			b = appendPad(b, frac, 6)
		case 'L':
			b = appendPad(b, frac/1000, 3)
		case 'j':
			b = appendPad(b, int64(t.YearDay()), 3)
		case 'a':
			b = append(b, fnDayNames[t.Weekday()][:3]...)
		case 'A':
			b = append(b, fnDayNames[t.Weekday()]...)
		case 'b', 'h':
			b = append(b, fnMonthNames[t.Month()-1][:3]...)
		case 'B':
			b = append(b, fnMonthNames[t.Month()-1]...)
		case 'u':
			b = appendPad(b, int64(fnExtractDate(t, fnIsoDow)), 1)
		case 'w':
			b = appendPad(b, int64(t.Weekday()), 1)
		case 'z':
			b = append(b, "+0000"...)
		case 'Z':
			b = append(b, "UTC"...)
		case 's':
			b = appendPad(b, fnFloorDiv(us, microsPerSecond), 1)
		case 'F':
			b = appendYearPad(b, t.Year())
			b = append(b, '-')
			b = appendPad(b, int64(t.Month()), 2)
			b = append(b, '-')
			b = appendPad(b, int64(t.Day()), 2)
		case 'T':
			b = appendPad(b, int64(t.Hour()), 2)
			b = append(b, ':')
			b = appendPad(b, int64(t.Minute()), 2)
			b = append(b, ':')
			b = appendPad(b, int64(t.Second()), 2)
		case 'G':
			y, _ := t.ISOWeek()
			b = appendYearPad(b, y)
		case 'V':
			_, w := t.ISOWeek()
			b = appendPad(b, int64(w), 2)
		case '%':
			b = append(b, '%')
		default:
			return b, false
		}
	}
	return b, true
}

func appendYearPad(b []byte, y int) []byte {
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	return appendPad(b, int64(y), 4)
}

func fnFormatTimestampBuild(args []Arg) (Eval, error) {
	if c := args[1].Const; c != nil && !c.Null {
		if err := fnCheckFormat(c.B); err != nil {
			return nil, fmt.Errorf("FORMAT_TIMESTAMP: %v", err)
		}
	}
	return fnStrict2(func(e *Env, a, f Value) Value {
		start, b := e.Begin()
		b, ok := fnFormatTimestamp(b, a.I, f.B)
		if !ok {
			e.Fail(EvalErrorf("FORMAT_TIMESTAMP: %v", fnCheckFormat(f.B)))
			return Null
		}
		return e.End(start, b)
	})(args)
}

// fnParseNum reads between 1 and max decimal digits.
func fnParseNum(s []byte, i, maxDigits int) (int64, int, bool) {
	v, j, ok := digits(s, i, 1, maxDigits)
	return v, j, ok
}

// fnMatchName matches one of names (or its three-letter abbreviation when
// abbr), case-insensitively, at s[i:].
func fnMatchName(s []byte, i int, names []string, full bool) (int, int, bool) {
	for n, name := range names {
		if !full {
			name = name[:3]
		}
		if len(s)-i >= len(name) && fnEqualFold(s[i:i+len(name)], name) {
			return n, i + len(name), true
		}
	}
	return 0, i, false
}

// fnEqualFold compares ASCII text case-insensitively.
func fnEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if fnLowerASCII(b[i]) != fnLowerASCII(s[i]) {
			return false
		}
	}
	return true
}

// fnParseFormatted parses text with strftime directives into a timestamp.
// Fields the format lacks default to 1970-01-01 00:00:00.
func fnParseFormatted(s, f []byte) (int64, bool) {
	year, month, day, hour, minute, sec, frac, yday := int64(1970), int64(1), int64(1), int64(0), int64(0), int64(0), int64(0), int64(-1)
	var offset int64
	pm, hasPM, hasEpoch := false, false, false
	var epoch int64
	i := 0
	var ok bool
	for k := 0; k < len(f); k++ {
		c := f[k]
		if c == ' ' {
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
			continue
		}
		if c != '%' || k+1 == len(f) {
			if i >= len(s) || s[i] != c {
				return 0, false
			}
			i++
			continue
		}
		k++
		switch f[k] {
		case 'Y', 'G':
			year, i, ok = fnParseNum(s, i, 6)
		case 'y':
			if year, i, ok = fnParseNum(s, i, 2); year < 69 {
				year += 2000
			} else {
				year += 1900
			}
		case 'm':
			month, i, ok = fnParseNum(s, i, 2)
		case 'd', 'e':
			if f[k] == 'e' && i < len(s) && s[i] == ' ' {
				i++
			}
			day, i, ok = fnParseNum(s, i, 2)
		case 'H':
			hour, i, ok = fnParseNum(s, i, 2)
		case 'I':
			hour, i, ok = fnParseNum(s, i, 2)
			ok = ok && hour >= 1 && hour <= 12
			hasPM = true
		case 'p':
			ok = i+2 <= len(s)
			if ok {
				switch {
				case fnEqualFold(s[i:i+2], "AM"):
				case fnEqualFold(s[i:i+2], "PM"):
					pm = true
				default:
					ok = false
				}
				i += 2
			}
		case 'M':
			minute, i, ok = fnParseNum(s, i, 2)
		case 'S':
			sec, i, ok = fnParseNum(s, i, 2)
		case 'f', 'L':
			start := i
			frac = 0
			scale := int64(100_000)
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				frac += int64(s[i]-'0') * scale
				scale /= 10
				i++
			}
			ok = i > start && i-start <= 9
		case 'j':
			yday, i, ok = fnParseNum(s, i, 3)
		case 'a', 'A':
			_, i, ok = fnMatchName(s, i, fnDayNames[:], f[k] == 'A')
		case 'b', 'h', 'B':
			var m int
			m, i, ok = fnMatchName(s, i, fnMonthNames[:], f[k] == 'B')
			month = int64(m) + 1
		case 'u', 'w':
			_, i, ok = fnParseNum(s, i, 1)
		case 'V':
			_, i, ok = fnParseNum(s, i, 2)
		case 'z':
			switch {
			case i < len(s) && (s[i] == 'Z' || s[i] == 'z'):
				i++
				ok = true
			case i < len(s) && (s[i] == '+' || s[i] == '-'):
				neg := s[i] == '-'
				j := i + 1
				for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ':') {
					j++
				}
				offset, ok = parseOffset(s[i+1 : j])
				if neg {
					offset = -offset
				}
				i = j
			}
		case 'Z':
			for _, z := range []string{"UTC", "GMT", "Z"} {
				if len(s)-i >= len(z) && fnEqualFold(s[i:i+len(z)], z) {
					i, ok = i+len(z), true
					break
				}
			}
		case 's':
			neg := i < len(s) && s[i] == '-'
			if neg {
				i++
			}
			epoch, i, ok = fnParseNum(s, i, 12)
			if neg {
				epoch = -epoch
			}
			hasEpoch = true
		case 'F':
			if year, i, ok = fnParseNum(s, i, 6); ok && i < len(s) && s[i] == '-' {
				if month, i, ok = fnParseNum(s, i+1, 2); ok && i < len(s) && s[i] == '-' {
					day, i, ok = fnParseNum(s, i+1, 2)
				} else {
					ok = false
				}
			} else {
				ok = false
			}
		case 'T':
			if hour, i, ok = fnParseNum(s, i, 2); ok && i < len(s) && s[i] == ':' {
				if minute, i, ok = fnParseNum(s, i+1, 2); ok && i < len(s) && s[i] == ':' {
					sec, i, ok = fnParseNum(s, i+1, 2)
				} else {
					ok = false
				}
			} else {
				ok = false
			}
		case '%':
			ok = i < len(s) && s[i] == '%'
			i++
		default:
			return 0, false
		}
		if !ok {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	if hasEpoch {
		if epoch > math.MaxInt64/microsPerSecond || epoch < math.MinInt64/microsPerSecond {
			return 0, false
		}
		return epoch*microsPerSecond + frac, true
	}
	if hasPM {
		hour %= 12
		if pm {
			hour += 12
		}
	}
	if hour > 23 || minute > 59 || sec > 59 || month < 1 || month > 12 || day < 1 || day > 31 {
		return 0, false
	}
	var t time.Time
	if yday >= 0 {
		if yday < 1 || yday > 366 {
			return 0, false
		}
		t = time.Date(int(year), 1, int(yday), int(hour), int(minute), int(sec), 0, time.UTC)
		if t.Year() != int(year) {
			return 0, false
		}
	} else {
		t = time.Date(int(year), time.Month(month), int(day), int(hour), int(minute), int(sec), 0, time.UTC)
		if t.Day() != int(day) {
			return 0, false
		}
	}
	return fnMicros(t) + frac - offset, true
}

func fnToTimestampFormatBuild(args []Arg) (Eval, error) {
	if c := args[1].Const; c != nil && !c.Null {
		if err := fnCheckFormat(c.B); err != nil {
			return nil, fmt.Errorf("TO_TIMESTAMP: %v", err)
		}
	}
	return fnStrict2(func(e *Env, a, f Value) Value {
		us, ok := fnParseFormatted(a.B, f.B)
		if !ok {
			e.Fail(EvalErrorf("invalid timestamp %q for the format %q", a.B, f.B))
			return Null
		}
		return Value{I: us}
	})(args)
}

// fnMakeDate is the days since the epoch of a date, for MAKE_DATE and
// MAKE_TIMESTAMP; years below 1 are BC, as in PostgreSQL.
func fnMakeDate(e *Env, y, m, d int64) (int64, bool) {
	ay := y
	if y < 0 {
		ay = y + 1
	}
	t := time.Date(int(ay), time.Month(m), int(d), 0, 0, 0, 0, time.UTC)
	if y == 0 || m < 1 || m > 12 || d < 1 || t.Day() != int(d) {
		e.Fail(EvalErrorf("date field value out of range: %d-%02d-%02d", y, m, d))
		return 0, false
	}
	return fnFloorDiv(t.Unix(), 86400), true
}

func init() {
	const cat = "time"
	fnRegister("DATE_TRUNC", cat, "Truncates the timestamp to the start of its microsecond(s), millisecond(s), second, minute, hour, day, week (Monday), month, quarter, year, decade, century or millennium; the unit (any case, PostgreSQL's abbreviations accepted) must be a constant.",
		"DATE_TRUNC('hour', TIMESTAMP '2024-03-15 10:30:45.5')", "TIMESTAMP '2024-03-15 10:00:00'",
		fnSig(Timestamp, fnDateTruncBuild, Varchar, Timestamp))
	extractDoc := "A field of a TIMESTAMP, DATE, TIME or INTERVAL as a DOUBLE: year, quarter, month, week (ISO 8601), day, dow (0 = Sunday), isodow (1 = Monday ... 7), doy, isoyear, decade, century, millennium, hour, minute, second (with the fraction), millisecond(s) and microsecond(s) (within the minute, with the seconds), epoch (seconds since 1970-01-01, with the fraction). The field must be a constant; for an INTERVAL only epoch is supported, and DATE and TIME accept only the fields they have."
	extractSigs := func(fn string) []Signature {
		var sigs []Signature
		for _, k := range []Kind{Timestamp, Date, Time, Interval} {
			sigs = append(sigs, fnSig(Double, fnExtractBuild(fn, k), Varchar, k))
		}
		return sigs
	}
	fnRegister("EXTRACT", cat, extractDoc+" EXTRACT(field FROM x) is written EXTRACT('field', x) too.",
		"EXTRACT('second', TIMESTAMP '2024-03-15 10:30:45.5')", "45.5", extractSigs("EXTRACT")...)
	fnRegister("DATE_PART", cat, "The same as EXTRACT, with the field first as a string.",
		"DATE_PART('dow', TIMESTAMP '2024-03-17 00:00:00')", "0", extractSigs("DATE_PART")...)

	fromSeconds := fnSig(Timestamp, fnStrict1(func(e *Env, a Value) Value { return fnScaleToMicros(e, a.I, microsPerSecond) }), BigInt)
	fromDouble := fnSig(Timestamp, fnStrict1(func(e *Env, a Value) Value { return fnSecondsToMicros(e, a.F) }), Double)
	fnRegister("FROM_UNIXTIME", cat, "The timestamp of seconds since 1970-01-01 00:00:00 UTC; a DOUBLE keeps the fraction, rounded to the microsecond.",
		"FROM_UNIXTIME(1700000000)", "TIMESTAMP '2023-11-14 22:13:20'", fromSeconds, fromDouble)
	fnRegister("TIMESTAMP_MILLIS", cat, "The timestamp of milliseconds since 1970-01-01 00:00:00 UTC (not in PostgreSQL).",
		"TIMESTAMP_MILLIS(1700000000123)", "TIMESTAMP '2023-11-14 22:13:20.123'",
		fnSig(Timestamp, fnStrict1(func(e *Env, a Value) Value { return fnScaleToMicros(e, a.I, 1000) }), BigInt))
	fnRegister("TIMESTAMP_MICROS", cat, "The timestamp of microseconds since 1970-01-01 00:00:00 UTC (not in PostgreSQL).",
		"TIMESTAMP_MICROS(1700000000123456)", "TIMESTAMP '2023-11-14 22:13:20.123456'",
		fnSig(Timestamp, fnStrict1(func(_ *Env, a Value) Value { return a }), BigInt))
	fnRegister("TO_TIMESTAMP", cat, "TO_TIMESTAMP(seconds) is the timestamp of epoch seconds (as PostgreSQL's to_timestamp(double precision)); TO_TIMESTAMP(text) parses ISO 8601 / RFC 3339 text (a date, optionally a time after a space or T, fractional seconds and a zone Z or ±hh[:mm]); TO_TIMESTAMP(text, format) parses with the strftime directives of FORMAT_TIMESTAMP, a space in the format matching any run of spaces, and fields the format lacks defaulting to 1970-01-01 00:00:00. Text that does not parse is an error. (PostgreSQL's to_timestamp(text, text) takes its own template patterns instead.)",
		"TO_TIMESTAMP('15/03/2024 10:30', '%d/%m/%Y %H:%M')", "TIMESTAMP '2024-03-15 10:30:00'",
		fromDouble,
		fnSig(Timestamp, fnStrict1(func(e *Env, a Value) Value {
			us, ok := ParseTimestamp(a.B)
			if !ok {
				e.Fail(EvalErrorf("invalid input syntax for type timestamp: %q", a.B))
				return Null
			}
			return Value{I: us}
		}), Varchar),
		fnSig(Timestamp, fnToTimestampFormatBuild, Varchar, Varchar))
	fnRegister("FORMAT_TIMESTAMP", cat, "Formats the timestamp with strftime directives: %Y year, %y two-digit year, %m month, %d day, %e space-padded day, %H hour, %I 12-hour hour, %p AM/PM, %M minute, %S second, %f microseconds (6 digits), %L milliseconds (3 digits), %j day of the year, %a %A weekday name (abbreviated, full), %b %h %B month name, %u ISO weekday (1 = Monday), %w weekday (0 = Sunday), %G %V ISO year and week, %z +0000, %Z UTC, %s epoch seconds, %F = %Y-%m-%d, %T = %H:%M:%S, %% a percent sign. An unknown directive is an error.",
		"FORMAT_TIMESTAMP(TIMESTAMP '2024-03-15 10:30:45.5', '%Y/%m/%d %H:%M:%S.%f %a %b')", "'2024/03/15 10:30:45.500000 Fri Mar'",
		fnSig(Varchar, fnFormatTimestampBuild, Timestamp, Varchar))
	fnRegister("UNIX_SECONDS", cat, "Whole seconds since 1970-01-01 00:00:00 UTC, rounded down.",
		"UNIX_SECONDS(TIMESTAMP '2023-11-14 22:13:20.9')", "1700000000",
		fnSig(BigInt, fnStrict1(func(_ *Env, a Value) Value { return Value{I: fnFloorDiv(a.I, microsPerSecond)} }), Timestamp))
	fnRegister("UNIX_MILLIS", cat, "Whole milliseconds since 1970-01-01 00:00:00 UTC, rounded down.",
		"UNIX_MILLIS(TIMESTAMP '2023-11-14 22:13:20.123')", "1700000000123",
		fnSig(BigInt, fnStrict1(func(_ *Env, a Value) Value { return Value{I: fnFloorDiv(a.I, 1000)} }), Timestamp))
	fnRegister("UNIX_MICROS", cat, "Microseconds since 1970-01-01 00:00:00 UTC.",
		"UNIX_MICROS(TIMESTAMP '1970-01-01 00:00:01')", "1000000",
		fnSig(BigInt, fnStrict1(func(_ *Env, a Value) Value { return a }), Timestamp))
	fnRegister("MAKE_DATE", cat, "The date of a year, month and day; invalid dates are an error, and negative years are BC.",
		"MAKE_DATE(2024, 2, 29)", "DATE '2024-02-29'",
		fnSig(Date, fnStrict3(func(e *Env, y, m, d Value) Value {
			days, ok := fnMakeDate(e, y.I, m.I, d.I)
			if !ok {
				return Null
			}
			return Value{I: days}
		}), Integer, Integer, Integer))
	fnRegister("MAKE_TIMESTAMP", cat, "The timestamp of a year, month, day, hour, minute and seconds (with a fraction); invalid fields are an error.",
		"MAKE_TIMESTAMP(2024, 3, 15, 10, 30, 45.5)", "TIMESTAMP '2024-03-15 10:30:45.5'",
		fnSig(Timestamp, fnMakeTimestampBuild, Integer, Integer, Integer, Integer, Integer, Double))
}

func fnMakeTimestampBuild(args []Arg) (Eval, error) {
	if fnHasNullConst(args) {
		return fnNullEval, nil
	}
	var evals [6]Eval
	for i := range evals {
		evals[i] = args[i].Eval
	}
	return func(e *Env) Value {
		var v [6]Value
		for i, ev := range evals {
			if v[i] = ev(e); v[i].Null {
				return Null
			}
		}
		days, ok := fnMakeDate(e, v[0].I, v[1].I, v[2].I)
		if !ok {
			return Null
		}
		h, m, s := v[3].I, v[4].I, v[5].F
		if h < 0 || h > 23 || m < 0 || m > 59 || !(s >= 0 && s < 60) {
			e.Fail(EvalErrorf("time field value out of range: %d:%02d:%v", h, m, s))
			return Null
		}
		return Value{I: days*microsPerDay + (h*60+m)*60*microsPerSecond + int64(math.RoundToEven(s*1e6))}
	}, nil
}

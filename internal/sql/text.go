package sql

import (
	"bytes"
	"encoding/hex"
	"math"
	"strconv"
	"time"
)

// Text forms of values, as PostgreSQL prints them: what CAST(x AS VARCHAR)
// and || produce.

const (
	microsPerSecond = int64(1_000_000)
	microsPerDay    = 86_400 * microsPerSecond
)

// AppendText appends the text form of v, of kind k, to dst. NULL appends
// nothing.
func AppendText(dst []byte, k Kind, v Value) []byte {
	if v.Null {
		return dst
	}
	switch k {
	case Boolean:
		if v.I != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case Integer, BigInt:
		return strconv.AppendInt(dst, v.I, 10)
	case Double:
		return appendDouble(dst, v.F)
	case Varchar:
		return append(dst, v.B...)
	case Bytes:
		dst = append(dst, `\x`...)
		return hex.AppendEncode(dst, v.B)
	case Timestamp:
		return appendTimestamp(dst, v.I)
	case Date:
		return appendDate(dst, v.I)
	case Time:
		return appendClock(dst, v.I)
	case Interval:
		return appendInterval(dst, v.I)
	}
	return append(dst, v.B...)
}

// appendDouble prints a float8 as PostgreSQL does (shortest round-trip
// digits, exponent form below 1e-4 and from 1e15).
func appendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	// The decimal exponent of the shortest form decides, as in PostgreSQL;
	// math.Log10 would be off by one at powers of ten (Log10(1e15) <
	// 15).
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	exp := 0
	i := bytes.IndexByte(e, 'e')
	for _, c := range e[i+2:] {
		exp = exp*10 + int(c-'0')
	}
	if e[i+1] == '-' {
		exp = -exp
	}
	if exp < -4 || exp >= 15 {
		return append(dst, e...)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// civil splits microseconds since the epoch into a UTC time.
func civil(us int64) time.Time {
	return time.Unix(floorDiv(us, microsPerSecond), (us-floorDiv(us, microsPerSecond)*microsPerSecond)*1000).UTC()
}

func appendTimestamp(dst []byte, us int64) []byte {
	t := civil(us)
	dst = appendYMD(dst, t.Year(), int(t.Month()), t.Day())
	dst = append(dst, ' ')
	return appendClock(dst, us-floorDiv(us, microsPerDay)*microsPerDay)
}

func appendDate(dst []byte, days int64) []byte {
	t := time.Unix(days*86400, 0).UTC()
	return appendYMD(dst, t.Year(), int(t.Month()), t.Day())
}

func appendYMD(dst []byte, y, m, d int) []byte {
	if y < 0 {
		dst = append(dst, '-')
		y = -y
	}
	dst = appendPad(dst, int64(y), 4)
	dst = append(dst, '-')
	dst = appendPad(dst, int64(m), 2)
	dst = append(dst, '-')
	return appendPad(dst, int64(d), 2)
}

// appendClock prints microseconds within a day as HH:MM:SS[.ffffff], the
// fraction without trailing zeros.
func appendClock(dst []byte, us int64) []byte {
	s := us / microsPerSecond
	frac := us % microsPerSecond
	dst = appendPad(dst, s/3600, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, s/60%60, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, s%60, 2)
	if frac != 0 {
		dst = append(dst, '.')
		digits := 6
		for frac%10 == 0 {
			frac /= 10
			digits--
		}
		dst = appendPad(dst, frac, digits)
	}
	return dst
}

func appendPad(dst []byte, n int64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], n, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendInterval prints an interval as PostgreSQL does: "1 day 02:00:00",
// "00:05:00", "-00:00:01.5".
func appendInterval(dst []byte, us int64) []byte {
	if us < 0 {
		if us == math.MinInt64 {
			return append(dst, "-106751991 days -04:00:54.775808"...)
		}
		dst = append(dst, '-')
		us = -us
	}
	days := us / microsPerDay
	rest := us % microsPerDay
	if days > 0 {
		dst = strconv.AppendInt(dst, days, 10)
		if days == 1 {
			dst = append(dst, " day"...)
		} else {
			dst = append(dst, " days"...)
		}
		if rest == 0 {
			return dst
		}
		dst = append(dst, ' ')
	}
	return appendClock(dst, rest)
}

// ParseTimestamp parses the text of a timestamp: a date, optionally with a
// time (separated by a space or T), fractional seconds, and a zone (Z or
// ±hh[:mm]); without a zone the time is UTC. It returns microseconds since
// the epoch.
func ParseTimestamp(b []byte) (int64, bool) {
	b = bytes.TrimSpace(b)
	days, n, ok := parseYMD(b)
	if !ok {
		return 0, false
	}
	b = b[n:]
	if len(b) == 0 {
		return days * microsPerDay, true
	}
	if b[0] != ' ' && b[0] != 'T' && b[0] != 't' {
		return 0, false
	}
	clock, n, ok := parseClock(b[1:])
	if !ok {
		return 0, false
	}
	b = bytes.TrimLeft(b[1+n:], " ")
	us := days*microsPerDay + clock
	switch {
	case len(b) == 0:
	case len(b) == 1 && (b[0] == 'Z' || b[0] == 'z'):
	case b[0] == '+' || b[0] == '-':
		off, ok := parseOffset(b[1:])
		if !ok {
			return 0, false
		}
		if b[0] == '+' {
			off = -off
		}
		us += off
	case string(b) == "UTC":
	default:
		return 0, false
	}
	return us, true
}

// ParseDate parses YYYY-MM-DD into days since the epoch.
func ParseDate(b []byte) (int64, bool) {
	b = bytes.TrimSpace(b)
	days, n, ok := parseYMD(b)
	return days, ok && n == len(b)
}

// ParseTime parses HH:MM[:SS[.ffffff]] into microseconds after midnight.
func ParseTime(b []byte) (int64, bool) {
	b = bytes.TrimSpace(b)
	us, n, ok := parseClock(b)
	return us, ok && n == len(b)
}

func parseYMD(b []byte) (days int64, n int, ok bool) {
	y, i, ok := digits(b, 0, 4, 6)
	if !ok || i >= len(b) || b[i] != '-' {
		return 0, 0, false
	}
	m, j, ok := digits(b, i+1, 1, 2)
	if !ok || j >= len(b) || b[j] != '-' {
		return 0, 0, false
	}
	d, k, ok := digits(b, j+1, 1, 2)
	if !ok || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, 0, false
	}
	t := time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC)
	if t.Day() != int(d) { // February 30th and the like
		return 0, 0, false
	}
	return floorDiv(t.Unix(), 86400), k, true
}

func parseClock(b []byte) (us int64, n int, ok bool) {
	h, i, ok := digits(b, 0, 1, 2)
	if !ok || i >= len(b) || b[i] != ':' {
		return 0, 0, false
	}
	m, j, ok := digits(b, i+1, 2, 2)
	if !ok {
		return 0, 0, false
	}
	var s int64
	k := j
	if k < len(b) && b[k] == ':' {
		if s, k, ok = digits(b, k+1, 2, 2); !ok {
			return 0, 0, false
		}
	}
	var frac int64
	if k < len(b) && b[k] == '.' && s >= 0 {
		start := k + 1
		k = start
		scale := int64(100_000)
		for k < len(b) && b[k] >= '0' && b[k] <= '9' {
			frac += int64(b[k]-'0') * scale
			scale /= 10
			k++
		}
		if k == start {
			return 0, 0, false
		}
	}
	if h > 24 || m > 59 || s > 60 || (h == 24 && (m != 0 || s != 0 || frac != 0)) {
		return 0, 0, false
	}
	return ((h*60+m)*60+s)*microsPerSecond + frac, k, true
}

func parseOffset(b []byte) (int64, bool) {
	h, i, ok := digits(b, 0, 2, 2)
	if !ok {
		return 0, false
	}
	var m int64
	if i < len(b) && b[i] == ':' {
		i++
	}
	if i < len(b) {
		if m, i, ok = digits(b, i, 2, 2); !ok {
			return 0, false
		}
	}
	if i != len(b) || h > 15 || m > 59 {
		return 0, false
	}
	return (h*60 + m) * 60 * microsPerSecond, true
}

// digits reads between lo and hi decimal digits at b[i:].
func digits(b []byte, i, lo, hi int) (int64, int, bool) {
	var v int64
	j := i
	for j < len(b) && j-i < hi && b[j] >= '0' && b[j] <= '9' {
		v = v*10 + int64(b[j]-'0')
		j++
	}
	return v, j, j-i >= lo
}

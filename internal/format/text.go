package format

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// jsonSafe reports the ASCII bytes a JSON string holds as they are: all
// but the control characters, '"' and '\'. '<', '>' and '&' are not
// escaped: the output is data for machines, not HTML.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// needsCare reports whether any of the 8 bytes of w is a control character,
// '"', '\' or not ASCII: whether the word must go through the byte loop.
func needsCare(w uint64) bool {
	// A byte below 0x20, or a zero byte after XOR with '"' or '\', shows
	// as a set top bit in (x - 0x01..) &^ x; a non-ASCII byte has its own.
	ctl := (w - 0x20*lsb) &^ w
	quote := w ^ '"'*lsb
	quote = (quote - lsb) &^ quote
	bslash := w ^ '\\'*lsb
	bslash = (bslash - lsb) &^ bslash
	return (ctl|quote|bslash|w)&msb != 0
}

// appendString appends s as a JSON string. Quotes, backslashes and control
// characters are escaped (control characters as \u00XX, or \n, \r, \t, \b,
// \f); bytes that are not valid UTF-8 become U+FFFD, and U+2028 and U+2029
// are escaped, as encoding/json does. Runs of bytes that need nothing are
// copied whole, and found 8 bytes at a time.
func appendString(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	i := 0
	for i < len(s) {
		if i+8 <= len(s) && !needsCare(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const (
	microsPerSecond = int64(1_000_000)
	microsPerDay    = 86_400 * microsPerSecond
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// civil converts days since the Unix epoch to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil, inverted): no time.Time, no tables.
func civil(days int64) (y int64, m, d int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100) // [0, 365]
	mp := (5*doy + 2) / 153                  // [0, 11], from March
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// appendYMD appends YYYY-MM-DD; years outside 0000-9999 get a '-' or more
// digits, as ISO 8601's expanded form (and internal/sql's text form).
func appendYMD(dst []byte, days int64) []byte {
	y, m, d := civil(days)
	if y < 0 {
		dst = append(dst, '-')
		y = -y
	}
	if y < 10000 {
		dst = append2(dst, int(y/100))
		dst = append2(dst, int(y%100))
	} else {
		dst = strconv.AppendInt(dst, y, 10)
	}
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	return append2(dst, d)
}

// append2 appends 0 <= n < 100 as two digits.
func append2(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

// appendClock appends microseconds within a day as HH:MM:SS[.ffffff], the
// fraction without trailing zeros.
func appendClock(dst []byte, us int64) []byte {
	s := us / microsPerSecond
	frac := us % microsPerSecond
	dst = append2(dst, int(s/3600))
	dst = append(dst, ':')
	dst = append2(dst, int(s/60%60))
	dst = append(dst, ':')
	dst = append2(dst, int(s%60))
	return appendFraction(dst, frac)
}

// appendFraction appends .ffffff for 0 < frac < 1e6 microseconds, without
// trailing zeros; nothing for 0.
func appendFraction(dst []byte, frac int64) []byte {
	if frac == 0 {
		return dst
	}
	var buf [7]byte
	buf[0] = '.'
	for i := 6; i >= 1; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 7
	for buf[n-1] == '0' {
		n--
	}
	return append(dst, buf[:n]...)
}

// appendTimestamp appends an RFC 3339 string in UTC: "2026-11-26T15:04:05Z",
// with ".123456" (trailing zeros trimmed) when the fraction is not zero.
func appendTimestamp(dst []byte, us int64) []byte {
	days := floorDiv(us, microsPerDay)
	dst = append(dst, '"')
	dst = appendYMD(dst, days)
	dst = append(dst, 'T')
	dst = appendClock(dst, us-days*microsPerDay)
	return append(dst, 'Z', '"')
}

// appendDate appends "YYYY-MM-DD".
func appendDate(dst []byte, days int64) []byte {
	dst = append(dst, '"')
	dst = appendYMD(dst, days)
	return append(dst, '"')
}

// appendTime appends "HH:MM:SS[.ffffff]"; a value outside a day (only
// corrupt or computed data) is taken modulo a day.
func appendTime(dst []byte, us int64) []byte {
	if us < 0 || us >= microsPerDay {
		us -= floorDiv(us, microsPerDay) * microsPerDay
	}
	dst = append(dst, '"')
	dst = appendClock(dst, us)
	return append(dst, '"')
}

// appendInterval appends an ISO 8601 duration: "PT5M", "P1DT2H",
// "PT0.5S", "PT0S", with a leading '-' when negative ("-PT1S"). A day is
// exactly 24 hours (Sluice intervals are exact microseconds).
func appendInterval(dst []byte, us int64) []byte {
	dst = append(dst, '"')
	if us == 0 {
		return append(dst, `PT0S"`...)
	}
	u := uint64(us)
	if us < 0 {
		dst = append(dst, '-')
		u = -u // also right for math.MinInt64
	}
	const day, hour, minute, second = uint64(microsPerDay), uint64(3600 * microsPerSecond), uint64(60 * microsPerSecond), uint64(microsPerSecond)
	dst = append(dst, 'P')
	if d := u / day; d > 0 {
		dst = strconv.AppendUint(dst, d, 10)
		dst = append(dst, 'D')
	}
	rest := u % day
	if rest == 0 {
		return append(dst, '"')
	}
	dst = append(dst, 'T')
	if h := rest / hour; h > 0 {
		dst = strconv.AppendUint(dst, h, 10)
		dst = append(dst, 'H')
	}
	if m := rest % hour / minute; m > 0 {
		dst = strconv.AppendUint(dst, m, 10)
		dst = append(dst, 'M')
	}
	if s := rest % minute; s > 0 {
		dst = strconv.AppendUint(dst, s/second, 10)
		dst = appendFraction(dst, int64(s%second))
		dst = append(dst, 'S')
	}
	return append(dst, '"')
}

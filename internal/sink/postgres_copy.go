package sink

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/sql"
)

// pgCopyRows turns the records of the JSON format (docs/formats.md), one
// object per record, into rows of COPY's text format: one value per
// result column, in column order, tab-separated, each row ending in a
// newline. PostgreSQL then reads every value with the column type's own
// input function, as it would read a literal, so the conversion here is
// only the few things the JSON text and PostgreSQL's input syntax
// disagree on:
//
//   - strings lose their JSON escapes and get COPY's (\\, \t, \n, \r);
//   - BYTES, base64 in JSON, become bytea's hex form (\\x0001…);
//   - TIMESTAMP and DATE years before 1 AD, which JSON writes in ISO 8601's
//     expanded form ("-0001-03-01"), get PostgreSQL's BC suffix;
//   - a negative INTERVAL ("-P1DT2H") has the sign moved onto each
//     component ("P-1DT-2H"), which is what PostgreSQL accepts;
//   - U+0000, which no PostgreSQL text or jsonb value can hold, becomes
//     U+FFFD (as the JSON format does with invalid UTF-8);
//   - arrays, maps and records are kept as their JSON text, for jsonb.
//
// Numbers pass through as written, so 64-bit integers stay exact and
// doubles keep every digit (-0 included); null is \N. A key that is not a
// result column is ignored and a missing one is NULL.
//
// A pgCopyRows is used by one Write at a time.
type pgCopyRows struct {
	kinds []sql.Kind
	// keys are the column names as JSON writes them (escaped, without
	// the quotes): the fast path, as records name the columns in order.
	keys   [][]byte
	byName map[string]int
	// spans[i] is the value of column i in the record being read: start
	// and end in it, start -1 when absent, and whether it is a string
	// with escapes.
	spans []pgSpan
	str   []byte // scratch for an unescaped string
	bin   []byte // scratch for decoded bytes
	out   []byte // the rows of a batch, for the writer
}

func newPGCopyRows(kinds []sql.Kind, names []string) *pgCopyRows {
	p := &pgCopyRows{kinds: kinds, byName: make(map[string]int, len(names)), spans: make([]pgSpan, len(names))}
	for i, n := range names {
		p.keys = append(p.keys, pgAppendJSONEscaped(nil, n))
		if _, dup := p.byName[n]; !dup {
			p.byName[n] = i
		}
	}
	return p
}

type pgSpan struct {
	start, end int
	esc        bool
}

// pgAppendJSONEscaped escapes s as the JSON format escapes column names
// (for the fast path only: a key escaped otherwise is still found).
func pgAppendJSONEscaped(dst []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r < 0x20 || r == '\u2028' || r == '\u2029':
			dst = fmt.Appendf(dst, `\u%04x`, r)
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// pgErrJSON says a record is not the JSON the sink expects.
type pgErrJSON struct {
	at  int
	msg string
}

func (e *pgErrJSON) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.at) }

func pgJSONErr(at int, msg string) error { return &pgErrJSON{at: at, msg: msg} }

// appendRow appends rec, one JSON object, as a row of COPY text, with
// prefix before its first value (a staging table's ordinal); the error
// says what is wrong with the record, naming the column when it is one
// value.
func (p *pgCopyRows) appendRow(dst, prefix, rec []byte) ([]byte, error) {
	for i := range p.spans {
		p.spans[i].start = -1
	}
	i := pgSkipSpace(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return dst, pgJSONErr(i, "not a JSON object")
	}
	i = pgSkipSpace(rec, i+1)
	next := 0 // the column the next key names, if in order
	if i < len(rec) && rec[i] == '}' {
		i++
	} else {
		for {
			if i >= len(rec) || rec[i] != '"' {
				return dst, pgJSONErr(i, "want a key")
			}
			col := -1
			var kend int
			if next < len(p.keys) && bytes.HasPrefix(rec[i+1:], p.keys[next]) && i+1+len(p.keys[next]) < len(rec) && rec[i+1+len(p.keys[next])] == '"' {
				// The column after the previous one, as the JSON format
				// writes them (a key written escaped ends with its escape,
				// so the quote after it closes the string).
				col, kend = next, i+2+len(p.keys[next])
			} else {
				end, esc, err := pgScanString(rec, i)
				if err != nil {
					return dst, err
				}
				kend = end
				key := rec[i+1 : end-1]
				if esc {
					p.str = pgAppendUnescaped(p.str[:0], key, false)
					key = p.str
				}
				if c, ok := p.byName[string(key)]; ok {
					col = c
				}
			}
			i = pgSkipSpace(rec, kend)
			if i >= len(rec) || rec[i] != ':' {
				return dst, pgJSONErr(i, "want ':'")
			}
			i = pgSkipSpace(rec, i+1)
			vend, esc, err := pgScanValue(rec, i)
			if err != nil {
				return dst, err
			}
			if col >= 0 {
				p.spans[col] = pgSpan{i, vend, esc}
				next = col + 1
			}
			i = pgSkipSpace(rec, vend)
			if i < len(rec) && rec[i] == ',' {
				i = pgSkipSpace(rec, i+1)
				continue
			}
			if i < len(rec) && rec[i] == '}' {
				i++
				break
			}
			return dst, pgJSONErr(i, "want ',' or '}'")
		}
	}
	if i = pgSkipSpace(rec, i); i != len(rec) {
		return dst, pgJSONErr(i, "more after the object")
	}
	dst = append(dst, prefix...)
	for c, sp := range p.spans {
		if c > 0 {
			dst = append(dst, '\t')
		}
		if sp.start < 0 {
			dst = append(dst, `\N`...)
			continue
		}
		var err error
		if dst, err = p.appendValue(dst, p.kinds[c], rec[sp.start:sp.end], sp.esc); err != nil {
			return dst, fmt.Errorf("column %s: %w", p.keys[c], err)
		}
	}
	return append(dst, '\n'), nil
}

// appendValue appends one JSON value, v, as COPY text for a column of
// kind k; esc says v is a string with escapes.
func (p *pgCopyRows) appendValue(dst []byte, k sql.Kind, v []byte, esc bool) ([]byte, error) {
	switch v[0] {
	case 'n':
		return append(dst, `\N`...), nil
	case '{', '[':
		return pgAppendCopyJSON(dst, v), nil
	case '"':
	default: // a number, true or false: as written
		return append(dst, v...), nil
	}
	s := v[1 : len(v)-1]
	switch k {
	case sql.Bytes:
		if esc {
			p.str = pgAppendUnescaped(p.str[:0], s, false)
			s = p.str
		}
		n := base64.StdEncoding.DecodedLen(len(s))
		if cap(p.bin) < n {
			p.bin = make([]byte, n)
		}
		n, err := base64.StdEncoding.Decode(p.bin[:n], s)
		if err != nil {
			return dst, errors.New("BYTES value is not base64")
		}
		dst = append(dst, `\\x`...)
		const hex = "0123456789abcdef"
		for _, b := range p.bin[:n] {
			dst = append(dst, hex[b>>4], hex[b&15])
		}
		return dst, nil
	case sql.Timestamp, sql.Date:
		// Years before 1 AD: ISO 8601 counts a year 0 (1 BC) and
		// writes the others with a '-'; PostgreSQL wants "BC".
		if len(s) > 4 && (s[0] == '-' || string(s[:4]) == "0000") {
			neg := s[0] == '-'
			if neg {
				s = s[1:]
			}
			end := bytes.IndexByte(s, '-')
			y, err := strconv.ParseInt(string(s[:max(end, 0)]), 10, 64)
			if end < 4 || err != nil {
				return dst, fmt.Errorf("%s value %q is not ISO 8601", k, v)
			}
			if neg {
				y = -y
			}
			dst = fmt.Appendf(dst, "%04d", 1-y)
			dst = append(dst, s[end:]...)
			return append(dst, " BC"...), nil
		}
	case sql.Interval:
		if len(s) > 1 && s[0] == '-' && s[1] == 'P' {
			// Every component negative: "-P1DT0.5S" is "P-1DT-0.5S".
			dst = append(dst, 'P')
			for j := 2; j < len(s); j++ {
				c := s[j]
				if (c >= '0' && c <= '9') && (s[j-1] == 'P' || s[j-1] == 'T' || s[j-1] > '9') {
					dst = append(dst, '-')
				}
				dst = append(dst, c)
			}
			return dst, nil
		}
	}
	if !esc { // no escapes, and no control characters (pgScanString)
		return append(dst, s...), nil
	}
	return pgAppendUnescaped(dst, s, true), nil
}

// pgAppendUnescaped appends the JSON string content s without its escapes
// and, with copyEscape, with COPY's; U+0000 becomes U+FFFD.
func pgAppendUnescaped(dst, s []byte, copyEscape bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			if copyEscape && (c == '\t' || c == '\n' || c == '\r') {
				dst = pgAppendCopyByte(dst, c)
				i++
				continue
			}
			// Copy the run up to a backslash or a COPY special at once.
			j := i + 1
			for j < len(s) && s[j] != '\\' && (!copyEscape || (s[j] != '\t' && s[j] != '\n' && s[j] != '\r')) {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(s) {
			return append(dst, c)
		}
		e := s[i+1]
		i += 2
		var r rune
		switch e {
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			r = pgHex4(s, i)
			if r < 0 {
				r = utf8.RuneError
			} else {
				i += 4
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = pgHex4(s, i+2)
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
			}
			if r == 0 {
				r = utf8.RuneError
			}
		default: // '"', '\\', '/'
			r = rune(e)
		}
		if copyEscape && (r == '\\' || r == '\t' || r == '\n' || r == '\r') {
			dst = pgAppendCopyByte(dst, byte(r))
		} else {
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// pgAppendCopyByte appends c escaped for COPY's text format.
func pgAppendCopyByte(dst []byte, c byte) []byte {
	switch c {
	case '\\':
		return append(dst, '\\', '\\')
	case '\t':
		return append(dst, '\\', 't')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	}
	return append(dst, c)
}

// pgAppendCopyJSON appends JSON text v for a jsonb column: COPY-escaped,
// and with \u0000 (which jsonb refuses) as \ufffd.
func pgAppendCopyJSON(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case '\\':
			if i+5 < len(v) && v[i+1] == 'u' && string(v[i+2:i+6]) == "0000" {
				dst = append(dst, `\\ufffd`...)
				i += 5
				continue
			}
			// An escape: both bytes, so that an escaped backslash is not
			// taken for the start of another escape.
			dst = append(dst, '\\', '\\')
			if i+1 < len(v) {
				i++
				dst = pgAppendCopyByte(dst, v[i])
			}
		case '\t', '\n', '\r':
			dst = pgAppendCopyByte(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func pgHex4(s []byte, i int) rune {
	if i+4 > len(s) {
		return -1
	}
	var r rune
	for _, c := range s[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return -1
		}
	}
	return r
}

func pgSkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// pgScanString returns the end (after the closing quote) of the string
// starting at b[i], a '"', and whether it holds escapes.
func pgScanString(b []byte, i int) (end int, esc bool, err error) {
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		if !pgStringSpecial[c] {
			continue
		}
		switch {
		case c == '"':
			return j + 1, esc, nil
		case c == '\\':
			esc = true
			j++
		default:
			return 0, false, pgJSONErr(j, "control character in a string")
		}
	}
	return 0, false, pgJSONErr(len(b), "unterminated string")
}

// pgStringSpecial marks the bytes that end a run of plain string
// characters: '"', '\\' and control characters.
var pgStringSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// pgScanValue returns the end of the JSON value starting at b[i], and
// whether it is a string with escapes. Nested values are checked for
// balanced brackets and well-formed strings, and scalars for their
// characters; PostgreSQL checks the rest.
func pgScanValue(b []byte, i int) (end int, esc bool, err error) {
	if i >= len(b) {
		return 0, false, pgJSONErr(i, "want a value")
	}
	switch c := b[i]; {
	case c == '"':
		return pgScanString(b, i)
	case c == '{' || c == '[':
		var buf [64]byte
		stack := buf[:0]
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, err := pgScanString(b, j)
				if err != nil {
					return 0, false, err
				}
				j = end - 1
			case '{', '[':
				stack = append(stack, b[j])
			case '}', ']':
				open := byte('{')
				if b[j] == ']' {
					open = '['
				}
				if len(stack) == 0 || stack[len(stack)-1] != open {
					return 0, false, pgJSONErr(j, "unbalanced brackets")
				}
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return j + 1, false, nil
				}
			}
		}
		return 0, false, pgJSONErr(len(b), "unterminated value")
	case c == '-' || (c >= '0' && c <= '9'):
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		return j, false, nil
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(b[i:], []byte(lit)) {
				return i + len(lit), false, nil
			}
		}
	}
	return 0, false, pgJSONErr(i, "want a value")
}

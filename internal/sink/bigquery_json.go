package sink

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file converts the JSON records into the protocol buffer rows
// BigQuery takes, straight from bytes to bytes: a small JSON reader
// (bqJSON) hands each value to the converter of its column, which
// appends the field's wire encoding. Nothing is decoded into Go values
// on the way, so a row costs a few allocations at most.

// bqJSON reads one JSON text. It is not safe for concurrent use.
type bqJSON struct {
	b   []byte
	i   int
	esc []byte // a string with escapes, unescaped; reused
	tmp []byte // scratch of the converters; reused
}

func (j *bqJSON) reset(b []byte) { j.b, j.i = b, 0 }

// peek skips white space and returns the next byte, 0 at the end.
func (j *bqJSON) peek() byte {
	for j.i < len(j.b) {
		switch c := j.b[j.i]; c {
		case ' ', '\t', '\n', '\r':
			j.i++
		default:
			return c
		}
	}
	return 0
}

func (j *bqJSON) syntax(want string) error {
	if j.i >= len(j.b) {
		return fmt.Errorf("invalid JSON: %s at the end of the record", want)
	}
	return fmt.Errorf("invalid JSON: %s at byte %d", want, j.i)
}

func (j *bqJSON) expect(c byte) error {
	if j.peek() != c {
		return j.syntax(fmt.Sprintf("expected %q", c))
	}
	j.i++
	return nil
}

// null consumes a null if one comes next.
func (j *bqJSON) null() bool {
	if j.peek() == 'n' && bytes.HasPrefix(j.b[j.i:], []byte("null")) {
		j.i += 4
		return true
	}
	return false
}

// next steps through the elements of an array or the members of an
// object whose opening bracket was read: it reports whether another
// comes (consuming the comma before it), or consumes the closing bracket.
func (j *bqJSON) next(closing byte, first bool) (bool, error) {
	c := j.peek()
	switch {
	case c == closing:
		j.i++
		return false, nil
	case first:
		return true, nil
	case c == ',':
		j.i++
		return true, nil
	}
	return false, j.syntax(fmt.Sprintf("expected ',' or %q", closing))
}

// str reads a string and returns its content: a view of the record, or of
// j.esc when it has escapes or bytes that are not UTF-8 (replaced by
// U+FFFD, as encoding/json does); valid until the next call.
func (j *bqJSON) str() ([]byte, error) {
	if j.peek() != '"' {
		return nil, j.syntax("expected a string")
	}
	j.i++
	start := j.i
	ascii := true
	for j.i < len(j.b) {
		switch c := j.b[j.i]; {
		case c == '"':
			s := j.b[start:j.i]
			j.i++
			if !ascii && !utf8.Valid(s) {
				j.esc = bqAppendValid(j.esc[:0], s)
				return j.esc, nil
			}
			return s, nil
		case c == '\\':
			return j.unescape(start)
		case c < 0x20:
			return nil, j.syntax("a control character in a string")
		case c >= 0x80:
			ascii = false
		}
		j.i++
	}
	return nil, j.syntax("an unterminated string")
}

// unescape reads the rest of a string from its first backslash.
func (j *bqJSON) unescape(start int) ([]byte, error) {
	out := bqAppendValid(j.esc[:0], j.b[start:j.i])
	for j.i < len(j.b) {
		c := j.b[j.i]
		switch {
		case c == '"':
			j.i++
			j.esc = out
			return out, nil
		case c < 0x20:
			return nil, j.syntax("a control character in a string")
		case c != '\\':
			r, n := utf8.DecodeRune(j.b[j.i:])
			out = utf8.AppendRune(out, r) // RuneError (U+FFFD) for a bad byte
			j.i += n
			continue
		}
		if j.i+1 >= len(j.b) {
			break
		}
		e := j.b[j.i+1]
		j.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := j.hex4()
			if !ok {
				return nil, j.syntax(`a bad \u escape`)
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if save := j.i; bytes.HasPrefix(j.b[j.i:], []byte(`\u`)) {
					j.i += 2
					if lo, ok := j.hex4(); ok {
						r2 = utf16.DecodeRune(r, lo)
					}
					if r2 == utf8.RuneError {
						j.i = save // not a pair: the next escape stands alone
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, j.syntax("a bad escape")
		}
	}
	return nil, j.syntax("an unterminated string")
}

func (j *bqJSON) hex4() (rune, bool) {
	if j.i+4 > len(j.b) {
		return 0, false
	}
	var r rune
	for _, c := range j.b[j.i : j.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	j.i += 4
	return r, true
}

// bqAppendValid appends s with each byte that is not part of a UTF-8
// sequence replaced by U+FFFD.
func bqAppendValid(dst, s []byte) []byte {
	for len(s) > 0 {
		if s[0] < utf8.RuneSelf {
			dst = append(dst, s[0])
			s = s[1:]
			continue
		}
		r, n := utf8.DecodeRune(s)
		dst = utf8.AppendRune(dst, r)
		s = s[n:]
	}
	return dst
}

// num reads a number and returns its text.
func (j *bqJSON) num() ([]byte, error) {
	j.peek()
	start := j.i
	digits := func() int {
		n := 0
		for j.i < len(j.b) && j.b[j.i] >= '0' && j.b[j.i] <= '9' {
			j.i++
			n++
		}
		return n
	}
	if j.i < len(j.b) && j.b[j.i] == '-' {
		j.i++
	}
	ok := digits() > 0
	if ok && j.i < len(j.b) && j.b[j.i] == '.' {
		j.i++
		ok = digits() > 0
	}
	if ok && j.i < len(j.b) && (j.b[j.i] == 'e' || j.b[j.i] == 'E') {
		j.i++
		if j.i < len(j.b) && (j.b[j.i] == '+' || j.b[j.i] == '-') {
			j.i++
		}
		ok = digits() > 0
	}
	if !ok {
		j.i = start
		return nil, j.syntax("expected a number")
	}
	return j.b[start:j.i], nil
}

func (j *bqJSON) boolean() (bool, error) {
	switch j.peek() {
	case 't':
		if bytes.HasPrefix(j.b[j.i:], []byte("true")) {
			j.i += 4
			return true, nil
		}
	case 'f':
		if bytes.HasPrefix(j.b[j.i:], []byte("false")) {
			j.i += 5
			return false, nil
		}
	}
	return false, j.syntax("expected true or false")
}

// raw reads one value and returns its text, as it is in the record.
func (j *bqJSON) raw() ([]byte, error) {
	c := j.peek()
	start := j.i
	var err error
	switch c {
	case '"':
		_, err = j.str()
	case '{', '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		j.i++
		for first := true; ; first = false {
			var more bool
			if more, err = j.next(closing, first); err != nil || !more {
				break
			}
			if c == '{' {
				if _, err = j.str(); err == nil {
					err = j.expect(':')
				}
				if err != nil {
					break
				}
			}
			if _, err = j.raw(); err != nil {
				break
			}
		}
	case 't', 'f':
		_, err = j.boolean()
	case 'n':
		if !j.null() {
			err = j.syntax("expected a value")
		}
	default:
		_, err = j.num()
	}
	if err != nil {
		return nil, err
	}
	return j.b[start:j.i], nil
}

// bqCloseMessage writes the length of a message field's content, which
// follows the one byte reserved for it at dst[at].
func bqCloseMessage(dst []byte, at int) []byte {
	n := len(dst) - at - 1
	if n < 0x80 {
		dst[at] = byte(n)
		return dst
	}
	k := protowire.SizeVarint(uint64(n))
	for range k - 1 {
		dst = append(dst, 0)
	}
	copy(dst[at+k:], dst[at+1:at+1+n])
	protowire.AppendVarint(dst[at:at], uint64(n))
	return dst
}

// bqEntryKey reads back the key of a map entry being written (field 1,
// the first thing in the entry), for an error message.
func bqEntryKey(entry []byte) string {
	_, _, n := protowire.ConsumeTag(entry)
	if n < 0 {
		return ""
	}
	k, m := protowire.ConsumeBytes(entry[n:])
	if m < 0 {
		return ""
	}
	return string(k)
}

// fill reads the members of a JSON object whose '{' was read, up to its
// '}', appending the fields of the record's message.
func (r *bqRecord) fill(j *bqJSON, dst []byte) ([]byte, error) {
	var seenBuf, setBuf [64]bool
	var seen, set []bool
	if len(r.all) <= len(seenBuf) {
		seen, set = seenBuf[:len(r.all)], setBuf[:len(r.all)]
	} else {
		seen, set = make([]bool, len(r.all)), make([]bool, len(r.all))
	}
	for first := true; ; first = false {
		more, err := j.next('}', first)
		if err != nil {
			return dst, err
		}
		if !more {
			break
		}
		key, err := j.str()
		if err != nil {
			return dst, err
		}
		f := r.fields[string(key)]
		switch {
		case f == nil && r.path == "":
			return dst, fmt.Errorf("the record has a key %q that is not a result column", key)
		case f == nil:
			return dst, fmt.Errorf("%s: the record has a field %q that its type does not", r.path, key)
		case seen[f.idx]:
			return dst, fmt.Errorf("the key %q comes twice", key)
		}
		seen[f.idx] = true
		if err := j.expect(':'); err != nil {
			return dst, err
		}
		switch {
		case f.omit:
			if !j.null() {
				return dst, &bqValueError{path: f.path, err: errors.New("a value where the query's type says NULL")}
			}
		case f.list:
			if dst, err = bqList(j, dst, f); err != nil {
				return dst, err
			}
		default:
			var null bool
			if dst, null, err = f.conv(j, dst, f); err != nil {
				return dst, bqValueErr(f, err)
			}
			set[f.idx] = !null
		}
	}
	for i, ok := range seen {
		if !ok {
			if r.path == "" {
				return dst, fmt.Errorf("the record lacks result column %s", r.all[i].key)
			}
			return dst, fmt.Errorf("%s: the record lacks field %s", r.path, r.all[i].key)
		}
	}
	for i, f := range r.all {
		if f.required && !f.list && !f.omit && !set[i] {
			return dst, &bqValueError{path: f.path, err: errors.New("NULL, but the table's column is REQUIRED")}
		}
	}
	return dst, nil
}

// convert reads a JSON object into a message field: a RECORD going to a
// STRUCT column.
func (r *bqRecord) convert(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	if err := j.expect('{'); err != nil {
		return dst, false, errors.New("not a JSON object")
	}
	dst = protowire.AppendTag(dst, f.num, protowire.BytesType)
	at := len(dst)
	dst = append(dst, 0)
	dst, err := r.fill(j, dst)
	if err != nil {
		return dst, false, err
	}
	return bqCloseMessage(dst, at), false, nil
}

// bqValueErr names the column of a conversion error, once.
func bqValueErr(f *bqField, err error) error {
	var ve *bqValueError
	if errors.As(err, &ve) {
		return err
	}
	return &bqValueError{path: f.path, err: err}
}

// bqValueError is a value the sink cannot convert (or BigQuery would
// refuse): the record is bad, and so the batch.
type bqValueError struct {
	path string
	err  error
}

func (e *bqValueError) Error() string { return "column " + e.path + ": " + e.err.Error() }
func (e *bqValueError) Unwrap() error { return e.err }

// bqList reads a JSON array into the REPEATED field f, one field per
// element (unpacked, which every decoder takes). BigQuery arrays hold no
// NULLs: a NULL element fails the record; a NULL array is an empty one. A
// MAP going to key/value entries is a JSON object.
func bqList(j *bqJSON, dst []byte, f *bqField) ([]byte, error) {
	if f.entries {
		dst, _, err := f.conv(j, dst, f)
		if err != nil {
			return dst, bqValueErr(f, err)
		}
		return dst, nil
	}
	if j.null() {
		return dst, nil
	}
	if err := j.expect('['); err != nil {
		return dst, &bqValueError{path: f.path, err: errors.New("not a JSON array")}
	}
	for i, first := 0, true; ; i, first = i+1, false {
		more, err := j.next(']', first)
		if err != nil || !more {
			return dst, err
		}
		var null bool
		if dst, null, err = f.conv(j, dst, f); err != nil {
			return dst, bqValueErr(f, err)
		}
		if null {
			return dst, &bqValueError{path: f.path, err: fmt.Errorf("element %d is NULL, which a BigQuery array cannot hold", i)}
		}
	}
}

// The converters of scalar values.

func bqAppendString(dst []byte, f *bqField, s []byte) []byte {
	dst = protowire.AppendTag(dst, f.num, protowire.BytesType)
	return protowire.AppendBytes(dst, s)
}

func bqAppendInt(dst []byte, f *bqField, v int64) []byte {
	dst = protowire.AppendTag(dst, f.num, protowire.VarintType)
	return protowire.AppendVarint(dst, uint64(v))
}

// bqString takes a JSON string as a string field.
func bqString(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	s, err := j.str()
	if err != nil {
		return dst, false, err
	}
	return bqAppendString(dst, f, s), false, nil
}

// bqText is any value as text: a JSON string's content, or the JSON text
// of anything else (numbers, booleans, arrays, objects).
func bqText(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	var s []byte
	var err error
	if j.peek() == '"' {
		s, err = j.str()
	} else {
		s, err = j.raw()
	}
	if err != nil {
		return dst, false, err
	}
	return bqAppendString(dst, f, s), false, nil
}

// bqJSONText is any value as JSON text, for a JSON column.
func bqJSONText(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	s, err := j.raw()
	if err != nil {
		return dst, false, err
	}
	return bqAppendString(dst, f, s), false, nil
}

func bqBool(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	b, err := j.boolean()
	if err != nil {
		return dst, false, err
	}
	dst = protowire.AppendTag(dst, f.num, protowire.VarintType)
	return protowire.AppendVarint(dst, protowire.EncodeBool(b)), false, nil
}

// bqParseInt parses a JSON number that must be a 64-bit integer.
func bqParseInt(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 || len(digits) > 19 {
		return 0, fmt.Errorf("%s is not a 64-bit integer", b)
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%s is not a 64-bit integer", b)
		}
		u = u*10 + uint64(c-'0') // 19 digits fit in a uint64
	}
	switch {
	case neg && u <= 1<<63:
		return int64(-u), nil // -(1<<63) wraps to MinInt64, as wanted
	case !neg && u < 1<<63:
		return int64(u), nil
	}
	return 0, fmt.Errorf("%s is not a 64-bit integer", b)
}

func bqInt64(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	n, err := j.num()
	if err != nil {
		return dst, false, err
	}
	v, err := bqParseInt(n)
	if err != nil {
		return dst, false, err
	}
	return bqAppendInt(dst, f, v), false, nil
}

func bqDouble(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	n, err := j.num()
	if err != nil {
		return dst, false, err
	}
	v, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return dst, false, fmt.Errorf("%s is not a 64-bit float", n)
	}
	dst = protowire.AppendTag(dst, f.num, protowire.Fixed64Type)
	return protowire.AppendFixed64(dst, math.Float64bits(v)), false, nil
}

// bqDecimalString writes a DOUBLE as the shortest decimal that reads back
// as it, without an exponent, for NUMERIC and BIGNUMERIC columns (which
// round it to their scale).
func bqDecimalString(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	n, err := j.num()
	if err != nil {
		return dst, false, err
	}
	v, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return dst, false, fmt.Errorf("%s is not a 64-bit float", n)
	}
	j.tmp = strconv.AppendFloat(j.tmp[:0], v, 'f', -1, 64)
	return bqAppendString(dst, f, j.tmp), false, nil
}

func bqBytes(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	s, err := j.str()
	if err != nil {
		return dst, false, err
	}
	if j.tmp, err = base64.StdEncoding.AppendDecode(j.tmp[:0], s); err != nil {
		return dst, false, errors.New("not standard base64")
	}
	return bqAppendString(dst, f, j.tmp), false, nil
}

// bqTimestampMicros reads the JSON format's TIMESTAMP, an RFC 3339 string
// in UTC ("2026-11-26T15:04:05.123456Z"), within BigQuery's range (years
// 1 to 9999).
func bqTimestampMicros(s []byte) (int64, error) {
	// YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z
	bad := func() (int64, error) {
		return 0, fmt.Errorf("%q is not a timestamp within BigQuery's range (years 1 to 9999)", s)
	}
	if len(s) < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return bad()
	}
	days, ok := bqDays(s[:10])
	if !ok {
		return bad()
	}
	h, ok1 := bq2(s[11:13])
	m, ok2 := bq2(s[14:16])
	sec, ok3 := bq2(s[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return bad()
	}
	frac, ok := bqFraction(s[19 : len(s)-1])
	if !ok {
		return bad()
	}
	return days*86_400_000_000 + (h*3600+m*60+sec)*1_000_000 + frac, nil
}

// bqDays reads YYYY-MM-DD as days since the epoch, within BigQuery's
// range.
func bqDays(s []byte) (int64, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y1, ok1 := bq2(s[0:2])
	y2, ok2 := bq2(s[2:4])
	m, ok3 := bq2(s[5:7])
	d, ok4 := bq2(s[8:10])
	y := y1*100 + y2
	if !ok1 || !ok2 || !ok3 || !ok4 || y < 1 || m < 1 || m > 12 || d < 1 || d > bqMonthDays(y, m) {
		return 0, false
	}
	// Days from the civil date (Howard Hinnant's algorithm), for y >= 1.
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	doy := (153*((m+9)%12)+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468, true
}

func bqMonthDays(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// bq2 reads two decimal digits.
func bq2(s []byte) (int64, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int64(s[0]-'0')*10 + int64(s[1]-'0'), true
}

// bqFraction reads "" or ".f" with 1 to 6 digits, as microseconds.
func bqFraction(s []byte) (int64, bool) {
	if len(s) == 0 {
		return 0, true
	}
	if s[0] != '.' || len(s) < 2 || len(s) > 7 {
		return 0, false
	}
	var us int64
	for i := 1; i < 7; i++ {
		us *= 10
		if i < len(s) {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			us += int64(s[i] - '0')
		}
	}
	return us, true
}

func bqTimestamp(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	s, err := j.str()
	if err != nil {
		return dst, false, err
	}
	us, err := bqTimestampMicros(s)
	if err != nil {
		return dst, false, err
	}
	return bqAppendInt(dst, f, us), false, nil
}

// bqDatetime writes a TIMESTAMP to a DATETIME column as its UTC civil
// time, "YYYY-MM-DD HH:MM:SS[.ffffff]".
func bqDatetime(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	s, err := j.str()
	if err != nil {
		return dst, false, err
	}
	if _, err := bqTimestampMicros(s); err != nil {
		return dst, false, err
	}
	j.tmp = append(append(append(j.tmp[:0], s[:10]...), ' '), s[11:len(s)-1]...)
	return bqAppendString(dst, f, j.tmp), false, nil
}

func bqDate(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	s, err := j.str()
	if err != nil {
		return dst, false, err
	}
	days, ok := bqDays(s)
	if !ok || days < bqMinDate || days > bqMaxDate {
		return dst, false, fmt.Errorf("%q is not a date within BigQuery's range (0001-01-01 to 9999-12-31)", s)
	}
	return bqAppendInt(dst, f, days), false, nil // int32's wire form: a sign-extended varint
}

// bqTime takes the JSON format's TIME, "HH:MM:SS[.ffffff]", which
// BigQuery takes as it is.
func bqTime(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	s, err := j.str()
	if err != nil {
		return dst, false, err
	}
	ok := len(s) >= 8 && s[2] == ':' && s[5] == ':'
	if ok {
		h, ok1 := bq2(s[0:2])
		m, ok2 := bq2(s[3:5])
		sec, ok3 := bq2(s[6:8])
		_, ok4 := bqFraction(s[8:])
		ok = ok1 && ok2 && ok3 && ok4 && h < 24 && m < 60 && sec < 60
	}
	if !ok {
		return dst, false, fmt.Errorf("%q is not a time of day HH:MM:SS[.ffffff]", s)
	}
	return bqAppendString(dst, f, s), false, nil
}

// bqInterval is the JSON format's ISO 8601 duration: [-]P[nD][T[nH][nM][n[.f]S]].
var bqInterval = regexp.MustCompile(`^(-)?P(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)(?:\.([0-9]{1,6}))?S)?)?$`)

// bqParseInterval returns the microseconds of an ISO 8601 duration as the
// JSON format writes it (a day is 24 hours).
func bqParseInterval(s string) (int64, error) {
	m := bqInterval.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "-P" || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration such as \"P1DT2H\"", s)
	}
	var total bqSum
	for i, unit := range []uint64{86_400_000_000, 3_600_000_000, 60_000_000, 1_000_000} {
		if m[i+2] == "" {
			continue
		}
		n, err := strconv.ParseUint(m[i+2], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		total.add(n, unit)
	}
	if m[6] != "" {
		n, _ := strconv.ParseUint(m[6]+strings.Repeat("0", 6-len(m[6])), 10, 64)
		total.add(n, 1)
	}
	if total.over || total.v > 1<<63 || (total.v == 1<<63 && m[1] == "") {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	if m[1] == "-" {
		return int64(-total.v), nil // -(1<<63) wraps to MinInt64, as wanted
	}
	return int64(total.v), nil
}

// bqSum is a uint64 sum that notes overflow.
type bqSum struct {
	v    uint64
	over bool
}

func (b *bqSum) add(n, unit uint64) {
	if n != 0 && unit > math.MaxUint64/n {
		b.over = true
		return
	}
	p := n * unit
	if b.v+p < b.v {
		b.over = true
	}
	b.v += p
}

func bqIntervalMicros(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	s, err := j.str()
	if err != nil {
		return dst, false, err
	}
	us, err := bqParseInterval(string(s))
	if err != nil {
		return dst, false, err
	}
	return bqAppendInt(dst, f, us), false, nil
}

// bqIntervalString writes an interval in BigQuery's canonical form,
// "Y-M D H:M:S[.F]", all of it in hours, minutes and seconds ("0-0 0
// 26:0:0" for P1DT2H): a Sluice interval is exact microseconds, which is
// what BigQuery's time part holds (its day part is a calendar day).
func bqIntervalString(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
	if j.null() {
		return dst, true, nil
	}
	s, err := j.str()
	if err != nil {
		return dst, false, err
	}
	us, err := bqParseInterval(string(s))
	if err != nil {
		return dst, false, err
	}
	if h := us / 3_600_000_000; h > bqMaxIntervalHours || h < -bqMaxIntervalHours {
		return dst, false, fmt.Errorf("%q is beyond BigQuery's INTERVAL range (10,000 years)", s)
	}
	j.tmp = bqAppendInterval(j.tmp[:0], us)
	return bqAppendString(dst, f, j.tmp), false, nil
}

func bqAppendInterval(dst []byte, us int64) []byte {
	dst = append(dst, "0-0 0 "...)
	u := uint64(us)
	if us < 0 {
		dst, u = append(dst, '-'), -u
	}
	dst = strconv.AppendUint(dst, u/3_600_000_000, 10)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, u/60_000_000%60, 10)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, u/1_000_000%60, 10)
	if frac := u % 1_000_000; frac != 0 {
		dst = append(dst, '.')
		for i, div := 0, uint64(100_000); i < 6 && frac != 0; i, div = i+1, div/10 {
			dst = append(dst, byte('0'+frac/div))
			frac %= div
		}
	}
	return dst
}

// bqMaxRequestBytes bounds the serialized rows of one AppendRows request
// (BigQuery's limit is 10 MB per request, the rest of it included); a
// variable for tests.
var bqMaxRequestBytes = 8 << 20

// encode converts the NDJSON records into serialized rows, appended to
// buf; rows views them. A record that is not a JSON object of the result
// columns, or whose values BigQuery cannot take, is an error naming the
// record.
func (r *bqRows) encode(recs []Record, buf []byte, rows [][]byte) ([]byte, [][]byte, error) {
	var j bqJSON
	ends := make([]int, 0, len(recs))
	for i, rec := range recs {
		var err error
		if buf, err = r.row(&j, rec.Value, buf); err != nil {
			return buf, rows, &bqRecordError{index: i, rec: rec, err: err}
		}
		ends = append(ends, len(buf))
	}
	start := 0
	for _, end := range ends {
		rows = append(rows, buf[start:end:end])
		start = end
	}
	return buf, rows, nil
}

// row converts one NDJSON record, appending the row to dst.
func (r *bqRows) row(j *bqJSON, rec, dst []byte) ([]byte, error) {
	j.reset(rec)
	if j.expect('{') != nil {
		return dst, errors.New("not a JSON object")
	}
	dst, err := r.root.fill(j, dst)
	if err != nil {
		return dst, err
	}
	if j.peek() != 0 {
		return dst, errors.New("more than one JSON value in the record")
	}
	return dst, nil
}

// bqRecordError is a record the sink cannot write.
type bqRecordError struct {
	index int
	rec   Record
	err   error
}

func (e *bqRecordError) Error() string {
	if e.rec.Partition < 0 {
		return fmt.Sprintf("record %d of the batch: %v", e.index, e.err)
	}
	return fmt.Sprintf("record at partition %d offset %d: %v", e.rec.Partition, e.rec.Offset, e.err)
}

func (e *bqRecordError) Unwrap() error { return e.err }

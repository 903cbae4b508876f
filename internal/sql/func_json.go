package sql

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// JSON functions over JSON text in a VARCHAR. They scan the bytes in place
// (no decoding into Go values): JSON_VALUE's result views the input unless
// a string has escapes, which are decoded into the scratch buffer. The
// functions are lax: text that is not valid JSON (RFC 8259, nesting at
// most fnJSONMaxDepth deep) gives NULL rather than an error.
//
// Paths are a subset of SQL/JSON path: an optional "lax" mode word, $, then
// steps .name, ."quoted name", ["name"] or ['name'], and [index] (0-based).
// There is no wildcard, filter, last or automatic array wrapping and
// unwrapping. When an object has a key twice, the first one counts.

const fnJSONMaxDepth = 256

// fnJSONStep is one step of a path: a member name or an array index.
type fnJSONStep struct {
	key   []byte
	index int
	isIdx bool
}

// fnParseJSONPath parses a constant path.
func fnParseJSONPath(p string) ([]fnJSONStep, error) {
	s := strings.TrimSpace(p)
	if rest, ok := strings.CutPrefix(s, "lax "); ok {
		s = strings.TrimSpace(rest)
	} else if strings.HasPrefix(s, "strict ") {
		return nil, fmt.Errorf("strict mode is not supported")
	}
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("a path starts with $")
	}
	s = s[1:]
	var steps []fnJSONStep
	for len(s) > 0 {
		switch s[0] {
		case '.':
			s = s[1:]
			if strings.HasPrefix(s, `"`) {
				name, rest, err := fnPathQuoted(s)
				if err != nil {
					return nil, err
				}
				steps = append(steps, fnJSONStep{key: []byte(name)})
				s = rest
				continue
			}
			n := 0
			for n < len(s) && (s[n] == '_' || s[n] == '$' || s[n] >= '0' && s[n] <= '9' || s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= utf8.RuneSelf) {
				n++
			}
			if n == 0 {
				return nil, fmt.Errorf("expected a member name after . in %q", p)
			}
			steps = append(steps, fnJSONStep{key: []byte(s[:n])})
			s = s[n:]
		case '[':
			s = strings.TrimLeft(s[1:], " ")
			if strings.HasPrefix(s, `"`) || strings.HasPrefix(s, `'`) {
				name, rest, err := fnPathQuoted(s)
				if err != nil {
					return nil, err
				}
				steps = append(steps, fnJSONStep{key: []byte(name)})
				s = rest
			} else {
				n := 0
				for n < len(s) && s[n] >= '0' && s[n] <= '9' {
					n++
				}
				idx, err := strconv.Atoi(s[:n])
				if n == 0 || err != nil {
					return nil, fmt.Errorf("expected an array index or a quoted name in [] in %q (wildcards and last are not supported)", p)
				}
				steps = append(steps, fnJSONStep{index: idx, isIdx: true})
				s = s[n:]
			}
			s = strings.TrimLeft(s, " ")
			if !strings.HasPrefix(s, "]") {
				return nil, fmt.Errorf("expected ] in %q", p)
			}
			s = s[1:]
		default:
			return nil, fmt.Errorf("unexpected %q in %q (supported: $, .name, .\"name\", [\"name\"], [index])", s[:1], p)
		}
	}
	return steps, nil
}

// fnPathQuoted reads a "double" or 'single' quoted name with \ escapes.
func fnPathQuoted(s string) (name, rest string, err error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == q:
			return b.String(), s[i+1:], nil
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated quoted name in the path")
}

func fnJSONWS(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// fnJSONString scans the string starting at the quote s[i]; it returns the
// index after the closing quote (-1 if invalid) and whether it has escapes.
func fnJSONString(s []byte, i int) (int, bool) {
	esc := false
	for i++; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return i + 1, esc
		case c == '\\':
			esc = true
			i++
			if i >= len(s) {
				return -1, esc
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s) {
					return -1, esc
				}
				for _, h := range s[i+1 : i+5] {
					if !fnIsHex(h) {
						return -1, esc
					}
				}
				i += 4
			default:
				return -1, esc
			}
		case c < 0x20:
			return -1, esc
		}
	}
	return -1, esc
}

func fnIsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// fnJSONNumber scans a number at s[i:], returning its end or -1.
func fnJSONNumber(s []byte, i int) int {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
	}
	return i
}

// fnJSONSkip validates the value at s[i] (no leading space) and returns the
// index after it, -1 if it is invalid.
func fnJSONSkip(s []byte, i, depth int) int {
	if i >= len(s) {
		return -1
	}
	switch c := s[i]; c {
	case '"':
		end, _ := fnJSONString(s, i)
		return end
	case '{', '[':
		if depth >= fnJSONMaxDepth {
			return -1
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = fnJSONWS(s, i+1)
		if i < len(s) && s[i] == closer {
			return i + 1
		}
		for {
			if c == '{' {
				if i >= len(s) || s[i] != '"' {
					return -1
				}
				if i, _ = fnJSONString(s, i); i < 0 {
					return -1
				}
				if i = fnJSONWS(s, i); i >= len(s) || s[i] != ':' {
					return -1
				}
				i = fnJSONWS(s, i+1)
			}
			if i = fnJSONSkip(s, i, depth+1); i < 0 {
				return -1
			}
			i = fnJSONWS(s, i)
			if i >= len(s) {
				return -1
			}
			if s[i] == closer {
				return i + 1
			}
			if s[i] != ',' {
				return -1
			}
			i = fnJSONWS(s, i+1)
		}
	case 't':
		return fnJSONWord(s, i, "true")
	case 'f':
		return fnJSONWord(s, i, "false")
	case 'n':
		return fnJSONWord(s, i, "null")
	}
	return fnJSONNumber(s, i)
}

func fnJSONWord(s []byte, i int, w string) int {
	if len(s)-i >= len(w) && string(s[i:i+len(w)]) == w {
		return i + len(w)
	}
	return -1
}

// fnJSONValid reports whether s is one JSON value with optional space.
func fnJSONValid(s []byte) (start, end int, ok bool) {
	start = fnJSONWS(s, 0)
	end = fnJSONSkip(s, start, 0)
	return start, end, end >= 0 && fnJSONWS(s, end) == len(s)
}

// fnJSONUnescape appends the decoded contents of a JSON string whose quotes
// have been removed and whose escapes are valid.
func fnJSONUnescape(b, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := fnHex4(raw[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2 = fnHex4(raw[i+3 : i+7])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default: // " \ /
			b = append(b, raw[i])
		}
	}
	return b
}

func fnHex4(h []byte) rune {
	var r rune
	for _, c := range h {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// fnJSONKeyEqual compares a raw member name (without quotes) with key.
func fnJSONKeyEqual(raw []byte, esc bool, key []byte) bool {
	if !esc {
		return bytes.Equal(raw, key)
	}
	var tmp [128]byte
	return bytes.Equal(fnJSONUnescape(tmp[:0], raw), key)
}

// fnJSONFind returns the span of the value at path in the JSON text s; ok is
// false when s is not valid JSON, found when the path does not exist.
func fnJSONFind(s []byte, path []fnJSONStep) (start, end int, ok, found bool) {
	i, _, valid := fnJSONValid(s)
	if !valid {
		return 0, 0, false, false
	}
	// s is valid from here on, which keeps the walk simple.
	for _, step := range path {
		if step.isIdx {
			if s[i] != '[' {
				return 0, 0, true, false
			}
			i = fnJSONWS(s, i+1)
			if s[i] == ']' {
				return 0, 0, true, false
			}
			for n := 0; n < step.index; n++ {
				i = fnJSONWS(s, fnJSONSkip(s, i, 0))
				if s[i] == ']' {
					return 0, 0, true, false
				}
				i = fnJSONWS(s, i+1) // after ,
			}
			continue
		}
		if s[i] != '{' {
			return 0, 0, true, false
		}
		i = fnJSONWS(s, i+1)
		if s[i] == '}' {
			return 0, 0, true, false
		}
		for {
			kend, esc := fnJSONString(s, i)
			match := fnJSONKeyEqual(s[i+1:kend-1], esc, step.key)
			i = fnJSONWS(s, fnJSONWS(s, kend)+1) // after :
			if match {
				break
			}
			i = fnJSONWS(s, fnJSONSkip(s, i, 0))
			if s[i] == '}' {
				return 0, 0, true, false
			}
			i = fnJSONWS(s, i+1) // after ,
		}
	}
	return i, fnJSONSkip(s, i, 0), true, true
}

// fnJSONPathBuild builds a function of (json, constant path).
func fnJSONPathBuild(fn string, f func(e *Env, s []byte, path []fnJSONStep) Value) func([]Arg) (Eval, error) {
	return func(args []Arg) (Eval, error) {
		if fnHasNullConst(args) {
			return fnNullEval, nil
		}
		text, err := fnConstText(args[1], "path", fn)
		if err != nil {
			return nil, err
		}
		path, err := fnParseJSONPath(text)
		if err != nil {
			return nil, fmt.Errorf("invalid path of %s: %v", fn, err)
		}
		return fnStrict1(func(e *Env, a Value) Value { return f(e, a.B, path) })(args[:1])
	}
}

func fnJSONValue(e *Env, s []byte, path []fnJSONStep) Value {
	start, end, _, found := fnJSONFind(s, path)
	if !found {
		return Null
	}
	switch s[start] {
	case '{', '[', 'n':
		return Null
	case '"':
		raw := s[start+1 : end-1]
		if bytes.IndexByte(raw, '\\') < 0 {
			return Value{B: raw}
		}
		bs, b := e.Begin()
		b = fnJSONUnescape(b, raw)
		return e.End(bs, b)
	}
	return Value{B: s[start:end]}
}

var (
	fnJSONTypeObject  = []byte("object")
	fnJSONTypeArray   = []byte("array")
	fnJSONTypeString  = []byte("string")
	fnJSONTypeNumber  = []byte("number")
	fnJSONTypeBoolean = []byte("boolean")
	fnJSONTypeNull    = []byte("null")
)

func fnJSONTypeOf(s []byte) Value {
	start, _, ok := fnJSONValid(s)
	if !ok {
		return Null
	}
	var t []byte
	switch s[start] {
	case '{':
		t = fnJSONTypeObject
	case '[':
		t = fnJSONTypeArray
	case '"':
		t = fnJSONTypeString
	case 't', 'f':
		t = fnJSONTypeBoolean
	case 'n':
		t = fnJSONTypeNull
	default:
		t = fnJSONTypeNumber
	}
	return Value{B: t[:len(t):len(t)]}
}

func fnJSONArrayLength(s []byte) Value {
	i, _, ok := fnJSONValid(s)
	if !ok || s[i] != '[' {
		return Null
	}
	i = fnJSONWS(s, i+1)
	if s[i] == ']' {
		return Value{}
	}
	n := int64(1)
	for {
		i = fnJSONWS(s, fnJSONSkip(s, i, 0))
		if s[i] == ']' {
			return Value{I: n}
		}
		i = fnJSONWS(s, i+1)
		n++
	}
}

func init() {
	const cat = "json"
	fnRegister("JSON_VALUE", cat, "The scalar at the path in the JSON text, as text: strings unquoted and unescaped, numbers as written, true or false. NULL for JSON null, objects, arrays, a path that does not exist and text that is not valid JSON (lax mode, NULL ON ERROR). The path must be a constant.",
		`JSON_VALUE('{"user": {"name": "ann", "tags": ["a", "b"]}}', '$.user.tags[1]')`, "'b'",
		fnSig(Varchar, fnJSONPathBuild("JSON_VALUE", fnJSONValue), Varchar, Varchar))
	fnRegister("JSON_QUERY", cat, "The JSON text of the value at the path (object, array or scalar), as written in the input; NULL when the path does not exist or the text is not valid JSON. The path must be a constant.",
		`JSON_QUERY('{"a": {"b": [1, 2]}}', '$.a.b')`, "'[1, 2]'",
		fnSig(Varchar, fnJSONPathBuild("JSON_QUERY", func(_ *Env, s []byte, path []fnJSONStep) Value {
			start, end, _, found := fnJSONFind(s, path)
			if !found {
				return Null
			}
			return Value{B: s[start:end]}
		}), Varchar, Varchar))
	fnRegister("JSON_EXISTS", cat, "Whether the path exists in the JSON text (even with a null value); FALSE when the text is not valid JSON (FALSE ON ERROR). The path must be a constant.",
		`JSON_EXISTS('{"a": null}', '$.a')`, "TRUE",
		fnSig(Boolean, fnJSONPathBuild("JSON_EXISTS", func(_ *Env, s []byte, path []fnJSONStep) Value {
			_, _, _, found := fnJSONFind(s, path)
			return Bool(found)
		}), Varchar, Varchar))
	fnRegister("JSON_TYPEOF", cat, "The type of the top-level JSON value: 'object', 'array', 'string', 'number', 'boolean' or 'null'; NULL for text that is not valid JSON.",
		`JSON_TYPEOF('[1, 2]')`, "'array'",
		fnSig(Varchar, fnStrict1(func(_ *Env, a Value) Value { return fnJSONTypeOf(a.B) }), Varchar))
	fnRegister("JSON_ARRAY_LENGTH", cat, "The number of elements of a top-level JSON array; NULL when the text is not an array or not valid JSON (PostgreSQL raises an error instead).",
		`JSON_ARRAY_LENGTH('[1, [2, 3], {"a": 4}]')`, "3",
		fnSig(Integer, fnStrict1(func(_ *Env, a Value) Value { return fnJSONArrayLength(a.B) }), Varchar))
	fnRegister("JSON_VALID", cat, "Whether the text is valid JSON (RFC 8259; not in PostgreSQL, whose form is x IS JSON).",
		`JSON_VALID('{"a": [1, 2}')`, "FALSE",
		fnSig(Boolean, fnStrict1(func(_ *Env, a Value) Value {
			_, _, ok := fnJSONValid(a.B)
			return Bool(ok)
		}), Varchar))
}

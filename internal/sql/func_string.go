package sql

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String functions. Lengths and positions count characters (UTF-8 code
// points), as PostgreSQL does with a UTF-8 database; results that are a
// part of an argument (SUBSTRING, TRIM, SPLIT_PART, LEFT, RIGHT) view the
// argument's bytes, and computed ones are built in the Env scratch buffer.

// fnMaxResult bounds the strings REPEAT, LPAD and RPAD build.
const fnMaxResult = 1 << 20

// Errors of the string functions, allocated once.
var (
	errFnFieldZero     = &EvalError{Msg: "field position must not be zero"}
	errFnNegativeSub   = &EvalError{Msg: "negative substring length not allowed"}
	errFnTooLarge      = &EvalError{Msg: "requested length too large (the limit is 1 MiB)"}
	errFnNullCharacter = &EvalError{Msg: "null character not permitted"}
	errFnBadCharacter  = &EvalError{Msg: "requested character not valid for encoding"}
)

// fnRegister registers a function of the library.
func fnRegister(name, category, doc, example, result string, sigs ...Signature) {
	Register(&Function{Name: name, Category: category, Doc: doc, Example: example, Result: result, Sigs: sigs})
}

// fnSig is a Signature with fixed arguments.
func fnSig(result Kind, build func([]Arg) (Eval, error), args ...Kind) Signature {
	return Signature{Args: args, Result: result, Build: build}
}

// fnVariadic is a Signature whose last argument repeats.
func fnVariadic(result Kind, build func([]Arg) (Eval, error), args ...Kind) Signature {
	return Signature{Args: args, Variadic: true, Result: result, Build: build}
}

// fnNullEval returns NULL: the evaluator of a strict function called with
// a NULL constant.
func fnNullEval(*Env) Value { return Null }

// fnHasNullConst reports whether a constant argument is NULL, which makes
// the call of a strict function NULL.
func fnHasNullConst(args []Arg) bool {
	for _, a := range args {
		if a.Const != nil && a.Const.Null {
			return true
		}
	}
	return false
}

// fnStrict1 builds a strict function of one argument: NULL in, NULL out.
func fnStrict1(f func(e *Env, a Value) Value) func([]Arg) (Eval, error) {
	return func(args []Arg) (Eval, error) {
		if fnHasNullConst(args) {
			return fnNullEval, nil
		}
		x := args[0].Eval
		return func(e *Env) Value {
			a := x(e)
			if a.Null {
				return Null
			}
			return f(e, a)
		}, nil
	}
}

// fnStrict2 builds a strict function of two arguments. Both are evaluated
// before f runs, so f may build its result in the scratch buffer.
func fnStrict2(f func(e *Env, a, b Value) Value) func([]Arg) (Eval, error) {
	return func(args []Arg) (Eval, error) {
		if fnHasNullConst(args) {
			return fnNullEval, nil
		}
		x, y := args[0].Eval, args[1].Eval
		return func(e *Env) Value {
			a := x(e)
			if a.Null {
				return Null
			}
			b := y(e)
			if b.Null {
				return Null
			}
			return f(e, a, b)
		}, nil
	}
}

// fnStrict3 builds a strict function of three arguments.
func fnStrict3(f func(e *Env, a, b, c Value) Value) func([]Arg) (Eval, error) {
	return func(args []Arg) (Eval, error) {
		if fnHasNullConst(args) {
			return fnNullEval, nil
		}
		x, y, z := args[0].Eval, args[1].Eval, args[2].Eval
		return func(e *Env) Value {
			a := x(e)
			if a.Null {
				return Null
			}
			b := y(e)
			if b.Null {
				return Null
			}
			c := z(e)
			if c.Null {
				return Null
			}
			return f(e, a, b, c)
		}, nil
	}
}

// fnConstText returns the text of a constant argument; what names the
// argument in the error when it is not constant.
func fnConstText(a Arg, what, fn string) (string, error) {
	if a.Const == nil {
		return "", fmt.Errorf("the %s of %s must be a constant", what, fn)
	}
	return string(a.Const.B), nil
}

// fnRuneOffset returns the byte offset of the n-th character (0-based) of
// b, len(b) when b has n characters or fewer.
func fnRuneOffset(b []byte, n int64) int {
	if n <= 0 {
		return 0
	}
	i := 0
	for i < len(b) && n > 0 {
		if b[i] < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRune(b[i:])
			i += size
		}
		n--
	}
	return i
}

// fnSubstring is PostgreSQL's substring(s from start [for count]):
// characters start .. start+count-1, 1-based, with positions before the
// first character allowed.
func fnSubstring(e *Env, s []byte, start, count int64, hasCount bool) Value {
	if hasCount && count < 0 {
		e.Fail(errFnNegativeSub)
		return Null
	}
	lo := max(start, 1) - 1
	i := fnRuneOffset(s, lo)
	if !hasCount {
		return Value{B: s[i:]}
	}
	// start+count cannot overflow: both come from int32 arguments.
	hi := start + count - 1
	if hi <= lo {
		return Value{B: s[i:i]}
	}
	j := i + fnRuneOffset(s[i:], hi-lo)
	return Value{B: s[i:j]}
}

// fnMapRunes builds the string with every character mapped by f.
func fnMapRunes(e *Env, s []byte, ascii func(byte) byte, f func(rune) rune) Value {
	start, b := e.Begin()
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, ascii(c))
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, c)
		} else {
			b = utf8.AppendRune(b, f(r))
		}
		i += size
	}
	return e.End(start, b)
}

func fnLowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func fnUpperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// fnTrim trims the characters of set (a UTF-8 string) from the ends of s.
func fnTrim(s, set []byte, left, right bool) []byte {
	if left {
		for len(s) > 0 {
			r, size := utf8.DecodeRune(s)
			if !fnInSet(set, r, s[:size]) {
				break
			}
			s = s[size:]
		}
	}
	if right {
		for len(s) > 0 {
			r, size := utf8.DecodeLastRune(s)
			if !fnInSet(set, r, s[len(s)-size:]) {
				break
			}
			s = s[:len(s)-size]
		}
	}
	return s
}

func fnInSet(set []byte, r rune, raw []byte) bool {
	if r == utf8.RuneError && len(raw) == 1 {
		return bytes.IndexByte(set, raw[0]) >= 0
	}
	if r < utf8.RuneSelf {
		return bytes.IndexByte(set, byte(r)) >= 0
	}
	return bytes.Contains(set, raw)
}

var fnSpace = []byte(" ")

func fnTrimBuild(left, right bool) func([]Arg) (Eval, error) {
	return func(args []Arg) (Eval, error) {
		if len(args) == 1 {
			return fnStrict1(func(_ *Env, a Value) Value {
				return Value{B: fnTrim(a.B, fnSpace, left, right)}
			})(args)
		}
		return fnStrict2(func(_ *Env, a, b Value) Value {
			return Value{B: fnTrim(a.B, b.B, left, right)}
		})(args)
	}
}

// fnSplitPart is PostgreSQL's split_part.
func fnSplitPart(e *Env, s, delim []byte, n int64) Value {
	if n == 0 {
		e.Fail(errFnFieldZero)
		return Null
	}
	if len(delim) == 0 {
		if n == 1 || n == -1 {
			return Value{B: s}
		}
		return Value{B: s[:0]}
	}
	if n > 0 {
		for ; n > 1; n-- {
			i := bytes.Index(s, delim)
			if i < 0 {
				return Value{B: s[:0]}
			}
			s = s[i+len(delim):]
		}
		if i := bytes.Index(s, delim); i >= 0 {
			s = s[:i]
		}
		return Value{B: s}
	}
	for ; n < -1; n++ {
		i := bytes.LastIndex(s, delim)
		if i < 0 {
			return Value{B: s[:0]}
		}
		s = s[:i]
	}
	if i := bytes.LastIndex(s, delim); i >= 0 {
		s = s[i+len(delim):]
	}
	return Value{B: s}
}

func fnReplace(e *Env, s, from, to []byte) Value {
	if len(from) == 0 {
		return Value{B: s}
	}
	i := bytes.Index(s, from)
	if i < 0 {
		return Value{B: s}
	}
	start, b := e.Begin()
	for i >= 0 {
		b = append(b, s[:i]...)
		b = append(b, to...)
		s = s[i+len(from):]
		i = bytes.Index(s, from)
	}
	b = append(b, s...)
	return e.End(start, b)
}

// fnStackArgs is how many variadic arguments an evaluator keeps on the
// stack before falling back to the heap.
const fnStackArgs = 16

func fnConcatBuild(withSep bool) func([]Arg) (Eval, error) {
	return func(args []Arg) (Eval, error) {
		kinds := make([]Kind, len(args))
		evals := make([]Eval, len(args))
		for i, a := range args {
			k := a.Type.Kind
			if k == Array || k == Map || k == Record {
				return nil, fmt.Errorf("argument %d of CONCAT is %s; only scalar values can be concatenated", i+1, a.Type)
			}
			kinds[i], evals[i] = k, a.Eval
		}
		return func(e *Env) Value {
			// Evaluate every argument before building in the scratch
			// buffer, which the arguments may append to.
			var stack [fnStackArgs]Value
			vals := stack[:0]
			if len(evals) > fnStackArgs {
				vals = make([]Value, 0, len(evals))
			}
			for _, ev := range evals {
				vals = append(vals, ev(e))
			}
			first := 0
			var sep []byte
			if withSep {
				if vals[0].Null {
					return Null
				}
				sep, first = vals[0].B, 1
			}
			start, b := e.Begin()
			n := 0
			for i := first; i < len(vals); i++ {
				if vals[i].Null {
					continue
				}
				if n > 0 {
					b = append(b, sep...)
				}
				if kinds[i] == Boolean {
					// PostgreSQL's concat uses the boolean output form,
					// t or f, where a cast to text gives true or false.
					b = append(b, "ft"[vals[i].I&1])
				} else {
					b = AppendText(b, kinds[i], vals[i])
				}
				n++
			}
			return e.End(start, b)
		}, nil
	}
}

// fnStrpos is the 1-based character position of sub in s, 0 if absent.
func fnStrpos(s, sub []byte) Value {
	i := bytes.Index(s, sub)
	if i < 0 {
		return Value{}
	}
	return Value{I: int64(utf8.RuneCount(s[:i])) + 1}
}

// fnLeft returns the first n characters, or all but the last -n.
func fnLeft(s []byte, n int64) []byte {
	if n >= 0 {
		return s[:fnRuneOffset(s, n)]
	}
	total := int64(utf8.RuneCount(s))
	return s[:fnRuneOffset(s, total+n)]
}

// fnRight returns the last n characters, or all but the first -n.
func fnRight(s []byte, n int64) []byte {
	if n < 0 {
		return s[fnRuneOffset(s, -n):]
	}
	total := int64(utf8.RuneCount(s))
	if n >= total {
		return s
	}
	return s[fnRuneOffset(s, total-n):]
}

// fnPad is PostgreSQL's lpad and rpad.
func fnPad(e *Env, s []byte, length int64, fill []byte, left bool) Value {
	if length <= 0 {
		return Value{B: s[:0]}
	}
	n := int64(utf8.RuneCount(s))
	if n >= length || len(fill) == 0 {
		return Value{B: s[:fnRuneOffset(s, length)]}
	}
	if length > fnMaxResult {
		e.Fail(errFnTooLarge)
		return Null
	}
	start, b := e.Begin()
	if !left {
		b = append(b, s...)
	}
	for pad, f := length-n, fill; pad > 0; pad-- {
		if len(f) == 0 {
			f = fill
		}
		_, size := utf8.DecodeRune(f)
		b = append(b, f[:size]...)
		f = f[size:]
	}
	if left {
		b = append(b, s...)
	}
	return e.End(start, b)
}

func fnPadBuild(left bool) func([]Arg) (Eval, error) {
	return func(args []Arg) (Eval, error) {
		if len(args) == 2 {
			return fnStrict2(func(e *Env, a, b Value) Value {
				return fnPad(e, a.B, b.I, fnSpace, left)
			})(args)
		}
		return fnStrict3(func(e *Env, a, b, c Value) Value {
			return fnPad(e, a.B, b.I, c.B, left)
		})(args)
	}
}

func fnReverse(e *Env, s []byte) Value {
	start, b := e.Begin()
	for i := len(s); i > 0; {
		_, size := utf8.DecodeLastRune(s[:i])
		b = append(b, s[i-size:i]...)
		i -= size
	}
	return e.End(start, b)
}

// fnInitcap upper-cases the first letter of each word and lower-cases the
// rest; a word is a run of letters and digits, as in PostgreSQL.
func fnInitcap(e *Env, s []byte) Value {
	start, b := e.Begin()
	inWord := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[i])
			inWord = false
			i++
			continue
		}
		if inWord {
			r = unicode.ToLower(r)
		} else {
			r = unicode.ToUpper(r)
		}
		b = utf8.AppendRune(b, r)
		inWord = unicode.IsLetter(r) || unicode.IsDigit(r)
		i += size
	}
	return e.End(start, b)
}

func fnRepeat(e *Env, s []byte, n int64) Value {
	if n <= 0 || len(s) == 0 {
		return Value{B: s[:0]}
	}
	if n > fnMaxResult || int64(len(s))*n > fnMaxResult {
		e.Fail(errFnTooLarge)
		return Null
	}
	start, b := e.Begin()
	for ; n > 0; n-- {
		b = append(b, s...)
	}
	return e.End(start, b)
}

// fnRegexp compiles a constant PostgreSQL-style pattern with flags. Go's
// RE2 syntax is used; PostgreSQL's default that . matches a newline is
// kept. Flags: i (case-insensitive), c (case-sensitive), n (newline-
// sensitive: . does not match a newline, ^ and $ match at lines), s (the
// default), g (every match; only where global is allowed).
func fnRegexp(fn string, args []Arg, flagArg int, allowGlobal bool) (re *regexp.Regexp, global bool, err error) {
	pattern, err := fnConstText(args[1], "pattern", fn)
	if err != nil {
		return nil, false, err
	}
	flags := ""
	if flagArg < len(args) {
		if flags, err = fnConstText(args[flagArg], "flags argument", fn); err != nil {
			return nil, false, err
		}
	}
	ci, nl := false, false
	for _, f := range flags {
		switch f {
		case 'i':
			ci = true
		case 'c':
			ci = false
		case 'n', 'm':
			nl = true
		case 's':
			nl = false
		case 'g':
			if !allowGlobal {
				return nil, false, fmt.Errorf("%s does not support the \"global\" option", fn)
			}
			global = true
		default:
			return nil, false, fmt.Errorf("invalid regular expression option of %s: %q (supported: i, c, n, s%s)", fn, f, map[bool]string{true: ", g"}[allowGlobal])
		}
	}
	prefix := "(?s)"
	if nl {
		prefix = "(?m)"
	}
	if ci {
		prefix += "(?i)"
	}
	re, err = regexp.Compile(prefix + pattern)
	if err != nil {
		return nil, false, fmt.Errorf("invalid regular expression in the pattern of %s: %v", fn, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return re, global, nil
}

func fnRegexpLikeBuild(args []Arg) (Eval, error) {
	if fnHasNullConst(args[1:]) {
		return fnNullEval, nil
	}
	re, _, err := fnRegexp("REGEXP_LIKE", args, 2, false)
	if err != nil {
		return nil, err
	}
	x := args[0].Eval
	return func(e *Env) Value {
		a := x(e)
		if a.Null {
			return Null
		}
		return Bool(re.Match(a.B))
	}, nil
}

// fnExpand appends PostgreSQL's replacement text: \1 to \9 are groups, \&
// is the whole match, \\ is a backslash.
func fnExpand(b, repl, src []byte, m []int) []byte {
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '\\' || i+1 == len(repl) {
			b = append(b, c)
			continue
		}
		i++
		switch d := repl[i]; {
		case d >= '1' && d <= '9':
			if g := int(d - '0'); 2*g+1 < len(m) && m[2*g] >= 0 {
				b = append(b, src[m[2*g]:m[2*g+1]]...)
			}
		case d == '&':
			b = append(b, src[m[0]:m[1]]...)
		case d == '\\':
			b = append(b, '\\')
		default:
			b = append(b, '\\', d)
		}
	}
	return b
}

func fnRegexpReplaceBuild(args []Arg) (Eval, error) {
	if fnHasNullConst(args[1:]) {
		return fnNullEval, nil
	}
	re, global, err := fnRegexp("REGEXP_REPLACE", args, 3, true)
	if err != nil {
		return nil, err
	}
	limit := 1
	if global {
		limit = -1
	}
	return fnStrict3(func(e *Env, a, _, r Value) Value {
		ms := re.FindAllSubmatchIndex(a.B, limit)
		if len(ms) == 0 {
			return Value{B: a.B}
		}
		start, b := e.Begin()
		last := 0
		for _, m := range ms {
			b = append(b, a.B[last:m[0]]...)
			b = fnExpand(b, r.B, a.B, m)
			last = m[1]
		}
		b = append(b, a.B[last:]...)
		return e.End(start, b)
	})(args[:3])
}

func fnRegexpSubstrBuild(args []Arg) (Eval, error) {
	if fnHasNullConst(args[1:]) {
		return fnNullEval, nil
	}
	re, _, err := fnRegexp("REGEXP_SUBSTR", args, 2, false)
	if err != nil {
		return nil, err
	}
	return fnStrict2(func(_ *Env, a, _ Value) Value {
		m := re.FindIndex(a.B)
		if m == nil {
			return Null
		}
		return Value{B: a.B[m[0]:m[1]]}
	})(args[:2])
}

func fnChr(e *Env, n int64) Value {
	switch {
	case n == 0:
		e.Fail(errFnNullCharacter)
		return Null
	case n < 0 || n > unicode.MaxRune || n >= 0xD800 && n <= 0xDFFF:
		e.Fail(errFnBadCharacter)
		return Null
	}
	start, b := e.Begin()
	b = utf8.AppendRune(b, rune(n))
	return e.End(start, b)
}

func fnToHex(e *Env, n uint64) Value {
	start, b := e.Begin()
	const digits = "0123456789abcdef"
	var buf [16]byte
	i := len(buf)
	for {
		i--
		buf[i] = digits[n&15]
		n >>= 4
		if n == 0 {
			break
		}
	}
	b = append(b, buf[i:]...)
	return e.End(start, b)
}

func fnTranslate(e *Env, s, from, to []byte) Value {
	start, b := e.Begin()
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRune(s[i:])
		c := s[i : i+size]
		i += size
		// Find c's index among the characters of from.
		idx, f := 0, from
		found := false
		for len(f) > 0 {
			_, fs := utf8.DecodeRune(f)
			if bytes.Equal(f[:fs], c) {
				found = true
				break
			}
			f = f[fs:]
			idx++
		}
		if !found {
			b = append(b, c...)
			continue
		}
		if off := fnRuneOffset(to, int64(idx)); off < len(to) {
			_, ts := utf8.DecodeRune(to[off:])
			b = append(b, to[off:off+ts]...)
		}
	}
	return e.End(start, b)
}

func init() {
	const cat = "string"
	lower := fnStrict1(func(e *Env, a Value) Value {
		return fnMapRunes(e, a.B, fnLowerASCII, unicode.ToLower)
	})
	upper := fnStrict1(func(e *Env, a Value) Value {
		return fnMapRunes(e, a.B, fnUpperASCII, unicode.ToUpper)
	})
	fnRegister("LOWER", cat, "Converts the string to lower case (Unicode simple case mapping).",
		"LOWER('Hello World')", "'hello world'", fnSig(Varchar, lower, Varchar))
	fnRegister("UPPER", cat, "Converts the string to upper case (Unicode simple case mapping).",
		"UPPER('Hello World')", "'HELLO WORLD'", fnSig(Varchar, upper, Varchar))

	charLen := fnStrict1(func(_ *Env, a Value) Value { return Value{I: int64(utf8.RuneCount(a.B))} })
	byteLen := fnStrict1(func(_ *Env, a Value) Value { return Value{I: int64(len(a.B))} })
	fnRegister("LENGTH", cat, "Number of characters in the string; for BYTES, the number of bytes.",
		"LENGTH('héllo')", "5", fnSig(Integer, charLen, Varchar), fnSig(Integer, byteLen, Bytes))
	fnRegister("CHAR_LENGTH", cat, "Number of characters in the string.",
		"CHAR_LENGTH('héllo')", "5", fnSig(Integer, charLen, Varchar))
	fnRegister("OCTET_LENGTH", cat, "Number of bytes in the string (UTF-8) or byte string.",
		"OCTET_LENGTH('héllo')", "6", fnSig(Integer, byteLen, Varchar), fnSig(Integer, byteLen, Bytes))

	sub2 := fnStrict2(func(e *Env, a, b Value) Value { return fnSubstring(e, a.B, b.I, 0, false) })
	sub3 := fnStrict3(func(e *Env, a, b, c Value) Value { return fnSubstring(e, a.B, b.I, c.I, true) })
	fnRegister("SUBSTRING", cat, "The characters of the string from position start (1-based) on, at most count of them; positions before 1 count towards count, as in PostgreSQL. SUBSTRING(s FROM start FOR count) is the same call.",
		"SUBSTRING('Thomas', 2, 3)", "'hom'", fnSig(Varchar, sub2, Varchar, Integer), fnSig(Varchar, sub3, Varchar, Integer, Integer))
	fnRegister("SUBSTR", cat, "The same as SUBSTRING.",
		"SUBSTR('alphabet', 3, 2)", "'ph'", fnSig(Varchar, sub2, Varchar, Integer), fnSig(Varchar, sub3, Varchar, Integer, Integer))

	both, left, right := fnTrimBuild(true, true), fnTrimBuild(true, false), fnTrimBuild(false, true)
	fnRegister("TRIM", cat, "Removes spaces, or any of the characters of the second argument, from both ends of the string (PostgreSQL btrim).",
		"TRIM('xxhixyx', 'xy')", "'hi'", fnSig(Varchar, both, Varchar), fnSig(Varchar, both, Varchar, Varchar))
	fnRegister("BTRIM", cat, "The same as TRIM.",
		"BTRIM('  hi  ')", "'hi'", fnSig(Varchar, both, Varchar), fnSig(Varchar, both, Varchar, Varchar))
	fnRegister("LTRIM", cat, "Removes spaces, or any of the characters of the second argument, from the start of the string.",
		"LTRIM('zzzytest', 'xyz')", "'test'", fnSig(Varchar, left, Varchar), fnSig(Varchar, left, Varchar, Varchar))
	fnRegister("RTRIM", cat, "Removes spaces, or any of the characters of the second argument, from the end of the string.",
		"RTRIM('testxxzx', 'xyz')", "'test'", fnSig(Varchar, right, Varchar), fnSig(Varchar, right, Varchar, Varchar))

	fnRegister("SPLIT_PART", cat, "Splits the string at each occurrence of the delimiter and returns field n (1-based); a negative n counts from the end; past the last field the result is ''. n = 0 is an error.",
		"SPLIT_PART('a,b,c', ',', 2)", "'b'",
		fnSig(Varchar, fnStrict3(func(e *Env, a, b, c Value) Value { return fnSplitPart(e, a.B, b.B, c.I) }), Varchar, Varchar, Integer))
	fnRegister("REPLACE", cat, "Replaces every occurrence of from in the string with to.",
		"REPLACE('abcdefabcdef', 'cd', 'XX')", "'abXXefabXXef'",
		fnSig(Varchar, fnStrict3(func(e *Env, a, b, c Value) Value { return fnReplace(e, a.B, b.B, c.B) }), Varchar, Varchar, Varchar))
	fnRegister("CONCAT", cat, "Concatenates the text forms of its arguments, skipping NULLs (so the result is never NULL); as in PostgreSQL, a BOOLEAN is t or f.",
		"CONCAT('abc', NULL, 2, TRUE)", "'abc2t'", fnVariadic(Varchar, fnConcatBuild(false), AnyKind))
	fnRegister("CONCAT_WS", cat, "Concatenates the text forms of the arguments after the first, skipping NULLs, with the first argument between them; NULL when the separator is NULL.",
		"CONCAT_WS(',', 'a', NULL, 'b', 3)", "'a,b,3'", fnVariadic(Varchar, fnConcatBuild(true), Varchar, AnyKind))

	fnRegister("STARTS_WITH", cat, "Whether the string starts with the prefix.",
		"STARTS_WITH('alphabet', 'alph')", "TRUE",
		fnSig(Boolean, fnStrict2(func(_ *Env, a, b Value) Value { return Bool(bytes.HasPrefix(a.B, b.B)) }), Varchar, Varchar))
	fnRegister("ENDS_WITH", cat, "Whether the string ends with the suffix (not in PostgreSQL).",
		"ENDS_WITH('alphabet', 'bet')", "TRUE",
		fnSig(Boolean, fnStrict2(func(_ *Env, a, b Value) Value { return Bool(bytes.HasSuffix(a.B, b.B)) }), Varchar, Varchar))
	fnRegister("STRPOS", cat, "The 1-based character position of the first occurrence of the substring in the string, 0 when it does not occur.",
		"STRPOS('high', 'ig')", "2",
		fnSig(Integer, fnStrict2(func(_ *Env, a, b Value) Value { return fnStrpos(a.B, b.B) }), Varchar, Varchar))
	fnRegister("POSITION", cat, "POSITION(substring IN string), as in PostgreSQL: the 1-based character position of the substring in the string, 0 when absent. POSITION(substring, string) is the same; note the argument order, the reverse of STRPOS.",
		"POSITION('om' IN 'Thomas')", "3",
		fnSig(Integer, fnStrict2(func(_ *Env, a, b Value) Value { return fnStrpos(b.B, a.B) }), Varchar, Varchar))
	fnRegister("LEFT", cat, "The first n characters of the string; for a negative n, all but the last -n.",
		"LEFT('abcde', 2)", "'ab'",
		fnSig(Varchar, fnStrict2(func(_ *Env, a, b Value) Value { return Value{B: fnLeft(a.B, b.I)} }), Varchar, Integer))
	fnRegister("RIGHT", cat, "The last n characters of the string; for a negative n, all but the first -n.",
		"RIGHT('abcde', 2)", "'de'",
		fnSig(Varchar, fnStrict2(func(_ *Env, a, b Value) Value { return Value{B: fnRight(a.B, b.I)} }), Varchar, Integer))
	fnRegister("LPAD", cat, "Pads the string on the left to length characters with the fill (default a space), cycling through it; a longer string is truncated on the right. Results above 1 MiB are an error.",
		"LPAD('hi', 5, 'xy')", "'xyxhi'", fnSig(Varchar, fnPadBuild(true), Varchar, Integer), fnSig(Varchar, fnPadBuild(true), Varchar, Integer, Varchar))
	fnRegister("RPAD", cat, "Pads the string on the right to length characters with the fill (default a space); a longer string is truncated. Results above 1 MiB are an error.",
		"RPAD('hi', 5, 'xy')", "'hixyx'", fnSig(Varchar, fnPadBuild(false), Varchar, Integer), fnSig(Varchar, fnPadBuild(false), Varchar, Integer, Varchar))
	fnRegister("REVERSE", cat, "The characters of the string in reverse order.",
		"REVERSE('abcé')", "'écba'", fnSig(Varchar, fnStrict1(func(e *Env, a Value) Value { return fnReverse(e, a.B) }), Varchar))
	fnRegister("INITCAP", cat, "Upper-cases the first letter of each word and lower-cases the others; words are runs of letters and digits.",
		"INITCAP('hi THOMAS-smith')", "'Hi Thomas-Smith'", fnSig(Varchar, fnStrict1(func(e *Env, a Value) Value { return fnInitcap(e, a.B) }), Varchar))
	fnRegister("REPEAT", cat, "The string repeated n times ('' for n ≤ 0). Results above 1 MiB are an error.",
		"REPEAT('Pg', 4)", "'PgPgPgPg'",
		fnSig(Varchar, fnStrict2(func(e *Env, a, b Value) Value { return fnRepeat(e, a.B, b.I) }), Varchar, Integer))
	fnRegister("TRANSLATE", cat, "Replaces each character of the string that occurs in from with the character at the same position in to, deleting it when to is shorter.",
		"TRANSLATE('12345', '143', 'ax')", "'a2x5'",
		fnSig(Varchar, fnStrict3(func(e *Env, a, b, c Value) Value { return fnTranslate(e, a.B, b.B, c.B) }), Varchar, Varchar, Varchar))
	fnRegister("ASCII", cat, "The code point of the first character of the string, 0 for ''.",
		"ASCII('x')", "120", fnSig(Integer, fnStrict1(func(_ *Env, a Value) Value {
			if len(a.B) == 0 {
				return Value{}
			}
			r, _ := utf8.DecodeRune(a.B)
			return Value{I: int64(r)}
		}), Varchar))
	fnRegister("CHR", cat, "The character with the given code point; 0 and invalid code points are errors.",
		"CHR(65)", "'A'", fnSig(Varchar, fnStrict1(func(e *Env, a Value) Value { return fnChr(e, a.I) }), Integer))
	fnRegister("TO_HEX", cat, "The number in hexadecimal; negative numbers print as their two's complement (32 bits for INTEGER, 64 for BIGINT).",
		"TO_HEX(2147483647)", "'7fffffff'",
		fnSig(Varchar, fnStrict1(func(e *Env, a Value) Value { return fnToHex(e, uint64(uint32(a.I))) }), Integer),
		fnSig(Varchar, fnStrict1(func(e *Env, a Value) Value { return fnToHex(e, uint64(a.I)) }), BigInt))

	fnRegister("REGEXP_LIKE", cat, "Whether the string matches the regular expression (RE2 syntax, unanchored) anywhere. The pattern and the optional flags must be constants; flags: i case-insensitive, c case-sensitive, n newline-sensitive, s . matches newlines (the default).",
		"REGEXP_LIKE('Hello World', '^hello', 'i')", "TRUE",
		fnSig(Boolean, fnRegexpLikeBuild, Varchar, Varchar), fnSig(Boolean, fnRegexpLikeBuild, Varchar, Varchar, Varchar))
	fnRegister("REGEXP_REPLACE", cat, "Replaces the first match of the regular expression (every match with flag g) by the replacement, in which \\1 to \\9 stand for groups and \\& for the whole match. The pattern and flags must be constants.",
		"REGEXP_REPLACE('foobarbaz', 'b(..)', 'X\\1Y', 'g')", "'fooXarYXazY'",
		fnSig(Varchar, fnRegexpReplaceBuild, Varchar, Varchar, Varchar), fnSig(Varchar, fnRegexpReplaceBuild, Varchar, Varchar, Varchar, Varchar))
	fnRegister("REGEXP_SUBSTR", cat, "The first substring matching the regular expression, NULL when there is none. The pattern and flags must be constants.",
		"REGEXP_SUBSTR('number 1234 here', '[0-9]+')", "'1234'",
		fnSig(Varchar, fnRegexpSubstrBuild, Varchar, Varchar), fnSig(Varchar, fnRegexpSubstrBuild, Varchar, Varchar, Varchar))
}

package sql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pos is a position in the query text. Offset is a 0-based byte offset;
// Line and Column are 1-based, and Column counts runes, not bytes.
type Pos struct {
	Offset int
	Line   int
	Column int
}

// String renders the position as "line L, column C".
func (p Pos) String() string {
	return fmt.Sprintf("line %d, column %d", p.Line, p.Column)
}

// SyntaxError is the error Parse returns: where the problem is, and a message
// that says what was found and what was expected.
type SyntaxError struct {
	Pos Pos
	Msg string
}

func (e *SyntaxError) Error() string {
	return e.Pos.String() + ": " + e.Msg
}

// tokenKind classifies a token.
type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokIdent            // bare identifier or keyword
	tokQuoted           // "quoted identifier"
	tokInt              // 123
	tokFloat            // 1.5, 1e3, .5
	tokString           // 'string'
	tokOp               // operator or punctuation
)

// token is one lexeme. For identifiers Text is the name as written, for
// quoted identifiers and strings it is the unescaped value, for numbers the
// literal as written, and for operators the operator ("!=" is kept as written).
type token struct {
	kind tokenKind
	text string
	pos  Pos
	end  int // byte offset just after the token
}

// keyword reports the upper-cased keyword if the token is a bare identifier
// that is a reserved word, or "".
func (t token) keyword() string {
	if t.kind != tokIdent {
		return ""
	}
	u := strings.ToUpper(t.text)
	if reserved[u] {
		return u
	}
	return ""
}

// is reports whether the token is the bare (reserved or contextual) word w,
// compared case-insensitively. w must be upper case.
func (t token) is(w string) bool {
	return t.kind == tokIdent && strings.EqualFold(t.text, w)
}

// isOp reports whether the token is the operator op.
func (t token) isOp(op string) bool {
	return t.kind == tokOp && t.text == op
}

// reserved words cannot be used as bare identifiers (quote them instead).
// Words such as INTERVAL, TIMESTAMP and the interval units are contextual:
// they are only special where the grammar says so, so columns may carry
// those names.
var reserved = map[string]bool{
	"ALL": true, "AND": true, "AS": true, "BETWEEN": true, "BY": true,
	"CASE": true, "CAST": true, "DISTINCT": true, "ELSE": true, "END": true,
	"ESCAPE": true, "EXCEPT": true, "EXISTS": true, "FALSE": true,
	"FROM": true, "GROUP": true, "HAVING": true, "ILIKE": true, "IN": true,
	"INTERSECT": true, "IS": true, "JOIN": true, "LIKE": true, "LIMIT": true,
	"NOT": true, "NULL": true, "OFFSET": true, "ON": true, "OR": true,
	"ORDER": true, "SELECT": true, "THEN": true, "TRUE": true,
	"TRY_CAST": true, "UNION": true, "WHEN": true, "WHERE": true,
	"WINDOW": true, "WITH": true,
}

// IsReserved reports whether word (any case) is a reserved keyword, which
// must be double-quoted to be used as an identifier.
func IsReserved(word string) bool { return reserved[strings.ToUpper(word)] }

// lexer turns query text into tokens.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func (l *lexer) pos() Pos { return Pos{Offset: l.off, Line: l.line, Column: l.col} }

// peekRune returns the rune at the current offset plus k bytes (ASCII
// look-ahead only uses k > 0 past ASCII runes).
func (l *lexer) byteAt(i int) byte {
	if l.off+i < len(l.src) {
		return l.src[l.off+i]
	}
	return 0
}

// advance moves over one rune, tracking line and column.
func (l *lexer) advance() {
	r, w := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += w
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
}

func (l *lexer) errorf(p Pos, format string, args ...any) error {
	return &SyntaxError{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// tokenize lexes the whole input. The last token is always tokEOF.
func tokenize(src string) ([]token, error) {
	l := &lexer{src: src, line: 1, col: 1}
	var toks []token
	for {
		if err := l.skipSpaceAndComments(); err != nil {
			return nil, err
		}
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tokEOF {
			return toks, nil
		}
	}
}

func (l *lexer) skipSpaceAndComments() error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.advance()
		case c == '-' && l.byteAt(1) == '-':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance()
			}
		case c == '/' && l.byteAt(1) == '*':
			// Block comments nest, as in PostgreSQL.
			start := l.pos()
			l.advance()
			l.advance()
			depth := 1
			for depth > 0 {
				if l.off >= len(l.src) {
					return l.errorf(start, "unterminated block comment: expected */ to close the /* opened here")
				}
				switch {
				case l.src[l.off] == '*' && l.byteAt(1) == '/':
					l.advance()
					l.advance()
					depth--
				case l.src[l.off] == '/' && l.byteAt(1) == '*':
					l.advance()
					l.advance()
					depth++
				default:
					l.advance()
				}
			}
		default:
			r, _ := utf8.DecodeRuneInString(l.src[l.off:])
			if unicode.IsSpace(r) {
				l.advance()
				continue
			}
			return nil
		}
	}
	return nil
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// twoCharOps are the operators of two characters; single-character operators
// are in oneCharOps.
var twoCharOps = []string{"<>", "!=", "<=", ">=", "||", "::"}

const oneCharOps = "+-*/%=<>.,()[];"

func (l *lexer) next() (token, error) {
	start := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: start, end: l.off}, nil
	}
	c := l.src[l.off]
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	switch {
	case isIdentStart(r):
		for l.off < len(l.src) {
			r, _ := utf8.DecodeRuneInString(l.src[l.off:])
			if !isIdentPart(r) {
				break
			}
			l.advance()
		}
		return token{kind: tokIdent, text: l.src[start.Offset:l.off], pos: start, end: l.off}, nil
	case c == '"':
		s, err := l.quoted('"', start)
		if err != nil {
			return token{}, err
		}
		if s == "" {
			return token{}, l.errorf(start, `empty quoted identifier: expected at least one character between ""`)
		}
		return token{kind: tokQuoted, text: s, pos: start, end: l.off}, nil
	case c == '\'':
		s, err := l.quoted('\'', start)
		if err != nil {
			return token{}, err
		}
		return token{kind: tokString, text: s, pos: start, end: l.off}, nil
	case isDigit(c) || (c == '.' && isDigit(l.byteAt(1))):
		return l.number(start)
	}
	for _, op := range twoCharOps {
		if strings.HasPrefix(l.src[l.off:], op) {
			l.advance()
			l.advance()
			return token{kind: tokOp, text: op, pos: start, end: l.off}, nil
		}
	}
	if strings.IndexByte(oneCharOps, c) >= 0 {
		l.advance()
		return token{kind: tokOp, text: string(c), pos: start, end: l.off}, nil
	}
	return token{}, l.errorf(start, "unexpected character %q: expected an identifier, literal, operator or punctuation", r)
}

// quoted reads a literal delimited by q in which a doubled q stands for one q.
func (l *lexer) quoted(q byte, start Pos) (string, error) {
	l.advance()
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			if q == '"' {
				return "", l.errorf(start, `unterminated quoted identifier: expected a closing " for the one opened here`)
			}
			return "", l.errorf(start, "unterminated string literal: expected a closing ' for the one opened here")
		}
		c := l.src[l.off]
		if c == q {
			if l.byteAt(1) == q {
				b.WriteByte(q)
				l.advance()
				l.advance()
				continue
			}
			l.advance()
			return b.String(), nil
		}
		_, w := utf8.DecodeRuneInString(l.src[l.off:])
		b.WriteString(l.src[l.off : l.off+w])
		l.advance()
	}
}

// number reads digits [. digits] [e [+-] digits], or . digits [exponent].
func (l *lexer) number(start Pos) (token, error) {
	kind := tokInt
	for isDigit(l.byteAt(0)) {
		l.advance()
	}
	if l.byteAt(0) == '.' && isDigit(l.byteAt(1)) {
		kind = tokFloat
		l.advance()
		for isDigit(l.byteAt(0)) {
			l.advance()
		}
	}
	if c := l.byteAt(0); c == 'e' || c == 'E' {
		ePos := l.pos()
		k := 1
		if s := l.byteAt(1); s == '+' || s == '-' {
			k = 2
		}
		if !isDigit(l.byteAt(k)) {
			return token{}, l.errorf(ePos, "malformed number %q: expected digits after the exponent marker", l.src[start.Offset:l.off+k])
		}
		kind = tokFloat
		for i := 0; i < k; i++ {
			l.advance()
		}
		for isDigit(l.byteAt(0)) {
			l.advance()
		}
	}
	if l.off < len(l.src) {
		r, _ := utf8.DecodeRuneInString(l.src[l.off:])
		if isIdentPart(r) || r == '.' && kind == tokFloat {
			return token{}, l.errorf(l.pos(), "malformed number: unexpected %q after %q; expected an operator or space after a number", r, l.src[start.Offset:l.off])
		}
	}
	return token{kind: kind, text: l.src[start.Offset:l.off], pos: start, end: l.off}, nil
}

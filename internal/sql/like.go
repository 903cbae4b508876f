package sql

import (
	"unicode"
	"unicode/utf8"
)

var errLikeEscape = &EvalError{Msg: "LIKE pattern must not end with escape character"}

// checkLikePattern rejects a constant pattern at analysis that would fail
// every record.
func checkLikePattern(p []byte, esc rune) error {
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		i += n
		if r == esc {
			if i >= len(p) {
				return errLikeEscape
			}
			_, n = utf8.DecodeRune(p[i:])
			i += n
		}
	}
	return nil
}

// likeMatch reports whether s matches the LIKE pattern p: % matches any run
// of characters, _ one character, and esc (-1 for none) makes the next
// pattern character literal. With fold, letters match regardless of case
// (ILIKE). It works on runes, backtracking only to the last %, so it runs
// in O(len(s)·len(p)) at worst and allocates nothing.
func likeMatch(s, p []byte, esc rune, fold bool) (bool, error) {
	si, pi := 0, 0
	starP, starS := -1, -1
	for si < len(s) {
		if pi < len(p) {
			pr, pn := utf8.DecodeRune(p[pi:])
			switch {
			case pr == '%':
				starP, starS = pi+pn, si
				pi += pn
				continue
			case pr == '_':
				_, sn := utf8.DecodeRune(s[si:])
				si += sn
				pi += pn
				continue
			}
			literal, ln := pr, pn
			if pr == esc {
				if pi+pn >= len(p) {
					return false, errLikeEscape
				}
				literal, ln = utf8.DecodeRune(p[pi+pn:])
				ln += pn
			}
			sr, sn := utf8.DecodeRune(s[si:])
			if sr == literal || (fold && unicode.ToLower(sr) == unicode.ToLower(literal)) {
				si += sn
				pi += ln
				continue
			}
		}
		if starP < 0 {
			return false, nil
		}
		// Let the last % take one more character and retry after it.
		_, sn := utf8.DecodeRune(s[starS:])
		starS += sn
		si, pi = starS, starP
	}
	for pi < len(p) {
		pr, pn := utf8.DecodeRune(p[pi:])
		if pr != '%' {
			if pr == esc && pi+pn >= len(p) {
				return false, errLikeEscape
			}
			return false, nil
		}
		pi += pn
	}
	return true, nil
}

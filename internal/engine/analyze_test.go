package engine

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/sql"
)

// End-to-end: queries from the analyser, run on encoded records.

func analyze(t *testing.T, text string) *sql.Query {
	t.Helper()
	q, err := sql.Analyze(text, testAvro)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return q
}

func TestAnalyzedFilterProject(t *testing.T) {
	q := analyze(t, "SELECT key, n * 2 AS n2, s FROM tenant WHERE n < 10 AND key = 'a'")
	h := newHarness(t, q, Options{})
	h.must(0, 0, rec{Key: "a", N: 3, S: strp("x")})
	h.must(0, 1, rec{Key: "b", N: 3})
	h.must(0, 2, rec{Key: "a", N: 30})
	h.must(0, 3, rec{Key: "a", N: -4})
	same(t, "rows", h.take(), []string{"a|6|x", "a|-8|NULL"})
}

func TestAnalyzedTumbleHaving(t *testing.T) {
	q := analyze(t, `SELECT key, COUNT(*) AS n, SUM(n) AS total, MIN(s) AS first_s, WINDOW_START AS ws
		FROM tenant WHERE n >= 0
		GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), key HAVING COUNT(*) > 1`)
	h := newHarness(t, q, Options{Lateness: time.Second})
	h.must(0, 0, rec{Key: "a", N: 1, TS: ms(sec), S: strp("q")})
	h.must(0, 1, rec{Key: "b", N: 2, TS: ms(2 * sec)})
	h.must(0, 2, rec{Key: "a", N: 3, TS: ms(3 * sec), S: strp("p")})
	h.must(0, 3, rec{Key: "a", N: -1, TS: ms(4 * sec)}) // filtered out
	h.must(0, 4, rec{Key: "b", N: 5, TS: ms(70 * sec)})
	same(t, "first window", h.take(), []string{"a|2|4|p|0"})
	h.must(0, 5, rec{Key: "b", N: 5, TS: ms(80 * sec)})
	same(t, "drain", h.drain(), []string{"b|2|10|NULL|60000000"})
}

// Merging sessions merges DISTINCT sets of strings (the differential test
// found this panicking once).
func TestAnalyzedSessionCountDistinctStrings(t *testing.T) {
	q := analyze(t, `SELECT key, COUNT(DISTINCT s) AS n, COUNT(*) AS rows FROM tenant
		GROUP BY SESSION(ts, INTERVAL '10' SECOND), key`)
	h := newHarness(t, q, Options{Lateness: time.Minute})
	h.must(0, 0, rec{Key: "a", TS: ms(0), S: strp("x")})
	h.must(0, 1, rec{Key: "a", TS: ms(15 * sec), S: strp("y")})
	// Bridges the two sessions, which merge.
	h.must(0, 2, rec{Key: "a", TS: ms(8 * sec), S: strp("x")})
	h.must(0, 3, rec{Key: "a", TS: ms(9 * sec), S: strp("longer string")})
	same(t, "merged session", h.drain(), []string{"a|3|4"})
}

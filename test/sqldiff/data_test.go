package sqldiff

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/avro"
)

// schemaJSON is the writer and reader schema of the test records.
const schemaJSON = `{"type":"record","name":"Row","fields":[
	{"name":"id","type":"long"},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"a","type":["null","int"],"default":null},
	{"name":"b","type":["null","long"],"default":null},
	{"name":"c","type":"int"},
	{"name":"d","type":["null","double"],"default":null},
	{"name":"s","type":["null","string"],"default":null},
	{"name":"t","type":"string"},
	{"name":"flag","type":["null","boolean"],"default":null},
	{"name":"k","type":"string"},
	{"name":"e","type":{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}}
]}`

// pgTable is the same table in PostgreSQL. Timestamps are timestamp without
// time zone holding UTC, so date_bin and date_trunc need no time zone.
const pgTable = `CREATE TABLE tenant (
	id int8 PRIMARY KEY,
	ts timestamp NOT NULL,
	a int4,
	b int8,
	c int4 NOT NULL,
	d float8,
	s text,
	t text NOT NULL,
	flag boolean,
	k text NOT NULL,
	e text NOT NULL
)`

// record is one generated row. Pointers are nullable columns.
type record struct {
	id   int64
	ts   int64 // milliseconds since the epoch
	a    *int32
	b    *int64
	c    int32
	d    *float64
	s    *string
	t    string
	flag *bool
	k    string
	e    string
}

const numRecords = 2000

// baseTime is the event time of the first record.
var baseTime = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixMilli()

// Value pools. s mixes case, LIKE metacharacters (% _ \ !), the empty
// string, spaces and non-ASCII text; t holds text that casts to numbers and
// booleans (and some that does not).
var (
	sPool = []string{
		"alpha", "Alpha", "ALPHA", "beta", "Beta", "b", "", " padded ", "100%", "50% off",
		"a_b", "a%b", `a\b`, `back\slash`, `50\%`, "x!y", "!%", "é", "É", "café", "Café", "naïve",
		"Ωmega", "日本語", "a b c", "hello world", "it's", "foo.bar", "z", "Zeta", "mixed Case",
		"abc", "ABC", "aBc", "abcdef", "xyz", "  lead", "trail  ", "Straße", "a-b-c", "1,2,3",
	}
	tPool = []string{
		"10", "-5", "0", "007", " 42 ", "2147483647", "2147483648", "abc", "1.5", "-0.25",
		"true", "false", "yes", "off", "t", "hello", "Hello", "x y z", "3e2", "",
		" true ", "TRUE", "y", "on", "1", "no", "of", "+5", " -7", "NaN", "Infinity", "-inf",
		".5", "5.", "1e400", "9223372036854775808",
	}
	kPool = []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
	ePool = []string{"RED", "GREEN", "BLUE"}
)

func ptr[T any](v T) *T { return &v }

// genRecords makes the test records from seed: about 15% NULLs in every
// nullable column, integer edge values, doubles with binary fractions, and
// event times spread over 30 minutes with some a few seconds out of order.
func genRecords(seed uint64) []record {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	null := func() bool { return r.IntN(100) < 15 }
	recs := make([]record, numRecords)
	for i := range recs {
		rec := &recs[i]
		rec.id = int64(i)
		rec.ts = baseTime + int64(i)*900 + r.Int64N(900)
		if r.IntN(10) == 0 {
			rec.ts -= r.Int64N(5000) // out of order, within a few seconds
		}
		if !null() {
			var a int32
			switch x := r.IntN(100); {
			case x < 8:
				a = []int32{0, -1, 1, 2147483647, -2147483648, 2147483646, -2147483647, 7}[r.IntN(8)]
			case x < 15:
				a = r.Int32N(2_000_000_000) - 1_000_000_000
			default:
				a = r.Int32N(2001) - 1000
			}
			rec.a = &a
		}
		if !null() {
			var b int64
			switch x := r.IntN(100); {
			case x < 2:
				// Large positive longs only, so an overflowing SUM overflows
				// however the additions are ordered.
				b = 1<<62 + 1<<40 + r.Int64N(1<<60)
			case x < 8:
				b = []int64{0, -1, 1, 2147483647, 2147483648, -2147483648, -2147483649, 4294967296}[r.IntN(8)]
			default:
				b = r.Int64N(2_000_001) - 1_000_000
			}
			rec.b = &b
		}
		rec.c = r.Int32N(41) - 20
		if !null() {
			var d float64
			switch x := r.IntN(100); {
			case x < 10:
				d = []float64{0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 1e15, 1.25e-5, 123456.789, 1e-4, 1e16, 1e14, -1e15, 0.00012,
					math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1)}[r.IntN(19)]
			default:
				d = float64(r.IntN(2001)-1000) + []float64{0, 0.5, -0.5, 0.25, 0.75, 0.125}[r.IntN(6)]
			}
			rec.d = &d
		}
		if !null() {
			if r.IntN(4) == 0 {
				rec.s = ptr(randString(r))
			} else {
				rec.s = ptr(sPool[r.IntN(len(sPool))])
			}
		}
		rec.t = tPool[r.IntN(len(tPool))]
		if !null() {
			rec.flag = ptr(r.IntN(2) == 0)
		}
		rec.k = kPool[r.IntN(len(kPool))]
		rec.e = ePool[r.IntN(len(ePool))]
	}
	return recs
}

// randString is a short string over an alphabet rich in LIKE
// metacharacters and case pairs.
func randString(r *rand.Rand) string {
	const alphabet = "abAB%_\\! é"
	runes := []rune(alphabet)
	n := r.IntN(7)
	out := make([]rune, n)
	for i := range out {
		out[i] = runes[r.IntN(len(runes))]
	}
	return string(out)
}

// encodeRecords encodes every record with the Avro schema.
func encodeRecords(recs []record) ([][]byte, error) {
	s, err := avro.Parse(schemaJSON)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(recs))
	for i, rec := range recs {
		m := map[string]any{
			"id": rec.id, "ts": rec.ts, "a": nil, "b": nil, "c": rec.c, "d": nil, "s": nil,
			"t": rec.t, "flag": nil, "k": rec.k, "e": rec.e,
		}
		if rec.a != nil {
			m["a"] = *rec.a
		}
		if rec.b != nil {
			m["b"] = *rec.b
		}
		if rec.d != nil {
			m["d"] = *rec.d
		}
		if rec.s != nil {
			m["s"] = *rec.s
		}
		if rec.flag != nil {
			m["flag"] = *rec.flag
		}
		if out[i], err = s.Encode(m); err != nil {
			return nil, fmt.Errorf("encode record %d: %w", i, err)
		}
	}
	return out, nil
}

// loadPostgres creates the table and copies the records into it.
func loadPostgres(ctx context.Context, conn *pgx.Conn, recs []record) error {
	if _, err := conn.Exec(ctx, pgTable); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	rows := make([][]any, len(recs))
	for i, rec := range recs {
		row := []any{rec.id, time.UnixMilli(rec.ts).UTC(), nil, nil, rec.c, nil, nil, rec.t, nil, rec.k, rec.e}
		if rec.a != nil {
			row[2] = *rec.a
		}
		if rec.b != nil {
			row[3] = *rec.b
		}
		if rec.d != nil {
			row[5] = *rec.d
		}
		if rec.s != nil {
			row[6] = *rec.s
		}
		if rec.flag != nil {
			row[8] = *rec.flag
		}
		rows[i] = row
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"tenant"},
		[]string{"id", "ts", "a", "b", "c", "d", "s", "t", "flag", "k", "e"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("copy records: %w", err)
	}
	if n != int64(len(recs)) {
		return fmt.Errorf("copied %d records, want %d", n, len(recs))
	}
	_, err = conn.Exec(ctx, "ANALYZE tenant")
	return err
}

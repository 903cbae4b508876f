package decode

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"
)

// The differential test: records encoded by twmb/avro from random values,
// decoded by twmb/avro's resolving decoder into map[string]any and by this
// package into rows; both are brought to one plain form and compared.

// everything uses every Avro type and logical type, a recursive record and
// nested containers.
const everything = `{"type":"record","name":"Everything","namespace":"t","fields":[
	{"name":"n","type":"null"},
	{"name":"b","type":"boolean"},
	{"name":"i","type":"int"},
	{"name":"l","type":"long"},
	{"name":"f","type":"float"},
	{"name":"d","type":"double"},
	{"name":"s","type":"string"},
	{"name":"by","type":"bytes"},
	{"name":"e","type":{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}},
	{"name":"fx","type":{"type":"fixed","name":"Four","size":4}},
	{"name":"date","type":{"type":"int","logicalType":"date"}},
	{"name":"tmillis","type":{"type":"int","logicalType":"time-millis"}},
	{"name":"tmicros","type":{"type":"long","logicalType":"time-micros"}},
	{"name":"tsmillis","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"tsmicros","type":{"type":"long","logicalType":"timestamp-micros"}},
	{"name":"tsnanos","type":{"type":"long","logicalType":"timestamp-nanos"}},
	{"name":"ltsmillis","type":{"type":"long","logicalType":"local-timestamp-millis"}},
	{"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
	{"name":"decfx","type":{"type":"fixed","name":"DecFx","size":6,"logicalType":"decimal","precision":12,"scale":3}},
	{"name":"uuid","type":{"type":"string","logicalType":"uuid"}},
	{"name":"uuidfx","type":{"type":"fixed","name":"UUIDFx","size":16,"logicalType":"uuid"}},
	{"name":"dur","type":{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}},
	{"name":"inner","type":{"type":"record","name":"Inner","fields":[
		{"name":"x","type":"int"},
		{"name":"tags","type":{"type":"array","items":"string"}},
		{"name":"deep","type":{"type":"record","name":"Deep","fields":[{"name":"z","type":"string"},{"name":"w","type":["null","double"]}]}}
	]}},
	{"name":"maybe","type":["null","Inner"]},
	{"name":"arr","type":{"type":"array","items":"Inner"}},
	{"name":"m","type":{"type":"map","values":{"type":"array","items":"long"}}},
	{"name":"u","type":["null","int","string","Color","Four",{"type":"array","items":"int"},{"type":"map","values":"string"}]},
	{"name":"list","type":{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}},
	{"name":"again","type":"Inner"},
	{"name":"last","type":"string"}
]}`

type pair struct {
	name           string
	writer, reader string
}

var oraclePairs = []pair{
	{"identical", everything, everything},
	{"promotions",
		`{"type":"record","name":"P","fields":[
			{"name":"a","type":"int"},{"name":"b","type":"int"},{"name":"c","type":"int"},
			{"name":"d","type":"long"},{"name":"e","type":"long"},{"name":"f","type":"float"},
			{"name":"g","type":"string"},{"name":"h","type":"bytes"},
			{"name":"ai","type":{"type":"array","items":"int"}},
			{"name":"mi","type":{"type":"map","values":"float"}},
			{"name":"ui","type":["null","int"]}]}`,
		`{"type":"record","name":"P","fields":[
			{"name":"a","type":"long"},{"name":"b","type":"float"},{"name":"c","type":"double"},
			{"name":"d","type":"float"},{"name":"e","type":"double"},{"name":"f","type":"double"},
			{"name":"g","type":"bytes"},{"name":"h","type":"string"},
			{"name":"ai","type":{"type":"array","items":"double"}},
			{"name":"mi","type":{"type":"map","values":"double"}},
			{"name":"ui","type":["null","long"]}]}`},
	{"defaults",
		`{"type":"record","name":"R","fields":[{"name":"keep","type":"string"}]}`,
		`{"type":"record","name":"R","fields":[
			{"name":"keep","type":"string"},
			{"name":"i","type":"int","default":7},
			{"name":"l","type":"long","default":-9000000000},
			{"name":"f","type":"float","default":1.5},
			{"name":"d","type":"double","default":-2.25},
			{"name":"b","type":"boolean","default":true},
			{"name":"s","type":"string","default":"dflt"},
			{"name":"by","type":"bytes","default":"\u0001\u00ff"},
			{"name":"n","type":["null","string"],"default":null},
			{"name":"u","type":["string","null"],"default":"first"},
			{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]},"default":"Y"},
			{"name":"fx","type":{"type":"fixed","name":"F2","size":2},"default":"ab"},
			{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"},"default":1000},
			{"name":"rec","type":{"type":"record","name":"D","fields":[{"name":"p","type":"int"},{"name":"q","type":"string","default":"qq"}]},"default":{"p":3}},
			{"name":"arr","type":{"type":"array","items":"int"},"default":[1,2,3]},
			{"name":"m","type":{"type":"map","values":"string"},"default":{"k":"v","a":"b"}}]}`},
	{"removed and reordered",
		`{"type":"record","name":"R","fields":[
			{"name":"a","type":"int"},
			{"name":"gone1","type":{"type":"array","items":{"type":"record","name":"G","fields":[{"name":"g","type":"string"},{"name":"h","type":{"type":"map","values":"bytes"}}]}}},
			{"name":"b","type":"string"},
			{"name":"gone2","type":["null","G",{"type":"map","values":{"type":"array","items":"double"}}]},
			{"name":"gone3","type":{"type":"fixed","name":"F","size":5}},
			{"name":"c","type":"double"},
			{"name":"gone4","type":"boolean"}]}`,
		`{"type":"record","name":"R","fields":[{"name":"c","type":"double"},{"name":"a","type":"int"},{"name":"b","type":"string"}]}`},
	{"aliases",
		`{"type":"record","name":"ns1.Old","fields":[
			{"name":"old_name","type":"string"},
			{"name":"sub","type":{"type":"record","name":"ns1.OldSub","fields":[{"name":"v","type":"int"}]}},
			{"name":"other","type":"long"}]}`,
		`{"type":"record","name":"ns2.New","aliases":["ns1.Old"],"fields":[
			{"name":"new_name","type":"string","aliases":["old_name"]},
			{"name":"sub","type":{"type":"record","name":"ns2.NewSub","aliases":["ns1.OldSub"],"fields":[{"name":"v","type":"long"}]}},
			{"name":"other","type":"long"}]}`},
	{"enums",
		`{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C","D"]}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["D","B","A","OTHER"],"default":"OTHER"}}]}`},
	{"unions",
		`{"type":"record","name":"R","fields":[
			{"name":"a","type":["null","int"]},
			{"name":"b","type":["int","string"]},
			{"name":"c","type":"string"},
			{"name":"d","type":["null",{"type":"record","name":"S","fields":[{"name":"x","type":"int"},{"name":"y","type":["null","string"]}]}]},
			{"name":"e","type":"int"},
			{"name":"f","type":["null","S"]}]}`,
		`{"type":"record","name":"R","fields":[
			{"name":"a","type":["null","long"]},
			{"name":"b","type":["null","string","long"]},
			{"name":"c","type":["null","string"]},
			{"name":"d","type":["null",{"type":"record","name":"S","fields":[{"name":"y","type":["null","string"]},{"name":"x","type":"long"},{"name":"z","type":"int","default":5}]}]},
			{"name":"e","type":["string","double"]},
			{"name":"f","type":["S","null"]}]}`},
	{"named union branches and field-level logical types",
		`{"type":"record","name":"R","fields":[
			{"name":"u","type":["null",
				{"type":"record","name":"a.A","fields":[{"name":"x","type":"int"}]},
				{"type":"record","name":"a.B","fields":[{"name":"y","type":"string"}]},
				{"type":"fixed","name":"a.F4","size":4},
				{"type":"fixed","name":"a.F8","size":8}]},
			{"name":"ts","type":"long","logicalType":"timestamp-micros"},
			{"name":"dec","type":"bytes","logicalType":"decimal","precision":5,"scale":1}]}`,
		`{"type":"record","name":"R","fields":[
			{"name":"u","type":[
				{"type":"fixed","name":"b.F8","size":8},
				{"type":"record","name":"b.Bee","aliases":["a.B"],"fields":[{"name":"y","type":"string"}]},
				{"type":"record","name":"b.A","fields":[{"name":"x","type":"long"}]},
				{"type":"fixed","name":"a.F4","size":4},
				"null"]},
			{"name":"ts","type":"long","logicalType":"timestamp-micros"},
			{"name":"dec","type":"bytes","logicalType":"decimal","precision":5,"scale":1}]}`},
}

// genValue makes a random Go value of type n that twmb/avro encodes.
// Unions use its tagged form so the branch is the one we picked.
func genValue(rng *rand.Rand, n *node, depth int) any {
	switch n.kind {
	case aNull:
		return nil
	case aBoolean:
		return rng.IntN(2) == 1
	case aInt:
		return int32(rng.IntN(2_000_000) - 1_000_000)
	case aLong:
		switch n.logical {
		case LogicalNone:
			return rng.Int64() >> rng.IntN(64)
		case LogicalTimeMicros:
			return rng.Int64N(86_400_000_000)
		}
		return rng.Int64N(4_000_000_000_000) - 1_000_000_000_000
	case aFloat:
		return float32(rng.NormFloat64() * 1000)
	case aDouble:
		return rng.NormFloat64() * 1e6
	case aString:
		if n.logical == LogicalUUID {
			return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Int64N(1<<48))
		}
		return randText(rng)
	case aBytes:
		if n.logical == LogicalDecimal {
			return []byte{byte(rng.IntN(256)), byte(rng.IntN(256))}
		}
		return []byte(randText(rng))
	case aEnum:
		return n.symbols[rng.IntN(len(n.symbols))]
	case aFixed:
		b := make([]byte, n.size)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		if n.logical == LogicalDecimal {
			b[0] &= 0x0f // stay within the precision
		}
		return b
	case aArray:
		items := make([]any, rng.IntN(4))
		for i := range items {
			items[i] = genValue(rng, n.items, depth+1)
		}
		return items
	case aMap:
		m := map[string]any{}
		for range rng.IntN(4) {
			m[randText(rng)] = genValue(rng, n.values, depth+1)
		}
		return m
	case aRecord:
		m := map[string]any{}
		for _, f := range n.fields {
			m[f.name] = genValue(rng, f.typ, depth+1)
		}
		return m
	case aUnion:
		bi := rng.IntN(len(n.branches))
		if depth > 4 {
			for i, b := range n.branches {
				if b.kind == aNull {
					bi = i
				}
			}
		}
		b := n.branches[bi]
		if b.kind == aNull {
			return nil
		}
		name := b.kind.String()
		if b.isNamed() {
			name = b.name
		}
		return map[string]any{name: genValue(rng, b, depth+1)}
	}
	panic("genValue: unknown kind")
}

func randText(rng *rand.Rand) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-é"
	r := []rune(alphabet)
	b := make([]rune, rng.IntN(12))
	for i := range b {
		b[i] = r[rng.IntN(len(r))]
	}
	return string(b)
}

// plainTwmb brings a value twmb/avro decoded into the form plainRow gives.
func plainTwmb(v any) any {
	switch x := v.(type) {
	case nil, bool, string:
		return x
	case int32:
		return int64(x)
	case int64:
		return x
	case float32:
		return float64(x)
	case float64:
		return x
	case []byte:
		return "b:" + string(x)
	case [16]byte:
		return "b:" + string(x[:])
	case time.Time:
		return x.UnixNano()
	case time.Duration:
		return int64(x)
	case *big.Rat:
		return "rat:" + x.RatString()
	case avro.Duration:
		return fmt.Sprintf("dur:%d/%d/%d", x.Months, x.Days, x.Milliseconds)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainTwmb(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainTwmb(e)
		}
		return out
	}
	panic(fmt.Sprintf("plainTwmb: %T", v))
}

// plainValue brings one decoded value into plain form, decoding arrays,
// maps and records through their nested decoders.
func plainValue(tb testing.TB, v *Value, t *Type) any {
	tb.Helper()
	if t.Kind == KindUnion && v.Kind != KindNull {
		t = t.Branches[v.Branch]
	}
	switch v.Kind {
	case KindNull:
		return nil
	case KindBoolean:
		return v.I == 1
	case KindInt, KindLong:
		switch t.Logical {
		case LogicalDate:
			return v.I * 86400 * 1e9
		case LogicalTimeMillis, LogicalTimestampMillis, LogicalLocalTimestampMillis:
			return v.I * 1e6
		case LogicalTimeMicros, LogicalTimestampMicros, LogicalLocalTimestampMicros:
			return v.I * 1e3
		}
		return v.I
	case KindFloat, KindDouble:
		return v.F
	case KindString, KindEnum:
		return string(v.B)
	case KindBytes, KindFixed:
		switch t.Logical {
		case LogicalDecimal:
			x := new(big.Int).SetBytes(v.B)
			if len(v.B) > 0 && v.B[0]&0x80 != 0 {
				x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(v.B))))
			}
			r := new(big.Rat).SetFrac(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Scale)), nil))
			return "rat:" + r.RatString()
		case LogicalDuration:
			return fmt.Sprintf("dur:%d/%d/%d", binary.LittleEndian.Uint32(v.B), binary.LittleEndian.Uint32(v.B[4:]), binary.LittleEndian.Uint32(v.B[8:]))
		}
		return "b:" + string(v.B)
	case KindArray, KindMap:
		elem := t.Items
		if v.Kind == KindMap {
			elem = t.Values
		}
		var row Row
		it := v.Items()
		list := []any{}
		m := map[string]any{}
		for it.Next(&row) {
			e := plainNested(tb, v.Nested, &row, elem)
			if v.Kind == KindMap {
				m[string(it.Key())] = e
			} else {
				list = append(list, e)
			}
		}
		if err := it.Err(); err != nil {
			tb.Fatalf("items: %v", err)
		}
		if int64(len(list)+len(m)) != v.I {
			tb.Fatalf("%v count %d, iterated %d", v.Kind, v.I, len(list)+len(m))
		}
		if v.Kind == KindMap {
			return m
		}
		return list
	case KindRecord:
		var row Row
		if err := v.Nested.Decode(v.B, &row); err != nil {
			tb.Fatalf("nested record: %v", err)
		}
		return plainNested(tb, v.Nested, &row, t)
	}
	tb.Fatalf("plainValue: kind %v", v.Kind)
	return nil
}

// plainNested is one item decoded by a nested decoder: a record (one
// column per field) or a single value (one column with the empty path).
func plainNested(tb testing.TB, d *Decoder, row *Row, t *Type) any {
	cols := d.Columns()
	if len(cols) == 1 && cols[0].Path == "" {
		return plainValue(tb, &row.Values[0], cols[0].Type)
	}
	m := make(map[string]any, len(cols))
	for i, c := range cols {
		m[c.Path] = plainValue(tb, &row.Values[i], c.Type)
	}
	return m
}

// leafPaths lists the dotted paths to every field under r, stepping into
// records and nullable records, and the paths of those records too.
func leafPaths(r *node, prefix string, seen map[*node]bool) []string {
	rec, _ := recordOf(r)
	if rec == nil || seen[rec] {
		return nil
	}
	seen[rec] = true
	defer delete(seen, rec)
	var out []string
	for _, f := range rec.fields {
		p := joinPath(prefix, f.name)
		out = append(out, p)
		out = append(out, leafPaths(f.typ, p, seen)...)
	}
	return out
}

// lookup follows a dotted path through decoded maps; a nil on the way
// makes the whole path nil, as a null nullable record does.
func lookup(m any, path string) any {
	for _, s := range strings.Split(path, ".") {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[s]
	}
	return m
}

func TestAgainstTwmb(t *testing.T) {
	for _, p := range oraclePairs {
		t.Run(p.name, func(t *testing.T) {
			ws, rs := avro.MustParse(p.writer), avro.MustParse(p.reader)
			resolved, err := avro.Resolve(ws, rs)
			if err != nil {
				t.Fatalf("twmb resolve: %v", err)
			}
			wn, err := nodeOf(ws)
			if err != nil {
				t.Fatal(err)
			}
			rn, err := nodeOf(rs)
			if err != nil {
				t.Fatal(err)
			}
			paths := leafPaths(rn, "", map[*node]bool{})
			var top []string
			for _, f := range rn.fields {
				top = append(top, f.name)
			}
			rng := rand.New(rand.NewPCG(7, uint64(len(p.name))))
			projections := [][]string{top, paths, {paths[len(paths)-1]}}
			for range 5 {
				sub := slices.Clone(paths)
				rng.Shuffle(len(sub), func(i, j int) { sub[i], sub[j] = sub[j], sub[i] })
				projections = append(projections, sub[:1+rng.IntN(len(sub))])
			}
			decs := make([]*Decoder, len(projections))
			for i, proj := range projections {
				if decs[i], err = Compile(ws, rs, proj); err != nil {
					t.Fatalf("compile %v: %v", proj, err)
				}
			}
			var row Row
			for n := range 300 {
				in := genValue(rng, wn, 0)
				rec, err := ws.Encode(in)
				if err != nil {
					t.Fatalf("encode %v: %v", in, err)
				}
				var want map[string]any
				if _, err := resolved.Decode(rec, &want); err != nil {
					t.Fatalf("twmb decode: %v", err)
				}
				plainWant := plainTwmb(want)
				for i, d := range decs {
					poison(&row, len(d.Columns()))
					if err := d.Decode(rec, &row); err != nil {
						t.Fatalf("record %d projection %v: %v", n, projections[i], err)
					}
					for ci, c := range d.Columns() {
						if row.Values[ci].Kind == poisonKind {
							t.Fatalf("record %d: column %s not written", n, c.Path)
						}
						got := plainValue(t, &row.Values[ci], c.Type)
						if exp := lookup(plainWant, c.Path); !reflect.DeepEqual(got, exp) {
							t.Fatalf("record %d column %s (%v): got %#v, want %#v", n, c.Path, c.Type.Kind, got, exp)
						}
					}
				}
			}
		})
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

const poisonKind Kind = 200

func poison(row *Row, n int) {
	row.Values = slices.Grow(row.Values[:0], n)[:n]
	for i := range row.Values {
		row.Values[i] = Value{Kind: poisonKind}
	}
}

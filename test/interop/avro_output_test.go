package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/sql"
	"github.com/sluicehq/sluice/internal/testenv"
)

// outputSource has a field of every SQL type Avro input gives, and nested
// values of every kind.
const outputSource = `{"type":"record","name":"Src","namespace":"acme","fields":[
 {"name":"b","type":"boolean"},
 {"name":"i","type":"int"},
 {"name":"l","type":"long"},
 {"name":"d","type":"double"},
 {"name":"f","type":"float"},
 {"name":"s","type":"string"},
 {"name":"by","type":"bytes"},
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"dt","type":{"type":"int","logicalType":"date"}},
 {"name":"tm","type":{"type":"long","logicalType":"time-micros"}},
 {"name":"e","type":{"type":"enum","name":"Action","symbols":["allow","deny"]}},
 {"name":"src","type":{"type":"record","name":"Addr","fields":[
   {"name":"ip","type":"string"},
   {"name":"port","type":"int"},
   {"name":"seen","type":{"type":"long","logicalType":"timestamp-millis"}},
   {"name":"kind","type":"Action"},
   {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":8,"scale":3}},
   {"name":"raw","type":"bytes"},
   {"name":"ratio","type":"float"},
   {"name":"multi","type":["null","string","long"]},
   {"name":"none","type":["null","string"]}
 ]}},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"attrs","type":{"type":"map","values":"long"}},
 {"name":"hits","type":{"type":"array","items":{"type":"record","name":"Hit","namespace":"other","fields":[
   {"name":"name","type":"string"},
   {"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}},
   {"name":"where","type":["null","acme.Addr"]}
 ]}}},
 {"name":"maybe","type":["null","Addr"],"default":null},
 {"name":"list","type":{"type":"record","name":"Node","fields":[
   {"name":"v","type":"int"},
   {"name":"next","type":["null","Node"]}
 ]}}
]}`

var outputStrings = []string{"", "plain", `quote " backslash \ comma , semi ;`, "controls \x00\x01\n\r\t\x1f\x7f",
	"non-ASCII: héllo, 日本語, 🦆", "line separators \u2028 \u2029", strings.Repeat("long ", 100)}

func outputRecord(i int) map[string]any {
	ts := time.Date(2026, 11, 26, 15, 4, 5, 123_456_000, time.UTC).Add(time.Duration(i) * time.Hour)
	addr := map[string]any{"ip": fmt.Sprintf("10.1.2.%d", i), "port": int32(51000 + i), "seen": ts.UnixMilli(),
		"kind": "deny", "amount": []byte{0xff, 0xfe}, "raw": []byte{0, byte(i), 0xff}, "ratio": float32(0.1),
		"multi": int64(-7 * i), "none": nil}
	if i%2 == 1 {
		addr["multi"] = outputStrings[i%len(outputStrings)]
	}
	var list any
	for k := range i % 4 {
		list = map[string]any{"v": int32(k), "next": list}
	}
	hits := []any{}
	for k := range i % 3 {
		var where any
		if k == 1 {
			where = addr
		}
		hits = append(hits, map[string]any{"name": fmt.Sprintf("h%d", k), "at": ts.UnixMicro() - int64(k), "where": where})
	}
	var maybe any
	if i%2 == 0 {
		maybe = addr
	}
	return map[string]any{
		"b": i%2 == 0, "i": int32(math.MinInt32 + i), "l": int64(math.MaxInt64 - i), "d": []float64{0.1, math.Copysign(0, -1), 1e300, 5e-324, math.Inf(1), math.NaN(), 123.456}[i%7],
		"f": float32(1.5), "s": outputStrings[i%len(outputStrings)], "by": []byte(outputStrings[i%len(outputStrings)]),
		"ts": ts.UnixMicro(), "dt": int32(20783 + i), "tm": int64((15*3600+4*60+5)*1_000_000 + i*123_456),
		"e": []string{"allow", "deny"}[i%2], "src": addr, "tags": []any{"a", outputStrings[i%len(outputStrings)]},
		"attrs": map[string]any{"x\"y": int64(i), "z": int64(-i)}, "hits": hits, "maybe": maybe,
		"list": map[string]any{"v": int32(99), "next": list},
	}
}

// TestAvroOutputFastavro: rows of every type encoded by Sluice's Avro
// encoder, as one object container file and as single-object records, read
// back by Python's fastavro with the schema format.AvroSchema publishes;
// every value compared with what the row holds (nested values with what
// fastavro reads from the source record).
func TestAvroOutputFastavro(t *testing.T) {
	python := testenv.Python(t)
	dir := t.TempDir()
	schema := avro.MustParse(outputSource)
	q, err := sql.Analyze("SELECT *, ts AS ts2 FROM tenant", schema)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := decode.Compile(schema, schema, q.Fields)
	if err != nil {
		t.Fatal(err)
	}
	// Columns no Avro input gives directly: INTERVAL and a bare NULL.
	cols := append(append([]sql.OutputColumn(nil), q.Columns...),
		sql.OutputColumn{Name: "iv", Type: sql.TypeInterval}, sql.OutputColumn{Name: "n", Type: sql.TypeUnknown})

	const n = 14
	var rows [][]sql.Value
	var srcFiles []string
	env := sql.NewEnv()
	for i := range n {
		enc, err := schema.Encode(outputRecord(i))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("src%d.bin", i))
		if err := os.WriteFile(p, enc, 0o644); err != nil {
			t.Fatal(err)
		}
		srcFiles = append(srcFiles, p)
		row := &decode.Row{}
		if err := dec.Decode(enc, row); err != nil {
			t.Fatal(err)
		}
		env.Row = row
		vals := make([]sql.Value, 0, len(cols))
		for _, p := range q.Project {
			vals = append(vals, p(env))
		}
		vals = append(vals, sql.Value{I: int64(i-7) * 90_061_000_001}, sql.Null)
		if i == n-1 { // a row of NULLs
			for k := range vals {
				vals[k] = sql.Null
			}
		}
		rows = append(rows, vals)
	}

	schemaText, err := format.AvroSchema(cols)
	if err != nil {
		t.Fatal(err)
	}
	schemaPath := filepath.Join(dir, "schema.avsc")
	if err := os.WriteFile(schemaPath, []byte(schemaText), 0o644); err != nil {
		t.Fatal(err)
	}
	sourcePath := filepath.Join(dir, "source.avsc")
	if err := os.WriteFile(sourcePath, []byte(outputSource), 0o644); err != nil {
		t.Fatal(err)
	}
	// Not snappy: fastavro needs cramjam for it, which requirements.txt
	// does not install (internal/format reads snappy back with twmb/avro).
	for _, codec := range []string{"null", "deflate"} {
		t.Run(codec, func(t *testing.T) {
			ocfEnc, err := format.NewWithOptions("AVRO", cols, format.Options{Container: true, Codec: codec})
			if err != nil {
				t.Fatal(err)
			}
			soeEnc, err := format.New("avro", cols)
			if err != nil {
				t.Fatal(err)
			}
			be := ocfEnc.(format.BatchEncoder)
			file := be.AppendBatchStart(nil)
			args := []string{"testdata/read_avro.py", schemaPath, filepath.Join(dir, "out.avro")}
			for i, row := range rows {
				if file, err = ocfEnc.AppendRow(file, row); err != nil {
					t.Fatal(err)
				}
				msg, err := soeEnc.AppendRow(nil, row)
				if err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(dir, fmt.Sprintf("soe%d.bin", i))
				if err := os.WriteFile(p, msg, 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, p)
			}
			if file, err = be.AppendBatchEnd(file, len(rows)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(args[2], file, 0o644); err != nil {
				t.Fatal(err)
			}
			out := runPython(t, python, args...)
			var got struct {
				Codec string           `json:"codec"`
				OCF   []map[string]any `json:"ocf"`
				SOE   []map[string]any `json:"soe"`
			}
			decodeJSON(t, out, &got)
			if got.Codec != codec || len(got.OCF) != n || len(got.SOE) != n {
				t.Fatalf("codec %q, %d OCF records, %d single-object records", got.Codec, len(got.OCF), len(got.SOE))
			}
			var srcs []map[string]any
			decodeJSON(t, runPython(t, python, append([]string{"testdata/read_avro.py", "--source", sourcePath}, srcFiles...)...), &srcs)
			for i := range n {
				want := expected(t, cols, rows[i], srcs[i])
				for name, recs := range map[string][]map[string]any{"ocf": got.OCF, "soe": got.SOE} {
					if !reflect.DeepEqual(recs[i], want) {
						gj, _ := json.Marshal(recs[i])
						wj, _ := json.Marshal(want)
						t.Errorf("%s row %d:\n got %s\nwant %s", name, i, gj, wj)
					}
				}
			}
		})
	}
}

func runPython(t *testing.T, python string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(python, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", args[0], err, stderr.Bytes())
	}
	return out
}

func decodeJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%v: %.500s", err, b)
	}
}

// expected is what read_avro.py prints for a row: scalars from the
// sql.Values, nested values as fastavro read them from the source record.
func expected(t *testing.T, cols []sql.OutputColumn, row []sql.Value, src map[string]any) map[string]any {
	t.Helper()
	m := map[string]any{}
	for i, c := range cols {
		v := row[i]
		if v.Null || c.Type.Kind == sql.Unknown {
			m[c.Name] = nil
			continue
		}
		switch c.Type.Kind {
		case sql.Boolean:
			m[c.Name] = v.I != 0
		case sql.Integer, sql.BigInt, sql.Interval:
			m[c.Name] = json.Number(fmt.Sprint(v.I))
		case sql.Double:
			switch {
			case math.IsNaN(v.F):
				m[c.Name] = map[string]any{"float": "NaN"}
			case math.IsInf(v.F, 1):
				m[c.Name] = map[string]any{"float": "inf"}
			default:
				m[c.Name] = json.Number(pythonFloat(v.F))
			}
		case sql.Varchar:
			m[c.Name] = strings.ToValidUTF8(string(v.B), "\uFFFD")
		case sql.Bytes:
			m[c.Name] = map[string]any{"hex": fmt.Sprintf("%x", v.B)}
		case sql.Timestamp:
			m[c.Name] = map[string]any{"datetime": pythonISO(time.UnixMicro(v.I).UTC(), "2006-01-02T15:04:05") + "+00:00"}
		case sql.Date:
			m[c.Name] = map[string]any{"date": time.Unix(v.I*86400, 0).UTC().Format("2006-01-02")}
		case sql.Time:
			m[c.Name] = map[string]any{"time": pythonISO(time.UnixMicro(v.I).UTC(), "15:04:05")}
		default:
			m[c.Name] = src[c.Name]
		}
	}
	return m
}

// pythonISO formats as Python's isoformat: microseconds only when not zero.
func pythonISO(t time.Time, layout string) string {
	if t.Nanosecond() != 0 {
		layout += ".000000"
	}
	return t.Format(layout)
}

// pythonFloat is repr(float) as json.dumps writes it.
func pythonFloat(f float64) string {
	switch {
	case f == 0 && math.Signbit(f):
		return "-0.0"
	case f == math.Trunc(f) && math.Abs(f) < 1e16:
		return fmt.Sprintf("%.1f", f)
	}
	s := fmt.Sprint(f) // shortest, exponent form like Python's for large and small
	if i := strings.Index(s, "e"); i >= 0 {
		mant, exp := s[:i], s[i+1:]
		if exp[0] == '+' || exp[0] == '-' {
			sign := exp[:1]
			exp = strings.TrimLeft(exp[1:], "0")
			if len(exp) < 2 {
				exp = fmt.Sprintf("%02s", exp)
			}
			return mant + "e" + sign + exp
		}
	}
	return s
}

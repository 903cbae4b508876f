package engine

import (
	"bytes"
	"testing"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/gen"
	"github.com/sluicehq/sluice/internal/sql"
)

const benchRecords = 1 << 16

// firewallRecords encodes n FirewallLog v1 records of the demo generator,
// one per millisecond of event time from start (ms).
func firewallRecords(b *testing.B, n int, start int64) [][]byte {
	b.Helper()
	s := gen.NewStream("acme-corp", 1, gen.DefaultThreatRatio)
	var r gen.Record
	out := make([][]byte, n)
	for i := range out {
		s.Next(&r, start+int64(i))
		enc, err := r.AppendV1(nil)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = enc
	}
	return out
}

func firewallDecoder(b *testing.B, fields []string) *decode.Decoder {
	b.Helper()
	d, err := decode.CompileJSON(gen.FirewallLogV1, gen.FirewallLogV1, fields)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func rowI(i int) sql.Eval {
	return func(e *sql.Env) sql.Value { return sql.Value{I: e.Row.Values[i].I} }
}

func rowB(i int) sql.Eval {
	return func(e *sql.Env) sql.Value { return sql.Value{B: e.Row.Values[i].B} }
}

// BenchmarkFilterProject: SELECT src_ip, dst_port, bytes_sent WHERE action
// <> 'allow' AND dst_port < 10000 (about a fifth pass), decoding the two
// filter fields first and the rest for the records that pass.
func BenchmarkFilterProject(b *testing.B) {
	recs := firewallRecords(b, benchRecords, 1_760_000_000_000)
	allow := []byte("allow")
	q := &sql.Query{
		Fields:       []string{"action", "dst_port", "src_ip", "bytes_sent"},
		FilterFields: 2,
		Columns: []sql.OutputColumn{
			{Name: "src_ip", Type: sql.TypeVarchar}, {Name: "dst_port", Type: sql.TypeInteger},
			{Name: "bytes_sent", Type: sql.TypeBigInt},
		},
		Where: func(e *sql.Env) sql.Value {
			r := e.Row.Values
			return sql.Bool(!bytes.Equal(r[0].B, allow) && r[1].I < 10000)
		},
		Project: []sql.Eval{rowB(2), rowI(1), rowI(3)},
	}
	flt, all := firewallDecoder(b, q.Fields[:2]), firewallDecoder(b, q.Fields)
	task := NewTask(q, Options{})
	var bytesOut int
	emit := EmitFunc(func(o *Output) error { bytesOut += len(o.Values[0].B); return nil })
	in := Input{Filter: flt, All: all}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		in.Offset = int64(i)
		in.Payload = recs[i&(benchRecords-1)]
		if err := task.Process(&in, emit); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	st := task.Stats()
	b.ReportMetric(float64(st.Out)/float64(st.In), "pass")
}

// BenchmarkTumbleGroupBy: SELECT dst_ip, COUNT(*), SUM(bytes_sent) GROUP BY
// TUMBLE(event_time, INTERVAL '1' MINUTE), dst_ip over records 1 ms apart
// (about 60,000 per window, several hundred distinct keys); windows close
// as event time moves on.
func BenchmarkTumbleGroupBy(b *testing.B) {
	recs := firewallRecords(b, benchRecords, 0)
	var shift int64 // µs added per pass over recs, so event time keeps going forward
	q := &sql.Query{
		Fields: []string{"event_time", "dst_ip", "bytes_sent"},
		Columns: []sql.OutputColumn{
			{Name: "dst_ip", Type: sql.TypeVarchar}, {Name: "n", Type: sql.TypeBigInt},
			{Name: "bytes", Type: sql.TypeBigInt}, {Name: "window_start", Type: sql.TypeTimestamp},
		},
		Agg: &sql.Aggregation{
			Window: sql.Window{Kind: sql.Tumble, Size: minute, Time: func(e *sql.Env) sql.Value {
				return sql.Value{I: e.Row.Values[0].I*1000 + shift}
			}},
			Keys:     []sql.Eval{rowB(1)},
			KeyTypes: []*sql.Type{sql.TypeVarchar},
			Aggregates: []sql.Aggregate{
				{Func: sql.Count, Type: sql.TypeBigInt},
				{Func: sql.Sum, Arg: rowI(2), ArgType: sql.TypeBigInt, Type: sql.TypeBigInt},
			},
			Project: []sql.Eval{slot(0), slot(1), slot(2), slot(3)},
		},
	}
	all := firewallDecoder(b, q.Fields)
	task := NewTask(q, Options{})
	var rows int
	emit := EmitFunc(func(o *Output) error { rows++; return nil })
	in := Input{All: all}
	keys := map[string]bool{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		j := i & (benchRecords - 1)
		if j == 0 && i > 0 {
			shift += benchRecords * 1000
		}
		in.Offset = int64(i)
		in.Payload = recs[j]
		if err := task.Process(&in, emit); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.StopTimer()
	if err := task.Drain(emit); err != nil {
		b.Fatal(err)
	}
	if b.N >= benchRecords {
		row := decode.Row{}
		for _, r := range recs {
			if err := all.Decode(r, &row); err != nil {
				b.Fatal(err)
			}
			keys[string(row.Values[1].B)] = true
		}
		b.ReportMetric(float64(len(keys)), "keys")
	}
	b.ReportMetric(float64(rows)/float64(b.N), "rows/record")
}

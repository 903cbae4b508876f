package engine

import (
	"testing"

	"github.com/twmb/avro"

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

// benchQuery analyses src against FirewallLog v1 and compiles its decoders,
// so that the benchmarks measure exactly what a job runs.
func benchQuery(b *testing.B, src string) (*sql.Query, Input) {
	b.Helper()
	q, err := sql.Analyze(src, avro.MustParse(gen.FirewallLogV1))
	if err != nil {
		b.Fatal(err)
	}
	var in Input
	if in.All, err = decode.CompileJSON(gen.FirewallLogV1, gen.FirewallLogV1, q.Fields); err != nil {
		b.Fatal(err)
	}
	if q.FilterFields > 0 {
		if in.Filter, err = decode.CompileJSON(gen.FirewallLogV1, gen.FirewallLogV1, q.Fields[:q.FilterFields]); err != nil {
			b.Fatal(err)
		}
	}
	return q, in
}

// BenchmarkFilterProject runs filter + project from the Avro bytes of
// demo firewall records: the two filter fields are decoded first, the rest
// only for the records that pass.
func BenchmarkFilterProject(b *testing.B) {
	for _, bc := range []struct{ name, sql string }{
		// The filter of DESIGN.md section 7.
		{"deny-privileged", "SELECT src_ip, dst_port, bytes_sent FROM tenant WHERE action = 'deny' AND dst_port < 1024"},
		{"not-allow", "SELECT src_ip, dst_port, bytes_sent FROM tenant WHERE action <> 'allow' AND dst_port < 10000"},
		{"functions", "SELECT LOWER(application) AS app, IP_SUBNET(src_ip, 24) AS subnet, bytes_sent / 1024 AS kib FROM tenant " +
			"WHERE IS_PRIVATE_IP(dst_ip) = FALSE AND action IN ('deny', 'drop')"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			recs := firewallRecords(b, benchRecords, 1_760_000_000_000)
			q, in := benchQuery(b, bc.sql)
			task := NewTask(q, Options{})
			var bytesOut int
			emit := EmitFunc(func(o *Output) error { bytesOut += len(o.Values[0].B); return nil })
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
		})
	}
}

// BenchmarkTumbleGroupBy runs SELECT src_ip, COUNT(*), SUM(bytes_sent)
// GROUP BY TUMBLE(event_time, INTERVAL '1' MINUTE), src_ip over records 1
// ms apart (60,000 per window); windows close as event time moves on.
func BenchmarkTumbleGroupBy(b *testing.B) {
	recs := firewallRecords(b, benchRecords, 0)
	q, in := benchQuery(b, "SELECT WINDOW_START, src_ip, COUNT(*) AS n, SUM(bytes_sent) AS bytes FROM tenant "+
		"GROUP BY TUMBLE(event_time, INTERVAL '1' MINUTE), src_ip")
	// The records are replayed, so event time is moved forward by one pass
	// per pass; otherwise every replay would be late.
	var shift int64
	eventTime := q.Agg.Window.Time
	q.Agg.Window.Time = func(e *sql.Env) sql.Value {
		v := eventTime(e)
		v.I += shift
		return v
	}
	task := NewTask(q, Options{})
	var rows int
	emit := EmitFunc(func(o *Output) error { rows++; return nil })
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
	keys := map[string]bool{}
	row := decode.Row{}
	for _, r := range recs {
		if err := in.All.Decode(r, &row); err != nil {
			b.Fatal(err)
		}
		keys[string(row.Values[1].B)] = true
	}
	b.ReportMetric(float64(len(keys)), "keys")
	b.ReportMetric(float64(rows)/float64(b.N), "rows/record")
}

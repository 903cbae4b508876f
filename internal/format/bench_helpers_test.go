package format

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/gen"
	"github.com/sluicehq/sluice/internal/sql"
)

const utf8RuneError = utf8.RuneError

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// firewallRows decodes and projects SELECT * rows of the demo firewall logs
// (23 columns), as a job does.
func firewallRows(tb testing.TB) ([]sql.OutputColumn, [][]sql.Value) {
	schema := avro.MustParse(gen.FirewallLogV1)
	q, err := sql.Analyze("SELECT * FROM tenant", schema)
	if err != nil {
		tb.Fatal(err)
	}
	dec, err := decode.Compile(schema, schema, q.Fields)
	if err != nil {
		tb.Fatal(err)
	}
	const n = 1024
	s := gen.NewStream("acme-corp", 1, gen.DefaultThreatRatio)
	rows := make([][]sql.Value, n)
	env := sql.NewEnv()
	var rec gen.Record
	for i := range rows {
		s.Next(&rec, 1_760_000_000_000+int64(i))
		enc, err := rec.AppendV1(nil)
		if err != nil {
			tb.Fatal(err)
		}
		row := &decode.Row{}
		if err := dec.Decode(enc, row); err != nil {
			tb.Fatal(err)
		}
		env.Row = row
		rows[i] = make([]sql.Value, len(q.Project))
		for j, p := range q.Project {
			rows[i][j] = p(env)
		}
	}
	return q.Columns, rows
}

func benchEncoder(b *testing.B, e Encoder, rows [][]sql.Value) {
	buf := make([]byte, 0, 64<<10)
	var bytesOut int
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		out, err := e.AppendRow(buf[:0], rows[i%len(rows)])
		if err != nil {
			b.Fatal(err)
		}
		bytesOut += len(out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
	b.ReportMetric(float64(bytesOut)/float64(b.N), "B/row")
	b.SetBytes(int64(bytesOut / max(b.N, 1)))
}

func jsonUnmarshalString(b []byte, s *string) error { return json.Unmarshal(b, s) }

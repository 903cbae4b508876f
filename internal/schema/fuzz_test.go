package schema

import (
	"testing"

	"github.com/sluicehq/sluice/internal/gen"
)

// FuzzParseAndCompare feeds arbitrary schema text to the registry's parser
// and, for pairs that parse, to the compatibility checker: neither may panic,
// and a schema is always compatible with itself.
func FuzzParseAndCompare(f *testing.F) {
	f.Add(gen.FirewallLogV1, gen.FirewallLogV2)
	f.Add(rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"long"}`))
	f.Add(`{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}`, `{"type":"enum","name":"E","symbols":["A"]}`)
	f.Add(`["null","string",{"type":"array","items":"int"}]`, `{"type":"map","values":"bytes"}`)
	f.Add(`{"type":"fixed","name":"F","size":16,"logicalType":"uuid"}`, `"string"`)
	f.Add(`{`, `{"type":"record","name":"R","fields":[{"name":"r","type":["null","R"]}]}`)
	f.Fuzz(func(t *testing.T, a, b string) {
		pa, errA := Parse(a)
		pb, errB := Parse(b)
		if errA != nil || errB != nil {
			return
		}
		if got := Incompatibilities(pa.Avro, pa.Avro); len(got) != 0 {
			t.Fatalf("schema incompatible with itself: %v\n%s", got, a)
		}
		Incompatibilities(pa.Avro, pb.Avro)
		Incompatibilities(pb.Avro, pa.Avro)
	})
}

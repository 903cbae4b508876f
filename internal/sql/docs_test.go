package sql

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/twmb/avro"
)

// TestDocExamples analyses every SQL example in docs/sql.md against the
// demo firewall schema (plus the nested fields the nested-data examples
// use), so the reference cannot show a query Sluice rejects.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/sql.md")
	if err != nil {
		t.Fatal(err)
	}
	avsc, err := os.ReadFile("../gen/schemas/firewall_log_v1.avsc")
	if err != nil {
		t.Fatal(err)
	}
	nested := `{"name": "src", "type": {"type": "record", "name": "Src", "fields": [{"name": "ip", "type": "string"},
		{"name": "geo", "type": {"type": "record", "name": "Geo", "fields": [{"name": "country", "type": "string"}]}}]}},
		{"name": "tags", "type": {"type": "array", "items": "string"}},
		{"name": "labels", "type": {"type": "map", "values": "string"}},
		{"name": "hits", "type": {"type": "array", "items": {"type": "record", "name": "Hit", "fields": [{"name": "name", "type": "string"}]}}},`
	text := strings.Replace(string(avsc), `"fields": [`, `"fields": [`+nested, 1)
	schema, err := avro.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	n := 0
	for _, b := range blocks {
		// Statements are separated by blank lines or start with SELECT.
		for _, stmt := range regexp.MustCompile(`(?m)^\s*\n|^(?:SELECT)`).Split(b[1], -1) {
			stmt = strings.TrimSpace(stmt)
			if stmt == "" || strings.HasPrefix(stmt, "--") && !strings.Contains(stmt, "\n") {
				continue
			}
			if !strings.HasPrefix(strings.ToUpper(stmt), "SELECT") && !strings.HasPrefix(stmt, "--") {
				stmt = "SELECT " + stmt
			}
			if strings.Contains(stmt, "<items>") {
				continue // the grammar outline
			}
			n++
			if _, err := Analyze(stmt, schema); err != nil {
				t.Errorf("docs/sql.md example:\n%s\n%v", stmt, err)
			}
		}
	}
	t.Logf("%d examples analysed", n)
	if n < 20 {
		t.Fatalf("found %d examples in docs/sql.md; the extraction is broken", n)
	}
}

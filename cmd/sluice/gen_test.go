package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/gen"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema/wire"
)

// TestGenValidation covers flag mistakes, caught before any request.
func TestGenValidation(t *testing.T) {
	c := cli{t: t, url: unusedAddr(t)}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gen", "--rate", "-1"}, "--rate -1: want 0 (as fast as possible)"},
		{[]string{"gen", "--rate", "NaN"}, "--rate NaN"},
		{[]string{"gen", "--count", "-5"}, "--count -5: must not be negative"},
		{[]string{"gen", "--duration", "-1s"}, "--duration -1s"},
		{[]string{"gen", "--threat-ratio", "1.5"}, "--threat-ratio 1.5: want 0 to 1"},
		{[]string{"gen", "--roll-schema-after", "-1"}, "--roll-schema-after -1"},
		{[]string{"gen", "--tenants", "acme,,globex"}, "--tenants: a tenant name is empty"},
		{[]string{"gen", "--tenants", "acme,acme"}, "--tenants: acme is given twice"},
		{[]string{"gen", "--start", "yesterday"}, `--start "yesterday": want an RFC 3339 time`},
		{[]string{"gen", "-o", "yaml"}, `--output "yaml"`},
		{[]string{"gen", "extra"}, `unknown command "extra"`},
	} {
		c.fails(tc.args, tc.want)
	}
	// Without --tenants the tenants come from the API, which must answer.
	c.fails([]string{"gen"}, "list tenants: cannot reach the Sluice API", "--server")
}

// TestCLIGen runs `sluice gen --count` through the API, with its schema
// registry, against kfake: every record lands in its tenant's topic and
// decodes with the schema its header names. A second run registers the same
// schemas again, gets the same versions back, and writes with them.
func TestCLIGen(t *testing.T) {
	c, srv := startCLI(t)
	c.ok("cluster", "add", "eu1", "--region", "eu", "--bootstrap", srv.Kafka)
	c.ok("tenant", "create", "acme", "--region", "eu", "--partitions", "3")
	c.ok("tenant", "create", "globex", "--region", "eu", "--partitions", "2")

	const count, roll = 40, 15
	for run := 1; run <= 2; run++ {
		var sum struct {
			gen.Stats
			Seed int64
		}
		// No --tenants: every ready tenant.
		decodeJSON(t, c.ok("gen", "--count", strconv.Itoa(count), "--rate", "0", "--roll-schema-after", strconv.Itoa(roll),
			"--seed", strconv.Itoa(run), "-o", "json"), &sum)
		if sum.Sent != 2*count || sum.Failed != 0 || sum.Seed != int64(run) || len(sum.Tenants) != 2 {
			t.Fatalf("run %d: gen -o json = %+v", run, sum)
		}
		for _, ts := range sum.Tenants {
			if ts.Sent != count || ts.SchemaVersion != 2 {
				t.Fatalf("run %d: tenant %s: %+v, want %d sent and version 2 at the end", run, ts.Tenant, ts, count)
			}
		}
	}
	schemas := map[int]*avro.Schema{1: avro.MustParse(gen.FirewallLogV1), 2: avro.MustParse(gen.FirewallLogV2)}
	for _, tenant := range []string{"acme", "globex"} {
		versions := map[int]int{}
		for _, r := range readTopic(t, srv.Kafka, "sluice.tenant."+tenant+".1", 2*count) {
			ref, body, err := wire.Parse(r.Headers, r.Value)
			if err != nil {
				t.Fatalf("tenant %s: %v", tenant, err)
			}
			var rec gen.Record
			if _, err := schemas[ref.Version].Decode(body, &rec); err != nil || rec.Tenant != tenant {
				t.Fatalf("tenant %s: record with version %d: %v (tenant %q)", tenant, ref.Version, err, rec.Tenant)
			}
			versions[ref.Version]++
		}
		if versions[1] != 2*roll || versions[2] != 2*(count-roll) {
			t.Fatalf("tenant %s: records per version %v, want %d of 1 and %d of 2", tenant, versions, 2*roll, 2*(count-roll))
		}
		// The route names the latest version, the one gen rolled to.
		var route struct{ SchemaVersion int }
		if decodeJSON(t, c.ok("tenant", "route", tenant, "-o", "json"), &route); route.SchemaVersion != 2 {
			t.Errorf("route of %s names schema version %d, want 2", tenant, route.SchemaVersion)
		}
	}
}

// readTopic reads the n records of topic and checks there are no more.
func readTopic(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := kafkatest.NewAdmin(t, addr).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != int64(n) {
		t.Fatalf("%s holds %d records, want %d", topic, total, n)
	}
	cl := kafkatest.NewClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(out), n, topic)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// TestCLIGenProgress runs gen for a moment on the wall clock and checks the
// progress lines and the summary table.
func TestCLIGenProgress(t *testing.T) {
	old := genProgressInterval
	genProgressInterval = 100 * time.Millisecond
	t.Cleanup(func() { genProgressInterval = old })
	c, srv := startCLI(t)
	c.ok("cluster", "add", "eu1", "--region", "eu", "--bootstrap", srv.Kafka)
	c.ok("tenant", "create", "acme", "--region", "eu", "--partitions", "1")

	// Long enough for a few progress lines on a loaded machine; how many
	// records are sent by then does not matter here.
	out := c.ok("gen", "--tenants", "acme", "--rate", "100", "--duration", "2s", "--threat-ratio", "0")
	if !regexpMatch(`(?m)^gen: \d+ sent \(\d+/s\), 0 failed; acme \d+ v\d$`, out) {
		t.Errorf("no progress line in:\n%s", out)
	}
	if !regexpMatch(`(?m)^TENANT\s+SENT\s+FAILED\s+SCHEMA VERSION\nacme\s+\d+\s+0\s+\d\nSent \d+ records in [\d.]+m?s \(\d+/s\), 0 failed; seed -?\d+\.$`, out) {
		t.Errorf("no summary in:\n%s", out)
	}
}

// TestCLIGenNoTenants: gen needs tenants that exist.
func TestCLIGenNoTenants(t *testing.T) {
	c, _ := startCLI(t)
	c.fails([]string{"gen", "--count", "1"}, "no ready tenants", "sluice tenant create")
	c.fails([]string{"gen", "--count", "1", "--tenants", "nobody"}, `gen: route of tenant nobody: 404 Not Found: tenant "nobody" does not exist`)
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// TestDevGenerates checks that `sluice dev` produces demo traffic into the
// demo tenants' topics through its own API and still exits 0 on Ctrl-C.
func TestDevGenerates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dataDir := t.TempDir()
	p := startDev(t, buildBinary(t), dataDir)
	p.waitReady(t)
	v1 := avro.MustParse(gen.FirewallLogV1)
	for _, tenant := range []string{"acme", "initech"} {
		cl := kafkatest.NewClient(t, p.kafka, kgo.ConsumeTopics("sluice.tenant."+tenant+".1"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var n int
		for n < 5 {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("%d records of %s within 30s\n%s", n, tenant, p.stderr)
			}
			for _, r := range fs.Records() {
				ref, body, err := wire.Parse(r.Headers, r.Value)
				var rec gen.Record
				if err == nil {
					_, err = v1.Decode(body, &rec)
				}
				if err != nil || ref.Version != 1 || rec.Tenant != tenant {
					t.Fatalf("record of %s: version %v, tenant %q: %v", tenant, ref, rec.Tenant, err)
				}
				n++
			}
		}
		cancel()
	}
	// The demo job writes the generator's non-allowed sessions as NDJSON.
	out := filepath.Join(dataDir, "demo", "acme-alerts.ndjson")
	deadline := time.Now().Add(30 * time.Second)
	var rows []map[string]any
	for len(rows) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no demo job output in %s within 30s\n%s", out, p.stderr)
		}
		time.Sleep(100 * time.Millisecond)
		b, _ := os.ReadFile(out)
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var row map[string]any
			if line != "" && json.Unmarshal([]byte(line), &row) == nil {
				rows = append(rows, row)
			}
		}
	}
	for _, row := range rows {
		if row["action"] == "allow" || row["src_ip"] == nil || len(row) != 7 {
			t.Fatalf("demo job row %v", row)
		}
	}
	p.interrupt(t)
	if strings.Contains(p.stderr.String(), "generator stopped") || strings.Contains(p.stderr.String(), "demo job") {
		t.Fatalf("the generator or the demo job failed:\n%s", p.stderr)
	}
}

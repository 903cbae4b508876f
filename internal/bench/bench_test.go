package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/sql"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestBenchScenarios runs every scenario small and checks that its figures
// are sane. It asserts nothing about speed: machines are noisy.
func TestBenchScenarios(t *testing.T) {
	const n = 20_000
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			var progress bytes.Buffer
			if s.Unit == "updates" {
				const updates = 4
				r, err := s.Run(t.Context(), Config{Records: updates, Progress: &progress})
				if err != nil {
					t.Fatal(err)
				}
				if u := r.Update; u == nil || u.Updates != updates || u.TookP50Ms <= 0 || u.TookP99Ms < u.TookP50Ms || u.AppliedP50Ms < u.TookP50Ms || r.Records <= 0 {
					t.Errorf("update latency %+v after %d records", u, r.Records)
				}
				return
			}
			r, err := s.Run(t.Context(), Config{Records: n, Progress: &progress})
			if errors.Is(err, ErrUnavailable) && !testenv.Required() {
				t.Skip(err) // scripts/test provides what it needs
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Scenario != s.Name || r.Records != n || r.Query == "" {
				t.Errorf("scenario %q, records %d, query %q", r.Scenario, r.Records, r.Query)
			}
			if r.CPUSeconds <= 0 || r.WallSeconds <= 0 || r.RecordsPerCPUSecond <= 0 || r.NsPerRecord <= 0 {
				t.Errorf("cpu %v s, wall %v s, %v records/CPU-s, %v ns/record: want all positive",
					r.CPUSeconds, r.WallSeconds, r.RecordsPerCPUSecond, r.NsPerRecord)
			}
			if r.RecordsOut <= 0 || r.RecordsOut > n && s.Name != "tumble-agg" {
				t.Errorf("records_out %d of %d", r.RecordsOut, n)
			}
			if r.AllocsPerRecord < 0 || r.BytesIn <= 0 {
				t.Errorf("allocs/record %v, bytes in %d", r.AllocsPerRecord, r.BytesIn)
			}
			if !strings.Contains(progress.String(), "measuring") {
				t.Errorf("progress does not say it is measuring:\n%s", progress.String())
			}
			hasTarget := r.TargetRecordsPerCPUSecond > 0 || r.TargetRatio > 0
			if hasTarget != (r.MeetsTarget != nil) {
				t.Errorf("target %v / ratio %v but meets_target %v", r.TargetRecordsPerCPUSecond, r.TargetRatio, r.MeetsTarget)
			}
			if s.Name == "e2e-kafka" {
				if r.RatioVsBareConsumer == nil || *r.RatioVsBareConsumer <= 0 || r.BareConsumer == nil || r.BareConsumer.Records != n {
					t.Errorf("ratio %v, bare consumer %+v", r.RatioVsBareConsumer, r.BareConsumer)
				}
			} else if r.RatioVsBareConsumer != nil {
				t.Errorf("ratio_vs_bare_consumer set on an in-memory scenario")
			}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"scenario", "records", "wall_seconds", "cpu_seconds", "records_per_cpu_second", "allocs_per_record"} {
				if _, ok := m[k]; !ok {
					t.Errorf("JSON has no %q: %s", k, b)
				}
			}
		})
	}
}

// TestPassFractions checks that the filters select what they should: the
// section 7 filter about a tenth of the generator's records, Nexmark q2
// under one in a hundred, the others every record.
func TestPassFractions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lo, hi float64
	}{
		{"filter-json", 0.05, 0.15},
		{"select-all-json", 1, 1},
		{"nexmark-q0", 1, 1},
		{"nexmark-q1", 1, 1},
		{"nexmark-q2", 0.001, 0.02},
	} {
		s, ok := Find(tc.name)
		if !ok {
			t.Fatalf("no scenario %s", tc.name)
		}
		r, err := s.Run(t.Context(), Config{Records: 10_000})
		if err != nil {
			t.Fatal(err)
		}
		if r.PassFraction < tc.lo || r.PassFraction > tc.hi {
			t.Errorf("%s: pass fraction %v, want %v to %v", tc.name, r.PassFraction, tc.lo, tc.hi)
		}
	}
}

func TestQueriesAnalyse(t *testing.T) {
	for _, tc := range []struct {
		src   source
		query string
	}{
		{firewall, QueryFilter}, {firewall, QuerySelectAll}, {firewall, QueryTumble},
		{bids, QueryNexmarkQ0}, {bids, QueryNexmarkQ1}, {bids, QueryNexmarkQ2},
	} {
		q, err := sql.Analyze(tc.query, avro.MustParse(tc.src.schema))
		if err != nil {
			t.Errorf("%s: %v", tc.query, err)
			continue
		}
		if tc.query == QueryNexmarkQ1 && q.Columns[2].Type.String() != "DOUBLE" {
			t.Errorf("q1 price is %v, want DOUBLE", q.Columns[2].Type)
		}
	}
}

func TestRecordsAreGroupedAsFetches(t *testing.T) {
	const n = 5000
	polls, bytesIn, err := records(firewall, n)
	if err != nil {
		t.Fatal(err)
	}
	if want := (n + memPartitions*batchRecords - 1) / (memPartitions * batchRecords); len(polls) != want {
		t.Fatalf("%d polls, want %d", len(polls), want)
	}
	next := map[int32]int64{}
	total, sum := 0, int64(0)
	for _, poll := range polls {
		for i, r := range poll {
			if want := int32(i / batchRecords); r.Partition != want {
				t.Fatalf("record %d of a poll in partition %d, want %d", i, r.Partition, want)
			}
			if r.Offset != next[r.Partition] {
				t.Fatalf("partition %d: offset %d, want %d", r.Partition, r.Offset, next[r.Partition])
			}
			next[r.Partition]++
			ref, body, err := wire.Parse(r.Headers, r.Value)
			if err != nil || ref.Version != 1 || len(body) != len(r.Value) {
				t.Fatalf("record %d: %v, %v", total, ref, err)
			}
			total++
			sum += int64(len(r.Value))
		}
	}
	if total != n || sum != bytesIn {
		t.Errorf("%d records of %d bytes, want %d of %d", total, sum, n, bytesIn)
	}
}

var escape []*[64]byte

func TestMeterCountsAllocations(t *testing.T) {
	m, err := begin(nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		escape = append(escape, new([64]byte))
	}
	x := 0
	for i := range 5_000_000 {
		x += i * i
	}
	s, err := m.end()
	if err != nil {
		t.Fatal(err)
	}
	escape = nil
	if s.mallocs < 1000 || s.allocBytes < 64_000 {
		t.Errorf("%d allocations of %d bytes, want at least 1000 of 64000", s.mallocs, s.allocBytes)
	}
	if s.cpu <= 0 || s.wall <= 0 || x == 0 {
		t.Errorf("cpu %v, wall %v", s.cpu, s.wall)
	}
	if again, _ := m.end(); again != (span{}) {
		t.Errorf("a second end measured %+v", again)
	}
}

func TestCPUProfile(t *testing.T) {
	s, _ := Find("nexmark-q2")
	var prof bytes.Buffer
	if _, err := s.Run(context.Background(), Config{Records: 20_000, CPUProfile: &prof}); err != nil {
		t.Fatal(err)
	}
	if prof.Len() == 0 {
		t.Error("no CPU profile written")
	}
}

func TestFindAndNames(t *testing.T) {
	want := []string{"filter-json", "select-all-json", "encode-json", "encode-csv", "encode-avro", "sink-https", "sink-kafka", "sink-postgres", "sink-storage-parquet", "tumble-agg", "e2e-kafka", "reliable-update", "nexmark-q0", "nexmark-q1", "nexmark-q2"}
	if got := Names(); got != strings.Join(want, ", ") {
		t.Errorf("Names() = %q", got)
	}
	for _, name := range want {
		if s, ok := Find(name); !ok || s.Doc == "" || s.DefaultRecords <= 0 || s.Run == nil {
			t.Errorf("Find(%q) = %+v, %v", name, s, ok)
		}
	}
	if _, ok := Find("nope"); ok {
		t.Error("Find(nope) found a scenario")
	}
}

func TestJudge(t *testing.T) {
	one := 0.01
	ratio := 0.5
	for _, tc := range []struct {
		r    Result
		want *bool
	}{
		{Result{RecordsPerCPUSecond: 3e6}, nil},
		{Result{RecordsPerCPUSecond: 3e6, TargetRecordsPerCPUSecond: 2.5e6}, ptr(true)},
		{Result{RecordsPerCPUSecond: 2e6, TargetRecordsPerCPUSecond: 2.5e6}, ptr(false)},
		{Result{RecordsPerCPUSecond: 3e6, TargetRecordsPerCPUSecond: 2.5e6, MaxAllocsPerRecord: &one, AllocsPerRecord: 0.5}, ptr(false)},
		{Result{RecordsPerCPUSecond: 3e6, TargetRatio: 0.6, RatioVsBareConsumer: &ratio}, ptr(false)},
	} {
		tc.r.judge()
		if (tc.r.MeetsTarget == nil) != (tc.want == nil) || tc.want != nil && *tc.r.MeetsTarget != *tc.want {
			t.Errorf("%+v: meets_target %v, want %v", tc.r, tc.r.MeetsTarget, tc.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

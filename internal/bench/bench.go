// Package bench holds the named scenarios `sluice bench` runs: Sluice's
// job pipeline over records held in memory (filter-json, select-all-json,
// tumble-agg, nexmark-q0..q2) and end to end through an in-process broker
// beside a bare franz-go consumer (e2e-kafka). Each scenario measures only
// its measured part (after the records are encoded and the topic filled):
// wall time, the process's CPU time (user + system, every goroutine), and
// heap allocations, and reports them as one Result.
//
// The targets come from DESIGN.md section 7; docs/benchmarks.md records
// the figures.
package bench

import (
	"context"
	"errors"
	"fmt"
	"github.com/sluicehq/sluice/internal/format"
	"io"
	"runtime"
	"slices"
	"strings"
)

// Scenario is one named benchmark.
type Scenario struct {
	Name string
	// Doc says in one line what is measured.
	Doc string
	// DefaultRecords is how many records Run processes when Config.Records
	// is 0.
	DefaultRecords int
	// Unit is what Config.Records counts when not records: "updates" for
	// reliable-update, which measures latency, not throughput.
	Unit string
	// Run sets the scenario up, measures it, and reports. It is not safe
	// to run two scenarios at once: they measure the whole process.
	Run func(ctx context.Context, cfg Config) (Result, error)
}

// Config tunes a run. The zero value runs a scenario at its defaults.
type Config struct {
	// Records overrides the scenario's DefaultRecords when positive.
	Records int
	// Progress, when set, receives a line per phase (setup, measuring).
	Progress io.Writer
	// CPUProfile, when set, receives a pprof CPU profile of the measured
	// part (for e2e-kafka, of the Sluice job's part, not of the bare
	// consumer's).
	CPUProfile io.Writer
}

func (c Config) records(def int) int {
	if c.Records > 0 {
		return c.Records
	}
	return def
}

func (c Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// Scenarios returns every scenario, in the order `sluice bench` runs them.
func Scenarios() []Scenario {
	return slices.Clone(scenarios)
}

// Find returns the scenario called name.
func Find(name string) (Scenario, bool) {
	for _, s := range scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Names lists the scenario names, comma-separated.
func Names() string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// Queries of the scenarios. The firewall ones read internal/gen's
// FirewallLog v1; the Nexmark ones are Flink's Nexmark q0–q2 in Sluice's
// dialect (the table is always called tenant).
const (
	QueryFilter    = "SELECT * FROM tenant WHERE action = 'deny' AND dst_port < 1024"
	QuerySelectAll = "SELECT * FROM tenant"
	QueryTumble    = "SELECT WINDOW_START, src_ip, COUNT(*) AS n, SUM(bytes_sent) AS bytes FROM tenant " +
		"GROUP BY TUMBLE(event_time, INTERVAL '1' MINUTE), src_ip"
	QueryNexmarkQ0 = "SELECT * FROM tenant"
	QueryNexmarkQ1 = "SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM tenant"
	QueryNexmarkQ2 = "SELECT auction, price FROM tenant WHERE auction % 123 = 0"
)

// Targets of DESIGN.md section 7.
const (
	TargetFilter    = 2_500_000 // records per CPU-second
	TargetSelectAll = 1_000_000
	TargetTumble    = 1_000_000
	TargetE2ERatio  = 0.6 // of a bare franz-go consumer's records per CPU-second
	// MaxAllocsFilter: filter-json allocates nothing per record; what it
	// allocates per output batch (a batch id, the offsets to commit) comes
	// to well under one allocation per 100 records.
	MaxAllocsFilter = 0.01
)

// ErrUnavailable is wrapped by the error of a scenario that cannot run
// here (a server it needs is not configured): a run of every scenario
// skips it.
var ErrUnavailable = errors.New("scenario unavailable")

var scenarios = []Scenario{
	{
		Name:           "filter-json",
		Doc:            "firewall records in memory → WHERE action = 'deny' AND dst_port < 1024 → SELECT * as JSON → discard",
		DefaultRecords: 2_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "filter-json", query: QueryFilter, source: firewall,
				target: TargetFilter, maxAllocs: MaxAllocsFilter, def: 2_000_000})
		},
	},
	{
		Name:           "select-all-json",
		Doc:            "firewall records in memory → SELECT * as JSON (every record encoded) → discard",
		DefaultRecords: 2_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "select-all-json", query: QuerySelectAll, source: firewall,
				target: TargetSelectAll, def: 2_000_000})
		},
	},
	{
		Name:           "encode-json",
		Doc:            "firewall records in memory → SELECT * → JSON (NDJSON) → discard: the JSON encoder on every record",
		DefaultRecords: 2_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "encode-json", query: QuerySelectAll, source: firewall, format: "JSON", def: 2_000_000})
		},
	},
	{
		Name:           "encode-csv",
		Doc:            "firewall records in memory → SELECT * → CSV with a header per batch → discard",
		DefaultRecords: 2_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "encode-csv", query: QuerySelectAll, source: firewall, format: "CSV",
				formatOpts: format.Options{Header: true}, def: 2_000_000})
		},
	},
	{
		Name:           "encode-avro",
		Doc:            "firewall records in memory → SELECT * → Avro, one container file (OCF) per batch → discard",
		DefaultRecords: 2_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "encode-avro", query: QuerySelectAll, source: firewall, format: "AVRO",
				formatOpts: format.Options{Container: true}, def: 2_000_000})
		},
	},
	{
		Name:           "sink-https",
		Doc:            "firewall records in memory → SELECT * as JSON → the https sink (gzip off) → an in-process TLS receiver on loopback that reads and counts every request",
		DefaultRecords: 1_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "sink-https", query: QuerySelectAll, source: firewall, receiver: httpsReceiver, def: 1_000_000})
		},
	},
	{
		Name:           "sink-kafka",
		Doc:            "firewall records in memory → SELECT * as JSON → the kafka sink, exactly-once (one transaction per batch with its source offsets) → an in-process broker on loopback (SLUICE_BENCH_KAFKA: a real cluster)",
		DefaultRecords: 1_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "sink-kafka", query: QuerySelectAll, source: firewall, receiver: kafkaReceiver, def: 1_000_000})
		},
	},
	{
		Name:           "sink-postgres",
		Doc:            "firewall records in memory → SELECT * as JSON → the postgres sink (columns layout, exactly-once: rows and offsets in one transaction per batch) → the server SLUICE_BENCH_POSTGRES names",
		DefaultRecords: 500_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "sink-postgres", query: QuerySelectAll, source: firewall, receiver: postgresReceiver, def: 500_000})
		},
	},
	{
		Name:           "sink-storage-parquet",
		Doc:            "firewall records in memory → SELECT * as JSON → the storage sink writing Parquet objects (exactly-once rolls) to a file:// bucket in a temporary directory",
		DefaultRecords: 1_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "sink-storage-parquet", query: QuerySelectAll, source: firewall, receiver: storageReceiver, def: 1_000_000})
		},
	},
	{
		Name:           "tumble-agg",
		Doc:            "firewall records in memory, 1 ms apart → 1-minute TUMBLE GROUP BY src_ip, COUNT(*), SUM(bytes_sent) → JSON → discard",
		DefaultRecords: 2_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "tumble-agg", query: QueryTumble, source: firewall,
				target: TargetTumble, def: 2_000_000})
		},
	},
	{
		Name:           "e2e-kafka",
		Doc:            "firewall records through an in-process broker on loopback: the filter-json job beside a bare franz-go consumer of the same topic",
		DefaultRecords: e2eRecords,
		Run:            runE2E,
	},
	{
		Name:           "reliable-update",
		Doc:            "a subscription's SQL switched between a filter and a 10-second TUMBLE aggregation, N times (default 20) while a producer writes: update latency p50/p99 (stop of epoch N to epoch N+1 consuming)",
		DefaultRecords: updateDefault,
		Unit:           "updates",
		Run:            runReliableUpdate,
	},
	{
		Name:           "nexmark-q0",
		Doc:            "Nexmark bids (Avro) in memory → q0 passthrough, SELECT * as JSON → discard",
		DefaultRecords: 2_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "nexmark-q0", query: QueryNexmarkQ0, source: bids, def: 2_000_000})
		},
	},
	{
		Name:           "nexmark-q1",
		Doc:            "Nexmark bids (Avro) in memory → q1 currency conversion, 0.908 * price → JSON → discard",
		DefaultRecords: 2_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "nexmark-q1", query: QueryNexmarkQ1, source: bids, def: 2_000_000})
		},
	},
	{
		Name:           "nexmark-q2",
		Doc:            "Nexmark bids (Avro) in memory → q2 selection, WHERE auction % 123 = 0 → JSON → discard",
		DefaultRecords: 2_000_000,
		Run: func(ctx context.Context, cfg Config) (Result, error) {
			return runMemory(ctx, cfg, memSpec{name: "nexmark-q2", query: QueryNexmarkQ2, source: bids, def: 2_000_000})
		},
	},
}

// Result is what a scenario measured, marshalled as one JSON object.
// Per-CPU-second figures divide by the process's user + system time in
// the measured part, so they are per core whatever GOMAXPROCS is.
type Result struct {
	Scenario string `json:"scenario"`
	Query    string `json:"query"`
	// Records went in; RecordsOut are result rows delivered to the sink.
	Records      int64   `json:"records"`
	RecordsOut   int64   `json:"records_out"`
	PassFraction float64 `json:"pass_fraction"`
	BytesIn      int64   `json:"bytes_in"`
	WallSeconds  float64 `json:"wall_seconds"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	// RecordsPerCPUSecond is Records / CPUSeconds; NsPerRecord its
	// inverse in CPU nanoseconds; RecordsPerSecond is by wall time.
	RecordsPerCPUSecond float64 `json:"records_per_cpu_second"`
	NsPerRecord         float64 `json:"ns_per_record"`
	RecordsPerSecond    float64 `json:"records_per_second"`
	AllocsPerRecord     float64 `json:"allocs_per_record"`
	BytesPerRecord      float64 `json:"alloc_bytes_per_record"`
	GCCycles            uint32  `json:"gc_cycles"`

	// RatioVsBareConsumer (e2e-kafka) is RecordsPerCPUSecond over the bare
	// consumer's, measured in the same run.
	RatioVsBareConsumer *float64      `json:"ratio_vs_bare_consumer,omitempty"`
	BareConsumer        *BareConsumer `json:"bare_consumer,omitempty"`
	// Update (reliable-update) is the latency of the updates applied.
	Update *UpdateLatency `json:"update,omitempty"`
	// CPUScope says whose CPU time is counted.
	CPUScope string `json:"cpu_scope"`

	TargetRecordsPerCPUSecond float64  `json:"target_records_per_cpu_second,omitempty"`
	TargetRatio               float64  `json:"target_ratio_vs_bare_consumer,omitempty"`
	MaxAllocsPerRecord        *float64 `json:"max_allocs_per_record,omitempty"`
	// MeetsTarget is set when the scenario has a target: every target
	// above is met.
	MeetsTarget *bool `json:"meets_target,omitempty"`

	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
}

// BareConsumer is the bare franz-go consumer's part of e2e-kafka.
type BareConsumer struct {
	Records             int64   `json:"records"`
	WallSeconds         float64 `json:"wall_seconds"`
	CPUSeconds          float64 `json:"cpu_seconds"`
	RecordsPerCPUSecond float64 `json:"records_per_cpu_second"`
	AllocsPerRecord     float64 `json:"allocs_per_record"`
}

func newResult(name, query string) Result {
	return Result{
		Scenario: name, Query: query,
		CPUScope:  "process (user + system, all goroutines)",
		GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
	}
}

// fill sets the figures of records in, out and the span measured.
func (r *Result) fill(in, out, bytesIn int64, s span) {
	r.Records, r.RecordsOut, r.BytesIn = in, out, bytesIn
	if in > 0 {
		r.PassFraction = float64(out) / float64(in)
		r.AllocsPerRecord = float64(s.mallocs) / float64(in)
		r.BytesPerRecord = float64(s.allocBytes) / float64(in)
	}
	r.WallSeconds, r.CPUSeconds, r.GCCycles = s.wall.Seconds(), s.cpu.Seconds(), s.gcs
	if s.cpu > 0 {
		r.RecordsPerCPUSecond = float64(in) / s.cpu.Seconds()
		r.NsPerRecord = float64(s.cpu.Nanoseconds()) / float64(max(in, 1))
	}
	if s.wall > 0 {
		r.RecordsPerSecond = float64(in) / s.wall.Seconds()
	}
}

// judge sets MeetsTarget from the targets set.
func (r *Result) judge() {
	if r.TargetRecordsPerCPUSecond == 0 && r.TargetRatio == 0 && r.MaxAllocsPerRecord == nil {
		return
	}
	ok := r.RecordsPerCPUSecond >= r.TargetRecordsPerCPUSecond
	if r.TargetRatio > 0 {
		ok = ok && r.RatioVsBareConsumer != nil && *r.RatioVsBareConsumer >= r.TargetRatio
	}
	if r.MaxAllocsPerRecord != nil {
		ok = ok && r.AllocsPerRecord <= *r.MaxAllocsPerRecord
	}
	r.MeetsTarget = &ok
}

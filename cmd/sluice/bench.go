package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/bench"
)

func newBenchCmd() *cobra.Command {
	var (
		list       bool
		records    int
		cpuProfile string
	)
	cmd := &cobra.Command{
		Use:   "bench [SCENARIO...]",
		Short: "Measure throughput per CPU-second on named scenarios",
		Long: `Run named benchmark scenarios in this process and print one JSON object per
scenario per line on standard output: records, wall_seconds, cpu_seconds (the
process's user + system time during the measured part only, after the records
are encoded and the topic filled), records_per_cpu_second, allocs_per_record,
ratio_vs_bare_consumer where it applies, and the target of DESIGN.md section 7
with meets_target. With no SCENARIO it runs them all, skipping (with a line on
standard error) those that need a server not configured here (sink-postgres:
SLUICE_BENCH_POSTGRES); --list names them. reliable-update measures latency
instead: its "update" object gives the p50 and p99 of the time from a worker
beginning to stop epoch N to epoch N+1 consuming, over --records updates
(default 20).

A line goes to standard error as each scenario starts. Scenarios measure the
whole process, so they run one at a time; run nothing else on the machine for
figures worth comparing. docs/benchmarks.md describes the scenarios and the
figures measured so far.`,
		Example: `  sluice bench --list
  sluice bench
  sluice bench filter-json tumble-agg --records 5000000
  sluice bench e2e-kafka --cpuprofile e2e.pprof && go tool pprof -top e2e.pprof`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				return printBenchList(cmd)
			}
			if records < 0 {
				return fmt.Errorf("--records %d: must not be negative", records)
			}
			todo := bench.Scenarios()
			if len(args) > 0 {
				todo = todo[:0:0]
				for _, name := range args {
					s, ok := bench.Find(name)
					if !ok {
						return fmt.Errorf("unknown scenario %q; the scenarios are: %s (see sluice bench --list)", name, bench.Names())
					}
					todo = append(todo, s)
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			enc := json.NewEncoder(cmd.OutOrStdout())
			for _, s := range todo {
				n, unit := s.DefaultRecords, cmp.Or(s.Unit, "records")
				if records > 0 {
					n = records
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "bench: %s: %d %s\n", s.Name, n, unit)
				res, err := runBenchScenario(ctx, s, bench.Config{Records: records}, profilePath(cpuProfile, s.Name, len(todo) > 1))
				if len(args) == 0 && errors.Is(err, bench.ErrUnavailable) {
					fmt.Fprintf(cmd.ErrOrStderr(), "bench: %s skipped: %v\n", s.Name, err)
					continue
				}
				if err != nil {
					return err
				}
				if err := enc.Encode(res); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&list, "list", false, "name the scenarios, with what each measures, and exit")
	f.IntVar(&records, "records", 0, "records per scenario, updates for reliable-update (default: each scenario's own)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the measured part to this file; with several scenarios, one file each, the scenario's name before the extension (cpu.pprof → cpu.filter-json.pprof)")
	noEnvExcept(cmd)
	return cmd
}

func printBenchList(cmd *cobra.Command) error {
	rows := [][]string{}
	for _, s := range bench.Scenarios() {
		rows = append(rows, []string{s.Name, s.Doc})
	}
	return printTable(cmd.OutOrStdout(), []string{"SCENARIO", "MEASURES"}, rows)
}

// runBenchScenario runs s, profiling its measured part into profile when
// that is not empty.
func runBenchScenario(ctx context.Context, s bench.Scenario, cfg bench.Config, profile string) (bench.Result, error) {
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return bench.Result{}, fmt.Errorf("--cpuprofile: %w", err)
		}
		cfg.CPUProfile = f
		res, err := s.Run(ctx, cfg)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("--cpuprofile: %w", cerr)
		}
		if err != nil {
			return res, fmt.Errorf("%s: %w", s.Name, err)
		}
		return res, nil
	}
	res, err := s.Run(ctx, cfg)
	if err != nil {
		return res, fmt.Errorf("%s: %w", s.Name, err)
	}
	return res, nil
}

// profilePath is where a scenario's CPU profile goes: path itself for a
// single scenario, otherwise path with the scenario's name before the
// extension.
func profilePath(path, scenario string, several bool) string {
	if path == "" || !several {
		return path
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + scenario + ext
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runBench runs `sluice bench args...` and returns its standard output and
// standard error apart.
func runBench(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut strings.Builder
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"bench"}, args...))
	err = root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

func TestBenchList(t *testing.T) {
	out, _, err := runBench(t, "--list")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"filter-json", "select-all-json", "tumble-agg", "e2e-kafka", "nexmark-q0", "nexmark-q1", "nexmark-q2"} {
		if !strings.Contains(out, "\n"+name+" ") {
			t.Errorf("--list does not name %s:\n%s", name, out)
		}
	}
}

func TestBenchScenarioPrintsOneJSONLine(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.pprof")
	out, errOut, err := runBench(t, "nexmark-q2", "--records", "20000", "--cpuprofile", prof)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines on stdout, want 1:\n%s", len(lines), out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("%v: %s", err, lines[0])
	}
	for _, k := range []string{"scenario", "records", "wall_seconds", "cpu_seconds", "records_per_cpu_second", "allocs_per_record"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, lines[0])
		}
	}
	if m["scenario"] != "nexmark-q2" || m["records"] != float64(20000) {
		t.Errorf("scenario %v, records %v", m["scenario"], m["records"])
	}
	if !strings.Contains(errOut, "bench: nexmark-q2") {
		t.Errorf("no progress line on stderr: %q", errOut)
	}
	if fi, err := os.Stat(prof); err != nil || fi.Size() == 0 {
		t.Errorf("cpu profile: %v", err)
	}
}

func TestBenchUnknownScenario(t *testing.T) {
	out, _, err := runBench(t, "filter-json", "no-such-scenario")
	if err == nil || !strings.Contains(err.Error(), `unknown scenario "no-such-scenario"`) || !strings.Contains(err.Error(), "filter-json, select-all-json") {
		t.Fatalf("error = %v, want it to name the unknown scenario and list the others", err)
	}
	if out != "" {
		t.Errorf("ran something before failing: %s", out)
	}
}

func TestBenchRejectsNegativeRecords(t *testing.T) {
	if _, _, err := runBench(t, "--records", "-1"); err == nil {
		t.Error("--records -1 accepted")
	}
}

func TestBenchProfilePath(t *testing.T) {
	for _, tc := range []struct {
		path    string
		several bool
		want    string
	}{
		{"", true, ""},
		{"cpu.pprof", false, "cpu.pprof"},
		{"cpu.pprof", true, "cpu.filter-json.pprof"},
		{"out/cpu", true, "out/cpu.filter-json"},
	} {
		if got := profilePath(tc.path, "filter-json", tc.several); got != tc.want {
			t.Errorf("profilePath(%q, %v) = %q, want %q", tc.path, tc.several, got, tc.want)
		}
	}
}

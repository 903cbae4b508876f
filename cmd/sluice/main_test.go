package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/client/clienttest"
	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// buildBinary builds sluice once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sluice")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// devProcess is a running `sluice dev`.
type devProcess struct {
	cmd    *exec.Cmd
	api    string
	kafka  string
	stderr *strings.Builder
}

var (
	apiLine   = regexp.MustCompile(`API\s+(http://\S+)/v1`)
	kafkaLine = regexp.MustCompile(`Kafka\s+(\S+) \(embedded\)`)
)

func startDev(t *testing.T, bin, dataDir string) *devProcess {
	t.Helper()
	cmd := exec.Command(bin, "dev", "--data-dir", dataDir, "--kafka-listen", "127.0.0.1:0")
	// The HTTP address comes from the environment to prove flags read it.
	cmd.Env = append(os.Environ(), "SLUICE_HTTP=127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &devProcess{cmd: cmd, stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(30 * time.Second)
	for p.api == "" || p.kafka == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("sluice dev exited before starting: %s", p.stderr)
			}
			if m := apiLine.FindStringSubmatch(l); m != nil {
				p.api = m[1]
			}
			if m := kafkaLine.FindStringSubmatch(l); m != nil {
				p.kafka = m[1]
			}
		case <-timeout:
			t.Fatalf("sluice dev did not print its addresses: %s", p.stderr)
		}
	}
	go func() {
		for range lines {
		}
	}()
	return p
}

func (p *devProcess) waitReady(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 30*time.Second {
		resp, err := http.Get(p.api + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/readyz not 200 within 30s: %s", p.stderr)
	return 0
}

func (p *devProcess) interrupt(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sluice dev after SIGINT: %v (want exit 0)\n%s", err, p.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("sluice dev did not exit within 15s of SIGINT\n%s", p.stderr)
	}
}

// TestDevRestartKeepsTopics is the acceptance test of `sluice dev`: it becomes
// ready, exits 0 on Ctrl-C, and a topic created before a restart is still
// there after it.
func TestDevRestartKeepsTopics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dataDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	p := startDev(t, bin, dataDir)
	t.Logf("ready %v after the addresses were printed", p.waitReady(t))
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.kafka))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 4, 1, nil, "before-restart"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	cl.Close()
	p.interrupt(t)

	p = startDev(t, bin, dataDir)
	p.waitReady(t)
	cl, err = kgo.NewClient(kgo.SeedBrokers(p.kafka))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(ctx, "before-restart")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(topics["before-restart"].Partitions); got != 4 {
		t.Fatalf("after restart: topic has %d partitions, want 4", got)
	}
	p.interrupt(t)
}

func TestHelpNamesEnvironmentVariables(t *testing.T) {
	for _, sub := range []string{"dev", "server", "worker", "version", "openapi"} {
		root := newRootCmd()
		var out strings.Builder
		root.SetOut(&out)
		root.SetArgs([]string{sub, "--help"})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "[$SLUICE_LOG_LEVEL]") {
			t.Errorf("sluice %s --help does not name SLUICE_LOG_LEVEL:\n%s", sub, out.String())
		}
	}
}

func TestEnvironmentSetsFlags(t *testing.T) {
	t.Setenv("SLUICE_LOG_FORMAT", "yaml")
	root := newRootCmd()
	root.SetArgs([]string{"version"})
	root.SetOut(io.Discard)
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), `--log-format "yaml"`) {
		t.Fatalf("SLUICE_LOG_FORMAT=yaml: error = %v, want it rejected as --log-format", err)
	}
}

func TestServerRequiresStore(t *testing.T) {
	for _, sub := range []string{"server", "worker"} {
		root := newRootCmd()
		root.SetArgs([]string{sub})
		if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "--store is required") {
			t.Errorf("sluice %s without --store: %v, want --store is required", sub, err)
		}
	}
}

func TestVersion(t *testing.T) {
	root := newRootCmd()
	var out strings.Builder
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "sluice ") || !strings.Contains(out.String(), "go1.") {
		t.Fatalf("version = %q", out.String())
	}
}

// TestClientFlagsIgnoreEnvironment: generic client flags are command line
// only, so an exported SLUICE_YES cannot confirm a delete.
func TestClientFlagsIgnoreEnvironment(t *testing.T) {
	srv := clienttest.Start(t)
	ctx := context.Background()
	if _, err := srv.Process.Catalog.RegisterCluster(ctx, catalog.ClusterSpec{Name: "one", Region: "eu",
		Connection: kafkaconn.Config{Bootstrap: []string{srv.Kafka}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Process.Catalog.CreateTenant(ctx, catalog.TenantSpec{Name: "acme", Region: "eu", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLUICE_YES", "true")
	t.Setenv("SLUICE_OUTPUT", "json")
	root := newRootCmd()
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"tenant", "delete", "acme", "--server", srv.URL})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("tenant delete with SLUICE_YES set: %v, want a refusal asking for --yes", err)
	}
	root = newRootCmd()
	out.Reset()
	root.SetOut(&out)
	root.SetArgs([]string{"tenant", "delete", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "SLUICE_YES") || !strings.Contains(out.String(), "SLUICE_SERVER") {
		t.Fatalf("tenant delete --help names the wrong variables:\n%s", out.String())
	}
}

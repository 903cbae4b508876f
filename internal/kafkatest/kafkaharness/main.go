// Command kafkaharness starts and stops the real Apache Kafka clusters the
// tests run against (see package kafkatest).
//
//	eval "$(go run ./internal/kafkatest/kafkaharness start -n 2 -dir "$STATE/kafka")"
//	go run ./internal/kafkatest/kafkaharness stop -dir "$STATE/kafka"
//
// start prints shell export lines on stdout and progress on stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/testenv"
)

const usage = `kafkaharness starts and stops single-node Apache Kafka (KRaft) clusters for tests.

Usage:
  kafkaharness start [-n N] [-dir DIR] [-version V] [flags]
  kafkaharness stop [-dir DIR]

start resolves the broker through Maven (once; jars stay in the local Maven
repository, MAVEN_OPTS applies), starts N clusters on free loopback ports and
prints, on stdout:

  export SLUICE_TEST_KAFKA=127.0.0.1:PORT1,127.0.0.1:PORT2
  export SLUICE_TEST_KAFKA_VERSION=V

so that   eval "$(kafkaharness start ...)"   sets up the tests. Progress and
timings go to stderr. The brokers keep running after start exits; a second
start on the same dir reuses them if they still answer. stop stops every
cluster recorded in the dir. Broker logs: DIR/cluster-N/logs/server.log.

Run "kafkaharness start -h" or "kafkaharness stop -h" for the flags.
`

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintln(os.Stderr, "kafkaharness:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command: start or stop")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, nil))

	switch args[0] {
	case "start":
		return start(ctx, args[1:], stdout, stderr, log)
	case "stop":
		return stopCmd(ctx, args[1:], stderr, log)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q: want start or stop", args[0])
	}
}

func start(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := kafkatest.Config{Logger: log}
	fs.IntVar(&cfg.Clusters, "n", 1, "number of independent single-node clusters")
	fs.StringVar(&cfg.Dir, "dir", ".sluice-test/kafka", "state directory: Maven project, cluster data and logs, running-broker record")
	fs.StringVar(&cfg.Version, "version", kafkatest.DefaultVersion, "Apache Kafka release (Maven version of org.apache.kafka:kafka_2.13)")
	fs.StringVar(&cfg.CacheDir, "cache", defaultCacheDir(), `cache for the resolved classpath and the broker's class-data archive ("" disables)`)
	fs.StringVar(&cfg.Java, "java", "", "java binary (default $JAVA_HOME/bin/java, else java on PATH)")
	fs.StringVar(&cfg.Maven, "mvn", "mvn", "mvn binary")
	fs.DurationVar(&cfg.StartTimeout, "timeout", 60*time.Second, "how long each cluster may take to answer Kafka requests")
	jvm := fs.String("jvm-opts", "", "extra broker JVM options, space separated, e.g. -Xmx512m")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: kafkaharness start [flags]\n\nStarts the clusters (or reuses running ones) and prints export lines for a shell.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("start: unexpected arguments %q", fs.Args())
	}
	cfg.JVMOptions = strings.Fields(*jvm)
	began := time.Now()
	st, err := kafkatest.Start(ctx, cfg)
	if err != nil {
		return err
	}
	for i, c := range st.Clusters {
		log.Info("cluster", "n", i, "addr", c.Addr, "pid", c.PID, "answers_as", c.VersionGuess, "log", filepath.Join(c.Dir, "logs", "server.log"))
	}
	log.Info("start done", "reused", st.Reused, "took", time.Since(began).Round(time.Millisecond))
	// Addresses are host:port and the version is checked to be a release
	// number, so neither needs shell quoting.
	fmt.Fprintf(stdout, "export %s=%s\n", testenv.KafkaVar, strings.Join(st.Addrs(), ","))
	fmt.Fprintf(stdout, "export %s=%s\n", testenv.KafkaVersionVar, st.Version)
	return nil
}

func stopCmd(ctx context.Context, args []string, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("stop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := kafkatest.Config{Logger: log}
	fs.StringVar(&cfg.Dir, "dir", ".sluice-test/kafka", "state directory given to start")
	fs.DurationVar(&cfg.StopTimeout, "timeout", 30*time.Second, "how long each broker may take to shut down before SIGKILL")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: kafkaharness stop [flags]\n\nStops every cluster recorded in the state directory (SIGTERM, then SIGKILL).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("stop: unexpected arguments %q", fs.Args())
	}
	// A stop (often run from a shell trap) should finish even if interrupted
	// again: brokers left behind would hold ports and memory.
	return kafkatest.Stop(context.WithoutCancel(ctx), cfg)
}

// defaultCacheDir is the user's cache dir, or none when there is none.
func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "sluice", "kafkatest")
}

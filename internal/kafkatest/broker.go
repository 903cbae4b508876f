package kafkatest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// brokerJVMOptions keep each broker small: tests run beside two of them on
// two cores. Measured on Kafka 4.1.1 / Java 17 (one broker, idle): C1 only
// starts ~0.3 s faster and uses ~20 MiB less RSS than tiered C2, and tests
// are latency bound, not throughput bound.
var brokerJVMOptions = []string{
	"-Xms128m", "-Xmx256m", "-XX:+UseSerialGC",
	"-XX:TieredStopAtLevel=1",
	// A broker out of heap should die where the test sees it, not limp on.
	"-XX:+ExitOnOutOfMemoryError",
	"-Djava.awt.headless=true",
}

// formatJVMOptions are for the short-lived storage formatter.
var formatJVMOptions = []string{"-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"}

// brokerProperties are the settings beyond listeners and directories.
var brokerProperties = [][2]string{
	// One node is the whole cluster, so every internal topic has one replica.
	{"offsets.topic.replication.factor", "1"},
	{"transaction.state.log.replication.factor", "1"},
	{"transaction.state.log.min.isr", "1"},
	{"share.coordinator.state.topic.replication.factor", "1"},
	{"share.coordinator.state.topic.min.isr", "1"},
	{"group.initial.rebalance.delay.ms", "0"},
	{"num.partitions", "1"},
	// Tests create their topics; a typo must fail as it does on kfake and
	// on production clusters, not silently create a topic.
	{"auto.create.topics.enable", "false"},
	// Fewer coordinator partitions make the first group join and the first
	// transaction quick (the default 50 partitions each take a log).
	{"offsets.topic.num.partitions", "4"},
	{"transaction.state.log.num.partitions", "4"},
	{"share.coordinator.state.topic.num.partitions", "4"},
	// Small footprint. The cleaner's dedupe buffer defaults to 128 MiB of
	// heap: lowering it took the idle RSS from ~320 to ~190 MiB.
	{"log.cleaner.dedupe.buffer.size", "4194304"},
	{"log.cleaner.io.buffer.size", "65536"},
	{"num.network.threads", "2"},
	{"num.io.threads", "2"},
	{"background.threads", "2"},
	{"num.recovery.threads.per.data.dir", "1"},
	{"log.segment.bytes", "33554432"},
	{"log.index.size.max.bytes", "1048576"},
}

// log4jConfig sends INFO and up to logs/server.log in the cluster dir (kept
// for post mortems, bounded by rolling) and WARN and up to stdout.log.
const log4jConfig = `status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 64MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
appender.console.filter.threshold.type = ThresholdFilter
appender.console.filter.threshold.level = warn
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
rootLogger.appenderRef.console.ref = console
`

// launcher starts the clusters of one Start and records them as they launch,
// so that a failure or an interrupted Start can still stop them.
type launcher struct {
	cfg       Config
	java      string
	classpath string
	log4j     string
	// cdsUse is a class-data archive to start from; cdsMake, when cdsUse is
	// empty, is where cluster 0 will leave one for the next Start.
	cdsUse, cdsMake string

	mu    sync.Mutex
	state stateFile
}

func newLauncher(ctx context.Context, cfg Config) (*launcher, error) {
	log := cfg.Logger
	java, err := findJava(cfg.Java)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	cp, source, err := resolveClasspath(ctx, cfg)
	if err != nil {
		return nil, err
	}
	log.Info("resolved Kafka classpath", "version", cfg.Version, "jars", len(cp), "from", source, "took", time.Since(began).Round(time.Millisecond))
	l := &launcher{
		cfg:       cfg,
		java:      java,
		classpath: strings.Join(cp, string(os.PathListSeparator)),
		log4j:     filepath.Join(cfg.Dir, "log4j2.properties"),
		state:     stateFile{Version: cfg.Version, Clusters: make([]clusterRecord, cfg.Clusters)},
	}
	if err := os.WriteFile(l.log4j, []byte(log4jConfig), 0o644); err != nil {
		return nil, fmt.Errorf("write log4j config: %w", err)
	}
	if cfg.CacheDir != "" {
		archive := cdsArchivePath(cfg.CacheDir, cfg.Version, java, l.classpath)
		if _, err := os.Stat(archive); err == nil {
			l.cdsUse = archive
		} else {
			l.cdsMake = archive
			log.Info("no class-data archive yet; cluster 0 will write one when stopped", "archive", archive)
		}
	}
	return l, nil
}

// snapshot returns a copy of what has been launched so far.
func (l *launcher) snapshot() *stateFile {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.state
	st.Clusters = append([]clusterRecord(nil), l.state.Clusters...)
	return &st
}

func (l *launcher) record(i int, rec clusterRecord) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.state.Clusters[i] = rec
	return writeState(l.cfg.Dir, &l.state)
}

// startCluster starts cluster i, choosing new ports when the broker finds
// one of its ports taken.
func (l *launcher) startCluster(ctx context.Context, i, port, controllerPort int) error {
	for attempt := 1; ; attempt++ {
		err := l.tryCluster(ctx, i, port, controllerPort)
		if err == nil || !errors.Is(err, errPortTaken) || attempt == portAttempts {
			return err
		}
		l.cfg.Logger.Warn("broker port taken; retrying on other ports", "cluster", i, "attempt", attempt)
		ports, perr := freePorts(2)
		if perr != nil {
			return errors.Join(err, perr)
		}
		port, controllerPort = ports[0], ports[1]
	}
}

var errPortTaken = errors.New("port already in use")

func (l *launcher) tryCluster(ctx context.Context, i, port, controllerPort int) error {
	began := time.Now()
	dir := filepath.Join(l.cfg.Dir, "cluster-"+strconv.Itoa(i))
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("cluster %d: clear dir: %w", i, err)
	}
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return fmt.Errorf("cluster %d: create dir: %w", i, err)
	}
	rec := clusterRecord{
		Cluster: Cluster{
			Addr:           net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			ControllerAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(controllerPort)),
			Dir:            dir,
		},
		Properties: filepath.Join(dir, "server.properties"),
	}
	if err := os.WriteFile(rec.Properties, []byte(serverProperties(rec.Addr, rec.ControllerAddr, filepath.Join(dir, "data"))), 0o644); err != nil {
		return fmt.Errorf("cluster %d: write server.properties: %w", i, err)
	}

	var cds []string
	if l.cdsUse != "" {
		cds = []string{"-XX:SharedArchiveFile=" + l.cdsUse}
	}
	if err := l.format(ctx, cds, rec.Properties); err != nil {
		return fmt.Errorf("cluster %d: %w", i, err)
	}

	args := append(append([]string{}, brokerJVMOptions...), cds...)
	args = append(args, "-Dlog4j2.configurationFile="+l.log4j, "-Dkafka.logs.dir="+logs)
	if i == 0 && l.cdsMake != "" {
		rec.CDSDump, rec.CDSArchive = filepath.Join(dir, "kafka.jsa"), l.cdsMake
		// -Xlog:cds=off: the dump lists every class it skips, ~70 lines
		// of noise in stdout.log.
		args = append(args, "-XX:ArchiveClassesAtExit="+rec.CDSDump, "-Xlog:cds=off")
	}
	args = append(args, l.cfg.JVMOptions...)
	args = append(args, "-cp", l.classpath, "kafka.Kafka", rec.Properties)
	pid, err := launch(l.java, args, dir, filepath.Join(logs, "stdout.log"))
	if err != nil {
		return fmt.Errorf("cluster %d: %w", i, err)
	}
	rec.PID = pid
	// Record the PID before waiting, so Stop can find the broker even if
	// this process dies during the wait.
	if err := l.record(i, rec); err != nil {
		return fmt.Errorf("cluster %d: %w", i, err)
	}
	rec.VersionGuess, err = waitReady(ctx, &rec, l.cfg.StartTimeout)
	if err != nil {
		return fmt.Errorf("cluster %d: %w", i, err)
	}
	if err := l.record(i, rec); err != nil {
		return fmt.Errorf("cluster %d: %w", i, err)
	}
	l.cfg.Logger.Info("Kafka cluster ready", "cluster", i, "addr", rec.Addr, "pid", pid,
		"answers_as", rec.VersionGuess, "dir", dir, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// format writes the KRaft metadata a fresh log dir needs, with a new
// cluster ID. Its output is shown only on failure; it stays out of
// server.log, which then starts with the broker.
func (l *launcher) format(ctx context.Context, jvm []string, properties string) error {
	id, err := newClusterID()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.StartTimeout)
	defer cancel()
	args := append(append(append([]string{}, formatJVMOptions...), jvm...),
		"-cp", l.classpath, "kafka.tools.StorageTool", "format", "-t", id, "-c", properties)
	cmd := exec.CommandContext(ctx, l.java, args...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("format storage (kafka.tools.StorageTool format -c %s): %w\n%s", properties, err, lastLines(out.String(), 40))
	}
	return nil
}

func serverProperties(addr, controllerAddr, dataDir string) string {
	var b strings.Builder
	b.WriteString("# Written by github.com/sluicehq/sluice/internal/kafkatest.\n")
	for _, kv := range [][2]string{
		{"process.roles", "broker,controller"},
		{"node.id", "1"},
		{"controller.quorum.voters", "1@" + controllerAddr},
		{"listeners", "PLAINTEXT://" + addr + ",CONTROLLER://" + controllerAddr},
		{"advertised.listeners", "PLAINTEXT://" + addr},
		{"controller.listener.names", "CONTROLLER"},
		{"listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"},
		{"inter.broker.listener.name", "PLAINTEXT"},
		{"log.dirs", dataDir},
	} {
		b.WriteString(kv[0] + "=" + kv[1] + "\n")
	}
	for _, kv := range brokerProperties {
		b.WriteString(kv[0] + "=" + kv[1] + "\n")
	}
	return b.String()
}

// newClusterID returns a random Kafka UUID: 16 bytes, unpadded base64url.
// Like Kafka's own generator it avoids a leading '-', which command lines
// would take for a flag.
func newClusterID() (string, error) {
	var b [16]byte
	for range 100 {
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("cluster id: %w", err)
		}
		if id := base64.RawURLEncoding.EncodeToString(b[:]); id[0] != '-' {
			return id, nil
		}
	}
	return "", errors.New("cluster id: no usable random UUID in 100 tries")
}

// launch starts the broker in its own process group, detached from this
// process's stdio, so it outlives this process and a shell's $(...) capture
// does not wait for it.
func launch(java string, args []string, dir, stdoutPath string) (int, error) {
	out, err := os.OpenFile(stdoutPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("open broker stdout log: %w", err)
	}
	defer out.Close()
	cmd := exec.Command(java, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = detachedProcAttr()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start broker: %w", err)
	}
	// Reap the broker if it exits while this process still runs; its exit
	// status is in stdout.log.
	go func() { _ = cmd.Wait() }()
	return cmd.Process.Pid, nil
}

// waitReady waits until the broker answers Metadata and ApiVersions, and
// returns franz-go's guess of its version.
func waitReady(ctx context.Context, rec *clusterRecord, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if !brokerRunning(rec) {
			tail := logTail(rec)
			err := fmt.Errorf("broker exited during startup%s", tail)
			if strings.Contains(tail, "Address already in use") {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return "", err
		}
		// A plain connect first: until the port is open, a Kafka client
		// would only back off between retries and notice late.
		var guess string
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", rec.Addr)
		if err == nil {
			_ = conn.Close()
			if guess, err = probe(ctx, rec.Addr, 3*time.Second); err == nil {
				return guess, nil
			}
		}
		last = err
		if ctx.Err() != nil {
			return "", fmt.Errorf("wait for broker %s: %w", rec.Addr, ctx.Err())
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("broker %s (pid %d) not answering after %s: %w%s", rec.Addr, rec.PID, timeout, last, logTail(rec))
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// probe asks the broker for metadata and API versions, as a client would.
func probe(ctx context.Context, addr string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTimeout(time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }))
	if err != nil {
		return "", fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	md, err := adm.BrokerMetadata(ctx)
	if err != nil {
		return "", fmt.Errorf("metadata: %w", err)
	}
	if len(md.Brokers) == 0 || md.Controller < 0 {
		return "", fmt.Errorf("metadata lists %d brokers, controller %d", len(md.Brokers), md.Controller)
	}
	versions, err := adm.ApiVersions(ctx)
	if err != nil {
		return "", fmt.Errorf("api versions: %w", err)
	}
	nodes := versions.Sorted() // one node: the cluster is single-node
	if len(nodes) == 0 {
		return "", errors.New("api versions: no broker answered")
	}
	if err := nodes[0].Err; err != nil {
		return "", fmt.Errorf("api versions from node %d: %w", nodes[0].NodeID, err)
	}
	return nodes[0].VersionGuess(), nil
}

// brokerRunning reports whether rec.PID is still the broker it records: a
// PID whose process exited may have been reused by anything.
func brokerRunning(rec *clusterRecord) bool {
	if rec.PID <= 0 {
		return false
	}
	cmdline, ok := processCmdline(rec.PID)
	return ok && strings.Contains(cmdline, "kafka.Kafka") && strings.Contains(cmdline, rec.Properties)
}

// stopBroker sends SIGTERM to the broker's process group and waits, then
// SIGKILL. graceful reports that the broker exited on SIGTERM.
func stopBroker(ctx context.Context, rec *clusterRecord, timeout time.Duration) (graceful bool, err error) {
	if !brokerRunning(rec) {
		return false, nil
	}
	if err := signalGroup(rec.PID, false); err != nil {
		return false, fmt.Errorf("SIGTERM: %w", err)
	}
	if waitExit(ctx, rec, timeout) {
		return true, nil
	}
	if err := signalGroup(rec.PID, true); err != nil {
		return false, fmt.Errorf("SIGKILL: %w", err)
	}
	// SIGKILL cannot be ignored; this wait only covers the kernel's teardown.
	if waitExit(context.WithoutCancel(ctx), rec, 10*time.Second) {
		return false, nil
	}
	return false, errors.New("still running after SIGKILL")
}

// waitExit polls until the broker is gone, for at most timeout.
func waitExit(ctx context.Context, rec *clusterRecord, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for brokerRunning(rec) {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return !brokerRunning(rec)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return true
}

// logTail returns the end of the broker's logs, for error messages.
func logTail(rec *clusterRecord) string {
	var b strings.Builder
	for _, name := range []string{"server.log", "stdout.log"} {
		path := filepath.Join(rec.Dir, "logs", name)
		tail, err := fileTail(path, 16<<10, 30)
		if err != nil {
			fmt.Fprintf(&b, "\n--- %s: %v", path, err)
			continue
		}
		fmt.Fprintf(&b, "\n--- last lines of %s ---\n%s", path, tail)
	}
	return b.String()
}

// fileTail returns at most the last n lines within the last maxBytes.
func fileTail(path string, maxBytes int64, n int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	if off := info.Size() - maxBytes; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return "", err
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxBytes))
	if err != nil {
		return "", err
	}
	return lastLines(string(b), n), nil
}

// freePorts returns n distinct free loopback ports. All listeners stay open
// until all are chosen, so no port is handed out twice; another process can
// still take one before the broker binds it (startCluster retries then).
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// findJava returns the java binary: explicit, else $JAVA_HOME/bin/java, else
// java from PATH.
func findJava(explicit string) (string, error) {
	candidate := explicit
	if candidate == "" {
		if home := os.Getenv("JAVA_HOME"); home != "" {
			candidate = filepath.Join(home, "bin", "java")
		} else {
			candidate = "java"
		}
	}
	path, err := exec.LookPath(candidate)
	if err != nil {
		return "", fmt.Errorf("find java (Kafka 4 needs Java 17 or later; set JAVA_HOME or put java on PATH): %w", err)
	}
	return path, nil
}

// cdsArchivePath names the class-data archive for a JVM build and
// classpath. A dynamic archive only loads into the JVM build and classpath
// that wrote it (the JVM checks and silently falls back otherwise), so
// both are in the name, the JVM build as the size and time of libjvm.
func cdsArchivePath(cacheDir, version, java, classpath string) string {
	h := sha256.New()
	bin, err := filepath.EvalSymlinks(java)
	if err != nil {
		bin = java
	}
	h.Write([]byte(bin + "\x00" + classpath))
	jdk := filepath.Dir(filepath.Dir(bin))
	for _, lib := range []string{"lib/server/libjvm.so", "lib/server/libjvm.dylib", "bin/server/jvm.dll"} {
		if fi, err := os.Stat(filepath.Join(jdk, lib)); err == nil {
			fmt.Fprintf(h, "\x00%d\x00%d", fi.Size(), fi.ModTime().UnixNano())
			break
		}
	}
	return filepath.Join(cacheDir, "cds", "kafka-"+version+"-"+hex.EncodeToString(h.Sum(nil)[:8])+".jsa")
}

// keepCDSArchive moves the archive a gracefully stopped broker wrote into
// the cache. It only saves time later, so failures are logged, not returned.
func keepCDSArchive(rec *clusterRecord, log *slog.Logger) {
	if rec.CDSDump == "" || rec.CDSArchive == "" {
		return
	}
	if fi, err := os.Stat(rec.CDSDump); err != nil || fi.Size() == 0 {
		log.Warn("broker left no class-data archive", "path", rec.CDSDump)
		return
	}
	if err := os.MkdirAll(filepath.Dir(rec.CDSArchive), 0o755); err != nil {
		log.Warn("cannot keep class-data archive", "err", err)
		return
	}
	if err := os.Rename(rec.CDSDump, rec.CDSArchive); err != nil {
		// Probably another file system: copy, then rename into place.
		b, rerr := os.ReadFile(rec.CDSDump)
		if rerr == nil {
			rerr = writeFileAtomic(rec.CDSArchive, b)
		}
		if rerr != nil {
			log.Warn("cannot keep class-data archive", "err", errors.Join(err, rerr))
			return
		}
	}
	log.Info("kept class-data archive for faster broker starts", "archive", rec.CDSArchive)
}

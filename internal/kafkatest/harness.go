package kafkatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// DefaultVersion is the Apache Kafka release the harness runs unless
// Config.Version says otherwise. Any 4.1 to 4.4 release works.
const DefaultVersion = "4.1.1"

const (
	stateFileName = "state.json"
	lockFileName  = ".lock"
	// lockTimeout bounds how long Start or Stop waits for another harness
	// invocation on the same directory (a start takes seconds).
	lockTimeout = 3 * time.Minute
	// reuseProbeTimeout bounds the check that recorded clusters still answer.
	reuseProbeTimeout = 10 * time.Second
	// portAttempts bounds retries when another process takes a port between
	// the harness choosing it and the broker binding it.
	portAttempts = 3
)

var versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// Config says where the harness keeps its state and what it runs. Every field
// but Dir has a usable zero value.
type Config struct {
	// Dir is the state directory: the Maven project, one directory per
	// cluster (data and logs) and the record of running brokers. Required.
	Dir string
	// Clusters is how many independent single-node clusters to run (at
	// most 16), overriding the default 1.
	Clusters int
	// Version is the Apache Kafka release (Maven version of
	// org.apache.kafka:kafka_2.13), overriding the default DefaultVersion.
	Version string
	// CacheDir keeps what is worth keeping across state directories: the
	// resolved classpath (so Maven only runs when the release changes) and a
	// JVM class-data archive of the broker, which halves broker start time.
	// Empty disables both; the Maven repository is shared either way.
	CacheDir string
	// Java is the java binary, overriding the default $JAVA_HOME/bin/java,
	// else java from PATH. Kafka 4 needs Java 17 or later.
	Java string
	// Maven is the mvn binary, overriding the default mvn from PATH. It runs
	// with this process's environment, so MAVEN_OPTS (for example
	// -Dmaven.repo.local=...) applies.
	Maven string
	// JVMOptions are appended to the broker's JVM options, after the small
	// heap defaults, so they win (e.g. "-Xmx512m").
	JVMOptions []string
	// StartTimeout bounds the start of each cluster, from launch to answering
	// Kafka requests, overriding the default 60s.
	StartTimeout time.Duration
	// StopTimeout bounds the graceful stop of each cluster before SIGKILL,
	// overriding the default 30s.
	StopTimeout time.Duration
	// Logger receives progress and timings; nil discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Dir == "" {
		return c, errors.New("kafkatest: Config.Dir is required")
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return c, fmt.Errorf("kafkatest: state dir %s: %w", c.Dir, err)
	}
	c.Dir = dir
	if c.CacheDir != "" {
		if c.CacheDir, err = filepath.Abs(c.CacheDir); err != nil {
			return c, fmt.Errorf("kafkatest: cache dir: %w", err)
		}
	}
	if c.Clusters == 0 {
		c.Clusters = 1
	}
	if c.Clusters < 0 || c.Clusters > 16 {
		return c, fmt.Errorf("kafkatest: %d clusters requested, want 1 to 16", c.Clusters)
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	// The version goes into a pom and file names: accept release numbers only.
	if !versionRE.MatchString(c.Version) {
		return c, fmt.Errorf("kafkatest: Kafka version %q is not a release number like %s", c.Version, DefaultVersion)
	}
	if c.Maven == "" {
		c.Maven = "mvn"
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 60 * time.Second
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Cluster is one running single-node KRaft cluster.
type Cluster struct {
	// Addr is the bootstrap address (PLAINTEXT listener) clients use.
	Addr string `json:"addr"`
	// ControllerAddr is the KRaft controller listener.
	ControllerAddr string `json:"controller_addr"`
	// PID is the broker's Java process, also its process group.
	PID int `json:"pid"`
	// Dir holds server.properties, data/ and logs/.
	Dir string `json:"dir"`
	// VersionGuess is franz-go's reading of the broker's ApiVersions
	// response (e.g. "v4.1"): proof of what actually answers on Addr.
	VersionGuess string `json:"version_guess"`
}

// State describes the clusters a Start left running.
type State struct {
	// Version is the Apache Kafka release they run.
	Version string
	// Clusters are in start order.
	Clusters []Cluster
	// Reused reports that Start found them already running and kept them.
	Reused bool
}

// Addrs returns the bootstrap address of each cluster, in order.
func (s *State) Addrs() []string {
	addrs := make([]string, len(s.Clusters))
	for i, c := range s.Clusters {
		addrs[i] = c.Addr
	}
	return addrs
}

// stateFile is what Start records in the state dir for Stop and re-Start.
type stateFile struct {
	Version  string          `json:"version"`
	Clusters []clusterRecord `json:"clusters"`
}

type clusterRecord struct {
	Cluster
	// Properties is the broker's server.properties; its path on the java
	// command line is how a recorded PID is recognised as this broker.
	Properties string `json:"properties"`
	// CDSDump is where this broker's JVM writes a class-data archive when it
	// exits; Stop moves it to CDSArchive in the cache for later starts.
	CDSDump    string `json:"cds_dump,omitempty"`
	CDSArchive string `json:"cds_archive,omitempty"`
}

// Start makes cfg.Clusters single-node Kafka clusters run and returns their
// addresses once each answers Kafka requests. If the state dir records
// exactly such clusters and they still answer, Start returns them with
// Reused set; otherwise it stops whatever the dir records and starts afresh,
// wiping the previous clusters' data and logs. On failure it stops what it
// started. The brokers keep running after this process exits: call Stop.
//
// Start and Stop take a lock on the state dir, so concurrent calls for the
// same dir run one after the other.
func Start(ctx context.Context, cfg Config) (*State, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	began := time.Now()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	unlock, err := lockDir(ctx, filepath.Join(cfg.Dir, lockFileName), lockTimeout)
	if err != nil {
		return nil, err
	}
	defer unlock()

	prev, err := readState(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		if st := reuse(ctx, cfg, prev); st != nil {
			log.Info("reusing running Kafka clusters", "version", st.Version, "addrs", strings.Join(st.Addrs(), ","))
			return st, nil
		}
		if err := stopRecorded(ctx, cfg, prev); err != nil {
			return nil, fmt.Errorf("stop previous clusters: %w", err)
		}
		if err := removeState(cfg.Dir); err != nil {
			return nil, err
		}
	}
	if err := removeClusterDirs(cfg.Dir); err != nil {
		return nil, err
	}

	l, err := newLauncher(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2 * cfg.Clusters)
	if err != nil {
		return nil, err
	}
	errs := make([]error, cfg.Clusters)
	var wg sync.WaitGroup
	for i := range cfg.Clusters {
		wg.Go(func() { errs[i] = l.startCluster(ctx, i, ports[2*i], ports[2*i+1]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		// The brokers that did start must not outlive a failed Start, even
		// when ctx was cancelled (Ctrl-C).
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.StopTimeout+15*time.Second)
		defer cancel()
		stopErr := stopRecorded(stopCtx, cfg, l.snapshot())
		if stopErr == nil {
			stopErr = removeState(cfg.Dir)
		}
		return nil, errors.Join(fmt.Errorf("start Kafka %s: %w", cfg.Version, err), stopErr)
	}
	st := l.snapshot().state(false)
	log.Info("Kafka clusters ready", "clusters", len(st.Clusters), "version", st.Version, "took", time.Since(began).Round(time.Millisecond))
	return st, nil
}

// Stop stops every cluster recorded in cfg.Dir: SIGTERM to its process
// group, then SIGKILL after cfg.StopTimeout. A recorded process that is no
// longer that broker (it exited, its PID was reused) is left alone. Data and
// logs stay in the state dir. Stop with nothing recorded is a no-op.
func Stop(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.Dir); errors.Is(err, fs.ErrNotExist) {
		cfg.Logger.Info("nothing to stop: no state dir", "dir", cfg.Dir)
		return nil
	}
	unlock, err := lockDir(ctx, filepath.Join(cfg.Dir, lockFileName), lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := readState(cfg.Dir)
	if err != nil {
		return err
	}
	if st == nil {
		cfg.Logger.Info("nothing to stop: no clusters recorded", "dir", cfg.Dir)
		return nil
	}
	if err := stopRecorded(ctx, cfg, st); err != nil {
		return err
	}
	return removeState(cfg.Dir)
}

// reuse returns the recorded clusters if they are what cfg asks for and all
// still answer, else nil.
func reuse(ctx context.Context, cfg Config, prev *stateFile) *State {
	log := cfg.Logger
	if prev.Version != cfg.Version || len(prev.Clusters) != cfg.Clusters {
		log.Info("recorded clusters differ from the request; restarting",
			"recorded_version", prev.Version, "recorded_clusters", len(prev.Clusters))
		return nil
	}
	for i := range prev.Clusters {
		rec := &prev.Clusters[i]
		if !brokerRunning(rec) {
			log.Info("recorded broker is not running; restarting", "cluster", i, "pid", rec.PID)
			return nil
		}
		guess, err := probe(ctx, rec.Addr, reuseProbeTimeout)
		if err != nil {
			log.Info("recorded broker does not answer; restarting", "cluster", i, "addr", rec.Addr, "err", err)
			return nil
		}
		rec.VersionGuess = guess
	}
	return prev.state(true)
}

// stopRecorded stops every recorded broker concurrently.
func stopRecorded(ctx context.Context, cfg Config, st *stateFile) error {
	errs := make([]error, len(st.Clusters))
	var wg sync.WaitGroup
	for i := range st.Clusters {
		rec := st.Clusters[i]
		if !brokerRunning(&rec) {
			if rec.PID != 0 {
				// It exited, or its PID now belongs to another process.
				cfg.Logger.Info("recorded broker is not running", "cluster", i, "pid", rec.PID)
			}
			continue
		}
		wg.Go(func() {
			began := time.Now()
			graceful, err := stopBroker(ctx, &rec, cfg.StopTimeout)
			if err != nil {
				errs[i] = fmt.Errorf("stop cluster %d (pid %d): %w", i, rec.PID, err)
				return
			}
			cfg.Logger.Info("stopped Kafka cluster", "cluster", i, "pid", rec.PID, "graceful", graceful, "took", time.Since(began).Round(time.Millisecond))
			if graceful {
				keepCDSArchive(&rec, cfg.Logger)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *stateFile) state(reused bool) *State {
	st := &State{Version: s.Version, Reused: reused}
	for _, rec := range s.Clusters {
		st.Clusters = append(st.Clusters, rec.Cluster)
	}
	return st
}

func readState(dir string) (*stateFile, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read harness state: %w", err)
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("parse harness state %s: %w", filepath.Join(dir, stateFileName), err)
	}
	return &st, nil
}

func writeState(dir string, st *stateFile) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode harness state: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, stateFileName), append(b, '\n'))
}

func removeState(dir string) error {
	if err := os.Remove(filepath.Join(dir, stateFileName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove harness state: %w", err)
	}
	return nil
}

// removeClusterDirs wipes the data and logs of clusters no longer running.
func removeClusterDirs(dir string) error {
	dirs, err := filepath.Glob(filepath.Join(dir, "cluster-*"))
	if err != nil {
		return fmt.Errorf("list old cluster dirs: %w", err)
	}
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("remove old cluster dir: %w", err)
		}
	}
	return nil
}

// writeFileAtomic writes through a temporary file and a rename, so a reader
// never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

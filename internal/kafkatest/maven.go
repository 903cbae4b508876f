package kafkatest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	// dependencyPlugin is pinned by full coordinates so Maven neither looks
	// up the "dependency:" prefix nor picks a plugin version by itself.
	dependencyPlugin = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath"
	// log4jSlf4jVersion is the slf4j 1.x to log4j2 bridge. Kafka logs through
	// slf4j-api 1.7 but ships no binding in its pom; without one the broker
	// logs nothing. The bridge's own log4j dependencies are excluded so the
	// broker keeps the log4j2 its release was built with (2.24 in 4.1, 2.25
	// in 4.2 to 4.4); the oldest bridge of that range works with all of them.
	log4jSlf4jVersion = "2.24.3"
	// mavenTimeout bounds a resolution, which downloads ~60 MB when cold.
	mavenTimeout = 10 * time.Minute
)

// pom is a project whose only purpose is to have Maven resolve the broker
// and its runtime dependencies.
func pom(version string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by github.com/sluicehq/sluice/internal/kafkatest to resolve the Kafka broker classpath. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.sluice.test</groupId>
  <artifactId>kafka-harness</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>` + version + `</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>` + log4jSlf4jVersion + `</version>
      <scope>runtime</scope>
      <exclusions>
        <exclusion>
          <groupId>org.apache.logging.log4j</groupId>
          <artifactId>*</artifactId>
        </exclusion>
      </exclusions>
    </dependency>
  </dependencies>
</project>
`
}

// resolveClasspath returns the jars the broker runs from. Maven downloads
// them into the local repository once; the list itself is cached in
// cfg.CacheDir, keyed by everything that could change Maven's answer, and
// used while every jar in it still exists.
func resolveClasspath(ctx context.Context, cfg Config) (cp []string, source string, err error) {
	mvnDir := filepath.Join(cfg.Dir, "maven")
	if err := os.MkdirAll(mvnDir, 0o755); err != nil {
		return nil, "", fmt.Errorf("create maven dir: %w", err)
	}
	project := pom(cfg.Version)
	pomPath := filepath.Join(mvnDir, "pom.xml")
	if err := os.WriteFile(pomPath, []byte(project), 0o644); err != nil {
		return nil, "", fmt.Errorf("write pom: %w", err)
	}

	var cacheFile string
	if cfg.CacheDir != "" {
		key := sha256.Sum256([]byte(strings.Join([]string{project, cfg.Maven, os.Getenv("MAVEN_OPTS"), os.Getenv("MAVEN_ARGS")}, "\x00")))
		cacheFile = filepath.Join(cfg.CacheDir, "classpath", "kafka-"+cfg.Version+"-"+hex.EncodeToString(key[:8])+".txt")
		if cp, err := readClasspath(cacheFile, cfg.Version); err == nil {
			return cp, "cache " + cacheFile, nil
		}
	}

	out := filepath.Join(mvnDir, "classpath.txt")
	ctx, cancel := context.WithTimeout(ctx, mavenTimeout)
	defer cancel()
	args := []string{"-B", "-q", "-Dstyle.color=never", "-f", pomPath, dependencyPlugin,
		"-Dmdep.outputFile=" + out, "-Dmdep.includeScope=runtime"}
	cmd := exec.CommandContext(ctx, cfg.Maven, args...)
	cmd.Dir = mvnDir
	cmd.WaitDelay = 5 * time.Second
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return nil, "", fmt.Errorf("resolve Kafka %s with Maven (%s %s): %w\n%s",
			cfg.Version, cfg.Maven, strings.Join(args, " "), err, lastLines(log.String(), 40))
	}
	cp, err = readClasspath(out, cfg.Version)
	if err != nil {
		return nil, "", fmt.Errorf("resolve Kafka %s with Maven: %w", cfg.Version, err)
	}
	if cacheFile != "" {
		// The cache only saves time; failing to fill it is no error.
		if err := os.MkdirAll(filepath.Dir(cacheFile), 0o755); err == nil {
			if err := writeFileAtomic(cacheFile, []byte(strings.Join(cp, string(os.PathListSeparator)))); err != nil {
				cfg.Logger.Warn("cannot cache the Kafka classpath", "err", err)
			}
		}
	}
	return cp, "maven", nil
}

// readClasspath reads a classpath file and checks that it names the broker
// jar of version and that every jar is still there.
func readClasspath(path, version string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read classpath: %w", err)
	}
	var cp []string
	broker := false
	for _, p := range strings.Split(strings.TrimSpace(string(b)), string(os.PathListSeparator)) {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("classpath %s: %w", path, err)
		}
		broker = broker || filepath.Base(p) == "kafka_2.13-"+version+".jar"
		cp = append(cp, p)
	}
	if !broker {
		return nil, errors.New("classpath " + path + " does not contain kafka_2.13-" + version + ".jar")
	}
	return cp, nil
}

// lastLines returns at most n trailing lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

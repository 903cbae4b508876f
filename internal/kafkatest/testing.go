package kafkatest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/testenv"
)

// Fake starts an in-process kfake cluster for the test and returns its
// bootstrap address; the cluster closes when the test ends. It has one
// broker unless opts say otherwise (later options win).
func Fake(t testing.TB, opts ...kfake.Opt) string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatalf("start kfake cluster: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// Target is a Kafka cluster a test can run against.
type Target struct {
	// Name is the subtest name: "kfake" or "kafka".
	Name string
	// Addr is the bootstrap address.
	Addr string
	// Real is true for Apache Kafka, false for kfake.
	Real bool
}

// Targets returns a fresh kfake cluster and, when the test command started
// real clusters, the first of them, so a test runs the same code against
// both (see the package doc). Without SLUICE_TEST_KAFKA a local run gets the
// kfake target alone, and the log says so; under SLUICE_TEST_REQUIRE=1 the
// missing real cluster fails the test. The real cluster is shared with other
// tests: use TopicName.
func Targets(t testing.TB) []Target {
	t.Helper()
	targets := []Target{{Name: "kfake", Addr: Fake(t)}}
	// Only consult testenv when it will not skip: its skip would skip the
	// whole test, kfake target included.
	if strings.TrimSpace(os.Getenv(testenv.KafkaVar)) == "" && !testenv.Required() {
		t.Logf("real Apache Kafka target left out: %s is not set (scripts/test sets it)", testenv.KafkaVar)
		return targets
	}
	addr := testenv.KafkaClusters(t, 1)[0]
	return append(targets, Target{Name: "kafka", Addr: addr, Real: true})
}

// NewClient returns a client for the cluster at addr (comma-separated
// addresses are fine) that closes when the test ends. opts come after the
// seed brokers, so they can add to or override them.
func NewClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(strings.Split(addr, ",")...)}, opts...)...)
	if err != nil {
		t.Fatalf("kafka client for %s: %v", addr, err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// NewAdmin returns an admin client for the cluster at addr that closes when
// the test ends.
func NewAdmin(t testing.TB, addr string) *kadm.Client {
	t.Helper()
	return kadm.NewClient(NewClient(t, addr))
}

// TopicName returns a topic name unique to this call: the test's name made
// valid for Kafka, plus a random suffix, because real clusters are shared by
// every test of a run and keep topics across runs.
func TopicName(t testing.TB) string {
	t.Helper()
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		t.Fatalf("topic name: %v", err)
	}
	// Kafka allows [a-zA-Z0-9._-] up to 249 bytes, and warns that '.' and
	// '_' collide in metric names: use '-' for everything else.
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, t.Name())
	if len(name) > 200 {
		name = name[:200]
	}
	return "test-" + name + "-" + hex.EncodeToString(suffix[:])
}

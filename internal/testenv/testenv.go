// Package testenv tells tests where the real services they need are running.
//
// The full test command (scripts/test) starts real Apache Kafka clusters, a
// PostgreSQL server and an S3-compatible object store (SeaweedFS), exports
// their addresses, and sets SLUICE_TEST_REQUIRE=1. With that variable set a
// test whose service is missing fails instead of skipping, so CI can never
// pass by silently skipping the tests that matter. A developer running plain
// `go test ./...` gets skips with a hint instead.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// Environment variables read by tests. scripts/test sets all of them.
const (
	// KafkaVar lists the bootstrap address of each real Kafka cluster,
	// comma separated: one single-node cluster per entry.
	KafkaVar = "SLUICE_TEST_KAFKA"
	// KafkaVersionVar names the Apache Kafka release those clusters run.
	KafkaVersionVar = "SLUICE_TEST_KAFKA_VERSION"
	// PostgresVar is a PostgreSQL URL for a role allowed to create databases.
	PostgresVar = "SLUICE_TEST_POSTGRES"
	// PythonVar is a Python interpreter with the packages of
	// test/interop/requirements.txt (confluent-kafka, fastavro).
	PythonVar = "SLUICE_TEST_PYTHON"
	// S3Var is the endpoint of a real S3-compatible object store
	// (SeaweedFS, scripts/lib/seaweedfs.sh): http://127.0.0.1:PORT. The
	// store's credentials and a bucket tests may write to are in
	// S3AccessKeyVar, S3SecretKeyVar and S3BucketVar.
	S3Var          = "SLUICE_TEST_S3"
	S3AccessKeyVar = "SLUICE_TEST_S3_ACCESS_KEY"
	S3SecretKeyVar = "SLUICE_TEST_S3_SECRET_KEY"
	S3BucketVar    = "SLUICE_TEST_S3_BUCKET"
	// RequireVar, when "1", turns a missing service into a test failure.
	RequireVar = "SLUICE_TEST_REQUIRE"
)

// Required reports whether missing services must fail tests.
func Required() bool { return os.Getenv(RequireVar) == "1" }

// Lookup returns the value of the environment variable name. When it is
// unset the test fails (under SLUICE_TEST_REQUIRE=1) or is skipped.
func Lookup(t testing.TB, name, what string) string {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(name))
	if v != "" {
		return v
	}
	if Required() {
		t.Fatalf("%s is required but %s is not set; run the tests through scripts/test", what, name)
	}
	t.Skipf("%s not available: set %s or run scripts/test", what, name)
	return ""
}

// KafkaClusters returns the bootstrap address of each real Kafka cluster the
// test command started. It fails or skips the test when there are fewer than n.
func KafkaClusters(t testing.TB, n int) []string {
	t.Helper()
	var addrs []string
	for _, a := range strings.Split(Lookup(t, KafkaVar, "real Apache Kafka"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) < n {
		if Required() {
			t.Fatalf("test needs %d real Kafka clusters, %s lists %d", n, KafkaVar, len(addrs))
		}
		t.Skipf("test needs %d real Kafka clusters, %s lists %d", n, KafkaVar, len(addrs))
	}
	return addrs
}

// Python returns the interpreter with the interop packages.
func Python(t testing.TB) string {
	t.Helper()
	return Lookup(t, PythonVar, "Python with confluent-kafka and fastavro")
}

// Postgres returns the PostgreSQL URL the test command provides.
func Postgres(t testing.TB) string {
	t.Helper()
	return Lookup(t, PostgresVar, "PostgreSQL")
}

// S3 is a real S3-compatible object store the test command provides.
type S3 struct {
	Endpoint, AccessKey, SecretKey, Bucket string
}

// S3Store returns the object store the test command started, failing or
// skipping the test when there is none.
func S3Store(t testing.TB) S3 {
	t.Helper()
	s := S3{Endpoint: Lookup(t, S3Var, "a real S3-compatible object store (SeaweedFS)")}
	for _, v := range []struct {
		name string
		to   *string
	}{{S3AccessKeyVar, &s.AccessKey}, {S3SecretKeyVar, &s.SecretKey}, {S3BucketVar, &s.Bucket}} {
		*v.to = strings.TrimSpace(os.Getenv(v.name))
		if *v.to == "" {
			t.Fatalf("%s is set but %s is not; run the tests through scripts/test", S3Var, v.name)
		}
	}
	return s
}

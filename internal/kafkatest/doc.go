// Package kafkatest gives tests Kafka brokers to run against: franz-go's
// kfake in process, and real Apache Kafka started by a harness.
//
// # Real Apache Kafka
//
// Tests that claim something about Kafka run against the real broker too
// (DESIGN.md section 5). The harness in this package resolves the broker
// (org.apache.kafka:kafka_2.13, [DefaultVersion] unless told otherwise) from
// Maven Central into the local Maven repository, then starts independent
// single-node KRaft clusters on free loopback ports, each a Java process in
// its own process group with its own directory under a state directory. The
// clusters outlive the process that started them, so a shell script starts
// them once for a whole `go test ./...` run:
//
//	eval "$(go run ./internal/kafkatest/kafkaharness start -n 2 -dir "$STATE/kafka")"
//	trap 'go run ./internal/kafkatest/kafkaharness stop -dir "$STATE/kafka"' EXIT
//
// start prints `export SLUICE_TEST_KAFKA=...` and
// `export SLUICE_TEST_KAFKA_VERSION=...` for package testenv to read; a
// second start while the clusters still run reuses them. Each cluster keeps
// its broker log in <dir>/cluster-N/logs/server.log (INFO and up) next to
// stdout.log (the JVM's own output); the logs stay after stop for a post
// mortem and are wiped by the next fresh start.
//
// Programs can drive the same harness through [Start] and [Stop].
//
// # Writing tests
//
// [Targets] returns a fresh kfake cluster and, when the test command started
// one, a real Kafka cluster, so one test body runs against both:
//
//	for _, tg := range kafkatest.Targets(t) {
//		t.Run(tg.Name, func(t *testing.T) {
//			adm := kafkatest.NewAdmin(t, tg.Addr)
//			topic := kafkatest.TopicName(t)
//			...
//		})
//	}
//
// Without SLUICE_TEST_KAFKA a local `go test` runs the kfake target alone
// and logs why; under SLUICE_TEST_REQUIRE=1 the missing cluster fails the
// test instead. Real clusters are shared by every package of a test run, so
// tests create uniquely named topics ([TopicName]) and never assume an
// empty cluster. Both kinds of broker have automatic topic creation off.
package kafkatest

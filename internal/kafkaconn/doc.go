// Package kafkaconn is how Sluice connects to and administers one Kafka
// cluster.
//
// A [Config] holds a cluster's connection settings: bootstrap servers, TLS
// and SASL. The catalog stores it and the REST API accepts it as JSON;
// [Config.Validate] names every bad field with its JSON path, and
// [Config.Redacted] blanks the secrets for API responses. [Config.Options]
// turns it into franz-go client options with timeouts short enough that an
// unreachable cluster fails in seconds, and [NewClient] builds a client from
// them for producers and consumers.
//
// An [Admin] performs the cluster operations the catalog needs: create and
// delete topics, add partitions, change topic configs, describe topics and
// measure the cluster. Kafka's per-topic error codes come back as errors
// naming the cluster and topic; the common ones are also [ErrTopicExists],
// [ErrUnknownTopic] and [ErrPartitionDecrease] for errors.Is.
//
// # Consistency
//
// Reads ([Admin.Topics], [Admin.Usage], [Admin.SetPartitions]' check of the
// current count) ask a broker every time; nothing is cached. Writes return
// once the controller has accepted them, but a real Kafka broker applies the
// change to the metadata it serves a little later (usually within
// milliseconds), so a read right after a write may still see the old state.
// Callers that must see their own write poll, bounded by a context.
//
// # Secrets
//
// TLS.ClientKey and SASL.Password are secrets. They never appear in errors
// from this package, and [Config] formats itself (fmt's %v, slog) with them
// redacted; JSON encoding does include them, because the catalog stores
// configs as JSON: use [Config.Redacted] before sending one out.
package kafkaconn

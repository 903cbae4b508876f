// Package gen produces synthetic firewall logs — traffic logs and threat
// logs in the style of a firewall's log export — into tenants' Kafka topics,
// for `sluice gen`, the demo traffic of `sluice dev`, and tests and
// benchmarks that need realistic records.
//
// # Records
//
// Every record is a sluice.demo.FirewallLog: FirewallLogV1 (23 fields) or
// FirewallLogV2 (plus device_id with a default), exported as Avro JSON text
// for other packages' tests. [Stream] is the deterministic record sequence
// of one tenant for a seed: a few hot internal source addresses (Zipf),
// mostly allowed sessions on well-known ports with the matching
// application, log-normal byte counts with durations that grow with them,
// and a configurable share of threat logs. It allocates nothing per record.
// docs/generator.md describes every field and distribution.
//
// # Producing
//
// [Generator] asks a [Router] where each tenant's records go and a
// [Registry] for the schema version to put in each record's
// sluice-schema-version header (package wire), then produces Avro binary
// values with franz-go: one client per distinct set of bootstrap servers,
// records keyed by session id, paced per tenant by a rate clock that sends
// records in batches rather than sleeping per record. At most
// Config.MaxInFlight records are outstanding; their buffers are reused once
// Kafka acknowledges them. Run blocks until its context ends or Count
// records per tenant are produced, then flushes. With Config.RollAfter a
// tenant's schema rolls to FirewallLogV2 mid-stream.
//
// Routes are looked up once, at the start of Run: a topic that migrates
// while the generator runs is not followed.
package gen

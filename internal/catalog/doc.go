// Package catalog is Sluice's metadata service: the source of truth for the
// Kafka clusters, the tenants, and each tenant's data topic. Every Kafka
// operation Sluice performs — create a topic, add partitions, change a topic's
// configs, delete it — goes through this package, so the records and the
// clusters never disagree for long.
//
// # Intent first, then Kafka
//
// An operation is written to the store as a pending intent, in the same
// transaction as the records it will change, before Kafka is called. After the
// call the intent is marked done (and the records updated) or, when Kafka
// refused, the records are put back and the intent marked failed. A process
// that dies between the two leaves the intent pending; once its lease runs
// out the reconciler finishes it by looking at what Kafka actually has. So
// there is never a topic without a record, nor a record pointing at nothing,
// for longer than one reconcile interval.
//
// # Topic names
//
// A tenant's data topic is named "sluice.tenant.<tenant>.<generation>", e.g.
// sluice.tenant.acme.1. Tenant names are 1–64 characters of lower-case
// letters, digits and '-', starting with a letter or digit, so the topic name
// is always valid for Kafka (at most 249 characters of [a-zA-Z0-9._-]) and
// never mixes '.' and '_' (which collide in Kafka's metric names). The
// generation grows when a tenant moves to a new topic (topic migration).
//
// # Placement
//
// A new tenant's topic goes to a cluster that is in the tenant's region,
// active (not draining), reachable at its last probe, and has headroom: its
// partitions plus the new topic's stay within max partitions, and its
// measured bytes/s is below max bytes/s (a limit of 0 means none). Among
// those the least loaded wins, where load is the larger of partition use and
// byte-rate use as fractions of the limits (a cluster without limits is
// measured against DefaultCapacityPartitions and DefaultCapacityBytesPerSec).
// Ties go to fewer partitions, then lower bytes/s, then the name in
// alphabetical order. When no cluster qualifies the error says, per cluster,
// why it was passed over.
package catalog

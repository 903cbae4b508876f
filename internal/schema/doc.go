// Package schema is Sluice's schema registry: versioned Avro schemas per
// tenant, each tenant's compatibility mode, and the compatibility checker.
//
// # Identity
//
// A tenant's schemas are its "subject". Each registered schema gets a
// global id (unique across all tenants, never reused; what Confluent-framed
// records carry) and a per-tenant version 1, 2, 3… (what the
// sluice-schema-version header carries; see package wire). Two schemas are
// the same when their Avro Parsing Canonical Forms are equal, so
// registering a schema again — even reformatted, or differing only in doc,
// aliases, defaults, order or logical types, which the canonical form leaves
// out — returns the existing non-deleted version instead of adding one. The same schema
// registered for two tenants gets two ids.
//
// # Compatibility
//
// Before a new version is stored it must satisfy the tenant's Mode, checked
// against the latest non-deleted version (all non-deleted versions for the
// transitive modes) with the Avro specification's resolution rules; see
// [Incompatibilities]. A refusal lists every incompatibility found, each with
// a field path, a reason, the version it concerns and the direction of the
// check.
//
// # Soft delete
//
// A deleted version is hidden from lists, is never the latest, and is not
// checked against, but stays readable by id and by version (with Deleted
// set) so records written with it can still be decoded. Version numbers and
// ids are never reused.
//
// # Storage
//
// Tables schemas and schema_configs (migration 00004). Their rows reference
// the catalog's tenants with ON DELETE CASCADE: deleting a tenant deletes its
// schemas. The registry reads the tenants table to tell an unknown tenant
// from a tenant without schemas; it does not import the catalog, which
// asks the registry for a route's schema version through a small interface.
package schema

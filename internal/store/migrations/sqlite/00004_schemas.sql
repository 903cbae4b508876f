-- The schema registry (internal/schema): versioned Avro schemas per tenant
-- and each tenant's compatibility mode. Rows go with their tenant (ON DELETE
-- CASCADE): a deleted tenant's topic, and so its data, is gone too.
--
-- AUTOINCREMENT, not a bare rowid alias: ids are global schema ids carried
-- in Confluent-framed Kafka records, so one must never be reused, not even
-- after a tenant's rows were deleted.

-- +goose Up
CREATE TABLE schemas (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    -- The schema as registered; canonical is its Parsing Canonical Form and
    -- fingerprint the hex SHA-256 of that.
    schema_text TEXT NOT NULL,
    canonical   TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    -- Soft delete: hidden from lists, latest and compatibility checks, but
    -- still resolvable by id and version for old records.
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL,
    deleted_at  TIMESTAMP,
    UNIQUE (tenant, version)
);
CREATE INDEX schemas_tenant_fingerprint_idx ON schemas (tenant, fingerprint);

-- A tenant without a row here has the default mode, BACKWARD.
CREATE TABLE schema_configs (
    tenant        TEXT PRIMARY KEY REFERENCES tenants (name) ON DELETE CASCADE,
    compatibility TEXT NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE schema_configs;
DROP TABLE schemas;

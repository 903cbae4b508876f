-- The metadata service (internal/catalog): Kafka clusters, tenants, their
-- topics, and the intent log of Kafka operations.

-- +goose Up
CREATE TABLE clusters (
    name                   TEXT PRIMARY KEY,
    region                 TEXT NOT NULL,
    -- kafkaconn.Config as JSON, secrets included; never returned by the API.
    connection             TEXT NOT NULL,
    max_partitions         INTEGER NOT NULL,
    max_bytes_per_sec      BIGINT NOT NULL,
    admin_state            TEXT NOT NULL,
    reachable              BOOLEAN NOT NULL,
    last_seen_at           TIMESTAMP,
    last_error             TEXT NOT NULL,
    brokers                INTEGER NOT NULL,
    observed_partitions    INTEGER NOT NULL,
    observed_bytes         BIGINT NOT NULL,
    observed_bytes_per_sec REAL NOT NULL,
    observed_at            TIMESTAMP,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
CREATE INDEX clusters_region_idx ON clusters (region);

CREATE TABLE tenants (
    name          TEXT PRIMARY KEY,
    region        TEXT NOT NULL,
    state         TEXT NOT NULL,
    -- The tenant's current data topic, the one producers are routed to.
    cluster       TEXT NOT NULL REFERENCES clusters (name),
    topic         TEXT NOT NULL,
    route_version BIGINT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

CREATE TABLE topics (
    cluster            TEXT NOT NULL REFERENCES clusters (name),
    name               TEXT NOT NULL,
    tenant             TEXT NOT NULL REFERENCES tenants (name),
    state              TEXT NOT NULL,
    partitions         INTEGER NOT NULL,
    replication_factor INTEGER NOT NULL,
    -- Topic-level configs Sluice manages (JSON object of strings).
    configs            TEXT NOT NULL,
    -- The last drift the reconciler reported, so each finding is reported once.
    drift              TEXT NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (cluster, name)
);
CREATE INDEX topics_tenant_idx ON topics (tenant);

-- Every Kafka operation is recorded here before it is applied, and marked
-- done (or failed) after; the reconciler finishes operations left pending by
-- a process that died in between.
CREATE TABLE kafka_operations (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    cluster     TEXT NOT NULL,
    topic       TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    params      TEXT NOT NULL,
    state       TEXT NOT NULL,
    error       TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    -- A pending operation belongs to the process applying it until then.
    lease_until TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX kafka_operations_state_idx ON kafka_operations (state, lease_until);

-- +goose Down
DROP TABLE kafka_operations;
DROP TABLE topics;
DROP TABLE tenants;
DROP TABLE clusters;

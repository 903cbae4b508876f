-- Subscriptions (internal/subscription): the desired state of every job,
-- and subscription_runs, where the worker running a subscription holds its
-- lease and reports what it is actually doing.

-- +goose Up
CREATE TABLE subscriptions (
    id             TEXT PRIMARY KEY,
    application    TEXT NOT NULL,
    tenant         TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    -- The rest of the spec as JSON: sql, outputFormat, sink, startFrom,
    -- deliveryGuarantee, lateness, labels.
    spec           TEXT NOT NULL,
    -- Desired state: running or paused.
    state          TEXT NOT NULL,
    -- The tenant's schema version the query was analysed against.
    schema_version INTEGER NOT NULL,
    -- version changes with every write (the ETag); epoch with every change
    -- the job must restart for.
    version        BIGINT NOT NULL,
    epoch          BIGINT NOT NULL,
    -- A deleted subscription stays as a tombstone until its job stopped
    -- (and, with purge_offsets, its consumer group offsets are gone).
    deleted_at     TIMESTAMPTZ,
    purge_offsets  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX subscriptions_application_idx ON subscriptions (application, id);
CREATE INDEX subscriptions_tenant_idx ON subscriptions (tenant, id);

CREATE TABLE subscription_runs (
    id          TEXT PRIMARY KEY REFERENCES subscriptions (id) ON DELETE CASCADE,
    -- The node running the job, and until when its lease holds.
    owner       TEXT NOT NULL,
    lease_until TIMESTAMPTZ NOT NULL,
    -- What the worker reports as JSON: state, epoch, lag, rates, last error.
    status      TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE subscription_runs;
DROP TABLE subscriptions;

-- Reliable update (internal/subscription): the last spec whose job started,
-- which a subscription with rollback returns to when an update cannot start,
-- and the source (cluster and topic) the job reads, which moves when the
-- tenant's topic does.

-- +goose Up
ALTER TABLE subscriptions ADD COLUMN good_spec TEXT;
ALTER TABLE subscriptions ADD COLUMN good_schema_version INTEGER;
ALTER TABLE subscriptions ADD COLUMN good_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN source_cluster TEXT;
ALTER TABLE subscriptions ADD COLUMN source_topic TEXT;

-- +goose Down
ALTER TABLE subscriptions DROP COLUMN source_topic;
ALTER TABLE subscriptions DROP COLUMN source_cluster;
ALTER TABLE subscriptions DROP COLUMN good_epoch;
ALTER TABLE subscriptions DROP COLUMN good_schema_version;
ALTER TABLE subscriptions DROP COLUMN good_spec;

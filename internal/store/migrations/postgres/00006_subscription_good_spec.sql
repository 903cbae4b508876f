-- Reliable update (internal/subscription): the last spec whose job started,
-- which a subscription with rollback returns to when an update cannot start.

-- +goose Up
ALTER TABLE subscriptions ADD COLUMN good_spec TEXT;
ALTER TABLE subscriptions ADD COLUMN good_schema_version INTEGER;
ALTER TABLE subscriptions ADD COLUMN good_epoch BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE subscriptions DROP COLUMN good_epoch;
ALTER TABLE subscriptions DROP COLUMN good_schema_version;
ALTER TABLE subscriptions DROP COLUMN good_spec;

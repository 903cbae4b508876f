-- The event log (internal/events): what components observed and did, such
-- as the catalog's reconciler reporting drift. Not the audit log.
-- Timestamps are integer Unix microseconds (the store's DSN converts).
--
-- AUTOINCREMENT, not a bare rowid alias: ids are a paging cursor
-- (List after id N), so one must never be reused once Prune has deleted
-- the newest rows.

-- +goose Up
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at TIMESTAMP NOT NULL,
    kind        TEXT NOT NULL,
    cluster     TEXT NOT NULL DEFAULT '',
    tenant      TEXT NOT NULL DEFAULT '',
    topic       TEXT NOT NULL DEFAULT '',
    message     TEXT NOT NULL,
    -- JSON object of strings; NULL when the event has no details.
    details     TEXT
);
CREATE INDEX events_kind_id_idx ON events (kind, id);
CREATE INDEX events_tenant_id_idx ON events (tenant, id);
CREATE INDEX events_occurred_at_idx ON events (occurred_at);

-- +goose Down
DROP TABLE events;

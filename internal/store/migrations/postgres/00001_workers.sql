-- The registry of running Sluice processes: each one inserts its row at
-- start and refreshes heartbeat_at; /readyz and scale-out read it.

-- +goose Up
CREATE TABLE workers (
    id           TEXT PRIMARY KEY,
    hostname     TEXT NOT NULL,
    version      TEXT NOT NULL,
    roles        TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX workers_heartbeat_at_idx ON workers (heartbeat_at);

-- +goose Down
DROP TABLE workers;

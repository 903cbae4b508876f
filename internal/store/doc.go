// Package store is Sluice's metadata database: one Store type in front of
// SQLite (the embedded default, used by `sluice dev`) and PostgreSQL (what
// `sluice server` runs against in production).
//
// # Why database/sql for both engines
//
// Repositories (catalog, subscriptions, audit, worker registry, leases) are
// written once and must run on either engine. Going through database/sql for
// both — modernc.org/sqlite, and pgx through github.com/jackc/pgx/v5/stdlib —
// gives them one set of types (*sql.Rows, sql.Result, sql.Null*) and one
// transaction model, so nothing above this package needs to know which engine
// it talks to. The native pgx API would be faster for bulk work, but metadata
// traffic is small and the uniformity is worth more.
//
// # One SQL text, two engines
//
// Callers write `?` placeholders. On PostgreSQL each bare `?` is rewritten to
// $1..$n before the query reaches the server (see [Dialect.Rebind]); `?` inside
// string literals, quoted identifiers, dollar-quoted strings and comments is
// left alone. SQLite takes `?` natively. Keep to the SQL both engines share:
// INSERT ... ON CONFLICT (...) DO UPDATE SET x = excluded.x, RETURNING, CTEs
// and window functions all work on both. PostgreSQL's JSONB `?`, `?|` and `?&`
// operators cannot be written through this layer; use jsonb_exists and
// friends instead. Where the engines genuinely differ, branch on
// [Store.Dialect].
//
// Timestamps are TIMESTAMPTZ on PostgreSQL and TIMESTAMP columns holding
// integer Unix microseconds on SQLite (the driver converts both ways). Either
// way a time.Time goes in and comes back as the same instant, in UTC, exact
// to the microsecond (finer digits are truncated by both engines). Always
// pass times from Go rather than using SQL-side clocks such as
// CURRENT_TIMESTAMP: SQLite would store those as text, not microseconds.
// SQLite converts by declared column type, so scan times from the column
// itself: an expression such as MAX(heartbeat_at) comes back from SQLite as
// an integer (write ORDER BY heartbeat_at DESC LIMIT 1 instead).
//
// # Errors
//
// Errors keep the driver's message but are classified so domain code can map
// them to HTTP status codes without knowing the engine: [ErrNotFound] (no row
// for [Row.Scan]), [ErrConflict] (unique or primary key violation) and
// [ErrForeignKey]. Test with errors.Is. The driver error stays reachable with
// errors.As (*pgconn.PgError, *sqlite.Error).
//
// # Transactions
//
// [Store.InTx] runs a function in a transaction that is SERIALIZABLE on
// PostgreSQL and BEGIN IMMEDIATE on SQLite (one writer at a time), so a
// read-modify-write in Go behaves the same on both engines. Serialization
// failures, deadlocks and SQLite BUSY/LOCKED make InTx run the whole function
// again, a bounded number of times: the function must not have side effects
// outside the transaction that cannot be repeated.
//
// # Migrations
//
// Open applies every pending migration with goose (a Provider, no goose global
// state), recording versions in goose's table goose_db_version. Migrations
// are embedded SQL files in two dialect directories, because column types
// differ (TIMESTAMPTZ, BYTEA and JSONB on PostgreSQL; TIMESTAMP, BLOB and TEXT
// on SQLite):
//
//	internal/store/migrations/sqlite/NNNNN_name.sql
//	internal/store/migrations/postgres/NNNNN_name.sql
//
// To add a migration, create the next number with the same file name in both
// directories (a test fails if the two lists differ), each with
// `-- +goose Up` and `-- +goose Down` sections. Never edit a migration that
// has been released; add a new one. Each migration runs in a transaction.
//
// Several processes may Open the same database at once: on PostgreSQL
// migrations run under goose's session-level advisory lock; on SQLite under
// an exclusive lock on a sibling file, <database>.migrate-lock, which is
// created next to the database and left there.
package store

package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationFiles holds one directory of goose SQL migrations per dialect.
// The two directories hold the same file names (a test checks).
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// How long Open waits for another process's migrations before giving up.
const (
	migrationLockPoll  = time.Second
	migrationLockTries = 300 // with the poll above: five minutes
)

// MigrationFS returns the embedded migrations of dialect d, for tools and
// tests that need to look at them.
func MigrationFS(d Dialect) (fs.FS, error) {
	switch d {
	case SQLite, Postgres:
		return fs.Sub(migrationFiles, "migrations/"+string(d))
	default:
		return nil, fmt.Errorf("store: no migrations for dialect %q", d)
	}
}

// newMigrationProvider returns a goose provider for the database cfg names.
// On PostgreSQL, migrations run under goose's session-level advisory lock
// (scoped to the database), so processes opening the same database at once
// apply each migration exactly once. SQLite has no such lock in goose:
// Store.setUp holds lockSQLiteMigrations around the whole run instead.
func newMigrationProvider(db *sql.DB, cfg dsnConfig) (*goose.Provider, error) {
	fsys, err := MigrationFS(cfg.dialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{
		// Go migrations registered anywhere in the binary must not leak in.
		goose.WithDisableGlobalRegistry(true),
	}
	dialect := goose.DialectSQLite3
	if cfg.dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockTimeout(uint64(migrationLockPoll/time.Second), migrationLockTries))
		if err != nil {
			return nil, fmt.Errorf("postgres migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db, fsys, opts...)
}

// lockSQLiteMigrations serialises migrations between the processes sharing
// one SQLite database, and returns the function that releases the lock.
//
// goose decides what is pending, and creates its version table, before it
// runs each migration in a transaction of its own; without a lock two
// processes starting on a fresh file would both apply migration 1 and the
// second would fail. SQLite has no advisory locks. An exclusive transaction
// on a sibling database file, path, is one, built on SQLite's own file
// locking: it works wherever the driver does, between connections of one
// process as between processes, and the OS releases it if the holder dies.
// The file stays empty and is never removed (removing lock files races).
func lockSQLiteMigrations(ctx context.Context, path string) (release func() error, err error) {
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(1000)&_txlock=exclusive")
	if err != nil {
		return nil, fmt.Errorf("sqlite migration lock %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	for try := 1; ; try++ {
		// BEGIN EXCLUSIVE takes the file's exclusive lock at once, waiting
		// up to busy_timeout for a holder to let go.
		tx, err := db.BeginTx(ctx, nil)
		if err == nil {
			return func() error {
				rbErr := tx.Rollback()
				if errors.Is(rbErr, sql.ErrTxDone) { // ctx ended: already rolled back
					rbErr = nil
				}
				if relErr := errors.Join(rbErr, db.Close()); relErr != nil {
					return fmt.Errorf("sqlite migration lock %s: release: %w", path, relErr)
				}
				return nil
			}, nil
		}
		if !retryable(err) || ctx.Err() != nil || try >= migrationLockTries {
			_ = db.Close()
			return nil, fmt.Errorf("sqlite migration lock %s: %w", path, err)
		}
	}
}

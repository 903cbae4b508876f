// Package storetest gives tests a fresh, migrated metadata store on each
// engine: SQLite in a temporary directory, and PostgreSQL in a database of
// its own on the server the test command started (see package testenv).
//
// Run a test on both engines with Each:
//
//	func TestThing(t *testing.T) {
//		storetest.Each(t, func(t *testing.T, s *store.Store) {
//			// s is empty apart from the migrations; it is closed, and its
//			// PostgreSQL database dropped, when t ends.
//		})
//	}
//
// Without SLUICE_TEST_POSTGRES the postgres subtest is skipped, or fails
// under SLUICE_TEST_REQUIRE=1. Tests that close and reopen a store (to prove
// data survives a restart) take a DSN with EachDSN, SQLiteDSN or
// PostgresDSN and call Open as often as they like.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/testenv"
)

// Test databases are named sluice_test_<UTC yyyymmddhhmmss>_<random>. The
// timestamp lets a later run drop those a killed run left behind.
const (
	dbPrefix     = "sluice_test_"
	dbTimeLayout = "20060102150405"
	// staleAfter is the age past which a test database is assumed to be
	// left over: no test runs this long.
	staleAfter   = 24 * time.Hour
	adminTimeout = time.Minute
)

// Each runs fn as two subtests, "sqlite" and "postgres", each with a fresh
// Store on that engine.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// EachDSN runs fn as two subtests, "sqlite" and "postgres", each with the
// DSN of a fresh, not yet opened database on that engine.
func EachDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteDSN(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresDSN(t)) })
}

// SQLite returns an open Store on a fresh SQLite file in t.TempDir(),
// closed when the test ends.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	return Open(t, SQLiteDSN(t))
}

// SQLiteDSN returns the DSN of a SQLite file that does not exist yet, in a
// directory removed when the test ends.
func SQLiteDSN(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.ToSlash(filepath.Join(t.TempDir(), "sluice.db"))
}

// Postgres returns an open Store on a fresh PostgreSQL database, closed and
// dropped when the test ends. It skips the test when no server is
// configured, or fails it under SLUICE_TEST_REQUIRE=1.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	return Open(t, PostgresDSN(t))
}

// PostgresDSN creates an empty PostgreSQL database and returns its DSN. The
// database is dropped when the test ends, after the sessions still
// connected to it are terminated. It skips or fails the test as Postgres
// does when no server is configured.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	admin := testenv.Postgres(t)
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("storetest: %s is not a URL: %v", testenv.PostgresVar, err)
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	name := dbPrefix + time.Now().UTC().Format(dbTimeLayout) + "_" + hex.EncodeToString(suffix[:])

	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("storetest: connect to PostgreSQL admin database: %v", err)
	}
	defer db.Close()
	sweepOnce.Do(func() { sweepStale(ctx, t, db) })
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name)); err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Errorf("storetest: connect to drop database %s: %v", name, err)
			return
		}
		defer db.Close()
		if err := dropDatabase(ctx, db, name); err != nil {
			t.Errorf("storetest: %v", err)
		}
	})
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// Open opens a Store on dsn and closes it when the test ends. Tests that
// reopen a database call it once per "process lifetime", closing the
// previous Store themselves first (Close is idempotent).
func Open(t testing.TB, dsn string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("storetest: open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("storetest: %v", err)
		}
	})
	return s
}

// dropDatabase terminates the sessions connected to database name and
// drops it, retrying briefly in case a pool reconnects in between.
func dropDatabase(ctx context.Context, db *sql.DB, name string) error {
	var err error
	for range 10 {
		if _, err = db.ExecContext(ctx,
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
			name); err != nil {
			return fmt.Errorf("terminate sessions of database %s: %w", name, err)
		}
		if _, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drop database %s: %w", name, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("drop database %s: %w", name, err)
}

// sweepOnce makes each test process look for left-over databases once.
var sweepOnce sync.Once

// sweepStale drops test databases older than staleAfter: those of runs
// killed before their cleanups ran. Failures only log: they do not make
// this test wrong.
func sweepStale(ctx context.Context, t testing.TB, db *sql.DB) {
	rows, err := db.QueryContext(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", dbPrefix)
	if err != nil {
		t.Logf("storetest: list left-over test databases: %v", err)
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Logf("storetest: list left-over test databases: %v", err)
			break
		}
		stamp, _, _ := strings.Cut(strings.TrimPrefix(name, dbPrefix), "_")
		created, err := time.Parse(dbTimeLayout, stamp)
		if err == nil && time.Since(created) > staleAfter {
			stale = append(stale, name)
		}
	}
	_ = rows.Close()
	for _, name := range stale {
		if err := dropDatabase(ctx, db, name); err != nil {
			t.Logf("storetest: drop left-over test database: %v", err)
		}
	}
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect names the SQL engine behind a Store.
type Dialect string

// The engines a Store can run on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Connection pool settings. SQLite allows one writer at a time whatever the
// pool size; its pool only bounds concurrent readers (WAL lets them run
// beside the writer), and callers beyond it wait in database/sql.
const (
	sqliteMaxOpenConns = 8
	// sqliteBusyTimeout is how long a statement waits for another
	// connection's write lock before failing with SQLITE_BUSY.
	sqliteBusyTimeout = 10 * time.Second

	pgMaxOpenConns    = 20
	pgMaxIdleConns    = 10
	pgConnMaxLifetime = 30 * time.Minute
	pgConnMaxIdleTime = 5 * time.Minute
)

// Store is a handle on Sluice's metadata database.
//
// A Store owns a connection pool and is safe for concurrent use by many
// goroutines. Open one per database per process and share it; Close it when
// the process stops.
type Store struct {
	db       *sql.DB
	dialect  Dialect
	redacted string
	provider *goose.Provider
	// txOpts are the options InTx begins transactions with.
	txOpts *sql.TxOptions

	closeOnce sync.Once
	closeErr  error
}

// Open connects to the database named by dsn, checks that it answers and
// applies every pending migration. Accepted DSNs:
//
//	sqlite:///abs/path/sluice.db   SQLite file at an absolute path
//	sqlite://relative/path.db      SQLite file relative to the working directory
//	postgres://user:pass@host:5432/db?sslmode=disable   (or postgresql://)
//
// SQLite parent directories are created. SQLite DSNs take no query
// parameters: the pragmas the Store relies on are fixed. PostgreSQL DSNs are
// anything pgx accepts in URL form.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	s := &Store{dialect: cfg.dialect, redacted: cfg.redacted}
	switch cfg.dialect {
	case SQLite:
		s.db, err = openSQLite(cfg.sqlitePath)
	case Postgres:
		s.db = openPostgres(cfg.pgConfig)
		// SERIALIZABLE gives InTx the guarantee SQLite's single writer gives
		// for free: a read-modify-write never loses an update. The price is
		// serialization failures, which InTx retries.
		s.txOpts = &sql.TxOptions{Isolation: sql.LevelSerializable}
	}
	if err != nil {
		return nil, err
	}
	if err := s.setUp(ctx, cfg); err != nil {
		_ = s.db.Close()
		return nil, err
	}
	return s, nil
}

// setUp checks the database answers and migrates it. On SQLite it does so
// under the migration lock: besides serialising migrations, the lock covers
// the first connection to a new file, whose switch to WAL mode fails at
// once, without waiting, when another process is switching it too.
func (s *Store) setUp(ctx context.Context, cfg dsnConfig) (err error) {
	if s.dialect == SQLite {
		release, lockErr := lockSQLiteMigrations(ctx, cfg.sqlitePath+".migrate-lock")
		if lockErr != nil {
			return fmt.Errorf("store: open %s: %w", s.redacted, lockErr)
		}
		defer func() {
			if rerr := release(); rerr != nil && err == nil {
				err = fmt.Errorf("store: open %s: %w", s.redacted, rerr)
			}
		}()
	}
	if err = s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: connect to %s: %w", s.redacted, err)
	}
	s.provider, err = newMigrationProvider(s.db, cfg)
	if err != nil {
		return fmt.Errorf("store: load migrations for %s: %w", s.redacted, err)
	}
	return s.migrate(ctx)
}

// openSQLite opens a pool on the SQLite file at path (absolute), creating
// its parent directory.
func openSQLite(path string) (*sql.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: create directory for sqlite database: %w", err)
	}
	db, err := sql.Open("sqlite", sqliteDriverDSN(path))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(sqliteMaxOpenConns)
	db.SetMaxIdleConns(sqliteMaxOpenConns)
	return db, nil
}

// sqliteDriverDSN is the modernc.org/sqlite DSN for the file at path. Every
// pooled connection runs these settings when it opens:
//   - busy_timeout first, so the pragmas after it wait for locks too;
//   - WAL: readers never block the writer nor the writer readers;
//   - synchronous=NORMAL: durable at checkpoints, safe against corruption
//     in WAL mode, and far cheaper than FULL;
//   - foreign_keys: SQLite leaves them off by default, PostgreSQL enforces;
//   - _txlock=immediate: transactions take the write lock at BEGIN, where
//     the busy timeout applies, instead of upgrading a read lock later,
//     which fails at once with SQLITE_BUSY when another writer got there;
//   - times are written as integer Unix microseconds and read back from
//     DATE/DATETIME/TIMESTAMP columns as UTC time.Time: exact, compact and
//     ordered correctly by SQL comparisons.
func sqliteDriverDSN(path string) string {
	return path + "?_pragma=busy_timeout(" + fmt.Sprint(sqliteBusyTimeout.Milliseconds()) + ")" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_txlock=immediate" +
		"&_time_integer_format=unix_micro" +
		"&_inttotime=1"
}

// openPostgres opens a pool through pgx's database/sql adapter.
func openPostgres(cfg *pgx.ConnConfig) *sql.DB {
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		// Makes Sluice's sessions recognisable in pg_stat_activity.
		cfg.RuntimeParams["application_name"] = "sluice"
	}
	db := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(scanTimestamptzAsUTC))
	db.SetMaxOpenConns(pgMaxOpenConns)
	db.SetMaxIdleConns(pgMaxIdleConns)
	db.SetConnMaxLifetime(pgConnMaxLifetime)
	db.SetConnMaxIdleTime(pgConnMaxIdleTime)
	return db
}

// scanTimestamptzAsUTC makes TIMESTAMPTZ values scan as UTC times. pgx
// returns them in time.Local by default, which would make the same row read
// differently on the two engines and across machines.
func scanTimestamptzAsUTC(_ context.Context, conn *pgx.Conn) error {
	conn.TypeMap().RegisterType(&pgtype.Type{
		Name:  "timestamptz",
		OID:   pgtype.TimestamptzOID,
		Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
	})
	return nil
}

// migrate applies all pending migrations and logs what it applied.
func (s *Store) migrate(ctx context.Context) error {
	results, err := s.provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate %s: %w", s.redacted, err)
	}
	if len(results) > 0 {
		applied := make([]int64, 0, len(results))
		for _, r := range results {
			applied = append(applied, r.Source.Version)
		}
		slog.InfoContext(ctx, "store schema migrated",
			"store", s.redacted, "dialect", string(s.dialect), "applied", applied)
	}
	return nil
}

// Dialect reports which engine the Store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// String returns the DSN with any password replaced by "xxxxx": safe to log.
func (s *Store) String() string { return s.redacted }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", s.redacted, err)
	}
	return nil
}

// SchemaVersion returns the highest migration version applied to the
// database. It takes no migration lock, so a health check calling it is
// never held up by another process migrating.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	v, _, err := s.provider.GetVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: schema version of %s: %w", s.redacted, err)
	}
	return v, nil
}

// DB returns the underlying pool, for what the Store does not wrap (a
// dedicated *sql.Conn for session-level locks, for instance). Queries made
// through it get no placeholder rebinding and no error classification; use
// [Dialect.Rebind] and keep the Store the owner: never close the pool.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the connection pool. It is safe to call more than once;
// later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("store: close %s: %w", s.redacted, err)
		}
	})
	return s.closeErr
}

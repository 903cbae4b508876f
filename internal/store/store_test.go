package store_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// latestMigration is the highest version in the sqlite migration directory.
func latestMigration(t *testing.T) int64 {
	t.Helper()
	var latest int64
	for _, name := range migrationNames(t, "sqlite") {
		v, err := strconv.ParseInt(strings.SplitN(name, "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: version: %v", name, err)
		}
		latest = max(latest, v)
	}
	return latest
}

func migrationNames(t *testing.T, dialect string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("migrations", dialect))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestMigrationDirectoriesMatch(t *testing.T) {
	sqliteNames := migrationNames(t, "sqlite")
	pgNames := migrationNames(t, "postgres")
	if !slices.Equal(sqliteNames, pgNames) {
		t.Fatalf("migration directories differ:\n  sqlite:   %v\n  postgres: %v\nadd every migration to both, with the same file name", sqliteNames, pgNames)
	}
	if len(sqliteNames) == 0 {
		t.Fatal("no migrations")
	}
	valid := regexp.MustCompile(`^\d{5}_[a-z0-9_]+\.sql$`)
	for i, name := range sqliteNames {
		if !valid.MatchString(name) {
			t.Errorf("migration %q: want NNNNN_snake_case.sql", name)
		}
		if want := fmt.Sprintf("%05d_", i+1); !strings.HasPrefix(name, want) {
			t.Errorf("migration %q: want versions numbered 1, 2, 3... without gaps, expected prefix %s", name, want)
		}
	}
	// What is embedded is what is on disk.
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		fsys, err := store.MigrationFS(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range sqliteNames {
			embedded, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatalf("%s: embedded %s: %v", d, name, err)
			}
			onDisk, err := os.ReadFile(filepath.Join("migrations", string(d), name))
			if err != nil {
				t.Fatal(err)
			}
			if string(embedded) != string(onDisk) {
				t.Errorf("%s: embedded %s differs from the file", d, name)
			}
		}
	}
	if _, err := store.MigrationFS("oracle"); err == nil {
		t.Error("MigrationFS(oracle): want an error")
	}
}

func TestOpenMigratesAndReopenIsIdempotent(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		latest := latestMigration(t)

		s := storetest.Open(t, dsn)
		v, err := s.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v != latest {
			t.Fatalf("schema version %d, want %d", v, latest)
		}
		started := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
		insertWorker(t, s, "w1", started)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		// A restart: migrations are not applied again and the data is there.
		for range 2 {
			s = storetest.Open(t, dsn)
			if v, err := s.SchemaVersion(ctx); err != nil || v != latest {
				t.Fatalf("after reopen: schema version %d, %v; want %d", v, err, latest)
			}
			assertMigrationsRecordedOnce(t, s, latest)
			var host string
			var got time.Time
			if err := s.QueryRow(ctx, "SELECT hostname, started_at FROM workers WHERE id = ?", "w1").Scan(&host, &got); err != nil {
				t.Fatalf("worker after reopen: %v", err)
			}
			if host != "host-w1" || !got.Equal(started) {
				t.Fatalf("worker after reopen: %q %v, want host-w1 %v", host, got, started)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// assertMigrationsRecordedOnce checks goose's version table holds each
// version 1..latest exactly once.
func assertMigrationsRecordedOnce(t *testing.T, s *store.Store, latest int64) {
	t.Helper()
	rows, err := s.Query(t.Context(), "SELECT version_id, COUNT(*) FROM goose_db_version WHERE version_id > 0 GROUP BY version_id ORDER BY version_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []int64
	for rows.Next() {
		var v, n int64
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("migration %d recorded %d times", v, n)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if int64(len(versions)) != latest {
		t.Errorf("recorded versions %v, want 1..%d", versions, latest)
	}
}

func insertWorker(t *testing.T, q store.Querier, id string, at time.Time) {
	t.Helper()
	_, err := q.Exec(t.Context(),
		"INSERT INTO workers (id, hostname, version, roles, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)",
		id, "host-"+id, "v0.1.0", "api,worker", at, at)
	if err != nil {
		t.Fatalf("insert worker %s: %v", id, err)
	}
}

func TestConcurrentOpen(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		const n = 4
		var wg sync.WaitGroup
		errs := make([]error, n)
		stores := make([]*store.Store, n)
		for i := range n {
			wg.Go(func() {
				stores[i], errs[i] = store.Open(t.Context(), dsn)
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Errorf("open %d: %v", i, errs[i])
				continue
			}
			t.Cleanup(func() { _ = stores[i].Close() })
		}
		if t.Failed() {
			return
		}
		assertMigrationsRecordedOnce(t, stores[0], latestMigration(t))
	})
}

// openHelperEnv names the DSN a child process opens in
// TestConcurrentOpenProcesses.
const openHelperEnv = "STORE_TEST_OPEN_DSN"

// TestOpenHelperProcess is not a test: it is the child process of
// TestConcurrentOpenProcesses.
func TestOpenHelperProcess(t *testing.T) {
	dsn := os.Getenv(openHelperEnv)
	if dsn == "" {
		t.Skip("helper process for TestConcurrentOpenProcesses")
	}
	s, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("child open: %v", err)
	}
	defer s.Close()
	insertWorker(t, s, fmt.Sprintf("pid-%d", os.Getpid()), time.Now())
}

// Several processes starting at once on a fresh database must each apply
// no migration twice and all come up.
func TestConcurrentOpenProcesses(t *testing.T) {
	if os.Getenv(openHelperEnv) != "" {
		t.Skip("in helper process")
	}
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		const n = 3
		cmds := make([]*exec.Cmd, n)
		outs := make([]strings.Builder, n)
		for i := range n {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestOpenHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), openHelperEnv+"="+dsn)
			cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds[i] = cmd
		}
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Errorf("child %d: %v\n%s", i, err, outs[i].String())
			}
		}
		if t.Failed() {
			return
		}
		s := storetest.Open(t, dsn)
		assertMigrationsRecordedOnce(t, s, latestMigration(t))
		var workers int
		if err := s.QueryRow(t.Context(), "SELECT COUNT(*) FROM workers").Scan(&workers); err != nil {
			t.Fatal(err)
		}
		if workers != n {
			t.Fatalf("%d workers registered, want %d", workers, n)
		}
	})
}

func TestDialectPingClose(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		s := storetest.SQLite(t)
		if s.Dialect() != store.SQLite {
			t.Fatalf("dialect %q", s.Dialect())
		}
		checkPingClose(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		s := storetest.Postgres(t)
		if s.Dialect() != store.Postgres {
			t.Fatalf("dialect %q", s.Dialect())
		}
		checkPingClose(t, s)
	})
}

func checkPingClose(t *testing.T, s *store.Store) {
	t.Helper()
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping after Close: want an error")
	}
}

func TestStringRedactsPassword(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dsn := storetest.SQLiteDSN(t)
		if got := storetest.Open(t, dsn).String(); got != dsn {
			t.Fatalf("String() = %q, want %q", got, dsn)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		// The test server trusts loopback connections, so any password
		// is accepted and can be checked for in String.
		dsn := storetest.PostgresDSN(t)
		withUserPassword := strings.Replace(dsn, "://postgres@", "://postgres:s3cr3t-pw@", 1)
		if withUserPassword == dsn {
			t.Fatalf("test DSN %q has no postgres@ user to add a password to", dsn)
		}
		for _, d := range []string{withUserPassword, dsn + "&password=s3cr3t-pw"} {
			s := storetest.Open(t, d)
			got := s.String()
			if strings.Contains(got, "s3cr3t-pw") || !strings.Contains(got, "xxxxx") {
				t.Errorf("String() = %q: want the password replaced by xxxxx", got)
			}
			if !strings.Contains(got, "127.0.0.1") {
				t.Errorf("String() = %q: want host kept", got)
			}
			_ = s.Close()
		}
	})
}

func TestOpenBadDSN(t *testing.T) {
	const secret = "s3cr3t-pw"
	cases := []struct {
		dsn  string
		want string
	}{
		{"", "empty DSN"},
		{"mysql://root:" + secret + "@localhost/db", `unsupported DSN scheme "mysql"`},
		{"host=localhost user=x password=" + secret, "no URL scheme"},
		{"/var/lib/sluice.db", "no URL scheme"},
		{"sqlite://", "names no file"},
		{"sqlite:///tmp/x.db?mode=ro", "query parameters are not accepted"},
		{"sqlite://:memory:", "in-memory"},
		{"sqlite://" + t.TempDir() + "/", "directory"},
		// Port 1 refuses connections on loopback.
		{"postgres://u:" + secret + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", "store: connect to postgres://u:xxxxx@127.0.0.1:1/db"},
		{"postgresql://u:" + secret + "@127.0.0.1:notaport/db", "postgres DSN postgres"},
	}
	for _, c := range cases {
		s, err := store.Open(t.Context(), c.dsn)
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q): want an error", c.dsn)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("Open(%q) = %q, want it to mention %q", c.dsn, msg, c.want)
		}
		if strings.Contains(msg, secret) {
			t.Errorf("Open(%q) error leaks the password: %q", c.dsn, msg)
		}
		if strings.Contains(c.want, "scheme") && !strings.Contains(msg, "sqlite://") {
			t.Errorf("Open(%q) = %q: want the accepted schemes listed", c.dsn, msg)
		}
	}
}

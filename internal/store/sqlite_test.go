package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// Every pooled SQLite connection runs with the settings the package
// relies on.
func TestSQLiteConnectionSettings(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := t.Context()
	// Hold several connections at once so each is a distinct one.
	for i := range 3 {
		conn, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var journal string
		var foreignKeys, synchronous, busyTimeout int
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&foreignKeys); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&synchronous); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busyTimeout); err != nil {
			t.Fatal(err)
		}
		if journal != "wal" || foreignKeys != 1 || synchronous != 1 || busyTimeout != 10000 {
			t.Errorf("connection %d: journal_mode=%s foreign_keys=%d synchronous=%d busy_timeout=%d; want wal 1 1(NORMAL) 10000",
				i, journal, foreignKeys, synchronous, busyTimeout)
		}
	}
}

// A transaction holds SQLite's write lock from BEGIN, before it writes
// anything (BEGIN IMMEDIATE), so it can never fail to upgrade later.
func TestSQLiteTransactionLocksAtBegin(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := t.Context()
	mustExec(t, s, "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
	inTx, release := make(chan struct{}), make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- s.InTx(ctx, func(tx *store.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM kv").Scan(&n); err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Exec(wctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "k", "v")
	waited := time.Since(start)
	close(release)
	if err == nil {
		t.Fatal("a write went through while a read-only transaction was open: transactions are not BEGIN IMMEDIATE")
	}
	if waited < 250*time.Millisecond {
		t.Fatalf("write failed after %v (%v), want it to wait for the lock until its context ended", waited, err)
	}
	if err := <-txDone; err != nil {
		t.Fatal(err)
	}
	// Once the transaction is over the write goes through.
	mustExec(t, s, "INSERT INTO kv (k, v) VALUES (?, ?)", "k", "v")
}

// sqlite://relative/path.db is relative to the working directory, and
// missing parent directories are created.
func TestSQLiteRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	dsn := "sqlite://nested/dir/rel.db"
	s := storetest.Open(t, dsn)
	if s.String() != dsn {
		t.Fatalf("String() = %q, want %q", s.String(), dsn)
	}
	insertWorker(t, s, "w", time.Now())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rel.db", "rel.db.migrate-lock"} {
		if _, err := os.Stat(filepath.Join(dir, "nested", "dir", name)); err != nil {
			t.Errorf("want %s in the directory the relative path names: %v", name, err)
		}
	}
	// The same file, through an absolute DSN.
	abs := storetest.Open(t, "sqlite://"+filepath.ToSlash(filepath.Join(dir, "nested", "dir", "rel.db")))
	var n int
	if err := abs.QueryRow(t.Context(), "SELECT COUNT(*) FROM workers").Scan(&n); err != nil || n != 1 {
		t.Fatalf("workers through the absolute path: %d, %v; want 1", n, err)
	}
}

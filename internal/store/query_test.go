package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

func TestRebind(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{"INSERT INTO t VALUES (?,?,?)", "INSERT INTO t VALUES ($1,$2,$3)"},
		{"SELECT '?', ?", "SELECT '?', $1"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{`SELECT E'\'?', ?`, `SELECT E'\'?', $1`},
		{`SELECT e'a\\', ?`, `SELECT e'a\\', $1`},
		{`SELECT 'a\', ?`, `SELECT 'a\', $1`}, // no backslash escapes in standard strings
		{`SELECT "odd?col" FROM t WHERE x = ?`, `SELECT "odd?col" FROM t WHERE x = $1`},
		{`SELECT "a""?" , ?`, `SELECT "a""?" , $1`},
		{"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"SELECT ? /* a /* nested? */ still? */, ?", "SELECT $1 /* a /* nested? */ still? */, $2"},
		{"SELECT $$what?$$, ?", "SELECT $$what?$$, $1"},
		{"SELECT $fn$ ? $x$ ? $fn$, ?", "SELECT $fn$ ? $x$ ? $fn$, $1"},
		{"SELECT a$b, ?", "SELECT a$b, $1"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
		{"SELECT ?, 'x", "SELECT $1, 'x"},
		{"SELECT ? /* open", "SELECT $1 /* open"},
		{"SELECT 'é?', ?", "SELECT 'é?', $1"},
	}
	for _, c := range cases {
		if got := store.Postgres.Rebind(c.in); got != c.want {
			t.Errorf("Postgres.Rebind(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := store.SQLite.Rebind(c.in); got != c.in {
			t.Errorf("SQLite.Rebind(%q) = %q, want it unchanged", c.in, got)
		}
	}
}

func TestPlaceholdersOnBothEngines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		mustExec(t, s, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, "odd?col" TEXT NOT NULL)`)
		// '?' in a literal and in a quoted identifier are not parameters.
		if _, err := s.Exec(ctx, `INSERT INTO notes (id, body, "odd?col") VALUES (?, 'what? -- not a comment', ?)`, 1, "x?"); err != nil {
			t.Fatal(err)
		}
		var body, odd string
		err := s.QueryRow(ctx, `SELECT body, "odd?col" FROM notes WHERE id = ? AND body = 'what? -- not a comment' AND "odd?col" = ?`, 1, "x?").Scan(&body, &odd)
		if err != nil {
			t.Fatal(err)
		}
		if body != "what? -- not a comment" || odd != "x?" {
			t.Fatalf("got %q %q", body, odd)
		}

		// Query through a transaction, with Rows.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			for i := 2; i <= 4; i++ {
				if _, err := tx.Exec(ctx, "INSERT INTO notes (id, body, \"odd?col\") VALUES (?, ?, '?')", i, fmt.Sprint("n", i)); err != nil {
					return err
				}
			}
			rows, err := tx.Query(ctx, "SELECT id, body FROM notes WHERE id >= ? AND \"odd?col\" = '?' ORDER BY id", 3)
			if err != nil {
				return err
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var id int
				var b string
				if err := rows.Scan(&id, &b); err != nil {
					return err
				}
				got = append(got, fmt.Sprint(id, b))
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if strings.Join(got, ",") != "3n3,4n4" {
				return fmt.Errorf("rows %v, want [3n3 4n4]", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func mustExec(t *testing.T, q store.Querier, query string, args ...any) {
	t.Helper()
	if _, err := q.Exec(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestErrorClassification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		mustExec(t, s, "CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
		mustExec(t, s, "CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents (id))")
		mustExec(t, s, "INSERT INTO parents (id, name) VALUES (?, ?)", 1, "p1")

		assertClass := func(t *testing.T, err, want error, wantMsg ...string) {
			t.Helper()
			if err == nil {
				t.Fatalf("want %v, got no error", want)
			}
			for _, class := range []error{store.ErrNotFound, store.ErrConflict, store.ErrForeignKey} {
				if got := errors.Is(err, class); got != (class == want) {
					t.Errorf("errors.Is(%q, %v) = %v", err, class, got)
				}
			}
			var pgErr *pgconn.PgError
			var sqliteErr *sqlite.Error
			if want != store.ErrNotFound && want != nil && !errors.As(err, &pgErr) && !errors.As(err, &sqliteErr) {
				t.Errorf("%q: the driver error is not reachable with errors.As", err)
			}
			msg := strings.ToLower(err.Error())
			for _, w := range wantMsg {
				if !strings.Contains(msg, w) {
					t.Errorf("%q: want the driver's message (mentioning %q)", err, w)
				}
			}
		}

		// Primary key and unique constraints.
		_, err := s.Exec(ctx, "INSERT INTO parents (id, name) VALUES (?, ?)", 1, "other")
		assertClass(t, err, store.ErrConflict, "parents")
		_, err = s.Exec(ctx, "INSERT INTO parents (id, name) VALUES (?, ?)", 2, "p1")
		assertClass(t, err, store.ErrConflict, "name")
		// Through QueryRow, where the error surfaces at Scan.
		var id int
		err = s.QueryRow(ctx, "INSERT INTO parents (id, name) VALUES (?, ?) RETURNING id", 3, "p1").Scan(&id)
		assertClass(t, err, store.ErrConflict)

		// Foreign keys, both directions.
		_, err = s.Exec(ctx, "INSERT INTO children (id, parent_id) VALUES (?, ?)", 1, 42)
		assertClass(t, err, store.ErrForeignKey, "foreign key")
		mustExec(t, s, "INSERT INTO children (id, parent_id) VALUES (?, ?)", 1, 1)
		_, err = s.Exec(ctx, "DELETE FROM parents WHERE id = ?", 1)
		assertClass(t, err, store.ErrForeignKey, "foreign key")

		// No row.
		err = s.QueryRow(ctx, "SELECT id FROM parents WHERE name = ?", "nobody").Scan(&id)
		assertClass(t, err, store.ErrNotFound)
		if !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("%v: want errors.Is(err, sql.ErrNoRows) too", err)
		}

		// Inside a transaction, and through the caller's own wrapping.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.QueryRow(ctx, "SELECT id FROM parents WHERE id = ?", 99).Scan(&id); err != nil {
				return fmt.Errorf("load parent 99: %w", err)
			}
			return nil
		})
		assertClass(t, err, store.ErrNotFound, "load parent 99")
		err = s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO children (id, parent_id) VALUES (?, ?)", 2, 77)
			return err
		})
		assertClass(t, err, store.ErrForeignKey)

		// Other failures belong to no class.
		_, err = s.Exec(ctx, "INSERT INTO parents (id) VALUES (?)", 10) // NOT NULL
		assertClass(t, err, nil)
		_, err = s.Exec(ctx, "SELEC nonsense")
		assertClass(t, err, nil)
	})
}

func TestInTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		mustExec(t, s, "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
		count := func(k string) int {
			t.Helper()
			var n int
			if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM kv WHERE k = ?", k).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		t.Run("commit", func(t *testing.T) {
			if err := s.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "committed", "1")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if count("committed") != 1 {
				t.Fatal("committed row missing")
			}
		})

		t.Run("rollback on error", func(t *testing.T) {
			errBoom := errors.New("boom")
			calls := 0
			err := s.InTx(ctx, func(tx *store.Tx) error {
				calls++
				if _, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "failed", "1"); err != nil {
					return err
				}
				return errBoom
			})
			if err != errBoom {
				t.Fatalf("InTx returned %v, want fn's error unchanged", err)
			}
			if calls != 1 {
				t.Fatalf("fn ran %d times, want 1: only transient errors are retried", calls)
			}
			if count("failed") != 0 {
				t.Fatal("row of a failed transaction was committed")
			}
		})

		t.Run("rollback on panic", func(t *testing.T) {
			var recovered any
			func() {
				defer func() { recovered = recover() }()
				_ = s.InTx(ctx, func(tx *store.Tx) error {
					if _, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "panicked", "1"); err != nil {
						return err
					}
					panic("kaboom")
				})
			}()
			if recovered != "kaboom" {
				t.Fatalf("recovered %v, want the panic to go on", recovered)
			}
			if count("panicked") != 0 {
				t.Fatal("row of a panicked transaction was committed")
			}
			// The connection went back to the pool in a usable state.
			if err := s.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "after-panic", "1")
				return err
			}); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("cancelled context", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			ran := false
			err := s.InTx(cctx, func(*store.Tx) error { ran = true; return nil })
			if !errors.Is(err, context.Canceled) || ran {
				t.Fatalf("InTx with a cancelled context: %v (fn ran: %v), want context.Canceled and no run", err, ran)
			}
		})
	})
}

// Writers contending for one row: every increment lands exactly once and
// no caller sees a transient error, because InTx takes SQLite's write lock
// up front and retries PostgreSQL serialization failures.
func TestInTxConcurrentWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		mustExec(t, s, "CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")
		mustExec(t, s, "INSERT INTO counters (name, n) VALUES (?, ?)", "c", 0)
		const goroutines, increments = 8, 50
		var wg sync.WaitGroup
		var attempts atomic.Int64
		errs := make(chan error, goroutines*increments)
		for range goroutines {
			wg.Go(func() {
				for range increments {
					// Read, then write what was read plus one: a lost update
					// would show in the final count.
					err := s.InTx(ctx, func(tx *store.Tx) error {
						attempts.Add(1)
						var n int
						if err := tx.QueryRow(ctx, "SELECT n FROM counters WHERE name = ?", "c").Scan(&n); err != nil {
							return err
						}
						_, err := tx.Exec(ctx, "UPDATE counters SET n = ? WHERE name = ?", n+1, "c")
						return err
					})
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("increment: %v", err)
		}
		var n int
		if err := s.QueryRow(ctx, "SELECT n FROM counters WHERE name = ?", "c").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != goroutines*increments {
			t.Fatalf("counter = %d, want %d", n, goroutines*increments)
		}
		retries := attempts.Load() - goroutines*increments
		t.Logf("%d retries", retries)
		// SQLite transactions take the write lock at BEGIN, waiting for it
		// under the busy timeout, so they never fail and need no retry. A
		// deferred BEGIN would fail to upgrade its read lock
		// (SQLITE_BUSY_SNAPSHOT) and only pass thanks to retries.
		if s.Dialect() == store.SQLite && retries != 0 {
			t.Errorf("SQLite needed %d retries, want 0", retries)
		}
	})
}

// InTx runs fn again after a transient failure, in a new transaction that
// sees what the failed one could not.
func TestInTxRetriesTransientErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		mustExec(t, s, "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
		mustExec(t, s, "INSERT INTO kv (k, v) VALUES (?, ?)", "k", "0")
		mustExec(t, s, "CREATE TABLE scratch (x INTEGER)")
		attempts := 0
		err := s.InTx(ctx, func(tx *store.Tx) error {
			attempts++
			var v string
			if err := tx.QueryRow(ctx, "SELECT v FROM kv WHERE k = ?", "k").Scan(&v); err != nil {
				return err
			}
			if attempts == 1 {
				if err := failTransiently(ctx, s, tx); err != nil {
					return fmt.Errorf("first attempt: %w", err)
				}
			}
			_, err := tx.Exec(ctx, "UPDATE kv SET v = ? WHERE k = ?", v+"a", "k")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if attempts != 2 {
			t.Fatalf("fn ran %d times, want 2", attempts)
		}
		var v string
		if err := s.QueryRow(ctx, "SELECT v FROM kv WHERE k = ?", "k").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if want := map[store.Dialect]string{store.Postgres: "0ba", store.SQLite: "0a"}[s.Dialect()]; v != want {
			t.Fatalf("v = %q, want %q", v, want)
		}
	})
}

// failTransiently makes tx's next step fail with a real transient error:
// on PostgreSQL a concurrent transaction updates the row tx has read (so
// tx's own update is a serialization failure); on SQLite a DROP TABLE runs
// while a statement of the same connection is still reading
// (SQLITE_LOCKED).
func failTransiently(ctx context.Context, s *store.Store, tx *store.Tx) error {
	if s.Dialect() == store.Postgres {
		return s.InTx(ctx, func(other *store.Tx) error {
			_, err := other.Exec(ctx, "UPDATE kv SET v = v || 'b' WHERE k = ?", "k")
			return err
		})
	}
	rows, err := tx.Query(ctx, "SELECT k FROM kv")
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		return errors.New("kv is empty")
	}
	_, err = tx.Exec(ctx, "DROP TABLE scratch")
	if err == nil {
		return errors.New("DROP TABLE under an open statement succeeded; want SQLITE_LOCKED")
	}
	return err
}

func TestInTxGivesUpWhenContextEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		mustExec(t, s, "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
		mustExec(t, s, "INSERT INTO kv (k, v) VALUES (?, ?)", "k", "0")
		mustExec(t, s, "CREATE TABLE scratch (x INTEGER)")
		ctx, cancel := context.WithCancel(t.Context())
		attempts := 0
		err := s.InTx(ctx, func(tx *store.Tx) error {
			attempts++
			var v string
			if err := tx.QueryRow(ctx, "SELECT v FROM kv WHERE k = ?", "k").Scan(&v); err != nil {
				return err
			}
			if err := failTransiently(ctx, s, tx); err != nil {
				cancel() // no retry after this
				return err
			}
			_, err := tx.Exec(ctx, "UPDATE kv SET v = ? WHERE k = ?", v+"a", "k")
			cancel()
			return err
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("InTx = %v, want context.Canceled in the chain", err)
		}
		if attempts != 1 {
			t.Fatalf("fn ran %d times, want 1", attempts)
		}
	})
}

func TestTimeRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		tokyo := time.FixedZone("JST", 9*3600)
		cases := []struct {
			id string
			in time.Time
		}{
			{"micro", time.Date(2026, 5, 17, 8, 30, 15, 123456000, time.UTC)},
			{"nanos-truncated", time.Date(2026, 5, 17, 8, 30, 15, 123456789, time.UTC)},
			{"other-zone", time.Date(2026, 5, 17, 17, 30, 15, 654321000, tokyo)},
			{"before-1970", time.Date(1969, 7, 20, 20, 17, 40, 1000, time.UTC)},
			{"far-future", time.Date(2999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
			{"now", time.Now()}, // carries a monotonic reading
		}
		for _, c := range cases {
			insertWorker(t, s, c.id, c.in)
		}
		for _, c := range cases {
			var started, heartbeat time.Time
			if err := s.QueryRow(ctx, "SELECT started_at, heartbeat_at FROM workers WHERE id = ?", c.id).Scan(&started, &heartbeat); err != nil {
				t.Fatalf("%s: %v", c.id, err)
			}
			want := c.in.Truncate(time.Microsecond).UTC().Round(0)
			// == compares wall clock, location and all: the value must be
			// exactly the instant, in UTC.
			if started != want || heartbeat != want {
				t.Errorf("%s: stored %v, read %v / %v, want %v", c.id, c.in, started, heartbeat, want)
			}
		}
		// Bound times compare with stored ones in SQL, and sort in order.
		rows, err := s.Query(ctx, "SELECT id FROM workers WHERE heartbeat_at > ? AND heartbeat_at <= ? ORDER BY heartbeat_at",
			time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 17, 8, 30, 15, 654321000, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(ids, ","); got != "micro,nanos-truncated,other-zone" {
			t.Fatalf("time range query returned %s, want micro,nanos-truncated,other-zone", got)
		}
	})
}

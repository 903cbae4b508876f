package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Retry policy of InTx. Backoff doubles from txBackoffBase up to
// txBackoffMax, with jitter so that the transactions that collided do not
// collide again in lockstep.
const (
	txMaxAttempts = 20
	txBackoffBase = 2 * time.Millisecond
	txBackoffMax  = 250 * time.Millisecond
)

// Tx is a transaction started by Store.InTx. It is valid only inside the
// function InTx runs, and like *sql.Tx it is used by one goroutine at a
// time: run statements one after another, and close each Rows before the
// next statement.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
}

// Dialect reports which engine the transaction runs on.
func (t *Tx) Dialect() Dialect { return t.dialect }

// Exec runs a statement that returns no rows.
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := t.tx.ExecContext(ctx, t.dialect.Rebind(query), args...)
	return res, classify(err)
}

// Query runs a query that returns rows. The caller must Close them.
func (t *Tx) Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	rows, err := t.tx.QueryContext(ctx, t.dialect.Rebind(query), args...)
	if err != nil {
		return nil, classify(err)
	}
	return &Rows{rows}, nil
}

// QueryRow runs a query expected to return at most one row. Errors are
// deferred until Row.Scan.
func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) *Row {
	return &Row{t.tx.QueryRowContext(ctx, t.dialect.Rebind(query), args...)}
}

// InTx runs fn in a transaction. The transaction commits when fn returns
// nil and rolls back when fn returns an error or panics (the panic goes
// on). fn's error is returned as is.
//
// When fn or the commit fails with a transient error — a serialization
// failure or deadlock on PostgreSQL, SQLITE_BUSY or SQLITE_LOCKED on
// SQLite — the whole of fn runs again in a new transaction, up to 20
// attempts in all with a short growing backoff, and never after ctx is done.
// fn must therefore be safe to repeat: anything it does outside the
// transaction (sending, logging an outcome, mutating captured state) happens
// once per attempt. Transactions are SERIALIZABLE on PostgreSQL and take
// SQLite's write lock at BEGIN.
//
// Inside fn, run statements through the Tx, not the Store: on SQLite a
// write through the Store (or a nested InTx) waits for the very lock fn's
// transaction holds, and fails after the busy timeout.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.runTx(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
		if attempt >= txMaxAttempts {
			return fmt.Errorf("store: transaction failed %d times, giving up: %w", attempt, err)
		}
		if werr := sleepCtx(ctx, txBackoff(attempt)); werr != nil {
			return fmt.Errorf("store: transaction not retried (%w): %w", werr, err)
		}
	}
}

// runTx is one attempt of InTx.
func (s *Store) runTx(ctx context.Context, fn func(*Tx) error) error {
	sqlTx, err := s.db.BeginTx(ctx, s.txOpts)
	if err != nil {
		return fmt.Errorf("store: begin transaction: %w", classify(err))
	}
	// Roll back on every way out that is not a commit: an error, a panic,
	// or runtime.Goexit (t.FailNow inside fn). A panic continues once the
	// deferred rollback has run.
	done := false
	defer func() {
		if !done {
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(&Tx{tx: sqlTx, dialect: s.dialect}); err != nil {
		done = true
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return fmt.Errorf("%w (and rollback failed: %v)", err, rbErr)
		}
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit transaction: %w", classify(err))
	}
	return nil
}

// txBackoff is the pause before attempt+1: exponential, capped, with the
// upper half jittered.
func txBackoff(attempt int) time.Duration {
	d := txBackoffMax
	if attempt < 16 {
		d = min(txBackoffBase<<attempt, txBackoffMax)
	}
	return d/2 + rand.N(d/2+1)
}

// sleepCtx waits for d or until ctx is done, whichever comes first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

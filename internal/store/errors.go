package store

import (
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Classified errors. Test with errors.Is; the error's message stays the
// driver's own.
var (
	// ErrNotFound: Row.Scan found no row.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique or primary key constraint was violated.
	ErrConflict = errors.New("store: conflict")
	// ErrForeignKey: a foreign key constraint was violated (a referenced
	// row is missing, or a referencing row still exists).
	ErrForeignKey = errors.New("store: foreign key violation")
)

// PostgreSQL SQLSTATE codes we act on.
const (
	pgUniqueViolation      = "23505"
	pgForeignKeyViolation  = "23503"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// classifiedError carries a driver error together with the class it
// belongs to, so both errors.Is(err, ErrConflict) and errors.As(err,
// &pgErr) work, while the message is the driver's.
type classifiedError struct {
	class error
	err   error
}

func (e *classifiedError) Error() string   { return e.err.Error() }
func (e *classifiedError) Unwrap() []error { return []error{e.class, e.err} }

// classify wraps err with its class when it has one and returns it
// unchanged otherwise (nil included).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ce *classifiedError
	if errors.As(err, &ce) {
		return err
	}
	if class := classOf(err); class != nil {
		return &classifiedError{class: class, err: err}
	}
	return err
}

func classOf(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgUniqueViolation:
			return ErrConflict
		case pgForeignKeyViolation:
			return ErrForeignKey
		}
		return nil
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		// The driver enables extended result codes, which tell a unique
		// violation from, say, a NOT NULL one.
		switch sqliteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return ErrConflict
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return ErrForeignKey
		}
	}
	return nil
}

// retryable reports whether a transaction that failed with err may succeed
// if run again from the start: a serialization failure or deadlock on
// PostgreSQL, a lock another connection held for longer than the busy
// timeout on SQLite.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgSerializationFailure || pgErr.Code == pgDeadlockDetected
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		// Primary codes: the extended variants (BUSY_SNAPSHOT,
		// LOCKED_SHAREDCACHE, ...) are transient too.
		switch sqliteErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

package store

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// acceptedDSNs is quoted by every DSN error so the fix is in the message.
const acceptedDSNs = "sqlite:///abs/path.db, sqlite://relative/path.db, postgres://user:password@host:port/db or postgresql://..."

// redactedPassword replaces passwords in String and in logs.
const redactedPassword = "xxxxx"

// dsnConfig is a parsed DSN.
type dsnConfig struct {
	dialect    Dialect
	sqlitePath string          // SQLite: absolute, cleaned file path
	pgConfig   *pgx.ConnConfig // PostgreSQL: parsed by pgx
	redacted   string          // the DSN without secrets, for String and errors
}

// parseDSN recognises the scheme and parses the rest of dsn for that engine.
// Errors never quote a password.
func parseDSN(dsn string) (dsnConfig, error) {
	dsn = strings.TrimSpace(dsn)
	if dsn == "" {
		return dsnConfig{}, fmt.Errorf("store: empty DSN; accepted forms: %s", acceptedDSNs)
	}
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok || !isScheme(scheme) {
		// Not quoted: a key=value connection string may hold a password.
		return dsnConfig{}, fmt.Errorf("store: DSN has no URL scheme; accepted forms: %s", acceptedDSNs)
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		return parseSQLiteDSN(dsn, rest)
	case "postgres", "postgresql":
		return parsePostgresDSN(dsn)
	default:
		return dsnConfig{}, fmt.Errorf("store: unsupported DSN scheme %q; accepted forms: %s", scheme, acceptedDSNs)
	}
}

// isScheme reports whether s is a URL scheme as RFC 3986 defines it.
func isScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func parseSQLiteDSN(dsn, rest string) (dsnConfig, error) {
	if strings.ContainsAny(rest, "?#") {
		return dsnConfig{}, fmt.Errorf("store: sqlite DSN %q: query parameters are not accepted, the store sets its own pragmas", dsn)
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return dsnConfig{}, fmt.Errorf("store: sqlite DSN %q: %w", dsn, err)
	}
	switch {
	case p == "":
		return dsnConfig{}, fmt.Errorf("store: sqlite DSN %q names no file; accepted forms: %s", dsn, acceptedDSNs)
	case p == ":memory:" || strings.HasPrefix(p, "file:"):
		// Each pooled connection would get its own empty in-memory database.
		return dsnConfig{}, fmt.Errorf("store: sqlite DSN %q: in-memory and file: URI databases are not supported, name a file path", dsn)
	case strings.Contains(p, "?"):
		// The driver splits its DSN at the first '?'.
		return dsnConfig{}, fmt.Errorf("store: sqlite DSN %q: the file path must not contain '?'", dsn)
	case strings.HasSuffix(p, "/"):
		return dsnConfig{}, fmt.Errorf("store: sqlite DSN %q names a directory, not a database file", dsn)
	}
	// Absolute from here on, so a later chdir cannot move the database and
	// every process derives the same migration lock file name.
	abs, err := filepath.Abs(filepath.FromSlash(p))
	if err != nil {
		return dsnConfig{}, fmt.Errorf("store: sqlite DSN %q: %w", dsn, err)
	}
	return dsnConfig{dialect: SQLite, sqlitePath: abs, redacted: dsn}, nil
}

func parsePostgresDSN(dsn string) (dsnConfig, error) {
	redacted := redactURL(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx redacts passwords from its parse errors on a best-effort basis;
		// unwrap to its message only when that is safe to show.
		return dsnConfig{}, fmt.Errorf("store: postgres DSN %s: %w", redacted, sanitizeParseError(err))
	}
	return dsnConfig{dialect: Postgres, pgConfig: cfg, redacted: redacted}, nil
}

// sanitizeParseError drops the connection string pgx keeps inside its parse
// error (pgconn.ParseConfigError.ConnString holds it unredacted) while keeping
// the message, so a caller logging the error with %+v or errors.As cannot
// leak the password.
func sanitizeParseError(err error) error {
	return errors.New(err.Error())
}

// redactURL returns dsn with the password in the user info and in password
// query parameters replaced by "xxxxx".
func redactURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		scheme, _, _ := strings.Cut(dsn, "://")
		return scheme + "://(unparsable DSN, redacted)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redactedPassword)
		}
	}
	q := u.Query()
	changed := false
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, redactedPassword)
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

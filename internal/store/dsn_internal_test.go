package store

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://u:secret@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h/db?password=secret&sslmode=require", "postgres://h/db?password=xxxxx&sslmode=require"},
		{"postgresql://u:p%40ss@h/db?sslpassword=secret", "postgresql://u:xxxxx@h/db?sslpassword=xxxxx"},
		{"postgres://u:secret@h:notaport/db", "postgres://(unparsable DSN, redacted)"},
	}
	for _, c := range cases {
		got := redactURL(c.in)
		if got != c.want {
			t.Errorf("redactURL(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(got, "secret") || strings.Contains(got, "p%40ss") {
			t.Errorf("redactURL(%q) leaks: %q", c.in, got)
		}
	}
}

func TestParseDSN(t *testing.T) {
	wd, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		dsn     string
		dialect Dialect
		path    string
	}{
		{"sqlite:///var/lib/sluice/sluice.db", SQLite, "/var/lib/sluice/sluice.db"},
		{"SQLite:///var/lib/sluice/sluice.db", SQLite, "/var/lib/sluice/sluice.db"},
		{"sqlite://data/sluice.db", SQLite, filepath.Join(wd, "data", "sluice.db")},
		{"sqlite:///tmp/my%20db.db", SQLite, "/tmp/my db.db"},
		{"  sqlite:///tmp/x.db\n", SQLite, "/tmp/x.db"},
		{"postgres://u:p@localhost:5432/sluice?sslmode=disable", Postgres, ""},
		{"postgresql://localhost/sluice", Postgres, ""},
	}
	for _, c := range cases {
		cfg, err := parseDSN(c.dsn)
		if err != nil {
			t.Errorf("parseDSN(%q): %v", c.dsn, err)
			continue
		}
		if cfg.dialect != c.dialect || cfg.sqlitePath != c.path {
			t.Errorf("parseDSN(%q) = %s %q, want %s %q", c.dsn, cfg.dialect, cfg.sqlitePath, c.dialect, c.path)
		}
		if c.dialect == Postgres && (cfg.pgConfig == nil || cfg.pgConfig.Database == "") {
			t.Errorf("parseDSN(%q): no pgx config", c.dsn)
		}
	}
	for _, bad := range []string{"sqlite:///tmp/x%3Fy.db", "sqlite:///tmp/x%zz.db", "sqlite:///tmp/x.db#frag", "file:///tmp/x.db", "://x", "1abc://x"} {
		if _, err := parseDSN(bad); err == nil {
			t.Errorf("parseDSN(%q): want an error", bad)
		}
	}
}

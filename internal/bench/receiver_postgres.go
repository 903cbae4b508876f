package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/internal/sink"
)

// PostgresVar names the PostgreSQL server (a URL) the sink-postgres
// scenario writes to.
const PostgresVar = "SLUICE_BENCH_POSTGRES"

// testPostgresVar is the server scripts/test starts for the tests
// (testenv.PostgresVar): sink-postgres writes there when PostgresVar is
// not set, so that the scenario runs under scripts/test.
const testPostgresVar = "SLUICE_TEST_POSTGRES"

// postgresReceiver returns a postgres sink spec writing into a fresh table
// of the server PostgresVar (or else testPostgresVar) names: columns
// layout, created from the result columns, plain inserts by COPY,
// exactly-once as the sink always is. stop drops the table and the
// offsets the run stored.
func postgresReceiver() (sink.Spec, sink.Env, func(), error) {
	dsn := strings.TrimSpace(os.Getenv(PostgresVar))
	if dsn == "" {
		dsn = strings.TrimSpace(os.Getenv(testPostgresVar))
	}
	if dsn == "" {
		return sink.Spec{}, sink.Env{}, nil, fmt.Errorf("%w: sink-postgres needs a PostgreSQL server: set "+PostgresVar+
			"=postgres://user:password@host:port/db, or run it under scripts/test, which starts one (so does pg_start DIR of scripts/lib/postgres.sh)", ErrUnavailable)
	}
	// A table of its own even for runs started in the same second.
	table := "sluice_bench_" + time.Now().UTC().Format("20060102_150405") + "_" + strings.ToLower(rand.Text()[:6])
	job := "bench-sink-postgres-" + table
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP TABLE IF EXISTS "+table)
		_, _ = c.Exec(ctx, "DELETE FROM sluice_sink_offsets WHERE job = $1", job)
	}
	spec := sink.Spec{Type: "postgres", Settings: map[string]any{"dsn": dsn, "table": table, "createTable": true, "jobKey": job}}
	return spec, sink.Env{AllowPrivate: true}, stop, nil
}

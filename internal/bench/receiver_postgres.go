package bench

import (
	"context"
	"errors"

	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/internal/sink"
)

// PostgresVar names the PostgreSQL server (a URL) the sink-postgres
// scenario writes to.
const PostgresVar = "SLUICE_BENCH_POSTGRES"

// postgresReceiver returns a postgres sink spec writing into a fresh table
// of the server PostgresVar names (columns layout, plain inserts); stop
// drops the table and the offsets the run stored.
func postgresReceiver() (sink.Spec, sink.Env, func(), error) {
	dsn := strings.TrimSpace(os.Getenv(PostgresVar))
	if dsn == "" {
		return sink.Spec{}, sink.Env{}, nil, errors.New("sink-postgres needs a PostgreSQL server: set " + PostgresVar +
			"=postgres://user:password@host:port/db (scripts/lib/postgres.sh starts one: source it and run pg_start DIR)")
	}
	table := "sluice_bench_" + time.Now().Format("20060102_150405")
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

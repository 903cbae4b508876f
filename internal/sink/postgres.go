package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

func init() {
	RegisterType(Type{Name: "postgres", Open: openPostgres, Validate: validatePostgres, Probe: probePostgres, ExactlyOnce: true})
	RegisterSecrets("postgres", "dsn")
}

// postgresOffsetsTable keeps, per job key and source partition, the next
// offset to consume: written in the same transaction as the rows.
const postgresOffsetsTable = "sluice_sink_offsets"

// postgresConnectTimeout bounds connecting to the server.
const postgresConnectTimeout = 10 * time.Second

// postgresIdent is one plain SQL identifier, taken exactly as written
// (it is quoted, so case matters).
var postgresIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,62}$`)

// postgresSink is the "postgres" sink: each batch's NDJSON records are
// COPYed into a table, a column per result column (postgres_columns.go)
// or whole as jsonb rows, and the batch's offsets upserted into
// sluice_sink_offsets, in one transaction. The runtime resumes from the
// stored offsets (OffsetStore), so delivery is exactly-once.
type postgresSink struct {
	cfg  postgresConfig
	pool *pgxpool.Pool
	// prelude starts each batch's transaction: the job key's lock, and
	// the staging table when the columns layout needs one.
	prelude string
	// cols writes the columns layout; nil for jsonb.
	cols *pgColumnsWriter

	guard closeGuard
}

var (
	_ Sink        = (*postgresSink)(nil)
	_ OffsetStore = (*postgresSink)(nil)
)

// postgresConfig is the postgres sink's settings, checked.
type postgresConfig struct {
	dsn         string
	table       pgx.Identifier
	tableName   string // as configured, for messages
	createTable bool
	jobKey      string
	pool        *pgxpool.Config

	// layout is postgresColumns or postgresJSONB; cols and keys are the
	// columns layout's.
	layout string
	cols   []pgColumn
	keys   []string
}

func parsePostgres(spec Spec, env Env) (postgresConfig, error) {
	s := NewSettings(spec)
	c := postgresConfig{
		dsn:         s.String("dsn", true, ""),
		tableName:   s.String("table", true, ""),
		createTable: s.Bool("createTable", false),
		jobKey:      s.String("jobKey", false, ""),
	}
	if c.dsn != "" {
		pc, err := pgxpool.ParseConfig(c.dsn)
		if err != nil {
			// The parser's message quotes the connection string: say
			// nothing of it, since it is secret.
			s.Fail("dsn", "not a PostgreSQL connection string (postgres://user:password@host:port/database?sslmode=... or key=value pairs)")
		} else {
			pc.MaxConns = 2
			pc.MinConns = 0
			pc.ConnConfig.ConnectTimeout = postgresConnectTimeout
			pc.ConnConfig.DialFunc = postgresDial(env)
			// Sluice's times are UTC: casting them into a timestamp
			// without time zone, a date or a time keeps their UTC wall
			// clock, whatever the server's default (a timezone in the
			// DSN wins).
			tz := false
			for k, v := range pc.ConnConfig.RuntimeParams {
				tz = tz || strings.EqualFold(k, "timezone") || strings.EqualFold(k, "options") && strings.Contains(strings.ToLower(v), "timezone")
			}
			if !tz {
				pc.ConnConfig.RuntimeParams["timezone"] = "UTC"
			}
			c.pool = pc
		}
	}
	if c.tableName != "" {
		parts := strings.Split(c.tableName, ".")
		ok := len(parts) <= 2
		for _, p := range parts {
			ok = ok && postgresIdent.MatchString(p)
		}
		if !ok {
			s.Fail("table", fmt.Sprintf("%q is not a table name: one or two identifiers (letters, digits, _ and $, not starting with a digit, at most 63 each) separated by a dot, such as \"events\" or \"analytics.events\"", c.tableName))
		} else {
			c.table = pgx.Identifier(parts)
		}
	}
	if v, ok := spec.Settings["jobKey"].(string); ok && v == "" {
		s.Fail("jobKey", "must not be empty")
	}
	if len(c.jobKey) > 200 {
		s.Fail("jobKey", "longer than 200 bytes")
	}
	if c.jobKey == "" && env.Job != "" {
		c.jobKey = env.Job // the job the runtime opens the sink for
		if env.Source != "" {
			c.jobKey += "@" + env.Source // offsets belong to one source
		}
	}
	if c.jobKey == "" {
		c.jobKey = c.tableName
	}
	// A subscription always knows its result columns; a sink opened
	// without them (a test, a tool) can only write whole records.
	defLayout := postgresColumns
	if len(env.Output.Columns) == 0 {
		defLayout = postgresJSONB
	}
	c.layout = s.String("layout", false, defLayout)
	switch c.layout {
	case postgresColumns:
		c.cols, c.keys = parseColumnLayout(s, env.Output)
	case postgresJSONB:
		for _, name := range []string{"columns", "key"} {
			if _, ok := s.get(name); ok {
				s.Fail(name, "only the columns layout maps columns or upserts by key")
			}
		}
	default:
		s.Fail("layout", fmt.Sprintf("%q: want columns (a table column per result column) or jsonb (each record in a jsonb column)", c.layout))
	}
	if env.Output.Format != "" && (env.Output.Format != "json" || !strings.HasPrefix(env.Output.ContentType, postgresNDJSON)) {
		s.Fail("type", fmt.Sprintf("the postgres sink takes the JSON format with one object per row (outputFormat JSON without array), not %s", env.Output.ContentType))
	}
	return c, s.Err()
}

// postgresDial connects through the netguard Dialer; a unix socket is a
// local destination, allowed only with private destinations.
func postgresDial(env Env) pgconn.DialFunc {
	d := Dialer(env, postgresConnectTimeout)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network == "unix" {
			if !env.AllowPrivate {
				return nil, Permanent(errors.New("sink: destination is a unix socket, which sinks may not reach (the operator can allow private destinations with --allow-private-sinks)"))
			}
			var nd net.Dialer
			return nd.DialContext(ctx, network, addr)
		}
		return d.DialContext(ctx, network, addr)
	}
}

func validatePostgres(spec Spec, env Env) error {
	_, err := parsePostgres(spec, env)
	return err
}

// postgresConnect opens the pool and checks that a connection can be made.
func postgresConnect(ctx context.Context, c postgresConfig) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, c.pool)
	if err != nil {
		return nil, c.scrub("connect", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, c.scrub("connect", err)
	}
	return pool, nil
}

// checkTable reports whether the table exists and, if it does, that it
// takes the rows the sink writes, and whether the columns layout may
// COPY straight into it; it returns c with the result columns matched to
// the table's (resolveColumns).
func (c postgresConfig) checkTable(ctx context.Context, pool *pgxpool.Pool) (_ postgresConfig, exists, direct bool, err error) {
	var reg *string
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1)::text", c.table.Sanitize()).Scan(&reg); err != nil {
		return c, false, false, c.scrub("look up table "+c.tableName, err)
	}
	if reg == nil {
		return c, false, false, nil
	}
	if c.layout == postgresColumns {
		if c, err = c.resolveColumns(ctx, pool); err != nil {
			return c, true, false, err
		}
		direct, err := c.checkColumnsTable(ctx, pool)
		return c, true, direct, err
	}
	return c, true, false, c.checkJSONBTable(ctx, pool)
}

// checkJSONBTable checks an existing table of the jsonb layout.
func (c postgresConfig) checkJSONBTable(ctx context.Context, pool *pgxpool.Pool) error {
	rows, err := pool.Query(ctx, `SELECT source_partition, source_offset, "row" FROM `+c.table.Sanitize()+` LIMIT 0`)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42703" { // undefined_column
			return &ConfigError{Type: "postgres", Field: "table", Message: fmt.Sprintf("table %s lacks a column the sink writes (%s): it needs source_partition int, source_offset bigint and row jsonb", c.tableName, pe.Message)}
		}
		return c.scrub("check table "+c.tableName, err)
	}
	fds := rows.FieldDescriptions()
	rows.Close()
	if err := rows.Err(); err != nil {
		return c.scrub("check table "+c.tableName, err)
	}
	bad := func(col, want string) error {
		return &ConfigError{Type: "postgres", Field: "table", Message: fmt.Sprintf("column %s of table %s must be %s", col, c.tableName, want)}
	}
	switch fds[0].DataTypeOID {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
	default:
		return bad("source_partition", "an integer (int)")
	}
	if fds[1].DataTypeOID != pgtype.Int8OID {
		return bad("source_offset", "bigint")
	}
	if fds[2].DataTypeOID != pgtype.JSONBOID && fds[2].DataTypeOID != pgtype.JSONOID {
		return bad("row", "jsonb (or json)")
	}
	return nil
}

func probePostgres(ctx context.Context, spec Spec, env Env) error {
	c, err := parsePostgres(spec, env)
	if err != nil {
		return err
	}
	pool, err := postgresConnect(ctx, c)
	if err != nil {
		return err
	}
	defer pool.Close()
	_, exists, _, err := c.checkTable(ctx, pool)
	if err != nil {
		return err
	}
	if !exists && !c.createTable {
		return &ConfigError{Type: "postgres", Field: "table", Message: fmt.Sprintf("table %s does not exist (set createTable to create it)", c.tableName)}
	}
	return nil
}

func openPostgres(ctx context.Context, spec Spec, env Env) (Sink, error) {
	c, err := parsePostgres(spec, env)
	if err != nil {
		return nil, err
	}
	pool, err := postgresConnect(ctx, c)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (Sink, error) {
		pool.Close()
		return nil, err
	}
	c, exists, direct, err := c.checkTable(ctx, pool)
	if err != nil {
		return fail(err)
	}
	if !exists {
		if !c.createTable {
			return fail(&ConfigError{Type: "postgres", Field: "table", Message: fmt.Sprintf("table %s does not exist (set createTable to create it)", c.tableName)})
		}
		if c.layout == postgresColumns {
			err = c.createColumnsTable(ctx, pool)
		} else if _, err = pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+c.table.Sanitize()+` (source_partition int, source_offset bigint, "row" jsonb NOT NULL)`); err != nil {
			err = c.scrub("create table "+c.tableName, err)
		}
		if err != nil {
			return fail(err)
		}
		// Check what is there now: another sink may have created the
		// table first.
		if c, _, direct, err = c.checkTable(ctx, pool); err != nil {
			return fail(err)
		}
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+postgresOffsetsTable+` (job text NOT NULL, partition int NOT NULL, next_offset bigint NOT NULL, meta text NOT NULL DEFAULT '', PRIMARY KEY (job, partition));
ALTER TABLE `+postgresOffsetsTable+` ADD COLUMN IF NOT EXISTS meta text NOT NULL DEFAULT ''`); err != nil {
		return fail(c.scrub("create table "+postgresOffsetsTable, err))
	}
	s := &postgresSink{cfg: c, pool: pool, guard: newCloseGuard(),
		prelude: "SELECT pg_advisory_xact_lock(hashtextextended(" + pgLiteral(postgresLockPrefix+c.jobKey) + ", 0))"}
	if c.layout == postgresColumns {
		s.cols = c.newColumnsWriter(direct)
		if s.cols.stageDDL != "" {
			s.prelude += "; " + s.cols.stageDDL
		}
	}
	return s, nil
}

// postgresLockPrefix starts the text whose hash is the advisory lock a
// batch's transaction takes for its job key.
const postgresLockPrefix = "sluice_sink_offsets/"

// scrub turns a driver error into one that names what failed and never
// quotes the connection string (a secret): connect errors are reduced to
// their cause, and any trace of the DSN or its password is redacted.
// Errors a retry cannot fix (bad data, missing table or privilege, failed
// authentication) are Permanent.
func (c postgresConfig) scrub(what string, err error) error {
	var pe *pgconn.PgError
	permanent := IsPermanent(err) // a destination the netguard refused
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "22", "23", "28", "42", "3D", "3F": // data, integrity, auth, syntax/privilege, no such database/schema
			permanent = true
		}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		if inner := errors.Unwrap(ce); inner != nil {
			err = inner
		}
	}
	// With sslmode=prefer (the default) each failed attempt is reported
	// twice, with TLS and without: say it once.
	var lines []string
	for l := range strings.Lines(err.Error()) {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	msg := strings.Join(lines, "; ")
	if pe != nil && strings.HasPrefix(pe.Where, "COPY ") {
		// Which row and column of the batch PostgreSQL refused.
		msg += " (" + pe.Where + ")"
	}
	if c.dsn != "" {
		msg = strings.ReplaceAll(msg, c.dsn, Redacted)
	}
	if c.pool != nil && c.pool.ConnConfig.Password != "" {
		msg = strings.ReplaceAll(msg, c.pool.ConnConfig.Password, Redacted)
	}
	out := &postgresError{msg: "postgres sink: " + what + ": " + msg, pg: pe, ctx: ctxErr(err)}
	if permanent {
		return Permanent(out)
	}
	return out
}

// postgresError carries a scrubbed message; it unwraps to the server's
// *pgconn.PgError (whose fields do not hold the DSN) or a context error.
type postgresError struct {
	msg string
	pg  *pgconn.PgError
	ctx error
}

func (e *postgresError) Error() string { return e.msg }
func (e *postgresError) Unwrap() []error {
	var out []error
	if e.pg != nil {
		out = append(out, e.pg)
	}
	if e.ctx != nil {
		out = append(out, e.ctx)
	}
	return out
}

func ctxErr(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return nil
}

// postgresNDJSON is the only content type the sink takes: one JSON object
// per record.
const postgresNDJSON = "application/x-ndjson"

// Write copies the batch's rows and stores its offsets in one transaction.
// Records below the stored offset of their partition (a retry of a batch
// that was committed, its acknowledgement lost) are not inserted again.
func (s *postgresSink) Write(ctx context.Context, b *Batch) error {
	ctx, done, err := s.guard.begin(ctx, "postgres")
	if err != nil {
		return err
	}
	defer done()
	if mt, _, err := mime.ParseMediaType(b.ContentType); err != nil || mt != postgresNDJSON {
		return Permanent(fmt.Errorf("postgres sink: records are %q, but the sink takes only the JSON format (%s, one object per record)", b.ContentType, postgresNDJSON))
	}
	for i, r := range b.Records {
		if v := bytes.TrimSpace(r.Value); len(v) == 0 || v[0] != '{' {
			return Permanent(fmt.Errorf("postgres sink: record %d of batch %s is not a JSON object", i, b.ID))
		}
	}
	parts := make([]int32, 0, len(b.Offsets))
	offs := make([]int64, 0, len(b.Offsets))
	metas := make([]string, 0, len(b.Offsets))
	for _, p := range slices.Sorted(maps.Keys(b.Offsets)) {
		parts, offs, metas = append(parts, p), append(offs, b.Offsets[p]), append(metas, b.Meta[p])
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// One writer per job key at a time, across sink instances (a task
		// that lost its partitions and one that took them over).
		if _, err := tx.Exec(ctx, s.prelude); err != nil {
			return s.cfg.scrub("lock offsets", err)
		}
		stored, storedMeta, err := s.stored(ctx, tx)
		if err != nil {
			return err
		}
		// Records of partitions whose stored offset is past them were
		// written by a committed batch already (this one, retried after
		// its acknowledgement was lost, or one before a restart).
		// Aggregation results have no offset: they were written if the
		// stored metadata is this batch's (it moves with every batch of
		// results).
		again := len(b.Meta) > 0
		for p, m := range b.Meta {
			again = again && storedMeta[p] == m
		}
		covered := func(r Record) bool {
			if r.Partition < 0 {
				return again
			}
			next, ok := stored[r.Partition]
			return ok && r.Offset < next
		}
		keep := b.Records
		for i, r := range b.Records {
			if covered(r) {
				keep = slices.Clone(b.Records[:i])
				for _, r := range b.Records[i+1:] {
					if !covered(r) {
						keep = append(keep, r)
					}
				}
				break
			}
		}
		if err := s.insert(ctx, tx, keep, b.ID); err != nil {
			return err
		}
		if len(parts) > 0 {
			// Offsets never go back; the metadata moves with them (an
			// aggregation's frontier moves while its offsets wait for a
			// window).
			if _, err := tx.Exec(ctx, `INSERT INTO `+postgresOffsetsTable+` AS t (job, partition, next_offset, meta)
SELECT $1, p, o, m FROM unnest($2::int[], $3::bigint[], $4::text[]) AS u(p, o, m)
ON CONFLICT (job, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, meta = EXCLUDED.meta
WHERE t.next_offset <= EXCLUDED.next_offset`,
				s.cfg.jobKey, parts, offs, metas); err != nil {
				return s.cfg.scrub("store offsets", err)
			}
		}
		return nil
	})
	if err == nil {
		return nil
	}
	var pe *postgresError
	if !errors.As(err, &pe) && !IsPermanent(err) {
		err = s.cfg.scrub("write batch "+b.ID, err)
	}
	if s.guard.isClosed() {
		return fmt.Errorf("%w (%w)", err, ErrClosed)
	}
	return err
}

// insert writes the records in the table's layout: copied with their
// source partition and offset for jsonb; for columns, converted to COPY
// text and copied into the table or its staging table.
func (s *postgresSink) insert(ctx context.Context, tx pgx.Tx, recs []Record, batchID string) error {
	if len(recs) == 0 {
		return nil
	}
	if s.cols != nil {
		return s.cols.write(ctx, s.cfg, tx, recs, batchID)
	}
	rows := make([][]any, len(recs))
	for i, r := range recs {
		var part, off any
		if r.Partition >= 0 {
			part, off = r.Partition, r.Offset
		}
		rows[i] = []any{part, off, bytes.TrimSpace(r.Value)}
	}
	if _, err := tx.CopyFrom(ctx, s.cfg.table, []string{"source_partition", "source_offset", "row"}, pgx.CopyFromRows(rows)); err != nil {
		return s.cfg.scrub("copy into "+s.cfg.tableName, err)
	}
	return nil
}

func (s *postgresSink) stored(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (map[int32]int64, map[int32]string, error) {
	rows, err := q.Query(ctx, `SELECT partition, next_offset, meta FROM `+postgresOffsetsTable+` WHERE job = $1`, s.cfg.jobKey)
	if err != nil {
		return nil, nil, s.cfg.scrub("read offsets", err)
	}
	out, metas := map[int32]int64{}, map[int32]string{}
	var p int32
	var off int64
	var meta string
	if _, err := pgx.ForEachRow(rows, []any{&p, &off, &meta}, func() error {
		out[p] = off
		if meta != "" {
			metas[p] = meta
		}
		return nil
	}); err != nil {
		return nil, nil, s.cfg.scrub("read offsets", err)
	}
	return out, metas, nil
}

// StoredOffsets returns the offsets stored for the sink's job key.
func (s *postgresSink) StoredOffsets(ctx context.Context) (map[int32]int64, map[int32]string, error) {
	if s.guard.isClosed() {
		return nil, nil, closedError("postgres")
	}
	return s.stored(ctx, s.pool)
}

// Close ends a Write in progress (its transaction rolls back) and closes
// the connections.
func (s *postgresSink) Close(context.Context) error {
	if s.guard.close() {
		s.pool.Close()
	}
	return nil
}

package sink_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sql"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// pgBenchColumns are the demo firewall log's columns (SELECT * of
// internal/gen's schema).
func pgBenchColumns() []sql.OutputColumn {
	return []sql.OutputColumn{col("event_time", sql.Timestamp), col("tenant", sql.Varchar), col("session_id", sql.BigInt),
		col("src_ip", sql.Varchar), col("src_port", sql.Integer), col("dst_ip", sql.Varchar), col("dst_port", sql.Integer),
		col("protocol", sql.Varchar), col("application", sql.Varchar), col("action", sql.Varchar), col("rule", sql.Varchar),
		col("src_zone", sql.Varchar), col("dst_zone", sql.Varchar), col("bytes_sent", sql.BigInt), col("bytes_received", sql.BigInt),
		col("packets", sql.BigInt), col("duration_ms", sql.Integer), col("user", sql.Varchar), col("country", sql.Varchar),
		col("severity", sql.Integer), col("log_type", sql.Varchar), col("threat_name", sql.Varchar), col("threat_category", sql.Varchar)}
}

// pgBenchRecord is firewall log i as the JSON format writes it (about
// 560 bytes).
func pgBenchRecord(i, session int) []byte {
	ts := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.999999Z")
	user := "null"
	if i%3 == 0 {
		user = fmt.Sprintf(`"user%d@example.com"`, i%100)
	}
	return fmt.Appendf(nil, `{"event_time":%q,"tenant":"acme","session_id":%d,"src_ip":"10.1.%d.%d","src_port":%d,"dst_ip":"203.0.113.%d","dst_port":443,"protocol":"TCP","application":"ssl","action":"allow","rule":"allow-web-outbound","src_zone":"trust","dst_zone":"untrust","bytes_sent":%d,"bytes_received":%d,"packets":%d,"duration_ms":%d,"user":%s,"country":"US","severity":1,"log_type":"TRAFFIC","threat_name":null,"threat_category":null}`+"\n",
		ts, session, i%256, i/256%256, 1024+i%60000, i%200, 1000+i*7%100000, 5000+i*13%1000000, 10+i%90, i%30000, user)
}

// BenchmarkPostgres writes batches of 1,000 firewall rows (23 columns)
// through the postgres sink, exactly-once (rows and offsets in one
// transaction per batch), into the server of SLUICE_TEST_POSTGRES:
//
//   - insert: columns layout, createTable, plain inserts (COPY into the
//     table);
//   - insert-staged: the same into an existing table with a numeric
//     column, so through the staging table;
//   - upsert-new: key session_id, every row a new key;
//   - upsert-update: key session_id, every row replacing one of 10,000;
//   - jsonb: the jsonb layout.
//
// rows/s is the wall-clock rate with PostgreSQL on the same machine.
//
//	go test -run '^$' -bench BenchmarkPostgres -benchtime 200x ./internal/sink/
func BenchmarkPostgres(b *testing.B) {
	const batch = 1000
	ctx := context.Background()
	dsn := storetest.PostgresDSN(b)
	c := pgConn(b, dsn)
	cols := pgBenchColumns()
	staged := "CREATE TABLE %s ("
	for i, col := range cols {
		if i > 0 {
			staged += ", "
		}
		typ := map[sql.Kind]string{sql.Timestamp: "timestamptz", sql.Varchar: "text", sql.BigInt: "bigint", sql.Integer: "integer"}[col.Type.Kind]
		if col.Name == "bytes_sent" {
			typ = "numeric"
		}
		staged += fmt.Sprintf("%q %s", col.Name, typ)
	}
	staged += ")"
	run := 0 // each run writes a table and job key of its own
	for _, bc := range []struct {
		name     string
		settings map[string]any
		// newKeys: every batch has session ids of its own; otherwise
		// they repeat every 10,000 rows.
		newKeys bool
	}{
		{"insert", map[string]any{"table": "ins", "createTable": true}, false},
		{"insert-staged", map[string]any{"table": "staged", "createTable": false}, false},
		{"upsert-new", map[string]any{"table": "ups_new", "createTable": true, "key": "session_id"}, true},
		{"upsert-update", map[string]any{"table": "ups_upd", "createTable": true, "key": "session_id"}, false},
		{"jsonb", map[string]any{"table": "rows", "createTable": true, "layout": "jsonb"}, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			env := pgEnv
			env.Output = pgJSONOutput(cols...)
			run++
			settings := map[string]any{"dsn": dsn}
			maps.Copy(settings, bc.settings)
			settings["table"] = fmt.Sprintf("%s_%d", settings["table"], run)
			settings["jobKey"] = settings["table"]
			if settings["createTable"] == false {
				if _, err := c.Exec(ctx, fmt.Sprintf(staged, settings["table"])); err != nil {
					b.Fatal(err)
				}
			}
			s, err := sink.Open(ctx, sink.Spec{Type: "postgres", Settings: settings}, env)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close(ctx)
			// Batches are made ahead: 10 distinct ones reused with moving
			// offsets, so session ids repeat every 10,000 rows; with
			// newKeys, made again (timer stopped) with new ones.
			const distinct = 10
			var batches []*sink.Batch
			for n := range distinct {
				bt := &sink.Batch{ContentType: "application/x-ndjson"}
				for j := range batch {
					bt.Records = append(bt.Records, sink.Record{Value: pgBenchRecord(n*batch+j, n*batch+j)})
				}
				batches = append(batches, bt)
			}
			b.ResetTimer()
			for n := range b.N {
				bt := batches[n%distinct]
				from := int64(n * batch)
				if bc.newKeys && n >= distinct {
					b.StopTimer()
					for j := range bt.Records {
						bt.Records[j].Value = pgBenchRecord(n*batch+j, n*batch+j)
					}
					b.StartTimer()
				}
				for j := range bt.Records {
					bt.Records[j].Partition, bt.Records[j].Offset = 0, from+int64(j)
				}
				bt.ID = fmt.Sprintf("bench/0/%d+%d", from, batch)
				bt.Offsets = map[int32]int64{0: from + batch}
				if err := s.Write(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/row")
		})
	}
}

package sink

import (
	"context"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"

	"github.com/sluicehq/sluice/internal/sql"
)

// SetBQMaxRequestBytes sets how many bytes of rows one AppendRows request
// holds at most, for tests of batches sent as several requests; it
// returns a function that restores the default.
func SetBQMaxRequestBytes(n int) (restore func()) {
	old := bqMaxRequestBytes
	bqMaxRequestBytes = n
	return func() { bqMaxRequestBytes = old }
}

// BQAuthorization returns the authorization header the sink would send
// with a service account key.
func BQAuthorization(ctx context.Context, key string) (string, error) {
	ts, err := bqTokenSource(ctx, key)
	if err != nil {
		return "", err
	}
	md, err := bqPerRPC{ts: ts}.GetRequestMetadata(ctx)
	return md["authorization"], err
}

// BQEncoder returns the sink's conversion of records of cols into rows of
// a table with the given schema, for benchmarks.
func BQEncoder(cols []sql.OutputColumn, table *storagepb.TableSchema) (func(recs []Record) (int, error), error) {
	rows, err := newBQRows(cols, table)
	if err != nil {
		return nil, err
	}
	var buf []byte
	var out [][]byte
	return func(recs []Record) (int, error) {
		buf, out, err = rows.encode(recs, buf[:0], out[:0])
		return len(buf), err
	}, nil
}

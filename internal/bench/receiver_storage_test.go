package bench

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/sql"
)

// TestStorageReceiver runs firewall records through the pipeline into the
// storage receiver's bucket and reads the Parquet files back: one row per
// record, under the event date and hour.
func TestStorageReceiver(t *testing.T) {
	const n = 6000
	spec, env, stop, err := storageReceiver()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	dir := strings.TrimPrefix(spec.Settings["url"].(string), "file://")
	reader := avro.MustParse(firewall.schema)
	q, err := sql.Analyze(QuerySelectAll, reader)
	if err != nil {
		t.Fatal(err)
	}
	polls, _, err := records(firewall, n)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := newPipeline(ctx, "sink-storage-parquet", q, reader, "", format.Options{}, spec, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, recs := range polls {
		if err := p.Process(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var rows int64
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return err
		}
		rows += f.NumRows()
		rel, _ := filepath.Rel(dir, path)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != n {
		t.Fatalf("%d rows in %v, want %d", rows, files, n)
	}
	// 6,000 records 1 ms apart from 2026-01-01 00:00, in 4 partitions.
	for _, f := range files {
		if !strings.HasPrefix(f, "bench/bench-sink-storage-parquet/dt=2026-01-01/hour=00/bench-sink-storage-parquet-p") {
			t.Errorf("file %s is not where the default path template puts it", f)
		}
	}
	if len(files) != memPartitions {
		t.Errorf("files %v, want one per partition", files)
	}
}

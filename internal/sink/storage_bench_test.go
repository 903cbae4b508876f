package sink

import (
	"context"
	"testing"
)

// BenchmarkStorageParquet measures the storage sink writing Parquet files
// to a file:// bucket (fsynced) from JSON records of stCols (every scalar
// type), in batches of 1,000 and rolls of 100,000, under an event-time
// path: taking the records, reading the event time, converting to
// Parquet, compressing and writing. One op is one record; the bytes are
// the JSON records'.
//
//	go test -run '^$' -bench BenchmarkStorageParquet -benchmem ./internal/sink/
func BenchmarkStorageParquet(b *testing.B) {
	for _, codec := range []string{"snappy", "zstd", "none"} {
		b.Run(codec, func(b *testing.B) {
			f := newStFixture(b, "JSON")
			s := f.open(map[string]any{"fileFormat": "parquet", "compression": codec, "maxRecords": 100_000,
				"timeColumn": "ts", "maxAge": "1h"})
			const batch = 1000
			bt := f.batch(0, ids(0, batch))
			var size int
			for _, r := range bt.Records {
				size += len(r.Value)
			}
			b.SetBytes(int64(size / batch))
			b.ReportAllocs()
			ctx := context.Background()
			next := int64(0)
			for n := 0; n < b.N; n += batch {
				for i := range bt.Records {
					bt.Records[i].Offset = next + int64(i)
				}
				next += batch
				bt.Offsets[0] = next
				if err := s.Write(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Close(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

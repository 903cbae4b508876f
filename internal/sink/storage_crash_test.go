package sink_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parquet-go/parquet-go"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"

	"github.com/sluicehq/sluice/internal/job/jobtest"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestStorageCrash kills a job writing to a bucket at random points and
// restarts it; the bucket then holds every record exactly once. Rolls are
// small and cut by count and age, and split by event hour, so kills land
// before, inside and after the writing of multi-object rolls.
func TestStorageCrash(t *testing.T) {
	for _, target := range kafkatest.Targets(t) {
		t.Run(target.Name+"/file", func(t *testing.T) {
			dir := t.TempDir()
			jobtest.RunCrash(t, jobtest.Crash{Addr: target.Addr, ExactlyOnce: true,
				Sink: sink.Spec{Type: "storage", Settings: map[string]any{
					"url": "file://" + dir, "path": "{partition}/dt={date}/hour={hour}/", "timeColumn": "ts",
					"maxRecords": 150, "maxAge": "300ms"}},
				Delivered: func(context.Context) ([]int64, error) { return fileBucketIDs(dir) }})
		})
		t.Run(target.Name+"/file/aggregate", func(t *testing.T) {
			dir := t.TempDir()
			jobtest.RunCrash(t, jobtest.Crash{Addr: target.Addr, ExactlyOnce: true,
				SQL: jobtest.AggregateSQL, Want: jobtest.AggregateWant(3000, 3),
				Sink: sink.Spec{Type: "storage", Settings: map[string]any{
					"url": "file://" + dir, "path": "windows/{hour}/", "timeColumn": "window_end",
					"maxRecords": 20, "maxAge": "300ms"}},
				Delivered: func(context.Context) ([]int64, error) { return fileBucketIDs(dir) }})
		})
		t.Run(target.Name+"/s3", func(t *testing.T) {
			store := testenv.S3Store(t)
			var id [6]byte
			_, _ = rand.Read(id[:])
			prefix := "crash-" + hex.EncodeToString(id[:])
			bucket := s3Bucket(t, store)
			jobtest.RunCrash(t, jobtest.Crash{Addr: target.Addr, ExactlyOnce: true,
				Sink: sink.Spec{Type: "storage", Settings: map[string]any{
					"url":         "s3://" + store.Bucket + "?endpoint=" + store.Endpoint + "&use_path_style=true&region=us-east-1",
					"accessKeyId": store.AccessKey, "secretAccessKey": store.SecretKey,
					"path": prefix + "/{partition}/{hour}/", "timeColumn": "ts", "fileFormat": "parquet",
					"maxRecords": 150, "maxAge": "300ms"}},
				SinkEnv: sink.Env{AllowPrivate: true},
				Delivered: func(ctx context.Context) ([]int64, error) {
					return s3BucketIDs(ctx, bucket, prefix+"/")
				}})
		})
	}
}

// fileBucketIDs reads the ids in every data object under dir.
func fileBucketIDs(dir string) ([]int64, error) {
	var out []int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "_sluice" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".tmp") {
			return nil // not yet published
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		ids, err := objectIDs(p, data)
		out = append(out, ids...)
		return err
	})
	return out, err
}

func s3Bucket(t *testing.T, store testenv.S3) *blob.Bucket {
	t.Helper()
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(store.Endpoint), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(store.AccessKey, store.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	b, err := s3blob.OpenBucket(context.Background(), client, store.Bucket, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// s3BucketIDs reads the ids in every object under prefix.
func s3BucketIDs(ctx context.Context, b *blob.Bucket, prefix string) ([]int64, error) {
	var out []int64
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for range 100_000 {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		data, err := b.ReadAll(ctx, obj.Key)
		if err != nil {
			return out, err
		}
		ids, err := objectIDs(obj.Key, data)
		if err != nil {
			return out, err
		}
		out = append(out, ids...)
	}
	return out, fmt.Errorf("more than 100,000 objects under %s", prefix)
}

// objectIDs reads the "id" of every row of an NDJSON (gzip) or Parquet
// object.
func objectIDs(name string, data []byte) ([]int64, error) {
	switch {
	case strings.HasSuffix(name, ".ndjson.gz"):
		r, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if data, err = io.ReadAll(r); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return jobtest.ParseIDs(data)
	case strings.HasSuffix(name, ".parquet"):
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		col, ok := f.Schema().Lookup("id")
		if !ok {
			return nil, fmt.Errorf("%s: no id column", name)
		}
		var out []int64
		for _, rg := range f.RowGroups() {
			pages := rg.ColumnChunks()[col.ColumnIndex].Pages()
			for {
				p, err := pages.ReadPage()
				if err == io.EOF {
					break
				}
				if err != nil {
					pages.Close()
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				vals := make([]parquet.Value, p.NumValues())
				n, _ := p.Values().ReadValues(vals)
				for _, v := range vals[:n] {
					out = append(out, v.Int64())
				}
				parquet.Release(p)
			}
			pages.Close()
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: not an object the crash test writes", name)
}

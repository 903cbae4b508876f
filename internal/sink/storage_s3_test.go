package sink

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/testenv"
)

// s3Fixture points a storage fixture at the real S3-compatible store
// (SeaweedFS) under a prefix and job of its own.
type s3Fixture struct {
	*stFixture
	store  testenv.S3
	prefix string
}

func newS3Fixture(t *testing.T, formatName string) *s3Fixture {
	t.Helper()
	store := testenv.S3Store(t)
	f := &s3Fixture{stFixture: newStFixture(t, formatName), store: store}
	var id [6]byte
	_, _ = rand.Read(id[:])
	f.prefix = "t-" + hex.EncodeToString(id[:])
	f.env.Job = "sub-" + hex.EncodeToString(id[:])
	f.env.AllowPrivate = true
	return f
}

func (f *s3Fixture) settings(extra map[string]any) map[string]any {
	s := map[string]any{
		"url":         "s3://" + f.store.Bucket + "?endpoint=" + f.store.Endpoint + "&use_path_style=true&region=us-east-1",
		"accessKeyId": f.store.AccessKey, "secretAccessKey": f.store.SecretKey,
		"path": f.prefix + "/{partition}/{hour}/", "timeColumn": "ts",
	}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

func (f *s3Fixture) open(extra map[string]any) *storageSink {
	f.t.Helper()
	s, err := Open(context.Background(), Spec{Type: "storage", Settings: f.settings(extra)}, f.env)
	if err != nil {
		f.t.Fatalf("Open: %v", err)
	}
	f.t.Cleanup(func() { crashStorage(s.(*storageSink)) })
	return s.(*storageSink)
}

// objects reads every object under the fixture's prefix.
func (f *s3Fixture) objects() map[string][]byte {
	f.t.Helper()
	c, err := parseStorage(Spec{Type: "storage", Settings: f.settings(nil)}, f.env)
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := openStorageBucket(context.Background(), c, f.env)
	if err != nil {
		f.t.Fatal(err)
	}
	defer b.close()
	keys, err := b.list(context.Background(), f.prefix+"/", 10000)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, k := range keys {
		data, found, err := b.get(context.Background(), k)
		if err != nil || !found {
			f.t.Fatalf("read %s: %v (found %v)", k, err, found)
		}
		out[k] = data
	}
	return out
}

func (f *s3Fixture) rows() []stRead {
	var out []stRead
	for k, data := range f.objects() {
		out = append(out, decodeObject(f.t, k, data)...)
	}
	return out
}

func TestStorageS3Formats(t *testing.T) {
	for _, c := range []struct{ output, file, compression string }{
		{"JSON", "parquet", "zstd"}, {"JSON", "json", "gzip"}, {"AVRO", "avro", "deflate"}, {"CSV", "csv", "zstd"},
	} {
		t.Run(c.file, func(t *testing.T) {
			f := newS3Fixture(t, c.output)
			s := f.open(map[string]any{"fileFormat": c.file, "compression": c.compression, "maxRecords": 100})
			f.write(s, 0, 0, 180, 40)
			f.write(s, 1, 0, 30, 40)
			if got := storedOffsets(t, s); got[0] != 100 {
				t.Fatalf("stored offsets %v, want partition 0 at 100", got)
			}
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			objs := f.objects()
			// Partition 0: rolls 0-99 (hours 13, 14) and 100-179 (14,
			// 15); partition 1: 0-29 (13).
			if len(objs) != 5 {
				t.Fatalf("objects %v, want 5", keysOf(objs))
			}
			var p0, p1 []stRead
			for _, r := range f.rows() {
				if strings.Contains(r.key, "/1/") {
					p1 = append(p1, r)
				} else {
					p0 = append(p0, r)
				}
			}
			checkRows(t, p0, ids(0, 180))
			checkRows(t, p1, ids(0, 30))
			// A new sink resumes after what is stored.
			s = f.open(map[string]any{"fileFormat": c.file, "compression": c.compression})
			if got := storedOffsets(t, s); got[0] != 180 || got[1] != 30 {
				t.Fatalf("stored offsets after restart %v", got)
			}
		})
	}
}

// A roll larger than the S3 client's part size goes up as a multipart
// upload, visible only once complete.
func TestStorageS3Multipart(t *testing.T) {
	f := newS3Fixture(t, "JSON")
	s := f.open(map[string]any{"compression": "none", "maxBytes": 64 << 20, "path": f.prefix + "/big/"})
	const n = 60_000 // about 15 MiB of NDJSON
	f.write(s, 0, 0, n, 2000)
	if len(f.objects()) != 0 {
		t.Fatal("an object before the roll is due")
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	objs := f.objects()
	if len(objs) != 1 {
		t.Fatalf("objects %v, want 1", keysOf(objs))
	}
	for k, data := range objs {
		if len(data) < 10<<20 {
			t.Fatalf("%s is %d bytes, want more than 10 MiB", k, len(data))
		}
		if !bytes.HasSuffix(data, []byte("}\n")) {
			t.Fatalf("%s does not end with a whole record", k)
		}
	}
	checkRows(t, f.rows(), ids(0, n))
}

func TestStorageS3Probe(t *testing.T) {
	f := newS3Fixture(t, "JSON")
	spec := Spec{Type: "storage", Settings: f.settings(nil)}
	if err := Probe(context.Background(), spec, f.env); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	bad := f.settings(map[string]any{"secretAccessKey": "wrong"})
	err := Probe(context.Background(), Spec{Type: "storage", Settings: bad}, f.env)
	if err == nil || !IsPermanent(err) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("Probe with a wrong secret: %v, want a permanent error that does not quote the secret", err)
	}
	if _, err := Open(context.Background(), Spec{Type: "storage", Settings: bad}, f.env); err == nil {
		t.Fatal("Open with a wrong secret succeeded")
	}
	// Without private destinations allowed, the test store's address is
	// refused before anything connects.
	env := f.env
	env.AllowPrivate = false
	err = Validate(spec, env)
	if ces := ConfigErrors(err); len(ces) != 1 || ces[0].Field != "url" || !strings.Contains(ces[0].Message, "loopback") {
		t.Fatalf("Validate without private destinations: %v", err)
	}
}

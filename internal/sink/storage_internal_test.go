package sink

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/twmb/avro/ocf"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/sql"
)

// stCols are the result columns of the storage tests: every scalar type.
var stCols = []sql.OutputColumn{
	{Name: "id", Type: sql.TypeBigInt},
	{Name: "name", Type: sql.TypeVarchar},
	{Name: "ts", Type: sql.TypeTimestamp},
	{Name: "score", Type: sql.TypeDouble},
	{Name: "ok", Type: sql.TypeBoolean},
	{Name: "day", Type: sql.TypeDate},
	{Name: "n", Type: sql.TypeInteger},
	{Name: "raw", Type: sql.TypeBytes},
	{Name: "clock", Type: sql.TypeTime},
	{Name: "dur", Type: sql.TypeInterval},
}

// stBase is the event time of id 0; id i is i minutes later, so 180 ids
// span three hours.
var stBase = time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)

func stTime(id int64) time.Time { return stBase.Add(time.Duration(id) * time.Minute) }

func stName(id int64) string { return fmt.Sprintf("event %d, \"quoted\"", id) }

// stRow is the result row of id.
func stRow(id int64) []sql.Value {
	ts := stTime(id)
	score := sql.Value{F: float64(id) * 1.5}
	if id%5 == 0 {
		score = sql.Null
	}
	return []sql.Value{
		{I: id}, {B: []byte(stName(id))}, {I: ts.UnixMicro()}, score, sql.Bool(id%2 == 0),
		{I: ts.Unix() / 86400}, {I: id % 1000}, {B: []byte{byte(id), 0xff, 0}},
		{I: int64(ts.Hour())*3_600_000_000 + int64(ts.Minute())*60_000_000 + 250_000}, {I: id*1_000_000 + 500_000},
	}
}

// stFixture writes records of one output format to file buckets in a
// temporary directory.
type stFixture struct {
	t   testing.TB
	dir string
	enc format.Encoder
	env Env
}

func newStFixture(t testing.TB, formatName string) *stFixture {
	t.Helper()
	return newStFixtureOpts(t, formatName, format.Options{})
}

func newStFixtureOpts(t testing.TB, formatName string, opts format.Options) *stFixture {
	t.Helper()
	enc, err := format.NewWithOptions(formatName, stCols, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := Output{Format: strings.ToLower(formatName), ContentType: enc.ContentType(), Columns: stCols}
	if a, ok := enc.(interface{ Schema() string }); ok {
		out.Schema = a.Schema()
	}
	return &stFixture{t: t, dir: t.TempDir(), enc: enc,
		env: Env{Job: "sub-1", Tenant: "acme", Task: "all", ExactlyOnce: true, Output: out}}
}

func (f *stFixture) spec(settings map[string]any) Spec {
	s := map[string]any{"url": "file://" + f.dir}
	for k, v := range settings {
		s[k] = v
	}
	return Spec{Type: "storage", Settings: s}
}

func (f *stFixture) open(settings map[string]any) *storageSink {
	f.t.Helper()
	s, err := Open(context.Background(), f.spec(settings), f.env)
	if err != nil {
		f.t.Fatalf("Open: %v", err)
	}
	f.t.Cleanup(func() { crashStorage(s.(*storageSink)) })
	return s.(*storageSink)
}

// crashStorage stops a sink as a crash would: nothing buffered is written.
func crashStorage(s *storageSink) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.bgDone
	s.bucket.close()
}

// batch encodes the rows of ids, read from partition part at offsets equal
// to their ids; the batch's offset for part is next (or the last id + 1).
func (f *stFixture) batch(part int32, ids []int64, next ...int64) *Batch {
	f.t.Helper()
	var buf []byte
	var ends []int
	for _, id := range ids {
		var err error
		if buf, err = f.enc.AppendRow(buf, stRow(id)); err != nil {
			f.t.Fatal(err)
		}
		ends = append(ends, len(buf))
	}
	b := &Batch{ContentType: f.enc.ContentType(), Offsets: map[int32]int64{}}
	start := 0
	for i, end := range ends {
		b.Records = append(b.Records, Record{Value: buf[start:end:end], Partition: part, Offset: ids[i]})
		start = end
	}
	switch {
	case len(next) > 0:
		b.Offsets[part] = next[0]
	case len(ids) > 0:
		b.Offsets[part] = ids[len(ids)-1] + 1
	}
	if len(ids) > 0 {
		b.ID = fmt.Sprintf("sub-1/%d/%d+%d", part, ids[0], len(ids))
	}
	return b
}

func ids(from, to int64) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// write writes ids in batches of size n.
func (f *stFixture) write(s Sink, part int32, from, to int64, n int) {
	f.t.Helper()
	for a := from; a < to; a += int64(n) {
		b := min(a+int64(n), to)
		if err := s.Write(context.Background(), f.batch(part, ids(a, b))); err != nil {
			f.t.Fatalf("Write %d-%d: %v", a, b, err)
		}
	}
}

// objects returns the data objects in the bucket by key (the sink's state
// and temporary files left out).
func (f *stFixture) objects() map[string][]byte {
	f.t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(f.dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "_sluice" {
				return filepath.SkipDir
			}
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Size() == 0 {
			return nil // a file the test put in the way of a directory
		}
		if strings.HasSuffix(rel, ".tmp") {
			return nil // being written (see noTemp)
		}
		data, err := os.ReadFile(p)
		out[rel] = data
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// noTemp fails the test if a temporary file is left in the bucket.
func (f *stFixture) noTemp() {
	f.t.Helper()
	err := filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tmp") {
			f.t.Errorf("temporary file left: %s", p)
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// stRead is a row read back from an object.
type stRead struct {
	key  string
	id   int64
	name string
	ts   time.Time
}

// rows decodes every object and returns its rows, checked against the
// rows their ids were made from.
func (f *stFixture) rows() []stRead {
	f.t.Helper()
	var out []stRead
	for key, data := range f.objects() {
		out = append(out, decodeObject(f.t, key, data)...)
	}
	slices.SortFunc(out, func(a, b stRead) int { return cmpInt64(a.id, b.id) })
	return out
}

// decodeObject reads one object by its extension.
func decodeObject(t testing.TB, key string, data []byte) []stRead {
	t.Helper()
	name := path.Base(key)
	switch {
	case strings.HasSuffix(name, ".gz"):
		r, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if data, err = io.ReadAll(r); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		name = strings.TrimSuffix(name, ".gz")
	case strings.HasSuffix(name, ".zst"):
		r, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		defer r.Close()
		if data, err = io.ReadAll(r); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		name = strings.TrimSuffix(name, ".zst")
	}
	var out []stRead
	add := func(id int64, name string, ts time.Time) {
		out = append(out, stRead{key: key, id: id, name: name, ts: ts.UTC()})
	}
	switch path.Ext(name) {
	case ".ndjson":
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var row struct {
				ID   int64     `json:"id"`
				Name string    `json:"name"`
				TS   time.Time `json:"ts"`
				Raw  []byte    `json:"raw"`
			}
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatalf("%s: %q: %v", key, sc.Text(), err)
			}
			add(row.ID, row.Name, row.TS)
		}
	case ".csv":
		r := csv.NewReader(bytes.NewReader(data))
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		for _, rec := range recs {
			if rec[0] == "id" {
				if len(out) > 0 {
					t.Fatalf("%s: a header line after rows", key)
				}
				continue
			}
			id, err := strconv.ParseInt(rec[0], 10, 64)
			if err != nil {
				t.Fatalf("%s: id %q: %v", key, rec[0], err)
			}
			ts, err := time.Parse(time.RFC3339Nano, rec[2])
			if err != nil {
				t.Fatalf("%s: ts %q: %v", key, rec[2], err)
			}
			add(id, rec[1], ts)
		}
	case ".avro":
		r, err := ocf.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		defer r.Close()
		for {
			var row map[string]any
			err := r.Decode(&row)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			ts, _, _ := avroTime(row["ts"])
			add(unwrapAvro(row["id"]).(int64), unwrapAvro(row["name"]).(string), ts)
		}
	case ".parquet":
		for _, r := range readParquet(t, key, data) {
			add(r[0].Int64(), string(r[1].ByteArray()), time.UnixMicro(r[2].Int64()))
		}
	default:
		t.Fatalf("object %s: unknown extension", key)
	}
	return out
}

func unwrapAvro(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, inner := range m {
			return inner
		}
	}
	return v
}

// readParquet returns the rows of a Parquet file, checking each against
// stRow and the schema against the documented mapping.
func readParquet(t testing.TB, key string, data []byte) []parquet.Row {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	fields := f.Schema().Fields()
	wantTypes := []string{"INT(64,true)", "STRING", "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)", "DOUBLE", "BOOLEAN",
		"DATE", "INT(32,true)", "BYTE_ARRAY", "TIME(isAdjustedToUTC=true,unit=MICROS)", "INT(64,true)"}
	for i, fld := range fields {
		got := fld.Type().String()
		if lt := fld.Type().LogicalType(); lt != nil {
			got = lt.String()
		}
		if fld.Name() != stCols[i].Name || got != wantTypes[i] || !fld.Optional() {
			t.Errorf("%s: column %d is %s %s (optional %v), want %s %s optional", key, i, fld.Name(), got, fld.Optional(), stCols[i].Name, wantTypes[i])
		}
	}
	var rows []parquet.Row
	for _, rg := range f.RowGroups() {
		rr := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := rr.ReadRows(buf)
			for _, r := range buf[:n] {
				rows = append(rows, r.Clone())
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
		}
		rr.Close()
	}
	for _, r := range rows {
		id := r[0].Int64()
		want := stRow(id)
		ts := stTime(id)
		if r[3].IsNull() != want[3].Null || !r[3].IsNull() && r[3].Double() != want[3].F {
			t.Errorf("%s: id %d: score %v, want %v", key, id, r[3], want[3])
		}
		if r[4].Boolean() != (id%2 == 0) || r[5].Int32() != int32(ts.Unix()/86400) || r[6].Int32() != int32(id%1000) ||
			!bytes.Equal(r[7].ByteArray(), want[7].B) || r[8].Int64() != want[8].I || r[9].Int64() != want[9].I {
			t.Errorf("%s: id %d: row %v, want %v", key, id, r, want)
		}
	}
	return rows
}

// checkRows checks that rows hold each id of want once, with its name and
// time.
func checkRows(t *testing.T, rows []stRead, want []int64) {
	t.Helper()
	var got []int64
	for _, r := range rows {
		got = append(got, r.id)
		if r.name != stName(r.id) || !r.ts.Equal(stTime(r.id)) {
			t.Errorf("%s: id %d: name %q time %s, want %q %s", r.key, r.id, r.name, r.ts, stName(r.id), stTime(r.id))
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("the bucket holds ids %s, want %s", idRanges(got), idRanges(want))
	}
}

// idRanges prints ids compactly ("0-99,101").
func idRanges(ids []int64) string {
	var b strings.Builder
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", ids[i])
		if j > i {
			fmt.Fprintf(&b, "-%d", ids[j])
		}
		i = j + 1
	}
	return fmt.Sprintf("[%s] (%d)", b.String(), len(ids))
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func storedOffsets(t *testing.T, s *storageSink) map[int32]int64 {
	t.Helper()
	got, _, err := s.StoredOffsets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestStorageRollsByCount(t *testing.T) {
	f := newStFixture(t, "JSON")
	s := f.open(map[string]any{"maxRecords": 100, "compression": "none", "path": "out/"})
	f.write(s, 0, 0, 250, 30)
	keys := keysOf(f.objects())
	want := []string{"out/sub-1-p0-0-99.ndjson", "out/sub-1-p0-100-199.ndjson"}
	if !slices.Equal(keys, want) {
		t.Fatalf("objects %v, want %v", keys, want)
	}
	if got := storedOffsets(t, s); got[0] != 200 {
		t.Fatalf("stored offsets %v, want partition 0 at 200", got)
	}
	checkRows(t, f.rows(), ids(0, 200))
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want = append(want, "out/sub-1-p0-200-249.ndjson")
	if keys := keysOf(f.objects()); !slices.Equal(keys, want) {
		t.Fatalf("after Close: objects %v, want %v", keys, want)
	}
	checkRows(t, f.rows(), ids(0, 250))
	// A new sink starts after what is written.
	s2 := f.open(nil)
	if got := storedOffsets(t, s2); got[0] != 250 {
		t.Fatalf("stored offsets after Close %v, want partition 0 at 250", got)
	}
}

// TestStorageSourcesApart: a job whose source moved writes objects and
// keeps offsets of its own on the new source, and finds the old source's
// again if it goes back.
func TestStorageSourcesApart(t *testing.T) {
	f := newStFixture(t, "JSON")
	f.env.Source = "a/topic"
	s := f.open(map[string]any{"maxRecords": 50, "compression": "none", "path": "out/"})
	f.write(s, 0, 0, 100, 30)
	if got := storedOffsets(t, s); got[0] != 100 {
		t.Fatalf("stored offsets %v, want partition 0 at 100", got)
	}
	f.env.Source = "b/topic"
	moved := f.open(map[string]any{"maxRecords": 50, "compression": "none", "path": "out/"})
	if got := storedOffsets(t, moved); len(got) != 0 {
		t.Fatalf("stored offsets on the new source %v, want none", got)
	}
	f.write(moved, 0, 0, 50, 30) // the same partition and offsets: other objects
	if n := len(f.objects()); n != 3 {
		t.Fatalf("%d objects, want 3: %v", n, keysOf(f.objects()))
	}
	f.env.Source = "a/topic"
	if got := storedOffsets(t, f.open(nil)); got[0] != 100 {
		t.Fatalf("stored offsets of the old source %v, want partition 0 at 100", got)
	}
}

func TestStorageRollsBySize(t *testing.T) {
	f := newStFixture(t, "JSON")
	const limit = 8192
	s := f.open(map[string]any{"maxBytes": limit, "compression": "none", "path": ""})
	f.write(s, 0, 0, 400, 7)
	f.write(s, 1, 0, 50, 7)
	objs := f.objects()
	if len(objs) < 3 {
		t.Fatalf("%d objects, want rolls cut by size: %v", len(objs), keysOf(objs))
	}
	for k, data := range objs {
		if len(data) > limit {
			t.Errorf("%s holds %d bytes, more than maxBytes %d", k, len(data), limit)
		}
	}
	if s.buffered >= limit {
		t.Errorf("the sink buffers %d bytes, maxBytes is %d", s.buffered, limit)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows := f.rows()
	var p0, p1 []stRead
	for _, r := range rows {
		if strings.Contains(r.key, "-p1-") {
			p1 = append(p1, r)
		} else {
			p0 = append(p0, r)
		}
	}
	checkRows(t, p0, ids(0, 400))
	checkRows(t, p1, ids(0, 50))
}

func TestStorageRollsByAge(t *testing.T) {
	f := newStFixture(t, "JSON")
	s := f.open(map[string]any{"maxAge": "200ms", "path": "x/"})
	start := time.Now()
	f.write(s, 2, 0, 10, 10)
	if len(f.objects()) != 0 {
		t.Fatal("an object before maxAge")
	}
	// No more writes: the age loop writes the roll.
	for len(f.objects()) == 0 {
		if time.Since(start) > 10*time.Second {
			t.Fatal("no object 10s after a roll opened with maxAge 200ms")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if age := time.Since(start); age < 200*time.Millisecond {
		t.Fatalf("the roll was written after %s, before maxAge", age)
	}
	if keys := keysOf(f.objects()); !slices.Equal(keys, []string{"x/sub-1-p2-0-9.ndjson.gz"}) {
		t.Fatalf("objects %v", keys)
	}
	if got := storedOffsets(t, s); got[2] != 10 {
		t.Fatalf("stored offsets %v, want partition 2 at 10", got)
	}
	// Offsets that move without records (all filtered out) are stored at
	// the next maxAge too.
	if err := s.Write(context.Background(), f.batch(2, nil, 25)); err != nil {
		t.Fatal(err)
	}
	for storedOffsets(t, s)[2] != 25 {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("offsets without records not stored: %v", storedOffsets(t, s))
		}
		time.Sleep(20 * time.Millisecond)
	}
	checkRows(t, f.rows(), ids(0, 10))
}

func TestStoragePathTemplate(t *testing.T) {
	f := newStFixture(t, "JSON")
	s := f.open(map[string]any{"timeColumn": "ts", "compression": "none",
		"path": "{tenant}/{subscription}/p={partition}/{year}/{month}/{day}/dt={date}/hour={hour}/m={minute}"})
	// ids 0-179 span 13:00 to 15:59; write them out of order across
	// batches, so one roll holds three hours.
	var order []int64
	for i := range int64(60) {
		order = append(order, i+120, i, i+60)
	}
	b := f.batch(3, order, 180)
	// Offsets must grow within a partition: give them in order.
	for i := range b.Records {
		b.Records[i].Offset = int64(i)
	}
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	objs := f.objects()
	if len(objs) != 180 {
		t.Fatalf("%d objects, want one per minute (180): %v", len(objs), keysOf(objs)[:min(5, len(objs))])
	}
	for _, r := range f.rows() {
		ts := stTime(r.id)
		dir := fmt.Sprintf("acme/sub-1/p=3/2026/11/26/dt=2026-11-26/hour=%02d/m=%02d/sub-1-p3-0-179.ndjson", ts.Hour(), ts.Minute())
		if r.key != dir {
			t.Fatalf("id %d (%s) is in %s, want %s", r.id, ts, r.key, dir)
		}
	}

	// The default template: by date and hour, here of the write time.
	f2 := newStFixture(t, "JSON")
	s2 := f2.open(nil)
	before := time.Now().UTC()
	f2.write(s2, 0, 0, 5, 5)
	if err := s2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := time.Now().UTC()
	keys := keysOf(f2.objects())
	dir := func(t time.Time) string {
		return fmt.Sprintf("acme/sub-1/dt=%s/hour=%02d/sub-1-p0-0-4.ndjson.gz", t.Format("2006-01-02"), t.Hour())
	}
	if len(keys) != 1 || keys[0] != dir(before) && keys[0] != dir(after) {
		t.Fatalf("objects %v, want %s", keys, dir(before))
	}
}

func TestStorageEventTimeHours(t *testing.T) {
	for _, ff := range []string{"JSON", "CSV", "AVRO"} {
		t.Run(ff, func(t *testing.T) {
			f := newStFixture(t, ff)
			s := f.open(map[string]any{"timeColumn": "ts", "maxRecords": 1000})
			f.write(s, 0, 0, 180, 50)
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			rows := f.rows()
			checkRows(t, rows, ids(0, 180))
			for _, r := range rows {
				if want := fmt.Sprintf("hour=%02d/", stTime(r.id).Hour()); !strings.Contains(r.key, want) {
					t.Errorf("id %d in %s, want under %s", r.id, r.key, want)
				}
			}
			if n := len(f.objects()); n != 3 {
				t.Errorf("%d objects, want 3 (one per hour)", n)
			}
		})
	}
}

func TestStorageFormats(t *testing.T) {
	cases := []struct {
		output, file string
		compressions []string
		extra        map[string]any
	}{
		{"JSON", "json", []string{"none", "gzip", "zstd"}, nil},
		{"CSV", "csv", []string{"none", "gzip", "zstd"}, map[string]any{"header": true}},
		{"CSV", "csv", []string{"none"}, nil},
		{"AVRO", "avro", []string{"null", "deflate", "snappy", "zstd"}, nil},
		{"JSON", "parquet", []string{"none", "snappy", "gzip", "zstd"}, nil},
	}
	for _, c := range cases {
		for _, comp := range c.compressions {
			t.Run(c.file+"/"+comp+fmt.Sprint(c.extra != nil), func(t *testing.T) {
				f := newStFixture(t, c.output)
				settings := map[string]any{"fileFormat": c.file, "compression": comp, "maxRecords": 70, "path": "d/"}
				for k, v := range c.extra {
					settings[k] = v
				}
				s := f.open(settings)
				f.write(s, 0, 0, 100, 13)
				f.write(s, 1, 1000, 1020, 13)
				if err := s.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				objs := f.objects()
				if len(objs) != 3 {
					t.Fatalf("objects %v, want 3", keysOf(objs))
				}
				checkRows(t, f.rows(), append(ids(0, 100), ids(1000, 1020)...))
				for k, data := range objs {
					if c.file == "csv" {
						raw := decompress(t, k, data)
						header := bytes.HasPrefix(raw, []byte(`"id","name","ts"`))
						if header != (c.extra != nil) {
							t.Errorf("%s: header line %v, want %v", k, header, c.extra != nil)
						}
					}
					if c.file == "avro" {
						r, err := ocf.NewReader(bytes.NewReader(data))
						if err != nil {
							t.Fatal(err)
						}
						codec := string(r.Metadata()["avro.codec"])
						if want := map[string]string{"null": "", "zstd": "zstandard"}[comp]; want != codec && comp != codec {
							t.Errorf("%s: codec %q, want %s", k, codec, comp)
						}
						r.Close()
					}
				}
			})
		}
	}
}

func decompress(t *testing.T, key string, data []byte) []byte {
	t.Helper()
	switch {
	case strings.HasSuffix(key, ".gz"):
		r, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return out
	case strings.HasSuffix(key, ".zst"):
		r, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return data
}

// A batch written again (the runtime retries a failed write) adds nothing.
func TestStorageRetryNoDuplicates(t *testing.T) {
	f := newStFixture(t, "JSON")
	s := f.open(map[string]any{"maxRecords": 40, "path": "{hour}/", "timeColumn": "ts"})
	// Make the write of hour 14 fail: a file where its directory goes.
	block := filepath.Join(f.dir, "14")
	if err := os.WriteFile(block, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	b := f.batch(0, ids(0, 30))
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	b = f.batch(0, ids(30, 70)) // ids 0-39 (13:00-13:39) are due, all in hour 13
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), b); err != nil { // the same batch again
		t.Fatal(err)
	}
	for range 2 { // the next batch: its roll (40-79, 13:40-14:19) cannot be written
		b = f.batch(0, ids(70, 90))
		err := s.Write(context.Background(), b)
		if err == nil || IsPermanent(err) {
			t.Fatalf("Write into a blocked directory: %v, want a transient error", err)
		}
	}
	if got := storedOffsets(t, s); got[0] != 40 {
		t.Fatalf("stored offsets %v, want partition 0 at 40", got)
	}
	if err := os.Remove(block); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRows(t, f.rows(), ids(0, 90))
	f.noTemp()
	want := []string{"13/sub-1-p0-0-39.ndjson.gz", "13/sub-1-p0-40-79.ndjson.gz", "14/sub-1-p0-40-79.ndjson.gz", "14/sub-1-p0-80-89.ndjson.gz"}
	if keys := keysOf(f.objects()); !slices.Equal(keys, want) {
		t.Fatalf("objects %v, want %v", keys, want)
	}
}

// After a crash the sink resumes from what is written; a roll whose
// objects were partly written is written again with the same cut, to the
// same names, from records read again in different batches.
func TestStorageCrashReplaysIntent(t *testing.T) {
	f := newStFixture(t, "JSON")
	settings := map[string]any{"maxRecords": 100, "path": "{hour}/", "timeColumn": "ts", "maxAge": "1h"}
	s := f.open(settings)
	f.write(s, 0, 0, 100, 25) // roll 0-99 (13:00-14:39) written
	block := filepath.Join(f.dir, "15")
	if err := os.WriteFile(block, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The roll 100-199 (14:40-16:19) spans hours 14, 15 and 16: hour 14
	// is written, hour 15 fails.
	f.write(s, 0, 100, 175, 25)
	b := f.batch(0, ids(175, 210))
	if err := s.Write(context.Background(), b); err == nil {
		t.Fatal("Write into a blocked directory succeeded")
	}
	partial := f.objects()
	if _, ok := partial["14/sub-1-p0-100-199.ndjson.gz"]; !ok {
		t.Fatalf("objects %v: the roll's hour 14 should be written", keysOf(partial))
	}
	if got := storedOffsets(t, s); got[0] != 100 {
		t.Fatalf("stored offsets %v, want 100 (the interrupted roll's start)", got)
	}
	crashStorage(s)
	if err := os.Remove(block); err != nil {
		t.Fatal(err)
	}

	// Restart: the records come again from 100, in batches of another size
	// and with maxRecords changed; the roll still ends at 199.
	settings["maxRecords"] = 30
	s = f.open(settings)
	if got := storedOffsets(t, s); got[0] != 100 {
		t.Fatalf("after restart, stored offsets %v, want 100", got)
	}
	f.write(s, 0, 100, 260, 17)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	objs := f.objects()
	for k, v := range partial {
		if !bytes.Equal(objs[k], v) {
			t.Errorf("%s was written again with other bytes", k)
		}
	}
	for _, k := range []string{"14/sub-1-p0-100-199.ndjson.gz", "15/sub-1-p0-100-199.ndjson.gz", "16/sub-1-p0-100-199.ndjson.gz",
		"16/sub-1-p0-200-229.ndjson.gz", "16/sub-1-p0-230-259.ndjson.gz"} {
		if _, ok := objs[k]; !ok {
			t.Errorf("no object %s (objects %v)", k, keysOf(objs))
		}
	}
	checkRows(t, f.rows(), ids(0, 260))
	f.noTemp()
}

// A roll decided before a crash but written again with other records
// (some filtered out now: the query changed, say) leaves none of the first
// attempt's objects.
func TestStorageReplayRemovesStaleObjects(t *testing.T) {
	f := newStFixture(t, "JSON")
	settings := map[string]any{"maxRecords": 50, "path": "{hour}/", "timeColumn": "ts"}
	s := f.open(settings)
	block := filepath.Join(f.dir, "15")
	if err := os.WriteFile(block, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// ids 100-149 are 14:40-15:29: hour 14 is written, hour 15 fails.
	if err := s.Write(context.Background(), f.batch(0, ids(100, 150))); err == nil {
		t.Fatal("Write into a blocked directory succeeded")
	}
	if keys := keysOf(f.objects()); !slices.Equal(keys, []string{"14/sub-1-p0-100-149.ndjson.gz"}) {
		t.Fatalf("objects %v", keys)
	}
	crashStorage(s)
	if err := os.Remove(block); err != nil {
		t.Fatal(err)
	}
	s = f.open(settings)
	if got := storedOffsets(t, s); got[0] != 100 {
		t.Fatalf("stored offsets %v, want 100", got)
	}
	// The records come again without 100-109: the roll is 110-149.
	f.write(s, 0, 110, 160, 25)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"14/sub-1-p0-110-149.ndjson.gz", "15/sub-1-p0-110-149.ndjson.gz", "15/sub-1-p0-150-159.ndjson.gz"}
	if keys := keysOf(f.objects()); !slices.Equal(keys, want) {
		t.Fatalf("objects %v, want %v", keys, want)
	}
	checkRows(t, f.rows(), ids(110, 160))
}

func TestStorageAggregationResults(t *testing.T) {
	f := newStFixture(t, "JSON")
	settings := map[string]any{"maxRecords": 10, "path": "{partition}/"}
	s := f.open(settings)
	agg := func(id string, from int64, n int, offsets map[int32]int64) *Batch {
		b := f.batch(0, ids(from, from+int64(n)))
		for i := range b.Records {
			b.Records[i].Partition, b.Records[i].Offset = -1, -1
		}
		b.ID, b.Offsets = id, offsets
		return b
	}
	b := agg("sub-1/w/100/0", 0, 6, map[int32]int64{0: 40, 1: 17})
	for range 2 { // a retry adds nothing
		if err := s.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(context.Background(), agg("sub-1/w/200/0", 6, 6, map[int32]int64{0: 55, 1: 30})); err != nil {
		t.Fatal(err)
	}
	if got := storedOffsets(t, s); got[0] != 55 || got[1] != 30 {
		t.Fatalf("stored offsets %v, want those of the roll's last batch", got)
	}
	if keys := keysOf(f.objects()); !slices.Equal(keys, []string{"agg/sub-1-agg-all-0.ndjson.gz"}) {
		t.Fatalf("objects %v", keys)
	}
	// A roll interrupted after some of its objects: on restart they go,
	// and the offsets stay those before it.
	if err := s.Write(context.Background(), agg("sub-1/w/300/0", 12, 3, map[int32]int64{0: 60, 1: 31})); err != nil {
		t.Fatal(err)
	}
	r := s.rolls[-1]
	in := &storageIntent{FromOffsets: r.offsets, ToOffsets: map[int32]int64{0: 60, 1: 31}, Time: time.Now().UTC(),
		Objects: []string{"agg/sub-1-agg-all-1.ndjson.gz", "agg/missing.ndjson.gz"}}
	if err := s.saveState(context.Background(), r, in); err != nil {
		t.Fatal(err)
	}
	if err := s.bucket.put(context.Background(), in.Objects[0], []byte("{}\n"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	crashStorage(s)
	s = f.open(settings)
	if got := storedOffsets(t, s); got[0] != 55 || got[1] != 30 {
		t.Fatalf("after restart, stored offsets %v, want those before the interrupted roll", got)
	}
	if keys := keysOf(f.objects()); !slices.Equal(keys, []string{"agg/sub-1-agg-all-0.ndjson.gz"}) {
		t.Fatalf("objects %v: the interrupted roll's object should be gone", keys)
	}
	// Computed again, the results go to the same name.
	if err := s.Write(context.Background(), agg("sub-1/w/300/0", 12, 3, map[int32]int64{0: 60, 1: 31})); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if keys := keysOf(f.objects()); !slices.Equal(keys, []string{"agg/sub-1-agg-all-0.ndjson.gz", "agg/sub-1-agg-all-1.ndjson.gz"}) {
		t.Fatalf("objects %v", keys)
	}
	checkRows(t, f.rows(), ids(0, 15))
	// An interrupted roll whose objects are all there is committed.
	s = f.open(settings)
	r = s.rolls[-1]
	in = &storageIntent{FromOffsets: r.offsets, ToOffsets: map[int32]int64{0: 70, 1: 33}, Time: time.Now().UTC(),
		Objects: []string{"agg/sub-1-agg-all-2.ndjson.gz"}}
	if err := s.saveState(context.Background(), r, in); err != nil {
		t.Fatal(err)
	}
	if err := s.bucket.put(context.Background(), in.Objects[0], f.batch(0, []int64{15}).Records[0].Value, "text/plain"); err != nil {
		t.Fatal(err)
	}
	crashStorage(s)
	s = f.open(settings)
	if got := storedOffsets(t, s); got[0] != 70 || got[1] != 33 {
		t.Fatalf("stored offsets %v, want the complete roll committed", got)
	}
}

func TestStoragePathParse(t *testing.T) {
	for _, c := range []struct{ in, problem string }{
		{"", ""},
		{"{tenant}/{job}/{date}", ""},
		{"a/b/", ""},
		{"/abs", "leading /"},
		{"a//b", "empty segment"},
		{"a/../b", `".." segment`},
		{"{nope}", "unknown variable {nope}"},
		{"{date", "without its }"},
		{"date}", "without its {"},
		{"_sluice/x", "must not start with _sluice/"},
		{"a\\b", "backslashes"},
	} {
		_, problem := parseStoragePath(c.in)
		if c.problem == "" && problem != "" || !strings.Contains(problem, c.problem) {
			t.Errorf("%q: %q, want %q", c.in, problem, c.problem)
		}
	}
	p, _ := parseStoragePath("{tenant}/{job}/{partition}/{date}-{hour}{minute}")
	got := string(p.dir(nil, &storagePathEnv{tenant: "a/..", job: ".."}, -1, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	if got != "a_../_/agg/2026-01-02-0304/" {
		t.Errorf("dir %q", got)
	}
}

func TestStorageISODuration(t *testing.T) {
	for in, want := range map[string]int64{"PT0S": 0, "PT5M": 300e6, "P1DT2H": 93600e6, "PT0.5S": 500e3, "-PT1S": -1e6,
		"P2D": 172800e6, "PT1H2M3.000004S": 3723000004} {
		if got, ok := parseISODuration([]byte(in)); !ok || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "P", "PT", "5M", "P1H", "PT1D", "PT1.5M", "PTS", "PT1.1234567S"} {
		if _, ok := parseISODuration([]byte(in)); ok {
			t.Errorf("%q parsed", in)
		}
	}
	if _, ok := parseJSONInt([]byte("-9223372036854775808")); !ok {
		t.Error("min int64")
	}
	if _, ok := parseJSONInt([]byte("9223372036854775808")); ok {
		t.Error("max int64 + 1")
	}
	if n, _ := parseJSONInt([]byte(strconv.FormatInt(math.MaxInt64, 10))); n != math.MaxInt64 {
		t.Error("max int64")
	}
}

func TestStorageConfigErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	jsonOut := newStFixture(t, "JSON").env.Output
	csvOut := newStFixture(t, "CSV").env.Output
	avroOut := newStFixture(t, "AVRO").env.Output
	arrayEnc, _ := format.NewWithOptions("JSON", stCols, format.Options{Array: true})
	headerEnc, _ := format.NewWithOptions("CSV", stCols, format.Options{Header: true})
	containerEnc, _ := format.NewWithOptions("AVRO", stCols, format.Options{Container: true})
	fileURL := "file://" + dir
	for _, c := range []struct {
		name     string
		settings map[string]any
		out      Output
		root     string
		private  bool
		field    string
		msg      string
	}{
		{"no url", map[string]any{}, jsonOut, "", false, "url", "required"},
		{"scheme", map[string]any{"url": "ftp://x"}, jsonOut, "", false, "url", `unsupported scheme "ftp"`},
		{"no scheme", map[string]any{"url": "bucket"}, jsonOut, "", false, "url", "the scheme is missing"},
		{"missing dir", map[string]any{"url": fileURL + "/nope"}, jsonOut, "", false, "url", "does not exist"},
		{"not a dir", map[string]any{"url": "file://" + file}, jsonOut, "", false, "url", "is not a directory"},
		{"outside root", map[string]any{"url": "file:///etc"}, jsonOut, dir, false, "url", "inside the file sink directory"},
		{"file query", map[string]any{"url": fileURL + "?metadata=skip"}, jsonOut, "", false, "url", "no query parameters"},
		{"s3 bucket", map[string]any{"url": "s3://B_ad"}, jsonOut, "", false, "url", "not an S3 bucket name"},
		{"s3 path", map[string]any{"url": "s3://bucket/prefix"}, jsonOut, "", false, "url", "put a key prefix in path"},
		{"s3 param", map[string]any{"url": "s3://bucket?profile=prod"}, jsonOut, "", false, "url", `unknown query parameter "profile"`},
		{"s3 private", map[string]any{"url": "s3://bucket?endpoint=http://127.0.0.1:9000"}, jsonOut, "", false, "url", "127.0.0.1 is a loopback address"},
		{"s3 private ok", map[string]any{"url": "s3://bucket?endpoint=http://127.0.0.1:9000"}, jsonOut, "", true, "", ""},
		{"s3 metadata", map[string]any{"url": "s3://bucket?endpoint=http://169.254.169.254"}, jsonOut, "", true, "url", "cloud metadata"},
		{"s3 localhost", map[string]any{"url": "s3://bucket?endpoint=http://localhost:9000"}, jsonOut, "", false, "url", "loopback"},
		{"s3 endpoint", map[string]any{"url": "s3://bucket?endpoint=ftp://x"}, jsonOut, "", false, "url", "https or http"},
		{"s3 bool", map[string]any{"url": "s3://bucket?use_path_style=yes"}, jsonOut, "", false, "url", "want true or false"},
		{"key alone", map[string]any{"url": "s3://bucket", "accessKeyId": "AKIA"}, jsonOut, "", false, "secretAccessKey", "go together"},
		{"key on file", map[string]any{"url": fileURL, "secretAccessKey": "x"}, jsonOut, "", false, "secretAccessKey", "only for s3"},
		{"gs path", map[string]any{"url": "gs://b/p"}, jsonOut, "", false, "url", "name the bucket only"},
		{"az query", map[string]any{"url": "azblob://c?domain=x"}, jsonOut, "", false, "url", "no query parameters"},
		{"path", map[string]any{"url": fileURL, "path": "{when}/"}, jsonOut, "", false, "path", "unknown variable {when}"},
		{"format", map[string]any{"url": fileURL, "fileFormat": "orc"}, jsonOut, "", false, "fileFormat", `unknown file format "orc"`},
		{"format mismatch", map[string]any{"url": fileURL, "fileFormat": "csv"}, jsonOut, "", false, "fileFormat", "its output format is JSON"},
		{"parquet from csv", map[string]any{"url": fileURL, "fileFormat": "parquet"}, csvOut, "", false, "fileFormat", "parquet files are made from JSON records"},
		{"parquet unknown", map[string]any{"url": fileURL, "fileFormat": "parquet"}, Output{}, "", false, "fileFormat", "need the result columns"},
		{"array", map[string]any{"url": fileURL}, Output{Format: "json", ContentType: arrayEnc.ContentType(), Columns: stCols}, "", false, "fileFormat", "turn the array option off"},
		{"csv header", map[string]any{"url": fileURL}, Output{Format: "csv", ContentType: headerEnc.ContentType(), Columns: stCols}, "", false, "fileFormat", "set the sink's header"},
		{"container", map[string]any{"url": fileURL}, Output{Format: "avro", ContentType: containerEnc.ContentType(), Columns: stCols}, "", false, "fileFormat", "turn the container option off"},
		{"compression", map[string]any{"url": fileURL, "compression": "snappy"}, jsonOut, "", false, "compression", `"snappy" is not a compression for json files`},
		{"avro compression", map[string]any{"url": fileURL, "compression": "gzip"}, avroOut, "", false, "compression", "one of deflate, null, snappy, zstd"},
		{"header on json", map[string]any{"url": fileURL, "header": true}, jsonOut, "", false, "header", "only for csv"},
		{"delimiter", map[string]any{"url": fileURL, "delimiter": `""`}, csvOut, "", false, "delimiter", "not a CSV delimiter"},
		{"time column", map[string]any{"url": fileURL, "timeColumn": "when"}, jsonOut, "", false, "timeColumn", `"when" is not a result column (the query returns id, name`},
		{"time kind", map[string]any{"url": fileURL, "timeColumn": "name"}, jsonOut, "", false, "timeColumn", "column name is VARCHAR"},
		{"maxRecords", map[string]any{"url": fileURL, "maxRecords": 0}, jsonOut, "", false, "maxRecords", "out of range"},
		{"maxBytes", map[string]any{"url": fileURL, "maxBytes": "big"}, jsonOut, "", false, "maxBytes", "must be an integer"},
		{"maxAge", map[string]any{"url": fileURL, "maxAge": "1ms"}, jsonOut, "", false, "maxAge", "out of range"},
		{"unknown", map[string]any{"url": fileURL, "bucket": "x"}, jsonOut, "", false, "bucket", "unknown setting"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := Env{Output: c.out, FileRoot: c.root, AllowPrivate: c.private}
			err := Validate(Spec{Type: "storage", Settings: c.settings}, env)
			if c.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			ces := ConfigErrors(err)
			for _, ce := range ces {
				if ce.Field == c.field && strings.Contains(ce.Message, c.msg) {
					return
				}
			}
			t.Fatalf("Validate: %v; want a ConfigError of %s saying %q", err, c.field, c.msg)
		})
	}
}

// The S3 client connects through the destination checks: an endpoint
// that is refused when written as an address is refused when a name
// leads to it, at the connection.
func TestStoragePrivateEndpointRefused(t *testing.T) {
	env := newStFixture(t, "JSON").env
	// A loopback endpoint past the settings check (as a name resolving to
	// it would be) is refused when the sink connects.
	c, err := parseStorage(Spec{Type: "storage", Settings: map[string]any{
		"url": "s3://bucket?endpoint=http://127.0.0.1:9&region=us-east-1&use_path_style=true", "accessKeyId": "a", "secretAccessKey": "b"}},
		Env{AllowPrivate: true, Output: env.Output})
	if err != nil {
		t.Fatal(err)
	}
	b, err := openStorageBucket(context.Background(), c, env)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	_, err = b.list(context.Background(), "", 1)
	if err == nil || !IsPermanent(storageError(c, "list", err)) || !strings.Contains(err.Error(), "127.0.0.1:9 is a loopback address") {
		t.Fatalf("list: %v, want a permanent refusal of the loopback address", err)
	}

	// Through Open, with the machine's name when it resolves to a private
	// or loopback address (it does on most hosts, from /etc/hosts).
	host, _ := os.Hostname()
	addrs, _ := net.LookupHost(host)
	if len(addrs) == 0 || !slices.ContainsFunc(addrs, func(a string) bool {
		ip, err := netip.ParseAddr(a)
		return err == nil && Forbidden(Env{}, ip) != ""
	}) {
		t.Logf("the host name %q does not resolve to a private address (%v): Open not checked", host, addrs)
		return
	}
	spec := Spec{Type: "storage", Settings: map[string]any{
		"url": "s3://bucket?endpoint=http://" + host + ":9&region=us-east-1&use_path_style=true", "accessKeyId": "a", "secretAccessKey": "b"}}
	if err := Validate(spec, env); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if _, err := Open(context.Background(), spec, env); err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "which sinks may not reach") {
		t.Fatalf("Open: %v, want a permanent refusal of %s (%v)", err, host, addrs)
	}
	if err := Probe(context.Background(), spec, env); err == nil || !strings.Contains(err.Error(), "which sinks may not reach") {
		t.Fatalf("Probe: %v, want a refusal of %s", err, host)
	}
}

// Write after Close, and Open outside a job.
func TestStorageClosedAndJobless(t *testing.T) {
	f := newStFixture(t, "JSON")
	s := f.open(nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), f.batch(0, ids(0, 1))); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if _, _, err := s.StoredOffsets(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("StoredOffsets after Close: %v", err)
	}
	env := f.env
	env.Job = ""
	if _, err := Open(context.Background(), f.spec(nil), env); err == nil || !IsPermanent(err) {
		t.Fatalf("Open without a job: %v", err)
	}
	// Records of another format than the sink writes from.
	s = f.open(nil)
	b := f.batch(0, ids(0, 1))
	b.ContentType = "text/csv; charset=utf-8; header=absent"
	if err := s.Write(context.Background(), b); err == nil || !IsPermanent(err) {
		t.Fatalf("Write of CSV records to a JSON sink: %v", err)
	}
}

func TestStorageParquetRejectsBadRecord(t *testing.T) {
	f := newStFixture(t, "JSON")
	s := f.open(map[string]any{"fileFormat": "parquet", "maxRecords": 2})
	b := f.batch(0, ids(0, 2))
	b.Records[1].Value = []byte(`{"id":"one"}` + "\n")
	err := s.Write(context.Background(), b)
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "column id") || !strings.Contains(err.Error(), "offset 1") {
		t.Fatalf("Write: %v, want a permanent error naming the record and column", err)
	}
}

// jsonString undoes escapes exactly as encoding/json does.
func TestStorageJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `a"b\c/d`, "tab\tnl\ncr\rbs\bff\f", "\u2028\u2029 é 😀 \x01 \x7f",
		string([]byte{0xff, 'x'}), `\u00e9`, "<>&"} {
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		got, _, ok := jsonString(raw, nil)
		if !ok || string(got) != want {
			t.Errorf("%s: %q %v, want %q", raw, got, ok, want)
		}
	}
	for _, raw := range []string{`"\ud83d\ude00"`, `"\ud83d x"`, `"\u0041\u00E9"`, `"\/"`} {
		var want string
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatal(err)
		}
		if got, _, ok := jsonString([]byte(raw), nil); !ok || string(got) != want {
			t.Errorf("%s: %q %v, want %q", raw, got, ok, want)
		}
	}
	for _, raw := range []string{`"\x"`, `"\u12"`, `"abc\"`, `abc`, `"`} {
		if got, _, ok := jsonString([]byte(raw), nil); ok {
			t.Errorf("%s: %q accepted", raw, got)
		}
	}
}

// When the context the sink was opened with ends (the job stopped
// abruptly), the sink writes nothing more: neither the age loop nor
// Close, so it cannot write beside the job's next task.
func TestStorageAbruptStopWritesNothing(t *testing.T) {
	f := newStFixture(t, "JSON")
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Open(ctx, f.spec(map[string]any{"maxAge": "200ms"}), f.env)
	if err != nil {
		t.Fatal(err)
	}
	f.write(s, 0, 0, 10, 10)
	cancel()
	time.Sleep(600 * time.Millisecond) // past maxAge: the age loop has stopped
	if objs := f.objects(); len(objs) != 0 {
		t.Fatalf("objects %v written after the job's context ended", keysOf(objs))
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if objs := f.objects(); len(objs) != 0 {
		t.Fatalf("objects %v written by Close after an abrupt stop", keysOf(objs))
	}
	s2 := f.open(nil)
	if got := storedOffsets(t, s2); len(got) != 0 {
		t.Fatalf("stored offsets %v, want none: the records are read again", got)
	}
	// A clean stop writes the open rolls.
	f.write(s2, 0, 0, 10, 10)
	if err := s2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRows(t, f.rows(), ids(0, 10))
}

// CSV with another delimiter: the header is written with it and the time
// column read by it.
func TestStorageCSVDelimiter(t *testing.T) {
	f := newStFixtureOpts(t, "CSV", format.Options{Delimiter: ';'})
	s := f.open(map[string]any{"delimiter": ";", "header": true, "timeColumn": "ts", "compression": "none"})
	f.write(s, 0, 0, 120, 50)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	objs := f.objects()
	if len(objs) != 2 {
		t.Fatalf("objects %v, want one per hour", keysOf(objs))
	}
	for k, data := range objs {
		if !bytes.HasPrefix(data, []byte(`"id";"name";"ts";"score"`)) {
			t.Errorf("%s starts %q", k, data[:min(40, len(data))])
		}
		r := csv.NewReader(bytes.NewReader(data))
		r.Comma = ';'
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		hour := map[string]int{"hour=13": 13, "hour=14": 14}[path.Base(path.Dir(k))]
		for _, rec := range recs[1:] {
			ts, err := time.Parse(time.RFC3339Nano, rec[2])
			if err != nil || ts.Hour() != hour {
				t.Errorf("%s: row %v in the wrong hour (%v)", k, rec[:3], err)
			}
		}
	}
}

// File buckets stay inside the worker's file sink directory, symbolic
// links included; relative URLs resolve against it.
func TestStorageFileRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "lake"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	env := newStFixture(t, "JSON").env
	env.FileRoot = root
	for url, want := range map[string]string{
		"file://./lake":                         "",
		"file://" + root + "/lake":              "",
		"file://./escape":                       "symbolic link",
		"file://./../" + filepath.Base(outside): "inside the file sink directory",
		"file://" + outside:                     "inside the file sink directory",
	} {
		err := Validate(Spec{Type: "storage", Settings: map[string]any{"url": url}}, env)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", url, err, want)
		}
	}
	s, err := Open(context.Background(), Spec{Type: "storage", Settings: map[string]any{"url": "file://./lake", "path": "x/"}}, env)
	if err != nil {
		t.Fatal(err)
	}
	f := &stFixture{t: t, dir: filepath.Join(root, "lake"), enc: newStFixture(t, "JSON").enc, env: env}
	f.write(s, 0, 0, 3, 3)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRows(t, f.rows(), ids(0, 3))
}

// Stores whose credentials come from the worker's environment say what
// is missing.
func TestStorageAzureNeedsAccount(t *testing.T) {
	for _, v := range []string{"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGEBLOB_CONNECTIONSTRING"} {
		t.Setenv(v, "")
	}
	f := newStFixture(t, "JSON")
	_, err := Open(context.Background(), Spec{Type: "storage", Settings: map[string]any{"url": "azblob://lake"}}, f.env)
	if err == nil || !strings.Contains(err.Error(), "AZURE_STORAGE_ACCOUNT") {
		t.Fatalf("Open: %v, want an error naming AZURE_STORAGE_ACCOUNT", err)
	}
}

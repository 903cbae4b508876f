package decode

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twmb/avro"
)

// fakeSchemas is an in-memory registry keyed by version, counting lookups.
type fakeSchemas struct {
	mu       sync.Mutex
	byRef    map[int]*avro.Schema
	down     bool
	lookups  atomic.Int64
	released chan struct{} // when set, lookups wait for it
}

func (f *fakeSchemas) WriterSchema(_ context.Context, ref int) (*avro.Schema, error) {
	f.lookups.Add(1)
	if f.released != nil {
		<-f.released
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errors.New("registry unreachable")
	}
	s, ok := f.byRef[ref]
	if !ok {
		return nil, ErrUnknownSchema
	}
	return s, nil
}

func TestCacheSharesAndBounds(t *testing.T) {
	v1, v2 := avro.MustParse(firewallV1), avro.MustParse(firewallV2)
	c := NewCache(2)
	a, err := c.Decoder(v1, v1, []string{"action"})
	if err != nil {
		t.Fatal(err)
	}
	// The same schemas parsed again have the same fingerprints.
	if b, _ := c.Decoder(avro.MustParse(firewallV1), v1, []string{"action"}); b != a {
		t.Fatal("same key compiled twice")
	}
	if b, _ := c.Decoder(v1, v1, []string{"action", "tenant"}); b == a {
		t.Fatal("projection not in the key")
	}
	if _, err := c.Decoder(v1, v2, []string{"action"}); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 2 {
		t.Fatalf("len %d, want 2", c.Len())
	}
	// "action" was least recently used and is gone.
	if b, _ := c.Decoder(v1, v1, []string{"action"}); b == a {
		t.Fatal("evicted entry still served")
	}
	// Compile errors are cached like decoders.
	_, err1 := c.Decoder(v2, v1, []string{"nope"})
	_, err2 := c.Decoder(v2, v1, []string{"nope"})
	if !errors.Is(err1, ErrUnknownPath) || err1 != err2 {
		t.Fatalf("errors %v / %v", err1, err2)
	}
}

// Schemas differing only in what the canonical form drops (here a default)
// are different keys.
func TestFingerprintTellsDefaultsApart(t *testing.T) {
	a := avro.MustParse(`{"type":"record","name":"R","fields":[{"name":"x","type":"int","default":1}]}`)
	b := avro.MustParse(`{"type":"record","name":"R","fields":[{"name":"x","type":"int","default":2}]}`)
	fa, fb := FingerprintOf(a), FingerprintOf(b)
	if fa.Canonical != fb.Canonical || fa == fb {
		t.Fatalf("%+v %+v", fa, fb)
	}
	// The canonical half is the specification's CRC-64-AVRO.
	if want := avro.MustParse(`"int"`); FingerprintOf(want).Canonical != 0x7275d51a3f395c8f {
		t.Fatalf("int fingerprint %x", FingerprintOf(want).Canonical)
	}
}

func TestCacheConcurrent(t *testing.T) {
	v1 := avro.MustParse(firewallV1)
	c := NewCache(8)
	recs := firewallRecords(t, 16)
	projections := [][]string{{"action"}, {"tenant", "severity"}, firewallFields}
	var wg sync.WaitGroup
	var first [3]atomic.Pointer[Decoder]
	for g := range 8 {
		wg.Go(func() {
			var row Row
			for i := range 200 {
				p := (g + i) % len(projections)
				d, err := c.Decoder(v1, v1, projections[p])
				if err != nil {
					t.Error(err)
					return
				}
				first[p].CompareAndSwap(nil, d)
				if first[p].Load() != d {
					t.Error("two decoders for one key")
					return
				}
				if err := d.Decode(recs[i%len(recs)], &row); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestResolver(t *testing.T) {
	v1, v2 := avro.MustParse(firewallV1), avro.MustParse(firewallV2)
	reg := &fakeSchemas{byRef: map[int]*avro.Schema{1: v1, 2: v2}}
	cache := NewCache(0)
	r, err := NewResolver[int](cache, reg, v2, []string{"device_id", "action"})
	if err != nil {
		t.Fatal(err)
	}
	if cols := r.Columns(); len(cols) != 2 || cols[0].Type.Kind != KindString || cols[1].Type.Kind != KindEnum {
		t.Fatalf("columns %+v", cols)
	}
	ctx := context.Background()
	var row Row
	for _, rec := range firewallRecords(t, 50) {
		if err := r.Decode(ctx, 1, rec, &row); err != nil {
			t.Fatal(err)
		}
		if row.Values[0].Kind != KindString || len(row.Values[0].B) != 0 || row.Values[1].Kind != KindEnum {
			t.Fatalf("row %+v", row.Values)
		}
	}
	if n := reg.lookups.Load(); n != 1 {
		t.Fatalf("%d registry lookups for one version", n)
	}
	// Unknown versions are reported as such, and asked again next time (the
	// version may have been registered since).
	for range 2 {
		if err := r.Decode(ctx, 9, nil, &row); !errors.Is(err, ErrUnknownSchema) {
			t.Fatalf("unknown version: %v", err)
		}
	}
	if n := reg.lookups.Load(); n != 3 {
		t.Fatalf("%d lookups", n)
	}
	// A registry outage is not a bad record.
	reg.mu.Lock()
	reg.down = true
	reg.mu.Unlock()
	if _, err := r.Decoder(ctx, 2); err == nil || errors.Is(err, ErrUnknownSchema) {
		t.Fatalf("outage: %v", err)
	}
	reg.mu.Lock()
	reg.down = false
	reg.mu.Unlock()
	if _, err := r.Decoder(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// The projection is checked up front.
	if _, err := NewResolver[int](cache, reg, v2, []string{"nope"}); !errors.Is(err, ErrUnknownPath) {
		t.Fatalf("bad projection: %v", err)
	}
	// An incompatible writer is a cached compile error.
	reg.byRef[3] = avro.MustParse(`{"type":"record","name":"Traffic","namespace":"sluice.firewall","fields":[{"name":"action","type":"long"}]}`)
	for range 2 {
		if _, err := r.Decoder(ctx, 3); !errors.Is(err, ErrIncompatible) {
			t.Fatalf("incompatible: %v", err)
		}
	}
	if n := reg.lookups.Load(); n != 6 {
		t.Fatalf("%d lookups", n)
	}
}

func TestResolverConcurrent(t *testing.T) {
	v1 := avro.MustParse(firewallV1)
	reg := &fakeSchemas{byRef: map[int]*avro.Schema{}, released: make(chan struct{})}
	for v := 1; v <= 20; v++ {
		reg.byRef[v] = v1
	}
	r, err := NewResolver[int](NewCache(4), reg, v1, []string{"severity"})
	if err != nil {
		t.Fatal(err)
	}
	close(reg.released)
	recs := firewallRecords(t, 8)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			var row Row
			for i := range 300 {
				if err := r.Decode(context.Background(), 1+(g*7+i)%20, recs[i%8], &row); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

package decode

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/avro"
)

// Fingerprint identifies a schema for caching. Canonical is the
// specification's CRC-64-AVRO fingerprint of the Parsing Canonical Form,
// the identity registries use. The canonical form drops what resolution
// depends on (defaults, aliases, logical types), so Text, the CRC-64-AVRO
// of the schema's JSON as written, tells such schemas apart.
type Fingerprint struct {
	Canonical uint64
	Text      uint64
}

// FingerprintOf fingerprints s. It costs a walk of the schema: do it once
// per schema, not per record.
func FingerprintOf(s *avro.Schema) Fingerprint {
	h := avro.NewRabin()
	h.Write(s.Canonical())
	canonical := h.Sum64()
	h.Reset()
	h.Write([]byte(s.String()))
	return Fingerprint{Canonical: canonical, Text: h.Sum64()}
}

// Key identifies a compiled Decoder: writer, reader and projection.
type Key struct {
	Writer     Fingerprint
	Reader     Fingerprint
	Projection string // the paths joined by NUL
}

// DefaultCacheSize is the number of decoders a Cache holds when NewCache is
// given a size of 0 or less.
const DefaultCacheSize = 4096

// Cache holds compiled decoders, least recently used evicted first past its
// size. Compile failures are cached too: they depend only on the key. A
// Cache is safe for concurrent use; two goroutines asking for the same key
// at once compile it once.
type Cache struct {
	max     int
	mu      sync.Mutex
	entries map[Key]*list.Element
	lru     list.List // of *cacheEntry, most recent at the front
}

type cacheEntry struct {
	key  Key
	once sync.Once
	dec  *Decoder
	err  error
}

// NewCache returns a cache of at most size decoders (DefaultCacheSize if
// size <= 0).
func NewCache(size int) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &Cache{max: size, entries: map[Key]*list.Element{}}
}

// Len is the number of decoders held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Decoder returns the decoder for the pair and projection, compiling it on
// first use. It fingerprints both schemas; a per-record caller should hold
// a [Resolver] instead.
func (c *Cache) Decoder(writer, reader *avro.Schema, projection []string) (*Decoder, error) {
	if writer == nil || reader == nil {
		return nil, compileErr(ErrSchema, "", "nil schema")
	}
	key := Key{Writer: FingerprintOf(writer), Reader: FingerprintOf(reader), Projection: strings.Join(projection, "\x00")}
	return c.get(key, writer, reader, projection)
}

func (c *Cache) get(key Key, writer, reader *avro.Schema, projection []string) (*Decoder, error) {
	c.mu.Lock()
	el, ok := c.entries[key]
	if ok {
		c.lru.MoveToFront(el)
	} else {
		el = c.lru.PushFront(&cacheEntry{key: key})
		c.entries[key] = el
		if c.lru.Len() > c.max {
			oldest := c.lru.Back()
			c.lru.Remove(oldest)
			delete(c.entries, oldest.Value.(*cacheEntry).key)
		}
	}
	e := el.Value.(*cacheEntry)
	c.mu.Unlock()
	// Compiling outside the lock keeps one slow compile from stalling
	// lookups of other keys; once makes concurrent askers share it.
	e.once.Do(func() { e.dec, e.err = Compile(writer, reader, projection) })
	return e.dec, e.err
}

// Schemas gives writer schemas by the reference a record carries (for
// Sluice, the schema version or registry id of wire.Ref). It is how this
// package reaches the registry without depending on it.
//
// WriterSchema returns an error wrapping ErrUnknownSchema when ref names no
// schema; any other error is taken as transient (the registry could not be
// asked) and is neither cached nor reported as a bad record.
type Schemas[R comparable] interface {
	WriterSchema(ctx context.Context, ref R) (*avro.Schema, error)
}

// maxResolverRefs bounds the writer references a Resolver remembers; past
// it the memo starts over (schemas are few per topic, so this is a guard,
// not a working limit).
const maxResolverRefs = 1024

// Resolver is the per-job view of decoding: one reader schema and
// projection, records from any writer schema. It remembers the decoder per
// writer reference, so the per-record lookup is one map read without
// locking or hashing of schemas. Safe for concurrent use.
type Resolver[R comparable] struct {
	cache      *Cache
	schemas    Schemas[R]
	reader     *avro.Schema
	readerFP   Fingerprint
	projection []string
	projKey    string
	columns    []Column

	mu    sync.Mutex // serialises writers of known
	known atomic.Pointer[map[R]resolved]
}

type resolved struct {
	dec *Decoder
	err error
}

// NewResolver checks the projection against the reader and returns a
// Resolver that gets writer schemas from schemas and decoders from cache.
func NewResolver[R comparable](cache *Cache, schemas Schemas[R], reader *avro.Schema, projection []string) (*Resolver[R], error) {
	if cache == nil || schemas == nil {
		return nil, errors.New("decode: NewResolver needs a cache and schemas")
	}
	cols, err := Columns(reader, projection)
	if err != nil {
		return nil, err
	}
	r := &Resolver[R]{
		cache:      cache,
		schemas:    schemas,
		reader:     reader,
		readerFP:   FingerprintOf(reader),
		projection: append([]string(nil), projection...),
		projKey:    strings.Join(projection, "\x00"),
		columns:    cols,
	}
	empty := map[R]resolved{}
	r.known.Store(&empty)
	return r, nil
}

// Columns describes the rows, known before any record.
func (r *Resolver[R]) Columns() []Column { return r.columns }

// Decoder returns the decoder for records written with the schema ref
// names.
func (r *Resolver[R]) Decoder(ctx context.Context, ref R) (*Decoder, error) {
	if res, ok := (*r.known.Load())[ref]; ok {
		return res.dec, res.err
	}
	return r.slow(ctx, ref)
}

func (r *Resolver[R]) slow(ctx context.Context, ref R) (*Decoder, error) {
	ws, err := r.schemas.WriterSchema(ctx, ref)
	if err == nil && ws == nil {
		err = ErrUnknownSchema
	}
	if err != nil {
		if errors.Is(err, ErrUnknownSchema) {
			return nil, fmt.Errorf("writer schema %v: %w", ref, err)
		}
		return nil, fmt.Errorf("get writer schema %v: %w", ref, err)
	}
	key := Key{Writer: FingerprintOf(ws), Reader: r.readerFP, Projection: r.projKey}
	dec, err := r.cache.get(key, ws, r.reader, r.projection)

	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.known.Load()
	next := make(map[R]resolved, len(old)+1)
	if len(old) < maxResolverRefs {
		for k, v := range old {
			next[k] = v
		}
	}
	next[ref] = resolved{dec: dec, err: err}
	r.known.Store(&next)
	return dec, err
}

// Decode decodes one record written with the schema ref names.
func (r *Resolver[R]) Decode(ctx context.Context, ref R, record []byte, row *Row) error {
	dec, err := r.Decoder(ctx, ref)
	if err != nil {
		return err
	}
	return dec.Decode(record, row)
}

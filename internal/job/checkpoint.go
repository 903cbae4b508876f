package job

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/engine"
	"github.com/sluicehq/sluice/internal/sink"
)

// Checkpoint is where a task stopped, and where the next one resumes.
// A task commits one with every acknowledged batch (to the job's consumer
// group, and to an exactly-once sink with its writes) and returns the last
// from Stop.
type Checkpoint struct {
	// Offsets are, per partition, where to resume: every record before
	// them is delivered, filtered or dead-lettered, and in no open window.
	Offsets map[int32]int64 `json:"offsets"`
	// Next are, per partition, the offsets after the last record taken:
	// the exact stop offsets. They differ from Offsets only for an
	// aggregation, by the records held in open windows; absent, they are
	// Offsets.
	Next map[int32]int64 `json:"next,omitempty"`
	// Frontier is an aggregation's emission frontier, and Query the
	// fingerprint of the query it is of: a task running another query
	// cannot use its group counts.
	Frontier *engine.Frontier `json:"frontier,omitempty"`
	Query    string           `json:"query,omitempty"`
	// Sink fingerprints the sink of the task that committed it to the
	// group (SinkID): an exactly-once sink is the truth about its own
	// offsets, which its task's group commits may run ahead of (a sink
	// that acknowledges records before they are durable, the storage
	// sink).
	Sink string `json:"sink,omitempty"`
}

// next returns the stop offset of p.
func (c Checkpoint) next(p int32) int64 {
	if n, ok := c.Next[p]; ok {
		return n
	}
	return c.Offsets[p]
}

// Stops returns the exact stop offsets of every partition.
func (c Checkpoint) Stops() map[int32]int64 {
	out := make(map[int32]int64, len(c.Offsets))
	for p := range c.Offsets {
		out[p] = c.next(p)
	}
	return out
}

// resumeAt is where a task of an aggregation (agg) or of a filter/project
// query consumes from: an aggregation re-reads its open windows' records;
// a filter/project query has nothing to rebuild and starts at the stop
// offsets.
func (c Checkpoint) resumeAt(agg bool) map[int32]int64 {
	if agg {
		return maps.Clone(c.Offsets)
	}
	return c.Stops()
}

// atLeast reports whether c is as far as o on every partition of o: of two
// checkpoints of one task's life, the later.
func (c Checkpoint) atLeast(o Checkpoint) bool {
	for p, off := range o.Offsets {
		mine, ok := c.Offsets[p]
		if !ok || mine < off || c.next(p) < o.next(p) {
			return false
		}
	}
	if c.Frontier != nil && o.Frontier != nil && c.Query == o.Query {
		cf, of := c.Frontier, o.Frontier
		return cf.Done > of.Done || cf.Done == of.Done && cf.Emitted >= of.Emitted
	}
	return true
}

// QueryID fingerprints a query's text, for Checkpoint.Query.
func QueryID(sql string) string {
	h := sha256.Sum256([]byte(strings.TrimSpace(sql)))
	return hex.EncodeToString(h[:8])
}

// SinkID fingerprints a sink spec (its type and settings), for
// Checkpoint.Sink.
func SinkID(s sink.Spec) string {
	b, _ := json.Marshal(s) // settings are a map: its keys come sorted
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// metaPrefix marks the offset metadata Sluice writes (version 1).
const metaPrefix = "sluice1:"

// partMeta is one partition's share of a checkpoint, as the metadata of
// its committed offset: Kafka keeps metadata per partition (up to
// offset.metadata.max.bytes, 4 KiB by default); this is under 200 bytes.
type partMeta struct {
	Next    int64  `json:"n"`
	Query   string `json:"q,omitempty"`
	W       *int64 `json:"w,omitempty"`
	Done    int64  `json:"d,omitempty"`
	Emitted int    `json:"e,omitempty"`
	Max     *int64 `json:"m,omitempty"`
	Sink    string `json:"k,omitempty"`
}

// Meta is the checkpoint as offset metadata, per partition; nil when
// there is nothing beyond the offsets (a filter/project query).
func (c Checkpoint) Meta() map[int32]string {
	if c.Frontier == nil && len(c.Next) == 0 && c.Sink == "" {
		return nil
	}
	out := make(map[int32]string, len(c.Offsets))
	for p := range c.Offsets {
		m := partMeta{Next: c.next(p), Query: c.Query, Sink: c.Sink}
		if f := c.Frontier; f != nil {
			w := f.Watermark
			m.W, m.Done, m.Emitted = &w, f.Done, f.Emitted
			if mx, ok := f.Max[p]; ok {
				m.Max = &mx
			}
		}
		b, _ := json.Marshal(m)
		out[p] = metaPrefix + string(b)
	}
	return out
}

// checkpointOf reads a checkpoint back from committed offsets and their
// metadata. Metadata Sluice did not write, or cannot read, counts as none:
// the offsets alone are a checkpoint of a filter/project query.
func checkpointOf(offsets map[int32]int64, meta map[int32]string) Checkpoint {
	c := Checkpoint{Offsets: offsets}
	for _, p := range slices.Sorted(maps.Keys(offsets)) {
		text, ok := strings.CutPrefix(meta[p], metaPrefix)
		if !ok {
			continue
		}
		var m partMeta
		if json.Unmarshal([]byte(text), &m) != nil || m.Next < offsets[p] {
			continue
		}
		if m.Sink != "" {
			c.Sink = m.Sink
		}
		if m.Next != offsets[p] {
			if c.Next == nil {
				c.Next = map[int32]int64{}
			}
			c.Next[p] = m.Next
		}
		if m.W == nil {
			continue
		}
		if c.Frontier == nil {
			c.Frontier = &engine.Frontier{Watermark: *m.W, Done: m.Done, Emitted: m.Emitted, Max: map[int32]int64{}}
			c.Query = m.Query
		}
		if m.Max != nil {
			c.Frontier.Max[p] = *m.Max
		}
	}
	return c
}

// restoreFor is the frontier a task running query (a QueryID) restores
// from c: c's own when c is of the same query; for another query, the
// windows up to c's watermark count as done (the old query emitted the
// data up to there) and its group counts are dropped.
func (c Checkpoint) restoreFor(query string) (engine.Frontier, bool) {
	if c.Frontier == nil {
		return engine.Frontier{}, false
	}
	f := *c.Frontier
	if c.Query != query {
		f.Done, f.Emitted = max(f.Done, f.Watermark), 0
	}
	return f, true
}

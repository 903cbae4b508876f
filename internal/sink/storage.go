package sink

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"mime"
	"slices"
	"strconv"
	"sync"
	"time"
)

func init() {
	RegisterType(Type{Name: "storage", Open: openStorage, Validate: validateStorage, Probe: probeStorage, ExactlyOnce: true})
	RegisterSecrets("storage", "secretAccessKey", "sessionToken")
}

// storageChunk is the size of the blocks buffered records are copied
// into (a larger record gets a block of its own).
const storageChunk = 1 << 20

// storageCloseTimeout bounds what Close spends writing the open rolls
// when its context has no deadline.
const storageCloseTimeout = 2 * time.Minute

// storageMaxStates bounds the state objects read for one job.
const storageMaxStates = 1 << 16

// storageSink is the "storage" sink: it buffers records in rolls, one per
// source partition (and one for aggregation results), and writes each
// roll as objects of an object store (one per directory the path template
// gives its records) when it reaches maxRecords or maxAge, when the
// buffered records reach maxBytes, and at Close.
//
// Write acknowledges records once buffered, not once written: the sink is
// an OffsetStore, and the offsets it stores move only when a roll is
// written, so the runtime resumes from what is in the bucket. Each roll is
// decided (its last offset and write time) and that decision written to
// the bucket before its objects, whose names derive from the job, the
// partition and the roll's offsets: a roll interrupted by a crash is
// written again, after the restart, with the same cut to the same names.
// See docs/sinks.md for the whole protocol.
type storageSink struct {
	cfg    *storageConfig
	bucket *storageBucket
	enc    *storageEncoder
	times  *storageTimeReader // nil without timeColumn
	log    *slog.Logger
	vars   storagePathEnv
	job    string
	task   string
	now    func() time.Time

	// opened is the context the sink was opened with: the job's. When it
	// ends (the job stopped abruptly) the sink writes nothing more, so
	// that it cannot write beside the job's next task. closing ends with
	// it and at Close: it ends the age loop's writes.
	opened  context.Context
	closing context.Context
	cancel  context.CancelFunc
	bgDone  chan struct{}

	mu       sync.Mutex
	closed   bool
	rolls    map[int32]*storageRoll // by source partition; -1: aggregation results
	buffered int64                  // bytes of records in every roll
	offsets  map[int32]int64        // of the last batch of aggregation results
	meta     map[int32]string       // and its Meta
	lastType string                 // the last content type checked
	retryAt  time.Time              // the age loop's next attempt after a failure
	backoff  time.Duration
}

var (
	_ Sink        = (*storageSink)(nil)
	_ OffsetStore = (*storageSink)(nil)
)

// storageRoll is the open roll of one source partition (part -1: of
// aggregation results) and what the bucket holds for it.
type storageRoll struct {
	part int32
	// next is the committed offset (-1: none yet), start where the open
	// roll begins (next, or before a first commit the first record's
	// offset; -1 unknown), seen the latest offset the runtime gave for the
	// partition, last the offset of the last record taken.
	next, start, seen, last int64
	updated                 time.Time // of the state in the bucket

	// Aggregation results: the committed offsets, the rolls committed,
	// and the batch last taken (a retried batch is not taken twice).
	offsets   map[int32]int64
	meta      map[int32]string
	rolls     int64
	lastBatch string

	recs   []storageRec
	bytes  int64
	chunk  []byte
	opened time.Time // when the roll got its first record or offset; zero when empty

	// cut is the roll being written, once decided: after a crash (read
	// back from the bucket) or a failed write, the next attempt writes
	// the same cut. cutWritten says the bucket has it.
	cut        *storageIntent
	cutWritten bool
}

func validateStorage(spec Spec, env Env) error {
	_, err := parseStorage(spec, env)
	return err
}

// probeStorage checks a dry run's spec: the settings, and for a network
// store that the sink can write and delete an object (under _sluice/).
func probeStorage(ctx context.Context, spec Spec, env Env) error {
	c, err := parseStorage(spec, env)
	if err != nil || c.scheme == "file" {
		return err
	}
	b, err := openStorageBucket(ctx, c, env)
	if err != nil {
		return err
	}
	defer b.close()
	var id [8]byte
	_, _ = rand.Read(id[:])
	key := storageStateDir + "probe-" + hex.EncodeToString(id[:])
	if err := b.put(ctx, key, []byte("{}\n"), "application/json"); err != nil {
		return storageError(c, "write a probe object", err)
	}
	if err := b.remove(ctx, key); err != nil {
		return storageError(c, "delete the probe object", err)
	}
	return nil
}

func openStorage(ctx context.Context, spec Spec, env Env) (Sink, error) {
	c, err := parseStorage(spec, env)
	if err != nil {
		return nil, err
	}
	if env.Job == "" {
		return nil, Permanent(errors.New("storage sink: no job: the sink names its objects and keeps its offsets by the job it is opened for"))
	}
	times, err := newStorageTimeReader(c)
	if err != nil {
		return nil, &ConfigError{Type: "storage", Field: "timeColumn", Message: err.Error()}
	}
	b, err := openStorageBucket(ctx, c, env)
	if err != nil {
		return nil, err
	}
	task := env.Task
	if task == "" {
		task = "all"
	}
	s := &storageSink{
		cfg: c, bucket: b, enc: newStorageEncoder(c), times: times, log: env.logger(),
		vars: storagePathEnv{tenant: env.Tenant, job: env.Job}, job: storageJobKey(env), task: task,
		now: time.Now, rolls: map[int32]*storageRoll{}, bgDone: make(chan struct{}),
	}
	if err := s.load(ctx); err != nil {
		b.close()
		return nil, err
	}
	s.opened = ctx
	s.closing, s.cancel = context.WithCancel(ctx)
	go s.ageLoop()
	s.log.Debug("storage sink opened", "url", c.rawURL, "format", c.format, "compression", c.compression, "job", s.job)
	return s, nil
}

// storageError names what failed; errors a retry cannot fix (no such
// bucket, access denied, a destination refused) are permanent.
func storageError(c *storageConfig, what string, err error) error {
	out := fmt.Errorf("storage sink: %s (%s): %w", what, c.rawURL, err)
	if IsPermanent(err) || storagePermanent(err) {
		return Permanent(out)
	}
	return out
}

func (s *storageSink) roll(part int32) *storageRoll {
	r := s.rolls[part]
	if r == nil {
		r = &storageRoll{part: part, next: -1, start: -1, seen: -1, last: -1}
		s.rolls[part] = r
	}
	return r
}

// load reads the job's state from the bucket. A partition whose last roll
// was decided and not committed gets that cut back, to write it again;
// the task's aggregation results are resolved at once (see resolveAgg).
func (s *storageSink) load(ctx context.Context) error {
	keys, err := s.bucket.list(ctx, storageStateDir+storageName(s.job)+"/", storageMaxStates)
	if err != nil {
		return storageError(s.cfg, "list the job's state", err)
	}
	for _, key := range keys {
		part, ok := parseStorageStateKey(key, s.job, s.task)
		if !ok {
			continue
		}
		data, found, err := s.bucket.get(ctx, key)
		if err != nil {
			return storageError(s.cfg, "read "+key, err)
		}
		if !found {
			continue
		}
		st, err := decodeStorageState(data, key)
		if err != nil {
			return Permanent(fmt.Errorf("storage sink: %w", err))
		}
		r := s.roll(part)
		r.updated = st.Updated
		if part < 0 {
			r.offsets, r.meta, r.rolls = st.Offsets, st.Meta, st.Rolls
			if st.Intent != nil {
				if err := s.resolveAgg(ctx, r, st.Intent); err != nil {
					return err
				}
			}
			continue
		}
		if st.Next != nil {
			r.next, r.start = *st.Next, *st.Next
		}
		if st.Intent != nil {
			r.cut, r.cutWritten, r.start = st.Intent, true, st.Intent.From
		}
	}
	return nil
}

// resolveAgg settles a roll of aggregation results that a crash
// interrupted. Its results cannot be computed again exactly (windows are
// emitted as the watermark moves), so: if every object it named is there,
// the roll is committed; otherwise the objects that are there are deleted
// and the roll forgotten, and the job recomputes it from the offsets
// before it.
func (s *storageSink) resolveAgg(ctx context.Context, r *storageRoll, in *storageIntent) error {
	all := true
	for _, k := range in.Objects {
		ok, err := s.bucket.exists(ctx, k)
		if err != nil {
			return storageError(s.cfg, "look for "+k, err)
		}
		all = all && ok
	}
	if all {
		r.offsets, r.meta, r.rolls = in.ToOffsets, in.ToMeta, r.rolls+1
		s.log.Info("storage sink: committed the aggregation roll a crash interrupted", "job", s.job, "objects", len(in.Objects))
	} else {
		for _, k := range in.Objects {
			if err := s.bucket.remove(ctx, k); err != nil {
				return storageError(s.cfg, "delete "+k, err)
			}
		}
		r.offsets, r.meta = in.FromOffsets, in.FromMeta
		s.log.Info("storage sink: removed the aggregation roll a crash interrupted; the job computes it again", "job", s.job, "objects", len(in.Objects))
	}
	return s.saveState(ctx, r, nil)
}

// saveState writes r's state, with the intent in (nil: committed).
func (s *storageSink) saveState(ctx context.Context, r *storageRoll, in *storageIntent) error {
	now := s.now().UTC()
	st := storageState{Version: storageStateVersion, Job: s.job, Updated: now, Intent: in}
	if r.part >= 0 {
		p := r.part
		st.Partition = &p
		if r.next >= 0 {
			n := r.next
			st.Next = &n
		}
	} else {
		st.Task, st.Offsets, st.Meta, st.Rolls = s.task, r.offsets, r.meta, r.rolls
	}
	data, err := json.Marshal(&st)
	if err != nil {
		return err
	}
	key := storageStateKey(s.job, s.task, r.part)
	if err := s.bucket.put(ctx, key, append(data, '\n'), "application/json"); err != nil {
		return storageError(s.cfg, "write "+key, err)
	}
	r.updated = now
	return nil
}

// StoredOffsets returns, per partition, the offset after the last
// committed roll; for a partition whose roll a crash interrupted, the
// roll's first offset, so that the runtime reads it again. For an
// aggregation, the job's offsets stored with its last committed roll.
func (s *storageSink) StoredOffsets(context.Context) (map[int32]int64, map[int32]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, fmt.Errorf("storage sink: %w", ErrClosed)
	}
	var meta map[int32]string
	out := map[int32]int64{}
	when := map[int32]time.Time{}
	for p, r := range s.rolls {
		if p < 0 {
			continue
		}
		switch {
		case r.cut != nil:
			out[p] = r.cut.From
		case r.next >= 0:
			out[p] = r.next
		default:
			continue
		}
		when[p] = r.updated
	}
	// An aggregation's offsets, unless a partition's state is newer (the
	// query changed from an aggregation).
	if agg := s.rolls[-1]; agg != nil {
		for p, off := range agg.offsets {
			if t, ok := when[p]; !ok || agg.updated.After(t) {
				out[p] = off
				if m, ok := agg.meta[p]; ok {
					if meta == nil {
						meta = map[int32]string{}
					}
					meta[p] = m
				}
			}
		}
	}
	return out, meta, nil
}

// Write takes the batch's records into the rolls of their partitions and
// writes the rolls that are due. It returns once the records are taken:
// durable or not, they are covered by StoredOffsets only once written.
func (s *storageSink) Write(ctx context.Context, b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("storage sink: %w", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.checkType(b.ContentType); err != nil {
		return err
	}
	now := s.now()
	agg := len(b.Records) > 0
	for i := range b.Records {
		if b.Records[i].Partition >= 0 {
			agg = false
			break
		}
	}
	if agg {
		r := s.roll(-1)
		if b.ID == "" || b.ID != r.lastBatch {
			for i := range b.Records {
				s.add(r, -1, b.Records[i].Value, now)
			}
			r.lastBatch = b.ID
		}
		s.offsets, s.meta = maps.Clone(b.Offsets), maps.Clone(b.Meta)
	} else {
		for i := range b.Records {
			rec := &b.Records[i]
			if rec.Partition < 0 {
				return Permanent(fmt.Errorf("storage sink: batch %s mixes aggregation results with records of partitions", b.ID))
			}
			r := s.roll(rec.Partition)
			if rec.Offset < r.next || rec.Offset <= r.last {
				continue // taken already: a retried batch
			}
			s.add(r, rec.Offset, rec.Value, now)
		}
		for p, off := range b.Offsets {
			r := s.roll(p)
			if off > r.seen {
				r.seen = off
				if r.opened.IsZero() && off > r.next {
					r.opened = now
				}
			}
		}
	}
	return s.flushDue(ctx, now, false)
}

// checkType refuses records of a content type the file format is not
// written from.
func (s *storageSink) checkType(ct string) error {
	if ct == s.lastType || s.cfg.contentType == "" {
		return nil
	}
	mt, params, _ := mime.ParseMediaType(ct)
	if mt != s.cfg.contentType || params["header"] == "present" {
		return Permanent(fmt.Errorf("storage sink: records are %q, but %s files are written from %s records (one per row)", ct, s.cfg.format, s.cfg.contentType))
	}
	s.lastType = ct
	return nil
}

// add copies one record into r.
func (s *storageSink) add(r *storageRoll, off int64, v []byte, now time.Time) {
	if len(r.chunk)+len(v) > cap(r.chunk) {
		r.chunk = make([]byte, 0, max(min(storageChunk, int(s.cfg.maxBytes)), len(v)))
	}
	start := len(r.chunk)
	r.chunk = append(r.chunk, v...)
	r.recs = append(r.recs, storageRec{off: off, val: r.chunk[start:len(r.chunk):len(r.chunk)]})
	r.bytes += int64(len(v))
	s.buffered += int64(len(v))
	if off >= 0 {
		r.last = off
		if r.start < 0 {
			r.start = off
		}
	}
	if r.opened.IsZero() {
		r.opened = now
	}
}

// flushDue writes the rolls that are due: decided cuts, rolls of
// maxRecords, rolls older than maxAge (all of them with all set), and
// the largest rolls while the sink holds maxBytes or more.
func (s *storageSink) flushDue(ctx context.Context, now time.Time, all bool) error {
	for _, p := range slices.Sorted(maps.Keys(s.rolls)) {
		r := s.rolls[p]
		for range len(r.recs) + 1 {
			n, ok := s.due(r, now, all)
			if !ok {
				break
			}
			if err := s.flush(ctx, r, n, now); err != nil {
				return err
			}
		}
	}
	for s.buffered >= s.cfg.maxBytes {
		var big *storageRoll
		for _, r := range s.rolls {
			if len(r.recs) > 0 && r.cut == nil && (big == nil || r.bytes > big.bytes) {
				big = r
			}
		}
		if big == nil {
			break // only rolls that must end where a crash cut them
		}
		n := len(big.recs)
		if big.part >= 0 {
			var size int64
			for i, rec := range big.recs {
				if i > 0 && size+int64(len(rec.val)) > s.cfg.maxBytes {
					n = i
					break
				}
				size += int64(len(rec.val))
			}
		}
		if err := s.flush(ctx, big, n, now); err != nil {
			return err
		}
	}
	return nil
}

// due says whether r has a roll to write now, and how many of its records
// the roll takes.
func (s *storageSink) due(r *storageRoll, now time.Time, all bool) (int, bool) {
	if r.cut != nil {
		if r.part < 0 {
			return r.cut.Records, true
		}
		if r.seen < r.cut.To {
			return 0, false // the records up to the cut are still to come
		}
		n, _ := slices.BinarySearchFunc(r.recs, r.cut.To, func(rec storageRec, to int64) int {
			return cmpInt64(rec.off, to)
		})
		return n, true
	}
	if len(r.recs) >= s.cfg.maxRecords {
		if r.part < 0 {
			// Aggregation results end a roll at a batch: the offsets
			// stored with the roll are those of its last batch.
			return len(r.recs), true
		}
		return s.cfg.maxRecords, true
	}
	if r.opened.IsZero() || !all && now.Sub(r.opened) < s.cfg.maxAge {
		return 0, false
	}
	if len(r.recs) > 0 {
		return len(r.recs), true
	}
	// No records, but offsets that moved (records filtered out): store
	// them, so that a restart does not read them again.
	if r.part >= 0 && r.seen > r.next {
		return 0, true
	}
	r.opened = time.Time{}
	return 0, false
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// storageObject is one object of a roll: its key and records.
type storageObject struct {
	key  string
	recs []storageRec
}

// flush writes the first n records of r as one roll: the decision (the
// intent), the objects, the removal of objects an earlier attempt at the
// same roll wrote and this one does not, then the commit.
func (s *storageSink) flush(ctx context.Context, r *storageRoll, n int, now time.Time) error {
	if n == 0 && r.part >= 0 && r.cut == nil {
		next := r.next
		r.next = r.seen
		if err := s.saveState(ctx, r, nil); err != nil {
			r.next = next
			return err
		}
		r.start, r.opened = r.seen, time.Time{}
		return nil
	}
	if r.cut == nil {
		in := &storageIntent{From: r.start, Time: now.UTC()}
		if r.part >= 0 {
			in.To = r.seen
			if n < len(r.recs) {
				in.To = r.recs[n].off
			}
			if in.From < 0 {
				in.From = r.recs[0].off
			}
		} else {
			in.FromOffsets, in.ToOffsets, in.Records = r.offsets, s.offsets, n
			in.FromMeta, in.ToMeta = r.meta, s.meta
		}
		r.cut, r.cutWritten = in, false
	}
	in := r.cut
	objs, err := s.objects(r, r.recs[:n], in.Time)
	if err != nil {
		return Permanent(fmt.Errorf("storage sink: %w", err))
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.key
	}
	slices.Sort(keys)
	var stale []string
	for _, k := range in.Objects {
		if _, found := slices.BinarySearch(keys, k); !found {
			stale = append(stale, k)
		}
	}
	// The intent names every object this roll may have written, by any
	// attempt, until the commit.
	union := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(keys), in.Objects...))))
	if !r.cutWritten || !slices.Equal(union, in.Objects) {
		in.Objects = union
		if err := s.saveState(ctx, r, in); err != nil {
			return err
		}
		r.cutWritten = true
	}
	for _, o := range objs {
		data, err := s.enc.encode(o.recs, o.key)
		if err != nil {
			return Permanent(fmt.Errorf("storage sink: %s: %w", o.key, err))
		}
		if err := s.bucket.put(ctx, o.key, data, s.cfg.objectType()); err != nil {
			return storageError(s.cfg, "write "+o.key, err)
		}
	}
	for _, k := range stale {
		if err := s.bucket.remove(ctx, k); err != nil {
			return storageError(s.cfg, "delete "+k, err)
		}
	}
	prevNext, prevOffsets, prevMeta, prevRolls := r.next, r.offsets, r.meta, r.rolls
	if r.part >= 0 {
		r.next = in.To
	} else {
		r.offsets, r.meta, r.rolls = in.ToOffsets, in.ToMeta, r.rolls+1
	}
	if err := s.saveState(ctx, r, nil); err != nil {
		r.next, r.offsets, r.meta, r.rolls = prevNext, prevOffsets, prevMeta, prevRolls
		return err
	}
	s.log.Debug("storage sink: roll written", "job", s.job, "partition", r.part, "records", n, "objects", len(objs), "next", r.next)
	r.cut, r.cutWritten = nil, false
	if r.part >= 0 {
		r.start = in.To
	}
	s.drop(r, n, now)
	return nil
}

// drop removes the first n records of r, copying the rest to new chunks
// so that the old ones can go.
func (s *storageSink) drop(r *storageRoll, n int, now time.Time) {
	rest := r.recs[n:]
	for _, rec := range r.recs[:n] {
		s.buffered -= int64(len(rec.val))
	}
	r.recs, r.chunk, r.bytes, r.opened = nil, nil, 0, time.Time{}
	for _, rec := range rest {
		s.buffered -= int64(len(rec.val))
		s.add(r, rec.off, rec.val, now)
	}
}

// objects groups a roll's records by the directory the path template
// gives them, in order, and names the objects.
func (s *storageSink) objects(r *storageRoll, recs []storageRec, rollTime time.Time) ([]storageObject, error) {
	if len(recs) == 0 {
		return nil, nil // a cut whose records were all filtered out this time
	}
	var name string
	if r.part >= 0 {
		name = storageName(s.job) + "-p" + strconv.Itoa(int(r.part)) + "-" +
			strconv.FormatInt(recs[0].off, 10) + "-" + strconv.FormatInt(recs[len(recs)-1].off, 10) + s.cfg.ext()
	} else {
		name = storageName(s.job) + "-agg-" + storageName(s.task) + "-" + strconv.FormatInt(r.rolls, 10) + s.cfg.ext()
	}
	path := &s.cfg.path
	if path.grain == grainNone {
		return []storageObject{{key: string(path.dir(nil, &s.vars, r.part, rollTime)) + name, recs: recs}}, nil
	}
	var objs []storageObject
	index := map[int64]int{}
	for _, rec := range recs {
		t := rollTime
		if s.times != nil {
			et, ok, err := s.times.time(rec.val)
			if err != nil {
				return nil, fmt.Errorf("record at offset %d: %w", rec.off, err)
			}
			if ok {
				t = et
			}
		}
		g := path.group(t)
		i, ok := index[g]
		if !ok {
			i = len(objs)
			index[g] = i
			objs = append(objs, storageObject{key: string(path.dir(nil, &s.vars, r.part, t)) + name})
		}
		objs[i].recs = append(objs[i].recs, rec)
	}
	return objs, nil
}

// ageLoop writes the rolls that reach maxAge while no batch comes.
func (s *storageSink) ageLoop() {
	defer close(s.bgDone)
	period := min(max(s.cfg.maxAge/4, 10*time.Millisecond), time.Second)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-s.closing.Done():
			return
		case <-tick.C:
		}
		s.mu.Lock()
		now := s.now()
		if s.closed {
			s.mu.Unlock()
			return
		}
		if now.Before(s.retryAt) {
			s.mu.Unlock()
			continue
		}
		if err := s.flushDue(s.closing, now, false); err != nil {
			s.backoff = min(max(2*s.backoff, time.Second), time.Minute)
			s.retryAt = now.Add(s.backoff)
			if s.closing.Err() == nil {
				s.log.Warn("storage sink: writing a roll failed; retrying", "job", s.job, "err", err, "retry_in", s.backoff)
			}
		} else {
			s.backoff, s.retryAt = 0, time.Time{}
		}
		s.mu.Unlock()
	}
}

// Close writes the open rolls (within ctx, or storageCloseTimeout when
// ctx has no deadline) and releases the bucket. Rolls it cannot write are
// not lost: their records are read again after a restart. After an abrupt
// stop — the context the sink was opened with has ended — it writes
// nothing: the job's next task may be running already, and it reads the
// open rolls' records again. Writing stops too when that context ends
// during Close. A roll that must end where a crash cut it, and whose
// records have not all come, is left to the next run.
func (s *storageSink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	abrupt := s.opened.Err() != nil
	s.cancel()
	<-s.bgDone

	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if abrupt {
		s.log.Debug("storage sink: closed after the job stopped abruptly; the open rolls are read again at the restart", "job", s.job)
	} else {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, storageCloseTimeout)
			defer cancel()
		}
		ctx, stop := context.WithCancel(ctx)
		defer stop()
		defer context.AfterFunc(s.opened, stop)()
		err = s.flushDue(ctx, s.now(), true)
	}
	if cerr := s.bucket.close(); err == nil && cerr != nil {
		err = fmt.Errorf("storage sink: close: %w", cerr)
	}
	s.rolls, s.buffered = nil, 0
	return err
}

// storageJobKey is what names a job's objects and state: the job, and a
// hash of its source, so that a job whose topic moved writes objects of
// their own (offsets on the new topic start again at 0) and resumes from
// nothing the old topic's rolls stored.
func storageJobKey(env Env) string {
	if env.Source == "" {
		return env.Job
	}
	h := sha256.Sum256([]byte(env.Source))
	return env.Job + "-" + hex.EncodeToString(h[:4])
}

package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// List limits and the default subscription buffer.
const (
	// DefaultLimit is how many events List returns when Filter.Limit is 0.
	DefaultLimit = 100
	// MaxLimit caps Filter.Limit.
	MaxLimit = 1000
	// DefaultBuffer is a subscription's buffer when Subscribe is given 0.
	DefaultBuffer = 64
)

const (
	// appendLockKey is the PostgreSQL advisory lock every append holds from
	// drawing its id to commit ("sluice" in ASCII, then 1).
	appendLockKey int64 = 0x736c756963650001
	// pruneBatch bounds the rows one Prune statement deletes, so a large
	// backlog does not hold SQLite's single write lock, and with it every
	// Append, for long.
	pruneBatch = 5000
)

// ErrInvalidEvent is returned by Append and AppendTx for an event missing a
// required field.
var ErrInvalidEvent = errors.New("invalid event")

// Event is one thing a component observed or did.
type Event struct {
	// ID is assigned by the store when the event is appended; see the
	// package documentation for its ordering guarantees.
	ID int64 `json:"id"`
	// Time is when it happened, in UTC, exact to the microsecond. Append
	// sets it to the current time when zero.
	Time time.Time `json:"time"`
	// Kind is a dotted name, such as "topic.missing",
	// "topic.partitions_adopted" or "cluster.unreachable". Required.
	Kind    string `json:"kind"`
	Cluster string `json:"cluster,omitempty"`
	Tenant  string `json:"tenant,omitempty"`
	Topic   string `json:"topic,omitempty"`
	// Message is one human sentence. Required.
	Message string `json:"message"`
	// Details holds machine-readable specifics (old and new partition
	// counts, say). An empty map is stored, and comes back, as nil.
	Details map[string]string `json:"details,omitempty"`
}

// Filter selects events for List. Zero fields do not filter.
type Filter struct {
	Kind    string
	Cluster string
	Tenant  string
	// Since keeps events whose Time is at or after it.
	Since time.Time
	// AfterID keeps events whose ID is greater: the last ID of the previous
	// page.
	AfterID int64
	// Limit is the most events returned: DefaultLimit when 0 or less, and
	// at most MaxLimit (larger values are lowered to it).
	Limit int
}

// Option configures a Log.
type Option func(*Log)

// WithClock makes the Log read the current time from now, overriding
// time.Now. For tests; now is called from concurrent appends.
func WithClock(now func() time.Time) Option {
	return func(l *Log) { l.now = now }
}

// Log appends, lists and publishes events. It is safe for concurrent use.
// Create one per process and share it: subscribers only see events appended
// through the Log they subscribed to.
type Log struct {
	store *store.Store
	now   func() time.Time

	// appendSem serialises Append from insert to publish, so its events are
	// delivered in id order. The database serialises appends anyway (see
	// the package documentation), so this costs no concurrency. A channel
	// rather than a mutex lets a waiter give up when its ctx ends.
	appendSem chan struct{}

	mu      sync.Mutex // guards subs, and orders sends against close
	subs    map[chan Event]struct{}
	dropped atomic.Int64
}

// NewLog returns a Log storing events in s.
func NewLog(s *store.Store, opts ...Option) *Log {
	l := &Log{
		store:     s,
		now:       time.Now,
		appendSem: make(chan struct{}, 1),
		subs:      make(map[chan Event]struct{}),
	}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Append stores e and, once committed, publishes it to subscribers. It
// returns e as stored: ID assigned, Time defaulted to now, in UTC and
// truncated to the microsecond. e.ID is ignored. Inside a transaction use
// AppendTx instead: on SQLite, Append would wait for the lock that
// transaction holds.
func (l *Log) Append(ctx context.Context, e Event) (Event, error) {
	e, err := l.prepare(e)
	if err != nil {
		return Event{}, err
	}
	select {
	case l.appendSem <- struct{}{}:
	case <-ctx.Done():
		return Event{}, fmt.Errorf("append event %s: %w", e.Kind, ctx.Err())
	}
	defer func() { <-l.appendSem }()
	// A transaction even for one INSERT: on PostgreSQL the append lock is
	// transaction-scoped and must be held until commit.
	err = l.store.InTx(ctx, func(tx *store.Tx) error {
		id, err := insert(ctx, tx, e)
		e.ID = id
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("append event %s: %w", e.Kind, err)
	}
	l.publish(e)
	return e, nil
}

// AppendTx stores e through tx, so the event commits or rolls back with the
// caller's changes. It returns e as stored (see Append) and publish, which
// delivers the event to subscribers: call it once tx has committed, and
// never after a rollback. Calling publish more than once delivers once.
//
// On PostgreSQL, AppendTx takes the append lock, which every other append
// waits for until tx ends: append last in the transaction.
func (l *Log) AppendTx(ctx context.Context, tx *store.Tx, e Event) (stored Event, publish func(), err error) {
	e, err = l.prepare(e)
	if err != nil {
		return Event{}, nil, err
	}
	e.ID, err = insert(ctx, tx, e)
	if err != nil {
		return Event{}, nil, fmt.Errorf("append event %s: %w", e.Kind, err)
	}
	// The caller owns the returned event; subscribers get their own copy.
	pending := e
	pending.Details = maps.Clone(e.Details)
	var once sync.Once
	return e, func() { once.Do(func() { l.publish(pending) }) }, nil
}

// prepare checks e and normalises it as it will be stored.
func (l *Log) prepare(e Event) (Event, error) {
	if e.Kind == "" {
		return Event{}, fmt.Errorf("append event: %w: kind is required", ErrInvalidEvent)
	}
	if e.Message == "" {
		return Event{}, fmt.Errorf("append event %s: %w: message is required", e.Kind, ErrInvalidEvent)
	}
	e.ID = 0
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	// Both engines keep microseconds; returning the truncated time makes
	// the appended event equal to the one List reads back.
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if len(e.Details) == 0 {
		e.Details = nil
	} else {
		// The caller may reuse its map after Append returns.
		e.Details = maps.Clone(e.Details)
	}
	return e, nil
}

// insert writes e and returns its id, taking the append lock first on
// PostgreSQL (see the package documentation).
func insert(ctx context.Context, tx *store.Tx, e Event) (int64, error) {
	if tx.Dialect() == store.Postgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, appendLockKey); err != nil {
			return 0, fmt.Errorf("take append lock: %w", err)
		}
	}
	var details any // NULL without details
	if e.Details != nil {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return 0, fmt.Errorf("encode details: %w", err)
		}
		details = string(b)
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO events (occurred_at, kind, cluster, tenant, topic, message, details)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.Time, e.Kind, e.Cluster, e.Tenant, e.Topic, e.Message, details).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert: %w", err)
	}
	return id, nil
}

// List returns the events f selects in id order (append order). A page shorter
// than the limit is the last one for now; pass the last ID as f.AfterID for
// the next page. The result is never nil.
func (l *Log) List(ctx context.Context, f Filter) ([]Event, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	where := []string{"id > ?"}
	args := []any{max(f.AfterID, 0)}
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, f.Kind)
	}
	if f.Cluster != "" {
		where = append(where, "cluster = ?")
		args = append(args, f.Cluster)
	}
	if f.Tenant != "" {
		where = append(where, "tenant = ?")
		args = append(args, f.Tenant)
	}
	if !f.Since.IsZero() {
		where = append(where, "occurred_at >= ?")
		args = append(args, f.Since.UTC())
	}
	args = append(args, limit)
	rows, err := l.store.Query(ctx, `SELECT id, occurred_at, kind, cluster, tenant, topic, message, details
		FROM events WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	events := make([]Event, 0, min(limit, DefaultLimit))
	for rows.Next() {
		var e Event
		var details sql.NullString
		if err := rows.Scan(&e.ID, &e.Time, &e.Kind, &e.Cluster, &e.Tenant, &e.Topic, &e.Message, &details); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		if details.Valid {
			if err := json.Unmarshal([]byte(details.String), &e.Details); err != nil {
				return nil, fmt.Errorf("list events: details of event %d: %w", e.ID, err)
			}
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return events, nil
}

// Prune deletes the events whose Time is before olderThan and returns how
// many it deleted. It deletes in batches, each its own statement, so
// appends are never held up for long; if it fails part way, the count says
// what was deleted before the error.
func (l *Log) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	var total int64
	for {
		res, err := l.store.Exec(ctx, `DELETE FROM events WHERE id IN
			(SELECT id FROM events WHERE occurred_at < ? LIMIT ?)`, olderThan.UTC(), pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune events before %s: %w", olderThan.UTC().Format(time.RFC3339Nano), err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune events before %s: %w", olderThan.UTC().Format(time.RFC3339Nano), err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

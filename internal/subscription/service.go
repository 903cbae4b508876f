package subscription

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/job"
	"github.com/sluicehq/sluice/internal/schema"
	"github.com/sluicehq/sluice/internal/sink"
	sluicesql "github.com/sluicehq/sluice/internal/sql"
	"github.com/sluicehq/sluice/internal/store"
)

// Defaults of Config's limits.
const (
	DefaultMaxSQLBytes       = 16 << 10
	DefaultMaxPerApplication = 1000
	maxLabels                = 32
	maxListLimit             = 1000
)

// Config configures a Service. Zero fields take the defaults named on them.
type Config struct {
	Schemas *schema.Registry
	// SinkEnv is what sinks may do here: sluice dev allows loopback
	// destinations, sluice server only what the operator allows.
	SinkEnv sink.Env
	// MaxSQLBytes bounds a query (default DefaultMaxSQLBytes).
	MaxSQLBytes int
	// MaxPerApplication bounds the subscriptions of one application
	// (default DefaultMaxPerApplication).
	MaxPerApplication int
	Now               func() time.Time
}

// Service stores subscriptions. It is safe for concurrent use.
type Service struct {
	db  *store.Store
	cfg Config
	// changed wakes the runners of this process when a subscription
	// changes, so that an update applies now rather than at the next
	// reconcile (runners of other processes poll).
	changed chan struct{}
}

// New returns a Service over db.
func New(db *store.Store, cfg Config) *Service {
	if cfg.MaxSQLBytes <= 0 {
		cfg.MaxSQLBytes = DefaultMaxSQLBytes
	}
	if cfg.MaxPerApplication <= 0 {
		cfg.MaxPerApplication = DefaultMaxPerApplication
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: db, cfg: cfg, changed: make(chan struct{}, 1)}
}

// notify wakes a runner of this process.
func (s *Service) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// Limits reports the configured limits (the defaults on a nil Service, as
// OpenAPI generation has).
func (s *Service) Limits() (maxSQLBytes, maxPerApplication int) {
	if s == nil {
		return DefaultMaxSQLBytes, DefaultMaxPerApplication
	}
	return s.cfg.MaxSQLBytes, s.cfg.MaxPerApplication
}

// Checked is a validated spec: the analysed query and the schema version
// it was analysed against.
type Checked struct {
	Query         *sluicesql.Query
	Reader        *avro.Schema
	SchemaVersion int
	// SinkEnv is what the sink is validated and opened with: the
	// service's environment and the subscription's output.
	SinkEnv sink.Env
}

// Validate checks a spec against the tenant's current reader schema and
// fills in defaults. Every problem is an *Error naming its field.
func (s *Service) Validate(ctx context.Context, spec *Spec) (Checked, error) {
	var c Checked
	if spec.OutputFormat == "" {
		spec.OutputFormat = "JSON"
	}
	spec.OutputFormat = strings.ToUpper(spec.OutputFormat)
	if spec.StartFrom == "" {
		spec.StartFrom = "earliest"
	}
	if spec.DeliveryGuarantee == "" {
		spec.DeliveryGuarantee = AtLeastOnce
	}
	if spec.Lateness == "" {
		spec.Lateness = "5 seconds"
	}
	switch {
	case spec.Application == "":
		return c, invalid("body.application", "required")
	case spec.Tenant == "":
		return c, invalid("body.tenant", "required")
	case len(spec.SQL) > s.cfg.MaxSQLBytes:
		return c, invalid("body.sql", "the query is %d bytes; the limit is %d (MaxSQLBytes)", len(spec.SQL), s.cfg.MaxSQLBytes)
	case len(spec.Labels) > maxLabels:
		return c, invalid("body.labels", "%d labels; the limit is %d", len(spec.Labels), maxLabels)
	}
	if _, err := job.ParseStartFrom(spec.StartFrom); err != nil {
		return c, invalid("body.startFrom", "%v", err)
	}
	if _, ok := sluicesql.ParseInterval(spec.Lateness); !ok {
		return c, invalid("body.lateness", "%q is not a duration: want e.g. '5 seconds', '1 minute' or '00:00:30'", spec.Lateness)
	}
	switch spec.DeliveryGuarantee {
	case AtLeastOnce:
	case ExactlyOnce:
		if !sink.SupportsExactlyOnce(spec.Sink.Type) {
			return c, invalid("body.deliveryGuarantee", "exactly-once needs a sink that stores offsets with its writes (%s); %s does not (use at-least-once)", strings.Join(sink.ExactlyOnceTypes(), ", "), spec.Sink.Type)
		}
	default:
		return c, invalid("body.deliveryGuarantee", "%q: want at-least-once or exactly-once", spec.DeliveryGuarantee)
	}
	sc, err := s.cfg.Schemas.Version(ctx, spec.Tenant, schema.Latest)
	switch schema.CodeOf(err) {
	case 0:
	case schema.TenantNotFound:
		return c, invalid("body.tenant", "no tenant %q", spec.Tenant)
	case schema.VersionNotFound:
		return c, invalid("body.tenant", "tenant %q has no schema yet: register one before subscribing", spec.Tenant)
	default:
		return c, err
	}
	if c.Reader, err = avro.Parse(sc.Text); err != nil {
		return c, fmt.Errorf("tenant %s schema version %d: %w", spec.Tenant, sc.Version, err)
	}
	c.SchemaVersion = sc.Version
	if c.Query, err = sluicesql.Analyze(spec.SQL, c.Reader); err != nil {
		e := &Error{Code: Invalid, Field: "body.sql", Message: err.Error()}
		if pos, ok := sluicesql.ErrorPos(err); ok {
			e.Line, e.Column = pos.Line, pos.Column
		}
		return c, e
	}
	opts, err := spec.FormatOptions.Format()
	if err != nil {
		return c, invalid("body.formatOptions", "%v", err)
	}
	enc, err := format.NewWithOptions(spec.OutputFormat, c.Query.Columns, opts)
	if err != nil {
		field := "body.formatOptions"
		if errors.Is(err, format.ErrUnknownFormat) {
			field = "body.outputFormat"
		}
		return c, invalid(field, "%v", err)
	}
	c.SinkEnv = s.cfg.SinkEnv
	c.SinkEnv.Tenant = spec.Tenant
	c.SinkEnv.ExactlyOnce = spec.DeliveryGuarantee == ExactlyOnce
	c.SinkEnv.Output = job.SinkOutput(spec.OutputFormat, c.Query.Columns, enc)
	if err := sink.Validate(spec.Sink, c.SinkEnv); err != nil {
		return c, sinkError(err)
	}
	return c, nil
}

// sinkError names the sink field at fault.
func sinkError(err error) error {
	if ces := sink.ConfigErrors(err); len(ces) > 0 {
		field := "body.sink"
		if ces[0].Field != "" {
			field += "." + ces[0].Field
		}
		msgs := make([]string, len(ces))
		for i, ce := range ces {
			msgs[i] = ce.Error()
		}
		return invalid(field, "%s", strings.Join(msgs, "; "))
	}
	return invalid("body.sink", "%v", err)
}

// testSink checks that the spec's sink could deliver (a network sink
// connects) without leaving anything behind: a dry run's check.
func testSink(ctx context.Context, spec Spec, c Checked) error {
	if err := sink.Probe(ctx, spec.Sink, c.SinkEnv); err != nil {
		return sinkError(err)
	}
	return nil
}

func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "sub-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Create validates spec and stores a new subscription. With dryRun it
// validates, checks the sink's connectivity, and stores nothing.
func (s *Service) Create(ctx context.Context, spec Spec, dryRun bool) (Subscription, error) {
	c, err := s.Validate(ctx, &spec)
	if err != nil {
		return Subscription{}, err
	}
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	sub := Subscription{ID: newID(), Spec: spec, State: Running, SchemaVersion: c.SchemaVersion, Version: 1, Epoch: 1, CreatedAt: now, UpdatedAt: now}
	if dryRun {
		return sub, testSink(ctx, spec, c)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM subscriptions WHERE application = ? AND deleted_at IS NULL`, spec.Application).Scan(&n); err != nil {
			return err
		}
		if n >= s.cfg.MaxPerApplication {
			return &Error{Code: TooMany, Field: "body.application", Message: fmt.Sprintf("application %q has %d subscriptions; the limit is %d (MaxPerApplication)", spec.Application, n, s.cfg.MaxPerApplication)}
		}
		return insert(ctx, tx, sub)
	})
	if err == nil {
		s.notify()
	}
	return sub, err
}

const columns = `id, application, tenant, spec, state, schema_version, version, epoch, deleted_at, purge_offsets, created_at, updated_at, source_cluster, source_topic, good_epoch`

func insert(ctx context.Context, q store.Querier, sub Subscription) error {
	spec, err := encodeSpec(sub.Spec)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO subscriptions (`+columns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, NULL, 0)`,
		sub.ID, sub.Application, sub.Tenant, string(spec), sub.State, sub.SchemaVersion, sub.Version, sub.Epoch, false, sub.CreatedAt, sub.UpdatedAt)
	if errors.Is(err, store.ErrForeignKey) {
		return invalid("body.tenant", "no tenant %q", sub.Tenant)
	}
	return err
}

type scanner interface{ Scan(...any) error }

func scan(r scanner) (Subscription, error) {
	var sub Subscription
	var spec string
	var deleted sql.NullTime
	var srcCluster, srcTopic sql.NullString
	var goodEpoch int64
	err := r.Scan(&sub.ID, &sub.Application, &sub.Tenant, &spec, &sub.State, &sub.SchemaVersion, &sub.Version, &sub.Epoch,
		&deleted, &sub.purgeOffsets, &sub.CreatedAt, &sub.UpdatedAt, &srcCluster, &srcTopic, &goodEpoch)
	if err != nil {
		return sub, err
	}
	sub.deletedAt = deleted.Time
	sub.source, sub.started = Source{Cluster: srcCluster.String, Topic: srcTopic.String}, goodEpoch > 0
	sub.CreatedAt, sub.UpdatedAt = sub.CreatedAt.UTC(), sub.UpdatedAt.UTC()
	return sub, decodeSpec(&sub.Spec, []byte(spec))
}

func get(ctx context.Context, q store.Querier, id string) (Subscription, error) {
	sub, err := scan(q.QueryRow(ctx, `SELECT `+columns+` FROM subscriptions WHERE id = ?`, id))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !sub.deletedAt.IsZero()) {
		return Subscription{}, &Error{Code: NotFound, Message: fmt.Sprintf("no subscription %q", id)}
	}
	return sub, err
}

// Get returns a subscription.
func (s *Service) Get(ctx context.Context, id string) (Subscription, error) {
	return get(ctx, s.db, id)
}

// Filter selects subscriptions to list; Limit and After page through them
// in id order.
type Filter struct {
	Application, Tenant, State string
	Limit                      int
	After                      string
}

// List returns a page of subscriptions and the cursor of the next page
// ("" on the last).
func (s *Service) List(ctx context.Context, f Filter) ([]Subscription, string, error) {
	if f.Limit <= 0 || f.Limit > maxListLimit {
		f.Limit = 100
	}
	q := `SELECT ` + columns + ` FROM subscriptions WHERE deleted_at IS NULL AND id > ?`
	args := []any{f.After}
	for _, c := range []struct{ col, val string }{{"application", f.Application}, {"tenant", f.Tenant}, {"state", f.State}} {
		if c.val != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.val)
		}
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, f.Limit+1)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		sub, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// all returns every subscription, tombstones included, for the runner.
func (s *Service) all(ctx context.Context) ([]Subscription, error) {
	rows, err := s.db.Query(ctx, `SELECT `+columns+` FROM subscriptions ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		sub, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// errUnchanged, returned by an update's change, ends it without a write.
var errUnchanged = errors.New("unchanged")

// update applies change to the current subscription under optimistic
// concurrency: ifMatch (a Version; 0 for none) must be the current one.
func (s *Service) update(ctx context.Context, id string, ifMatch int64, change func(*Subscription) error) (Subscription, error) {
	var out Subscription
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		cur, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return &Error{Code: Precondition, Message: fmt.Sprintf("subscription %s is at version %d, not %d: read it again and retry", id, cur.Version, ifMatch)}
		}
		next := cur
		if err := change(&next); err != nil {
			return err
		}
		next.Version = cur.Version + 1
		next.UpdatedAt = s.cfg.Now().UTC().Truncate(time.Microsecond)
		spec, err := encodeSpec(next.Spec)
		if err != nil {
			return err
		}
		var deleted any
		if !next.deletedAt.IsZero() {
			deleted = next.deletedAt
		}
		_, err = tx.Exec(ctx, `UPDATE subscriptions SET spec = ?, state = ?, schema_version = ?, version = ?, epoch = ?, deleted_at = ?, purge_offsets = ?, updated_at = ? WHERE id = ?`,
			string(spec), next.State, next.SchemaVersion, next.Version, next.Epoch, deleted, next.purgeOffsets, next.UpdatedAt, id)
		out = next
		return err
	})
	if err == nil {
		s.notify()
	}
	return out, err
}

// Replace validates spec and replaces the subscription's spec with it. The
// query is analysed against the tenant's current schema; a changed spec
// restarts the job (a new epoch). The application and tenant cannot
// change.
func (s *Service) Replace(ctx context.Context, id string, spec Spec, ifMatch int64) (Subscription, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return Subscription{}, err
	}
	if spec.Application != cur.Application {
		return Subscription{}, invalid("body.application", "cannot change from %q: create a new subscription", cur.Application)
	}
	if spec.Tenant != cur.Tenant {
		return Subscription{}, invalid("body.tenant", "cannot change from %q: create a new subscription", cur.Tenant)
	}
	// A client that read the subscription got its secrets redacted; the
	// placeholder sent back means "keep the stored value".
	spec.Sink = keepSecrets(spec.Sink, cur.Sink)
	c, err := s.Validate(ctx, &spec)
	if err != nil {
		return Subscription{}, err
	}
	return s.update(ctx, id, ifMatch, func(sub *Subscription) error {
		if spec.Application != sub.Application {
			return invalid("body.application", "cannot change from %q: create a new subscription", sub.Application)
		}
		if spec.Tenant != sub.Tenant {
			return invalid("body.tenant", "cannot change from %q: create a new subscription", sub.Tenant)
		}
		if !bytes.Equal(jobSpec(sub.Spec), jobSpec(spec)) || sub.SchemaVersion != c.SchemaVersion {
			sub.Epoch++
		}
		sub.Spec, sub.SchemaVersion = spec, c.SchemaVersion
		return nil
	})
}

// keepSecrets replaces the redaction placeholder in next's secret settings
// with the stored values, when the sink type is unchanged.
func keepSecrets(next, stored sink.Spec) sink.Spec {
	if !strings.EqualFold(next.Type, stored.Type) {
		return next
	}
	for _, name := range sink.SecretSettings(next.Type) {
		if v, ok := next.Settings[name]; ok && v == sink.Redacted {
			if old, ok := stored.Settings[name]; ok {
				next.Settings[name] = old
			}
		}
	}
	return next
}

// Patch applies a JSON merge patch (RFC 7396) to the subscription's spec
// and replaces it with the result.
func (s *Service) Patch(ctx context.Context, id string, patch json.RawMessage, ifMatch int64) (Subscription, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return Subscription{}, err
	}
	base, err := json.Marshal(cur.Spec)
	if err != nil {
		return Subscription{}, err
	}
	merged, err := mergePatch(base, patch)
	if err != nil {
		return Subscription{}, invalid("body", "%v", err)
	}
	var spec Spec
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return Subscription{}, invalid("body", "the patched subscription does not decode: %v", err)
	}
	if ifMatch == 0 {
		ifMatch = cur.Version // the patch was computed against this version
	}
	return s.Replace(ctx, id, spec, ifMatch)
}

// mergePatch applies an RFC 7396 JSON merge patch to doc.
func mergePatch(doc, patch []byte) ([]byte, error) {
	var d, p any
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, fmt.Errorf("the patch is not JSON: %w", err)
	}
	return json.Marshal(merge(d, p))
}

func merge(doc, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	dm, ok := doc.(map[string]any)
	if !ok {
		dm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(dm, k)
		} else {
			dm[k] = merge(dm[k], v)
		}
	}
	return dm
}

// SetState pauses or resumes a subscription.
func (s *Service) SetState(ctx context.Context, id, state string, ifMatch int64) (Subscription, error) {
	return s.update(ctx, id, ifMatch, func(sub *Subscription) error {
		sub.State = state
		return nil
	})
}

// Restart starts the job again at a new epoch (from its committed offsets).
func (s *Service) Restart(ctx context.Context, id string, ifMatch int64) (Subscription, error) {
	return s.update(ctx, id, ifMatch, func(sub *Subscription) error {
		sub.Epoch++
		return nil
	})
}

// Delete deletes a subscription: its job stops, and with purgeOffsets its
// consumer group offsets are deleted too. Until the worker running it has
// done that, the subscription remains as a tombstone no read returns.
func (s *Service) Delete(ctx context.Context, id string, purgeOffsets bool, ifMatch int64) error {
	_, err := s.update(ctx, id, ifMatch, func(sub *Subscription) error {
		sub.deletedAt = s.cfg.Now().UTC()
		sub.purgeOffsets = purgeOffsets
		return nil
	})
	return err
}

// remove deletes a tombstone's rows once its job is gone.
func (s *Service) remove(ctx context.Context, id string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM subscriptions WHERE id = ? AND deleted_at IS NOT NULL`, id)
	return err
}

// Analyzed returns the subscription's query analysed against its pinned
// schema version, for its DAG.
func (s *Service) Analyzed(ctx context.Context, sub Subscription) (*sluicesql.Query, *avro.Schema, error) {
	sc, err := s.cfg.Schemas.Version(ctx, sub.Tenant, sub.SchemaVersion)
	if err != nil {
		return nil, nil, err
	}
	reader, err := avro.Parse(sc.Text)
	if err != nil {
		return nil, nil, err
	}
	q, err := sluicesql.Analyze(sub.SQL, reader)
	return q, reader, err
}

package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/store"
)

// Admin is what the catalog needs of one Kafka cluster. *kafkaconn.Admin
// implements it; tests wrap it to inject failures.
type Admin interface {
	Ping(ctx context.Context) error
	CreateTopic(ctx context.Context, name string, partitions int32, replicationFactor int16, configs map[string]string) error
	SetPartitions(ctx context.Context, name string, total int32) error
	DeleteTopic(ctx context.Context, name string) error
	SetTopicConfigs(ctx context.Context, name string, configs map[string]string) error
	Topics(ctx context.Context, names ...string) (map[string]kafkaconn.Topic, error)
	Usage(ctx context.Context) (kafkaconn.Usage, error)
	Close()
}

// Dialer connects an Admin to a cluster.
type Dialer func(kafkaconn.Config) (Admin, error)

// DialKafka is the Dialer for real clusters.
func DialKafka(c kafkaconn.Config) (Admin, error) { return kafkaconn.NewAdmin(c) }

// EventRecorder stores what the catalog observes; *events.Log implements it.
type EventRecorder interface {
	Append(ctx context.Context, e events.Event) (events.Event, error)
}

// SchemaVersions tells routes the tenant's current schema version;
// *schema.Registry implements it.
type SchemaVersions interface {
	// LatestVersion is the tenant's latest schema version, 0 when none.
	LatestVersion(ctx context.Context, tenant string) (int, error)
}

// Config tunes a Service. Zero fields take the defaults named on them.
type Config struct {
	// KafkaTimeout bounds each Kafka operation, overriding the default 30s.
	KafkaTimeout time.Duration
	// ProbeTimeout bounds a health probe, and the check that a cluster
	// answers when it is registered, overriding the default 10s.
	ProbeTimeout time.Duration
	// OperationLease is how long a pending operation is left to the process
	// that recorded it before the reconciler may take it over, overriding
	// the default 2m.
	OperationLease time.Duration
	// RetryAfter is how soon the reconciler retries an operation whose
	// Kafka call failed, overriding the default 10s.
	RetryAfter time.Duration
	Dial       Dialer // overriding DialKafka
	Logger     *slog.Logger
	Now        func() time.Time
	// Schemas fills Route.SchemaVersion; nil leaves it 0.
	Schemas SchemaVersions
}

// Service is the metadata service. It is safe for concurrent use; several
// Services (in several processes) may share one store.
type Service struct {
	cfg    Config
	db     *store.Store
	events EventRecorder
	admins *adminPool
	log    *slog.Logger
	now    func() time.Time

	// beforeKafka, when set, runs after an operation is recorded and before
	// Kafka is called; tests use it to stop there as a crash would.
	beforeKafka func(Operation) error
}

// New returns a Service over db, recording observations to ev.
func New(db *store.Store, ev EventRecorder, cfg Config) *Service {
	if cfg.KafkaTimeout <= 0 {
		cfg.KafkaTimeout = 30 * time.Second
	}
	if cfg.ProbeTimeout <= 0 {
		cfg.ProbeTimeout = 10 * time.Second
	}
	if cfg.OperationLease <= 0 {
		cfg.OperationLease = 2 * time.Minute
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 10 * time.Second
	}
	if cfg.Dial == nil {
		cfg.Dial = DialKafka
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, db: db, events: ev, admins: newAdminPool(cfg.Dial), log: cfg.Logger, now: cfg.Now}
}

// Close closes the Kafka connections the service holds.
func (s *Service) Close() { s.admins.closeAll() }

func (s *Service) emit(ctx context.Context, e events.Event) {
	if s.events == nil {
		return
	}
	if _, err := s.events.Append(ctx, e); err != nil {
		s.log.Warn("could not record event", "kind", e.Kind, "err", err)
	}
}

// ClusterSpec is what an operator registers.
type ClusterSpec struct {
	Name       string
	Region     string
	Connection kafkaconn.Config
	Limits     Limits
	// State is Active (the default when empty) or Draining.
	State ClusterState
}

func validateClusterSpec(spec ClusterSpec) error {
	if err := checkName("name", spec.Name, clusterNameRE); err != nil {
		return err
	}
	if err := checkName("region", spec.Region, regionRE); err != nil {
		return err
	}
	if errs := spec.Connection.Validate(); len(errs) > 0 {
		return invalid(errs[0].Field, "%s", errs[0].Message)
	}
	if spec.Limits.MaxPartitions < 0 {
		return invalid("limits.maxPartitions", "must not be negative")
	}
	if spec.Limits.MaxBytesPerSecond < 0 {
		return invalid("limits.maxBytesPerSecond", "must not be negative")
	}
	if spec.State != Active && spec.State != Draining {
		return invalid("state", "%q: an operator sets active or draining (unreachable is found by probes)", spec.State)
	}
	return nil
}

// probe connects to a cluster and measures it. Its error names what failed.
func (s *Service) probe(ctx context.Context, conn kafkaconn.Config, admin Admin) (kafkaconn.Usage, error) {
	pctx, cancel := context.WithTimeout(ctx, s.cfg.ProbeTimeout)
	defer cancel()
	if err := admin.Ping(pctx); err != nil {
		return kafkaconn.Usage{}, err
	}
	return admin.Usage(pctx)
}

// RegisterCluster adds a cluster after checking that it answers.
func (s *Service) RegisterCluster(ctx context.Context, spec ClusterSpec) (Cluster, error) {
	if spec.State == "" {
		spec.State = Active
	}
	spec.Connection = normalConnection(spec.Connection)
	if err := validateClusterSpec(spec); err != nil {
		return Cluster{}, err
	}
	admin, err := s.cfg.Dial(spec.Connection)
	if err != nil {
		return Cluster{}, invalid("bootstrapServers", "cannot connect: %v", err)
	}
	defer admin.Close()
	usage, err := s.probe(ctx, spec.Connection, admin)
	if err != nil {
		return Cluster{}, invalid("bootstrapServers", "no broker of %v answered: %v", spec.Connection.Bootstrap, err)
	}
	now := s.now().UTC()
	c := Cluster{Name: spec.Name, Region: spec.Region, Connection: spec.Connection, Limits: spec.Limits,
		AdminState: spec.State, Reachable: true, LastSeen: now, CreatedAt: now, UpdatedAt: now,
		Usage: Usage{Brokers: usage.Brokers, Partitions: usage.Partitions, Bytes: usage.Bytes, MeasuredAt: now}}
	if err := insertCluster(ctx, s.db, c); err != nil {
		return Cluster{}, err
	}
	return c, nil
}

// Cluster returns one registered cluster.
func (s *Service) Cluster(ctx context.Context, name string) (Cluster, error) {
	return getCluster(ctx, s.db, name)
}

// Clusters returns every registered cluster, by name.
func (s *Service) Clusters(ctx context.Context) ([]Cluster, error) { return listClusters(ctx, s.db) }

// ClusterUpdate changes a cluster; nil fields are left as they are.
type ClusterUpdate struct {
	Region     *string
	Connection *kafkaconn.Config
	Limits     *Limits
	State      *ClusterState
}

// UpdateCluster applies u. A new connection must answer before it is saved,
// and changing it changes the route of every tenant on the cluster.
func (s *Service) UpdateCluster(ctx context.Context, name string, u ClusterUpdate) (Cluster, error) {
	c, err := getCluster(ctx, s.db, name)
	if err != nil {
		return c, err
	}
	spec := ClusterSpec{Name: c.Name, Region: c.Region, Connection: c.Connection, Limits: c.Limits, State: c.AdminState}
	if u.Region != nil {
		spec.Region = *u.Region
	}
	if u.Connection != nil {
		spec.Connection = normalConnection(*u.Connection)
	}
	if u.Limits != nil {
		spec.Limits = *u.Limits
	}
	if u.State != nil {
		spec.State = *u.State
	}
	if err := validateClusterSpec(spec); err != nil {
		return c, err
	}
	connChanged := u.Connection != nil && !sameConnection(c.Connection, spec.Connection)
	if connChanged {
		admin, err := s.cfg.Dial(spec.Connection)
		if err != nil {
			return c, invalid("bootstrapServers", "cannot connect: %v", err)
		}
		_, err = s.probe(ctx, spec.Connection, admin)
		admin.Close()
		if err != nil {
			return c, invalid("bootstrapServers", "no broker of %v answered: %v", spec.Connection.Bootstrap, err)
		}
	}
	now := s.now().UTC()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if spec.Region != c.Region {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM topics WHERE cluster = ?`, name).Scan(&n); err != nil {
				return fmt.Errorf("count topics of cluster %s: %w", name, err)
			}
			if n > 0 {
				return conflict("cluster %q holds %d tenant topic(s) of region %q: its region cannot change", name, n, c.Region)
			}
		}
		c.Region, c.Connection, c.Limits, c.AdminState, c.UpdatedAt = spec.Region, spec.Connection, spec.Limits, spec.State, now
		if err := updateClusterSpec(ctx, tx, c); err != nil {
			return err
		}
		if connChanged {
			return bumpRoutesOnCluster(ctx, tx, name, now)
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	if connChanged {
		s.admins.forget(name)
	}
	return c, nil
}

// sameConnection reports whether two connection settings connect the same
// way; disabled TLS counts as no TLS.
func sameConnection(a, b kafkaconn.Config) bool {
	ja, _ := json.Marshal(normalConnection(a))
	jb, _ := json.Marshal(normalConnection(b))
	return string(ja) == string(jb)
}

func normalConnection(c kafkaconn.Config) kafkaconn.Config {
	if c.TLS != nil && *c.TLS == (kafkaconn.TLS{}) {
		c.TLS = nil
	}
	return c
}

// DeregisterCluster removes a cluster that holds no tenant topics.
func (s *Service) DeregisterCluster(ctx context.Context, name string) error {
	if err := s.db.InTx(ctx, func(tx *store.Tx) error { return deleteCluster(ctx, tx, name) }); err != nil {
		return err
	}
	s.admins.forget(name)
	return nil
}

// TenantSpec is what creating a tenant asks for. Zero settings take the
// documented defaults.
type TenantSpec struct {
	Name              string
	Region            string
	Partitions        int32
	ReplicationFactor int16
	// Retention of the data topic; 0 means DefaultRetention.
	Retention time.Duration
	// Configs are further topic-level configs for the data topic.
	Configs map[string]string
	// Cluster pins the topic to a cluster instead of letting placement
	// choose; it must still qualify.
	Cluster string
}

// CreateTenant places the tenant's data topic, records the tenant, and
// creates the topic on Kafka.
func (s *Service) CreateTenant(ctx context.Context, spec TenantSpec) (Tenant, error) {
	if err := checkName("name", spec.Name, tenantNameRE); err != nil {
		return Tenant{}, err
	}
	if err := checkName("region", spec.Region, regionRE); err != nil {
		return Tenant{}, err
	}
	if spec.Partitions == 0 {
		spec.Partitions = DefaultPartitions
	}
	if spec.Partitions < 0 || spec.Partitions > MaxPartitionsPerTopic {
		return Tenant{}, invalid("partitions", "%d: must be between 1 and %d", spec.Partitions, MaxPartitionsPerTopic)
	}
	if spec.ReplicationFactor < 0 {
		return Tenant{}, invalid("replicationFactor", "%d: must be positive", spec.ReplicationFactor)
	}
	if spec.Retention < 0 {
		return Tenant{}, invalid("retentionMs", "must not be negative")
	}
	if err := checkTopicConfigs("configs", spec.Configs); err != nil {
		return Tenant{}, err
	}
	clusters, err := listClusters(ctx, s.db)
	if err != nil {
		return Tenant{}, err
	}
	if spec.Cluster != "" {
		i := slices.IndexFunc(clusters, func(c Cluster) bool { return c.Name == spec.Cluster })
		if i < 0 {
			return Tenant{}, invalid("cluster", "cluster %q is not registered", spec.Cluster)
		}
		clusters = clusters[i : i+1]
	}
	c, err := place(clusters, spec.Region, int(spec.Partitions))
	if err != nil {
		return Tenant{}, err
	}
	rf := spec.ReplicationFactor
	if rf == 0 {
		rf = int16(min(DefaultReplicationFactor, max(c.Usage.Brokers, 1)))
	}
	if c.Usage.Brokers > 0 && int(rf) > c.Usage.Brokers {
		return Tenant{}, invalid("replicationFactor", "%d exceeds the %d broker(s) of cluster %q", rf, c.Usage.Brokers, c.Name)
	}
	retention := spec.Retention
	if retention == 0 {
		retention = DefaultRetention
	}
	configs := map[string]string{"retention.ms": strconv.FormatInt(retention.Milliseconds(), 10)}
	for k, v := range spec.Configs {
		configs[k] = v
	}

	now := s.now().UTC()
	topic := TopicName(spec.Name, 1)
	t := Tenant{Name: spec.Name, Region: spec.Region, State: Provisioning, Cluster: c.Name, Topic: topic,
		RouteVersion: 1, CreatedAt: now, UpdatedAt: now}
	op := s.newOp(OpCreateTopic, c.Name, topic, spec.Name,
		OpParams{Partitions: spec.Partitions, ReplicationFactor: rf, Configs: configs})
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := insertTenant(ctx, tx, t); err != nil {
			return err
		}
		if err := insertTopic(ctx, tx, Topic{Cluster: c.Name, Name: topic, Tenant: spec.Name, State: TopicCreating,
			Partitions: spec.Partitions, ReplicationFactor: rf, Configs: configs, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return insertOp(ctx, tx, op)
	})
	if err != nil {
		return Tenant{}, err
	}
	if err := s.apply(ctx, op); err != nil {
		return Tenant{}, err
	}
	return getTenant(ctx, s.db, spec.Name)
}

// Tenant returns one tenant.
func (s *Service) Tenant(ctx context.Context, name string) (Tenant, error) {
	return getTenant(ctx, s.db, name)
}

// Tenants returns every tenant, by name.
func (s *Service) Tenants(ctx context.Context) ([]Tenant, error) { return listTenants(ctx, s.db) }

// DeleteTenant deletes the tenant's topic from Kafka and then its records.
func (s *Service) DeleteTenant(ctx context.Context, name string) error {
	var op Operation
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := getTenant(ctx, tx, name)
		if err != nil {
			return err
		}
		op = s.newOp(OpDeleteTopic, t.Cluster, t.Topic, t.Name, OpParams{})
		if err := insertOp(ctx, tx, op); err != nil {
			return err
		}
		now := s.now().UTC()
		if _, err := tx.Exec(ctx, `UPDATE topics SET state = ?, updated_at = ? WHERE tenant = ?`, TopicDeleting, now, name); err != nil {
			return fmt.Errorf("mark topics of tenant %s deleting: %w", name, err)
		}
		return setTenantState(ctx, tx, name, Deleting, now)
	})
	if err != nil {
		return err
	}
	return s.apply(ctx, op)
}

// Route returns what a producer must use to write the tenant's records.
func (s *Service) Route(ctx context.Context, tenant string) (Route, error) {
	t, err := getTenant(ctx, s.db, tenant)
	if err != nil {
		return Route{}, err
	}
	if t.State != Ready {
		return Route{}, conflict("tenant %q is %s: it has no route yet", tenant, t.State)
	}
	c, err := getCluster(ctx, s.db, t.Cluster)
	if err != nil {
		return Route{}, err
	}
	r := Route{Tenant: t.Name, Cluster: c.Name, BootstrapServers: c.Connection.Bootstrap, Topic: t.Topic,
		Version: t.RouteVersion}
	if s.cfg.Schemas != nil {
		if r.SchemaVersion, err = s.cfg.Schemas.LatestVersion(ctx, tenant); err != nil {
			return Route{}, fmt.Errorf("route of tenant %s: schema version: %w", tenant, err)
		}
	}
	return r, nil
}

// Topics lists recorded topics.
func (s *Service) Topics(ctx context.Context, f TopicFilter) ([]Topic, error) {
	recs, err := listTopics(ctx, s.db, f)
	if err != nil {
		return nil, err
	}
	out := make([]Topic, len(recs))
	for i, r := range recs {
		out[i] = r.Topic
	}
	return out, nil
}

// Topic returns one recorded topic.
func (s *Service) Topic(ctx context.Context, cluster, name string) (Topic, error) {
	t, _, err := getTopic(ctx, s.db, cluster, name)
	return t, err
}

// SetPartitions raises a topic's partition count to total. Kafka cannot
// remove partitions, so a lower total is refused.
func (s *Service) SetPartitions(ctx context.Context, cluster, name string, total int32) (Topic, error) {
	if total < 1 || total > MaxPartitionsPerTopic {
		return Topic{}, invalid("partitions", "%d: must be between 1 and %d", total, MaxPartitionsPerTopic)
	}
	t, _, err := getTopic(ctx, s.db, cluster, name)
	if err != nil {
		return t, err
	}
	if total < t.Partitions {
		return t, invalid("partitions", "%d is fewer than the topic's %d partitions: Kafka cannot remove partitions; "+
			"to shrink a topic, migrate the tenant to a new topic with fewer partitions", total, t.Partitions)
	}
	if total == t.Partitions {
		return t, nil
	}
	return s.topicOp(ctx, t, OpSetPartitions, OpParams{Partitions: total})
}

// SetTopicConfigs sets topic-level configs on a topic and watches them for drift.
func (s *Service) SetTopicConfigs(ctx context.Context, cluster, name string, configs map[string]string) (Topic, error) {
	if len(configs) == 0 {
		return Topic{}, invalid("configs", "give at least one config")
	}
	if err := checkTopicConfigs("configs", configs); err != nil {
		return Topic{}, err
	}
	t, _, err := getTopic(ctx, s.db, cluster, name)
	if err != nil {
		return t, err
	}
	return s.topicOp(ctx, t, OpSetConfigs, OpParams{Configs: configs})
}

func (s *Service) topicOp(ctx context.Context, t Topic, kind OpKind, p OpParams) (Topic, error) {
	if t.State != TopicActive {
		return t, conflict("topic %q is %s", t.Name, t.State)
	}
	op := s.newOp(kind, t.Cluster, t.Name, t.Tenant, p)
	if err := s.db.InTx(ctx, func(tx *store.Tx) error { return insertOp(ctx, tx, op) }); err != nil {
		return t, err
	}
	if err := s.apply(ctx, op); err != nil {
		return t, err
	}
	t, _, err := getTopic(ctx, s.db, t.Cluster, t.Name)
	return t, err
}

// adminPool keeps one Admin per cluster, replaced when its connection changes.
type adminPool struct {
	dial Dialer
	mu   sync.Mutex
	m    map[string]pooledAdmin
}

type pooledAdmin struct {
	conn  kafkaconn.Config
	admin Admin
}

func newAdminPool(d Dialer) *adminPool { return &adminPool{dial: d, m: map[string]pooledAdmin{}} }

func (p *adminPool) get(c Cluster) (Admin, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pa, ok := p.m[c.Name]; ok {
		if sameConnection(pa.conn, c.Connection) {
			return pa.admin, nil
		}
		pa.admin.Close()
		delete(p.m, c.Name)
	}
	a, err := p.dial(c.Connection)
	if err != nil {
		return nil, fmt.Errorf("connect to cluster %s: %w", c.Name, err)
	}
	p.m[c.Name] = pooledAdmin{conn: c.Connection, admin: a}
	return a, nil
}

func (p *adminPool) forget(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pa, ok := p.m[name]; ok {
		pa.admin.Close()
		delete(p.m, name)
	}
}

func (p *adminPool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, pa := range p.m {
		pa.admin.Close()
		delete(p.m, name)
	}
}

// MoveTenant makes topic, an existing topic on a registered cluster (a
// copy of the tenant's topic on another cluster, say), the tenant's data
// topic: its route changes (producers refetch it) and the subscription
// runner moves every job of the tenant onto it, reading the old topic to
// its end first and the new one from its start. The topic is adopted into
// the catalog unless another tenant's.
func (s *Service) MoveTenant(ctx context.Context, tenant, cluster, topic string) (Tenant, error) {
	if topic == "" {
		return Tenant{}, invalid("topic", "required")
	}
	t, err := getTenant(ctx, s.db, tenant)
	if err != nil {
		return Tenant{}, err
	}
	if t.State != Ready {
		return Tenant{}, conflict("tenant %q is %s: it can move once ready", tenant, t.State)
	}
	if t.Cluster == cluster && t.Topic == topic {
		return t, nil
	}
	c, err := getCluster(ctx, s.db, cluster)
	if CodeOf(err) == NotFound {
		return Tenant{}, invalid("cluster", "cluster %q is not registered", cluster)
	}
	if err != nil {
		return Tenant{}, err
	}
	admin, err := s.admins.get(c)
	if err != nil {
		return Tenant{}, unavailable(err, "cluster %s", cluster)
	}
	kctx, cancel := context.WithTimeout(ctx, s.cfg.KafkaTimeout)
	defer cancel()
	actual, err := admin.Topics(kctx, topic)
	if err != nil {
		return Tenant{}, unavailable(err, "describe topic %s on cluster %s", topic, cluster)
	}
	kt, ok := actual[topic]
	if !ok {
		return Tenant{}, invalid("topic", "cluster %q has no topic %q: create it (or copy the tenant's topic there) first", cluster, topic)
	}
	now := s.now().UTC()
	from := t.Cluster + "/" + t.Topic
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		rec, _, err := getTopic(ctx, tx, cluster, topic)
		switch {
		case err == nil && rec.Tenant != tenant:
			return invalid("topic", "topic %q on cluster %q is tenant %q's", topic, cluster, rec.Tenant)
		case err == nil:
		case CodeOf(err) == NotFound:
			if err := insertTopic(ctx, tx, Topic{Cluster: cluster, Name: topic, Tenant: tenant, State: TopicActive,
				Partitions: kt.Partitions, ReplicationFactor: kt.ReplicationFactor, Configs: kt.Configs, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		default:
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE tenants SET cluster = ?, topic = ?, route_version = route_version + 1, updated_at = ? WHERE name = ?`,
			cluster, topic, now, tenant)
		return err
	})
	if err != nil {
		return Tenant{}, err
	}
	s.emit(ctx, events.Event{Kind: "tenant.moved", Cluster: cluster, Tenant: tenant, Topic: topic,
		Message: fmt.Sprintf("Tenant %s moved from %s to %s/%s: producers and jobs follow.", tenant, from, cluster, topic),
		Details: map[string]string{"from": from, "to": cluster + "/" + topic, "partitions": strconv.Itoa(int(kt.Partitions))}})
	return getTenant(ctx, s.db, tenant)
}

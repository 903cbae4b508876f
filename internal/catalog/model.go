package catalog

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// ClusterState is what placement and the operator see of a cluster.
type ClusterState string

const (
	// Active clusters take new tenants.
	Active ClusterState = "active"
	// Draining clusters keep their tenants but take no new ones.
	Draining ClusterState = "draining"
	// Unreachable clusters failed their last health probe.
	Unreachable ClusterState = "unreachable"
)

// Limits cap what placement puts on a cluster. Zero means no limit.
type Limits struct {
	MaxPartitions     int   `json:"maxPartitions" required:"false" minimum:"0" doc:"Most partitions (over all topics) placement may fill the cluster to; 0 = no limit."`
	MaxBytesPerSecond int64 `json:"maxBytesPerSecond" required:"false" minimum:"0" doc:"Placement skips the cluster while its measured write rate is at or above this; 0 = no limit."`
}

// Usage is what the health probe last measured on a cluster.
type Usage struct {
	Brokers        int       `json:"brokers"`
	Partitions     int       `json:"partitions" doc:"Partitions of all non-internal topics."`
	Bytes          int64     `json:"bytes" doc:"Total size of the cluster's log directories."`
	BytesPerSecond float64   `json:"bytesPerSecond" doc:"Growth of Bytes between the last two probes (never negative)."`
	MeasuredAt     time.Time `json:"measuredAt,omitzero"`
}

// Cluster is a registered Kafka cluster.
type Cluster struct {
	Name       string           `json:"name"`
	Region     string           `json:"region"`
	Connection kafkaconn.Config `json:"-"`
	Limits     Limits           `json:"limits"`
	// AdminState is what the operator set: Active or Draining.
	AdminState ClusterState `json:"-"`
	Reachable  bool         `json:"reachable"`
	LastSeen   time.Time    `json:"lastSeen,omitzero" doc:"When the cluster last answered a probe."`
	LastError  string       `json:"lastError,omitempty" doc:"Why the last probe failed, if it did."`
	Usage      Usage        `json:"usage"`
	CreatedAt  time.Time    `json:"createdAt"`
	UpdatedAt  time.Time    `json:"updatedAt"`
}

// State is Unreachable when the last probe failed, else the admin state.
func (c Cluster) State() ClusterState {
	if !c.Reachable {
		return Unreachable
	}
	return c.AdminState
}

// TenantState is where a tenant is in its life.
type TenantState string

const (
	// Provisioning: its topic is being created.
	Provisioning TenantState = "provisioning"
	// Ready: its topic exists and producers may write.
	Ready TenantState = "ready"
	// Deleting: its topic is being deleted.
	Deleting TenantState = "deleting"
)

// Tenant is one customer whose events land in a data topic of its own.
type Tenant struct {
	Name         string      `json:"name"`
	Region       string      `json:"region"`
	State        TenantState `json:"state" enum:"provisioning,ready,deleting"`
	Cluster      string      `json:"cluster" doc:"The cluster holding the tenant's current data topic."`
	Topic        string      `json:"topic" doc:"The tenant's current data topic."`
	RouteVersion int64       `json:"routeVersion" doc:"Changes whenever the route producers must use changes."`
	CreatedAt    time.Time   `json:"createdAt"`
	UpdatedAt    time.Time   `json:"updatedAt"`
}

// TopicState is where a topic is in its life.
type TopicState string

const (
	TopicCreating TopicState = "creating"
	TopicActive   TopicState = "active"
	TopicDeleting TopicState = "deleting"
)

// Topic is a tenant data topic on a cluster, as Sluice recorded it.
type Topic struct {
	Cluster           string            `json:"cluster"`
	Name              string            `json:"name"`
	Tenant            string            `json:"tenant"`
	State             TopicState        `json:"state" enum:"creating,active,deleting"`
	Partitions        int32             `json:"partitions"`
	ReplicationFactor int16             `json:"replicationFactor"`
	Configs           map[string]string `json:"configs" doc:"Topic-level configs Sluice set and watches for drift."`
	CreatedAt         time.Time         `json:"createdAt"`
	UpdatedAt         time.Time         `json:"updatedAt"`
}

// Route is what a producer needs to write a tenant's records.
type Route struct {
	Tenant           string   `json:"tenant"`
	Cluster          string   `json:"cluster"`
	BootstrapServers []string `json:"bootstrapServers"`
	Topic            string   `json:"topic"`
	Version          int64    `json:"routeVersion" doc:"Producers cache the route and refetch it when this changes."`
	SchemaVersion    int      `json:"schemaVersion" doc:"The tenant's latest schema version, for the sluice-schema-version record header; 0 when no schema is registered."`
}

// Defaults for new tenant topics, used where a request leaves a setting out.
const (
	DefaultPartitions = 6
	// DefaultReplicationFactor is capped at the cluster's broker count, so a
	// single-broker development cluster gets 1.
	DefaultReplicationFactor = 3
	// DefaultRetention is the topic's retention.ms: 7 days.
	DefaultRetention = 7 * 24 * time.Hour
	// MaxPartitionsPerTopic bounds one request; Kafka allows more, but a
	// tenant topic beyond this is a mistake more often than a plan.
	MaxPartitionsPerTopic = 10000

	// Capacity assumed for a cluster without limits, to compare its load
	// with clusters that have them.
	DefaultCapacityPartitions  = 4000
	DefaultCapacityBytesPerSec = 100 << 20
)

var (
	tenantNameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	clusterNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	regionRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
)

// TopicName is the name of a tenant's data topic of the given generation.
func TopicName(tenant string, generation int) string {
	return "sluice.tenant." + tenant + "." + strconv.Itoa(generation)
}

func checkName(field, v string, re *regexp.Regexp) error {
	if !re.MatchString(v) {
		return invalid(field, "%q is not a valid name: use 1-64 lower-case letters, digits and '-', starting with a letter or digit", v)
	}
	return nil
}

// topicConfigKeyRE accepts Kafka's topic config key syntax (e.g. cleanup.policy).
var topicConfigKeyRE = regexp.MustCompile(`^[a-z][a-z0-9]*(\.[a-z0-9]+)*$`)

func checkTopicConfigs(field string, configs map[string]string) error {
	for k := range configs {
		if !topicConfigKeyRE.MatchString(k) {
			return invalid(field+"."+k, "not a Kafka topic config name")
		}
		if strings.TrimSpace(configs[k]) == "" {
			return invalid(field+"."+k, "empty value")
		}
	}
	return nil
}

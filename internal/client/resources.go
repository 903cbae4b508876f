package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/api"
	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// Response types are the server's own, so client and server cannot drift
// apart. Only data types are used from package api: never its server.
type (
	// Cluster is a registered Kafka cluster; it never carries secrets, only
	// TLS.ClientKeySet and SASL.PasswordSet.
	Cluster = api.ClusterView
	// ExplainRequest asks how a query would run over a tenant's data.
	ExplainRequest = api.ExplainRequest
	// Explanation is the analysed query: fields read, columns, plan.
	Explanation = api.Explanation
	// Tenant is a customer with its data topic.
	Tenant = catalog.Tenant
	// Topic is a tenant data topic as the catalog recorded it.
	Topic = catalog.Topic
	// Route is where a producer writes a tenant's records.
	Route = catalog.Route
	// Operation is a Kafka operation the catalog recorded.
	Operation = catalog.Operation
	// Event is something a control loop observed or did.
	Event = events.Event
	// Node is a running Sluice process and whether it is alive.
	Node = api.NodeStatus
	// Limits cap what placement puts on a cluster; 0 means no limit.
	Limits = catalog.Limits
	// TLS is a cluster's TLS settings as sent (ClientKey is a secret).
	TLS = kafkaconn.TLS
	// SASL is a cluster's SASL credentials as sent (Password is a secret).
	SASL = kafkaconn.SASL
)

// ClusterRequest registers a cluster (POST /v1/clusters).
type ClusterRequest struct {
	Name             string   `json:"name"`
	Region           string   `json:"region"`
	BootstrapServers []string `json:"bootstrapServers"`
	TLS              *TLS     `json:"tls,omitempty"`
	SASL             *SASL    `json:"sasl,omitempty"`
	Limits           Limits   `json:"limits,omitzero"`
	// State is "active" (the server's default when empty) or "draining".
	State catalog.ClusterState `json:"state,omitempty"`
}

// ClusterUpdate changes a cluster (PATCH /v1/clusters/{cluster}); nil fields
// are left as they are. TLS and SASL replace the stored settings whole,
// except that an empty TLS.ClientKey or SASL.Password keeps the stored
// secret.
type ClusterUpdate struct {
	Region           *string               `json:"region,omitempty"`
	BootstrapServers []string              `json:"bootstrapServers,omitempty"`
	TLS              *TLS                  `json:"tls,omitempty"`
	SASL             *SASL                 `json:"sasl,omitempty"`
	Limits           *LimitsUpdate         `json:"limits,omitempty"`
	State            *catalog.ClusterState `json:"state,omitempty"`
}

// LimitsUpdate changes the limits that are set; nil ones stay. A pointer to 0
// removes that limit.
type LimitsUpdate struct {
	MaxPartitions     *int   `json:"maxPartitions,omitempty"`
	MaxBytesPerSecond *int64 `json:"maxBytesPerSecond,omitempty"`
}

// TenantRequest creates a tenant and its data topic (POST /v1/tenants). Zero
// settings take the server's defaults.
type TenantRequest struct {
	Name              string            `json:"name"`
	Region            string            `json:"region"`
	Partitions        int32             `json:"partitions,omitempty"`
	ReplicationFactor int16             `json:"replicationFactor,omitempty"`
	RetentionMs       int64             `json:"retentionMs,omitempty"`
	Configs           map[string]string `json:"configs,omitempty"`
	// Cluster pins the data topic to a cluster instead of letting
	// placement choose.
	Cluster string `json:"cluster,omitempty"`
}

// TopicUpdate adds partitions to a topic or sets its configs
// (PATCH /v1/clusters/{cluster}/topics/{topic}). Partitions is the new total
// and can only grow.
type TopicUpdate struct {
	Partitions int32             `json:"partitions,omitempty"`
	Configs    map[string]string `json:"configs,omitempty"`
}

// TopicFilter narrows Topics; empty fields do not filter.
type TopicFilter struct {
	Cluster string
	Tenant  string
}

// OperationFilter narrows Operations; zero fields do not filter.
type OperationFilter struct {
	State  catalog.OpState
	Tenant string
	// Limit is the most operations returned, newest first: the server's
	// default (100) when 0, at most 1000.
	Limit int
}

// EventFilter narrows Events; zero fields do not filter.
type EventFilter struct {
	Kind    string
	Cluster string
	Tenant  string
	// Since keeps events at or after this time.
	Since time.Time
	// AfterID keeps events with a larger id: the last id of the previous
	// page.
	AfterID int64
	// Limit is the most events returned, oldest first: the server's default
	// (100) when 0, at most 1000.
	Limit int
}

// Clusters lists the registered clusters, by name.
func (c *Client) Clusters(ctx context.Context) ([]Cluster, error) {
	var out struct {
		Clusters []Cluster `json:"clusters"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/clusters", nil, nil, &out)
	return out.Clusters, err
}

// Cluster returns one cluster.
func (c *Client) Cluster(ctx context.Context, name string) (Cluster, error) {
	var out Cluster
	if err := named("cluster", name); err != nil {
		return out, err
	}
	err := c.do(ctx, http.MethodGet, "/v1/clusters/"+url.PathEscape(name), nil, nil, &out)
	return out, err
}

// RegisterCluster registers a cluster; the server checks that a broker
// answers first.
func (c *Client) RegisterCluster(ctx context.Context, r ClusterRequest) (Cluster, error) {
	var out Cluster
	err := c.do(ctx, http.MethodPost, "/v1/clusters", nil, r, &out)
	return out, err
}

// UpdateCluster changes the fields u sets and returns the cluster as stored.
func (c *Client) UpdateCluster(ctx context.Context, name string, u ClusterUpdate) (Cluster, error) {
	var out Cluster
	if err := named("cluster", name); err != nil {
		return out, err
	}
	err := c.do(ctx, http.MethodPatch, "/v1/clusters/"+url.PathEscape(name), nil, u, &out)
	return out, err
}

// DeregisterCluster removes a cluster that holds no tenant topics; the
// cluster itself is not touched.
func (c *Client) DeregisterCluster(ctx context.Context, name string) error {
	if err := named("cluster", name); err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/clusters/"+url.PathEscape(name), nil, nil, nil)
}

// Tenants lists every tenant, by name.
func (c *Client) Tenants(ctx context.Context) ([]Tenant, error) {
	var out struct {
		Tenants []Tenant `json:"tenants"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/tenants", nil, nil, &out)
	return out.Tenants, err
}

// Tenant returns one tenant.
func (c *Client) Tenant(ctx context.Context, name string) (Tenant, error) {
	var out Tenant
	if err := named("tenant", name); err != nil {
		return out, err
	}
	err := c.do(ctx, http.MethodGet, "/v1/tenants/"+url.PathEscape(name), nil, nil, &out)
	return out, err
}

// CreateTenant creates a tenant and its data topic.
func (c *Client) CreateTenant(ctx context.Context, r TenantRequest) (Tenant, error) {
	var out Tenant
	err := c.do(ctx, http.MethodPost, "/v1/tenants", nil, r, &out)
	return out, err
}

// DeleteTenant deletes a tenant and its data topic with every record in it.
func (c *Client) DeleteTenant(ctx context.Context, name string) error {
	if err := named("tenant", name); err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/tenants/"+url.PathEscape(name), nil, nil, nil)
}

// MoveTenant makes an existing topic on a registered cluster the tenant's
// data topic; its jobs follow (docs/jobs.md, reliable update).
func (c *Client) MoveTenant(ctx context.Context, name, cluster, topic string) (Tenant, error) {
	var out Tenant
	if err := named("tenant", name); err != nil {
		return out, err
	}
	body := struct {
		Cluster string `json:"cluster"`
		Topic   string `json:"topic"`
	}{cluster, topic}
	err := c.do(ctx, http.MethodPost, "/v1/tenants/"+url.PathEscape(name)+"/move", nil, body, &out)
	return out, err
}

// Route returns where producers write the tenant's records.
func (c *Client) Route(ctx context.Context, tenant string) (Route, error) {
	var out Route
	if err := named("tenant", tenant); err != nil {
		return out, err
	}
	err := c.do(ctx, http.MethodGet, "/v1/tenants/"+url.PathEscape(tenant)+"/route", nil, nil, &out)
	return out, err
}

// Topics lists recorded tenant topics.
func (c *Client) Topics(ctx context.Context, f TopicFilter) ([]Topic, error) {
	q := url.Values{}
	setIf(q, "cluster", f.Cluster)
	setIf(q, "tenant", f.Tenant)
	var out struct {
		Topics []Topic `json:"topics"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/topics", q, nil, &out)
	return out.Topics, err
}

// Topic returns one recorded topic.
func (c *Client) Topic(ctx context.Context, cluster, topic string) (Topic, error) {
	var out Topic
	p, err := topicPath(cluster, topic)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, http.MethodGet, p, nil, nil, &out)
	return out, err
}

// UpdateTopic raises a topic's partition count and/or sets its configs, and
// returns the topic as recorded afterwards.
func (c *Client) UpdateTopic(ctx context.Context, cluster, topic string, u TopicUpdate) (Topic, error) {
	var out Topic
	p, err := topicPath(cluster, topic)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, http.MethodPatch, p, nil, u, &out)
	return out, err
}

func topicPath(cluster, topic string) (string, error) {
	if err := named("cluster", cluster); err != nil {
		return "", err
	}
	if err := named("topic", topic); err != nil {
		return "", err
	}
	return "/v1/clusters/" + url.PathEscape(cluster) + "/topics/" + url.PathEscape(topic), nil
}

// Operations lists recorded Kafka operations, newest first.
func (c *Client) Operations(ctx context.Context, f OperationFilter) ([]Operation, error) {
	q := url.Values{}
	setIf(q, "state", string(f.State))
	setIf(q, "tenant", f.Tenant)
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out struct {
		Operations []Operation `json:"operations"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/operations", q, nil, &out)
	return out.Operations, err
}

// Events lists events, oldest first. To page, pass the last id seen as
// AfterID.
func (c *Client) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	q := url.Values{}
	setIf(q, "kind", f.Kind)
	setIf(q, "cluster", f.Cluster)
	setIf(q, "tenant", f.Tenant)
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if f.AfterID > 0 {
		q.Set("afterId", strconv.FormatInt(f.AfterID, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out struct {
		Events []Event `json:"events"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/events", q, nil, &out)
	return out.Events, err
}

// Nodes lists the Sluice processes that have registered.
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	var out struct {
		Nodes []Node `json:"nodes"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/nodes", nil, nil, &out)
	return out.Nodes, err
}

func setIf(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}

// Explain analyses a query against a tenant's schema and returns its plan.
func (c *Client) Explain(ctx context.Context, tenant string, r ExplainRequest) (Explanation, error) {
	var out Explanation
	if err := named("tenant", tenant); err != nil {
		return out, err
	}
	err := c.do(ctx, http.MethodPost, "/v1/tenants/"+url.PathEscape(tenant)+"/explain", nil, r, &out)
	return out, err
}

package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// ClusterView is a cluster as the API shows it: connection secrets are
// never returned, only whether they are set.
type ClusterView struct {
	Name             string               `json:"name"`
	Region           string               `json:"region"`
	BootstrapServers []string             `json:"bootstrapServers"`
	TLS              *TLSView             `json:"tls,omitempty"`
	SASL             *SASLView            `json:"sasl,omitempty"`
	Limits           catalog.Limits       `json:"limits"`
	State            catalog.ClusterState `json:"state" enum:"active,draining,unreachable" doc:"unreachable when the last probe failed, else what the operator set."`
	Reachable        bool                 `json:"reachable"`
	LastSeen         time.Time            `json:"lastSeen,omitzero" doc:"When the cluster last answered a probe."`
	LastError        string               `json:"lastError,omitempty" doc:"Why the last probe failed."`
	Usage            catalog.Usage        `json:"usage"`
	CreatedAt        time.Time            `json:"createdAt"`
	UpdatedAt        time.Time            `json:"updatedAt"`
}

// TLSView is the TLS settings of a cluster, without the client key.
type TLSView struct {
	Enabled            bool   `json:"enabled"`
	CACert             string `json:"caCert,omitempty"`
	ClientCert         string `json:"clientCert,omitempty"`
	ClientKeySet       bool   `json:"clientKeySet" doc:"Whether a client key is stored (it is never returned)."`
	ServerName         string `json:"serverName,omitempty"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty"`
}

// SASLView is the SASL settings of a cluster, without the password.
type SASLView struct {
	Mechanism   string `json:"mechanism"`
	Username    string `json:"username"`
	PasswordSet bool   `json:"passwordSet" doc:"Whether a password is stored (it is never returned)."`
}

func viewCluster(c catalog.Cluster) ClusterView {
	v := ClusterView{Name: c.Name, Region: c.Region, BootstrapServers: c.Connection.Bootstrap, Limits: c.Limits,
		State: c.State(), Reachable: c.Reachable, LastSeen: c.LastSeen, LastError: c.LastError, Usage: c.Usage,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if t := c.Connection.TLS; t != nil {
		v.TLS = &TLSView{Enabled: t.Enabled, CACert: t.CACert, ClientCert: t.ClientCert, ClientKeySet: t.ClientKey != "",
			ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	}
	if s := c.Connection.SASL; s != nil {
		v.SASL = &SASLView{Mechanism: s.Mechanism, Username: s.Username, PasswordSet: s.Password != ""}
	}
	return v
}

type clusterBody struct {
	Body ClusterView
}

type clusterInput struct {
	Body struct {
		Name             string          `json:"name" pattern:"^[a-z0-9][a-z0-9-]{0,63}$" doc:"Unique name."`
		Region           string          `json:"region" pattern:"^[a-z0-9][a-z0-9-]{0,63}$"`
		BootstrapServers []string        `json:"bootstrapServers" minItems:"1" doc:"host:port of one or more brokers; at least one must answer."`
		TLS              *kafkaconn.TLS  `json:"tls,omitempty"`
		SASL             *kafkaconn.SASL `json:"sasl,omitempty"`
		Limits           catalog.Limits  `json:"limits,omitempty"`
		State            string          `json:"state,omitempty" enum:"active,draining" default:"active"`
	}
}

type clusterPatch struct {
	Name string `path:"cluster"`
	Body struct {
		Region           *string         `json:"region,omitempty" pattern:"^[a-z0-9][a-z0-9-]{0,63}$"`
		BootstrapServers []string        `json:"bootstrapServers,omitempty" doc:"Replaces the bootstrap servers; the new ones must answer."`
		TLS              *kafkaconn.TLS  `json:"tls,omitempty" doc:"Replaces the TLS settings; an empty clientKey keeps the stored one; {\"enabled\": false} turns TLS off."`
		SASL             *kafkaconn.SASL `json:"sasl,omitempty" doc:"Replaces the SASL settings; an empty password keeps the stored one."`
		Limits           *limitsPatch    `json:"limits,omitempty" doc:"Changes the given limits; the others stay."`
		State            *string         `json:"state,omitempty" enum:"active,draining"`
	}
}

type limitsPatch struct {
	MaxPartitions     *int   `json:"maxPartitions,omitempty" minimum:"0"`
	MaxBytesPerSecond *int64 `json:"maxBytesPerSecond,omitempty" minimum:"0"`
}

type clusterPath struct {
	Name string `path:"cluster"`
}

type tenantPath struct {
	Name string `path:"tenant"`
}

type moveTenantInput struct {
	Name string `path:"tenant"`
	Body struct {
		Cluster string `json:"cluster" minLength:"1" doc:"A registered cluster."`
		Topic   string `json:"topic" minLength:"1" doc:"An existing topic on it."`
	}
}

type tenantInput struct {
	Body struct {
		Name              string            `json:"name" pattern:"^[a-z0-9][a-z0-9-]{0,63}$" doc:"Unique name; the data topic is sluice.tenant.<name>.1."`
		Region            string            `json:"region" pattern:"^[a-z0-9][a-z0-9-]{0,63}$" doc:"The topic goes to an active cluster of this region."`
		Partitions        int32             `json:"partitions,omitempty" minimum:"1" maximum:"10000" doc:"Partitions of the data topic; default 6."`
		ReplicationFactor int16             `json:"replicationFactor,omitempty" minimum:"1" doc:"Default: 3, or the cluster's broker count if smaller."`
		RetentionMs       int64             `json:"retentionMs,omitempty" minimum:"1" doc:"retention.ms of the data topic; default 7 days."`
		Configs           map[string]string `json:"configs,omitempty" doc:"Further topic-level configs of the data topic."`
		Cluster           string            `json:"cluster,omitempty" doc:"Pin the topic to this cluster instead of letting placement choose."`
	}
}

type tenantBody struct {
	Body catalog.Tenant
}

type topicPath struct {
	Cluster string `path:"cluster"`
	Topic   string `path:"topic"`
}

type topicPatch struct {
	Cluster string `path:"cluster"`
	Topic   string `path:"topic"`
	Body    struct {
		Partitions int32             `json:"partitions,omitempty" minimum:"1" maximum:"10000" doc:"New total partition count; it can only grow."`
		Configs    map[string]string `json:"configs,omitempty" doc:"Topic-level configs to set."`
	}
}

// RegisterCatalog adds the metadata service's operations.
func RegisterCatalog(api huma.API, svc *catalog.Service) {
	tags := []string{"Clusters"}
	huma.Register(api, huma.Operation{
		OperationID: "create-cluster", Method: http.MethodPost, Path: "/v1/clusters", Tags: tags,
		Summary:       "Register a Kafka cluster",
		Description:   "Registers a cluster after checking that a broker answers. Secrets (TLS client key, SASL password) are stored and never returned.",
		DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *clusterInput) (*clusterBody, error) {
		b := in.Body
		c, err := svc.RegisterCluster(ctx, catalog.ClusterSpec{Name: b.Name, Region: b.Region,
			Connection: kafkaconn.Config{Bootstrap: b.BootstrapServers, TLS: b.TLS, SASL: b.SASL},
			Limits:     b.Limits, State: catalog.ClusterState(b.State)})
		if err != nil {
			return nil, problem(ctx, err)
		}
		return &clusterBody{viewCluster(c)}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "list-clusters", Method: http.MethodGet, Path: "/v1/clusters", Tags: tags,
		Summary: "List Kafka clusters",
	}, func(ctx context.Context, _ *struct{}) (*struct {
		Body struct {
			Clusters []ClusterView `json:"clusters"`
		}
	}, error) {
		list, err := svc.Clusters(ctx)
		if err != nil {
			return nil, problem(ctx, err)
		}
		out := &struct {
			Body struct {
				Clusters []ClusterView `json:"clusters"`
			}
		}{}
		out.Body.Clusters = make([]ClusterView, len(list))
		for i, c := range list {
			out.Body.Clusters[i] = viewCluster(c)
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-cluster", Method: http.MethodGet, Path: "/v1/clusters/{cluster}", Tags: tags,
		Summary: "Get a Kafka cluster",
	}, func(ctx context.Context, in *clusterPath) (*clusterBody, error) {
		c, err := svc.Cluster(ctx, in.Name)
		if err != nil {
			return nil, problem(ctx, err)
		}
		return &clusterBody{viewCluster(c)}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "update-cluster", Method: http.MethodPatch, Path: "/v1/clusters/{cluster}", Tags: tags,
		Summary:     "Change a Kafka cluster",
		Description: "Changes the given fields. New connection settings must answer before they are saved, and change the route of every tenant on the cluster. Set state to draining to stop placing tenants on it.",
	}, func(ctx context.Context, in *clusterPatch) (*clusterBody, error) {
		cur, err := svc.Cluster(ctx, in.Name)
		if err != nil {
			return nil, problem(ctx, err)
		}
		b := in.Body
		u := catalog.ClusterUpdate{Region: b.Region}
		if b.Limits != nil {
			lim := cur.Limits
			if b.Limits.MaxPartitions != nil {
				lim.MaxPartitions = *b.Limits.MaxPartitions
			}
			if b.Limits.MaxBytesPerSecond != nil {
				lim.MaxBytesPerSecond = *b.Limits.MaxBytesPerSecond
			}
			u.Limits = &lim
		}
		if b.State != nil {
			st := catalog.ClusterState(*b.State)
			u.State = &st
		}
		if b.BootstrapServers != nil || b.TLS != nil || b.SASL != nil {
			conn := cur.Connection
			if b.BootstrapServers != nil {
				conn.Bootstrap = b.BootstrapServers
			}
			switch {
			case b.TLS != nil && !b.TLS.Enabled:
				conn.TLS = nil // {"enabled": false} turns TLS off, stored key and all
			case b.TLS != nil:
				t := *b.TLS
				if t.ClientKey == "" && conn.TLS != nil {
					t.ClientKey = conn.TLS.ClientKey
				}
				conn.TLS = &t
			}
			if b.SASL != nil {
				s := *b.SASL
				if s.Password == "" && conn.SASL != nil {
					s.Password = conn.SASL.Password
				}
				conn.SASL = &s
			}
			u.Connection = &conn
		}
		c, err := svc.UpdateCluster(ctx, in.Name, u)
		if err != nil {
			return nil, problem(ctx, err)
		}
		return &clusterBody{viewCluster(c)}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "delete-cluster", Method: http.MethodDelete, Path: "/v1/clusters/{cluster}", Tags: tags,
		Summary:       "Deregister a Kafka cluster",
		Description:   "Refused with 409 while the cluster holds tenant topics. Nothing on the cluster itself changes.",
		DefaultStatus: http.StatusNoContent,
	}, func(ctx context.Context, in *clusterPath) (*struct{}, error) {
		if err := svc.DeregisterCluster(ctx, in.Name); err != nil {
			return nil, problem(ctx, err)
		}
		return nil, nil
	})

	registerTenants(api, svc)
	registerTopics(api, svc)
}

func registerTenants(api huma.API, svc *catalog.Service) {
	tags := []string{"Tenants"}
	huma.Register(api, huma.Operation{
		OperationID: "create-tenant", Method: http.MethodPost, Path: "/v1/tenants", Tags: tags,
		Summary: "Create a tenant and its data topic",
		Description: "Chooses a cluster (same region, active, reachable, with headroom, least loaded), records the tenant and creates its topic. " +
			"409 when no cluster can take it, with each cluster's reason; 503 when the cluster does not answer in time " +
			"(the operation is recorded and the reconciler finishes it).",
		DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *tenantInput) (*tenantBody, error) {
		b := in.Body
		t, err := svc.CreateTenant(ctx, catalog.TenantSpec{Name: b.Name, Region: b.Region, Partitions: b.Partitions,
			ReplicationFactor: b.ReplicationFactor, Retention: time.Duration(b.RetentionMs) * time.Millisecond,
			Configs: b.Configs, Cluster: b.Cluster})
		if err != nil {
			return nil, problem(ctx, err)
		}
		return &tenantBody{t}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "list-tenants", Method: http.MethodGet, Path: "/v1/tenants", Tags: tags,
		Summary: "List tenants",
	}, func(ctx context.Context, _ *struct{}) (*struct {
		Body struct {
			Tenants []catalog.Tenant `json:"tenants"`
		}
	}, error) {
		list, err := svc.Tenants(ctx)
		if err != nil {
			return nil, problem(ctx, err)
		}
		out := &struct {
			Body struct {
				Tenants []catalog.Tenant `json:"tenants"`
			}
		}{}
		out.Body.Tenants = append([]catalog.Tenant{}, list...)
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-tenant", Method: http.MethodGet, Path: "/v1/tenants/{tenant}", Tags: tags,
		Summary: "Get a tenant",
	}, func(ctx context.Context, in *tenantPath) (*tenantBody, error) {
		t, err := svc.Tenant(ctx, in.Name)
		if err != nil {
			return nil, problem(ctx, err)
		}
		return &tenantBody{t}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "delete-tenant", Method: http.MethodDelete, Path: "/v1/tenants/{tenant}", Tags: tags,
		Summary:       "Delete a tenant and its data topic",
		Description:   "Deletes the tenant's topic from Kafka, with every record in it, then the tenant.",
		DefaultStatus: http.StatusNoContent,
	}, func(ctx context.Context, in *tenantPath) (*struct{}, error) {
		if err := svc.DeleteTenant(ctx, in.Name); err != nil {
			return nil, problem(ctx, err)
		}
		return nil, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-route", Method: http.MethodGet, Path: "/v1/tenants/{tenant}/route", Tags: tags,
		Summary: "Where a producer writes a tenant's records",
		Description: "Bootstrap servers and topic of the tenant's data topic, and a route version that changes whenever they do. " +
			"Producers cache the route and refetch it when writes fail or periodically.",
	}, func(ctx context.Context, in *tenantPath) (*struct{ Body catalog.Route }, error) {
		r, err := svc.Route(ctx, in.Name)
		if err != nil {
			return nil, problem(ctx, err)
		}
		return &struct{ Body catalog.Route }{r}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "move-tenant", Method: http.MethodPost, Path: "/v1/tenants/{tenant}/move", Tags: tags,
		Summary: "Move a tenant to another data topic",
		Description: "Makes an existing topic on a registered cluster (a copy of the tenant's topic on another cluster, say) the tenant's data topic. " +
			"The route changes, so producers move; every job of the tenant reads its old topic to the end (no record written there for 3 seconds), " +
			"then moves to the new topic, which it reads from its start, as a new epoch (docs/jobs.md).",
	}, func(ctx context.Context, in *moveTenantInput) (*tenantBody, error) {
		t, err := svc.MoveTenant(ctx, in.Name, in.Body.Cluster, in.Body.Topic)
		if err != nil {
			return nil, problem(ctx, err)
		}
		return &tenantBody{t}, nil
	})
}

func registerTopics(api huma.API, svc *catalog.Service) {
	tags := []string{"Topics"}
	huma.Register(api, huma.Operation{
		OperationID: "list-topics", Method: http.MethodGet, Path: "/v1/topics", Tags: tags,
		Summary: "List tenant topics",
	}, func(ctx context.Context, in *struct {
		Cluster string `query:"cluster" doc:"Only topics on this cluster."`
		Tenant  string `query:"tenant" doc:"Only this tenant's topics."`
	}) (*struct {
		Body struct {
			Topics []catalog.Topic `json:"topics"`
		}
	}, error) {
		list, err := svc.Topics(ctx, catalog.TopicFilter{Cluster: in.Cluster, Tenant: in.Tenant})
		if err != nil {
			return nil, problem(ctx, err)
		}
		out := &struct {
			Body struct {
				Topics []catalog.Topic `json:"topics"`
			}
		}{}
		out.Body.Topics = append([]catalog.Topic{}, list...)
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-topic", Method: http.MethodGet, Path: "/v1/clusters/{cluster}/topics/{topic}", Tags: tags,
		Summary: "Get a tenant topic",
	}, func(ctx context.Context, in *topicPath) (*struct{ Body catalog.Topic }, error) {
		t, err := svc.Topic(ctx, in.Cluster, in.Topic)
		if err != nil {
			return nil, problem(ctx, err)
		}
		return &struct{ Body catalog.Topic }{t}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "update-topic", Method: http.MethodPatch, Path: "/v1/clusters/{cluster}/topics/{topic}", Tags: tags,
		Summary: "Add partitions to a tenant topic or set its configs",
		Description: "partitions sets the new total; Kafka cannot remove partitions, so a lower count is refused (shrink a topic by migrating the tenant). " +
			"configs are set on the topic and then watched for drift.",
	}, func(ctx context.Context, in *topicPatch) (*struct{ Body catalog.Topic }, error) {
		if in.Body.Partitions == 0 && len(in.Body.Configs) == 0 {
			return nil, huma.Error422UnprocessableEntity("give partitions or configs")
		}
		var t catalog.Topic
		var err error
		if in.Body.Partitions != 0 {
			if t, err = svc.SetPartitions(ctx, in.Cluster, in.Topic, in.Body.Partitions); err != nil {
				return nil, problem(ctx, err)
			}
		}
		if len(in.Body.Configs) > 0 {
			if t, err = svc.SetTopicConfigs(ctx, in.Cluster, in.Topic, in.Body.Configs); err != nil {
				return nil, problem(ctx, err)
			}
		}
		return &struct{ Body catalog.Topic }{t}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "list-operations", Method: http.MethodGet, Path: "/v1/operations", Tags: tags,
		Summary:     "List Kafka operations",
		Description: "Every Kafka operation the catalog recorded, newest first: pending ones are being applied or will be finished by the reconciler.",
	}, func(ctx context.Context, in *struct {
		State  string `query:"state" enum:"pending,done,failed"`
		Tenant string `query:"tenant"`
		Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
	}) (*struct {
		Body struct {
			Operations []catalog.Operation `json:"operations"`
		}
	}, error) {
		list, err := svc.ListOperations(ctx, catalog.OpFilter{State: catalog.OpState(in.State), Tenant: in.Tenant, Limit: in.Limit})
		if err != nil {
			return nil, problem(ctx, err)
		}
		out := &struct {
			Body struct {
				Operations []catalog.Operation `json:"operations"`
			}
		}{}
		out.Body.Operations = append([]catalog.Operation{}, list...)
		return out, nil
	})
}

// RegisterEvents adds GET /v1/events.
func RegisterEvents(api huma.API, log *events.Log) {
	huma.Register(api, huma.Operation{
		OperationID: "list-events", Method: http.MethodGet, Path: "/v1/events", Tags: []string{"Events"},
		Summary: "List events",
		Description: "What Sluice's control loops observed: clusters becoming unreachable or recovering, topics missing, " +
			"partition counts changed outside Sluice, config drift, operations recovered. Oldest first; page with afterId.",
	}, func(ctx context.Context, in *struct {
		Kind    string    `query:"kind" doc:"e.g. topic.partitions_adopted"`
		Cluster string    `query:"cluster"`
		Tenant  string    `query:"tenant"`
		Since   time.Time `query:"since" doc:"RFC 3339 time; only events at or after it."`
		AfterID int64     `query:"afterId" minimum:"0" doc:"Only events with a larger id: the last id of the previous page."`
		Limit   int       `query:"limit" minimum:"1" maximum:"1000" default:"100"`
	}) (*struct {
		Body struct {
			Events []events.Event `json:"events"`
		}
	}, error) {
		list, err := log.List(ctx, events.Filter{Kind: in.Kind, Cluster: in.Cluster, Tenant: in.Tenant,
			Since: in.Since, AfterID: in.AfterID, Limit: in.Limit})
		if err != nil {
			return nil, problem(ctx, err)
		}
		out := &struct {
			Body struct {
				Events []events.Event `json:"events"`
			}
		}{}
		out.Body.Events = append([]events.Event{}, list...)
		return out, nil
	})
}

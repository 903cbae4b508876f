package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sluicehq/sluice/internal/fleet"
)

// NodeLister lists the running Sluice processes.
type NodeLister interface {
	List(ctx context.Context) ([]fleet.Node, error)
}

// NodeStatus is a node with whether it is alive.
type NodeStatus struct {
	fleet.Node
	Alive bool `json:"alive" doc:"Whether the node has sent a heartbeat within the last 30 seconds."`
}

type nodesOutput struct {
	Body struct {
		Nodes []NodeStatus `json:"nodes"`
	}
}

// RegisterNodes adds GET /v1/nodes.
func RegisterNodes(api huma.API, nodes NodeLister) {
	huma.Register(api, huma.Operation{
		OperationID: "list-nodes",
		Method:      http.MethodGet,
		Path:        "/v1/nodes",
		Summary:     "List Sluice processes",
		Description: "Every server and worker process that has registered, with its version, roles and last heartbeat. " +
			"A process that stopped cleanly is removed at once; one that died stays listed as not alive for a day.",
		Tags: []string{"Nodes"},
	}, func(ctx context.Context, _ *struct{}) (*nodesOutput, error) {
		list, err := nodes.List(ctx)
		if err != nil {
			return nil, problem(ctx, err)
		}
		out := &nodesOutput{}
		out.Body.Nodes = make([]NodeStatus, 0, len(list))
		now := time.Now()
		for _, n := range list {
			out.Body.Nodes = append(out.Body.Nodes, NodeStatus{Node: n, Alive: fleet.Alive(n, now, fleet.DefaultTTL)})
		}
		return out, nil
	})
}

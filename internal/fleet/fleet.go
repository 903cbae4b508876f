// Package fleet tracks the running Sluice processes — servers, workers and
// dev instances — through heartbeats in the store, so operators can see what
// runs where and later components (task assignment, rolling update) know
// which workers are alive.
package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sluicehq/sluice/internal/store"
)

// Defaults for Heartbeater, overridable through its fields.
const (
	DefaultInterval = 10 * time.Second
	// DefaultTTL is how long a node counts as alive after its last heartbeat.
	DefaultTTL = 30 * time.Second
	// forgetAfter is how long a silent node stays listed before it is
	// removed, so a crashed worker is visible for a while and then goes.
	forgetAfter = 24 * time.Hour
)

// Node is one running Sluice process.
type Node struct {
	ID          string    `json:"id" doc:"Unique per process start."`
	Hostname    string    `json:"hostname"`
	Version     string    `json:"version" doc:"Sluice version the process runs."`
	Roles       []string  `json:"roles" doc:"What the process does: server, worker."`
	StartedAt   time.Time `json:"startedAt"`
	HeartbeatAt time.Time `json:"heartbeatAt"`
}

// Registry reads and writes nodes in the store. It is safe for concurrent use.
type Registry struct {
	db  *store.Store
	now func() time.Time
}

// NewRegistry returns a registry over db.
func NewRegistry(db *store.Store) *Registry {
	return &Registry{db: db, now: time.Now}
}

// NewNode describes this process with a fresh id.
func NewNode(version string, roles ...string) Node {
	host, _ := os.Hostname()
	return Node{ID: uuid.NewString(), Hostname: host, Version: version, Roles: roles}
}

// Beat records that n is alive now, registering it on its first beat.
func (r *Registry) Beat(ctx context.Context, n *Node) error {
	now := r.now().UTC()
	if n.StartedAt.IsZero() {
		n.StartedAt = now
	}
	n.HeartbeatAt = now
	_, err := r.db.Exec(ctx, `INSERT INTO workers (id, hostname, version, roles, started_at, heartbeat_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
		n.ID, n.Hostname, n.Version, strings.Join(n.Roles, ","), n.StartedAt, n.HeartbeatAt)
	if err != nil {
		return fmt.Errorf("heartbeat node %s: %w", n.ID, err)
	}
	return nil
}

// Remove deletes a node, as it does when it shuts down cleanly.
func (r *Registry) Remove(ctx context.Context, id string) error {
	if _, err := r.db.Exec(ctx, `DELETE FROM workers WHERE id = ?`, id); err != nil {
		return fmt.Errorf("remove node %s: %w", id, err)
	}
	return nil
}

// forget removes nodes silent since before cutoff.
func (r *Registry) forget(ctx context.Context, cutoff time.Time) error {
	if _, err := r.db.Exec(ctx, `DELETE FROM workers WHERE heartbeat_at < ?`, cutoff.UTC()); err != nil {
		return fmt.Errorf("forget silent nodes: %w", err)
	}
	return nil
}

// List returns every known node, oldest first.
func (r *Registry) List(ctx context.Context) ([]Node, error) {
	rows, err := r.db.Query(ctx, `SELECT id, hostname, version, roles, started_at, heartbeat_at
		FROM workers ORDER BY started_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	defer rows.Close()
	var nodes []Node
	for rows.Next() {
		var n Node
		var roles string
		if err := rows.Scan(&n.ID, &n.Hostname, &n.Version, &roles, &n.StartedAt, &n.HeartbeatAt); err != nil {
			return nil, fmt.Errorf("list nodes: %w", err)
		}
		if roles != "" {
			n.Roles = strings.Split(roles, ",")
		}
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return nodes, nil
}

// Alive reports whether n has beaten within ttl of now.
func Alive(n Node, now time.Time, ttl time.Duration) bool {
	return now.Sub(n.HeartbeatAt) <= ttl
}

// Heartbeater keeps one node registered while it runs.
type Heartbeater struct {
	Registry *Registry
	Node     Node
	Interval time.Duration // overriding DefaultInterval
	Logger   *slog.Logger
}

// Run beats every Interval until ctx ends, then removes the node. A failed
// beat is logged and retried at the next tick: the store being briefly
// unavailable must not stop the process.
func (h *Heartbeater) Run(ctx context.Context) error {
	interval := h.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := h.Registry.Beat(ctx, &h.Node); err != nil {
		return err
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := h.Registry.Remove(rctx, h.Node.ID); err != nil {
				log.Warn("could not deregister node", "node", h.Node.ID, "err", err)
			}
			return nil
		case <-t.C:
			if err := h.Registry.Beat(ctx, &h.Node); err != nil && ctx.Err() == nil {
				log.Warn("heartbeat failed", "err", err)
			}
			if err := h.Registry.forget(ctx, h.Registry.now().Add(-forgetAfter)); err != nil && ctx.Err() == nil {
				log.Warn("forgetting silent nodes failed", "err", err)
			}
		}
	}
}

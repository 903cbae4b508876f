package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// The functions in this file read and write the catalog's tables. They take a
// store.Querier so they run inside or outside a transaction alike.

const clusterColumns = `name, region, connection, max_partitions, max_bytes_per_sec, admin_state,
	reachable, last_seen_at, last_error, brokers, observed_partitions, observed_bytes,
	observed_bytes_per_sec, observed_at, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanCluster(r scanner) (Cluster, error) {
	var c Cluster
	var conn string
	var lastSeen, observedAt sql.NullTime
	err := r.Scan(&c.Name, &c.Region, &conn, &c.Limits.MaxPartitions, &c.Limits.MaxBytesPerSecond, &c.AdminState,
		&c.Reachable, &lastSeen, &c.LastError, &c.Usage.Brokers, &c.Usage.Partitions, &c.Usage.Bytes,
		&c.Usage.BytesPerSecond, &observedAt, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	c.LastSeen, c.Usage.MeasuredAt = lastSeen.Time, observedAt.Time
	if err := json.Unmarshal([]byte(conn), &c.Connection); err != nil {
		return c, fmt.Errorf("cluster %s: stored connection: %w", c.Name, err)
	}
	return c, nil
}

func getCluster(ctx context.Context, q store.Querier, name string) (Cluster, error) {
	c, err := scanCluster(q.QueryRow(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE name = ?`, name))
	if errors.Is(err, store.ErrNotFound) {
		return c, notFound("cluster %q is not registered", name)
	}
	if err != nil {
		return c, fmt.Errorf("read cluster %s: %w", name, err)
	}
	return c, nil
}

func listClusters(ctx context.Context, q store.Querier) ([]Cluster, error) {
	rows, err := q.Query(ctx, `SELECT `+clusterColumns+` FROM clusters ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	defer rows.Close()
	var out []Cluster
	for rows.Next() {
		c, err := scanCluster(rows)
		if err != nil {
			return nil, fmt.Errorf("list clusters: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	return out, nil
}

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t.UTC(), Valid: !t.IsZero()} }

func insertCluster(ctx context.Context, q store.Querier, c Cluster) error {
	conn, err := json.Marshal(c.Connection)
	if err != nil {
		return fmt.Errorf("encode connection: %w", err)
	}
	_, err = q.Exec(ctx, `INSERT INTO clusters (`+clusterColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Name, c.Region, string(conn), c.Limits.MaxPartitions, c.Limits.MaxBytesPerSecond, c.AdminState,
		c.Reachable, nullTime(c.LastSeen), c.LastError, c.Usage.Brokers, c.Usage.Partitions, c.Usage.Bytes,
		c.Usage.BytesPerSecond, nullTime(c.Usage.MeasuredAt), c.CreatedAt.UTC(), c.UpdatedAt.UTC())
	if errors.Is(err, store.ErrConflict) {
		return conflict("cluster %q is already registered", c.Name)
	}
	if err != nil {
		return fmt.Errorf("insert cluster %s: %w", c.Name, err)
	}
	return nil
}

// updateClusterSpec writes what an operator can change.
func updateClusterSpec(ctx context.Context, q store.Querier, c Cluster) error {
	conn, err := json.Marshal(c.Connection)
	if err != nil {
		return fmt.Errorf("encode connection: %w", err)
	}
	_, err = q.Exec(ctx, `UPDATE clusters SET region = ?, connection = ?, max_partitions = ?,
		max_bytes_per_sec = ?, admin_state = ?, updated_at = ? WHERE name = ?`,
		c.Region, string(conn), c.Limits.MaxPartitions, c.Limits.MaxBytesPerSecond, c.AdminState,
		c.UpdatedAt.UTC(), c.Name)
	if err != nil {
		return fmt.Errorf("update cluster %s: %w", c.Name, err)
	}
	return nil
}

// updateClusterHealth writes what the probe observed.
func updateClusterHealth(ctx context.Context, q store.Querier, c Cluster) error {
	_, err := q.Exec(ctx, `UPDATE clusters SET reachable = ?, last_seen_at = ?, last_error = ?, brokers = ?,
		observed_partitions = ?, observed_bytes = ?, observed_bytes_per_sec = ?, observed_at = ?
		WHERE name = ?`,
		c.Reachable, nullTime(c.LastSeen), c.LastError, c.Usage.Brokers, c.Usage.Partitions, c.Usage.Bytes,
		c.Usage.BytesPerSecond, nullTime(c.Usage.MeasuredAt), c.Name)
	if err != nil {
		return fmt.Errorf("record health of cluster %s: %w", c.Name, err)
	}
	return nil
}

func deleteCluster(ctx context.Context, q store.Querier, name string) error {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM topics WHERE cluster = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("count topics of cluster %s: %w", name, err)
	}
	if n > 0 {
		return conflict("cluster %q still holds %d tenant topic(s): delete or migrate those tenants first", name, n)
	}
	res, err := q.Exec(ctx, `DELETE FROM clusters WHERE name = ?`, name)
	if errors.Is(err, store.ErrForeignKey) {
		return conflict("cluster %q is still referenced by tenants", name)
	}
	if err != nil {
		return fmt.Errorf("delete cluster %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("cluster %q is not registered", name)
	}
	return nil
}

// bumpRoutesOnCluster changes the route version of every tenant on a cluster
// whose connection changed, so producers refetch their route.
func bumpRoutesOnCluster(ctx context.Context, q store.Querier, cluster string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE tenants SET route_version = route_version + 1, updated_at = ? WHERE cluster = ?`,
		now.UTC(), cluster)
	if err != nil {
		return fmt.Errorf("bump routes on cluster %s: %w", cluster, err)
	}
	return nil
}

const tenantColumns = `name, region, state, cluster, topic, route_version, created_at, updated_at`

func scanTenant(r scanner) (Tenant, error) {
	var t Tenant
	err := r.Scan(&t.Name, &t.Region, &t.State, &t.Cluster, &t.Topic, &t.RouteVersion, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

func getTenant(ctx context.Context, q store.Querier, name string) (Tenant, error) {
	t, err := scanTenant(q.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE name = ?`, name))
	if errors.Is(err, store.ErrNotFound) {
		return t, notFound("tenant %q does not exist", name)
	}
	if err != nil {
		return t, fmt.Errorf("read tenant %s: %w", name, err)
	}
	return t, nil
}

func listTenants(ctx context.Context, q store.Querier) ([]Tenant, error) {
	rows, err := q.Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

func insertTenant(ctx context.Context, q store.Querier, t Tenant) error {
	_, err := q.Exec(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Name, t.Region, t.State, t.Cluster, t.Topic, t.RouteVersion, t.CreatedAt.UTC(), t.UpdatedAt.UTC())
	if errors.Is(err, store.ErrConflict) {
		return conflict("tenant %q already exists", t.Name)
	}
	if err != nil {
		return fmt.Errorf("insert tenant %s: %w", t.Name, err)
	}
	return nil
}

func setTenantState(ctx context.Context, q store.Querier, name string, state TenantState, now time.Time) error {
	if _, err := q.Exec(ctx, `UPDATE tenants SET state = ?, updated_at = ? WHERE name = ?`, state, now.UTC(), name); err != nil {
		return fmt.Errorf("set tenant %s %s: %w", name, state, err)
	}
	return nil
}

func deleteTenantRows(ctx context.Context, q store.Querier, name string) error {
	if _, err := q.Exec(ctx, `DELETE FROM topics WHERE tenant = ?`, name); err != nil {
		return fmt.Errorf("delete topics of tenant %s: %w", name, err)
	}
	if _, err := q.Exec(ctx, `DELETE FROM tenants WHERE name = ?`, name); err != nil {
		return fmt.Errorf("delete tenant %s: %w", name, err)
	}
	return nil
}

const topicColumns = `cluster, name, tenant, state, partitions, replication_factor, configs, created_at, updated_at`

func scanTopic(r scanner) (Topic, string, error) {
	var t Topic
	var configs, drift string
	err := r.Scan(&t.Cluster, &t.Name, &t.Tenant, &t.State, &t.Partitions, &t.ReplicationFactor, &configs,
		&t.CreatedAt, &t.UpdatedAt, &drift)
	if err != nil {
		return t, "", err
	}
	if err := json.Unmarshal([]byte(configs), &t.Configs); err != nil {
		return t, "", fmt.Errorf("topic %s: stored configs: %w", t.Name, err)
	}
	return t, drift, nil
}

func getTopic(ctx context.Context, q store.Querier, cluster, name string) (Topic, string, error) {
	t, drift, err := scanTopic(q.QueryRow(ctx, `SELECT `+topicColumns+`, drift FROM topics WHERE cluster = ? AND name = ?`,
		cluster, name))
	if errors.Is(err, store.ErrNotFound) {
		return t, "", notFound("no topic %q on cluster %q", name, cluster)
	}
	if err != nil {
		return t, "", fmt.Errorf("read topic %s/%s: %w", cluster, name, err)
	}
	return t, drift, nil
}

// TopicFilter narrows ListTopics; empty fields match everything.
type TopicFilter struct {
	Cluster string
	Tenant  string
}

type topicRecord struct {
	Topic
	drift string
}

func listTopics(ctx context.Context, q store.Querier, f TopicFilter) ([]topicRecord, error) {
	rows, err := q.Query(ctx, `SELECT `+topicColumns+`, drift FROM topics
		WHERE (? = '' OR cluster = ?) AND (? = '' OR tenant = ?) ORDER BY cluster, name`,
		f.Cluster, f.Cluster, f.Tenant, f.Tenant)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	defer rows.Close()
	var out []topicRecord
	for rows.Next() {
		t, drift, err := scanTopic(rows)
		if err != nil {
			return nil, fmt.Errorf("list topics: %w", err)
		}
		out = append(out, topicRecord{t, drift})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	return out, nil
}

func insertTopic(ctx context.Context, q store.Querier, t Topic) error {
	configs, err := json.Marshal(t.Configs)
	if err != nil {
		return fmt.Errorf("encode configs: %w", err)
	}
	_, err = q.Exec(ctx, `INSERT INTO topics (`+topicColumns+`, drift) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '')`,
		t.Cluster, t.Name, t.Tenant, t.State, t.Partitions, t.ReplicationFactor, string(configs),
		t.CreatedAt.UTC(), t.UpdatedAt.UTC())
	if errors.Is(err, store.ErrConflict) {
		return conflict("topic %q already exists on cluster %q", t.Name, t.Cluster)
	}
	if err != nil {
		return fmt.Errorf("insert topic %s: %w", t.Name, err)
	}
	return nil
}

func updateTopic(ctx context.Context, q store.Querier, t Topic) error {
	configs, err := json.Marshal(t.Configs)
	if err != nil {
		return fmt.Errorf("encode configs: %w", err)
	}
	_, err = q.Exec(ctx, `UPDATE topics SET state = ?, partitions = ?, replication_factor = ?, configs = ?, updated_at = ?
		WHERE cluster = ? AND name = ?`,
		t.State, t.Partitions, t.ReplicationFactor, string(configs), t.UpdatedAt.UTC(), t.Cluster, t.Name)
	if err != nil {
		return fmt.Errorf("update topic %s: %w", t.Name, err)
	}
	return nil
}

// setTopicDrift records a new finding for a topic if the recorded one is
// still old, and reports whether it did: with several servers reconciling,
// only one reports each finding.
func setTopicDrift(ctx context.Context, q store.Querier, cluster, name, old, drift string) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE topics SET drift = ? WHERE cluster = ? AND name = ? AND drift = ?`, drift, cluster, name, old)
	if err != nil {
		return false, fmt.Errorf("record drift of topic %s: %w", name, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

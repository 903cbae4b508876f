package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// The functions in this file read and write the registry's tables. They take
// a store.Querier so they run inside or outside a transaction alike.

const schemaColumns = `id, tenant, version, schema_text, canonical, fingerprint, deleted, created_at, deleted_at`

type scanner interface{ Scan(dest ...any) error }

func scanSchema(r scanner) (Schema, error) {
	var s Schema
	var deletedAt sql.NullTime
	err := r.Scan(&s.ID, &s.Tenant, &s.Version, &s.Text, &s.Canonical, &s.Fingerprint, &s.Deleted,
		&s.CreatedAt, &deletedAt)
	s.DeletedAt = deletedAt.Time
	return s, err
}

// requireTenant fails with TenantNotFound unless the catalog has the tenant.
func requireTenant(ctx context.Context, q store.Querier, tenant string) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM tenants WHERE name = ?`, tenant).Scan(&one)
	if errors.Is(err, store.ErrNotFound) {
		return tenantNotFound(tenant)
	}
	if err != nil {
		return fmt.Errorf("look up tenant %s: %w", tenant, err)
	}
	return nil
}

func querySchemas(ctx context.Context, q store.Querier, what, query string, args ...any) ([]Schema, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []Schema
	for rows.Next() {
		s, err := scanSchema(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// listSchemas returns the tenant's versions, oldest first; deleted ones
// only when includeDeleted.
func listSchemas(ctx context.Context, q store.Querier, tenant string, includeDeleted bool) ([]Schema, error) {
	return querySchemas(ctx, q, "list schemas of tenant "+tenant,
		`SELECT `+schemaColumns+` FROM schemas WHERE tenant = ? AND (? OR NOT deleted) ORDER BY version`,
		tenant, includeDeleted)
}

func getVersion(ctx context.Context, q store.Querier, tenant string, version int) (Schema, error) {
	s, err := scanSchema(q.QueryRow(ctx, `SELECT `+schemaColumns+` FROM schemas WHERE tenant = ? AND version = ?`,
		tenant, version))
	if errors.Is(err, store.ErrNotFound) {
		return s, newError(VersionNotFound, "tenant %q has no schema version %d", tenant, version)
	}
	if err != nil {
		return s, fmt.Errorf("read schema %s version %d: %w", tenant, version, err)
	}
	return s, nil
}

// getLatest returns the tenant's latest non-deleted version.
func getLatest(ctx context.Context, q store.Querier, tenant string) (Schema, error) {
	s, err := scanSchema(q.QueryRow(ctx, `SELECT `+schemaColumns+` FROM schemas
		WHERE tenant = ? AND NOT deleted ORDER BY version DESC LIMIT 1`, tenant))
	if errors.Is(err, store.ErrNotFound) {
		return s, newError(VersionNotFound, "tenant %q has no schema registered", tenant)
	}
	if err != nil {
		return s, fmt.Errorf("read latest schema of tenant %s: %w", tenant, err)
	}
	return s, nil
}

func getByID(ctx context.Context, q store.Querier, id int64) (Schema, error) {
	s, err := scanSchema(q.QueryRow(ctx, `SELECT `+schemaColumns+` FROM schemas WHERE id = ?`, id))
	if errors.Is(err, store.ErrNotFound) {
		return s, newError(SchemaNotFound, "no schema has id %d", id)
	}
	if err != nil {
		return s, fmt.Errorf("read schema id %d: %w", id, err)
	}
	return s, nil
}

// findByFingerprint returns the tenant's oldest version registered as the
// same schema — same canonical form (the indexed fingerprint) and the same
// normalized text, so defaults, docs and logical types count — deleted ones
// only when includeDeleted; ok is false when there is none.
func findByFingerprint(ctx context.Context, q store.Querier, tenant string, p *Parsed, includeDeleted bool) (Schema, bool, error) {
	list, err := querySchemas(ctx, q, "look up schema of tenant "+tenant,
		`SELECT `+schemaColumns+` FROM schemas WHERE tenant = ? AND fingerprint = ? AND (? OR NOT deleted)
		ORDER BY deleted, version`, tenant, p.Fingerprint, includeDeleted)
	if err != nil {
		return Schema{}, false, err
	}
	for _, s := range list {
		if s.Canonical == p.Canonical && normalizeText(s.Text) == p.Normalized {
			return s, true, nil
		}
	}
	return Schema{}, false, nil
}

// insertSchema stores a new version and returns its id.
func insertSchema(ctx context.Context, q store.Querier, s Schema) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO schemas (tenant, version, schema_text, canonical, fingerprint, deleted, created_at)
		VALUES (?, ?, ?, ?, ?, FALSE, ?) RETURNING id`,
		s.Tenant, s.Version, s.Text, s.Canonical, s.Fingerprint, s.CreatedAt.UTC()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert schema %s version %d: %w", s.Tenant, s.Version, err)
	}
	return id, nil
}

// nextVersion is one past the tenant's highest version, deleted ones
// included: a version number is never reused.
func nextVersion(ctx context.Context, q store.Querier, tenant string) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT version FROM schemas WHERE tenant = ? ORDER BY version DESC LIMIT 1`, tenant).Scan(&v)
	if errors.Is(err, store.ErrNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("next schema version of tenant %s: %w", tenant, err)
	}
	return v + 1, nil
}

func markDeleted(ctx context.Context, q store.Querier, tenant string, version int, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE schemas SET deleted = TRUE, deleted_at = ? WHERE tenant = ? AND version = ? AND NOT deleted`,
		now.UTC(), tenant, version)
	if err != nil {
		return fmt.Errorf("delete schema %s version %d: %w", tenant, version, err)
	}
	return nil
}

func getMode(ctx context.Context, q store.Querier, tenant string) (Mode, error) {
	var m string
	err := q.QueryRow(ctx, `SELECT compatibility FROM schema_configs WHERE tenant = ?`, tenant).Scan(&m)
	if errors.Is(err, store.ErrNotFound) {
		return DefaultMode, nil
	}
	if err != nil {
		return "", fmt.Errorf("read compatibility mode of tenant %s: %w", tenant, err)
	}
	return Mode(m), nil
}

func setMode(ctx context.Context, q store.Querier, tenant string, m Mode, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO schema_configs (tenant, compatibility, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant) DO UPDATE SET compatibility = excluded.compatibility, updated_at = excluded.updated_at`,
		tenant, string(m), now.UTC())
	if err != nil {
		return fmt.Errorf("set compatibility mode of tenant %s: %w", tenant, err)
	}
	return nil
}

// tenantsWithSchemas lists, by name, the tenants with at least one
// non-deleted version (any version when includeDeleted).
func tenantsWithSchemas(ctx context.Context, q store.Querier, includeDeleted bool) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT tenant FROM schemas WHERE ? OR NOT deleted ORDER BY tenant`, includeDeleted)
	if err != nil {
		return nil, fmt.Errorf("list tenants with schemas: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list tenants with schemas: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tenants with schemas: %w", err)
	}
	return out, nil
}

package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// SchemaInfo is one registered version of a tenant's schema, as the schema
// registry's REST API returns it.
type SchemaInfo struct {
	// ID is global: unique across tenants and never reused; what
	// Confluent-framed records carry.
	ID     int64  `json:"id"`
	Tenant string `json:"tenant"`
	// Version is per tenant, 1, 2, 3…; what the sluice-schema-version
	// record header carries.
	Version int `json:"version"`
	// Schema is the Avro schema JSON text as registered.
	Schema string `json:"schema"`
	// Fingerprint identifies the schema's canonical form.
	Fingerprint string    `json:"fingerprint"`
	CreatedAt   time.Time `json:"createdAt"`
}

// RegisterSchema registers schemaJSON, an Avro schema in JSON, as the
// tenant's next schema version (POST /v1/tenants/{tenant}/schemas). A schema
// the tenant already has comes back as its existing version rather than a
// new one, so registering is safe to repeat. A schema the tenant's
// compatibility mode refuses is a 409 *Error naming each incompatibility.
func (c *Client) RegisterSchema(ctx context.Context, tenant, schemaJSON string) (SchemaInfo, error) {
	var out SchemaInfo
	if err := named("tenant", tenant); err != nil {
		return out, err
	}
	in := struct {
		Schema string `json:"schema"`
	}{schemaJSON}
	err := c.do(ctx, http.MethodPost, schemasPath(tenant), nil, in, &out)
	return out, err
}

// LatestSchema returns the tenant's latest schema version
// (GET /v1/tenants/{tenant}/schemas/latest); a 404 *Error when it has none.
func (c *Client) LatestSchema(ctx context.Context, tenant string) (SchemaInfo, error) {
	var out SchemaInfo
	if err := named("tenant", tenant); err != nil {
		return out, err
	}
	err := c.do(ctx, http.MethodGet, schemasPath(tenant)+"/latest", nil, nil, &out)
	return out, err
}

func schemasPath(tenant string) string { return "/v1/tenants/" + url.PathEscape(tenant) + "/schemas" }

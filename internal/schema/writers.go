package schema

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/schema/wire"
)

// Writers gives a job the writer schemas of one tenant's records, by the
// reference each record carries (wire.Ref): it implements
// decode.Schemas[wire.Ref]. Versions never change once registered, so
// parsed schemas are kept for the life of the Writers.
type Writers struct {
	reg    *Registry
	tenant string

	mu     sync.Mutex
	parsed map[wire.Ref]*avro.Schema
}

// Writers returns the writer-schema lookup of a tenant.
func (r *Registry) Writers(tenant string) *Writers {
	return &Writers{reg: r, tenant: tenant, parsed: map[wire.Ref]*avro.Schema{}}
}

// WriterSchema returns the schema ref names. A version or id the registry
// does not have, or an id of another tenant's schema, is
// decode.ErrUnknownSchema; other errors are the registry's (transient).
func (w *Writers) WriterSchema(ctx context.Context, ref wire.Ref) (*avro.Schema, error) {
	w.mu.Lock()
	s, ok := w.parsed[ref]
	w.mu.Unlock()
	if ok {
		return s, nil
	}
	var got Schema
	var err error
	switch {
	case ref.Version > 0:
		got, err = w.reg.Version(ctx, w.tenant, ref.Version)
	case ref.ID > 0:
		got, err = w.reg.ByID(ctx, ref.ID)
		if err == nil && got.Tenant != w.tenant {
			return nil, fmt.Errorf("schema id %d belongs to another tenant: %w", ref.ID, decode.ErrUnknownSchema)
		}
	default:
		return nil, fmt.Errorf("empty schema reference: %w", decode.ErrUnknownSchema)
	}
	switch CodeOf(err) {
	case 0:
	case VersionNotFound, SchemaNotFound, TenantNotFound:
		return nil, fmt.Errorf("%v: %w", err, decode.ErrUnknownSchema)
	default:
		return nil, err
	}
	if s, err = avro.Parse(got.Text); err != nil {
		return nil, fmt.Errorf("registered schema %v does not parse: %w", ref, err)
	}
	w.mu.Lock()
	w.parsed[ref] = s
	w.mu.Unlock()
	return s, nil
}

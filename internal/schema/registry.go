package schema

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/store"
)

// Latest stands for a tenant's latest non-deleted version wherever a
// version number is asked for.
const Latest = -1

// registerAttempts bounds how often Register retries when a concurrent
// registration took the version number it was about to use.
const registerAttempts = 3

// Config tunes a Registry. Zero fields take the defaults named on them.
type Config struct {
	// Now is the clock, overriding time.Now.
	Now func() time.Time
}

// Registry is the schema registry. It is safe for concurrent use, and
// several Registries (in several processes) may share one store.
type Registry struct {
	db  *store.Store
	now func() time.Time
}

// New returns a Registry over db.
func New(db *store.Store, cfg Config) *Registry {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Registry{db: db, now: cfg.Now}
}

// Register adds text as the tenant's next version and reports whether it
// did. When the tenant already has a non-deleted version with the same
// canonical form, that version is returned and created is false. Otherwise
// the schema must satisfy the tenant's compatibility mode: when it does not,
// the error is Incompatible and lists every incompatibility.
func (r *Registry) Register(ctx context.Context, tenant, text string) (s Schema, created bool, err error) {
	p, err := Parse(text)
	if err != nil {
		return Schema{}, false, err
	}
	for attempt := 1; ; attempt++ {
		err = r.db.InTx(ctx, func(tx *store.Tx) error {
			created = false
			if err := requireTenant(ctx, tx, tenant); err != nil {
				return err
			}
			existing, ok, err := findByFingerprint(ctx, tx, tenant, p, false)
			if err != nil {
				return err
			}
			if ok {
				s = existing
				return nil
			}
			mode, err := getMode(ctx, tx, tenant)
			if err != nil {
				return err
			}
			if err := checkMode(ctx, tx, tenant, p, mode); err != nil {
				return err
			}
			v, err := nextVersion(ctx, tx, tenant)
			if err != nil {
				return err
			}
			s = Schema{Tenant: tenant, Version: v, Text: p.Text, Canonical: p.Canonical, Fingerprint: p.Fingerprint,
				CreatedAt: r.now().UTC().Truncate(time.Microsecond)}
			if s.ID, err = insertSchema(ctx, tx, s); err != nil {
				return err
			}
			if s.ID > wire.MaxID {
				return fmt.Errorf("register schema for tenant %s: schema id %d exceeds %d, the largest Confluent framing carries", tenant, s.ID, wire.MaxID)
			}
			created = true
			return nil
		})
		// A concurrent registration took the version number first; run
		// again to compare against it.
		if errors.Is(err, store.ErrConflict) && attempt < registerAttempts {
			continue
		}
		if err != nil {
			return Schema{}, false, err
		}
		return s, created, nil
	}
}

// checkMode checks p against what the tenant's mode requires of a new
// version.
func checkMode(ctx context.Context, q store.Querier, tenant string, p *Parsed, mode Mode) error {
	if mode == None {
		return nil
	}
	var against []Schema
	if mode.transitive() {
		list, err := listSchemas(ctx, q, tenant, false)
		if err != nil {
			return err
		}
		against = list
	} else {
		latest, err := getLatest(ctx, q, tenant)
		if CodeOf(err) == VersionNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		against = []Schema{latest}
	}
	return compare(p, against, mode)
}

// compare checks p against each version in the directions mode asks for
// and returns an Incompatible Error listing everything found, or nil.
func compare(p *Parsed, against []Schema, mode Mode) error {
	var found []Incompatibility
	versions := make([]string, len(against))
	for i, old := range against {
		versions[i] = strconv.Itoa(old.Version)
		op, err := avro.Parse(old.Text)
		if err != nil {
			return fmt.Errorf("stored schema of tenant %s version %d does not parse: %w", old.Tenant, old.Version, err)
		}
		if mode.backward() {
			for _, inc := range Check(op, p.Avro) {
				inc.Version, inc.Direction = old.Version, Reads
				found = append(found, inc)
			}
		}
		if mode.forward() {
			for _, inc := range Check(p.Avro, op) {
				inc.Version, inc.Direction = old.Version, ReadBy
				found = append(found, inc)
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	what := "version " + versions[0]
	if len(versions) > 1 {
		what = "versions " + strings.Join(versions, ", ")
	}
	return &Error{Code: Incompatible, Field: "schema", Incompatibilities: found,
		Message: fmt.Sprintf("the schema breaks the tenant's %s compatibility (checked against %s): %d incompatibilit%s",
			mode, what, len(found), plural(len(found), "y", "ies"))}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Check returns every reason reader cannot read data written with writer:
// [Incompatibilities], and should it find nothing while
// avro.CheckCompatibility (the library that decodes) objects, the library's
// objection. Nil means compatible by both.
func Check(writer, reader *avro.Schema) []Incompatibility {
	found := Incompatibilities(writer, reader)
	if len(found) > 0 {
		return found
	}
	err := avro.CheckCompatibility(writer, reader)
	if err == nil {
		return nil
	}
	var ce *avro.CompatibilityError
	if errors.As(err, &ce) {
		return []Incompatibility{{Path: ce.Path,
			Reason: fmt.Sprintf("%s (reader %s, writer %s)", ce.Detail, ce.ReaderType, ce.WriterType)}}
	}
	return []Incompatibility{{Path: "(root)", Reason: err.Error()}}
}

// Versions returns the tenant's versions, oldest first: the non-deleted ones,
// or all of them when includeDeleted.
func (r *Registry) Versions(ctx context.Context, tenant string, includeDeleted bool) ([]Schema, error) {
	if err := requireTenant(ctx, r.db, tenant); err != nil {
		return nil, err
	}
	return listSchemas(ctx, r.db, tenant, includeDeleted)
}

// Version returns one version of the tenant's schema, or the latest
// non-deleted one for Latest. A deleted version is returned too, with
// Deleted set, so records written with it stay decodable.
func (r *Registry) Version(ctx context.Context, tenant string, version int) (Schema, error) {
	if err := checkVersion(version); err != nil {
		return Schema{}, err
	}
	var s Schema
	var err error
	if version == Latest {
		s, err = getLatest(ctx, r.db, tenant)
	} else {
		s, err = getVersion(ctx, r.db, tenant, version)
	}
	if CodeOf(err) == VersionNotFound {
		if terr := requireTenant(ctx, r.db, tenant); terr != nil {
			return s, terr
		}
	}
	return s, err
}

// LatestVersion is the tenant's latest non-deleted version number, 0 when
// it has none (or no such tenant exists). It serves catalog routes.
func (r *Registry) LatestVersion(ctx context.Context, tenant string) (int, error) {
	s, err := getLatest(ctx, r.db, tenant)
	if CodeOf(err) == VersionNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return s.Version, nil
}

// ByID returns the schema with a global id, deleted or not.
func (r *Registry) ByID(ctx context.Context, id int64) (Schema, error) {
	if id < 1 {
		return Schema{}, newError(SchemaNotFound, "no schema has id %d: ids start at 1", id)
	}
	return getByID(ctx, r.db, id)
}

// Lookup finds the tenant's version whose canonical form equals text's,
// preferring a non-deleted one; deleted versions only when includeDeleted.
func (r *Registry) Lookup(ctx context.Context, tenant, text string, includeDeleted bool) (Schema, error) {
	p, err := Parse(text)
	if err != nil {
		return Schema{}, err
	}
	if err := requireTenant(ctx, r.db, tenant); err != nil {
		return Schema{}, err
	}
	s, ok, err := findByFingerprint(ctx, r.db, tenant, p, includeDeleted)
	if err != nil {
		return Schema{}, err
	}
	if !ok {
		return Schema{}, newError(SchemaNotFound, "tenant %q has no version equal to this schema", tenant)
	}
	return s, nil
}

// Delete soft-deletes a version (Latest: the latest non-deleted one): it is
// hidden from Versions, never Latest, and no longer checked against, but
// stays resolvable by id and version. Deleting a deleted version does
// nothing.
func (r *Registry) Delete(ctx context.Context, tenant string, version int) (Schema, error) {
	if err := checkVersion(version); err != nil {
		return Schema{}, err
	}
	var s Schema
	err := r.db.InTx(ctx, func(tx *store.Tx) error {
		if err := requireTenant(ctx, tx, tenant); err != nil {
			return err
		}
		var err error
		if version == Latest {
			s, err = getLatest(ctx, tx, tenant)
		} else {
			s, err = getVersion(ctx, tx, tenant, version)
		}
		if err != nil || s.Deleted {
			return err
		}
		now := r.now().UTC().Truncate(time.Microsecond)
		if err := markDeleted(ctx, tx, tenant, s.Version, now); err != nil {
			return err
		}
		s.Deleted, s.DeletedAt = true, now
		return nil
	})
	return s, err
}

// CheckVersion reports what keeps text from satisfying the tenant's mode
// against one version (Latest: the latest non-deleted one) — the directions
// of the mode, applied to that version alone. A deleted version cannot be
// checked against. Nil means compatible, as it always is under None.
func (r *Registry) CheckVersion(ctx context.Context, tenant, text string, version int) ([]Incompatibility, error) {
	p, err := Parse(text)
	if err != nil {
		return nil, err
	}
	s, err := r.Version(ctx, tenant, version)
	if err != nil {
		return nil, err
	}
	if s.Deleted {
		return nil, newError(VersionNotFound, "tenant %q version %d is deleted", tenant, s.Version)
	}
	mode, err := getMode(ctx, r.db, tenant)
	if err != nil || mode == None {
		return nil, err
	}
	return incompatibilitiesOf(compare(p, []Schema{s}, mode))
}

// CheckAll reports what would keep Register from accepting text: the
// incompatibilities with the versions the tenant's mode checks. Nil means
// Register would accept it.
func (r *Registry) CheckAll(ctx context.Context, tenant, text string) ([]Incompatibility, error) {
	p, err := Parse(text)
	if err != nil {
		return nil, err
	}
	if err := requireTenant(ctx, r.db, tenant); err != nil {
		return nil, err
	}
	mode, err := getMode(ctx, r.db, tenant)
	if err != nil {
		return nil, err
	}
	return incompatibilitiesOf(checkMode(ctx, r.db, tenant, p, mode))
}

// incompatibilitiesOf turns compare's Incompatible error into its list.
func incompatibilitiesOf(err error) ([]Incompatibility, error) {
	var e *Error
	if errors.As(err, &e) && e.Code == Incompatible {
		return e.Incompatibilities, nil
	}
	return nil, err
}

// Mode returns the tenant's compatibility mode (DefaultMode unless set).
func (r *Registry) Mode(ctx context.Context, tenant string) (Mode, error) {
	if err := requireTenant(ctx, r.db, tenant); err != nil {
		return "", err
	}
	return getMode(ctx, r.db, tenant)
}

// SetMode sets the tenant's compatibility mode from its name (any case).
// It applies to registrations from now on; registered versions stay.
func (r *Registry) SetMode(ctx context.Context, tenant, mode string) (Mode, error) {
	m, err := ParseMode(mode)
	if err != nil {
		return "", err
	}
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		if err := requireTenant(ctx, tx, tenant); err != nil {
			return err
		}
		return setMode(ctx, tx, tenant, m, r.now())
	})
	return m, err
}

// Tenants lists, by name, the tenants that have a non-deleted version (any
// version when includeDeleted).
func (r *Registry) Tenants(ctx context.Context, includeDeleted bool) ([]string, error) {
	return tenantsWithSchemas(ctx, r.db, includeDeleted)
}

func checkVersion(v int) error {
	if v != Latest && v < 1 {
		return &Error{Code: InvalidVersion, Field: "version",
			Message: fmt.Sprintf("%d is not a version: versions are whole numbers from 1 (or latest)", v)}
	}
	return nil
}

package schema_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// fixture is a catalog with one kfake cluster, and a registry, on one store.
type fixture struct {
	reg *schema.Registry
	cat *catalog.Service
}

func newFixture(t *testing.T, s *store.Store, addr string, tenants ...string) *fixture {
	t.Helper()
	reg := schema.New(s, schema.Config{})
	cat := catalog.New(s, events.NewLog(s), catalog.Config{Schemas: reg})
	t.Cleanup(cat.Close)
	ctx := context.Background()
	if _, err := cat.Cluster(ctx, "local"); catalog.CodeOf(err) == catalog.NotFound {
		if _, err := cat.RegisterCluster(ctx, catalog.ClusterSpec{Name: "local", Region: "eu",
			Connection: kafkaconn.Config{Bootstrap: []string{addr}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range tenants {
		if _, err := cat.CreateTenant(ctx, catalog.TenantSpec{Name: name, Region: "eu", Partitions: 1}); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{reg: reg, cat: cat}
}

// record is a record schema named Event with the given fields.
func record(fields ...string) string {
	return `{"type":"record","name":"Event","namespace":"com.acme","fields":[` + strings.Join(fields, ",") + `]}`
}

const (
	fieldA        = `{"name":"a","type":"int"}`
	fieldBDefault = `{"name":"b","type":"string","default":""}`
	fieldB        = `{"name":"b","type":"string"}`
	fieldC        = `{"name":"c","type":"long"}`
	fieldCDefault = `{"name":"c","type":"long","default":0}`
)

func wantCode(t *testing.T, err error, code schema.Code, contains string) {
	t.Helper()
	if schema.CodeOf(err) != code {
		t.Fatalf("error = %v (code %d), want code %d", err, schema.CodeOf(err), code)
	}
	if contains != "" && !strings.Contains(err.Error(), contains) {
		t.Fatalf("error = %q, want it to mention %q", err, contains)
	}
}

func register(t *testing.T, reg *schema.Registry, tenant, text string, wantCreated bool) schema.Schema {
	t.Helper()
	s, created, err := reg.Register(context.Background(), tenant, text)
	if err != nil {
		t.Fatalf("register %s: %v", text, err)
	}
	if created != wantCreated {
		t.Fatalf("register %s: created = %v, want %v", text, created, wantCreated)
	}
	return s
}

func versionsOf(list []schema.Schema) []int {
	out := []int{}
	for _, s := range list {
		out = append(out, s.Version)
	}
	return out
}

func TestRegistry(t *testing.T) {
	addr := kafkatest.Fake(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, addr, "acme", "globex")
		reg := f.reg

		v1 := register(t, reg, "acme", record(fieldA), true)
		if v1.ID < 1 || v1.Version != 1 || v1.Tenant != "acme" || v1.Text != record(fieldA) || v1.Deleted || v1.CreatedAt.IsZero() {
			t.Fatalf("v1 = %+v", v1)
		}
		if v1.Canonical != `{"name":"com.acme.Event","type":"record","fields":[{"name":"a","type":"int"}]}` || len(v1.Fingerprint) != 64 {
			t.Fatalf("canonical %s, fingerprint %s", v1.Canonical, v1.Fingerprint)
		}

		// Idempotent: the same schema, however written, is v1.
		again := register(t, reg, "acme", `{ "namespace": "com.acme", "type": "record", "name": "Event",
			"fields": [ {"name": "a", "type": {"type": "int"}} ] }`, false)
		if again.ID != v1.ID || again.Version != 1 || again.Text != v1.Text {
			t.Fatalf("re-register = %+v, want v1 %+v", again, v1)
		}

		// The same text for another tenant is a schema of its own.
		other := register(t, reg, "globex", record(fieldA), true)
		if other.ID == v1.ID || other.Version != 1 {
			t.Fatalf("globex = %+v, want a new id and version 1", other)
		}

		v2 := register(t, reg, "acme", record(fieldA, fieldBDefault), true)
		if v2.Version != 2 || v2.ID == v1.ID {
			t.Fatalf("v2 = %+v", v2)
		}
		// Formatting does not make a new version; a changed default does,
		// though the canonical form ignores defaults.
		if same := register(t, reg, "acme", "  "+strings.ReplaceAll(record(fieldA, fieldBDefault), ",", " , "), false); same.ID != v2.ID {
			t.Fatalf("reformatted v2 = %+v, want v2", same)
		}
		g2 := register(t, reg, "globex", record(fieldA, fieldBDefault), true)
		g3 := register(t, reg, "globex", record(fieldA, `{"name":"b","type":"string","default":"other"}`), true)
		if g3.Version != 3 || g3.Canonical != g2.Canonical {
			t.Fatalf("default-only change = %+v, want version 3 with version 2's canonical form", g3)
		}
		_, _, err := reg.Register(ctx, "acme", record(fieldA, fieldBDefault, fieldC))
		wantCode(t, err, schema.Incompatible, "BACKWARD compatibility (checked against version 2): 1 incompatibility")

		list, err := reg.Versions(ctx, "acme", false)
		if err != nil || !reflect.DeepEqual(versionsOf(list), []int{1, 2}) {
			t.Fatalf("versions = %v, %v", versionsOf(list), err)
		}
		if latest, err := reg.Version(ctx, "acme", schema.Latest); err != nil || latest.ID != v2.ID {
			t.Fatalf("latest = %+v, %v", latest, err)
		}
		if got, err := reg.Version(ctx, "acme", 1); err != nil || got != v1 {
			t.Fatalf("version 1 = %+v, %v; want %+v", got, err, v1)
		}
		if got, err := reg.ByID(ctx, v2.ID); err != nil || got != v2 {
			t.Fatalf("by id = %+v, %v; want %+v", got, err, v2)
		}
		if got, err := reg.Lookup(ctx, "acme", record(fieldA, fieldBDefault), false); err != nil || got.ID != v2.ID {
			t.Fatalf("lookup = %+v, %v", got, err)
		}
		if n, err := reg.LatestVersion(ctx, "acme"); err != nil || n != 2 {
			t.Fatalf("latest version = %d, %v", n, err)
		}
		if r, err := f.cat.Route(ctx, "acme"); err != nil || r.SchemaVersion != 2 {
			t.Fatalf("route = %+v, %v; want schema version 2", r, err)
		}

		// Soft delete of the latest: version 1 is latest again; v2 stays
		// resolvable by id and version, marked deleted.
		deleted, err := reg.Delete(ctx, "acme", schema.Latest)
		if err != nil || deleted.Version != 2 || !deleted.Deleted || deleted.DeletedAt.IsZero() {
			t.Fatalf("delete latest = %+v, %v", deleted, err)
		}
		if _, err := reg.Delete(ctx, "acme", 2); err != nil {
			t.Fatalf("deleting a deleted version again: %v", err)
		}
		if latest, err := reg.Version(ctx, "acme", schema.Latest); err != nil || latest.Version != 1 {
			t.Fatalf("latest after delete = %+v, %v", latest, err)
		}
		if got, err := reg.Version(ctx, "acme", 2); err != nil || !got.Deleted || got.ID != v2.ID {
			t.Fatalf("deleted version 2 = %+v, %v", got, err)
		}
		if got, err := reg.ByID(ctx, v2.ID); err != nil || !got.Deleted {
			t.Fatalf("deleted by id = %+v, %v", got, err)
		}
		list, _ = reg.Versions(ctx, "acme", false)
		all, _ := reg.Versions(ctx, "acme", true)
		if !reflect.DeepEqual(versionsOf(list), []int{1}) || !reflect.DeepEqual(versionsOf(all), []int{1, 2}) {
			t.Fatalf("versions after delete = %v, with deleted %v", versionsOf(list), versionsOf(all))
		}
		_, err = reg.Lookup(ctx, "acme", record(fieldA, fieldBDefault), false)
		wantCode(t, err, schema.SchemaNotFound, "no version equal")
		if got, err := reg.Lookup(ctx, "acme", record(fieldA, fieldBDefault), true); err != nil || got.Version != 2 {
			t.Fatalf("lookup with deleted = %+v, %v", got, err)
		}
		if r, _ := f.cat.Route(ctx, "acme"); r.SchemaVersion != 1 {
			t.Fatalf("route schema version after delete = %d, want 1", r.SchemaVersion)
		}

		// Registering the deleted schema again makes a new version: numbers
		// and ids are never reused.
		v3 := register(t, reg, "acme", record(fieldA, fieldBDefault), true)
		if v3.Version != 3 || v3.ID == v2.ID {
			t.Fatalf("v3 = %+v", v3)
		}
		// Deleting every version leaves no latest.
		for _, v := range []int{1, 3} {
			if _, err := reg.Delete(ctx, "acme", v); err != nil {
				t.Fatal(err)
			}
		}
		_, err = reg.Version(ctx, "acme", schema.Latest)
		wantCode(t, err, schema.VersionNotFound, "no schema registered")
		if n, err := reg.LatestVersion(ctx, "acme"); err != nil || n != 0 {
			t.Fatalf("latest version with all deleted = %d, %v", n, err)
		}
		if names, err := reg.Tenants(ctx, false); err != nil || !reflect.DeepEqual(names, []string{"globex"}) {
			t.Fatalf("tenants with schemas = %v, %v", names, err)
		}
		if names, err := reg.Tenants(ctx, true); err != nil || !reflect.DeepEqual(names, []string{"acme", "globex"}) {
			t.Fatalf("tenants with any schema = %v, %v", names, err)
		}
	})
}

func TestRegistryErrors(t *testing.T) {
	addr := kafkatest.Fake(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, addr, "acme")
		reg := f.reg
		register(t, reg, "acme", record(fieldA), true)

		_, _, err := reg.Register(ctx, "nope", record(fieldA))
		wantCode(t, err, schema.TenantNotFound, `tenant "nope" does not exist`)
		_, err = reg.Versions(ctx, "nope", false)
		wantCode(t, err, schema.TenantNotFound, "")
		_, err = reg.Version(ctx, "nope", 1)
		wantCode(t, err, schema.TenantNotFound, "")
		_, err = reg.Delete(ctx, "nope", 1)
		wantCode(t, err, schema.TenantNotFound, "")
		_, err = reg.Mode(ctx, "nope")
		wantCode(t, err, schema.TenantNotFound, "")
		_, err = reg.SetMode(ctx, "nope", "FULL")
		wantCode(t, err, schema.TenantNotFound, "")
		_, err = reg.Lookup(ctx, "nope", record(fieldA), false)
		wantCode(t, err, schema.TenantNotFound, "")

		_, _, err = reg.Register(ctx, "acme", `{"type":"record","name":"R","fields":[{"name":"a","type":"strin"}]}`)
		wantCode(t, err, schema.InvalidSchema, `schema: not a valid Avro schema: unknown type "strin"`)
		_, _, err = reg.Register(ctx, "acme", `{"type":"record",`)
		wantCode(t, err, schema.InvalidSchema, "invalid schema json")
		_, _, err = reg.Register(ctx, "acme", "  ")
		wantCode(t, err, schema.InvalidSchema, "empty")
		_, err = reg.Version(ctx, "acme", 0)
		wantCode(t, err, schema.InvalidVersion, "0 is not a version")
		_, err = reg.Delete(ctx, "acme", -7)
		wantCode(t, err, schema.InvalidVersion, "")
		_, err = reg.Version(ctx, "acme", 99)
		wantCode(t, err, schema.VersionNotFound, `tenant "acme" has no schema version 99`)
		_, err = reg.Delete(ctx, "acme", 99)
		wantCode(t, err, schema.VersionNotFound, "")
		_, err = reg.ByID(ctx, 1<<40)
		wantCode(t, err, schema.SchemaNotFound, "no schema has id")
		_, err = reg.ByID(ctx, 0)
		wantCode(t, err, schema.SchemaNotFound, "")
		_, err = reg.SetMode(ctx, "acme", "SIDEWAYS")
		wantCode(t, err, schema.InvalidMode, `unknown compatibility mode "SIDEWAYS": use one of BACKWARD, BACKWARD_TRANSITIVE, FORWARD`)

		// Nothing was half-done.
		if list, _ := reg.Versions(ctx, "acme", true); len(list) != 1 {
			t.Fatalf("versions = %v", versionsOf(list))
		}
	})
}

// TestModes registers a sequence of schemas under each mode and checks which
// are refused, and against which version.
func TestModes(t *testing.T) {
	type step struct {
		text string
		// refused lists the versions the step is incompatible with; nil
		// means it is registered.
		refused []int
	}
	cases := []struct {
		mode  string
		steps []step
	}{
		{"BACKWARD", []step{
			{record(fieldA, fieldB), nil},
			{record(fieldA, fieldB, fieldC), []int{1}}, // new field without default: cannot read v1 data
			{record(fieldA), nil},                      // dropping a field is fine for a reader
		}},
		{"FORWARD", []step{
			{record(fieldA, fieldB), nil},
			{record(fieldA), []int{1}},            // v1 needs b, which new data lacks
			{record(fieldA, fieldB, fieldC), nil}, // v1 skips c
		}},
		{"FULL", []step{
			{record(fieldA, fieldB), nil},
			{record(fieldA), []int{1}},
			{record(fieldA, fieldB, fieldC), []int{1}},
			{record(fieldA, fieldB, fieldCDefault), nil},
		}},
		{"NONE", []step{
			{record(fieldA), nil},
			{`"string"`, nil},
			{record(fieldB), nil},
		}},
		{"BACKWARD_TRANSITIVE", []step{
			{record(fieldA), nil},
			{record(fieldA, fieldBDefault), nil},
			{record(fieldA, fieldB, fieldCDefault), []int{1}}, // fine against v2, not against v1
		}},
		{"FORWARD_TRANSITIVE", []step{
			{record(fieldA, fieldB), nil},
			{record(fieldA, fieldBDefault, fieldCDefault), nil},
			{record(fieldA, fieldCDefault), []int{1}}, // v2 defaults b, v1 cannot
		}},
		{"FULL_TRANSITIVE", []step{
			{record(fieldA), nil},
			{record(fieldA, fieldBDefault, fieldCDefault), nil},
			{record(fieldA, fieldB, fieldCDefault, `{"name":"d","type":"int","default":0}`), []int{1}},
			{record(fieldA, fieldBDefault, fieldCDefault, `{"name":"e","type":"int"}`), []int{1, 2}},
		}},
	}
	addr := kafkatest.Fake(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, addr)
		for _, tc := range cases {
			t.Run(tc.mode, func(t *testing.T) {
				tenant := strings.ToLower(strings.ReplaceAll(tc.mode, "_", "-"))
				if _, err := f.cat.CreateTenant(ctx, catalog.TenantSpec{Name: tenant, Region: "eu", Partitions: 1}); err != nil {
					t.Fatal(err)
				}
				if m, err := f.reg.Mode(ctx, tenant); err != nil || m != schema.Backward {
					t.Fatalf("default mode = %q, %v", m, err)
				}
				if m, err := f.reg.SetMode(ctx, tenant, strings.ToLower(tc.mode)); err != nil || string(m) != tc.mode {
					t.Fatalf("set mode = %q, %v", m, err)
				}
				if m, err := f.reg.Mode(ctx, tenant); err != nil || string(m) != tc.mode {
					t.Fatalf("mode = %q, %v", m, err)
				}
				version := 0
				for i, st := range tc.steps {
					got, _, err := f.reg.Register(ctx, tenant, st.text)
					if st.refused == nil {
						if err != nil {
							t.Fatalf("step %d: %v", i, err)
						}
						version++
						if got.Version != version {
							t.Fatalf("step %d: version %d, want %d", i, got.Version, version)
						}
						continue
					}
					wantCode(t, err, schema.Incompatible, tc.mode)
					var against []int
					for _, inc := range err.(*schema.Error).Incompatibilities {
						if !slices.Contains(against, inc.Version) {
							against = append(against, inc.Version)
						}
					}
					if !reflect.DeepEqual(against, st.refused) {
						t.Fatalf("step %d: incompatible with versions %v, want %v: %v", i, against, st.refused, err)
					}
				}
			})
		}

		// A deleted version is not checked against.
		t.Run("deleted versions are skipped", func(t *testing.T) {
			if _, err := f.reg.Delete(ctx, "backward-transitive", 1); err != nil {
				t.Fatal(err)
			}
			if got, _, err := f.reg.Register(ctx, "backward-transitive", record(fieldA, fieldB, fieldCDefault)); err != nil || got.Version != 3 {
				t.Fatalf("after deleting v1: %+v, %v", got, err)
			}
		})
	})
}

// TestIncompatibleListsEverything: a refusal lists every incompatibility,
// with its path, reason, version and direction.
func TestIncompatibleListsEverything(t *testing.T) {
	addr := kafkatest.Fake(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, addr, "acme")
		if _, err := f.reg.SetMode(ctx, "acme", "FULL"); err != nil {
			t.Fatal(err)
		}
		first := record(fieldA, fieldB, `{"name":"action","type":{"type":"enum","name":"Action","symbols":["ALLOW","DENY"]}}`)
		register(t, f.reg, "acme", first, true)
		next := record(`{"name":"a","type":"string"}`, fieldC,
			`{"name":"action","type":{"type":"enum","name":"Action","symbols":["ALLOW","DENY","DROP"]}}`)
		_, _, err := f.reg.Register(ctx, "acme", next)
		wantCode(t, err, schema.Incompatible, "the schema breaks the tenant's FULL compatibility (checked against version 1): 5 incompatibilities")
		want := []schema.Incompatibility{
			{Path: "a", Reason: "writer type int cannot be read as reader type string", Version: 1, Direction: schema.Reads},
			{Path: "c", Reason: "field is missing from the writer and has no default in the reader", Version: 1, Direction: schema.Reads},
			{Path: "a", Reason: "writer type string cannot be read as reader type int", Version: 1, Direction: schema.ReadBy},
			{Path: "b", Reason: "field is missing from the writer and has no default in the reader", Version: 1, Direction: schema.ReadBy},
			{Path: "action", Reason: `writer enum symbols "DROP" are missing from the reader enum, which has no default`, Version: 1, Direction: schema.ReadBy},
		}
		if got := err.(*schema.Error).Incompatibilities; !reflect.DeepEqual(got, want) {
			t.Fatalf("incompatibilities =\n%+v\nwant\n%+v", got, want)
		}
		if got := want[0].Describe(); got != "writer type int cannot be read as reader type string (the new schema reading data written with version 1)" {
			t.Fatalf("Describe = %q", got)
		}
		if got := want[2].Describe(); got != "writer type string cannot be read as reader type int (version 1 reading data written with the new schema)" {
			t.Fatalf("Describe = %q", got)
		}

		// The same findings without registering, against one version or all.
		incs, err := f.reg.CheckVersion(ctx, "acme", next, schema.Latest)
		if err != nil || !reflect.DeepEqual(incs, want) {
			t.Fatalf("CheckVersion = %+v, %v", incs, err)
		}
		incs, err = f.reg.CheckAll(ctx, "acme", next)
		if err != nil || !reflect.DeepEqual(incs, want) {
			t.Fatalf("CheckAll = %+v, %v", incs, err)
		}
		if incs, err := f.reg.CheckVersion(ctx, "acme", first, 1); err != nil || incs != nil {
			t.Fatalf("CheckVersion of a compatible schema = %+v, %v", incs, err)
		}
		if list, _ := f.reg.Versions(ctx, "acme", true); len(list) != 1 {
			t.Fatalf("a refused schema was stored: %v", versionsOf(list))
		}
	})
}

// TestRegistrySurvivesRestart: schemas, modes and the id and version
// sequences persist across a store reopen.
func TestRegistrySurvivesRestart(t *testing.T) {
	addr := kafkatest.Fake(t)
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s1 := storetest.Open(t, dsn)
		f1 := newFixture(t, s1, addr, "acme")
		v1 := register(t, f1.reg, "acme", record(fieldA), true)
		v2 := register(t, f1.reg, "acme", record(fieldA, fieldBDefault), true)
		if _, err := f1.reg.Delete(ctx, "acme", 2); err != nil {
			t.Fatal(err)
		}
		if _, err := f1.reg.SetMode(ctx, "acme", "FORWARD"); err != nil {
			t.Fatal(err)
		}
		f1.cat.Close()
		if err := s1.Close(); err != nil {
			t.Fatal(err)
		}

		s2 := storetest.Open(t, dsn)
		f2 := newFixture(t, s2, addr)
		if got, err := f2.reg.ByID(ctx, v1.ID); err != nil || got != v1 {
			t.Fatalf("v1 after restart = %+v, %v; want %+v", got, err, v1)
		}
		if got, err := f2.reg.Version(ctx, "acme", 2); err != nil || got.ID != v2.ID || !got.Deleted {
			t.Fatalf("v2 after restart = %+v, %v", got, err)
		}
		if m, err := f2.reg.Mode(ctx, "acme"); err != nil || m != schema.Forward {
			t.Fatalf("mode after restart = %q, %v", m, err)
		}
		v3 := register(t, f2.reg, "acme", record(fieldA, fieldC), true)
		if v3.Version != 3 || v3.ID <= v2.ID {
			t.Fatalf("v3 = %+v: want version 3 and an id past %d", v3, v2.ID)
		}
		if r, err := f2.cat.Route(ctx, "acme"); err != nil || r.SchemaVersion != 3 {
			t.Fatalf("route = %+v, %v", r, err)
		}
	})
}

// TestTenantDeletionDeletesSchemas: a tenant's schemas go with it, and a new
// tenant of the same name starts from version 1 with fresh ids.
func TestTenantDeletionDeletesSchemas(t *testing.T) {
	addr := kafkatest.Fake(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, addr, "acme")
		old := register(t, f.reg, "acme", record(fieldA), true)
		if _, err := f.reg.SetMode(ctx, "acme", "NONE"); err != nil {
			t.Fatal(err)
		}
		if err := f.cat.DeleteTenant(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		_, err := f.reg.ByID(ctx, old.ID)
		wantCode(t, err, schema.SchemaNotFound, "")
		if _, err := f.cat.CreateTenant(ctx, catalog.TenantSpec{Name: "acme", Region: "eu", Partitions: 1}); err != nil {
			t.Fatal(err)
		}
		if m, err := f.reg.Mode(ctx, "acme"); err != nil || m != schema.Backward {
			t.Fatalf("mode of the new tenant = %q, %v", m, err)
		}
		fresh := register(t, f.reg, "acme", record(fieldA), true)
		if fresh.Version != 1 || fresh.ID <= old.ID {
			t.Fatalf("fresh = %+v, old id %d", fresh, old.ID)
		}
	})
}

// TestConcurrentRegistrations: registrations racing on one tenant get
// distinct consecutive versions, and identical ones one version.
func TestConcurrentRegistrations(t *testing.T) {
	addr := kafkatest.Fake(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		f := newFixture(t, s, addr, "acme")
		if _, err := f.reg.SetMode(ctx, "acme", "NONE"); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := range n {
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, _, err := f.reg.Register(ctx, "acme", record(fmt.Sprintf(`{"name":"f%d","type":"int"}`, i)))
				errs <- err
			}()
			go func() {
				defer wg.Done()
				_, _, err := f.reg.Register(ctx, "acme", record(`{"name":"same","type":"int"}`))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		list, err := f.reg.Versions(ctx, "acme", true)
		if err != nil {
			t.Fatal(err)
		}
		want := []int{}
		for i := range n + 1 {
			want = append(want, i+1)
		}
		if !reflect.DeepEqual(versionsOf(list), want) {
			t.Fatalf("versions = %v, want %v", versionsOf(list), want)
		}
	})
}

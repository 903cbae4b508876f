package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/store/storetest"
)

// wantSRError checks that err is the Confluent error answer status/code and
// that its message mentions contains.
func wantSRError(t *testing.T, what string, err error, status, code int, contains string) {
	t.Helper()
	var re *sr.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%s: error = %v, want a %d/%d answer", what, err, status, code)
	}
	if re.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("%s: answer %d/%d %q, want %d/%d", what, re.StatusCode, re.ErrorCode, re.Message, status, code)
	}
	if !strings.Contains(re.Message, contains) {
		t.Fatalf("%s: message %q does not mention %q", what, re.Message, contains)
	}
}

// TestConfluentAPI drives the Confluent-compatible API with franz-go's
// schema registry client, a client written against Confluent's server.
func TestConfluentAPI(t *testing.T) {
	addr := kafkatest.Fake(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newSchemaServer(t, s, addr, "acme", "globex")
		ts := httptest.NewServer(h)
		t.Cleanup(ts.Close)
		cl, err := sr.NewClient(sr.URLs(ts.URL + ConfluentPrefix))
		if err != nil {
			t.Fatal(err)
		}
		const subject = "sluice.tenant.acme.1-value" // TopicNameStrategy for acme's data topic

		if subjects, err := cl.Subjects(ctx); err != nil || len(subjects) != 0 {
			t.Fatalf("subjects = %v, %v", subjects, err)
		}

		// Register: an id; the same schema again, under any accepted name
		// for the tenant, is the same id.
		id, err := cl.RegisterSchema(ctx, subject, sr.Schema{Schema: eventV1}, -1, -1)
		if err != nil || id < 1 {
			t.Fatalf("register = %d, %v", id, err)
		}
		for _, name := range []string{subject, "acme-value", "acme"} {
			if again, err := cl.RegisterSchema(ctx, name, sr.Schema{Schema: eventV1, Type: sr.TypeAvro}, -1, -1); err != nil || again != id {
				t.Fatalf("register under %s = %d, %v; want %d", name, again, err, id)
			}
		}

		// Look-ups by id, version and schema.
		if got, err := cl.SchemaByID(ctx, id); err != nil || got.Schema != eventV1 {
			t.Fatalf("schema by id = %+v, %v", got, err)
		}
		if text, err := cl.SchemaTextByID(ctx, id); err != nil || text != eventV1 {
			t.Fatalf("schema text by id = %q, %v", text, err)
		}
		want := sr.SubjectSchema{Subject: subject, Version: 1, ID: id, Schema: sr.Schema{Schema: eventV1}}
		for _, v := range []int{1, -1} {
			if got, err := cl.SchemaByVersion(ctx, subject, v); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("schema by version %d = %+v, %v; want %+v", v, got, err, want)
			}
		}
		if text, err := cl.SchemaTextByVersion(ctx, subject, 1); err != nil || text != eventV1 {
			t.Fatalf("schema text by version = %q, %v", text, err)
		}
		if versions, err := cl.SubjectVersions(ctx, subject); err != nil || !reflect.DeepEqual(versions, []int{1}) {
			t.Fatalf("versions = %v, %v", versions, err)
		}
		if subjects, err := cl.Subjects(ctx); err != nil || !reflect.DeepEqual(subjects, []string{subject}) {
			t.Fatalf("subjects = %v, %v", subjects, err)
		}
		if got, err := cl.LookupSchema(ctx, subject, sr.Schema{Schema: strings.ReplaceAll(eventV1, ",", " , ")}); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("lookup = %+v, %v", got, err)
		}
		if types, err := cl.SupportedTypes(ctx); err != nil || !reflect.DeepEqual(types, []sr.SchemaType{sr.TypeAvro}) {
			t.Fatalf("types = %v, %v", types, err)
		}

		// Compatibility checks, then registration, of an incompatible schema.
		v2 := strings.Replace(eventV1, `{"name":"port","type":"int"}`, `{"name":"port","type":"string"},{"name":"zone","type":"string"}`, 1)
		res, err := cl.CheckCompatibility(ctx, subject, -1, sr.Schema{Schema: v2})
		if err != nil || res.Is || res.Messages != nil {
			t.Fatalf("check = %+v, %v", res, err)
		}
		res, err = cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subject, 1, sr.Schema{Schema: v2})
		wantMsgs := []string{
			"port: writer type int cannot be read as reader type string (the new schema reading data written with version 1)",
			"zone: field is missing from the writer and has no default in the reader (the new schema reading data written with version 1)",
		}
		if err != nil || res.Is || !reflect.DeepEqual(res.Messages, wantMsgs) {
			t.Fatalf("verbose check = %+v, %v", res, err)
		}
		if res, err := cl.CheckCompatibility(ctx, subject, -2, sr.Schema{Schema: v2}); err != nil || res.Is {
			t.Fatalf("check against all = %+v, %v", res, err)
		}
		if res, err := cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subject, -1, sr.Schema{Schema: eventV1}); err != nil || !res.Is || len(res.Messages) != 0 {
			t.Fatalf("check of a compatible schema = %+v, %v", res, err)
		}
		_, err = cl.RegisterSchema(ctx, subject, sr.Schema{Schema: v2}, -1, -1)
		wantSRError(t, "register incompatible", err, 409, 409, "zone: field is missing from the writer")

		// Config: the tenant's mode.
		if got := cl.Compatibility(ctx, subject); got[0].Err != nil || got[0].Level != sr.CompatBackward {
			t.Fatalf("compatibility = %+v", got[0])
		}
		if got := cl.Compatibility(ctx); got[0].Err != nil || got[0].Level != sr.CompatBackward {
			t.Fatalf("global compatibility = %+v", got[0])
		}
		if got := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone}, subject); got[0].Err != nil || got[0].Level != sr.CompatNone {
			t.Fatalf("set compatibility = %+v", got[0])
		}
		if got := cl.Compatibility(ctx, "acme"); got[0].Err != nil || got[0].Level != sr.CompatNone {
			t.Fatalf("compatibility after set = %+v", got[0])
		}
		if res, err := cl.CheckCompatibility(ctx, subject, -1, sr.Schema{Schema: v2}); err != nil || !res.Is {
			t.Fatalf("check under NONE = %+v, %v", res, err)
		}
		id2, err := cl.RegisterSchema(ctx, subject, sr.Schema{Schema: v2}, -1, -1)
		if err != nil || id2 == id {
			t.Fatalf("register under NONE = %d, %v", id2, err)
		}
		if got := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatFullTransitive}, subject); got[0].Err != nil {
			t.Fatal(got[0].Err)
		}

		// A soft-deleted version: 40402 unless deleted=true; its id still resolves.
		if code, body := do(t, h, "DELETE", "/v1/tenants/acme/schemas/2", ""); code != 204 {
			t.Fatalf("delete = %d %v", code, body)
		}
		_, err = cl.SchemaByVersion(ctx, subject, 2)
		wantSRError(t, "deleted version", err, 404, 40402, "soft-deleted")
		if got, err := cl.SchemaByVersion(sr.WithParams(ctx, sr.ShowDeleted), subject, 2); err != nil || got.ID != id2 {
			t.Fatalf("deleted version with deleted=true = %+v, %v", got, err)
		}
		if got, err := cl.SchemaByID(ctx, id2); err != nil || got.Schema != v2 {
			t.Fatalf("deleted schema by id = %+v, %v", got, err)
		}
		if versions, err := cl.SubjectVersions(ctx, subject); err != nil || !reflect.DeepEqual(versions, []int{1}) {
			t.Fatalf("versions after delete = %v, %v", versions, err)
		}
		if versions, err := cl.SubjectVersions(sr.WithParams(ctx, sr.ShowDeleted), subject); err != nil || !reflect.DeepEqual(versions, []int{1, 2}) {
			t.Fatalf("versions with deleted = %v, %v", versions, err)
		}

		// A record framed by Confluent's serializer names the id the
		// registry gave, and carries the Avro body.
		avroSchema, err := avro.Parse(eventV1)
		if err != nil {
			t.Fatal(err)
		}
		type event struct {
			ID     int64  `avro:"id"`
			Action string `avro:"action"`
			Port   int32  `avro:"port"`
		}
		var serde sr.Serde
		serde.Register(id, event{}, sr.EncodeFn(func(v any) ([]byte, error) { return avroSchema.Encode(v) }))
		framed, err := serde.Encode(event{ID: 7, Action: "DENY", Port: 443})
		if err != nil {
			t.Fatal(err)
		}
		ref, body, err := wire.Parse(nil, framed)
		if err != nil || ref != (wire.Ref{ID: int64(id)}) {
			t.Fatalf("wire.Parse = %+v, %v; want id %d", ref, err, id)
		}
		if !bytes.Equal(framed[:5], wire.AppendConfluentFrame(nil, int64(id))) {
			t.Fatalf("serializer prefix %x, AppendConfluentFrame %x", framed[:5], wire.AppendConfluentFrame(nil, int64(id)))
		}
		var got event
		if _, err := avroSchema.Decode(body, &got); err != nil || got != (event{ID: 7, Action: "DENY", Port: 443}) {
			t.Fatalf("decoded %+v, %v", got, err)
		}
		ref, _, err = wire.Parse([]kgo.RecordHeader{{Key: wire.Header, Value: wire.HeaderValue(1)}}, body)
		if err != nil || ref != (wire.Ref{Version: 1}) {
			t.Fatalf("wire.Parse with header = %+v, %v", ref, err)
		}
	})
}

// TestConfluentAPIErrors: Confluent's status and error codes for each
// mistake, as its clients expect them.
func TestConfluentAPIErrors(t *testing.T) {
	addr := kafkatest.Fake(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newSchemaServer(t, s, addr, "acme", "globex")
		ts := httptest.NewServer(h)
		t.Cleanup(ts.Close)
		cl, err := sr.NewClient(sr.URLs(ts.URL + ConfluentPrefix))
		if err != nil {
			t.Fatal(err)
		}
		const subject = "acme-value"
		id, err := cl.RegisterSchema(ctx, subject, sr.Schema{Schema: eventV1}, -1, -1)
		if err != nil {
			t.Fatal(err)
		}

		// Subjects that name no tenant, or a key.
		_, err = cl.SchemaByVersion(ctx, "nope-value", 1)
		wantSRError(t, "unknown tenant", err, 404, 40401, "Subject 'nope-value' not found")
		_, err = cl.RegisterSchema(ctx, "nope", sr.Schema{Schema: eventV1}, -1, -1)
		wantSRError(t, "register unknown tenant", err, 404, 40401, "no tenant")
		_, err = cl.SubjectVersions(ctx, "sluice.tenant.acme.7-value")
		wantSRError(t, "unknown topic", err, 404, 40401, `no tenant has data topic "sluice.tenant.acme.7"`)
		_, err = cl.RegisterSchema(ctx, "sluice.tenant.acme.1-key", sr.Schema{Schema: `"string"`}, -1, -1)
		wantSRError(t, "key subject", err, 404, 40401, "value schemas only")
		if got := cl.Compatibility(ctx, "nope"); got[0].Err == nil {
			t.Fatal("compatibility of an unknown subject succeeded")
		} else {
			wantSRError(t, "config of unknown subject", got[0].Err, 404, 40401, "")
		}
		// A tenant without schemas is no subject yet, but has a config.
		_, err = cl.SubjectVersions(ctx, "globex-value")
		wantSRError(t, "subject without versions", err, 404, 40401, "has no schema registered")
		_, err = cl.SchemaByVersion(ctx, "globex-value", -1)
		wantSRError(t, "latest of a subject without versions", err, 404, 40401, "")
		_, err = cl.LookupSchema(ctx, "globex", sr.Schema{Schema: eventV1})
		wantSRError(t, "lookup in a subject without versions", err, 404, 40401, "")
		if got := cl.Compatibility(ctx, "globex"); got[0].Err != nil || got[0].Level != sr.CompatBackward {
			t.Fatalf("config of a tenant without schemas = %+v", got[0])
		}
		if res, err := cl.CheckCompatibility(ctx, "globex", -2, sr.Schema{Schema: eventV1}); err != nil || !res.Is {
			t.Fatalf("check against no versions = %+v, %v", res, err)
		}

		// Versions, schemas, ids.
		_, err = cl.SchemaByVersion(ctx, subject, 9)
		wantSRError(t, "unknown version", err, 404, 40402, "has no schema version 9")
		for _, v := range []string{"0", "abc", "-2", "2147483648"} {
			err = cl.Do(ctx, http.MethodGet, "/subjects/"+subject+"/versions/"+v, nil, nil)
			wantSRError(t, "version "+v, err, 422, 42202, "is not a valid version id")
		}
		_, err = cl.CheckCompatibility(ctx, subject, 9, sr.Schema{Schema: eventV1})
		wantSRError(t, "check against an unknown version", err, 404, 40402, "")
		_, err = cl.LookupSchema(ctx, subject, sr.Schema{Schema: `"string"`})
		wantSRError(t, "lookup of an unregistered schema", err, 404, 40403, "no version equal")
		_, err = cl.SchemaByID(ctx, id+1000)
		wantSRError(t, "unknown id", err, 404, 40403, "no schema has id")
		err = cl.Do(ctx, http.MethodGet, "/schemas/ids/x", nil, nil)
		wantSRError(t, "id not a number", err, 404, 40403, "")

		// Bad schemas.
		_, err = cl.RegisterSchema(ctx, subject, sr.Schema{Schema: `{"type":"record","name":"R","fields":[{"name":"a","type":"strin"}]}`}, -1, -1)
		wantSRError(t, "invalid schema", err, 422, 42201, `unknown type "strin"`)
		_, err = cl.RegisterSchema(ctx, subject, sr.Schema{Schema: `{"type":`}, -1, -1)
		wantSRError(t, "schema not JSON", err, 422, 42201, "invalid schema json")
		_, err = cl.RegisterSchema(ctx, subject, sr.Schema{Schema: ""}, -1, -1)
		wantSRError(t, "empty schema", err, 422, 42201, "empty schema")
		_, err = cl.RegisterSchema(ctx, subject, sr.Schema{Schema: `syntax = "proto3";`, Type: sr.TypeProtobuf}, -1, -1)
		wantSRError(t, "protobuf", err, 422, 42201, "AVRO schemas only")
		_, err = cl.RegisterSchema(ctx, subject, sr.Schema{Schema: eventV1, References: []sr.SchemaReference{{Name: "x", Subject: "y", Version: 1}}}, -1, -1)
		wantSRError(t, "references", err, 422, 42201, "references are not supported")
		_, err = cl.RegisterSchema(ctx, subject, sr.Schema{Schema: eventV1}, 77, -1)
		wantSRError(t, "given id", err, 422, 42205, "IMPORT")
		_, err = cl.CheckCompatibility(ctx, subject, 1, sr.Schema{Schema: "{"})
		wantSRError(t, "check of an invalid schema", err, 422, 42201, "")

		// Config.
		err = cl.Do(ctx, http.MethodPut, "/config/"+subject, map[string]string{"compatibility": "SIDEWAYS"}, nil)
		wantSRError(t, "invalid level", err, 422, 42203, "Invalid compatibility level")
		err = cl.Do(ctx, http.MethodPut, "/config", map[string]string{"compatibility": "FULL"}, nil)
		wantSRError(t, "global level", err, 422, 42205, "no global compatibility level")

		// Transport-level mistakes.
		err = cl.Do(ctx, http.MethodGet, "/mode", nil, nil)
		wantSRError(t, "unsupported endpoint", err, 404, 404, "not part of Sluice's Confluent-compatible API")
		resp, err := http.Post(ts.URL+"/confluent/subjects/"+subject+"/versions", "text/plain", strings.NewReader(`{"schema":"\"string\""}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 415 || resp.Header.Get("Content-Type") != confluentContentType {
			t.Fatalf("text/plain = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		resp, err = http.Post(ts.URL+"/confluent/subjects/"+subject+"/versions", "application/json", strings.NewReader(`{"schema":`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("malformed JSON = %d", resp.StatusCode)
		}
		resp, err = http.Post(ts.URL+"/confluent/subjects/"+subject+"/versions", "application/json",
			strings.NewReader(`{"schema":"`+strings.Repeat(" ", maxSchemaBytes)+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 422 {
			t.Fatalf("oversized body = %d", resp.StatusCode)
		}

		// Nothing was half-created.
		if versions, err := cl.SubjectVersions(sr.WithParams(ctx, sr.ShowDeleted), subject); err != nil || !reflect.DeepEqual(versions, []int{1}) {
			t.Fatalf("versions = %v, %v", versions, err)
		}
	})
}

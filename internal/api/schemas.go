package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sluicehq/sluice/internal/schema"
)

// maxSchemaBytes bounds a request carrying a schema, here and in the
// Confluent-compatible API. Real schemas are a few KiB.
const maxSchemaBytes = 4 << 20

type schemaInput struct {
	Tenant string `path:"tenant"`
	Body   struct {
		Schema json.RawMessage `json:"schema" doc:"The Avro schema: a string holding its JSON text, or the JSON itself (an object, or an array for a top-level union)."`
	}
}

type schemaOutput struct {
	Status int
	Body   schema.Schema
}

type schemaVersionPath struct {
	Tenant  string `path:"tenant"`
	Version string `path:"version" doc:"A version number, or latest (the latest non-deleted version)."`
}

type compatibilityBody struct {
	Mode schema.Mode `json:"mode" enum:"BACKWARD,BACKWARD_TRANSITIVE,FORWARD,FORWARD_TRANSITIVE,FULL,FULL_TRANSITIVE,NONE" doc:"BACKWARD (default): a new schema can read data written with the latest version; FORWARD: the latest version can read data written with the new one; FULL: both; *_TRANSITIVE: against every non-deleted version instead of the latest; NONE: no check."`
}

// RegisterSchemas adds the schema registry's operations under
// /v1/tenants/{tenant}.
func RegisterSchemas(api huma.API, reg *schema.Registry) {
	tags := []string{"Schemas"}
	huma.Register(api, huma.Operation{
		OperationID: "register-schema", Method: http.MethodPost, Path: "/v1/tenants/{tenant}/schemas", Tags: tags,
		Summary: "Register a schema version",
		Description: "Adds the schema as the tenant's next version (201). A schema whose Avro Parsing Canonical Form equals a " +
			"non-deleted version's is that version (200): registering is idempotent. The schema must satisfy the tenant's " +
			"compatibility mode, else 409 lists every incompatibility (location: the field path; message: the reason and " +
			"the version it concerns). A schema that does not parse is 422 with the parser's message.",
		DefaultStatus: http.StatusCreated,
		MaxBodyBytes:  maxSchemaBytes,
		Errors:        []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *schemaInput) (*schemaOutput, error) {
		text, err := schemaText(in.Body.Schema)
		if err != nil {
			return nil, err
		}
		s, created, err := reg.Register(ctx, in.Tenant, text)
		if err != nil {
			return nil, schemaProblem(ctx, err)
		}
		out := &schemaOutput{Status: http.StatusOK, Body: s}
		if created {
			out.Status = http.StatusCreated
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "list-schemas", Method: http.MethodGet, Path: "/v1/tenants/{tenant}/schemas", Tags: tags,
		Summary:     "List a tenant's schema versions",
		Description: "Oldest first. Soft-deleted versions are left out unless deleted=true.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *struct {
		Tenant  string `path:"tenant"`
		Deleted bool   `query:"deleted" doc:"Include soft-deleted versions."`
	}) (*struct {
		Body struct {
			Schemas []schema.Schema `json:"schemas"`
		}
	}, error) {
		list, err := reg.Versions(ctx, in.Tenant, in.Deleted)
		if err != nil {
			return nil, schemaProblem(ctx, err)
		}
		out := &struct {
			Body struct {
				Schemas []schema.Schema `json:"schemas"`
			}
		}{}
		out.Body.Schemas = append([]schema.Schema{}, list...)
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-schema", Method: http.MethodGet, Path: "/v1/tenants/{tenant}/schemas/{version}", Tags: tags,
		Summary: "Get a schema version",
		Description: "A version number or latest. A soft-deleted version is still returned, with deleted: true, so records " +
			"written with it can be decoded; latest is the latest non-deleted version.",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *schemaVersionPath) (*struct{ Body schema.Schema }, error) {
		v, err := versionParam(in.Version)
		if err != nil {
			return nil, err
		}
		s, err := reg.Version(ctx, in.Tenant, v)
		if err != nil {
			return nil, schemaProblem(ctx, err)
		}
		return &struct{ Body schema.Schema }{s}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "delete-schema", Method: http.MethodDelete, Path: "/v1/tenants/{tenant}/schemas/{version}", Tags: tags,
		Summary: "Soft-delete a schema version",
		Description: "Hides the version from lists and latest and stops checking new versions against it; it stays " +
			"resolvable by id and version for old records. Deleting the latest makes the previous non-deleted version " +
			"latest. Deleting a deleted version does nothing. Version numbers and ids are never reused.",
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *schemaVersionPath) (*struct{}, error) {
		v, err := versionParam(in.Version)
		if err != nil {
			return nil, err
		}
		if _, err := reg.Delete(ctx, in.Tenant, v); err != nil {
			return nil, schemaProblem(ctx, err)
		}
		return nil, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-compatibility", Method: http.MethodGet, Path: "/v1/tenants/{tenant}/compatibility", Tags: tags,
		Summary: "Get a tenant's compatibility mode",
		Errors:  []int{http.StatusNotFound},
	}, func(ctx context.Context, in *tenantPath) (*struct{ Body compatibilityBody }, error) {
		m, err := reg.Mode(ctx, in.Name)
		if err != nil {
			return nil, schemaProblem(ctx, err)
		}
		return &struct{ Body compatibilityBody }{compatibilityBody{Mode: m}}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "set-compatibility", Method: http.MethodPut, Path: "/v1/tenants/{tenant}/compatibility", Tags: tags,
		Summary:     "Set a tenant's compatibility mode",
		Description: "Applies to registrations from now on; registered versions stay.",
		Errors:      []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *struct {
		Tenant string `path:"tenant"`
		Body   compatibilityBody
	}) (*struct{ Body compatibilityBody }, error) {
		m, err := reg.SetMode(ctx, in.Tenant, string(in.Body.Mode))
		if err != nil {
			return nil, schemaProblem(ctx, err)
		}
		return &struct{ Body compatibilityBody }{compatibilityBody{Mode: m}}, nil
	})
}

// schemaText reads the schema field of a request: a JSON string is the
// schema's text, an object or array is the schema itself, as written.
func schemaText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	bad := func(msg string) error {
		return huma.NewError(http.StatusUnprocessableEntity, "schema: "+msg,
			&huma.ErrorDetail{Location: "body.schema", Message: msg})
	}
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", bad("required: give the Avro schema")
	case raw[0] == '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", bad("not a JSON string: " + err.Error())
		}
		return text, nil
	case raw[0] == '{' || raw[0] == '[':
		return string(raw), nil
	}
	return "", bad("must be a string holding the schema's JSON, or the schema as a JSON object or array")
}

// versionParam reads a version path parameter: a number, or latest.
func versionParam(s string) (int, error) {
	if s == "latest" {
		return schema.Latest, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		msg := strconv.Quote(s) + " is not a version: use a whole number from 1, or latest"
		return 0, huma.NewError(http.StatusUnprocessableEntity, "version: "+msg,
			&huma.ErrorDetail{Location: "path.version", Message: msg, Value: s})
	}
	return v, nil
}

// schemaProblem turns a registry error into an RFC 7807 response; others go
// to problem.
func schemaProblem(ctx context.Context, err error) error {
	var se *schema.Error
	if !errors.As(err, &se) {
		return problem(ctx, err)
	}
	msg := se.Error()
	switch se.Code {
	case schema.InvalidSchema, schema.InvalidMode:
		return huma.NewError(http.StatusUnprocessableEntity, msg,
			&huma.ErrorDetail{Location: "body." + se.Field, Message: se.Message})
	case schema.InvalidVersion:
		return huma.NewError(http.StatusUnprocessableEntity, msg,
			&huma.ErrorDetail{Location: "path.version", Message: se.Message})
	case schema.TenantNotFound, schema.VersionNotFound, schema.SchemaNotFound:
		return huma.Error404NotFound(msg)
	case schema.Incompatible:
		details := make([]error, len(se.Incompatibilities))
		for i, inc := range se.Incompatibilities {
			details[i] = &huma.ErrorDetail{Location: inc.Path, Message: inc.Describe(),
				Value: map[string]any{"version": inc.Version, "direction": inc.Direction}}
		}
		return huma.NewError(http.StatusConflict, se.Message, details...)
	}
	return problem(ctx, err)
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/schema"
)

// ConfluentPrefix is where Server mounts the Confluent-compatible API.
const ConfluentPrefix = "/confluent"

// confluentContentType is what Confluent Schema Registry answers with.
const confluentContentType = "application/vnd.schemaregistry.v1+json"

// Confluent Schema Registry error codes (its Errors.java), with the HTTP
// status each goes with.
const (
	cfSubjectNotFound      = 40401
	cfVersionNotFound      = 40402
	cfSchemaNotFound       = 40403
	cfIncompatible         = 409
	cfInvalidSchema        = 42201
	cfInvalidVersion       = 42202
	cfInvalidCompatibility = 42203
	cfNotPermitted         = 42205
	cfSchemaTooLarge       = 42209
	cfStoreError           = 50001
	cfTimeout              = 50002
)

// cfError is a Confluent error answer: {"error_code": ..., "message": ...}.
type cfError struct {
	status int
	Code   int    `json:"error_code"`
	Msg    string `json:"message"`
}

func (e *cfError) Error() string { return e.Msg }

func cfErr(status, code int, format string, args ...any) *cfError {
	return &cfError{status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// confluent serves the part of Confluent Schema Registry's REST API that
// Confluent's serializers and common tools use, over the schema registry:
// a subject is a tenant (see tenantOf), a schema id the global schema id.
type confluent struct {
	reg *schema.Registry
	cat *catalog.Service
	log *slog.Logger
	mux *http.ServeMux
}

// NewConfluent returns the Confluent-compatible API as a handler whose paths
// start at the API's root (/subjects, /schemas/ids/{id}, …); mount it with
// Server.Mount(ConfluentPrefix, …). It is safe for concurrent use.
func NewConfluent(reg *schema.Registry, cat *catalog.Service, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	c := &confluent{reg: reg, cat: cat, log: log, mux: http.NewServeMux()}
	c.handle("GET /subjects", c.listSubjects)
	c.handle("GET /subjects/{subject}/versions", c.listVersions)
	c.handle("POST /subjects/{subject}/versions", c.register)
	c.handle("GET /subjects/{subject}/versions/{version}", c.getVersion)
	c.handle("GET /subjects/{subject}/versions/{version}/schema", c.getVersionText)
	c.handle("POST /subjects/{subject}", c.lookup)
	c.handle("GET /schemas/ids/{id}", c.getByID)
	c.handle("GET /schemas/ids/{id}/schema", c.getTextByID)
	c.handle("GET /schemas/types", func(*http.Request) (any, error) { return []string{"AVRO"}, nil })
	c.handle("POST /compatibility/subjects/{subject}/versions/{version}", c.checkVersion)
	c.handle("POST /compatibility/subjects/{subject}/versions", c.checkAll)
	c.handle("GET /config", func(*http.Request) (any, error) {
		return map[string]string{"compatibilityLevel": string(schema.DefaultMode)}, nil
	})
	c.handle("PUT /config", func(*http.Request) (any, error) {
		return nil, cfErr(http.StatusUnprocessableEntity, cfNotPermitted,
			"Sluice has no global compatibility level: set it per subject with PUT /config/{subject} (the default is %s)", schema.DefaultMode)
	})
	c.handle("GET /config/{subject}", c.getConfig)
	c.handle("PUT /config/{subject}", c.setConfig)
	c.handle("/", func(r *http.Request) (any, error) {
		return nil, cfErr(http.StatusNotFound, http.StatusNotFound,
			"HTTP 404 Not Found: %s %s is not part of Sluice's Confluent-compatible API (see docs/wire-format.md)", r.Method, r.URL.Path)
	})
	return c.mux
}

// handle registers fn, which returns the answer's body or an error, under
// pattern.
func (c *confluent) handle(pattern string, fn func(*http.Request) (any, error)) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body, err := fn(r)
		status := http.StatusOK
		if err != nil {
			e := c.toCfError(r, err)
			status, body = e.status, e
		}
		w.Header().Set("Content-Type", confluentContentType)
		w.WriteHeader(status)
		if raw, ok := body.(rawSchema); ok {
			_, err = io.WriteString(w, string(raw))
		} else {
			err = json.NewEncoder(w).Encode(body)
		}
		if err != nil {
			c.log.Debug("confluent api: writing response failed", "err", err)
		}
	})
}

// rawSchema is an answer that is a schema's text, sent as registered.
type rawSchema string

// toCfError maps a registry or store error to Confluent's codes.
func (c *confluent) toCfError(r *http.Request, err error) *cfError {
	var ce *cfError
	if errors.As(err, &ce) {
		return ce
	}
	var se *schema.Error
	if errors.As(err, &se) {
		switch se.Code {
		case schema.InvalidSchema:
			return cfErr(http.StatusUnprocessableEntity, cfInvalidSchema, "Invalid schema: %s", se.Message)
		case schema.InvalidVersion:
			return cfErr(http.StatusUnprocessableEntity, cfInvalidVersion, "%s", se.Message)
		case schema.InvalidMode:
			return cfErr(http.StatusUnprocessableEntity, cfInvalidCompatibility,
				"Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive (%s)", se.Message)
		case schema.TenantNotFound:
			return cfErr(http.StatusNotFound, cfSubjectNotFound, "Subject '%s' not found: %s", r.PathValue("subject"), se.Message)
		case schema.VersionNotFound:
			return cfErr(http.StatusNotFound, cfVersionNotFound, "Version not found: %s", se.Message)
		case schema.SchemaNotFound:
			return cfErr(http.StatusNotFound, cfSchemaNotFound, "Schema not found: %s", se.Message)
		case schema.Incompatible:
			msgs := make([]string, len(se.Incompatibilities))
			for i, inc := range se.Incompatibilities {
				msgs[i] = incompatibilityMessage(inc)
			}
			return cfErr(http.StatusConflict, cfIncompatible,
				"Schema being registered is incompatible with an earlier schema for subject %q: %s; %s",
				r.PathValue("subject"), se.Message, strings.Join(msgs, "; "))
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return cfErr(http.StatusInternalServerError, cfTimeout, "Operation timed out or was cancelled")
	}
	c.log.ErrorContext(r.Context(), "confluent api: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	return cfErr(http.StatusInternalServerError, cfStoreError, "Error in the backend data store; the server log has the details")
}

func incompatibilityMessage(inc schema.Incompatibility) string {
	return inc.Path + ": " + inc.Describe()
}

// tenantOf maps a subject to the tenant it names. Confluent's serializers
// use TopicNameStrategy, subject "<topic>-value", where topic is a tenant's
// data topic (sluice.tenant.acme.1-value); "<tenant>-value" and "<tenant>"
// are accepted too. Key subjects ("-key") are refused: Sluice registers
// value schemas only. The tenant must exist.
func (c *confluent) tenantOf(ctx context.Context, subject string) (string, error) {
	var candidates []string
	if base, ok := strings.CutSuffix(subject, "-value"); ok {
		if t, ok := tenantOfTopic(base); ok {
			topics, err := c.cat.Topics(ctx, catalog.TopicFilter{Tenant: t})
			if err != nil {
				return "", err
			}
			for _, tp := range topics {
				if tp.Name == base {
					return t, nil
				}
			}
			return "", cfErr(http.StatusNotFound, cfSubjectNotFound, "Subject '%s' not found: no tenant has data topic %q", subject, base)
		}
		candidates = append(candidates, base)
	}
	candidates = append(candidates, subject)
	for _, name := range candidates {
		_, err := c.cat.Tenant(ctx, name)
		if err == nil {
			return name, nil
		}
		if catalog.CodeOf(err) != catalog.NotFound {
			return "", err
		}
	}
	if strings.HasSuffix(subject, "-key") {
		return "", cfErr(http.StatusNotFound, cfSubjectNotFound,
			"Subject '%s' not found: Sluice registers value schemas only, under <topic>-value; record keys have no registered schema", subject)
	}
	return "", cfErr(http.StatusNotFound, cfSubjectNotFound,
		"Subject '%s' not found: no tenant %q (subjects are <tenant data topic>-value, <tenant>-value or <tenant>)", subject, candidates[0])
}

// tenantOfTopic reads the tenant out of a data topic name
// sluice.tenant.<tenant>.<generation>.
func tenantOfTopic(topic string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, "sluice.tenant.")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return "", false
	}
	gen, err := strconv.Atoi(rest[i+1:])
	if err != nil || gen < 1 || catalog.TopicName(rest[:i], gen) != topic {
		return "", false
	}
	return rest[:i], true
}

// subjectTenant resolves the request's subject, and when mustHaveVersions
// also requires the tenant to have a version (any, with ?deleted=true):
// Confluent answers 40401 for a subject without versions.
func (c *confluent) subjectTenant(r *http.Request, mustHaveVersions bool) (string, error) {
	subject := r.PathValue("subject")
	tenant, err := c.tenantOf(r.Context(), subject)
	if err != nil || !mustHaveVersions {
		return tenant, err
	}
	list, err := c.reg.Versions(r.Context(), tenant, queryBool(r, "deleted"))
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "", cfErr(http.StatusNotFound, cfSubjectNotFound, "Subject '%s' not found: tenant %q has no schema registered", subject, tenant)
	}
	return tenant, nil
}

func queryBool(r *http.Request, name string) bool {
	b, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return b
}

// versionOf reads the {version} path value as Confluent does: "latest" or
// -1 for the latest, else 1..2^31-1.
func versionOf(r *http.Request) (int, error) {
	s := r.PathValue("version")
	if s == "latest" || s == "-1" {
		return schema.Latest, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > math.MaxInt32 {
		return 0, cfErr(http.StatusUnprocessableEntity, cfInvalidVersion,
			"The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", s)
	}
	return v, nil
}

// schemaRequest is the body of the requests that carry a schema.
type schemaRequest struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType"`
	References []json.RawMessage `json:"references"`
	ID         int               `json:"id"`
	Version    int               `json:"version"`
}

// acceptedContentTypes are the request types Confluent's server takes.
var acceptedContentTypes = map[string]bool{
	"": true, confluentContentType: true, "application/vnd.schemaregistry+json": true,
	"application/json": true, "application/octet-stream": true,
}

// decodeBody reads a JSON request body into v.
func decodeBody(r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !acceptedContentTypes[mt] {
			return cfErr(http.StatusUnsupportedMediaType, http.StatusUnsupportedMediaType,
				"HTTP 415 Unsupported Media Type: %q; send %s or application/json", ct, confluentContentType)
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSchemaBytes+1))
	if err != nil {
		return cfErr(http.StatusBadRequest, http.StatusBadRequest, "reading the request body: %v", err)
	}
	if len(body) > maxSchemaBytes {
		return cfErr(http.StatusUnprocessableEntity, cfSchemaTooLarge, "Schema too large: the request body exceeds %d bytes", maxSchemaBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return cfErr(http.StatusBadRequest, http.StatusBadRequest, "the request body is not valid JSON of the expected shape: %v", err)
	}
	return nil
}

// schemaOf reads and checks a schema request: an Avro schema without
// references.
func schemaOf(r *http.Request) (schemaRequest, error) {
	var req schemaRequest
	if err := decodeBody(r, &req); err != nil {
		return req, err
	}
	if st := strings.ToUpper(req.SchemaType); st != "" && st != "AVRO" {
		return req, cfErr(http.StatusUnprocessableEntity, cfInvalidSchema, "Invalid schema: schemaType %s is not supported: Sluice registers AVRO schemas only", req.SchemaType)
	}
	if len(req.References) > 0 {
		return req, cfErr(http.StatusUnprocessableEntity, cfInvalidSchema, "Invalid schema: schema references are not supported: inline the referenced types")
	}
	if strings.TrimSpace(req.Schema) == "" {
		return req, cfErr(http.StatusUnprocessableEntity, cfInvalidSchema, "Invalid schema: empty schema")
	}
	return req, nil
}

// subjectSchema is a schema as Confluent's subject endpoints return it.
type subjectSchema struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	ID      int64  `json:"id"`
	Schema  string `json:"schema"`
}

func (c *confluent) listSubjects(r *http.Request) (any, error) {
	names, err := c.reg.Tenants(r.Context(), queryBool(r, "deleted"))
	if err != nil {
		return nil, err
	}
	tenants, err := c.cat.Tenants(r.Context())
	if err != nil {
		return nil, err
	}
	topicOf := make(map[string]string, len(tenants))
	for _, t := range tenants {
		topicOf[t.Name] = t.Topic
	}
	subjects := []string{}
	for _, name := range names {
		if topic, ok := topicOf[name]; ok {
			subjects = append(subjects, topic+"-value")
		}
	}
	return subjects, nil
}

func (c *confluent) listVersions(r *http.Request) (any, error) {
	tenant, err := c.subjectTenant(r, true)
	if err != nil {
		return nil, err
	}
	list, err := c.reg.Versions(r.Context(), tenant, queryBool(r, "deleted"))
	if err != nil {
		return nil, err
	}
	versions := make([]int, len(list))
	for i, s := range list {
		versions[i] = s.Version
	}
	return versions, nil
}

func (c *confluent) register(r *http.Request) (any, error) {
	tenant, err := c.subjectTenant(r, false)
	if err != nil {
		return nil, err
	}
	req, err := schemaOf(r)
	if err != nil {
		return nil, err
	}
	if req.ID > 0 || req.Version > 0 {
		return nil, cfErr(http.StatusUnprocessableEntity, cfNotPermitted,
			"Sluice assigns schema ids and versions: registering with a given id or version (IMPORT mode) is not supported")
	}
	s, _, err := c.reg.Register(r.Context(), tenant, req.Schema)
	if err != nil {
		return nil, err
	}
	return map[string]int64{"id": s.ID}, nil
}

// versionFor returns the version the request names, as Confluent does:
// soft-deleted versions only with ?deleted=true.
func (c *confluent) versionFor(r *http.Request) (schema.Schema, error) {
	v, err := versionOf(r)
	if err != nil {
		return schema.Schema{}, err
	}
	tenant, err := c.subjectTenant(r, true)
	if err != nil {
		return schema.Schema{}, err
	}
	s, err := c.reg.Version(r.Context(), tenant, v)
	if err != nil {
		return s, err
	}
	if s.Deleted && !queryBool(r, "deleted") {
		return s, cfErr(http.StatusNotFound, cfVersionNotFound, "Version %d not found: it is soft-deleted (add ?deleted=true to read it)", s.Version)
	}
	return s, nil
}

func (c *confluent) getVersion(r *http.Request) (any, error) {
	s, err := c.versionFor(r)
	if err != nil {
		return nil, err
	}
	return subjectSchema{Subject: r.PathValue("subject"), Version: s.Version, ID: s.ID, Schema: s.Text}, nil
}

func (c *confluent) getVersionText(r *http.Request) (any, error) {
	s, err := c.versionFor(r)
	if err != nil {
		return nil, err
	}
	return rawSchema(s.Text), nil
}

func (c *confluent) lookup(r *http.Request) (any, error) {
	tenant, err := c.subjectTenant(r, true)
	if err != nil {
		return nil, err
	}
	req, err := schemaOf(r)
	if err != nil {
		return nil, err
	}
	s, err := c.reg.Lookup(r.Context(), tenant, req.Schema, queryBool(r, "deleted"))
	if err != nil {
		return nil, err
	}
	return subjectSchema{Subject: r.PathValue("subject"), Version: s.Version, ID: s.ID, Schema: s.Text}, nil
}

func (c *confluent) schemaByID(r *http.Request) (schema.Schema, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return schema.Schema{}, cfErr(http.StatusNotFound, cfSchemaNotFound, "Schema %q not found: ids are whole numbers", r.PathValue("id"))
	}
	return c.reg.ByID(r.Context(), id)
}

func (c *confluent) getByID(r *http.Request) (any, error) {
	s, err := c.schemaByID(r)
	if err != nil {
		return nil, err
	}
	return map[string]string{"schema": s.Text}, nil
}

func (c *confluent) getTextByID(r *http.Request) (any, error) {
	s, err := c.schemaByID(r)
	if err != nil {
		return nil, err
	}
	return rawSchema(s.Text), nil
}

// compatibilityAnswer is {"is_compatible": …}, with the reasons when the
// request asked for verbose=true.
func compatibilityAnswer(r *http.Request, found []schema.Incompatibility) any {
	out := struct {
		IsCompatible bool     `json:"is_compatible"`
		Messages     []string `json:"messages,omitempty"`
	}{IsCompatible: len(found) == 0}
	if queryBool(r, "verbose") {
		out.Messages = make([]string, len(found))
		for i, inc := range found {
			out.Messages[i] = incompatibilityMessage(inc)
		}
	}
	return out
}

func (c *confluent) checkVersion(r *http.Request) (any, error) {
	v, err := versionOf(r)
	if err != nil {
		return nil, err
	}
	tenant, err := c.subjectTenant(r, true)
	if err != nil {
		return nil, err
	}
	req, err := schemaOf(r)
	if err != nil {
		return nil, err
	}
	found, err := c.reg.CheckVersion(r.Context(), tenant, req.Schema, v)
	if err != nil {
		return nil, err
	}
	return compatibilityAnswer(r, found), nil
}

func (c *confluent) checkAll(r *http.Request) (any, error) {
	tenant, err := c.subjectTenant(r, false)
	if err != nil {
		return nil, err
	}
	req, err := schemaOf(r)
	if err != nil {
		return nil, err
	}
	found, err := c.reg.CheckAll(r.Context(), tenant, req.Schema)
	if err != nil {
		return nil, err
	}
	return compatibilityAnswer(r, found), nil
}

func (c *confluent) getConfig(r *http.Request) (any, error) {
	tenant, err := c.subjectTenant(r, false)
	if err != nil {
		return nil, err
	}
	m, err := c.reg.Mode(r.Context(), tenant)
	if err != nil {
		return nil, err
	}
	return map[string]string{"compatibilityLevel": string(m)}, nil
}

func (c *confluent) setConfig(r *http.Request) (any, error) {
	tenant, err := c.subjectTenant(r, false)
	if err != nil {
		return nil, err
	}
	var req struct {
		Compatibility string `json:"compatibility"`
	}
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	m, err := c.reg.SetMode(r.Context(), tenant, req.Compatibility)
	if err != nil {
		return nil, err
	}
	return map[string]string{"compatibility": string(m)}, nil
}

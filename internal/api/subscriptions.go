package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/sink"
	sluicesql "github.com/sluicehq/sluice/internal/sql"
	"github.com/sluicehq/sluice/internal/subscription"
)

// MaxSubscriptionBytes bounds a request carrying a subscription.
const MaxSubscriptionBytes = 256 << 10

type subscriptionOutput struct {
	ETag string `header:"ETag"`
	Body subscription.Subscription
}

// subOut answers with a subscription, its sink secrets redacted.
func subOut(s subscription.Subscription) *subscriptionOutput {
	return &subscriptionOutput{ETag: s.ETag(), Body: s.Redacted()}
}

type subscriptionPath struct {
	ID string `path:"id" maxLength:"64"`
}

// ifMatchVersion reads an If-Match header: "" and * match anything (0).
func ifMatchVersion(h string) (int64, error) {
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 1 {
		return 0, huma.NewError(http.StatusBadRequest, "If-Match "+strconv.Quote(h)+" is not an ETag of this API (a quoted version number such as \"3\")")
	}
	return v, nil
}

// RegisterSubscriptions adds /v1/subscriptions.
func RegisterSubscriptions(api huma.API, svc *subscription.Service) {
	// A sink is a flat object: its type and that sink's settings.
	api.OpenAPI().Components.Schemas.RegisterTypeAlias(reflect.TypeFor[sink.Spec](), reflect.TypeFor[map[string]any]())
	tags := []string{"Subscriptions"}
	maxSQL, maxPerApp := svc.Limits()
	errs := []int{http.StatusBadRequest, http.StatusNotFound, http.StatusPreconditionFailed, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity}

	huma.Register(api, huma.Operation{
		OperationID: "create-subscription", Method: http.MethodPost, Path: "/v1/subscriptions", Tags: tags,
		Summary: "Create a subscription",
		Description: "Validates the subscription before anything runs: the SQL is analysed against the tenant's current reader " +
			"schema (an error names the line and column), the output format and the sink settings are checked. The job starts " +
			"within seconds. With dryRun=true it also opens and closes the sink (a connectivity check) and saves nothing. " +
			"Limits: the body at most " + strconv.Itoa(MaxSubscriptionBytes) + " bytes (413), the SQL at most " + strconv.Itoa(maxSQL) +
			" bytes (422), " + strconv.Itoa(maxPerApp) + " subscriptions per application (429).",
		DefaultStatus: http.StatusCreated, MaxBodyBytes: MaxSubscriptionBytes,
		Errors: append(errs, http.StatusTooManyRequests),
	}, func(ctx context.Context, in *struct {
		DryRun bool `query:"dryRun" doc:"Validate and check the sink's connectivity; save nothing."`
		Body   subscription.Spec
	}) (*struct {
		Status int
		ETag   string `header:"ETag"`
		Body   subscription.Subscription
	}, error) {
		s, err := svc.Create(ctx, in.Body, in.DryRun)
		if err != nil {
			return nil, subscriptionProblem(ctx, err)
		}
		out := &struct {
			Status int
			ETag   string `header:"ETag"`
			Body   subscription.Subscription
		}{Status: http.StatusCreated, ETag: s.ETag(), Body: s.Redacted()}
		if in.DryRun {
			out.Status, out.ETag = http.StatusOK, ""
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "list-subscriptions", Method: http.MethodGet, Path: "/v1/subscriptions", Tags: tags,
		Summary:     "List subscriptions",
		Description: "In id order, filtered by application, tenant and desired state; `next` is the cursor of the next page (pass it as after).",
	}, func(ctx context.Context, in *struct {
		Application string `query:"application"`
		Tenant      string `query:"tenant"`
		State       string `query:"state" enum:"running,paused,"`
		Limit       int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
		After       string `query:"after" doc:"The next cursor of the previous page."`
	}) (*struct {
		Body struct {
			Subscriptions []subscription.Subscription `json:"subscriptions"`
			Next          string                      `json:"next,omitempty"`
		}
	}, error) {
		list, next, err := svc.List(ctx, subscription.Filter{Application: in.Application, Tenant: in.Tenant, State: in.State, Limit: in.Limit, After: in.After})
		if err != nil {
			return nil, subscriptionProblem(ctx, err)
		}
		out := &struct {
			Body struct {
				Subscriptions []subscription.Subscription `json:"subscriptions"`
				Next          string                      `json:"next,omitempty"`
			}
		}{}
		for i := range list {
			list[i] = list[i].Redacted()
		}
		out.Body.Subscriptions, out.Body.Next = list, next
		if out.Body.Subscriptions == nil {
			out.Body.Subscriptions = []subscription.Subscription{}
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-subscription", Method: http.MethodGet, Path: "/v1/subscriptions/{id}", Tags: tags,
		Summary: "Get a subscription", Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *subscriptionPath) (*subscriptionOutput, error) {
		s, err := svc.Get(ctx, in.ID)
		if err != nil {
			return nil, subscriptionProblem(ctx, err)
		}
		return subOut(s), nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "replace-subscription", Method: http.MethodPut, Path: "/v1/subscriptions/{id}", Tags: tags,
		Summary: "Replace a subscription",
		Description: "Validates as create does, against the tenant's current schema, and replaces the spec; the application and " +
			"tenant cannot change. A changed spec restarts the job at a new epoch. If-Match makes it conditional (412 on mismatch).",
		MaxBodyBytes: MaxSubscriptionBytes, Errors: errs,
	}, func(ctx context.Context, in *struct {
		ID      string `path:"id" maxLength:"64"`
		IfMatch string `header:"If-Match" doc:"The version (ETag) the change is based on; a mismatch is 412."`
		Body    subscription.Spec
	}) (*subscriptionOutput, error) {
		v, err := ifMatchVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		s, err := svc.Replace(ctx, in.ID, in.Body, v)
		if err != nil {
			return nil, subscriptionProblem(ctx, err)
		}
		return subOut(s), nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "patch-subscription", Method: http.MethodPatch, Path: "/v1/subscriptions/{id}", Tags: tags,
		Summary: "Change part of a subscription",
		Description: "A JSON merge patch (RFC 7396) of the spec, e.g. {\"sql\": \"SELECT ...\"} or {\"labels\": {\"team\": null}}, " +
			"validated as a replace. If-Match makes it conditional.",
		MaxBodyBytes: MaxSubscriptionBytes, Errors: errs,
	}, func(ctx context.Context, in *struct {
		ID      string `path:"id" maxLength:"64"`
		IfMatch string `header:"If-Match" doc:"The version (ETag) the change is based on; a mismatch is 412."`
		RawBody []byte `contentType:"application/merge-patch+json"`
	}) (*subscriptionOutput, error) {
		v, err := ifMatchVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		s, err := svc.Patch(ctx, in.ID, in.RawBody, v)
		if err != nil {
			return nil, subscriptionProblem(ctx, err)
		}
		return subOut(s), nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "delete-subscription", Method: http.MethodDelete, Path: "/v1/subscriptions/{id}", Tags: tags,
		Summary: "Delete a subscription",
		Description: "Its job stops at a checkpoint. Its consumer group offsets (sluice.job.<id>) are kept unless purgeOffsets=true. " +
			"If-Match makes it conditional.",
		DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusPreconditionFailed},
	}, func(ctx context.Context, in *struct {
		ID           string `path:"id" maxLength:"64"`
		IfMatch      string `header:"If-Match" doc:"The version (ETag) the change is based on; a mismatch is 412."`
		PurgeOffsets bool   `query:"purgeOffsets" doc:"Also delete the job's committed offsets."`
	}) (*struct{}, error) {
		v, err := ifMatchVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		if err := svc.Delete(ctx, in.ID, in.PurgeOffsets, v); err != nil {
			return nil, subscriptionProblem(ctx, err)
		}
		return nil, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "subscription-action", Method: http.MethodPost, Path: "/v1/subscriptions/{target}", Tags: tags,
		Summary: "Pause, resume or restart a subscription",
		Description: "target is <id>:pause (its job stops at a checkpoint), <id>:resume, or <id>:restart (a new epoch: the job " +
			"stops at a checkpoint and starts again). If-Match makes it conditional.",
		Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusPreconditionFailed},
	}, func(ctx context.Context, in *struct {
		Target  string `path:"target" pattern:"^[^:]+:(pause|resume|restart)$" doc:"<id>:pause, <id>:resume or <id>:restart"`
		IfMatch string `header:"If-Match" doc:"The version (ETag) the change is based on; a mismatch is 412."`
	}) (*subscriptionOutput, error) {
		v, err := ifMatchVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		id, action, _ := strings.Cut(in.Target, ":")
		var s subscription.Subscription
		switch action {
		case "pause":
			s, err = svc.SetState(ctx, id, subscription.Paused, v)
		case "resume":
			s, err = svc.SetState(ctx, id, subscription.Running, v)
		default:
			s, err = svc.Restart(ctx, id, v)
		}
		if err != nil {
			return nil, subscriptionProblem(ctx, err)
		}
		return subOut(s), nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "subscription-dag", Method: http.MethodGet, Path: "/v1/subscriptions/{id}/dag", Tags: tags,
		Summary:     "The subscription's operator DAG",
		Description: "format=json (default) gives the plan as JSON, format=dot as Graphviz DOT, format=svg as an SVG picture.",
		Errors:      []int{http.StatusNotFound},
		Responses: map[string]*huma.Response{"200": {Description: "The DAG", Content: map[string]*huma.MediaType{
			"application/json":  {Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[sluicesql.Plan](), true, "")},
			"text/vnd.graphviz": {Schema: &huma.Schema{Type: "string"}},
			"image/svg+xml":     {Schema: &huma.Schema{Type: "string"}},
		}}},
	}, func(ctx context.Context, in *struct {
		ID     string `path:"id" maxLength:"64"`
		Format string `query:"format" enum:"json,dot,svg" default:"json"`
	}) (*huma.StreamResponse, error) {
		s, err := svc.Get(ctx, in.ID)
		if err != nil {
			return nil, subscriptionProblem(ctx, err)
		}
		q, _, err := svc.Analyzed(ctx, s)
		if err != nil {
			return nil, problem(ctx, err)
		}
		plan := q.Plan(sluicesql.PlanOptions{Source: s.Tenant, Format: s.OutputFormat, Sink: sinkText(s.Sink), Lateness: s.Lateness})
		var body []byte
		ctype := "application/json"
		switch in.Format {
		case "dot":
			body, ctype = []byte(plan.DOT()), "text/vnd.graphviz"
		case "svg":
			body, ctype = plan.SVG(), "image/svg+xml"
		default:
			body, err = json.Marshal(plan)
			if err != nil {
				return nil, problem(ctx, err)
			}
		}
		return &huma.StreamResponse{Body: func(hc huma.Context) {
			hc.SetHeader("Content-Type", ctype)
			_, _ = hc.BodyWriter().Write(body)
		}}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "subscription-output-schema", Method: http.MethodGet, Path: "/v1/subscriptions/{id}/output-schema", Tags: tags,
		Summary: "The Avro schema of the subscription's results",
		Description: "Derived from the query's result columns (docs/formats.md): what AVRO output is written with, and a " +
			"description of the result for any format. It changes when the query does.",
		Errors: []int{http.StatusNotFound},
		Responses: map[string]*huma.Response{"200": {Description: "An Avro schema (JSON)", Content: map[string]*huma.MediaType{
			"application/json": {Schema: &huma.Schema{Type: "object"}},
		}}},
	}, func(ctx context.Context, in *subscriptionPath) (*huma.StreamResponse, error) {
		s, err := svc.Get(ctx, in.ID)
		if err != nil {
			return nil, subscriptionProblem(ctx, err)
		}
		q, _, err := svc.Analyzed(ctx, s)
		if err != nil {
			return nil, problem(ctx, err)
		}
		text, err := format.AvroSchema(q.Columns)
		if err != nil {
			return nil, problem(ctx, err)
		}
		return &huma.StreamResponse{Body: func(hc huma.Context) {
			hc.SetHeader("Content-Type", "application/json")
			_, _ = hc.BodyWriter().Write([]byte(text))
		}}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "subscription-status", Method: http.MethodGet, Path: "/v1/subscriptions/{id}/status", Tags: tags,
		Summary: "Desired and actual state of a subscription's job",
		Description: "actualState is what the worker running the job reports: starting, running, paused, failed (with lastError), " +
			"updating (moving to a new epoch), or unknown when no worker has reported for 15 seconds.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *subscriptionPath) (*struct{ Body subscription.Status }, error) {
		st, err := svc.Status(ctx, in.ID)
		if err != nil {
			return nil, subscriptionProblem(ctx, err)
		}
		return &struct{ Body subscription.Status }{st}, nil
	})
}

// sinkText names a sink in the DAG without its settings (which may hold
// secrets): the type, and a file sink's path.
func sinkText(s sink.Spec) string {
	if p, ok := s.Settings["path"].(string); ok && s.Type == "file" {
		return "file " + p
	}
	return s.Type
}

func subscriptionProblem(ctx context.Context, err error) error {
	var se *subscription.Error
	if !errors.As(err, &se) {
		return problem(ctx, err)
	}
	switch se.Code {
	case subscription.Invalid:
		d := &huma.ErrorDetail{Location: se.Field, Message: se.Message}
		if se.Line > 0 {
			d.Value = map[string]int{"line": se.Line, "column": se.Column}
		}
		// The detail is the message alone: the error detail names the
		// field, and clients print each once.
		return huma.NewError(http.StatusUnprocessableEntity, se.Message, d)
	case subscription.NotFound:
		return huma.Error404NotFound(se.Message)
	case subscription.Precondition:
		return huma.Error412PreconditionFailed(se.Message)
	case subscription.TooMany:
		return huma.NewError(http.StatusTooManyRequests, se.Message, &huma.ErrorDetail{Location: se.Field, Message: se.Message})
	case subscription.Conflict:
		return huma.Error409Conflict(se.Message)
	}
	return problem(ctx, err)
}

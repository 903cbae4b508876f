package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/schema"
	sluicesql "github.com/sluicehq/sluice/internal/sql"
)

// ExplainRequest asks how a query would run over a tenant's data.
type ExplainRequest struct {
	SQL           string `json:"sql" minLength:"1" maxLength:"65536" doc:"The query, e.g. SELECT * FROM tenant WHERE dst_port < 1024."`
	SchemaVersion int    `json:"schemaVersion,omitempty" minimum:"0" doc:"The tenant's schema version to analyse against; 0 or absent for the latest."`
	OutputFormat  string `json:"outputFormat,omitempty" maxLength:"64" doc:"Shown as the encode operator when set, e.g. JSON."`
	Sink          string `json:"sink,omitempty" maxLength:"256" doc:"Shown as the sink operator when set, e.g. file /tmp/out.ndjson."`
	Lateness      string `json:"lateness,omitempty" maxLength:"64" doc:"Allowed lateness of an aggregation, e.g. '5 seconds' (shown in the plan; checked)."`
}

// ExplainColumn is one result column.
type ExplainColumn struct {
	Name string `json:"name"`
	Type string `json:"type" doc:"SQL type, e.g. VARCHAR, BIGINT, TIMESTAMP, ARRAY<VARCHAR>."`
}

// Explanation is what the analyser and planner made of a query.
type Explanation struct {
	Tenant        string          `json:"tenant"`
	SchemaVersion int             `json:"schemaVersion" doc:"The schema version the query was analysed against."`
	SQL           string          `json:"sql" doc:"The query in canonical form."`
	Fields        []string        `json:"fields" doc:"The input fields the query reads, in decode order: those the filter needs first."`
	FilterFields  int             `json:"filterFields" doc:"How many of fields the filter reads; only those are decoded for records the filter drops."`
	ReadsAll      bool            `json:"readsAll" doc:"The query selects *, so every field of the schema is read."`
	Columns       []ExplainColumn `json:"columns" doc:"The result columns."`
	Plan          *sluicesql.Plan `json:"plan" doc:"The operator DAG."`
	DOT           string          `json:"dot" doc:"The operator DAG as Graphviz DOT."`
}

// RegisterSQL adds POST /v1/tenants/{tenant}/explain.
func RegisterSQL(api huma.API, reg *schema.Registry) {
	huma.Register(api, huma.Operation{
		OperationID: "explain-sql", Method: http.MethodPost, Path: "/v1/tenants/{tenant}/explain", Tags: []string{"SQL"},
		Summary: "Analyse a query and show its plan",
		Description: "Parses the query, resolves it against the tenant's reader schema (the latest version unless " +
			"schemaVersion is given) and returns the fields it reads, its result columns and its operator DAG as JSON " +
			"and Graphviz DOT. Nothing is saved. A query that does not parse or does not fit the schema is 422: the " +
			"error detail's location is body.sql and its value gives the line and column.",
		MaxBodyBytes: 128 << 10,
		Errors:       []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *struct {
		Tenant string `path:"tenant"`
		Body   ExplainRequest
	}) (*struct{ Body Explanation }, error) {
		version := in.Body.SchemaVersion
		if version == 0 {
			version = schema.Latest
		}
		s, err := reg.Version(ctx, in.Tenant, version)
		if err != nil {
			return nil, schemaProblem(ctx, err)
		}
		reader, err := avro.Parse(s.Text)
		if err != nil {
			return nil, problem(ctx, err) // the registry only holds schemas that parse
		}
		var lateness string
		if in.Body.Lateness != "" {
			if _, ok := sluicesql.ParseInterval(in.Body.Lateness); !ok {
				return nil, huma.NewError(http.StatusUnprocessableEntity, "lateness "+strconv.Quote(in.Body.Lateness)+" is not a duration",
					&huma.ErrorDetail{Location: "body.lateness", Message: "expected a duration such as '5 seconds', '1 minute' or '00:00:05'", Value: in.Body.Lateness})
			}
			lateness = in.Body.Lateness
		}
		q, err := sluicesql.Analyze(in.Body.SQL, reader)
		if err != nil {
			return nil, sqlProblem(ctx, "body.sql", err)
		}
		out := Explanation{
			Tenant: in.Tenant, SchemaVersion: s.Version, SQL: q.Stmt.String(),
			Fields: q.Fields, FilterFields: q.FilterFields, ReadsAll: q.Star,
			Plan: q.Plan(sluicesql.PlanOptions{Source: in.Tenant, Format: in.Body.OutputFormat, Sink: in.Body.Sink, Lateness: lateness}),
		}
		for _, c := range q.Columns {
			out.Columns = append(out.Columns, ExplainColumn{Name: c.Name, Type: c.Type.String()})
		}
		out.DOT = out.Plan.DOT()
		return &struct{ Body Explanation }{out}, nil
	})
}

// sqlProblem turns a query error into a 422 whose detail points at the
// field holding the query, with the line and column.
func sqlProblem(ctx context.Context, location string, err error) error {
	pos, ok := sluicesql.ErrorPos(err)
	if !ok {
		return problem(ctx, err)
	}
	msg := err.Error()
	var se *sluicesql.SyntaxError
	var ae *sluicesql.AnalysisError
	switch {
	case errors.As(err, &se):
		msg = se.Msg
	case errors.As(err, &ae):
		msg = ae.Msg
	}
	return huma.NewError(http.StatusUnprocessableEntity, "the query is not valid: "+err.Error(),
		&huma.ErrorDetail{Location: location, Message: msg, Value: map[string]int{"line": pos.Line, "column": pos.Column}})
}

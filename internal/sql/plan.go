package sql

import (
	"fmt"
	"strings"
)

// Plan is the operator DAG of a query as a job runs it: source, decode,
// filter, project or aggregate, encode, sink. It is what EXPLAIN shows, as
// JSON or as Graphviz DOT.
type Plan struct {
	Nodes []PlanNode `json:"nodes"`
	Edges []PlanEdge `json:"edges"`
}

// PlanNode is one operator.
type PlanNode struct {
	ID string `json:"id"`
	// Kind is source, decode, filter, project, aggregate, encode or sink.
	Kind    string   `json:"kind" enum:"source,decode,filter,project,aggregate,encode,sink"`
	Label   string   `json:"label"`
	Details []Detail `json:"details,omitempty"`
}

// Detail is one line of what an operator does, in order.
type Detail struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// PlanEdge says records flow From one operator To another.
type PlanEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// PlanOptions name the parts of a job that are not in the query. Empty
// fields leave their operator out.
type PlanOptions struct {
	Source   string // the tenant topic, e.g. "acme on cluster local"
	Format   string // the output format, e.g. JSON
	Sink     string // the sink, e.g. "file /tmp/out.ndjson"
	Lateness string // allowed lateness of an aggregation, as text
}

// Plan builds the operator DAG of q.
func (q *Query) Plan(o PlanOptions) *Plan {
	p := &Plan{}
	add := func(kind, label string, details ...Detail) {
		id := fmt.Sprintf("%d-%s", len(p.Nodes), kind)
		if n := len(p.Nodes); n > 0 {
			p.Edges = append(p.Edges, PlanEdge{From: p.Nodes[n-1].ID, To: id})
		}
		p.Nodes = append(p.Nodes, PlanNode{ID: id, Kind: kind, Label: label, Details: details})
	}
	if o.Source != "" {
		add("source", "Kafka source", Detail{"topic", o.Source})
	}
	fields := func(fs []string) Detail { return Detail{"fields", strings.Join(fs, ", ")} }
	stopAt := Detail{"stops after", "the last of these fields in each record"}
	if q.Where != nil {
		if q.FilterFields > 0 && q.FilterFields < len(q.Fields) {
			add("decode", "Decode filter fields", fields(q.Fields[:q.FilterFields]), stopAt)
			add("filter", "Filter", Detail{"condition", q.Stmt.Where.String()})
			add("decode", "Decode remaining fields", fields(q.Fields[q.FilterFields:]), Detail{"for", "records that passed the filter"})
		} else {
			add("decode", "Decode", fields(q.Fields), stopAt)
			add("filter", "Filter", Detail{"condition", q.Stmt.Where.String()})
		}
	} else {
		add("decode", "Decode", fields(q.Fields), stopAt)
	}
	if a := q.Agg; a != nil {
		w := a.Window
		var win string
		switch w.Kind {
		case Tumble:
			win = fmt.Sprintf("TUMBLE(%s, %s)", w.TimeField, durationText(w.Size))
		case Hop:
			win = fmt.Sprintf("HOP(%s, slide %s, size %s)", w.TimeField, durationText(w.Slide), durationText(w.Size))
		case Session:
			win = fmt.Sprintf("SESSION(%s, gap %s)", w.TimeField, durationText(w.Gap))
		}
		ds := []Detail{{"window", win}}
		if len(a.KeyText) > 0 {
			ds = append(ds, Detail{"keys", strings.Join(a.KeyText, ", ")})
		}
		aggs := make([]string, len(a.Aggregates))
		for i, ag := range a.Aggregates {
			aggs[i] = ag.Text
		}
		ds = append(ds, Detail{"aggregates", strings.Join(aggs, ", ")})
		if q.Stmt.Having != nil {
			ds = append(ds, Detail{"having", q.Stmt.Having.String()})
		}
		emit := "once per window, when the watermark passes its end"
		if o.Lateness != "" {
			emit += " (watermark = event time - " + o.Lateness + ")"
		}
		ds = append(ds, Detail{"emits", emit})
		add("aggregate", "Windowed aggregate", ds...)
	}
	cols := make([]string, len(q.Columns))
	for i, c := range q.Columns {
		cols[i] = c.Name + " " + c.Type.String()
	}
	add("project", "Project", Detail{"columns", strings.Join(cols, ", ")})
	if o.Format != "" {
		add("encode", "Encode", Detail{"format", o.Format})
	}
	if o.Sink != "" {
		add("sink", "Sink", Detail{"sink", o.Sink})
	}
	return p
}

// durationText renders microseconds as the largest whole unit.
func durationText(us int64) string {
	for _, u := range []struct {
		n    int64
		name string
	}{{microsPerDay, "day"}, {3600 * microsPerSecond, "hour"}, {60 * microsPerSecond, "minute"}, {microsPerSecond, "second"}} {
		if us%u.n == 0 {
			n := us / u.n
			if n == 1 {
				return "1 " + u.name
			}
			return fmt.Sprintf("%d %ss", n, u.name)
		}
	}
	return string(appendInterval(nil, us))
}

// DOT renders the plan as a Graphviz digraph, one record-shaped node per
// operator with its details.
func (p *Plan) DOT() string {
	var b strings.Builder
	b.WriteString("digraph plan {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f6fb\", fontname=\"Helvetica\", fontsize=11];\n")
	for _, n := range p.Nodes {
		label := dotEscape(n.Label)
		for _, d := range n.Details {
			label += `\n` + dotEscape(d.Key+": "+d.Value)
		}
		fmt.Fprintf(&b, "  %q [label=\"%s\"];\n", n.ID, label)
	}
	for _, e := range p.Edges {
		fmt.Fprintf(&b, "  %q -> %q;\n", e.From, e.To)
	}
	b.WriteString("}\n")
	return b.String()
}

func dotEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "{", `\{`, "}", `\}`, "<", `\<`, ">", `\>`, "|", `\|`)
	return r.Replace(s)
}

package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/client"
)

func newSQLCmd() *cobra.Command {
	o := &clientOpts{}
	cmd := &cobra.Command{
		Use:   "sql",
		Short: "Check queries against a tenant's schema",
	}
	o.register(cmd)
	cmd.AddCommand(newSQLExplainCmd(o))
	return cmd
}

func newSQLExplainCmd(o *clientOpts) *cobra.Command {
	var (
		req    client.ExplainRequest
		file   string
		format string
	)
	cmd := &cobra.Command{
		Use:   "explain TENANT [QUERY]",
		Short: "Analyse a query against a tenant's schema and show its operator DAG",
		Long: `Analyse a query against the tenant's reader schema (the latest version unless
--schema-version is given) and show what a job would do with it: the fields it
decodes (those the filter needs first), the result columns and the operator
DAG. Nothing is saved. The query is the second argument, or read from --file
(- for standard input).

--format dot prints the DAG as Graphviz DOT, e.g. for
  sluice sql explain acme "SELECT ..." --format dot | dot -Tsvg > plan.svg
A query that does not parse or does not fit the schema is reported with its
line and column.`,
		Example: `  sluice sql explain acme "SELECT src_ip, dst_port FROM tenant WHERE action = 'deny'"
  sluice sql explain acme -f query.sql --format dot
  sluice sql explain acme -o json "SELECT * FROM tenant"`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 2 && file != "":
				return fmt.Errorf("give the query as an argument or with --file, not both")
			case len(args) == 2:
				req.SQL = args[1]
			case file == "-":
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
				if err != nil {
					return err
				}
				req.SQL = string(b)
			case file != "":
				b, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				req.SQL = string(b)
			default:
				return fmt.Errorf("no query: give it as the second argument or with --file")
			}
			if format != "table" && format != "dot" {
				return fmt.Errorf("--format %q: want table or dot", format)
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ex, err := c.Explain(cmd.Context(), args[0], req)
			if err != nil {
				return apiErr("explain", err)
			}
			w := cmd.OutOrStdout()
			switch {
			case format == "dot":
				_, err = io.WriteString(w, ex.DOT)
				return err
			case o.json():
				return printJSON(w, ex)
			}
			fmt.Fprintf(w, "%s\n\nschema version %d; reads %s", ex.SQL, ex.SchemaVersion, strings.Join(ex.Fields, ", "))
			if ex.FilterFields > 0 && ex.FilterFields < len(ex.Fields) {
				fmt.Fprintf(w, " (the filter needs only %s)", strings.Join(ex.Fields[:ex.FilterFields], ", "))
			}
			fmt.Fprint(w, "\n\n")
			rows := make([][]string, len(ex.Columns))
			for i, col := range ex.Columns {
				rows[i] = []string{col.Name, col.Type}
			}
			if err := printTable(w, []string{"COLUMN", "TYPE"}, rows); err != nil {
				return err
			}
			fmt.Fprintln(w)
			for i, n := range ex.Plan.Nodes {
				arrow := "   "
				if i > 0 {
					arrow = "-> "
				}
				fmt.Fprintf(w, "%s%s\n", arrow, n.Label)
				for _, d := range n.Details {
					fmt.Fprintf(w, "     %s: %s\n", d.Key, d.Value)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "read the query from this file (- for standard input)")
	f.IntVar(&req.SchemaVersion, "schema-version", 0, "analyse against this schema version (default: the latest)")
	f.StringVar(&format, "format", "table", "table (with -o json for JSON) or dot")
	f.StringVar(&req.OutputFormat, "output-format", "", "show this output format in the DAG, e.g. JSON")
	f.StringVar(&req.Sink, "sink", "", "show this sink in the DAG, e.g. \"file /tmp/out.ndjson\"")
	f.StringVar(&req.Lateness, "lateness", "", "show this allowed lateness for an aggregation, e.g. \"5 seconds\"")
	return cmd
}

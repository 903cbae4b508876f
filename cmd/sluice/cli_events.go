package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/client"
)

// maxPage is the API's largest page of events or operations.
const maxPage = 1000

// followFailures is how many polls in a row may fail (server restarting,
// say) before --follow gives up.
const followFailures = 5

func newEventsCmd() *cobra.Command {
	o := &clientOpts{}
	var (
		f        client.EventFilter
		since    string
		follow   bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List what Sluice's control loops observed, or follow it",
		Long: `List events, oldest first: clusters becoming unreachable or recovering, topics
missing, partition counts changed outside Sluice, config drift, operations
recovered. Without --follow at most --limit events are listed; start later
with --since or --after-id.

--follow keeps polling for newer events every --poll-interval until Ctrl-C.
It starts from the oldest event that matches, so add --since (--since 0s for
new events only); --limit is then the size of each page. With -o json,
--follow prints one compact JSON event per line.`,
		Example: `  sluice events --since 1h
  sluice events --kind topic.partitions_adopted --tenant acme
  sluice events --cluster eu1 --follow --since 0s
  sluice events --since 2026-01-02T15:04:05Z -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return err
				}
				f.Since = t
			}
			if f.Limit < 1 || f.Limit > maxPage {
				return fmt.Errorf("--limit %d: want 1 to %d", f.Limit, maxPage)
			}
			if f.AfterID < 0 {
				return fmt.Errorf("--after-id %d: must not be negative", f.AfterID)
			}
			if interval < 100*time.Millisecond {
				return fmt.Errorf("--poll-interval %v: must be at least 100ms", interval)
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			out := &eventPrinter{w: cmd.OutOrStdout(), json: o.json(), stream: follow}
			if !follow {
				list, err := c.Events(cmd.Context(), f)
				if err != nil {
					return apiErr("list events", err)
				}
				return out.page(list)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return followEvents(ctx, c, f, interval, out, cmd.ErrOrStderr())
		},
	}
	o.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.Kind, "kind", "", "only events of this kind, e.g. topic.partitions_adopted or cluster.unreachable")
	fl.StringVar(&f.Cluster, "cluster", "", "only events about this cluster")
	fl.StringVar(&f.Tenant, "tenant", "", "only events about this tenant")
	fl.StringVar(&since, "since", "", "only events from then on: an RFC 3339 time, a date, or a duration ago such as 1h or 7d")
	fl.Int64Var(&f.AfterID, "after-id", 0, "only events after this id (the last id seen)")
	fl.IntVar(&f.Limit, "limit", 100, "most events to list, or per page with --follow (at most 1000)")
	fl.BoolVarP(&follow, "follow", "f", false, "keep printing new events until Ctrl-C")
	fl.DurationVar(&interval, "poll-interval", 2*time.Second, "how often --follow asks for new events")
	return cmd
}

// followEvents prints pages of events after the last one seen until ctx
// ends. A full page is followed at once by the next; otherwise it waits for
// interval. Only one page is held at a time, however long it runs.
func followEvents(ctx context.Context, c *client.Client, f client.EventFilter, interval time.Duration, out *eventPrinter, stderr io.Writer) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		list, err := c.Events(ctx, f)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && retryable(err) && failures+1 < followFailures:
			failures++
			fmt.Fprintf(stderr, "warning: %v (retrying in %v)\n", err, interval)
			timer.Reset(interval)
			continue
		case err != nil:
			return apiErr("follow events", err)
		}
		failures = 0
		if err := out.page(list); err != nil {
			return err
		}
		if len(list) > 0 {
			f.AfterID = list[len(list)-1].ID
		}
		if len(list) == f.Limit {
			timer.Reset(0)
		} else {
			timer.Reset(interval)
		}
	}
}

// retryable errors are those a server coming back would cure.
func retryable(err error) bool {
	var ue *client.UnreachableError
	return errors.As(err, &ue) || client.StatusOf(err) >= 500
}

// eventPrinter writes events as a table, a JSON document, or (streaming) a
// JSON line each. Streamed tables keep their column widths from page to
// page, which tabwriter, aligning one flush at a time, cannot.
type eventPrinter struct {
	w      io.Writer
	json   bool
	stream bool
	widths []int
	header bool
}

var eventHeader = []string{"ID", "TIME", "KIND", "CLUSTER", "TENANT", "MESSAGE"}

func (p *eventPrinter) page(list []client.Event) error {
	switch {
	case p.json && p.stream:
		enc := json.NewEncoder(p.w)
		for _, e := range list {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	case p.json:
		return printJSON(p.w, struct {
			Events []client.Event `json:"events"`
		}{orEmpty(list)})
	}
	if p.stream && len(list) == 0 {
		// The header waits for the first events, so that it is aligned
		// with them.
		return nil
	}
	rows := make([][]string, 0, len(list)+1)
	if !p.header {
		rows = append(rows, eventHeader)
		p.header = true
	}
	for _, e := range list {
		rows = append(rows, dashEmpty([]string{strconv.FormatInt(e.ID, 10), e.Time.UTC().Format(time.RFC3339), e.Kind,
			e.Cluster, e.Tenant, eventMessage(e)}))
	}
	if p.widths == nil {
		p.widths = make([]int, len(eventHeader))
		if p.stream {
			// Room for typical ids, times and kinds, so that later pages
			// rarely need wider columns than the first.
			copy(p.widths, []int{6, 20, 26, 8, 8})
		}
	}
	for _, r := range rows {
		for i, c := range r[:len(r)-1] {
			p.widths[i] = max(p.widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r[:len(r)-1] {
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", p.widths[i]-utf8.RuneCountInString(c)+2))
		}
		b.WriteString(r[len(r)-1])
		b.WriteByte('\n')
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

// eventMessage is the message with the details that are not already in it.
func eventMessage(e client.Event) string {
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	msg := e.Message
	for _, k := range keys {
		if v := e.Details[k]; !strings.Contains(e.Message, v) {
			msg += " " + k + "=" + v
		}
	}
	return msg
}

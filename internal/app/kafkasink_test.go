package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkatest"
)

// TestSubscriptionKafkaSink: a subscription writes, exactly once, to a
// topic on the tenant's cluster; the API refuses what cannot work with a
// 422 naming the field.
func TestSubscriptionKafkaSink(t *testing.T) {
	e := startE2E(t)
	out := kafkatest.TopicName(t)
	if resp, err := e.adm.CreateTopic(context.Background(), 3, -1, nil, out); err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", out, err, resp.Err)
	}
	e.produce(0, 300)

	body := func(sink, guarantee string) string {
		return `{"application":"siem","tenant":"` + e.tenant + `","sql":"SELECT id, action FROM tenant WHERE action = 'deny'",
			"deliveryGuarantee":"` + guarantee + `","sink":` + sink + `}`
	}
	for _, c := range []struct{ sink, guarantee, field, msg string }{
		{`{"type":"file","path":"` + t.TempDir() + `/x.ndjson"}`, "exactly-once", "body.deliveryGuarantee", "file does not"},
		{`{"type":"kafka","topic":"` + out + `","key":"ip"}`, "exactly-once", "body.sink.key", `is not a result column`},
		{`{"type":"kafka","topic":"no-such-topic-here"}`, "exactly-once", "body.sink.topic", "does not exist"},
		{`{"type":"kafka","topic":"` + out + `","cluster":"nope"}`, "at-least-once", "body.sink.cluster", "nope"},
	} {
		code, _, resp := e.c.call("POST", "/v1/subscriptions?dryRun=true", body(c.sink, c.guarantee))
		if code != 422 || !strings.Contains(resp, c.field) || !strings.Contains(resp, c.msg) {
			t.Errorf("%s: %d %s; want 422 naming %s with %q", c.sink, code, resp, c.field, c.msg)
		}
	}

	e.c.must(201, "POST", "/v1/subscriptions", body(`{"type":"kafka","topic":"`+out+`","key":"id"}`, "exactly-once"))
	cl := kafkatest.NewClient(t, e.addr, kgo.ConsumeTopics(out), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[int64]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(seen) < 225 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var row struct {
				ID     int64  `json:"id"`
				Action string `json:"action"`
			}
			if err := json.Unmarshal(r.Value, &row); err != nil || row.Action != "deny" || string(r.Key) != jsonNumber(row.ID) {
				t.Errorf("record %s key %s: %v", r.Value, r.Key, err)
			}
			seen[row.ID]++
		})
	}
	if len(seen) != 225 {
		t.Fatalf("%d distinct deny records in %s, want 225", len(seen), out)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("id %d delivered %d times", id, n)
		}
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

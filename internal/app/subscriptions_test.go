package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/job"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/store/storetest"
	"github.com/sluicehq/sluice/internal/testenv"
)

const e2eSchema = `{"type":"record","name":"Event","fields":[{"name":"id","type":"long"},{"name":"action","type":"string"}]}`

// api calls the running process's HTTP API.
type apiClient struct {
	t    *testing.T
	base string
}

func (c apiClient) call(method, path, body string, headers ...string) (int, http.Header, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (c apiClient) must(want int, method, path, body string, headers ...string) map[string]any {
	c.t.Helper()
	code, _, out := c.call(method, path, body, headers...)
	if code != want {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, code, out, want)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(out), &m)
	return m
}

func readIDs(t *testing.T, path string) (map[int]int, []map[string]any) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return map[int]int{}, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := map[int]int{}
	var rows []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		ids[int(row["id"].(float64))]++
		rows = append(rows, row)
	}
	return ids, rows
}

func waitIDs(t *testing.T, path string, n int) (map[int]int, []map[string]any) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ids, rows := readIDs(t, path)
		if len(ids) >= n {
			return ids, rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d distinct ids within 60s, want %d", path, len(ids), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSubscriptionEndToEnd, on real Kafka: a subscription created through
// the API starts a job whose records reach the file sink; a change of its
// SQL and sink moves the job to a new epoch that goes on where the old one
// stopped (nothing lost, nothing twice); deleting it with purgeOffsets
// stops the job and removes its consumer group.
// e2e is a running server and worker on a fresh tenant of a real Kafka
// cluster.
type e2e struct {
	c       apiClient
	addr    string
	tenant  string
	topic   string // the tenant's topic
	adm     *kadm.Client
	produce func(from, to int)
}

// runE2EProcess opens a process with both roles on a fresh SQLite store
// and runs it until the test ends.
func runE2EProcess(t *testing.T) apiClient {
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Open(ctx, Options{Roles: []string{RoleServer, RoleWorker}, HTTPAddr: "127.0.0.1:0",
		StoreDSN: storetest.SQLiteDSN(t), SinkEnv: sink.Env{AllowPrivate: true}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return apiClient{t: t, base: "http://" + p.API.Addr()}
}

// e2eTenant is a tenant name unique to the test.
func e2eTenant(t *testing.T) string {
	tenant := strings.ToLower(strings.ReplaceAll(kafkatest.TopicName(t), "_", "-"))
	if len(tenant) > 40 {
		tenant = tenant[len(tenant)-40:]
	}
	return "t" + strings.Trim(tenant, "-.")
}

// startE2E opens a process with both roles, registers the cluster and a
// tenant with e2eSchema; produce writes records id from..to-1, every
// fourth an "allow", the others "deny".
func startE2E(t *testing.T) *e2e {
	addr := testenv.KafkaClusters(t, 1)[0]
	c := runE2EProcess(t)
	tenant := e2eTenant(t)
	c.must(201, "POST", "/v1/clusters", `{"name":"real","region":"eu","bootstrapServers":["`+addr+`"]}`)
	c.must(201, "POST", "/v1/tenants", `{"name":"`+tenant+`","region":"eu","partitions":2,"replicationFactor":1}`)
	c.must(201, "POST", "/v1/tenants/"+tenant+"/schemas", `{"schema":`+fmt.Sprintf("%q", e2eSchema)+`}`)
	route := c.must(200, "GET", "/v1/tenants/"+tenant+"/route", "")
	topic := route["topic"].(string)

	schema := avro.MustParse(e2eSchema)
	cl := kafkatest.NewClient(t, addr, kgo.DefaultProduceTopic(topic))
	produce := func(from, to int) {
		var recs []*kgo.Record
		for id := from; id < to; id++ {
			action := "deny"
			if id%4 == 0 {
				action = "allow"
			}
			v, err := schema.Encode(map[string]any{"id": int64(id), "action": action})
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprint(id)), Value: v,
				Headers: []kgo.RecordHeader{{Key: wire.Header, Value: wire.HeaderValue(1)}}})
		}
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return &e2e{c: c, addr: addr, tenant: tenant, topic: topic, adm: kadm.NewClient(cl), produce: produce}
}

func TestSubscriptionEndToEnd(t *testing.T) {
	e := startE2E(t)
	c, tenant, produce := e.c, e.tenant, e.produce
	produce(0, 400)

	dir := t.TempDir()
	out1, out2 := filepath.Join(dir, "epoch1.ndjson"), filepath.Join(dir, "epoch2.ndjson")
	sub := c.must(201, "POST", "/v1/subscriptions", `{"application":"siem","tenant":"`+tenant+`",
		"sql":"SELECT id, action FROM tenant","sink":{"type":"file","path":"`+out1+`","fsync":false}}`)
	id := sub["id"].(string)
	if sub["epoch"] != 1.0 || sub["state"] != "running" || sub["schemaVersion"] != 1.0 {
		t.Fatalf("created %v", sub)
	}
	waitIDs(t, out1, 400)
	waitRunning := func(epoch float64) map[string]any {
		deadline := time.Now().Add(20 * time.Second)
		for {
			st := c.must(200, "GET", "/v1/subscriptions/"+id+"/status", "")
			if st["actualState"] == "running" && st["epoch"] == epoch {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("status %v, want running at epoch %v", st, epoch)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	st := waitRunning(1)
	for deadline := time.Now().Add(10 * time.Second); len(st["lag"].([]any)) != 2 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		st = c.must(200, "GET", "/v1/subscriptions/"+id+"/status", "")
	}
	if st["desiredState"] != "running" || st["schemaVersion"] != 1.0 || len(st["lag"].([]any)) != 2 {
		t.Fatalf("status %v", st)
	}

	// Change the SQL (a filter now) and the sink: a new epoch, which goes
	// on where the first stopped.
	patched := c.must(200, "PATCH", "/v1/subscriptions/"+id,
		`{"sql":"SELECT id FROM tenant WHERE action = 'deny'","sink":{"type":"file","path":"`+out2+`","fsync":false}}`,
		"Content-Type", "application/merge-patch+json")
	if patched["epoch"] != 2.0 {
		t.Fatalf("patched %v", patched)
	}
	waitRunning(2)
	produce(400, 800)
	ids2, rows2 := waitIDs(t, out2, 300) // 3 in 4 of the new records are deny
	ids1, _ := readIDs(t, out1)
	for id := 0; id < 800; id++ {
		switch {
		case id < 400 && ids1[id] == 0:
			t.Fatalf("id %d missing from the first epoch's output", id)
		case id >= 400 && id%4 != 0 && ids2[id] != 1:
			t.Fatalf("id %d delivered %d times by the second epoch", id, ids2[id])
		case id%4 == 0 && ids2[id] != 0:
			t.Fatalf("id %d (allow) passed the second epoch's filter", id)
		}
	}
	for _, row := range rows2 {
		if len(row) != 1 {
			t.Fatalf("second epoch row %v, want only id", row)
		}
	}
	if code, h, body := c.call("GET", "/v1/subscriptions/"+id+"/dag?format=svg", ""); code != 200 ||
		h.Get("Content-Type") != "image/svg+xml" || !strings.Contains(body, "<svg") {
		t.Fatalf("dag svg = %d %s %.80s", code, h.Get("Content-Type"), body)
	}

	// Delete with purgeOffsets: the job stops and its group goes.
	c.must(204, "DELETE", "/v1/subscriptions/"+id+"?purgeOffsets=true", "")
	c.must(404, "GET", "/v1/subscriptions/"+id, "")
	adm := e.adm
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := adm.FetchOffsets(context.Background(), job.GroupID(id))
		resp, _ := adm.DescribeGroups(context.Background(), job.GroupID(id))
		if err != nil && (strings.Contains(err.Error(), kerr.GroupIDNotFound.Message) || len(resp) == 0 || resp[job.GroupID(id)].State == "Dead") {
			break
		}
		if g, ok := resp[job.GroupID(id)]; ok && g.State == "Dead" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s still there 30s after the delete (offsets err %v)", job.GroupID(id), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package app

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/store/storetest"
	"github.com/sluicehq/sluice/internal/testenv"
)

// The reliable-update tests run a producer writing keyed records the
// whole time, change a running subscription, and check the output exactly.

const flowSchema = `{"type":"record","name":"Flow","fields":[
	{"name":"id","type":"long"},
	{"name":"key","type":"string"},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}}]}`

// flowBase is the event time of id 0; ids are flowStep apart, so 10
// seconds of event time are 500 records.
var flowBase = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

const flowStep = 20 * time.Millisecond

func flowTime(id int64) time.Time { return flowBase.Add(time.Duration(id) * flowStep) }

// flowProducer writes ids 0, 1, 2… to partition id mod parts (parts may
// grow while it runs), about 1,000 a second, and remembers where each
// went.
type flowProducer struct {
	t     *testing.T
	cl    atomic.Pointer[kgo.Client]
	parts atomic.Int32
	stop  chan struct{}
	done  chan struct{}

	mu  sync.Mutex
	pos []kgo.Record // by id: partition and offset
}

func startFlowProducer(t *testing.T, addr, topic string, parts int32) *flowProducer {
	p := &flowProducer{t: t, stop: make(chan struct{}), done: make(chan struct{})}
	p.switchTo(addr, topic)
	p.parts.Store(parts)
	s := avro.MustParse(flowSchema)
	go func() {
		defer close(p.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for id := int64(0); ; {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			n := p.parts.Load()
			recs := make([]*kgo.Record, 0, 20)
			for range 20 {
				v, err := s.Encode(map[string]any{"id": id, "key": fmt.Sprint("k", id%7), "ts": flowTime(id).UnixMilli()})
				if err != nil {
					t.Error(err)
					return
				}
				recs = append(recs, &kgo.Record{Key: fmt.Appendf(nil, "k%d", id%7), Value: v, Partition: int32(id % int64(n)),
					Headers: []kgo.RecordHeader{{Key: wire.Header, Value: wire.HeaderValue(1)}}})
				id++
			}
			// Records to partitions the client does not know yet (they
			// were just added) fail until its next metadata refresh: send
			// those again, only those.
			pending := recs
			cl := p.cl.Load()
			for try := 0; len(pending) > 0; try++ {
				var failed []*kgo.Record
				var err error
				for _, r := range cl.ProduceSync(context.Background(), pending...) {
					if r.Err != nil {
						failed, err = append(failed, r.Record), r.Err
					}
				}
				if pending = failed; len(pending) > 0 {
					if try == 100 {
						t.Errorf("produce: %v", err)
						return
					}
					cl.ForceMetadataRefresh()
					time.Sleep(50 * time.Millisecond)
				}
			}
			p.mu.Lock()
			for _, r := range recs {
				p.pos = append(p.pos, kgo.Record{Partition: r.Partition, Offset: r.Offset})
			}
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() { p.end() })
	return p
}

// switchTo sends the next records to topic on the cluster at addr: a
// producer following its tenant's route.
func (p *flowProducer) switchTo(addr, topic string) {
	p.cl.Store(kafkatest.NewClient(p.t, addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner())))
}

// end stops producing and returns how many records were written.
func (p *flowProducer) end() int {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pos)
}

// position returns where id went.
func (p *flowProducer) position(id int64) (int32, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.pos[id]
	return r.Partition, r.Offset
}

// updateE2E is a running server and worker with a tenant whose topic a
// flowProducer writes.
type updateE2E struct {
	c       apiClient
	addr    string
	tenant  string
	topic   string
	cluster string
	adm     *kadm.Client
}

func startUpdateE2E(t *testing.T, partitions int) *updateE2E {
	addr := testenv.KafkaClusters(t, 1)[0]
	c := runE2EProcess(t)
	tenant := e2eTenant(t)
	c.must(201, "POST", "/v1/clusters", `{"name":"real","region":"eu","bootstrapServers":["`+addr+`"]}`)
	c.must(201, "POST", "/v1/tenants", fmt.Sprintf(`{"name":%q,"region":"eu","partitions":%d,"replicationFactor":1}`, tenant, partitions))
	c.must(201, "POST", "/v1/tenants/"+tenant+"/schemas", `{"schema":`+fmt.Sprintf("%q", flowSchema)+`}`)
	route := c.must(200, "GET", "/v1/tenants/"+tenant+"/route", "")
	cl := kafkatest.NewClient(t, addr)
	return &updateE2E{c: c, addr: addr, tenant: tenant, topic: route["topic"].(string), cluster: "real", adm: kadm.NewClient(cl)}
}

// outputTopic creates a topic for a kafka sink.
func (e *updateE2E) outputTopic(t *testing.T) string {
	name := kafkatest.TopicName(t) + "-out"
	if resp, err := e.adm.CreateTopic(context.Background(), 1, 1, nil, name); err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", name, err, resp.Err)
	}
	return name
}

// waitEpoch waits until the subscription's job runs epoch, and returns how
// long that took.
func (e *updateE2E) waitEpoch(t *testing.T, id string, epoch int64) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(60 * time.Second)
	for {
		st := e.c.must(200, "GET", "/v1/subscriptions/"+id+"/status", "")
		if int64(st["epoch"].(float64)) == epoch && st["actualState"] == "running" {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("epoch %d is not running within 60s: %v", epoch, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// committedRows reads every committed record of a topic as a JSON object.
type committedRows struct {
	t    *testing.T
	cl   *kgo.Client
	rows []map[string]any
}

func readCommitted(t *testing.T, addr, topic string) *committedRows {
	return &committedRows{t: t, cl: kafkatest.NewClient(t, addr, kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))}
}

// poll reads what has arrived since the last call.
func (r *committedRows) poll() []map[string]any {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	fs := r.cl.PollFetches(ctx)
	fs.EachRecord(func(rec *kgo.Record) {
		var m map[string]any
		if err := json.Unmarshal(rec.Value, &m); err != nil {
			r.t.Fatalf("output %q: %v", rec.Value, err)
		}
		r.rows = append(r.rows, m)
	})
	return r.rows
}

// until polls until cond holds of every row read (a minute at most).
func (r *committedRows) until(what string, cond func([]map[string]any) bool) []map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows := r.poll()
		if cond(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: not within 60s (%d rows)", what, len(rows))
		}
	}
}

func httpsCertPEMOf(srv *httptest.Server) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}

func rowID(row map[string]any) (int64, bool) {
	v, ok := row["id"].(float64)
	return int64(v), ok
}

// TestUpdateFilterToAggregation changes a running filter into a 10-second
// tumbling aggregation mid-stream, exactly-once into Kafka: the filter's
// rows are each record before the epoch's stop offsets, once; the
// aggregation's are each window once, computed from every record from
// those offsets on.
func TestUpdateFilterToAggregation(t *testing.T) {
	e := startUpdateE2E(t, 3)
	out := e.outputTopic(t)
	prod := startFlowProducer(t, e.addr, e.topic, 3)
	sub := e.c.must(201, "POST", "/v1/subscriptions", fmt.Sprintf(`{"application":"siem","tenant":%q,
		"sql":"SELECT id, key FROM tenant WHERE key <> 'none'","lateness":"1 second","deliveryGuarantee":"exactly-once",
		"sink":{"type":"kafka","topic":%q}}`, e.tenant, out))
	id := sub["id"].(string)
	reader := readCommitted(t, e.addr, out)
	reader.until("1,000 filter rows", func(rows []map[string]any) bool { return len(rows) >= 1000 })
	e.c.must(200, "PATCH", "/v1/subscriptions/"+id, `{"sql":"SELECT MIN(id) AS first, COUNT(*) AS n, SUM(id) AS total, WINDOW_START AS ws, WINDOW_END AS we FROM tenant GROUP BY TUMBLE(ts, INTERVAL '10' SECOND)"}`)
	t.Logf("update applied in %v", e.waitEpoch(t, id, 2))
	windows := func(rows []map[string]any) int {
		n := 0
		for _, r := range rows {
			if _, ok := r["we"]; ok {
				n++
			}
		}
		return n
	}
	reader.until("20 windows", func(rows []map[string]any) bool { return windows(rows) >= 20 })
	produced := int64(prod.end())

	// The windows the watermark will pass: every partition's highest event
	// time less the lateness.
	last := flowTime(produced - 3).Add(-time.Second)
	filtered := map[int64]bool{}
	// Windows are emitted in order: once the last window to close is in,
	// every window is.
	lastEnd := last.Truncate(10 * time.Second)
	rows := reader.until("every closed window", func(rows []map[string]any) bool {
		for _, r := range rows {
			if we, ok := r["we"].(string); ok {
				if end, _ := time.Parse(time.RFC3339Nano, we); end.Equal(lastEnd) {
					return true
				}
			}
		}
		return false
	})

	// The filter's rows: each once, and per partition every record before
	// some stop offset.
	stops := map[int32]int64{}
	counts := map[int32]int64{}
	for _, r := range rows {
		id, ok := rowID(r)
		if !ok {
			continue
		}
		if filtered[id] {
			t.Fatalf("filter row %d delivered twice", id)
		}
		filtered[id] = true
		p, off := prod.position(id)
		stops[p] = max(stops[p], off+1)
		counts[p]++
	}
	for p, stop := range stops {
		if counts[p] != stop {
			t.Fatalf("partition %d: %d filter rows below its stop offset %d: records were lost", p, counts[p], stop)
		}
	}
	// The aggregation's rows: each window once, with exactly the records
	// from the stop offsets on.
	type agg struct{ first, n, total int64 }
	want := map[time.Time]*agg{}
	for id := range produced {
		if filtered[id] {
			continue
		}
		ws := flowTime(id).Truncate(10 * time.Second)
		a := want[ws]
		if a == nil {
			a = &agg{first: id}
			want[ws] = a
		}
		a.n++
		a.total += id
	}
	got := map[time.Time]bool{}
	for _, r := range rows {
		wsText, ok := r["ws"].(string)
		if !ok {
			continue
		}
		ws, err := time.Parse(time.RFC3339Nano, wsText)
		if err != nil {
			t.Fatal(err)
		}
		if got[ws] {
			t.Fatalf("window %v emitted twice", ws)
		}
		got[ws] = true
		w := want[ws]
		if w == nil || int64(r["n"].(float64)) != w.n || int64(r["total"].(float64)) != w.total || int64(r["first"].(float64)) != w.first {
			t.Fatalf("window %v: %v, want %+v", ws, r, w)
		}
	}
	for ws := range want {
		if !ws.Add(10*time.Second).After(last) && !got[ws] {
			t.Fatalf("window %v was not emitted", ws)
		}
	}
	t.Logf("%d records: %d through the filter, %d windows", produced, len(filtered), len(got))
}

// TestUpdateSinkFileToHTTPS moves a running subscription's sink from a
// file to an HTTPS endpoint: every record reaches one or the other, once.
func TestUpdateSinkFileToHTTPS(t *testing.T) {
	e := startUpdateE2E(t, 2)
	var mu sync.Mutex
	var posted []byte
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted = append(posted, b...)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	ca := httpsCertPEMOf(srv)
	prod := startFlowProducer(t, e.addr, e.topic, 2)
	path := filepath.Join(t.TempDir(), "out.ndjson")
	sub := e.c.must(201, "POST", "/v1/subscriptions", fmt.Sprintf(`{"application":"siem","tenant":%q,
		"sql":"SELECT id FROM tenant","sink":{"type":"file","path":%q,"fsync":false}}`, e.tenant, path))
	id := sub["id"].(string)
	waitIDs(t, path, 1000)
	// A merge patch: the file sink's settings are removed with nulls.
	sinkJSON, _ := json.Marshal(map[string]any{"type": "https", "url": srv.URL, "caPEM": ca, "path": nil, "fsync": nil})
	e.c.must(200, "PATCH", "/v1/subscriptions/"+id, `{"sink":`+string(sinkJSON)+`}`)
	t.Logf("update applied in %v", e.waitEpoch(t, id, 2))
	httpsIDs := func() map[int]int {
		mu.Lock()
		defer mu.Unlock()
		ids := map[int]int{}
		for line := range strings.Lines(string(posted)) {
			var row struct{ ID int }
			if err := json.Unmarshal([]byte(line), &row); err != nil {
				t.Fatalf("posted %q: %v", line, err)
			}
			ids[row.ID]++
		}
		return ids
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(httpsIDs()) < 1000 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	produced := prod.end()
	var fileIDs, netIDs map[int]int
	deadline = time.Now().Add(60 * time.Second)
	for {
		fileIDs, _ = readIDs(t, path)
		netIDs = httpsIDs()
		if len(fileIDs)+len(netIDs) >= produced || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(netIDs) == 0 {
		t.Fatal("nothing reached the HTTPS sink")
	}
	for id := range produced {
		if n := fileIDs[id] + netIDs[id]; n != 1 {
			t.Fatalf("id %d delivered %d times (file %d, https %d) of %d produced", id, n, fileIDs[id], netIDs[id], produced)
		}
	}
	t.Logf("%d records: %d to the file, %d over HTTPS", produced, len(fileIDs), len(netIDs))
}

// TestUpdatePartitionsAdded adds partitions to the topic while the
// producer writes to them: the job notices within seconds, reads the new
// partitions from their start, and delivers every record once
// (exactly-once into Kafka).
func TestUpdatePartitionsAdded(t *testing.T) {
	e := startUpdateE2E(t, 2)
	out := e.outputTopic(t)
	prod := startFlowProducer(t, e.addr, e.topic, 2)
	sub := e.c.must(201, "POST", "/v1/subscriptions", fmt.Sprintf(`{"application":"siem","tenant":%q,
		"sql":"SELECT id FROM tenant","deliveryGuarantee":"exactly-once","sink":{"type":"kafka","topic":%q}}`, e.tenant, out))
	id := sub["id"].(string)
	reader := readCommitted(t, e.addr, out)
	reader.until("500 rows", func(rows []map[string]any) bool { return len(rows) >= 500 })
	e.c.must(200, "PATCH", "/v1/clusters/"+e.cluster+"/topics/"+e.topic, `{"partitions":4}`)
	prod.parts.Store(4) // records go to the new partitions before the job knows of them
	t.Logf("the job read the new partitions %v after they were added", e.waitEpoch(t, id, 2))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st := e.c.must(200, "GET", "/v1/subscriptions/"+id+"/status", "")
		if lag, _ := st["lag"].([]any); len(lag) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status after the update: %v; want the lag of 4 partitions", st)
		}
	}
	produced := prod.end()
	rows := reader.until("every record", func(rows []map[string]any) bool { return len(rows) >= produced })
	seen := make([]int, produced)
	for _, r := range rows {
		id, _ := rowID(r)
		seen[id]++
	}
	if i := slices.IndexFunc(seen, func(n int) bool { return n != 1 }); i >= 0 {
		t.Fatalf("id %d delivered %d times", i, seen[i])
	}
	onNew := 0
	for id := range produced {
		if p, _ := prod.position(int64(id)); p >= 2 {
			onNew++
		}
	}
	if onNew == 0 {
		t.Fatal("no record went to the new partitions")
	}
	t.Logf("%d records, %d on the new partitions, each delivered once", produced, onNew)
}

// TestUpdateSourceMoved moves the tenant to a copy of its topic on a second
// real Kafka cluster while the producer writes: the job reads the old
// topic to its end (the producer keeps writing there for a second after
// the move, as producers do until they refetch their route), then the new
// one from its start, exactly once into PostgreSQL.
func TestUpdateSourceMoved(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	e := startUpdateE2E(t, 2)
	second := testenv.KafkaClusters(t, 2)[1]
	e.c.must(201, "POST", "/v1/clusters", `{"name":"second","region":"eu","bootstrapServers":["`+second+`"]}`)
	// The copy: a topic of the same name and partitions on the second
	// cluster (the source is the cluster and the topic together).
	adm2 := kadm.NewClient(kafkatest.NewClient(t, second))
	if resp, err := adm2.CreateTopic(context.Background(), 2, 1, nil, e.topic); err != nil || resp.Err != nil {
		t.Fatalf("create %s on the second cluster: %v %v", e.topic, err, resp.Err)
	}
	prod := startFlowProducer(t, e.addr, e.topic, 2)
	sub := e.c.must(201, "POST", "/v1/subscriptions", fmt.Sprintf(`{"application":"siem","tenant":%q,
		"sql":"SELECT id, key FROM tenant","deliveryGuarantee":"exactly-once",
		"sink":{"type":"postgres","dsn":%q,"table":"moved","createTable":true}}`, e.tenant, dsn))
	id := sub["id"].(string)
	conn := pgConnect(t, dsn)
	count := func() int {
		var n int
		if err := conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM moved WHERE to_regclass('moved') IS NOT NULL`).Scan(&n); err != nil && !strings.Contains(err.Error(), "does not exist") {
			t.Fatal(err)
		}
		return n
	}
	for deadline := time.Now().Add(60 * time.Second); count() < 1000; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d rows within 60s", count())
		}
	}
	moved := time.Now()
	e.c.must(200, "POST", "/v1/tenants/"+e.tenant+"/move", fmt.Sprintf(`{"cluster":"second","topic":%q}`, e.topic))
	time.Sleep(time.Second) // producers still on the old route
	prod.switchTo(second, e.topic)
	t.Logf("the job moved %v after the tenant did", e.waitEpoch(t, id, 2))
	time.Sleep(time.Second)
	produced := prod.end()
	for deadline := time.Now().Add(60 * time.Second); count() < produced; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d rows of %d produced within 60s", count(), produced)
		}
	}
	rows, err := conn.Query(context.Background(), `SELECT id, COUNT(*) FROM moved GROUP BY id HAVING COUNT(*) > 1 LIMIT 5`)
	if err != nil {
		t.Fatal(err)
	}
	dups, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ ID, N int64 }])
	if err != nil || len(dups) > 0 || count() != produced {
		t.Fatalf("%d rows for %d records, duplicated %v (%v)", count(), produced, dups, err)
	}
	var lo, hi int64
	if err := conn.QueryRow(context.Background(), `SELECT MIN(id), MAX(id) FROM moved`).Scan(&lo, &hi); err != nil || lo != 0 || hi != int64(produced-1) {
		t.Fatalf("ids %d..%d, want 0..%d (%v)", lo, hi, produced-1, err)
	}
	st := e.c.must(200, "GET", "/v1/subscriptions/"+id+"/status", "")
	t.Logf("%d records, each once, across the move (%v ago); status %v", produced, time.Since(moved).Round(time.Millisecond), st["actualState"])
}

func pgConnect(t *testing.T, dsn string) *pgx.Conn {
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

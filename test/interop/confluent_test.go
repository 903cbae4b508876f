// Package interop tests Sluice against clients nobody at Sluice wrote.
package interop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/app"
	"github.com/sluicehq/sluice/internal/catalog"
	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/schema/wire"
	"github.com/sluicehq/sluice/internal/store/storetest"
	"github.com/sluicehq/sluice/internal/testenv"
)

const schemaFile = "../../internal/gen/schemas/firewall_log_v1.avsc"

// written is what produce.py reports: each record with where it landed.
type written struct {
	Version int `json:"version"`
	Records []struct {
		Partition int32          `json:"partition"`
		Offset    int64          `json:"offset"`
		Record    map[string]any `json:"record"`
	} `json:"records"`
}

// TestPythonProducersReadBack: Python's confluent-kafka (AvroSerializer,
// registering through Sluice's /confluent API, Confluent framing) and
// fastavro (Sluice's header) write firewall logs to a tenant topic on real
// Kafka; Sluice's wire parser, registry and decoder read every record back
// equal to what Python wrote.
func TestPythonProducersReadBack(t *testing.T) {
	python := testenv.Python(t)
	kafka := testenv.KafkaClusters(t, 1)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	p, err := app.Open(ctx, app.Options{Roles: []string{app.RoleServer}, HTTPAddr: "127.0.0.1:0",
		StoreDSN: storetest.SQLiteDSN(t), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	defer func() { stop(); <-done }()

	tenant := "interop-" + randomHex(t)
	if _, err := p.Catalog.RegisterCluster(ctx, catalog.ClusterSpec{Name: "real", Region: "eu",
		Connection: kafkaconn.Config{Bootstrap: []string{kafka}}}); err != nil {
		t.Fatal(err)
	}
	tn, err := p.Catalog.CreateTenant(ctx, catalog.TenantSpec{Name: tenant, Region: "eu", Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Catalog.DeleteTenant(context.Background(), tenant)

	const perProducer = 150
	out := filepath.Join(t.TempDir(), "written.json")
	cmd := exec.CommandContext(ctx, python, "testdata/produce.py",
		"--registry", "http://"+p.API.Addr()+"/confluent", "--bootstrap", kafka, "--topic", tn.Topic,
		"--tenant", tenant, "--schema", schemaFile, "--count", fmt.Sprint(perProducer), "--out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("produce.py: %v\n%s", err, msg)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var w written
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	want := make(map[string]map[string]any, len(w.Records))
	for _, r := range w.Records {
		want[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = r.Record
	}
	if len(want) != 2*perProducer {
		t.Fatalf("produce.py reported %d records, want %d", len(want), 2*perProducer)
	}

	// The schema Python registered is the tenant's version 1, and the route says so.
	latest, err := p.Schemas.Version(ctx, tenant, w.Version)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := p.Catalog.Route(ctx, tenant); err != nil || r.SchemaVersion != w.Version {
		t.Fatalf("route = %+v, %v; want schema version %d", r, err, w.Version)
	}
	fields := fieldNames(t, latest.Text)

	cl, err := kgo.NewClient(kgo.SeedBrokers(kafka), kgo.FetchMaxWait(200*time.Millisecond),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{tn.Topic: {0: kgo.NewOffset().AtStart(), 1: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	var row decode.Row
	decoders := map[int64]*decode.Decoder{}
	seen, framed, headered := 0, 0, 0
	for seen < len(want) {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records before timing out", seen, len(want))
		}
		fetches.EachError(func(topic string, part int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, part, err) })
		fetches.EachRecord(func(rec *kgo.Record) {
			seen++
			ref, body, err := wire.Parse(rec.Headers, rec.Value)
			if err != nil {
				t.Fatalf("record %d/%d: %v", rec.Partition, rec.Offset, err)
			}
			var writerID int64
			switch {
			case ref.ID != 0:
				framed++
				writerID = ref.ID
			default:
				headered++
				s, err := p.Schemas.Version(ctx, tenant, ref.Version)
				if err != nil {
					t.Fatal(err)
				}
				writerID = s.ID
			}
			dec := decoders[writerID]
			if dec == nil {
				ws, err := p.Schemas.ByID(ctx, writerID)
				if err != nil {
					t.Fatalf("writer schema %d: %v", writerID, err)
				}
				if dec, err = decode.CompileJSON(ws.Text, latest.Text, fields); err != nil {
					t.Fatal(err)
				}
				decoders[writerID] = dec
			}
			if err := dec.Decode(body, &row); err != nil {
				t.Fatalf("decode record %d/%d: %v", rec.Partition, rec.Offset, err)
			}
			exp := want[fmt.Sprintf("%d/%d", rec.Partition, rec.Offset)]
			if exp == nil {
				t.Fatalf("record %d/%d was not written by produce.py", rec.Partition, rec.Offset)
			}
			for i, f := range fields {
				if got, w := plain(row.Values[i]), exp[f]; fmt.Sprint(got) != fmt.Sprint(w) {
					t.Fatalf("record %d/%d field %s = %v (%T), Python wrote %v (%T)", rec.Partition, rec.Offset, f, got, got, w, w)
				}
			}
		})
	}
	if framed != perProducer || headered != perProducer {
		t.Fatalf("read %d Confluent-framed and %d headered records, want %d of each", framed, headered, perProducer)
	}
	t.Logf("read back %d records written by confluent-kafka and fastavro, every field equal", seen)
}

// plain turns a decoded value into what Python's JSON holds for it.
func plain(v decode.Value) any {
	switch v.Kind {
	case decode.KindNull:
		return nil
	case decode.KindInt, decode.KindLong:
		return float64(v.I) // JSON numbers decode as float64
	case decode.KindString, decode.KindEnum, decode.KindBytes:
		return string(v.B)
	case decode.KindBoolean:
		return v.I == 1
	case decode.KindFloat, decode.KindDouble:
		return v.F
	}
	return fmt.Sprintf("unexpected kind %v", v.Kind)
}

func fieldNames(t *testing.T, schemaText string) []string {
	t.Helper()
	var s struct {
		Fields []struct {
			Name string `json:"name"`
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(schemaText), &s); err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = f.Name
	}
	return names
}

func randomHex(t *testing.T) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

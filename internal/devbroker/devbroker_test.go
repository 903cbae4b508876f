package devbroker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRestartKeepsTopicsAndRecords is the `sluice dev` promise: stop the
// broker, start it on the same data dir, and everything is still there.
func TestRestartKeepsTopicsAndRecords(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()

	b, err := Start(Config{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, b.Addr())
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 1, nil, "kept"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	for i := range 10 {
		r := &kgo.Record{Topic: "kept", Partition: int32(i % 3), Value: []byte{byte(i)}}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	cl.Close()
	b.Close()
	b.Close() // idempotent

	b2, err := Start(Config{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	adm := kadm.NewClient(newClient(t, b2.Addr()))
	topics, err := adm.ListTopics(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(topics["kept"].Partitions); got != 3 {
		t.Fatalf("after restart topic has %d partitions, want 3 (err %v)", got, topics["kept"].Err)
	}
	ends, err := adm.ListEndOffsets(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 10 {
		t.Fatalf("after restart topic holds %d records, want 10", total)
	}
}

func TestStartRejectsBadAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:9092", ":9092", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000"} {
		if _, err := Start(Config{Listen: addr}); err == nil || !strings.Contains(err.Error(), addr) {
			t.Errorf("Start(%q) error = %v, want one naming the address", addr, err)
		}
	}
}

func newClient(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

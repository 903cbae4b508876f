package sink_test

import (
	"context"
	"testing"

	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sink/sinktest"
)

// TestStorageContract checks the Sink contract. The storage sink buffers
// records until a roll is written (its stored offsets, not Write, say
// what is durable), so the contract's read-back after each write does not
// apply: TestStorage* in storage_internal_test.go read the objects back.
func TestStorageContract(t *testing.T) {
	dir := t.TempDir()
	env := sink.Env{Job: "contract", Tenant: "acme", ExactlyOnce: true,
		Output: sink.Output{Format: "json", ContentType: "application/x-ndjson"}}
	sinktest.Run(t, func() sink.Sink {
		s, err := sink.Open(context.Background(), sink.Spec{Type: "storage", Settings: map[string]any{"url": "file://" + dir}}, env)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(sink.OffsetStore); !ok {
			t.Fatal("the storage sink is not an OffsetStore")
		}
		return s
	}, nil)
	if !sink.SupportsExactlyOnce("storage") {
		t.Fatal("storage is not registered as exactly-once")
	}
}

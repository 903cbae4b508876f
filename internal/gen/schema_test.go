package gen

import (
	"reflect"
	"testing"

	"github.com/twmb/avro"
)

func fieldNames(s *avro.Schema) []string {
	var names []string
	for _, f := range s.Root().Fields {
		names = append(names, f.Name)
	}
	return names
}

func TestSchemas(t *testing.T) {
	want := []string{"event_time", "tenant", "session_id", "src_ip", "src_port", "dst_ip", "dst_port",
		"protocol", "application", "action", "rule", "src_zone", "dst_zone", "bytes_sent", "bytes_received",
		"packets", "duration_ms", "user", "country", "severity", "log_type", "threat_name", "threat_category"}
	if got := fieldNames(schemaV1); !reflect.DeepEqual(got, want) {
		t.Fatalf("FirewallLogV1 fields = %q, want %q", got, want)
	}
	if got := fieldNames(schemaV2); !reflect.DeepEqual(got, append(want, "device_id")) {
		t.Fatalf("FirewallLogV2 fields = %q, want FirewallLogV1's and device_id", got)
	}
	if f := schemaV2.Root().Fields[len(want)]; !f.HasDefault || f.Default != "" {
		t.Fatalf("device_id has default %v (set %v), want \"\"", f.Default, f.HasDefault)
	}
	// A field added with a default: BACKWARD (v2 reads v1 data) and
	// FORWARD (v1 reads v2 data) compatible.
	if err := avro.CheckCompatibility(schemaV1, schemaV2); err != nil {
		t.Errorf("v2 cannot read v1 data: %v", err)
	}
	if err := avro.CheckCompatibility(schemaV2, schemaV1); err != nil {
		t.Errorf("v1 cannot read v2 data: %v", err)
	}
	if ts := schemaV1.Root().Fields[0].Type; ts.Type != "long" || ts.LogicalType != "timestamp-millis" {
		t.Errorf("event_time is %s/%s, want long/timestamp-millis", ts.Type, ts.LogicalType)
	}
}

// TestRecordRoundTrip encodes stream records with each schema and decodes
// them back, and reads v1 data with v2 as a reader that rolled forward
// would.
func TestRecordRoundTrip(t *testing.T) {
	v1AsV2, err := avro.Resolve(schemaV1, schemaV2)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range sample(2000, 0.3) {
		b1, err := r.AppendV1(nil)
		if err != nil {
			t.Fatalf("record %d: encode v1: %v", i, err)
		}
		b2, err := r.AppendV2(nil)
		if err != nil {
			t.Fatalf("record %d: encode v2: %v", i, err)
		}
		var got1, got2, resolved Record
		if rest, err := schemaV1.Decode(b1, &got1); err != nil || len(rest) != 0 {
			t.Fatalf("record %d: decode v1: %v (%d bytes left)", i, err, len(rest))
		}
		if _, err := schemaV2.Decode(b2, &got2); err != nil {
			t.Fatalf("record %d: decode v2: %v", i, err)
		}
		if _, err := v1AsV2.Decode(b1, &resolved); err != nil {
			t.Fatalf("record %d: decode v1 data as v2: %v", i, err)
		}
		if !reflect.DeepEqual(got2, r) {
			t.Fatalf("record %d: v2 round trip\n got %+v\nwant %+v", i, got2, r)
		}
		want1 := r
		want1.DeviceID = ""
		if !reflect.DeepEqual(got1, want1) || !reflect.DeepEqual(resolved, want1) {
			t.Fatalf("record %d: v1 round trip\n got %+v\n resolved %+v\nwant %+v", i, got1, resolved, want1)
		}
	}
}

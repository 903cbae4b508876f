package decode

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/twmb/avro"
)

// firewallV1 is the firewall traffic record of DESIGN.md section 7: 20
// fields, about 138 bytes encoded.
const firewallV1 = `{"type":"record","name":"Traffic","namespace":"sluice.firewall","fields":[
	{"name":"event_time","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"tenant","type":"string"},
	{"name":"session_id","type":"long"},
	{"name":"src_ip","type":"string"},
	{"name":"src_port","type":"int"},
	{"name":"dst_ip","type":"string"},
	{"name":"dst_port","type":"int"},
	{"name":"protocol","type":{"type":"enum","name":"Protocol","symbols":["tcp","udp","icmp"]}},
	{"name":"application","type":"string"},
	{"name":"action","type":{"type":"enum","name":"Action","symbols":["allow","deny","drop"]}},
	{"name":"rule","type":"string"},
	{"name":"src_zone","type":"string"},
	{"name":"dst_zone","type":"string"},
	{"name":"bytes_sent","type":"long"},
	{"name":"bytes_received","type":"long"},
	{"name":"packets","type":"long"},
	{"name":"duration_ms","type":"int"},
	{"name":"user","type":["null","string"],"default":null},
	{"name":"country","type":"string"},
	{"name":"severity","type":"int"}
]}`

// firewallV2 is v1 plus a field with a default: v1 records read as v2
// exercise resolution.
const firewallV2 = `{"type":"record","name":"Traffic","namespace":"sluice.firewall","fields":[
	{"name":"event_time","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"tenant","type":"string"},
	{"name":"session_id","type":"long"},
	{"name":"src_ip","type":"string"},
	{"name":"src_port","type":"int"},
	{"name":"dst_ip","type":"string"},
	{"name":"dst_port","type":"int"},
	{"name":"protocol","type":{"type":"enum","name":"Protocol","symbols":["tcp","udp","icmp"]}},
	{"name":"application","type":"string"},
	{"name":"action","type":{"type":"enum","name":"Action","symbols":["allow","deny","drop"]}},
	{"name":"rule","type":"string"},
	{"name":"src_zone","type":"string"},
	{"name":"dst_zone","type":"string"},
	{"name":"bytes_sent","type":"long"},
	{"name":"bytes_received","type":"long"},
	{"name":"packets","type":"long"},
	{"name":"duration_ms","type":"int"},
	{"name":"user","type":["null","string"],"default":null},
	{"name":"country","type":"string"},
	{"name":"severity","type":"int"},
	{"name":"device_id","type":"string","default":""}
]}`

var firewallFields = []string{
	"event_time", "tenant", "session_id", "src_ip", "src_port", "dst_ip", "dst_port",
	"protocol", "application", "action", "rule", "src_zone", "dst_zone", "bytes_sent",
	"bytes_received", "packets", "duration_ms", "user", "country", "severity",
}

// firewallRecords encodes n varied firewall records with twmb/avro. About
// one in five is a deny, as in the section 7 workload.
func firewallRecords(tb testing.TB, n int) [][]byte {
	tb.Helper()
	s := avro.MustParse(firewallV1)
	rng := rand.New(rand.NewPCG(1, 2))
	tenants := []string{"acme-corp", "globex-inc", "initech-co", "umbrella-1"}
	apps := []string{"web-browsing", "ssl-traffic", "dns-lookups", "ms-office365"}
	rules := []string{"allow-web-outbound-corp", "deny-known-bad-hosts-01", "default-intrazone-rule"}
	zones := []string{"trust", "untrust", "dmz-web"}
	users := []string{"jdoe@acme.com", "asmith@acme.io", "svc-backup@acme"}
	countries := []string{"US", "DE", "JP", "BR"}
	out := make([][]byte, n)
	for i := range out {
		action := "allow"
		switch r := rng.IntN(10); {
		case r < 2:
			action = "deny"
		case r == 2:
			action = "drop"
		}
		var user any
		if rng.IntN(4) > 0 {
			user = users[rng.IntN(len(users))]
		}
		rec := map[string]any{
			"event_time":     int64(1_760_000_000_000 + rng.Int64N(86_400_000)),
			"tenant":         tenants[rng.IntN(len(tenants))],
			"session_id":     int64(1_000_000_000_000_000 + rng.Int64N(1_000_000_000)),
			"src_ip":         fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256)),
			"src_port":       int32(1024 + rng.IntN(64511)),
			"dst_ip":         fmt.Sprintf("172.%d.%d.%d", 16+rng.IntN(16), rng.IntN(256), rng.IntN(256)),
			"dst_port":       []int32{443, 80, 53, 22, 8443, 3389}[rng.IntN(6)],
			"protocol":       []string{"tcp", "udp", "icmp"}[rng.IntN(3)],
			"application":    apps[rng.IntN(len(apps))],
			"action":         action,
			"rule":           rules[rng.IntN(len(rules))],
			"src_zone":       zones[rng.IntN(len(zones))],
			"dst_zone":       zones[rng.IntN(len(zones))],
			"bytes_sent":     rng.Int64N(100_000),
			"bytes_received": rng.Int64N(10_000_000),
			"packets":        rng.Int64N(5_000),
			"duration_ms":    int32(rng.IntN(60_000)),
			"user":           user,
			"country":        countries[rng.IntN(len(countries))],
			"severity":       int32(rng.IntN(6)),
		}
		b, err := s.Encode(rec)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func meanLen(recs [][]byte) float64 {
	total := 0
	for _, r := range recs {
		total += len(r)
	}
	return float64(total) / float64(len(recs))
}

// BenchmarkDecode measures this package's decoder on the firewall record;
// BenchmarkGenericMapDecode is the baseline it is compared with.
func BenchmarkDecode(b *testing.B) {
	recs := firewallRecords(b, 1024)
	v1, v2 := avro.MustParse(firewallV1), avro.MustParse(firewallV2)
	cases := []struct {
		name       string
		writer     *avro.Schema
		reader     *avro.Schema
		projection []string
	}{
		{"projection3", v1, v1, []string{"action", "dst_port", "src_ip"}},
		{"all", v1, v1, firewallFields},
		{"resolve_v1_v2", v1, v2, append(append([]string(nil), firewallFields...), "device_id")},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			dec, err := Compile(tc.writer, tc.reader, tc.projection)
			if err != nil {
				b.Fatal(err)
			}
			var row Row
			b.ReportAllocs()
			b.SetBytes(int64(meanLen(recs)))
			i := 0
			for b.Loop() {
				if err := dec.Decode(recs[i&1023], &row); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkGenericMapDecode is twmb/avro decoding the same records into a
// map[string]any, the generic path of DESIGN.md section 7.
func BenchmarkGenericMapDecode(b *testing.B) {
	recs := firewallRecords(b, 1024)
	v1, v2 := avro.MustParse(firewallV1), avro.MustParse(firewallV2)
	resolved, err := avro.Resolve(v1, v2)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		schema *avro.Schema
	}{{"v1", v1}, {"resolve_v1_v2", resolved}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(meanLen(recs)))
			i := 0
			for b.Loop() {
				var m map[string]any
				if _, err := tc.schema.Decode(recs[i&1023], &m); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

package gen

import (
	_ "embed"

	"github.com/twmb/avro"
)

// The record schema every tenant's data topic carries in the demo, as Avro
// JSON text. Traffic and threat logs share it because a tenant has one data
// topic and one schema subject.
var (
	// FirewallLogV1 is sluice.demo.FirewallLog version 1: 23 fields, the
	// traffic fields, log_type, and the nullable threat fields.
	//
	//go:embed schemas/firewall_log_v1.avsc
	FirewallLogV1 string

	// FirewallLogV2 is FirewallLogV1 plus device_id (string, default ""):
	// a field added with a default, so it is both backward and forward
	// compatible with version 1.
	//
	//go:embed schemas/firewall_log_v2.avsc
	FirewallLogV2 string
)

// Parsed once: both are constants of the program, so a failure is a bug
// the tests catch, not an input error.
var (
	schemaV1 = avro.MustParse(FirewallLogV1)
	schemaV2 = avro.MustParse(FirewallLogV2)
)

// Enum symbols, as the schemas spell them.
const (
	TCP  = "TCP"
	UDP  = "UDP"
	ICMP = "ICMP"

	Allow = "allow"
	Deny  = "deny"
	Drop  = "drop"

	Traffic = "TRAFFIC"
	Threat  = "THREAT"
)

// Record is one firewall log in Go form, field for field FirewallLogV2;
// encoding it with FirewallLogV1 leaves DeviceID out. Nil pointers are Avro
// nulls. Strings in a Record from a Stream point into the Stream's tables and
// must not be modified.
type Record struct {
	// EventTime is milliseconds since the Unix epoch (timestamp-millis).
	EventTime      int64   `avro:"event_time"`
	Tenant         string  `avro:"tenant"`
	SessionID      int64   `avro:"session_id"`
	SrcIP          string  `avro:"src_ip"`
	SrcPort        int32   `avro:"src_port"`
	DstIP          string  `avro:"dst_ip"`
	DstPort        int32   `avro:"dst_port"`
	Protocol       string  `avro:"protocol"`
	Application    string  `avro:"application"`
	Action         string  `avro:"action"`
	Rule           string  `avro:"rule"`
	SrcZone        string  `avro:"src_zone"`
	DstZone        string  `avro:"dst_zone"`
	BytesSent      int64   `avro:"bytes_sent"`
	BytesReceived  int64   `avro:"bytes_received"`
	Packets        int64   `avro:"packets"`
	DurationMs     int32   `avro:"duration_ms"`
	User           *string `avro:"user"`
	Country        string  `avro:"country"`
	Severity       int32   `avro:"severity"`
	LogType        string  `avro:"log_type"`
	ThreatName     *string `avro:"threat_name"`
	ThreatCategory *string `avro:"threat_category"`
	DeviceID       string  `avro:"device_id"`
}

// AppendV1 appends r's Avro binary encoding under FirewallLogV1 to dst.
func (r *Record) AppendV1(dst []byte) ([]byte, error) { return schemaV1.AppendEncode(dst, r) }

// AppendV2 appends r's Avro binary encoding under FirewallLogV2 to dst.
func (r *Record) AppendV2(dst []byte) ([]byte, error) { return schemaV2.AppendEncode(dst, r) }

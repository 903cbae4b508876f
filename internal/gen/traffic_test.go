package gen

import (
	"net/netip"
	"reflect"
	"slices"
	"testing"
)

// sample draws n records of tenant acme with seed 1.
func sample(n int, threatRatio float64) []Record {
	s := NewStream("acme", 1, threatRatio)
	out := make([]Record, n)
	for i := range out {
		s.Next(&out[i], int64(i))
	}
	return out
}

func share(n, of int) float64 { return float64(n) / float64(of) }

func within(t *testing.T, what string, got, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s = %.4f, want within [%.2f, %.2f]", what, got, lo, hi)
	}
}

// TestStreamDistributions holds the synthetic traffic to the shape
// docs/generator.md promises. The seed is fixed, so the bounds only guard
// against changes to the model; they are wide enough for any seed.
func TestStreamDistributions(t *testing.T) {
	const n = 50_000
	recs := sample(n, DefaultThreatRatio)

	var traffic, threats []Record
	for _, r := range recs {
		if r.LogType == Threat {
			threats = append(threats, r)
		} else {
			traffic = append(traffic, r)
		}
	}
	within(t, "threat share", share(len(threats), n), 0.04, 0.06)

	actions := map[string]int{}
	protocols := map[string]int{}
	srcIPs := map[string]int{}
	dstPorts := map[int32]int{}
	users, lowSeverity := 0, 0
	for _, r := range traffic {
		actions[r.Action]++
		protocols[r.Protocol]++
		srcIPs[r.SrcIP]++
		dstPorts[r.DstPort]++
		if r.User == nil {
			users++
		}
		if r.Severity <= 2 {
			lowSeverity++
		}
	}
	within(t, "allow share of traffic", share(actions[Allow], len(traffic)), 0.83, 0.87)
	within(t, "deny share of traffic", share(actions[Deny], len(traffic)), 0.085, 0.115)
	within(t, "drop share of traffic", share(actions[Drop], len(traffic)), 0.04, 0.06)
	within(t, "TCP share", share(protocols[TCP], len(traffic)), 0.70, 0.90)
	within(t, "UDP share", share(protocols[UDP], len(traffic)), 0.10, 0.25)
	within(t, "null user share", share(users, len(traffic)), 0.33, 0.47)
	within(t, "severity 1-2 share of traffic", share(lowSeverity, len(traffic)), 0.95, 1)

	// A few hot source IPs: the top one sends a sizeable share, the top
	// five about half, yet there are many sources.
	counts := make([]int, 0, len(srcIPs))
	for _, c := range srcIPs {
		counts = append(counts, c)
	}
	slices.SortFunc(counts, func(a, b int) int { return b - a })
	within(t, "top source IP share", share(counts[0], len(traffic)), 0.10, 0.30)
	within(t, "top 5 source IPs share", share(counts[0]+counts[1]+counts[2]+counts[3]+counts[4], len(traffic)), 0.30, 0.60)
	if len(srcIPs) < 200 {
		t.Errorf("only %d distinct source IPs", len(srcIPs))
	}

	// Ports: 443 leads, and well-known services carry almost everything.
	wellKnown := 0
	for _, p := range []int32{443, 80, 53, 22, 25, 3389, 8080, 8443, 445, 389, 123, 993, 3306, 5060, 0} {
		wellKnown += dstPorts[p]
	}
	within(t, "port 443 share", share(dstPorts[443], len(traffic)), 0.35, 0.55)
	within(t, "port 53 share", share(dstPorts[53], len(traffic)), 0.10, 0.20)
	within(t, "well-known port share", share(wellKnown, len(traffic)), 0.95, 1)

	// Threats are more severe.
	var sevTraffic, sevThreat float64
	for _, r := range traffic {
		sevTraffic += float64(r.Severity)
	}
	for _, r := range threats {
		sevThreat += float64(r.Severity)
	}
	if a, b := sevTraffic/float64(len(traffic)), sevThreat/float64(len(threats)); b < a+1.5 {
		t.Errorf("mean severity: traffic %.2f, threats %.2f; want threats well above", a, b)
	}
}

// TestStreamConsistency checks the relations between fields of each
// record, which a SQL query over the demo data could trip on.
func TestStreamConsistency(t *testing.T) {
	apps := map[int32]string{443: "ssl", 80: "web-browsing", 53: "dns", 22: "ssh", 25: "smtp", 3389: "ms-rdp",
		123: "ntp", 445: "ms-ds-smb", 389: "ldap", 993: "imap", 3306: "mysql", 5060: "sip", 8443: "ssl", 23: "telnet"}
	recs := sample(20_000, 0.2)
	var prev int64
	for i, r := range recs {
		if r.SessionID <= prev {
			t.Fatalf("record %d: session id %d after %d, want increasing", i, r.SessionID, prev)
		}
		prev = r.SessionID
		if r.EventTime != int64(i) || r.Tenant != "acme" || r.DeviceID == "" || r.Country == "" || r.Rule == "" {
			t.Fatalf("record %d: %+v", i, r)
		}
		for _, ip := range []string{r.SrcIP, r.DstIP} {
			if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() {
				t.Fatalf("record %d: %q is not an IPv4 address", i, ip)
			}
		}
		src, _ := netip.ParseAddr(r.SrcIP)
		dst, _ := netip.ParseAddr(r.DstIP)
		if (r.SrcZone == "untrust") == src.IsPrivate() || (r.DstZone == "untrust") == dst.IsPrivate() {
			t.Fatalf("record %d: zones %s→%s for %s→%s", i, r.SrcZone, r.DstZone, r.SrcIP, r.DstIP)
		}
		if src.IsPrivate() && dst.IsPrivate() && r.Country != privateCountry {
			t.Fatalf("record %d: country %s between private addresses", i, r.Country)
		}
		switch r.Protocol {
		case ICMP:
			if r.SrcPort != 0 || r.DstPort != 0 {
				t.Fatalf("record %d: ICMP with ports %d→%d", i, r.SrcPort, r.DstPort)
			}
		default:
			if r.SrcPort < ephemeralLow || r.SrcPort > ephemeralHigh || r.DstPort < 1 || r.DstPort > 65535 {
				t.Fatalf("record %d: ports %d→%d", i, r.SrcPort, r.DstPort)
			}
			if want, ok := apps[r.DstPort]; ok && r.Application != want {
				t.Fatalf("record %d: port %d has application %s, want %s", i, r.DstPort, r.Application, want)
			}
		}
		if r.Action != Allow && (r.BytesReceived != 0 || r.DurationMs != 0 || r.Packets > 3) {
			t.Fatalf("record %d: a %s session with traffic back: %+v", i, r.Action, r)
		}
		if r.BytesSent <= 0 || r.Packets <= 0 || r.DurationMs < 0 || r.DurationMs > maxDuration {
			t.Fatalf("record %d: volume %+v", i, r)
		}
		isThreat := r.LogType == Threat
		if isThreat != (r.ThreatName != nil) || isThreat != (r.ThreatCategory != nil) {
			t.Fatalf("record %d: log type %s with threat fields %v %v", i, r.LogType, r.ThreatName, r.ThreatCategory)
		}
		if isThreat && r.Severity < 2 || r.Severity < 1 || r.Severity > 5 {
			t.Fatalf("record %d: severity %d of a %s log", i, r.Severity, r.LogType)
		}
	}
}

// TestDurationFollowsBytes checks that bigger sessions last longer on
// average: the duration is latency plus transfer time.
func TestDurationFollowsBytes(t *testing.T) {
	var small, large []float64
	for _, r := range sample(20_000, 0) {
		if r.Action != Allow {
			continue
		}
		switch total := r.BytesSent + r.BytesReceived; {
		case total < 2_000:
			small = append(small, float64(r.DurationMs))
		case total > 200_000:
			large = append(large, float64(r.DurationMs))
		}
	}
	mean := func(xs []float64) float64 {
		var s float64
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	if len(small) < 100 || len(large) < 100 {
		t.Fatalf("too few small (%d) or large (%d) sessions to compare", len(small), len(large))
	}
	if ms, ml := mean(small), mean(large); ml < 5*ms {
		t.Errorf("mean duration: %.0f ms under 2 kB, %.0f ms over 200 kB; want the large far longer", ms, ml)
	}
}

func TestStreamDeterministic(t *testing.T) {
	a, b := sample(1000, 0.1), sample(1000, 0.1)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same tenant and seed gave different records")
	}
	other := NewStream("globex", 1, 0.1)
	var r Record
	other.Next(&r, 0)
	if r.SessionID == a[0].SessionID && r.SrcIP == a[0].SrcIP {
		t.Fatal("two tenants got the same stream")
	}
}

func TestStreamNextAllocatesNothing(t *testing.T) {
	s := NewStream("acme", 1, 0.5)
	var r Record
	var buf []byte
	if n := testing.AllocsPerRun(1000, func() {
		s.Next(&r, 1)
		buf, _ = r.AppendV2(buf[:0])
	}); n != 0 {
		t.Fatalf("Next and AppendV2 allocate %.1f times per record", n)
	}
}

// BenchmarkStream measures making and encoding one record, the
// generator's own cost per record before Kafka:
//
//	go test -run '^$' -bench Stream ./internal/gen/
func BenchmarkStream(b *testing.B) {
	s := NewStream("acme", 1, DefaultThreatRatio)
	var r Record
	var buf []byte
	var size int
	for i := 0; b.Loop(); i++ {
		s.Next(&r, int64(i))
		buf, _ = r.AppendV2(buf[:0])
		size += len(buf)
	}
	b.ReportMetric(float64(size)/float64(b.N), "bytes/record")
}

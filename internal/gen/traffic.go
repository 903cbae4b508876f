package gen

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
)

// Shape of the synthetic traffic. docs/generator.md describes the result;
// the tests in traffic_test.go hold it to statistical bounds.
const (
	clientPool  = 250  // internal client addresses, Zipf-weighted: a few hot ones
	clientSkew  = 1.1  // Zipf exponent of clients: the top one sends about a fifth
	publicPool  = 600  // public destinations
	publicSkew  = 1.15 // popular sites get many of the sessions
	scannerPool = 120  // public sources of inbound traffic
	serverPool  = 30   // internal servers (east-west traffic)
	dmzPool     = 8    // servers reachable from the internet
	userPool    = 60
	devicePool  = 3 // firewalls per tenant, for device_id

	shareAllow = 0.85 // of traffic logs; deny and drop share the rest
	shareDeny  = 0.10

	inboundAllowed = 0.08 // allowed sessions that come from the internet
	inboundBlocked = 0.50 // denied or dropped sessions that do
	userUnknown    = 0.30 // outbound sessions without a user; inbound never has one

	ephemeralLow  = 32768 // Linux's default ephemeral port range
	ephemeralHigh = 60999

	maxBytes    = 4 << 30
	maxDuration = 3_600_000 // one hour, in ms
)

type destKind uint8

const (
	toPublic destKind = iota
	toServer
	toResolver
)

// service is a kind of session: where it goes and what it looks like.
type service struct {
	port     int32 // 0 with ICMP; -1 for a random high port
	proto    string
	app      string
	rule     string // the allow rule that lets it out
	dest     destKind
	weight   int
	sentMed  float64 // median bytes from the client
	recvMed  float64 // median bytes back
	bytesSig float64 // log-normal sigma of both
}

// outbound sessions, from internal clients. Weights are per mille-ish
// shares; ports are mostly well known, as on any corporate firewall.
var outbound = []service{
	{443, TCP, "ssl", "allow-web", toPublic, 40, 1800, 14000, 1.4},
	{80, TCP, "web-browsing", "allow-web", toPublic, 10, 700, 9000, 1.3},
	{53, UDP, "dns", "allow-dns", toResolver, 16, 75, 160, 0.3},
	{8443, TCP, "ssl", "allow-web", toPublic, 2, 1500, 8000, 1.4},
	{445, TCP, "ms-ds-smb", "allow-internal", toServer, 4, 8000, 50000, 1.6},
	{389, TCP, "ldap", "allow-internal", toServer, 3, 600, 2500, 0.8},
	{8080, TCP, "http-proxy", "allow-proxy", toServer, 3, 900, 15000, 1.3},
	{22, TCP, "ssh", "allow-ssh-admins", toServer, 3, 4000, 6000, 1.5},
	{0, ICMP, "ping", "allow-icmp", toPublic, 3, 84, 84, 0.2},
	{123, UDP, "ntp", "allow-ntp", toPublic, 2, 90, 90, 0.1},
	{25, TCP, "smtp", "allow-mail", toPublic, 2, 25000, 1200, 1.5},
	{993, TCP, "imap", "allow-mail", toPublic, 2, 1500, 30000, 1.5},
	{3389, TCP, "ms-rdp", "allow-rdp-jump", toServer, 2, 60000, 400000, 1.5},
	{3306, TCP, "mysql", "allow-internal", toServer, 2, 1500, 20000, 1.4},
	{-1, TCP, "unknown-tcp", "allow-outbound", toPublic, 2, 500, 1500, 1.2},
	{5060, UDP, "sip", "allow-voice", toPublic, 1, 900, 900, 0.6},
}

// inbound sessions, from the internet to the DMZ: the allowed ones are the
// published services, the blocked ones what scanners knock on.
var (
	inboundAllow = []service{
		{443, TCP, "ssl", "allow-dmz-web", 0, 60, 900, 20000, 1.3},
		{80, TCP, "web-browsing", "allow-dmz-web", 0, 25, 500, 8000, 1.2},
		{25, TCP, "smtp", "allow-dmz-mail", 0, 15, 30000, 600, 1.5},
	}
	inboundProbe = []service{
		{22, TCP, "ssh", "", 0, 25, 0, 0, 0},
		{3389, TCP, "ms-rdp", "", 0, 20, 0, 0, 0},
		{23, TCP, "telnet", "", 0, 12, 0, 0, 0},
		{445, TCP, "ms-ds-smb", "", 0, 10, 0, 0, 0},
		{443, TCP, "ssl", "", 0, 10, 0, 0, 0},
		{80, TCP, "web-browsing", "", 0, 8, 0, 0, 0},
		{1433, TCP, "mssql-db", "", 0, 5, 0, 0, 0},
		{5900, TCP, "vnc", "", 0, 5, 0, 0, 0},
		{8080, TCP, "http-proxy", "", 0, 5, 0, 0, 0},
	}
)

// threat is a kind of threat log.
type threat struct {
	name     string
	category string
	severity int32
	inbound  bool // from the internet to the DMZ, else from an internal client
	port     int32
	proto    string
	app      string
	weight   int
}

var threats = []threat{
	{"Port Scan", "scan", 2, true, -1, TCP, "incomplete", 15},
	{"SSH Brute Force Attempt", "brute-force", 4, true, 22, TCP, "ssh", 12},
	{"Host Sweep", "scan", 2, true, 0, ICMP, "ping", 6},
	{"RDP Brute Force Attempt", "brute-force", 4, true, 3389, TCP, "ms-rdp", 8},
	{"SQL Injection Attempt", "sql-injection", 4, true, 80, TCP, "web-browsing", 8},
	{"Apache Log4j Remote Code Execution (CVE-2021-44228)", "code-execution", 5, true, 80, TCP, "web-browsing", 6},
	{"Apache Struts Remote Code Execution (CVE-2017-5638)", "code-execution", 5, true, 80, TCP, "web-browsing", 3},
	{"SMB Remote Code Execution (MS17-010)", "code-execution", 5, true, 445, TCP, "ms-ds-smb", 3},
	{"Mirai Botnet Login Attempt", "botnet", 4, true, 23, TCP, "telnet", 5},
	{"Phishing Site Access", "phishing", 3, false, 443, TCP, "ssl", 8},
	{"DNS Tunneling", "spyware", 4, false, 53, UDP, "dns", 6},
	{"Cobalt Strike Beacon", "command-and-control", 5, false, 443, TCP, "ssl", 5},
	{"Emotet Malware Download", "virus", 4, false, 80, TCP, "web-browsing", 5},
	{"EICAR Test File Detected", "virus", 3, false, 80, TCP, "web-browsing", 4},
	{"Cryptocurrency Mining Pool Traffic", "coin-miner", 3, false, 3333, TCP, "unknown-tcp", 3},
}

// countries weights the public end of outbound sessions; scanners have
// their own mix.
var (
	destCountries = weighted[string]{
		{"US", 36}, {"DE", 8}, {"GB", 6}, {"NL", 6}, {"FR", 5}, {"JP", 5}, {"IE", 4}, {"SG", 4},
		{"CA", 4}, {"CN", 4}, {"IN", 3}, {"BR", 3}, {"AU", 3}, {"RU", 2}, {"KR", 2}, {"SE", 2},
		{"CH", 2}, {"PL", 1},
	}
	scannerCountries = weighted[string]{
		{"CN", 25}, {"US", 15}, {"RU", 12}, {"BR", 8}, {"IN", 7}, {"VN", 6}, {"NL", 5}, {"KR", 5},
		{"DE", 4}, {"IR", 4}, {"UA", 3}, {"ID", 3}, {"TW", 3},
	}
	// First octets of the public addresses: common public /8s, never the
	// private, loopback, link-local or multicast ranges.
	publicOctets = []int{3, 13, 18, 20, 23, 31, 34, 35, 40, 45, 46, 51, 52, 54, 62, 64, 66, 69, 72, 74,
		77, 78, 81, 82, 85, 88, 91, 93, 94, 103, 104, 107, 108, 130, 139, 142, 151, 157, 176, 178,
		185, 188, 193, 194, 195, 198, 199, 203, 208, 209, 212, 213, 216, 217}
	resolvers = []host{{"10.0.0.53", privateCountry}, {"10.0.0.54", privateCountry},
		{"8.8.8.8", "US"}, {"8.8.4.4", "US"}, {"1.1.1.1", "US"}, {"9.9.9.9", "CH"}}
	firstNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
		"judy", "mallory", "nia", "oscar", "peggy", "rupert", "sybil", "trent", "victor", "wendy", "yusuf"}
	lastNames = []string{"smith", "jones", "garcia", "chen", "muller", "rossi", "kim", "silva", "novak",
		"singh", "brown", "tanaka"}
)

// privateCountry is the country of a session between two private addresses:
// ISO 3166's user-assigned code for "unknown".
const privateCountry = "ZZ"

type choice[T any] struct {
	v T
	w int
}

type weighted[T any] []choice[T]

func (ws weighted[T]) pick(r *rand.Rand) T {
	total := 0
	for _, c := range ws {
		total += c.w
	}
	n := r.IntN(total)
	for _, c := range ws {
		if n < c.w {
			return c.v
		}
		n -= c.w
	}
	return ws[len(ws)-1].v
}

// table is a weighted choice over indexes of a slice, precomputed.
type table struct {
	cum   []int
	total int
}

func newTable(n int, weight func(i int) int) table {
	t := table{cum: make([]int, n)}
	for i := range n {
		t.total += weight(i)
		t.cum[i] = t.total
	}
	return t
}

func (t table) pick(r *rand.Rand) int {
	n := r.IntN(t.total)
	for i, c := range t.cum {
		if n < c {
			return i
		}
	}
	return len(t.cum) - 1
}

type host struct {
	ip      string
	country string
}

// Stream is the endless, deterministic sequence of one tenant's firewall
// logs: the same tenant and seed give the same records (on one Go release;
// math/rand/v2's sequences are stable, its distributions need not be).
// A Stream is not safe for concurrent use.
type Stream struct {
	tenant      string
	threatRatio float64
	r           *rand.Rand
	session     int64

	clients    []string
	clientZipf *rand.Zipf
	users      []string
	servers    []string
	dmz        []string
	public     []host
	publicZipf *rand.Zipf
	scanners   []host
	devices    []string

	outboundT, allowInT, probeInT, threatT table
	// scratch holds the *string values User and the threat fields point
	// at, so Next allocates nothing.
	threatNames, threatCategories []string
}

// NewStream returns the log stream of tenant for seed. threatRatio, in
// [0, 1], is the share of threat logs; the rest are traffic logs. Tenants
// get different address plans and sequences from the same seed.
func NewStream(tenant string, seed int64, threatRatio float64) *Stream {
	h := fnv.New64a()
	h.Write([]byte(tenant))
	r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
	s := &Stream{tenant: tenant, threatRatio: min(max(threatRatio, 0), 1), r: r}
	// Session ids start at a tenant-specific point, as a device's counter
	// would, well inside int64.
	s.session = 1_000_000 + r.Int64N(1_000_000_000)

	s.clients = uniqueAddrs(r, clientPool, func() string {
		if r.IntN(10) < 7 {
			return ip4(10, 1+r.IntN(20), r.IntN(40), 2+r.IntN(253))
		}
		return ip4(192, 168, r.IntN(10), 2+r.IntN(253))
	})
	s.clientZipf = rand.NewZipf(r, clientSkew, 1, clientPool-1)
	s.servers = uniqueAddrs(r, serverPool, func() string { return ip4(10, 0, 1+r.IntN(10), 10+r.IntN(240)) })
	s.dmz = uniqueAddrs(r, dmzPool, func() string { return ip4(172, 16, 10, 10+r.IntN(240)) })
	pub := uniqueAddrs(r, publicPool, func() string { return randomPublic(r) })
	s.public = make([]host, len(pub))
	for i, ip := range pub {
		s.public[i] = host{ip, destCountries.pick(r)}
	}
	s.publicZipf = rand.NewZipf(r, publicSkew, 1, publicPool-1)
	scan := uniqueAddrs(r, scannerPool, func() string { return randomPublic(r) })
	s.scanners = make([]host, len(scan))
	for i, ip := range scan {
		s.scanners[i] = host{ip, scannerCountries.pick(r)}
	}
	s.users = make([]string, userPool)
	for i := range s.users {
		s.users[i] = firstNames[r.IntN(len(firstNames))] + "." + lastNames[r.IntN(len(lastNames))] + "@" + tenant
	}
	s.devices = make([]string, devicePool)
	for i := range s.devices {
		s.devices[i] = "fw-" + tenant + "-" + strconv.Itoa(i+1)
	}

	s.outboundT = newTable(len(outbound), func(i int) int { return outbound[i].weight })
	s.allowInT = newTable(len(inboundAllow), func(i int) int { return inboundAllow[i].weight })
	s.probeInT = newTable(len(inboundProbe), func(i int) int { return inboundProbe[i].weight })
	s.threatT = newTable(len(threats), func(i int) int { return threats[i].weight })
	s.threatNames = make([]string, len(threats))
	s.threatCategories = make([]string, len(threats))
	for i, t := range threats {
		s.threatNames[i], s.threatCategories[i] = t.name, t.category
	}
	return s
}

// uniqueAddrs draws n distinct addresses from next. The address spaces
// are far larger than n, so the bounded retry never runs out in practice;
// if it did, the pool would just hold a duplicate.
func uniqueAddrs(r *rand.Rand, n int, next func() string) []string {
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for attempt := 0; len(out) < n && attempt < 20*n; attempt++ {
		ip := next()
		if !seen[ip] {
			seen[ip] = true
			out = append(out, ip)
		}
	}
	for len(out) < n {
		out = append(out, out[r.IntN(len(out))])
	}
	return out
}

func randomPublic(r *rand.Rand) string {
	return ip4(publicOctets[r.IntN(len(publicOctets))], r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

func ip4(a, b, c, d int) string {
	buf := make([]byte, 0, 15)
	buf = strconv.AppendInt(buf, int64(a), 10)
	buf = append(buf, '.')
	buf = strconv.AppendInt(buf, int64(b), 10)
	buf = append(buf, '.')
	buf = strconv.AppendInt(buf, int64(c), 10)
	buf = append(buf, '.')
	buf = strconv.AppendInt(buf, int64(d), 10)
	return string(buf)
}

// Next overwrites r with the stream's next log, stamped eventTime
// (milliseconds since the Unix epoch). It allocates nothing.
func (s *Stream) Next(r *Record, eventTime int64) {
	*r = Record{EventTime: eventTime, Tenant: s.tenant, LogType: Traffic}
	s.session += 1 + s.r.Int64N(3) // other sessions of the device take ids too
	r.SessionID = s.session
	r.DeviceID = s.devices[s.r.IntN(len(s.devices))]
	if s.r.Float64() < s.threatRatio {
		s.threat(r)
	} else {
		s.traffic(r)
	}
}

func (s *Stream) traffic(r *Record) {
	u := s.r.Float64()
	switch {
	case u < shareAllow:
		r.Action = Allow
	case u < shareAllow+shareDeny:
		r.Action = Deny
	default:
		r.Action = Drop
	}
	inShare := inboundAllowed
	if r.Action != Allow {
		inShare = inboundBlocked
	}
	if s.r.Float64() < inShare {
		s.inbound(r)
	} else {
		s.outbound(r)
	}
	if r.Action == Allow {
		r.Severity = 1
		if s.r.IntN(10) == 0 {
			r.Severity = 2
		}
	} else {
		r.Severity = 2
		if s.r.IntN(10) < 3 {
			r.Severity = 3
		}
	}
}

// outbound fills a session from an internal client: to the internet,
// to a resolver, or east-west to an internal server.
func (s *Stream) outbound(r *Record) {
	svc := &outbound[s.outboundT.pick(s.r)]
	ci := int(s.clientZipf.Uint64())
	r.SrcIP, r.SrcZone = s.clients[ci], "trust"
	if s.r.Float64() >= userUnknown {
		// A client is mostly used by one person.
		r.User = &s.users[ci%len(s.users)]
	}
	switch svc.dest {
	case toServer:
		r.DstIP, r.DstZone, r.Country = s.servers[s.r.IntN(len(s.servers))], "trust", privateCountry
	case toResolver:
		h := &resolvers[s.r.IntN(len(resolvers))]
		r.DstIP, r.Country = h.ip, h.country
		r.DstZone = "untrust"
		if h.country == privateCountry {
			r.DstZone = "trust"
		}
	default:
		h := &s.public[s.publicZipf.Uint64()]
		r.DstIP, r.DstZone, r.Country = h.ip, "untrust", h.country
	}
	s.ports(r, svc.port, svc.proto)
	r.Application = svc.app
	switch r.Action {
	case Allow:
		r.Rule = svc.rule
		s.volume(r, svc.sentMed, svc.recvMed, svc.bytesSig)
	case Deny:
		r.Rule = "deny-outbound-default"
		if svc.dest == toPublic && s.r.IntN(2) == 0 {
			r.Rule = "block-risky-apps"
		}
		s.blocked(r)
	default:
		r.Rule = "drop-geo-blocked"
		s.blocked(r)
	}
}

// inbound fills a session from the internet to the DMZ.
func (s *Stream) inbound(r *Record) {
	var svc *service
	if r.Action == Allow {
		svc = &inboundAllow[s.allowInT.pick(s.r)]
	} else {
		svc = &inboundProbe[s.probeInT.pick(s.r)]
	}
	h := &s.scanners[s.r.IntN(len(s.scanners))]
	r.SrcIP, r.SrcZone, r.Country = h.ip, "untrust", h.country
	r.DstIP, r.DstZone = s.dmz[s.r.IntN(len(s.dmz))], "dmz"
	s.ports(r, svc.port, svc.proto)
	r.Application = svc.app
	switch r.Action {
	case Allow:
		r.Rule = svc.rule
		s.volume(r, svc.sentMed, svc.recvMed, svc.bytesSig)
	case Deny:
		r.Rule = "deny-inbound-default"
		s.blocked(r)
	default:
		r.Rule = "drop-known-malicious"
		s.blocked(r)
	}
}

func (s *Stream) threat(r *Record) {
	i := s.threatT.pick(s.r)
	t := &threats[i]
	r.LogType = Threat
	r.ThreatName, r.ThreatCategory = &s.threatNames[i], &s.threatCategories[i]
	r.Severity = t.severity
	if t.inbound {
		h := &s.scanners[s.r.IntN(len(s.scanners))]
		r.SrcIP, r.SrcZone, r.Country = h.ip, "untrust", h.country
		r.DstIP, r.DstZone = s.dmz[s.r.IntN(len(s.dmz))], "dmz"
		// Threat logs name the rule whose inspection profile caught it.
		r.Rule = "inspect-dmz-inbound"
	} else {
		// An infected client: hot clients are more often the infected ones.
		ci := int(s.clientZipf.Uint64())
		r.SrcIP, r.SrcZone = s.clients[ci], "trust"
		if s.r.Float64() >= userUnknown {
			r.User = &s.users[ci%len(s.users)]
		}
		if t.proto == UDP {
			h := &resolvers[2+s.r.IntN(len(resolvers)-2)] // tunnels go to public resolvers
			r.DstIP, r.Country = h.ip, h.country
		} else {
			h := &s.public[s.r.IntN(len(s.public))] // rarely a popular site
			r.DstIP, r.Country = h.ip, h.country
		}
		r.DstZone = "untrust"
		r.Rule = "inspect-outbound"
	}
	s.ports(r, t.port, t.proto)
	r.Application = t.app
	// Most threats are blocked; the rest are alerts on allowed sessions.
	switch u := s.r.IntN(20); {
	case u < 5:
		r.Action = Allow
		s.volume(r, 1500, 6000, 1.2)
	case u < 12:
		r.Action = Deny
		s.blocked(r)
	default:
		r.Action = Drop
		s.blocked(r)
	}
}

// ports sets the ports for a destination port spec: -1 is a random
// high port, and ICMP has none.
func (s *Stream) ports(r *Record, port int32, proto string) {
	r.Protocol = proto
	if proto == ICMP {
		return
	}
	r.SrcPort = int32(ephemeralLow + s.r.IntN(ephemeralHigh-ephemeralLow+1))
	if port < 0 {
		port = int32(1024 + s.r.IntN(65535-1024+1))
	}
	r.DstPort = port
}

// volume fills bytes, packets and duration of an allowed session: bytes
// log-normal around the service's medians, duration a connection latency
// plus transfer time at a log-normal throughput, so it grows with bytes.
func (s *Stream) volume(r *Record, sentMed, recvMed, sigma float64) {
	r.BytesSent = s.logNormal(sentMed, sigma, 40, maxBytes)
	r.BytesReceived = s.logNormal(recvMed, sigma, 40, maxBytes)
	total := r.BytesSent + r.BytesReceived
	// About 1 KB per packet on average, and at least a handshake's worth.
	r.Packets = max(2, total/1000+int64(s.r.IntN(3)))
	latency := float64(s.logNormal(25, 0.8, 1, 5000))
	bytesPerMs := float64(s.logNormal(500, 0.7, 10, 1<<20)) // median ~500 KB/s
	r.DurationMs = int32(min(latency+float64(total)/bytesPerMs, maxDuration))
}

// blocked fills a session the firewall stopped: a few packets out, none
// back, no duration.
func (s *Stream) blocked(r *Record) {
	r.Packets = int64(1 + s.r.IntN(3))
	r.BytesSent = r.Packets * int64(60+s.r.IntN(15))
}

func (s *Stream) logNormal(median, sigma float64, lo, hi int64) int64 {
	v := median * math.Exp(sigma*s.r.NormFloat64())
	return min(max(int64(v), lo), hi)
}

package sink

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testenv"
)

// rsyslogVar tells the tests where the real rsyslog of scripts/test
// (scripts/lib/rsyslog.sh) listens and writes: comma-separated key=value
// with tcp, udp, tls (addresses), out (its output file, one JSON object
// per message) and ca, cert, key (PEM files for TLS).
const rsyslogVar = "SLUICE_TEST_RSYSLOG"

// rsyslog returns the settings of the real rsyslog, or fails or skips
// the test as testenv.Lookup does.
func rsyslog(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, kv := range strings.Split(testenv.Lookup(t, rsyslogVar, "rsyslog"), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		m[k] = v
	}
	for _, k := range []string{"tcp", "udp", "tls", "out", "ca", "cert", "key"} {
		if m[k] == "" {
			t.Fatalf("%s has no %s=", rsyslogVar, k)
		}
	}
	return m
}

// rsyslogEntry is one line of rsyslog's output file.
type rsyslogEntry struct {
	Input  string `json:"input"`
	Fac    string `json:"fac"`
	Sev    string `json:"sev"`
	Host   string `json:"host"`
	App    string `json:"app"`
	ProcID string `json:"procid"`
	MsgID  string `json:"msgid"`
	SD     string `json:"sd"`
	Msg    string `json:"msg"`
}

// readRsyslog polls rsyslog's output until it holds n messages from app
// (or the time is up) and returns them in the order written.
func readRsyslog(t *testing.T, out, app string, n int) []rsyslogEntry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(out)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		var got []rsyslogEntry
		for _, line := range bytes.Split(data, []byte("\n")) {
			if !bytes.Contains(line, []byte(app)) {
				continue
			}
			var e rsyslogEntry
			if err := json.Unmarshal(line, &e); err != nil {
				t.Fatalf("rsyslog output line %q: %v", line, err)
			}
			if e.App == app {
				got = append(got, e)
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testApp is an APP-NAME unique to this test run, to find its messages.
func testApp(t *testing.T) string {
	var b [6]byte
	rand.Read(b[:])
	return "sl" + hex.EncodeToString(b[:])
}

// level is a value of the severity field and the severity it should give
// (-1: the configured default).
type level struct {
	json string
	sev  int
}

var testLevels = []level{
	{`"warning"`, 4}, {`3`, 3}, {`"ERR"`, 3}, {`"7"`, 7}, {`9`, -1}, {`"bogus"`, -1},
	{``, -1}, {`null`, -1}, {`0`, 0}, {`"debug"`, 7}, {`2.0`, 2}, {`"critical"`, 2},
}

// testRecord makes record i: JSON with quotes, backslashes, unicode, a
// severity field (sometimes absent, sometimes behind a nested one of the
// same name) and, with long, some records of a few KB.
func testRecord(i int, long bool) (rec []byte, sev int) {
	l := testLevels[i%len(testLevels)]
	text := fmt.Sprintf(`rec %d "quoted" back\slash ]bracket[ ünïcødé ✓ 日本語 🚀`, i)
	if long && i%50 == 7 {
		text += strings.Repeat("0123456789abcdef", 100+i%200) // 1.6 to 4.8 KB
	} else {
		text += strings.Repeat("x", i%97)
	}
	t, _ := json.Marshal(text)
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"i":%d,"meta":{"level":"emerg","x":[1,{"level":0}]},"text":%s`, i, t)
	if l.json != "" {
		fmt.Fprintf(&b, `,"level":%s`, l.json)
	}
	b.WriteString("}\n")
	return b.Bytes(), l.sev
}

// writeBatches writes records in batches of size per batch through s.
func writeBatches(t *testing.T, s Sink, recs [][]byte, size int) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < len(recs); start += size {
		end := min(start+size, len(recs))
		b := &Batch{ID: fmt.Sprintf("test/0/%d", start), ContentType: "application/x-ndjson"}
		for i := start; i < end; i++ {
			b.Records = append(b.Records, Record{Value: recs[i], Partition: 0, Offset: int64(i)})
		}
		if err := s.Write(ctx, b); err != nil {
			t.Fatalf("Write batch at %d: %v", start, err)
		}
	}
}

func openTestSyslog(t *testing.T, settings map[string]any, env Env) Sink {
	t.Helper()
	s, err := Open(context.Background(), Spec{Type: "syslog", Settings: settings}, env)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// checkArrived checks that every record arrived exactly once (TCP) or at
// least once, byte for byte, with its severity.
func checkArrived(t *testing.T, got []rsyslogEntry, recs [][]byte, sevs []int, defSev int, exactlyOnce bool) {
	t.Helper()
	seen := make([]int, len(recs))
	index := make(map[string]int, len(recs))
	for i, r := range recs {
		index[string(bytes.TrimSuffix(r, []byte("\n")))] = i
	}
	for _, e := range got {
		i, ok := index[e.Msg]
		if !ok {
			t.Fatalf("rsyslog got a message that was not sent (or was changed): %q", e.Msg)
		}
		seen[i]++
		want := sevs[i]
		if want < 0 {
			want = defSev
		}
		if e.Sev != strconv.Itoa(want) {
			t.Errorf("record %d: severity %s, want %d", i, e.Sev, want)
		}
	}
	missing := 0
	for i, n := range seen {
		if n == 0 {
			missing++
			if missing < 5 {
				t.Errorf("record %d never arrived: %q", i, recs[i])
			}
		}
		if exactlyOnce && n > 1 {
			t.Errorf("record %d arrived %d times", i, n)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d records did not arrive (%d messages received)", missing, len(recs), len(got))
	}
}

func TestSyslogRsyslogTCP(t *testing.T) {
	rs := rsyslog(t)
	app := testApp(t)
	s := openTestSyslog(t, map[string]any{
		"address": rs["tcp"], "transport": "tcp", "appName": app, "hostname": "sluice-test",
		"facility": "local3", "severity": "notice", "severityField": "level", "msgID": "result",
		"structuredData": map[string]any{"tenant": "acme", "q": `a"b]c\d`, "n": json.Number("42")},
	}, Env{AllowPrivate: true})
	const n = 1000
	recs := make([][]byte, n)
	sevs := make([]int, n)
	for i := range recs {
		recs[i], sevs[i] = testRecord(i, true)
	}
	writeBatches(t, s, recs, 100)
	got := readRsyslog(t, rs["out"], app, n)
	checkArrived(t, got, recs, sevs, 5, true)
	if len(got) != n {
		t.Fatalf("%d messages, want %d", len(got), n)
	}
	for _, e := range got {
		if e.Input != "tcp" || e.Fac != "19" || e.Host != "sluice-test" || e.MsgID != "result" || e.ProcID != "-" {
			t.Fatalf("header fields as rsyslog parsed them: %+v", e)
		}
		if want := `[sluice@32473 n="42" q="a\"b\]c\\d" tenant="acme"]`; e.SD != want {
			t.Fatalf("structured data %s, want %s", e.SD, want)
		}
	}
}

func TestSyslogRsyslogUDP(t *testing.T) {
	rs := rsyslog(t)
	app := testApp(t)
	s := openTestSyslog(t, map[string]any{
		"address": rs["udp"], "transport": "udp", "appName": app, "facility": json.Number("1"),
		"severity": "warning", "severityField": "level",
	}, Env{AllowPrivate: true})
	const n = 1000
	recs := make([][]byte, n)
	sevs := make([]int, n)
	for i := range recs {
		recs[i], sevs[i] = testRecord(i, false)
	}
	writeBatches(t, s, recs, 100)
	got := readRsyslog(t, rs["out"], app, n)
	checkArrived(t, got, recs, sevs, 4, false)
	for _, e := range got {
		if e.Input != "udp" || e.Fac != "1" || e.SD != "-" || e.MsgID != "-" {
			t.Fatalf("header fields as rsyslog parsed them: %+v", e)
		}
	}
}

// TestSyslogRsyslogTLS sends over TLS to rsyslog's gtls listener, which
// requires a client certificate from the test CA.
func TestSyslogRsyslogTLS(t *testing.T) {
	rs := rsyslog(t)
	pemOf := func(k string) string {
		b, err := os.ReadFile(rs[k])
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	app := testApp(t)
	s := openTestSyslog(t, map[string]any{
		"address": rs["tls"], "transport": "tls", "appName": app,
		"caPEM": pemOf("ca"), "clientCertPEM": pemOf("cert"), "clientKeyPEM": pemOf("key"),
	}, Env{AllowPrivate: true})
	const n = 300
	recs := make([][]byte, n)
	sevs := make([]int, n)
	for i := range recs {
		recs[i], _ = testRecord(i, true)
		sevs[i] = -1
	}
	writeBatches(t, s, recs, 50)
	got := readRsyslog(t, rs["out"], app, n)
	checkArrived(t, got, recs, sevs, 6, true)
	for _, e := range got {
		if e.Input != "tls" || e.Fac != "16" {
			t.Fatalf("header fields as rsyslog parsed them: %+v", e)
		}
	}

	// Without a client certificate rsyslog refuses: the write fails.
	s2 := openTestSyslog(t, map[string]any{"address": rs["tls"], "transport": "tls", "appName": app + "x", "caPEM": pemOf("ca")}, Env{AllowPrivate: true})
	var err error
	for range 3 { // the refusal may come only after the first write
		if err = s2.Write(context.Background(), &Batch{Records: []Record{{Value: []byte("{}\n")}}}); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := readRsyslog(t, rs["out"], app+"x", 0); len(got) != 0 {
		t.Fatalf("rsyslog accepted messages from a client without a certificate: %v (write error %v)", got, err)
	}
}

// TestSyslogRsyslogRFC3164 checks that rsyslog's RFC 3164 parser reads
// what the sink writes in that format.
func TestSyslogRsyslogRFC3164(t *testing.T) {
	rs := rsyslog(t)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			app := testApp(t)
			s := openTestSyslog(t, map[string]any{
				"address": rs[transport], "transport": transport, "format": "rfc3164", "appName": app,
				"hostname": "legacy-host", "facility": "auth", "severity": "crit",
			}, Env{AllowPrivate: true})
			recs := make([][]byte, 50)
			sevs := make([]int, len(recs))
			for i := range recs {
				recs[i], _ = testRecord(i, false)
				sevs[i] = -1
			}
			writeBatches(t, s, recs, 25)
			got := readRsyslog(t, rs["out"], app, len(recs))
			for i := range got {
				if got[i].Host != "legacy-host" || got[i].Fac != "4" {
					t.Fatalf("header fields as rsyslog parsed them: %+v", got[i])
				}
				// rsyslog keeps the space after "TAG:" in msg.
				got[i].Msg = strings.TrimPrefix(got[i].Msg, " ")
			}
			checkArrived(t, got, recs, sevs, 2, true)
		})
	}
}

// fakeReceiver is an in-process syslog receiver over TCP or TLS with
// octet-counting framing.
type fakeReceiver struct {
	ln net.Listener

	mu    sync.Mutex
	msgs  []string
	conns map[net.Conn]bool
	// dropAt, when > 0, closes the connection (with a reset) once that
	// many messages have been received in all, once.
	dropAt   int
	accepted int
}

func newFakeReceiver(t *testing.T, cfg *tls.Config) *fakeReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	r := &fakeReceiver{ln: ln, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); r.dropAll() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns[c] = true
			r.accepted++
			r.mu.Unlock()
			go r.serve(c)
		}
	}()
	return r
}

func (r *fakeReceiver) addr() string { return r.ln.Addr().String() }

func (r *fakeReceiver) serve(c net.Conn) {
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReader(c)
	for {
		lenStr, err := br.ReadString(' ')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSuffix(lenStr, " "))
		if err != nil || n <= 0 {
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(br, msg); err != nil {
			return
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, string(msg))
		drop := r.dropAt > 0 && len(r.msgs) >= r.dropAt
		if drop {
			r.dropAt = 0
		}
		r.mu.Unlock()
		if drop {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // a reset, as a crashed receiver
			} else if tc, ok := c.(*tls.Conn); ok {
				tc.NetConn().(*net.TCPConn).SetLinger(0)
			}
			return
		}
	}
}

// dropAll closes every open connection, as a receiver that restarts.
func (r *fakeReceiver) dropAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.Close()
	}
}

func (r *fakeReceiver) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// waitFor polls until n messages arrived (or 5 s passed).
func (r *fakeReceiver) waitFor(n int) []string {
	return r.waitUntil(func(m []string) bool { return len(m) >= n })
}

// waitUntil polls until done says the messages are complete (or 5 s
// passed).
func (r *fakeReceiver) waitUntil(done func([]string) bool) []string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := r.messages()
		if done(m) || time.Now().After(deadline) {
			return m
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// parsed5424 is an RFC 5424 message taken apart.
type parsed5424 struct {
	pri                                   int
	ts, host, app, procID, msgID, sd, msg string
}

// parse5424 parses an RFC 5424 message strictly enough for these tests.
func parse5424(m string) (parsed5424, error) {
	var p parsed5424
	if !strings.HasPrefix(m, "<") {
		return p, errors.New("no PRI")
	}
	end := strings.IndexByte(m, '>')
	if end < 2 || end > 4 {
		return p, errors.New("bad PRI")
	}
	var err error
	if p.pri, err = strconv.Atoi(m[1:end]); err != nil || p.pri > 191 {
		return p, fmt.Errorf("bad PRI %q", m[1:end])
	}
	rest, ok := strings.CutPrefix(m[end+1:], "1 ")
	if !ok {
		return p, errors.New("not VERSION 1")
	}
	fields := strings.SplitN(rest, " ", 6)
	if len(fields) < 6 {
		return p, errors.New("too few header fields")
	}
	p.ts, p.host, p.app, p.procID, p.msgID, rest = fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]
	if _, err := time.Parse(time.RFC3339Nano, p.ts); err != nil {
		return p, fmt.Errorf("TIMESTAMP: %v", err)
	}
	if strings.HasPrefix(rest, "-") {
		p.sd, rest = "-", rest[1:]
	} else {
		i := 0
		for i < len(rest) && rest[i] == '[' {
			inQuote := false
			for i++; i < len(rest); i++ {
				c := rest[i]
				if inQuote && c == '\\' {
					i++
					continue
				}
				if c == '"' {
					inQuote = !inQuote
				}
				if c == ']' && !inQuote {
					i++
					break
				}
			}
		}
		if i == 0 {
			return p, errors.New("no STRUCTURED-DATA")
		}
		p.sd, rest = rest[:i], rest[i:]
	}
	if rest != "" {
		if rest[0] != ' ' {
			return p, errors.New("no space before MSG")
		}
		p.msg = rest[1:]
	}
	return p, nil
}

var re3164 = regexp.MustCompile(`(?s)^<(\d{1,3})>([A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d) (\S+) ([^\s:\[\]]{1,32}): (.*)$`)

// testCerts makes a CA and a server certificate (127.0.0.1) and a client
// certificate signed by it, as PEM.
func testCerts(t *testing.T) (caPEM, serverCert, serverKey, clientCert, clientKey string) {
	t.Helper()
	key := func() (*ecdsa.PrivateKey, string) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	caKey, _ := key()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "syslog test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage) (string, string) {
		k, kp := key()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "syslog test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), kp
	}
	caPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	serverCert, serverKey = leaf(2, x509.ExtKeyUsageServerAuth)
	clientCert, clientKey = leaf(3, x509.ExtKeyUsageClientAuth)
	return
}

// tlsReceiver starts a fake TLS receiver that requires a client
// certificate from the test CA, and returns the sink settings for it.
func tlsReceiver(t *testing.T) (*fakeReceiver, map[string]any) {
	caPEM, sc, sk, cc, ck := testCerts(t)
	cert, err := tls.X509KeyPair([]byte(sc), []byte(sk))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caPEM))
	r := newFakeReceiver(t, &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	return r, map[string]any{"address": r.addr(), "transport": "tls", "caPEM": caPEM, "clientCertPEM": cc, "clientKeyPEM": ck}
}

// TestSyslogTLSReconnect: a TLS receiver with its own CA and client
// certificates; it drops the connection in the middle of a large batch,
// and, later, between batches. Retried the way the job runtime does, every
// record arrives (duplicates allowed).
func TestSyslogTLSReconnect(t *testing.T) {
	r, settings := tlsReceiver(t)
	settings["structuredData"] = map[string]any{"job": "j1"}
	s := openTestSyslog(t, settings, Env{AllowPrivate: true})
	ctx := context.Background()
	var recs [][]byte
	batch := func(n, size int) *Batch {
		b := &Batch{}
		for range n {
			i := len(recs)
			rec := fmt.Appendf(nil, "{\"i\":%d,\"pad\":%q}\n", i, strings.Repeat("p", size))
			recs = append(recs, rec)
			b.Records = append(b.Records, Record{Value: rec, Offset: int64(i)})
		}
		return b
	}
	// write retries like the runtime, with no backoff.
	write := func(b *Batch) (failures int) {
		for {
			err := s.Write(ctx, b)
			if err == nil {
				return failures
			}
			if IsPermanent(err) {
				t.Fatalf("permanent error: %v", err)
			}
			failures++
			if failures > 5 {
				t.Fatalf("still failing: %v", err)
			}
		}
	}
	write(batch(100, 10))
	if got := r.waitFor(100); len(got) != 100 {
		t.Fatalf("%d messages, want 100", len(got))
	}
	// A batch far larger than the socket buffers: the receiver resets the
	// connection after 1000 messages, so the write fails and is retried.
	r.mu.Lock()
	r.dropAt = 1100
	r.mu.Unlock()
	if failures := write(batch(8000, 2000)); failures == 0 {
		t.Errorf("the write during which the receiver reset the connection did not fail")
	}
	// The receiver closes the idle connection: the next write must notice
	// and reconnect rather than write into a dead connection.
	time.Sleep(50 * time.Millisecond)
	r.dropAll()
	time.Sleep(50 * time.Millisecond)
	write(batch(50, 10))

	// The last record arriving means all before it were read (one
	// connection, in order), unless they were lost.
	last := string(bytes.TrimSuffix(recs[len(recs)-1], []byte("\n")))
	got := r.waitUntil(func(m []string) bool { return len(m) > 0 && strings.HasSuffix(m[len(m)-1], " "+last) })
	count := map[string]int{}
	for _, m := range got {
		p, err := parse5424(m)
		if err != nil {
			t.Fatalf("%v: %.200q", err, m)
		}
		if p.pri != 16*8+6 || p.app != "sluice" || p.sd != `[sluice@32473 job="j1"]` {
			t.Fatalf("header: %+v", p)
		}
		count[p.msg]++
	}
	for i, rec := range recs {
		if count[string(bytes.TrimSuffix(rec, []byte("\n")))] == 0 {
			t.Fatalf("record %d lost (%d messages received for %d records)", i, len(got), len(recs))
		}
	}
	r.mu.Lock()
	accepted := r.accepted
	r.mu.Unlock()
	if accepted < 3 {
		t.Errorf("%d connections, want at least 3 (two reconnects)", accepted)
	}
	t.Logf("%d records, %d messages received (duplicates from the retried batch), %d connections", len(recs), len(got), accepted)
}

// TestSyslogContract checks the sink contract over TCP against the fake
// receiver (sinktest.Run cannot be used from inside package sink): every
// record arrives in order, the records' memory is not kept past Write,
// Close is idempotent and Write after it fails permanently.
func TestSyslogContract(t *testing.T) {
	r := newFakeReceiver(t, nil)
	ctx := context.Background()
	s, err := Open(ctx, Spec{Type: "syslog", Settings: map[string]any{"address": r.addr()}}, Env{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	buf := make([]byte, 0, 1<<16)
	id := 0
	for bi, n := range []int{1, 3, 0, 100, 1, 1000, 7} {
		buf = buf[:0]
		b := &Batch{ID: "test/0/" + strconv.Itoa(id)}
		var ends []int
		for range n {
			buf = fmt.Appendf(buf, "{\"id\":%d,\"batch\":%d,\"pad\":%q}\n", id, bi, strings.Repeat("x", id%50))
			ends = append(ends, len(buf))
			id++
		}
		start := 0
		for _, end := range ends {
			b.Records = append(b.Records, Record{Value: buf[start:end:end]})
			want = append(want, string(buf[start:end-1]))
			start = end
		}
		if err := s.Write(ctx, b); err != nil {
			t.Fatalf("batch %d: %v", bi, err)
		}
		for i := range buf {
			buf[i] = '#'
		}
	}
	got := r.waitFor(len(want))
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i, m := range got {
		p, err := parse5424(m)
		if err != nil || p.msg != want[i] {
			t.Fatalf("message %d: %q (%v), want MSG %q", i, m, err, want[i])
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	err = s.Write(ctx, &Batch{Records: []Record{{Value: []byte("{}\n")}}})
	if !errors.Is(err, ErrClosed) || !IsPermanent(err) {
		t.Fatalf("Write after Close: %v", err)
	}
}

// TestSyslogFormats checks messages as written, parsed back: RFC 5424
// with every header field, RFC 3164, and the message bytes unchanged.
func TestSyslogFormats(t *testing.T) {
	fixed := time.Date(2026, 3, 5, 7, 8, 9, 123456000, time.UTC)
	rec := Record{Value: []byte("{\"level\":\"alert\",\"x\":\"ü \\\"q\\\"\"}\n"), Offset: 1}
	msgOf := func(settings map[string]any) string {
		c, err := parseSyslog(Spec{Type: "syslog", Settings: settings})
		if err != nil {
			t.Fatal(err)
		}
		s := &syslogSink{cfg: c, log: Env{}.logger()}
		b, err := s.appendMessage(nil, fixed, &rec)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := strings.TrimSuffix(string(rec.Value), "\n")

	m := msgOf(map[string]any{"address": "h:514", "transport": "udp", "hostname": "host1", "appName": "app1",
		"msgID": "ID7", "facility": 4, "severity": "3", "severityField": "level",
		"structuredData": map[string]any{"b": "x]y", "a": `\`}})
	p, err := parse5424(m)
	if err != nil {
		t.Fatalf("%v: %q", err, m)
	}
	if got := (parsed5424{pri: 4*8 + 1, ts: "2026-03-05T07:08:09.123456Z", host: "host1", app: "app1", procID: "-", msgID: "ID7",
		sd: `[sluice@32473 a="\\" b="x\]y"]`, msg: want}); p != got {
		t.Fatalf("parsed\n%+v\nwant\n%+v", p, got)
	}

	// Over TCP the message is framed by its length in bytes.
	m = msgOf(map[string]any{"address": "h:514", "hostname": "host1"})
	n, body, _ := strings.Cut(m, " ")
	if l, _ := strconv.Atoi(n); l != len(body) {
		t.Fatalf("frame length %s, message of %d bytes", n, len(body))
	}
	if p, err = parse5424(body); err != nil || p.pri != 16*8+6 || p.sd != "-" || p.msgID != "-" || p.msg != want {
		t.Fatalf("%+v %v", p, err)
	}

	m = msgOf(map[string]any{"address": "h:514", "transport": "udp", "format": "rfc3164", "hostname": "host1", "appName": "tag1", "facility": "local7", "severityField": "level"})
	sm := re3164.FindStringSubmatch(m)
	if sm == nil {
		t.Fatalf("not RFC 3164: %q", m)
	}
	if sm[1] != strconv.Itoa(23*8+1) || sm[2] != fixed.Local().Format(time.Stamp) || sm[3] != "host1" || sm[4] != "tag1" || sm[5] != want {
		t.Fatalf("RFC 3164 fields %q", sm[1:])
	}
}

// TestSyslogUDPSizeLimit: a record too large for a datagram fails the
// batch before anything is sent (permanently), or is cut on a UTF-8
// boundary with oversize "truncate".
func TestSyslogUDPSizeLimit(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	got := make(chan string, 10)
	go func() {
		buf := make([]byte, 1<<17)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			got <- string(buf[:n])
		}
	}()
	big := []byte(`{"v":"` + strings.Repeat("é", 40000) + `"}` + "\n")
	b := &Batch{Records: []Record{{Value: []byte("{}\n")}, {Value: big, Partition: 3, Offset: 99}}}

	s := openTestSyslog(t, map[string]any{"address": pc.LocalAddr().String(), "transport": "udp"}, Env{AllowPrivate: true})
	err = s.Write(context.Background(), b)
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "65507") || !strings.Contains(err.Error(), "offset 99") {
		t.Fatalf("oversized record: %v", err)
	}
	select {
	case m := <-got:
		t.Fatalf("sent %q of a failed batch", m)
	case <-time.After(100 * time.Millisecond):
	}

	s = openTestSyslog(t, map[string]any{"address": pc.LocalAddr().String(), "transport": "udp", "oversize": "truncate", "maxMessageSize": 1000}, Env{AllowPrivate: true})
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		select {
		case m := <-got:
			p, err := parse5424(m)
			if err != nil || len(m) > 1000 || !strings.HasPrefix(string(b.Records[i].Value), p.msg) {
				t.Fatalf("datagram %d: %d bytes, %v", i, len(m), err)
			}
			if i == 1 && (len(m) < 997 || !utf8Valid(p.msg)) {
				t.Fatalf("truncated to %d bytes, valid UTF-8: %v", len(m), utf8Valid(p.msg))
			}
		case <-time.After(5 * time.Second):
			t.Fatal("datagram not received")
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// TestSyslogForbiddenDestination: without AllowPrivate, loopback and
// private destinations are refused, permanently, on every transport.
func TestSyslogForbiddenDestination(t *testing.T) {
	r := newFakeReceiver(t, nil)
	_, port, _ := net.SplitHostPort(r.addr())
	for _, tr := range []string{"tcp", "udp", "tls"} {
		for _, host := range []string{"127.0.0.1", "localhost", "10.0.0.1", "169.254.169.254"} {
			spec := Spec{Type: "syslog", Settings: map[string]any{"address": net.JoinHostPort(host, port), "transport": tr, "timeout": "1s"}}
			if err := Validate(spec, Env{}); err != nil {
				t.Fatalf("Validate dials nothing and should pass: %v", err)
			}
			_, err := Open(context.Background(), spec, Env{})
			if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "may not reach") {
				t.Errorf("%s %s: Open: %v, want a permanent refusal", tr, host, err)
			}
			if err := Probe(context.Background(), spec, Env{}); err == nil || !IsPermanent(err) {
				t.Errorf("%s %s: Probe: %v, want a permanent refusal", tr, host, err)
			}
		}
	}
	// The check runs again on every new connection: a sink opened with
	// private destinations allowed can reconnect; the refusal is from the
	// dialer, not from Open.
	s := &syslogSink{cfg: syslogConfig{address: r.addr(), transport: "tcp", timeout: time.Second}, env: Env{}, log: Env{}.logger()}
	if err := s.Write(context.Background(), &Batch{Records: []Record{{Value: []byte("x\n")}}}); err == nil || !IsPermanent(err) {
		t.Fatalf("Write to loopback without AllowPrivate: %v", err)
	}
}

// TestSyslogReceiverDown: Open succeeds while the receiver is down (the
// job starts and retries), writes fail retryably until it is up.
func TestSyslogReceiverDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := openTestSyslog(t, map[string]any{"address": addr, "timeout": "1s"}, Env{AllowPrivate: true})
	err = s.Write(context.Background(), &Batch{Records: []Record{{Value: []byte("x\n")}}})
	if err == nil || IsPermanent(err) {
		t.Fatalf("Write with the receiver down: %v, want a retryable error", err)
	}
}

func TestSyslogSettings(t *testing.T) {
	caPEM, _, _, cc, ck := testCerts(t)
	for _, tc := range []struct {
		settings map[string]any
		fields   []string
	}{
		{map[string]any{}, []string{"address"}},
		{map[string]any{"address": "nohost"}, []string{"address"}},
		{map[string]any{"address": ":514"}, []string{"address"}},
		{map[string]any{"address": "h:99999"}, []string{"address"}},
		{map[string]any{"address": "h:514", "transport": "sctp"}, []string{"transport"}},
		{map[string]any{"address": "h:514", "format": "json"}, []string{"format"}},
		{map[string]any{"address": "h:514", "facility": "local9"}, []string{"facility"}},
		{map[string]any{"address": "h:514", "facility": json.Number("24")}, []string{"facility"}},
		{map[string]any{"address": "h:514", "severity": 8}, []string{"severity"}},
		{map[string]any{"address": "h:514", "severity": true}, []string{"severity"}},
		{map[string]any{"address": "h:514", "appName": "has space"}, []string{"appName"}},
		{map[string]any{"address": "h:514", "appName": strings.Repeat("a", 49)}, []string{"appName"}},
		{map[string]any{"address": "h:514", "appName": "a:b", "format": "rfc3164"}, []string{"appName"}},
		{map[string]any{"address": "h:514", "hostname": ""}, []string{"hostname"}},
		{map[string]any{"address": "h:514", "msgID": strings.Repeat("m", 33)}, []string{"msgID"}},
		{map[string]any{"address": "h:514", "msgID": "m", "format": "rfc3164"}, []string{"msgID"}},
		{map[string]any{"address": "h:514", "structuredData": "x"}, []string{"structuredData"}},
		{map[string]any{"address": "h:514", "structuredData": map[string]any{"a=b": "x"}}, []string{"structuredData"}},
		{map[string]any{"address": "h:514", "structuredData": map[string]any{"a": []any{}}}, []string{"structuredData"}},
		{map[string]any{"address": "h:514", "structuredData": map[string]any{"a": "x"}, "format": "rfc3164"}, []string{"structuredData"}},
		{map[string]any{"address": "h:514", "caPEM": caPEM}, []string{"caPEM"}},
		{map[string]any{"address": "h:514", "transport": "tls", "caPEM": "junk"}, []string{"caPEM"}},
		{map[string]any{"address": "h:514", "transport": "tls", "clientCertPEM": cc}, []string{"clientKeyPEM"}},
		{map[string]any{"address": "h:514", "transport": "tls", "clientKeyPEM": ck}, []string{"clientCertPEM"}},
		{map[string]any{"address": "h:514", "transport": "tls", "clientCertPEM": caPEM, "clientKeyPEM": ck}, []string{"clientCertPEM"}},
		{map[string]any{"address": "h:514", "timeout": "soon"}, []string{"timeout"}},
		{map[string]any{"address": "h:514", "timeout": json.Number("10")}, []string{"timeout"}},
		{map[string]any{"address": "h:514", "timeout": "-1s"}, []string{"timeout"}},
		{map[string]any{"address": "h:514", "transport": "udp", "maxMessageSize": 70000}, []string{"maxMessageSize"}},
		{map[string]any{"address": "h:514", "maxMessageSize": 100}, []string{"maxMessageSize"}},
		{map[string]any{"address": "h:514", "oversize": "drop"}, []string{"oversize"}},
		{map[string]any{"address": "h:514", "severtyField": "x"}, []string{"severtyField"}},
		{map[string]any{"transport": "tls", "clientKeyPEM": ck, "format": "x"}, []string{"address", "format", "clientCertPEM"}},
	} {
		err := Validate(Spec{Type: "syslog", Settings: tc.settings}, Env{})
		var fields []string
		for _, ce := range ConfigErrors(err) {
			fields = append(fields, ce.Field)
			if strings.Contains(ce.Message, "PRIVATE KEY") || strings.Contains(ce.Message, ck[40:80]) {
				t.Errorf("message quotes the key: %s", ce.Message)
			}
		}
		if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("%v: errors for %v, want %v (%v)", tc.settings, fields, tc.fields, err)
		}
	}
	good := map[string]any{
		"address": "logs.example.com:6514", "transport": "TLS", "format": "RFC5424", "facility": "Local4",
		"severity": json.Number("2"), "severityField": "sev", "appName": "a", "hostname": "h", "msgID": "m",
		"structuredData": map[string]any{"n": json.Number("1"), "b": true}, "caPEM": caPEM,
		"clientCertPEM": cc, "clientKeyPEM": ck, "timeout": "3s", "maxMessageSize": json.Number("8192"), "oversize": "truncate",
	}
	c, err := parseSyslog(Spec{Type: "syslog", Settings: good})
	if err != nil {
		t.Fatal(err)
	}
	if c.transport != "tls" || c.facility != 20 || c.severity != 2 || c.timeout != 3*time.Second || c.maxSize != 8192 || !c.truncate ||
		c.sd != `[sluice@32473 b="true" n="1"]` || c.tls.ServerName != "logs.example.com" || len(c.tls.Certificates) != 1 {
		t.Fatalf("parsed %+v", c)
	}
	c, err = parseSyslog(Spec{Type: "syslog", Settings: map[string]any{"address": "h:514"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.transport != "tcp" || c.rfc3164 || c.facility != 16 || c.severity != 6 || c.appName != "sluice" || c.hostname == "" ||
		c.timeout != 10*time.Second || c.maxSize != 0 || c.truncate {
		t.Fatalf("defaults %+v", c)
	}
}

func TestSeverityOf(t *testing.T) {
	for _, tc := range []struct {
		rec string
		sev int
		ok  bool
	}{
		{`{"level":"warning"}`, 4, true},
		{` { "a" : 1 , "level" : 5 }`, 5, true},
		{`{"a":{"level":1},"b":[{"level":2}],"c":"\"level\":3","level":"Notice"}`, 5, true},
		{`{"lev\u0065l":"err"}`, 3, true},
		{`{"level":"6"}`, 6, true},
		{`{"level":6.0}`, 6, true},
		{`{"level":6.5}`, 0, false},
		{`{"level":-1}`, 0, false},
		{`{"level":"loud"}`, 0, false},
		{`{"level":null}`, 0, false},
		{`{"other":1}`, 0, false},
		{`[1,2]`, 0, false},
		{`a,b,c`, 0, false},
		{`{"level"`, 0, false},
		{`{"a":"unterminated`, 0, false},
		{``, 0, false},
	} {
		sev, ok := severityOf([]byte(tc.rec), "level")
		if sev != tc.sev || ok != tc.ok {
			t.Errorf("%s: %d %v, want %d %v", tc.rec, sev, ok, tc.sev, tc.ok)
		}
	}
}

func TestTruncateUTF8(t *testing.T) {
	s := []byte("aé日🚀")
	for n, want := range []string{"", "a", "a", "aé", "aé", "aé", "aé日", "aé日", "aé日", "aé日", "aé日🚀", "aé日🚀"} {
		if got := string(truncateUTF8(s, n)); got != want {
			t.Errorf("truncate to %d: %q, want %q", n, got, want)
		}
	}
}

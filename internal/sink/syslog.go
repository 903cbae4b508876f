package sink

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

func init() {
	RegisterSecrets("syslog", "clientKeyPEM")
	RegisterType(Type{Name: "syslog", Open: openSyslog, Validate: validateSyslog, Probe: probeSyslog})
}

// Syslog limits and defaults.
const (
	// maxUDPMessage is the largest UDP payload over IPv4 (65535 minus the
	// IP and UDP headers): a syslog message over UDP is one datagram.
	maxUDPMessage = 65507
	// syslogSDID is the SD-ID of the structuredData element: "sluice" at
	// the private enterprise number RFC 5612 reserves for documentation.
	syslogSDID = "sluice@32473"
	// syslogRedial is how long a UDP socket is kept before the address is
	// resolved (and checked) again, to follow DNS changes.
	syslogRedial = time.Minute
	// syslogAliveWait is how long Write waits for a TCP or TLS connection
	// to show it was closed by the receiver before reusing it.
	syslogAliveWait = time.Millisecond
	// maxSyslogBuffer is the largest batch buffer kept between writes.
	maxSyslogBuffer = 16 << 20
)

// syslogFacilities and syslogSeverities map names to codes (RFC 5424
// section 6.2.1, with the names syslog.conf uses and their aliases).
var (
	syslogFacilities = map[string]int{
		"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
		"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "audit": 13,
		"console": 14, "clock": 15, "local0": 16, "local1": 17, "local2": 18, "local3": 19,
		"local4": 20, "local5": 21, "local6": 22, "local7": 23,
	}
	syslogSeverities = map[string]int{
		"emerg": 0, "emergency": 0, "panic": 0, "alert": 1, "crit": 2, "critical": 2,
		"err": 3, "error": 3, "warning": 4, "warn": 4, "notice": 5, "info": 6,
		"informational": 6, "debug": 7,
	}
)

// syslogConfig is the syslog sink's settings, checked.
type syslogConfig struct {
	address   string
	transport string // "udp", "tcp" or "tls"
	rfc3164   bool
	facility  int
	severity  int
	sevField  string // "" when severity is fixed
	appName   string
	hostname  string
	msgID     string // "" when none
	sd        string // the formatted SD element, "" when none
	tls       *tls.Config
	timeout   time.Duration
	maxSize   int  // largest message (header included); 0: no limit
	truncate  bool // oversize: truncate instead of failing
}

func parseSyslog(spec Spec) (syslogConfig, error) {
	s := NewSettings(spec)
	c := syslogConfig{
		address:   s.String("address", true, ""),
		transport: strings.ToLower(s.String("transport", false, "tcp")),
		appName:   s.String("appName", false, "sluice"),
		msgID:     s.String("msgID", false, ""),
		sevField:  s.String("severityField", false, ""),
		timeout:   s.Duration("timeout", 10*time.Second),
	}
	if c.address != "" {
		host, port, err := net.SplitHostPort(c.address)
		switch {
		case err != nil:
			s.Fail("address", fmt.Sprintf("%q is not host:port", c.address))
		case host == "":
			s.Fail("address", "the host is missing")
		default:
			if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
				s.Fail("address", fmt.Sprintf("%q is not a port number", port))
			}
		}
	}
	switch c.transport {
	case "udp", "tcp", "tls":
	default:
		s.Fail("transport", fmt.Sprintf("%q is not one of udp, tcp, tls", c.transport))
	}
	switch f := strings.ToLower(s.String("format", false, "rfc5424")); f {
	case "rfc5424":
	case "rfc3164":
		c.rfc3164 = true
	default:
		s.Fail("format", fmt.Sprintf("%q is not one of rfc5424, rfc3164", f))
	}
	c.facility = syslogCode(s, "facility", syslogFacilities, 23, syslogFacilities["local0"])
	c.severity = syslogCode(s, "severity", syslogSeverities, 7, syslogSeverities["info"])

	if c.rfc3164 {
		// The TAG of RFC 3164: what receivers take for the program name.
		if len(c.appName) > 32 || !syslogToken(c.appName) || strings.ContainsAny(c.appName, ":[]") {
			s.Fail("appName", "must be 1 to 32 printable ASCII characters without spaces, ':' or brackets for rfc3164")
		}
		if c.msgID != "" {
			s.Fail("msgID", "RFC 3164 has no MSGID: only for format rfc5424")
		}
	} else {
		if len(c.appName) > 48 || !syslogToken(c.appName) {
			s.Fail("appName", "must be 1 to 48 printable ASCII characters without spaces (RFC 5424 APP-NAME)")
		}
		if c.msgID != "" && (len(c.msgID) > 32 || !syslogToken(c.msgID)) {
			s.Fail("msgID", "must be 1 to 32 printable ASCII characters without spaces (RFC 5424 MSGID)")
		}
	}
	if h, ok := s.get("hostname"); ok {
		str, _ := h.(string)
		if len(str) > 255 || !syslogToken(str) {
			s.Fail("hostname", "must be 1 to 255 printable ASCII characters without spaces")
		}
		c.hostname = str
	} else {
		c.hostname = defaultSyslogHostname()
	}
	if sd, ok := s.get("structuredData"); ok {
		if c.rfc3164 {
			s.Fail("structuredData", "RFC 3164 has no structured data: only for format rfc5424")
		} else {
			c.sd = syslogSD(s, sd)
		}
	}

	var ca, certPEM, keyPEM string
	for _, f := range []struct {
		name string
		to   *string
	}{{"caPEM", &ca}, {"clientCertPEM", &certPEM}, {"clientKeyPEM", &keyPEM}} {
		*f.to = s.String(f.name, false, "")
		if *f.to != "" && c.transport != "tls" {
			s.Fail(f.name, "only for transport tls")
		}
	}
	if c.transport == "tls" {
		host, _, _ := net.SplitHostPort(c.address)
		c.tls = s.TLS(host, ca, certPEM, keyPEM)
	}

	limit := 0
	if c.transport == "udp" {
		limit = maxUDPMessage
	}
	c.maxSize = limit
	if v, ok := s.get("maxMessageSize"); ok {
		n, good := syslogInt(v)
		switch {
		case !good || n < 480:
			s.Fail("maxMessageSize", "must be a whole number of bytes, at least 480 (RFC 5424's minimum)")
		case limit > 0 && n > limit:
			s.Fail("maxMessageSize", fmt.Sprintf("at most %d over udp (one datagram)", limit))
		default:
			c.maxSize = n
		}
	}
	switch o := strings.ToLower(s.String("oversize", false, "fail")); o {
	case "fail":
	case "truncate":
		c.truncate = true
	default:
		s.Fail("oversize", fmt.Sprintf("%q is not one of fail, truncate", o))
	}
	return c, s.Err()
}

// syslogToken reports whether v is non-empty PRINTUSASCII (RFC 5424:
// characters 33 to 126).
func syslogToken(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 33 || v[i] > 126 {
			return false
		}
	}
	return true
}

// defaultSyslogHostname is os.Hostname made a valid HOSTNAME.
func defaultSyslogHostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "-"
	}
	b := []byte(h)
	for i, c := range b {
		if c < 33 || c > 126 {
			b[i] = '_'
		}
	}
	if len(b) > 255 {
		b = b[:255]
	}
	return string(b)
}

// syslogInt reads a whole number from a setting: a JSON number, a Go int
// or a string of digits.
func syslogInt(v any) (int, bool) {
	var str string
	switch x := v.(type) {
	case int:
		return x, true
	case json.Number:
		str = string(x)
	case float64:
		if x != float64(int(x)) {
			return 0, false
		}
		return int(x), true
	case string:
		str = x
	default:
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(str))
	return n, err == nil
}

// syslogCode reads a facility or severity: a name from names or a number
// from 0 to max.
func syslogCode(s *Settings, field string, names map[string]int, maxCode, def int) int {
	v, ok := s.get(field)
	if !ok {
		return def
	}
	if str, isStr := v.(string); isStr {
		if n, ok := names[strings.ToLower(strings.TrimSpace(str))]; ok {
			return n
		}
	}
	if n, ok := syslogInt(v); ok && n >= 0 && n <= maxCode {
		return n
	}
	known := slices.Sorted(func(yield func(string) bool) {
		for k := range names {
			if !yield(k) {
				return
			}
		}
	})
	s.Fail(field, fmt.Sprintf("%v is not a number from 0 to %d or one of %s", v, maxCode, strings.Join(known, ", ")))
	return def
}

// syslogSD formats the structuredData setting, an object of parameter
// names to values, as one SD element (RFC 5424 section 6.3), parameters
// sorted by name; "" (with a problem recorded) when it is invalid.
func syslogSD(s *Settings, v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		if ms, isMS := v.(map[string]string); isMS {
			m = make(map[string]any, len(ms))
			for k, x := range ms {
				m[k] = x
			}
		} else {
			s.Fail("structuredData", "must be an object of parameter names to values")
			return ""
		}
	}
	if len(m) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("[" + syslogSDID)
	bad := false
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		if len(k) > 32 || !syslogToken(k) || strings.ContainsAny(k, "=]\"") {
			s.Fail("structuredData", fmt.Sprintf("parameter name %q must be 1 to 32 printable ASCII characters without spaces, '=', ']' or '\"'", k))
			bad = true
			continue
		}
		var val string
		switch x := m[k].(type) {
		case string:
			val = x
		case json.Number:
			val = string(x)
		case bool:
			val = strconv.FormatBool(x)
		case int:
			val = strconv.Itoa(x)
		default:
			s.Fail("structuredData", fmt.Sprintf("parameter %q must be a string, number or boolean", k))
			bad = true
			continue
		}
		if !utf8.ValidString(val) {
			s.Fail("structuredData", fmt.Sprintf("parameter %q is not UTF-8", k))
			bad = true
			continue
		}
		b.WriteString(" " + k + `="`)
		for i := 0; i < len(val); i++ {
			if c := val[i]; c == '"' || c == '\\' || c == ']' {
				b.WriteByte('\\')
			}
			b.WriteByte(val[i])
		}
		b.WriteByte('"')
	}
	if bad {
		return ""
	}
	b.WriteByte(']')
	return b.String()
}

func validateSyslog(spec Spec, _ Env) error {
	_, err := parseSyslog(spec)
	return err
}

// probeSyslog checks the settings and that the receiver accepts a
// connection (TCP, TLS; the address is resolved and checked for UDP),
// sending nothing.
func probeSyslog(ctx context.Context, spec Spec, env Env) error {
	c, err := parseSyslog(spec)
	if err != nil {
		return err
	}
	s := &syslogSink{cfg: c, env: env, log: env.logger()}
	conn, err := s.dial(ctx)
	if err != nil {
		return err
	}
	return conn.Close()
}

func openSyslog(ctx context.Context, spec Spec, env Env) (Sink, error) {
	c, err := parseSyslog(spec)
	if err != nil {
		return nil, err
	}
	s := &syslogSink{cfg: c, env: env, log: env.logger().With("sink", "syslog", "address", c.address, "transport", c.transport)}
	// Connect now so that a forbidden or impossible destination fails the
	// open; a receiver that is merely down is left to Write, which
	// reconnects and whose errors are retried.
	conn, err := s.dial(ctx)
	switch {
	case err == nil:
		s.conn, s.dialedAt = conn, time.Now()
	case IsPermanent(err):
		return nil, err
	default:
		s.log.Warn("syslog receiver not reachable yet; writes will retry", "err", err)
	}
	return s, nil
}

// syslogSink is the "syslog" sink: each record becomes one syslog message
// (RFC 5424, or RFC 3164) whose MSG is the record without its trailing
// newline. Over TCP and TLS the messages are framed by octet counting
// (RFC 6587) and a batch is written with one write; over UDP each message
// is one datagram. Write acknowledges once the batch is handed to the
// operating system: syslog has no application acknowledgement, so a
// connection that breaks after the write can lose what the receiver had
// not yet read. At-least-once at best, see docs/sinks.md.
//
// Safe for concurrent use (calls are serialised).
type syslogSink struct {
	cfg syslogConfig
	env Env
	log *slog.Logger

	mu       sync.Mutex
	conn     net.Conn
	dialedAt time.Time
	buf      []byte
	closed   bool
	now      func() time.Time // for tests; nil is time.Now
}

var _ Sink = (*syslogSink)(nil)

// dial connects to the receiver through the netguard Dialer, which checks
// the address of every new connection (and, for UDP, of the socket).
func (s *syslogSink) dial(ctx context.Context) (net.Conn, error) {
	d := Dialer(s.env, s.cfg.timeout)
	var conn net.Conn
	var err error
	switch s.cfg.transport {
	case "tls":
		td := &tls.Dialer{NetDialer: d, Config: s.cfg.tls}
		conn, err = td.DialContext(ctx, "tcp", s.cfg.address)
	default:
		conn, err = d.DialContext(ctx, s.cfg.transport, s.cfg.address)
	}
	if err != nil {
		return nil, fmt.Errorf("syslog sink: connect to %s: %w", s.cfg.address, err)
	}
	// Belt and braces: the address actually connected to.
	if ap, perr := netip.ParseAddrPort(conn.RemoteAddr().String()); perr == nil {
		if why := Forbidden(s.env, ap.Addr()); why != "" {
			conn.Close()
			return nil, Permanent(fmt.Errorf("syslog sink: destination %s is %s, which sinks may not reach (the operator can allow private destinations with --allow-private-sinks)", ap, why))
		}
	}
	return conn, nil
}

// usable reports whether the open connection can be written to: a UDP
// socket younger than syslogRedial, or a TCP/TLS connection the receiver
// has not closed. Syslog receivers never send, so anything a short read
// returns other than a timeout (EOF, a reset, stray data) means the
// connection is not one to write to.
func (s *syslogSink) usable() bool {
	if s.conn == nil {
		return false
	}
	if s.cfg.transport == "udp" {
		return time.Since(s.dialedAt) < syslogRedial
	}
	if err := s.conn.SetReadDeadline(time.Now().Add(syslogAliveWait)); err != nil {
		return false
	}
	var one [1]byte
	_, err := s.conn.Read(one[:])
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *syslogSink) dropConn() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// Write sends every record of the batch, reconnecting first if the
// connection is gone. On an error the connection is dropped (the next
// Write reconnects) and the error is not permanent, except for a record
// too large with oversize "fail" and a forbidden destination.
func (s *syslogSink) Write(ctx context.Context, b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("syslog sink: %w", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(b.Records) == 0 {
		return nil
	}
	// Format first: a record that cannot be sent fails the batch before
	// any of it is.
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	t := now()
	s.buf = s.buf[:0]
	ends := make([]int, 0, len(b.Records))
	for i := range b.Records {
		var err error
		if s.buf, err = s.appendMessage(s.buf, t, &b.Records[i]); err != nil {
			return err
		}
		ends = append(ends, len(s.buf))
	}
	if cap(s.buf) > maxSyslogBuffer {
		defer func() { s.buf = nil }()
	}

	if !s.usable() {
		s.dropConn()
		conn, err := s.dial(ctx)
		if err != nil {
			return err
		}
		s.conn, s.dialedAt = conn, time.Now()
	}
	deadline := time.Now().Add(s.cfg.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := s.conn.SetWriteDeadline(deadline); err != nil {
		s.dropConn()
		return fmt.Errorf("syslog sink: %w", err)
	}
	// A cancelled context interrupts a blocked write.
	conn := s.conn
	stop := context.AfterFunc(ctx, func() { conn.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	var err error
	if s.cfg.transport == "udp" {
		start := 0
		for _, end := range ends {
			if _, err = conn.Write(s.buf[start:end]); err != nil {
				break
			}
			start = end
		}
	} else {
		// The whole batch in one write: net.Conn writes all of it or
		// fails.
		_, err = conn.Write(s.buf)
	}
	if err != nil {
		s.dropConn()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return fmt.Errorf("syslog sink: send to %s: %w", s.cfg.address, err)
	}
	return nil
}

// appendMessage appends one record as a syslog message: framed by octet
// counting over TCP and TLS, bare over UDP.
func (s *syslogSink) appendMessage(buf []byte, t time.Time, r *Record) ([]byte, error) {
	c := &s.cfg
	msg := r.Value
	if n := len(msg); n > 0 && msg[n-1] == '\n' {
		msg = msg[:n-1]
		if n > 1 && msg[n-2] == '\r' {
			msg = msg[:n-2]
		}
	}
	sev := c.severity
	if c.sevField != "" {
		if v, ok := severityOf(msg, c.sevField); ok {
			sev = v
		}
	}
	var hdr [320]byte
	h := hdr[:0]
	h = append(h, '<')
	h = strconv.AppendInt(h, int64(c.facility*8+sev), 10)
	h = append(h, '>')
	if c.rfc3164 {
		// RFC 3164 has no zone: local time, as syslog(3) writes it.
		h = t.Local().AppendFormat(h, time.Stamp)
		h = append(h, ' ')
		h = append(h, c.hostname...)
		h = append(h, ' ')
		h = append(h, c.appName...)
		h = append(h, ": "...)
	} else {
		h = append(h, "1 "...)
		h = t.UTC().AppendFormat(h, "2006-01-02T15:04:05.000000Z07:00")
		h = append(h, ' ')
		h = append(h, c.hostname...)
		h = append(h, ' ')
		h = append(h, c.appName...)
		h = append(h, " - "...) // PROCID
		if c.msgID == "" {
			h = append(h, '-')
		} else {
			h = append(h, c.msgID...)
		}
		h = append(h, ' ')
		if c.sd == "" {
			h = append(h, '-')
		} else {
			h = append(h, c.sd...)
		}
		h = append(h, ' ')
	}
	size := len(h) + len(msg)
	if c.maxSize > 0 && size > c.maxSize {
		if !c.truncate {
			return buf, Permanent(fmt.Errorf("syslog sink: the record at partition %d offset %d makes a message of %d bytes, more than the limit of %d (%s); set oversize to \"truncate\" to cut such records",
				r.Partition, r.Offset, size, c.maxSize, limitName(c)))
		}
		msg = truncateUTF8(msg, c.maxSize-len(h))
		size = len(h) + len(msg)
		s.log.Warn("syslog message truncated", "partition", r.Partition, "offset", r.Offset, "limit", c.maxSize)
	}
	if c.transport != "udp" {
		buf = strconv.AppendInt(buf, int64(size), 10)
		buf = append(buf, ' ')
	}
	buf = append(buf, h...)
	return append(buf, msg...), nil
}

func limitName(c *syslogConfig) string {
	if c.transport == "udp" && c.maxSize == maxUDPMessage {
		return "one UDP datagram"
	}
	return "maxMessageSize"
}

// truncateUTF8 cuts b to at most n bytes, not inside a UTF-8 sequence.
func truncateUTF8(b []byte, n int) []byte {
	if n <= 0 {
		return b[:0]
	}
	if len(b) <= n || utf8.RuneStart(b[n]) {
		return b[:min(n, len(b))]
	}
	// b[n] continues a sequence: cut before the sequence's first byte.
	i := n
	for i > 0 && n-i < utf8.UTFMax && !utf8.RuneStart(b[i]) {
		i--
	}
	return b[:i]
}

// Close closes the connection. Everything acknowledged was written.
func (s *syslogSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.buf = nil
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	if err != nil {
		return fmt.Errorf("syslog sink: close: %w", err)
	}
	return nil
}

// severityOf finds the top-level key field in the JSON object rec (one
// NDJSON record) and reads its value as a severity: a number from 0 to 7
// or a name ("warning", "err", or the digits as a string). It scans the
// bytes without decoding the record. ok is false when the key is absent,
// the value is not a severity, or rec is not a JSON object.
func severityOf(rec []byte, field string) (sev int, ok bool) {
	i := skipSpace(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return 0, false
	}
	i++
	for {
		i = skipSpace(rec, i)
		if i >= len(rec) || rec[i] != '"' {
			return 0, false
		}
		kEnd := skipString(rec, i)
		if kEnd < 0 {
			return 0, false
		}
		key := rec[i+1 : kEnd-1]
		i = skipSpace(rec, kEnd)
		if i >= len(rec) || rec[i] != ':' {
			return 0, false
		}
		i = skipSpace(rec, i+1)
		vEnd := skipValue(rec, i)
		if vEnd < 0 {
			return 0, false
		}
		if keyEquals(key, field) {
			return severityValue(rec[i:vEnd])
		}
		i = skipSpace(rec, vEnd)
		if i >= len(rec) || rec[i] != ',' {
			return 0, false
		}
		i++
	}
}

// keyEquals compares a raw JSON key (without quotes) with name.
func keyEquals(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == name
	}
	var k string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &k); err != nil {
		return false
	}
	return k == name
}

// severityValue reads a raw JSON value as a severity.
func severityValue(v []byte) (int, bool) {
	if len(v) > 0 && v[0] == '"' {
		var str string
		if err := json.Unmarshal(v, &str); err != nil {
			return 0, false
		}
		str = strings.TrimSpace(str)
		if n, ok := syslogSeverities[strings.ToLower(str)]; ok {
			return n, true
		}
		v = []byte(str)
	}
	n, err := strconv.ParseFloat(string(v), 64)
	if err != nil || n != float64(int(n)) || n < 0 || n > 7 {
		return 0, false
	}
	return int(n), true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the JSON string starting at b[i]
// (a '"'), or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the JSON value starting at b[i], or
// -1. It checks nesting and strings, not the value's grammar.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	// A number, true, false or null.
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

func init() {
	RegisterType(Type{Name: "https", Open: openHTTPS, Validate: validateHTTPS, Probe: probeHTTPS})
	RegisterSecrets("https", "authToken", "clientKeyPEM")
}

const (
	// httpsMaxRetryAfter caps the wait a receiver can ask for with
	// Retry-After.
	httpsMaxRetryAfter = 5 * time.Minute
	// httpsMaxResponse bounds how much of a response body the sink reads
	// (to reuse the connection, and for the error message).
	httpsMaxResponse = 64 << 10
	// httpsMaxExcerpt bounds the excerpt of a refusal's body in errors.
	httpsMaxExcerpt = 256
	// httpsMaxBuffer is the largest body buffer kept between writes.
	httpsMaxBuffer = 16 << 20
	// httpsUserAgent is the default User-Agent.
	httpsUserAgent = "sluice-https-sink"
)

// httpsReserved are headers the sink sets itself (or the transport does),
// which the headers setting may not give.
var httpsReserved = []string{
	"Authorization", "Connection", "Content-Encoding", "Content-Length", "Content-Type", "Host",
	"Idempotency-Key", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade",
}

// httpsConfig is the https sink's settings, checked.
type httpsConfig struct {
	url     *url.URL
	where   string // the URL without its query, for messages and logs
	method  string
	header  http.Header // custom headers and the auth header
	gzip    bool
	timeout time.Duration
	// maxRecords and maxBytes bound one request; 0: no bound.
	maxRecords, maxBytes int
	maxRetry             time.Duration
	backoff              Retry // Initial and Max only
	tls                  *tls.Config
}

// parseHTTPS checks the settings. It connects nowhere and reads no files.
func parseHTTPS(spec Spec, env Env) (httpsConfig, error) {
	s := NewSettings(spec)
	c := httpsConfig{
		method:     strings.ToUpper(s.String("method", false, http.MethodPost)),
		gzip:       s.Bool("gzip", false),
		timeout:    s.Duration("timeout", 30*time.Second),
		maxRecords: httpsInt(s, "maxBatchRecords"),
		maxBytes:   httpsInt(s, "maxBatchBytes"),
		maxRetry:   s.Duration("maxRetryDuration", 10*time.Minute),
		header:     http.Header{},
	}
	c.backoff.Initial = s.Duration("retryBackoff", DefaultRetryInitial)
	c.backoff.Max = s.Duration("retryBackoffMax", DefaultRetryMax)
	if c.backoff.Max < c.backoff.Initial {
		if spec.Settings["retryBackoff"] != nil {
			s.Fail("retryBackoffMax", "must not be less than retryBackoff")
		} else {
			c.backoff.Initial = c.backoff.Max
		}
	}
	if c.method != http.MethodPost && c.method != http.MethodPut {
		s.Fail("method", "must be POST or PUT")
	}
	insecure := s.Bool("allowInsecure", false)

	raw := s.String("url", true, "")
	var host string
	secure := true
	if raw != "" {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			// url.Error quotes the URL, which may hold a token in its
			// query: give only the reason.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			s.Fail("url", "not a URL: "+err.Error())
		case u.Scheme != "https" && u.Scheme != "http":
			s.Fail("url", fmt.Sprintf("the scheme must be https (or http with allowInsecure), not %q", u.Scheme))
		case u.Scheme == "http" && !insecure:
			s.Fail("url", "http sends the data in clear text: use https, or set allowInsecure to true (development only)")
		case u.Host == "" || u.Hostname() == "":
			s.Fail("url", "the host is missing")
		case u.User != nil:
			s.Fail("url", "must not hold a user name or password: give credentials with authToken, which is kept secret")
		case u.Fragment != "":
			s.Fail("url", "must not have a fragment (#...)")
		default:
			host = u.Hostname()
			if p := u.Port(); p != "" {
				if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
					s.Fail("url", fmt.Sprintf("%q is not a port number", p))
				}
			}
			// An address given as an IP is checked now; a name is checked
			// on every connection, once resolved (Dialer).
			if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
				if why := Forbidden(env, ip); why != "" {
					s.Fail("url", fmt.Sprintf("%s is %s, which sinks may not reach (the operator can allow private destinations with --allow-private-sinks)", host, why))
				}
			}
			c.url = u
			secure = u.Scheme == "https"
			w := *u
			w.RawQuery, w.ForceQuery = "", false
			c.where = w.String()
		}
	}

	if v, ok := s.get("headers"); ok {
		httpsHeaders(s, v, c.header)
	}
	if c.header.Get("User-Agent") == "" {
		c.header.Set("User-Agent", httpsUserAgent)
	}

	authHeader := s.String("authHeader", false, "Authorization")
	defScheme := ""
	if strings.EqualFold(authHeader, "Authorization") {
		defScheme = "Bearer"
	}
	authScheme := s.String("authScheme", false, defScheme)
	token := s.String("authToken", false, "")
	switch {
	case !httpsToken(authHeader):
		s.Fail("authHeader", fmt.Sprintf("%q is not a header name", authHeader))
	case !strings.EqualFold(authHeader, "Authorization") && httpsIsReserved(authHeader):
		s.Fail("authHeader", fmt.Sprintf("%q is set by the sink", authHeader))
	case c.header.Get(authHeader) != "":
		s.Fail("headers", fmt.Sprintf("%q is the authHeader: give its value with authToken", http.CanonicalHeaderKey(authHeader)))
	}
	if authScheme != "" && !httpsToken(authScheme) {
		s.Fail("authScheme", fmt.Sprintf("%q is not an authentication scheme such as Bearer", authScheme))
	}
	if token != "" {
		switch {
		case !secure:
			s.Fail("authToken", "only with an https url: the token would cross the network in clear text")
		case !httpsValue(token) || strings.TrimSpace(token) != token:
			// Never quote the token.
			s.Fail("authToken", "must be printable text without leading or trailing spaces")
		default:
			v := token
			if authScheme != "" {
				v = authScheme + " " + token
			}
			c.header.Set(authHeader, v)
		}
	}

	var ca, certPEM, keyPEM string
	for _, f := range []struct {
		name string
		to   *string
	}{{"caPEM", &ca}, {"clientCertPEM", &certPEM}, {"clientKeyPEM", &keyPEM}} {
		*f.to = s.String(f.name, false, "")
		if *f.to != "" && !secure {
			s.Fail(f.name, "only with an https url")
		}
	}
	if secure {
		c.tls = s.TLS("", ca, certPEM, keyPEM)
	}
	return c, s.Err()
}

// httpsHeaders reads the headers setting, an object of names to string
// values, into h.
func httpsHeaders(s *Settings, v any, h http.Header) {
	m, ok := v.(map[string]any)
	if !ok {
		ms, isMS := v.(map[string]string)
		if !isMS {
			s.Fail("headers", "must be an object of header names to strings")
			return
		}
		m = make(map[string]any, len(ms))
		for k, v := range ms {
			m[k] = v
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		val, isStr := m[k].(string)
		switch {
		case !httpsToken(k):
			s.Fail("headers", fmt.Sprintf("%q is not a header name", k))
		case httpsIsReserved(k):
			if strings.EqualFold(k, "Authorization") {
				s.Fail("headers", `"Authorization" is set by authToken, which is kept secret`)
			} else {
				s.Fail("headers", fmt.Sprintf("%q is set by the sink", http.CanonicalHeaderKey(k)))
			}
		case !isStr:
			s.Fail("headers", fmt.Sprintf("the value of %q must be a string", k))
		case !httpsValue(val):
			s.Fail("headers", fmt.Sprintf("the value of %q must be printable text (no control characters)", k))
		case h.Get(k) != "":
			s.Fail("headers", fmt.Sprintf("%q is given twice", http.CanonicalHeaderKey(k)))
		default:
			h.Set(k, val)
		}
	}
}

func httpsIsReserved(name string) bool {
	return slices.ContainsFunc(httpsReserved, func(r string) bool { return strings.EqualFold(r, name) })
}

// httpsToken reports whether v is an HTTP token (RFC 9110 section 5.6.2):
// what header names and authentication schemes are.
func httpsToken(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// httpsValue reports whether v can be a header value: no control
// characters but tab.
func httpsValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// httpsInt reads a non-negative whole number; 0 if absent.
func httpsInt(s *Settings, field string) int {
	v, ok := s.get(field)
	if !ok {
		return 0
	}
	var n int64
	bad := false
	switch x := v.(type) {
	case json.Number:
		i, err := x.Int64()
		n, bad = i, err != nil
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		n, bad = int64(x), x != math.Trunc(x) || math.Abs(x) > 1<<53
	default:
		bad = true
	}
	if bad || n < 0 || n > math.MaxInt32 {
		s.Fail(field, "must be a whole number from 0 (no limit) to 2147483647")
		return 0
	}
	return int(n)
}

func validateHTTPS(spec Spec, env Env) error {
	_, err := parseHTTPS(spec, env)
	return err
}

func openHTTPS(_ context.Context, spec Spec, env Env) (Sink, error) {
	c, err := parseHTTPS(spec, env)
	if err != nil {
		return nil, err
	}
	s := newHTTPSSink(c, env)
	s.log.Debug("https sink opened", "gzip", c.gzip, "maxRetryDuration", c.maxRetry)
	return s, nil
}

// probeHTTPS checks that the receiver can be reached: it connects (through
// the destination checks) and, for https, completes the TLS handshake
// (with the client certificate), then hangs up. It sends no request, so
// it leaves nothing behind.
func probeHTTPS(ctx context.Context, spec Spec, env Env) error {
	c, err := parseHTTPS(spec, env)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	port := c.url.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[c.url.Scheme]
	}
	addr := net.JoinHostPort(c.url.Hostname(), port)
	conn, err := Dialer(env, c.timeout).DialContext(ctx, "tcp", addr)
	if err != nil {
		if IsPermanent(err) {
			return fmt.Errorf("https sink: %w", err)
		}
		return fmt.Errorf("https sink: connect to %s: %w", c.where, err)
	}
	defer conn.Close()
	if c.tls == nil {
		return nil
	}
	cfg := c.tls.Clone()
	cfg.ServerName = c.url.Hostname()
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("https sink: TLS handshake with %s: %w", c.where, err)
	}
	return tc.Close()
}

// httpsSink is the "https" sink: it sends each batch (or, past
// maxBatchRecords or maxBatchBytes, each part of it) as the body of one
// request, the records' bytes as they are, and acknowledges once the
// receiver answered 2xx. It retries a request itself, with the same
// Idempotency-Key, while the receiver is unavailable (connection errors,
// timeouts, 408, 429, 5xx), for up to maxRetryDuration; it honours
// Retry-After. One request is in flight at a time, so a slow receiver
// slows the job down (backpressure) and the sink holds at most one
// batch's body. At-least-once; exactly-once at a receiver that drops
// requests whose Idempotency-Key it has seen.
//
// Safe for concurrent use (writes are serialised).
type httpsSink struct {
	cfg    httpsConfig
	log    *slog.Logger
	client *http.Client
	tr     *http.Transport
	closed atomic.Bool
	// closing is closed by Close: retry waits end at once.
	closing chan struct{}
	// life ends when Close gives up waiting for a Write: requests in
	// flight are cut.
	life   context.Context
	cancel context.CancelFunc

	mu   sync.Mutex // held by Write and Close
	buf  []byte     // the uncompressed body
	zbuf bytes.Buffer
	zw   *gzip.Writer
	// gen counts the request bodies still open on buf and zbuf: a body
	// the transport has not closed yet may still be read, so the buffers
	// are replaced, not reused, while any is.
	gen *httpsGen
}

type httpsGen struct{ open atomic.Int32 }

var _ Sink = (*httpsSink)(nil)

func newHTTPSSink(c httpsConfig, env Env) *httpsSink {
	s := &httpsSink{
		cfg:     c,
		log:     env.logger().With("sink", "https", "url", c.where),
		closing: make(chan struct{}),
		gen:     &httpsGen{},
	}
	s.tr = &http.Transport{
		// No proxy: the destination check must see the receiver's
		// address, not a proxy's.
		Proxy:               nil,
		DialContext:         Dialer(env, c.timeout).DialContext,
		TLSClientConfig:     c.tls,
		TLSHandshakeTimeout: c.timeout,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        2,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	s.client = &http.Client{
		Transport: s.tr,
		// Redirects are not followed: a receiver that moved is a
		// configuration to fix, and the body would be sent elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.life, s.cancel = context.WithCancel(context.Background())
	return s
}

// Write sends the batch, in one request or, past maxBatchRecords or
// maxBatchBytes, in several, one after the other; it returns when the
// receiver accepted all of them. Each request is retried as
// httpsSink.deliver says. If a later request fails after earlier ones
// were accepted, the error is a *BatchError naming the records not
// delivered (retrying the whole batch is safe: the accepted requests go
// again with the same Idempotency-Keys).
func (s *httpsSink) Write(ctx context.Context, b *Batch) error {
	if s.closed.Load() {
		return fmt.Errorf("https sink: %w", ErrClosed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return fmt.Errorf("https sink: %w", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n := len(b.Records)
	if n == 0 {
		return nil
	}
	defer s.trim()
	for from := 0; from < n; {
		to, size := from, 0
		for to < n {
			l := len(b.Records[to].Value)
			if to > from && ((s.cfg.maxRecords > 0 && to-from >= s.cfg.maxRecords) ||
				(s.cfg.maxBytes > 0 && size+l > s.cfg.maxBytes)) {
				break
			}
			size += l
			to++
		}
		key := b.ID
		if from > 0 || to < n {
			// A part of the batch: its key names exactly which records it
			// holds, so that another split of the same batch (after a
			// change of the limits) cannot be taken for this one.
			key = fmt.Sprintf("%s#%d-%d", b.ID, from, to-1)
		}
		if err := s.deliver(ctx, b.ContentType, b.Records[from:to], key); err != nil {
			if from == 0 {
				return err
			}
			failed := make([]int, 0, n-from)
			for i := from; i < n; i++ {
				failed = append(failed, i)
			}
			return &BatchError{Failed: failed, Err: err}
		}
		from = to
	}
	return nil
}

// trim drops body buffers that grew too large to keep.
func (s *httpsSink) trim() {
	if cap(s.buf) > httpsMaxBuffer {
		s.buf = nil
	}
	if s.zbuf.Cap() > httpsMaxBuffer {
		s.zbuf = bytes.Buffer{}
		s.zw = nil
	}
}

// body builds the request body of recs in the sink's buffers.
func (s *httpsSink) body(recs []Record) ([]byte, error) {
	if s.gen.open.Load() != 0 {
		// The transport may still read an earlier body: leave those
		// buffers to it.
		s.buf, s.zbuf, s.zw, s.gen = nil, bytes.Buffer{}, nil, &httpsGen{}
	}
	if !s.cfg.gzip {
		s.buf = s.buf[:0]
		for i := range recs {
			s.buf = append(s.buf, recs[i].Value...)
		}
		return s.buf, nil
	}
	s.zbuf.Reset()
	if s.zw == nil {
		s.zw = gzip.NewWriter(&s.zbuf)
	} else {
		s.zw.Reset(&s.zbuf)
	}
	for i := range recs {
		if _, err := s.zw.Write(recs[i].Value); err != nil {
			return nil, err
		}
	}
	if err := s.zw.Close(); err != nil {
		return nil, err
	}
	return s.zbuf.Bytes(), nil
}

// httpsBody is a request body over the sink's buffer that reports when the
// transport is done with it.
type httpsBody struct {
	*bytes.Reader
	gen  *httpsGen
	once sync.Once
}

func (b *httpsBody) Close() error {
	b.once.Do(func() { b.gen.open.Add(-1) })
	return nil
}

// deliver sends one request and retries it until the receiver accepts it
// (2xx), refuses it for good (another 4xx, a redirect: Permanent), ctx
// ends, the sink is closed, or maxRetryDuration has passed since the first
// attempt. Between attempts it waits as Retry-After says (on 429 and 503,
// at most 5 minutes) or else for an exponential backoff with full jitter.
// Waits never go past maxRetryDuration: when it has passed, deliver
// returns the last error, not permanent, and the batch's offsets stay
// uncommitted.
func (s *httpsSink) deliver(ctx context.Context, contentType string, recs []Record, key string) error {
	body, err := s.body(recs)
	if err != nil {
		return fmt.Errorf("https sink: compress batch %s: %w", key, err)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	start := time.Now()
	deadline := start.Add(s.cfg.maxRetry)
	for attempt := 1; ; attempt++ {
		retryAfter, err := s.attempt(ctx, contentType, key, body)
		if err == nil {
			if attempt > 1 {
				s.log.Info("https receiver accepted the batch after retries", "batch", key, "attempts", attempt)
			}
			return nil
		}
		switch {
		case errors.Is(err, ctx.Err()):
			return fmt.Errorf("https sink: batch %s: %w", key, err)
		case ctx.Err() != nil:
			return fmt.Errorf("https sink: batch %s: %w (last error: %w)", key, ctx.Err(), err)
		case s.closed.Load():
			return fmt.Errorf("https sink: batch %s not delivered: %w (last error: %v)", key, ErrClosed, err)
		case IsPermanent(err):
			return fmt.Errorf("https sink: batch %s: %w", key, err)
		}
		wait := retryAfter
		if wait <= 0 {
			wait = time.Duration(rand.Int64N(int64(s.cfg.backoff.Backoff(attempt)) + 1))
		}
		remaining := time.Until(deadline)
		giveUp := func() error {
			// Permanent: the job stops retrying and is marked failed with
			// this reason, keeping its offsets; its runner starts it again
			// later with backoff.
			return Permanent(fmt.Errorf("https sink: batch %s: the receiver did not accept it within maxRetryDuration %v (%d attempts; the job keeps its offsets): %w",
				key, s.cfg.maxRetry, attempt, err))
		}
		if remaining <= 0 {
			return giveUp()
		}
		s.log.Warn("https request failed; retrying", "batch", key, "attempt", attempt, "wait", wait.Round(time.Millisecond), "error", err.Error())
		if serr := s.sleep(ctx, min(wait, remaining)); serr != nil {
			if errors.Is(serr, ErrClosed) {
				return fmt.Errorf("https sink: batch %s not delivered: %w (last error: %v)", key, ErrClosed, err)
			}
			return fmt.Errorf("https sink: batch %s: %w (last error: %w)", key, serr, err)
		}
		if wait >= remaining {
			return giveUp()
		}
	}
}

// sleep waits d, or until ctx ends (its error) or the sink is closed
// (ErrClosed).
func (s *httpsSink) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return ErrClosed
	case <-t.C:
		return nil
	}
}

// attempt sends one request. It returns nil on 2xx; otherwise the error
// (Permanent when retrying cannot help) and, on 429 and 503, the wait the
// receiver asked for with Retry-After (0 if none).
func (s *httpsSink) attempt(ctx context.Context, contentType, key string, body []byte) (time.Duration, error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	stop := context.AfterFunc(s.life, cancel)
	defer stop()

	req, err := http.NewRequestWithContext(rctx, s.cfg.method, s.cfg.url.String(), nil)
	if err != nil {
		return 0, Permanent(fmt.Errorf("%s %s: %w", s.cfg.method, s.cfg.where, err))
	}
	s.gen.open.Add(1)
	req.Body = &httpsBody{Reader: bytes.NewReader(body), gen: s.gen}
	req.ContentLength = int64(len(body))
	// GetBody stays nil: the transport does not resend on its own, the
	// sink does.
	for k, v := range s.cfg.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	if s.cfg.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", httpsKey(key))
	}

	resp, err := s.client.Do(req)
	if err != nil {
		// Do closes the body on errors (possibly later, in the
		// transport).
		switch {
		case ctx.Err() != nil:
			return 0, ctx.Err()
		case s.life.Err() != nil:
			return 0, ErrClosed
		case rctx.Err() != nil:
			return 0, fmt.Errorf("%s %s: no response within %v (timeout)", s.cfg.method, s.cfg.where, s.cfg.timeout)
		case IsPermanent(err):
			// The destination check refused the address.
			return 0, httpsUnwrap(err)
		}
		var cve *tls.CertificateVerificationError
		if errors.As(err, &cve) {
			return 0, Permanent(fmt.Errorf("%s %s: the receiver's certificate is not trusted (set caPEM to the CA that issued it): %w", s.cfg.method, s.cfg.where, cve))
		}
		return 0, fmt.Errorf("%s %s: %w", s.cfg.method, s.cfg.where, httpsUnwrap(err))
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, httpsMaxResponse))
	resp.Body.Close()
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return 0, nil
	}
	what := fmt.Sprintf("%s %s: %s", s.cfg.method, s.cfg.where, httpsStatus(resp))
	if ex := httpsExcerpt(msg); ex != "" {
		what += ": " + ex
	}
	switch {
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		return httpsRetryAfter(resp.Header.Get("Retry-After"), time.Now()), errors.New(what)
	case code == http.StatusRequestTimeout, code >= 500:
		return 0, errors.New(what)
	case code >= 300 && code < 400:
		loc := ""
		if l, err := resp.Location(); err == nil {
			l.RawQuery = ""
			loc = " to " + l.String()
		}
		return 0, Permanent(fmt.Errorf("%s: the receiver redirects%s, and the sink follows no redirects: set url to the final address", what, loc))
	case code == http.StatusRequestEntityTooLarge:
		return 0, Permanent(fmt.Errorf("%s (lower maxBatchBytes or maxBatchRecords below the receiver's limit)", what))
	case code >= 400:
		return 0, Permanent(errors.New(what))
	}
	return 0, errors.New(what)
}

// httpsStatus is "503 Service Unavailable".
func httpsStatus(resp *http.Response) string {
	if resp.Status != "" {
		return resp.Status
	}
	return strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
}

// httpsUnwrap drops the *url.Error layer, which repeats the URL with its
// query (that may hold a token).
func httpsUnwrap(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// httpsExcerpt is the start of a response body for an error message: at
// most httpsMaxExcerpt bytes, cut at a character boundary, with control
// characters turned into spaces.
func httpsExcerpt(b []byte) string {
	b = bytes.TrimSpace(b)
	cut := len(b) > httpsMaxExcerpt
	if cut {
		n := httpsMaxExcerpt
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		b = b[:n]
	}
	out := []rune(string(b))
	for i, r := range out {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			out[i] = ' '
		}
	}
	s := string(out)
	if cut {
		s += "…"
	}
	return s
}

// httpsRetryAfter reads a Retry-After value, delta-seconds or an HTTP
// date (RFC 9110 section 10.2.3), as a wait from now, at most
// httpsMaxRetryAfter; 0 if absent, unreadable or past.
func httpsRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseUint(v, 10, 63); err == nil {
		if n > uint64(httpsMaxRetryAfter/time.Second) {
			return httpsMaxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), httpsMaxRetryAfter)
}

// httpsKey makes an Idempotency-Key header value of a batch key: bytes
// outside printable ASCII, and '%', are percent-encoded (so the value is
// the key itself for the IDs the runtime makes).
func httpsKey(key string) string {
	clean := true
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= 0x20 || c >= 0x7f || c == '%' {
			clean = false
			break
		}
	}
	if clean {
		return key
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= 0x20 || c >= 0x7f || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Close ends retry waits at once, waits for a request in flight to be
// answered (until ctx ends, when it is cut) and closes the idle
// connections. A Write that was waiting to retry returns an error wrapping
// ErrClosed; its batch stays unacknowledged.
func (s *httpsSink) Close(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.closing)
	stop := context.AfterFunc(ctx, s.cancel)
	s.mu.Lock()
	defer s.mu.Unlock()
	stop()
	s.cancel()
	s.tr.CloseIdleConnections()
	s.buf, s.zbuf, s.zw = nil, bytes.Buffer{}, nil
	s.log.Debug("https sink closed")
	return nil
}

package sink_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sink/sinktest"
)

// httpsDownFor is how long the receiver is down in TestHTTPSReceiverDown
// (the scenario is 30 s; the behaviour does not depend on it).
const httpsDownFor = 2 * time.Second

// httpsRequest is what the test receiver saw of one request.
type httpsRequest struct {
	method string
	header http.Header
	body   []byte // decompressed
}

// httpsReceiver is an HTTPS receiver that records every request and
// keeps the bodies of the accepted ones by Idempotency-Key, as a receiver
// that deduplicates does. respond, if set, decides the answer to request
// n (0-based); nil, or a status of 0, accepts.
type httpsReceiver struct {
	respond func(n int, w http.ResponseWriter, r *http.Request) int

	mu       sync.Mutex
	requests []httpsRequest
	keys     []string          // the accepted keys, in order, first time each
	accepted map[string][]byte // key → body
	dups     int               // accepted requests with a key seen before
}

func (h *httpsReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			http.Error(w, "bad gzip: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	h.mu.Lock()
	n := len(h.requests)
	h.requests = append(h.requests, httpsRequest{method: r.Method, header: r.Header.Clone(), body: body})
	h.mu.Unlock()
	status := 0
	if h.respond != nil {
		status = h.respond(n, w, r)
	}
	if status < 0 {
		return // respond answered
	}
	if status != 0 && (status < 200 || status > 299) {
		w.WriteHeader(status)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	h.mu.Lock()
	if h.accepted == nil {
		h.accepted = map[string][]byte{}
	}
	if _, seen := h.accepted[key]; seen {
		h.dups++
	} else {
		h.accepted[key] = body
		h.keys = append(h.keys, key)
	}
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// records returns the records accepted, by key in the order first seen.
func (h *httpsReceiver) records() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out [][]byte
	for _, k := range h.keys {
		out = append(out, sinktest.SplitLines(h.accepted[k])...)
	}
	return out
}

// acceptedKeys returns the keys accepted, in order, and how many
// accepted requests repeated a key.
func (h *httpsReceiver) acceptedKeys() ([]string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.keys), h.dups
}

func (h *httpsReceiver) seen() []httpsRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.requests)
}

// httpsServer starts an HTTPS test server and returns it with the PEM of
// its certificate, the CA to trust.
func httpsServer(t *testing.T, h http.Handler) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, httpsCertPEM(srv)
}

func httpsCertPEM(srv *httptest.Server) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}

func httpsSpec(url, ca string, kv ...any) sink.Spec {
	m := map[string]any{"url": url}
	if ca != "" {
		m["caPEM"] = ca
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return sink.Spec{Type: "https", Settings: m}
}

var httpsLocal = sink.Env{AllowPrivate: true}

func httpsOpen(t *testing.T, spec sink.Spec) sink.Sink {
	t.Helper()
	s, err := sink.Open(context.Background(), spec, httpsLocal)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// httpsBatch makes a batch of n NDJSON records of partition 0 from offset
// first, each pad bytes long or more.
func httpsBatch(job string, first int64, n, pad int) *sink.Batch {
	b := &sink.Batch{ID: fmt.Sprintf("%s/0/%d", job, first), ContentType: "application/x-ndjson",
		Offsets: map[int32]int64{0: first + int64(n)}}
	for i := range n {
		v := fmt.Appendf(nil, "{\"offset\":%d,\"pad\":%q}\n", first+int64(i), strings.Repeat("x", pad))
		b.Records = append(b.Records, sink.Record{Value: v, Partition: 0, Offset: first + int64(i)})
	}
	return b
}

func TestHTTPSContract(t *testing.T) {
	t.Parallel()
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			var rcv *httpsReceiver
			sinktest.Run(t, func() sink.Sink {
				rcv = &httpsReceiver{}
				srv, ca := httpsServer(t, rcv)
				return httpsOpen(t, httpsSpec(srv.URL+"/ingest", ca, "gzip", gz))
			}, func() [][]byte { return rcv.records() })
		})
	}
}

func TestHTTPSRequest(t *testing.T) {
	t.Parallel()
	rcv := &httpsReceiver{}
	srv, ca := httpsServer(t, rcv)
	cases := []struct {
		name     string
		settings []any
		header   string // the header that carries the token
		want     string
	}{
		{"bearer", nil, "Authorization", "Bearer s3cret-t0ken"},
		{"api key", []any{"authHeader", "X-Api-Key"}, "X-Api-Key", "s3cret-t0ken"},
		{"scheme", []any{"authScheme", "Splunk"}, "Authorization", "Splunk s3cret-t0ken"},
	}
	for i, c := range cases {
		settings := append([]any{"method", "PUT", "gzip", true, "authToken", "s3cret-t0ken",
			"headers", map[string]any{"X-Tenant": "acme", "user-agent": "acme-pipeline/1"}}, c.settings...)
		s := httpsOpen(t, httpsSpec(srv.URL+"/in?src=sluice", ca, settings...))
		b := httpsBatch("job é", int64(i*10), 3, 5)
		b.ContentType = "application/x-ndjson; charset=utf-8"
		if err := s.Write(context.Background(), b); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		reqs := rcv.seen()
		if len(reqs) != i+1 {
			t.Fatalf("%s: %d requests", c.name, len(reqs))
		}
		r := reqs[i]
		for k, want := range map[string]string{
			c.header:           c.want,
			"X-Tenant":         "acme",
			"User-Agent":       "acme-pipeline/1",
			"Content-Type":     "application/x-ndjson; charset=utf-8",
			"Content-Encoding": "gzip",
			"Idempotency-Key":  fmt.Sprintf("job%%20%%C3%%A9/0/%d", i*10),
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s: %s: %q, want %q", c.name, k, got, want)
			}
		}
		if c.header != "Authorization" && r.header.Get("Authorization") != "" {
			t.Errorf("%s: Authorization sent too", c.name)
		}
		var want []byte
		for _, rec := range b.Records {
			want = append(want, rec.Value...)
		}
		if r.method != http.MethodPut || !bytes.Equal(r.body, want) {
			t.Errorf("%s: %s with body %q, want PUT with %q", c.name, r.method, r.body, want)
		}
	}
}

// TestHTTPSSplit: a batch past maxBatchRecords or maxBatchBytes goes in
// several requests, each with its own key.
func TestHTTPSSplit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		setting string
		value   any
		keys    []string
	}{
		{"maxBatchRecords", 3, []string{"j/0/0#0-2", "j/0/0#3-5", "j/0/0#6-6"}},
		// Records are 22 bytes: 2 fit in 50, and one bigger than the
		// limit goes alone.
		{"maxBatchBytes", 50, []string{"j/0/0#0-1", "j/0/0#2-3", "j/0/0#4-5", "j/0/0#6-6"}},
		{"maxBatchBytes", 10, []string{"j/0/0#0-0", "j/0/0#1-1", "j/0/0#2-2", "j/0/0#3-3", "j/0/0#4-4", "j/0/0#5-5", "j/0/0#6-6"}},
		{"maxBatchRecords", 7, []string{"j/0/0"}},
	} {
		rcv := &httpsReceiver{}
		srv, ca := httpsServer(t, rcv)
		s := httpsOpen(t, httpsSpec(srv.URL, ca, c.setting, c.value))
		b := httpsBatch("j", 0, 7, 0)
		if err := s.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if keys, _ := rcv.acceptedKeys(); !slices.Equal(keys, c.keys) {
			t.Errorf("%s %v: keys %q, want %q", c.setting, c.value, keys, c.keys)
		}
		if got := rcv.records(); len(got) != 7 {
			t.Errorf("%s %v: %d records", c.setting, c.value, len(got))
		}
	}

	// A part that fails after others were accepted: a BatchError naming
	// the records not delivered.
	rcv := &httpsReceiver{respond: func(n int, _ http.ResponseWriter, _ *http.Request) int {
		if n == 1 {
			return http.StatusBadRequest
		}
		return 0
	}}
	srv, ca := httpsServer(t, rcv)
	s := httpsOpen(t, httpsSpec(srv.URL, ca, "maxBatchRecords", 3))
	err := s.Write(context.Background(), httpsBatch("j", 0, 7, 0))
	var be *sink.BatchError
	if !errors.As(err, &be) || !slices.Equal(be.Failed, []int{3, 4, 5, 6}) || !sink.IsPermanent(err) {
		t.Fatalf("part 2 refused: %v", err)
	}
}

// TestHTTPSRetry5xx: 500 twice then 200: one Write, three requests with the
// same Idempotency-Key, the records delivered once.
func TestHTTPSRetry5xx(t *testing.T) {
	t.Parallel()
	rcv := &httpsReceiver{respond: func(n int, _ http.ResponseWriter, _ *http.Request) int {
		if n < 2 {
			return http.StatusInternalServerError
		}
		return 0
	}}
	srv, ca := httpsServer(t, rcv)
	s := httpsOpen(t, httpsSpec(srv.URL, ca, "retryBackoff", "5ms", "retryBackoffMax", "20ms"))
	if err := s.Write(context.Background(), httpsBatch("j", 100, 5, 3)); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.seen()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if k := r.header.Get("Idempotency-Key"); k != "j/0/100" {
			t.Errorf("request %d: Idempotency-Key %q", i, k)
		}
		if !bytes.Equal(r.body, reqs[0].body) {
			t.Errorf("request %d: another body", i)
		}
	}
	if _, dups := rcv.acceptedKeys(); len(rcv.records()) != 5 || dups != 0 {
		t.Fatalf("%d records delivered (%d duplicates), want 5", len(rcv.records()), dups)
	}
}

// TestHTTPSRetryAfter: 429 and 503 with Retry-After, in seconds and as a
// date: the sink waits that long (not its short backoff).
func TestHTTPSRetryAfter(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		status int
		value  func() string
		min    time.Duration
	}{
		{"429 seconds", http.StatusTooManyRequests, func() string { return "1" }, 950 * time.Millisecond},
		// A date has whole seconds: 2 s ahead is more than 1 s ahead.
		{"503 date", http.StatusServiceUnavailable, func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var first, second atomic.Int64
			rcv := &httpsReceiver{respond: func(n int, w http.ResponseWriter, _ *http.Request) int {
				if n == 0 {
					first.Store(time.Now().UnixNano())
					w.Header().Set("Retry-After", c.value())
					return c.status
				}
				second.Store(time.Now().UnixNano())
				return 0
			}}
			srv, ca := httpsServer(t, rcv)
			s := httpsOpen(t, httpsSpec(srv.URL, ca, "retryBackoff", "1ms", "retryBackoffMax", "1ms"))
			if err := s.Write(context.Background(), httpsBatch("j", 0, 2, 0)); err != nil {
				t.Fatal(err)
			}
			if n := len(rcv.seen()); n != 2 {
				t.Fatalf("%d requests, want 2", n)
			}
			if d := time.Duration(second.Load() - first.Load()); d < c.min || d > c.min+2*time.Second {
				t.Fatalf("retried after %v, want about %v", d, c.min)
			}
		})
	}
}

// TestHTTPSReceiverDown: the receiver goes away for a while in the middle
// of a stream of batches and comes back on the same address: every record
// arrives, once (after deduplication by Idempotency-Key), in order.
func TestHTTPSReceiverDown(t *testing.T) {
	t.Parallel()
	rcv := &httpsReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	start := func(ln net.Listener) *httptest.Server {
		srv := httptest.NewUnstartedServer(rcv)
		srv.Listener.Close()
		srv.Listener = ln
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv
	}
	srv := start(ln)
	ca := httpsCertPEM(srv)
	s := httpsOpen(t, httpsSpec("https://"+addr+"/in", ca, "retryBackoff", "20ms", "retryBackoffMax", "250ms",
		"timeout", "2s", "maxRetryDuration", "1m"))

	const batches, per = 40, 25
	done := make(chan error, 1)
	var written atomic.Int32
	go func() {
		for i := range batches {
			if err := s.Write(context.Background(), httpsBatch("j", int64(i*per), per, 10)); err != nil {
				done <- fmt.Errorf("batch %d: %w", i, err)
				return
			}
			written.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
		done <- nil
	}()
	for written.Load() < 5 {
		time.Sleep(5 * time.Millisecond)
	}
	srv.Close()
	down := time.Now()
	time.Sleep(httpsDownFor)
	if n := written.Load(); n >= batches {
		t.Fatalf("all %d batches acknowledged while the receiver was down", n)
	}
	stuck := written.Load()
	var ln2 net.Listener
	for {
		if ln2, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if time.Since(down) > httpsDownFor+5*time.Second {
			t.Fatalf("listen again on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	start(ln2)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writes did not resume")
	}
	got := rcv.records()
	if len(got) != batches*per {
		t.Fatalf("%d records arrived, want %d", len(got), batches*per)
	}
	for i, r := range got {
		if want := fmt.Sprintf("{\"offset\":%d,", i); !bytes.HasPrefix(r, []byte(want)) {
			t.Fatalf("record %d is %q", i, r)
		}
	}
	_, dups := rcv.acceptedKeys()
	t.Logf("acknowledged %d batches before the outage, held batch %d for %v; %d duplicate requests", stuck, stuck, httpsDownFor, dups)
}

// TestHTTPSRefused: 4xx (but 408 and 429) and redirects are permanent,
// with the status and the start of the body in the message; nothing is
// retried.
func TestHTTPSRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status int
		body   string
		want   []string
	}{
		{http.StatusBadRequest, "field \"x\" is not a number\n", []string{"400 Bad Request", `field "x" is not a number`}},
		{http.StatusUnauthorized, "", []string{"401 Unauthorized"}},
		{http.StatusRequestEntityTooLarge, strings.Repeat("é", 1000), []string{"413", "maxBatchBytes", "é…"}},
		{http.StatusTemporaryRedirect, "", []string{"307", "redirects to https://elsewhere.example.com/x", "follows no redirects"}},
	} {
		rcv := &httpsReceiver{respond: func(_ int, w http.ResponseWriter, _ *http.Request) int {
			if c.status/100 == 3 {
				w.Header().Set("Location", "https://elsewhere.example.com/x?token=abc")
			}
			w.WriteHeader(c.status)
			_, _ = io.WriteString(w, c.body)
			return -1 // answered
		}}
		srv, ca := httpsServer(t, rcv)
		s := httpsOpen(t, httpsSpec(srv.URL+"/in?token=abc", ca, "authToken", "s3cret"))
		err := s.Write(context.Background(), httpsBatch("j", 0, 2, 0))
		if err == nil || !sink.IsPermanent(err) {
			t.Fatalf("%d: %v, want a permanent error", c.status, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%d: %q does not say %q", c.status, err, w)
			}
		}
		if strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%d: the error quotes a secret: %v", c.status, err)
		}
		if len(err.Error()) > 600 {
			t.Errorf("%d: error of %d bytes", c.status, len(err.Error()))
		}
		if n := len(rcv.seen()); n != 1 {
			t.Errorf("%d: %d requests, want 1", c.status, n)
		}
	}
}

// TestHTTPSMaxRetryDuration: a receiver that stays unavailable fails the
// write after maxRetryDuration with an error that is not permanent (the
// batch stays unacknowledged); a long Retry-After does not stretch it.
func TestHTTPSMaxRetryDuration(t *testing.T) {
	t.Parallel()
	for _, retryAfter := range []string{"", "120"} {
		rcv := &httpsReceiver{respond: func(_ int, w http.ResponseWriter, _ *http.Request) int {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			return http.StatusServiceUnavailable
		}}
		srv, ca := httpsServer(t, rcv)
		s := httpsOpen(t, httpsSpec(srv.URL, ca, "maxRetryDuration", "300ms", "retryBackoff", "10ms", "retryBackoffMax", "50ms"))
		start := time.Now()
		err := s.Write(context.Background(), httpsBatch("j", 0, 2, 0))
		took := time.Since(start)
		// Permanent: the job stops retrying and fails with this reason.
		if err == nil || !sink.IsPermanent(err) || !strings.Contains(err.Error(), "maxRetryDuration 300ms") || !strings.Contains(err.Error(), "503") {
			t.Fatalf("Retry-After %q: %v, want a permanent error naming maxRetryDuration and the status", retryAfter, err)
		}
		if took < 300*time.Millisecond || took > 2*time.Second {
			t.Fatalf("Retry-After %q: gave up after %v, want about 300ms", retryAfter, took)
		}
		if n := len(rcv.seen()); n < 1 || (retryAfter != "" && n != 1) {
			t.Fatalf("Retry-After %q: %d requests", retryAfter, n)
		}
	}
}

// TestHTTPSSlowReceiver: Write waits for the receiver (backpressure), one
// request at a time, and the sink does not pile batches up in memory.
func TestHTTPSSlowReceiver(t *testing.T) {
	var inFlight, most, answered atomic.Int32
	rcv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(200 * time.Millisecond)
		answered.Add(1)
		inFlight.Add(-1)
		w.WriteHeader(http.StatusOK)
	})
	srv, ca := httpsServer(t, rcv)
	s := httpsOpen(t, httpsSpec(srv.URL, ca))
	ctx := context.Background()

	const batches = 8
	b := httpsBatch("j", 0, 2048, 1000) // about 2 MiB
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	for i := range batches {
		start := time.Now()
		b.ID = fmt.Sprintf("j/0/%d", i*2048)
		if err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Fatalf("batch %d acknowledged after %v, before the receiver answered", i, d)
		}
		if n := answered.Load(); n != int32(i+1) {
			t.Fatalf("after batch %d: %d answered", i, n)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	if grew := int64(ms.HeapAlloc) - int64(before); grew > 6<<20 {
		t.Errorf("the heap grew by %d MiB over %d batches of 2 MiB", grew>>20, batches)
	}
	if most.Load() != 1 {
		t.Errorf("%d requests in flight at once", most.Load())
	}

	// A Write stops waiting when its context ends.
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Write(wctx, httpsBatch("j", 1<<20, 1, 0))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 150*time.Millisecond {
		t.Fatalf("Write with a 50ms context: %v after %v", err, time.Since(start))
	}
}

// TestHTTPSCloseDuringRetry: Close ends a Write that waits to retry.
func TestHTTPSCloseDuringRetry(t *testing.T) {
	t.Parallel()
	rcv := &httpsReceiver{respond: func(_ int, w http.ResponseWriter, _ *http.Request) int {
		w.Header().Set("Retry-After", "60")
		return http.StatusTooManyRequests
	}}
	srv, ca := httpsServer(t, rcv)
	s := httpsOpen(t, httpsSpec(srv.URL, ca))
	done := make(chan error, 1)
	go func() { done <- s.Write(context.Background(), httpsBatch("j", 0, 1, 0)) }()
	for len(rcv.seen()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, sink.ErrClosed) || !strings.Contains(err.Error(), "429") {
			t.Fatalf("Write: %v, want ErrClosed with the last error", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end the Write")
	}
}

// httpsTestCA makes a CA and a client certificate it signed, in PEM.
func httpsTestCA(t *testing.T) (caPEM, certPEM, keyPEM string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "sluice"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

func TestHTTPSClientCertificate(t *testing.T) {
	t.Parallel()
	clientCA, certPEM, keyPEM := httpsTestCA(t)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(clientCA))
	rcv := &httpsReceiver{}
	srv := httptest.NewUnstartedServer(rcv)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := httpsCertPEM(srv)

	s := httpsOpen(t, httpsSpec(srv.URL, ca, "clientCertPEM", certPEM, "clientKeyPEM", keyPEM))
	if err := s.Write(context.Background(), httpsBatch("j", 0, 3, 0)); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.records()); n != 3 {
		t.Fatalf("%d records", n)
	}
	if err := sink.Probe(context.Background(), httpsSpec(srv.URL, ca, "clientCertPEM", certPEM, "clientKeyPEM", keyPEM), httpsLocal); err != nil {
		t.Fatalf("Probe: %v", err)
	}

	// Without the certificate the receiver refuses the connection.
	s = httpsOpen(t, httpsSpec(srv.URL, ca, "maxRetryDuration", "200ms", "retryBackoffMax", "20ms"))
	err := s.Write(context.Background(), httpsBatch("j", 0, 3, 0))
	// With TLS 1.3 the refusal can reach the client as an alert or as a
	// broken connection: either way the write is retried until
	// maxRetryDuration, and then fails for good.
	if err == nil || !strings.Contains(err.Error(), "maxRetryDuration") {
		t.Fatalf("without a client certificate: %v", err)
	}
	if n := len(rcv.records()); n != 3 {
		t.Fatalf("%d records after a refused connection", n)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Fatal("the key is in the error")
	}
}

// TestHTTPSUntrustedServer: a certificate the sink does not trust fails at
// once, permanently, and the probe says so.
func TestHTTPSUntrustedServer(t *testing.T) {
	t.Parallel()
	rcv := &httpsReceiver{}
	srv, _ := httpsServer(t, rcv)
	other, _, _ := httpsTestCA(t)
	s := httpsOpen(t, httpsSpec(srv.URL, other))
	err := s.Write(context.Background(), httpsBatch("j", 0, 1, 0))
	if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "caPEM") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	if err := sink.Probe(context.Background(), httpsSpec(srv.URL, other), httpsLocal); err == nil {
		t.Fatal("Probe accepted an untrusted certificate")
	}
}

// TestHTTPSForbiddenDestination: without AllowPrivate a loopback receiver
// is refused: at once when the URL names the address, on connecting when
// it names a host that resolves to it. Both are permanent.
func TestHTTPSForbiddenDestination(t *testing.T) {
	t.Parallel()
	rcv := &httpsReceiver{}
	srv, ca := httpsServer(t, rcv)
	_, err := sink.Open(context.Background(), httpsSpec(srv.URL, ca), sink.Env{})
	ce := sink.ConfigErrors(err)
	if len(ce) != 1 || ce[0].Field != "url" || !strings.Contains(ce[0].Message, "loopback") || !sink.IsPermanent(err) {
		t.Fatalf("Open with a loopback URL: %v", err)
	}
	if err := sink.Validate(httpsSpec(srv.URL, ca), sink.Env{}); err == nil {
		t.Fatal("Validate accepted a loopback URL")
	}

	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	spec := httpsSpec("https://localhost:"+port, ca)
	s, err := sink.Open(context.Background(), spec, sink.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	start := time.Now()
	err = s.Write(context.Background(), httpsBatch("j", 0, 1, 0))
	if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), "--allow-private-sinks") {
		t.Fatalf("Write to localhost: %v", err)
	}
	if time.Since(start) > time.Second || len(rcv.seen()) != 0 {
		t.Fatalf("retried, or reached the receiver")
	}
	if err := sink.Probe(context.Background(), spec, sink.Env{}); !sink.IsPermanent(err) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Probe of localhost: %v", err)
	}
}

func TestHTTPSSettings(t *testing.T) {
	t.Parallel()
	_, certPEM, keyPEM := httpsTestCA(t)
	ok := "https://ingest.example.com/v1/events"
	for _, c := range []struct {
		spec   sink.Spec
		fields []string // the fields of the config errors, in order; nil: valid
	}{
		{httpsSpec(ok, ""), nil},
		{httpsSpec(ok, "", "method", "put", "gzip", true, "timeout", "5s", "maxBatchRecords", 500, "maxBatchBytes", 1<<20,
			"maxRetryDuration", "1h", "retryBackoff", "1s", "retryBackoffMax", "1m", "headers", map[string]string{"X-A": "b"},
			"authToken", "t", "authHeader", "X-Api-Key", "clientCertPEM", certPEM, "clientKeyPEM", keyPEM), nil},
		{httpsSpec("http://ingest.example.com", "", "allowInsecure", true), nil},
		{sink.Spec{Type: "https"}, []string{"url"}},
		{httpsSpec("", ""), []string{"url"}},
		{httpsSpec("ftp://ingest.example.com", ""), []string{"url"}},
		{httpsSpec("http://ingest.example.com", ""), []string{"url"}},
		{httpsSpec("https://user:pw@ingest.example.com", ""), []string{"url"}},
		{httpsSpec("https:///path", ""), []string{"url"}},
		{httpsSpec("https://ingest.example.com:99999", ""), []string{"url"}},
		{httpsSpec("https://169.254.169.254/latest", ""), []string{"url"}},
		{httpsSpec(ok, "not a certificate"), []string{"caPEM"}},
		{httpsSpec(ok, "", "clientCertPEM", certPEM), []string{"clientKeyPEM"}},
		{httpsSpec(ok, "", "clientKeyPEM", keyPEM), []string{"clientCertPEM"}},
		{httpsSpec(ok, "", "clientCertPEM", keyPEM, "clientKeyPEM", certPEM), []string{"clientCertPEM"}},
		{httpsSpec("http://ingest.example.com", "", "allowInsecure", true, "authToken", "t", "caPEM", "x"), []string{"authToken", "caPEM"}},
		{httpsSpec(ok, "", "method", "DELETE"), []string{"method"}},
		{httpsSpec(ok, "", "timeout", "soon"), []string{"timeout"}},
		{httpsSpec(ok, "", "timeout", "-1s"), []string{"timeout"}},
		{httpsSpec(ok, "", "maxBatchBytes", -1), []string{"maxBatchBytes"}},
		{httpsSpec(ok, "", "maxBatchRecords", 1.5), []string{"maxBatchRecords"}},
		{httpsSpec(ok, "", "retryBackoff", "1m", "retryBackoffMax", "1s"), []string{"retryBackoffMax"}},
		{httpsSpec(ok, "", "headers", map[string]any{"Authorization": "Basic x"}), []string{"headers"}},
		{httpsSpec(ok, "", "headers", map[string]any{"Idempotency-Key": "x", "bad name": "x", "X-N": 1, "X-Ctl": "a\nb"}), []string{"headers", "headers", "headers", "headers"}},
		{httpsSpec(ok, "", "headers", "X-A: b"), []string{"headers"}},
		{httpsSpec(ok, "", "authHeader", "X-Key", "headers", map[string]any{"x-key": "v"}), []string{"headers"}},
		{httpsSpec(ok, "", "authHeader", "Content-Type"), []string{"authHeader"}},
		{httpsSpec(ok, "", "authScheme", "Bad Scheme"), []string{"authScheme"}},
		{httpsSpec(ok, "", "insecureSkipVerify", true), []string{"insecureSkipVerify"}},
	} {
		err := sink.Validate(c.spec, sink.Env{})
		var got []string
		for _, e := range sink.ConfigErrors(err) {
			got = append(got, e.Field)
		}
		if !slices.Equal(got, c.fields) || (c.fields == nil) != (err == nil) {
			t.Errorf("%v: %v, want errors on %q", c.spec.Settings, err, c.fields)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "https sink: ") {
			t.Errorf("%v: %q does not name the sink", c.spec.Settings, err)
		}
	}

	// An invalid token is refused without quoting it.
	err := sink.Validate(httpsSpec(ok, "", "authToken", "s3cret\nline"), sink.Env{})
	if ce := sink.ConfigErrors(err); len(ce) != 1 || ce[0].Field != "authToken" || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad token: %v", err)
	}
	// The URL's query (which might hold a token) is not quoted either.
	err = sink.Validate(httpsSpec("https://ingest.example.com/%zz?token=s3cret", ""), sink.Env{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad URL: %v", err)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	if got := sink.SecretSettings("HTTPS"); !slices.Equal(got, []string{"authToken", "clientKeyPEM"}) {
		t.Fatalf("SecretSettings: %q", got)
	}
	spec := httpsSpec("https://ingest.example.com", "", "authToken", "s3cret", "clientKeyPEM", "KEY", "clientCertPEM", "CERT", "gzip", true)
	red := sink.Redact(spec)
	if red.Type != "https" || red.Settings["authToken"] != sink.Redacted || red.Settings["clientKeyPEM"] != sink.Redacted ||
		red.Settings["clientCertPEM"] != "CERT" || red.Settings["url"] != "https://ingest.example.com" || red.Settings["gzip"] != true {
		t.Fatalf("Redact: %v", red.Settings)
	}
	if spec.Settings["authToken"] != "s3cret" {
		t.Fatal("Redact changed its argument")
	}
	// Absent and null secrets stay as they are; other types are copied.
	red = sink.Redact(httpsSpec("https://x.example.com", "", "authToken", nil))
	if v, ok := red.Settings["authToken"]; !ok || v != nil {
		t.Fatalf("null secret: %v", red.Settings)
	}
	if _, ok := red.Settings["clientKeyPEM"]; ok {
		t.Fatal("absent secret added")
	}
	if red := sink.Redact(sink.Spec{Type: "file", Settings: map[string]any{"path": "/x"}}); red.Settings["path"] != "/x" {
		t.Fatalf("file spec: %v", red)
	}
	if red := sink.Redact(sink.Spec{Type: "discard"}); red.Type != "discard" || red.Settings != nil {
		t.Fatalf("discard spec: %v", red)
	}
}

package sink_test

import (
	"bytes"
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
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sink/grpcpb"
	"github.com/sluicehq/sluice/internal/sink/sinktest"
)

// grpcStore is an in-memory GRPCReceiverConfig.Store with a hook to
// inject failures and delays.
type grpcStore struct {
	mu      sync.Mutex
	records [][]byte
	batches []*grpcpb.Batch // without their records
	md      []metadata.MD
	// hook runs before the batch is stored; an error fails the store.
	hook func(ctx context.Context, b *grpcpb.Batch) error
}

func (s *grpcStore) store(ctx context.Context, b *grpcpb.Batch) error {
	if s.hook != nil {
		if err := s.hook(ctx, b); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range b.GetRecords() {
		s.records = append(s.records, bytes.Clone(r.GetValue()))
	}
	s.batches = append(s.batches, &grpcpb.Batch{Id: b.GetId(), ContentType: b.GetContentType(), Format: b.GetFormat(), Schema: b.GetSchema()})
	md, _ := metadata.FromIncomingContext(ctx)
	s.md = append(s.md, md)
	return nil
}

func (s *grpcStore) Records() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.records...)
}

func (s *grpcStore) Batches() []*grpcpb.Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*grpcpb.Batch(nil), s.batches...)
}

// grpcServer serves a GRPCReceiver on a loopback address, and can stop
// and start again on the same address.
type grpcServer struct {
	t       *testing.T
	addr    string
	recv    *sink.GRPCReceiver
	opts    []grpc.ServerOption
	streams atomic.Int32 // Deliver calls accepted

	mu  sync.Mutex
	srv *grpc.Server
}

func startGRPCServer(t *testing.T, cfg sink.GRPCReceiverConfig, opts ...grpc.ServerOption) *grpcServer {
	t.Helper()
	s := &grpcServer{t: t, addr: "127.0.0.1:0", recv: sink.NewGRPCReceiver(cfg)}
	s.opts = append(opts, grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		s.streams.Add(1)
		return h(srv, ss)
	}))
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *grpcServer) start() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("listen %s: %v", s.addr, err)
	}
	s.addr = ln.Addr().String()
	srv := grpc.NewServer(s.opts...)
	grpcpb.RegisterReceiverServer(srv, s.recv)
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (s *grpcServer) stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Stop()
	}
}

func openGRPC(t *testing.T, env sink.Env, settings map[string]any) sink.Sink {
	t.Helper()
	s, err := sink.Open(t.Context(), sink.Spec{Type: "grpc", Settings: settings}, env)
	if err != nil {
		t.Fatalf("open grpc sink: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

var grpcDev = sink.Env{AllowPrivate: true}

// grpcBatch is a batch of n NDJSON records, ids from first.
func grpcBatch(first, n int) *sink.Batch {
	b := &sink.Batch{ID: fmt.Sprintf("job/0/%d", first), ContentType: "application/x-ndjson",
		Offsets: map[int32]int64{0: int64(first + n)}}
	for i := first; i < first+n; i++ {
		b.Records = append(b.Records, sink.Record{Value: fmt.Appendf(nil, "{\"n\":%d}\n", i), Partition: 0, Offset: int64(i)})
	}
	return b
}

// wantRecords checks that got holds records first..first+n-1 once each,
// in order.
func wantRecords(t *testing.T, got [][]byte, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d records delivered, want %d", len(got), n)
	}
	for i, r := range got {
		if want := fmt.Sprintf("{\"n\":%d}\n", i); string(r) != want {
			t.Fatalf("record %d = %q, want %q", i, r, want)
		}
	}
}

func TestGRPCContract(t *testing.T) {
	st := &grpcStore{}
	srv := startGRPCServer(t, sink.GRPCReceiverConfig{Store: st.store})
	sinktest.Run(t, func() sink.Sink {
		s, err := sink.Open(t.Context(), sink.Spec{Type: "grpc", Settings: map[string]any{"address": srv.addr, "tls": false}}, grpcDev)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, st.Records)
	if n := srv.streams.Load(); n != 1 {
		t.Errorf("%d Deliver streams, want 1 kept open for every batch", n)
	}
	for _, b := range st.Batches() {
		if b.GetFormat() != "JSON" || b.GetContentType() != "application/x-ndjson" || !strings.HasPrefix(b.GetId(), "test/0/") {
			t.Fatalf("batch %v", b)
		}
	}
}

func TestGRPCFormatAndSchema(t *testing.T) {
	st := &grpcStore{}
	srv := startGRPCServer(t, sink.GRPCReceiverConfig{Store: st.store})
	const schema = `{"type":"record","name":"r","fields":[{"name":"n","type":"long"}]}`
	s := openGRPC(t, grpcDev, map[string]any{"address": srv.addr, "tls": false, "schema": schema})
	for i, ct := range []string{"avro/binary", "text/csv; charset=utf-8; header=present", "application/json", "application/x-unknown"} {
		b := grpcBatch(i, 1)
		b.ContentType = ct
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	got := st.Batches()
	want := []struct{ format, schema string }{{"AVRO", schema}, {"CSV", ""}, {"JSON", ""}, {"", ""}}
	for i, w := range want {
		if got[i].GetFormat() != w.format || got[i].GetSchema() != w.schema {
			t.Errorf("batch %d (%s): format %q schema %q, want %q %q", i, got[i].GetContentType(), got[i].GetFormat(), got[i].GetSchema(), w.format, w.schema)
		}
	}
}

// grpcPKI is a self-signed CA with a server certificate for 127.0.0.1 and
// localhost and a client certificate, in PEM.
type grpcPKI struct {
	caPEM, serverCertPEM, serverKeyPEM, clientCertPEM, clientKeyPEM string
	pool                                                            *x509.CertPool
}

func newGRPCPKI(t *testing.T) grpcPKI {
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
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) (string, string) {
		k, kPEM := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), kPEM
	}
	p := grpcPKI{caPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.serverCertPEM, p.serverKeyPEM = leaf(2, "receiver", x509.ExtKeyUsageServerAuth)
	p.clientCertPEM, p.clientKeyPEM = leaf(3, "sluice", x509.ExtKeyUsageClientAuth)
	return p
}

// serverCreds requires a client certificate signed by the CA.
func (p grpcPKI) serverCreds(t *testing.T) grpc.ServerOption {
	cert, err := tls.X509KeyPair([]byte(p.serverCertPEM), []byte(p.serverKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool, MinVersion: tls.VersionTLS12}))
}

func TestGRPCTLSClientCertAndToken(t *testing.T) {
	pki := newGRPCPKI(t)
	st := &grpcStore{}
	srv := startGRPCServer(t, sink.GRPCReceiverConfig{Store: st.store, Token: "s3cret-token"}, pki.serverCreds(t))
	_, port, _ := net.SplitHostPort(srv.addr)
	settings := map[string]any{
		"address": "localhost:" + port, "caPEM": pki.caPEM,
		"clientCertPEM": pki.clientCertPEM, "clientKeyPEM": pki.clientKeyPEM,
		"authToken": "s3cret-token", "metadata": map[string]any{"X-Tenant": "acme"},
	}
	s := openGRPC(t, grpcDev, settings)
	for i := range 3 {
		if err := s.Write(t.Context(), grpcBatch(i*2, 2)); err != nil {
			t.Fatal(err)
		}
	}
	wantRecords(t, st.Records(), 6)
	md := st.md[0]
	if got := md.Get("x-tenant"); len(got) != 1 || got[0] != "acme" {
		t.Errorf("metadata x-tenant = %q, want acme", got)
	}
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer s3cret-token" {
		t.Errorf("authorization = %q", got)
	}
	if err := sink.Probe(t.Context(), sink.Spec{Type: "grpc", Settings: settings}, grpcDev); err != nil {
		t.Errorf("probe: %v", err)
	}

	// Without the client certificate, or without the CA, the handshake
	// fails: an error (retried: certificates get fixed), nothing stored.
	for _, drop := range [][]string{{"clientCertPEM", "clientKeyPEM"}, {"caPEM"}} {
		bad := map[string]any{}
		for k, v := range settings {
			bad[k] = v
		}
		for _, k := range drop {
			delete(bad, k)
		}
		bad["timeout"] = "2s"
		s := openGRPC(t, grpcDev, bad)
		if err := s.Write(t.Context(), grpcBatch(100, 1)); err == nil {
			t.Errorf("without %v: Write succeeded", drop)
		}
	}
	wantRecords(t, st.Records(), 6)
}

func TestGRPCWrongTokenIsPermanent(t *testing.T) {
	pki := newGRPCPKI(t)
	st := &grpcStore{}
	srv := startGRPCServer(t, sink.GRPCReceiverConfig{Store: st.store, Token: "right"}, pki.serverCreds(t))
	for _, token := range []string{"wrong-token", ""} {
		settings := map[string]any{"address": srv.addr, "caPEM": pki.caPEM,
			"clientCertPEM": pki.clientCertPEM, "clientKeyPEM": pki.clientKeyPEM}
		if token != "" {
			settings["authToken"] = token
		}
		s := openGRPC(t, grpcDev, settings)
		err := s.Write(t.Context(), grpcBatch(0, 1))
		if err == nil || !sink.IsPermanent(err) || !strings.Contains(err.Error(), "Unauthenticated") {
			t.Fatalf("token %q: Write error %v, want a permanent Unauthenticated", token, err)
		}
		if token != "" && strings.Contains(err.Error(), token) {
			t.Errorf("the error quotes the token: %v", err)
		}
		perr := sink.Probe(t.Context(), sink.Spec{Type: "grpc", Settings: settings}, grpcDev)
		if perr == nil || !sink.IsPermanent(perr) {
			t.Errorf("token %q: probe %v, want a permanent error", token, perr)
		}
	}
	if n := len(st.Records()); n != 0 {
		t.Fatalf("%d records stored with a wrong token", n)
	}
}

// TestGRPCReceiverDownThenBack: the receiver stores a batch and goes down
// before acknowledging it, and comes back on the same address a little
// later; the sink's retries deliver everything, the batch sent twice is
// stored once.
func TestGRPCReceiverDownThenBack(t *testing.T) {
	st := &grpcStore{}
	var logs bytes.Buffer
	var logMu sync.Mutex
	var srv *grpcServer
	var crashed atomic.Bool
	restarted := make(chan struct{})
	st.hook = func(ctx context.Context, b *grpcpb.Batch) error {
		if b.GetId() != "job/0/4" || !crashed.CompareAndSwap(false, true) {
			return nil
		}
		// Store it, then go down before the Ack; come back 300ms later.
		go func() {
			srv.stop()
			time.Sleep(300 * time.Millisecond)
			srv.start()
			close(restarted)
		}()
		<-ctx.Done()
		return nil
	}
	srv = startGRPCServer(t, sink.GRPCReceiverConfig{Store: st.store,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	s := openGRPC(t, grpcDev, map[string]any{"address": srv.addr, "tls": false, "timeout": "2s"})
	retry := sink.Retry{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}
	var failures atomic.Int32
	for i := range 5 {
		b := grpcBatch(i*2, 2)
		err := retry.Do(t.Context(), func(ctx context.Context) error {
			err := s.Write(ctx, b)
			if err != nil {
				failures.Add(1)
			}
			return err
		})
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	<-restarted
	wantRecords(t, st.Records(), 10)
	if failures.Load() == 0 {
		t.Error("no Write failed: the receiver did not go down")
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(logs.String(), "duplicate batch dropped") || !strings.Contains(logs.String(), "id=job/0/4") {
		t.Errorf("the receiver did not drop the resent batch:\n%s", logs.String())
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestGRPCReceiverNotThereYet(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := openGRPC(t, grpcDev, map[string]any{"address": addr, "tls": false})
	err = s.Write(t.Context(), grpcBatch(0, 1))
	if err == nil || sink.IsPermanent(err) {
		t.Fatalf("Write to nobody: %v, want an error to retry", err)
	}
	st := &grpcStore{}
	srv := &grpcServer{t: t, addr: addr, recv: sink.NewGRPCReceiver(sink.GRPCReceiverConfig{Store: st.store})}
	srv.start()
	t.Cleanup(srv.stop)
	if err := s.Write(t.Context(), grpcBatch(0, 1)); err != nil {
		t.Fatalf("Write once the receiver is up: %v", err)
	}
	wantRecords(t, st.Records(), 1)
}

func TestGRPCAckNotOK(t *testing.T) {
	st := &grpcStore{}
	var calls atomic.Int32
	st.hook = func(_ context.Context, b *grpcpb.Batch) error {
		switch {
		case b.GetId() == "job/0/1" && calls.Add(1) == 1:
			return errors.New("disk full")
		case b.GetId() == "job/0/2":
			return sink.Permanent(errors.New("cannot parse the batch"))
		}
		return nil
	}
	srv := startGRPCServer(t, sink.GRPCReceiverConfig{Store: st.store})
	s := openGRPC(t, grpcDev, map[string]any{"address": srv.addr, "tls": false})
	if err := s.Write(t.Context(), grpcBatch(0, 1)); err != nil {
		t.Fatal(err)
	}
	err := s.Write(t.Context(), grpcBatch(1, 1))
	if err == nil || sink.IsPermanent(err) || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("retryable refusal: %v", err)
	}
	if err := s.Write(t.Context(), grpcBatch(1, 1)); err != nil {
		t.Fatalf("retry: %v", err)
	}
	wantRecords(t, st.Records(), 2)
	err = s.Write(t.Context(), grpcBatch(2, 1))
	if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "cannot parse the batch") {
		t.Fatalf("permanent refusal: %v", err)
	}
	if n := srv.streams.Load(); n != 1 {
		t.Errorf("%d streams: an Ack that is not ok must keep the stream", n)
	}
}

// TestGRPCSlowReceiver: Write returns only once the receiver has stored
// and acknowledged the batch, so a slow receiver holds the job back; a
// receiver slower than the timeout fails the Write, and the batch resent
// is stored once.
func TestGRPCSlowReceiver(t *testing.T) {
	st := &grpcStore{}
	var delay atomic.Int64
	delay.Store(int64(150 * time.Millisecond))
	var storing atomic.Int32
	st.hook = func(context.Context, *grpcpb.Batch) error {
		if n := storing.Add(1); n != 1 {
			t.Errorf("%d batches in flight at the receiver", n)
		}
		defer storing.Add(-1)
		time.Sleep(time.Duration(delay.Load()))
		return nil
	}
	srv := startGRPCServer(t, sink.GRPCReceiverConfig{Store: st.store})
	s := openGRPC(t, grpcDev, map[string]any{"address": srv.addr, "tls": false, "timeout": "400ms"})
	start := time.Now()
	for i := range 4 {
		if err := s.Write(t.Context(), grpcBatch(i, 1)); err != nil {
			t.Fatal(err)
		}
		if got := len(st.Records()); got != i+1 {
			t.Fatalf("Write %d returned with %d records stored: not acknowledged yet", i, got)
		}
	}
	if took := time.Since(start); took < 600*time.Millisecond {
		t.Fatalf("4 batches to a receiver taking 150ms each took %v: Write did not wait", took)
	}

	delay.Store(int64(800 * time.Millisecond))
	start = time.Now()
	err := s.Write(t.Context(), grpcBatch(4, 1))
	if err == nil || sink.IsPermanent(err) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("Write to a receiver slower than the timeout: %v", err)
	}
	if took := time.Since(start); took > 700*time.Millisecond {
		t.Fatalf("the timeout of 400ms took %v", took)
	}
	delay.Store(0)
	// The receiver stores the batch in the end; sent again, it is
	// acknowledged and not stored twice.
	for deadline := time.Now().Add(2 * time.Second); len(st.Records()) < 5 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Write(t.Context(), grpcBatch(4, 1)); err != nil {
		t.Fatal(err)
	}
	wantRecords(t, st.Records(), 5)

	// The caller's context ends a Write at once.
	delay.Store(int64(300 * time.Millisecond))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.Write(ctx, grpcBatch(5, 1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write with an ending context: %v", err)
	}
}

func TestGRPCCloseDuringWrite(t *testing.T) {
	st := &grpcStore{}
	release := make(chan struct{})
	st.hook = func(ctx context.Context, _ *grpcpb.Batch) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}
	srv := startGRPCServer(t, sink.GRPCReceiverConfig{Store: st.store})
	defer close(release)
	s := openGRPC(t, grpcDev, map[string]any{"address": srv.addr, "tls": false})
	done := make(chan error, 1)
	go func() { done <- s.Write(context.Background(), grpcBatch(0, 1)) }()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the Write cut off by Close succeeded")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Write still blocked after Close")
	}
	if err := s.Write(t.Context(), grpcBatch(0, 1)); !errors.Is(err, sink.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

func TestGRPCForbiddenDestination(t *testing.T) {
	st := &grpcStore{}
	srv := startGRPCServer(t, sink.GRPCReceiverConfig{Store: st.store})
	_, port, _ := net.SplitHostPort(srv.addr)

	// An IP is refused when the settings are checked.
	_, err := sink.Open(t.Context(), sink.Spec{Type: "grpc", Settings: map[string]any{"address": srv.addr, "tls": false}}, sink.Env{})
	if ce := sink.ConfigErrors(err); len(ce) != 1 || ce[0].Field != "address" || !strings.Contains(ce[0].Message, "loopback") {
		t.Fatalf("open with a loopback IP: %v", err)
	}
	// A name, once resolved, on every connection.
	s := openGRPC(t, sink.Env{}, map[string]any{"address": "localhost:" + port, "tls": false})
	err = s.Write(t.Context(), grpcBatch(0, 1))
	if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Write to localhost: %v, want a permanent refusal", err)
	}
	// Cloud metadata addresses even with private ones allowed.
	_, err = sink.Open(t.Context(), sink.Spec{Type: "grpc", Settings: map[string]any{"address": "169.254.169.254:443"}}, grpcDev)
	if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "cloud metadata") {
		t.Fatalf("open to cloud metadata: %v", err)
	}
	if n := len(st.Records()); n != 0 || srv.streams.Load() != 0 {
		t.Fatalf("the receiver got %d records, %d streams", n, srv.streams.Load())
	}
}

func TestGRPCSettings(t *testing.T) {
	pki := newGRPCPKI(t)
	for _, c := range []struct {
		settings map[string]any
		fields   []string
	}{
		{map[string]any{}, []string{"address"}},
		{map[string]any{"address": "nohost"}, []string{"address"}},
		{map[string]any{"address": "h:0"}, []string{"address"}},
		{map[string]any{"address": "h:1", "tls": "yes"}, []string{"tls"}},
		{map[string]any{"address": "h:1", "tls": false, "caPEM": pki.caPEM, "authToken": "t"}, []string{"caPEM", "authToken"}},
		{map[string]any{"address": "h:1", "caPEM": "junk"}, []string{"caPEM"}},
		{map[string]any{"address": "h:1", "clientCertPEM": pki.clientCertPEM}, []string{"clientKeyPEM"}},
		{map[string]any{"address": "h:1", "clientCertPEM": pki.clientCertPEM, "clientKeyPEM": pki.serverKeyPEM}, []string{"clientCertPEM"}},
		{map[string]any{"address": "h:1", "timeout": "soon"}, []string{"timeout"}},
		{map[string]any{"address": "h:1", "timeout": "-1s"}, []string{"timeout"}},
		{map[string]any{"address": "h:1", "metadata": "x"}, []string{"metadata"}},
		{map[string]any{"address": "h:1", "metadata": map[string]any{"grpc-timeout": "1", "authorization": "x", "a b": "c", "n": 1, "v": "\n"}},
			[]string{"metadata", "metadata", "metadata", "metadata", "metadata"}},
		{map[string]any{"address": "h:1", "authToken": "line\nbreak"}, []string{"authToken"}},
		{map[string]any{"address": "h:1", "adress": "x"}, []string{"adress"}},
		{map[string]any{"address": "h:1", "timeout": "5s", "metadata": map[string]any{"x-a": "b", "x-bin": "\x00"}, "authToken": "t", "schema": "{}"}, nil},
	} {
		err := sink.Validate(sink.Spec{Type: "grpc", Settings: c.settings}, grpcDev)
		var fields []string
		for _, ce := range sink.ConfigErrors(err) {
			fields = append(fields, ce.Field)
		}
		if strings.Join(fields, ",") != strings.Join(c.fields, ",") {
			t.Errorf("%v: fields %v (%v), want %v", c.settings, fields, err, c.fields)
		}
		if err != nil && (strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "break")) {
			t.Errorf("the error quotes a secret: %v", err)
		}
	}
}

func TestGRPCSecrets(t *testing.T) {
	if got := strings.Join(sink.SecretSettings("grpc"), ","); got != "authToken,clientKeyPEM" {
		t.Fatalf("secret settings %s", got)
	}
}

// TestGRPCReceiverForgets: the receiver remembers the last Remember ids.
func TestGRPCReceiverForgets(t *testing.T) {
	st := &grpcStore{}
	srv := startGRPCServer(t, sink.GRPCReceiverConfig{Store: st.store, Remember: 2})
	s := openGRPC(t, grpcDev, map[string]any{"address": srv.addr, "tls": false})
	for _, first := range []int{0, 1, 1, 2, 0} { // the last 0 is forgotten by then
		if err := s.Write(t.Context(), grpcBatch(first, 1)); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for _, b := range st.Batches() {
		ids = append(ids, b.GetId())
	}
	if got := strings.Join(ids, " "); got != "job/0/0 job/0/1 job/0/2 job/0/0" {
		t.Fatalf("stored %s", got)
	}
}

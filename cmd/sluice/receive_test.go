package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/sink"
)

// startReceive runs `sluice receive grpc args...` in-process on a free
// port and returns the address it listens on, its output and a function
// that stops it (as Ctrl-C does) and returns its error.
func startReceive(t *testing.T, args ...string) (addr string, out *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out = &syncBuffer{}
	root := newRootCmd()
	root.SetOut(out)
	root.SetErr(out)
	root.SetArgs(append([]string{"receive", "grpc", "--listen", "127.0.0.1:0"}, args...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	stopped := false
	var err error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("sluice receive grpc did not stop")
			}
		}
		return err
	}
	t.Cleanup(func() { stop() })
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("sluice receive grpc ended: %v\n%s", err, out.String())
		default:
		}
		s := out.String()
		if _, rest, ok := strings.Cut(s, "listening on "); ok {
			addr, _, _ = strings.Cut(rest, " ")
			return addr, out, stop
		}
	}
	t.Fatalf("sluice receive grpc printed no address:\n%s", out.String())
	return "", nil, nil
}

func receiveBatch(first, n int) *sink.Batch {
	b := &sink.Batch{ID: fmt.Sprintf("job/0/%d", first), ContentType: "application/x-ndjson"}
	for i := first; i < first+n; i++ {
		b.Records = append(b.Records, sink.Record{Value: fmt.Appendf(nil, "{\"n\":%d}\n", i), Offset: int64(i)})
	}
	return b
}

func wantLines(t *testing.T, file string, n int) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range n {
		fmt.Fprintf(&want, "{\"n\":%d}\n", i)
	}
	if string(b) != want.String() {
		t.Fatalf("%s holds\n%s\nwant\n%s", file, b, want.String())
	}
}

func TestReceiveGRPCEndToEnd(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out.ndjson")
	addr, out, stop := startReceive(t, "--out", file)
	if !strings.Contains(out.String(), "(plaintext)") {
		t.Errorf("output: %s", out.String())
	}
	s, err := sink.Open(t.Context(), sink.Spec{Type: "grpc", Settings: map[string]any{"address": addr, "tls": false}}, sink.Env{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, first := range []int{0, 3, 3, 6} { // 3 twice: stored once
		if err := s.Write(t.Context(), receiveBatch(first, 3)); err != nil {
			t.Fatal(err)
		}
	}
	// Acknowledged means in the file.
	wantLines(t, file, 9)
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !strings.HasSuffix(out.String(), "sluice receive grpc: stopped\n") {
		t.Errorf("output: %s", out.String())
	}
	wantLines(t, file, 9)
}

func TestReceiveGRPCTLSClientCertToken(t *testing.T) {
	dir := t.TempDir()
	pki := writeReceivePKI(t, dir)
	file := filepath.Join(dir, "out.ndjson")
	addr, out, stop := startReceive(t, "--out", file, "--tls-cert", pki.serverCert, "--tls-key", pki.serverKey,
		"--client-ca", pki.caFile, "--token", "tok")
	if !strings.Contains(out.String(), "(TLS with client certificates, token required)") {
		t.Errorf("output: %s", out.String())
	}
	settings := func(token string) map[string]any {
		return map[string]any{"address": addr, "caPEM": pki.caPEM, "clientCertPEM": pki.clientCertPEM,
			"clientKeyPEM": pki.clientKeyPEM, "authToken": token}
	}
	env := sink.Env{AllowPrivate: true}
	bad, err := sink.Open(t.Context(), sink.Spec{Type: "grpc", Settings: settings("nope")}, env)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close(context.Background())
	if err := bad.Write(t.Context(), receiveBatch(0, 1)); !sink.IsPermanent(err) {
		t.Fatalf("wrong token: %v, want a permanent error", err)
	}
	good, err := sink.Open(t.Context(), sink.Spec{Type: "grpc", Settings: settings("tok")}, env)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close(context.Background())
	for i := range 2 {
		if err := good.Write(t.Context(), receiveBatch(i*2, 2)); err != nil {
			t.Fatal(err)
		}
	}
	wantLines(t, file, 4)
	// Ctrl-C with a sink's stream still open: cut after the grace period.
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if took := time.Since(start); took > receiveStopGrace+time.Second {
		t.Errorf("stopping took %v", took)
	}
	if err := good.Write(t.Context(), receiveBatch(4, 1)); err == nil || sink.IsPermanent(err) {
		t.Errorf("Write to a stopped receiver: %v, want an error to retry", err)
	}
	wantLines(t, file, 4)
}

func TestReceiveGRPCFlags(t *testing.T) {
	dir := t.TempDir()
	pki := writeReceivePKI(t, dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--out is required"},
		{[]string{"--out", dir + "/o", "--token", "t"}, "--token needs --tls-cert"},
		{[]string{"--out", dir + "/o", "--tls-cert", pki.serverCert}, "go together"},
		{[]string{"--out", dir + "/o", "--client-ca", pki.caFile}, "--client-ca needs"},
		{[]string{"--out", dir + "/o", "--tls-cert", pki.serverCert, "--tls-key", pki.caFile}, "--tls-cert, --tls-key"},
		{[]string{"--out", dir + "/o", "--remember", "0"}, "--remember 0"},
		{[]string{"--out", dir + "/missing/o"}, "--out"},
		{[]string{"--out", dir + "/o", "--listen", "nowhere"}, "--listen"},
	} {
		root := newRootCmd()
		root.SetOut(&strings.Builder{})
		root.SetErr(&strings.Builder{})
		root.SetArgs(append([]string{"receive", "grpc"}, c.args...))
		if err := root.ExecuteContext(t.Context()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}

type receivePKI struct {
	caFile, serverCert, serverKey      string
	caPEM, clientCertPEM, clientKeyPEM string
}

// writeReceivePKI makes a CA, a server certificate for 127.0.0.1 and a
// client certificate; the CA and server files go to dir.
func writeReceivePKI(t *testing.T, dir string) receivePKI {
	t.Helper()
	newKey := func() (*ecdsa.PrivateKey, string) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		return k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	now := time.Now()
	caKey, _ := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage) (string, string) {
		k, kPEM := newKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), kPEM
	}
	p := receivePKI{caPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))}
	serverCert, serverKey := leaf(2, x509.ExtKeyUsageServerAuth)
	p.clientCertPEM, p.clientKeyPEM = leaf(3, x509.ExtKeyUsageClientAuth)
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	p.caFile, p.serverCert, p.serverKey = write("ca.pem", p.caPEM), write("server.pem", serverCert), write("server-key.pem", serverKey)
	return p
}

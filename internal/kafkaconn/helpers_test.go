package kafkaconn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

// newAdmin returns an Admin for cfg that closes when the test ends.
func newAdmin(t *testing.T, cfg kafkaconn.Config) *kafkaconn.Admin {
	t.Helper()
	a, err := kafkaconn.NewAdmin(cfg)
	if err != nil {
		t.Fatalf("NewAdmin(%v): %v", cfg, err)
	}
	t.Cleanup(a.Close)
	return a
}

// testContext returns a context that ends after d or with the test.
func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond every 50ms until it returns true, failing the test on
// an error from cond or when ctx ends. A real broker applies metadata
// changes asynchronously, so reads after writes poll.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// certKey is a certificate with its key, as PEM and as a tls.Certificate.
type certKey struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM string
	keyPEM  string // PKCS #8
	tls     tls.Certificate
}

// newCA returns a self-signed certificate authority.
func newCA(t *testing.T, name string) certKey {
	t.Helper()
	return issue(t, nil, &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	})
}

// newServerCert returns a certificate signed by ca for 127.0.0.1 and
// localhost.
func newServerCert(t *testing.T, ca certKey) certKey {
	t.Helper()
	return issue(t, &ca, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kfake"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
}

// newClientCert returns a client certificate signed by ca.
func newClientCert(t *testing.T, ca certKey) certKey {
	t.Helper()
	return issue(t, &ca, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "sluice"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// issue signs tmpl with parent's key, or with its own key when parent is
// nil.
func issue(t *testing.T, parent *certKey, tmpl *x509.Certificate) certKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ck := certKey{
		cert:    cert,
		key:     key,
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
	}
	ck.tls, err = tls.X509KeyPair([]byte(ck.certPEM), []byte(ck.keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

package sink

import (
	"crypto/tls"
	"crypto/x509"
)

// TLS builds the client TLS configuration of a network sink from its PEM
// settings: caPEM replaces the system roots, clientCertPEM and
// clientKeyPEM (together or not at all) are the client certificate.
// Problems are recorded on s, naming the setting; serverName may be "" to
// take it from the address dialled.
func (s *Settings) TLS(serverName, ca, certPEM, keyPEM string) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if ca != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(ca)) {
			s.Fail("caPEM", "holds no PEM certificate")
		}
		c.RootCAs = pool
	}
	switch {
	case certPEM != "" && keyPEM != "":
		cert, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			// The message of X509KeyPair never quotes the key.
			s.Fail("clientCertPEM", "with clientKeyPEM is not a certificate and key pair: "+err.Error())
		}
		c.Certificates = []tls.Certificate{cert}
	case certPEM != "":
		s.Fail("clientKeyPEM", "required with clientCertPEM")
	case keyPEM != "":
		s.Fail("clientCertPEM", "required with clientKeyPEM")
	}
	return c
}

package kafkaconn

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// TLS holds the TLS settings for connecting to a cluster. A nil *TLS in a
// Config, or Enabled false, means plaintext.
type TLS struct {
	// Enabled turns TLS on. The other fields are only allowed when it is
	// true, so that a config cannot look protected while it is not.
	Enabled bool `json:"enabled"`
	// CACert is the PEM of the certificate authorities that sign the
	// brokers' certificates; empty means the system roots.
	CACert string `json:"caCert,omitempty"`
	// ClientCert is the PEM certificate chain presented to brokers that
	// require client certificates. It needs ClientKey.
	ClientCert string `json:"clientCert,omitempty"`
	// ClientKey is the PEM private key of ClientCert. It is a secret.
	ClientKey string `json:"clientKey,omitempty"`
	// ServerName overrides the name checked against broker certificates,
	// which is otherwise the host of each address dialed.
	ServerName string `json:"serverName,omitempty"`
	// InsecureSkipVerify accepts any broker certificate. For tests only:
	// it gives up all protection against a man in the middle.
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// SASL holds the SASL credentials for connecting to a cluster.
type SASL struct {
	// Mechanism is one of PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, spelled
	// exactly so.
	Mechanism string `json:"mechanism"`
	// Username is the SASL user.
	Username string `json:"username"`
	// Password is the user's password. It is a secret.
	Password string `json:"password,omitempty"`
}

// SASL mechanisms a Config accepts.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// Config is how to connect to one Kafka cluster. The catalog stores it and
// the REST API accepts it as JSON. A Config is a value: methods never modify
// it, and it is safe to share between goroutines as long as nobody writes to
// it (its pointers and slice included).
type Config struct {
	// Bootstrap lists host:port addresses of some of the cluster's
	// brokers; the client discovers the rest.
	Bootstrap []string `json:"bootstrapServers"`
	// TLS, when non-nil and enabled, encrypts connections.
	TLS *TLS `json:"tls,omitempty"`
	// SASL, when non-nil, authenticates connections.
	SASL *SASL `json:"sasl,omitempty"`
}

// FieldError is one problem with a Config. Field is the JSON path of the
// offending field, such as "bootstrapServers[1]" or "tls.caCert", so an API
// can answer 422 naming it. Message never contains a secret.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error returns "field: message".
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate checks the config without contacting the cluster and returns
// every problem found, in field order; nil means the config is usable. It
// checks that there is at least one bootstrap address, each a host:port with
// a port in 1-65535 and no duplicates; that TLS fields are only set with TLS
// enabled, that PEM data parses, and that a client certificate comes with
// its matching key; and that SASL has a known mechanism, a username and a
// password. A redacted config (see Redacted) fails for its missing secrets.
func (c Config) Validate() []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	if len(c.Bootstrap) == 0 {
		add("bootstrapServers", "at least one host:port is required")
	}
	seen := make(map[string]int, len(c.Bootstrap))
	for i, addr := range c.Bootstrap {
		field := fmt.Sprintf("bootstrapServers[%d]", i)
		if msg := checkHostPort(addr); msg != "" {
			add(field, "%s", msg)
			continue
		}
		key := strings.ToLower(addr)
		if j, dup := seen[key]; dup {
			add(field, "duplicate of bootstrapServers[%d]", j)
			continue
		}
		seen[key] = i
	}

	if t := c.TLS; t != nil {
		if !t.Enabled && (t.CACert != "" || t.ClientCert != "" || t.ClientKey != "" || t.ServerName != "" || t.InsecureSkipVerify) {
			add("tls.enabled", "must be true when other tls settings are given")
		}
		if t.CACert != "" {
			if _, msg := parseCertificates(t.CACert); msg != "" {
				add("tls.caCert", "%s", msg)
			}
		}
		certOK, keyOK := true, true
		if t.ClientCert != "" {
			if _, msg := parseCertificates(t.ClientCert); msg != "" {
				add("tls.clientCert", "%s", msg)
				certOK = false
			}
		}
		if t.ClientKey != "" {
			if msg := checkPrivateKey(t.ClientKey); msg != "" {
				add("tls.clientKey", "%s", msg)
				keyOK = false
			}
		}
		switch {
		case t.ClientCert != "" && t.ClientKey == "":
			add("tls.clientKey", "required when tls.clientCert is set")
		case t.ClientKey != "" && t.ClientCert == "":
			add("tls.clientCert", "required when tls.clientKey is set")
		case t.ClientCert != "" && certOK && keyOK:
			// Only the pairing can still fail here; the error from
			// crypto/tls carries no key material.
			if _, err := tls.X509KeyPair([]byte(t.ClientCert), []byte(t.ClientKey)); err != nil {
				add("tls.clientKey", "does not match tls.clientCert")
			}
		}
		if t.ServerName != "" && !validHost(t.ServerName) {
			add("tls.serverName", "must be a host name or IP address")
		}
	}

	if s := c.SASL; s != nil {
		switch s.Mechanism {
		case MechanismPlain, MechanismScramSHA256, MechanismScramSHA512:
		case "":
			add("sasl.mechanism", "required: one of %s, %s, %s", MechanismPlain, MechanismScramSHA256, MechanismScramSHA512)
		default:
			add("sasl.mechanism", "unknown mechanism %q: want one of %s, %s, %s", s.Mechanism, MechanismPlain, MechanismScramSHA256, MechanismScramSHA512)
		}
		if s.Username == "" {
			add("sasl.username", "required")
		}
		if s.Password == "" {
			add("sasl.password", "required")
		}
	}
	return errs
}

// checkHostPort returns why addr is not a usable host:port, or "".
func checkHostPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// net's messages quote the address, which is no secret.
		return "must be host:port: " + strings.TrimPrefix(err.Error(), "address "+addr+": ")
	}
	if host == "" {
		return "host is missing"
	}
	if !validHost(host) {
		return fmt.Sprintf("host %q is not a valid host name or IP address", host)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return fmt.Sprintf("port %q must be a number from 1 to 65535", port)
	}
	return ""
}

// validHost reports whether h is an IP address or a DNS host name (letters,
// digits, '-' and '_' in dot-separated labels of at most 63 bytes).
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	h = strings.TrimSuffix(h, ".") // a fully qualified name
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// parseCertificates parses every PEM block of s as an X.509 certificate and
// returns them, or why it could not.
func parseCertificates(s string) ([]*x509.Certificate, string) {
	var certs []*x509.Certificate
	rest := []byte(s)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			// Naming the type helps someone who pasted a key here;
			// the block's content is never echoed.
			return nil, fmt.Sprintf("PEM block %d is a %q, want CERTIFICATE", len(certs)+1, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Sprintf("certificate %d does not parse: %v", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, "no PEM certificate found"
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, fmt.Sprintf("data after PEM certificate %d is not PEM", len(certs))
	}
	return certs, ""
}

// checkPrivateKey returns why s is not one PEM private key, or "". Its
// messages never quote the key.
func checkPrivateKey(s string) string {
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return "no PEM private key found"
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return "want exactly one PEM private key block"
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted {
		return "encrypted PEM keys are not supported"
	}
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		_, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		_, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		_, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return fmt.Sprintf("PEM block is a %q, want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY", block.Type)
	}
	if err != nil {
		// x509's parse errors describe the structure, not the bytes.
		return fmt.Sprintf("%s does not parse: %v", strings.ToLower(block.Type), err)
	}
	return ""
}

// Redacted returns a deep copy of c with the secrets (TLS.ClientKey and
// SASL.Password) replaced by "", for API responses. Use HasClientKey and
// HasPassword on the original to tell clients a secret is set.
func (c Config) Redacted() Config {
	r := Config{Bootstrap: append([]string(nil), c.Bootstrap...)}
	if c.TLS != nil {
		t := *c.TLS
		t.ClientKey = ""
		r.TLS = &t
	}
	if c.SASL != nil {
		s := *c.SASL
		s.Password = ""
		r.SASL = &s
	}
	return r
}

// HasClientKey reports whether c carries a TLS client key.
func (c Config) HasClientKey() bool { return c.TLS != nil && c.TLS.ClientKey != "" }

// HasPassword reports whether c carries a SASL password.
func (c Config) HasPassword() bool { return c.SASL != nil && c.SASL.Password != "" }

// String describes c for humans and logs, without secrets.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("bootstrap=" + strings.Join(c.Bootstrap, ","))
	if c.TLS != nil {
		b.WriteString(" " + c.TLS.String())
	}
	if c.SASL != nil {
		b.WriteString(" " + c.SASL.String())
	}
	return b.String()
}

// LogValue makes slog log c as its String, without secrets.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String describes t without the client key.
func (t TLS) String() string {
	if !t.Enabled {
		return "tls=off"
	}
	var b strings.Builder
	b.WriteString("tls=on")
	if t.CACert == "" {
		b.WriteString(" tls.ca=system")
	} else {
		b.WriteString(" tls.ca=custom")
	}
	if t.ClientCert != "" {
		b.WriteString(" tls.clientCert=set")
	}
	if t.ClientKey != "" {
		b.WriteString(" tls.clientKey=set")
	}
	if t.ServerName != "" {
		b.WriteString(" tls.serverName=" + t.ServerName)
	}
	if t.InsecureSkipVerify {
		b.WriteString(" tls.insecureSkipVerify=true")
	}
	return b.String()
}

// String describes s without the password.
func (s SASL) String() string {
	pw := "unset"
	if s.Password != "" {
		pw = "set"
	}
	return fmt.Sprintf("sasl.mechanism=%s sasl.username=%s sasl.password=%s", s.Mechanism, s.Username, pw)
}

package kafkaconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Client settings Options applies. franz-go's own defaults (10s dial, 30s
// retry) make a probe of an unreachable or hung cluster take most of a
// minute; a control plane checking many clusters wants an answer in seconds.
const (
	// DialTimeout bounds one TCP (and TLS) connection attempt,
	// overriding franz-go's default of 10s.
	DialTimeout = 5 * time.Second
	// RequestTimeoutOverhead bounds how long a broker may take to answer
	// a request, on top of the request's own timeout field if it has one,
	// overriding franz-go's default of 10s. A healthy broker answers a
	// request without a timeout field (Metadata, DescribeConfigs) in
	// milliseconds. franz-go tries a new connection twice, so a broker
	// that accepts connections and never answers fails a Ping after
	// about twice this.
	RequestTimeoutOverhead = 5 * time.Second
	// RetryTimeout bounds the retries of one request issued through the
	// client (admin and metadata requests, not produce or fetch),
	// overriding franz-go's default of 30s.
	RetryTimeout = 10 * time.Second
	// GroupRetryTimeout keeps franz-go's default for group membership
	// requests (join, sync, heartbeat), the default 45s session timeout:
	// a member must keep trying for as long as its session may still be
	// valid. A client with another session timeout passes its own
	// kgo.RetryTimeoutFn.
	GroupRetryTimeout = 45 * time.Second
	// ClientID is the client ID brokers see in their logs and quotas,
	// overriding franz-go's default "kgo".
	ClientID = "sluice"
)

// Options returns the franz-go options that connect to the cluster c
// describes: SeedBrokers, a TLS dialer (TLS 1.2 or newer) when TLS is
// enabled, the SASL mechanism when SASL is set, ClientID, and the timeouts
// above. Later options override earlier ones, so callers append theirs. An
// invalid config is an error listing every FieldError (each errors.As-able).
func (c Config) Options() ([]kgo.Opt, error) {
	if ferrs := c.Validate(); len(ferrs) > 0 {
		return nil, fmt.Errorf("invalid kafka connection config: %w", fieldErrors(ferrs))
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Bootstrap...),
		kgo.ClientID(ClientID),
		kgo.DialTimeout(DialTimeout),
		kgo.RequestTimeoutOverhead(RequestTimeoutOverhead),
		kgo.RetryTimeoutFn(retryTimeout),
	}
	if c.TLS != nil && c.TLS.Enabled {
		tc, err := c.TLS.config()
		if err != nil {
			return nil, err
		}
		// DialTLSConfig clones tc per dial and fills ServerName with the
		// dialed host when it is empty; it uses the DialTimeout above.
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if c.SASL != nil {
		opts = append(opts, kgo.SASL(c.SASL.mechanism()))
	}
	return opts, nil
}

// fieldErrors reports several FieldErrors on one line, each reachable
// through errors.As.
type fieldErrors []FieldError

func (fe fieldErrors) Error() string {
	msgs := make([]string, len(fe))
	for i, e := range fe {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

func (fe fieldErrors) Unwrap() []error {
	errs := make([]error, len(fe))
	for i, e := range fe {
		errs[i] = e
	}
	return errs
}

func retryTimeout(key int16) time.Duration {
	switch key {
	case kmsg.JoinGroup.Int16(), kmsg.SyncGroup.Int16(), kmsg.Heartbeat.Int16(), kmsg.ConsumerGroupHeartbeat.Int16():
		return GroupRetryTimeout
	}
	return RetryTimeout
}

// config builds the crypto/tls config of a validated t.
func (t *TLS) config() (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, // the operator's documented, test-only choice
	}
	if t.CACert != "" {
		certs, msg := parseCertificates(t.CACert)
		if msg != "" {
			return nil, fmt.Errorf("tls.caCert: %s", msg)
		}
		tc.RootCAs = x509.NewCertPool()
		for _, cert := range certs {
			tc.RootCAs.AddCert(cert)
		}
	}
	if t.ClientCert != "" {
		pair, err := tls.X509KeyPair([]byte(t.ClientCert), []byte(t.ClientKey))
		if err != nil {
			// Not err itself: stay certain no key material leaks.
			return nil, errors.New("tls.clientKey: does not match tls.clientCert")
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

// mechanism returns the franz-go mechanism of a validated s.
func (s *SASL) mechanism() sasl.Mechanism {
	switch s.Mechanism {
	case MechanismPlain:
		return plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism()
	case MechanismScramSHA256:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism()
	default: // Validate admits only SCRAM-SHA-512 besides.
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism()
	}
}

// NewClient returns a franz-go client for the cluster c describes: c's
// Options followed by extra, so extra overrides them (a consumer group, a
// logger, another timeout). Like kgo.NewClient it does not connect; the
// first request does. The caller closes the client.
func NewClient(c Config, extra ...kgo.Opt) (*kgo.Client, error) {
	opts, err := c.Options()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %s: %w", strings.Join(c.Bootstrap, ","), err)
	}
	return cl, nil
}

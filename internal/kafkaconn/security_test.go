package kafkaconn_test

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/kafkatest"
)

// The test harness runs real Kafka on plaintext listeners only, so the
// SASL and TLS paths are checked against kfake, which implements both at
// the protocol level.

func TestSASL(t *testing.T) {
	t.Parallel()
	const wrong = "not-the-password-42"
	users := map[string][2]string{ // mechanism: user, password
		kafkaconn.MechanismPlain:       {"plain-user", "plain-pass-1"},
		kafkaconn.MechanismScramSHA256: {"scram256-user", "scram256-pass-2"},
		kafkaconn.MechanismScramSHA512: {"scram512-user", "scram512-pass-3"},
	}
	opts := []kfake.Opt{kfake.EnableSASL()}
	for mech, up := range users {
		opts = append(opts, kfake.Superuser(mech, up[0], up[1]))
	}
	addr := kafkatest.Fake(t, opts...)

	for mech, up := range users {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t, 30*time.Second)
			good := newAdmin(t, kafkaconn.Config{Bootstrap: []string{addr}, SASL: &kafkaconn.SASL{Mechanism: mech, Username: up[0], Password: up[1]}})
			if err := good.Ping(ctx); err != nil {
				t.Fatalf("Ping with the right password: %v", err)
			}
			// Past the handshake, requests work too.
			topic := kafkatest.TopicName(t)
			if err := good.CreateTopic(ctx, topic, 1, 1, nil); err != nil {
				t.Fatalf("CreateTopic: %v", err)
			}
			if ts, err := good.Topics(ctx, topic); err != nil || ts[topic].Partitions != 1 {
				t.Fatalf("Topics: %v, %v", ts, err)
			}

			bad := newAdmin(t, kafkaconn.Config{Bootstrap: []string{addr}, SASL: &kafkaconn.SASL{Mechanism: mech, Username: up[0], Password: wrong}})
			start := time.Now()
			err := bad.Ping(ctx)
			t.Logf("Ping with a wrong password: %v (after %v)", err, time.Since(start).Round(time.Millisecond))
			if err == nil {
				t.Fatal("Ping with a wrong password succeeded")
			}
			if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), up[1]) {
				t.Errorf("error leaks the password: %v", err)
			}
			mentions(t, err, addr)
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("Ping with a wrong password took %v to fail", took)
			}
		})
	}

	t.Run("no credentials", func(t *testing.T) {
		t.Parallel()
		adm := newAdmin(t, kafkaconn.Config{Bootstrap: []string{addr}})
		start := time.Now()
		err := adm.Ping(testContext(t, 30*time.Second))
		t.Logf("Ping without SASL: %v (after %v)", err, time.Since(start).Round(time.Millisecond))
		if err == nil {
			t.Fatal("Ping without SASL against a SASL cluster succeeded")
		}
	})
}

func TestTLS(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "kafkaconn test CA")
	server := newServerCert(t, ca)
	otherCA := newCA(t, "some other CA")
	addr := kafkatest.Fake(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{server.tls}, MinVersion: tls.VersionTLS12}))

	for _, tt := range []struct {
		name string
		tls  *kafkaconn.TLS
		ok   bool
		// want is in the error when !ok.
		want string
	}{
		{"trusted CA", &kafkaconn.TLS{Enabled: true, CACert: ca.certPEM}, true, ""},
		{"trusted CA, server name localhost", &kafkaconn.TLS{Enabled: true, CACert: ca.certPEM, ServerName: "localhost"}, true, ""},
		{"system roots", &kafkaconn.TLS{Enabled: true}, false, "certificate"},
		{"other CA", &kafkaconn.TLS{Enabled: true, CACert: otherCA.certPEM}, false, "certificate"},
		{"wrong server name", &kafkaconn.TLS{Enabled: true, CACert: ca.certPEM, ServerName: "kafka.example.com"}, false, "kafka.example.com"},
		{"insecure skip verify", &kafkaconn.TLS{Enabled: true, InsecureSkipVerify: true}, true, ""},
		{"plaintext to a TLS listener", nil, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			adm := newAdmin(t, kafkaconn.Config{Bootstrap: []string{addr}, TLS: tt.tls})
			start := time.Now()
			err := adm.Ping(testContext(t, 30*time.Second))
			took := time.Since(start)
			t.Logf("Ping: %v (after %v)", err, took.Round(time.Millisecond))
			if tt.ok {
				if err != nil {
					t.Fatalf("Ping: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Ping succeeded, want a TLS failure")
			}
			mentions(t, err, addr, tt.want)
			if took > 2*kafkaconn.RequestTimeoutOverhead+3*time.Second {
				t.Errorf("Ping took %v to fail", took)
			}
		})
	}
}

func TestTLSClientCertificate(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "kafkaconn test CA")
	server := newServerCert(t, ca)
	client := newClientCert(t, ca)
	strangerCA := newCA(t, "stranger CA")
	stranger := newClientCert(t, strangerCA)
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(ca.cert)
	addr := kafkatest.Fake(t,
		kfake.TLS(&tls.Config{
			Certificates: []tls.Certificate{server.tls},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    clientCAs,
			MinVersion:   tls.VersionTLS12,
		}),
		// TLS and SASL together, as production clusters often run.
		kfake.EnableSASL(), kfake.Superuser(kafkaconn.MechanismScramSHA512, "sluice", "scram-pass"),
	)
	sasl := &kafkaconn.SASL{Mechanism: kafkaconn.MechanismScramSHA512, Username: "sluice", Password: "scram-pass"}

	for _, tt := range []struct {
		name string
		tls  kafkaconn.TLS
		ok   bool
	}{
		{"client certificate", kafkaconn.TLS{Enabled: true, CACert: ca.certPEM, ClientCert: client.certPEM, ClientKey: client.keyPEM}, true},
		{"no client certificate", kafkaconn.TLS{Enabled: true, CACert: ca.certPEM}, false},
		{"certificate from another CA", kafkaconn.TLS{Enabled: true, CACert: ca.certPEM, ClientCert: stranger.certPEM, ClientKey: stranger.keyPEM}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			adm := newAdmin(t, kafkaconn.Config{Bootstrap: []string{addr}, TLS: &tt.tls, SASL: sasl})
			ctx := testContext(t, 30*time.Second)
			start := time.Now()
			err := adm.Ping(ctx)
			took := time.Since(start)
			t.Logf("Ping: %v (after %v)", err, took.Round(time.Millisecond))
			if tt.ok {
				if err != nil {
					t.Fatalf("Ping: %v", err)
				}
				if _, err := adm.Usage(ctx); err != nil {
					t.Fatalf("Usage: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Ping succeeded, want the server to refuse the client")
			}
			if strings.Contains(err.Error(), keyBody(stranger.keyPEM)) || strings.Contains(err.Error(), "scram-pass") {
				t.Errorf("error leaks a secret: %v", err)
			}
			mentions(t, err, addr)
			if took > 2*kafkaconn.RequestTimeoutOverhead+3*time.Second {
				t.Errorf("Ping took %v to fail", took)
			}
		})
	}
}

package kafkaconn_test

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

func TestValidate(t *testing.T) {
	ca := newCA(t, "test CA")
	client := newClientCert(t, ca)
	other := newClientCert(t, ca) // a key that does not match client
	ecKeyDER, err := x509.MarshalECPrivateKey(client.key)
	if err != nil {
		t.Fatal(err)
	}
	ecKeyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecKeyDER}))
	const secret = "s3cr3t-password"

	boot := []string{"127.0.0.1:9092"}
	tests := []struct {
		name string
		cfg  kafkaconn.Config
		want []string // "field" of each FieldError, in order
	}{
		{"plaintext", kafkaconn.Config{Bootstrap: []string{"kafka-1.example.com:9092", "10.0.0.2:9093", "[::1]:9094", "kafka_2:1", "kafka.example.com.:65535"}}, nil},
		{"no bootstrap", kafkaconn.Config{}, []string{"bootstrapServers"}},
		{"empty bootstrap", kafkaconn.Config{Bootstrap: []string{}}, []string{"bootstrapServers"}},
		{"bad entries", kafkaconn.Config{Bootstrap: []string{
			"good:9092",        // 0
			"nohost",           // 1: no port
			":9092",            // 2: no host
			"host:0",           // 3: port out of range
			"host:65536",       // 4: port out of range
			"host:http",        // 5: port not a number
			"bad host:9092",    // 6: space
			"kafka://h:9092",   // 7: a URL
			"-lead.example:1",  // 8: label starts with '-'
			"GOOD:9092",        // 9: duplicate of 0, case aside
			"::1:9092",         // 10: IPv6 without brackets
			"host:9092 ",       // 11: trailing space
			"h..example.com:1", // 12: empty label
		}}, []string{
			"bootstrapServers[1]", "bootstrapServers[2]", "bootstrapServers[3]", "bootstrapServers[4]",
			"bootstrapServers[5]", "bootstrapServers[6]", "bootstrapServers[7]", "bootstrapServers[8]",
			"bootstrapServers[9]", "bootstrapServers[10]", "bootstrapServers[11]", "bootstrapServers[12]",
		}},

		{"tls system roots", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true}}, nil},
		{"tls full", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{
			Enabled: true, CACert: ca.certPEM, ClientCert: client.certPEM, ClientKey: client.keyPEM, ServerName: "kafka.example.com",
		}}, nil},
		{"tls ca bundle", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, CACert: ca.certPEM + "\n" + newCA(t, "second").certPEM}}, nil},
		{"tls EC key", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, ClientCert: client.certPEM, ClientKey: ecKeyPEM}}, nil},
		{"tls disabled is fine alone", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{}}, nil},
		{"tls settings while disabled", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{CACert: ca.certPEM}}, []string{"tls.enabled"}},
		{"ca not PEM", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, CACert: "not a certificate"}}, []string{"tls.caCert"}},
		{"ca garbage DER", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true,
			CACert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage")}))}}, []string{"tls.caCert"}},
		{"ca is a key", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, CACert: client.keyPEM}}, []string{"tls.caCert"}},
		{"ca trailing junk", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, CACert: ca.certPEM + "junk"}}, []string{"tls.caCert"}},
		{"cert without key", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, ClientCert: client.certPEM}}, []string{"tls.clientKey"}},
		{"key without cert", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, ClientKey: client.keyPEM}}, []string{"tls.clientCert"}},
		{"key mismatch", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, ClientCert: client.certPEM, ClientKey: other.keyPEM}}, []string{"tls.clientKey"}},
		{"key not PEM", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, ClientCert: client.certPEM, ClientKey: secret}}, []string{"tls.clientKey"}},
		{"key is a cert", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, ClientCert: client.certPEM, ClientKey: client.certPEM}}, []string{"tls.clientKey"}},
		{"cert not PEM", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, ClientCert: "nope", ClientKey: client.keyPEM}}, []string{"tls.clientCert"}},
		{"bad server name", kafkaconn.Config{Bootstrap: boot, TLS: &kafkaconn.TLS{Enabled: true, ServerName: "not a host"}}, []string{"tls.serverName"}},

		{"sasl plain", kafkaconn.Config{Bootstrap: boot, SASL: &kafkaconn.SASL{Mechanism: "PLAIN", Username: "u", Password: secret}}, nil},
		{"sasl scram 256", kafkaconn.Config{Bootstrap: boot, SASL: &kafkaconn.SASL{Mechanism: "SCRAM-SHA-256", Username: "u", Password: secret}}, nil},
		{"sasl scram 512", kafkaconn.Config{Bootstrap: boot, SASL: &kafkaconn.SASL{Mechanism: "SCRAM-SHA-512", Username: "u", Password: secret}}, nil},
		{"sasl unknown mechanism", kafkaconn.Config{Bootstrap: boot, SASL: &kafkaconn.SASL{Mechanism: "GSSAPI", Username: "u", Password: secret}}, []string{"sasl.mechanism"}},
		{"sasl lower case mechanism", kafkaconn.Config{Bootstrap: boot, SASL: &kafkaconn.SASL{Mechanism: "plain", Username: "u", Password: secret}}, []string{"sasl.mechanism"}},
		{"sasl empty", kafkaconn.Config{Bootstrap: boot, SASL: &kafkaconn.SASL{}}, []string{"sasl.mechanism", "sasl.username", "sasl.password"}},

		{"everything wrong", kafkaconn.Config{
			Bootstrap: []string{"a:1", "b"},
			TLS:       &kafkaconn.TLS{Enabled: true, CACert: "x", ClientKey: client.keyPEM},
			SASL:      &kafkaconn.SASL{Mechanism: "OAUTHBEARER", Username: "u"},
		}, []string{"bootstrapServers[1]", "tls.caCert", "tls.clientCert", "sasl.mechanism", "sasl.password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.cfg.Validate()
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
				if e.Message == "" {
					t.Errorf("%s: empty message", e.Field)
				}
				for _, s := range []string{secret, keyBody(client.keyPEM), keyBody(other.keyPEM), "-----"} {
					if strings.Contains(e.Error(), s) {
						t.Errorf("%s: message leaks a secret: %q", e.Field, e.Message)
					}
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate() fields = %q, want %q\nerrors: %v", got, tt.want, errs)
			}
			// Options agrees with Validate and reports the same fields.
			opts, err := tt.cfg.Options()
			if (err == nil) != (len(tt.want) == 0) {
				t.Fatalf("Options() error = %v, want error: %v", err, len(tt.want) > 0)
			}
			if err == nil && len(opts) == 0 {
				t.Fatal("Options() returned no options")
			}
			if err != nil {
				var fe kafkaconn.FieldError
				if !errors.As(err, &fe) || fe.Field != tt.want[0] {
					t.Errorf("Options() error %v: errors.As FieldError = %+v, want field %s", err, fe, tt.want[0])
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), keyBody(client.keyPEM)) || strings.Contains(err.Error(), "-----") {
					t.Errorf("Options() error leaks a secret: %v", err)
				}
			}
		})
	}
}

// keyBody returns the first base64 line of a PEM key, to look for in
// messages that must not contain it.
func keyBody(keyPEM string) string {
	return strings.Split(keyPEM, "\n")[1]
}

func TestValidateMessages(t *testing.T) {
	for _, tt := range []struct {
		addr, want string
	}{
		{"nohost", "must be host:port: missing port in address"},
		{":1", "host is missing"},
		{"h:0", `port "0" must be a number from 1 to 65535`},
		{"h:99999", `port "99999" must be a number from 1 to 65535`},
		{"bad host:1", `host "bad host" is not a valid host name or IP address`},
	} {
		errs := kafkaconn.Config{Bootstrap: []string{tt.addr}}.Validate()
		if len(errs) != 1 || errs[0].Message != tt.want {
			t.Errorf("Validate(%q) = %v, want one error %q", tt.addr, errs, tt.want)
		}
	}
	errs := kafkaconn.Config{Bootstrap: []string{"h:1"}, SASL: &kafkaconn.SASL{Mechanism: "GSSAPI", Username: "u", Password: "p"}}.Validate()
	if len(errs) != 1 || errs[0].Error() != `sasl.mechanism: unknown mechanism "GSSAPI": want one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512` {
		t.Errorf("Validate() = %v", errs)
	}
}

func TestRedacted(t *testing.T) {
	ca := newCA(t, "test CA")
	client := newClientCert(t, ca)
	cfg := kafkaconn.Config{
		Bootstrap: []string{"k1:9092", "k2:9092"},
		TLS:       &kafkaconn.TLS{Enabled: true, CACert: ca.certPEM, ClientCert: client.certPEM, ClientKey: client.keyPEM, ServerName: "k"},
		SASL:      &kafkaconn.SASL{Mechanism: "SCRAM-SHA-512", Username: "sluice", Password: "hunter2-secret"},
	}
	r := cfg.Redacted()
	if r.TLS.ClientKey != "" || r.SASL.Password != "" {
		t.Fatalf("Redacted kept a secret: %+v %+v", *r.TLS, *r.SASL)
	}
	if !cfg.HasClientKey() || !cfg.HasPassword() || r.HasClientKey() || r.HasPassword() {
		t.Errorf("HasClientKey/HasPassword: original %v/%v, redacted %v/%v", cfg.HasClientKey(), cfg.HasPassword(), r.HasClientKey(), r.HasPassword())
	}
	if r.TLS.CACert != ca.certPEM || r.TLS.ClientCert != client.certPEM || r.TLS.ServerName != "k" || r.SASL.Username != "sluice" || r.SASL.Mechanism != "SCRAM-SHA-512" {
		t.Errorf("Redacted dropped non-secret fields: %+v %+v", *r.TLS, *r.SASL)
	}
	// A deep copy: changing the copy leaves the original alone.
	r.Bootstrap[0], r.TLS.ServerName, r.SASL.Username = "x:1", "x", "x"
	if cfg.Bootstrap[0] != "k1:9092" || cfg.TLS.ServerName != "k" || cfg.SASL.Username != "sluice" || cfg.TLS.ClientKey == "" {
		t.Errorf("Redacted shares memory with the original: %+v", cfg)
	}
	if (kafkaconn.Config{}).Redacted().TLS != nil {
		t.Error("Redacted invented a TLS section")
	}

	b, err := json.Marshal(cfg.Redacted())
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	for _, s := range []string{"clientKey", "password", "hunter2"} {
		if strings.Contains(js, s) {
			t.Errorf("redacted JSON contains %q: %s", s, js)
		}
	}
	for _, s := range []string{`"bootstrapServers":["k1:9092","k2:9092"]`, `"mechanism":"SCRAM-SHA-512"`, `"username":"sluice"`, `"caCert":`} {
		if !strings.Contains(js, s) {
			t.Errorf("redacted JSON lacks %s: %s", s, js)
		}
	}

	// Formatting and logging never show secrets.
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cluster", "config", cfg)
	for _, out := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%v", cfg.TLS), fmt.Sprintf("%v", cfg.SASL), logged.String()} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, keyBody(client.keyPEM)) {
			t.Errorf("formatted config leaks a secret: %s", out)
		}
		if !strings.Contains(out, "set") {
			t.Errorf("formatted config does not say a secret is set: %s", out)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	in := `{"bootstrapServers":["k:9092"],"tls":{"enabled":true,"serverName":"k"},"sasl":{"mechanism":"PLAIN","username":"u","password":"p"}}`
	var cfg kafkaconn.Config
	if err := json.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	want := kafkaconn.Config{Bootstrap: []string{"k:9092"}, TLS: &kafkaconn.TLS{Enabled: true, ServerName: "k"}, SASL: &kafkaconn.SASL{Mechanism: "PLAIN", Username: "u", Password: "p"}}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("decoded %+v, want %+v", cfg, want)
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip:\n got %s\nwant %s", out, in)
	}
}

func TestOptionsErrorListsEveryField(t *testing.T) {
	_, err := kafkaconn.Config{Bootstrap: []string{"a"}, SASL: &kafkaconn.SASL{}}.Options()
	want := "invalid kafka connection config: bootstrapServers[0]: must be host:port: missing port in address; " +
		"sasl.mechanism: required: one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; sasl.username: required; sasl.password: required"
	if err == nil || err.Error() != want {
		t.Fatalf("Options() error:\n got %v\nwant %s", err, want)
	}
}

func TestNewClientRejectsInvalidConfig(t *testing.T) {
	_, err := kafkaconn.NewClient(kafkaconn.Config{Bootstrap: []string{"k:1"}, SASL: &kafkaconn.SASL{Mechanism: "PLAIN", Username: "u"}})
	var fe kafkaconn.FieldError
	if !errors.As(err, &fe) || fe.Field != "sasl.password" {
		t.Fatalf("NewClient error = %v, want FieldError for sasl.password", err)
	}
	if _, err := kafkaconn.NewAdmin(kafkaconn.Config{}); err == nil {
		t.Fatal("NewAdmin accepted a config without bootstrap servers")
	}
}

package sink

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestForbidden(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1": "loopback", "::1": "loopback", "10.1.2.3": "private", "192.168.0.1": "private", "172.16.5.4": "private",
		"fd12::1": "private", "169.254.10.10": "link-local", "fe80::1": "link-local", "100.64.1.1": "carrier-grade",
		"0.0.0.0": "unspecified", "239.1.1.1": "multicast", "169.254.169.254": "cloud metadata", "::ffff:10.0.0.1": "private",
		"8.8.8.8": "", "2606:4700::1111": "",
	} {
		got := Forbidden(Env{}, netip.MustParseAddr(addr))
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
	if got := Forbidden(Env{AllowPrivate: true}, netip.MustParseAddr("127.0.0.1")); got != "" {
		t.Errorf("allowed loopback refused: %s", got)
	}
	if got := Forbidden(Env{AllowPrivate: true}, netip.MustParseAddr("169.254.169.254")); got == "" {
		t.Error("cloud metadata allowed with AllowPrivate")
	}
}

// TestDialerChecksEveryConnection: the check runs on the address actually
// dialled, after resolution, so a name pointing at loopback is refused.
func TestDialerChecksEveryConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx := context.Background()
	_, err = Dialer(Env{}, time.Second).DialContext(ctx, "tcp", "localhost:"+port)
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("dial localhost under the default policy: %v", err)
	}
	c, err := Dialer(Env{AllowPrivate: true}, time.Second).DialContext(ctx, "tcp", "localhost:"+port)
	if err != nil {
		t.Fatalf("dial with private destinations allowed: %v", err)
	}
	c.Close()
}

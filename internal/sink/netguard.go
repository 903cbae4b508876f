package sink

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// cloudMetadata are the addresses cloud providers serve instance metadata
// (and credentials) on; they are refused even when private addresses are
// allowed, except on loopback-only development setups that never use them.
var cloudMetadata = []netip.Prefix{
	netip.MustParsePrefix("169.254.169.254/32"), // AWS, GCP, Azure, OpenStack
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS IPv6
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
}

// Forbidden reports why a network sink may not connect to addr under env,
// or "" when it may. Without AllowPrivate, loopback, private (RFC 1918,
// RFC 4193), link-local, CGNAT (100.64.0.0/10), unspecified and multicast
// addresses are refused; cloud metadata addresses always are.
func Forbidden(env Env, addr netip.Addr) string {
	addr = addr.Unmap()
	for _, p := range cloudMetadata {
		if p.Contains(addr) {
			return "a cloud metadata address"
		}
	}
	if env.AllowPrivate {
		return ""
	}
	switch {
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsPrivate():
		return "a private address"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "a link-local address"
	case addr.IsUnspecified():
		return "an unspecified address"
	case addr.IsMulticast():
		return "a multicast address"
	case netip.MustParsePrefix("100.64.0.0/10").Contains(addr):
		return "a carrier-grade NAT address"
	}
	return ""
}

// Dialer returns a dialer for network sinks that checks every address it
// connects to, after DNS resolution and on every new connection, so a
// name that resolves (or later re-resolves: DNS rebinding) to a forbidden
// address is refused.
func Dialer(env Env, timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout: timeout,
		ControlContext: func(_ context.Context, network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("sink: destination %s: %w", address, err)
			}
			if why := Forbidden(env, ap.Addr()); why != "" {
				return Permanent(fmt.Errorf("sink: destination %s is %s, which sinks may not reach (the operator can allow private destinations with --allow-private-sinks)", address, why))
			}
			return nil
		},
	}
}

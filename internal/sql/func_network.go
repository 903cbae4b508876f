package sql

import (
	"bytes"
	"fmt"
	"net/netip"
	"unsafe"
)

// Network functions over IPv4 and IPv6 addresses in text form. Text that
// is not an address (including addresses with a zone such as fe80::1%eth0)
// gives NULL, not an error. An IPv4-mapped IPv6 address (::ffff:10.1.2.3)
// counts as the IPv4 address.

var errFnPrefixLength = &EvalError{Msg: "IP_SUBNET: prefix length out of range (0 to 32 for IPv4, 0 to 128 for IPv6)"}

// fnParseIPv4 parses a dotted quad without leading zeros, as netip does.
func fnParseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	part, n, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || part > 3 {
				return netip.Addr{}, false
			}
			ip[part] = byte(n)
			part++
			n, digits = 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' || digits > 0 && n == 0 {
			return netip.Addr{}, false
		}
		n = n*10 + int(c-'0')
		digits++
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// fnParseIP parses an IPv4 or IPv6 address, unmapping IPv4-mapped IPv6.
func fnParseIP(b []byte) (netip.Addr, bool) {
	if bytes.IndexByte(b, ':') < 0 {
		return fnParseIPv4(b)
	}
	// Only hex digits, colons and dots can make an IPv6 address; checking
	// first keeps netip from building an error for common junk, and rules
	// out zones, which netip would keep a copy of.
	if len(b) > 45 {
		return netip.Addr{}, false
	}
	for _, c := range b {
		if !fnIsHex(c) && c != ':' && c != '.' {
			return netip.Addr{}, false
		}
	}
	// unsafe.String avoids copying b: ParseAddr does not keep its argument
	// past the call (a zone, which it would intern, was ruled out above,
	// and the error it may return is dropped here), and b is not modified
	// while it runs.
	a, err := netip.ParseAddr(unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// fnParseCIDR parses a prefix such as 10.0.0.0/8 or 2001:db8::/32, or a
// bare address as a single-address prefix. Host bits may be set.
func fnParseCIDR(b []byte) (netip.Prefix, bool) {
	slash := bytes.IndexByte(b, '/')
	if slash < 0 {
		a, ok := fnParseIP(b)
		if !ok {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	a, ok := fnParseIP(b[:slash])
	if !ok {
		return netip.Prefix{}, false
	}
	v6Text := bytes.IndexByte(b[:slash], ':') >= 0
	maxBits := int64(32)
	if v6Text {
		maxBits = 128
	}
	bits, end, ok := digits(b, slash+1, 1, 3)
	if !ok || end != len(b) || bits > maxBits || (end-slash-1 > 1 && b[slash+1] == '0') {
		return netip.Prefix{}, false
	}
	if a.Is4() && v6Text {
		// ::ffff:10.0.0.0/104 is 10.0.0.0/8.
		if bits < 96 {
			return netip.Prefix{}, false
		}
		bits -= 96
	}
	p, err := a.Prefix(int(bits))
	return p, err == nil
}

func fnIPInCIDRBuild(args []Arg) (Eval, error) {
	if fnHasNullConst(args) {
		return fnNullEval, nil
	}
	if c := args[1].Const; c != nil {
		p, ok := fnParseCIDR(c.B)
		if !ok {
			return nil, fmt.Errorf("IP_IN_CIDR: invalid CIDR %q in the second argument (expected e.g. '10.0.0.0/8' or '2001:db8::/32')", c.B)
		}
		return fnStrict1(func(_ *Env, a Value) Value {
			ip, ok := fnParseIP(a.B)
			if !ok {
				return Null
			}
			return Bool(p.Contains(ip))
		})(args[:1])
	}
	return fnStrict2(func(_ *Env, a, c Value) Value {
		ip, ok := fnParseIP(a.B)
		if !ok {
			return Null
		}
		p, ok := fnParseCIDR(c.B)
		if !ok {
			return Null
		}
		return Bool(p.Contains(ip))
	})(args)
}

// fnPrivateNets are the ranges IS_PRIVATE_IP accepts.
var fnPrivateNets = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),     // RFC 1918
	netip.MustParsePrefix("172.16.0.0/12"),  // RFC 1918
	netip.MustParsePrefix("192.168.0.0/16"), // RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),  // RFC 6598 carrier-grade NAT
	netip.MustParsePrefix("127.0.0.0/8"),    // loopback
	netip.MustParsePrefix("169.254.0.0/16"), // link-local
	netip.MustParsePrefix("::1/128"),        // loopback
	netip.MustParsePrefix("fc00::/7"),       // RFC 4193 unique local
	netip.MustParsePrefix("fe80::/10"),      // link-local
}

func fnIsPrivate(a netip.Addr) bool {
	for _, p := range fnPrivateNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func fnIPSubnet(e *Env, ip []byte, bits int64) Value {
	a, ok := fnParseIP(ip)
	if !ok {
		return Null
	}
	if bits < 0 || bits > int64(a.BitLen()) {
		e.Fail(errFnPrefixLength)
		return Null
	}
	p, _ := a.Prefix(int(bits))
	start, b := e.Begin()
	b = p.AppendTo(b)
	return e.End(start, b)
}

func init() {
	const cat = "network"
	fnRegister("IP_IN_CIDR", cat, "Whether the address is in the CIDR block (a bare address is a block of one); FALSE when their families differ, NULL when the address is not valid. A constant CIDR is parsed once and an invalid one is an error; a CIDR computed per row that is not valid gives NULL.",
		"IP_IN_CIDR('10.1.2.3', '10.0.0.0/8')", "TRUE",
		fnSig(Boolean, fnIPInCIDRBuild, Varchar, Varchar))
	fnRegister("IS_PRIVATE_IP", cat, "Whether the address is private or local: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (RFC 1918), 100.64.0.0/10 (RFC 6598 carrier-grade NAT), 127.0.0.0/8 and ::1 (loopback), 169.254.0.0/16 and fe80::/10 (link-local), fc00::/7 (RFC 4193 unique local). NULL when the address is not valid.",
		"IS_PRIVATE_IP('192.168.1.10')", "TRUE",
		fnSig(Boolean, fnStrict1(func(_ *Env, a Value) Value {
			ip, ok := fnParseIP(a.B)
			if !ok {
				return Null
			}
			return Bool(fnIsPrivate(ip))
		}), Varchar))
	fnRegister("IP_TO_INT", cat, "An IPv4 address as a number between 0 and 4294967295; NULL for IPv6 addresses and invalid text.",
		"IP_TO_INT('10.0.0.1')", "167772161",
		fnSig(BigInt, fnStrict1(func(_ *Env, a Value) Value {
			ip, ok := fnParseIP(a.B)
			if !ok || !ip.Is4() {
				return Null
			}
			b := ip.As4()
			return Value{I: int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])}
		}), Varchar))
	fnRegister("INT_TO_IP", cat, "The IPv4 address of a number between 0 and 4294967295; NULL outside that range.",
		"INT_TO_IP(167772161)", "'10.0.0.1'",
		fnSig(Varchar, fnStrict1(func(e *Env, a Value) Value {
			if a.I < 0 || a.I > 0xFFFFFFFF {
				return Null
			}
			n := uint32(a.I)
			start, b := e.Begin()
			b = netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).AppendTo(b)
			return e.End(start, b)
		}), BigInt))
	fnRegister("IP_SUBNET", cat, "The network of the address with the given prefix length, in CIDR form; a length outside 0 to 32 (IPv4) or 0 to 128 (IPv6) is an error, invalid addresses give NULL.",
		"IP_SUBNET('10.1.2.3', 24)", "'10.1.2.0/24'",
		fnSig(Varchar, fnStrict2(func(e *Env, a, b Value) Value { return fnIPSubnet(e, a.B, b.I) }), Varchar, Integer))
	fnRegister("IS_IPV4", cat, "Whether the text is an IPv4 address (dotted quad, no leading zeros).",
		"IS_IPV4('10.0.0.1')", "TRUE",
		fnSig(Boolean, fnStrict1(func(_ *Env, a Value) Value {
			_, ok := fnParseIPv4(a.B)
			return Bool(ok)
		}), Varchar))
	fnRegister("IS_IPV6", cat, "Whether the text is an IPv6 address (including IPv4-mapped forms such as ::ffff:10.0.0.1; zones are not accepted).",
		"IS_IPV6('2001:db8::1')", "TRUE",
		fnSig(Boolean, fnStrict1(func(_ *Env, a Value) Value {
			if bytes.IndexByte(a.B, ':') < 0 {
				return Bool(false)
			}
			_, ok := fnParseIP(a.B)
			return Bool(ok)
		}), Varchar))
	fnRegister("IP_FAMILY", cat, "4 for an IPv4 address, 6 for IPv6 (as PostgreSQL's family); NULL for invalid text.",
		"IP_FAMILY('2001:db8::1')", "6",
		fnSig(Integer, fnStrict1(func(_ *Env, a Value) Value {
			ip, ok := fnParseIP(a.B)
			switch {
			case !ok:
				return Null
			case ip.Is4() && bytes.IndexByte(a.B, ':') < 0:
				return Value{I: 4}
			}
			return Value{I: 6}
		}), Varchar))
}

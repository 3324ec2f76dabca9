package envs

import (
	"fmt"
	"net/netip"
	"slices"
)

// notPublic are IPv4 blocks that cannot be the source address of a request
// reaching a public endpoint over the internet (RFC 6890: "this network",
// private, shared CGNAT, loopback, link-local, multicast and reserved).
// Listing them in publicAccessCidrs opens nothing, so they do not count
// towards the width limit.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("224.0.0.0/3"),
}

// span is an inclusive IPv4 range as integers.
type span struct{ lo, hi uint64 }

func spanOf(p netip.Prefix) span {
	a := p.Masked().Addr().As4()
	lo := uint64(a[0])<<24 | uint64(a[1])<<16 | uint64(a[2])<<8 | uint64(a[3])
	return span{lo, lo + 1<<(32-p.Bits()) - 1}
}

// merge sorts spans and joins the overlapping or adjacent ones.
func merge(in []span) []span {
	s := slices.Clone(in)
	slices.SortFunc(s, func(a, b span) int { return int(int64(a.lo) - int64(b.lo)) })
	var out []span
	for _, x := range s {
		if n := len(out); n > 0 && x.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, x.hi)
			continue
		}
		out = append(out, x)
	}
	return out
}

// publicAddresses counts the public IPv4 addresses the union of blocks
// covers. Counting the union, not each block, is what stops a wide opening
// split into narrow-looking pieces, such as 0.0.0.0/1 plus 128.0.0.0/1.
func publicAddresses(blocks []netip.Prefix) uint64 {
	var all, private []span
	for _, b := range blocks {
		all = append(all, spanOf(b))
	}
	for _, b := range notPublic {
		private = append(private, spanOf(b))
	}
	private = merge(private)
	var total uint64
	for _, u := range merge(all) {
		total += u.hi - u.lo + 1
		for _, p := range private {
			if lo, hi := max(u.lo, p.lo), min(u.hi, p.hi); lo <= hi {
				total -= hi - lo + 1
			}
		}
	}
	return total
}

// validatePublicAccess guards the EKS API endpoint. prod has no public
// endpoint at all (a prod invariant). Elsewhere the listed blocks must be IPv4 CIDRs (EKS
// accepts no others), none may be the whole internet, and together they may
// cover at most as many public addresses as one /publicAccessWidestPrefix.
func validatePublicAccess(p *problems, c *Config) {
	k := c.Cluster
	if k.PublicAccessWidestPrefix < MinPublicAccessPrefix || k.PublicAccessWidestPrefix > 32 {
		p.add("cluster.publicAccessWidestPrefix", "%d must be between %d and 32 (a prefix length; the default %d allows one /%d of public addresses)",
			k.PublicAccessWidestPrefix, MinPublicAccessPrefix, DefaultPublicAccessPrefix, DefaultPublicAccessPrefix)
	}
	if c.IsProd() {
		return // prod has no public endpoint at all (invariants.go)
	}
	if *k.EndpointPublicAccess && len(k.PublicAccessCidrs) == 0 {
		p.add("cluster.publicAccessCidrs", "is empty while endpointPublicAccess is true; list the office/VPN CIDRs allowed to reach the API")
	}
	var blocks []netip.Prefix
	ok := true
	for i, s := range k.PublicAccessCidrs {
		field := fmt.Sprintf("cluster.publicAccessCidrs[%d]", i)
		pre, err := netip.ParsePrefix(s)
		switch {
		case err != nil || pre != pre.Masked() || !pre.Addr().Is4():
			p.add(field, "%q is not an IPv4 CIDR block, e.g. 203.0.113.0/24", s)
			ok = false
		case pre.Bits() == 0:
			p.add(field, "%q opens the %s API to the whole internet; list your office or VPN egress blocks instead", s, c.Env)
			ok = false
		default:
			blocks = append(blocks, pre)
		}
	}
	if !ok || k.PublicAccessWidestPrefix < MinPublicAccessPrefix || k.PublicAccessWidestPrefix > 32 {
		return
	}
	if n, limit := publicAddresses(blocks), uint64(1)<<(32-k.PublicAccessWidestPrefix); n > limit {
		p.add("cluster.publicAccessCidrs", "together cover %d public addresses, more than one /%d (%d); list narrower office or VPN blocks, or set a smaller cluster.publicAccessWidestPrefix (a wider limit) with a recorded reason",
			n, k.PublicAccessWidestPrefix, limit)
	}
}

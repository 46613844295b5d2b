package render

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"ipdesk"
)

// squidMaxComment bounds a comment line of a squid ACL file; squid reads
// such files in lines of at most 2048 bytes.
const squidMaxComment = 512

// SquidLevel writes the squid ACL list of the hosts at the given internet
// access level: a header comment, then one address per line (IPv4 first,
// then IPv6, each sorted, each address once). Every host with an address
// counts, whether or not it has a DHCP reservation.
//
// Each level from 1 up has a list of its own (for_dhcp's proxy1, proxy2 and
// proxy3). Level 0 means no internet access: it is in no allow rule, so
// its list, which this function also writes, is only useful for a deny
// rule. squid.conf reads the lists with acl lines and allows each level
// what it may reach; the first matching http_access line decides:
//
//	acl ipdesk_level1 src "/var/lib/ipdesk/squid/level1.txt"
//	acl ipdesk_level2 src "/var/lib/ipdesk/squid/level2.txt"
//	acl ipdesk_level3 src "/var/lib/ipdesk/squid/level3.txt"
//	acl allowed_sites dstdomain "/etc/squid/allowed-sites.txt"
//	acl bad_sites dstdomain "/etc/squid/bad-sites.txt"
//	http_access allow ipdesk_level1 allowed_sites
//	http_access allow ipdesk_level2 !bad_sites
//	http_access allow ipdesk_level3
//	http_access deny all
//
// "squid -k reconfigure" makes squid read the lists again. An empty list
// is valid; squid warns about the empty ACL.
func SquidLevel(in *Input, level int) []byte {
	name := ""
	for _, l := range in.Levels {
		if l != nil && l.Level == level {
			name = cleanText(l.Name)
			break
		}
	}
	hs := selectHosts(in, func(a *ipdesk.Address, _ netip.Addr) bool {
		return a.AccessLevel == level
	})
	addrs := uniqueAddrs(hs)
	head := "# squid ACL list of internet access level " + strconv.Itoa(level)
	if name != "" {
		head += " \"" + name + "\""
	}
	head += ", written by ipdesk: " + count(len(addrs), "address", "addresses") + "."
	return squidAddrList(clipBytes(head, squidMaxComment), addrs)
}

// SquidLevels returns the access levels from 1 up that need a list: those
// named in in.Levels and those any host has, sorted.
func SquidLevels(in *Input) []int {
	var levels []int
	for _, l := range in.Levels {
		if l != nil && l.Level >= 1 {
			levels = append(levels, l.Level)
		}
	}
	for _, a := range in.Hosts {
		if a != nil && a.AccessLevel >= 1 {
			levels = append(levels, a.AccessLevel)
		}
	}
	slices.Sort(levels)
	return slices.Compact(levels)
}

// SquidBlockedHosts writes the squid ACL list of the addresses of the hosts
// in the blocked locations: one address per line, sorted, each once. A host
// counts when its location is one of blocked or inside one of them (a
// blocked building blocks its rooms); the parents come from in.Locations.
// With SquidBlockedNames it replaces the blocking file of the timetable
// switcher ("Sperrprogramm"):
//
//	acl ipdesk_blocked src "/var/lib/ipdesk/squid/blocked-hosts.txt"
//	acl ipdesk_blocked_names srcdom_regex -i "/var/lib/ipdesk/squid/blocked-names.txt"
//	http_access deny ipdesk_blocked
//	http_access deny ipdesk_blocked_names
//
// The deny lines come before the allow lines of the levels.
func SquidBlockedHosts(in *Input, blocked []int64) []byte {
	inBlocked := blockedSet(in, blocked)
	hs := selectHosts(in, func(a *ipdesk.Address, _ netip.Addr) bool {
		return a.LocationID != 0 && inBlocked(a.LocationID)
	})
	addrs := uniqueAddrs(hs)
	head := "# squid ACL list of the hosts in blocked rooms, written by ipdesk: " + count(len(addrs), "address", "addresses") + "."
	return squidAddrList(head, addrs)
}

// SquidBlockedNames writes a list of regular expressions for squid's
// srcdom_regex ACL, one per blocked location that has a host name pattern
// (also locations inside a blocked one). srcdom_regex matches the client's
// name as found by reverse DNS, so this list also blocks computers that
// have no record in ipdesk, provided they are named by their room's
// pattern: the pattern "z303c" becomes
//
//	^z303c[0-9]+(\.|$)
//
// which matches z303c1, z303c17 and z303c5.school.example, but neither
// xz303c1 nor z303c itself. The pattern is written in lower case, with its
// dots escaped; use the acl's -i flag, as DNS names ignore case. Patterns
// that are not valid host names are left out, since squid would split them
// at blanks or read them as other expressions. Clients without a reverse
// DNS name are not matched; SquidBlockedHosts covers those by address.
func SquidBlockedNames(in *Input, blocked []int64) []byte {
	inBlocked := blockedSet(in, blocked)
	var res []string
	for id, l := range in.Locations {
		if l == nil || l.HostnamePattern == "" || !inBlocked(id) || !validHostname(l.HostnamePattern) {
			continue
		}
		res = append(res, "^"+regexQuoteERE(strings.ToLower(l.HostnamePattern))+`[0-9]+(\.|$)`)
	}
	slices.Sort(res)
	res = slices.Compact(res)
	b := make([]byte, 0, 128+len(res)*32)
	b = append(b, "# squid srcdom_regex list of the host name patterns of blocked rooms, written by ipdesk: "+count(len(res), "pattern", "patterns")+".\n"...)
	b = append(b, "# Do not edit: ipdesk replaces this file.\n"...)
	for _, r := range res {
		b = append(b, r...)
		b = append(b, '\n')
	}
	return b
}

// blockedSet returns a test for "location id is one of blocked or inside
// one of them". The walk up the parents stops at unknown locations and at
// cycles.
func blockedSet(in *Input, blocked []int64) func(id int64) bool {
	set := make(map[int64]bool, len(blocked))
	for _, id := range blocked {
		set[id] = true
	}
	memo := make(map[int64]bool)
	return func(id int64) bool {
		if v, ok := memo[id]; ok {
			return v
		}
		found := false
		seen := map[int64]bool{}
		for cur := id; cur != 0 && !seen[cur]; {
			if set[cur] {
				found = true
				break
			}
			seen[cur] = true
			l := in.Locations[cur]
			if l == nil {
				break
			}
			cur = l.ParentID
		}
		memo[id] = found
		return found
	}
}

// uniqueAddrs returns the addresses of sorted hosts, each once.
func uniqueAddrs(hs []host) []netip.Addr {
	addrs := make([]netip.Addr, 0, len(hs))
	for _, h := range hs {
		if n := len(addrs); n == 0 || addrs[n-1] != h.addr {
			addrs = append(addrs, h.addr)
		}
	}
	return addrs
}

// squidAddrList writes a header comment line and one address per line.
func squidAddrList(header string, addrs []netip.Addr) []byte {
	b := make([]byte, 0, len(header)+64+len(addrs)*16)
	b = append(b, header...)
	b = append(b, "\n# Do not edit: ipdesk replaces this file.\n"...)
	for _, a := range addrs {
		b = a.AppendTo(b)
		b = append(b, '\n')
	}
	return b
}

// regexQuoteERE escapes the characters that are special in a POSIX
// extended regular expression, the syntax of squid's regex ACLs.
func regexQuoteERE(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`\.[]{}()*+?^$|`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

package leases

import (
	"strconv"
	"strings"
	"time"
)

// ParseDnsmasq reads dnsmasq's lease file (--dhcp-leasefile): one line
// per lease, "EXPIRY MAC ADDRESS HOSTNAME CLIENT-ID", EXPIRY in seconds
// since 1970 and 0 for an infinite lease, "*" for an unknown host name.
// DHCPv6 leases (an IAID in place of the MAC) are read without a MAC; the
// server's "duid" line is passed over. dnsmasq keeps no start time, so
// the last contact is taken as EXPIRY less leaseTime, the lease time
// dnsmasq was configured with (0: unknown). Lines that cannot be read are
// skipped and counted.
func ParseDnsmasq(data []byte, leaseTime time.Duration) File {
	var c collector
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "duid" {
			continue
		}
		c.take(dnsmasqLine(f, leaseTime))
	}
	return c.out
}

func dnsmasqLine(f []string, leaseTime time.Duration) (Lease, bool) {
	if len(f) < 4 {
		return Lease{}, false
	}
	expiry, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || expiry < 0 || expiry > 1<<40 {
		return Lease{}, false
	}
	addr, ok := parseAddr(f[2])
	if !ok {
		return Lease{}, false
	}
	l := Lease{Addr: addr, State: StateActive}
	if addr.Is4() {
		hw := f[1]
		if len(hw) > 3 && hw[2] == '-' {
			hw = hw[3:] // a hardware type other than Ethernet
		}
		if m, ok := parseHWAddr(hw); ok {
			l.MAC = m
		} else if hw == f[1] {
			return Lease{}, false
		}
	}
	if f[3] != "*" {
		l.Hostname = f[3]
	}
	if expiry == 0 {
		l.Never = true
	} else {
		l.Ends = time.Unix(expiry, 0).UTC()
		if leaseTime > 0 {
			l.Seen = l.Ends.Add(-leaseTime)
			l.Starts = l.Seen
		}
	}
	return l, true
}

// Package leases reads the live lease databases of the DHCP servers that
// ipdesk writes reservations for (ISC dhcpd's dhcpd.leases, Kea's memfile
// CSV, dnsmasq's leases file) and compares them with the address plan.
//
// The parsers are pure: bytes in, leases out. A line or block they cannot
// use is skipped and counted, never fatal, since the files are written by
// the daemons while ipdesk reads them.
package leases

import (
	"net/netip"
	"time"

	"ipdesk"
)

// State is the binding state of a lease, in ISC dhcpd's words.
type State string

// Lease states. Kea's and dnsmasq's states are mapped onto these.
const (
	StateActive    State = "active"
	StateFree      State = "free"
	StateBackup    State = "backup"
	StateExpired   State = "expired"
	StateReleased  State = "released"
	StateAbandoned State = "abandoned"
	StateDeclined  State = "declined"
	StateOther     State = "other"
)

// Lease is one address a DHCP server has handed out (or had).
type Lease struct {
	Addr netip.Addr
	// MAC is the client's hardware address; zero when the server did not
	// record an Ethernet address.
	MAC ipdesk.MAC
	// Hostname is the name the client sent, as the server stored it.
	Hostname string
	State    State
	// Starts is when the lease began; zero when the file does not say.
	Starts time.Time
	// Ends is when the lease runs out; zero with Never for an infinite
	// lease, zero alone when the file does not say.
	Ends  time.Time
	Never bool
	// Seen is the client's last contact with the server; zero when
	// unknown.
	Seen time.Time
}

// ActiveAt tells whether the lease binds its address at now.
func (l Lease) ActiveAt(now time.Time) bool {
	if l.State != StateActive {
		return false
	}
	return l.Never || l.Ends.IsZero() || l.Ends.After(now)
}

// File is what a parser found in one lease file.
type File struct {
	// Leases holds one lease per address: the last the file gives for it,
	// in the order the addresses first appear.
	Leases []Lease
	// Skipped counts the lines (dnsmasq, Kea) or blocks and statements
	// (dhcpd) that could not be read.
	Skipped int
}

// collector keeps the last lease per address in first-seen order.
type collector struct {
	index map[netip.Addr]int
	out   File
}

func (c *collector) add(l Lease) {
	if c.index == nil {
		c.index = make(map[netip.Addr]int)
	}
	if i, ok := c.index[l.Addr]; ok {
		c.out.Leases[i] = l
		return
	}
	c.index[l.Addr] = len(c.out.Leases)
	c.out.Leases = append(c.out.Leases, l)
}

// take adds l when ok, else counts a skipped line.
func (c *collector) take(l Lease, ok bool) {
	if !ok {
		c.out.Skipped++
		return
	}
	c.add(l)
}

// parseHWAddr reads a hardware address as the daemons write it: six
// colon-separated hex octets, each of one or two digits (dhcpd may drop a
// leading zero). Only Ethernet-sized addresses are taken.
func parseHWAddr(s string) (ipdesk.MAC, bool) {
	var m ipdesk.MAC
	n := 0
	i := 0
	for n < 6 {
		j := i
		var v int
		for j < len(s) && j-i < 2 && hexVal(s[j]) >= 0 {
			v = v<<4 | hexVal(s[j])
			j++
		}
		if j == i {
			return ipdesk.MAC{}, false
		}
		m[n] = byte(v)
		n++
		if n < 6 {
			if j >= len(s) || s[j] != ':' {
				return ipdesk.MAC{}, false
			}
			j++
		}
		i = j
	}
	if i != len(s) || m.IsZero() {
		return ipdesk.MAC{}, false
	}
	return m, true
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseAddr reads an address as a lease file gives it.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

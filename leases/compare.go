package leases

import (
	"net/netip"
	"slices"
	"time"

	"ipdesk"
)

// Status is how a lease compares with the address plan.
type Status string

// Statuses of a lease in a subnet.
const (
	// StatusReserved: the address is reserved for the MAC that leases it.
	StatusReserved Status = "reserved"
	// StatusKnown: the address is recorded, with this MAC or with none,
	// but not reserved for DHCP.
	StatusKnown Status = "known"
	// StatusUnknown: ipdesk has no record of the leased address.
	StatusUnknown Status = "unknown"
	// StatusOtherMAC: the address is recorded for a different MAC than
	// the one that leases it.
	StatusOtherMAC Status = "other_mac"
	// StatusMoved: the MAC has a reservation at another address, yet
	// leases this one.
	StatusMoved Status = "moved"
)

// Statuses lists every status, the conflicts last.
var Statuses = []Status{StatusReserved, StatusKnown, StatusUnknown, StatusMoved, StatusOtherMAC}

// Row is one active lease of a subnet compared with the plan.
type Row struct {
	Server string
	Lease  Lease
	Status Status
	// Host is the record at the leased address; nil when there is none.
	Host *ipdesk.Address
	// Reservation is the MAC's reservation at another address; nil when
	// it has none (that the caller knows of).
	Reservation *ipdesk.Address
}

// Compare compares the leases of sets that are active at now and lie in
// subnet with hosts, the records of that subnet. reservations holds the
// DHCP reservations, anywhere, of MACs that lease an address in the subnet
// not recorded for them; the caller looks them up (as far as the user may
// see them). Rows come in address order, then by server.
func Compare(subnet netip.Prefix, hosts []*ipdesk.Address, reservations map[ipdesk.MAC]*ipdesk.Address, sets []Set, now time.Time) []Row {
	byAddr := make(map[netip.Addr]*ipdesk.Address, len(hosts))
	byMAC := make(map[ipdesk.MAC]*ipdesk.Address)
	for _, h := range hosts {
		byAddr[h.Addr] = h
		if h.DHCPReservation && !h.MAC.IsZero() {
			byMAC[h.MAC] = h
		}
	}
	var rows []Row
	for _, set := range sets {
		for _, l := range set.Leases {
			if !l.ActiveAt(now) || !subnet.Contains(l.Addr) {
				continue
			}
			row := Row{Server: set.Source.Name, Lease: l, Host: byAddr[l.Addr]}
			if !l.MAC.IsZero() {
				res := byMAC[l.MAC]
				if res == nil {
					res = reservations[l.MAC]
				}
				if res != nil && res.Addr != l.Addr {
					row.Reservation = res
				}
			}
			switch h := row.Host; {
			case h != nil && (h.MAC == l.MAC || h.MAC.IsZero() || l.MAC.IsZero()):
				row.Status = StatusKnown
				if h.DHCPReservation && h.MAC == l.MAC {
					row.Status = StatusReserved
				}
			case h != nil:
				row.Status = StatusOtherMAC
			case row.Reservation != nil:
				row.Status = StatusMoved
			default:
				row.Status = StatusUnknown
			}
			rows = append(rows, row)
		}
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return a.Lease.Addr.Compare(b.Lease.Addr) })
	return rows
}

// NeedsLookup returns the MACs of leases in subnet, active at now, whose
// address is not recorded for them among hosts: those whose reservations
// elsewhere Compare wants to know.
func NeedsLookup(subnet netip.Prefix, hosts []*ipdesk.Address, sets []Set, now time.Time) []ipdesk.MAC {
	byAddr := make(map[netip.Addr]ipdesk.MAC, len(hosts))
	for _, h := range hosts {
		byAddr[h.Addr] = h.MAC
	}
	seen := map[ipdesk.MAC]bool{}
	var out []ipdesk.MAC
	for _, set := range sets {
		for _, l := range set.Leases {
			if l.MAC.IsZero() || !l.ActiveAt(now) || !subnet.Contains(l.Addr) || seen[l.MAC] {
				continue
			}
			if m, ok := byAddr[l.Addr]; ok && m == l.MAC {
				continue
			}
			seen[l.MAC] = true
			out = append(out, l.MAC)
		}
	}
	return out
}

// LastSeen returns the latest contact, by any source, of the host a in
// subnet: leases of its MAC inside the subnet, or, for a host without a
// MAC, leases of its address; whether active or not. The server is the
// source that saw it; zero time when none did.
func LastSeen(sets []Set, subnet netip.Prefix, a *ipdesk.Address) (time.Time, string) {
	var best time.Time
	var server string
	for _, set := range sets {
		for _, l := range set.Leases {
			if !subnet.Contains(l.Addr) {
				continue
			}
			if a.MAC.IsZero() && l.Addr != a.Addr || !a.MAC.IsZero() && l.MAC != a.MAC {
				continue
			}
			if l.Seen.After(best) {
				best, server = l.Seen, set.Source.Name
			}
		}
	}
	return best, server
}

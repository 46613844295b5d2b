package render

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"

	"ipdesk"
)

// Sieve tells Sift which DHCP output the input is for.
type Sieve struct {
	// IPv4 and IPv6 select the address families the output serves:
	// isc-dhcp and kea IPv4, isc-dhcp6 IPv6, dnsmasq both.
	IPv4, IPv6 bool
	// Kea also sifts the subnets: Kea writes one subnet block per prefix
	// and refuses a prefix given twice, and it needs a subnet for every
	// reservation.
	Kea bool
}

func (sv Sieve) has(addr netip.Addr) bool {
	return sv.IPv4 && addr.Is4() || sv.IPv6 && addr.Is6()
}

// Sift returns the part of in that a DHCP output can carry, and the
// records it leaves out, each with its reason, hosts before subnets, by
// record ID. It is pure, like the writers: the same input gives the same
// result.
//
// A DHCP server can give an address to one host only, and picks one of
// two reservations of a MAC in one subnet at random, so Sift leaves out,
// among the reservations of the selected families (hosts with a DHCP
// reservation and a MAC):
//
//   - a reservation with a multicast or broadcast MAC, which no client
//     sends;
//   - of two reservations of one address, the newer record (the higher
//     ID): the older one keeps the address;
//   - of two reservations of one MAC in one subnet, the newer record.
//     Subnets are compared by prefix, so the same prefix in two spaces is
//     one subnet, as it is on the wire. A MAC may have reservations in
//     different subnets (a laptop on two networks).
//
// For Kea (sv.Kea) it also leaves out, of the subnets of the selected
// families, one whose record ID Kea cannot use as its subnet id, and of
// two subnets with the same prefix the newer record: the hosts of both are
// written in the older one. A host then in no subnet is left out too.
//
// Hosts that are no reservations of the selected families are kept as
// they are (the writers skip them). The writers' own conflict errors thus
// never fire on a sifted input.
func Sift(in *Input, sv Sieve) (*Input, []ipdesk.LeftOut) {
	out := *in
	var left []ipdesk.LeftOut

	// The subnets: by ID, and for Kea those it keeps.
	byID := make(map[int64]*ipdesk.Prefix, len(in.Subnets))
	for _, p := range in.Subnets {
		if p != nil {
			byID[p.ID] = p
		}
	}
	var kept []*ipdesk.Prefix // Kea's subnets, sorted by prefix
	if sv.Kea {
		var subnets []*ipdesk.Prefix
		for _, p := range in.Subnets {
			if p == nil || !p.Prefix.IsValid() || !sv.has(p.Prefix.Addr()) {
				continue
			}
			if p.Prefix.Addr().Is4In6() || p.Prefix.Addr().Zone() != "" || p.Prefix.Masked() != p.Prefix ||
				p.ID < minKeaSubnetID || p.ID > maxKeaSubnetID {
				left = append(left, subnetLeftOut(p, ipdesk.LeftOutSubnetUnusable, 0,
					"prefix "+p.Prefix.String()+" has a record ID that Kea cannot use as a subnet id; its hosts are served only if another subnet holds them"))
				continue
			}
			subnets = append(subnets, p)
		}
		// The older record of a prefix first, so that it is kept.
		slices.SortFunc(subnets, compareSubnets)
		for _, p := range subnets {
			if n := len(kept); n > 0 && kept[n-1].Prefix == p.Prefix {
				left = append(left, subnetLeftOut(p, ipdesk.LeftOutSubnetTwice, kept[n-1].ID,
					"prefix "+p.Prefix.String()+" has DHCP on in another space too; Kea serves a prefix in one subnet only, so the hosts of both are written in the older subnet record"))
				continue
			}
			kept = append(kept, p)
		}
		keptByID := make(map[int64]*ipdesk.Prefix, len(kept))
		for _, p := range kept {
			keptByID[p.ID] = p
		}
		out.Subnets = kept
		byID = keptByID
	}

	// The reservations, older records first.
	type cand struct {
		a    *ipdesk.Address
		addr netip.Addr
	}
	var cands []cand
	for _, a := range in.Hosts {
		if a == nil || !a.DHCPReservation || a.MAC.IsZero() {
			continue
		}
		if addr := normAddr(a.Addr); addr.IsValid() && sv.has(addr) {
			cands = append(cands, cand{a, addr})
		}
	}
	slices.SortFunc(cands, func(x, y cand) int {
		if c := cmp.Compare(x.a.ID, y.a.ID); c != 0 {
			return c
		}
		return x.addr.Compare(y.addr)
	})
	// macKey is a MAC in a subnet: the subnet's prefix when known, else
	// the subnet record.
	type macKey struct {
		mac    ipdesk.MAC
		prefix netip.Prefix
		id     int64
	}
	drop := make(map[*ipdesk.Address]bool)
	addrs := make(map[netip.Addr]int64, len(cands))
	macs := make(map[macKey]int64, len(cands))
	for _, c := range cands {
		a := c.a
		if a.MAC.IsMulticast() {
			left = append(left, hostLeftOut(a, c.addr, ipdesk.LeftOutMACMulticast, 0,
				"MAC "+a.MAC.String()+" is a multicast or broadcast address, which no DHCP client sends"))
			drop[a] = true
			continue
		}
		key := macKey{mac: a.MAC, id: a.PrefixID}
		p := byID[a.PrefixID]
		if p == nil || !p.Prefix.Contains(c.addr) {
			p = nil
			if sv.Kea {
				if i := longestContaining(kept, c.addr); i >= 0 {
					p = kept[i]
				}
			}
		}
		if p != nil {
			key = macKey{mac: a.MAC, prefix: p.Prefix}
		} else if sv.Kea {
			left = append(left, hostLeftOut(a, c.addr, ipdesk.LeftOutNoSubnet, 0,
				"address "+c.addr.String()+" is in none of the subnets Kea serves"))
			drop[a] = true
			continue
		}
		if other, dup := addrs[c.addr]; dup {
			left = append(left, hostLeftOut(a, c.addr, ipdesk.LeftOutAddressTwice, other,
				"address "+c.addr.String()+" is reserved for an older host record too, which keeps it; a DHCP server can give an address to one host only"))
			drop[a] = true
			continue
		}
		if other, dup := macs[key]; dup {
			where := "its subnet"
			if key.prefix.IsValid() {
				where = "subnet " + key.prefix.String()
			}
			left = append(left, hostLeftOut(a, c.addr, ipdesk.LeftOutMACTwice, other,
				"MAC "+a.MAC.String()+" has an older reservation in "+where+" too, which keeps its place; a DHCP server can match a MAC to one reservation per subnet only"))
			drop[a] = true
			continue
		}
		addrs[c.addr] = a.ID
		macs[key] = a.ID
	}
	if len(drop) > 0 {
		out.Hosts = make([]*ipdesk.Address, 0, len(in.Hosts)-len(drop))
		for _, a := range in.Hosts {
			if a != nil && !drop[a] {
				out.Hosts = append(out.Hosts, a)
			}
		}
	}
	slices.SortStableFunc(left, func(x, y ipdesk.LeftOut) int {
		if c := cmp.Compare(x.Object, y.Object); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
	return &out, left
}

func hostLeftOut(a *ipdesk.Address, addr netip.Addr, why ipdesk.LeftOutReason, other int64, msg string) ipdesk.LeftOut {
	return ipdesk.LeftOut{
		Object: ipdesk.ObjectAddress, ID: a.ID, SpaceID: a.SpaceID, Address: addr.String(),
		MAC: a.MAC.String(), Hostname: a.Hostname, Reason: why, OtherID: other,
		Message: "address record " + strconv.FormatInt(a.ID, 10) + " is left out: " + msg,
	}
}

func subnetLeftOut(p *ipdesk.Prefix, why ipdesk.LeftOutReason, other int64, msg string) ipdesk.LeftOut {
	return ipdesk.LeftOut{
		Object: ipdesk.ObjectPrefix, ID: p.ID, SpaceID: p.SpaceID, Address: p.Prefix.String(),
		Reason: why, OtherID: other,
		Message: "prefix record " + strconv.FormatInt(p.ID, 10) + " is left out: " + msg,
	}
}

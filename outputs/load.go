package outputs

import (
	"context"
	"net/netip"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/render"
)

// Which data feeds which output:
//
//   - Hosts are addresses of status active or reserved; a deprecated
//     address is being retired and is in no output.
//   - The DHCP kinds (isc-dhcp, isc-dhcp6, kea, dnsmasq) take the hosts
//     with a DHCP reservation and a MAC whose subnet has DHCP on: a subnet
//     with DHCP off is not served by the DHCP server, so reservations in
//     it are not written. isc-dhcp and kea take the IPv4 hosts, isc-dhcp6
//     the IPv6 ones, dnsmasq both. kea also writes every subnet of its
//     scope that has DHCP on, each with its hosts.
//   - squid-levels takes, per level file, the hosts at that access level,
//     whether or not they have a DHCP reservation.
//   - squid-rooms takes the hosts located in the blocked rooms (or inside
//     blocked locations), at any access level, and the locations.
//   - The scope limits all of it to the target's spaces and prefixes.

// isDHCP tells whether kind is a DHCP server's reservations.
func isDHCP(kind string) bool {
	switch kind {
	case apply.KindISCDHCP, apply.KindISCDHCP6, apply.KindKea, apply.KindDnsmasq:
		return true
	}
	return false
}

// wantsFamily tells whether an output of kind takes address a.
func wantsFamily(kind string, a netip.Addr) bool {
	switch kind {
	case apply.KindISCDHCP, apply.KindKea:
		return a.Is4()
	case apply.KindISCDHCP6:
		return a.Is6()
	}
	return true
}

// hostStatuses are the statuses of the addresses that are hosts for the
// outputs.
var hostStatuses = []ipdesk.AddressStatus{ipdesk.StatusActive, ipdesk.StatusReserved}

// load reads the data of t from the store. since is the newest audit
// entry when the render began (math.MaxInt64 when unknown): the hosts come
// from the cache (see hostCache), brought up to at least since, so the
// data holds every change committed before the render began. covered is
// the audit entry up to which the hosts hold every change (-1 when
// unknown).
func (s *Service) load(ctx context.Context, t *target, since int64) (in *render.Input, covered int64, err error) {
	spaceIDs, err := s.spaceIDs(ctx, t.scope.spaces)
	if err != nil {
		return nil, -1, err
	}
	in = &render.Input{}
	dhcp := isDHCP(t.Kind)
	rooms := t.Kind == apply.KindSquidRooms

	var subnets map[int64]*ipdesk.Prefix
	if dhcp {
		if subnets, err = s.dhcpSubnets(ctx, spaceIDs, t.scope.prefixes); err != nil {
			return nil, -1, err
		}
		// Kea writes the subnets; render.Sift needs them of every DHCP
		// kind, to compare the subnets of the reservations by prefix.
		in.Subnets = make([]*ipdesk.Prefix, 0, len(subnets))
		for _, p := range subnets {
			if wantsFamily(t.Kind, p.Prefix.Addr()) {
				in.Subnets = append(in.Subnets, p)
			}
		}
		if in.Locations, err = s.locations(ctx); err != nil {
			return nil, -1, err
		}
	} else if rooms {
		if in.Locations, err = s.locations(ctx); err != nil {
			return nil, -1, err
		}
	} else if in.Levels, err = s.store.FindAccessLevels(ctx); err != nil {
		return nil, -1, err
	}

	// The filters of the scan (hostFilter) in Go: the scan is shared.
	keep := func(a *ipdesk.Address) bool {
		switch {
		case dhcp:
			return a.DHCPReservation && !a.MAC.IsZero() && wantsFamily(t.Kind, a.Addr) && subnets[a.PrefixID] != nil
		case rooms:
			return true
		default:
			return a.AccessLevel == t.level
		}
	}
	hosts, covered, err := s.hosts.current(ctx, s.store, since)
	if err != nil {
		return nil, -1, err
	}
	filters := hostFilters(spaceIDs, t.scope.prefixes)
	for _, a := range hosts {
		if !keep(a) {
			continue
		}
		for _, f := range filters {
			if inScope(a, f) {
				in.Hosts = append(in.Hosts, a)
				break
			}
		}
	}
	return in, covered, nil
}

func ptr[T any](v T) *T { return &v }

// spaceIDs returns the IDs of the named spaces, or nil for none named.
// A name that no space has is an error: an output must not lose its hosts
// because a space was renamed.
func (s *Service) spaceIDs(ctx context.Context, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(names))
	for _, name := range names {
		ss, _, err := s.store.FindSpaces(ctx, ipdesk.SpaceFilter{Name: &name, Page: ipdesk.Page{Limit: 1}})
		if err != nil {
			return nil, err
		}
		if len(ss) == 0 {
			return nil, ipdesk.Errorf(ipdesk.ENOTFOUND, "space %q of the target's spaces does not exist (renamed or deleted?); fix the config file or the space", name)
		}
		ids = append(ids, ss[0].ID)
	}
	return ids, nil
}

// hostFilters returns the filters whose union is the scope: one per space
// and prefix. The prefixes do not overlap (see Spec.scope) and the spaces
// are distinct, so no address matches two filters.
func hostFilters(spaceIDs []int64, prefixes []netip.Prefix) []ipdesk.HostFilter {
	spaces := []*int64{nil}
	if len(spaceIDs) > 0 {
		spaces = spaces[:0]
		for i := range spaceIDs {
			spaces = append(spaces, &spaceIDs[i])
		}
	}
	within := []*netip.Prefix{nil}
	if len(prefixes) > 0 {
		within = within[:0]
		for i := range prefixes {
			within = append(within, &prefixes[i])
		}
	}
	var out []ipdesk.HostFilter
	for _, sp := range spaces {
		for _, w := range within {
			out = append(out, ipdesk.HostFilter{SpaceID: sp, Within: w})
		}
	}
	return out
}

// dhcpSubnets returns, by ID, the subnets with DHCP on in the spaces (all
// when nil) that overlap one of the prefixes (any when nil).
func (s *Service) dhcpSubnets(ctx context.Context, spaceIDs []int64, prefixes []netip.Prefix) (map[int64]*ipdesk.Prefix, error) {
	kind := ipdesk.PrefixSubnet
	var filters []ipdesk.PrefixFilter
	for _, f := range hostFilters(spaceIDs, prefixes) {
		pf := ipdesk.PrefixFilter{SpaceID: f.SpaceID, Kind: &kind}
		if f.Within == nil {
			filters = append(filters, pf)
			continue
		}
		// The subnets inside the prefix, and the one that holds it.
		inside, holder := pf, pf
		inside.Within = f.Within
		holder.Contains = ptr(f.Within.Addr())
		filters = append(filters, inside, holder)
	}
	out := make(map[int64]*ipdesk.Prefix)
	for _, pf := range filters {
		err := eachPage(func(p ipdesk.Page) (int, int, error) {
			pf.Page = p
			ps, total, err := s.store.FindPrefixes(ctx, pf)
			for _, x := range ps {
				if x.DHCP && x.Kind == ipdesk.PrefixSubnet {
					out[x.ID] = x
				}
			}
			return len(ps), total, err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// locations returns every location by ID, for the room names in comments.
func (s *Service) locations(ctx context.Context) (map[int64]*ipdesk.Location, error) {
	out := make(map[int64]*ipdesk.Location)
	err := eachPage(func(p ipdesk.Page) (int, int, error) {
		ls, total, err := s.store.FindLocations(ctx, ipdesk.LocationFilter{Page: p})
		for _, l := range ls {
			out[l.ID] = l
		}
		return len(ls), total, err
	})
	return out, err
}

// eachPage calls fetch with the pages of a list, of ipdesk.MaxLimit
// items each, until it has seen the total. fetch returns the number of
// items on its page and the total.
func eachPage(fetch func(ipdesk.Page) (n, total int, err error)) error {
	for off := 0; ; off += ipdesk.MaxLimit {
		n, total, err := fetch(ipdesk.Page{Offset: off, Limit: ipdesk.MaxLimit})
		if err != nil {
			return err
		}
		if n < ipdesk.MaxLimit || off+n >= total {
			return nil
		}
	}
}

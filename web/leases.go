package web

// The comparison of the DHCP servers' live leases with the address plan,
// shared by the API (api_leases.go) and the pages (ui_leases.go).

import (
	"context"
	"net/netip"
	"time"

	"ipdesk"
	"ipdesk/leases"
)

// subnetLeases is the active leases of one subnet compared with its
// records.
type subnetLeases struct {
	Subnet *ipdesk.Prefix
	Rows   []leases.Row
}

// leaseQuery selects the subnets of a lease comparison; nil fields do not
// filter.
type leaseQuery struct {
	PrefixID *int64
	SpaceID  *int64
}

// compareLeases reads the lease files and compares their active leases
// with the subnets the actor of ctx may see: one subnet (which must be
// one the user may see, else ENOTFOUND) or every subnet (of a space) that
// holds an active lease. Leases outside the user's part of the plan are
// left out; so are reservations elsewhere that the user may not see.
func (s *Server) compareLeases(ctx context.Context, q leaseQuery) ([]subnetLeases, []leases.Set, error) {
	if s.leases == nil {
		return nil, nil, nil
	}
	sets := s.leases.Read()
	now := s.now()
	perms, err := s.permissions(ctx)
	if err != nil {
		return nil, nil, err
	}
	scope, err := s.scope(ctx, ipdesk.RightView)
	if err != nil {
		return nil, nil, err
	}
	var subnets []*ipdesk.Prefix
	if q.PrefixID != nil {
		pfx, err := s.store.FindPrefixByID(ctx, *q.PrefixID)
		if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND || err == nil && !perms.CanPrefix(pfx.SpaceID, pfx.Prefix, ipdesk.RightView) {
			return nil, nil, ipdesk.FieldErrorf(ipdesk.ENOTFOUND, "prefix", "prefix %d: no such prefix", *q.PrefixID)
		} else if err != nil {
			return nil, nil, err
		}
		if pfx.Kind != ipdesk.PrefixSubnet {
			return nil, nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix", "prefix %s (%d) is a container; leases are compared per subnet", pfx.Prefix, pfx.ID)
		}
		subnets = []*ipdesk.Prefix{pfx}
	} else {
		var active []netip.Addr
		for _, set := range sets {
			for _, l := range set.Leases {
				if l.ActiveAt(now) {
					active = append(active, l.Addr)
				}
			}
		}
		kind := ipdesk.PrefixSubnet
		err := eachPage(func(pg ipdesk.Page) (int, error) {
			ps, _, err := s.store.FindPrefixes(ctx, ipdesk.PrefixFilter{SpaceID: q.SpaceID, Kind: &kind, Scope: scope, Page: pg})
			for _, p := range ps {
				for _, a := range active {
					if p.Prefix.Contains(a) {
						subnets = append(subnets, p)
						break
					}
				}
			}
			return len(ps), err
		})
		if err != nil {
			return nil, nil, err
		}
	}
	out := make([]subnetLeases, 0, len(subnets))
	for _, sub := range subnets {
		rows, err := s.compareSubnet(ctx, perms, scope, sub, sets, now)
		if err != nil {
			return nil, nil, err
		}
		if len(rows) > 0 || q.PrefixID != nil {
			out = append(out, subnetLeases{Subnet: sub, Rows: rows})
		}
	}
	return out, sets, nil
}

// compareSubnet compares the leases of one subnet with its records, as far
// as the user may see them.
func (s *Server) compareSubnet(ctx context.Context, perms *ipdesk.Permissions, scope *ipdesk.Scope, sub *ipdesk.Prefix, sets []leases.Set, now time.Time) ([]leases.Row, error) {
	hosts, err := s.subnetHosts(ctx, scope, sub.ID)
	if err != nil {
		return nil, err
	}
	elsewhere := map[ipdesk.MAC]*ipdesk.Address{}
	dhcp := true
	for _, m := range leases.NeedsLookup(sub.Prefix, hosts, sets, now) {
		found, _, err := s.store.FindAddresses(ctx, ipdesk.AddressFilter{MAC: &m, DHCP: &dhcp, Scope: scope, Page: ipdesk.Page{Limit: 1}})
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			elsewhere[m] = found[0]
		}
	}
	var rows []leases.Row
	for _, row := range leases.Compare(sub.Prefix, hosts, elsewhere, sets, now) {
		if perms.CanAddress(sub.SpaceID, row.Lease.Addr, ipdesk.RightView) {
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// subnetHosts returns the records of a subnet that the user may see.
func (s *Server) subnetHosts(ctx context.Context, scope *ipdesk.Scope, subnetID int64) ([]*ipdesk.Address, error) {
	var hosts []*ipdesk.Address
	err := eachPage(func(pg ipdesk.Page) (int, error) {
		as, _, err := s.store.FindAddresses(ctx, ipdesk.AddressFilter{PrefixID: &subnetID, Scope: scope, Page: pg})
		hosts = append(hosts, as...)
		return len(as), err
	})
	return hosts, err
}

// eachPage calls find with successive pages of ipdesk.MaxLimit until a
// page comes back short or find fails.
func eachPage(find func(ipdesk.Page) (int, error)) error {
	for off := 0; ; off += ipdesk.MaxLimit {
		n, err := find(ipdesk.Page{Offset: off, Limit: ipdesk.MaxLimit})
		if err != nil || n < ipdesk.MaxLimit {
			return err
		}
	}
}

// lastSeen returns when a client of host a last spoke to a DHCP server,
// and which server; zero without lease files or a lease.
func (s *Server) lastSeen(ctx context.Context, a *ipdesk.Address) (time.Time, string, error) {
	if s.leases == nil {
		return time.Time{}, "", nil
	}
	sub, err := s.store.FindPrefixByID(ctx, a.PrefixID)
	if err != nil {
		return time.Time{}, "", err
	}
	t, server := leases.LastSeen(s.leases.Read(), sub.Prefix, a)
	return t, server, nil
}

// adoptRequest names an active lease: the subnet, the server and the
// address. What is stored comes from the lease file, read again.
type adoptRequest struct {
	PrefixID int64      `json:"prefix_id"`
	Address  netip.Addr `json:"address"`
	Server   string     `json:"server"`
}

// adoptLease turns an active lease that ipdesk has no record of into a
// host record with the lease's MAC and host name (when it is a valid host
// name) and a DHCP reservation, as if the user had typed them into the new
// host form: edit rights on the address are needed, and the store checks
// the rest in its one transaction.
func (s *Server) adoptLease(ctx context.Context, req adoptRequest) (*ipdesk.Address, []ipdesk.Warning, error) {
	if !req.Address.IsValid() {
		return nil, nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "address", "address is required")
	}
	addr := req.Address.Unmap()
	subs, _, err := s.compareLeases(ctx, leaseQuery{PrefixID: &req.PrefixID})
	if err != nil {
		return nil, nil, err
	}
	var row *leases.Row
	var sub *ipdesk.Prefix
	for _, sl := range subs {
		for i := range sl.Rows {
			if rr := &sl.Rows[i]; rr.Lease.Addr == addr && rr.Server == req.Server {
				row, sub = rr, sl.Subnet
			}
		}
	}
	if row == nil || row.Status != leases.StatusUnknown || row.Lease.MAC.IsZero() {
		return nil, nil, ipdesk.FieldErrorf(ipdesk.ECONFLICT, "address", "address %s: %q has no active lease of it that ipdesk does not know (gone, or recorded by now)", addr, clipValue(req.Server))
	}
	a := &ipdesk.Address{SpaceID: sub.SpaceID, PrefixID: sub.ID, Addr: addr, Status: ipdesk.StatusActive,
		MAC: row.Lease.MAC, DHCPReservation: true}
	if ipdesk.ValidateHostname(row.Lease.Hostname) == nil {
		a.Hostname = row.Lease.Hostname
	}
	if err := s.mayPlaceHost(ctx, a); err != nil {
		return nil, nil, err
	}
	warnings, err := s.store.CreateAddress(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	return a, warnings, nil
}

// leaseRow is one active lease of a subnet compared with the plan.
type leaseRow struct {
	SpaceID  int64        `json:"space_id"`
	PrefixID int64        `json:"prefix_id"`
	Prefix   netip.Prefix `json:"prefix"`
	// Server is the name of the lease file's source in the config file.
	Server   string     `json:"server"`
	Address  netip.Addr `json:"address"`
	MAC      ipdesk.MAC `json:"mac"`
	Hostname string     `json:"hostname"`
	State    string     `json:"state"`
	Starts   *time.Time `json:"starts"`
	// Ends is null for an infinite lease.
	Ends     *time.Time `json:"ends"`
	LastSeen *time.Time `json:"last_seen"`
	// Status is reserved, known, unknown (no record of the address), moved
	// (the MAC is reserved at another address) or other_mac (the address
	// is recorded for another MAC).
	Status string `json:"status"`
	// AddressID and RecordedMAC are the record at the leased address.
	AddressID   int64      `json:"address_id"`
	RecordedMAC ipdesk.MAC `json:"recorded_mac"`
	// ReservationID and ReservedAddress are the MAC's reservation at
	// another address.
	ReservationID   int64       `json:"reservation_id"`
	ReservedAddress *netip.Addr `json:"reserved_address"`
}

// leaseSource is one configured lease file as last read.
type leaseSource struct {
	Name     string     `json:"name"`
	Kind     string     `json:"kind"`
	Leases   int        `json:"leases"`
	Active   int        `json:"active"`
	Skipped  int        `json:"skipped"`
	Modified *time.Time `json:"modified"`
	Error    string     `json:"error"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// rowOf turns a compared lease into its API form.
func rowOf(sub *ipdesk.Prefix, r leases.Row) leaseRow {
	l := r.Lease
	out := leaseRow{SpaceID: sub.SpaceID, PrefixID: sub.ID, Prefix: sub.Prefix, Server: r.Server, Address: l.Addr,
		MAC: l.MAC, Hostname: l.Hostname, State: string(l.State), Starts: optTime(l.Starts), Ends: optTime(l.Ends),
		LastSeen: optTime(l.Seen), Status: string(r.Status)}
	if r.Host != nil {
		out.AddressID, out.RecordedMAC = r.Host.ID, r.Host.MAC
	}
	if r.Reservation != nil {
		out.ReservationID = r.Reservation.ID
		a := r.Reservation.Addr
		out.ReservedAddress = &a
	}
	return out
}

// leaseStatuses returns the statuses as strings, for the parameter.
func leaseStatuses() []string {
	out := make([]string, len(leases.Statuses))
	for i, st := range leases.Statuses {
		out[i] = string(st)
	}
	return out
}

// leaseSources reads the lease files and sums them up.
func (s *Server) leaseSources() []leaseSource {
	out := []leaseSource{}
	if s.leases == nil {
		return out
	}
	now := s.now()
	for _, set := range s.leases.Read() {
		src := leaseSource{Name: set.Source.Name, Kind: set.Source.Kind, Leases: len(set.Leases), Skipped: set.Skipped, Modified: optTime(set.ModTime)}
		if set.Err != nil {
			src.Error = set.Err.Error()
		}
		for _, l := range set.Leases {
			if l.ActiveAt(now) {
				src.Active++
			}
		}
		out = append(out, src)
	}
	return out
}

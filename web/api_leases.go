package web

import (
	"net/http"
	"net/netip"
	"time"

	"ipdesk"
	"ipdesk/leases"
)

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

// leaseRoutes returns the routes of the lease view.
func (s *Server) leaseRoutes() []*route {
	return []*route{
		{method: "GET", path: "/api/v1/leases", op: "listLeases", tag: "leases",
			summary: "The DHCP servers' active leases compared with the plan, per subnet the user may see (the lease files come from the config file)",
			act:     actRead, object: ipdesk.ObjectPrefix, paged: true,
			params: []param{
				qp("prefix", ptInt, "subnet id; without it every subnet that holds an active lease"),
				qp("space", ptInt, "space id"),
				qEnum("status", "how the lease compares with the plan", leaseStatuses()...),
			},
			reply: list[leaseRow](), h: s.listLeases},
		{method: "POST", path: "/api/v1/leases/adopt", op: "adoptLease", tag: "leases",
			summary: "Make an active lease unknown to ipdesk a host with the lease's MAC and host name and a DHCP reservation (409 when the lease is gone or known)",
			act:     actWrite, object: ipdesk.ObjectAddress,
			body:  body[adoptRequest]("LeaseAdopt", []string{"prefix_id", "address", "server"}),
			reply: one[addressResult](http.StatusCreated), h: s.adoptLeaseAPI},
		{method: "GET", path: "/api/v1/lease-sources", op: "listLeaseSources", tag: "leases",
			summary: "The lease files of the config file, as last read: leases, skipped lines, errors",
			act:     actRead, object: objectOutput,
			reply: list[leaseSource](), h: s.listLeaseSources},
	}
}

func (s *Server) listLeases(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	subs, _, err := s.compareLeases(r.Context(), leaseQuery{PrefixID: p.int64("prefix"), SpaceID: p.int64("space")})
	if err != nil {
		return err
	}
	status := p.enum("status")
	var rows []leaseRow
	for _, sub := range subs {
		for _, row := range sub.Rows {
			if status == nil || string(row.Status) == *status {
				rows = append(rows, rowOf(sub.Subnet, row))
			}
		}
	}
	n := len(rows)
	lo, hi := min(p.page.Offset, n), min(p.page.Offset+p.page.Limit, n)
	writeList(w, p.page, n, rows[lo:hi])
	return nil
}

func (s *Server) adoptLeaseAPI(w http.ResponseWriter, r *http.Request) error {
	var req adoptRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	a, warnings, err := s.adoptLease(r.Context(), req)
	if err != nil {
		return err
	}
	writeCreated(w, r, addressURL(a.ID), a.Version, addressResult{Address: a, Warnings: s.visibleWarnings(r, warnings)})
	return nil
}

func (s *Server) listLeaseSources(w http.ResponseWriter, r *http.Request) error {
	out := s.leaseSources()
	writeList(w, ipdesk.Page{Limit: len(out)}, len(out), out)
	return nil
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

// addressView is an address with when its client was last seen by a DHCP
// server (null when no lease file has it).
type addressView struct {
	*ipdesk.Address
	LastSeen       *time.Time `json:"last_seen"`
	LastSeenServer string     `json:"last_seen_server"`
}

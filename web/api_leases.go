package web

import (
	"net/http"
	"time"

	"ipdesk"
)

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

// addressView is an address with when its client was last seen by a DHCP
// server (null when no lease file has it).
type addressView struct {
	*ipdesk.Address
	LastSeen       *time.Time `json:"last_seen"`
	LastSeenServer string     `json:"last_seen_server"`
}

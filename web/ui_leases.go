package web

// The lease and conflict view: the DHCP servers' active leases per subnet
// beside the plan, and the action that turns an unknown lease into a host
// record.

import (
	"net/http"
	"slices"
	"strconv"

	"ipdesk"
	"ipdesk/leases"
)

// leasePages returns the pages of the lease view.
func (s *Server) leasePages() []pageRoute {
	return []pageRoute{
		{pattern: "GET /leases", act: actRead, object: ipdesk.ObjectPrefix, h: s.leasesPage},
		{pattern: "POST /leases/adopt", act: actWrite, object: ipdesk.ObjectAddress, h: s.leaseAdopt},
	}
}

// leasesData is the data of the leases page.
type leasesData struct {
	page
	Configured bool
	// Subnet is the one subnet asked for; nil for every subnet.
	Subnet *ipdesk.Prefix
	// Status is the status filter; Statuses are its choices.
	Status   string
	Statuses []string
	Subnets  []leaseSubnetView
	// Sources are shown to those who may see the outputs.
	Sources []leaseSource
}

// leaseSubnetView is one subnet's table.
type leaseSubnetView struct {
	Subnet *ipdesk.Prefix
	Rows   []leaseRowView
	Counts []leaseCount
}

// leaseCount is the number of leases of one status in a subnet.
type leaseCount struct {
	Status string
	N      int
}

// Badge is the class of the status's badge.
func (c leaseCount) Badge() string { return leaseBadge(c.Status) }

// leaseRowView is one row with what the user may do about it.
type leaseRowView struct {
	leaseRow
	// CanAdopt offers the button that makes the lease a host record.
	CanAdopt bool
}

// Badge is the class of the row's status badge.
func (v leaseRowView) Badge() string { return leaseBadge(v.Status) }

// leaseBadge returns the badge class of a status: conflicts are bad, an
// unknown lease a warning, a reservation good.
func leaseBadge(status string) string {
	switch leases.Status(status) {
	case leases.StatusReserved:
		return "ok"
	case leases.StatusUnknown:
		return "warn"
	case leases.StatusMoved, leases.StatusOtherMAC:
		return "bad"
	}
	return ""
}

// leasesPage shows the comparison of one subnet (?prefix=ID) or of every
// subnet that has active leases, optionally of one status.
func (s *Server) leasesPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	cat := s.catalog(r)
	d := &leasesData{page: s.base(w, r, cat.T("leases.title"), "leases"), Configured: s.leases != nil, Statuses: leaseStatuses()}
	prefixID, err := optionalInt("prefix", r.URL.Query().Get("prefix"))
	if err != nil {
		return err
	}
	if st := r.URL.Query().Get("status"); st != "" {
		if !slices.Contains(leaseStatuses(), st) {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "status", "status %q is not one of the lease statuses", clipValue(st))
		}
		d.Status = st
	}
	subs, _, err := s.compareLeases(ctx, leaseQuery{PrefixID: prefixID})
	if err != nil {
		return err
	}
	perms, err := s.permissions(ctx)
	if err != nil {
		return err
	}
	if prefixID != nil && len(subs) == 1 {
		d.Subnet = subs[0].Subnet
	}
	for _, sub := range subs {
		v := leaseSubnetView{Subnet: sub.Subnet}
		n := map[leases.Status]int{}
		for _, row := range sub.Rows {
			n[row.Status]++
			if d.Status != "" && string(row.Status) != d.Status {
				continue
			}
			v.Rows = append(v.Rows, leaseRowView{leaseRow: rowOf(sub.Subnet, row),
				CanAdopt: row.Status == leases.StatusUnknown && !row.Lease.MAC.IsZero() &&
					perms.CanAddress(sub.Subnet.SpaceID, row.Lease.Addr, ipdesk.RightEdit)})
		}
		for _, st := range leases.Statuses {
			if n[st] > 0 {
				v.Counts = append(v.Counts, leaseCount{Status: string(st), N: n[st]})
			}
		}
		d.Subnets = append(d.Subnets, v)
	}
	if d.CanViewAll() {
		d.Sources = s.leaseSources()
	}
	s.render(w, r, http.StatusOK, "leases", d)
	return nil
}

// leaseAdopt is the button of an unknown lease: adoptLease, then back to
// the subnet's leases with a message.
func (s *Server) leaseAdopt(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	prefixID, err := optionalInt("prefix_id", formValue(r, "prefix_id"))
	if err != nil {
		return err
	}
	if prefixID == nil {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix_id", "prefix_id is required")
	}
	addr, err := ipdesk.ParseAddr("address", formValue(r, "address"))
	if err != nil {
		return err
	}
	back := "/leases?prefix=" + strconv.FormatInt(*prefixID, 10)
	_, warnings, err := s.adoptLease(r.Context(), adoptRequest{PrefixID: *prefixID, Address: addr, Server: formValue(r, "server")})
	switch {
	case isFormError(err):
		s.setFlash(w, r, "flash.leases.not_adopted", s.errorText(r, err))
		redirect(w, r, back)
		return nil
	case err != nil:
		return err
	}
	if len(s.visibleWarnings(r, warnings)) > 0 {
		s.flashSaved(w, r, "flash.saved", warnings)
	} else {
		s.setFlash(w, r, "flash.leases.adopted", addr.String())
	}
	redirect(w, r, back+"#lease-"+addr.String())
	return nil
}

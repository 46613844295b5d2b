package web

import (
	"net/http"

	"ipdesk"
)

// dashboardData is the data of the start page.
type dashboardData struct {
	page
	Spaces  []spaceSummary
	Changes []*ipdesk.AuditEntry
	// AllChanges tells whether Changes are everybody's or the user's own.
	AllChanges bool
	Outputs    []ipdesk.Output
	// LeftOut are the records that DHCP outputs leave out and the user
	// may see (each once, at most dashboardLeftOut), and LeftOutCount
	// their number.
	LeftOut      []ipdesk.LeftOut
	LeftOutCount int
	// Blocked are the rooms whose web access is blocked now.
	Blocked []ipdesk.RoomState
	// Calls are the newest calls, for helpdesk users.
	Calls []*ipdesk.Call
}

// spaceSummary is a space with the use of its top-level prefixes.
type spaceSummary struct {
	Space *ipdesk.Space
	Top   []prefixUse
	More  int
}

// prefixUse is a prefix with its usage.
type prefixUse struct {
	Prefix *ipdesk.Prefix
	Usage  ipdesk.Usage
}

// Percent is the used share in percent.
func (p prefixUse) Percent() float64 { return p.Usage.Percent() }

// Dashboard limits.
const (
	dashboardSpaces   = 20
	dashboardPrefixes = 8
	dashboardChanges  = 10
	dashboardLeftOut  = 10
)

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	d := dashboardData{page: s.base(w, r, s.catalog(r).T("nav.dashboard"), "dashboard")}
	scope, err := s.scope(ctx, ipdesk.RightView)
	if err != nil {
		return err
	}
	spaces, _, err := s.store.FindSpaces(ctx, ipdesk.SpaceFilter{Scope: scope, Page: ipdesk.Page{Limit: dashboardSpaces}})
	if err != nil {
		return err
	}
	if d.Spaces, err = s.spaceSummaries(ctx, spaces, scope); err != nil {
		return err
	}
	f := ipdesk.AuditFilter{Page: ipdesk.Page{Limit: dashboardChanges}}
	d.AllChanges = d.CanViewAll()
	if !d.AllChanges {
		f.Actor = &d.User.Name
	}
	if d.Changes, _, err = s.store.FindAuditEntries(ctx, f); err != nil {
		return err
	}
	states, err := s.timetable.States(ctx)
	if err != nil {
		return err
	}
	for _, st := range states.Rooms {
		if st.Blocked {
			d.Blocked = append(d.Blocked, st)
		}
	}
	if d.Calls, err = s.recentCalls(ctx, d.page); err != nil {
		return err
	}
	if s.outputs != nil {
		outs, err := s.outputs.Status(ctx)
		if err != nil {
			return err
		}
		if err := s.narrowLeftOut(ctx, outs); err != nil {
			return err
		}
		d.LeftOut, d.LeftOutCount = leftOutOf(outs, dashboardLeftOut)
		if d.CanViewAll() {
			d.Outputs = outs
		}
	}
	s.render(w, r, http.StatusOK, "dashboard", d)
	return nil
}

func containsInt(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// leftOutOf returns the records that outs leave out, each once, at most
// max of them, and their number.
func leftOutOf(outs []ipdesk.Output, max int) ([]ipdesk.LeftOut, int) {
	var list []ipdesk.LeftOut
	seen := map[leftOutKey]bool{}
	for _, o := range outs {
		for _, l := range o.LeftOut {
			k := leftOutKey{l.Object, l.ID}
			if seen[k] {
				continue
			}
			seen[k] = true
			if len(list) < max {
				list = append(list, l)
			}
		}
	}
	return list, len(seen)
}

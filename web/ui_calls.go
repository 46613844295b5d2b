package web

// The caller-ID pages of the helpdesk: the call log (/calls), searched,
// filtered and paged in the database; a call's page with its matches and
// event history (/calls/{id}); and, for a number that matched nothing,
// "add this number to a room or person". The live popup on every page is
// static/calls.js with the card template of templates/_calls.html: it
// reads the event stream and changes numbers through the JSON API; the
// forms here do the same for pages without the script.

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"ipdesk"
	"ipdesk/i18n"
)

// callPages are the pages of the caller-ID area.
func (s *Server) callPages() []pageRoute {
	return []pageRoute{
		{pattern: "GET /calls", act: actHelpdesk, object: ipdesk.ObjectCall, h: s.callsPage},
		{pattern: "GET /calls/{id}", act: actHelpdesk, object: ipdesk.ObjectCall, h: s.callPage},
		{pattern: "GET /calls/{id}/assign", act: actHelpdesk, object: ipdesk.ObjectCall, h: s.callAssignForm},
		{pattern: "POST /calls/{id}/assign", act: actHelpdesk, object: ipdesk.ObjectCall, h: s.callAssign},
	}
}

// Limits of the caller-ID pages.
const (
	callsMaxQuery  = 200 // characters of the search text
	callRowHosts   = 3   // hosts a row of the log lists
	dashboardCalls = 5   // calls on the start page
	maxHostText    = 255 // characters of a host named in the form
)

// Targets of "add this number".
const (
	assignLocation = "location"
	assignHost     = "host"
)

// callsFilterForm is the filter form of the call log as typed.
type callsFilterForm struct {
	Q, State, Match, Since, Until string
	Errors                        fieldErrors
}

// Any tells whether a filter is set.
func (f callsFilterForm) Any() bool {
	return f.Q != "" || f.State != "" || f.Match != "" || f.Since != "" || f.Until != ""
}

// callsData is the data of the call log.
type callsData struct {
	page
	Filter    callsFilterForm
	Calls     []callView
	Pages     pageNav
	States    []ipdesk.CallState
	Matches   []ipdesk.MatchKind
	Retention string
}

// callView is a call with the links to the hosts table filtered to its
// matches.
type callView struct {
	*ipdesk.Call
	Links []callLink
	// locHref is where each matched location links to (see
	// LocationHref).
	locHref map[int64]string
}

// LocationHref returns the link of a matched location: its page when the
// user may see it, else the room's occupancy page, which every user may
// see; "" for a location that has neither (or no longer exists).
func (v callView) LocationHref(id int64) string { return v.locHref[id] }

// callLink is a link with its text.
type callLink struct {
	Href, Label string
}

// FirstHosts are the hosts a row of the log lists.
func (v callView) FirstHosts() []ipdesk.CallHost {
	return v.Matches.Hosts[:min(len(v.Matches.Hosts), callRowHosts)]
}

// MoreHosts is the number of matched hosts a row of the log leaves out.
func (v callView) MoreHosts() int {
	return max(v.Matches.HostsTotal, len(v.Matches.Hosts)) - len(v.FirstHosts())
}

// Unlisted is the number of matched hosts the call's matches do not list
// (beyond ipdesk.MaxCallHosts).
func (v callView) Unlisted() int {
	return max(v.Matches.HostsTotal-len(v.Matches.Hosts), 0)
}

// RoomOf returns the path of a matched location, or "".
func (v callView) RoomOf(id int64) string {
	for _, l := range v.Matches.Locations {
		if l.ID == id {
			return l.Path
		}
	}
	return ""
}

// Normalised tells whether the normalised number differs from the one
// given.
func (v callView) Normalised() bool {
	return v.From.Number != "" && v.From.Number != v.From.Raw
}

// viewOf returns c with its links, texts in cat's language: only links
// the actor of ctx may follow. c's matches are narrowed already (see
// findCalls).
func (s *Server) viewOf(ctx context.Context, cat *i18n.Catalog, c *ipdesk.Call) (callView, error) {
	v := callView{Call: c, locHref: map[int64]string{}}
	cv, err := s.callViewer(ctx)
	if err != nil {
		return v, err
	}
	if cv.seesHosts() {
		v.Links = callLinks(cat, &c.Matches)
	}
	for _, l := range c.Matches.Locations {
		if _, ok := v.locHref[l.ID]; ok {
			continue
		}
		href, err := s.locationHref(ctx, l.ID)
		if err != nil {
			return v, err
		}
		v.locHref[l.ID] = href
	}
	return v, nil
}

// locationHref returns the page of location id that the actor of ctx may
// open: the location's own, else a room's occupancy page; "" for none.
func (s *Server) locationHref(ctx context.Context, id int64) (string, error) {
	l, err := s.store.FindLocationByID(ctx, id)
	if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
		return "", nil
	} else if err != nil {
		return "", err
	}
	err = s.mayLocation(ctx, l, ipdesk.RightView)
	switch {
	case err == nil:
		return "/locations/" + strconv.FormatInt(id, 10), nil
	case ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND && ipdesk.ErrorCode(err) != ipdesk.EFORBIDDEN:
		return "", err
	case l.Kind == ipdesk.LocationRoom:
		return "/rooms/" + strconv.FormatInt(id, 10), nil
	}
	return "", nil
}

// callLinks returns the links to the hosts table filtered to a call's
// matches, as for_dhcp showed the records of the calling office: the hosts
// of each matched location, and the hosts with each matched person's
// phone.
func callLinks(cat *i18n.Catalog, m *ipdesk.CallMatches) []callLink {
	var out []callLink
	for _, l := range m.Locations {
		out = append(out, callLink{Href: "/hosts?location=" + strconv.FormatInt(l.ID, 10), Label: cat.T("calls.hosts_in", l.Path)})
	}
	var phones []string
	for _, p := range m.People {
		if p.Phone != "" && !slices.Contains(phones, p.Phone) {
			phones = append(phones, p.Phone)
			out = append(out, callLink{Href: "/hosts?q=" + url.QueryEscape(p.Phone), Label: cat.T("calls.hosts_with_phone", p.Phone)})
		}
	}
	return out
}

func (s *Server) callsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actHelpdesk, object{Type: ipdesk.ObjectCall}); err != nil {
		return err
	}
	q := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	form := callsFilterForm{Q: get("q"), State: get("state"), Match: get("match"), Since: get("since"), Until: get("until")}
	cat := s.catalog(r)
	d := callsData{Filter: form, States: ipdesk.CallStates, Matches: ipdesk.MatchKinds, Retention: s.retentionText(cat)}
	f, ferr := s.callsFilter(form)
	p, err := listPage(r)
	if err != nil {
		return err
	}
	if ferr != nil {
		d.page = s.base(w, r, cat.T("calls.title"), "calls")
		d.Filter.Errors, _ = formError(s.catalog(r), ferr)
		s.render(w, r, formStatus(ferr), "calls", d)
		return nil
	}
	f.Page = p
	calls, n, err := s.findCalls(ctx, f)
	if err != nil {
		return err
	}
	d.page = s.base(w, r, cat.T("calls.title"), "calls")
	d.Pages = navOf(r, p, n)
	for _, c := range calls {
		v, err := s.viewOf(ctx, cat, c)
		if err != nil {
			return err
		}
		d.Calls = append(d.Calls, v)
	}
	s.render(w, r, http.StatusOK, "calls", d)
	return nil
}

// callsFilter checks the filter form; times are in the server's time
// zone, as for the audit log.
func (s *Server) callsFilter(form callsFilterForm) (ipdesk.CallFilter, error) {
	var f ipdesk.CallFilter
	switch {
	case !utf8.ValidString(form.Q):
		return f, ipdesk.FieldErrorf(ipdesk.EINVALID, "q", "the search text is not valid UTF-8")
	case utf8.RuneCountInString(form.Q) > callsMaxQuery:
		return f, ipdesk.FieldErrorf(ipdesk.EINVALID, "q", "the search text is %d characters long; at most %d are allowed", utf8.RuneCountInString(form.Q), callsMaxQuery)
	}
	f.Query = form.Q
	if form.State != "" {
		st := ipdesk.CallState(form.State)
		if !slices.Contains(ipdesk.CallStates, st) {
			return f, ipdesk.FieldErrorf(ipdesk.EINVALID, "state", "state %q is not one of %s", clipValue(form.State), strings.Join(enumStrings(ipdesk.CallStates), ", "))
		}
		f.State = &st
	}
	if form.Match != "" {
		m := ipdesk.MatchKind(form.Match)
		if !slices.Contains(ipdesk.MatchKinds, m) {
			return f, ipdesk.FieldErrorf(ipdesk.EINVALID, "match", "match %q is not one of %s", clipValue(form.Match), strings.Join(enumStrings(ipdesk.MatchKinds), ", "))
		}
		f.Match = &m
	}
	var err error
	f.Since, f.Until, err = s.parseTimeRange(form.Since, form.Until)
	return f, err
}

// retentionText tells how long calls are kept, when the server knows it
// (it runs the caller-ID service).
func (s *Server) retentionText(cat *i18n.Catalog) string {
	d := s.intake.retention
	switch {
	case s.intake.report == nil:
		return ""
	case d <= 0:
		return cat.T("calls.retention_forever")
	case d%(24*time.Hour) == 0:
		return cat.Plural("calls.retention_days", int(d/(24*time.Hour)))
	}
	return cat.Plural("calls.retention_hours", int((d+time.Hour-1)/time.Hour))
}

// callData is the data of a call's page.
type callData struct {
	page
	Call   callView
	Events []eventRow
	// Assign is the form that stores the number, nil when the number
	// cannot be stored or the user may change no room and no host.
	Assign *assignForm
}

// eventRow is an event of a call with its time to the second (events of
// one call are seconds apart).
type eventRow struct {
	*ipdesk.CallEvent
	At string
}

// assignForm is the form "add this number to a room or person".
type assignForm struct {
	CallID int64
	// Prefix makes the ids of the form's fields unique on a page that
	// shows it twice (the call's page and its popup card).
	Prefix string
	// Phone is the number to store (the call's suggestion).
	Phone string
	// Target is assignLocation or assignHost.
	Target     string
	LocationID int64
	Host       string
	// Locations are the locations the user may change; Hosts tells
	// whether the user may change any host.
	Locations []locOption
	Hosts     bool
	Errors    fieldErrors
	Message   string
}

// CanLocations and CanHosts tell which targets the form offers.
func (f *assignForm) CanLocations() bool { return len(f.Locations) > 0 }
func (f *assignForm) CanHosts() bool     { return f.Hosts }

// IsHost tells whether the host target is chosen.
func (f *assignForm) IsHost() bool { return f.Target == assignHost || !f.CanLocations() }

// CanAssignNumbers tells the live popup whether to offer "add this
// number": the user may change some location or some host. The server
// checks each change anyway.
func (p page) CanAssignNumbers() bool {
	if p.Perms == nil {
		return false
	}
	if p.Perms.Admin || !p.Perms.ScopeFor(ipdesk.RightEdit).Empty() {
		return true
	}
	for _, r := range p.Perms.Locations {
		if r.Allows(ipdesk.RightEdit) {
			return true
		}
	}
	return false
}

// CanSeeHosts tells the live popup whether to link to the hosts table:
// the user may see some hosts.
func (p page) CanSeeHosts() bool {
	return p.Perms != nil && (p.Perms.Admin || !p.Perms.ScopeFor(ipdesk.RightView).Empty())
}

// findCall checks the helpdesk right and returns the call of the path.
func (s *Server) findCall(r *http.Request) (*ipdesk.Call, error) {
	if err := s.authorize(r.Context(), actHelpdesk, object{Type: ipdesk.ObjectCall}); err != nil {
		return nil, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.findCallByID(r.Context(), id)
}

// callWithForm returns the call of the path and its form "add this
// number" (nil when there is nothing to store).
func (s *Server) callWithForm(r *http.Request) (*ipdesk.Call, *assignForm, error) {
	c, err := s.findCall(r)
	if err != nil {
		return nil, nil, err
	}
	f, err := s.newAssignForm(r.Context(), c)
	return c, f, err
}

func (s *Server) callPage(w http.ResponseWriter, r *http.Request) error {
	c, form, err := s.callWithForm(r)
	if err != nil {
		return err
	}
	if !form.Offered() {
		form = nil
	}
	return s.renderCall(w, r, http.StatusOK, c, form)
}

// renderCall shows a call's page with the form f.
func (s *Server) renderCall(w http.ResponseWriter, r *http.Request, status int, c *ipdesk.Call, f *assignForm) error {
	cat := s.catalog(r)
	v, err := s.viewOf(r.Context(), cat, c)
	if err != nil {
		return err
	}
	d := callData{page: s.formPage(w, r, cat.T("calls.call_title", numberText(cat, c.From)), "calls", "/calls/"+strconv.FormatInt(c.ID, 10)),
		Call: v, Assign: f}
	for _, ev := range c.Events {
		d.Events = append(d.Events, eventRow{CallEvent: ev, At: ev.Time.In(s.loc).Format(timeLayouts[cat.Lang][0] + ":05")})
	}
	s.render(w, r, status, "call", d)
	return nil
}

// numberText is a number as the page names it: as given, or a word for
// none.
func numberText(cat *i18n.Catalog, n ipdesk.PhoneNumber) string {
	if strings.TrimSpace(n.Raw) == "" {
		return cat.T("calls.no_number")
	}
	return n.Raw
}

// callAssignForm answers the form alone, for the live popup to show.
func (s *Server) callAssignForm(w http.ResponseWriter, r *http.Request) error {
	c, f, err := s.callWithForm(r)
	if err != nil {
		return err
	}
	if !f.Offered() {
		return ipdesk.Errorf(ipdesk.ENOTFOUND, "the number of call %d cannot be stored: it matched in full, is withheld, or you may change no room and no host", c.ID)
	}
	f.Prefix = "popup"
	s.renderTemplate(w, r, http.StatusOK, "call", "call-assign", f)
	return nil
}

// newAssignForm returns the empty form for c, or nil when its number
// cannot be stored (it matched in full, or is no number).
func (s *Server) newAssignForm(ctx context.Context, c *ipdesk.Call) (*assignForm, error) {
	sg := c.Matches.Suggestion
	if sg == nil || sg.Phone == "" {
		return nil, nil
	}
	perms, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	idx, err := s.visibleLocations(ctx)
	if err != nil {
		return nil, err
	}
	f := &assignForm{CallID: c.ID, Prefix: "assign", Phone: sg.Phone, Target: assignLocation, LocationID: sg.LocationID, Errors: fieldErrors{},
		Hosts: perms.Admin || !perms.ScopeFor(ipdesk.RightEdit).Empty()}
	f.Locations = idx.options(func(l *ipdesk.Location) bool {
		return perms.CanLocation(l.ID, idx.ancestors(l.ID), ipdesk.RightEdit)
	})
	if len(f.Locations) == 0 {
		f.Target = assignHost
	}
	return f, nil
}

// Offered tells whether the user may change a location or a host, so
// that the form is shown.
func (f *assignForm) Offered() bool { return f != nil && (len(f.Locations) > 0 || f.Hosts) }

// callAssign stores the number of a call with a location or as a host's
// phone: the form of the call's page, for browsers without the script
// (which uses the JSON API).
func (s *Server) callAssign(w http.ResponseWriter, r *http.Request) error {
	c, f, err := s.callWithForm(r)
	if err != nil {
		return err
	}
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	if f == nil {
		return ipdesk.Errorf(ipdesk.EINVALID, "the number of call %d cannot be stored: it matched in full or is no number", c.ID)
	}
	f.Target, f.Host = formValue(r, "target"), formValue(r, "host")
	var done string
	switch f.Target {
	case assignLocation:
		id, perr := optionalInt("location_id", formValue(r, "location_id"))
		if perr != nil || id == nil {
			err = ipdesk.FieldErrorf(ipdesk.EINVALID, "location_id", "location_id: choose the room or location the number belongs to")
			if perr != nil {
				err = perr
			}
			break
		}
		f.LocationID = *id
		done, err = s.addLocationPhone(ctx, *id, f.Phone)
	case assignHost:
		done, err = s.setHostPhone(ctx, f.Host, f.Phone)
	default:
		err = ipdesk.FieldErrorf(ipdesk.EINVALID, "target", "target %q is not %s or %s", clipValue(f.Target), assignLocation, assignHost)
	}
	if err != nil {
		if !isFormError(err) || !f.Offered() {
			return err
		}
		fe, msg := formError(s.catalog(r), err)
		f.Errors, f.Message = fieldErrors{}, msg
		// The store names the location's phones and the host's phone;
		// the form shows them beside its fields, anything else above.
		for field, m := range fe {
			switch field {
			case "location_id", "phones":
				f.Errors["location_id"] = m
			case "host", "phone":
				f.Errors["host"] = m
			default:
				f.Message = m
			}
		}
		return s.renderCall(w, r, formStatus(err), c, f)
	}
	s.setFlash(w, r, "flash.calls.number_added", done)
	redirect(w, r, "/calls/"+strconv.FormatInt(c.ID, 10))
	return nil
}

// addLocationPhone adds phone to the numbers of location id, unless it
// has it already (by its digits), and returns the location's name.
func (s *Server) addLocationPhone(ctx context.Context, id int64, phone string) (string, error) {
	if err := s.mayLocationID(ctx, id, ipdesk.RightEdit); err != nil {
		if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
			return "", ipdesk.FieldErrorf(ipdesk.EINVALID, "location_id", "location_id %d: no such location", id)
		}
		return "", err
	}
	l, err := s.store.FindLocationByID(ctx, id)
	if err != nil {
		return "", err
	}
	for _, p := range l.Phones {
		if phoneDigits(p) == phoneDigits(phone) {
			return l.Name, nil
		}
	}
	phones := append(slices.Clone(l.Phones), phone)
	if _, err := s.store.UpdateLocation(ctx, id, ipdesk.LocationUpdate{Phones: &phones, Version: &l.Version}); err != nil {
		return "", err
	}
	return l.Name, nil
}

// setHostPhone sets phone as the phone of the host named by text (its IP
// address or host name) and returns how the host is named.
func (s *Server) setHostPhone(ctx context.Context, text, phone string) (string, error) {
	a, err := s.findHostByText(ctx, text)
	if err != nil {
		return "", err
	}
	if err := s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectAddress, ID: a.ID}); err != nil {
		return "", err
	}
	if _, _, err := s.store.UpdateAddress(ctx, a.ID, ipdesk.AddressUpdate{Phone: &phone, Version: &a.Version}); err != nil {
		return "", err
	}
	if a.Hostname != "" {
		return a.Hostname + " (" + a.Addr.String() + ")", nil
	}
	return a.Addr.String(), nil
}

// findHostByText returns the one host the user may see with the IP
// address or host name text.
func (s *Server) findHostByText(ctx context.Context, text string) (*ipdesk.Address, error) {
	switch {
	case text == "":
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "host", "host is required: the IP address or host name of the person's computer")
	case !utf8.ValidString(text) || utf8.RuneCountInString(text) > maxHostText:
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "host", "host %q is not an IP address or host name", clipValue(text))
	}
	scope, err := s.scope(ctx, ipdesk.RightView)
	if err != nil {
		return nil, err
	}
	f := ipdesk.AddressFilter{Scope: scope, Page: ipdesk.Page{Limit: 2}}
	if ip, err := netip.ParseAddr(text); err == nil && ip.Zone() == "" {
		ip = ip.Unmap()
		f.Addr = &ip
	} else {
		f.Hostname = &text
	}
	hosts, n, err := s.store.FindAddresses(ctx, f)
	if err != nil {
		return nil, err
	}
	switch {
	case n == 0:
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "host", "host %q: no host you may see has this IP address or host name", clipValue(text))
	case n > 1:
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "host", "host %q names %d hosts (in several address spaces, or of the same name); set the phone on the host's own page", clipValue(text), n)
	}
	return hosts[0], nil
}

// phoneDigits returns the digits of a phone number, with a leading "+"
// kept: "+49 3591 303" and "+493591303" are one number.
func phoneDigits(p string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(p) {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// recentCalls returns the newest calls for the start page of a helpdesk
// user, nil for others.
func (s *Server) recentCalls(ctx context.Context, p page) ([]*ipdesk.Call, error) {
	if !p.CanHelpdesk() {
		return nil, nil
	}
	calls, _, err := s.findCalls(ctx, ipdesk.CallFilter{Page: ipdesk.Page{Limit: dashboardCalls}})
	return calls, err
}

package web

// The page of one host: every field in one form (or read only, for users
// who may not change it), delete, and the host's history; and the form
// for a new host, at a given address or at the first free one of a
// subnet.

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"ipdesk"
	"ipdesk/i18n"
)

// hostForm is the host form as typed, kept when it is shown again.
type hostForm struct {
	// Space and Subnet are for new hosts: the space of the address, or
	// the subnet whose first free address the host takes.
	Space       string
	Address     string
	Subnet      string
	Status      string
	MAC         string
	Hostname    string
	Description string
	Owner       string
	Phone       string
	Location    string
	Level       string
	DHCP        bool
	Version     string
}

// hostFormOf fills the form with a stored host.
func hostFormOf(a *ipdesk.Address) hostForm {
	return hostForm{Space: strconv.FormatInt(a.SpaceID, 10), Address: a.Addr.String(), Status: string(a.Status), MAC: a.MAC.String(),
		Hostname: a.Hostname, Description: a.Description, Owner: a.Owner, Phone: a.Phone,
		Location: strconv.FormatInt(a.LocationID, 10), Level: strconv.Itoa(a.AccessLevel), DHCP: a.DHCPReservation,
		Version: strconv.FormatInt(a.Version, 10)}
}

// readHostForm reads the posted host form.
func readHostForm(r *http.Request) hostForm {
	return hostForm{Space: formValue(r, "space_id"), Address: formValue(r, "address"), Subnet: formValue(r, "subnet"),
		Status: formValue(r, "status"), MAC: formValue(r, "mac"), Hostname: formValue(r, "hostname"),
		Description: formValue(r, "description"), Owner: formValue(r, "owner"), Phone: formValue(r, "phone"),
		Location: formValue(r, "location_id"), Level: formValue(r, "access_level"), DHCP: r.PostFormValue("dhcp_reservation") != "",
		Version: formValue(r, "version")}
}

// fields parses the host fields of the form (all but where the host is);
// what does not parse comes back as errors of its fields. The store
// checks the rest.
func (f hostForm) fields(cat *i18n.Catalog) (ipdesk.Address, fieldErrors) {
	fe := fieldErrors{}
	a := ipdesk.Address{Status: ipdesk.AddressStatus(f.Status), Hostname: f.Hostname, Description: f.Description,
		Owner: f.Owner, Phone: f.Phone, DHCPReservation: f.DHCP}
	if f.MAC != "" {
		m, err := ipdesk.ParseMAC(f.MAC)
		if err != nil {
			fe["mac"] = localError(cat, err)
		}
		a.MAC = m
	}
	if f.Location != "" {
		n, err := strconv.ParseInt(f.Location, 10, 64)
		if err != nil || n < 0 {
			fe["location_id"] = localError(cat, ipdesk.FieldErrorf(ipdesk.EINVALID, "location_id", "location_id %q is not a location", clipValue(f.Location)))
		}
		a.LocationID = n
	}
	if f.Level != "" {
		n, err := strconv.Atoi(f.Level)
		if err != nil {
			fe["access_level"] = localError(cat, ipdesk.FieldErrorf(ipdesk.EINVALID, "access_level", "access_level %q is not a number", clipValue(f.Level)))
		}
		a.AccessLevel = n
	}
	return a, fe
}

// hostChanges returns the update that turns cur into the fields a at
// addr: only what differs, so that an unchanged room the user may not see
// (or an unchanged address) is not checked again.
func hostChanges(cur *ipdesk.Address, a ipdesk.Address, addr netip.Addr) ipdesk.AddressUpdate {
	var u ipdesk.AddressUpdate
	if addr != cur.Addr {
		u.Addr = &addr
	}
	if a.Status != cur.Status {
		u.Status = &a.Status
	}
	if a.MAC != cur.MAC {
		u.MAC = &a.MAC
	}
	if a.Hostname != cur.Hostname {
		u.Hostname = &a.Hostname
	}
	if a.Description != cur.Description {
		u.Description = &a.Description
	}
	if a.Owner != cur.Owner {
		u.Owner = &a.Owner
	}
	if a.Phone != cur.Phone {
		u.Phone = &a.Phone
	}
	if a.LocationID != cur.LocationID {
		u.LocationID = &a.LocationID
	}
	if a.AccessLevel != cur.AccessLevel {
		u.AccessLevel = &a.AccessLevel
	}
	if a.DHCPReservation != cur.DHCPReservation {
		u.DHCPReservation = &a.DHCPReservation
	}
	return u
}

// hostData is the data of the host page and of the new host form.
type hostData struct {
	page
	// Host is the stored host; nil on the new host form.
	Host      *ipdesk.Address
	SpaceName string
	Subnet    *ipdesk.Prefix
	Location  string
	Form      hostForm
	Errors    fieldErrors
	// Error is a message about no one field (a stale version, a refusal).
	Error     string
	CanEdit   bool
	Spaces    []*ipdesk.Space
	Locations []locOption
	Levels    []*ipdesk.AccessLevel
	Statuses  []ipdesk.AddressStatus
	History   history

	// LastSeen is the last contact of the host's client with a DHCP
	// server (LastSeenServer), from the lease files; zero when none.
	LastSeen       time.Time
	LastSeenServer string
}

// hostHistoryFields are the fields the history of a host shows, in order.
var hostHistoryFields = []string{"address", "status", "mac", "hostname", "owner", "phone", "location_id", "access_level", "dhcp_reservation", "description"}

// hostPageData builds the host page of a (nil for a new host) showing
// the form f.
func (s *Server) hostPageData(w http.ResponseWriter, r *http.Request, a *ipdesk.Address, f hostForm) (*hostData, error) {
	ctx := r.Context()
	cat := s.catalog(r)
	title := cat.T("hosts.new_title")
	if a != nil {
		title = cat.T("hosts.host_title", a.Addr.String())
	}
	d := &hostData{page: s.base(w, r, title, "hosts"), Host: a, Form: f, Errors: fieldErrors{}, Statuses: addressStatuses}
	perms, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	if d.Levels, err = s.store.FindAccessLevels(ctx); err != nil {
		return nil, err
	}
	idx, err := s.visibleLocations(ctx)
	if err != nil {
		return nil, err
	}
	d.Locations = idx.options(nil)
	if a == nil {
		scope, err := s.scope(ctx, ipdesk.RightView)
		if err != nil {
			return nil, err
		}
		if d.Spaces, _, err = s.store.FindSpaces(ctx, ipdesk.SpaceFilter{Scope: scope, Page: ipdesk.Page{Limit: ipdesk.MaxLimit}}); err != nil {
			return nil, err
		}
		d.CanEdit = !perms.ScopeFor(ipdesk.RightEdit).Empty()
		return d, nil
	}
	d.CanEdit = perms.CanAddress(a.SpaceID, a.Addr, ipdesk.RightEdit)
	if a.LocationID != 0 && idx[a.LocationID] == nil {
		// The host's room is not one of the user's: it is still offered,
		// so that saving the form keeps it.
		if err := s.completeLocations(ctx, idx, []int64{a.LocationID}); err != nil {
			return nil, err
		}
		d.Locations = append([]locOption{{ID: a.LocationID, Path: idx.path(a.LocationID)}}, d.Locations...)
	}
	d.Location = idx.path(a.LocationID)
	sp, err := s.store.FindSpaceByID(ctx, a.SpaceID)
	if err != nil {
		return nil, err
	}
	d.SpaceName = sp.Name
	if d.Subnet, err = s.store.FindPrefixByID(ctx, a.PrefixID); err != nil {
		return nil, err
	}
	if d.LastSeen, d.LastSeenServer, err = s.lastSeen(ctx, a); err != nil {
		return nil, err
	}
	d.History, err = s.hostHistory(ctx, cat, a.ID, d.Levels)
	return d, err
}

// hostHistory returns the history of a host, with rooms named by their
// paths, levels by their names and statuses in the reader's language.
func (s *Server) hostHistory(ctx context.Context, cat *i18n.Catalog, id int64, levels []*ipdesk.AccessLevel) (history, error) {
	return s.objectHistory(ctx, ipdesk.ObjectAddress, id, hostHistoryFields, "hosts.field.", func(entries []*ipdesk.AuditEntry) (valueFormat, error) {
		idx := locIndex{}
		if err := s.completeLocations(ctx, idx, historyIDs(entries, "location_id")); err != nil {
			return nil, err
		}
		return func(field string, v any) string {
			switch field {
			case "location_id":
				return locationLabel(idx, idValue(v))
			case "access_level":
				if v != nil {
					return levelLabel(cat, levels, int(idValue(v)))
				}
			case "status":
				if st, ok := v.(string); ok && cat.Has("hosts.status."+st) {
					return cat.T("hosts.status." + st)
				}
			}
			return plainValue(cat, v)
		}, nil
	})
}

// locationLabel names a location of idx by its path; one it does not
// hold (deleted since) by its number.
func locationLabel(idx locIndex, id int64) string {
	if id == 0 {
		return ""
	}
	if p := idx.path(id); p != "" {
		return p
	}
	return "#" + strconv.FormatInt(id, 10)
}

// levelLabel names an access level.
func levelLabel(cat *i18n.Catalog, levels []*ipdesk.AccessLevel, n int) string {
	for _, l := range levels {
		if l.Level == n {
			return strconv.Itoa(n) + " " + levelTitle(cat, l)
		}
	}
	return strconv.Itoa(n)
}

func (s *Server) hostPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectAddress, ID: id}); err != nil {
		return err
	}
	a, err := s.store.FindAddressByID(ctx, id)
	if err != nil {
		return err
	}
	d, err := s.hostPageData(w, r, a, hostFormOf(a))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "host", d)
	return nil
}

// hostUpdate saves the host form. The record must be one the user may
// edit (else 403, whatever the form says); bad input shows the form again
// with the error beside its field and changes nothing.
func (s *Server) hostUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := s.changeTarget(w, r, ipdesk.ObjectAddress)
	if err != nil {
		return err
	}
	ctx := r.Context()
	cur, err := s.store.FindAddressByID(ctx, id)
	if err != nil {
		return err
	}
	f := readHostForm(r)
	version, err := formVersion(f.Version)
	if err != nil {
		return err
	}
	fields, fe := f.fields(s.catalog(r))
	addr, err := ipdesk.ParseAddr("address", f.Address)
	if err != nil {
		fe["address"] = s.errorText(r, err)
	}
	status, msg := http.StatusBadRequest, ""
	if len(fe) == 0 {
		upd := hostChanges(cur, fields, addr)
		upd.Version = version
		var warnings []ipdesk.Warning
		err := s.mayUpdateHost(ctx, id, upd)
		if err == nil {
			_, warnings, err = s.store.UpdateAddress(ctx, id, upd)
		}
		if err == nil {
			s.flashSaved(w, r, "flash.saved", warnings)
			redirect(w, r, "/hosts/"+strconv.FormatInt(id, 10))
			return nil
		}
		if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
			return err // deleted meanwhile
		}
		if status, fe, msg, err = hostFormError(s.catalog(r), err); err != nil {
			return err
		}
	}
	d, err := s.hostPageData(w, r, cur, f)
	if err != nil {
		return err
	}
	d.Errors, d.Error = fe, msg
	s.render(w, r, status, "host", d)
	return nil
}

// hostFormError sorts an error of saving a host form: bad input and
// conflicts are shown beside their field (or above the form), a refused
// address beside the address with 403; other errors end the page.
func hostFormError(cat *i18n.Catalog, err error) (int, fieldErrors, string, error) {
	field := ipdesk.ErrorField(err)
	switch ipdesk.ErrorCode(err) {
	case ipdesk.EFORBIDDEN:
		if field == "" {
			field = "address"
		}
		return http.StatusForbidden, fieldErrors{field: localError(cat, err)}, "", nil
	case ipdesk.ENOTFOUND:
		// mayPlaceHost's answer for a space the user may not know of.
		return http.StatusBadRequest, fieldErrors{"space_id": localError(cat, err)}, "", nil
	}
	if !isFormError(err) {
		return 0, nil, "", err
	}
	fe, msg := fieldFormError(cat, err)
	return formStatus(err), fe, msg, nil
}

// formVersion parses the version a form was loaded with; nil when the
// form has none.
func formVersion(v string) (*int64, error) {
	n, err := optionalInt("version", v)
	if err != nil || n == nil || *n > 0 {
		return n, err
	}
	return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "version", "version %q is not a version", clipValue(v))
}

// flashSaved leaves the message key for the next page, or, when the
// change came with warnings, the warnings.
func (s *Server) flashSaved(w http.ResponseWriter, r *http.Request, key string, warnings []ipdesk.Warning) {
	warnings = s.visibleWarnings(r, warnings)
	if len(warnings) == 0 {
		s.setFlash(w, r, key, "")
		return
	}
	msgs := make([]string, len(warnings))
	for i, w := range warnings {
		msgs[i] = w.Message
	}
	s.setFlash(w, r, "flash.hosts.saved_warning", clipValue(strings.Join(msgs, "; ")))
}

// hostDelete removes a host the user may edit.
func (s *Server) hostDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := s.changeTarget(w, r, ipdesk.ObjectAddress)
	if err != nil {
		return err
	}
	cur, err := s.store.FindAddressByID(r.Context(), id)
	if err != nil {
		return err
	}
	del := func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeleteAddress(ctx, id, opts)
	}
	return s.formDelete(w, r, cur.Addr.String(), "/hosts", del, func(refusal error) error {
		d, err := s.hostPageData(w, r, cur, hostFormOf(cur))
		if err != nil {
			return err
		}
		d.Error = s.errorText(r, refusal)
		s.render(w, r, formStatus(refusal), "host", d)
		return nil
	})
}

// changeTarget reads the object id of a change's path and its form, and
// checks that the user may change that object: 403, or 404 for one the
// user may not know of, whatever the form says.
func (s *Server) changeTarget(w http.ResponseWriter, r *http.Request, objectType string) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	if err := s.parseForm(w, r); err != nil {
		return 0, err
	}
	return id, s.authorize(r.Context(), actWrite, object{Type: objectType, ID: id})
}

// formDelete deletes with the version the delete form was loaded with
// and goes on to next with a message naming the object; a refusal the
// user can act on (a stale version, a location that still holds others)
// is shown by again on the object's page.
func (s *Server) formDelete(w http.ResponseWriter, r *http.Request, name, next string,
	del func(context.Context, ipdesk.DeleteOptions) error, again func(refusal error) error) error {
	version, err := formVersion(formValue(r, "version"))
	if err != nil {
		return err
	}
	if err := del(r.Context(), ipdesk.DeleteOptions{Version: version}); err != nil {
		if !isFormError(err) {
			return err
		}
		return again(err)
	}
	s.setFlash(w, r, "flash.deleted", name)
	redirect(w, r, next)
	return nil
}

// hostNewPage shows the form for a new host. ?space=ID&address=IP or
// ?prefix=ID (a subnet, for its first free address) fill it in, for links
// from the address plan.
func (s *Server) hostNewPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	f := hostForm{Space: q.Get("space"), Address: q.Get("address"), Status: string(ipdesk.StatusActive), Level: "0"}
	if v := q.Get("prefix"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix", "prefix %q is not a prefix id", clipValue(v))
		}
		if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectPrefix, ID: id}); err != nil {
			return err
		}
		p, err := s.store.FindPrefixByID(ctx, id)
		if err != nil {
			return err
		}
		f.Space, f.Subnet = strconv.FormatInt(p.SpaceID, 10), p.Prefix.String()
	}
	d, err := s.hostPageData(w, r, nil, f)
	if err != nil {
		return err
	}
	if !d.CanEdit {
		return forbidden(ipdesk.ActorFromContext(ctx), actWrite, "hosts (no group of yours may edit any part of the address plan)")
	}
	s.render(w, r, http.StatusOK, "host", d)
	return nil
}

// hostCreate stores a new host: at the address given, or at the first
// free address of the subnet given.
func (s *Server) hostCreate(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	f := readHostForm(r)
	a, fe := f.fields(s.catalog(r))
	space, err := strconv.ParseInt(f.Space, 10, 64)
	if err != nil || space <= 0 {
		fe["space_id"] = s.errorText(r, ipdesk.FieldErrorf(ipdesk.EINVALID, "space_id", "choose the address space of the host"))
	}
	switch {
	case f.Address != "":
		if a.Addr, err = ipdesk.ParseAddr("address", f.Address); err != nil {
			fe["address"] = s.errorText(r, err)
		}
	case f.Subnet == "":
		fe["address"] = s.errorText(r, ipdesk.FieldErrorf(ipdesk.EINVALID, "address", "give an address, or a subnet to take its first free address"))
	}
	status, msg := http.StatusBadRequest, ""
	if len(fe) == 0 {
		var warnings []ipdesk.Warning
		if f.Address != "" {
			a.SpaceID = space
			if err = s.mayPlaceHost(ctx, &a); err == nil {
				warnings, err = s.store.CreateAddress(ctx, &a)
			}
		} else {
			warnings, err = s.allocateHost(ctx, space, f.Subnet, &a)
		}
		if err == nil {
			s.flashSaved(w, r, "flash.hosts.created", warnings)
			redirect(w, r, "/hosts/"+strconv.FormatInt(a.ID, 10))
			return nil
		}
		if status, fe, msg, err = hostFormError(s.catalog(r), err); err != nil {
			return err
		}
	}
	d, err := s.hostPageData(w, r, nil, f)
	if err != nil {
		return err
	}
	d.Errors, d.Error = fe, msg
	s.render(w, r, status, "host", d)
	return nil
}

// allocateHost stores a at the first free address of the subnet cidr of
// the space, which the user must be allowed to edit.
func (s *Server) allocateHost(ctx context.Context, space int64, cidr string, a *ipdesk.Address) ([]ipdesk.Warning, error) {
	p, err := ipdesk.ParsePrefix("subnet", cidr)
	if err != nil {
		return nil, err
	}
	p = p.Masked()
	scope, err := s.scope(ctx, ipdesk.RightView)
	if err != nil {
		return nil, err
	}
	kind := ipdesk.PrefixSubnet
	found, _, err := s.store.FindPrefixes(ctx, ipdesk.PrefixFilter{SpaceID: &space, Within: &p, Kind: &kind, Scope: scope, Page: ipdesk.Page{Limit: 1}})
	if err != nil {
		return nil, err
	}
	if len(found) == 0 || found[0].Prefix != p {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "subnet", "subnet %s does not exist in this address space", p)
	}
	if err := s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectPrefix, ID: found[0].ID}); err != nil {
		if ipdesk.ErrorCode(err) == ipdesk.EFORBIDDEN {
			return nil, ipdesk.WithField(err, ipdesk.EFORBIDDEN, "subnet")
		}
		return nil, err
	}
	if err := s.mayUseLocation(ctx, a.LocationID); err != nil {
		return nil, err
	}
	return s.store.AllocateAddress(ctx, found[0].ID, netip.Addr{}, a)
}

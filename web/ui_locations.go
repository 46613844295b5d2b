package web

// The locations pages: the tree of sites, buildings and rooms the user
// may see, each room with its phones, hostname pattern and hosts; and
// the forms that create, change and delete locations where the user may.

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"ipdesk"
	"ipdesk/i18n"
)

// locationPages are the pages of the locations area.
func (s *Server) locationPages() []pageRoute {
	return []pageRoute{
		{pattern: "GET /locations", act: actRead, object: ipdesk.ObjectLocation, h: s.locationsPage},
		{pattern: "GET /locations/new", act: actWrite, object: ipdesk.ObjectLocation, h: s.locationNewPage},
		{pattern: "POST /locations/new", act: actWrite, object: ipdesk.ObjectLocation, h: s.locationCreate},
		{pattern: "GET /locations/{id}", act: actRead, object: ipdesk.ObjectLocation, h: s.locationPage},
		{pattern: "POST /locations/{id}", act: actWrite, object: ipdesk.ObjectLocation, h: s.locationUpdate},
		{pattern: "POST /locations/{id}/delete", act: actWrite, object: ipdesk.ObjectLocation, h: s.locationDelete},
	}
}

// locationKinds are the kinds from the outside in.
var locationKinds = []ipdesk.LocationKind{ipdesk.LocationSite, ipdesk.LocationBuilding, ipdesk.LocationRoom}

// locNode is a location in the tree with what the user may do there.
type locNode struct {
	*ipdesk.Location
	Children []*locNode
	CanEdit  bool
	// AddKinds are the kinds the user may create inside.
	AddKinds []ipdesk.LocationKind
}

// locationsData is the data of the locations page.
type locationsData struct {
	page
	Roots      []*locNode
	Count      int
	CanAddSite bool
}

// locationTree arranges the locations of idx as a tree; a location
// whose parent the user may not see is a root of its own.
func locationTree(idx locIndex, perms *ipdesk.Permissions) []*locNode {
	nodes := make(map[int64]*locNode, len(idx))
	for id, l := range idx {
		n := &locNode{Location: l, CanEdit: perms.CanLocation(id, idx.ancestors(id), ipdesk.RightEdit)}
		if n.CanEdit {
			for _, k := range locationKinds {
				if l.Kind.CanContain(k) {
					n.AddKinds = append(n.AddKinds, k)
				}
			}
		}
		nodes[id] = n
	}
	var roots []*locNode
	for _, n := range nodes {
		if p := nodes[n.ParentID]; p != nil {
			p.Children = append(p.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	var sortNodes func([]*locNode)
	sortNodes = func(ns []*locNode) {
		slices.SortFunc(ns, func(a, b *locNode) int {
			if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
				return c
			}
			return int(a.ID - b.ID)
		})
		for _, n := range ns {
			sortNodes(n.Children)
		}
	}
	sortNodes(roots)
	return roots
}

func (s *Server) locationsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	perms, err := s.permissions(ctx)
	if err != nil {
		return err
	}
	idx, err := s.visibleLocations(ctx)
	if err != nil {
		return err
	}
	d := &locationsData{page: s.base(w, r, s.catalog(r).T("locations.title"), "locations"),
		Roots: locationTree(idx, perms), Count: len(idx), CanAddSite: perms.Admin}
	s.render(w, r, http.StatusOK, "locations", d)
	return nil
}

// locationForm is the location form as typed.
type locationForm struct {
	Kind        string
	Parent      string
	Name        string
	Phones      string
	Pattern     string
	Description string
	Version     string
}

// locationFormOf fills the form with a stored location.
func locationFormOf(l *ipdesk.Location) locationForm {
	return locationForm{Kind: string(l.Kind), Parent: strconv.FormatInt(l.ParentID, 10), Name: l.Name,
		Phones: strings.Join(l.Phones, ", "), Pattern: l.HostnamePattern, Description: l.Description,
		Version: strconv.FormatInt(l.Version, 10)}
}

// readLocationForm reads the posted location form.
func readLocationForm(r *http.Request) locationForm {
	return locationForm{Kind: formValue(r, "kind"), Parent: formValue(r, "parent_id"), Name: formValue(r, "name"),
		Phones: formValue(r, "phones"), Pattern: formValue(r, "hostname_pattern"), Description: formValue(r, "description"),
		Version: formValue(r, "version")}
}

// phones splits the phone numbers field: numbers separated by commas.
func (f locationForm) phones() []string {
	out := []string{}
	for _, p := range strings.Split(f.Phones, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parent parses the parent field: 0 for none.
func (f locationForm) parent() (int64, error) {
	if f.Parent == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(f.Parent, 10, 64)
	if err != nil || n < 0 {
		return 0, ipdesk.FieldErrorf(ipdesk.EINVALID, "parent_id", "parent_id %q is not a location", clipValue(f.Parent))
	}
	return n, nil
}

// locationData is the data of a location's page and of the new location
// form.
type locationData struct {
	page
	// Loc is the stored location; nil on the new location form.
	Loc     *ipdesk.Location
	Path    string
	Form    locationForm
	Errors  fieldErrors
	Error   string
	CanEdit bool
	// Parents are where the location may be put; TopLevel tells whether
	// it may be a site without a parent (administrators only).
	Parents  []locOption
	TopLevel bool
	Kinds    []ipdesk.LocationKind
	History  history
}

// locationHistoryFields are the fields the history of a location shows.
var locationHistoryFields = []string{"kind", "name", "parent_id", "phones", "hostname_pattern", "description"}

// locationPageData builds the page of l (nil for a new location) with
// the form f.
func (s *Server) locationPageData(w http.ResponseWriter, r *http.Request, l *ipdesk.Location, f locationForm) (*locationData, error) {
	ctx := r.Context()
	cat := s.catalog(r)
	title := cat.T("locations.new_title")
	if l != nil {
		title = l.Name
	}
	d := &locationData{page: s.base(w, r, title, "locations"), Loc: l, Form: f, Errors: fieldErrors{}, Kinds: locationKinds}
	perms, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	idx, err := s.visibleLocations(ctx)
	if err != nil {
		return nil, err
	}
	d.TopLevel = perms.Admin
	d.Parents = idx.options(func(p *ipdesk.Location) bool {
		if l != nil && (p.ID == l.ID || !p.Kind.CanContain(l.Kind)) {
			return false
		}
		return p.Kind != ipdesk.LocationRoom && perms.CanLocation(p.ID, idx.ancestors(p.ID), ipdesk.RightEdit)
	})
	if l == nil {
		d.CanEdit = d.TopLevel || len(d.Parents) > 0
		return d, nil
	}
	if err := s.completeLocations(ctx, idx, []int64{l.ID}); err != nil {
		return nil, err
	}
	d.Path = idx.path(l.ID)
	d.CanEdit = perms.CanLocation(l.ID, idx.ancestors(l.ID), ipdesk.RightEdit)
	if l.ParentID != 0 && !slices.ContainsFunc(d.Parents, func(o locOption) bool { return o.ID == l.ParentID }) {
		// The present parent stays on offer, so that saving keeps it.
		if err := s.completeLocations(ctx, idx, []int64{l.ParentID}); err != nil {
			return nil, err
		}
		d.Parents = append([]locOption{{ID: l.ParentID, Path: idx.path(l.ParentID)}}, d.Parents...)
	}
	d.History, err = s.locationHistory(ctx, cat, l.ID)
	return d, err
}

// locationHistory returns the history of a location, parents named by
// their paths and kinds in the reader's language.
func (s *Server) locationHistory(ctx context.Context, cat *i18n.Catalog, id int64) (history, error) {
	return s.objectHistory(ctx, ipdesk.ObjectLocation, id, locationHistoryFields, "locations.field.", func(entries []*ipdesk.AuditEntry) (valueFormat, error) {
		idx := locIndex{}
		if err := s.completeLocations(ctx, idx, historyIDs(entries, "parent_id")); err != nil {
			return nil, err
		}
		return func(field string, v any) string {
			switch field {
			case "parent_id":
				return locationLabel(idx, idValue(v))
			case "kind":
				if k, ok := v.(string); ok && cat.Has("locations.kind."+k) {
					return cat.T("locations.kind." + k)
				}
			}
			return plainValue(cat, v)
		}, nil
	})
}

func (s *Server) locationPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectLocation, ID: id}); err != nil {
		return err
	}
	l, err := s.store.FindLocationByID(ctx, id)
	if err != nil {
		return err
	}
	d, err := s.locationPageData(w, r, l, locationFormOf(l))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "location", d)
	return nil
}

// locationNewPage shows the form for a new location; ?parent=ID&kind=K
// fill it in.
func (s *Server) locationNewPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := locationForm{Parent: q.Get("parent"), Kind: q.Get("kind")}
	if f.Kind == "" {
		f.Kind = string(ipdesk.LocationRoom)
		if f.Parent == "" {
			f.Kind = string(ipdesk.LocationSite)
		}
	}
	d, err := s.locationPageData(w, r, nil, f)
	if err != nil {
		return err
	}
	if !d.CanEdit {
		return forbidden(ipdesk.ActorFromContext(r.Context()), actWrite, "locations (no group of yours may edit a location)")
	}
	s.render(w, r, http.StatusOK, "location", d)
	return nil
}

// locationCreate stores a new location inside one the user may edit (a
// site only for administrators).
func (s *Server) locationCreate(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	f := readLocationForm(r)
	parent, err := f.parent()
	if err == nil {
		if err = s.mayPlaceLocation(ctx, parent); err == nil {
			l := &ipdesk.Location{ParentID: parent, Kind: ipdesk.LocationKind(f.Kind), Name: f.Name, Phones: f.phones(),
				HostnamePattern: f.Pattern, Description: f.Description}
			if err = s.store.CreateLocation(ctx, l); err == nil {
				s.setFlash(w, r, "flash.created", l.Name)
				redirect(w, r, "/locations#loc-"+strconv.FormatInt(l.ID, 10))
				return nil
			}
		}
	}
	if !isFormError(err) {
		return err
	}
	d, derr := s.locationPageData(w, r, nil, f)
	if derr != nil {
		return derr
	}
	d.Errors, d.Error = fieldFormError(s.catalog(r), err)
	s.render(w, r, formStatus(err), "location", d)
	return nil
}

// fieldFormError is formError that also puts a conflict about one field
// (a name or a MAC taken) beside the field.
func fieldFormError(cat *i18n.Catalog, err error) (fieldErrors, string) {
	fe, msg := formError(cat, err)
	if f := ipdesk.ErrorField(err); f != "" && len(fe) == 0 {
		fe[f], msg = msg, ""
	}
	return fe, msg
}

// locationUpdate saves the location form of a location the user may
// edit; a move needs edit on the new parent too.
func (s *Server) locationUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := s.changeTarget(w, r, ipdesk.ObjectLocation)
	if err != nil {
		return err
	}
	ctx := r.Context()
	cur, err := s.store.FindLocationByID(ctx, id)
	if err != nil {
		return err
	}
	f := readLocationForm(r)
	version, err := formVersion(f.Version)
	if err != nil {
		return err
	}
	parent, err := f.parent()
	if err == nil {
		upd := locationChanges(cur, f, parent)
		upd.Version = version
		if upd.ParentID != nil {
			err = s.mayPlaceLocation(ctx, parent)
		}
		if err == nil {
			if _, err = s.store.UpdateLocation(ctx, id, upd); err == nil {
				s.setFlash(w, r, "flash.saved", "")
				redirect(w, r, "/locations/"+strconv.FormatInt(id, 10))
				return nil
			}
		}
	}
	if !isFormError(err) {
		return err
	}
	d, derr := s.locationPageData(w, r, cur, f)
	if derr != nil {
		return derr
	}
	d.Errors, d.Error = fieldFormError(s.catalog(r), err)
	s.render(w, r, formStatus(err), "location", d)
	return nil
}

// locationChanges returns the update that turns cur into the form's
// values: only what differs.
func locationChanges(cur *ipdesk.Location, f locationForm, parent int64) ipdesk.LocationUpdate {
	var u ipdesk.LocationUpdate
	if parent != cur.ParentID {
		u.ParentID = &parent
	}
	if f.Name != cur.Name {
		u.Name = &f.Name
	}
	if phones := f.phones(); !slices.Equal(phones, cur.Phones) {
		u.Phones = &phones
	}
	if f.Pattern != cur.HostnamePattern {
		u.HostnamePattern = &f.Pattern
	}
	if f.Description != cur.Description {
		u.Description = &f.Description
	}
	return u
}

// locationDelete removes a location without children; its hosts keep
// their records without a room.
func (s *Server) locationDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := s.changeTarget(w, r, ipdesk.ObjectLocation)
	if err != nil {
		return err
	}
	cur, err := s.store.FindLocationByID(r.Context(), id)
	if err != nil {
		return err
	}
	del := func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeleteLocation(ctx, id, opts)
	}
	return s.formDelete(w, r, cur.Name, "/locations", del, func(refusal error) error {
		d, err := s.locationPageData(w, r, cur, locationFormOf(cur))
		if err != nil {
			return err
		}
		d.Error = s.errorText(r, refusal)
		s.render(w, r, formStatus(refusal), "location", d)
		return nil
	})
}

package web

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"ipdesk"
)

// groupsData is the data of the group list.
type groupsData struct {
	page
	Groups []*ipdesk.Group
	Pages  pageNav
	New    groupForm
}

// groupForm is what the create and edit forms of a group hold.
type groupForm struct {
	Name         string
	Description  string
	CreateSpaces bool
	ViewAll      bool
	Helpdesk     bool
	Version      int64
	Errors       fieldErrors
	Error        string
}

// groupFields are the fields of the group forms.
var groupFields = []string{"name", "description"}

// groupData is the data of one group's page.
type groupData struct {
	page
	Group   *ipdesk.Group
	Edit    groupForm
	Members []*ipdesk.User
	// Candidates are users who are not members, for the add field's
	// suggestions (at most ipdesk.MaxLimit).
	Candidates []*ipdesk.User
	MemberForm memberForm
	Grants     []grantRow
	GrantForm  grantForm
	Spaces     []*ipdesk.Space
	Locations  []locationChoice
	// GrantTypes and Rights are the choices of the grant form.
	GrantTypes []string
	Rights     []ipdesk.Right
}

// memberForm is the add-member form.
type memberForm struct {
	User string
	formState
}

// grantRow is a grant with a readable name of its object.
type grantRow struct {
	Grant *ipdesk.Grant
	Label string
	// Link is the page of the object.
	Link string
}

// grantForm is the add-grant form.
type grantForm struct {
	ObjectType string
	SpaceID    int64
	Prefix     string
	LocationID int64
	Right      string
	formState
}

// grantFields are the fields of the grant form.
var grantFields = []string{"object_type", "space_id", "prefix", "location_id", "right"}

// locationChoice is a location of the grant form's menu, named by its
// path (Site › Building › Room).
type locationChoice struct {
	ID   int64
	Path string
}

func (s *Server) groupsPage(w http.ResponseWriter, r *http.Request) error {
	return s.showGroups(w, r, http.StatusOK, groupForm{Errors: fieldErrors{}})
}

// showGroups renders the group list with the create form in state f.
func (s *Server) showGroups(w http.ResponseWriter, r *http.Request, status int, f groupForm) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectGroup}); err != nil {
		return err
	}
	p, err := listPage(r)
	if err != nil {
		return err
	}
	groups, n, err := s.store.FindGroups(ctx, p)
	if err != nil {
		return err
	}
	d := groupsData{page: s.formPage(w, r, s.catalog(r).T("groups.title"), "accounts", "/groups"), Groups: groups, Pages: navOf(r, p, n), New: f}
	s.render(w, r, status, "groups", d)
	return nil
}

// readGroupForm reads the fields of a group form.
func readGroupForm(r *http.Request) groupForm {
	return groupForm{Name: formValue(r, "name"), Description: formValue(r, "description"),
		CreateSpaces: checked(r, "create_spaces"), ViewAll: checked(r, "view_all"), Helpdesk: checked(r, "helpdesk")}
}

func (s *Server) createGroupSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.startForm(w, r, actWrite, object{Type: ipdesk.ObjectGroup}); err != nil {
		return err
	}
	f := readGroupForm(r)
	g := &ipdesk.Group{Name: f.Name, Description: f.Description, CreateSpaces: f.CreateSpaces, ViewAll: f.ViewAll, Helpdesk: f.Helpdesk}
	if err := s.store.CreateGroup(ctx, g); err != nil {
		if !isFormError(err) {
			return err
		}
		f.Errors, f.Error = formErrorFor(s.catalog(r), err, groupFields...)
		return s.showGroups(w, r, formStatus(err), f)
	}
	s.setFlash(w, r, "flash.created", g.Name)
	redirect(w, r, groupPath(g.ID))
	return nil
}

func groupPath(id int64) string { return "/groups/" + strconv.FormatInt(id, 10) }

func (s *Server) groupPage(w http.ResponseWriter, r *http.Request) error {
	return s.showGroup(w, r, http.StatusOK, func(*groupData) {})
}

// showGroup renders a group's page; set puts the state of the form that
// was sent into the data.
func (s *Server) showGroup(w http.ResponseWriter, r *http.Request, status int, set func(*groupData)) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectGroup, ID: id}); err != nil {
		return err
	}
	g, err := s.store.FindGroupByID(ctx, id)
	if err != nil {
		return err
	}
	users, err := s.allUsers(ctx)
	if err != nil {
		return err
	}
	d := &groupData{
		page:       s.formPage(w, r, g.Name, "accounts", groupPath(id)),
		Group:      g,
		Edit:       groupForm{Name: g.Name, Description: g.Description, CreateSpaces: g.CreateSpaces, ViewAll: g.ViewAll, Helpdesk: g.Helpdesk, Version: g.Version, Errors: fieldErrors{}},
		GrantForm:  grantForm{ObjectType: ipdesk.ObjectSpace, Right: string(ipdesk.RightView)},
		GrantTypes: ipdesk.GrantObjects,
		Rights:     ipdesk.Rights,
	}
	for _, u := range users {
		if slices.Contains(g.Members, u.ID) {
			d.Members = append(d.Members, u)
		} else if len(d.Candidates) < ipdesk.MaxLimit {
			d.Candidates = append(d.Candidates, u)
		}
	}
	if err := s.loadGrants(ctx, d); err != nil {
		return err
	}
	set(d)
	s.render(w, r, status, "group", d)
	return nil
}

// loadGrants reads the group's grants with the names of their objects,
// and the spaces and locations to choose from for a new grant: one query
// each for spaces and locations, one per granted prefix.
func (s *Server) loadGrants(ctx context.Context, d *groupData) error {
	grants, _, err := s.store.FindGrants(ctx, ipdesk.GrantFilter{GroupID: &d.Group.ID, Page: ipdesk.Page{Limit: ipdesk.MaxLimit}})
	if err != nil {
		return err
	}
	if d.Spaces, _, err = s.store.FindSpaces(ctx, ipdesk.SpaceFilter{Page: ipdesk.Page{Limit: ipdesk.MaxLimit}}); err != nil {
		return err
	}
	locs, _, err := s.store.FindLocations(ctx, ipdesk.LocationFilter{Page: ipdesk.Page{Limit: ipdesk.MaxLimit}})
	if err != nil {
		return err
	}
	d.Locations = locationChoices(locs)
	spaceName := map[int64]string{}
	for _, sp := range d.Spaces {
		spaceName[sp.ID] = sp.Name
	}
	locPath := map[int64]string{}
	for _, l := range d.Locations {
		locPath[l.ID] = l.Path
	}
	for _, g := range grants {
		row := grantRow{Grant: g, Label: "#" + strconv.FormatInt(g.ObjectID, 10)}
		id := strconv.FormatInt(g.ObjectID, 10)
		switch g.ObjectType {
		case ipdesk.ObjectSpace:
			row.Link = "/spaces/" + id
			if n, ok := spaceName[g.ObjectID]; ok {
				row.Label = n
			} else if sp, err := s.store.FindSpaceByID(ctx, g.ObjectID); err == nil {
				row.Label = sp.Name
			}
		case ipdesk.ObjectPrefix:
			row.Link = "/prefixes/" + id
			if p, err := s.store.FindPrefixByID(ctx, g.ObjectID); err == nil {
				row.Label = p.Prefix.String()
				if n, ok := spaceName[p.SpaceID]; ok {
					row.Label += " (" + n + ")"
				}
			} else if ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
				return err
			}
		case ipdesk.ObjectLocation:
			row.Link = "/locations/" + id
			if p, ok := locPath[g.ObjectID]; ok {
				row.Label = p
			} else if l, err := s.store.FindLocationByID(ctx, g.ObjectID); err == nil {
				row.Label = l.Name
			}
		}
		d.Grants = append(d.Grants, row)
	}
	return nil
}

// locationChoices names each location by its path, sorted by path. A
// location whose parent is not in the list is named from where the list
// knows it.
func locationChoices(locs []*ipdesk.Location) []locationChoice {
	byID := make(map[int64]*ipdesk.Location, len(locs))
	for _, l := range locs {
		byID[l.ID] = l
	}
	out := make([]locationChoice, 0, len(locs))
	for _, l := range locs {
		parts := []string{l.Name}
		for p, n := byID[l.ParentID], 0; p != nil && n < 8; p, n = byID[p.ParentID], n+1 {
			parts = append([]string{p.Name}, parts...)
		}
		out = append(out, locationChoice{ID: l.ID, Path: strings.Join(parts, " › ")})
	}
	slices.SortFunc(out, func(a, b locationChoice) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func (s *Server) updateGroupSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := s.startFormOn(w, r, actWrite, ipdesk.ObjectGroup)
	if err != nil {
		return err
	}
	f := readGroupForm(r)
	upd := ipdesk.GroupUpdate{Name: &f.Name, Description: &f.Description, CreateSpaces: &f.CreateSpaces, ViewAll: &f.ViewAll, Helpdesk: &f.Helpdesk}
	if upd.Version, err = versionField(r); err == nil {
		_, err = s.store.UpdateGroup(ctx, id, upd)
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		return s.showGroup(w, r, formStatus(err), func(d *groupData) {
			f.Version = d.Group.Version
			f.Errors, f.Error = formErrorFor(s.catalog(r), err, groupFields...)
			d.Edit = f
		})
	}
	s.setFlash(w, r, "flash.saved", "")
	redirect(w, r, groupPath(id))
	return nil
}

func (s *Server) deleteGroupSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := s.startFormOn(w, r, actWrite, ipdesk.ObjectGroup)
	if err != nil {
		return err
	}
	g, err := s.store.FindGroupByID(ctx, id)
	if err != nil {
		return err
	}
	version, err := versionField(r)
	if err == nil {
		err = s.store.DeleteGroup(ctx, id, ipdesk.DeleteOptions{Cascade: true, Version: version})
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		return s.showGroup(w, r, formStatus(err), func(d *groupData) { d.Edit.Error = s.errorText(r, err) })
	}
	s.setFlash(w, r, "flash.deleted", g.Name)
	redirect(w, r, "/groups")
	return nil
}

func (s *Server) addMemberSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := s.startFormOn(w, r, actWrite, ipdesk.ObjectGroup)
	if err != nil {
		return err
	}
	name := formValue(r, "user")
	err = nil
	var u *ipdesk.User
	if name == "" {
		err = ipdesk.FieldErrorf(ipdesk.EINVALID, "user", "user is required")
	} else if u, err = s.store.FindUserByName(ctx, name); ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
		err = ipdesk.FieldErrorf(ipdesk.EINVALID, "user", "user %q does not exist", clipValue(name))
	}
	if err == nil {
		err = s.setMembership(r, id, u.ID, true)
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		return s.showGroup(w, r, formStatus(err), func(d *groupData) {
			d.MemberForm = memberForm{User: name, formState: stateOf(s.catalog(r), err, "user")}
		})
	}
	s.setFlash(w, r, "flash.saved", "")
	redirect(w, r, groupPath(id))
	return nil
}

func (s *Server) removeMemberSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	user, err := pathID(r, "user")
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectGroup, ID: id}); err != nil {
		return err
	}
	if err := s.setMembership(r, id, user, false); err != nil {
		if !isFormError(err) {
			return err
		}
		return s.showGroup(w, r, formStatus(err), func(d *groupData) { d.MemberForm.formState = stateOf(s.catalog(r), err) })
	}
	s.setFlash(w, r, "flash.saved", "")
	redirect(w, r, groupPath(id))
	return nil
}

func (s *Server) addGrantSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.startForm(w, r, actWrite, object{Type: ipdesk.ObjectGrant}); err != nil {
		return err
	}
	f := grantForm{ObjectType: formValue(r, "object_type"), Prefix: formValue(r, "prefix"), Right: formValue(r, "right")}
	f.SpaceID, _ = strconv.ParseInt(formValue(r, "space_id"), 10, 64)
	f.LocationID, _ = strconv.ParseInt(formValue(r, "location_id"), 10, 64)
	g := &ipdesk.Grant{GroupID: id, ObjectType: f.ObjectType, Right: ipdesk.Right(f.Right)}
	var field string
	g.ObjectID, field, err = s.grantObject(r, f.ObjectType)
	if err == nil {
		err = s.store.CreateGrant(ctx, g)
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		if ipdesk.ErrorField(err) == "object_id" {
			err = ipdesk.WithField(err, ipdesk.EINVALID, field)
		}
		return s.showGroup(w, r, formStatus(err), func(d *groupData) {
			f.formState = stateOf(s.catalog(r), err, grantFields...)
			d.GrantForm = f
		})
	}
	s.setFlash(w, r, "flash.saved", "")
	redirect(w, r, groupPath(id)+"#grants")
	return nil
}

// grantObject finds the object a grant form names: a space from its
// menu, a prefix typed as CIDR within the chosen space, a location from
// its menu. It returns the object's id and the form field that names it.
func (s *Server) grantObject(r *http.Request, objectType string) (int64, string, error) {
	switch objectType {
	case ipdesk.ObjectSpace:
		id, err := formID(r, "space_id")
		return id, "space_id", err
	case ipdesk.ObjectLocation:
		id, err := formID(r, "location_id")
		return id, "location_id", err
	case ipdesk.ObjectPrefix:
		space, err := formID(r, "space_id")
		if err != nil {
			return 0, "space_id", err
		}
		text := formValue(r, "prefix")
		if text == "" {
			return 0, "prefix", ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix", "prefix is required")
		}
		p, err := ipdesk.ParsePrefix("prefix", text)
		if err != nil {
			return 0, "prefix", err
		}
		if p != p.Masked() {
			return 0, "prefix", ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix", "prefix %q has host bits set; the prefix is %s", clipValue(text), p.Masked())
		}
		id, err := s.findPrefix(r.Context(), space, p)
		return id, "prefix", err
	}
	return 0, "object_type", ipdesk.FieldErrorf(ipdesk.EINVALID, "object_type", "object_type %q is not one of %s", clipValue(objectType), strings.Join(ipdesk.GrantObjects, ", "))
}

// findPrefix returns the id of prefix p of a space.
func (s *Server) findPrefix(ctx context.Context, space int64, p netip.Prefix) (int64, error) {
	found, _, err := s.store.FindPrefixes(ctx, ipdesk.PrefixFilter{SpaceID: &space, Within: &p, Page: ipdesk.Page{Limit: 1}})
	if err != nil {
		return 0, err
	}
	if len(found) == 0 || found[0].Prefix != p {
		return 0, ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix", "prefix %s does not exist in space %d; grant on a prefix of the plan", p, space)
	}
	return found[0].ID, nil
}

func (s *Server) deleteGrantSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	grant, err := pathID(r, "grant")
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectGrant, ID: grant}); err != nil {
		return err
	}
	// The grant must be one of this group's.
	gs, _, err := s.store.FindGrants(ctx, ipdesk.GrantFilter{GroupID: &id, Page: ipdesk.Page{Limit: ipdesk.MaxLimit}})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(gs, func(g *ipdesk.Grant) bool { return g.ID == grant }) {
		return ipdesk.Errorf(ipdesk.ENOTFOUND, "grant %d of group %d does not exist", grant, id)
	}
	if err := s.store.DeleteGrant(ctx, grant); err != nil {
		return err
	}
	s.setFlash(w, r, "flash.saved", "")
	redirect(w, r, groupPath(id)+"#grants")
	return nil
}

// groupFormView is a group form with the prefix of its element ids, for
// the shared fields template.
type groupFormView struct {
	Prefix string
	Form   groupForm
}

// Fields returns the form for the fields template, its element ids
// starting with prefix.
func (f groupForm) Fields(prefix string) groupFormView { return groupFormView{Prefix: prefix, Form: f} }

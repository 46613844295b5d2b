package web

// The address plan pages: the spaces, the prefix tree of a space, the
// page of a prefix with the address grid of a subnet, and their forms.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"ipdesk"
	"ipdesk/i18n"
)

// planPages returns the pages of the address plan.
func (s *Server) planPages() []pageRoute {
	return []pageRoute{
		{pattern: "GET /spaces", act: actRead, object: ipdesk.ObjectSpace, h: s.spacesPage},
		{pattern: "POST /spaces", act: actWrite, object: ipdesk.ObjectSpace, h: s.spaceCreate},
		{pattern: "GET /spaces/{id}", act: actRead, object: ipdesk.ObjectSpace, h: s.spaceTreePage},
		{pattern: "POST /spaces/{id}/prefixes", act: actRead, object: ipdesk.ObjectSpace, h: s.prefixCreate},
		{pattern: "GET /spaces/{id}/edit", act: actWrite, object: ipdesk.ObjectSpace, h: s.spaceEditPage},
		{pattern: "POST /spaces/{id}/edit", act: actWrite, object: ipdesk.ObjectSpace, h: s.spaceUpdate},
		{pattern: "POST /spaces/{id}/delete", act: actWrite, object: ipdesk.ObjectSpace, h: s.spaceDelete},
		{pattern: "GET /prefixes/{id}", act: actRead, object: ipdesk.ObjectPrefix, h: s.prefixPage},
		{pattern: "POST /prefixes/{id}/allocate", act: actWrite, object: ipdesk.ObjectPrefix, h: s.prefixAllocate},
		{pattern: "POST /prefixes/{id}/claim", act: actWrite, object: ipdesk.ObjectPrefix, h: s.addressClaim},
		{pattern: "GET /prefixes/{id}/edit", act: actWrite, object: ipdesk.ObjectPrefix, h: s.prefixEditPage},
		{pattern: "POST /prefixes/{id}/edit", act: actWrite, object: ipdesk.ObjectPrefix, h: s.prefixUpdate},
		{pattern: "POST /prefixes/{id}/delete", act: actWrite, object: ipdesk.ObjectPrefix, h: s.prefixDelete},
	}
}

// planPager is the paging of a list on the plan pages: links that change
// one offset parameter of the page's query.
type planPager struct {
	From, To int // 1-based positions shown; 0 when nothing is
	Total    int // -1 when unknown (windows without a count)
	Prev     string
	Next     string
}

// Shown tells whether the pager has anywhere to go.
func (p planPager) Shown() bool { return p.Prev != "" || p.Next != "" }

// newPlanPager returns the pager of a list at offset showing n items of
// at most limit, with total items (-1: unknown, then a full page has a
// next one). Its links lead to the page at path with the query q and
// param set; the path is given, since a form shown again with its errors
// has the form's address.
func newPlanPager(path string, q url.Values, param string, offset, limit, n, total int) planPager {
	p := planPager{Total: total}
	if n > 0 {
		p.From, p.To = offset+1, offset+n
	}
	if offset > 0 {
		prev := strconv.Itoa(max(offset-limit, 0))
		if prev == "0" {
			prev = ""
		}
		p.Prev = path + queryWith(q, param, prev)
	}
	if (total < 0 && n == limit) || (total >= 0 && offset+n < total) {
		p.Next = path + queryWith(q, param, strconv.Itoa(offset+limit))
	}
	return p
}

// maxPlanOffset bounds the offsets the plan pages take from the query.
const maxPlanOffset = 10_000_000

// queryOffset returns the offset query parameter name of r: a whole
// number ≥ 0, else 0.
func queryOffset(r *http.Request, name string) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, maxPlanOffset)
}

// checkbox reports whether a form's checkbox was ticked.
func checkbox(r *http.Request, name string) bool {
	switch r.PostFormValue(name) {
	case "on", "1", "true":
		return true
	}
	return false
}

// planFormErrors is formError for a form with the given fields: an error
// about one of them, a conflict too, is shown beside it; any other error
// above the form.
func planFormErrors(cat *i18n.Catalog, err error, fields ...string) (fieldErrors, string) {
	fe, msg := formError(cat, err)
	if f := ipdesk.ErrorField(err); msg != "" && f != "" && slices.Contains(fields, f) && isFormError(err) {
		return fieldErrors{f: msg}, ""
	}
	for f, m := range fe {
		if !slices.Contains(fields, f) {
			return fieldErrors{}, m
		}
	}
	return fe, msg
}

// warningText joins the messages of warnings for a flash message.
func warningText(ws []ipdesk.Warning) string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Message)
	}
	s := strings.Join(out, "; ")
	if n := maxWarningText; len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

// maxWarningText bounds the warnings carried to the next page, so that
// they fit in its cookie.
const maxWarningText = 1500

// pageBack returns where the language switch of a page comes back to:
// the page asked for, or for a form shown again with its errors, the
// page the form is on (path), not the form's address.
func pageBack(r *http.Request, path string) string {
	if r.Method == http.MethodGet {
		return r.URL.RequestURI()
	}
	return path
}

// spaceForm is what the space form holds, as typed.
type spaceForm struct {
	Name, Description, Version string
}

func readSpaceForm(r *http.Request) spaceForm {
	return spaceForm{Name: formValue(r, "name"), Description: formValue(r, "description"), Version: formValue(r, "version")}
}

// spacesData is the data of the list of spaces.
type spacesData struct {
	page
	Spaces    []spaceRow
	Pager     planPager
	CanCreate bool
	Form      spaceForm
	Errors    fieldErrors
	FormError string
}

// spaceRow is a space of the list with its top prefixes.
type spaceRow struct {
	spaceSummary
	CanEdit bool
}

// spacesPageSize is how many spaces the list shows at a time.
const spacesPageSize = 20

func (s *Server) spacesPage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.spacesData(w, r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "spaces", d)
	return nil
}

// spacesData reads the list of spaces the user may see, one page of it.
func (s *Server) spacesData(w http.ResponseWriter, r *http.Request) (*spacesData, error) {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectSpace}); err != nil {
		return nil, err
	}
	perms, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	d := &spacesData{page: s.base(w, r, s.catalog(r).T("nav.plan"), "plan"), Errors: fieldErrors{}}
	d.Path = pageBack(r, "/spaces")
	scope, err := s.scope(ctx, ipdesk.RightView)
	if err != nil {
		return nil, err
	}
	offset := queryOffset(r, "offset")
	spaces, n, err := s.store.FindSpaces(ctx, ipdesk.SpaceFilter{Scope: scope, Page: ipdesk.Page{Offset: offset, Limit: spacesPageSize}})
	if err != nil {
		return nil, err
	}
	sums, err := s.spaceSummaries(ctx, spaces, scope)
	if err != nil {
		return nil, err
	}
	for _, sum := range sums {
		d.Spaces = append(d.Spaces, spaceRow{spaceSummary: sum, CanEdit: perms.CanSpace(sum.Space.ID, ipdesk.RightEdit)})
	}
	d.Pager = newPlanPager("/spaces", d.Query, "offset", offset, spacesPageSize, len(spaces), n)
	d.CanCreate = perms.Admin || perms.CreateSpaces
	return d, nil
}

// spaceCreate creates a space from the form on the list of spaces.
func (s *Server) spaceCreate(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectSpace}); err != nil {
		return err
	}
	f := readSpaceForm(r)
	sp := &ipdesk.Space{Name: f.Name, Description: f.Description}
	err := s.store.CreateSpace(ctx, sp)
	if err != nil {
		err = s.visibleSpaceConflict(ctx, err, sp.Name)
	}
	if err == nil {
		s.setFlash(w, r, "flash.created", sp.Name)
		redirect(w, r, "/spaces/"+strconv.FormatInt(sp.ID, 10))
		return nil
	}
	if !isFormError(err) {
		return err
	}
	d, derr := s.spacesData(w, r)
	if derr != nil {
		return derr
	}
	d.Form = f
	d.Errors, d.FormError = planFormErrors(s.catalog(r), err, "name", "description")
	s.render(w, r, formStatus(err), "spaces", d)
	return nil
}

// spaceEditData is the data of a space's edit page.
type spaceEditData struct {
	page
	Space       *ipdesk.Space
	Form        spaceForm
	Errors      fieldErrors
	FormError   string
	Cascade     bool
	DeleteError string
}

// spaceForEdit returns the space of the request's path that the user may
// change.
func (s *Server) spaceForEdit(r *http.Request) (*ipdesk.Space, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if err := s.authorize(r.Context(), actWrite, object{Type: ipdesk.ObjectSpace, ID: id}); err != nil {
		return nil, err
	}
	return s.store.FindSpaceByID(r.Context(), id)
}

func (s *Server) spaceEditPage(w http.ResponseWriter, r *http.Request) error {
	sp, err := s.spaceForEdit(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "space-edit", s.spaceEditData(w, r, sp))
	return nil
}

// spaceEditData is the edit page of sp with the stored values.
func (s *Server) spaceEditData(w http.ResponseWriter, r *http.Request, sp *ipdesk.Space) spaceEditData {
	d := spaceEditData{page: s.base(w, r, s.catalog(r).T("plan.space.edit_title", sp.Name), "plan"), Space: sp, Errors: fieldErrors{},
		Form: spaceForm{Name: sp.Name, Description: sp.Description, Version: strconv.FormatInt(sp.Version, 10)}}
	d.Path = pageBack(r, "/spaces/"+strconv.FormatInt(sp.ID, 10)+"/edit")
	return d
}

// staleNote returns, for an update refused because the form's version is
// old, the message to show and true.
func (s *Server) staleNote(r *http.Request, err error) (string, bool) {
	if ipdesk.ErrorCode(err) != ipdesk.EPRECONDITION {
		return "", false
	}
	return s.catalog(r).T("plan.stale"), true
}

func (s *Server) spaceUpdate(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	sp, err := s.spaceForEdit(r)
	if err != nil {
		return err
	}
	f := readSpaceForm(r)
	upd := ipdesk.SpaceUpdate{Name: &f.Name, Description: &f.Description}
	upd.Version, err = optionalInt("version", f.Version)
	if err == nil {
		if _, err = s.store.UpdateSpace(r.Context(), sp.ID, upd); err != nil {
			err = s.visibleSpaceConflict(r.Context(), err, f.Name)
		}
	}
	if err == nil {
		s.setFlash(w, r, "flash.saved", "")
		redirect(w, r, "/spaces/"+strconv.FormatInt(sp.ID, 10))
		return nil
	}
	if !isFormError(err) {
		return err
	}
	d := s.spaceEditData(w, r, sp)
	version := d.Form.Version
	d.Form = f
	d.Errors, d.FormError = planFormErrors(s.catalog(r), err, "name", "description")
	if msg, ok := s.staleNote(r, err); ok {
		d.FormError, d.Form.Version = msg, version
	}
	s.render(w, r, formStatus(err), "space-edit", d)
	return nil
}

func (s *Server) spaceDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	sp, err := s.spaceForEdit(r)
	if err != nil {
		return err
	}
	cascade := checkbox(r, "cascade")
	err = s.store.DeleteSpace(r.Context(), sp.ID, ipdesk.DeleteOptions{Cascade: cascade})
	if err == nil {
		s.setFlash(w, r, "flash.deleted", sp.Name)
		redirect(w, r, "/spaces")
		return nil
	}
	if !isFormError(err) {
		return err
	}
	d := s.spaceEditData(w, r, sp)
	d.Cascade, d.DeleteError = cascade, s.errorText(r, err)
	s.render(w, r, formStatus(err), "space-edit", d)
	return nil
}

// spaceSummaries returns the spaces with the top prefixes the user may
// see of each, and the use of all of them read at once.
func (s *Server) spaceSummaries(ctx context.Context, spaces []*ipdesk.Space, scope *ipdesk.Scope) ([]spaceSummary, error) {
	out := make([]spaceSummary, 0, len(spaces))
	var ids []int64
	for _, sp := range spaces {
		sum, err := s.spaceTop(ctx, sp, scope)
		if err != nil {
			return nil, err
		}
		for _, p := range sum.Top {
			ids = append(ids, p.Prefix.ID)
		}
		out = append(out, sum)
	}
	usage, err := s.store.PrefixUsages(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, sum := range out {
		for i := range sum.Top {
			sum.Top[i].Usage = usage[sum.Top[i].Prefix.ID]
		}
	}
	return out, nil
}

// spaceTop returns the top prefixes of a space the user may see, without
// their use: the space's top level, or for a user with rights on some
// prefixes only, the outermost of those.
func (s *Server) spaceTop(ctx context.Context, sp *ipdesk.Space, scope *ipdesk.Scope) (spaceSummary, error) {
	sum := spaceSummary{Space: sp}
	f := ipdesk.PrefixFilter{SpaceID: &sp.ID, Scope: scope, Page: ipdesk.Page{Limit: dashboardPrefixes}}
	whole := scope == nil || containsInt(scope.Spaces, sp.ID)
	if whole {
		var top int64
		f.ParentID = &top
	} else {
		// The visible prefixes come in address order, each after the
		// prefixes that contain it: the roots are those not inside an
		// earlier one. Read a few more than shown to find them.
		f.Page.Limit = 4 * dashboardPrefixes
	}
	prefixes, n, err := s.store.FindPrefixes(ctx, f)
	if err != nil {
		return sum, err
	}
	if whole {
		sum.More = n - len(prefixes)
	}
	for _, root := range planRoots(prefixes) {
		if len(sum.Top) == dashboardPrefixes {
			sum.More++
			continue
		}
		sum.Top = append(sum.Top, prefixUse{Prefix: root})
	}
	return sum, nil
}

// planRoots returns the prefixes (in address order, containers before
// what they contain) that are not inside another of them.
func planRoots(prefixes []*ipdesk.Prefix) []*ipdesk.Prefix {
	var out []*ipdesk.Prefix
	for _, p := range prefixes {
		if n := len(out); n > 0 && out[n-1].Prefix.Bits() <= p.Prefix.Bits() && out[n-1].Prefix.Contains(p.Prefix.Addr()) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// deleteView is what the delete form of an edit page shows: its texts,
// where it goes, and the cascade choice and error of a refused delete.
type deleteView struct {
	ID, Title, Action, Confirm, CascadeLabel string
	Cascade                                  bool
	Error                                    string
}

// DeleteView is the space's delete form.
func (d spaceEditData) DeleteView() deleteView {
	c := i18n.For(d.Lang)
	return deleteView{ID: "space", Title: c.T("plan.space.delete"), Action: "/spaces/" + strconv.FormatInt(d.Space.ID, 10) + "/delete",
		Confirm: c.T("plan.space.delete_confirm", d.Space.Name), CascadeLabel: c.T("plan.space.cascade"), Cascade: d.Cascade, Error: d.DeleteError}
}

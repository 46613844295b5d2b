package web

// The administration pages of the UI: users, groups and grants, the audit
// log, the config outputs, each user's settings and the help. This file
// lists their routes and holds what they share.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"ipdesk"
)

// adminPages returns the routes of the administration pages.
func (s *Server) adminPages() []pageRoute {
	return []pageRoute{
		{pattern: "GET /users", act: actRead, object: ipdesk.ObjectUser, h: s.usersPage},
		{pattern: "POST /users", act: actWrite, object: ipdesk.ObjectUser, h: s.createUserSubmit},
		{pattern: "GET /users/{id}", act: actRead, object: ipdesk.ObjectUser, h: s.userPage},
		{pattern: "POST /users/{id}", act: actWrite, object: ipdesk.ObjectUser, h: s.updateUserSubmit},
		{pattern: "POST /users/{id}/password", act: actWrite, object: ipdesk.ObjectUser, h: s.setUserPasswordSubmit},
		{pattern: "POST /users/{id}/groups", act: actWrite, object: ipdesk.ObjectUser, h: s.addUserGroupSubmit},
		{pattern: "POST /users/{id}/groups/{group}/remove", act: actWrite, object: ipdesk.ObjectUser, h: s.removeUserGroupSubmit},
		{pattern: "POST /users/{id}/tokens/{token}/delete", act: actWrite, object: ipdesk.ObjectUser, h: s.deleteUserTokenSubmit},

		{pattern: "GET /groups", act: actRead, object: ipdesk.ObjectGroup, h: s.groupsPage},
		{pattern: "POST /groups", act: actWrite, object: ipdesk.ObjectGroup, h: s.createGroupSubmit},
		{pattern: "GET /groups/{id}", act: actRead, object: ipdesk.ObjectGroup, h: s.groupPage},
		{pattern: "POST /groups/{id}", act: actWrite, object: ipdesk.ObjectGroup, h: s.updateGroupSubmit},
		{pattern: "POST /groups/{id}/delete", act: actWrite, object: ipdesk.ObjectGroup, h: s.deleteGroupSubmit},
		{pattern: "POST /groups/{id}/members", act: actWrite, object: ipdesk.ObjectGroup, h: s.addMemberSubmit},
		{pattern: "POST /groups/{id}/members/{user}/remove", act: actWrite, object: ipdesk.ObjectGroup, h: s.removeMemberSubmit},
		{pattern: "POST /groups/{id}/grants", act: actWrite, object: ipdesk.ObjectGroup, h: s.addGrantSubmit},
		{pattern: "POST /groups/{id}/grants/{grant}/delete", act: actWrite, object: ipdesk.ObjectGroup, h: s.deleteGrantSubmit},

		{pattern: "GET /access-levels", act: actRead, object: ipdesk.ObjectAccessLevel, h: s.levelsPage},
		{pattern: "POST /access-levels", act: actWrite, object: ipdesk.ObjectAccessLevel, h: s.createLevelSubmit},
		{pattern: "POST /access-levels/{level}", act: actWrite, object: ipdesk.ObjectAccessLevel, h: s.updateLevelSubmit},
		{pattern: "POST /access-levels/{level}/delete", act: actWrite, object: ipdesk.ObjectAccessLevel, h: s.deleteLevelSubmit},

		{pattern: "GET /audit", act: actRead, object: objectAudit, h: s.auditPage},

		{pattern: "GET /outputs", act: actRead, object: objectOutput, h: s.outputsPage},
		{pattern: "POST /outputs/apply", act: actWrite, object: objectOutput, h: s.applySubmit},

		{pattern: "GET /settings", act: actRead, object: objectMe, h: s.settingsPage},
		{pattern: "POST /settings", act: actWrite, object: objectMe, h: s.updateSettingsSubmit},
		{pattern: "POST /settings/password", act: actWrite, object: objectMe, h: s.changePasswordSubmit},
		{pattern: "POST /settings/tokens", act: actWrite, object: objectMe, h: s.createTokenSubmit},
		{pattern: "POST /settings/tokens/{id}/delete", act: actWrite, object: objectMe, h: s.deleteTokenSubmit},

		{pattern: "GET /help", act: actRead, object: objectMe, h: s.helpPage},
	}
}

// adminPageSize is the number of rows of a list page.
const adminPageSize = 50

// pageNav is the paging of a list: where the shown rows start, how many a
// page has, how many there are, and the query to build links from.
type pageNav struct {
	Offset, Limit, Total int
	Query                url.Values
}

// From is the number of the first row shown (1-based; 0 when none is).
func (p pageNav) From() int {
	if p.Total == 0 || p.Offset >= p.Total {
		return 0
	}
	return p.Offset + 1
}

// To is the number of the last row shown.
func (p pageNav) To() int { return min(p.Offset+p.Limit, p.Total) }

// Prev is the query of the previous page, or "" on the first.
func (p pageNav) Prev() string {
	if p.Offset <= 0 {
		return ""
	}
	off := max(p.Offset-p.Limit, 0)
	if off == 0 {
		return queryWith(p.Query, "offset", "")
	}
	return queryWith(p.Query, "offset", strconv.Itoa(off))
}

// Next is the query of the next page, or "" on the last.
func (p pageNav) Next() string {
	if p.Offset+p.Limit >= p.Total {
		return ""
	}
	return queryWith(p.Query, "offset", strconv.Itoa(p.Offset+p.Limit))
}

// listPage reads the offset query parameter of a list page.
func listPage(r *http.Request) (ipdesk.Page, error) {
	p := ipdesk.Page{Limit: adminPageSize}
	if v := r.URL.Query().Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, ipdesk.FieldErrorf(ipdesk.EINVALID, "offset", "offset %q is not a whole number of at least 0", clipValue(v))
		}
		p.Offset = n
	}
	return p, nil
}

// navOf returns the paging of a list read with p that has total rows.
func navOf(r *http.Request, p ipdesk.Page, total int) pageNav {
	return pageNav{Offset: p.Offset, Limit: p.Limit, Total: total, Query: r.URL.Query()}
}

// startForm begins a form handler: the actor of r must be allowed to do
// act to obj (see authorize), then the form is read.
func (s *Server) startForm(w http.ResponseWriter, r *http.Request, act action, obj object) error {
	if err := s.authorize(r.Context(), act, obj); err != nil {
		return err
	}
	return s.parseForm(w, r)
}

// startFormOn is startForm on the object of type objectType that the
// path's {id} names; it returns the id.
func (s *Server) startFormOn(w http.ResponseWriter, r *http.Request, act action, objectType string) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	return id, s.startForm(w, r, act, object{Type: objectType, ID: id})
}

// formPage is base for a page that also answers its forms: a form shown
// again with its errors answers a POST to another path, so the language
// switch must lead back to the page itself.
func (s *Server) formPage(w http.ResponseWriter, r *http.Request, title, nav, path string) page {
	p := s.base(w, r, title, nav)
	if r.Method != http.MethodGet {
		p.Path = path
	}
	return p
}

// checked tells whether a checkbox of a POSTed form is ticked.
func checked(r *http.Request, name string) bool { return r.PostForm.Has(name) }

// formID parses an id field of a POSTed form: a positive whole number.
func formID(r *http.Request, field string) (int64, error) {
	v := formValue(r, field)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		if v == "" {
			return 0, ipdesk.FieldErrorf(ipdesk.EINVALID, field, "%s is required", field)
		}
		return 0, ipdesk.FieldErrorf(ipdesk.EINVALID, field, "%s %q is not an id", field, clipValue(v))
	}
	return n, nil
}

// versionField reads the hidden version field of an edit form, so that a
// change made by someone else since the form was shown is refused (412)
// instead of overwritten.
func versionField(r *http.Request) (*int64, error) {
	return optionalInt("version", formValue(r, "version"))
}

// allUsers returns every user, by name, read a page of ipdesk.MaxLimit
// at a time.
func (s *Server) allUsers(ctx context.Context) ([]*ipdesk.User, error) {
	var out []*ipdesk.User
	for {
		page, total, err := s.store.FindUsers(ctx, ipdesk.Page{Offset: len(out), Limit: ipdesk.MaxLimit})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) == 0 || len(out) >= total {
			return out, nil
		}
	}
}

// userSet maps user ids to users.
func userSet(users []*ipdesk.User) map[int64]*ipdesk.User {
	m := make(map[int64]*ipdesk.User, len(users))
	for _, u := range users {
		m[u.ID] = u
	}
	return m
}

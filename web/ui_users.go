package web

import (
	"net/http"
	"slices"
	"strconv"

	"ipdesk"
	"ipdesk/i18n"
)

// usersData is the data of the user list.
type usersData struct {
	page
	Users []*ipdesk.User
	Pages pageNav
	New   userForm
}

// userForm is what the create and edit forms of a user hold, with their
// errors.
type userForm struct {
	Name     string
	FullName string
	Language string
	Admin    bool
	Disabled bool
	Version  int64
	Errors   fieldErrors
	Error    string
}

// userData is the data of one user's page.
type userData struct {
	page
	Subject *ipdesk.User
	// Self tells that the administrator looks at their own account: the
	// admin and disabled flags are not theirs to change.
	Self     bool
	Edit     userForm
	Password formState
	Groups   []*ipdesk.Group
	// Others are the groups the user is not in, for the add menu.
	Others     []*ipdesk.Group
	GroupForm  formState
	Tokens     []*ipdesk.Token
	TokenError string
}

// formState is the errors of a form shown again.
type formState struct {
	Errors fieldErrors
	Error  string
}

// stateOf returns the state of a form with the given fields after err:
// an error about one of them is shown beside it, any other above the
// form.
func stateOf(cat *i18n.Catalog, err error, fields ...string) formState {
	fe, msg := formErrorFor(cat, err, fields...)
	return formState{Errors: fe, Error: msg}
}

// formErrorFor is formError for a form with the given fields: an error
// about a field the form does not show is shown as the form's error.
func formErrorFor(cat *i18n.Catalog, err error, fields ...string) (fieldErrors, string) {
	fe, msg := formError(cat, err)
	for f, m := range fe {
		if !slices.Contains(fields, f) {
			delete(fe, f)
			msg = m
		}
	}
	return fe, msg
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) error {
	return s.showUsers(w, r, http.StatusOK, userForm{Errors: fieldErrors{}})
}

// showUsers renders the user list with the create form in state f.
func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, status int, f userForm) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectUser}); err != nil {
		return err
	}
	p, err := listPage(r)
	if err != nil {
		return err
	}
	users, n, err := s.store.FindUsers(ctx, p)
	if err != nil {
		return err
	}
	d := usersData{page: s.formPage(w, r, s.catalog(r).T("users.title"), "accounts", "/users"), Users: users, Pages: navOf(r, p, n), New: f}
	s.render(w, r, status, "users", d)
	return nil
}

func (s *Server) createUserSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.startForm(w, r, actWrite, object{Type: ipdesk.ObjectUser}); err != nil {
		return err
	}
	f := userForm{Name: formValue(r, "name"), FullName: formValue(r, "full_name"), Language: formValue(r, "language"), Admin: checked(r, "admin")}
	u := &ipdesk.User{Name: f.Name, FullName: f.FullName, Admin: f.Admin, Language: f.Language}
	err := s.store.CreateUser(ctx, u, r.PostFormValue("password"))
	if err != nil {
		if !isFormError(err) {
			return err
		}
		f.Errors, f.Error = formErrorFor(s.catalog(r), err, "name", "full_name", "password", "language")
		return s.showUsers(w, r, formStatus(err), f)
	}
	s.setFlash(w, r, "flash.created", u.Name)
	redirect(w, r, "/users/"+strconv.FormatInt(u.ID, 10))
	return nil
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request) error {
	return s.showUser(w, r, http.StatusOK, func(*userData) {})
}

// showUser renders a user's page; set puts the state of the form that
// was sent into the data.
func (s *Server) showUser(w http.ResponseWriter, r *http.Request, status int, set func(*userData)) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectUser, ID: id}); err != nil {
		return err
	}
	if p, err := s.permissions(ctx); err != nil {
		return err
	} else if !p.Admin {
		// A user may read their own account; it is managed on the
		// settings page.
		redirect(w, r, "/settings")
		return nil
	}
	u, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return err
	}
	groups, err := s.store.FindUserGroups(ctx, id)
	if err != nil {
		return err
	}
	all, _, err := s.store.FindGroups(ctx, ipdesk.Page{Limit: ipdesk.MaxLimit})
	if err != nil {
		return err
	}
	tokens, err := s.store.FindTokens(ctx, id)
	if err != nil {
		return err
	}
	d := &userData{
		page:    s.formPage(w, r, u.Name, "accounts", "/users/"+strconv.FormatInt(id, 10)),
		Subject: u,
		Self:    id == ipdesk.ActorFromContext(ctx).ID,
		Edit:    userForm{Name: u.Name, FullName: u.FullName, Language: u.Language, Admin: u.Admin, Disabled: u.Disabled, Version: u.Version, Errors: fieldErrors{}},
		Groups:  groups,
		Tokens:  tokens,
	}
	for _, g := range all {
		if !slices.Contains(g.Members, id) {
			d.Others = append(d.Others, g)
		}
	}
	set(d)
	s.render(w, r, status, "user", d)
	return nil
}

func (s *Server) updateUserSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := s.startFormOn(w, r, actWrite, ipdesk.ObjectUser)
	if err != nil {
		return err
	}
	f := userForm{FullName: formValue(r, "full_name"), Language: formValue(r, "language")}
	upd := ipdesk.UserUpdate{FullName: &f.FullName, Language: &f.Language}
	// The flags are sent only by a form that shows them: an
	// administrator's own page shows them without the marker.
	if r.PostForm.Has("flags") {
		f.Admin, f.Disabled = checked(r, "admin"), checked(r, "disabled")
		upd.Admin, upd.Disabled = &f.Admin, &f.Disabled
	}
	if upd.Version, err = versionField(r); err == nil {
		if err = checkSelfUpdate(ctx, id, upd); err == nil {
			var u *ipdesk.User
			if u, err = s.store.UpdateUser(ctx, id, upd); err == nil {
				s.userChanged(id, u.Disabled)
			}
		}
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		return s.showUser(w, r, formStatus(err), func(d *userData) {
			f.Name, f.Version = d.Subject.Name, d.Subject.Version
			if upd.Admin == nil {
				f.Admin, f.Disabled = d.Subject.Admin, d.Subject.Disabled
			}
			f.Errors, f.Error = formErrorFor(s.catalog(r), err, "full_name", "language")
			d.Edit = f
		})
	}
	s.setFlash(w, r, "flash.saved", "")
	redirect(w, r, r.URL.Path)
	return nil
}

func (s *Server) setUserPasswordSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := s.startFormOn(w, r, actWrite, ipdesk.ObjectUser)
	if err != nil {
		return err
	}
	pw := r.PostFormValue("password")
	err = s.checkRepeated(r, pw, "password2")
	if err == nil {
		if err = s.store.SetPassword(ctx, id, pw); err == nil {
			err = s.deleteUserSessions(ctx, id, 0)
		}
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		return s.showUser(w, r, formStatus(err), func(d *userData) { d.Password = stateOf(s.catalog(r), err, "password", "password2") })
	}
	s.setFlash(w, r, "flash.password_set", "")
	redirect(w, r, "/users/"+strconv.FormatInt(id, 10))
	return nil
}

// checkRepeated checks that the password field repeat of the form equals
// pw: a typing mistake in a hidden field would lock the user out.
func (s *Server) checkRepeated(r *http.Request, pw, repeat string) error {
	if r.PostFormValue(repeat) != pw {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, repeat, "%s", s.catalog(r).T("users.password_mismatch"))
	}
	return nil
}

func (s *Server) addUserGroupSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.userGroupSubmit(w, r, true)
}

func (s *Server) removeUserGroupSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.userGroupSubmit(w, r, false)
}

// userGroupSubmit adds the user of the page to a group, or removes them
// from one.
func (s *Server) userGroupSubmit(w http.ResponseWriter, r *http.Request, add bool) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.startForm(w, r, actWrite, object{Type: ipdesk.ObjectGroup}); err != nil {
		return err
	}
	var group int64
	if add {
		group, err = formID(r, "group")
	} else {
		group, err = pathID(r, "group")
	}
	if err == nil {
		if err = s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectGroup, ID: group}); err != nil {
			return err
		}
		err = s.setMembership(r, group, id, add)
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		return s.showUser(w, r, formStatus(err), func(d *userData) { d.GroupForm = stateOf(s.catalog(r), err, "group") })
	}
	s.setFlash(w, r, "flash.saved", "")
	redirect(w, r, "/users/"+strconv.FormatInt(id, 10))
	return nil
}

// setMembership makes user a member of group, or not, as of the group's
// current version (a change of the group in between gives 412).
func (s *Server) setMembership(r *http.Request, group, user int64, member bool) error {
	ctx := r.Context()
	g, err := s.store.FindGroupByID(ctx, group)
	if err != nil {
		if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
			return ipdesk.WithField(err, ipdesk.EINVALID, "group")
		}
		return err
	}
	members := slices.DeleteFunc(slices.Clone(g.Members), func(id int64) bool { return id == user })
	if member {
		members = append(members, user)
	}
	if len(members) == len(g.Members) {
		return nil // already so
	}
	_, err = s.store.UpdateGroup(ctx, group, ipdesk.GroupUpdate{Members: &members, Version: &g.Version})
	return err
}

func (s *Server) deleteUserTokenSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	token, err := pathID(r, "token")
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectToken, ID: token}); err != nil {
		return err
	}
	if err := s.store.DeleteToken(ctx, id, token); err != nil {
		return err
	}
	s.setFlash(w, r, "flash.token_revoked", "")
	redirect(w, r, "/users/"+strconv.FormatInt(id, 10))
	return nil
}

// langMenu is a language menu of a form: the element id, the chosen
// value ("" follows the browser) and its error.
type langMenu struct {
	ID, Value, Error string
	Choices          []string
}

// LangMenu returns the language menu of the form, with the element id.
func (f userForm) LangMenu(id string) langMenu {
	return langMenu{ID: id, Value: f.Language, Error: f.Errors["language"], Choices: append([]string{""}, i18n.Languages...)}
}

// tokenTable is a list of API tokens with the path their revoke buttons
// post to (Base + id + "/delete").
type tokenTable struct {
	Tokens []*ipdesk.Token
	Base   string
}

// TokenTable returns the user's tokens for the token table.
func (d *userData) TokenTable() tokenTable {
	return tokenTable{Tokens: d.Tokens, Base: "/users/" + strconv.FormatInt(d.Subject.ID, 10) + "/tokens/"}
}

// MinPassword is the shortest password, for the forms' hints.
func (userForm) MinPassword() int { return ipdesk.MinPasswordLen }

// MinPassword is the shortest password, for the forms' hints.
func (formState) MinPassword() int { return ipdesk.MinPasswordLen }

package web

import (
	"net/http"

	"ipdesk"
	"ipdesk/i18n"
)

// settingsData is the data of a user's own settings page.
type settingsData struct {
	page
	Profile   userForm
	Password  formState
	Tokens    []*ipdesk.Token
	TokenForm struct {
		Description string
		formState
	}
	// NewToken is the token just made, with its secret: shown this once.
	NewToken *tokenResult
	// Groups are the user's groups, to show what rights they have.
	Groups []*ipdesk.Group
}

// TokenTable returns the user's tokens for the token table.
func (d *settingsData) TokenTable() tokenTable {
	return tokenTable{Tokens: d.Tokens, Base: "/settings/tokens/"}
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) error {
	return s.showSettings(w, r, http.StatusOK, func(*settingsData) {})
}

// showSettings renders the settings page; set puts the state of the form
// that was sent into the data.
func (s *Server) showSettings(w http.ResponseWriter, r *http.Request, status int, set func(*settingsData)) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: objectMe}); err != nil {
		return err
	}
	me, err := s.store.FindUserByID(ctx, ipdesk.ActorFromContext(ctx).ID)
	if err != nil {
		return err
	}
	tokens, err := s.store.FindTokens(ctx, me.ID)
	if err != nil {
		return err
	}
	groups, err := s.store.FindUserGroups(ctx, me.ID)
	if err != nil {
		return err
	}
	d := &settingsData{
		page:    s.formPage(w, r, s.catalog(r).T("settings.title"), "settings", "/settings"),
		Profile: userForm{Name: me.Name, FullName: me.FullName, Language: me.Language, Admin: me.Admin, Version: me.Version, Errors: fieldErrors{}},
		Tokens:  tokens,
		Groups:  groups,
	}
	set(d)
	s.render(w, r, status, "settings", d)
	return nil
}

// updateSettingsSubmit changes the user's own full name and language.
func (s *Server) updateSettingsSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.startForm(w, r, actRead, object{Type: objectMe}); err != nil {
		return err
	}
	me := ipdesk.ActorFromContext(ctx)
	f := userForm{Name: me.Name, FullName: formValue(r, "full_name"), Language: formValue(r, "language")}
	upd := ipdesk.UserUpdate{FullName: &f.FullName, Language: &f.Language}
	var err error
	if upd.Version, err = versionField(r); err == nil {
		_, err = s.store.UpdateUser(ctx, me.ID, upd)
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		return s.showSettings(w, r, formStatus(err), func(d *settingsData) {
			f.Version = d.Profile.Version
			f.Errors, f.Error = formErrorFor(s.catalog(r), err, "full_name", "language")
			d.Profile = f
		})
	}
	if i18n.Supported(f.Language) {
		s.setLangCookie(w, r, f.Language)
	} else {
		// Follow the browser: forget the choice made before signing in.
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
			Secure: s.secureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
	}
	s.setFlash(w, r, "flash.saved", "")
	redirect(w, r, "/settings")
	return nil
}

// changePasswordSubmit changes the user's own password: the current one
// is needed, the new one twice; the user's other sessions end.
func (s *Server) changePasswordSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.startForm(w, r, actRead, object{Type: objectMe}); err != nil {
		return err
	}
	next := r.PostFormValue("new")
	err := s.checkRepeated(r, next, "new2")
	if err == nil {
		err = s.changePassword(ctx, r.PostFormValue("current"), next)
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		return s.showSettings(w, r, formStatus(err), func(d *settingsData) { d.Password = stateOf(s.catalog(r), err, "current", "new", "new2") })
	}
	s.setFlash(w, r, "flash.password_changed", "")
	redirect(w, r, "/settings")
	return nil
}

// createTokenSubmit makes an API token and shows its secret once, on the
// page that answers the form (never in a redirect or a cookie).
func (s *Server) createTokenSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.startForm(w, r, actRead, object{Type: objectMe}); err != nil {
		return err
	}
	me := ipdesk.ActorFromContext(ctx)
	desc := formValue(r, "description")
	secret, t, err := s.store.CreateToken(ctx, me.ID, desc)
	if err != nil {
		if !isFormError(err) {
			return err
		}
		return s.showSettings(w, r, formStatus(err), func(d *settingsData) {
			d.TokenForm.Description = desc
			d.TokenForm.formState = stateOf(s.catalog(r), err, "description")
		})
	}
	return s.showSettings(w, r, http.StatusOK, func(d *settingsData) { d.NewToken = &tokenResult{Token: t, Secret: secret} })
}

// deleteTokenSubmit revokes one of the user's own API tokens.
func (s *Server) deleteTokenSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: objectMe}); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteToken(ctx, ipdesk.ActorFromContext(ctx).ID, id); err != nil {
		return err
	}
	s.setFlash(w, r, "flash.token_revoked", "")
	redirect(w, r, "/settings")
	return nil
}

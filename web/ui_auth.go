package web

import (
	"errors"
	"net/http"

	"ipdesk"
	"ipdesk/i18n"
)

// loginData is the data of the sign-in page.
type loginData struct {
	page
	Name  string
	Next  string
	Error string
	// SSO is the label of the single sign-on button; "" without one.
	SSO string
	// TOTP asks for a two-factor code; TOTPEnrol shows a new secret to
	// set up first.
	TOTP      bool
	TOTPWrong bool
	TOTPEnrol *totpEnrolment
}

// ssoLabel returns the label of the single sign-on button, or "".
func (s *Server) ssoLabel() string {
	if s.sso == nil {
		return ""
	}
	return s.sso.Label()
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	if l := r.URL.Query().Get("lang"); i18n.Supported(l) {
		s.setLangCookie(w, r, l)
		r.AddCookie(&http.Cookie{Name: langCookie, Value: l})
	}
	d := loginData{page: s.base(w, r, s.catalog(r).T("login.title"), "login"), Next: localPath(r.URL.Query().Get("next")), SSO: s.ssoLabel()}
	s.render(w, r, http.StatusOK, "login", d)
	return nil
}

// loginSubmit signs a user in and sends the browser on to the page it
// came for. A wrong name or password gets the same message, and many of
// them slow the next attempts down.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	name, password := formValue(r, "name"), r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"))
	cat := s.catalog(r)
	_, err := s.signIn(r.Context(), w, r, name, password)
	if err != nil {
		d := loginData{page: s.base(w, r, cat.T("login.title"), "login"), Name: name, Next: next, SSO: s.ssoLabel()}
		var prompt *totpPrompt
		if errors.As(err, &prompt) {
			d.TOTP, d.TOTPWrong = true, prompt.Wrong
			if prompt.Enrol {
				d.TOTPEnrol = s.enrolment(&ipdesk.User{Name: name}, prompt.Secret)
			}
			status := http.StatusOK
			if prompt.Wrong {
				status = http.StatusUnauthorized
			}
			s.render(w, r, status, "login", d)
			return nil
		}
		if errors.Is(err, errDirectoryDown) {
			d.Error = cat.T("login.directory_down")
			s.render(w, r, http.StatusServiceUnavailable, "login", d)
			return nil
		}
		switch ipdesk.ErrorCode(err) {
		case ipdesk.EUNAUTHORIZED:
			d.Error = cat.T("login.wrong")
		case ipdesk.ETOOMANY:
			d.Error = cat.T("login.throttled")
		default:
			return err
		}
		s.render(w, r, errorStatus(ipdesk.ErrorCode(err)), "login", d)
		return nil
	}
	redirect(w, r, next)
	return nil
}

// logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.endSession(w, r); err != nil {
		return err
	}
	s.setFlash(w, r, "flash.signed_out", "")
	redirect(w, r, "/login")
	return nil
}

// setLangCookie remembers a language choice in the browser.
func (s *Server) setLangCookie(w http.ResponseWriter, r *http.Request, lang string) {
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.secureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// setLanguage switches the UI language: for the signed-in user, stored
// with the user; always remembered in the browser.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	lang := r.PostFormValue("lang")
	if !i18n.Supported(lang) {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "lang", "language %q is not one of en, de, ru", clipValue(lang))
	}
	s.setLangCookie(w, r, lang)
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, u, err := s.store.FindSession(r.Context(), c.Value, s.sessionLimits); err == nil {
			ctx := ipdesk.NewContextWithActor(r.Context(), u)
			if _, err := s.store.UpdateUser(ctx, u.ID, ipdesk.UserUpdate{Language: &lang}); err != nil {
				return err
			}
		}
	}
	redirect(w, r, r.PostFormValue("back"))
	return nil
}

package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"ipdesk"
	"ipdesk/totp"
)

// TOTPPolicy says which local accounts must sign in with a second factor
// (a TOTP code). Others may turn it on for themselves.
type TOTPPolicy struct {
	// All requires it of every local account; Admins of administrators.
	All    bool
	Admins bool
	// Groups requires it of the members of these groups (by name).
	Groups []string
	// Issuer names ipdesk in authenticator apps; "" means "ipdesk".
	Issuer string
}

// totpPrompt is the answer to a sign-in whose password was right but
// that needs a two-factor code: asked for, or wrong; with Enrol a code of
// the new secret Secret, shown on the sign-in page, sets two-factor up.
type totpPrompt struct {
	Enrol  bool
	Secret string
	Wrong  bool
}

func (p *totpPrompt) Error() string {
	if p.Wrong {
		return "wrong two-factor code"
	}
	return "a two-factor code is needed"
}

// totpEnrolment is what the pages show to set up an authenticator app.
type totpEnrolment struct {
	Secret  string // base32, posted back
	Grouped string // in groups of four, to type
	URI     string // otpauth://
}

func (s *Server) enrolment(u *ipdesk.User, secret string) *totpEnrolment {
	issuer := s.totp.Issuer
	if issuer == "" {
		issuer = "ipdesk"
	}
	return &totpEnrolment{Secret: secret, Grouped: totp.Group(secret), URI: totp.URI(issuer, u.Name, secret)}
}

// totpRequired reports whether the policy requires a second factor of u.
func (s *Server) totpRequired(ctx context.Context, u *ipdesk.User) (bool, error) {
	p := s.totp
	if u.Directory != "" {
		return false, nil
	}
	if p.All || (p.Admins && u.Admin) {
		return true, nil
	}
	if len(p.Groups) == 0 {
		return false, nil
	}
	gs, err := s.store.FindUserGroups(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for _, g := range gs {
		if slices.Contains(p.Groups, g.Name) {
			return true, nil
		}
	}
	return false, nil
}

// secondFactor checks the two-factor code of a sign-in of u, whose
// password was right, from the form fields code and (to set it up)
// totp_secret. Directory users pass: their directory decides.
func (s *Server) secondFactor(ctx context.Context, r *http.Request, u *ipdesk.User) error {
	if u.Directory != "" {
		return nil
	}
	secret, last, err := s.store.FindTOTP(ctx, u.ID)
	if err != nil {
		return err
	}
	code := r.PostFormValue("code")
	if secret == "" {
		required, err := s.totpRequired(ctx, u)
		if err != nil || !required {
			return err
		}
		// Required but not set up: set it up now, with a code of the
		// secret shown on the sign-in page.
		offered := strings.ToUpper(strings.Join(strings.Fields(r.PostFormValue("totp_secret")), ""))
		key, derr := totp.Decode(offered)
		if derr != nil {
			return &totpPrompt{Enrol: true, Secret: totp.NewSecret()}
		}
		if code == "" {
			return &totpPrompt{Enrol: true, Secret: offered}
		}
		step, ok := totp.Verify(key, code, s.now(), 0)
		if !ok {
			return &totpPrompt{Enrol: true, Secret: offered, Wrong: true}
		}
		return s.store.SetTOTP(ctx, u.ID, offered, step)
	}
	if code == "" {
		return &totpPrompt{}
	}
	key, err := totp.Decode(secret)
	if err != nil {
		return err
	}
	step, ok := totp.Verify(key, code, s.now(), last)
	if !ok {
		return &totpPrompt{Wrong: true}
	}
	if err := s.store.UseTOTPStep(ctx, u.ID, step); err != nil {
		if ipdesk.ErrorCode(err) == ipdesk.EUNAUTHORIZED {
			return &totpPrompt{Wrong: true}
		}
		return err
	}
	return nil
}

// wrongCode reports whether err is a wrong two-factor code, which counts
// as a failed sign-in.
func wrongCode(err error) bool {
	var p *totpPrompt
	return errors.As(err, &p) && p.Wrong
}

// totpView is the two-factor part of the settings page.
type totpView struct {
	On, Required, Directory bool
	Enrol                   *totpEnrolment
	formState
}

// totpState fills the two-factor part of the settings page for me.
func (s *Server) totpState(ctx context.Context, me *ipdesk.User) (totpView, error) {
	v := totpView{Directory: me.Directory != ""}
	if v.Directory {
		return v, nil
	}
	secret, _, err := s.store.FindTOTP(ctx, me.ID)
	if err != nil {
		return v, err
	}
	v.On = secret != ""
	v.Required, err = s.totpRequired(ctx, me)
	return v, err
}

// totpStartSubmit shows a new secret to set up on the settings page.
func (s *Server) totpStartSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := s.startForm(w, r, actRead, object{Type: objectMe}); err != nil {
		return err
	}
	me := ipdesk.ActorFromContext(r.Context())
	return s.showSettings(w, r, http.StatusOK, func(d *settingsData) { d.TOTP.Enrol = s.enrolment(me, totp.NewSecret()) })
}

// totpEnableSubmit turns two-factor on once a code of the shown secret
// checks out.
func (s *Server) totpEnableSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.startForm(w, r, actRead, object{Type: objectMe}); err != nil {
		return err
	}
	me := ipdesk.ActorFromContext(ctx)
	secret := strings.ToUpper(strings.Join(strings.Fields(r.PostFormValue("secret")), ""))
	key, err := totp.Decode(secret)
	if err != nil {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "secret", "the secret %q is not base32 of at least 80 bits", clipValue(secret))
	}
	step, ok := totp.Verify(key, r.PostFormValue("code"), s.now(), 0)
	if !ok {
		return s.showSettings(w, r, http.StatusBadRequest, func(d *settingsData) {
			d.TOTP.Enrol = s.enrolment(me, secret)
			d.TOTP.formState = stateOf(s.catalog(r), ipdesk.FieldErrorf(ipdesk.EINVALID, "code", "%s", s.catalog(r).T("totp.wrong")), "code")
		})
	}
	if err := s.store.SetTOTP(ctx, me.ID, secret, step); err != nil {
		return err
	}
	s.setFlash(w, r, "flash.totp_on", "")
	redirect(w, r, "/settings")
	return nil
}

// totpDisableSubmit turns two-factor off with a current code, unless the
// policy requires it.
func (s *Server) totpDisableSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.startForm(w, r, actRead, object{Type: objectMe}); err != nil {
		return err
	}
	me := ipdesk.ActorFromContext(ctx)
	fail := func(msg string) error {
		return s.showSettings(w, r, http.StatusBadRequest, func(d *settingsData) {
			d.TOTP.formState = stateOf(s.catalog(r), ipdesk.FieldErrorf(ipdesk.EINVALID, "code", "%s", msg), "code")
		})
	}
	if req, err := s.totpRequired(ctx, me); err != nil {
		return err
	} else if req {
		return fail(s.catalog(r).T("totp.required"))
	}
	secret, last, err := s.store.FindTOTP(ctx, me.ID)
	if err != nil {
		return err
	}
	key, err := totp.Decode(secret)
	if err != nil {
		return fail(s.catalog(r).T("totp.wrong"))
	}
	step, ok := totp.Verify(key, r.PostFormValue("code"), s.now(), last)
	if !ok {
		return fail(s.catalog(r).T("totp.wrong"))
	}
	if err := s.store.UseTOTPStep(ctx, me.ID, step); err != nil {
		return fail(s.catalog(r).T("totp.wrong"))
	}
	if err := s.store.SetTOTP(ctx, me.ID, "", 0); err != nil {
		return err
	}
	s.setFlash(w, r, "flash.totp_off", "")
	redirect(w, r, "/settings")
	return nil
}

package web

import (
	"net/http"
	"strconv"
	"strings"

	"ipdesk"
	"ipdesk/i18n"
)

// levelsData is the page of the internet access levels.
type levelsData struct {
	page
	Levels  []*ipdesk.AccessLevel
	CanEdit bool
	// Row is the level whose form was sent and refused, with its state.
	Row     int
	RowForm levelForm
	New     levelForm
}

// levelForm is the state of one access level's form.
type levelForm struct {
	Level, Name, Description string
	Errors                   fieldErrors
	Error                    string
}

// levelFields are the fields of an access level's form.
var levelFields = []string{"level", "name", "description"}

func (s *Server) levelsPage(w http.ResponseWriter, r *http.Request) error {
	return s.showLevels(w, r, http.StatusOK, func(*levelsData) {})
}

// showLevels renders the access levels; set puts the state of a refused
// form into the data.
func (s *Server) showLevels(w http.ResponseWriter, r *http.Request, status int, set func(*levelsData)) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectAccessLevel}); err != nil {
		return err
	}
	levels, err := s.store.FindAccessLevels(ctx)
	if err != nil {
		return err
	}
	d := levelsData{page: s.formPage(w, r, s.catalog(r).T("levels.title"), "accounts", "/access-levels"), Levels: levels, Row: -1,
		CanEdit: s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectAccessLevel}) == nil,
		New:     levelForm{Errors: fieldErrors{}}}
	set(&d)
	s.render(w, r, status, "levels", d)
	return nil
}

func (s *Server) createLevelSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := s.startForm(w, r, actWrite, object{Type: ipdesk.ObjectAccessLevel}); err != nil {
		return err
	}
	f := levelForm{Level: formValue(r, "level"), Name: formValue(r, "name"), Description: formValue(r, "description")}
	n, err := strconv.Atoi(strings.TrimSpace(f.Level))
	if err != nil {
		err = ipdesk.FieldErrorf(ipdesk.EINVALID, "level", "level %q is not a whole number", clipValue(f.Level))
	} else {
		err = s.store.CreateAccessLevel(r.Context(), &ipdesk.AccessLevel{Level: n, Name: f.Name, Description: f.Description})
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		f.Errors, f.Error = formErrorFor(s.catalog(r), err, levelFields...)
		return s.showLevels(w, r, formStatus(err), func(d *levelsData) { d.New = f })
	}
	s.setFlash(w, r, "flash.created", f.Name)
	redirect(w, r, "/access-levels")
	return nil
}

func (s *Server) updateLevelSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := s.startForm(w, r, actWrite, object{Type: ipdesk.ObjectAccessLevel}); err != nil {
		return err
	}
	n, err := levelPath(r)
	if err != nil {
		return err
	}
	cur, err := s.store.FindAccessLevel(r.Context(), n)
	if err != nil {
		return err
	}
	f := levelForm{Level: strconv.Itoa(n), Name: formValue(r, "name"), Description: formValue(r, "description")}
	// A default level's translated name or description sent back unchanged
	// keeps the stored one, so that other languages still translate it.
	name, description := f.Name, f.Description
	if cat := s.catalog(r); name == levelTitle(cat, cur) {
		name = cur.Name
		if description == levelDescription(cat, cur) {
			description = cur.Description
		}
	}
	upd := ipdesk.AccessLevelUpdate{Name: &name, Description: &description}
	if upd.Version, err = versionField(r); err == nil {
		_, err = s.store.UpdateAccessLevel(r.Context(), n, upd)
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		f.Errors, f.Error = formErrorFor(s.catalog(r), err, levelFields...)
		return s.showLevels(w, r, formStatus(err), func(d *levelsData) { d.Row, d.RowForm = n, f })
	}
	s.setFlash(w, r, "flash.saved", "")
	redirect(w, r, "/access-levels")
	return nil
}

func (s *Server) deleteLevelSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := s.startForm(w, r, actWrite, object{Type: ipdesk.ObjectAccessLevel}); err != nil {
		return err
	}
	n, err := levelPath(r)
	if err != nil {
		return err
	}
	version, err := versionField(r)
	if err == nil {
		err = s.store.DeleteAccessLevel(r.Context(), n, ipdesk.DeleteOptions{Version: version})
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		f := levelForm{Level: strconv.Itoa(n), Errors: fieldErrors{}, Error: s.errorText(r, err)}
		return s.showLevels(w, r, formStatus(err), func(d *levelsData) { d.Row, d.RowForm = n, f })
	}
	s.setFlash(w, r, "flash.deleted", strconv.Itoa(n))
	redirect(w, r, "/access-levels")
	return nil
}

// levelPath returns the level a page's path names.
func levelPath(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.PathValue("level"))
	if err != nil || n < 0 || n > ipdesk.MaxAccessLevel {
		return 0, ipdesk.Errorf(ipdesk.ENOTFOUND, "no such page: %s", r.URL.Path)
	}
	return n, nil
}

// levelTitle is the name of an access level in cat's language: the levels
// that ipdesk creates keep their English name in the database and are shown
// translated while nobody has renamed them; a name an administrator gave is
// shown as it is.
func levelTitle(cat *i18n.Catalog, l *ipdesk.AccessLevel) string {
	if d := defaultLevel(l); d != nil && cat.Has("levels.default."+d.Name) {
		return cat.T("levels.default." + d.Name)
	}
	return l.Name
}

// levelDescription is levelTitle for the level's description.
func levelDescription(cat *i18n.Catalog, l *ipdesk.AccessLevel) string {
	if d := defaultLevel(l); d != nil && l.Description == d.Description && cat.Has("levels.default_description."+d.Name) {
		return cat.T("levels.default_description." + d.Name)
	}
	return l.Description
}

// defaultLevel returns the level ipdesk created that l still is by
// number and name, or nil.
func defaultLevel(l *ipdesk.AccessLevel) *ipdesk.AccessLevel {
	for i := range ipdesk.DefaultAccessLevels {
		if d := &ipdesk.DefaultAccessLevels[i]; d.Level == l.Level && d.Name == l.Name {
			return d
		}
	}
	return nil
}

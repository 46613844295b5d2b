package web

// The HTML user interface: server-rendered pages (html/template, embedded
// templates and assets), readable without JavaScript; small scripts make
// the work faster (search as you type, inline edit). Every page goes
// through the same authorization layer as the API.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	pathpkg "path"
	"strconv"
	"strings"
	"sync"
	"time"

	"ipdesk"
	"ipdesk/i18n"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// langCookie remembers the language chosen before signing in.
const langCookie = "ipdesk_lang"

// flashCookie carries a message key (and an argument) to the page after a
// redirect.
const flashCookie = "ipdesk_flash"

// contentSecurityPolicy allows only the server's own scripts, styles and
// images: no inline script or style can run, whatever a stored text holds.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// assets are the embedded static files with their content hashes.
type assets struct {
	byName map[string]asset // by plain name, e.g. "app.css"
	byPath map[string]asset // by served path, e.g. "/static/app.1a2b3c4d.css"
}

type asset struct {
	path  string
	data  []byte
	ctype string
}

// loadAssets reads the embedded static files and names each by its hash,
// so that it can be cached for good and a new build is fetched anew.
func loadAssets() *assets {
	a := &assets{byName: map[string]asset{}, byPath: map[string]asset{}}
	fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		name := strings.TrimPrefix(p, "static/")
		ext := pathpkg.Ext(name)
		served := "/static/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:4]) + ext
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		as := asset{path: served, data: data, ctype: ctype}
		a.byName[name] = as
		a.byPath[served] = as
		return nil
	})
	return a
}

// serveStatic answers a hashed asset, cached for a year.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	as, ok := s.assets.byPath[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", as.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(as.data)
}

// pages are the page templates of every language. Every page of the
// default language is parsed at start, so that a broken template stops
// the server at once, and then let go: a page is kept from its first use
// on, in each language, which keeps a server whose pages are seen in one
// language (or only its API) from holding every page's parsed copy for
// every language (about 12 MB for one).
type pages struct {
	files  []string // page template files
	mu     sync.Mutex
	base   map[string]*template.Template            // per language: layout and partials
	byLang map[string]map[string]*template.Template // per language and page name
}

// parsePages parses the layout and partials of every language, with the
// language's texts bound to the t functions, and checks that every page
// of the default language parses.
func (s *Server) parsePages() (*pages, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	var shared []string
	p := &pages{base: map[string]*template.Template{}, byLang: map[string]map[string]*template.Template{}}
	for _, n := range names {
		if strings.HasPrefix(pathpkg.Base(n), "_") {
			shared = append(shared, n)
		} else {
			p.files = append(p.files, n)
		}
	}
	for _, lang := range i18n.Languages {
		base, err := template.New("").Funcs(s.templateFuncs(i18n.For(lang))).ParseFS(templateFiles, shared...)
		if err != nil {
			return nil, err
		}
		p.base[lang] = base
		p.byLang[lang] = map[string]*template.Template{}
	}
	for _, pf := range p.files {
		if _, err := p.parse(i18n.Languages[0], pf); err != nil {
			return nil, err
		}
	}
	p.byLang[i18n.Languages[0]] = map[string]*template.Template{}
	return p, nil
}

// parse parses the page file pf for lang and keeps it; p.mu is held or
// p not yet shared.
func (p *pages) parse(lang, pf string) (*template.Template, error) {
	t, err := p.base[lang].Clone()
	if err != nil {
		return nil, err
	}
	if t, err = t.ParseFS(templateFiles, pf); err != nil {
		return nil, err
	}
	p.byLang[lang][strings.TrimSuffix(pathpkg.Base(pf), ".html")] = t
	return t, nil
}

// page returns the template of page name in lang (the default language's
// for an unknown lang), or nil when there is no such page.
func (p *pages) page(lang, name string) (*template.Template, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byLang[lang] == nil {
		lang = i18n.Languages[0]
	}
	if t := p.byLang[lang][name]; t != nil {
		return t, nil
	}
	for _, pf := range p.files {
		if strings.TrimSuffix(pathpkg.Base(pf), ".html") == name {
			return p.parse(lang, pf)
		}
	}
	return nil, nil
}

// templateFuncs returns the functions templates may call, with the texts
// of catalog c.
func (s *Server) templateFuncs(c *i18n.Catalog) template.FuncMap {
	return template.FuncMap{
		"t":     c.T,
		"tn":    c.Plural,
		"asset": func(name string) string { return s.assets.byName[name].path },
		"time":  func(t time.Time) string { return s.fmtTime(c.Lang, t) },
		"clock": func(t time.Time) string { return t.In(s.loc).Format("15:04:05") },
		"date":  func(t time.Time) string { return s.fmtDate(c.Lang, t) },
		"ago":   func(t time.Time) string { return s.fmtAgo(c, t) },
		"pct":   pct,
		"ratio": func(f float64) string { return strconv.FormatFloat(f/100, 'f', 4, 64) },
		"join":  strings.Join,
		"add":   func(a, b int) int { return a + b },
		"sub":   func(a, b int) int { return a - b },
		"query": queryWith,
		"lang":  func() string { return c.Lang },
		"langs": func() []string { return i18n.Languages },
		"langName": func(l string) string {
			return i18n.Names[l]
		},
		"levelName": func(levels []*ipdesk.AccessLevel, n int) string {
			for _, l := range levels {
				if l.Level == n {
					return levelTitle(c, l)
				}
			}
			return strconv.Itoa(n)
		},
		"levelTitle":       func(l *ipdesk.AccessLevel) string { return levelTitle(c, l) },
		"levelDescription": func(l *ipdesk.AccessLevel) string { return levelDescription(c, l) },
		"id":               func(id int64) string { return strconv.FormatInt(id, 10) },
		// zone is the IANA name of the server's time zone, for scripts
		// that show times; "" when the server runs on its machine's zone
		// without a name.
		"zone": func() string {
			if n := s.loc.String(); n != "Local" && n != "" {
				return n
			}
			return ""
		},
	}
}

// queryWith returns the query string of base with the given key, value
// pairs set ("" removes a key), for links that change one parameter.
func queryWith(base url.Values, kv ...string) string {
	q := url.Values{}
	for k, v := range base {
		q[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return "?"
	}
	return "?" + q.Encode()
}

// Time formats per language, shown in the server's time zone.
var timeLayouts = map[string][2]string{
	"en": {"2006-01-02 15:04", "2006-01-02"},
	"de": {"02.01.2006 15:04", "02.01.2006"},
	"ru": {"02.01.2006 15:04", "02.01.2006"},
}

func (s *Server) fmtTime(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.loc).Format(timeLayouts[lang][0])
}

func (s *Server) fmtDate(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.loc).Format(timeLayouts[lang][1])
}

// fmtAgo tells how long ago t was, roughly.
func (s *Server) fmtAgo(c *i18n.Catalog, t time.Time) string {
	d := s.now().Sub(t)
	switch {
	case d < time.Minute:
		return c.T("time.just_now")
	case d < time.Hour:
		return c.Plural("time.minutes_ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return c.Plural("time.hours_ago", int(d/time.Hour))
	}
	return s.fmtTime(c.Lang, t)
}

// page is what every page template gets: the signed-in user and what they
// may do, the language, the navigation and a message from the last
// action. Page handlers embed it in their own data type.
type page struct {
	Title string
	Nav   string
	Lang  string
	User  *ipdesk.User
	Perms *ipdesk.Permissions
	Flash string
	// Path is the page's path with its query, for the language switch to
	// come back to.
	Path string
	// Query is the page's query, for links that change one parameter.
	Query url.Values
	// Features tell which optional parts are configured.
	Outputs bool
	Leases  bool
}

// Can tells the layout which menu entries to show.
func (p page) CanAdmin() bool    { return p.Perms != nil && p.Perms.Admin }
func (p page) CanViewAll() bool  { return p.Perms != nil && (p.Perms.Admin || p.Perms.ViewAll) }
func (p page) CanHelpdesk() bool { return p.Perms != nil && (p.Perms.Admin || p.Perms.Helpdesk) }

// base returns the page data shared by every page of request r.
func (s *Server) base(w http.ResponseWriter, r *http.Request, title, nav string) page {
	p := page{Title: title, Nav: nav, Lang: s.lang(r), Path: r.URL.RequestURI(), Query: r.URL.Query(), Outputs: s.outputs != nil, Leases: s.leases != nil}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// A form shown again after a POST: the language switch goes back
		// to the page the form was on, not to the form's address.
		p.Path = "/"
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
			p.Path = localPath(ref.RequestURI())
		}
	}
	if st := authOf(r.Context()); st != nil {
		p.User = st.user
		p.Perms, _ = s.permissions(r.Context())
	}
	p.Flash = s.takeFlash(w, r)
	return p
}

// lang returns the UI language of r: the user's choice, else the one
// chosen before signing in, else the browser's, else English.
func (s *Server) lang(r *http.Request) string {
	if st := authOf(r.Context()); st != nil && i18n.Supported(st.user.Language) {
		return st.user.Language
	}
	if c, err := r.Cookie(langCookie); err == nil && i18n.Supported(c.Value) {
		return c.Value
	}
	if l := i18n.Match(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return i18n.Languages[0]
}

// catalog returns the texts of r's language.
func (s *Server) catalog(r *http.Request) *i18n.Catalog { return i18n.For(s.lang(r)) }

// setFlash leaves a message (a catalogue key and its argument) for the
// next page.
func (s *Server) setFlash(w http.ResponseWriter, r *http.Request, key string, arg string) {
	v := url.Values{"k": {key}}
	if arg != "" {
		v.Set("a", arg)
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: v.Encode(), Path: "/", HttpOnly: true,
		Secure: s.secureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// takeFlash returns the message left for this page, translated, and
// clears it.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
	v, err := url.ParseQuery(c.Value)
	cat := s.catalog(r)
	key := v.Get("k")
	if err != nil || !strings.HasPrefix(key, "flash.") || !cat.Has(key) {
		return ""
	}
	if a := v.Get("a"); a != "" {
		return cat.T(key, a)
	}
	return cat.T(key)
}

// render writes page name with data. A template error is logged and
// answered with a plain 500, never half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.renderTemplate(w, r, status, name, "layout", data)
}

// renderTemplate writes the template tmpl of page name.
func (s *Server) renderTemplate(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, data any) {
	t, err := s.pages.page(s.lang(r), name)
	if err != nil {
		panic("web: page template " + name + ": " + err.Error())
	}
	if t == nil {
		panic("web: no page template " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, data); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "template", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "Internal error; the details are in the server log.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage is the data of the error page.
type errorPage struct {
	page
	Status  int
	Message string
}

// renderError answers err as an HTML page: 404, 403, 400 … with the
// error's message; internal errors are logged and not shown.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := ipdesk.ErrorCode(err)
	status := errorStatus(code)
	msg := s.errorText(r, err)
	if code == ipdesk.EINTERNAL {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			status = http.StatusServiceUnavailable
		} else {
			s.log.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		}
		msg = s.catalog(r).T("error.internal")
	}
	cat := s.catalog(r)
	title := cat.T("error.title", status)
	switch status {
	case http.StatusNotFound:
		title = cat.T("error.not_found")
	case http.StatusForbidden:
		title = cat.T("error.forbidden")
	case http.StatusInsufficientStorage:
		// The administrator has to act: say so in the reader's language,
		// and keep the driver's details for the log.
		s.log.LogAttrs(r.Context(), slog.LevelError, "storage full", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		title, msg = cat.T("error.storage_full"), cat.T("error.storage_full_text")
	}
	s.render(w, r, status, "error", errorPage{page: s.base(w, r, title, ""), Status: status, Message: msg})
}

// uiHandler is a page handler; its error is answered as an HTML page.
type uiHandler func(w http.ResponseWriter, r *http.Request) error

// uiPage wraps a page of the route table: without a valid session the
// browser is sent to the sign-in page and back afterwards; then, as
// apiHandler does for the API, authorize checks the page's declared
// action on its object (with the id of the first {name} of its path)
// before the handler runs. The handler narrows further where the form
// names more (the subnet of a new host, each room of a bulk override).
func (s *Server) uiPage(p pageRoute) http.Handler {
	param := firstPathParam(p.pattern)
	h := p.h
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			s.toLogin(w, r)
			return
		}
		st := &authState{}
		sess, u, err := s.sessionUser(ctx, c.Value, st)
		if err != nil {
			if ipdesk.ErrorCode(err) == ipdesk.EUNAUTHORIZED {
				s.toLogin(w, r)
				return
			}
			s.renderError(w, r, err)
			return
		}
		st.user, st.session = u, sess
		ctx = withAuth(ctx, st)
		r = r.WithContext(ctx)
		obj := object{Type: p.object}
		if param != "" {
			if obj.ID, err = pathID(r, param); err != nil {
				s.renderError(w, r, err)
				return
			}
		}
		if err := s.authorize(ctx, p.act, obj); err != nil {
			s.renderError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	})
}

// firstPathParam returns the name of the first {name} segment of a
// ServeMux pattern, or "".
func firstPathParam(pattern string) string {
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") && seg != "{$}" {
			return strings.TrimSuffix(seg[1:len(seg)-1], "...")
		}
	}
	return ""
}

// uiPublic wraps a page that needs no session (the sign-in page).
func (s *Server) uiPublic(h uiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	})
}

// toLogin sends the browser to the sign-in page, to come back to the page
// it asked for (only GET requests come back).
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet && r.URL.RequestURI() != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// localPath returns p if it is a path on this server, else "/": a
// redirect target from a form must not lead elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n\t") {
		return "/"
	}
	if u, err := url.Parse(p); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return p
}

// redirect sends the browser to a page of this server after a change.
func redirect(w http.ResponseWriter, r *http.Request, p string) {
	http.Redirect(w, r, localPath(p), http.StatusSeeOther)
}

// securityHeaders sets the headers every answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// fieldErrors maps form fields to the message of the error about them.
type fieldErrors map[string]string

// formError returns the field errors of err, and the message of an error
// that names no field (or "").
func formError(cat *i18n.Catalog, err error) (fieldErrors, string) {
	fe := fieldErrors{}
	if err == nil {
		return fe, ""
	}
	if c := ipdesk.ErrorCode(err); ipdesk.ErrorField(err) != "" && (c == ipdesk.EINVALID || c == ipdesk.ECONFLICT) {
		f := ipdesk.ErrorField(err)
		fe[f] = localError(cat, err)
		return fe, ""
	}
	return fe, localError(cat, err)
}

// isFormError tells errors shown beside the form (bad input, conflicts,
// stale versions, a busy database) from those that end the page.
func isFormError(err error) bool {
	switch ipdesk.ErrorCode(err) {
	case ipdesk.EINVALID, ipdesk.ECONFLICT, ipdesk.EPRECONDITION, ipdesk.ETOOMANY, ipdesk.EUNAVAILABLE:
		return true
	}
	return false
}

// formStatus is the status of a form shown again with its errors.
func formStatus(err error) int {
	if s := errorStatus(ipdesk.ErrorCode(err)); s >= 400 && s < 500 || s == http.StatusServiceUnavailable {
		return s
	}
	return http.StatusBadRequest
}

// pathID returns the integer path parameter name, or an ENOTFOUND error.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, ipdesk.Errorf(ipdesk.ENOTFOUND, "no such page: %s", r.URL.Path)
	}
	return id, nil
}

// formValue returns a form field, trimmed of surrounding blanks.
func formValue(r *http.Request, name string) string {
	return strings.TrimSpace(r.PostFormValue(name))
}

// parseForm reads a POSTed form within the body limit.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ipdesk.Errorf(eTooLarge, "the form is larger than %d bytes", s.maxBody)
		}
		return ipdesk.Errorf(ipdesk.EINVALID, "the form could not be read: %v", err)
	}
	return nil
}

// optionalInt parses an optional integer form field: nil for "".
func optionalInt(field, v string) (*int64, error) {
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, field, "%s %q is not a whole number", field, clipValue(v))
	}
	return &n, nil
}

// clipValue shortens a value for a message.
func clipValue(v string) string {
	if r := []rune(v); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return v
}

// uiRoutes registers the pages.
func (s *Server) uiRoutes() {
	s.handle("GET /static/", http.HandlerFunc(s.serveStatic))
	s.handle("GET /login", s.uiPublic(s.loginPage))
	s.handle("POST /login", s.uiPublic(s.loginSubmit))
	s.handle("POST /logout", s.uiPublic(s.logout))
	s.handle("POST /language", s.uiPublic(s.setLanguage))
	if s.publicRooms {
		s.handle("GET "+publicRoomsPath, s.uiPublic(s.publicRoomsPage))
	}
	for _, p := range s.pageRoutes() {
		s.handle(p.pattern, s.uiPage(p))
	}
}

// pageRoute is one page of the UI, with the right it needs: the action
// and the type of object handed to authorize (the object's id is the
// path's first {name}), as the API's routes declare theirs. A page that
// declares no object is for administrators only.
type pageRoute struct {
	pattern string
	act     action
	object  string
	h       uiHandler
}

// mustPages parses the templates or panics: they are embedded, so an
// error is a bug that every test finds.
func (s *Server) mustPages() *pages {
	p, err := s.parsePages()
	if err != nil {
		panic(fmt.Sprintf("web: templates: %v", err))
	}
	return p
}

// pct writes a share in percent with one decimal; a share that is not
// zero or not whole but would round to 0.0 or 100.0 says so ("< 0.1 %",
// "> 99.9 %"), so a /32 with two /48s does not read as empty or full.
func pct(f float64) string {
	switch {
	case f > 0 && f < 0.05:
		return "< 0.1 %"
	case f >= 99.95 && f < 100:
		return "> 99.9 %"
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " %"
}

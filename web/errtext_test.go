package web

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/i18n"
)

// TestErrorsSpeakTheUsersLanguage: a refused change is explained in the
// language of the request, in the API and beside the form's field; the
// code and the field stay the same for programs.
func TestErrorsSpeakTheUsersLanguage(t *testing.T) {
	e := newEnv(t)
	sp := e.space("school")
	e.prefix(sp, "10.1.0.0/24", ipdesk.PrefixSubnet)
	body := map[string]any{"space_id": sp, "address": "10.1.0.9", "mac": "zz"}
	for _, c := range []struct{ lang, want string }{
		{"en", `mac "zz" is not a MAC address`},
		{"de", `mac "zz" ist keine MAC-Adresse`},
		{"ru", `mac "zz" — не MAC-адрес`},
	} {
		r := e.do("POST", "/api/v1/addresses", e.admin, body, "Accept-Language", c.lang)
		if r.code != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", c.lang, r.code, r.body)
		}
		d := r.apiError(t)
		if d.Code != ipdesk.EINVALID || d.Field != "mac" || !strings.HasPrefix(d.Message, c.want) {
			t.Errorf("%s: got %+v, want code invalid, field mac, message %q…", c.lang, d, c.want)
		}
	}

	cookie := e.login("admin", "password123")
	r := e.form("POST", "/hosts/new", cookie, url.Values{"space_id": {id64(sp)}, "address": {"10.1.0.9"}, "mac": {"zz"}, "status": {"active"}, "access_level": {"0"}},
		"Accept-Language", "de")
	if r.code != http.StatusBadRequest || !strings.Contains(html.UnescapeString(string(r.body)), `mac "zz" ist keine MAC-Adresse`) {
		t.Errorf("host form in German: %d, the German message is missing:\n%s", r.code, r.body)
	}
}

// TestNestedErrorIsTranslated: an error that carries another one as its
// argument translates both.
func TestNestedErrorIsTranslated(t *testing.T) {
	inner := ipdesk.FieldErrorf(ipdesk.EINVALID, "", "%q is not a date written YYYY-MM-DD (for example 2026-03-02)", "x")
	outer := ipdesk.FieldErrorf(ipdesk.EINVALID, "from", "%s %s", "from", inner)
	if want := `from "x" is not a date written YYYY-MM-DD (for example 2026-03-02)`; outer.Message != want {
		t.Errorf("English: %q, want %q", outer.Message, want)
	}
	if got, want := localError(i18n.For("de"), outer), `from "x" ist kein Datum der Form JJJJ-MM-TT (zum Beispiel 2026-03-02)`; got != want {
		t.Errorf("German: %q, want %q", got, want)
	}
	if got := localError(i18n.For("de"), ipdesk.WithField(outer, ipdesk.EINVALID, "to")); !strings.Contains(got, "ist kein Datum") {
		t.Errorf("WithField lost the translation: %q", got)
	}
}

// TestAccessLevelsPage: the levels ipdesk created are shown in the
// reader's language; an administrator renames one and the new name is shown
// as given in every language; the reader sees no form and a forced change is
// refused.
func TestAccessLevelsPage(t *testing.T) {
	e := newEnv(t)
	admin := e.login("admin", "password123")
	reader := e.login("reader", "password123")

	r := e.page("/access-levels", reader, "Accept-Language", "de")
	body := string(r.body)
	if r.code != http.StatusOK || !strings.Contains(body, "eingeschränkt") || !strings.Contains(body, "nur erlaubte Seiten") {
		t.Fatalf("German levels page: %d\n%s", r.code, body)
	}
	if strings.Contains(body, `action="/access-levels`) {
		t.Error("the reader is shown a form to change levels")
	}
	hosts := e.page("/hosts", reader, "Accept-Language", "ru")
	if !strings.Contains(string(hosts.body), "ограниченный") {
		t.Error("the hosts page does not name level 1 in Russian")
	}

	if r := e.form("POST", "/access-levels/1", reader, url.Values{"name": {"x"}, "description": {""}}); r.code != http.StatusForbidden {
		t.Errorf("reader renaming a level: %d", r.code)
	}

	// Saved unchanged in German: the stored English name stays, so other
	// languages still translate it.
	l, err := e.db.FindAccessLevel(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.form("POST", "/access-levels/1", admin, url.Values{"name": {"eingeschränkt"}, "description": {"nur erlaubte Seiten"}, "version": {id64(l.Version)}},
		"Accept-Language", "de"); r.code != http.StatusSeeOther {
		t.Fatalf("saving level 1 unchanged: %d %s\n%s", r.code, r.body, e.logs.String())
	}
	if l, _ = e.db.FindAccessLevel(t.Context(), 1); l.Name != "restricted" || l.Description != "allowed sites only" {
		t.Errorf("saved unchanged, level 1 became %q / %q", l.Name, l.Description)
	}

	if r := e.form("POST", "/access-levels/1", admin, url.Values{"name": {"Schüler"}, "description": {"Unterricht; \"nur\" <Lernseiten>"}, "version": {id64(l.Version)}}); r.code != http.StatusSeeOther {
		t.Fatalf("renaming level 1: %d %s", r.code, r.body)
	}
	ru := string(e.page("/access-levels", reader, "Accept-Language", "ru").body)
	if !strings.Contains(ru, "Schüler") || strings.Contains(ru, "<td>ограниченный</td>") || !strings.Contains(ru, "&lt;Lernseiten&gt;") {
		t.Errorf("after the rename the Russian page does not show the given name, escaped:\n%s", ru)
	}

	// Bad input is refused beside the field and changes nothing.
	if r := e.form("POST", "/access-levels", admin, url.Values{"level": {"x7"}, "name": {"seven"}}, "Accept-Language", "de"); r.code != http.StatusBadRequest ||
		!strings.Contains(html.UnescapeString(string(r.body)), `level "x7" ist keine ganze Zahl`) {
		t.Errorf("level x7: %d\n%s", r.code, r.body)
	}
	if r := e.form("POST", "/access-levels", admin, url.Values{"level": {"7"}, "name": {"seven\nlines"}}); r.code != http.StatusBadRequest {
		t.Errorf("a name with a line break: %d", r.code)
	}
	if r := e.form("POST", "/access-levels", admin, url.Values{"level": {"7"}, "name": {"seven"}, "description": {"guests"}}); r.code != http.StatusSeeOther {
		t.Fatalf("creating level 7: %d %s", r.code, r.body)
	}
	if r := e.form("POST", "/access-levels/0/delete", admin, url.Values{}); r.code == http.StatusSeeOther {
		t.Error("level 0 was deleted")
	}
	l7, err := e.db.FindAccessLevel(t.Context(), 7)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.form("POST", "/access-levels/7/delete", admin, url.Values{"version": {id64(l7.Version)}}); r.code != http.StatusSeeOther {
		t.Errorf("deleting level 7: %d %s", r.code, r.body)
	}
	if _, err := e.db.FindAccessLevel(t.Context(), 7); ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
		t.Errorf("level 7 after delete: %v", err)
	}
}

// TestWarningsSpeakTheUsersLanguage: a change stored with a warning says
// so in the language of the request.
func TestWarningsSpeakTheUsersLanguage(t *testing.T) {
	e := newEnv(t)
	a, b := e.space("a"), e.space("b")
	e.prefix(a, "10.9.0.0/16", ipdesk.PrefixContainer)
	var out struct {
		Warnings []ipdesk.Warning `json:"warnings"`
	}
	e.must(http.StatusCreated, "POST", "/api/v1/prefixes", e.admin, map[string]any{"space_id": b, "prefix": "10.9.1.0/24"}, &out, "Accept-Language", "ru")
	if len(out.Warnings) != 1 || out.Warnings[0].Code != ipdesk.WOverlapOtherSpace ||
		!strings.HasPrefix(out.Warnings[0].Message, "префикс 10.9.1.0/24 пересекается с префиксами других адресных пространств: ") {
		t.Errorf("warnings in Russian: %+v", out.Warnings)
	}
}

package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"ipdesk"
)

// spaceIDText matches a message that names a space by its id.
var spaceIDText = regexp.MustCompile(`space(_id)? \d+`)

// TestNoExistenceProbes: the answers to a change do not name objects the
// user may not see: a space name taken by a space the user does not know,
// and a new prefix overlapping prefixes of other spaces. Administrators
// still get the names.
func TestNoExistenceProbes(t *testing.T) {
	e := newEnv(t)
	w := newPermWorld(t, e)
	creator := w.tokens["creator"]

	// The API: create and rename.
	r := e.do("POST", "/api/v1/spaces", creator, map[string]any{"name": "B"})
	if r.code != http.StatusConflict || spaceIDText.Match(r.body) || !strings.Contains(string(r.body), "another address space") {
		t.Errorf("creator's POST of a taken name: %d %s", r.code, r.body)
	}
	var own spaceResult
	e.must(http.StatusCreated, "POST", "/api/v1/spaces", creator, map[string]any{"name": "C"}, &own)
	r = e.do("PATCH", path("/api/v1/spaces/%d", own.ID), creator, map[string]any{"name": "B"})
	if r.code != http.StatusConflict || spaceIDText.Match(r.body) {
		t.Errorf("creator's rename to a taken name: %d %s", r.code, r.body)
	}
	// A space the user knows is named.
	r = e.do("POST", "/api/v1/spaces", creator, map[string]any{"name": "C"})
	if r.code != http.StatusConflict || !spaceIDText.Match(r.body) {
		t.Errorf("creator's POST of its own space's name: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/spaces", e.admin, map[string]any{"name": "B"}); r.code != http.StatusConflict || !spaceIDText.Match(r.body) {
		t.Errorf("the administrator's POST of a taken name: %d %s", r.code, r.body)
	}

	// The pages.
	ck := e.login("creator", "password123")
	r = e.form("POST", "/spaces", ck, url.Values{"name": {"B"}})
	if r.code != http.StatusConflict || spaceIDText.Match(r.body) {
		t.Errorf("creator's form with a taken name: %d, names the space: %v", r.code, spaceIDText.Match(r.body))
	}
	r = e.form("POST", path("/spaces/%d/edit", own.ID), ck, url.Values{"name": {"B"}, "version": {"1"}})
	if r.code != http.StatusConflict || spaceIDText.Match(r.body) {
		t.Errorf("creator's rename form with a taken name: %d, names the space: %v", r.code, spaceIDText.Match(r.body))
	}

	// A prefix overlapping one of a space the user does not know: the
	// warning names neither the prefix nor the space.
	flash := func(r *response) string {
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == flashCookie {
				v, _ := url.QueryUnescape(c.Value)
				return v
			}
		}
		return ""
	}
	r = e.form("POST", path("/spaces/%d/prefixes", own.ID), ck, url.Values{"prefix": {"10.9.0.0/24"}, "kind": {string(ipdesk.PrefixSubnet)}})
	if f := flash(r); r.code != http.StatusSeeOther || !strings.Contains(f, "other address spaces") || spaceIDText.MatchString(f) {
		t.Errorf("creator's overlapping prefix: %d, flash %q", r.code, f)
	}
	admin := e.login("admin", "password123")
	r = e.form("POST", path("/spaces/%d/prefixes", own.ID), admin, url.Values{"prefix": {"10.9.0.0/16"}, "kind": {string(ipdesk.PrefixContainer)}})
	if f := flash(r); r.code != http.StatusSeeOther || !spaceIDText.MatchString(f) {
		t.Errorf("the administrator's overlapping prefix: %d, flash %q", r.code, f)
	}
}

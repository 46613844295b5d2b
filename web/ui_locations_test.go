package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"ipdesk"
)

// TestLocationsPages: the tree shows the locations each user may see,
// with edit controls only where the user may edit; creating, changing
// and deleting put errors beside their fields and change nothing.
func TestLocationsPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		w := newUIWorld(t, e)
		ctx := context.Background()
		S, R := id64(w.site), id64(w.room)

		body := w.get(t, "admin", "/locations", http.StatusOK)
		if !regexp.MustCompile(`(?s)<li id="loc-` + S + `".*<ul>\s*<li id="loc-` + R + `"`).MatchString(body) {
			t.Fatalf("the room is not inside the site: %s", body)
		}
		for _, want := range []string{`href="/locations/new"`, `href="/locations/new?parent=` + S + `&amp;kind=building"`, `href="/hosts?location=` + R + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the admin's tree lacks %s", want)
			}
		}
		for _, user := range []string{"editor", "teacher"} {
			body := w.get(t, user, "/locations", http.StatusOK)
			if !strings.Contains(body, `id="loc-`+R+`"`) || strings.Contains(body, `id="loc-`+S+`"`) {
				t.Errorf("%s does not see exactly room R", user)
			}
			if strings.Contains(body, "/locations/new") || strings.Contains(body, ">Edit<") {
				t.Errorf("%s sees edit controls", user)
			}
			page := w.get(t, user, "/locations/"+R, http.StatusOK)
			if strings.Contains(page, `name="name"`) || strings.Contains(page, "/delete") {
				t.Errorf("%s sees the location form", user)
			}
			w.get(t, user, "/locations/"+S, http.StatusNotFound)
			w.get(t, user, "/locations/new", http.StatusForbidden)
			w.post(t, user, "/locations/"+R, url.Values{"name": {"X"}, "parent_id": {S}}, http.StatusForbidden)
			w.post(t, user, "/locations/"+R+"/delete", url.Values{}, http.StatusForbidden)
			w.post(t, user, "/locations/new", url.Values{"kind": {"site"}, "name": {"Mine"}}, http.StatusForbidden)
		}
		if body := w.get(t, "viewer", "/locations", http.StatusOK); strings.Contains(body, `id="loc-`) {
			t.Errorf("the viewer sees locations")
		}

		// Create a building and a room in it.
		r := w.post(t, "admin", "/locations/new", url.Values{"kind": {"building"}, "parent_id": {S}, "name": {"Haus B"}}, http.StatusSeeOther)
		if !strings.Contains(w.follow(t, "admin", r), "Created: Haus B") {
			t.Errorf("no message after the create")
		}
		b := findLocation(t, e, "Haus B")
		w.post(t, "admin", "/locations/new", url.Values{"kind": {"room"}, "parent_id": {id64(b.ID)}, "name": {"101"}, "phones": {"+49 3591 101, 101"}, "hostname_pattern": {"b101c"}}, http.StatusSeeOther)
		room := findLocation(t, e, "101")
		if !slices.Equal(room.Phones, []string{"+49 3591 101", "101"}) || room.HostnamePattern != "b101c" || room.ParentID != b.ID {
			t.Fatalf("room 101: %+v", room)
		}
		for _, bad := range []struct {
			form   url.Values
			field  string
			status int
		}{
			{url.Values{"kind": {"room"}, "parent_id": {id64(b.ID)}, "name": {"101"}}, "name", http.StatusConflict},
			{url.Values{"kind": {"room"}, "parent_id": {id64(b.ID)}, "name": {"102"}, "phones": {"call me"}}, "phones", http.StatusBadRequest},
			{url.Values{"kind": {"room"}, "parent_id": {"0"}, "name": {"103"}}, "parent_id", http.StatusBadRequest},
			{url.Values{"kind": {"room"}, "parent_id": {id64(b.ID)}, "name": {"104"}, "hostname_pattern": {"a b"}}, "pattern", http.StatusBadRequest},
			{url.Values{"kind": {"room"}, "parent_id": {id64(b.ID)}, "name": {""}}, "name", http.StatusBadRequest},
		} {
			r := w.post(t, "admin", "/locations/new", bad.form, bad.status)
			body := string(r.body)
			if !strings.Contains(body, `id="e-`+bad.field+`"`) || !strings.Contains(body, `value="`+bad.form.Get("name")+`"`) {
				t.Errorf("create %v: the error is not beside %s, or the name is not kept", bad.form, bad.field)
			}
		}
		if _, n, _ := e.db.FindLocations(ctx, ipdesk.LocationFilter{}); n != 4 {
			t.Fatalf("refused creates left %d locations, want 4", n)
		}

		// Change: a stale version is refused, a rename is saved and shown
		// in the history.
		w.post(t, "admin", "/locations/"+id64(room.ID), url.Values{"name": {"101a"}, "parent_id": {id64(b.ID)}, "version": {id64(room.Version + 1)}}, http.StatusPreconditionFailed)
		r = w.post(t, "admin", "/locations/"+id64(room.ID), url.Values{"name": {"101a"}, "parent_id": {id64(b.ID)}, "phones": {"101"}, "version": {id64(room.Version)}}, http.StatusSeeOther)
		page := w.follow(t, "admin", r)
		for _, want := range []string{"Saved.", "101a", "<del>101</del>", "Phone numbers"} {
			if !strings.Contains(page, want) {
				t.Errorf("the room's page after the change lacks %q", want)
			}
		}

		// Delete: a location with children is refused with a message.
		cur := findLocation(t, e, "Haus B")
		r = w.post(t, "admin", "/locations/"+id64(cur.ID)+"/delete", url.Values{"version": {id64(cur.Version)}}, http.StatusConflict)
		if !strings.Contains(string(r.body), "still contains 1 locations") {
			t.Fatalf("delete of a building with a room: %.400s", r.body)
		}
		cur = findLocation(t, e, "101a")
		w.post(t, "admin", "/locations/"+id64(cur.ID)+"/delete", url.Values{"version": {id64(cur.Version)}}, http.StatusSeeOther)

		// With edit on the site the editor may add inside it, but no site.
		e.must(http.StatusCreated, "POST", "/api/v1/grants", e.admin, map[string]any{"group_id": w.groupEditor, "object_type": "location", "object_id": w.site, "right": "edit"}, nil)
		body = w.get(t, "editor", "/locations", http.StatusOK)
		if !strings.Contains(body, `href="/locations/new?parent=`+S+`&amp;kind=building"`) || strings.Contains(body, `href="/locations/new"`) {
			t.Errorf("the site's editor: wrong add controls")
		}
		w.post(t, "editor", "/locations/new", url.Values{"kind": {"room"}, "parent_id": {S}, "name": {"Lab"}}, http.StatusSeeOther)
		w.post(t, "editor", "/locations/new", url.Values{"kind": {"site"}, "parent_id": {"0"}, "name": {"Mine"}}, http.StatusForbidden)
	})
}

// findLocation returns the location with a name.
func findLocation(t *testing.T, e *testEnv, name string) *ipdesk.Location {
	t.Helper()
	ls, _, err := e.db.FindLocations(context.Background(), ipdesk.LocationFilter{Name: &name})
	if err != nil || len(ls) != 1 {
		t.Fatalf("location %q: %v %v", name, ls, err)
	}
	return ls[0]
}

// TestHostsXSS: the payloads of a stored cross-site script, in every text
// field these pages show, come back escaped on normal and error paths.
func TestHostsXSS(t *testing.T) {
	const p1, p2 = `"><script>alert(1)</script>`, `" onmouseover=x`
	e := newEnv(t)
	w := newUIWorld(t, e)
	raw := func(where, body string) {
		t.Helper()
		for _, p := range []string{p1, p2, "<script>alert(1)"} {
			if strings.Contains(body, p) {
				i := strings.Index(body, p)
				t.Errorf("%s: the payload %q appears unescaped: …%s…", where, p, body[max(0, i-80):min(len(body), i+80)])
			}
		}
	}
	// Stored: a space, a host's owner and description, a location's name
	// and description, an access level's name.
	sp := e.space(p1)
	e.prefix(sp, "10.5.0.0/24", ipdesk.PrefixSubnet)
	var room ipdesk.Location
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "room", "name": p1, "parent_id": w.site, "description": p2}, &room)
	e.must(http.StatusOK, "PATCH", "/api/v1/access-levels/1", e.admin, map[string]any{"name": p2}, nil)
	var a ipdesk.Address
	e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.5.0.9", "owner": p1, "description": p2,
		"location_id": room.ID, "access_level": 1}, &a)
	e.must(http.StatusOK, "PATCH", "/api/v1/addresses/"+id64(a.ID), e.admin, map[string]any{"owner": p2, "description": p1}, nil)

	for _, target := range []string{"/hosts", "/hosts/rows", "/hosts?q=" + url.QueryEscape(p1), "/hosts/rows?q=" + url.QueryEscape(p2),
		"/hosts/" + id64(a.ID), "/locations", "/locations/" + id64(room.ID), "/hosts/new", "/hosts?location=" + id64(room.ID)} {
		for _, user := range []string{"admin", "reader"} {
			if user == "reader" && target == "/hosts/new" {
				continue
			}
			r := w.page(target, w.cookies[user])
			if r.code != http.StatusOK {
				t.Fatalf("%s GET %s: %d", user, target, r.code)
			}
			raw(user+" "+target, string(r.body))
		}
	}
	// Error paths: bad values are quoted in the messages.
	for _, target := range []string{"/hosts?prefix=" + url.QueryEscape(p1), "/hosts?level=" + url.QueryEscape(p2), "/hosts?sort=" + url.QueryEscape(p1),
		"/hosts/rows?dhcp=" + url.QueryEscape(p2)} {
		r := w.page(target, w.cookies["admin"])
		if r.code != http.StatusBadRequest {
			t.Fatalf("GET %s: %d", target, r.code)
		}
		raw(target, string(r.body))
	}
	cur := w.addr(t, a.ID)
	for _, field := range []string{"hostname", "mac", "phone", "address", "owner", "description", "location_id", "access_level", "status"} {
		for _, p := range []string{p1, p2} {
			v := url.Values{"address": {"10.5.0.9"}, "status": {"active"}, "version": {id64(cur.Version)}}
			v.Set(field, p)
			r := w.form("POST", "/hosts/"+id64(a.ID), w.cookies["admin"], v)
			if field != "owner" && field != "description" && r.code < 400 {
				t.Errorf("%s %q was accepted", field, p)
			}
			raw("POST /hosts/id "+field, string(r.body))
			if r.code == http.StatusSeeOther {
				cur = w.addr(t, a.ID)
				raw("the host page after "+field, w.get(t, "admin", "/hosts/"+id64(a.ID), http.StatusOK))
			}
			r = w.form("POST", "/hosts/new", w.cookies["admin"], url.Values{"space_id": {id64(sp)}, "subnet": {p}, field: {p}})
			raw("POST /hosts/new "+field, string(r.body))
		}
	}
	for _, field := range []string{"name", "phones", "hostname_pattern", "description", "kind", "parent_id"} {
		for _, p := range []string{p1, p2} {
			r := w.form("POST", "/locations/new", w.cookies["admin"], url.Values{"kind": {"room"}, "parent_id": {id64(w.site)}, "name": {"n" + field}, field: {p}})
			raw("POST /locations/new "+field, string(r.body))
			r = w.form("POST", "/locations/"+id64(room.ID), w.cookies["admin"], url.Values{"parent_id": {id64(w.site)}, "name": {p1}, field: {p}})
			raw("POST /locations/id "+field, string(r.body))
		}
	}
	r := w.form("POST", "/hosts/bulk", w.cookies["admin"], url.Values{"access_level": {p1}, "sel": {p2}, "back": {"/hosts?q=" + url.QueryEscape(p1)}})
	raw("POST /hosts/bulk", string(r.body))
	// The import preview shows the cells of the file.
	csv := "space,address,mac,owner,description,location\n" +
		`"` + strings.ReplaceAll(p1, `"`, `""`) + `",10.5.0.20,,"` + strings.ReplaceAll(p2, `"`, `""`) + `",x,` + "\n" +
		`"` + strings.ReplaceAll(p1, `"`, `""`) + `",10.5.0.21,"` + strings.ReplaceAll(p1, `"`, `""`) + `",,,"` + strings.ReplaceAll(p2, `"`, `""`) + `"` + "\n"
	raw("import preview", w.upload(t, "admin", p1+".csv", csv, nil, http.StatusBadRequest))
	raw("import preview, file name", w.upload(t, "admin", p2+".csv", "space,address,owner\n", nil, http.StatusOK))
}

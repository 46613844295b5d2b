package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/i18n"
	"ipdesk/sqldb"
)

// Stored cross-site scripting payloads: one that closes an attribute or
// element and opens a script, one that adds an event handler.
const (
	payloadTag  = `"><script>alert(1)</script>`
	payloadAttr = `" onmouseover=x`
)

// wantEscaped fails when a payload appears unescaped in a page.
func wantEscaped(t *testing.T, what string, body []byte, payloads ...string) {
	t.Helper()
	for _, p := range append(payloads, "<script>alert(1)") {
		if strings.Contains(string(body), p) {
			t.Errorf("%s: the payload %q appears unescaped", what, p)
		}
	}
}

// wantIn fails unless the page contains each of the texts.
func wantIn(t *testing.T, what string, r *response, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(string(r.body), s) {
			t.Errorf("%s: the page (%d) lacks %q", what, r.code, s)
		}
	}
}

var postFormPattern = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// editForms returns the actions of the POST forms of a page besides the
// header's (language, sign-out): its edit controls.
func editForms(body []byte) []string {
	var out []string
	for _, m := range postFormPattern.FindAllSubmatch(body, -1) {
		if a := string(m[1]); a != "/language" && a != "/logout" {
			out = append(out, a)
		}
	}
	return out
}

// userID returns the id of a user.
func (e *testEnv) userID(name string) int64 {
	e.t.Helper()
	u, err := e.db.FindUserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// auditTotal returns the number of audit entries.
func (e *testEnv) auditTotal() int {
	e.t.Helper()
	_, n, err := e.db.FindAuditEntries(context.Background(), ipdesk.AuditFilter{Page: ipdesk.Page{Limit: 1}})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestAdminPagesForbidden: users who are not administrators get 403 on
// every page and form of users, groups and grants, and no change is made;
// users without view_all get 403 on the audit log and the outputs, and
// view_all users may read them but not apply.
func TestAdminPagesForbidden(t *testing.T) {
	e := newEnv(t)
	e.makeUser("outsider", false)
	admin := e.userID("admin")
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: admin, Name: "admin"})
	g := &ipdesk.Group{Name: "net", Members: []int64{admin}}
	if err := e.db.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	sp := e.space("school")
	grant := &ipdesk.Grant{GroupID: g.ID, ObjectType: ipdesk.ObjectSpace, ObjectID: sp, Right: ipdesk.RightView}
	if err := e.db.CreateGrant(ctx, grant); err != nil {
		t.Fatal(err)
	}
	_, tok, err := e.db.CreateToken(ctx, admin, "admin's")
	if err != nil {
		t.Fatal(err)
	}
	pages := []string{"/users", path("/users/%d", admin), "/groups", path("/groups/%d", g.ID)}
	forms := []struct {
		path string
		form url.Values
	}{
		{"/users", url.Values{"name": {"mallory"}, "password": {"password123"}, "admin": {"1"}}},
		{path("/users/%d", admin), url.Values{"full_name": {"x"}, "flags": {"1"}}},
		{path("/users/%d/password", admin), url.Values{"password": {"password1234"}, "password2": {"password1234"}}},
		{path("/users/%d/groups", admin), url.Values{"group": {fmt.Sprint(g.ID)}}},
		{path("/users/%d/groups/%d/remove", admin, g.ID), nil},
		{path("/users/%d/tokens/%d/delete", admin, tok.ID), nil},
		{"/groups", url.Values{"name": {"mine"}, "view_all": {"1"}}},
		{path("/groups/%d", g.ID), url.Values{"name": {"net"}, "view_all": {"1"}}},
		{path("/groups/%d/delete", g.ID), nil},
		{path("/groups/%d/members", g.ID), url.Values{"user": {"reader"}}},
		{path("/groups/%d/members/%d/remove", g.ID, admin), nil},
		{path("/groups/%d/grants", g.ID), url.Values{"object_type": {"space"}, "space_id": {fmt.Sprint(sp)}, "right": {"edit"}}},
		{path("/groups/%d/grants/%d/delete", g.ID, grant.ID), nil},
		{"/outputs/apply", url.Values{"target": {""}}},
	}
	before := e.auditTotal()
	for _, name := range []string{"reader", "outsider"} {
		c := e.login(name, "password123")
		for _, p := range pages {
			if r := e.page(p, c); r.code != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", name, p, r.code)
			}
		}
		for _, f := range forms {
			if r := e.form("POST", f.path, c, f.form); r.code != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", name, f.path, r.code)
			}
		}
	}
	if n := e.auditTotal(); n != before {
		t.Fatalf("refused forms changed something: %d audit entries, were %d", n, before)
	}

	outsider := e.login("outsider", "password123")
	for _, p := range []string{"/audit", "/audit?object_type=user&object_id=1", "/outputs"} {
		if r := e.page(p, outsider); r.code != http.StatusForbidden {
			t.Errorf("outsider GET %s: %d, want 403", p, r.code)
		}
	}
	// The outsider's own pages: settings and help.
	for _, p := range []string{"/settings", "/help"} {
		if r := e.page(p, outsider); r.code != http.StatusOK {
			t.Errorf("outsider GET %s: %d, want 200", p, r.code)
		}
	}
	// A user's own account page leads to the settings.
	if r := e.page(path("/users/%d", e.userID("outsider")), outsider); r.code != http.StatusSeeOther || r.header.Get("Location") != "/settings" {
		t.Errorf("outsider's own user page: %d %q", r.code, r.header.Get("Location"))
	}

	// The reader sees everything and may change nothing: the audit log
	// and the outputs without edit controls, and no menu to the users.
	reader := e.login("reader", "password123")
	for _, p := range []string{"/audit", "/outputs", "/"} {
		r := e.page(p, reader)
		if r.code != http.StatusOK {
			t.Fatalf("reader GET %s: %d", p, r.code)
		}
		if f := editForms(r.body); len(f) > 0 {
			t.Errorf("reader GET %s shows edit controls: %v", p, f)
		}
		if strings.Contains(string(r.body), `href="/users"`) {
			t.Errorf("reader GET %s links to the user administration", p)
		}
	}
}

// TestUsersUI: an administrator creates, edits and disables users through
// the forms; bad input is shown beside its field with what was typed;
// nobody can demote or disable themselves; a new password ends the
// user's sessions.
func TestUsersUI(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		c := e.login("admin", "password123")
		r := e.page("/users", c)
		if r.code != http.StatusOK {
			t.Fatalf("GET /users: %d %s", r.code, r.body)
		}
		wantIn(t, "user list", r, ">admin</a>", ">reader</a>", `action="/users"`)

		// A short password: the form comes back with the error beside
		// the password and the typed name and full name.
		before := e.auditTotal()
		r = e.form("POST", "/users", c, url.Values{"name": {"anna" + payloadAttr}, "full_name": {payloadTag}, "password": {"password123"}, "language": {"de"}})
		if r.code != http.StatusBadRequest {
			t.Fatalf("bad user name: %d", r.code)
		}
		wantIn(t, "bad user name", r, `id="u-name-error"`, "user names have no blanks", `aria-invalid="true"`, "&#34;&gt;&lt;script&gt;")
		wantEscaped(t, "bad user name", r.body, payloadTag, payloadAttr)
		r = e.form("POST", "/users", c, url.Values{"name": {"anna"}, "full_name": {payloadTag}, "password": {"short"}, "language": {"de"}})
		if r.code != http.StatusBadRequest {
			t.Fatalf("short password: %d", r.code)
		}
		wantIn(t, "short password", r, `id="u-password-error"`, "password has 5 characters", `value="anna"`, `<option value="de" selected>`)
		wantEscaped(t, "short password", r.body, payloadTag)
		r = e.form("POST", "/users", c, url.Values{"name": {"anna"}, "full_name": {payloadTag}, "password": {"password123"}, "language": {"xx"}})
		wantIn(t, "bad language", r, `id="u-language-error"`, `language &#34;xx&#34;`)
		if e.auditTotal() != before {
			t.Fatal("a refused user was stored")
		}

		r = e.form("POST", "/users", c, url.Values{"name": {"anna"}, "full_name": {payloadTag}, "password": {"password123"}, "language": {"de"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("create user: %d %s", r.code, r.body)
		}
		anna := e.userID("anna")
		if loc := r.header.Get("Location"); loc != path("/users/%d", anna) {
			t.Fatalf("after create: Location %q", loc)
		}
		u, _ := e.db.FindUserByID(context.Background(), anna)
		if u.FullName != payloadTag || u.Language != "de" || u.Admin {
			t.Fatalf("stored user %+v", u)
		}
		r = e.page(path("/users/%d", anna), c)
		if r.code != http.StatusOK {
			t.Fatalf("user page: %d", r.code)
		}
		wantEscaped(t, "user page", r.body, payloadTag)
		wantIn(t, "user page", r, `name="flags"`, `id="e-admin"`)

		// A name taken: the conflict is shown, nothing stored.
		r = e.form("POST", "/users", c, url.Values{"name": {"anna"}, "password": {"password123"}})
		if r.code != http.StatusConflict {
			t.Fatalf("taken name: %d", r.code)
		}
		wantIn(t, "taken name", r, `name &#34;anna&#34; is taken`)

		// Anna signs in; disabling her ends her session at once.
		ac := e.login("anna", "password123")
		if r := e.page("/settings", ac); r.code != http.StatusOK {
			t.Fatalf("anna's settings: %d", r.code)
		}
		r = e.form("POST", path("/users/%d", anna), c, url.Values{"version": {fmt.Sprint(u.Version)}, "full_name": {"Anna"}, "language": {"de"}, "flags": {"1"}, "disabled": {"1"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("disable anna: %d %s", r.code, r.body)
		}
		if r := e.page("/settings", ac); r.code != http.StatusSeeOther {
			t.Fatalf("a disabled user's session still works: %d", r.code)
		}
		// A stale version is refused beside the form.
		r = e.form("POST", path("/users/%d", anna), c, url.Values{"version": {fmt.Sprint(u.Version)}, "full_name": {"Anna M."}, "flags": {"1"}})
		if r.code != http.StatusPreconditionFailed {
			t.Fatalf("stale edit: %d", r.code)
		}
		wantIn(t, "stale edit", r, `value="Anna M."`)

		// The administrator's own page shows the flags disabled and
		// sends no marker; a forced demotion is refused.
		admin := e.userID("admin")
		r = e.page(path("/users/%d", admin), c)
		wantIn(t, "own page", r, `id="self-note"`)
		if strings.Contains(string(r.body), `name="flags"`) {
			t.Fatal("the administrator's own page sends the flags")
		}
		r = e.form("POST", path("/users/%d", admin), c, url.Values{"full_name": {"Boss"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("own full name: %d %s", r.code, r.body)
		}
		if u, _ := e.db.FindUserByID(context.Background(), admin); !u.Admin || u.FullName != "Boss" {
			t.Fatalf("after the own edit: %+v", u)
		}
		for _, f := range []url.Values{{"flags": {"1"}, "full_name": {"Boss"}}, {"flags": {"1"}, "admin": {"1"}, "disabled": {"1"}}} {
			r = e.form("POST", path("/users/%d", admin), c, f)
			if r.code != http.StatusConflict {
				t.Fatalf("self demote/disable %v: %d", f, r.code)
			}
			wantIn(t, "self demote", r, "you cannot take away your own administrator right")
		}
		if u, _ := e.db.FindUserByID(context.Background(), admin); !u.Admin || u.Disabled {
			t.Fatalf("the administrator demoted themselves: %+v", u)
		}

		// A new password must be typed twice alike; then the user's
		// sessions end.
		rc := e.login("reader", "password123")
		reader := e.userID("reader")
		r = e.form("POST", path("/users/%d/password", reader), c, url.Values{"password": {"new password 1"}, "password2": {"new password 2"}})
		if r.code != http.StatusBadRequest {
			t.Fatalf("password mismatch: %d", r.code)
		}
		wantIn(t, "mismatch", r, `id="p-new2-error"`, "The two passwords differ")
		r = e.form("POST", path("/users/%d/password", reader), c, url.Values{"password": {"new password 1"}, "password2": {"new password 1"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("set password: %d %s", r.code, r.body)
		}
		if r := e.page("/", rc); r.code != http.StatusSeeOther {
			t.Fatalf("the reader's session survived a new password: %d", r.code)
		}
		e.login("reader", "new password 1")

		// Groups from the user's page.
		g := &ipdesk.Group{Name: "teachers" + payloadTag}
		if err := e.db.CreateGroup(ipdesk.NewContextWithActor(context.Background(), u), g); err != nil {
			t.Fatal(err)
		}
		r = e.form("POST", path("/users/%d/groups", anna), c, url.Values{"group": {fmt.Sprint(g.ID)}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("add to group: %d %s", r.code, r.body)
		}
		r = e.page(path("/users/%d", anna), c)
		wantIn(t, "user's groups", r, path(`action="/users/%d/groups/%d/remove"`, anna, g.ID))
		wantEscaped(t, "user's groups", r.body, payloadTag)
		r = e.form("POST", path("/users/%d/groups", anna), c, url.Values{"group": {"999"}})
		if r.code != http.StatusBadRequest {
			t.Fatalf("unknown group: %d", r.code)
		}
		wantIn(t, "unknown group", r, `id="add-group-error"`, "group 999 does not exist")
		r = e.form("POST", path("/users/%d/groups/%d/remove", anna, g.ID), c, nil)
		if r.code != http.StatusSeeOther {
			t.Fatalf("leave group: %d", r.code)
		}
		if got, _ := e.db.FindGroupByID(context.Background(), g.ID); len(got.Members) != 0 {
			t.Fatalf("members after removal: %v", got.Members)
		}

		// An administrator revokes a user's token.
		secret, tok, err := e.db.CreateToken(context.Background(), anna, "anna's script")
		if err != nil {
			t.Fatal(err)
		}
		r = e.page(path("/users/%d", anna), c)
		wantIn(t, "user's tokens", r, "anna&#39;s script", path(`action="/users/%d/tokens/%d/delete"`, anna, tok.ID))
		if r := e.form("POST", path("/users/%d/tokens/%d/delete", anna, tok.ID), c, nil); r.code != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r.code)
		}
		if _, err := e.db.FindUserByToken(context.Background(), secret); ipdesk.ErrorCode(err) != ipdesk.EUNAUTHORIZED {
			t.Fatalf("a revoked token still works: %v", err)
		}
	})
}

// TestGroupsUI: groups are created, changed and deleted through the
// forms, members added by name, rights given on spaces, prefixes and
// locations and taken away; every text field is shown escaped, on the
// normal and the error path.
func TestGroupsUI(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		c := e.login("admin", "password123")
		sp := e.space("school")
		pfx := e.prefix(sp, "10.20.0.0/16", ipdesk.PrefixContainer)
		var site ipdesk.Location
		e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "site", "name": "Campus"}, &site)
		var room ipdesk.Location
		e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "room", "name": "Z303", "parent_id": site.ID}, &room)

		r := e.page("/groups", c)
		if r.code != http.StatusOK {
			t.Fatalf("GET /groups: %d %s", r.code, r.body)
		}
		wantIn(t, "group list", r, ">readers</a>", `action="/groups"`)

		name, desc := "Lehrer"+payloadTag, "room "+payloadAttr
		r = e.form("POST", "/groups", c, url.Values{"name": {"readers"}, "description": {desc}})
		if r.code != http.StatusConflict {
			t.Fatalf("taken group name: %d", r.code)
		}
		wantIn(t, "taken group name", r, "is taken by group")
		wantEscaped(t, "taken group name", r.body, payloadAttr)
		r = e.form("POST", "/groups", c, url.Values{"name": {name + "\nsecond line"}, "description": {desc}})
		if r.code != http.StatusBadRequest {
			t.Fatalf("bad group name: %d", r.code)
		}
		wantIn(t, "bad group name", r, `id="g-name-error"`)
		wantEscaped(t, "bad group name", r.body, payloadTag, payloadAttr)

		r = e.form("POST", "/groups", c, url.Values{"name": {name}, "description": {desc}, "view_all": {"1"}, "helpdesk": {"1"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("create group: %d %s", r.code, r.body)
		}
		groups, _, _ := e.db.FindGroups(context.Background(), ipdesk.Page{Limit: 10})
		var g *ipdesk.Group
		for _, x := range groups {
			if x.Name == name {
				g = x
			}
		}
		if g == nil || !g.ViewAll || !g.Helpdesk || g.CreateSpaces || g.Description != desc {
			t.Fatalf("stored group %+v", g)
		}
		gp := path("/groups/%d", g.ID)
		r = e.page(gp, c)
		if r.code != http.StatusOK {
			t.Fatalf("group page: %d %s", r.code, r.body)
		}
		wantEscaped(t, "group page", r.body, payloadTag, payloadAttr)
		for _, p := range []string{"/groups", "/audit"} {
			wantEscaped(t, p, e.page(p, c).body, payloadTag, payloadAttr)
		}

		// Members by name.
		r = e.form("POST", gp+"/members", c, url.Values{"user": {"nobody" + payloadTag}})
		if r.code != http.StatusBadRequest {
			t.Fatalf("unknown member: %d", r.code)
		}
		wantIn(t, "unknown member", r, `id="m-user-error"`, "does not exist")
		wantEscaped(t, "unknown member", r.body, payloadTag)
		if r := e.form("POST", gp+"/members", c, url.Values{"user": {"reader"}}); r.code != http.StatusSeeOther {
			t.Fatalf("add member: %d %s", r.code, r.body)
		}
		reader := e.userID("reader")
		if got, _ := e.db.FindGroupByID(context.Background(), g.ID); !slices.Equal(got.Members, []int64{reader}) {
			t.Fatalf("members %v", got.Members)
		}
		r = e.page(gp, c)
		wantIn(t, "members", r, path(`action="/groups/%d/members/%d/remove"`, g.ID, reader))

		// Rights: bad input beside its field, then one of each kind.
		before := e.auditTotal()
		for _, bad := range []struct {
			form  url.Values
			field string
			msg   string
		}{
			{url.Values{"object_type": {"prefix"}, "space_id": {fmt.Sprint(sp)}, "prefix": {"10.20.0.0/33" + payloadTag}, "right": {"view"}}, "gr-prefix-error", "is not a CIDR prefix"},
			{url.Values{"object_type": {"prefix"}, "space_id": {fmt.Sprint(sp)}, "prefix": {"10.20.1.5/16"}, "right": {"view"}}, "gr-prefix-error", "has host bits set"},
			{url.Values{"object_type": {"prefix"}, "space_id": {fmt.Sprint(sp)}, "prefix": {"10.21.0.0/16"}, "right": {"view"}}, "gr-prefix-error", "does not exist in space"},
			{url.Values{"object_type": {"space"}, "space_id": {"9999"}, "right": {"view"}}, "gr-space-error", "space 9999 does not exist"},
			{url.Values{"object_type": {"space"}, "space_id": {fmt.Sprint(sp)}, "right": {"override"}}, "gr-right-error", "right override is granted on locations"},
			{url.Values{"object_type": {"space"}, "space_id": {fmt.Sprint(sp)}, "right": {"own" + payloadAttr}}, "gr-right-error", "is not one of view, edit, override"},
			{url.Values{"object_type": {"host"}, "right": {"view"}}, "gr-type-error", "is not one of space, prefix, location"},
		} {
			r := e.form("POST", gp+"/grants", c, bad.form)
			if r.code != http.StatusBadRequest {
				t.Errorf("grant %v: %d", bad.form, r.code)
				continue
			}
			if bad.field != "" {
				wantIn(t, "grant "+bad.msg, r, `id="`+bad.field+`"`)
			}
			wantIn(t, "grant "+bad.msg, r, bad.msg)
			wantEscaped(t, "grant "+bad.msg, r.body, payloadTag, payloadAttr)
		}
		if e.auditTotal() != before {
			t.Fatal("a refused grant was stored")
		}
		for _, f := range []url.Values{
			{"object_type": {"space"}, "space_id": {fmt.Sprint(sp)}, "right": {"view"}},
			{"object_type": {"prefix"}, "space_id": {fmt.Sprint(sp)}, "prefix": {"10.20.0.0/16"}, "right": {"edit"}},
			{"object_type": {"location"}, "location_id": {fmt.Sprint(room.ID)}, "right": {"override"}},
		} {
			if r := e.form("POST", gp+"/grants", c, f); r.code != http.StatusSeeOther {
				t.Fatalf("grant %v: %d %s", f, r.code, r.body)
			}
		}
		grants, _, _ := e.db.FindGrants(context.Background(), ipdesk.GrantFilter{GroupID: &g.ID})
		if len(grants) != 3 {
			t.Fatalf("grants %+v", grants)
		}
		want := map[string]struct {
			id    int64
			right ipdesk.Right
		}{"space": {sp, ipdesk.RightView}, "prefix": {pfx.ID, ipdesk.RightEdit}, "location": {room.ID, ipdesk.RightOverride}}
		for _, gr := range grants {
			if w := want[gr.ObjectType]; gr.ObjectID != w.id || gr.Right != w.right {
				t.Errorf("grant %+v, want %+v", gr, w)
			}
		}
		r = e.page(gp, c)
		wantIn(t, "grants", r, ">school</a>", ">10.20.0.0/16 (school)</a>", ">Campus › Z303</a>", "override timetable")
		// The reader now sees the space through the group.
		p, _ := e.db.FindPermissions(context.Background(), &ipdesk.User{ID: reader})
		if !p.CanSpace(sp, ipdesk.RightView) || !p.CanPrefix(sp, pfx.Prefix, ipdesk.RightEdit) {
			t.Fatalf("the reader's permissions: %+v", p)
		}

		// A grant of another group cannot be removed through this one.
		other := &ipdesk.Group{Name: "other"}
		if err := e.db.CreateGroup(ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "admin"}), other); err != nil {
			t.Fatal(err)
		}
		if r := e.form("POST", path("/groups/%d/grants/%d/delete", other.ID, grants[0].ID), c, nil); r.code != http.StatusNotFound {
			t.Fatalf("remove another group's grant: %d", r.code)
		}
		if r := e.form("POST", path("/groups/%d/grants/%d/delete", g.ID, grants[0].ID), c, nil); r.code != http.StatusSeeOther {
			t.Fatalf("remove grant: %d", r.code)
		}

		// Edit and delete.
		r = e.form("POST", gp, c, url.Values{"version": {fmt.Sprint(g.Version + 5)}, "name": {"x"}})
		if r.code != http.StatusPreconditionFailed {
			t.Fatalf("stale group edit: %d", r.code)
		}
		cur, _ := e.db.FindGroupByID(context.Background(), g.ID)
		r = e.form("POST", gp, c, url.Values{"version": {fmt.Sprint(cur.Version)}, "name": {"Lehrer"}, "description": {""}, "create_spaces": {"1"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("edit group: %d %s", r.code, r.body)
		}
		cur, _ = e.db.FindGroupByID(context.Background(), g.ID)
		if cur.Name != "Lehrer" || cur.ViewAll || !cur.CreateSpaces || len(cur.Members) != 1 {
			t.Fatalf("edited group %+v", cur)
		}
		r = e.page(gp, c)
		wantIn(t, "delete button", r, "data-confirm=\"Delete the group Lehrer and its 2 grants?\"")
		if r := e.form("POST", gp+"/delete", c, url.Values{"version": {fmt.Sprint(cur.Version)}}); r.code != http.StatusSeeOther {
			t.Fatalf("delete group: %d %s", r.code, r.body)
		}
		if _, err := e.db.FindGroupByID(context.Background(), g.ID); ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
			t.Fatalf("deleted group: %v", err)
		}
		if n, _, _ := e.db.FindGrants(context.Background(), ipdesk.GrantFilter{GroupID: &g.ID}); len(n) != 0 {
			t.Fatalf("the deleted group's grants remain: %+v", n)
		}
		if r := e.page(gp, c); r.code != http.StatusNotFound {
			t.Fatalf("deleted group's page: %d", r.code)
		}
	})
}

// TestAuditUI: the audit log shows each change field by field with the
// changed fields marked, never a password, every stored text escaped;
// filters by who, object and time (in the server's zone) are checked; a
// user who may not read the whole log may read the history of an object
// they see.
func TestAuditUI(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		w := newPermWorld(t, e)
		c := w.login("admin", "password123")
		var sp ipdesk.Space
		w.must(http.StatusCreated, "POST", "/api/v1/spaces", w.admin, map[string]any{"name": "xss", "description": payloadTag}, &sp)
		w.must(http.StatusOK, "PATCH", path("/api/v1/spaces/%d", sp.ID), w.admin, map[string]any{"description": "plain " + payloadAttr}, nil)
		for i := range 15 {
			w.must(http.StatusOK, "PATCH", path("/api/v1/spaces/%d", w.spaceB), w.admin, map[string]any{"description": fmt.Sprint("v", i)}, nil)
		}
		if err := w.db.SetPassword(ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "admin"}), w.userHelper, "a new secret password"); err != nil {
			t.Fatal(err)
		}

		r := w.page("/audit?object_type=space&object_id="+fmt.Sprint(sp.ID), c)
		if r.code != http.StatusOK {
			t.Fatalf("audit: %d %s", r.code, r.body)
		}
		wantEscaped(t, "audit", r.body, payloadTag, payloadAttr)
		body := string(r.body)
		if n := strings.Count(body, `<tr id="entry-`); n != 2 {
			t.Fatalf("%d entries for the space, want 2", n)
		}
		// The update marks the description changed, the name not.
		upd := body[strings.Index(body, `<tr id="entry-`):]
		upd = upd[:strings.Index(upd[1:], `<tr id="entry-`)+1]
		if !regexp.MustCompile(`<tr class="changed">\s*<th scope="row">description</th>`).MatchString(upd) {
			t.Errorf("the update does not mark description changed: %s", upd)
		}
		if regexp.MustCompile(`<tr class="changed">\s*<th scope="row">name</th>`).MatchString(upd) {
			t.Errorf("the update marks the unchanged name changed")
		}
		wantIn(t, "audit", r, "plain &#34; onmouseover=x", " unchanged field")

		// A password is never shown, and the fields the entry lacks are
		// not shown as removed.
		r = w.page(path("/audit?object_type=user&object_id=%d", w.userHelper), c)
		wantIn(t, "password entry", r, "changed (never shown)", "not recorded")
		if strings.Contains(string(r.body), "$argon2") || strings.Contains(string(r.body), "a new secret password") {
			t.Fatal("the audit page shows a password")
		}

		// Filters.
		r = w.page("/audit?actor=nobody", c)
		wantIn(t, "actor filter", r, "No entries match.")
		r = w.page("/audit?actor=admin&object_type=space", c)
		if n := strings.Count(string(r.body), `<tr id="entry-`); n != 19 {
			t.Errorf("admin's space entries: %d, want 19", n)
		}
		today := time.Now().In(w.srv.loc).Format("2006-01-02")
		r = w.page("/audit?object_type=space&since="+today+"&until="+today, c)
		if n := strings.Count(string(r.body), `<tr id="entry-`); n != 19 {
			t.Errorf("today's space entries: %d, want 19", n)
		}
		r = w.page("/audit?object_type=space&until="+time.Now().In(w.srv.loc).Add(-time.Hour).Format("2006-01-02T15:04"), c)
		if n := strings.Count(string(r.body), `<tr id="entry-`); n != 0 {
			t.Errorf("space entries until an hour ago: %d, want 0", n)
		}
		for _, bad := range []struct{ q, id, msg string }{
			{"since=yesterday" + url.QueryEscape(payloadTag), "f-since-error", "is not a date"},
			{"since=2026-03-02&until=2026-03-01", "f-until-error", "is not after since"},
			{"object_id=abc", "f-id-error", "is not an id"},
			{"object_type=" + url.QueryEscape(payloadAttr), "f-type-error", "is not an object type"},
		} {
			r := w.page("/audit?"+bad.q, c)
			if r.code != http.StatusBadRequest {
				t.Errorf("audit?%s: %d", bad.q, r.code)
			}
			wantIn(t, "audit?"+bad.q, r, `id="`+bad.id+`"`, bad.msg)
			wantEscaped(t, "audit?"+bad.q, r.body, payloadTag, payloadAttr)
		}
		if r := w.page("/audit?offset=-1", c); r.code != http.StatusBadRequest {
			t.Errorf("offset=-1: %d", r.code)
		}

		// Paging.
		r = w.page("/audit", c)
		wantIn(t, "paging", r, `rel="next"`, "1–50 of")
		r = w.page("/audit?offset=50", c)
		wantIn(t, "paging", r, `rel="prev"`, "51–")

		// The viewer sees space A: its history, not the whole log, not
		// space B's.
		vc := w.login("viewer", "password123")
		if r := w.page("/audit", vc); r.code != http.StatusForbidden {
			t.Errorf("viewer's whole log: %d", r.code)
		}
		r = w.page(path("/audit?object_type=space&object_id=%d", w.spaceA), vc)
		if r.code != http.StatusOK || strings.Count(string(r.body), `<tr id="entry-`) != 1 {
			t.Errorf("viewer's history of space A: %d", r.code)
		}
		if r := w.page(path("/audit?object_type=space&object_id=%d", w.spaceB), vc); r.code != http.StatusNotFound {
			t.Errorf("viewer's history of space B: %d", r.code)
		}
		if f := editForms(r.body); len(f) > 0 {
			t.Errorf("the viewer's audit page shows edit controls: %v", f)
		}
	})
}

// TestAuditDiff: the field-by-field comparison of before and after.
func TestAuditDiff(t *testing.T) {
	for _, c := range []struct {
		name, action, before, after string
		want                        []auditField
	}{
		{"create", ipdesk.ActionCreate, `null`, `{"id":1,"name":"a"}`, []auditField{
			{Name: "id", After: "1", InAfter: true, Changed: true},
			{Name: "name", After: "a", InAfter: true, Changed: true}}},
		{"delete", ipdesk.ActionDelete, `{"id":1,"tags":["x"]}`, `null`, []auditField{
			{Name: "id", Before: "1", InBefore: true, Changed: true},
			{Name: "tags", Before: `["x"]`, InBefore: true, Changed: true}}},
		{"update", ipdesk.ActionUpdate, `{"id":1,"name":"a","members":[1, 2],"gone":true}`, `{"id":1,"name":"b","members":[1,2],"new":null}`, []auditField{
			{Name: "id", Before: "1", After: "1", InBefore: true, InAfter: true},
			{Name: "name", Before: "a", After: "b", InBefore: true, InAfter: true, Changed: true, Highlight: true},
			{Name: "members", Before: "[1,2]", After: "[1,2]", InBefore: true, InAfter: true},
			{Name: "gone", Before: "true", InBefore: true, NotRecorded: true},
			{Name: "new", InAfter: true, Changed: true, Highlight: true}}},
		{"password", ipdesk.ActionUpdate, `{"id":1,"name":"a"}`, `{"id":1,"password":"changed","secret_hash":"x"}`, []auditField{
			{Name: "id", Before: "1", After: "1", InBefore: true, InAfter: true},
			{Name: "name", Before: "a", InBefore: true, NotRecorded: true},
			{Name: "password", InAfter: true, Changed: true, Highlight: true, Secret: true},
			{Name: "secret_hash", InAfter: true, Changed: true, Highlight: true, Secret: true}}},
		{"not objects", ipdesk.ActionUpdate, `"a"`, `"b"`, []auditField{
			{Before: "a", After: "b", InBefore: true, InAfter: true, Changed: true, Highlight: true}}},
	} {
		got := auditDiff(c.action, []byte(c.before), []byte(c.after))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

// fakeOutputs is an Outputs with fixed answers that records applies.
type fakeOutputs struct {
	status  []ipdesk.Output
	diffs   map[string]*ipdesk.OutputDiff
	applied []string
	runs    []*ipdesk.ApplyRun
}

func (f *fakeOutputs) Status(context.Context) ([]ipdesk.Output, error) { return f.status, nil }

func (f *fakeOutputs) Preview(_ context.Context, name string) (*ipdesk.OutputDiff, error) {
	return f.diffs[name], nil
}

func (f *fakeOutputs) ApplyNow(_ context.Context, name string) ([]*ipdesk.ApplyRun, error) {
	f.applied = append(f.applied, name)
	if name == "nosuch" {
		return nil, ipdesk.Errorf(ipdesk.ENOTFOUND, "target %q does not exist", name)
	}
	return f.runs, nil
}

// TestOutputsUI: the outputs page shows each output's state, its last
// run with the daemon's message (escaped), and the diff of the next
// apply with added and removed lines marked; administrators apply, view_all
// users only look; without targets the page says how to configure them.
func TestOutputsUI(t *testing.T) {
	// Without outputs.
	e := newEnv(t)
	c := e.login("admin", "password123")
	r := e.page("/outputs", c)
	if r.code != http.StatusOK {
		t.Fatalf("outputs without targets: %d %s", r.code, r.body)
	}
	wantIn(t, "no targets", r, "No config outputs are configured", `&#34;targets&#34;`, `"kind": "squid-levels"`)
	if f := editForms(r.body); len(f) > 0 {
		t.Errorf("apply buttons without targets: %v", f)
	}
	if r := e.form("POST", "/outputs/apply", c, url.Values{"target": {""}}); r.code != http.StatusConflict {
		t.Errorf("apply without targets: %d", r.code)
	}

	started := time.Date(2026, 3, 2, 7, 45, 0, 0, time.UTC)
	fail := &ipdesk.ApplyRun{Target: "dhcpd", Kind: "isc-dhcp", Path: "/etc/dhcp/ipdesk.hosts", Started: started, Duration: 912 * time.Millisecond,
		Status: ipdesk.ApplyInvalid, Message: "dhcpd: line 4: " + payloadTag + " unexpected", Actor: "system"}
	ok := &ipdesk.ApplyRun{Target: "proxy.level1", Kind: "squid-levels", Path: "/etc/squid/proxy1", Started: started, Duration: 30 * time.Millisecond, Status: ipdesk.ApplyApplied, Actor: "admin"}
	since := started.Add(-time.Minute)
	fake := &fakeOutputs{
		status: []ipdesk.Output{
			{Name: "dhcpd", Group: "dhcpd", Kind: "isc-dhcp", Path: "/etc/dhcp/ipdesk.hosts", Dirty: true, DirtySince: &since, LastRun: fail},
			{Name: "proxy.level1", Group: "proxy", Kind: "squid-levels", Path: "/etc/squid/proxy1", LastRun: ok},
			{Name: "proxy.level2", Group: "proxy", Kind: "squid-levels", Path: "/etc/squid/proxy2", PendingReload: true},
		},
		diffs: map[string]*ipdesk.OutputDiff{
			"dhcpd":        {Changed: true, Bytes: 120, Added: 1, Removed: 1, Text: "@@ -1,2 +1,2 @@\n host a {\n-  fixed-address 10.0.0.1;\n+  fixed-address 10.0.0.2; # " + payloadAttr + "\n"},
			"proxy.level1": {Bytes: 10},
			"proxy.level2": {Error: "space \"x\" does not exist " + payloadTag},
		},
		runs: []*ipdesk.ApplyRun{ok, fail},
	}
	e = newEnvWith(t, filepath.Join(t.TempDir(), "o.db"), func(*sqldb.DB) Outputs { return fake })
	actx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "system"})
	for _, run := range []*ipdesk.ApplyRun{ok, fail} {
		cp := *run
		if err := e.db.RecordApplyRun(actx, &cp); err != nil {
			t.Fatal(err)
		}
	}

	// The reader looks: state, last run, the daemon's message, the diff;
	// no apply buttons, and applying is refused.
	rc := e.login("reader", "password123")
	r = e.page("/outputs", rc)
	if r.code != http.StatusOK {
		t.Fatalf("reader's outputs: %d %s", r.code, r.body)
	}
	wantEscaped(t, "outputs", r.body, payloadTag, payloadAttr)
	wantIn(t, "outputs", r, `id="target-dhcpd"`, `id="target-proxy"`, `id="proxy.level2"`, "/etc/dhcp/ipdesk.hosts",
		"changes pending", "reload pending", "refused by the daemon&#39;s check", "912ms", "dhcpd: line 4: &#34;&gt;&lt;script&gt;",
		`<span class="d-del"><span class="sr">removed: </span>-  fixed-address 10.0.0.1;</span>`,
		`<span class="d-add"><span class="sr">added: </span>&#43;  fixed-address 10.0.0.2; # &#34; onmouseover=x</span>`,
		`<span class="d-hunk">@@ -1,2 &#43;1,2 @@</span>`, "1 lines added, 1 removed", "Nothing: the live file is what the plan says.",
		"space &#34;x&#34; does not exist")
	if f := editForms(r.body); len(f) > 0 {
		t.Errorf("the reader sees apply buttons: %v", f)
	}
	if r := e.form("POST", "/outputs/apply", rc, url.Values{"target": {"dhcpd"}}); r.code != http.StatusForbidden || len(fake.applied) != 0 {
		t.Fatalf("reader's apply: %d, applied %v", r.code, fake.applied)
	}
	// The history, filtered.
	r = e.page("/outputs?result=failed", rc)
	if n := strings.Count(string(r.body), `<tr class="run-`); n != 1 || !strings.Contains(string(r.body), `<tr class="run-failed">`) {
		t.Errorf("failed runs: %d rows", n)
	}
	r = e.page("/outputs?target=proxy.level1", rc)
	if n := strings.Count(string(r.body), `<tr class="run-ok">`); n != 1 || strings.Contains(string(r.body), `run-failed`) {
		t.Errorf("runs of proxy.level1: %d", n)
	}
	if r := e.page("/outputs?result=maybe", rc); r.code != http.StatusBadRequest {
		t.Errorf("result=maybe: %d", r.code)
	}

	// The administrator applies one target, and all.
	c = e.login("admin", "password123")
	r = e.page("/outputs", c)
	if got, want := editForms(r.body), []string{"/outputs/apply", "/outputs/apply", "/outputs/apply"}; !slices.Equal(got, want) {
		t.Fatalf("apply forms %v, want %v", got, want)
	}
	wantIn(t, "apply buttons", r, `name="target" value="dhcpd"`, `name="target" value="proxy"`, `name="target" value=""`)
	r = e.form("POST", "/outputs/apply", c, url.Values{"target": {"proxy"}})
	if r.code != http.StatusSeeOther || !slices.Equal(fake.applied, []string{"proxy"}) {
		t.Fatalf("apply proxy: %d, applied %v", r.code, fake.applied)
	}
	flash := r.header.Get("Set-Cookie")
	if !strings.Contains(flash, "flash.apply_failed") || !strings.Contains(flash, "dhcpd") {
		t.Errorf("after a failed apply the flash is %q", flash)
	}
	if r := e.form("POST", "/outputs/apply", c, url.Values{"target": {"nosuch"}}); r.code != http.StatusNotFound {
		t.Errorf("apply of an unknown target: %d", r.code)
	}
}

// TestSettingsUI: every user changes their own full name, language and
// password and manages their API tokens; the secret of a new token is
// shown once.
func TestSettingsUI(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		c := e.login("reader", "password123")
		other := e.login("reader", "password123")
		r := e.page("/settings", c)
		if r.code != http.StatusOK {
			t.Fatalf("settings: %d %s", r.code, r.body)
		}
		wantIn(t, "settings", r, "Signed in as reader.", "readers", "sees everything", `action="/settings/password"`)
		me, _ := e.db.FindUserByName(context.Background(), "reader")

		// Name and language: the page speaks German afterwards.
		r = e.form("POST", "/settings", c, url.Values{"version": {fmt.Sprint(me.Version)}, "full_name": {"Rita " + payloadTag}, "language": {"de"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("save settings: %d %s", r.code, r.body)
		}
		r = e.page("/settings", c)
		wantIn(t, "German settings", r, `<html lang="de">`, "Einstellungen", `<option value="de" selected>`)
		wantEscaped(t, "settings", r.body, payloadTag)
		r = e.form("POST", "/settings", c, url.Values{"full_name": {strings.Repeat("x", 101) + payloadAttr}, "language": {"de"}})
		if r.code != http.StatusBadRequest {
			t.Fatalf("long name: %d", r.code)
		}
		wantIn(t, "long name", r, `id="s-full-error"`, "höchstens 100") // the server's message in the user's language
		wantEscaped(t, "long name", r.body, payloadAttr)
		e.form("POST", "/settings", c, url.Values{"full_name": {"Rita"}, "language": {"en"}})

		// The password: the current one must be right and the new one
		// typed twice alike; the other session ends, this one stays.
		for _, bad := range []struct {
			form url.Values
			id   string
		}{
			{url.Values{"current": {"wrong"}, "new": {"another password"}, "new2": {"another password"}}, "s-current-error"},
			{url.Values{"current": {"password123"}, "new": {"another password"}, "new2": {"another passw0rd"}}, "s-new2-error"},
			{url.Values{"current": {"password123"}, "new": {"short"}, "new2": {"short"}}, "s-new-error"},
		} {
			r := e.form("POST", "/settings/password", c, bad.form)
			if r.code != http.StatusBadRequest {
				t.Errorf("password %v: %d", bad.form, r.code)
			}
			wantIn(t, "password", r, `id="`+bad.id+`"`)
		}
		if _, err := e.db.Authenticate(context.Background(), "reader", "password123"); err != nil {
			t.Fatal("a refused password change changed the password")
		}
		r = e.form("POST", "/settings/password", c, url.Values{"current": {"password123"}, "new": {"another password"}, "new2": {"another password"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("change password: %d %s", r.code, r.body)
		}
		if r := e.page("/settings", c); r.code != http.StatusOK {
			t.Fatalf("this session after the change: %d", r.code)
		}
		if r := e.page("/settings", other); r.code != http.StatusSeeOther {
			t.Fatalf("the other session after the change: %d", r.code)
		}

		// Tokens: the secret once, then the list; revoking stops it.
		r = e.form("POST", "/settings/tokens", c, url.Values{"description": {"backup " + payloadTag}})
		if r.code != http.StatusOK {
			t.Fatalf("create token: %d %s", r.code, r.body)
		}
		m := regexp.MustCompile(`id="new-secret" value="([^"]+)"`).FindSubmatch(r.body)
		if m == nil {
			t.Fatalf("no secret shown: %s", r.body)
		}
		secret := string(m[1])
		wantEscaped(t, "new token", r.body, payloadTag)
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("the page with the secret may be cached: %q", r.header.Get("Cache-Control"))
		}
		api := e.do("GET", "/api/v1/me", secret, nil)
		if api.code != http.StatusOK {
			t.Fatalf("the new token: %d", api.code)
		}
		r = e.page("/settings", c)
		if strings.Contains(string(r.body), secret) {
			t.Fatal("the secret is shown again")
		}
		tokens, _ := e.db.FindTokens(context.Background(), me.ID)
		var id int64
		for _, tk := range tokens {
			if strings.HasPrefix(tk.Description, "backup") {
				id = tk.ID
			}
		}
		wantIn(t, "token list", r, path(`action="/settings/tokens/%d/delete"`, id))
		// Through the API too.
		var list struct {
			Count   int             `json:"count"`
			Results []*ipdesk.Token `json:"results"`
		}
		e.must(http.StatusOK, "GET", "/api/v1/me/tokens", secret, nil, &list)
		if list.Count != len(tokens) || list.Results[0].ID != tokens[0].ID {
			t.Fatalf("GET /api/v1/me/tokens: %+v", list)
		}
		// Another user's token is not this user's to revoke.
		admin := e.userID("admin")
		_, at, _ := e.db.CreateToken(context.Background(), admin, "admin's")
		if r := e.form("POST", path("/settings/tokens/%d/delete", at.ID), c, nil); r.code != http.StatusNotFound {
			t.Fatalf("revoke another user's token: %d", r.code)
		}
		e.must(http.StatusNotFound, "DELETE", path("/api/v1/me/tokens/%d", at.ID), secret, nil, nil)
		if r := e.form("POST", path("/settings/tokens/%d/delete", id), c, nil); r.code != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r.code)
		}
		if r := e.do("GET", "/api/v1/me", secret, nil); r.code != http.StatusUnauthorized {
			t.Fatalf("a revoked token: %d", r.code)
		}
	})
}

// TestHelpLanguages: the help exists in every language with the same
// sections, in that language, and tells the figures the code uses.
func TestHelpLanguages(t *testing.T) {
	e := newEnv(t)
	c := e.login("reader", "password123")
	section := regexp.MustCompile(`<h2 id="([a-z-]+)"`)
	var first []string
	for _, lang := range i18n.Languages {
		l := lang
		if _, err := e.db.UpdateUser(context.Background(), e.userID("reader"), ipdesk.UserUpdate{Language: &l}); err != nil {
			t.Fatal(err)
		}
		r := e.page("/help", c)
		if r.code != http.StatusOK {
			t.Fatalf("help in %s: %d", lang, r.code)
		}
		if !strings.Contains(string(r.body), `<html lang="`+lang+`">`) {
			t.Fatalf("help in %s is not in %s", lang, lang)
		}
		var ids []string
		for _, m := range section.FindAllSubmatch(r.body, -1) {
			ids = append(ids, string(m[1]))
		}
		if len(ids) < 10 {
			t.Errorf("help in %s has %d sections: %v", lang, len(ids), ids)
		}
		if first == nil {
			first = ids
		} else if !slices.Equal(ids, first) {
			t.Errorf("help in %s has the sections %v, English has %v", lang, ids, first)
		}
		for _, want := range []string{
			fmt.Sprint(ipdesk.MinPasswordLen), fmt.Sprint(int(apply.DefaultQuiet / time.Second)), fmt.Sprint(int(apply.DefaultMaxDelay / time.Second)),
			"aa:bb:cc:dd:ee:ff", "AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "aabbccddeeff", "/api/v1/openapi.json", "isc-dhcp", "squid-levels",
			`href="#outputs"`, map[string]string{"en": "2 hours", "de": "2 Stunden", "ru": "2 часа"}[lang],
		} {
			if !strings.Contains(string(r.body), want) {
				t.Errorf("help in %s lacks %q", lang, want)
			}
		}
	}
}

// TestAuditTimes: time filters are read in the server's time zone, and
// times inside audited objects are shown in it.
func TestAuditTimes(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	s := &Server{loc: berlin}
	for _, c := range []struct {
		in       string
		endOfDay bool
		want     string // RFC 3339 in UTC; "" for an error
	}{
		{"2026-03-01", false, "2026-02-28T23:00:00Z"},
		{"2026-03-01", true, "2026-03-01T23:00:00Z"},
		{"01.03.2026", true, "2026-03-01T23:00:00Z"},
		{"2026-07-01T08:30", false, "2026-07-01T06:30:00Z"},
		{"2026-07-01 08:30", true, "2026-07-01T06:30:00Z"},
		{"2026-07-01 08:30:15", false, "2026-07-01T06:30:15Z"},
		{"01.07.2026 08:30", false, "2026-07-01T06:30:00Z"},
		{"2026-07-01T08:30:00+02:00", false, "2026-07-01T06:30:00Z"},
		{"2026-02-30", false, ""},
		{"tomorrow", false, ""},
		{"2026-07-01T25:00", false, ""},
	} {
		got, err := s.parseLocalTime("since", c.in, c.endOfDay)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("parseLocalTime(%q) = %v, want an error", c.in, got)
		case c.want == "" && (ipdesk.ErrorField(err) != "since" || !strings.Contains(ipdesk.ErrorMessage(err), c.in)):
			t.Errorf("parseLocalTime(%q): error %v should name the field and quote the value", c.in, err)
		case c.want != "" && (err != nil || got.UTC().Format(time.RFC3339) != c.want):
			t.Errorf("parseLocalTime(%q, %v) = %v, %v; want %s", c.in, c.endOfDay, got, err, c.want)
		}
	}
	for in, want := range map[string]string{
		"2026-03-01T07:00:00.123456Z": "2026-03-01 08:00:00",
		"2026-07-01T06:30:00Z":        "2026-07-01 08:30:00",
		"2026-07-01":                  "2026-07-01",
		"room 2026-07-01T06:30:00Z":   "room 2026-07-01T06:30:00Z",
		"":                            "",
	} {
		if got := s.localTimeText(in); got != want {
			t.Errorf("localTimeText(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkAuditPage renders the audit log page (50 entries, each
// compared field by field) of a log of 100,000 host creations on SQLite:
// the first page, and the page filtered by actor, object type or both.
func BenchmarkAuditPage(b *testing.B) {
	e := newEnv(b)
	sp := e.space("campus")
	e.prefix(sp, "10.0.0.0/15", ipdesk.PrefixSubnet)
	rows := make([]*ipdesk.Address, 100000)
	for i := range rows {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).Next()
		rows[i] = &ipdesk.Address{SpaceID: sp, Addr: a, Hostname: fmt.Sprintf("pc%d", i), Owner: "Room " + fmt.Sprint(i%300), AccessLevel: i % 4}
	}
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: e.userID("admin"), Name: "admin"})
	if res, err := e.db.ImportAddresses(ctx, rows, false); err != nil || len(res.Problems) > 0 {
		b.Fatalf("import: %v %+v", err, res.Problems)
	}
	c := e.login("admin", "password123")
	for _, q := range []string{"", "?actor=admin", "?actor=admin&object_type=address", "?object_type=address"} {
		b.Run("query="+q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/audit"+q, nil)
				req.AddCookie(c)
				rec := &discardWriter{header: http.Header{}}
				e.h.ServeHTTP(rec, req)
				if rec.status != http.StatusOK {
					b.Fatalf("status %d", rec.status)
				}
			}
		})
	}
}

// TestFormPageLanguageSwitch: a form shown again after a POST lets the
// language switch lead back to its page, not to the path it was sent to.
func TestFormPageLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin", "password123")
	reader := e.userID("reader")
	r := e.form("POST", path("/users/%d/password", reader), c, url.Values{"password": {"x"}, "password2": {"y"}})
	wantIn(t, "password form", r, path(`name="back" value="/users/%d"`, reader))
	r = e.form("POST", "/settings/tokens", c, url.Values{"description": {"t"}})
	wantIn(t, "new token", r, `name="back" value="/settings"`)
	r = e.page("/users?offset=0", c)
	wantIn(t, "user list", r, `name="back" value="/users?offset=0"`)
}

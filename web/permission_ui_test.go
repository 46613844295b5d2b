package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"ipdesk"
)

// TestPermissionMatrixUI checks the pages as TestPermissionMatrix checks
// the API: user × object × action, through the same authorization layer.
// A page the user may not know of is 404, one they may see but not change
// is 403 for the change; GET pages change nothing; exports and bulk
// changes are scoped.
func TestPermissionMatrixUI(t *testing.T) {
	e := newEnv(t)
	w := newPermWorld(t, e)
	users := []string{"admin", "reader", "viewer", "editor", "teacher", "helper", "creator", "outsider"}
	cookies := map[string]*http.Cookie{}
	for _, u := range users {
		cookies[u] = e.login(u, "password123")
	}

	pages := []struct {
		path string
		want []int
	}{
		{path("/spaces/%d", w.spaceA), []int{200, 200, 200, 200, 404, 404, 404, 404}},
		{path("/spaces/%d", w.spaceB), []int{200, 200, 404, 404, 404, 404, 404, 404}},
		{path("/spaces/%d/edit", w.spaceA), []int{200, 403, 403, 403, 404, 404, 404, 404}},
		{path("/prefixes/%d", w.container), []int{200, 200, 200, 404, 404, 404, 404, 404}},
		{path("/prefixes/%d", w.subnetA1), []int{200, 200, 200, 200, 404, 404, 404, 404}},
		{path("/prefixes/%d", w.subnetA2), []int{200, 200, 200, 404, 404, 404, 404, 404}},
		{path("/prefixes/%d/edit", w.subnetA1), []int{200, 403, 403, 200, 404, 404, 404, 404}},
		{path("/hosts/%d", w.a1), []int{200, 200, 200, 200, 404, 404, 404, 404}},
		{path("/hosts/%d", w.a2), []int{200, 200, 200, 404, 404, 404, 404, 404}},
		{path("/hosts/%d", w.b1), []int{200, 200, 404, 404, 404, 404, 404, 404}},
		{path("/locations/%d", w.room), []int{200, 200, 404, 200, 200, 404, 404, 404}},
		{path("/locations/%d", w.site), []int{200, 200, 404, 404, 404, 404, 404, 404}},
		{"/users", []int{200, 403, 403, 403, 403, 403, 403, 403}},
		{"/groups", []int{200, 403, 403, 403, 403, 403, 403, 403}},
		{"/outputs", []int{200, 200, 403, 403, 403, 403, 403, 403}},
		{"/audit", []int{200, 200, 403, 403, 403, 403, 403, 403}},
		{path("/audit?object_type=address&object_id=%d", w.a1), []int{200, 200, 200, 200, 404, 404, 404, 404}},
		{"/hosts", []int{200, 200, 200, 200, 200, 200, 200, 200}},
		{"/settings", []int{200, 200, 200, 200, 200, 200, 200, 200}},
	}
	for _, pg := range pages {
		for i, u := range users {
			if r := e.page(pg.path, cookies[u]); r.code != pg.want[i] {
				t.Errorf("%s GET %s: %d, want %d", u, pg.path, r.code, pg.want[i])
			}
		}
	}

	// Changes the user may not make are refused, and change nothing.
	before := auditTotal(t, e)
	changes := []struct {
		path string
		form url.Values
		want []int // admin is not tried: it would change the world
	}{
		{path("/spaces/%d/edit", w.spaceA), url.Values{"name": {"X"}, "version": {"1"}}, []int{403, 403, 403, 404, 404, 404, 404}},
		{path("/spaces/%d/delete", w.spaceB), url.Values{"cascade": {"on"}}, []int{403, 404, 404, 404, 404, 404, 404}},
		{path("/prefixes/%d/edit", w.subnetA2), url.Values{"description": {"X"}}, []int{403, 403, 404, 404, 404, 404, 404}},
		{path("/prefixes/%d/claim", w.subnetA2), url.Values{"address": {"10.1.2.99"}}, []int{403, 403, 404, 404, 404, 404, 404}},
		{path("/prefixes/%d/allocate", w.container), url.Values{"prefix_length": {"24"}}, []int{403, 403, 404, 404, 404, 404, 404}},
		{path("/hosts/%d", w.a2), url.Values{"owner": {"X"}}, []int{403, 403, 404, 404, 404, 404, 404}},
		{path("/hosts/%d/delete", w.a2), nil, []int{403, 403, 404, 404, 404, 404, 404}},
		{"/hosts/bulk", url.Values{"sel": {path("%d:1", w.a2)}, "access_level": {"3"}}, []int{403, 403, 404, 404, 404, 404, 404}},
		{path("/locations/%d", w.room), url.Values{"name": {"X"}}, []int{403, 404, 403, 403, 404, 404, 404}},
		{"/groups", url.Values{"name": {"mine"}}, []int{403, 403, 403, 403, 403, 403, 403}},
		{path("/groups/%d/members", w.groupEditor), url.Values{"name": {"outsider"}}, []int{403, 403, 403, 403, 403, 403, 403}},
		{path("/groups/%d/grants", w.groupViewer), url.Values{"object_type": {"space"}, "space_id": {path("%d", w.spaceB)}, "right": {"edit"}}, []int{403, 403, 403, 403, 403, 403, 403}},
		{path("/users/%d", w.userOutsider), url.Values{"admin": {"on"}}, []int{403, 403, 403, 403, 403, 403, 403}},
		{"/outputs/apply", nil, []int{403, 403, 403, 403, 403, 403, 403}},
	}
	for _, c := range changes {
		for i, u := range users[1:] {
			if r := e.form("POST", c.path, cookies[u], c.form); r.code != c.want[i] {
				t.Errorf("%s POST %s: %d, want %d", u, c.path, r.code, c.want[i])
			}
		}
	}
	if after := auditTotal(t, e); after != before {
		t.Errorf("refused changes wrote %d audit entries", after-before)
	}

	// Exports hold only what the user may see.
	for _, c := range []struct {
		user        string
		has, hasNot []string
	}{
		{"editor", []string{w.ipA1}, []string{w.ipA2, "10.9.0.10"}},
		{"viewer", []string{w.ipA1, w.ipA2}, []string{"10.9.0.10"}},
		{"outsider", nil, []string{w.ipA1, w.ipA2, "10.9.0.10"}},
		{"reader", []string{w.ipA1, w.ipA2, "10.9.0.10"}, nil},
	} {
		for _, format := range []string{"csv", "json"} {
			r := e.page("/hosts/export."+format, cookies[c.user])
			if r.code != http.StatusOK {
				t.Fatalf("%s export %s: %d", c.user, format, r.code)
			}
			for _, ip := range c.has {
				if !strings.Contains(string(r.body), ip) {
					t.Errorf("%s's %s export lacks %s", c.user, format, ip)
				}
			}
			for _, ip := range c.hasNot {
				if strings.Contains(string(r.body), ip) {
					t.Errorf("%s's %s export shows %s", c.user, format, ip)
				}
			}
		}
	}

	// The hosts list and its search are scoped too.
	r := e.page("/hosts/rows?q=10.", cookies["editor"])
	if body := string(r.body); !strings.Contains(body, w.ipA1) || strings.Contains(body, w.ipA2) || strings.Contains(body, "10.9.0.10") {
		t.Errorf("the editor's search rows: %d, shows A1 %v, A2 %v, B %v", r.code, strings.Contains(body, w.ipA1), strings.Contains(body, w.ipA2), strings.Contains(body, "10.9.0.10"))
	}
}

// auditTotal returns the number of audit entries.
func auditTotal(t *testing.T, e *testEnv) int {
	t.Helper()
	_, n, err := e.db.FindAuditEntries(t.Context(), ipdesk.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPageRoutesDeclareRights walks every page of the route table: each
// declares the action and the object it needs, and the wrapper answers a
// user without that right as authorize decides, before the page's handler
// runs; an administrator opens every page without a server error.
func TestPageRoutesDeclareRights(t *testing.T) {
	e := newEnv(t)
	w := newPermWorld(t, e)
	ids := map[string]int64{
		ipdesk.ObjectSpace: w.spaceA, ipdesk.ObjectPrefix: w.subnetA1, ipdesk.ObjectAddress: w.a1,
		ipdesk.ObjectLocation: w.room, ipdesk.ObjectUser: w.userEditor, ipdesk.ObjectGroup: w.groupEditor,
		objectRoomState: w.room, ipdesk.ObjectNowOverride: w.room, ipdesk.ObjectOverride: w.room, ipdesk.ObjectRoomPolicy: w.room,
	}
	idOf := func(objectType string) int64 {
		if id, ok := ids[objectType]; ok {
			return id
		}
		return 1
	}
	cookies := map[string]*http.Cookie{}
	ctxs := map[string]context.Context{}
	for _, name := range []string{"outsider", "viewer", "admin"} {
		cookies[name] = e.login(name, "password123")
		u, err := e.db.FindUserByName(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		ctxs[name] = withAuth(t.Context(), &authState{user: u})
	}
	routes := e.srv.pageRoutes()
	if len(routes) < 80 {
		t.Fatalf("only %d page routes", len(routes))
	}
	for _, p := range routes {
		method, target, _ := strings.Cut(p.pattern, " ")
		if p.object == "" || p.act == actPublic {
			t.Errorf("page %s declares no rights (act %s, object %q)", p.pattern, p.act, p.object)
			continue
		}
		obj := object{Type: p.object}
		param := firstPathParam(p.pattern)
		target = strings.TrimSuffix(target, "{$}")
		for _, seg := range strings.Split(target, "/") {
			if strings.HasPrefix(seg, "{") {
				id := int64(1)
				if seg == "{"+param+"}" {
					id = idOf(p.object)
					obj.ID = id
				}
				target = strings.Replace(target, seg, strconv.FormatInt(id, 10), 1)
			}
		}
		for _, user := range []string{"outsider", "viewer", "admin"} {
			if user == "admin" && method != "GET" {
				continue // it would change the world
			}
			var r *response
			if method == "GET" {
				r = e.page(target, cookies[user])
			} else {
				r = e.form(method, target, cookies[user], nil)
			}
			err := e.srv.authorize(ctxs[user], p.act, obj)
			switch {
			case err != nil && r.code != errorStatus(ipdesk.ErrorCode(err)):
				t.Errorf("%s %s %s: %d, but authorize says %d (%v)", user, method, target, r.code, errorStatus(ipdesk.ErrorCode(err)), err)
			case r.code >= 500:
				t.Errorf("%s %s %s: %d", user, method, target, r.code)
			case user == "admin" && param == "" && r.code != http.StatusOK:
				t.Errorf("admin GET %s: %d", target, r.code)
			}
		}
	}
}

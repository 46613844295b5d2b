package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"ipdesk"
)

// permWorld is a small plan with users of every kind of right:
//
//	space A: container 10.1.0.0/16 with subnets A1 10.1.1.0/24 (host a1)
//	         and A2 10.1.2.0/24 (host a2)
//	space B: subnet 10.9.0.0/24 (host b1)
//	site S with room R
//
// admin (administrator), reader (view_all), viewer (view on space A),
// editor (edit on subnet A1, view on room R), teacher (override on room
// R), helper (helpdesk), creator (may create spaces), outsider (no group).
type permWorld struct {
	*testEnv
	tokens                                 map[string]string
	spaceA, spaceB                         int64
	container, subnetA1, subnetA2, subnetB int64
	a1, a2, b1                             int64
	site, room                             int64
	groupViewer, groupEditor, groupTeacher int64
	groupHelper, groupCreator              int64
	userViewer, userEditor, userOutsider   int64
	userTeacher, userHelper, userCreator   int64
	ipA1, ipA2                             string
}

func newPermWorld(t *testing.T, e *testEnv) *permWorld {
	t.Helper()
	w := &permWorld{testEnv: e, tokens: map[string]string{"admin": e.admin, "reader": e.user}}
	w.spaceA = e.space("A")
	w.spaceB = e.space("B")
	w.container = e.prefix(w.spaceA, "10.1.0.0/16", ipdesk.PrefixContainer).ID
	w.subnetA1 = e.prefix(w.spaceA, "10.1.1.0/24", ipdesk.PrefixSubnet).ID
	w.subnetA2 = e.prefix(w.spaceA, "10.1.2.0/24", ipdesk.PrefixSubnet).ID
	w.subnetB = e.prefix(w.spaceB, "10.9.0.0/24", ipdesk.PrefixSubnet).ID
	var l ipdesk.Location
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "site", "name": "S"}, &l)
	w.site = l.ID
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "room", "name": "R", "parent_id": w.site}, &l)
	w.room = l.ID
	w.ipA1, w.ipA2 = "10.1.1.10", "10.1.2.10"
	w.a1 = w.host(w.spaceA, w.ipA1)
	w.a2 = w.host(w.spaceA, w.ipA2)
	w.b1 = w.host(w.spaceB, "10.9.0.10")

	user := func(name string) int64 {
		w.tokens[name] = e.makeUser(name, false)
		u, err := e.db.FindUserByName(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	w.userViewer, w.userEditor, w.userTeacher = user("viewer"), user("editor"), user("teacher")
	w.userHelper, w.userCreator, w.userOutsider = user("helper"), user("creator"), user("outsider")
	group := func(body map[string]any) int64 {
		var g ipdesk.Group
		e.must(http.StatusCreated, "POST", "/api/v1/groups", e.admin, body, &g)
		return g.ID
	}
	w.groupViewer = group(map[string]any{"name": "viewers", "members": []int64{w.userViewer}})
	w.groupEditor = group(map[string]any{"name": "editors", "members": []int64{w.userEditor}})
	w.groupTeacher = group(map[string]any{"name": "teachers", "members": []int64{w.userTeacher}})
	w.groupHelper = group(map[string]any{"name": "helpdesk", "members": []int64{w.userHelper}, "helpdesk": true})
	w.groupCreator = group(map[string]any{"name": "creators", "members": []int64{w.userCreator}, "create_spaces": true})
	grant := func(g int64, typ string, id int64, right string) {
		e.must(http.StatusCreated, "POST", "/api/v1/grants", e.admin, map[string]any{"group_id": g, "object_type": typ, "object_id": id, "right": right}, nil)
	}
	grant(w.groupViewer, "space", w.spaceA, "view")
	grant(w.groupEditor, "prefix", w.subnetA1, "edit")
	grant(w.groupEditor, "location", w.room, "view")
	grant(w.groupTeacher, "location", w.room, "override")
	return w
}

func (w *permWorld) host(space int64, ip string) int64 {
	var a ipdesk.Address
	w.must(http.StatusCreated, "POST", "/api/v1/addresses", w.admin, map[string]any{"space_id": space, "address": ip, "hostname": "h" + ip[len(ip)-2:]}, &a)
	return a.ID
}

// count returns the count of a list answer.
func (w *permWorld) count(t *testing.T, user, p string) int {
	t.Helper()
	r := w.do("GET", p, w.tokens[user], nil)
	if r.code != http.StatusOK {
		t.Fatalf("%s GET %s: %d %s", user, p, r.code, r.body)
	}
	var l struct {
		Count int `json:"count"`
	}
	json.Unmarshal(r.body, &l)
	return l.Count
}

// TestPermissionMatrix checks user × object × action over the API: no
// right gives 403, or 404 for objects the user may not know of; view
// allows reading only; edit allows changing; nobody can grant themselves
// more.
func TestPermissionMatrix(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		w := newPermWorld(t, e)
		type req struct {
			method, path string
			body         any
		}
		get := func(p string, args ...any) req { return req{"GET", path(p, args...), nil} }
		patch := func(body any, p string, args ...any) req { return req{"PATCH", path(p, args...), body} }
		post := func(body any, p string, args ...any) req { return req{"POST", path(p, args...), body} }
		del := func(p string, args ...any) req { return req{"DELETE", path(p, args...), nil} }
		renamed := map[string]any{"description": "changed"}
		hostEdit := map[string]any{"owner": "Anna"}

		users := []string{"admin", "reader", "viewer", "editor", "teacher", "helper", "creator", "outsider"}
		rows := []struct {
			name string
			req  req
			want []int // in the order of users
		}{
			// Spaces.
			{"get space A", get("/api/v1/spaces/%d", w.spaceA), []int{200, 200, 200, 200, 404, 404, 404, 404}},
			{"get space B", get("/api/v1/spaces/%d", w.spaceB), []int{200, 200, 404, 404, 404, 404, 404, 404}},
			{"rename space A", patch(renamed, "/api/v1/spaces/%d", w.spaceA), []int{200, 403, 403, 403, 404, 404, 404, 404}},
			{"create a space", post(func(i int) any { return map[string]any{"name": path("new %d", i)} }, "/api/v1/spaces"), []int{201, 403, 403, 403, 403, 403, 201, 403}},
			{"delete space B", del("/api/v1/spaces/%d?cascade=true", w.spaceB), []int{-1, 403, 404, 404, 404, 404, 404, 404}},

			// Prefixes.
			{"get the container", get("/api/v1/prefixes/%d", w.container), []int{200, 200, 200, 404, 404, 404, 404, 404}},
			{"get subnet A1", get("/api/v1/prefixes/%d", w.subnetA1), []int{200, 200, 200, 200, 404, 404, 404, 404}},
			{"get subnet A2", get("/api/v1/prefixes/%d", w.subnetA2), []int{200, 200, 200, 404, 404, 404, 404, 404}},
			{"change subnet A1", patch(renamed, "/api/v1/prefixes/%d", w.subnetA1), []int{200, 403, 403, 200, 404, 404, 404, 404}},
			{"change subnet A2", patch(renamed, "/api/v1/prefixes/%d", w.subnetA2), []int{200, 403, 403, 404, 404, 404, 404, 404}},
			{"free ranges of A1", get("/api/v1/prefixes/%d/free-ranges", w.subnetA1), []int{200, 200, 200, 200, 404, 404, 404, 404}},
			{"create a prefix in the container", post(map[string]any{"space_id": w.spaceA, "prefix": "10.1.7.0/24", "kind": "subnet"}, "/api/v1/prefixes"),
				[]int{201, 403, 403, 403, 404, 404, 404, 404}},
			{"create a prefix in subnet A1's place", post(map[string]any{"space_id": w.spaceA, "prefix": "10.1.1.128/25", "kind": "subnet"}, "/api/v1/prefixes"),
				[]int{409, 403, 403, 409, 404, 404, 404, 404}},
			{"allocate a /24 in the container", post(map[string]any{"prefix_length": 24}, "/api/v1/prefixes/%d/available-prefixes", w.container),
				[]int{201, 403, 403, 404, 404, 404, 404, 404}},

			// Addresses.
			{"get host a1", get("/api/v1/addresses/%d", w.a1), []int{200, 200, 200, 200, 404, 404, 404, 404}},
			{"get host a2", get("/api/v1/addresses/%d", w.a2), []int{200, 200, 200, 404, 404, 404, 404, 404}},
			{"get host b1", get("/api/v1/addresses/%d", w.b1), []int{200, 200, 404, 404, 404, 404, 404, 404}},
			{"edit host a1", patch(hostEdit, "/api/v1/addresses/%d", w.a1), []int{200, 403, 403, 200, 404, 404, 404, 404}},
			{"edit host a2", patch(hostEdit, "/api/v1/addresses/%d", w.a2), []int{-1, 403, 403, 404, 404, 404, 404, 404}},
			{"move host a1 into A2", patch(map[string]any{"address": "10.1.2.99"}, "/api/v1/addresses/%d", w.a1), []int{-1, 403, 403, 403, 404, 404, 404, 404}},
			{"put host a1 in room R", patch(map[string]any{"location_id": w.room}, "/api/v1/addresses/%d", w.a1), []int{200, 403, 403, 200, 404, 404, 404, 404}},
			{"put host a1 in site S", patch(map[string]any{"location_id": w.site}, "/api/v1/addresses/%d", w.a1), []int{200, 403, 403, 400, 404, 404, 404, 404}},
			{"create a host in A1", post(func(i int) any { return map[string]any{"space_id": w.spaceA, "address": path("10.1.1.%d", 20+i)} }, "/api/v1/addresses"), []int{201, 403, 403, 201, 404, 404, 404, 404}},
			{"create a host in A2", post(map[string]any{"space_id": w.spaceA, "address": "10.1.2.20"}, "/api/v1/addresses"), []int{201, 403, 403, 403, 404, 404, 404, 404}},
			{"create a host in B", post(map[string]any{"space_id": w.spaceB, "address": "10.9.0.20"}, "/api/v1/addresses"), []int{201, 403, 404, 404, 404, 404, 404, 404}},
			{"claim the first free address of A1", post(map[string]any{"hostname": "pc"}, "/api/v1/prefixes/%d/available-addresses", w.subnetA1), []int{201, 403, 403, 201, 404, 404, 404, 404}},
			{"claim the first free address of A2", post(map[string]any{"hostname": "pc"}, "/api/v1/prefixes/%d/available-addresses", w.subnetA2), []int{201, 403, 403, 404, 404, 404, 404, 404}},
			{"claim in A1 into the hidden site S", post(map[string]any{"location_id": w.site}, "/api/v1/prefixes/%d/available-addresses", w.subnetA1), []int{201, 403, 403, 400, 404, 404, 404, 404}},
			{"create a host in A1 that shares a hostname with hidden a2", post(func(i int) any {
				return map[string]any{"space_id": w.spaceA, "address": path("10.1.1.%d", 40+i), "hostname": "h10"}
			}, "/api/v1/addresses"), []int{201, 403, 403, 201, 404, 404, 404, 404}},
			{"delete host a2", del("/api/v1/addresses/%d", w.a2), []int{-1, 403, 403, 404, 404, 404, 404, 404}},

			// Locations.
			{"get room R", get("/api/v1/locations/%d", w.room), []int{200, 200, 404, 200, 200, 404, 404, 404}},
			{"get site S", get("/api/v1/locations/%d", w.site), []int{200, 200, 404, 404, 404, 404, 404, 404}},
			{"rename room R", patch(map[string]any{"description": "x"}, "/api/v1/locations/%d", w.room), []int{200, 403, 404, 403, 403, 404, 404, 404}},
			{"create a site", post(map[string]any{"kind": "site", "name": "T"}, "/api/v1/locations"), []int{201, 403, 403, 403, 403, 403, 403, 403}},

			// Administration: users, groups, grants, access levels, outputs.
			{"list users", get("/api/v1/users"), []int{200, 403, 403, 403, 403, 403, 403, 403}},
			{"list groups", get("/api/v1/groups"), []int{200, 403, 403, 403, 403, 403, 403, 403}},
			{"join the editors", patch(map[string]any{"members": []int64{w.userEditor, w.userOutsider}}, "/api/v1/groups/%d", w.groupEditor), []int{-1, 403, 403, 403, 403, 403, 403, 403}},
			{"grant oneself edit on space B", post(map[string]any{"group_id": w.groupViewer, "object_type": "space", "object_id": w.spaceB, "right": "edit"}, "/api/v1/grants"),
				[]int{-1, 403, 403, 403, 403, 403, 403, 403}},
			{"make oneself an admin", patch(map[string]any{"admin": true}, "/api/v1/users/%d", w.userOutsider), []int{-1, 403, 403, 403, 403, 403, 403, 403}},
			{"rename an access level", patch(map[string]any{"description": "x"}, "/api/v1/access-levels/1"), []int{200, 403, 403, 403, 403, 403, 403, 403}},
			{"read the access levels", get("/api/v1/access-levels"), []int{200, 200, 200, 200, 200, 200, 200, 200}},
			{"read the outputs", get("/api/v1/outputs"), []int{200, 200, 403, 403, 403, 403, 403, 403}},
			{"apply the outputs", post(nil, "/api/v1/apply"), []int{409, 403, 403, 403, 403, 403, 403, 403}},
			{"read the whole audit log", get("/api/v1/audit"), []int{200, 200, 403, 403, 403, 403, 403, 403}},
			{"read the history of host a1", get("/api/v1/audit?object_type=address&object_id=%d", w.a1), []int{200, 200, 200, 200, 404, 404, 404, 404}},
			{"read the history of host b1", get("/api/v1/audit?object_type=address&object_id=%d", w.b1), []int{200, 200, 404, 404, 404, 404, 404, 404}},

			// One's own account.
			{"read me", get("/api/v1/me"), []int{200, 200, 200, 200, 200, 200, 200, 200}},
			{"set my language", patch(map[string]any{"language": "de"}, "/api/v1/me"), []int{200, 200, 200, 200, 200, 200, 200, 200}},
			{"make me an admin through /me", patch(map[string]any{"admin": true}, "/api/v1/me"), []int{400, 400, 400, 400, 400, 400, 400, 400}},
		}
		for _, row := range rows {
			for i, user := range users {
				want := row.want[i]
				if want < 0 {
					continue // would change the world for the other rows
				}
				body := row.req.body
				if f, ok := body.(func(int) any); ok {
					body = f(i)
				}
				r := e.do(row.req.method, row.req.path, w.tokens[user], body)
				if r.code != want {
					t.Errorf("%s as %s: %s %s: %d, want %d: %s", row.name, user, row.req.method, row.req.path, r.code, want, r.body)
				}
			}
		}

		// Lists and searches show only what the user may see.
		for _, c := range []struct {
			path string
			want []int
		}{
			{"/api/v1/spaces", []int{4, 4, 1, 1, 0, 0, 1, 0}}, // the admin and the creator made one each
			{"/api/v1/prefixes", []int{-1, -1, 5, 1, 0, 0, 0, 0}},
			{"/api/v1/addresses?q=10.1.", []int{-1, -1, -1, -1, 0, 0, 0, 0}},
			{"/api/v1/addresses?prefix=10.1.2.0/24", []int{-1, -1, -1, 0, 0, 0, 0, 0}},
			{"/api/v1/locations", []int{-1, -1, 0, 1, 1, 0, 0, 0}},
		} {
			for i, user := range users {
				if c.want[i] < 0 {
					continue
				}
				if n := w.count(t, user, c.path); n != c.want[i] {
					t.Errorf("%s sees %d in %s, want %d", user, n, c.path, c.want[i])
				}
			}
		}
		// The editor's search finds its own hosts only.
		if n := w.count(t, "editor", "/api/v1/addresses?q=10.1."); n == 0 {
			t.Errorf("the editor finds none of its hosts")
		}
		var list struct {
			Results []ipdesk.Address `json:"results"`
		}
		e.must(http.StatusOK, "GET", "/api/v1/addresses?q=10.1.", w.tokens["editor"], nil, &list)
		for _, a := range list.Results {
			if a.PrefixID != w.subnetA1 {
				t.Errorf("the editor's search shows %s of prefix %d", a.Addr, a.PrefixID)
			}
		}

		// Warnings name other hosts only to those who see everything.
		var res addressResult
		e.must(http.StatusCreated, "POST", "/api/v1/addresses", w.tokens["editor"], map[string]any{"space_id": w.spaceA, "address": "10.1.1.77", "hostname": "h10"}, &res)
		if len(res.Warnings) != 1 || strings.Contains(res.Warnings[0].Message, "10.1.2.10") {
			t.Errorf("the editor's warning: %+v", res.Warnings)
		}
		e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": w.spaceA, "address": "10.1.1.78", "hostname": "h10"}, &res)
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Message, "10.1.2.10") {
			t.Errorf("the admin's warning: %+v", res.Warnings)
		}

		// A refused change changed nothing.
		var a2 ipdesk.Address
		e.must(http.StatusOK, "GET", path("/api/v1/addresses/%d", w.a2), e.admin, nil, &a2)
		if a2.Owner != "" {
			t.Errorf("host a2 was changed by a refused edit: owner %q", a2.Owner)
		}
	})
}

// TestDisabledUserLosesAccess: disabling a user stops its token at once.
func TestDisabledUserLosesAccess(t *testing.T) {
	e := newEnv(t)
	w := newPermWorld(t, e)
	e.must(http.StatusOK, "GET", path("/api/v1/addresses/%d", w.a1), w.tokens["editor"], nil, nil)
	e.must(http.StatusOK, "PATCH", path("/api/v1/users/%d", w.userEditor), e.admin, map[string]any{"disabled": true}, nil)
	e.must(http.StatusUnauthorized, "GET", path("/api/v1/addresses/%d", w.a1), w.tokens["editor"], nil, nil)
	// An administrator cannot lock themselves out.
	var me ipdesk.User
	e.must(http.StatusOK, "GET", "/api/v1/me", e.admin, nil, &me)
	e.must(http.StatusConflict, "PATCH", path("/api/v1/users/%d", me.ID), e.admin, map[string]any{"disabled": true}, nil)
}

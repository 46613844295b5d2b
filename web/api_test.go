package web

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"ipdesk"
)

// TestStatusCodes walks every error path of the API: each case names the
// status, the error code and, for bad input, the field the answer must name.
func TestStatusCodes(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		sp := e.space("campus")
		other := e.space("lab")
		subnet := e.prefix(sp, "10.1.0.0/24", ipdesk.PrefixSubnet)
		container := e.prefix(sp, "10.2.0.0/16", ipdesk.PrefixContainer)
		var addr ipdesk.Address
		e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin,
			map[string]any{"space_id": sp, "address": "10.1.0.10", "hostname": "pc1", "mac": "aa:bb:cc:00:00:01"}, &addr)
		spacePath := path("/api/v1/spaces/%d", sp)
		subnetPath := path("/api/v1/prefixes/%d", subnet.ID)

		huge := `{"name": "` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
		tests := []struct {
			name    string
			method  string
			path    string
			token   string
			body    any
			headers []string
			status  int
			code    string
			field   string
			says    string // a part of the message
		}{
			// 401: no, malformed or unknown credentials.
			{name: "no token", method: "GET", path: "/api/v1/spaces", status: 401, code: ipdesk.EUNAUTHORIZED},
			{name: "unknown token", method: "GET", path: "/api/v1/spaces", token: "not-a-token", status: 401, code: ipdesk.EUNAUTHORIZED},
			{name: "basic auth", method: "GET", path: "/api/v1/spaces", headers: []string{"Authorization", "Basic YWRtaW46cGFzc3dvcmQxMjM="}, status: 401, code: ipdesk.EUNAUTHORIZED},
			{name: "no token on write", method: "POST", path: "/api/v1/spaces", body: map[string]any{"name": "x"}, status: 401, code: ipdesk.EUNAUTHORIZED},

			// 403: a non-admin may read but not write.
			{name: "reader creates space", method: "POST", path: "/api/v1/spaces", token: e.user, body: map[string]any{"name": "x"}, status: 403, code: ipdesk.EFORBIDDEN},
			{name: "reader patches prefix", method: "PATCH", path: subnetPath, token: e.user, body: map[string]any{"description": "x"}, status: 403, code: ipdesk.EFORBIDDEN},
			{name: "reader deletes address", method: "DELETE", path: path("/api/v1/addresses/%d", addr.ID), token: e.user, status: 403, code: ipdesk.EFORBIDDEN},
			{name: "reader allocates", method: "POST", path: subnetPath + "/available-addresses", token: e.user, status: 403, code: ipdesk.EFORBIDDEN},

			// 404.
			{name: "unknown space", method: "GET", path: "/api/v1/spaces/999999", token: e.user, status: 404, code: ipdesk.ENOTFOUND},
			{name: "unknown prefix patch", method: "PATCH", path: "/api/v1/prefixes/999999", token: e.admin, body: map[string]any{"vlan": 3}, status: 404, code: ipdesk.ENOTFOUND},
			{name: "unknown address delete", method: "DELETE", path: "/api/v1/addresses/999999", token: e.admin, status: 404, code: ipdesk.ENOTFOUND},
			{name: "unknown access level", method: "GET", path: "/api/v1/access-levels/77", token: e.user, status: 404, code: ipdesk.ENOTFOUND},
			{name: "access level past the range", method: "GET", path: "/api/v1/access-levels/99999999999", token: e.user, status: 404, code: ipdesk.ENOTFOUND},
			{name: "unknown path", method: "GET", path: "/api/v1/nothing", token: e.user, status: 404, code: ipdesk.ENOTFOUND},
			{name: "unknown path without token", method: "GET", path: "/api/nothing", status: 404, code: ipdesk.ENOTFOUND},

			// 405.
			{name: "put on space", method: "PUT", path: spacePath, token: e.admin, body: map[string]any{}, status: 405, code: eMethodNotAllowed},
			{name: "delete on list", method: "DELETE", path: "/api/v1/spaces", token: e.admin, status: 405, code: eMethodNotAllowed},

			// 400: query and path parameters name themselves and their value.
			{name: "bad space filter", method: "GET", path: "/api/v1/prefixes?space=abc", token: e.user, status: 400, code: ipdesk.EINVALID, field: "space"},
			{name: "bad contains", method: "GET", path: "/api/v1/prefixes?contains=10.1.0.300", token: e.user, status: 400, code: ipdesk.EINVALID, field: "contains"},
			{name: "bad within", method: "GET", path: "/api/v1/prefixes?within=10.0.0.0/33", token: e.user, status: 400, code: ipdesk.EINVALID, field: "within"},
			{name: "bad kind filter", method: "GET", path: "/api/v1/prefixes?kind=area", token: e.user, status: 400, code: ipdesk.EINVALID, field: "kind"},
			{name: "bad mac filter", method: "GET", path: "/api/v1/addresses?mac=zz:zz", token: e.user, status: 400, code: ipdesk.EINVALID, field: "mac"},
			{name: "bad dhcp filter", method: "GET", path: "/api/v1/addresses?dhcp=maybe", token: e.user, status: 400, code: ipdesk.EINVALID, field: "dhcp"},
			{name: "bad sort", method: "GET", path: "/api/v1/addresses?sort=colour", token: e.user, status: 400, code: ipdesk.EINVALID, field: "sort"},
			{name: "bad since", method: "GET", path: "/api/v1/audit?since=yesterday", token: e.user, status: 400, code: ipdesk.EINVALID, field: "since"},
			{name: "negative offset", method: "GET", path: "/api/v1/spaces?offset=-1", token: e.user, status: 400, code: ipdesk.EINVALID, field: "offset"},
			{name: "bad limit", method: "GET", path: "/api/v1/spaces?limit=ten", token: e.user, status: 400, code: ipdesk.EINVALID, field: "limit"},
			{name: "unknown query parameter", method: "GET", path: "/api/v1/spaces?nmae=x", token: e.user, status: 400, code: ipdesk.EINVALID, field: "nmae"},
			{name: "repeated query parameter", method: "GET", path: "/api/v1/prefixes?space=1&space=2", token: e.user, status: 400, code: ipdesk.EINVALID, field: "space"},
			{name: "bad query escape", method: "GET", path: "/api/v1/spaces?name=%zz", token: e.user, status: 400, code: ipdesk.EINVALID},
			{name: "non-numeric id", method: "GET", path: "/api/v1/spaces/abc", token: e.user, status: 400, code: ipdesk.EINVALID, field: "id"},

			// 400: bodies.
			{name: "bad JSON", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `{"name": "x",}`, status: 400, code: ipdesk.EINVALID},
			{name: "truncated JSON", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `{"name": "x"`, status: 400, code: ipdesk.EINVALID},
			{name: "JSON array", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `[]`, status: 400, code: ipdesk.EINVALID},
			{name: "trailing data", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `{"name": "x"} {}`, status: 400, code: ipdesk.EINVALID},
			{name: "empty body", method: "POST", path: "/api/v1/spaces", token: e.admin, body: ``, status: 400, code: ipdesk.EINVALID},
			{name: "unknown field", method: "POST", path: "/api/v1/spaces", token: e.admin, body: map[string]any{"name": "x", "colour": "red"}, status: 400, code: ipdesk.EINVALID, field: "colour"},
			{name: "server-set field", method: "POST", path: "/api/v1/spaces", token: e.admin, body: map[string]any{"name": "x", "id": 5}, status: 400, code: ipdesk.EINVALID, field: "id"},
			{name: "missing required field", method: "POST", path: "/api/v1/prefixes", token: e.admin, body: map[string]any{"space_id": sp}, status: 400, code: ipdesk.EINVALID, field: "prefix"},
			{name: "wrong type", method: "POST", path: "/api/v1/prefixes", token: e.admin, body: map[string]any{"space_id": sp, "prefix": "10.9.0.0/24", "vlan": "ten"}, status: 400, code: ipdesk.EINVALID, field: "vlan"},
			{name: "wrong type in patch", method: "PATCH", path: subnetPath, token: e.admin, body: map[string]any{"dhcp": "yes"}, status: 400, code: ipdesk.EINVALID, field: "dhcp"},
			{name: "bad prefix text", method: "POST", path: "/api/v1/prefixes", token: e.admin, body: map[string]any{"space_id": sp, "prefix": "10.9.0.0/99"}, status: 400, code: ipdesk.EINVALID, field: "prefix"},
			{name: "host bits set", method: "POST", path: "/api/v1/prefixes", token: e.admin, body: map[string]any{"space_id": sp, "prefix": "10.9.0.1/24"}, status: 400, code: ipdesk.EINVALID, field: "prefix"},
			{name: "bad gateway", method: "PATCH", path: subnetPath, token: e.admin, body: map[string]any{"gateway": "10.1.0.999"}, status: 400, code: ipdesk.EINVALID, field: "gateway"},
			{name: "gateway outside", method: "PATCH", path: subnetPath, token: e.admin, body: map[string]any{"gateway": "10.7.0.1"}, status: 400, code: ipdesk.EINVALID, field: "gateway"},
			{name: "bad mac", method: "POST", path: "/api/v1/addresses", token: e.admin, body: map[string]any{"space_id": sp, "address": "10.1.0.20", "mac": "00:11:22"}, status: 400, code: ipdesk.EINVALID, field: "mac"},
			{name: "bad hostname", method: "POST", path: "/api/v1/addresses", token: e.admin, body: map[string]any{"space_id": sp, "address": "10.1.0.20", "hostname": "pc_1"}, status: 400, code: ipdesk.EINVALID, field: "hostname"},
			{name: "address without space", method: "POST", path: "/api/v1/addresses", token: e.admin, body: map[string]any{"address": "10.1.0.20"}, status: 400, code: ipdesk.EINVALID, field: "space_id"},
			{name: "address outside prefix_id", method: "POST", path: "/api/v1/addresses", token: e.admin, body: map[string]any{"prefix_id": subnet.ID, "address": "10.3.0.20"}, status: 400, code: ipdesk.EINVALID, field: "address"},
			{name: "bad location kind", method: "POST", path: "/api/v1/locations", token: e.admin, body: map[string]any{"kind": "planet", "name": "Earth"}, status: 400, code: ipdesk.EINVALID, field: "kind"},
			{name: "bad prefix_length", method: "POST", path: path("/api/v1/prefixes/%d/available-prefixes", container.ID), token: e.admin, body: map[string]any{"prefix_length": 8}, status: 400, code: ipdesk.EINVALID, field: "prefix_length"},
			{name: "missing prefix_length", method: "POST", path: path("/api/v1/prefixes/%d/available-prefixes", container.ID), token: e.admin, body: map[string]any{}, status: 400, code: ipdesk.EINVALID, field: "prefix_length"},
			{name: "bad from", method: "POST", path: subnetPath + "/available-addresses", token: e.admin, body: map[string]any{"from": "nowhere"}, status: 400, code: ipdesk.EINVALID, field: "from"},
			{name: "invalid UTF-8", method: "POST", path: "/api/v1/spaces", token: e.admin, body: "{\"name\": \"M\xfcller\"}", status: 400, code: ipdesk.EINVALID, says: "not valid UTF-8 (byte 0xfc at offset 11)"},
			{name: "lone surrogate escape", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `{"name": "x\ud800y"}`, status: 400, code: ipdesk.EINVALID, says: `\ud800 at offset 11 that is half a UTF-16 surrogate pair`},
			{name: "lone low surrogate escape", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `{"name": "\"\udc00"}`, status: 400, code: ipdesk.EINVALID, says: `\udc00 at offset 12`},
			{name: "duplicate key", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `{"name": "x", "description": "d", "name": "y"}`, status: 400, code: ipdesk.EINVALID, field: "name", says: `the key "name" twice`},
			{name: "duplicate key by escape", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `{"name": "x", "n\u0061me": "y"}`, status: 400, code: ipdesk.EINVALID, field: "name", says: `the key "name" twice`},
			{name: "duplicate nested key", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `{"name": "x", "description": "d", "tags": [{"a": 1, "a": 2}]}`, status: 400, code: ipdesk.EINVALID, field: "tags.a", says: `the key "tags.a" twice`},
			{name: "malformed If-Match", method: "PATCH", path: spacePath, token: e.admin, body: map[string]any{"description": "x"}, headers: []string{"If-Match", "version-1"}, status: 400, code: ipdesk.EINVALID, field: "If-Match"},

			// 409: duplicates, overlaps, things still in use.
			{name: "duplicate space name", method: "POST", path: "/api/v1/spaces", token: e.admin, body: map[string]any{"name": "campus"}, status: 409, code: ipdesk.ECONFLICT},
			{name: "overlapping subnet", method: "POST", path: "/api/v1/prefixes", token: e.admin, body: map[string]any{"space_id": sp, "prefix": "10.1.0.128/25", "kind": "subnet"}, status: 409, code: ipdesk.ECONFLICT},
			{name: "duplicate prefix", method: "POST", path: "/api/v1/prefixes", token: e.admin, body: map[string]any{"space_id": sp, "prefix": "10.1.0.0/24", "kind": "subnet"}, status: 409, code: ipdesk.ECONFLICT},
			{name: "duplicate address", method: "POST", path: "/api/v1/addresses", token: e.admin, body: map[string]any{"space_id": sp, "address": "10.1.0.10"}, status: 409, code: ipdesk.ECONFLICT},
			{name: "space still in use", method: "DELETE", path: spacePath, token: e.admin, status: 409, code: ipdesk.ECONFLICT},
			{name: "subnet still in use", method: "DELETE", path: subnetPath, token: e.admin, status: 409, code: ipdesk.ECONFLICT},

			// 412: stale If-Match, weak tags.
			{name: "stale If-Match on patch", method: "PATCH", path: spacePath, token: e.admin, body: map[string]any{"description": "x"}, headers: []string{"If-Match", `"41"`}, status: 412, code: ipdesk.EPRECONDITION},
			{name: "weak If-Match", method: "PATCH", path: spacePath, token: e.admin, body: map[string]any{"description": "x"}, headers: []string{"If-Match", `W/"1"`}, status: 412, code: ipdesk.EPRECONDITION},
			{name: "stale If-Match on delete", method: "DELETE", path: path("/api/v1/spaces/%d", other), token: e.admin, headers: []string{"If-Match", `"41"`}, status: 412, code: ipdesk.EPRECONDITION},
			{name: "stale If-Match on address", method: "PATCH", path: path("/api/v1/addresses/%d", addr.ID), token: e.admin, body: map[string]any{"owner": "x"}, headers: []string{"If-Match", `"41"`}, status: 412, code: ipdesk.EPRECONDITION},

			// 413 and 415.
			{name: "huge body", method: "POST", path: "/api/v1/spaces", token: e.admin, body: huge, status: 413, code: eTooLarge},
			{name: "text body", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `{"name": "x"}`, headers: []string{"Content-Type", "text/plain"}, status: 415, code: eUnsupportedMediaType, says: `Content-Type "text/plain" is not supported`},
			{name: "body without Content-Type", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `{"name": "x"}`, headers: []string{"Content-Type", ""}, status: 415, code: eUnsupportedMediaType, says: "no Content-Type"},
			{name: "latin-1 JSON", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `{"name": "x"}`, headers: []string{"Content-Type", "application/json; charset=iso-8859-1"}, status: 415, code: eUnsupportedMediaType, says: `charset "iso-8859-1"`},
			{name: "form body", method: "POST", path: "/api/v1/spaces", token: e.admin, body: `name=x`, headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 415, code: eUnsupportedMediaType},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(tc.method, tc.path, tc.token, tc.body, tc.headers...)
				if r.code != tc.status {
					t.Fatalf("status %d, want %d; body: %.300s", r.code, tc.status, r.body)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
				got := r.apiError(t)
				t.Logf("%d %s field=%q: %s", r.code, got.Code, got.Field, got.Message)
				if got.Code != tc.code {
					t.Errorf("code %q, want %q (message %q)", got.Code, tc.code, got.Message)
				}
				if tc.field != "" && got.Field != tc.field {
					t.Errorf("field %q, want %q (message %q)", got.Field, tc.field, got.Message)
				}
				if got.Message == "" {
					t.Error("empty message")
				}
				if !strings.Contains(got.Message, tc.says) {
					t.Errorf("message %q does not say %q", got.Message, tc.says)
				}
				switch tc.status {
				case 401:
					if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
						t.Errorf("WWW-Authenticate %q, want a Bearer challenge", h)
					}
				case 405:
					if r.header.Get("Allow") == "" {
						t.Error("405 without Allow header")
					}
				}
			})
		}

		// The failed requests changed nothing.
		var spaces listResponse[ipdesk.Space]
		e.must(200, "GET", "/api/v1/spaces", e.admin, nil, &spaces)
		if spaces.Count != 2 {
			t.Errorf("after the failed requests there are %d spaces, want 2", spaces.Count)
		}
		var s1 ipdesk.Space
		e.must(200, "GET", spacePath, e.admin, nil, &s1)
		if s1.Version != 1 || s1.Description != "" {
			t.Errorf("space after failed changes: %+v", s1)
		}
	})
}

// TestErrorMessages checks that bad input is named with its value.
func TestErrorMessages(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		sp := e.space("campus")
		tests := []struct {
			method, path string
			body         any
			contains     []string
		}{
			{"GET", "/api/v1/prefixes?contains=10.1.0.300", nil, []string{"contains", `"10.1.0.300"`}},
			{"GET", "/api/v1/spaces?limit=ten", nil, []string{"limit", `"ten"`}},
			{"GET", "/api/v1/spaces?nmae=x", nil, []string{`"nmae"`, "name"}},
			{"POST", "/api/v1/spaces", map[string]any{"name": "x", "colour": "red"}, []string{`"colour"`, "name, description"}},
			{"POST", "/api/v1/prefixes", map[string]any{"space_id": sp, "prefix": "10.9.0.0/24", "vlan": "ten"}, []string{`"vlan"`, "whole number", "string"}},
			{"POST", "/api/v1/prefixes", map[string]any{"space_id": sp, "prefix": "10.9.0.0/24", "gateway": "10.9.0.256"}, []string{`"gateway"`, "10.9.0.256", "IP address"}},
			{"POST", "/api/v1/spaces", `{"name": }`, []string{"not valid JSON", "byte"}},
		}
		for _, tc := range tests {
			r := e.do(tc.method, tc.path, e.admin, tc.body)
			if r.code != 400 {
				t.Errorf("%s %s: status %d, want 400", tc.method, tc.path, r.code)
				continue
			}
			msg := r.apiError(t).Message
			for _, want := range tc.contains {
				if !strings.Contains(msg, want) {
					t.Errorf("%s %s: message %q does not contain %q", tc.method, tc.path, msg, want)
				}
			}
		}
	})
}

// TestPublicEndpoints needs no token.
func TestPublicEndpoints(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, "GET", "/healthz", "", nil, nil)
	if string(r.body) != "ok\n" {
		t.Errorf("healthz body %q", r.body)
	}
	r = e.must(200, "GET", "/api/v1/openapi.json", "", nil, nil)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("openapi.json Content-Type %q", ct)
	}
}

// TestHealthzDatabaseDown answers 503 when the database is closed.
func TestHealthzDatabaseDown(t *testing.T) {
	e := newEnv(t)
	e.db.Close()
	r := e.do("GET", "/healthz", "", nil)
	if r.code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", r.code)
	}
}

// TestInternalErrorIsGeneric: a fault of the database is logged in detail
// and answered without its details.
func TestInternalErrorIsGeneric(t *testing.T) {
	e := newEnv(t)
	sp := e.space("campus")
	// A closed database makes the store fail with a driver error, which
	// must not reach the client.
	token := e.admin
	e.db.Close()
	r := e.do("GET", path("/api/v1/spaces/%d", sp), token, nil)
	if r.code < 500 {
		t.Fatalf("status %d, want 5xx", r.code)
	}
	got := r.apiError(t)
	if strings.Contains(strings.ToLower(got.Message), "sql") || strings.Contains(got.Message, "closed") {
		t.Errorf("internal message leaks details: %q", got.Message)
	}
	if !strings.Contains(e.logs.String(), "error=") {
		t.Errorf("internal error was not logged:\n%s", e.logs.String())
	}
}

// TestMe answers with the caller.
func TestMe(t *testing.T) {
	e := newEnv(t)
	var u ipdesk.User
	r := e.must(200, "GET", "/api/v1/me", e.user, nil, &u)
	if u.Name != "reader" || u.Admin {
		t.Errorf("me = %+v", u)
	}
	if r.header.Get("ETag") != etag(u.Version) {
		t.Errorf("ETag %q, want %q", r.header.Get("ETag"), etag(u.Version))
	}
}

// TestAuditRecordsActor: changes made through the API are recorded under
// the token's user, and the audit list filters by actor and object.
func TestAuditRecordsActor(t *testing.T) {
	e := newEnv(t)
	sp := e.space("campus")
	e.must(200, "PATCH", path("/api/v1/spaces/%d", sp), e.admin, map[string]any{"description": "main site"}, nil)
	var list listResponse[ipdesk.AuditEntry]
	e.must(200, "GET", path("/api/v1/audit?actor=admin&object_type=space&object_id=%d", sp), e.user, nil, &list)
	if list.Count != 2 {
		t.Fatalf("audit entries: %d, want 2 (create, update): %+v", list.Count, list.Results)
	}
	for _, a := range list.Results {
		if a.Actor != "admin" || a.ObjectID != sp {
			t.Errorf("entry %+v", a)
		}
	}
	if list.Results[0].Action != ipdesk.ActionUpdate {
		t.Errorf("newest entry is %q, want update", list.Results[0].Action)
	}
	e.must(200, "GET", "/api/v1/audit?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z", e.user, nil, &list)
	if list.Count < 2 {
		t.Errorf("audit since/until: %d entries", list.Count)
	}
	e.must(200, "GET", "/api/v1/audit?until=2000-01-01T00:00:00Z", e.user, nil, &list)
	if list.Count != 0 {
		t.Errorf("audit until 2000: %d entries", list.Count)
	}
}

// TestPagination pages through a list.
func TestPagination(t *testing.T) {
	e := newEnv(t)
	for i := range 7 {
		e.space("space-" + strconv.Itoa(i))
	}
	var seen []string
	for _, offset := range []int{0, 3, 6} {
		var page listResponse[ipdesk.Space]
		e.must(200, "GET", path("/api/v1/spaces?limit=3&offset=%d", offset), e.user, nil, &page)
		if page.Count != 7 || page.Offset != offset || page.Limit != 3 {
			t.Errorf("offset %d: count %d offset %d limit %d", offset, page.Count, page.Offset, page.Limit)
		}
		want := min(3, 7-offset)
		if len(page.Results) != want {
			t.Errorf("offset %d: %d results, want %d", offset, len(page.Results), want)
		}
		for _, s := range page.Results {
			seen = append(seen, s.Name)
		}
	}
	for i := range seen {
		if i > 0 && seen[i-1] >= seen[i] {
			t.Errorf("pages overlap or are out of order: %v", seen)
		}
	}
	var page listResponse[ipdesk.Space]
	e.must(200, "GET", "/api/v1/spaces?offset=100", e.user, nil, &page)
	if page.Count != 7 || len(page.Results) != 0 || page.Results == nil {
		t.Errorf("past the end: %+v", page)
	}
	r := e.must(200, "GET", "/api/v1/spaces?limit=5000", e.user, nil, &page)
	if page.Limit != ipdesk.MaxLimit {
		t.Errorf("limit 5000 answered with limit %d, want %d", page.Limit, ipdesk.MaxLimit)
	}
	if !strings.Contains(string(r.body), `"results":[`) {
		t.Errorf("results is not an array: %s", r.body)
	}
	e.must(200, "GET", "/api/v1/spaces", e.user, nil, &page)
	if page.Limit != ipdesk.DefaultLimit || page.Offset != 0 {
		t.Errorf("default page: offset %d limit %d", page.Offset, page.Limit)
	}
	// Access levels are paged by the server too.
	var levels listResponse[ipdesk.AccessLevel]
	e.must(200, "GET", "/api/v1/access-levels?offset=1&limit=2", e.user, nil, &levels)
	if levels.Count != len(ipdesk.DefaultAccessLevels) || len(levels.Results) != 2 || levels.Results[0].Level != 1 {
		t.Errorf("access levels page: %+v", levels)
	}
}

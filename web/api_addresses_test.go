package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ipdesk"
)

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// TestAddressSearch finds a host by its MAC in every accepted form, with
// ?q= and with ?mac=, and by the other filters.
func TestAddressSearch(t *testing.T) {
	e := newEnv(t)
	sp := e.space("campus")
	subnet := e.prefix(sp, "10.1.0.0/24", ipdesk.PrefixSubnet)
	e.prefix(sp, "10.2.0.0/24", ipdesk.PrefixSubnet)
	var site, room ipdesk.Location
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "site", "name": "Main"}, &site)
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "room", "name": "Z303", "parent_id": site.ID, "phones": []string{"+49 30 1234-303"}}, &room)
	hosts := []map[string]any{
		{"space_id": sp, "address": "10.1.0.10", "hostname": "z303c1", "mac": "00:1a:2b:3c:4d:5e", "owner": "Ada Lovelace", "phone": "303", "location_id": room.ID, "access_level": 2, "dhcp_reservation": true},
		{"space_id": sp, "address": "10.1.0.11", "hostname": "z303c2", "mac": "00:1a:2b:3c:4d:5f", "owner": "Alan Turing"},
		{"prefix_id": subnet.ID, "address": "10.1.0.12", "hostname": "printer"},
		{"space_id": sp, "address": "10.2.0.10", "hostname": "server", "access_level": 3},
	}
	for _, h := range hosts {
		e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, h, nil)
	}

	for _, mac := range []string{"00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e", "001a2b3c4d5e", "00:1A:2B:3C:4D:5E"} {
		for _, param := range []string{"q", "mac"} {
			var list listResponse[ipdesk.Address]
			e.must(200, "GET", "/api/v1/addresses?"+param+"="+url.QueryEscape(mac), e.user, nil, &list)
			if list.Count != 1 || len(list.Results) != 1 || list.Results[0].Hostname != "z303c1" {
				t.Errorf("?%s=%s found %d: %+v", param, mac, list.Count, list.Results)
			}
		}
	}

	tests := []struct {
		query string
		want  []string // host names in address order
	}{
		{"q=10.1.0.", []string{"z303c1", "z303c2", "printer"}},
		{"q=10.1.0.11", []string{"z303c2"}},
		{"q=" + url.QueryEscape("10.2.0.0/16"), []string{"server"}},
		{"q=turing", []string{"z303c2"}},
		{"q=303", []string{"z303c1", "z303c2"}},
		{"q=printer", []string{"printer"}},
		{"address=10.1.0.11", []string{"z303c2"}},
		{"hostname=SERVER", []string{"server"}},
		{path("prefix=%d", subnet.ID), []string{"z303c1", "z303c2", "printer"}},
		{"prefix=" + url.QueryEscape("10.2.0.0/16"), []string{"server"}},
		{path("space=%d&access_level=3", sp), []string{"server"}},
		{path("location=%d", room.ID), []string{"z303c1"}},
		{"dhcp=true", []string{"z303c1"}},
		{"dhcp=false&sort=-hostname", []string{"z303c2", "server", "printer"}},
		{"sort=hostname", []string{"printer", "server", "z303c1", "z303c2"}},
		{"q=nothing-like-this", nil},
	}
	for _, tc := range tests {
		var list listResponse[ipdesk.Address]
		e.must(200, "GET", "/api/v1/addresses?"+tc.query, e.user, nil, &list)
		var got []string
		for _, a := range list.Results {
			got = append(got, a.Hostname)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") || list.Count != len(tc.want) {
			t.Errorf("?%s: got %v (count %d), want %v", tc.query, got, list.Count, tc.want)
		}
	}
}

// TestAddressLifecycle creates, reads, changes (conditionally) and deletes
// an address; "" clears the MAC.
func TestAddressLifecycle(t *testing.T) {
	e := newEnv(t)
	sp := e.space("campus")
	e.prefix(sp, "10.1.0.0/24", ipdesk.PrefixSubnet)
	var a addressResult
	r := e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin,
		map[string]any{"space_id": sp, "address": "10.1.0.10", "hostname": "pc1", "mac": "aabb.cc00.0001"}, &a)
	tag := r.header.Get("ETag")
	if tag != `"1"` {
		t.Fatalf("ETag of a new address %q", tag)
	}
	url := addressURL(a.ID)

	// A second host with the same name is accepted with a warning.
	var dup addressResult
	e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin,
		map[string]any{"space_id": sp, "address": "10.1.0.11", "hostname": "PC1"}, &dup)
	if len(dup.Warnings) != 1 || dup.Warnings[0].Code != ipdesk.WDuplicateHostname {
		t.Errorf("duplicate hostname warnings: %+v", dup.Warnings)
	}

	// GET with If-None-Match of the current version: 304.
	if r := e.do("GET", url, e.user, nil, "If-None-Match", tag); r.code != http.StatusNotModified {
		t.Errorf("If-None-Match current: %d", r.code)
	}

	var upd addressResult
	r = e.must(200, "PATCH", url, e.admin, map[string]any{"mac": "", "owner": "Grace"}, &upd, "If-Match", tag)
	if !upd.MAC.IsZero() || upd.Owner != "Grace" || upd.Hostname != "pc1" || upd.Version != 2 {
		t.Errorf("after PATCH: %+v", upd.Address)
	}
	if r.header.Get("ETag") != `"2"` {
		t.Errorf("ETag after PATCH %q", r.header.Get("ETag"))
	}
	if len(upd.Warnings) != 1 || upd.Warnings[0].Code != ipdesk.WDuplicateHostname {
		t.Errorf("PATCH answer warnings: %+v", upd.Warnings)
	}
	if r := e.must(200, "PATCH", spaceURL(sp), e.admin, map[string]any{"description": "x"}, nil); !strings.Contains(string(r.body), `"warnings":[]`) {
		t.Errorf("PATCH answer without warnings array: %s", r.body)
	}
	// The old tag is stale now; "*" is unconditional.
	if r := e.do("PATCH", url, e.admin, map[string]any{"owner": "x"}, "If-Match", tag); r.code != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match: %d %s", r.code, r.body)
	}
	e.must(200, "PATCH", url, e.admin, map[string]any{"description": "desk 4"}, nil, "If-Match", "*")
	e.must(200, "PATCH", url, e.admin, map[string]any{"status": "reserved"}, nil)

	var got ipdesk.Address
	e.must(200, "GET", url, e.user, nil, &got)
	if got.Version != 4 || got.Owner != "Grace" || got.Description != "desk 4" || got.Status != ipdesk.StatusReserved {
		t.Errorf("after changes: %+v", got)
	}

	if r := e.do("DELETE", url, e.admin, nil, "If-Match", `"3"`); r.code != http.StatusPreconditionFailed {
		t.Errorf("DELETE with stale If-Match: %d", r.code)
	}
	if r := e.do("DELETE", url, e.admin, nil, "If-Match", `"4"`); r.code != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("DELETE: %d %s", r.code, r.body)
	}
	if r := e.do("GET", url, e.user, nil); r.code != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d", r.code)
	}
}

// TestPrefixLifecycle: creates with an overlap warning across spaces,
// changes the gateway and clears it with "".
func TestPrefixLifecycle(t *testing.T) {
	e := newEnv(t)
	a := e.space("campus")
	b := e.space("lab")
	e.prefix(a, "10.1.0.0/24", ipdesk.PrefixSubnet)
	var p prefixResult
	e.must(http.StatusCreated, "POST", "/api/v1/prefixes", e.admin, map[string]any{"space_id": b, "prefix": "10.1.0.0/24", "dhcp": true}, &p)
	if len(p.Warnings) != 1 || p.Warnings[0].Code != ipdesk.WOverlapOtherSpace {
		t.Errorf("overlap across spaces: warnings %+v", p.Warnings)
	}
	url := prefixURL(p.ID)
	var upd prefixResult
	e.must(200, "PATCH", url, e.admin, map[string]any{"gateway": "10.1.0.254"}, &upd)
	if upd.Gateway.String() != "10.1.0.254" || !upd.DHCP {
		t.Errorf("after setting gateway: %+v", upd.Prefix)
	}
	e.must(200, "PATCH", url, e.admin, map[string]any{"gateway": ""}, &upd)
	if upd.Gateway.IsValid() || upd.Version != 3 {
		t.Errorf("after clearing gateway: %+v", upd.Prefix)
	}

	var list listResponse[ipdesk.Prefix]
	e.must(200, "GET", "/api/v1/prefixes?contains=10.1.0.7", e.user, nil, &list)
	if list.Count != 2 {
		t.Errorf("?contains: %d", list.Count)
	}
	e.must(200, "GET", path("/api/v1/prefixes?contains=10.1.0.7&space=%d", b), e.user, nil, &list)
	if list.Count != 1 || list.Results[0].ID != p.ID {
		t.Errorf("?contains&space: %+v", list.Results)
	}
	e.must(200, "GET", "/api/v1/prefixes?within=10.0.0.0/8&kind=container", e.user, nil, &list)
	if list.Count != 0 {
		t.Errorf("?within&kind=container: %d", list.Count)
	}

	// A cascading delete of the space takes its prefixes along.
	e.must(http.StatusNoContent, "DELETE", path("/api/v1/spaces/%d?cascade=true", b), e.admin, nil, nil)
	if r := e.do("GET", url, e.user, nil); r.code != http.StatusNotFound {
		t.Errorf("prefix after cascading delete of its space: %d", r.code)
	}
}

// TestLocationsAndAccessLevels covers the remaining resources.
func TestLocationsAndAccessLevels(t *testing.T) {
	e := newEnv(t)
	var site, room locationResult
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "site", "name": "Main"}, &site)
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "room", "name": "Z101", "parent_id": site.ID}, &room)
	var list listResponse[ipdesk.Location]
	e.must(200, "GET", path("/api/v1/locations?parent=%d&kind=room", site.ID), e.user, nil, &list)
	if list.Count != 1 || list.Results[0].Name != "Z101" {
		t.Errorf("rooms of site: %+v", list.Results)
	}
	var upd locationResult
	e.must(200, "PATCH", locationURL(room.ID), e.admin, map[string]any{"phones": []string{"101", "+49 30 101"}}, &upd, "If-Match", etag(room.Version))
	if len(upd.Phones) != 2 {
		t.Errorf("phones after PATCH: %v", upd.Phones)
	}
	if r := e.do("DELETE", locationURL(site.ID), e.admin, nil); r.code != http.StatusConflict {
		t.Errorf("delete of a site with rooms: %d %s", r.code, r.body)
	}
	e.must(http.StatusNoContent, "DELETE", locationURL(room.ID), e.admin, nil, nil)

	var lv accessLevelResult
	e.must(http.StatusCreated, "POST", "/api/v1/access-levels", e.admin, map[string]any{"level": 7, "name": "exam", "description": "exam mode"}, &lv)
	var got ipdesk.AccessLevel
	r := e.must(200, "GET", accessLevelURL(7), e.user, nil, &got)
	if got.Name != "exam" || r.header.Get("ETag") != etag(got.Version) {
		t.Errorf("access level %+v, ETag %q", got, r.header.Get("ETag"))
	}
	e.must(200, "PATCH", accessLevelURL(7), e.admin, map[string]any{"name": "exams"}, &lv)
	if r := e.do("POST", "/api/v1/access-levels", e.admin, map[string]any{"level": 7, "name": "again"}); r.code != http.StatusConflict {
		t.Errorf("duplicate level: %d %s", r.code, r.body)
	}
	e.must(http.StatusNoContent, "DELETE", accessLevelURL(7), e.admin, nil, nil, "If-Match", etag(lv.Version))
}

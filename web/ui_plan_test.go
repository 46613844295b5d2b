package web

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"ipdesk"
)

// Payloads tried in every text field the plan pages show.
const (
	xssTag  = `"><script>alert(1)</script>`
	xssAttr = `" onmouseover=x`
)

var (
	cellPattern    = regexp.MustCompile(`<td role="gridcell" class="c-([a-z]+)">`)
	mapCellPattern = regexp.MustCompile(`<a class="m l[0-5]"`)
)

// gridCells counts the grid's cells by state.
func gridCells(body []byte) (map[string]int, int) {
	out := map[string]int{}
	n := 0
	for _, m := range cellPattern.FindAllSubmatch(body, -1) {
		out[string(m[1])]++
		n++
	}
	return out, n
}

// flashCookie returns the flash cookie a response set, to follow it.
func (r *response) cookie(name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// follow fetches the page a redirect leads to, with the session and the
// flash message it left.
func (e *testEnv) follow(r *response, session *http.Cookie) *response {
	e.t.Helper()
	if r.code != http.StatusSeeOther {
		e.t.Fatalf("want a redirect, got %d: %s", r.code, r.body)
	}
	req := r.header.Get("Location")
	headers := []string{}
	if f := r.cookie(flashCookie); f != nil {
		headers = append(headers, "Cookie", flashCookie+"="+f.Value+"; "+sessionCookie+"="+session.Value)
		return e.page(req, nil, headers...)
	}
	return e.page(req, session)
}

func mustContain(t *testing.T, what string, body []byte, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(string(body), s) {
			t.Errorf("%s lacks %q", what, s)
		}
	}
}

func mustNotContain(t *testing.T, what string, body []byte, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(string(body), s) {
			t.Errorf("%s contains %q", what, s)
		}
	}
}

// TestPlanPagesAdmin: an administrator builds a plan through the forms:
// a space, a container, a subnet, the next free /24; bad input is shown
// beside its field with the typed value kept, and changes nothing.
func TestPlanPagesAdmin(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin", "password123")

	r := e.form("POST", "/spaces", c, url.Values{"name": {"Campus"}, "description": {"Main site"}})
	r = e.follow(r, c)
	if r.code != http.StatusOK {
		t.Fatalf("new space: %d", r.code)
	}
	mustContain(t, "the new space's page", r.body, "<h1>Campus</h1>", "Created: Campus", `action="/spaces/1/prefixes"`)

	// A bad name and a taken one, beside the field.
	r = e.form("POST", "/spaces", c, url.Values{"name": {"bad\nname"}, "description": {"kept"}})
	if r.code != http.StatusBadRequest {
		t.Fatalf("bad space name: %d", r.code)
	}
	mustContain(t, "the form with a bad name", r.body, `id="space-name" name="name" value="bad`, `aria-invalid="true" aria-describedby="space-name-error"`, `id="space-name-error"`, `value="kept"`)
	r = e.form("POST", "/spaces", c, url.Values{"name": {"Campus"}})
	if r.code != http.StatusConflict || !strings.Contains(string(r.body), `id="space-name-error"`) {
		t.Fatalf("taken space name: %d %s", r.code, r.body)
	}

	space := "/spaces/1/prefixes"
	r = e.follow(e.form("POST", space, c, url.Values{"prefix": {"10.20.0.0/16"}, "kind": {"container"}, "description": {"Building A"}}), c)
	mustContain(t, "the container's page", r.body, "10.20.0.0/16", `id="allocate"`, "Created: 10.20.0.0/16")
	r = e.follow(e.form("POST", space, c, url.Values{"prefix": {"10.20.1.0/24"}, "kind": {"subnet"}, "gateway": {"10.20.1.1"}, "vlan": {"101"}, "dhcp": {"on"}}), c)
	mustContain(t, "the subnet's page", r.body, `<table class="addr-grid"`, "10.20.1.1", "101")

	// Bad prefixes: each error beside its field, the values kept.
	for _, c2 := range []struct {
		form  url.Values
		field string
		code  int
	}{
		{url.Values{"prefix": {"10.20.1.7/24"}, "description": {"typo"}}, "p-prefix", http.StatusBadRequest},
		{url.Values{"prefix": {"bogus"}}, "p-prefix", http.StatusBadRequest},
		{url.Values{"prefix": {"10.20.1.0/24"}}, "p-prefix", http.StatusConflict},
		{url.Values{"prefix": {"10.20.2.0/24"}, "gateway": {"10.99.0.1"}}, "p-gateway", http.StatusBadRequest},
		{url.Values{"prefix": {"10.20.2.0/24"}, "vlan": {"5000"}}, "p-vlan", http.StatusBadRequest},
		{url.Values{"prefix": {"10.20.2.0/24"}, "vlan": {"x"}}, "p-vlan", http.StatusBadRequest},
		{url.Values{"prefix": {"10.20.2.0/24"}, "kind": {"zone"}}, "p-kind", http.StatusBadRequest},
	} {
		r := e.form("POST", space, c, c2.form)
		if r.code != c2.code {
			t.Errorf("%v: %d, want %d", c2.form, r.code, c2.code)
		}
		mustContain(t, c2.field+" error", r.body, `id="`+c2.field+`-error"`, `value="`+c2.form.Get("prefix")+`"`)
	}
	if _, n, _ := e.db.FindPrefixes(context.Background(), ipdesk.PrefixFilter{}); n != 2 {
		t.Fatalf("%d prefixes after the refused forms, want 2", n)
	}

	// The next free /24 of the container, then a length that does not fit.
	r = e.form("POST", "/prefixes/1/allocate", c, url.Values{"prefix_length": {"24"}, "kind": {"subnet"}, "description": {"next"}})
	r = e.follow(r, c)
	mustContain(t, "the allocated subnet", r.body, "<h1>10.20.0.0/24", "Created: 10.20.0.0/24")
	r = e.form("POST", "/prefixes/1/allocate", c, url.Values{"prefix_length": {"8"}})
	if r.code != http.StatusBadRequest {
		t.Fatalf("allocate a /8 in a /16: %d", r.code)
	}
	mustContain(t, "the allocate error", r.body, `id="a-bits-error"`, `value="8"`)
	if r := e.form("POST", "/prefixes/2/allocate", c, url.Values{"prefix_length": {"28"}}); r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "only containers give out") {
		t.Fatalf("allocate in a subnet: %d", r.code)
	}

	// The tree nests the subnets in the container.
	r = e.page("/spaces/1", c)
	mustContain(t, "the tree", r.body, `<details open><summary class="row">`, `class="pfx d1"><a href="/prefixes/2">10.20.1.0/24`, "3 prefixes")
	// Filtering by VLAN.
	r = e.page("/spaces/1?q=101", c)
	mustContain(t, "the filtered tree", r.body, "10.20.1.0/24", "1 prefix")
	mustNotContain(t, "the filtered tree", r.body, "10.20.0.0/24")

	// A prefix in another space overlapping this one: the warning is
	// shown after the creation.
	e.form("POST", "/spaces", c, url.Values{"name": {"Lab"}})
	r = e.follow(e.form("POST", "/spaces/2/prefixes", c, url.Values{"prefix": {"10.20.1.0/25"}}), c)
	mustContain(t, "the overlapping prefix", r.body, "Created, with a warning: prefix 10.20.1.0/25 overlaps prefixes of other spaces")

	// The spaces list and the dashboard show the top prefixes with their use.
	r = e.page("/spaces", c)
	mustContain(t, "the spaces list", r.body, `<a href="/spaces/1">Campus</a>`, `<a href="/prefixes/1">10.20.0.0/16</a>`, `<meter`, `/spaces/1/edit`, `action="/spaces"`)
	r = e.page("/", c)
	mustContain(t, "the dashboard", r.body, `<a href="/prefixes/1">10.20.0.0/16</a>`, "0.8 %")
}

// TestPlanEditDelete: edit and delete forms for spaces and prefixes, the
// cascade option, and a stale version.
func TestPlanEditDelete(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin", "password123")
	sp := e.space("S")
	box := e.prefix(sp, "10.0.0.0/16", ipdesk.PrefixContainer)
	sub := e.prefix(sp, "10.0.1.0/24", ipdesk.PrefixSubnet)
	e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.0.1.5"}, nil)

	r := e.page(path("/prefixes/%d/edit", sub.ID), c)
	mustContain(t, "the edit page", r.body, `name="version" value="1"`, `<option value="subnet" selected>`)
	r = e.form("POST", path("/prefixes/%d/edit", sub.ID), c, url.Values{"kind": {"subnet"}, "description": {"Room 7"}, "gateway": {"10.0.1.254"}, "vlan": {"7"}, "version": {"1"}})
	r = e.follow(r, c)
	mustContain(t, "the changed prefix", r.body, "Saved.", "Room 7", "10.0.1.254")
	// The old version is stale now: the form says so and keeps the input.
	r = e.form("POST", path("/prefixes/%d/edit", sub.ID), c, url.Values{"kind": {"subnet"}, "description": {"Room 8"}, "version": {"1"}})
	if r.code != http.StatusPreconditionFailed {
		t.Fatalf("stale edit: %d", r.code)
	}
	mustContain(t, "the stale form", r.body, "Someone else changed this meanwhile", `value="Room 8"`, `name="version" value="2"`)
	// A subnet with addresses cannot become a container: beside the kind.
	r = e.form("POST", path("/prefixes/%d/edit", sub.ID), c, url.Values{"kind": {"container"}, "version": {"2"}})
	mustContain(t, "the kind error", r.body, `id="e-kind-error"`, "still holds 1 addresses")
	// A gateway outside the subnet.
	r = e.form("POST", path("/prefixes/%d/edit", sub.ID), c, url.Values{"kind": {"subnet"}, "gateway": {"10.9.9.9"}, "version": {"2"}})
	if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), `id="e-gateway-error"`) {
		t.Fatalf("gateway outside: %d", r.code)
	}

	// Deleting the container needs the cascade.
	r = e.form("POST", path("/prefixes/%d/delete", box.ID), c, url.Values{})
	if r.code != http.StatusConflict {
		t.Fatalf("delete a container with children: %d", r.code)
	}
	mustContain(t, "the delete error", r.body, `id="prefix-delete-error"`, `aria-describedby="prefix-delete-error"`)
	r = e.form("POST", path("/prefixes/%d/delete", sub.ID), c, url.Values{"cascade": {"on"}})
	if loc := r.header.Get("Location"); r.code != http.StatusSeeOther || loc != path("/prefixes/%d", box.ID) {
		t.Fatalf("delete the subnet: %d to %q", r.code, loc)
	}

	// The space: rename, a bad name, delete with cascade.
	r = e.form("POST", path("/spaces/%d/edit", sp), c, url.Values{"name": {"School"}, "description": {"d"}, "version": {"1"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("rename the space: %d %s", r.code, r.body)
	}
	r = e.form("POST", path("/spaces/%d/edit", sp), c, url.Values{"name": {""}, "version": {"2"}})
	mustContain(t, "the empty name", r.body, `id="space-name-error"`)
	r = e.form("POST", path("/spaces/%d/delete", sp), c, url.Values{})
	if r.code != http.StatusConflict || !strings.Contains(string(r.body), `id="space-delete-error"`) {
		t.Fatalf("delete a space with prefixes: %d", r.code)
	}
	r = e.form("POST", path("/spaces/%d/delete", sp), c, url.Values{"cascade": {"on"}})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/spaces" {
		t.Fatalf("delete the space with cascade: %d", r.code)
	}
	if r := e.page(path("/spaces/%d", sp), c); r.code != http.StatusNotFound {
		t.Fatalf("the deleted space: %d", r.code)
	}
}

// TestPlanGrid24: the grid of a /24 has 256 cells: network, broadcast,
// gateway, used, reserved, deprecated and free, each with its class and
// letter, used cells linking to the host, free ones to the claim form.
func TestPlanGrid24(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin", "password123")
	sp := e.space("S")
	sub := e.prefix(sp, "10.1.1.0/24", ipdesk.PrefixSubnet, "gateway", "10.1.1.1")
	var a ipdesk.Address
	e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.1.1.10", "hostname": "pc10", "mac": "aa:bb:cc:dd:ee:10", "owner": "Anna"}, &a)
	e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.1.1.11", "status": "reserved"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.1.1.12", "status": "deprecated"}, nil)

	r := e.page(path("/prefixes/%d", sub.ID), c)
	if r.code != http.StatusOK {
		t.Fatalf("prefix page: %d", r.code)
	}
	counts, n := gridCells(r.body)
	want := map[string]int{"network": 1, "broadcast": 1, "gateway": 1, "used": 1, "reserved": 1, "deprecated": 1, "free": 250}
	if n != 256 {
		t.Fatalf("the grid of a /24 has %d cells", n)
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%d %s cells, want %d", counts[k], k, v)
		}
	}
	mustContain(t, "the grid", r.body,
		path(`<a class="cell" href="/hosts/%d" title="10.1.1.10 · used · pc10 · aa:bb:cc:dd:ee:10 · Anna"`, a.ID),
		`data-host="pc10" data-mac="aa:bb:cc:dd:ee:10" data-owner="Anna"`,
		`<span class="n">10</span><span class="l" aria-hidden="true">U</span>`,
		`<span class="l" aria-hidden="true">N</span>`, `<span class="l" aria-hidden="true">B</span>`, `<span class="l" aria-hidden="true">G</span>`,
		`data-claim="10.1.1.2"`, `#claim"`, `id="claim"`)
	mustNotContain(t, "a single-block grid", r.body, `class="block-map"`, `class="pager block-nav"`)
	// The letters follow the language.
	r = e.page(path("/prefixes/%d", sub.ID), c, "Cookie", langCookie+"=de; "+sessionCookie+"="+c.Value)
	mustContain(t, "the German grid", r.body, `<html lang="de">`, `aria-hidden="true">V</span>`, "vergeben")
	// A small subnet is one short block.
	small := e.prefix(sp, "10.1.2.0/29", ipdesk.PrefixSubnet)
	r = e.page(path("/prefixes/%d", small.ID), c)
	if _, n := gridCells(r.body); n != 8 {
		t.Fatalf("the grid of a /29 has %d cells", n)
	}
}

// TestPlanGrid16: a /16 is shown one /24 block at a time, with links to
// the neighbours, a jump to any address, a map of all 256 blocks and the
// list of stored addresses.
func TestPlanGrid16(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin", "password123")
	sp := e.space("S")
	sub := e.prefix(sp, "10.2.0.0/16", ipdesk.PrefixSubnet)
	for _, ip := range []string{"10.2.0.9", "10.2.5.7", "10.2.5.8", "10.2.255.1"} {
		e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": ip, "hostname": "h" + strings.ReplaceAll(ip, ".", "-")}, nil)
	}
	base := path("/prefixes/%d", sub.ID)
	r := e.page(base, c)
	counts, n := gridCells(r.body)
	if n != 256 || counts["network"] != 1 || counts["broadcast"] != 0 || counts["used"] != 1 {
		t.Fatalf("first block: %d cells %v", n, counts)
	}
	mustContain(t, "the first block", r.body, "Addresses 10.2.0.0/24", "block 1 of 256", `href="`+base+`?at=10.2.1.0" rel="next"`, `href="`+base+`?at=10.2.255.0">Last block`)
	mustNotContain(t, "the first block", r.body, `rel="prev"`)
	if m := len(mapCellPattern.FindAll(r.body, -1)); m != 256 {
		t.Fatalf("the block map has %d cells", m)
	}
	mustContain(t, "the block map", r.body, `title="10.2.5.0/24: 2 of 256 used"`, `title="10.2.0.0/24: 1 of 255 used" aria-label="10.2.0.0/24: 1 of 255 used" aria-current="true"`)
	mustContain(t, "the stored addresses", r.body, `href="`+base+`?at=10.2.5.7">10.2.5.7</a>`, "h10-2-255-1")
	mustNotContain(t, "a short list of stored addresses", r.body, "uf=")

	// A longer list is walked 50 at a time.
	var rows []*ipdesk.Address
	for i := 1; i <= 55; i++ {
		rows = append(rows, &ipdesk.Address{SpaceID: sp, Addr: netip.AddrFrom4([4]byte{10, 2, 9, byte(i)})})
	}
	if res, err := e.db.ImportAddresses(ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "t"}), rows, false); err != nil || len(res.Problems) > 0 {
		t.Fatal(err, res.Problems)
	}
	r = e.page(base, c)
	mustContain(t, "the first 50 stored addresses", r.body, ">10.2.9.47</a>", `?uf=10.2.9.48" rel="next"`)
	mustNotContain(t, "the first 50 stored addresses", r.body, ">10.2.9.48</a>", ">From the start<")
	r = e.page(base+"?uf=10.2.9.48", c)
	mustContain(t, "the next stored addresses", r.body, ">10.2.9.48</a>", ">10.2.255.1</a>", ">From the start<")
	mustNotContain(t, "the next stored addresses", r.body, ">10.2.9.47</a>", `rel="next">Next</a>`)

	r = e.page(base+"?at=10.2.5.200", c)
	counts, n = gridCells(r.body)
	if n != 256 || counts["used"] != 2 || counts["network"] != 0 {
		t.Fatalf("block 10.2.5.0/24: %d cells %v", n, counts)
	}
	mustContain(t, "block 6", r.body, "Addresses 10.2.5.0/24", "block 6 of 256", `?at=10.2.4.0" rel="prev"`, `?at=10.2.6.0" rel="next"`, `value="10.2.5.200"`)

	r = e.page(base+"?at=10.2.255.3", c)
	if counts, _ := gridCells(r.body); counts["broadcast"] != 1 {
		t.Fatalf("last block: %v", counts)
	}
	mustNotContain(t, "the last block", r.body, `rel="next">Next block`)

	// A jump outside the subnet or to no address: the error beside the
	// field, the first block shown.
	for _, at := range []string{"10.3.0.1", "nonsense" + xssTag} {
		r = e.page(base+"?at="+url.QueryEscape(at), c)
		if r.code != http.StatusBadRequest {
			t.Errorf("jump to %q: %d", at, r.code)
		}
		mustContain(t, "a bad jump", r.body, `id="jump-error"`, `aria-invalid="true" aria-describedby="jump-error"`, "Addresses 10.2.0.0/24")
		mustNotContain(t, "a bad jump", r.body, xssTag)
	}
}

// TestPlanGridIPv6: a /64 shows one block of 256 addresses, the blocks
// of its /112 around it, the stored addresses and the free ranges; never
// a cell per address of the subnet.
func TestPlanGridIPv6(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin", "password123")
	sp := e.space("S")
	sub := e.prefix(sp, "2001:db8:1::/64", ipdesk.PrefixSubnet, "gateway", "2001:db8:1::1")
	for _, ip := range []string{"2001:db8:1::10", "2001:db8:1::1:5", "2001:db8:1:0:ffff::1"} {
		e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": ip}, nil)
	}
	base := path("/prefixes/%d", sub.ID)
	r := e.page(base, c)
	counts, n := gridCells(r.body)
	if r.code != http.StatusOK || n != 256 || counts["gateway"] != 1 || counts["used"] != 1 || counts["network"] != 0 {
		t.Fatalf("first block of a /64: %d, %d cells %v", r.code, n, counts)
	}
	mustContain(t, "the /64", r.body, "Addresses 2001:db8:1::/120", "block 1 of 72057594037927936", "Blocks of 2001:db8:1::/112",
		"2^64", `?at=2001%3Adb8%3A1%3A%3A100" rel="next"`, ">2001:db8:1:0:ffff::1</a>", "Free ranges", "(about 2^64 addresses)")
	if m := len(mapCellPattern.FindAll(r.body, -1)); m != 256 {
		t.Fatalf("the block map of a /64 has %d cells", m)
	}
	if len(r.body) > 400_000 {
		t.Fatalf("the page of a /64 is %d bytes", len(r.body))
	}
	r = e.page(base+"?at=2001:db8:1:0:ffff::1", c)
	counts, _ = gridCells(r.body)
	mustContain(t, "a far block", r.body, "Addresses 2001:db8:1:0:ffff::/120", "Previous blocks")
	if counts["used"] != 1 {
		t.Fatalf("far block: %v", counts)
	}
}

// TestPlanClaim: claiming from the grid creates the host; bad input is
// shown beside its field with everything typed kept, and stores nothing.
func TestPlanClaim(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		c := e.login("admin", "password123")
		sp := e.space("S")
		sub := e.prefix(sp, "10.1.1.0/24", ipdesk.PrefixSubnet, "gateway", "10.1.1.1")
		claim := path("/prefixes/%d/claim", sub.ID)
		ctx := context.Background()

		// The link of a free cell opens the form filled in, without script.
		r := e.page(path("/prefixes/%d?at=10.1.1.0&claim=10.1.1.20", sub.ID), c)
		mustContain(t, "the claim link", r.body, `id="claim-address" name="address" value="10.1.1.20"`, path(`name="back" value="/prefixes/%d?at=10.1.1.0&amp;claim=10.1.1.20"`, sub.ID))

		r = e.form("POST", claim, c, url.Values{"address": {"10.1.1.20"}, "hostname": {"pc20"}, "mac": {"AA-BB-CC-00-00-20"}, "owner": {"Anna"}, "status": {"active"}, "dhcp_reservation": {"on"}})
		if loc := r.header.Get("Location"); r.code != http.StatusSeeOther || loc != path("/prefixes/%d?at=10.1.1.20", sub.ID) {
			t.Fatalf("claim: %d to %q %s", r.code, loc, r.body)
		}
		addr := netip.MustParseAddr("10.1.1.20")
		got, _, err := e.db.FindAddresses(ctx, ipdesk.AddressFilter{Addr: &addr})
		if err != nil || len(got) != 1 || got[0].Hostname != "pc20" || got[0].MAC.String() != "aa:bb:cc:00:00:20" || !got[0].DHCPReservation || got[0].PrefixID != sub.ID {
			t.Fatalf("claimed host %+v, %v", got, err)
		}
		r = e.follow(r, c)
		mustContain(t, "after the claim", r.body, "Address 10.1.1.20 claimed.", path(`<a class="cell" href="/hosts/%d"`, got[0].ID))
		if counts, _ := gridCells(r.body); counts["used"] != 1 {
			t.Fatalf("after the claim: %v", counts)
		}

		// The first free address: .2 (network .0 and gateway .1 are not).
		r = e.form("POST", claim, c, url.Values{"hostname": {"first"}, "first": {"1"}})
		if r.code != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "at=10.1.1.2") {
			t.Fatalf("claim the first free: %d %q", r.code, r.header.Get("Location"))
		}

		before := auditCountUI(t, e)
		for _, bad := range []struct {
			form  url.Values
			field string
			code  int
		}{
			{url.Values{"address": {"10.1.1.30"}, "hostname": {"pc30"}, "mac": {"not-a-mac"}, "owner": {"Kept Owner"}}, "mac", http.StatusBadRequest},
			{url.Values{"address": {"10.1.1.31"}, "hostname": {"bad_name"}, "owner": {"Kept Owner"}}, "hostname", http.StatusBadRequest},
			{url.Values{"address": {"10.1.2.5"}, "hostname": {"pc"}, "owner": {"Kept Owner"}}, "address", http.StatusBadRequest},
			{url.Values{"address": {"10.1.1.0"}, "owner": {"Kept Owner"}}, "address", http.StatusBadRequest},
			{url.Values{"address": {""}, "owner": {"Kept Owner"}}, "address", http.StatusBadRequest},
			{url.Values{"address": {"10.1.1.20"}, "owner": {"Kept Owner"}}, "address", http.StatusConflict},
			{url.Values{"address": {"10.1.1.33"}, "dhcp_reservation": {"on"}, "owner": {"Kept Owner"}}, "mac", http.StatusBadRequest},
			{url.Values{"address": {"10.1.1.34"}, "status": {"lost"}, "owner": {"Kept Owner"}}, "status", http.StatusBadRequest},
		} {
			r := e.form("POST", claim, c, bad.form)
			if r.code != bad.code {
				t.Errorf("%v: %d, want %d", bad.form, r.code, bad.code)
			}
			mustContain(t, "the "+bad.field+" error", r.body, `id="claim-`+bad.field+`-error"`, path(`name="back" value="/prefixes/%d"`, sub.ID), `aria-invalid="true" aria-describedby="claim-`+bad.field+`-error"`,
				`id="claim-owner" name="owner" value="Kept Owner"`, `<table class="addr-grid"`)
		}
		if n := auditCountUI(t, e); n != before {
			t.Fatalf("refused claims wrote %d audit entries", n-before)
		}
		// A container has no grid and takes no claims.
		box := e.prefix(sp, "10.8.0.0/16", ipdesk.PrefixContainer)
		if r := e.form("POST", path("/prefixes/%d/claim", box.ID), c, url.Values{"address": {"10.8.0.1"}}); r.code != http.StatusBadRequest {
			t.Fatalf("claim in a container: %d", r.code)
		}
	})
}

func auditCountUI(t *testing.T, e *testEnv) int {
	t.Helper()
	_, n, err := e.db.FindAuditEntries(context.Background(), ipdesk.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPlanPermissions: each user sees the part of the plan their groups
// may see, edit controls only where they may edit, and the server
// refuses forced changes elsewhere.
func TestPlanPermissions(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		w := newPermWorld(t, e)
		cookies := map[string]*http.Cookie{}
		for _, u := range []string{"admin", "reader", "viewer", "editor", "creator", "outsider"} {
			cookies[u] = e.login(u, "password123")
		}
		spaceA, spaceB := path("/spaces/%d", w.spaceA), path("/spaces/%d", w.spaceB)
		a1, a2, box := path("/prefixes/%d", w.subnetA1), path("/prefixes/%d", w.subnetA2), path("/prefixes/%d", w.container)
		status := func(user, p string) int { return e.page(p, cookies[user]).code }

		// What each may open.
		pages := []struct {
			path string
			want []int // admin, reader, viewer, editor, creator, outsider
		}{
			{"/spaces", []int{200, 200, 200, 200, 200, 200}},
			{spaceA, []int{200, 200, 200, 200, 404, 404}},
			{spaceB, []int{200, 200, 404, 404, 404, 404}},
			{box, []int{200, 200, 200, 404, 404, 404}},
			{a1, []int{200, 200, 200, 200, 404, 404}},
			{a2, []int{200, 200, 200, 404, 404, 404}},
			{spaceA + "/edit", []int{200, 403, 403, 403, 404, 404}},
			{a1 + "/edit", []int{200, 403, 403, 200, 404, 404}},
			{box + "/edit", []int{200, 403, 403, 404, 404, 404}},
		}
		users := []string{"admin", "reader", "viewer", "editor", "creator", "outsider"}
		for _, p := range pages {
			for i, u := range users {
				if got := status(u, p.path); got != p.want[i] {
					t.Errorf("%s GET %s: %d, want %d", u, p.path, got, p.want[i])
				}
			}
		}

		// The viewer sees space A whole, without a single edit control.
		for _, p := range []string{"/spaces", spaceA, box, a1} {
			r := e.page(p, cookies["viewer"])
			mustNotContain(t, "viewer's "+p, r.body, `method="post" action="/spaces`, `method="post" action="/prefixes`, "/edit\"", "data-claim", `id="claim"`, `id="allocate"`, `class="take"`)
		}
		r := e.page("/spaces", cookies["viewer"])
		mustContain(t, "viewer's spaces", r.body, spaceA)
		mustNotContain(t, "viewer's spaces", r.body, spaceB+`"`)
		r = e.page(spaceA, cookies["viewer"])
		mustContain(t, "viewer's tree", r.body, ">10.1.0.0/16</a>", ">10.1.1.0/24</a>", ">10.1.2.0/24</a>")
		r = e.page(a1, cookies["viewer"])
		mustContain(t, "viewer's grid", r.body, `<table class="addr-grid"`, `<span class="cell" tabindex="-1"`, path(`href="/hosts/%d"`, w.a1))

		// The editor of subnet A1 sees only it: the tree starts there.
		r = e.page(spaceA, cookies["editor"])
		mustContain(t, "editor's tree", r.body, ">10.1.1.0/24</a>", `class="pfx d0"`, "1 prefix")
		mustNotContain(t, "editor's tree", r.body, ">10.1.0.0/16</a>", ">10.1.2.0/24</a>", `id="new-prefix"`)
		r = e.page("/spaces", cookies["editor"])
		mustContain(t, "editor's spaces", r.body, `<a href="/prefixes/`+path("%d", w.subnetA1)+`">10.1.1.0/24</a>`)
		mustNotContain(t, "editor's spaces", r.body, "10.1.0.0/16", spaceB+`"`, `id="new-space"`)
		r = e.page(a1, cookies["editor"])
		mustContain(t, "editor's grid", r.body, `id="claim"`, "data-claim", "/edit\"")
		mustNotContain(t, "editor's path", r.body, box+`"`)

		// The creator may create spaces and gets edit on them.
		r = e.page("/spaces", cookies["creator"])
		mustContain(t, "creator's spaces", r.body, `id="new-space"`)
		r = e.form("POST", "/spaces", cookies["creator"], url.Values{"name": {"Mine"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("creator creates a space: %d", r.code)
		}
		r = e.page(r.header.Get("Location"), cookies["creator"])
		mustContain(t, "creator's new space", r.body, `id="new-prefix"`, "/edit\"")

		// Forced changes are refused: 403 where the user may look, 404
		// where not; nothing changes.
		before := auditCountUI(t, e)
		posts := []struct {
			path string
			form url.Values
			want []int // reader, viewer, editor, outsider
		}{
			{"/spaces", url.Values{"name": {"X"}}, []int{403, 403, 403, 403}},
			{spaceA + "/edit", url.Values{"name": {"Y"}}, []int{403, 403, 403, 404}},
			{spaceA + "/delete", url.Values{"cascade": {"on"}}, []int{403, 403, 403, 404}},
			{spaceA + "/prefixes", url.Values{"prefix": {"10.1.7.0/24"}}, []int{403, 403, 403, 404}},
			{box + "/allocate", url.Values{"prefix_length": {"24"}}, []int{403, 403, 404, 404}},
			{box + "/edit", url.Values{"description": {"x"}}, []int{403, 403, 404, 404}},
			{a2 + "/delete", url.Values{}, []int{403, 403, 404, 404}},
			{a2 + "/claim", url.Values{"address": {"10.1.2.20"}}, []int{403, 403, 404, 404}},
			{a1 + "/claim", url.Values{"address": {"10.1.1.20"}, "first": {"1"}}, []int{403, 403, -1, 404}},
		}
		for _, p := range posts {
			for i, u := range []string{"reader", "viewer", "editor", "outsider"} {
				if p.want[i] < 0 {
					continue
				}
				r := e.form("POST", p.path, cookies[u], p.form)
				if r.code != p.want[i] {
					t.Errorf("%s POST %s: %d, want %d", u, p.path, r.code, p.want[i])
				}
			}
		}
		if n := auditCountUI(t, e); n != before {
			t.Fatalf("refused changes wrote %d audit entries", n-before)
		}
		// The editor may claim in A1.
		r = e.form("POST", a1+"/claim", cookies["editor"], url.Values{"address": {"10.1.1.21"}, "hostname": {"ed21"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("editor claims in A1: %d %s", r.code, r.body)
		}
	})
}

// TestPlanXSS: script payloads in every text field the plan pages show
// come out escaped, on normal pages and on forms shown again with errors.
func TestPlanXSS(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin", "password123")
	for _, payload := range []string{xssTag, xssAttr} {
		t.Run(payload[:3], func(t *testing.T) {
			sp := e.space("S" + payload)
			spID := path("%d", sp)
			sub := e.prefix(sp, "10.1.1.0/24", ipdesk.PrefixSubnet, "description", payload)
			e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.1.1.5", "hostname": "pc5", "owner": payload, "description": payload}, nil)
			e.must(http.StatusOK, "PATCH", "/api/v1/spaces/"+spID, e.admin, map[string]any{"description": payload}, nil, "If-Match", `"1"`)
			check := func(what string, r *response) {
				t.Helper()
				if strings.Contains(string(r.body), payload) {
					t.Errorf("%s shows the payload %q unescaped", what, payload)
				}
			}
			for _, p := range []string{"/spaces", "/spaces/" + spID, path("/prefixes/%d", sub.ID), path("/prefixes/%d/edit", sub.ID), "/spaces/" + spID + "/edit", "/"} {
				r := e.page(p, c)
				if r.code != http.StatusOK {
					t.Fatalf("%s: %d", p, r.code)
				}
				check(p, r)
			}
			// Error paths: the typed payload comes back in the form and in
			// the message that quotes it.
			check("space form", e.form("POST", "/spaces", c, url.Values{"name": {"bad\n" + payload}, "description": {payload}}))
			check("prefix form", e.form("POST", "/spaces/"+spID+"/prefixes", c, url.Values{"prefix": {payload}, "description": {payload}, "gateway": {payload}}))
			check("prefix form vlan", e.form("POST", "/spaces/"+spID+"/prefixes", c, url.Values{"prefix": {"10.2.0.0/24"}, "vlan": {payload}}))
			check("claim form", e.form("POST", path("/prefixes/%d/claim", sub.ID), c, url.Values{"address": {payload}, "hostname": {payload}, "mac": {payload}, "owner": {payload}}))
			check("claim form hostname", e.form("POST", path("/prefixes/%d/claim", sub.ID), c, url.Values{"address": {"10.1.1.9"}, "hostname": {payload}}))
			check("claim form mac", e.form("POST", path("/prefixes/%d/claim", sub.ID), c, url.Values{"address": {"10.1.1.9"}, "mac": {payload}, "owner": {payload}}))
			check("edit form", e.form("POST", path("/prefixes/%d/edit", sub.ID), c, url.Values{"kind": {payload}, "description": {payload}}))
			check("jump", e.page(path("/prefixes/%d?at=%s", sub.ID, url.QueryEscape(payload)), c))
			check("filter", e.page("/spaces/"+spID+"?q="+url.QueryEscape(payload), c))
		})
	}
}

// TestPlanMaths: the pure helpers of the tree and the grid.
func TestPlanMaths(t *testing.T) {
	pfx := netip.MustParsePrefix
	addr := netip.MustParseAddr
	blocks := []struct {
		subnet, at, want string
	}{
		{"10.2.0.0/16", "", "10.2.0.0/24"},
		{"10.2.0.0/16", "10.2.5.7", "10.2.5.0/24"},
		{"10.2.0.0/16", "10.3.0.1", "10.2.0.0/24"},
		{"10.1.1.0/24", "10.1.1.99", "10.1.1.0/24"},
		{"10.1.1.16/28", "10.1.1.20", "10.1.1.16/28"},
		{"2001:db8::/64", "2001:db8::1:2", "2001:db8::1:0/120"},
		{"2001:db8::/126", "", "2001:db8::/126"},
	}
	for _, b := range blocks {
		var at netip.Addr
		if b.at != "" {
			at = addr(b.at)
		}
		if got := gridBlock(pfx(b.subnet), at); got != pfx(b.want) {
			t.Errorf("gridBlock(%s, %s) = %s, want %s", b.subnet, b.at, got, b.want)
		}
	}
	indexes := []struct {
		subnet, block string
		count, index  uint64
	}{
		{"10.2.0.0/16", "10.2.0.0/24", 256, 1},
		{"10.2.0.0/16", "10.2.255.0/24", 256, 256},
		{"10.1.1.0/24", "10.1.1.0/24", 1, 1},
		{"2001:db8::/64", "2001:db8::ffff:ffff:ffff:ff00/120", 1 << 56, 1 << 56},
		{"2001:db8::/48", "2001:db8::/120", 0, 0},
	}
	for _, x := range indexes {
		if c, i := blockIndex(pfx(x.subnet), pfx(x.block)); c != x.count || i != x.index {
			t.Errorf("blockIndex(%s, %s) = %d, %d; want %d, %d", x.subnet, x.block, c, i, x.count, x.index)
		}
	}
	if b, ok := neighbour(pfx("10.2.0.0/16"), pfx("10.2.0.0/24"), -1); ok {
		t.Errorf("block before the first: %s", b)
	}
	if b, ok := neighbour(pfx("10.2.0.0/16"), pfx("10.2.0.0/24"), 1); !ok || b != pfx("10.2.1.0/24") {
		t.Errorf("block after the first: %s %v", b, ok)
	}
	if _, ok := neighbour(pfx("255.255.0.0/16"), pfx("255.255.255.0/24"), 1); ok {
		t.Error("a block after the end of the address space")
	}
	for _, x := range []struct {
		p    string
		want int
	}{{"10.0.0.0/8", 24}, {"10.0.0.0/24", 25}, {"10.0.0.0/32", 32}, {"2001:db8::/48", 64}, {"2001:db8::/64", 65}} {
		if got := defaultChildBits(pfx(x.p)); got != x.want {
			t.Errorf("defaultChildBits(%s) = %d, want %d", x.p, got, x.want)
		}
	}
	for _, x := range []struct{ a, want string }{{"10.1.1.7", "7"}, {"10.1.1.255", "255"}, {"2001:db8::1f", "1f"}, {"2001:db8::", "00"}} {
		if got := cellLabel(addr(x.a)); got != x.want {
			t.Errorf("cellLabel(%s) = %q, want %q", x.a, got, x.want)
		}
	}

	// The tree: nesting by containment, subnets as leaves, the first
	// prefixes of a page without their parents as roots.
	mk := func(s string, kind ipdesk.PrefixKind) *ipdesk.Prefix {
		return &ipdesk.Prefix{Prefix: pfx(s), Kind: kind}
	}
	list := []*ipdesk.Prefix{
		mk("10.0.1.0/24", ipdesk.PrefixSubnet), // its container is on an earlier page
		mk("10.1.0.0/16", ipdesk.PrefixContainer),
		mk("10.1.0.0/20", ipdesk.PrefixContainer),
		mk("10.1.1.0/24", ipdesk.PrefixSubnet),
		mk("10.1.2.0/24", ipdesk.PrefixSubnet),
		mk("10.1.16.0/24", ipdesk.PrefixSubnet),
		mk("10.2.0.0/24", ipdesk.PrefixSubnet),
		mk("2001:db8::/48", ipdesk.PrefixContainer),
		mk("2001:db8::/64", ipdesk.PrefixSubnet),
	}
	var got []string
	walkPlan(planTree(list), func(n *planNode) { got = append(got, strings.Repeat(" ", n.Depth)+n.Prefix.Prefix.String()) })
	want := []string{"10.0.1.0/24", "10.1.0.0/16", " 10.1.0.0/20", "  10.1.1.0/24", "  10.1.2.0/24", " 10.1.16.0/24", "10.2.0.0/24", "2001:db8::/48", " 2001:db8::/64"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("planTree:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var roots []string
	for _, p := range planRoots(list) {
		roots = append(roots, p.Prefix.String())
	}
	if strings.Join(roots, " ") != "10.0.1.0/24 10.1.0.0/16 10.2.0.0/24 2001:db8::/48" {
		t.Errorf("planRoots = %v", roots)
	}
}

// TestPlanUsageIPv6: the use of a large IPv6 container is computed
// exactly: a /32 with two /48s is 2^81 of 2^96, not a full 100 %.
func TestPlanUsageIPv6(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin", "password123")
	sp := e.space("S")
	top := e.prefix(sp, "2001:db8::/32", ipdesk.PrefixContainer)
	e.prefix(sp, "2001:db8::/48", ipdesk.PrefixContainer)
	e.prefix(sp, "2001:db8:1::/48", ipdesk.PrefixContainer)
	wide := e.prefix(sp, "2001:db9::/32", ipdesk.PrefixContainer)
	for _, p := range []string{"2001:db9::/33", "2001:db9:8000::/34", "2001:db9:c000::/35", "2001:db9:e000::/48"} {
		e.prefix(sp, p, ipdesk.PrefixContainer)
	}
	r := e.page(path("/prefixes/%d", top.ID), c)
	mustContain(t, "the /32", r.body, "&lt; 0.1 % · 2^81 of 2^96")
	mustNotContain(t, "the /32", r.body, "100.0 %", "≥ 2^63")
	r = e.page(path("/prefixes/%d", wide.ID), c)
	mustContain(t, "the nearly full /32", r.body, "87.5 % · ≈ 2^95.8 of 2^96")
	r = e.page(path("/spaces/%d", sp), c)
	mustContain(t, "the tree", r.body, "2^81 of 2^96")
	mustNotContain(t, "the tree", r.body, "≥ 2^63")
	var got prefixView
	e.must(http.StatusOK, "GET", path("/api/v1/prefixes/%d", top.ID), e.admin, nil, &got)
	if got.Usage.Percent != 0 {
		t.Errorf("the API's percent of 2^81 of 2^96 is %g, want 0 (rounded to two decimals)", got.Usage.Percent)
	}
}

package web

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/outputs"
	"ipdesk/sqldb"
)

// TestReservationConflicts: the API refuses a DHCP reservation that an
// output would carry together with another space's (409, naming the
// field, not the other host) and a multicast MAC (400); a clash that
// comes in another way (DHCP turned on for a subnet later) is left out of
// the output and listed in its state, with a link, for those who may see
// it, on the API, the outputs page and the dashboard.
func TestReservationConflicts(t *testing.T) {
	dir := t.TempDir()
	e := newEnvWith(t, filepath.Join(dir, "t.db"), func(db *sqldb.DB) Outputs {
		s, err := outputs.New(db, []outputs.Spec{
			{Name: "dnsmasq", Kind: apply.KindDnsmasq, Path: filepath.Join(dir, "dnsmasq.hosts")},
		}, outputs.Config{})
		if err != nil {
			t.Fatal(err)
		}
		db.SetReservationScopes(s.ReservationScopes())
		return s
	})
	school, lab := e.space("school"), e.space("lab")
	schoolNet := e.prefix(school, "10.6.0.0/24", ipdesk.PrefixSubnet, "dhcp", true)
	labNet := e.prefix(lab, "10.6.0.0/24", ipdesk.PrefixSubnet, "dhcp", false)
	host := func(want int, space int64, addr, mac, name string) ipdesk.Address {
		t.Helper()
		var a ipdesk.Address
		e.must(want, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": space, "address": addr,
			"mac": mac, "hostname": name, "dhcp_reservation": true}, &a)
		return a
	}
	keeper := host(http.StatusCreated, school, "10.6.0.5", "02:00:00:00:06:05", "keeper-secret")
	// While the lab's subnet has DHCP off, no output carries its hosts.
	intruder := host(http.StatusCreated, lab, "10.6.0.5", "02:00:00:00:06:55", "intruder")
	var on ipdesk.Prefix
	e.must(http.StatusOK, "PATCH", path("/api/v1/prefixes/%d", labNet.ID), e.admin, map[string]any{"dhcp": true}, &on)

	// Now a reservation of the same address, or of the same MAC in the
	// same prefix, in the other space is refused.
	r := e.do("POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": lab, "address": "10.6.0.5", "mac": "02:00:00:00:06:66",
		"dhcp_reservation": true})
	if r.code != http.StatusConflict { // the lab has 10.6.0.5 already
		t.Errorf("same space: %d %s", r.code, r.body)
	}
	host(http.StatusCreated, school, "10.6.0.7", "02:00:00:00:06:07", "seven")
	r = e.do("POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": lab, "address": "10.6.0.7", "mac": "02:00:00:00:06:77",
		"hostname": "copy", "dhcp_reservation": true})
	if r.code != http.StatusConflict || !strings.Contains(string(r.body), `"field":"address"`) || !strings.Contains(string(r.body), `dnsmasq`) ||
		strings.Contains(string(r.body), "seven") {
		t.Errorf("same address in another space: %d %s", r.code, r.body)
	}
	r = e.do("POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": lab, "address": "10.6.0.8", "mac": "02:00:00:00:06:07",
		"dhcp_reservation": true})
	if r.code != http.StatusConflict || !strings.Contains(string(r.body), `"field":"mac"`) || strings.Contains(string(r.body), "seven") {
		t.Errorf("same MAC in the same prefix of another space: %d %s", r.code, r.body)
	}
	var other ipdesk.Address
	e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": lab, "address": "10.6.0.9", "dhcp_reservation": false}, &other)
	r = e.do("PATCH", path("/api/v1/addresses/%d", other.ID), e.admin, map[string]any{"address": "10.6.0.7", "mac": "02:00:00:00:06:99", "dhcp_reservation": true})
	if r.code != http.StatusConflict || !strings.Contains(string(r.body), `"field":"address"`) {
		t.Errorf("update to a reserved address: %d %s", r.code, r.body)
	}
	for _, m := range []string{"01:00:5e:00:00:01", "33:33:00:00:00:01"} {
		r = e.do("POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": school, "address": "10.6.0.20", "mac": m, "dhcp_reservation": true})
		if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), `"field":"mac"`) {
			t.Errorf("multicast MAC %s: %d %s", m, r.code, r.body)
		}
	}
	_ = schoolNet

	// The clash that came in through the prefix is left out of the
	// output: the newer record, the intruder.
	var list outputList
	e.must(http.StatusOK, "GET", "/api/v1/outputs?diff=false", e.user, nil, &list)
	if len(list.Results) != 1 {
		t.Fatalf("outputs %+v", list)
	}
	o := list.Results[0]
	if len(o.LeftOut) != 1 || o.LeftOutHidden != 0 {
		t.Fatalf("left out %+v (hidden %d)", o.LeftOut, o.LeftOutHidden)
	}
	l := o.LeftOut[0]
	if l.ID != intruder.ID || l.Reason != ipdesk.LeftOutAddressTwice || l.URL != path("/hosts/%d", intruder.ID) ||
		l.OtherID != keeper.ID || l.OtherURL != path("/hosts/%d", keeper.ID) || l.Hostname != "intruder" {
		t.Errorf("left out %+v", l)
	}

	// Users who see only one space see only what is theirs.
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: e.userID("admin"), Name: "admin"})
	for _, u := range []struct {
		name  string
		space int64
	}{{"labuser", lab}, {"schooluser", school}} {
		e.makeUser(u.name, false)
		g := &ipdesk.Group{Name: u.name + "s", Members: []int64{e.userID(u.name)}}
		if err := e.db.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		if err := e.db.CreateGrant(ctx, &ipdesk.Grant{GroupID: g.ID, ObjectType: ipdesk.ObjectSpace, ObjectID: u.space, Right: ipdesk.RightView}); err != nil {
			t.Fatal(err)
		}
	}
	page := e.page("/", e.login("labuser", "password123"))
	body := string(page.body)
	if page.code != http.StatusOK || !strings.Contains(body, path(`href="/hosts/%d"`, intruder.ID)) || !strings.Contains(body, "intruder") ||
		strings.Contains(body, "keeper-secret") || strings.Contains(body, path(`href="/hosts/%d"`, keeper.ID)) {
		t.Errorf("lab user's dashboard: %d\n%s", page.code, body)
	}
	page = e.page("/", e.login("schooluser", "password123"))
	if body := string(page.body); page.code != http.StatusOK || strings.Contains(body, "intruder") || strings.Contains(body, `id="left-out"`) {
		t.Errorf("school user's dashboard: %d\n%s", page.code, body)
	}
	// The outputs page lists it for those who may see the outputs.
	page = e.page("/outputs", e.login("reader", "password123"))
	if body := string(page.body); page.code != http.StatusOK || !strings.Contains(body, path(`href="/hosts/%d"`, intruder.ID)) ||
		!strings.Contains(body, "its address is reserved for an older host too") {
		t.Errorf("outputs page: %d\n%s", page.code, body)
	}
}

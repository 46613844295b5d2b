package web

import (
	"os"
	"testing"

	"ipdesk"
)

func TestPlanSmoke(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin", "password123")
	sp := e.space("School")
	e.prefix(sp, "10.0.0.0/8", ipdesk.PrefixContainer)
	e.prefix(sp, "10.1.0.0/16", ipdesk.PrefixContainer)
	s1 := e.prefix(sp, "10.1.1.0/24", ipdesk.PrefixSubnet, "gateway", "10.1.1.1", "description", "Room 101", "vlan", 101, "dhcp", true)
	big := e.prefix(sp, "10.2.0.0/16", ipdesk.PrefixSubnet)
	e.must(201, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.1.1.10", "hostname": "pc10", "mac": "aa:bb:cc:dd:ee:01", "owner": "Anna"}, nil)
	e.must(201, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.2.5.10", "hostname": "pc510"}, nil)
	for _, p := range []string{"/spaces", path("/spaces/%d", sp), path("/prefixes/%d", s1.ID), path("/prefixes/%d?at=10.2.5.1", big.ID), "/prefixes/1", path("/spaces/%d/edit", sp), path("/prefixes/%d/edit", s1.ID), "/"} {
		r := e.page(p, c)
		t.Logf("%s: %d %d bytes", p, r.code, len(r.body))
		if r.code != 200 {
			t.Errorf("%s: %s", p, r.body)
		}
		if os.Getenv("DUMP") != "" {
			os.WriteFile("/tmp/plan"+string(rune('a'+len(p)%26))+".html", r.body, 0o644)
		}
	}
}

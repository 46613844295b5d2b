package web

import (
	"net/http"
	"net/netip"
	"sync"
	"testing"

	"ipdesk"
)

func TestAllocateAddress(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		sp := e.space("campus")
		subnet := e.prefix(sp, "10.1.0.0/24", ipdesk.PrefixSubnet, "gateway", "10.1.0.1")
		base := path("/api/v1/prefixes/%d/available-addresses", subnet.ID)

		// The first free address skips the network and the gateway.
		var a addressResult
		r := e.must(http.StatusCreated, "POST", base, e.admin, map[string]any{"hostname": "pc1", "mac": "AA-BB-CC-00-00-01", "dhcp_reservation": true}, &a)
		if a.Addr != netip.MustParseAddr("10.1.0.2") || a.Hostname != "pc1" || a.MAC.String() != "aa:bb:cc:00:00:01" || !a.DHCPReservation {
			t.Errorf("allocated %+v", a.Address)
		}
		if a.PrefixID != subnet.ID || a.SpaceID != sp {
			t.Errorf("allocated in prefix %d space %d", a.PrefixID, a.SpaceID)
		}
		if r.header.Get("Location") != addressURL(a.ID) || r.header.Get("ETag") != etag(a.Version) {
			t.Errorf("Location %q ETag %q", r.header.Get("Location"), r.header.Get("ETag"))
		}
		if a.Warnings == nil {
			t.Error("warnings missing from a create answer")
		}

		// An empty body allocates a bare record; "from" starts further on.
		var b, c addressResult
		e.must(http.StatusCreated, "POST", base, e.admin, nil, &b)
		e.must(http.StatusCreated, "POST", base, e.admin, map[string]any{"from": "10.1.0.100", "description": "printer"}, &c)
		if b.Addr != netip.MustParseAddr("10.1.0.3") || c.Addr != netip.MustParseAddr("10.1.0.100") || c.Description != "printer" {
			t.Errorf("allocated %s and %s", b.Addr, c.Addr)
		}

		// The next free addresses, with a window.
		var free windowResponse[freeAddress]
		e.must(200, "GET", base+"?limit=3", e.user, nil, &free)
		want := []string{"10.1.0.4", "10.1.0.5", "10.1.0.6"}
		if len(free.Results) != len(want) {
			t.Fatalf("free addresses %+v", free)
		}
		for i, w := range want {
			if free.Results[i].Address.String() != w {
				t.Errorf("free[%d] = %s, want %s", i, free.Results[i].Address, w)
			}
		}
		e.must(200, "GET", base+"?offset=95&limit=3", e.user, nil, &free)
		// 4..99 are 96 addresses: offset 95 is .99, then .100 is taken.
		if len(free.Results) != 3 || free.Results[0].Address.String() != "10.1.0.99" || free.Results[1].Address.String() != "10.1.0.101" {
			t.Errorf("free window at offset 95: %+v", free.Results)
		}
		e.must(200, "GET", base+"?offset=5000", e.user, nil, &free)
		if len(free.Results) != 0 {
			t.Errorf("free window past the end: %+v", free.Results)
		}

		var ranges windowResponse[freeRange]
		e.must(200, "GET", path("/api/v1/prefixes/%d/free-ranges", subnet.ID), e.user, nil, &ranges)
		if len(ranges.Results) != 2 ||
			ranges.Results[0] != (freeRange{From: netip.MustParseAddr("10.1.0.4"), To: netip.MustParseAddr("10.1.0.99"), Size: 96}) ||
			ranges.Results[1] != (freeRange{From: netip.MustParseAddr("10.1.0.101"), To: netip.MustParseAddr("10.1.0.254"), Size: 154}) {
			t.Errorf("free ranges %+v", ranges.Results)
		}

		// The prefix's usage counts the new addresses.
		var v prefixView
		e.must(200, "GET", path("/api/v1/prefixes/%d", subnet.ID), e.user, nil, &v)
		if v.Usage.Size != 254 || v.Usage.Used != 3 || v.Usage.Percent != 1.18 {
			t.Errorf("usage %+v", v.Usage)
		}

		// A container has no free addresses to list.
		cont := e.prefix(sp, "10.8.0.0/16", ipdesk.PrefixContainer)
		if r := e.do("GET", path("/api/v1/prefixes/%d/available-addresses", cont.ID), e.user, nil); r.code != 400 {
			t.Errorf("available addresses of a container: %d %s", r.code, r.body)
		}
	})
}

func TestAllocatePrefix(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		sp := e.space("campus")
		cont := e.prefix(sp, "10.20.0.0/16", ipdesk.PrefixContainer)
		base := path("/api/v1/prefixes/%d/available-prefixes", cont.ID)

		var p1, p2 prefixResult
		r := e.must(http.StatusCreated, "POST", base, e.admin, map[string]any{"prefix_length": 24, "description": "staff", "vlan": 20}, &p1)
		e.must(http.StatusCreated, "POST", base, e.admin, map[string]any{"prefix_length": 24, "kind": "subnet"}, &p2)
		if p1.Prefix.Prefix.String() != "10.20.0.0/24" || p2.Prefix.Prefix.String() != "10.20.1.0/24" {
			t.Errorf("allocated %s and %s", p1.Prefix.Prefix, p2.Prefix.Prefix)
		}
		if p1.Description != "staff" || p1.VLAN != 20 || p1.Kind != ipdesk.PrefixSubnet || p1.ParentID != cont.ID || p1.SpaceID != sp {
			t.Errorf("allocated %+v", p1.Prefix)
		}
		if p1.Usage.Size != 254 {
			t.Errorf("usage of new subnet %+v", p1.Usage)
		}
		if r.header.Get("Location") != prefixURL(p1.ID) {
			t.Errorf("Location %q", r.header.Get("Location"))
		}

		var free windowResponse[freePrefix]
		e.must(200, "GET", base, e.user, nil, &free)
		want := []string{"10.20.2.0/23", "10.20.4.0/22", "10.20.8.0/21", "10.20.16.0/20", "10.20.32.0/19", "10.20.64.0/18", "10.20.128.0/17"}
		if len(free.Results) != len(want) {
			t.Fatalf("available prefixes %+v", free.Results)
		}
		for i, w := range want {
			if free.Results[i].Prefix.String() != w {
				t.Errorf("available[%d] = %s, want %s", i, free.Results[i].Prefix, w)
			}
		}
		e.must(200, "GET", base+"?offset=5&limit=5", e.user, nil, &free)
		if len(free.Results) != 2 || free.Results[0].Prefix.String() != "10.20.64.0/18" {
			t.Errorf("available prefixes window: %+v", free.Results)
		}

		// A full container answers 409.
		small := e.prefix(sp, "10.30.0.0/30", ipdesk.PrefixContainer)
		sb := path("/api/v1/prefixes/%d/available-prefixes", small.ID)
		e.must(http.StatusCreated, "POST", sb, e.admin, map[string]any{"prefix_length": 31}, nil)
		e.must(http.StatusCreated, "POST", sb, e.admin, map[string]any{"prefix_length": 31}, nil)
		if r := e.do("POST", sb, e.admin, map[string]any{"prefix_length": 31}); r.code != http.StatusConflict {
			t.Errorf("full container: %d %s", r.code, r.body)
		}
	})
}

// TestConcurrentAllocation sends 50 allocations at once: on a /26 (62
// usable addresses) all succeed with distinct addresses; on a /28 (14
// usable) 14 succeed and the rest get 409, never 500 and never a
// duplicate.
func TestConcurrentAllocation(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		sp := e.space("campus")
		tests := []struct {
			cidr    string
			created int
		}{
			{"10.40.0.0/26", 50},
			{"10.41.0.0/28", 14},
		}
		for _, tc := range tests {
			t.Run(tc.cidr, func(t *testing.T) {
				subnet := e.prefix(sp, tc.cidr, ipdesk.PrefixSubnet)
				url := path("/api/v1/prefixes/%d/available-addresses", subnet.ID)
				const n = 50
				codes := make([]int, n)
				addrs := make([]netip.Addr, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r := e.do("POST", url, e.admin, map[string]any{"description": "parallel"})
						codes[i] = r.code
						if r.code == http.StatusCreated {
							var a ipdesk.Address
							if err := jsonUnmarshal(r.body, &a); err != nil {
								t.Error(err)
							}
							addrs[i] = a.Addr
						} else if r.code != http.StatusConflict {
							t.Errorf("request %d: status %d: %s", i, r.code, r.body)
						}
					}()
				}
				wg.Wait()
				seen := map[netip.Addr]bool{}
				created := 0
				for i, c := range codes {
					if c != http.StatusCreated {
						continue
					}
					created++
					if seen[addrs[i]] {
						t.Errorf("address %s handed out twice", addrs[i])
					}
					if !subnet.Prefix.Contains(addrs[i]) || ipdesk.IsReservedInSubnet(subnet.Prefix, addrs[i]) {
						t.Errorf("address %s is not a host address of %s", addrs[i], subnet.Prefix)
					}
					seen[addrs[i]] = true
				}
				if created != tc.created {
					t.Errorf("%d created, want %d (codes %v)", created, tc.created, codes)
				}
				var list listResponse[ipdesk.Address]
				e.must(200, "GET", path("/api/v1/addresses?prefix=%d&limit=1000", subnet.ID), e.admin, nil, &list)
				if list.Count != tc.created {
					t.Errorf("%d addresses stored, want %d", list.Count, tc.created)
				}
			})
		}
	})
}

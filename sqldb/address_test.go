package sqldb_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"ipdesk"
	"ipdesk/ipam"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

func TestAddressRules(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		net1 := mustPrefix(t, db, s.ID, "10.0.0.0/24", ipdesk.PrefixSubnet)
		mustPrefix(t, db, s.ID, "10.0.1.0/24", ipdesk.PrefixSubnet)
		mustPrefix(t, db, s.ID, "10.0.2.0/31", ipdesk.PrefixSubnet)
		mustPrefix(t, db, s.ID, "10.9.0.0/16", ipdesk.PrefixContainer)
		room := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Main"}
		if err := db.CreateLocation(ctx, room); err != nil {
			t.Fatal(err)
		}
		a := mustAddr(t, db, s.ID, "10.0.0.5", func(a *ipdesk.Address) {
			a.MAC = mustMAC("AA-BB-CC-00-00-01")
			a.Hostname = "pc1"
			a.LocationID = room.ID
			a.AccessLevel = 2
		})
		if a.PrefixID != net1.ID || a.MAC.String() != "aa:bb:cc:00:00:01" {
			t.Fatalf("stored %+v", a)
		}
		mustAddr(t, db, s.ID, "10.0.2.0", nil) // /31: both addresses are hosts
		mustAddr(t, db, s.ID, "10.0.2.1", nil)
		before := auditCount(t, db)
		cases := []struct {
			name  string
			a     ipdesk.Address
			code  string
			field string
			says  string
		}{
			{"outside any subnet", ipdesk.Address{Addr: netip.MustParseAddr("10.5.0.1")}, ipdesk.EINVALID, "address", "10.5.0.1"},
			{"in a container only", ipdesk.Address{Addr: netip.MustParseAddr("10.9.0.1")}, ipdesk.EINVALID, "address", "not inside any subnet"},
			{"network address", ipdesk.Address{Addr: netip.MustParseAddr("10.0.0.0")}, ipdesk.EINVALID, "address", "network or broadcast"},
			{"broadcast address", ipdesk.Address{Addr: netip.MustParseAddr("10.0.0.255")}, ipdesk.EINVALID, "address", "network or broadcast"},
			{"ip taken", ipdesk.Address{Addr: netip.MustParseAddr("10.0.0.5")}, ipdesk.ECONFLICT, "address", "pc1"},
			{"mac taken in subnet", ipdesk.Address{Addr: netip.MustParseAddr("10.0.0.6"), MAC: mustMAC("aabb.cc00.0001")}, ipdesk.ECONFLICT, "mac", "10.0.0.5"},
			{"control character", ipdesk.Address{Addr: netip.MustParseAddr("10.0.0.7"), Description: "a\nb"}, ipdesk.EINVALID, "description", "control character"},
			{"bad hostname", ipdesk.Address{Addr: netip.MustParseAddr("10.0.0.7"), Hostname: "pc_1;"}, ipdesk.EINVALID, "hostname", "pc_1;"},
			{"no such location", ipdesk.Address{Addr: netip.MustParseAddr("10.0.0.7"), LocationID: 999}, ipdesk.EINVALID, "location_id", "999"},
			{"no such level", ipdesk.Address{Addr: netip.MustParseAddr("10.0.0.7"), AccessLevel: 42}, ipdesk.EINVALID, "access_level", "42"},
			{"reservation without mac", ipdesk.Address{Addr: netip.MustParseAddr("10.0.0.7"), DHCPReservation: true}, ipdesk.EINVALID, "mac", "MAC"},
			{"no such space", ipdesk.Address{SpaceID: 999, Addr: netip.MustParseAddr("10.0.0.7")}, ipdesk.EINVALID, "space_id", "999"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				x := c.a
				if x.SpaceID == 0 {
					x.SpaceID = s.ID
				}
				_, err := db.CreateAddress(ctx, &x)
				wantCode(t, err, c.code)
				if ipdesk.ErrorField(err) != c.field || !strings.Contains(ipdesk.ErrorMessage(err), c.says) {
					t.Fatalf("error %v: want field %q and a message naming %q", err, c.field, c.says)
				}
			})
		}
		if n := auditCount(t, db); n != before {
			t.Fatalf("refused changes wrote %d audit entries", n-before)
		}
		// The same MAC in another subnet is fine; a repeated hostname warns.
		w, err := db.CreateAddress(ctx, &ipdesk.Address{SpaceID: s.ID, Addr: netip.MustParseAddr("10.0.1.5"), MAC: a.MAC, Hostname: "PC1"})
		if err != nil || len(w) != 1 || w[0].Code != ipdesk.WDuplicateHostname || !strings.Contains(w[0].Message, "10.0.0.5") {
			t.Fatalf("duplicate hostname: %v %v", w, err)
		}
		// Moving an address keeps the rules and the chunk counts.
		_, _, err = db.UpdateAddress(ctx, a.ID, ipdesk.AddressUpdate{Addr: ptr(netip.MustParseAddr("10.0.1.6"))})
		wantCode(t, err, ipdesk.ECONFLICT) // its MAC is taken in the new subnet
		moved, _, err := db.UpdateAddress(ctx, a.ID, ipdesk.AddressUpdate{Addr: ptr(netip.MustParseAddr("10.0.1.6")), MAC: ptr(mustMAC("aa:bb:cc:00:00:02"))})
		if err != nil || moved.PrefixID == net1.ID {
			t.Fatalf("move: %+v %v", moved, err)
		}
		_, _, err = db.UpdateAddress(ctx, a.ID, ipdesk.AddressUpdate{Addr: ptr(netip.MustParseAddr("10.0.1.5"))})
		wantCode(t, err, ipdesk.ECONFLICT)
		stale := int64(1)
		_, _, err = db.UpdateAddress(ctx, a.ID, ipdesk.AddressUpdate{Owner: ptr("x"), Version: &stale})
		wantCode(t, err, ipdesk.EPRECONDITION)
		wantCode(t, db.DeleteAddress(ctx, a.ID, ipdesk.DeleteOptions{Version: &stale}), ipdesk.EPRECONDITION)
		if u, _ := db.PrefixUsage(ctx, net1.ID); u.Used != 0 || u.Size != 254 {
			t.Fatalf("usage of %s after move: %+v", net1.Prefix, u)
		}
		// Deleting the location keeps the host without one.
		if err := db.DeleteLocation(ctx, room.ID, ipdesk.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, _ := db.FindAddressByID(ctx, a.ID)
		if got.LocationID != 0 {
			t.Fatalf("host still in deleted location %d", got.LocationID)
		}
		entries, _, _ := db.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: ptr(ipdesk.ObjectAddress), ObjectID: &a.ID})
		if len(entries) < 3 || !strings.Contains(string(entries[0].Before), `"location_id":`) || entries[0].Actor != "tester" {
			t.Fatalf("audit of address: %d entries, newest %+v", len(entries), entries[0])
		}
	})
}

func TestFirstFreeMatchesBruteForce(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		p := mustPrefix(t, db, s.ID, "10.1.0.0/22", ipdesk.PrefixSubnet)
		gw := netip.MustParseAddr("10.1.0.1")
		if _, err := db.UpdatePrefix(ctx, p.ID, ipdesk.PrefixUpdate{Gateway: &gw}); err != nil {
			t.Fatal(err)
		}
		lo, hi := ipam.HostBounds(p.Prefix)
		rng := rand.New(rand.NewPCG(1, 2))
		var used []netip.Addr
		// Fill the first two chunks completely (full chunks are skipped
		// unread) and the rest sparsely.
		in := func(a netip.Addr) bool {
			for _, u := range used {
				if u == a {
					return true
				}
			}
			return false
		}
		add := func(a netip.Addr) {
			if in(a) {
				return
			}
			if _, err := db.CreateAddress(ctx, &ipdesk.Address{SpaceID: s.ID, Addr: a}); err != nil {
				t.Fatal(err)
			}
			used = append(used, a)
		}
		for a := lo; a.Less(netip.MustParseAddr("10.1.2.0")); a = a.Next() {
			add(a)
		}
		for range 200 {
			add(netip.AddrFrom4([4]byte{10, 1, byte(2 + rng.IntN(2)), byte(rng.IntN(256))}))
		}
		sorted := append([]netip.Addr(nil), used...)
		sortAddrs(sorted)
		for _, from := range []string{"", "10.1.0.0", "10.1.0.200", "10.1.1.255", "10.1.2.0", "10.1.2.77", "10.1.3.250", "10.1.3.254"} {
			var f netip.Addr
			start := lo
			if from != "" {
				f = netip.MustParseAddr(from)
				if start.Less(f) {
					start = f
				}
			}
			want, ok := ipam.FirstFree(start, hi, sorted, gw)
			got, err := db.FirstFreeAddress(ctx, p.ID, f)
			if !ok {
				wantCode(t, err, ipdesk.ECONFLICT)
				continue
			}
			if err != nil || got != want {
				t.Fatalf("FirstFree from %q = %v, %v; want %v", from, got, err, want)
			}
		}
		// Fill everything: then the subnet is full.
		for a := lo; a.Compare(hi) <= 0; a = a.Next() {
			if a != gw {
				add(a)
			}
		}
		_, err := db.FirstFreeAddress(ctx, p.ID, netip.Addr{})
		wantCode(t, err, ipdesk.ECONFLICT)
		ranges, err := db.FreeRanges(ctx, p.ID, ipdesk.Page{})
		if err != nil || len(ranges) != 0 {
			t.Fatalf("free ranges of a full subnet: %v %v", ranges, err)
		}
	})
}

func sortAddrs(a []netip.Addr) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].Less(a[j-1]); j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func TestAllocationRace(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		for _, tc := range []struct {
			cidr string
			ok   int
		}{{"10.2.0.0/26", 50}, {"10.3.0.0/28", 14}} {
			p := mustPrefix(t, db, s.ID, tc.cidr, ipdesk.PrefixSubnet)
			var wg sync.WaitGroup
			addrs := make([]*ipdesk.Address, 50)
			errs := make([]error, 50)
			for i := range addrs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					addrs[i] = &ipdesk.Address{Hostname: "auto"}
					_, errs[i] = db.AllocateAddress(ctx, p.ID, netip.Addr{}, addrs[i])
				}()
			}
			wg.Wait()
			seen := map[netip.Addr]bool{}
			for i, err := range errs {
				if err != nil {
					wantCode(t, err, ipdesk.ECONFLICT)
					continue
				}
				if seen[addrs[i].Addr] {
					t.Fatalf("%s handed out twice", addrs[i].Addr)
				}
				seen[addrs[i].Addr] = true
			}
			if len(seen) != tc.ok {
				t.Fatalf("%s: %d allocations succeeded, want %d", tc.cidr, len(seen), tc.ok)
			}
		}
	})
}

func TestSearch(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		mustPrefix(t, db, s.ID, "192.168.10.0/24", ipdesk.PrefixSubnet)
		mustPrefix(t, db, s.ID, "2001:db8::/64", ipdesk.PrefixSubnet)
		room := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Кабинет 303"}
		db.CreateLocation(ctx, room)
		mustAddr(t, db, s.ID, "192.168.10.20", func(a *ipdesk.Address) {
			a.MAC, a.Hostname, a.Owner, a.Phone, a.LocationID = mustMAC("00:1a:2b:3c:4d:5e"), "z303c1", "Иванов И.И.", "+7 (495) 123-45-67", room.ID
		})
		mustAddr(t, db, s.ID, "192.168.10.21", func(a *ipdesk.Address) { a.Hostname, a.Description = "printer", `100% toner_low, says "hi" {x};` })
		mustAddr(t, db, s.ID, "2001:db8::15", func(a *ipdesk.Address) { a.Hostname = "v6host" })
		tests := map[string][]string{
			"00:1a:2b:3c:4d:5e": {"192.168.10.20"},
			"00-1A-2B-3C-4D-5E": {"192.168.10.20"},
			"001a.2b3c.4d5e":    {"192.168.10.20"},
			"001a2b3c4d5e":      {"192.168.10.20"},
			"2b:3c":             {"192.168.10.20"},
			"2b3c":              {"192.168.10.20"},
			"1a:2b:3":           {"192.168.10.20"},
			"A-2B-3C-":          {"192.168.10.20"},
			"a.2b3c":            {"192.168.10.20"},
			"2b3c.4d5e":         {"192.168.10.20"},
			"1a:2b:4":           {},
			"2b:3c:4d:5e:6":     {},
			"168.10.2":          {"192.168.10.20", "192.168.10.21"},
			"*":                 {},
			"[x":                {},
			"{x}":               {"192.168.10.21"},
			"Z303":              {"192.168.10.20"},
			"иванов":            {"192.168.10.20"},
			"4951234567":        {"192.168.10.20"},
			"123-45":            {"192.168.10.20"},
			"кабинет":           {"192.168.10.20"},
			"192.168.10.21":     {"192.168.10.21"},
			"192.168.10.2":      {},
			"192.168.10.":       {"192.168.10.20", "192.168.10.21"},
			"192.168.10.0/24":   {"192.168.10.20", "192.168.10.21"},
			"100%":              {"192.168.10.21"},
			"_":                 {"192.168.10.21"},
			`"hi" {x};`:         {"192.168.10.21"},
			`"hi`:               {"192.168.10.21"},
			"2001:db8::15":      {"2001:db8::15"},
			"nothing":           {},
		}
		for q, want := range tests {
			got, n, err := db.FindAddresses(ctx, ipdesk.AddressFilter{Query: q})
			if err != nil {
				t.Fatalf("q=%q: %v", q, err)
			}
			var ips []string
			for _, a := range got {
				ips = append(ips, a.Addr.String())
			}
			if n != len(want) || strings.Join(ips, ",") != strings.Join(want, ",") {
				t.Errorf("q=%q: got %v (count %d), want %v", q, ips, n, want)
			}
		}
		m := mustMAC("001a2b3c4d5e")
		if got, _, _ := db.FindAddresses(ctx, ipdesk.AddressFilter{MAC: &m}); len(got) != 1 {
			t.Errorf("mac filter found %d", len(got))
		}
		if got, _, _ := db.FindAddresses(ctx, ipdesk.AddressFilter{Hostname: ptr("PRINTER")}); len(got) != 1 {
			t.Errorf("hostname filter found %d", len(got))
		}
		got, n, err := db.FindAddresses(ctx, ipdesk.AddressFilter{Sort: "-hostname", Page: ipdesk.Page{Limit: 1, Offset: 1}})
		if err != nil || n != 3 || len(got) != 1 || got[0].Hostname != "v6host" {
			t.Errorf("sorted page: %v %d %v", got, n, err)
		}
		_, _, err = db.FindAddresses(ctx, ipdesk.AddressFilter{Sort: "password"})
		wantCode(t, err, ipdesk.EINVALID)
	})
}

func TestImport(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		mustPrefix(t, db, s.ID, "10.0.0.0/24", ipdesk.PrefixSubnet)
		mustAddr(t, db, s.ID, "10.0.0.9", func(a *ipdesk.Address) { a.Hostname = "old" })
		row := func(ip, host, mac string) *ipdesk.Address {
			a := &ipdesk.Address{SpaceID: s.ID, Addr: netip.MustParseAddr(ip), Hostname: host}
			if mac != "" {
				a.MAC = mustMAC(mac)
			}
			return a
		}
		bad := []*ipdesk.Address{row("10.0.0.1", "a", "aa:aa:aa:aa:aa:01"), row("10.0.0.2", "b;", ""), row("10.0.0.3", "c", "aa:aa:aa:aa:aa:01"), row("10.7.0.1", "d", "")}
		before := auditCount(t, db)
		res, err := db.ImportAddresses(ctx, bad, false)
		if err != nil || len(res.Problems) != 3 || res.Problems[0].Row != 2 || res.Problems[1].Row != 3 || res.Problems[2].Row != 4 || res.Created != 0 {
			t.Fatalf("import with bad rows: %+v %v", res, err)
		}
		if _, n, _ := db.FindAddresses(ctx, ipdesk.AddressFilter{}); n != 1 || auditCount(t, db) != before {
			t.Fatalf("a failed import changed the data: %d addresses", n)
		}
		good := []*ipdesk.Address{row("10.0.0.1", "a", "aa:aa:aa:aa:aa:01"), row("10.0.0.9", "new", ""), row("10.0.0.3", "c", "")}
		res, err = db.ImportAddresses(ctx, good, true)
		if err != nil || res.Created != 2 || res.Updated != 1 {
			t.Fatalf("dry run: %+v %v", res, err)
		}
		if _, n, _ := db.FindAddresses(ctx, ipdesk.AddressFilter{}); n != 1 {
			t.Fatalf("dry run wrote: %d addresses", n)
		}
		good = []*ipdesk.Address{row("10.0.0.1", "a", "aa:aa:aa:aa:aa:01"), row("10.0.0.9", "new", ""), row("10.0.0.3", "c", "")}
		if res, err = db.ImportAddresses(ctx, good, false); err != nil || res.Created != 2 || res.Updated != 1 {
			t.Fatalf("import: %+v %v", res, err)
		}
		again := []*ipdesk.Address{row("10.0.0.1", "a", "aa:aa:aa:aa:aa:01"), row("10.0.0.9", "new", ""), row("10.0.0.3", "c", "")}
		if res, err = db.ImportAddresses(ctx, again, false); err != nil || res.Created != 0 || res.Updated != 0 {
			t.Fatalf("re-import of the same data: %+v %v", res, err)
		}
	})
}

// TestImportSeesEarlierRows checks that each row of an import is checked
// against the data as the rows before it leave them: a MAC an earlier row
// gave up is free, one an earlier row took is not, a repeated address
// updates the record an earlier row made, and repeated hostnames warn.
func TestImportSeesEarlierRows(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		p := mustPrefix(t, db, s.ID, "10.0.0.0/24", ipdesk.PrefixSubnet)
		a := mustAddr(t, db, s.ID, "10.0.0.1", func(a *ipdesk.Address) { a.MAC = mustMAC("aa:00:00:00:00:01") })
		b := mustAddr(t, db, s.ID, "10.0.0.2", func(a *ipdesk.Address) { a.MAC = mustMAC("aa:00:00:00:00:02") })
		row := func(ip, mac, host, descr string) *ipdesk.Address {
			r := &ipdesk.Address{SpaceID: s.ID, Addr: netip.MustParseAddr(ip), Hostname: host, Description: descr}
			if mac != "" {
				r.MAC = mustMAC(mac)
			}
			return r
		}
		before := auditCount(t, db)
		bad := []*ipdesk.Address{
			row("10.0.0.6", "aa:00:00:00:00:09", "", ""),
			row("10.0.0.7", "aa:00:00:00:00:09", "", ""), // taken by row 1
			row("10.0.0.8", "aa:00:00:00:00:02", "", ""), // taken by b
		}
		res, err := db.ImportAddresses(ctx, bad, false)
		if err != nil || len(res.Problems) != 2 || res.Created != 0 {
			t.Fatalf("import with clashing MACs: %+v %v", res, err)
		}
		if p0 := res.Problems[0]; p0.Row != 2 || p0.Field != "mac" || !strings.Contains(p0.Error, "10.0.0.6 (an earlier row of this import)") {
			t.Errorf("MAC taken by an earlier row: %+v", p0)
		}
		if p1 := res.Problems[1]; p1.Row != 3 || p1.Field != "mac" || !strings.Contains(p1.Error, fmt.Sprintf("10.0.0.2 (address record %d)", b.ID)) {
			t.Errorf("MAC taken by a stored address: %+v", p1)
		}
		for _, r := range bad {
			if r.ID != 0 {
				t.Fatalf("a row of a failed import has id %d", r.ID)
			}
		}
		rows := []*ipdesk.Address{
			row("10.0.0.1", "aa:00:00:00:00:03", "", ""),     // a gives up its MAC …
			row("10.0.0.3", "aa:00:00:00:00:01", "", "one"),  // … which a new host takes
			row("10.0.0.4", "", "dup", ""),                   //
			row("10.0.0.5", "", "DUP", ""),                   // warns: 10.0.0.4
			row("10.0.0.3", "aa:00:00:00:00:01", "", "two"),  // changes row 2's host
			row("10.0.0.3", "aa:00:00:00:00:01", "", "two"),  // the same again
			row("10.0.0.2", "aa:00:00:00:00:02", "", ""),     // b as it is
			row("10.0.0.6", "aa:00:00:00:00:09", "x", "one"), //
		}
		res, err = db.ImportAddresses(ctx, rows, false)
		if err != nil || len(res.Problems) > 0 || res.Created != 4 || res.Updated != 2 {
			t.Fatalf("import: %+v %v", res, err)
		}
		if len(res.Warnings) != 1 || res.Warnings[0].Row != 4 || !strings.Contains(res.Warnings[0].Message, "10.0.0.4") {
			t.Errorf("warnings: %+v", res.Warnings)
		}
		if rows[0].ID != a.ID || rows[6].ID != b.ID || rows[1].ID == 0 || rows[4].ID != rows[1].ID || rows[5].ID != rows[1].ID {
			t.Fatalf("row ids: %d %d %d %d %d (a %d, b %d)", rows[0].ID, rows[1].ID, rows[4].ID, rows[5].ID, rows[6].ID, a.ID, b.ID)
		}
		got, err := db.FindAddressByID(ctx, rows[1].ID)
		if err != nil || got.Description != "two" || got.Version != 2 || got.MAC.String() != "aa:00:00:00:00:01" {
			t.Fatalf("host of rows 2, 5 and 6: %+v %v", got, err)
		}
		// Audited as if written row by row: a updated; 10.0.0.3 created and
		// updated; 10.0.0.4, 10.0.0.5 and 10.0.0.6 created.
		if n := auditCount(t, db); n != before+6 {
			t.Errorf("%d audit entries, want 6", n-before)
		}
		entries, _, _ := db.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: ptr(ipdesk.ObjectAddress), ObjectID: &rows[1].ID})
		if len(entries) != 2 || entries[1].Action != ipdesk.ActionCreate || entries[0].Action != ipdesk.ActionUpdate ||
			!strings.Contains(string(entries[0].Before), `"description":"one"`) || !strings.Contains(string(entries[0].After), `"description":"two"`) {
			t.Errorf("audit of 10.0.0.3: %+v", entries)
		}
		// Chunk counts and the search index are in step.
		if u, err := db.PrefixUsage(ctx, p.ID); err != nil || u.Used != 6 {
			t.Errorf("usage %+v %v, want 6 used", u, err)
		}
		for q, want := range map[string]int{"two": 1, "one": 1, "aa:00:00:00:00:03": 1, "aa00.0000.0001": 1} {
			if found, n, err := db.FindAddresses(ctx, ipdesk.AddressFilter{Query: q}); err != nil || n != want {
				t.Errorf("q=%q: %d found (%v), want %d", q, n, err, want)
			} else if q == "one" && found[0].Addr.String() != "10.0.0.6" {
				t.Errorf("q=one found %s", found[0].Addr)
			}
		}
	})
}

// TestImportMany imports more rows than one statement takes and checks
// that every row got its own record and the same rows again change
// nothing.
func TestImportMany(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		p := mustPrefix(t, db, s.ID, "10.0.0.0/16", ipdesk.PrefixSubnet)
		const n = 4500
		rows := func() []*ipdesk.Address {
			out := make([]*ipdesk.Address, n)
			a := netip.MustParseAddr("10.0.0.1")
			for i := range out {
				out[i] = &ipdesk.Address{SpaceID: s.ID, Addr: a, Hostname: fmt.Sprintf("h%d", i),
					MAC: ipdesk.MAC{2, 0, 0, 0, byte(i >> 8), byte(i)}, Owner: fmt.Sprintf("owner %d", i)}
				a = a.Next()
			}
			return out
		}
		first := rows()
		res, err := db.ImportAddresses(ctx, first, false)
		if err != nil || res.Created != n || len(res.Problems)+len(res.Warnings) > 0 {
			t.Fatalf("import: %d created, %v %v", res.Created, err, res.Problems)
		}
		for _, i := range []int{0, 1, 2099, 2100, n - 1} {
			got, err := db.FindAddressByID(ctx, first[i].ID)
			if err != nil || got.Addr != first[i].Addr || got.Hostname != first[i].Hostname {
				t.Fatalf("row %d: id %d is %+v %v", i+1, first[i].ID, got, err)
			}
			found, _, err := db.FindAddresses(ctx, ipdesk.AddressFilter{Query: fmt.Sprintf("owner %d", i)})
			if err != nil || len(found) == 0 || found[0].ID != first[i].ID {
				t.Fatalf("search for row %d: %v %v", i+1, found, err)
			}
		}
		if u, err := db.PrefixUsage(ctx, p.ID); err != nil || u.Used != n {
			t.Fatalf("usage %+v %v", u, err)
		}
		if got := auditCount(t, db); got < n {
			t.Fatalf("%d audit entries", got)
		}
		res, err = db.ImportAddresses(ctx, rows(), false)
		if err != nil || res.Created+res.Updated+len(res.Problems)+len(res.Warnings) != 0 {
			t.Fatalf("second import: %+v %v", res, err)
		}
	})
}

// TestAllocationsFollowTheFillMark: allocations in a subnet filled from
// its bottom, with addresses deleted, moved and the gateway changed among
// them, always take the first free address, as a look at every address
// would find it: the mark of the full chunks never skips a free one.
func TestAllocationsFollowTheFillMark(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		p := mustPrefix(t, db, s.ID, "10.7.0.0/22", ipdesk.PrefixSubnet)
		other := mustPrefix(t, db, s.ID, "10.8.0.0/24", ipdesk.PrefixSubnet)
		lo, hi := ipam.HostBounds(p.Prefix)
		rng := rand.New(rand.NewPCG(3, 4))
		held := map[netip.Addr]int64{} // address → id
		var gw netip.Addr
		want := func(from netip.Addr) (netip.Addr, bool) {
			var used []netip.Addr
			for a := range held {
				used = append(used, a)
			}
			sortAddrs(used)
			start := lo
			if from.IsValid() && start.Less(from) {
				start = from
			}
			return ipam.FirstFree(start, hi, used, gw)
		}
		for step := range 1500 {
			switch r := rng.IntN(20); {
			case r < 14 || len(held) < 10:
				var from netip.Addr
				if r == 0 {
					from = netip.AddrFrom4([4]byte{10, 7, byte(rng.IntN(4)), byte(rng.IntN(256))})
				}
				expect, ok := want(from)
				tmpl := &ipdesk.Address{}
				_, err := db.AllocateAddress(ctx, p.ID, from, tmpl)
				if !ok {
					wantCode(t, err, ipdesk.ECONFLICT)
					continue
				}
				if err != nil || tmpl.Addr != expect {
					t.Fatalf("step %d: allocated %v, %v; want %v", step, tmpl.Addr, err, expect)
				}
				held[tmpl.Addr] = tmpl.ID
			case r < 17:
				for a, id := range held {
					wantNoErr(t, db.DeleteAddress(ctx, id, ipdesk.DeleteOptions{}))
					delete(held, a)
					break
				}
			case r < 19:
				// A host moves to the other subnet: its address is free.
				for a, id := range held {
					to := netip.AddrFrom4([4]byte{10, 8, 0, byte(1 + step%250)})
					if _, _, err := db.UpdateAddress(ctx, id, ipdesk.AddressUpdate{Addr: &to}); err != nil {
						if ipdesk.ErrorCode(err) == ipdesk.ECONFLICT {
							break // taken in the other subnet
						}
						t.Fatal(err)
					}
					delete(held, a)
					break
				}
			default:
				// A new gateway; the old one is free again.
				g := netip.AddrFrom4([4]byte{10, 7, byte(rng.IntN(2)), byte(1 + rng.IntN(254))})
				if _, ok := held[g]; ok {
					continue
				}
				if _, err := db.UpdatePrefix(ctx, p.ID, ipdesk.PrefixUpdate{Gateway: &g}); err != nil {
					t.Fatal(err)
				}
				gw = g
			}
		}
		_ = other
	})
}

// TestHostnameWarningLists checks the duplicate-hostname warning, which
// one query answers together with the other checks of a write: it names
// the five other records with the lowest addresses, in address order, in
// any case of the hostname and in every space, never the record itself,
// and a blank hostname matches nothing.
func TestHostnameWarningLists(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		other := mustSpace(t, db, "b")
		mustPrefix(t, db, s.ID, "10.0.0.0/24", ipdesk.PrefixSubnet)
		mustPrefix(t, db, other.ID, "10.0.0.0/24", ipdesk.PrefixSubnet)
		for _, ip := range []string{"10.0.0.90", "10.0.0.8", "10.0.0.70", "10.0.0.6"} {
			mustAddr(t, db, s.ID, ip, func(a *ipdesk.Address) { a.Hostname = "Lab" })
		}
		for _, ip := range []string{"10.0.0.50", "10.0.0.4"} {
			mustAddr(t, db, other.ID, ip, func(a *ipdesk.Address) { a.Hostname = "LAB" })
		}
		mustAddr(t, db, s.ID, "10.0.0.3", nil) // no hostname
		w, err := db.CreateAddress(ctx, &ipdesk.Address{SpaceID: s.ID, Addr: netip.MustParseAddr("10.0.0.2"), Hostname: "lab"})
		want := "10.0.0.4, 10.0.0.6, 10.0.0.8, 10.0.0.50, 10.0.0.70"
		if err != nil || len(w) != 1 || !strings.HasSuffix(w[0].Message, "used by "+want) {
			t.Fatalf("create: warnings %v, %v; want the list %s", w, err, want)
		}
		// The record itself is no other user of its name.
		a, _ := db.FindAddressByID(ctx, 1)
		_, w, err = db.UpdateAddress(ctx, a.ID, ipdesk.AddressUpdate{Owner: ptr("x")})
		want = "10.0.0.2, 10.0.0.4, 10.0.0.6, 10.0.0.8, 10.0.0.50"
		if err != nil || a.Addr.String() != "10.0.0.90" || len(w) != 1 || !strings.HasSuffix(w[0].Message, "used by "+want) {
			t.Fatalf("update of %s: warnings %v, %v; want the list %s", a.Addr, w, err, want)
		}
		w, err = db.CreateAddress(ctx, &ipdesk.Address{SpaceID: s.ID, Addr: netip.MustParseAddr("10.0.0.200")})
		if err != nil || len(w) != 0 {
			t.Fatalf("a host without a name: warnings %v, %v", w, err)
		}
	})
}

// TestImportFindsStoredRecords runs the same rows against the same stored
// records twice: once with fewer rows than stored addresses, when the
// import looks up the rows' addresses, MACs and hostnames, and once with
// more, when it reads the stored addresses whole. Both must see the
// stored record at a row's address, a MAC it holds and a hostname it uses.
func TestImportFindsStoredRecords(t *testing.T) {
	for _, filler := range []int{0, 20} {
		t.Run(fmt.Sprintf("filler=%d", filler), func(t *testing.T) {
			sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
				s := mustSpace(t, db, "a")
				mustPrefix(t, db, s.ID, "10.0.0.0/24", ipdesk.PrefixSubnet)
				for i := 1; i <= 5; i++ {
					mustAddr(t, db, s.ID, fmt.Sprintf("10.0.0.%d", i), func(a *ipdesk.Address) {
						a.Hostname = fmt.Sprintf("pc%d", i)
						a.MAC = mustMAC(fmt.Sprintf("aa:aa:aa:aa:aa:%02x", i))
					})
				}
				rows := []*ipdesk.Address{
					{Addr: netip.MustParseAddr("10.0.0.1"), Hostname: "pc1", MAC: mustMAC("aa:aa:aa:aa:aa:01"), Owner: "new owner"}, // updates
					{Addr: netip.MustParseAddr("10.0.0.100"), Hostname: "PC2"},                                                      // warns
				}
				for i := range filler {
					rows = append(rows, &ipdesk.Address{Addr: netip.MustParseAddr(fmt.Sprintf("10.0.0.%d", 150+i))})
				}
				taken := &ipdesk.Address{Addr: netip.MustParseAddr("10.0.0.101"), MAC: mustMAC("aa-aa-aa-aa-aa-03")}
				for _, a := range append(rows, taken) {
					a.SpaceID = s.ID
				}
				res, err := db.ImportAddresses(ctx, append(rows, taken), true)
				if err != nil || len(res.Problems) != 1 || res.Problems[0].Field != "mac" || !strings.Contains(res.Problems[0].Error, "10.0.0.3") {
					t.Fatalf("a MAC a stored record holds: %+v %v", res.Problems, err)
				}
				res, err = db.ImportAddresses(ctx, rows, false)
				if err != nil || res.Updated != 1 || res.Created != 1+filler || len(res.Warnings) != 1 || res.Warnings[0].Row != 2 ||
					!strings.Contains(res.Warnings[0].Warning.Message, "10.0.0.2") {
					t.Fatalf("import: %+v %v", res, err)
				}
				if a, _ := db.FindAddressByID(ctx, 1); a.Owner != "new owner" || a.Version != 2 {
					t.Fatalf("the stored record at the row's address: %+v", a)
				}
			})
		})
	}
}

// TestAllocateChecksTemplate: an allocation checks its record as a create
// does (the checks go with the read of the subnet in one round trip on
// PostgreSQL): a MAC bound in the subnet, a missing location or access
// level are refused and store nothing, a repeated hostname warns, and the
// same holds for allocations that share a group commit.
func TestAllocateChecksTemplate(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "alloc-checks")
		p := mustPrefix(t, db, s.ID, "10.20.0.0/24", ipdesk.PrefixSubnet)
		other := mustPrefix(t, db, s.ID, "10.20.1.0/24", ipdesk.PrefixSubnet)
		mustAddr(t, db, s.ID, "10.20.0.1", func(a *ipdesk.Address) {
			a.MAC = mustMAC("02:00:00:00:00:01")
			a.Hostname = "printer"
		})
		cases := []struct {
			name  string
			tmpl  ipdesk.Address
			code  string
			field string
			says  string
		}{
			{"mac taken in subnet", ipdesk.Address{MAC: mustMAC("02:00:00:00:00:01")}, ipdesk.ECONFLICT, "mac", "10.20.0.1"},
			{"no such location", ipdesk.Address{LocationID: 999}, ipdesk.EINVALID, "location_id", "999"},
			{"no such level", ipdesk.Address{AccessLevel: 42}, ipdesk.EINVALID, "access_level", "42"},
			{"bad hostname", ipdesk.Address{Hostname: "a;b"}, ipdesk.EINVALID, "hostname", "a;b"},
		}
		before := auditCount(t, db)
		check := func(t *testing.T, err error, code, field, says string) {
			t.Helper()
			wantCode(t, err, code)
			if ipdesk.ErrorField(err) != field || !strings.Contains(ipdesk.ErrorMessage(err), says) {
				t.Fatalf("error %v: want field %q and a message naming %q", err, field, says)
			}
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				x := c.tmpl
				_, err := db.AllocateAddress(ctx, p.ID, netip.Addr{}, &x)
				check(t, err, c.code, c.field, c.says)
			})
		}
		if n := auditCount(t, db); n != before {
			t.Fatalf("refused allocations wrote %d audit entries", n-before)
		}
		// In one group: the refused ones fail alone, the others are stored.
		queued, release := sqldb.HoldWrites(db)
		errs := make([]error, len(cases)+2)
		warns := make([][]ipdesk.Warning, len(errs))
		tmpls := make([]ipdesk.Address, len(errs))
		var wg sync.WaitGroup
		for i := range errs {
			switch {
			case i < len(cases):
				tmpls[i] = cases[i].tmpl
			case i == len(cases):
				tmpls[i] = ipdesk.Address{Hostname: "PRINTER", MAC: mustMAC("02:00:00:00:00:02")}
			default:
				tmpls[i] = ipdesk.Address{Hostname: "fresh"}
			}
			wg.Go(func() { warns[i], errs[i] = db.AllocateAddress(ctx, p.ID, netip.Addr{}, &tmpls[i]) })
			waitQueued(t, queued, i+1)
		}
		release()
		wg.Wait()
		for i, c := range cases {
			check(t, errs[i], c.code, c.field, c.says)
		}
		dup := len(cases)
		if errs[dup] != nil || len(warns[dup]) != 1 || warns[dup][0].Code != ipdesk.WDuplicateHostname || !strings.Contains(warns[dup][0].Message, "10.20.0.1") {
			t.Fatalf("a repeated hostname: %v %v, want a warning naming 10.20.0.1", warns[dup], errs[dup])
		}
		if errs[dup+1] != nil || len(warns[dup+1]) != 0 {
			t.Fatalf("a good allocation: %v %v", warns[dup+1], errs[dup+1])
		}
		if tmpls[dup].Addr != netip.MustParseAddr("10.20.0.2") || tmpls[dup+1].Addr != netip.MustParseAddr("10.20.0.3") {
			t.Fatalf("allocated %v and %v, want 10.20.0.2 and 10.20.0.3", tmpls[dup].Addr, tmpls[dup+1].Addr)
		}
		if n := auditCount(t, db); n != before+2 {
			t.Fatalf("%d audit entries written, want 2", n-before)
		}
		// The MAC of the subnet's record is free in the other subnet.
		x := ipdesk.Address{MAC: mustMAC("02:00:00:00:00:01")}
		if _, err := db.AllocateAddress(ctx, other.ID, netip.Addr{}, &x); err != nil || x.Addr != netip.MustParseAddr("10.20.1.1") {
			t.Fatalf("the same MAC in another subnet: %v at %v", err, x.Addr)
		}
		// The allocated records are found by the search (on PostgreSQL
		// their notes for the search index go with their insert).
		for _, a := range []*ipdesk.Address{&tmpls[dup], &tmpls[dup+1], &x} {
			q := a.Addr.String()
			if a.Hostname != "" {
				q = a.Hostname[1:]
			}
			got, _, err := db.FindAddresses(ctx, ipdesk.AddressFilter{Query: q})
			if err != nil || !slices.ContainsFunc(got, func(g *ipdesk.Address) bool { return g.ID == a.ID }) {
				t.Errorf("the search for %q does not find the allocated %v: %v", q, a.Addr, err)
			}
		}
	})
}

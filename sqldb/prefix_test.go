package sqldb_test

import (
	"net/netip"
	"strings"
	"sync"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

func TestSpaces(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "school")
		wantCode(t, db.CreateSpace(ctx, &ipdesk.Space{Name: "school"}), ipdesk.ECONFLICT)
		wantCode(t, db.CreateSpace(ctx, &ipdesk.Space{Name: "bad\nname"}), ipdesk.EINVALID)
		stale := int64(7)
		_, err := db.UpdateSpace(ctx, s.ID, ipdesk.SpaceUpdate{Description: ptr("x"), Version: &stale})
		wantCode(t, err, ipdesk.EPRECONDITION)
		v := s.Version
		u, err := db.UpdateSpace(ctx, s.ID, ipdesk.SpaceUpdate{Description: ptr("main campus"), Version: &v})
		if err != nil || u.Version != v+1 || u.Description != "main campus" {
			t.Fatalf("UpdateSpace = %+v, %v", u, err)
		}
		_, err = db.FindSpaceByID(ctx, 999)
		wantCode(t, err, ipdesk.ENOTFOUND)
		mustPrefix(t, db, s.ID, "10.0.0.0/24", ipdesk.PrefixSubnet)
		wantCode(t, db.DeleteSpace(ctx, s.ID, ipdesk.DeleteOptions{}), ipdesk.ECONFLICT)
		if err := db.DeleteSpace(ctx, s.ID, ipdesk.DeleteOptions{Cascade: true}); err != nil {
			t.Fatal(err)
		}
		entries, _, _ := db.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: ptr(ipdesk.ObjectSpace)})
		if len(entries) != 3 || entries[0].Action != ipdesk.ActionDelete || entries[2].Actor != "tester" {
			t.Fatalf("audit entries %+v", entries)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestPrefixRules(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		other := mustSpace(t, db, "b")
		big := mustPrefix(t, db, s.ID, "10.0.0.0/16", ipdesk.PrefixContainer)
		sub := mustPrefix(t, db, s.ID, "10.0.1.0/24", ipdesk.PrefixSubnet)
		if sub.ParentID != big.ID {
			t.Fatalf("parent of %s = %d, want %d", sub.Prefix, sub.ParentID, big.ID)
		}
		before := auditCount(t, db)
		refused := []struct {
			cidr string
			kind ipdesk.PrefixKind
			code string
			msg  string
		}{
			{"10.0.1.0/24", ipdesk.PrefixSubnet, ipdesk.ECONFLICT, "already exists"},
			{"10.0.1.128/25", ipdesk.PrefixSubnet, ipdesk.ECONFLICT, "subnet 10.0.1.0/24"},
			{"10.0.1.128/25", ipdesk.PrefixContainer, ipdesk.ECONFLICT, "subnet 10.0.1.0/24"},
			{"10.0.0.0/23", ipdesk.PrefixSubnet, ipdesk.ECONFLICT, "cannot contain"},
			{"10.0.0.0/15", ipdesk.PrefixSubnet, ipdesk.ECONFLICT, "cannot contain"},
		}
		for _, r := range refused {
			_, err := db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: s.ID, Prefix: netip.MustParsePrefix(r.cidr), Kind: r.kind})
			wantCode(t, err, r.code)
			if !strings.Contains(ipdesk.ErrorMessage(err), r.msg) || !strings.Contains(ipdesk.ErrorMessage(err), r.cidr) {
				t.Errorf("%s %s: message %q should name the prefix and say %q", r.kind, r.cidr, ipdesk.ErrorMessage(err), r.msg)
			}
		}
		_, err := db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: s.ID, Prefix: netip.MustParsePrefix("10.0.1.5/24")})
		wantCode(t, err, ipdesk.EINVALID)
		if ipdesk.ErrorField(err) != "prefix" || !strings.Contains(ipdesk.ErrorMessage(err), "10.0.1.0/24") {
			t.Errorf("host bits error %v", err)
		}
		if n := auditCount(t, db); n != before {
			t.Fatalf("refused changes wrote %d audit entries", n-before)
		}
		// A container slid in between takes the subnet as its child.
		mid := mustPrefix(t, db, s.ID, "10.0.0.0/20", ipdesk.PrefixContainer)
		if mid.ParentID != big.ID {
			t.Fatalf("parent of middle container = %d", mid.ParentID)
		}
		got, _ := db.FindPrefixByID(ctx, sub.ID)
		if got.ParentID != mid.ID {
			t.Fatalf("subnet was not re-parented: parent %d, want %d", got.ParentID, mid.ID)
		}
		// Across spaces an overlap is allowed with a warning naming it.
		w, err := db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: other.ID, Prefix: netip.MustParsePrefix("10.0.1.0/24")})
		if err != nil || len(w) != 1 || w[0].Code != ipdesk.WOverlapOtherSpace || !strings.Contains(w[0].Message, "10.0.1.0/24") {
			t.Fatalf("cross-space overlap: %v %v", w, err)
		}
		// IPv6 nests too.
		v6 := mustPrefix(t, db, s.ID, "2001:db8::/48", ipdesk.PrefixContainer)
		v6sub := mustPrefix(t, db, s.ID, "2001:db8:0:1::/64", ipdesk.PrefixSubnet)
		if v6sub.ParentID != v6.ID {
			t.Fatalf("v6 parent %d", v6sub.ParentID)
		}
		// Kind changes respect the rules.
		_, err = db.UpdatePrefix(ctx, mid.ID, ipdesk.PrefixUpdate{Kind: ptr(ipdesk.PrefixSubnet)})
		wantCode(t, err, ipdesk.ECONFLICT)
		mustAddr(t, db, s.ID, "10.0.1.10", nil)
		_, err = db.UpdatePrefix(ctx, sub.ID, ipdesk.PrefixUpdate{Kind: ptr(ipdesk.PrefixContainer)})
		wantCode(t, err, ipdesk.ECONFLICT)
		_, err = db.UpdatePrefix(ctx, sub.ID, ipdesk.PrefixUpdate{Gateway: ptr(netip.MustParseAddr("10.0.2.1"))})
		wantCode(t, err, ipdesk.EINVALID)
		if _, err := db.UpdatePrefix(ctx, sub.ID, ipdesk.PrefixUpdate{Gateway: ptr(netip.MustParseAddr("10.0.1.1")), DHCP: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		// Deleting a prefix with children or addresses needs cascade.
		wantCode(t, db.DeletePrefix(ctx, mid.ID, ipdesk.DeleteOptions{}), ipdesk.ECONFLICT)
		wantCode(t, db.DeletePrefix(ctx, sub.ID, ipdesk.DeleteOptions{}), ipdesk.ECONFLICT)
		if err := db.DeletePrefix(ctx, mid.ID, ipdesk.DeleteOptions{Cascade: true}); err != nil {
			t.Fatal(err)
		}
		if _, n, _ := db.FindAddresses(ctx, ipdesk.AddressFilter{SpaceID: &s.ID}); n != 0 {
			t.Fatalf("%d addresses left after cascade", n)
		}
		if _, err := db.FindPrefixByID(ctx, sub.ID); ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
			t.Fatalf("subnet survived cascade: %v", err)
		}
		ps, n, err := db.FindPrefixes(ctx, ipdesk.PrefixFilter{SpaceID: &s.ID, Contains: ptr(netip.MustParseAddr("10.0.1.1"))})
		if err != nil || n != 1 || ps[0].ID != big.ID {
			t.Fatalf("FindPrefixes contains: %v %d %v", ps, n, err)
		}
	})
}

func TestPrefixAllocation(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		c := mustPrefix(t, db, s.ID, "10.0.0.0/22", ipdesk.PrefixContainer)
		mustPrefix(t, db, s.ID, "10.0.0.0/25", ipdesk.PrefixSubnet)
		next, err := db.NextFreePrefix(ctx, c.ID, 24)
		if err != nil || next.String() != "10.0.1.0/24" {
			t.Fatalf("NextFreePrefix = %s, %v", next, err)
		}
		free, err := db.AvailablePrefixes(ctx, c.ID, ipdesk.Page{})
		if err != nil || len(free) != 2 || free[0].String() != "10.0.0.128/25" || free[1].String() != "10.0.1.0/24" && free[1].String() != "10.0.2.0/23" {
			t.Logf("available %v", free)
		}
		_, err = db.NextFreePrefix(ctx, c.ID, 21)
		wantCode(t, err, ipdesk.EINVALID)
		// Concurrent allocations of /24s: three fit, then a clean conflict.
		var wg sync.WaitGroup
		results := make([]*ipdesk.Prefix, 6)
		errs := make([]error, 6)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := &ipdesk.Prefix{Description: "auto"}
				_, errs[i] = db.AllocatePrefix(ctx, c.ID, 24, p)
				results[i] = p
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		ok := 0
		for i, err := range errs {
			if err != nil {
				wantCode(t, err, ipdesk.ECONFLICT)
				continue
			}
			ok++
			if seen[results[i].Prefix.String()] {
				t.Fatalf("prefix %s allocated twice", results[i].Prefix)
			}
			seen[results[i].Prefix.String()] = true
		}
		if ok != 3 {
			t.Fatalf("%d allocations succeeded, want 3 (%v)", ok, seen)
		}
		u, err := db.PrefixUsage(ctx, c.ID)
		if err != nil || u.Size != 1024 || u.Used != 128+3*256 {
			t.Fatalf("usage %+v %v", u, err)
		}
	})
}

package sqldb_test

import (
	"net/netip"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/ipam"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestPrefixUsages: the batch gives what PrefixUsage gives one by one,
// for subnets and containers, cold and cached, and leaves unknown ids out.
func TestPrefixUsages(t *testing.T) {
	if 1<<ipam.ChunkBits != ipdesk.BlockSize {
		t.Fatalf("ipam counts use in chunks of %d addresses, ipdesk.BlockSize is %d", 1<<ipam.ChunkBits, ipdesk.BlockSize)
	}
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		a := mustSpace(t, db, "a")
		b := mustSpace(t, db, "b")
		top := mustPrefix(t, db, a.ID, "10.0.0.0/16", ipdesk.PrefixContainer)
		mid := mustPrefix(t, db, a.ID, "10.0.4.0/22", ipdesk.PrefixContainer)
		s1 := mustPrefix(t, db, a.ID, "10.0.1.0/24", ipdesk.PrefixSubnet)
		s2 := mustPrefix(t, db, a.ID, "10.0.4.0/24", ipdesk.PrefixSubnet)
		empty := mustPrefix(t, db, a.ID, "10.0.9.0/24", ipdesk.PrefixSubnet)
		v6 := mustPrefix(t, db, b.ID, "2001:db8::/64", ipdesk.PrefixSubnet)
		other := mustPrefix(t, db, b.ID, "10.0.0.0/8", ipdesk.PrefixContainer)
		for _, ip := range []string{"10.0.1.1", "10.0.1.2", "10.0.1.200"} {
			mustAddr(t, db, a.ID, ip, nil)
		}
		mustAddr(t, db, a.ID, "10.0.4.9", nil)
		mustAddr(t, db, b.ID, "2001:db8::1", nil)
		mustAddr(t, db, b.ID, "2001:db8::1:0:5", nil)
		ids := []int64{top.ID, mid.ID, s1.ID, s2.ID, empty.ID, v6.ID, other.ID, 99999, s1.ID}
		for round := 0; round < 2; round++ { // the second round reads the cache
			got, err := db.PrefixUsages(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got[99999]; ok || len(got) != 7 {
				t.Fatalf("round %d: %d usages %v, want 7 without the unknown id", round, len(got), got)
			}
			for _, id := range ids[:7] {
				want, err := db.PrefixUsage(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if got[id] != want {
					t.Errorf("round %d: usage of prefix %d = %+v, PrefixUsage says %+v", round, id, got[id], want)
				}
			}
			if got[s1.ID] != (ipdesk.Usage{Size: 254, Used: 3}) || got[mid.ID] != (ipdesk.Usage{Size: 1024, Used: 256}) {
				t.Fatalf("round %d: subnet %+v, container %+v", round, got[s1.ID], got[mid.ID])
			}
		}
		if got, err := db.PrefixUsages(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("no ids: %v, %v", got, err)
		}
		// A new child shows in the container's use at once.
		mustPrefix(t, db, a.ID, "10.0.5.0/24", ipdesk.PrefixSubnet)
		got, err := db.PrefixUsages(ctx, []int64{mid.ID})
		if err != nil || got[mid.ID].Used != 512 {
			t.Fatalf("after a new child: %+v, %v", got[mid.ID], err)
		}
	})
}

// TestBlockUsage: the blocks holding addresses, counted, inside a window
// of the subnet; containers are refused.
func TestBlockUsage(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		big := mustPrefix(t, db, s.ID, "10.2.0.0/16", ipdesk.PrefixSubnet)
		small := mustPrefix(t, db, s.ID, "10.3.0.16/28", ipdesk.PrefixSubnet)
		v6 := mustPrefix(t, db, s.ID, "2001:db8::/64", ipdesk.PrefixSubnet)
		box := mustPrefix(t, db, s.ID, "10.8.0.0/16", ipdesk.PrefixContainer)
		for _, ip := range []string{"10.2.0.5", "10.2.0.6", "10.2.7.1", "10.2.255.254", "10.3.0.17", "2001:db8::1fe", "2001:db8::1ff"} {
			mustAddr(t, db, s.ID, ip, nil)
		}
		type want struct {
			start string
			used  int
		}
		check := func(id int64, within string, page ipdesk.Page, w ...want) {
			t.Helper()
			var wp netip.Prefix
			if within != "" {
				wp = netip.MustParsePrefix(within)
			}
			got, err := db.BlockUsage(ctx, id, wp, page)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(w) {
				t.Fatalf("BlockUsage(%d, %q) = %v, want %v", id, within, got, w)
			}
			for i := range w {
				if got[i].Start.String() != w[i].start || got[i].Used != w[i].used {
					t.Fatalf("BlockUsage(%d, %q)[%d] = %v, want %v", id, within, i, got[i], w[i])
				}
			}
		}
		check(big.ID, "", ipdesk.Page{}, want{"10.2.0.0", 2}, want{"10.2.7.0", 1}, want{"10.2.255.0", 1})
		check(big.ID, "10.2.4.0/22", ipdesk.Page{}, want{"10.2.7.0", 1})
		check(big.ID, "10.2.0.0/16", ipdesk.Page{Offset: 1, Limit: 1}, want{"10.2.7.0", 1})
		check(big.ID, "10.9.0.0/16", ipdesk.Page{})
		check(small.ID, "", ipdesk.Page{}, want{"10.3.0.0", 1})
		check(v6.ID, "2001:db8::/112", ipdesk.Page{}, want{"2001:db8::100", 2})
		_, err := db.BlockUsage(ctx, box.ID, netip.Prefix{}, ipdesk.Page{})
		wantCode(t, err, ipdesk.EINVALID)
		_, err = db.BlockUsage(ctx, big.ID, netip.MustParsePrefix("2001:db8::/64"), ipdesk.Page{})
		wantCode(t, err, ipdesk.EINVALID)
		_, err = db.BlockUsage(ctx, 4242, netip.Prefix{}, ipdesk.Page{})
		wantCode(t, err, ipdesk.ENOTFOUND)
	})
}

// TestSubnetAddresses: a walk through a subnet's addresses from any
// address on, in order, in steps.
func TestSubnetAddresses(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		sub := mustPrefix(t, db, s.ID, "10.4.0.0/16", ipdesk.PrefixSubnet)
		other := mustPrefix(t, db, s.ID, "10.5.0.0/24", ipdesk.PrefixSubnet)
		box := mustPrefix(t, db, s.ID, "10.8.0.0/16", ipdesk.PrefixContainer)
		ips := []string{"10.4.0.1", "10.4.0.2", "10.4.1.7", "10.4.200.1", "10.4.255.254"}
		for _, ip := range ips {
			mustAddr(t, db, s.ID, ip, nil)
		}
		mustAddr(t, db, s.ID, "10.5.0.9", nil)
		var walked []string
		from := netip.Addr{}
		for step := 0; step < 10; step++ {
			got, err := db.SubnetAddresses(ctx, sub.ID, from, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range got {
				walked = append(walked, a.Addr.String())
			}
			if len(got) < 2 {
				break
			}
			from = got[len(got)-1].Addr.Next()
		}
		if strings.Join(walked, " ") != strings.Join(ips, " ") {
			t.Fatalf("walk: %v, want %v", walked, ips)
		}
		got, err := db.SubnetAddresses(ctx, sub.ID, netip.MustParseAddr("10.4.1.8"), 10)
		if err != nil || len(got) != 2 || got[0].Addr.String() != "10.4.200.1" {
			t.Fatalf("from 10.4.1.8: %v %v", got, err)
		}
		if got, err := db.SubnetAddresses(ctx, sub.ID, netip.MustParseAddr("10.9.0.0"), 10); err != nil || len(got) != 0 {
			t.Fatalf("from past the end: %v %v", got, err)
		}
		if got, err := db.SubnetAddresses(ctx, other.ID, netip.Addr{}, 10); err != nil || len(got) != 1 {
			t.Fatalf("the other subnet: %v %v", got, err)
		}
		_, err = db.SubnetAddresses(ctx, sub.ID, netip.MustParseAddr("2001:db8::1"), 10)
		wantCode(t, err, ipdesk.EINVALID)
		_, err = db.SubnetAddresses(ctx, box.ID, netip.Addr{}, 10)
		wantCode(t, err, ipdesk.EINVALID)
	})
}

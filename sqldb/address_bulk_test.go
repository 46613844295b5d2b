package sqldb_test

import (
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestUpdateAddresses: a bulk change writes every record and audits each,
// or, when one record is refused (a stale version, a bad value, a missing
// record), writes none and names that record.
func TestUpdateAddresses(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		mustPrefix(t, db, s.ID, "10.0.0.0/24", ipdesk.PrefixSubnet)
		mustPrefix(t, db, s.ID, "10.0.1.0/24", ipdesk.PrefixSubnet)
		a := mustAddr(t, db, s.ID, "10.0.0.5", func(a *ipdesk.Address) { a.Hostname = "pc5" })
		b := mustAddr(t, db, s.ID, "10.0.1.6", nil)
		c := mustAddr(t, db, s.ID, "10.0.1.7", func(a *ipdesk.Address) { a.AccessLevel = 1 })
		level := 3
		upd := ipdesk.AddressUpdate{AccessLevel: &level}

		before := auditCount(t, db)
		for _, bad := range []struct {
			name  string
			refs  []ipdesk.AddressRef
			upd   ipdesk.AddressUpdate
			code  string
			field string
			says  string
		}{
			{"stale version", []ipdesk.AddressRef{{ID: a.ID, Version: a.Version}, {ID: b.ID, Version: b.Version + 1}}, upd, ipdesk.EPRECONDITION, "", "10.0.1.6"},
			{"missing record", []ipdesk.AddressRef{{ID: a.ID}, {ID: 9999}}, upd, ipdesk.ENOTFOUND, "", "9999"},
			{"no such level", []ipdesk.AddressRef{{ID: a.ID}, {ID: b.ID}}, ipdesk.AddressUpdate{AccessLevel: ptr(42)}, ipdesk.EINVALID, "access_level", "10.0.0.5 (pc5)"},
			{"one MAC for two hosts of a subnet", []ipdesk.AddressRef{{ID: b.ID}, {ID: c.ID}}, ipdesk.AddressUpdate{MAC: ptr(mustMAC("02:00:00:00:00:01"))}, ipdesk.ECONFLICT, "mac", "10.0.1.7"},
			{"an address", []ipdesk.AddressRef{{ID: a.ID}}, ipdesk.AddressUpdate{Addr: &a.Addr}, ipdesk.EINVALID, "address", "several hosts"},
			{"nothing", nil, upd, ipdesk.EINVALID, "id", "no addresses"},
		} {
			t.Run(bad.name, func(t *testing.T) {
				_, err := db.UpdateAddresses(ctx, bad.refs, bad.upd)
				wantCode(t, err, bad.code)
				if ipdesk.ErrorField(err) != bad.field || !strings.Contains(ipdesk.ErrorMessage(err), bad.says) {
					t.Fatalf("error %v: want field %q and a message naming %q", err, bad.field, bad.says)
				}
			})
		}
		if n := auditCount(t, db); n != before {
			t.Fatalf("refused bulk changes wrote %d audit entries", n-before)
		}
		for _, x := range []*ipdesk.Address{a, b, c} {
			got, err := db.FindAddressByID(ctx, x.ID)
			if err != nil || got.AccessLevel != x.AccessLevel || got.Version != x.Version {
				t.Fatalf("a refused bulk change changed %s: %+v %v", x.Addr, got, err)
			}
		}

		out, err := db.UpdateAddresses(ctx, []ipdesk.AddressRef{{ID: a.ID, Version: a.Version}, {ID: b.ID}, {ID: c.ID}, {ID: a.ID}}, upd)
		if err != nil || len(out) != 3 {
			t.Fatalf("bulk change: %v %v", out, err)
		}
		for _, x := range []*ipdesk.Address{a, b, c} {
			got, err := db.FindAddressByID(ctx, x.ID)
			if err != nil || got.AccessLevel != 3 || got.Version != x.Version+1 || got.Hostname != x.Hostname {
				t.Fatalf("after the bulk change %s is %+v %v", x.Addr, got, err)
			}
		}
		if n := auditCount(t, db); n != before+3 {
			t.Fatalf("a bulk change of 3 records wrote %d audit entries", n-before)
		}
	})
}

// TestFindLocationsByIDs: the batch lookup returns exactly the locations
// asked for; an empty list finds none.
func TestFindLocationsByIDs(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Main"}
		if err := db.CreateLocation(ctx, site); err != nil {
			t.Fatal(err)
		}
		var rooms []int64
		for _, name := range []string{"101", "102", "103"} {
			r := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: name, ParentID: site.ID, Phones: []string{"+49 " + name}}
			if err := db.CreateLocation(ctx, r); err != nil {
				t.Fatal(err)
			}
			rooms = append(rooms, r.ID)
		}
		ids := []int64{rooms[2], site.ID, 9999}
		got, n, err := db.FindLocations(ctx, ipdesk.LocationFilter{IDs: &ids})
		if err != nil || n != 2 || len(got) != 2 || got[0].Name != "103" || got[1].Name != "Main" || len(got[0].Phones) != 1 {
			t.Fatalf("IDs %v: %d %+v %v", ids, n, got, err)
		}
		none := []int64{}
		if got, n, err := db.FindLocations(ctx, ipdesk.LocationFilter{IDs: &none}); err != nil || n != 0 || len(got) != 0 {
			t.Fatalf("no IDs: %d %v %v", n, got, err)
		}
	})
}

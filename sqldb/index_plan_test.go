package sqldb_test

import (
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestSparseIndexesServeLookups: the indexes on the MAC and the location
// hold only the addresses that have one (migration 0014), and the lookups
// by MAC, by location and by a search for a MAC still find their rows
// through them on both databases.
func TestSparseIndexesServeLookups(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "lan")
		mustPrefix(t, db, s.ID, "10.1.0.0/24", ipdesk.PrefixSubnet)
		loc := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Main site"}
		if err := db.CreateLocation(ctx, loc); err != nil {
			t.Fatal(err)
		}
		mac := mustMAC("52:54:00:00:00:01")
		mustAddr(t, db, s.ID, "10.1.0.10", func(a *ipdesk.Address) { a.MAC = mac; a.LocationID = loc.ID })
		mustAddr(t, db, s.ID, "10.1.0.11", nil)
		locID := loc.ID
		for _, tt := range []struct {
			name  string
			f     ipdesk.AddressFilter
			index string
		}{
			{"mac", ipdesk.AddressFilter{MAC: &mac}, "addresses_mac"},
			{"search for a mac", ipdesk.AddressFilter{Query: "5254.0000.0001"}, "addresses_mac"},
			{"location", ipdesk.AddressFilter{LocationID: &locID}, "addresses_location"},
		} {
			plan, err := sqldb.ExplainAddressFilter(ctx, db, tt.f)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !strings.Contains(plan, tt.index) {
				t.Errorf("%s: the plan does not use %s:\n%s", tt.name, tt.index, plan)
			}
			got, n, err := db.FindAddresses(ctx, tt.f)
			if err != nil || n != 1 || len(got) != 1 || got[0].Addr.String() != "10.1.0.10" {
				t.Errorf("%s: found %d %v, %v; want 10.1.0.10 alone", tt.name, n, got, err)
			}
		}
		none := ipdesk.MAC{}
		if _, n, err := db.FindAddresses(ctx, ipdesk.AddressFilter{MAC: &none}); err != nil || n != 1 {
			t.Errorf("addresses without a MAC: %d, %v; want 1", n, err)
		}
	})
}

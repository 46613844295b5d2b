package outputs

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestLeftOutIsolated: a reservation that clashes with one of another
// space is left out of the outputs that serve both spaces, and of those
// only; every other host is written, and the output's state lists what
// was left out and why.
func TestLeftOutIsolated(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		p := newPlan(t, db)
		first := p.host(t, p.school, "10.0.0.5", "02:00:00:00:00:05", "first", nil)
		second := p.host(t, p.lab, "10.0.0.5", "02:00:00:00:00:55", "second", nil)
		twin := p.host(t, p.lab, "10.0.0.6", "02:00:00:00:00:05", "twin", nil)
		p.host(t, p.lab, "10.0.0.7", "02:00:00:00:00:07", "labonly", nil)
		p.host(t, p.school, "10.0.0.8", "02:00:00:00:00:08", "good", nil)

		dir := t.TempDir()
		specs := []Spec{
			{Name: "all", Kind: apply.KindISCDHCP, Path: filepath.Join(dir, "all.hosts")},
			{Name: "school", Kind: apply.KindISCDHCP, Path: filepath.Join(dir, "school.hosts"), Spaces: []string{"school"}},
			{Name: "kea", Kind: apply.KindKea, Path: filepath.Join(dir, "kea.json")},
			{Name: "dnsmasq", Kind: apply.KindDnsmasq, Path: filepath.Join(dir, "dnsmasq.hosts")},
		}
		s, err := New(db, specs, Config{Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		runs, err := s.ApplyNow(admin, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Status != ipdesk.ApplyApplied {
				t.Fatalf("%s: %s %s", r.Target, r.Status, r.Message)
			}
		}
		all := readFile(t, specs[0].Path)
		if !contains(all, "first-10-0-0-5", "labonly-10-0-0-7", "good-10-0-0-8") || strings.Contains(all, "second") || strings.Contains(all, "twin") {
			t.Errorf("all:\n%s", all)
		}
		kea := readFile(t, specs[2].Path)
		if !contains(kea, `"hostname":"first"`, `"hostname":"labonly"`, `"hostname":"good"`) || strings.Contains(kea, "second") || strings.Contains(kea, "twin") ||
			strings.Count(kea, `"subnet":"10.0.0.0/24"`) != 1 {
			t.Errorf("kea:\n%s", kea)
		}
		st, err := s.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]ipdesk.Output{}
		for _, o := range st {
			byName[o.Name] = o
		}
		want := map[int64]ipdesk.LeftOutReason{second.ID: ipdesk.LeftOutAddressTwice, twin.ID: ipdesk.LeftOutMACTwice}
		for _, name := range []string{"all", "kea", "dnsmasq"} {
			got := map[int64]ipdesk.LeftOutReason{}
			for _, l := range byName[name].LeftOut {
				if l.Object == ipdesk.ObjectAddress {
					got[l.ID] = l.Reason
					if l.OtherID != first.ID {
						t.Errorf("%s: %+v does not name the older record %d", name, l, first.ID)
					}
				} else if name != "kea" || l.ID != p.labNet.ID || l.Reason != ipdesk.LeftOutSubnetTwice || l.OtherID != p.dhcpNet.ID {
					t.Errorf("%s: left out %+v", name, l)
				}
			}
			if len(got) != len(want) || got[second.ID] != want[second.ID] || got[twin.ID] != want[twin.ID] {
				t.Errorf("%s left out %+v, want %v", name, byName[name].LeftOut, want)
			}
		}
		if n := len(byName["school"].LeftOut); n != 0 {
			t.Errorf("school left out %+v", byName["school"].LeftOut)
		}

		// With the scopes set, the store refuses new clashes where an
		// output serves both spaces, naming the field.
		db.SetReservationScopes(s.ReservationScopes())
		clash := &ipdesk.Address{SpaceID: p.school, Addr: netip.MustParseAddr("10.0.0.7"), MAC: mustMAC(t, "02:00:00:00:00:77"), DHCPReservation: true}
		if _, err := db.CreateAddress(admin, clash); ipdesk.ErrorCode(err) != ipdesk.ECONFLICT || ipdesk.ErrorField(err) != "address" ||
			strings.Contains(ipdesk.ErrorMessage(err), "labonly") {
			t.Errorf("same address: %v", err)
		}
		mac := &ipdesk.Address{SpaceID: p.lab, Addr: netip.MustParseAddr("10.0.0.9"), MAC: mustMAC(t, "02:00:00:00:00:08"), DHCPReservation: true}
		if _, err := db.CreateAddress(admin, mac); ipdesk.ErrorCode(err) != ipdesk.ECONFLICT || ipdesk.ErrorField(err) != "mac" {
			t.Errorf("same MAC: %v", err)
		}
		// An update that makes the clash is refused too; without the
		// reservation the record may have the address.
		moved := netip.MustParseAddr("10.0.0.8")
		if _, _, err := db.UpdateAddress(admin, twin.ID, ipdesk.AddressUpdate{Addr: &moved}); ipdesk.ErrorCode(err) != ipdesk.ECONFLICT || ipdesk.ErrorField(err) != "address" {
			t.Errorf("update: %v", err)
		}
		clash.DHCPReservation = false
		if _, err := db.CreateAddress(admin, clash); err != nil {
			t.Errorf("the same address without a reservation: %v", err)
		}
		// Outputs that serve one space only do not make a clash.
		only, err := New(db, specs[1:2], Config{Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		db.SetReservationScopes(only.ReservationScopes())
		ok := &ipdesk.Address{SpaceID: p.lab, Addr: netip.MustParseAddr("10.0.0.8"), MAC: mustMAC(t, "02:00:00:00:00:88"), DHCPReservation: true}
		if _, err := db.CreateAddress(admin, ok); err != nil {
			t.Errorf("no output serves both: %v", err)
		}
	})
}

func mustMAC(t *testing.T, s string) ipdesk.MAC {
	t.Helper()
	m, err := ipdesk.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

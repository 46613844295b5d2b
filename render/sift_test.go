package render

import (
	"encoding/json"
	"net/netip"
	"slices"
	"testing"

	"ipdesk"
)

// poisonedInput has everything a DHCP output cannot carry, spread over two
// spaces that share a prefix: an address reserved twice, a MAC reserved
// twice in one subnet (the same prefix in both spaces), a multicast and a
// broadcast MAC, the same subnet twice, and a MAC reserved in two different
// subnets (which is fine).
func poisonedInput() *Input {
	ip := netip.MustParseAddr
	in := &Input{Locations: map[int64]*ipdesk.Location{}}
	in.Subnets = []*ipdesk.Prefix{
		{ID: 20, SpaceID: 2, Prefix: netip.MustParsePrefix("10.0.0.0/24"), Kind: ipdesk.PrefixSubnet, DHCP: true},
		{ID: 10, SpaceID: 1, Prefix: netip.MustParsePrefix("10.0.0.0/24"), Kind: ipdesk.PrefixSubnet, DHCP: true},
		{ID: 11, SpaceID: 1, Prefix: netip.MustParsePrefix("10.0.1.0/24"), Kind: ipdesk.PrefixSubnet, DHCP: true},
		{ID: 12, SpaceID: 1, Prefix: netip.MustParsePrefix("2001:db8::/64"), Kind: ipdesk.PrefixSubnet, DHCP: true},
	}
	in.Hosts = []*ipdesk.Address{
		// Space 2 reserves 10.0.0.5 after space 1 did.
		{ID: 7, SpaceID: 2, PrefixID: 20, Addr: ip("10.0.0.5"), MAC: mac(7), Hostname: "intruder", DHCPReservation: true},
		{ID: 1, SpaceID: 1, PrefixID: 10, Addr: ip("10.0.0.5"), MAC: mac(1), Hostname: "pc1", DHCPReservation: true},
		// The same MAC in 10.0.0.0/24 of both spaces.
		{ID: 2, SpaceID: 1, PrefixID: 10, Addr: ip("10.0.0.6"), MAC: mac(2), Hostname: "pc2", DHCPReservation: true},
		{ID: 8, SpaceID: 2, PrefixID: 20, Addr: ip("10.0.0.8"), MAC: mac(2), Hostname: "twin", DHCPReservation: true},
		// The same MAC in another subnet: kept.
		{ID: 3, SpaceID: 1, PrefixID: 11, Addr: ip("10.0.1.6"), MAC: mac(2), Hostname: "pc2-vlan11", DHCPReservation: true},
		// Group MACs.
		{ID: 4, SpaceID: 1, PrefixID: 11, Addr: ip("10.0.1.7"), MAC: ipdesk.MAC{0x01, 0x00, 0x5e, 0, 0, 1}, DHCPReservation: true},
		{ID: 5, SpaceID: 1, PrefixID: 12, Addr: ip("2001:db8::5"), MAC: ipdesk.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, DHCPReservation: true},
		// A good host of space 2 and one of IPv6, and one that is no
		// reservation at the address of host 1.
		{ID: 9, SpaceID: 2, PrefixID: 20, Addr: ip("10.0.0.9"), MAC: mac(9), Hostname: "other-space", DHCPReservation: true},
		{ID: 6, SpaceID: 1, PrefixID: 12, Addr: ip("2001:db8::6"), MAC: mac(6), Hostname: "v6", DHCPReservation: true},
		{ID: 30, SpaceID: 2, PrefixID: 20, Addr: ip("10.0.0.5"), MAC: mac(30), Hostname: "noreservation"},
	}
	return in
}

// TestSiftGolden writes, for each DHCP writer, the records Sift leaves
// out and the file of what it keeps, and compares both with golden files.
// Every writer leaves out the same hosts of its families.
func TestSiftGolden(t *testing.T) {
	tests := []struct {
		name   string
		sieve  Sieve
		render func(*Input) ([]byte, error)
	}{
		{"iscdhcp4", Sieve{IPv4: true}, ISCDHCP},
		{"iscdhcp6", Sieve{IPv6: true}, ISCDHCP6},
		{"kea4", Sieve{IPv4: true, Kea: true}, KeaDHCP4},
		{"kea6", Sieve{IPv6: true, Kea: true}, KeaDHCP6},
		{"dnsmasq", Sieve{IPv4: true, IPv6: true}, Dnsmasq},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := poisonedInput()
			if _, err := tt.render(in); tt.name != "iscdhcp6" && tt.name != "kea6" && err == nil {
				t.Fatalf("the unsifted input renders without error; the fixture lost its poison")
			}
			kept, left := Sift(in, tt.sieve)
			data, err := tt.render(kept)
			if err != nil {
				t.Fatalf("the sifted input does not render: %v", err)
			}
			list, err := json.MarshalIndent(left, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "poisoned-"+tt.name+"-left-out", append(list, '\n'))
			checkGolden(t, "poisoned-"+tt.name, data)
		})
	}
}

// TestSiftRules checks which records each rule leaves out, for every
// writer alike: the older record keeps its place.
func TestSiftRules(t *testing.T) {
	reasons := func(left []ipdesk.LeftOut) map[int64]ipdesk.LeftOutReason {
		m := map[int64]ipdesk.LeftOutReason{}
		for _, l := range left {
			m[l.ID] = l.Reason
		}
		return m
	}
	in := poisonedInput()
	_, v4 := Sift(in, Sieve{IPv4: true})
	_, both := Sift(in, Sieve{IPv4: true, IPv6: true})
	_, kea := Sift(in, Sieve{IPv4: true, Kea: true})
	want4 := map[int64]ipdesk.LeftOutReason{7: ipdesk.LeftOutAddressTwice, 8: ipdesk.LeftOutMACTwice, 4: ipdesk.LeftOutMACMulticast}
	if got := reasons(v4); !mapsEqual(got, want4) {
		t.Errorf("isc-dhcp left out %v, want %v", got, want4)
	}
	wantBoth := map[int64]ipdesk.LeftOutReason{7: ipdesk.LeftOutAddressTwice, 8: ipdesk.LeftOutMACTwice, 4: ipdesk.LeftOutMACMulticast, 5: ipdesk.LeftOutMACMulticast}
	if got := reasons(both); !mapsEqual(got, wantBoth) {
		t.Errorf("dnsmasq left out %v, want %v", got, wantBoth)
	}
	// Kea: the same hosts, and prefix record 20 (10.0.0.0/24 again).
	var hosts []ipdesk.LeftOut
	for _, l := range kea {
		if l.Object == ipdesk.ObjectPrefix {
			if l.ID != 20 || l.Reason != ipdesk.LeftOutSubnetTwice || l.OtherID != 10 {
				t.Errorf("kea left out subnet %+v, want record 20 for subnet_twice of record 10", l)
			}
			continue
		}
		hosts = append(hosts, l)
	}
	if got := reasons(hosts); !mapsEqual(got, want4) || len(hosts) == len(kea) {
		t.Errorf("kea left out %+v", kea)
	}
	for _, l := range v4 {
		if l.Reason == ipdesk.LeftOutAddressTwice && l.OtherID != 1 || l.Reason == ipdesk.LeftOutMACTwice && l.OtherID != 2 {
			t.Errorf("%+v: the other record is not the older one", l)
		}
	}

	// The winner does not depend on the order of the input.
	rev := poisonedInput()
	slices.Reverse(rev.Hosts)
	slices.Reverse(rev.Subnets)
	_, again := Sift(rev, Sieve{IPv4: true, Kea: true})
	if !slices.EqualFunc(kea, again, func(x, y ipdesk.LeftOut) bool { return x == y }) {
		t.Errorf("the order of the input changed the result:\n%+v\n%+v", kea, again)
	}

	// A clean input loses nothing and is passed on as it is.
	clean := hostileInput()
	for _, sv := range []Sieve{{IPv4: true}, {IPv6: true}, {IPv4: true, IPv6: true}, {IPv4: true, Kea: true}, {IPv6: true, Kea: true}} {
		out, left := Sift(clean, sv)
		if len(left) != 0 || len(out.Hosts) != len(clean.Hosts) {
			t.Errorf("%+v: left out %+v of the clean input", sv, left)
		}
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

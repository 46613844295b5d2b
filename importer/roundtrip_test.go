package importer

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/render"
)

// generated returns n hosts with random addresses (IPv4 and IPv6), MACs,
// host names (valid, invalid, and names dnsmasq would misread), owners,
// descriptions and rooms full of quotes, semicolons, braces, hashes,
// backslashes, Cyrillic and emoji, as ipdesk would store them.
func generated(n int, seed uint64) *render.Input {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	locs := map[int64]*ipdesk.Location{
		1: {ID: 1, Name: "Главный корпус"},
		2: {ID: 2, ParentID: 1, Name: `Haus "B"; {Nord} # 2`},
		3: {ID: 3, ParentID: 2, Name: "Кабинет 303"},
		4: {ID: 4, ParentID: 2, Name: `Lab \ code 😀`},
		5: {ID: 5, Name: "Annex"},
	}
	hostnames := []string{"", "pc1", "PC-Upper.Example.ORG", "z303c5", "45m", "infinite", "3600", "ignore", "1.2.3.4", "code",
		"bad name!", "pc_1", "a-very-long-label-" + strings.Repeat("x", 40)}
	owners := []string{"", `Иванов "Ваня" И.И.`, `a"b\c`, "O'Brien", "code", "x;y", "#1 {admin}"}
	descs := []string{"", `printer; {evil} # not a comment \ code`, "emoji 😀🎉 and ZWJ 👩‍💻", "Кабинет 303", `quote " ; { } # code`,
		"; room: fake", "a; note: b", "host evil { hardware ethernet 00:00:00:00:00:01; }"}
	in := &render.Input{Locations: locs}
	seen := map[netip.Addr]bool{}
	for len(in.Hosts) < n {
		var a netip.Addr
		if rng.IntN(4) == 0 {
			var b [16]byte
			copy(b[:], netip.MustParseAddr("2001:db8::").AsSlice())
			for i := 8; i < 16; i++ {
				b[i] = byte(rng.IntN(256))
			}
			a = netip.AddrFrom16(b)
		} else {
			a = netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(256)), byte(rng.IntN(256))})
		}
		if seen[a] {
			continue
		}
		seen[a] = true
		var mac ipdesk.MAC
		for i := range mac {
			mac[i] = byte(rng.IntN(256))
		}
		mac[0] &^= 1 // unicast
		mac[5] |= 1  // never all zero
		in.Hosts = append(in.Hosts, &ipdesk.Address{
			ID: int64(len(in.Hosts) + 1), Addr: a, MAC: mac,
			Hostname:        hostnames[rng.IntN(len(hostnames))],
			Owner:           owners[rng.IntN(len(owners))],
			Description:     descs[rng.IntN(len(descs))],
			LocationID:      int64(rng.IntN(6)),
			AccessLevel:     rng.IntN(4),
			DHCPReservation: rng.IntN(10) != 0,
		})
	}
	return in
}

// expected returns the hosts a file written by render from in must give
// back: those with a reservation of the family, in address order, with
// the host name as the format can carry it.
func expected(in *render.Input, v4, v6 bool, name func(string) string) []Host {
	paths := map[int64]string{}
	for id := range in.Locations {
		var parts []string
		for l := in.Locations[id]; l != nil; l = in.Locations[l.ParentID] {
			parts = append([]string{l.Name}, parts...)
		}
		paths[id] = strings.Join(parts, PathSeparator)
	}
	var out []Host
	for _, a := range in.Hosts {
		if !a.DHCPReservation || !(v4 && a.Addr.Is4() || v6 && a.Addr.Is6()) {
			continue
		}
		hostname := ""
		if ipdesk.ValidateHostname(a.Hostname) == nil {
			hostname = name(a.Hostname)
		}
		out = append(out, Host{Space: "school", Address: a.Addr, MAC: a.MAC, Hostname: hostname, Owner: a.Owner,
			Description: a.Description, Location: paths[a.LocationID], DHCPReservation: true})
	}
	slices.SortFunc(out, func(x, y Host) int { return x.Address.Compare(y.Address) })
	return out
}

func same(s string) string { return s }

// TestRoundTrip renders generated hosts with ipdesk's own writers and
// reads the files back: the hosts come back the same. The only losses are
// those of the formats: invalid host names are never written (a warning
// names each), and the DHCPv6 declarations carry the host name only in
// the declaration name, in lower case with hyphens for dots.
func TestRoundTrip(t *testing.T) {
	in := generated(600, 1)
	dhcpv6Name := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, ".", "-")) }
	for _, tt := range []struct {
		name   string
		render func(*render.Input) ([]byte, error)
		parse  func(string, []byte, ConfigOptions) *Result
		want   []Host
	}{
		{"ISCDHCP", render.ISCDHCP, ParseDHCPD, expected(in, true, false, same)},
		{"ISCDHCP6", render.ISCDHCP6, ParseDHCPD, expected(in, false, true, dhcpv6Name)},
		{"Dnsmasq", render.Dnsmasq, ParseDnsmasq, expected(in, true, true, same)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.render(in)
			if err != nil {
				t.Fatal(err)
			}
			res := tt.parse("hosts", b, ConfigOptions{Space: "school", ReadFile: noFiles})
			if len(res.Problems) > 0 {
				t.Fatalf("problems reading the rendered file:\n%s", joinErrors(res.Problems))
			}
			// Each host whose invalid name the writer named in a comment
			// gets a warning.
			invalid := 0
			for _, a := range in.Hosts {
				if a.DHCPReservation && ipdesk.ValidateHostname(a.Hostname) != nil && (tt.name != "ISCDHCP6" || a.Addr.Is6()) && (tt.name != "ISCDHCP" || a.Addr.Is4()) {
					invalid++
				}
			}
			for _, w := range res.Warnings {
				if w.Field != "hostname" || !strings.Contains(w.Err, "is not a valid host name") {
					t.Errorf("unexpected warning %v", w)
				}
			}
			if len(res.Warnings) != invalid {
				t.Errorf("%d warnings for %d invalid host names", len(res.Warnings), invalid)
			}
			if len(res.Hosts) != len(tt.want) || len(tt.want) < 50 {
				t.Fatalf("%d hosts back, want %d", len(res.Hosts), len(tt.want))
			}
			for i := range tt.want {
				if !SameData(res.Hosts[i], tt.want[i]) {
					t.Errorf("host %d:\n got %s\nwant %s\n(line %d)", i, hostLine(res.Hosts[i]), hostLine(tt.want[i]), res.Hosts[i].Line)
				}
			}
		})
	}
	// The squid lists give back the access levels.
	for level := 0; level <= 3; level++ {
		entries, problems, warnings := ParseLevelList("level", render.SquidLevel(in, level))
		if len(problems)+len(warnings) > 0 {
			t.Fatalf("level %d: %v %v", level, problems, warnings)
		}
		var got, want []netip.Addr
		for _, e := range entries {
			got = append(got, e.Addr)
		}
		for _, a := range in.Hosts {
			if a.AccessLevel == level {
				want = append(want, a.Addr)
			}
		}
		slices.SortFunc(want, netip.Addr.Compare)
		if !slices.Equal(got, want) {
			t.Errorf("level %d: %d addresses back, want %d", level, len(got), len(want))
		}
	}
}

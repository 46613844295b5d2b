package render

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"ipdesk"
)

// fuzzSeeds are hostile texts for the seed corpus of every fuzz target.
var fuzzSeeds = []string{
	"", "pc1", "code", `"`, `\`, `\"`, `"; } host x {`, "#", ";{}", "Кабинет 303", "😀👩‍💻",
	"a\nb\r\x00c\x7f", "\u2028\u2029\u202e", "\xff\xfe", "45m", "infinite", "ignore", "1.2.3.4",
	"PC1.Example.org", "bad name!", "z303c", "^a(b|$", strings.Repeat("Ж", 600), strings.Repeat("x", 1100),
	"dhcp-host=00:11:22:33:44:55,10.0.0.1", "00:11:22:33:44:55,10.9.9.9,evil", `\u2028`, `\u00e9`,
}

// fuzzAddr turns fuzz bytes into an address: 4 bytes give IPv4, 16 give
// IPv6 (possibly IPv4-mapped), anything else an invalid address.
func fuzzAddr(b []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(b)
	return a
}

// fuzzInput builds an input with one fuzzed host (in a fuzzed room, under
// a fuzzed building) and a fixed neighbour host, 10.0.0.9 and 2001:db8::9.
func fuzzInput(hostname, owner, desc, room, pattern string, addr, macb []byte, level int, dhcp bool) *Input {
	var m ipdesk.MAC
	copy(m[:], macb)
	ip := netip.MustParseAddr
	return &Input{
		Hosts: []*ipdesk.Address{
			{ID: 1, PrefixID: 1, Addr: fuzzAddr(addr), MAC: m, Hostname: hostname, Owner: owner, Description: desc,
				LocationID: 3, AccessLevel: level, DHCPReservation: dhcp},
			{ID: 2, PrefixID: 1, Addr: ip("10.0.0.9"), MAC: mac(9), Hostname: "pc9", LocationID: 3, AccessLevel: 1, DHCPReservation: true},
			{ID: 3, PrefixID: 2, Addr: ip("2001:db8::9"), MAC: mac(9), Hostname: "pc9", AccessLevel: 1, DHCPReservation: true},
		},
		Subnets: []*ipdesk.Prefix{
			{ID: 1, Prefix: netip.MustParsePrefix("0.0.0.0/0"), Description: desc},
			{ID: 2, Prefix: netip.MustParsePrefix("::/0"), Description: room},
		},
		Locations: map[int64]*ipdesk.Location{
			2: {ID: 2, Name: room, HostnamePattern: pattern},
			3: {ID: 3, ParentID: 2, Name: room, HostnamePattern: pattern},
		},
		Levels: []*ipdesk.AccessLevel{{Level: level, Name: room}},
	}
}

func addFuzzSeeds(f *testing.F) {
	addrs := [][]byte{
		{10, 0, 0, 5},
		{10, 0, 0, 9}, // the neighbour's address: a conflict
		{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5},
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 9}, // mapped neighbour
		{1, 2, 3},
	}
	for i, s := range fuzzSeeds {
		f.Add(s, s, s, s, s, addrs[i%len(addrs)], []byte{0, 1, 2, 3, 4, byte(i)}, i%4, i%3 != 0)
	}
}

// wantReservation reports whether the fuzzed host is a DHCP reservation of
// the family of v6, and whether it clashes with the neighbour.
func wantReservation(in *Input, v6 bool) (want, clash bool) {
	a := in.Hosts[0]
	addr := normAddr(a.Addr)
	if !addr.IsValid() || !a.DHCPReservation || a.MAC.IsZero() || addr.Is6() != v6 {
		return false, false
	}
	return true, addr == in.Hosts[1].Addr || addr == in.Hosts[2].Addr
}

// FuzzISCDHCP checks that for any text, dhcpd output parses back with the
// strict parser: user text only in comments and escaped strings, one host
// block per reservation, unique names of the allowed characters, and the
// host name sent exactly when it is valid.
func FuzzISCDHCP(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, hostname, owner, desc, room, pattern string, addr, macb []byte, level int, dhcp bool) {
		in := fuzzInput(hostname, owner, desc, room, pattern, addr, macb, level, dhcp)
		for _, v6 := range []bool{false, true} {
			render := ISCDHCP
			if v6 {
				render = ISCDHCP6
			}
			out, err := render(in)
			want, clash := wantReservation(in, v6)
			if clash {
				if ipdesk.ErrorCode(err) != ipdesk.ECONFLICT {
					t.Fatalf("v6=%v: clash gave err %v", v6, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("v6=%v: %v", v6, err)
			}
			if !utf8.Valid(out) {
				t.Fatalf("v6=%v: output is not UTF-8", v6)
			}
			hosts, err := parseISC(out)
			if err != nil {
				t.Fatalf("v6=%v: %v\n%s", v6, err, out)
			}
			n := 1
			if want {
				n = 2
			}
			if len(hosts) != n {
				t.Fatalf("v6=%v: %d host blocks, want %d\n%s", v6, len(hosts), n, out)
			}
			names := map[string]bool{}
			for _, h := range hosts {
				if names[h.name] {
					t.Fatalf("repeated name %q", h.name)
				}
				names[h.name] = true
				if h.v6 != v6 {
					t.Fatalf("wrong fixed-address statement in %q", h.name)
				}
				if want && h.addr == normAddr(in.Hosts[0].Addr).String() {
					sent := h.hostname != nil
					if sent != (!v6 && validHostname(hostname)) || sent && *h.hostname != hostname {
						t.Fatalf("host-name %v for %q", h.hostname, hostname)
					}
				}
			}
		}
	})
}

// FuzzISCString checks that every string survives dhcpd quoting.
func FuzzISCString(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := appendISCString(nil, s)
		got, rest, err := decodeISCString(q)
		if err != nil || got != s || len(rest) != 0 {
			t.Fatalf("%q quoted as %s decodes to %q, rest %q, err %v", s, q, got, rest, err)
		}
	})
}

// FuzzKea checks that every Kea fragment is JSON once wrapped in braces,
// uses only escapes Kea reads, and holds one reservation per host, with
// the host name only when valid.
func FuzzKea(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, hostname, owner, desc, room, pattern string, addr, macb []byte, level int, dhcp bool) {
		in := fuzzInput(hostname, owner, desc, room, pattern, addr, macb, level, dhcp)
		for _, w := range []struct {
			render func(*Input) ([]byte, error)
			v6     bool
			list   func(d *keaDoc) []keaReservationDoc
		}{
			{KeaDHCP4, false, func(d *keaDoc) []keaReservationDoc { return d.Subnet4[0].Reservations }},
			{KeaDHCP6, true, func(d *keaDoc) []keaReservationDoc { return d.Subnet6[0].Reservations }},
			{KeaReservations4, false, func(d *keaDoc) []keaReservationDoc { return d.Reservations }},
			{KeaReservations6, true, func(d *keaDoc) []keaReservationDoc { return d.Reservations }},
		} {
			out, err := w.render(in)
			want, clash := wantReservation(in, w.v6)
			if clash {
				if ipdesk.ErrorCode(err) != ipdesk.ECONFLICT {
					t.Fatalf("clash gave err %v", err)
				}
				continue
			}
			var e *ipdesk.Error
			if errors.As(err, &e) && e.Code == ipdesk.ECONFLICT && want && in.Hosts[0].MAC == mac(9) {
				continue // same MAC as the neighbour in one subnet: Kea refuses it too
			}
			if err != nil {
				t.Fatal(err)
			}
			doc, err := parseKea(out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if err := checkKeaCanonical(out); err != nil {
				t.Fatal(err)
			}
			rs := w.list(doc)
			n := 1
			if want {
				n = 2
			}
			if len(rs) != n {
				t.Fatalf("%d reservations, want %d\n%s", len(rs), n, out)
			}
			for _, r := range rs {
				if r.HWAddress == mac(9).String() {
					continue
				}
				if (r.Hostname != "") != validHostname(hostname) || r.Hostname != "" && r.Hostname != hostname {
					t.Fatalf("hostname %q for %q", r.Hostname, hostname)
				}
				if c := cleanText(owner); c != "" && !strings.Contains(r.UserContext.Comment, c) {
					t.Fatalf("owner %q missing from %+v", c, r.UserContext)
				}
			}
		}
	})
}

// FuzzDnsmasq checks that the hosts file has one host line per
// reservation, each with exactly a MAC, an address and an optional name
// that dnsmasq reads as a name, and comment lines short enough that
// dnsmasq reads them whole.
func FuzzDnsmasq(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, hostname, owner, desc, room, pattern string, addr, macb []byte, level int, dhcp bool) {
		in := fuzzInput(hostname, owner, desc, room, pattern, addr, macb, level, dhcp)
		out, err := Dnsmasq(in)
		want4, clash4 := wantReservation(in, false)
		want6, clash6 := wantReservation(in, true)
		if clash4 || clash6 {
			if ipdesk.ErrorCode(err) != ipdesk.ECONFLICT {
				t.Fatalf("clash gave err %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		lines, err := parseDnsmasq(out)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		n := 2
		if want4 || want6 {
			n = 3
		}
		if len(lines) != n {
			t.Fatalf("%d host lines, want %d\n%s", len(lines), n, out)
		}
		for _, l := range lines {
			if (want4 || want6) && l.addr == normAddr(in.Hosts[0].Addr) {
				sent := validHostname(hostname) && !dnsmasqMisreads(hostname)
				if (l.hostname != "") != sent || sent && l.hostname != hostname {
					t.Fatalf("name %q for %q", l.hostname, hostname)
				}
			}
		}
	})
}

// FuzzSquid checks that the level and blocking lists hold only canonical
// addresses and anchored expressions of the expected shape, that the
// fuzzed host is listed where it belongs, and that an expression matches
// the room's computer names and nothing that merely contains them.
func FuzzSquid(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, hostname, owner, desc, room, pattern string, addr, macb []byte, level int, dhcp bool) {
		in := fuzzInput(hostname, owner, desc, room, pattern, addr, macb, level, dhcp)
		a := normAddr(in.Hosts[0].Addr)
		contains := func(list []netip.Addr, x netip.Addr) bool {
			for _, y := range list {
				if y == x {
					return true
				}
			}
			return false
		}
		for _, lv := range []int{level, 1} {
			addrs, err := parseSquidAddrs(SquidLevel(in, lv))
			if err != nil {
				t.Fatalf("level %d: %v", lv, err)
			}
			if a.IsValid() && contains(addrs, a) != (level == lv || a == in.Hosts[1].Addr && lv == 1 || a == in.Hosts[2].Addr && lv == 1) {
				t.Fatalf("level %d list %v and host %s at level %d", lv, addrs, a, level)
			}
		}
		addrs, err := parseSquidAddrs(SquidBlockedHosts(in, []int64{2}))
		if err != nil {
			t.Fatal(err)
		}
		if a.IsValid() && !contains(addrs, a) {
			t.Fatalf("blocked list %v lacks %s", addrs, a)
		}
		res, err := parseSquidRegexes(SquidBlockedNames(in, []int64{2}))
		if err != nil {
			t.Fatal(err)
		}
		if !validHostname(pattern) {
			if len(res) != 0 {
				t.Fatalf("invalid pattern %q gave %d expressions", pattern, len(res))
			}
			return
		}
		if len(res) != 1 {
			t.Fatalf("pattern %q gave %d expressions", pattern, len(res))
		}
		p := strings.ToUpper(pattern)
		for _, name := range []string{p + "1", p + "17.school.example"} {
			if !res[0].MatchString(strings.ToLower(name)) {
				t.Errorf("%s does not match %q", res[0], name)
			}
		}
		for _, name := range []string{"x" + pattern + "1", pattern, pattern + "x1", strings.ReplaceAll(pattern, ".", "x") + "1"} {
			if name != pattern+"1" && res[0].MatchString(strings.ToLower(name)) {
				t.Errorf("%s matches %q", res[0], name)
			}
		}
	})
}

// FuzzCleanText checks cleanText against a plain rune-by-rune definition
// and checks that its result is valid UTF-8 without control characters,
// separators, bidi controls or blanks at either end.
func FuzzCleanText(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ref strings.Builder
		for _, r := range s {
			switch {
			case unicode.IsControl(r), r == '\u2028', r == '\u2029':
				ref.WriteByte(' ')
			case isBidiControl(r):
			default:
				ref.WriteRune(r)
			}
		}
		want := strings.TrimSpace(ref.String())
		got := cleanText(s)
		if got != want {
			t.Fatalf("cleanText(%q) = %q, want %q", s, got, want)
		}
		if !utf8.ValidString(got) || strings.TrimSpace(got) != got {
			t.Fatalf("cleanText(%q) = %q", s, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidiControl(r) {
				t.Fatalf("cleanText(%q) = %q keeps %U", s, got, r)
			}
		}
	})
}

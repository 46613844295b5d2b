package render

import (
	"bytes"
	"errors"
	"flag"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ipdesk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the current output")

// mac returns a test MAC ending in b.
func mac(b byte) ipdesk.MAC { return ipdesk.MAC{0x00, 0x11, 0x22, 0x33, 0x44, b} }

// hostileControl is description text with everything the domain refuses
// and a renderer must survive: CR, LF, NUL, U+2028, a bidi override, DEL,
// a C1 control and a byte that is not UTF-8.
const hostileControl = "line1\r\nhost evil {\x00}\u2028x\u202egnp.exe\x7f\u0085\xff end"

// hostileInput is the fixture of the golden and daemon tests: repeated and
// empty host names, names dnsmasq would misread, IPv6, an IPv4-mapped
// address, and user text with quotes, ';', braces, '#', backslashes,
// Cyrillic, emoji, the word "code" and control characters.
func hostileInput() *Input {
	locs := []*ipdesk.Location{
		{ID: 1, Kind: ipdesk.LocationSite, Name: "Главный корпус"},
		{ID: 2, ParentID: 1, Kind: ipdesk.LocationBuilding, Name: `Haus "B"; {Nord} # 2`},
		{ID: 3, ParentID: 2, Kind: ipdesk.LocationRoom, Name: "Кабинет 303", HostnamePattern: "z303c", Phones: []string{"303"}},
		{ID: 4, ParentID: 2, Kind: ipdesk.LocationRoom, Name: `Lab \ code 😀`, HostnamePattern: "Lab-A.c"},
		{ID: 5, ParentID: 1, Kind: ipdesk.LocationRoom, Name: "Server room"},
		{ID: 6, ParentID: 1, Kind: ipdesk.LocationRoom, Name: "Bad pattern", HostnamePattern: "bad pattern!"},
		{ID: 8, ParentID: 1, Kind: ipdesk.LocationRoom, Name: "Line\nbreak\u2028room\u202e"},
	}
	in := &Input{Locations: map[int64]*ipdesk.Location{}}
	for _, l := range locs {
		in.Locations[l.ID] = l
	}
	in.Subnets = []*ipdesk.Prefix{
		{ID: 12, Prefix: netip.MustParsePrefix("2001:db8::/64"), Kind: ipdesk.PrefixSubnet, Description: "IPv6 — Кабинеты", DHCP: true},
		{ID: 10, Prefix: netip.MustParsePrefix("10.0.0.0/24"), Kind: ipdesk.PrefixSubnet, Gateway: netip.MustParseAddr("10.0.0.1"), Description: `Verwaltung "VLAN 10"; {x} # code`, DHCP: true},
		{ID: 11, Prefix: netip.MustParsePrefix("10.0.1.0/24"), Kind: ipdesk.PrefixSubnet, DHCP: true},
		{ID: 13, Prefix: netip.MustParsePrefix("192.168.5.0/24"), Kind: ipdesk.PrefixSubnet, DHCP: true},
	}
	ip := netip.MustParseAddr
	in.Hosts = []*ipdesk.Address{
		{ID: 101, PrefixID: 10, Addr: ip("10.0.0.5"), MAC: mac(1), Hostname: "pc1", Owner: `Иванов "Ваня" И.И.`, LocationID: 3,
			Description: `printer; {evil} # not a comment \ code`, AccessLevel: 2, DHCPReservation: true},
		{ID: 102, PrefixID: 11, Addr: ip("10.0.1.5"), MAC: mac(2), Hostname: "pc1", Owner: "O'Brien", LocationID: 4,
			Description: "emoji 😀🎉 and ZWJ 👩‍💻", AccessLevel: 1, DHCPReservation: true},
		{ID: 103, PrefixID: 10, Addr: ip("10.0.0.7"), MAC: mac(3), AccessLevel: 3, DHCPReservation: true},
		{ID: 104, PrefixID: 10, Addr: ip("10.0.0.9"), MAC: mac(4), Hostname: "code", Owner: "code", Description: "code", LocationID: 5,
			AccessLevel: 1, DHCPReservation: true},
		{ID: 105, PrefixID: 10, Addr: ip("10.0.0.20"), MAC: mac(5), Hostname: "nodhcp", LocationID: 3, AccessLevel: 1},
		{ID: 106, PrefixID: 10, Addr: ip("10.0.0.21"), Hostname: "nomac", DHCPReservation: true},
		{ID: 107, PrefixID: 12, Addr: ip("2001:db8::5"), MAC: mac(1), Hostname: "pc1", LocationID: 3, AccessLevel: 2, DHCPReservation: true},
		{ID: 108, PrefixID: 12, Addr: ip("2001:db8::a"), MAC: mac(8), LocationID: 8, AccessLevel: 3, DHCPReservation: true,
			Description: hostileControl},
		{ID: 109, PrefixID: 10, Addr: ip("10.0.0.30"), MAC: mac(9), Hostname: "45m", AccessLevel: 2, DHCPReservation: true},
		{ID: 110, PrefixID: 10, Addr: ip("10.0.0.31"), MAC: mac(10), Hostname: "infinite", DHCPReservation: true},
		{ID: 111, PrefixID: 10, Addr: ip("10.0.0.32"), MAC: mac(11), Hostname: "bad name!", Owner: `a"b\c`, DHCPReservation: true},
		{ID: 112, PrefixID: 10, Addr: ip("10.0.0.33"), MAC: mac(12), Hostname: "PC-Upper.Example.ORG", LocationID: 6, AccessLevel: 3, DHCPReservation: true},
		{ID: 113, Addr: ip("10.0.1.40"), MAC: mac(13), Hostname: "z303c5", LocationID: 3, DHCPReservation: true},
		{ID: 114, PrefixID: 10, Addr: ip("::ffff:10.0.0.50"), MAC: mac(14), Hostname: "mapped", AccessLevel: 2, DHCPReservation: true},
		{ID: 115, PrefixID: 12, Addr: ip("2001:db8::99"), Hostname: "v6-nodhcp", AccessLevel: 1, LocationID: 4},
		nil,
	}
	in.Levels = []*ipdesk.AccessLevel{
		{Level: 0, Name: "none"},
		{Level: 1, Name: "restricted"},
		{Level: 2, Name: `standard "web"; {x}`},
		{Level: 3, Name: "full"},
	}
	return in
}

// hostileBlocked are the blocked locations of the fixture: building 2
// (rooms 3 and 4 inside it) and room 6, whose pattern is not valid.
var hostileBlocked = []int64{2, 6}

// writer is one renderer under test.
type writer struct {
	name   string
	render func(in *Input) ([]byte, error)
}

func noErr(f func(*Input) []byte) func(*Input) ([]byte, error) {
	return func(in *Input) ([]byte, error) { return f(in), nil }
}

func squidLevelWriter(level int) func(*Input) ([]byte, error) {
	return noErr(func(in *Input) []byte { return SquidLevel(in, level) })
}

var writers = []writer{
	{"iscdhcp4", ISCDHCP},
	{"iscdhcp6", ISCDHCP6},
	{"kea4", KeaDHCP4},
	{"kea6", KeaDHCP6},
	{"kea-reservations4", KeaReservations4},
	{"kea-reservations6", KeaReservations6},
	{"dnsmasq", Dnsmasq},
	{"squid-level0", squidLevelWriter(0)},
	{"squid-level1", squidLevelWriter(1)},
	{"squid-level2", squidLevelWriter(2)},
	{"squid-level3", squidLevelWriter(3)},
	{"squid-blocked-hosts", noErr(func(in *Input) []byte { return SquidBlockedHosts(in, hostileBlocked) })},
	{"squid-blocked-names", noErr(func(in *Input) []byte { return SquidBlockedNames(in, hostileBlocked) })},
}

var inputs = []struct {
	name string
	in   func() *Input
}{
	{"hostile", hostileInput},
	{"empty", func() *Input { return &Input{} }},
}

// checkGolden compares got with testdata/name.golden, or rewrites the file
// when -update is given.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render/ -run TestGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestGolden renders each fixture in each format and compares the bytes
// with the reviewed files in testdata/.
func TestGolden(t *testing.T) {
	for _, in := range inputs {
		for _, w := range writers {
			t.Run(in.name+"-"+w.name, func(t *testing.T) {
				got, err := w.render(in.in())
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, in.name+"-"+w.name, got)
			})
		}
	}
}

// TestDeterministic checks that the order of the input does not change the
// output and that the writers leave their input as it was.
func TestDeterministic(t *testing.T) {
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			want, err := w.render(hostileInput())
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < 20; i++ {
				in := hostileInput()
				rng.Shuffle(len(in.Hosts), func(i, j int) { in.Hosts[i], in.Hosts[j] = in.Hosts[j], in.Hosts[i] })
				rng.Shuffle(len(in.Subnets), func(i, j int) { in.Subnets[i], in.Subnets[j] = in.Subnets[j], in.Subnets[i] })
				hosts := slices.Clone(in.Hosts)
				got, err := w.render(in)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("shuffle %d gives different bytes:\n%s\nwant\n%s", i, got, want)
				}
				if !slices.Equal(hosts, in.Hosts) {
					t.Fatal("the writer reordered in.Hosts")
				}
			}
		})
	}
}

// TestErrors checks that data a daemon would refuse gives an *ipdesk.Error
// with the right code and a message naming the culprit, and no output.
func TestErrors(t *testing.T) {
	ip := netip.MustParseAddr
	subnet := func(id int64, p string) *ipdesk.Prefix {
		return &ipdesk.Prefix{ID: id, Prefix: netip.MustParsePrefix(p), Kind: ipdesk.PrefixSubnet}
	}
	res := func(id int64, a string, m byte) *ipdesk.Address {
		return &ipdesk.Address{ID: id, PrefixID: 1, Addr: ip(a), MAC: mac(m), DHCPReservation: true}
	}
	tests := []struct {
		name     string
		in       *Input
		writers  []string
		code     string
		contains string
	}{
		{
			name:     "same IPv4 address twice",
			in:       &Input{Hosts: []*ipdesk.Address{res(1, "10.0.0.5", 1), res(2, "10.0.0.5", 2)}, Subnets: []*ipdesk.Prefix{subnet(1, "10.0.0.0/24")}},
			writers:  []string{"iscdhcp4", "kea4", "kea-reservations4", "dnsmasq"},
			code:     ipdesk.ECONFLICT,
			contains: "10.0.0.5",
		},
		{
			name:     "same IPv6 address twice, once mapped",
			in:       &Input{Hosts: []*ipdesk.Address{res(1, "2001:db8::5", 1), res(2, "2001:db8::5", 2)}, Subnets: []*ipdesk.Prefix{subnet(1, "2001:db8::/64")}},
			writers:  []string{"iscdhcp6", "kea6", "kea-reservations6", "dnsmasq"},
			code:     ipdesk.ECONFLICT,
			contains: "2001:db8::5",
		},
		{
			name:     "same IPv4 address as mapped IPv6",
			in:       &Input{Hosts: []*ipdesk.Address{res(1, "10.0.0.5", 1), res(2, "::ffff:10.0.0.5", 2)}, Subnets: []*ipdesk.Prefix{subnet(1, "10.0.0.0/24")}},
			writers:  []string{"iscdhcp4", "kea4", "dnsmasq"},
			code:     ipdesk.ECONFLICT,
			contains: "10.0.0.5",
		},
		{
			name:     "same MAC twice in a Kea subnet",
			in:       &Input{Hosts: []*ipdesk.Address{res(1, "10.0.0.5", 1), res(2, "10.0.0.6", 1)}, Subnets: []*ipdesk.Prefix{subnet(1, "10.0.0.0/24")}},
			writers:  []string{"kea4", "kea-reservations4"},
			code:     ipdesk.ECONFLICT,
			contains: "00:11:22:33:44:01",
		},
		{
			name:     "host outside every subnet",
			in:       &Input{Hosts: []*ipdesk.Address{res(1, "10.9.0.5", 1)}, Subnets: []*ipdesk.Prefix{subnet(1, "10.0.0.0/24")}},
			writers:  []string{"kea4"},
			code:     ipdesk.EINVALID,
			contains: "10.9.0.5",
		},
		{
			name:     "prefix ID too large for Kea",
			in:       &Input{Subnets: []*ipdesk.Prefix{subnet(1<<32, "10.0.0.0/24")}},
			writers:  []string{"kea4"},
			code:     ipdesk.EINVALID,
			contains: "4294967296",
		},
		{
			name:     "prefix ID 0",
			in:       &Input{Subnets: []*ipdesk.Prefix{subnet(0, "2001:db8::/64")}},
			writers:  []string{"kea6"},
			code:     ipdesk.EINVALID,
			contains: "2001:db8::/64",
		},
		{
			name:     "prefix given twice",
			in:       &Input{Subnets: []*ipdesk.Prefix{subnet(1, "10.0.0.0/24"), subnet(2, "10.0.0.0/24")}},
			writers:  []string{"kea4"},
			code:     ipdesk.ECONFLICT,
			contains: "10.0.0.0/24",
		},
		{
			name:     "two prefixes with one ID",
			in:       &Input{Subnets: []*ipdesk.Prefix{subnet(1, "10.0.0.0/24"), subnet(1, "10.0.1.0/24")}},
			writers:  []string{"kea4"},
			code:     ipdesk.ECONFLICT,
			contains: "10.0.1.0/24",
		},
		{
			name:     "prefix with host bits",
			in:       &Input{Subnets: []*ipdesk.Prefix{{ID: 1, Prefix: netip.MustParsePrefix("10.0.0.5/24")}}},
			writers:  []string{"kea4"},
			code:     ipdesk.EINVALID,
			contains: "10.0.0.5/24",
		},
	}
	byName := map[string]writer{}
	for _, w := range writers {
		byName[w.name] = w
	}
	for _, tt := range tests {
		for _, name := range tt.writers {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				out, err := byName[name].render(tt.in)
				var e *ipdesk.Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v, want an *ipdesk.Error", err)
				}
				if e.Code != tt.code || !strings.Contains(e.Message, tt.contains) {
					t.Errorf("err = %v, want code %s and a message with %q", err, tt.code, tt.contains)
				}
				if out != nil {
					t.Errorf("output %q with an error", out)
				}
			})
		}
	}
}

// TestSameMACAcrossKeaSubnets checks that one MAC may have a reservation in
// each of several subnets, which Kea accepts.
func TestSameMACAcrossKeaSubnets(t *testing.T) {
	in := &Input{
		Hosts: []*ipdesk.Address{
			{ID: 1, PrefixID: 1, Addr: netip.MustParseAddr("10.0.0.5"), MAC: mac(1), DHCPReservation: true},
			{ID: 2, PrefixID: 2, Addr: netip.MustParseAddr("10.0.1.5"), MAC: mac(1), DHCPReservation: true},
		},
		Subnets: []*ipdesk.Prefix{
			{ID: 1, Prefix: netip.MustParsePrefix("10.0.0.0/24")},
			{ID: 2, Prefix: netip.MustParsePrefix("10.0.1.0/24")},
		},
	}
	if _, err := KeaDHCP4(in); err != nil {
		t.Fatal(err)
	}
}

// TestCleanText checks the cleaning of user text for comments and strings.
func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain ascii; {x} # \"q\" \\", "plain ascii; {x} # \"q\" \\"},
		{"  padded  ", "padded"},
		{"Кабинет 303 😀", "Кабинет 303 😀"},
		{"a\nb\rc\x00d\te", "a b c d e"},
		{"a\u2028b\u2029c", "a b c"},
		{"a\u202egnp.exe\u2066x\u2069\u200e\u200f\u061c", "agnp.exex"},
		{"del\x7f c1\u0085 nbsp\u00a0x", "del  c1  nbsp\u00a0x"},
		{"bad \xff\xfe utf8", "bad \ufffd\ufffd utf8"},
		{"zwj 👩‍💻", "zwj 👩‍💻"},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in); got != tt.want {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestClipBytes checks that clipping never splits a character.
func TestClipBytes(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijkl", 10, "abcdefg…"},
		{"ККККККК", 10, "ККК…"},
		{"😀😀😀", 9, "😀…"},
	}
	for _, tt := range tests {
		got := clipBytes(tt.in, tt.max)
		if got != tt.want || len(got) > tt.max {
			t.Errorf("clipBytes(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// TestISCString checks dhcpd string escaping against a decoder that
// follows dhcpd's lexer.
func TestISCString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pc1", `"pc1"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"tab\there", `"tab\011here"`},
		{"nl\n\x00\x7f", `"nl\012\000\177"`},
		{"Кабинет", `"Кабинет"`},
		{`;{}#`, `";{}#"`},
	}
	for _, tt := range tests {
		got := string(appendISCString(nil, tt.in))
		if got != tt.want {
			t.Errorf("appendISCString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		dec, rest, err := decodeISCString([]byte(got))
		if err != nil || dec != tt.in || len(rest) != 0 {
			t.Errorf("decoding %s gives %q, rest %q, err %v", got, dec, rest, err)
		}
	}
}

// TestISCHostName checks declaration names.
func TestISCHostName(t *testing.T) {
	tests := []struct{ host, addr, want string }{
		{"pc1", "10.0.0.5", "pc1-10-0-0-5"},
		{"", "10.0.0.5", "host-10-0-0-5"},
		{"PC.Example.org", "10.0.0.5", "pc-example-org-10-0-0-5"},
		{"bad name", "10.0.0.5", "host-10-0-0-5"},
		{"pc1", "2001:db8::5", "pc1-2001-db8-0-0-0-0-0-5"},
		{"a-2001", "db8::5", "a-2001-db8-0-0-0-0-0-0-5"},
		{"a", "2001:db8::5", "a-2001-db8-0-0-0-0-0-5"},
		{"", "::ffff:10.0.0.5", "host-0-0-0-0-0-ffff-a00-5"},
	}
	for _, tt := range tests {
		if got := iscHostName(tt.host, netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("iscHostName(%q, %s) = %q, want %q", tt.host, tt.addr, got, tt.want)
		}
	}
}

// TestDnsmasqMisreads checks the names dnsmasq would take for other fields.
func TestDnsmasqMisreads(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"pc1", false},
		{"45m", true},
		{"3600", true},
		{"1d", true},
		{"2W", true},
		{"m", false},
		{"s1", false},
		{"1x", false},
		{"infinite", true},
		{"Ignore", true},
		{"ignored", false},
		{"1.2.3.4", true},
		{"1.2.3", true},
		{"1.2.3.example", false},
		{"deprecated", false},
	}
	for _, tt := range tests {
		if got := dnsmasqMisreads(tt.name); got != tt.want {
			t.Errorf("dnsmasqMisreads(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSquidLevels checks which levels get a list.
func TestSquidLevels(t *testing.T) {
	in := hostileInput()
	in.Hosts = append(in.Hosts, &ipdesk.Address{ID: 999, Addr: netip.MustParseAddr("10.0.0.99"), AccessLevel: 7})
	if got, want := SquidLevels(in), []int{1, 2, 3, 7}; !slices.Equal(got, want) {
		t.Errorf("SquidLevels = %v, want %v", got, want)
	}
	if got := SquidLevels(&Input{}); len(got) != 0 {
		t.Errorf("SquidLevels of nothing = %v", got)
	}
}

// TestBlockedLocationCycle checks that a cycle in the location parents
// (which the storage refuses) ends the walk instead of looping.
func TestBlockedLocationCycle(t *testing.T) {
	in := &Input{
		Locations: map[int64]*ipdesk.Location{
			1: {ID: 1, ParentID: 2, Name: "a", HostnamePattern: "a"},
			2: {ID: 2, ParentID: 1, Name: "b", HostnamePattern: "b"},
		},
		Hosts: []*ipdesk.Address{
			{ID: 1, Addr: netip.MustParseAddr("10.0.0.1"), LocationID: 1, MAC: mac(1), DHCPReservation: true},
		},
	}
	if got := string(SquidBlockedHosts(in, []int64{3})); strings.Contains(got, "10.0.0.1") {
		t.Errorf("host in no blocked room listed:\n%s", got)
	}
	if got := string(SquidBlockedNames(in, []int64{2})); !strings.Contains(got, "^a[0-9]") || !strings.Contains(got, "^b[0-9]") {
		t.Errorf("rooms under the blocked one missing:\n%s", got)
	}
	out, err := ISCDHCP(in)
	if err != nil || !bytes.Contains(out, []byte("room: ")) {
		t.Errorf("ISCDHCP = %s, %v", out, err)
	}
}

// TestValidHostnameMatchesDomain checks that the renderer's allocation-free
// host name check agrees with ipdesk.ValidateHostname.
func TestValidHostnameMatchesDomain(t *testing.T) {
	long := strings.Repeat("a", 63)
	names := []string{
		"", "a", "pc1", "PC-1", "a.b", "a..b", ".a", "a.", "-a", "a-", "a.-b", "a-.b", "a_b", "a b", "xn--e1afmkfd",
		"Кабинет", long, long + "a", long + "." + long + "." + long + "." + long[:61], long + "." + long + "." + long + "." + long[:62],
		"1.2.3.4", "45m", "a.b.c.d.e", "a/b", "a\x00",
	}
	for _, n := range names {
		if got, want := validHostname(n), n != "" && ipdesk.ValidateHostname(n) == nil; got != want {
			t.Errorf("validHostname(%q) = %v, ipdesk.ValidateHostname says %v", n, got, want)
		}
	}
}

// FuzzValidHostname compares validHostname with ipdesk.ValidateHostname.
func FuzzValidHostname(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validHostname(s), s != "" && ipdesk.ValidateHostname(s) == nil; got != want {
			t.Errorf("validHostname(%q) = %v, ipdesk.ValidateHostname says %v", s, got, want)
		}
	})
}

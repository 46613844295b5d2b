package leases

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"ipdesk"
)

func mac(s string) ipdesk.MAC {
	m, err := ipdesk.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// iscSample is a dhcpd.leases as dhcpd writes it, with a lease written
// twice (the second wins), an infinite lease, a free one, escapes in a
// host name, nested blocks and blocks that are not leases.
const iscSample = `# The format of this file is documented in the dhcpd.leases(5) manual page.
# This lease file was written by isc-dhcp-4.4.3-P1

# authoring-byte-order entry is generated, DO NOT DELETE
authoring-byte-order little-endian;

server-duid "\000\001\000\001.\377\3556\002\035\345w\000\001";

lease 10.77.0.100 {
  starts 0 2026/12/06 02:40:00;
  ends 0 2026/12/06 02:50:00;
  cltt 0 2026/12/06 02:40:00;
  binding state active;
  next binding state free;
  rewind binding state free;
  hardware ethernet 02:1d:e5:77:00:0c;
  uid "\001\002\035\345w\000\014";
  client-hostname "old-name";
}
lease 10.77.0.101 {
  starts 0 2026/12/06 02:41:00;
  ends never;
  tstp 0 2026/12/06 02:41:00;
  binding state active;
  hardware ethernet 2:1d:e5:77:0:d;
  client-hostname "Ivan's \"laptop\"; {x} \320\232";
  set ddns-fwd-name = "x.example";
  on expiry {
    set ddns-fwd-name = "";
  }
}
failover peer "dhcp" state {
  my state normal at 0 2026/12/06 02:00:00;
}
lease 10.77.0.102 {
  starts epoch 1796515200; # Sun Dec 06 00:00:00 2026
  ends epoch 1796518800; # Sun Dec 06 01:00:00 2026
  binding state free;
  hardware ethernet 02:1d:e5:77:00:0e;
}
lease 10.77.0.100 {
  starts 0 2026/12/06 02:45:00;
  ends 0 2026/12/06 02:55:00;
  cltt 0 2026/12/06 02:45:00;
  binding state active;
  hardware ethernet 02:1d:e5:77:00:0c;
  client-hostname "pc-c";
}
`

func TestParseISC(t *testing.T) {
	f := ParseISC([]byte(iscSample))
	if f.Skipped != 0 {
		t.Errorf("skipped %d", f.Skipped)
	}
	want := []Lease{
		{Addr: netip.MustParseAddr("10.77.0.100"), MAC: mac("02:1d:e5:77:00:0c"), Hostname: "pc-c", State: StateActive,
			Starts: utc("2026-12-06T02:45:00Z"), Ends: utc("2026-12-06T02:55:00Z"), Seen: utc("2026-12-06T02:45:00Z")},
		{Addr: netip.MustParseAddr("10.77.0.101"), MAC: mac("02:1d:e5:77:00:0d"), Hostname: "Ivan's \"laptop\"; {x} К", State: StateActive,
			Starts: utc("2026-12-06T02:41:00Z"), Never: true, Seen: utc("2026-12-06T02:41:00Z")},
		{Addr: netip.MustParseAddr("10.77.0.102"), MAC: mac("02:1d:e5:77:00:0e"), State: StateFree,
			Starts: utc("2026-12-06T00:00:00Z"), Ends: utc("2026-12-06T01:00:00Z"), Seen: utc("2026-12-06T00:00:00Z")},
	}
	sameLeases(t, f.Leases, want)
}

func TestParseISCGarbage(t *testing.T) {
	for _, tc := range []garbageCase{
		{"empty", "", nil, 0},
		{"only comments", "# nothing\n#\n", nil, 0},
		{"stray brace", "}\nlease 10.0.0.1 { binding state active; }\n", []string{"10.0.0.1"}, 1},
		{"bad address", "lease 10.0.0.300 { binding state active; }\nlease 10.0.0.2 { }\n", []string{"10.0.0.2"}, 1},
		{"ipv6 address in a lease block", "lease ::1 { }\n", nil, 1},
		{"cut off block", "lease 10.0.0.1 { binding state active; }\nlease 10.0.0.2 {\n  starts 0 2026/12/06", []string{"10.0.0.1"}, 1},
		{"unterminated string", "lease 10.0.0.1 { client-hostname \"abc", nil, 1},
		{"bad time and mac", "lease 10.0.0.1 { starts 0 2026/13/06 00:00:00; hardware ethernet zz:zz; binding state active; }", []string{"10.0.0.1"}, 2},
		{"missing semicolon", "lease 10.0.0.1 { binding state active }", []string{"10.0.0.1"}, 1},
		{"binary", "\x00\xff{{;;}}lease", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, ParseISC([]byte(tc.in))) })
	}
}

// keaSample is a kea-leases4.csv: a lease renewed (the last line wins), a
// host name with Kea's comma escape, a declined address, a deleted lease
// (valid lifetime 0) and an infinite one.
const keaSample = `address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context
10.77.0.50,02:1d:e5:77:00:0a,01:02:1d:e5:77:00:0a,600,1796515200,1,0,0,pc-a,0,
10.77.0.100,02:1d:e5:77:00:0c,,600,1796515300,1,0,0,a&#x2cb,0,
10.77.0.50,02:1d:e5:77:00:0a,01:02:1d:e5:77:00:0a,600,1796515800,1,0,0,pc-a,0,
10.77.0.101,,,600,1796515200,1,0,0,,1,
10.77.0.102,02:1d:e5:77:00:0e,,0,1796515200,1,0,0,gone,0,
10.77.0.103,02:1d:e5:77:00:0f,,4294967295,1796515200,1,0,0,,0,
`

func TestParseKea(t *testing.T) {
	f := ParseKea([]byte(keaSample))
	if f.Skipped != 0 {
		t.Errorf("skipped %d", f.Skipped)
	}
	want := []Lease{
		{Addr: netip.MustParseAddr("10.77.0.50"), MAC: mac("02:1d:e5:77:00:0a"), Hostname: "pc-a", State: StateActive,
			Starts: utc("2026-12-06T00:00:00Z"), Ends: utc("2026-12-06T00:10:00Z"), Seen: utc("2026-12-06T00:00:00Z")},
		{Addr: netip.MustParseAddr("10.77.0.100"), MAC: mac("02:1d:e5:77:00:0c"), Hostname: "a,b", State: StateActive,
			Starts: utc("2026-12-05T23:51:40Z"), Ends: utc("2026-12-06T00:01:40Z"), Seen: utc("2026-12-05T23:51:40Z")},
		{Addr: netip.MustParseAddr("10.77.0.101"), State: StateDeclined,
			Starts: utc("2026-12-05T23:50:00Z"), Ends: utc("2026-12-06T00:00:00Z"), Seen: utc("2026-12-05T23:50:00Z")},
		{Addr: netip.MustParseAddr("10.77.0.102"), MAC: mac("02:1d:e5:77:00:0e"), Hostname: "gone", State: StateReleased,
			Starts: utc("2026-12-06T00:00:00Z"), Ends: utc("2026-12-06T00:00:00Z"), Seen: utc("2026-12-06T00:00:00Z")},
		{Addr: netip.MustParseAddr("10.77.0.103"), MAC: mac("02:1d:e5:77:00:0f"), State: StateActive,
			Starts: utc("2026-12-06T00:00:00Z"), Never: true, Seen: utc("2026-12-06T00:00:00Z")},
	}
	sameLeases(t, f.Leases, want)
}

func TestParseKeaGarbage(t *testing.T) {
	for _, tc := range []garbageCase{
		{"header only", "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n", nil, 0},
		{"short line", "10.0.0.1,02:00:00:00:00:01,,600\n", nil, 1},
		{"bad numbers", "10.0.0.1,02:00:00:00:00:01,,x,1,1,0,0,,0,\n10.0.0.2,02:00:00:00:00:01,,600,-5,1,0,0,,0,\n", nil, 2},
		{"bad mac", "10.0.0.1,nonsense,,600,1,1,0,0,,0,\n", nil, 1},
		{"ipv6", "2001:db8::1,02:00:00:00:00:01,,600,1,1,0,0,,0,\n", nil, 1},
		{"crlf and a later header", "10.0.0.1,02:00:00:00:00:01,,600,1,1,0,0,,0,\r\naddress,hwaddr,valid_lifetime,expire\r\n10.0.0.2,02:00:00:00:00:02,600,100\r\n",
			[]string{"10.0.0.1", "10.0.0.2"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, ParseKea([]byte(tc.in))) })
	}
}

const dnsmasqSample = `1796515200 02:1d:e5:77:00:0c 10.77.0.100 pc-c 01:02:1d:e5:77:00:0c
0 02:1d:e5:77:00:0a 10.77.0.50 * *
1796515200 06-02:1d:e5:77:00:0b 10.77.0.51 tr *
duid 00:01:00:01:2e:ff:ed:36:02:1d:e5:77:00:01
1796515200 1234567 2001:db8::5 v6host 00:01:00:01
`

func TestParseDnsmasq(t *testing.T) {
	f := ParseDnsmasq([]byte(dnsmasqSample), time.Hour)
	if f.Skipped != 0 {
		t.Errorf("skipped %d", f.Skipped)
	}
	want := []Lease{
		{Addr: netip.MustParseAddr("10.77.0.100"), MAC: mac("02:1d:e5:77:00:0c"), Hostname: "pc-c", State: StateActive,
			Starts: utc("2026-12-05T23:00:00Z"), Ends: utc("2026-12-06T00:00:00Z"), Seen: utc("2026-12-05T23:00:00Z")},
		{Addr: netip.MustParseAddr("10.77.0.50"), MAC: mac("02:1d:e5:77:00:0a"), State: StateActive, Never: true},
		{Addr: netip.MustParseAddr("10.77.0.51"), MAC: mac("02:1d:e5:77:00:0b"), Hostname: "tr", State: StateActive,
			Starts: utc("2026-12-05T23:00:00Z"), Ends: utc("2026-12-06T00:00:00Z"), Seen: utc("2026-12-05T23:00:00Z")},
		{Addr: netip.MustParseAddr("2001:db8::5"), Hostname: "v6host", State: StateActive,
			Starts: utc("2026-12-05T23:00:00Z"), Ends: utc("2026-12-06T00:00:00Z"), Seen: utc("2026-12-05T23:00:00Z")},
	}
	sameLeases(t, f.Leases, want)
	// The last line of an address wins.
	f = ParseDnsmasq([]byte("100 02:00:00:00:00:01 10.0.0.1 a *\n200 02:00:00:00:00:02 10.0.0.1 b *\n"), 0)
	if len(f.Leases) != 1 || f.Leases[0].Hostname != "b" || !f.Leases[0].Seen.IsZero() {
		t.Errorf("a repeated address: %+v", f.Leases)
	}
}

func TestParseDnsmasqGarbage(t *testing.T) {
	in := "garbage\n1 2 3\nx 02:00:00:00:00:01 10.0.0.1 a *\n100 nonsense 10.0.0.2 a *\n100 02:00:00:00:00:01 10.0.0.300 a *\n-1 02:00:00:00:00:01 10.0.0.3 a *\n100 02:00:00:00:00:01 10.0.0.4 a *\n"
	f := ParseDnsmasq([]byte(in), time.Hour)
	if len(f.Leases) != 1 || f.Leases[0].Addr.String() != "10.0.0.4" || f.Skipped != 6 {
		t.Errorf("leases %+v skipped %d", f.Leases, f.Skipped)
	}
}

func TestParseHWAddr(t *testing.T) {
	for in, want := range map[string]string{
		"02:1d:e5:77:00:0c":  "02:1d:e5:77:00:0c",
		"2:1d:e5:77:0:c":     "02:1d:e5:77:00:0c",
		"AA:BB:CC:DD:EE:FF":  "aa:bb:cc:dd:ee:ff",
		"00:00:00:00:00:00":  "",
		"02:1d:e5:77:00":     "",
		"02:1d:e5:77:00:0c:": "",
		"02:1d:e5:77:00:0cc": "",
		"021de577000c":       "",
		"":                   "",
	} {
		m, ok := parseHWAddr(in)
		if got := m.String(); got != want || ok != (want != "") {
			t.Errorf("parseHWAddr(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

// checkFile requires what every parser promises, whatever the input.
func checkFile(t *testing.T, f File) {
	seen := map[netip.Addr]bool{}
	for _, l := range f.Leases {
		if !l.Addr.IsValid() || seen[l.Addr] {
			t.Fatalf("lease with an invalid or repeated address: %+v", l)
		}
		seen[l.Addr] = true
		if l.Never && !l.Ends.IsZero() {
			t.Fatalf("an infinite lease with an end: %+v", l)
		}
	}
	if f.Skipped < 0 {
		t.Fatalf("skipped %d", f.Skipped)
	}
}

func FuzzParseISC(f *testing.F) {
	f.Add([]byte(iscSample))
	f.Add([]byte("lease 10.0.0.1 { client-hostname \"\\"))
	f.Fuzz(func(t *testing.T, data []byte) { checkFile(t, ParseISC(data)) })
}

func FuzzParseKea(f *testing.F) {
	f.Add([]byte(keaSample))
	f.Fuzz(func(t *testing.T, data []byte) { checkFile(t, ParseKea(data)) })
}

func FuzzParseDnsmasq(f *testing.F) {
	f.Add([]byte(dnsmasqSample))
	f.Fuzz(func(t *testing.T, data []byte) { checkFile(t, ParseDnsmasq(data, time.Hour)) })
}

// sameLeases requires got to be want.
func sameLeases(t *testing.T, got, want []Lease) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d leases: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("lease %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// garbageCase is an input with what a parser must make of it: the
// addresses of the leases, and how much it skipped.
type garbageCase struct {
	name    string
	in      string
	leases  []string
	skipped int
}

func (tc garbageCase) check(t *testing.T, f File) {
	t.Helper()
	var got []string
	for _, l := range f.Leases {
		got = append(got, l.Addr.String())
	}
	if strings.Join(got, " ") != strings.Join(tc.leases, " ") || f.Skipped != tc.skipped {
		t.Errorf("leases %v skipped %d, want %v skipped %d", got, f.Skipped, tc.leases, tc.skipped)
	}
}

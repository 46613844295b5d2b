package importer

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"ipdesk"
)

func TestParseLevelLists(t *testing.T) {
	got, err := ParseLevelLists(" proxy1=/srv/result/proxy1, level2 = l2.txt,3=a=b ,0=zero")
	want := []LevelList{{1, "/srv/result/proxy1"}, {2, "l2.txt"}, {3, "a=b"}, {0, "zero"}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ParseLevelLists = %v, %v", got, err)
	}
	if got, err := ParseLevelLists(""); got != nil || err != nil {
		t.Errorf("empty: %v %v", got, err)
	}
	for in, says := range map[string]string{
		"proxy1":               "is not LEVEL=FILE",
		"proxy1=":              "is not LEVEL=FILE",
		"proxy1=a,,proxy2=b":   "is not LEVEL=FILE",
		"proxyX=a":             `"proxyX" is not an access level`,
		"proxy100=a":           `"proxy100" is not an access level`,
		"proxy-1=a":            "is not an access level",
		"proxy01=a":            "is not an access level",
		"proxy1=a,level1=b":    "level 1 is given twice",
		"squid=/etc/squid/acl": "is not an access level",
	} {
		if _, err := ParseLevelLists(in); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("ParseLevelLists(%q) = %v; want %q", in, err, says)
		}
	}
}

func TestParseLevelList(t *testing.T) {
	in := "# for_dhcp proxy1\r\n10.0.0.5\r\n\r\n  10.0.0.6  # Иванов\n2001:db8::5\n10.0.0.7/32\n::ffff:10.0.0.8\n" +
		"10.0.0.0/24\nnot-an-address\n10.0.0.5\n10.0.0.300\nfe80::1%eth0\n"
	entries, problems, warnings := ParseLevelList("proxy1", []byte(in))
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%d %s", e.Line, e.Addr))
	}
	if want := []string{"2 10.0.0.5", "4 10.0.0.6", "5 2001:db8::5", "6 10.0.0.7", "7 10.0.0.8"}; !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
	checkMessages(t, "problem", problems, []string{"8:address:10.0.0.0/24 is a network of several addresses", `9:address:"not-an-address" is not an IP address`,
		`11:address:"10.0.0.300" is not an IP address`, `12:address:"fe80::1%eth0" is not an IP address`})
	checkMessages(t, "warning", warnings, []string{"10:address:10.0.0.5 is listed again (first at line 2)"})
	if problems[0].File != "proxy1" {
		t.Errorf("problem without its file: %v", problems[0])
	}
}

func TestApplyLevels(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	files := map[string]string{
		"proxy1": "10.0.0.5\n10.0.0.50\n",
		"proxy2": "10.0.0.6\n10.0.0.5\n10.0.0.99\n",
		"proxy3": "10.0.0.51\n",
	}
	opt := ConfigOptions{Space: "school", ReadFile: func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return noFiles(name)
	}}
	r := &Result{Hosts: []Host{
		{Space: "school", Address: a("10.0.0.5"), Hostname: "pc5", AccessLevel: 3, File: "f", Line: 1},
		{Space: "school", Address: a("10.0.0.6"), Hostname: "pc6", File: "f", Line: 2},
		{Space: "school", Address: a("10.0.0.7"), Hostname: "pc7", AccessLevel: 2, File: "f", Line: 3},
	}}
	existing := []Host{
		{Space: "school", Address: a("10.0.0.50"), Hostname: "old", Phone: "123", Owner: "Анна", AccessLevel: 3},
		{Space: "school", Address: a("10.0.0.51"), Hostname: "same", AccessLevel: 3},
		{Space: "school", Address: a("10.0.0.52"), Hostname: "untouched", AccessLevel: 2},
	}
	ApplyLevels(r, []LevelList{{1, "proxy1"}, {2, "proxy2"}, {3, "proxy3"}, {2, "missing"}}, existing, opt)
	var got []string
	for _, h := range r.Hosts {
		got = append(got, fmt.Sprintf("%s %s level %d phone %q owner %q at %s", h.Address, h.Hostname, h.AccessLevel, h.Phone, h.Owner, h.pos()))
	}
	want := []string{
		`10.0.0.5 pc5 level 1 phone "" owner "" at f:1`, // listed in proxy1 (and wrongly in proxy2)
		`10.0.0.6 pc6 level 2 phone "" owner "" at f:2`,
		`10.0.0.7 pc7 level 0 phone "" owner "" at f:3`, // imported, in no list: no access
		`10.0.0.50 old level 1 phone "123" owner "Анна" at proxy1:2`,
		`10.0.0.51 same level 3 phone "" owner "" at proxy3:1`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("hosts\n got %q\nwant %q", got, want)
	}
	var problems []string
	for _, p := range r.Problems {
		problems = append(problems, p.Error())
	}
	wantProblems := []string{
		"proxy2:2: levels: 10.0.0.5 is also in the list of level 1 (proxy1:1); a host has one access level",
		`proxy2:3: levels: 10.0.0.99 is neither among the imported hosts nor stored in space "school"; a level needs a host`,
		"missing: levels: the list of level 2 cannot be read: open missing: file does not exist",
	}
	if !slices.Equal(problems, wantProblems) {
		t.Errorf("problems\n got %q\nwant %q", problems, wantProblems)
	}
	// Without lists nothing changes.
	before := slices.Clone(r.Hosts)
	ApplyLevels(r, nil, existing, opt)
	if !slices.Equal(before, r.Hosts) {
		t.Error("ApplyLevels without lists changed the hosts")
	}
}

func TestSplitIpdeskComment(t *testing.T) {
	for in, want := range map[string]map[string]string{
		"owner: a; room: b / c; description: d":           {"owner: ": "a", "room: ": "b / c", "description: ": "d"},
		"room: x; y; description: z; note: w":             {"room: ": "x; y", "description: ": "z; note: w"},
		`description: d; note: host name "x" is not sent`: {"description: ": "d", "note: ": `host name "x" is not sent`},
		"owner: a; description: ; room: b":                {"owner: ": "a", "description: ": "; room: b"},
		"note: n":                                         {"note: ": "n"},
		"owner: ":                                         {"owner: ": ""},
	} {
		if got := splitIpdeskComment(in); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("splitIpdeskComment(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMergeExisting(t *testing.T) {
	a := netip.MustParseAddr
	stored := Host{Space: "school", Address: a("10.0.0.5"), Status: ipdesk.StatusReserved, MAC: mustMAC("00:11:22:33:44:01"), Hostname: "old",
		Owner: "Анна", Phone: "+49 1", Location: "Main > 303", Description: "kept", AccessLevel: 2, DHCPReservation: true}
	r := &Result{Hosts: []Host{
		{Space: "school", Address: a("10.0.0.5"), MAC: mustMAC("00:11:22:33:44:02"), Hostname: "new", DHCPReservation: true},
		{Space: "school", Address: a("10.0.0.6"), Hostname: "fresh", given: givenDescription, Description: "from a comment"},
	}}
	commented := r.Hosts[0]
	commented.Description, commented.given = "from a comment", givenDescription
	all := r.Hosts[0]
	all.Owner, all.given = "Пётр", givenAll
	r.Hosts = append(r.Hosts, commented, all)
	MergeExisting(r, []Host{stored})
	want := []Host{
		{Space: "school", Address: a("10.0.0.5"), Status: ipdesk.StatusReserved, MAC: mustMAC("00:11:22:33:44:02"), Hostname: "new",
			Owner: "Анна", Phone: "+49 1", Location: "Main > 303", Description: "kept", AccessLevel: 2, DHCPReservation: true},
		{Space: "school", Address: a("10.0.0.6"), Hostname: "fresh", Description: "from a comment"},
		{Space: "school", Address: a("10.0.0.5"), Status: ipdesk.StatusReserved, MAC: mustMAC("00:11:22:33:44:02"), Hostname: "new",
			Owner: "Анна", Phone: "+49 1", Location: "Main > 303", Description: "from a comment", AccessLevel: 2, DHCPReservation: true},
		{Space: "school", Address: a("10.0.0.5"), Status: ipdesk.StatusReserved, MAC: mustMAC("00:11:22:33:44:02"), Hostname: "new",
			Owner: "Пётр", Phone: "+49 1", AccessLevel: 2, DHCPReservation: true},
	}
	for i := range want {
		if !SameData(r.Hosts[i], want[i]) {
			t.Errorf("host %d:\n got %+v\nwant %+v", i, r.Hosts[i], want[i])
		}
	}
	if SameData(want[0], want[2]) || !SameData(Host{Status: ipdesk.StatusActive}, Host{Line: 3}) {
		t.Error("SameData")
	}
}

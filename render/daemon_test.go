package render

// Integration tests: the real daemons check what the writers produce from
// the hostile fixture. A missing daemon skips its test, except in CI
// (CI=true), where it fails, so that CI cannot pass without running them.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipdesk"
)

// daemonTimeout bounds each daemon run.
const daemonTimeout = 30 * time.Second

// requireDaemon returns the path of the named program, looked for in
// /usr/sbin and then in PATH. When it is missing, the test is skipped, or
// fails if the environment variable CI is "true".
func requireDaemon(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join("/usr/sbin", name)
	if _, err := os.Stat(path); err != nil {
		if path, err = exec.LookPath(name); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed, and CI=true requires the daemon tests to run", name)
			}
			t.Skipf("%s is not installed", name)
		}
	}
	return path
}

// runDaemon runs argv with a time limit and returns its combined output
// and error.
func runDaemon(t *testing.T, argv ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), daemonTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd.CombinedOutput()
}

// writeFile writes data to name in dir and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustRender(t *testing.T, f func(*Input) ([]byte, error), in *Input) []byte {
	t.Helper()
	b, err := f(in)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dhcpdCheck runs "dhcpd -t" (with -6 for v6) on a main configuration
// that declares the fixture's subnets and includes hosts.
func dhcpdCheck(t *testing.T, dhcpd string, v6 bool, hosts []byte) ([]byte, error) {
	t.Helper()
	dir := t.TempDir()
	hostsPath := writeFile(t, dir, "dhcpd.hosts", hosts)
	var main string
	if v6 {
		main = "subnet6 2001:db8::/64 {\n}\n"
	} else {
		main = "ddns-update-style none;\nauthoritative;\n" +
			"subnet 10.0.0.0 netmask 255.255.255.0 {\n  option routers 10.0.0.1;\n}\n" +
			"subnet 10.0.1.0 netmask 255.255.255.0 {\n}\n" +
			"subnet 192.168.5.0 netmask 255.255.255.0 {\n}\n"
	}
	main += "include \"" + hostsPath + "\";\n"
	mainPath := writeFile(t, dir, "dhcpd.conf", []byte(main))
	leases := writeFile(t, dir, "dhcpd.leases", nil)
	argv := []string{dhcpd}
	if v6 {
		argv = append(argv, "-6")
	}
	argv = append(argv, "-t", "-q", "-cf", mainPath, "-lf", leases, "-pf", filepath.Join(dir, "dhcpd.pid"))
	return runDaemon(t, argv...)
}

// TestDhcpdAcceptsISCDHCP runs dhcpd's own configuration check on the
// rendered IPv4 and IPv6 host declarations of the hostile fixture.
func TestDhcpdAcceptsISCDHCP(t *testing.T) {
	dhcpd := requireDaemon(t, "dhcpd")
	for _, tt := range []struct {
		name   string
		v6     bool
		render func(*Input) ([]byte, error)
	}{{"v4", false, ISCDHCP}, {"v6", true, ISCDHCP6}} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := dhcpdCheck(t, dhcpd, tt.v6, mustRender(t, tt.render, hostileInput()))
			if err != nil {
				t.Fatalf("dhcpd -t refused the rendered file: %v\n%s", err, out)
			}
		})
	}
	// The check must be able to fail: a repeated declaration name is an
	// error for dhcpd.
	t.Run("control", func(t *testing.T) {
		bad := []byte("host a { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; }\n" +
			"host a { hardware ethernet 00:11:22:33:44:02; fixed-address 10.0.0.6; }\n")
		if out, err := dhcpdCheck(t, dhcpd, false, bad); err == nil {
			t.Fatalf("dhcpd -t accepted a repeated host name:\n%s", out)
		}
	})
}

// TestDhcpdReadsISCStrings checks with dhcpd that escaped strings with
// quotes, backslashes, control characters, braces, '#', ';', Cyrillic and
// emoji are read as one string each: dhcpd would see stray statements
// otherwise.
func TestDhcpdReadsISCStrings(t *testing.T) {
	dhcpd := requireDaemon(t, "dhcpd")
	hostile := []string{`"`, `\`, `\"`, `"; } host x {`, "a\nb\r\x00c\x7f", `#`, `;{}`, "Кабинет 303 😀", "code", `\\"\\`, "\\"}
	var b []byte
	for i, s := range hostile {
		b = fmt.Appendf(b, "host h%d {\n  hardware ethernet 00:11:22:33:44:%02x;\n  fixed-address 10.0.0.%d;\n  option host-name ", i, i+1, i+10)
		b = appendISCString(b, s)
		b = append(b, ";\n}\n"...)
	}
	if hosts, err := parseISC(b); err != nil || len(hosts) != len(hostile) {
		t.Fatalf("parseISC: %d hosts, %v", len(hosts), err)
	}
	if out, err := dhcpdCheck(t, dhcpd, false, b); err != nil {
		t.Fatalf("dhcpd -t refused escaped strings: %v\n%s\n%s", err, out, b)
	}
}

// keaCheck runs "kea-dhcpN -t" on a main configuration whose "DhcpN" map
// is made of members, one of which may be an include directive.
func keaCheck(t *testing.T, kea string, v6 bool, members ...string) ([]byte, error) {
	t.Helper()
	dir := t.TempDir()
	key := "Dhcp4"
	if v6 {
		key = "Dhcp6"
	}
	members = append([]string{
		`"interfaces-config": { "interfaces": [] }`,
		`"lease-database": { "type": "memfile", "persist": false }`,
	}, members...)
	conf := "{\n\"" + key + "\": {\n" + strings.Join(members, ",\n") + "\n}\n}\n"
	path := writeFile(t, dir, "kea.conf", []byte(conf))
	out, err := runDaemon(t, kea, "-t", path)
	return out, err
}

// keaInclude writes data to a file and returns the include directive.
func keaInclude(t *testing.T, name string, data []byte) string {
	t.Helper()
	return `<?include "` + writeFile(t, t.TempDir(), name, data) + `"?>`
}

// TestKeaAcceptsFragments runs kea-dhcp4 -t and kea-dhcp6 -t on main
// configurations that include the rendered fragments: the subnet lists,
// reservations inside an operator-written subnet with a pool, and global
// reservations.
func TestKeaAcceptsFragments(t *testing.T) {
	in := hostileInput()
	only := func(prefixID int64) *Input {
		sub := *in
		sub.Hosts = nil
		for _, a := range in.Hosts {
			if a != nil && a.PrefixID == prefixID {
				sub.Hosts = append(sub.Hosts, a)
			}
		}
		return &sub
	}
	tests := []struct {
		name    string
		daemon  string
		v6      bool
		members func(t *testing.T) []string
	}{
		{"subnet4", "kea-dhcp4", false, func(t *testing.T) []string {
			return []string{keaInclude(t, "subnet4.json", mustRender(t, KeaDHCP4, in))}
		}},
		{"subnet6", "kea-dhcp6", true, func(t *testing.T) []string {
			return []string{keaInclude(t, "subnet6.json", mustRender(t, KeaDHCP6, in))}
		}},
		{"reservations4-in-subnet", "kea-dhcp4", false, func(t *testing.T) []string {
			return []string{`"subnet4": [ { "id": 1, "subnet": "10.0.0.0/24", "pools": [ { "pool": "10.0.0.100 - 10.0.0.199" } ],
` + keaInclude(t, "res4.json", mustRender(t, KeaReservations4, only(10))) + ` } ]`}
		}},
		{"reservations6-in-subnet", "kea-dhcp6", true, func(t *testing.T) []string {
			return []string{`"subnet6": [ { "id": 1, "subnet": "2001:db8::/64", "pools": [ { "pool": "2001:db8::1000 - 2001:db8::1fff" } ],
` + keaInclude(t, "res6.json", mustRender(t, KeaReservations6, only(12))) + ` } ]`}
		}},
		{"reservations4-global", "kea-dhcp4", false, func(t *testing.T) []string {
			return []string{keaInclude(t, "global4.json", mustRender(t, KeaReservations4, in)),
				`"subnet4": [ { "id": 1, "subnet": "10.0.0.0/16", "reservations-global": true, "reservations-in-subnet": false } ]`}
		}},
		{"empty", "kea-dhcp4", false, func(t *testing.T) []string {
			return []string{keaInclude(t, "empty.json", mustRender(t, KeaDHCP4, &Input{}))}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kea := requireDaemon(t, tt.daemon)
			if out, err := keaCheck(t, kea, tt.v6, tt.members(t)...); err != nil {
				t.Fatalf("%s -t refused the configuration: %v\n%s", tt.daemon, err, out)
			}
		})
	}
	// The check must be able to fail: Kea refuses the \u escapes that
	// encoding/json writes for U+2028, which is why cleanText removes it.
	t.Run("control", func(t *testing.T) {
		kea := requireDaemon(t, "kea-dhcp4")
		bad := `"subnet4": [ { "id": 1, "subnet": "10.0.0.0/24", "user-context": { "comment": "a\u2028b" } } ]`
		if out, err := keaCheck(t, kea, false, keaInclude(t, "bad.json", []byte(bad))); err == nil {
			t.Fatalf("kea-dhcp4 -t accepted \\u2028:\n%s", out)
		}
	})
}

// freeUDPPort returns a UDP port that is free at the moment.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// dnsmasqLoad starts dnsmasq in the foreground, with DNS off and DHCP on
// the loopback interface on unprivileged ports, reading hosts as its
// dhcp-hostsfile. "dnsmasq --test" does not read hosts files, so this is
// the way to see dnsmasq's own verdict: it logs each bad line ("... at line
// N of FILE") and then "read FILE". It returns the log up to that line and
// stops dnsmasq.
func dnsmasqLoad(t *testing.T, dnsmasq string, hosts []byte) string {
	t.Helper()
	dir := t.TempDir()
	hostsPath := writeFile(t, dir, "dnsmasq.hosts", hosts)
	leases := writeFile(t, dir, "dnsmasq.leases", nil)
	port := freeUDPPort(t)
	ctx, cancel := context.WithTimeout(context.Background(), daemonTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, dnsmasq,
		"--no-daemon", "--conf-file=/dev/null", "--port=0",
		"--dhcp-alternate-port="+strconv.Itoa(port)+","+strconv.Itoa(port+1),
		"--interface=lo", "--bind-interfaces", "--dhcp-range=127.0.0.0,static",
		"--dhcp-hostsfile="+hostsPath, "--dhcp-leasefile="+leases,
		"--pid-file=", "--log-facility=-", "--user=root")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.HasSuffix(sc.Text(), "read "+hostsPath) {
			return log.String()
		}
	}
	t.Fatalf("dnsmasq ended without reading %s:\n%s", hostsPath, log.String())
	return ""
}

// dnsmasqProblems returns the log lines about the hosts file other than
// the final "read" line.
func dnsmasqProblems(log string) []string {
	var bad []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "dnsmasq.hosts") && !strings.Contains(line, ": read ") {
			bad = append(bad, line)
		}
	}
	return bad
}

// TestDnsmasqAcceptsHostsFile loads the rendered hosts file of the hostile
// fixture into a running dnsmasq and checks that no line is refused.
func TestDnsmasqAcceptsHostsFile(t *testing.T) {
	dnsmasq := requireDaemon(t, "dnsmasq")
	log := dnsmasqLoad(t, dnsmasq, mustRender(t, Dnsmasq, hostileInput()))
	if bad := dnsmasqProblems(log); len(bad) > 0 {
		t.Fatalf("dnsmasq refused lines of the rendered file:\n%s", strings.Join(bad, "\n"))
	}
	// The check must be able to fail: a name with a blank and a repeated
	// address are refused, each with a log line.
	t.Run("control", func(t *testing.T) {
		log := dnsmasqLoad(t, dnsmasq, []byte("00:11:22:33:44:01,10.0.0.5,bad name\n00:11:22:33:44:02,10.0.0.6\n00:11:22:33:44:03,10.0.0.6\n"))
		if bad := dnsmasqProblems(log); len(bad) != 2 {
			t.Fatalf("dnsmasq logged %d problems, want 2:\n%s", len(bad), log)
		}
	})
}

// squidParse runs "squid -k parse" on a configuration made of lines and
// returns the log and the lines that report a problem with an ACL file.
func squidParse(t *testing.T, squid string, lines []string) (string, []string, error) {
	t.Helper()
	dir := t.TempDir()
	conf := strings.Join(append(lines,
		"http_access deny all",
		"http_port 127.0.0.1:3128",
		"cache deny all",
		"pid_filename none",
		"cache_log /dev/null",
		"access_log none",
	), "\n") + "\n"
	path := writeFile(t, dir, "squid.conf", []byte(conf))
	out, err := runDaemon(t, squid, "-k", "parse", "-f", path)
	var bad []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "ERROR") || strings.Contains(line, "FATAL") || strings.Contains(line, "WARNING") ||
			strings.Contains(line, "Bad ") || strings.Contains(line, "regular expression") {
			bad = append(bad, line)
		}
	}
	return string(out), bad, err
}

// TestSquidAcceptsLists runs squid -k parse on a configuration that reads
// the rendered level lists and blocking lists of the hostile fixture.
func TestSquidAcceptsLists(t *testing.T) {
	squid := requireDaemon(t, "squid")
	in := hostileInput()
	dir := t.TempDir()
	var lines []string
	for _, level := range SquidLevels(in) {
		path := writeFile(t, dir, fmt.Sprintf("level%d.txt", level), SquidLevel(in, level))
		lines = append(lines, fmt.Sprintf("acl ipdesk_level%d src %q", level, path))
	}
	lines = append(lines,
		fmt.Sprintf("acl ipdesk_blocked src %q", writeFile(t, dir, "blocked-hosts.txt", SquidBlockedHosts(in, hostileBlocked))),
		fmt.Sprintf("acl ipdesk_blocked_names srcdom_regex -i %q", writeFile(t, dir, "blocked-names.txt", SquidBlockedNames(in, hostileBlocked))),
		"http_access deny ipdesk_blocked",
		"http_access deny ipdesk_blocked_names",
	)
	for _, level := range SquidLevels(in) {
		lines = append(lines, fmt.Sprintf("http_access allow ipdesk_level%d", level))
	}
	out, bad, err := squidParse(t, squid, lines)
	if err != nil || len(bad) > 0 {
		t.Fatalf("squid -k parse: %v, problems:\n%s\nlog:\n%s", err, strings.Join(bad, "\n"), out)
	}
	// Squid must have read each list: it names the ACLs it processed.
	for _, l := range lines[:len(SquidLevels(in))+2] {
		if !strings.Contains(out, "Processing: "+l) {
			t.Errorf("squid did not process %q", l)
		}
	}
	// The check must be able to fail: squid skips a bad expression with an
	// ERROR line but exits with 0, and it refuses a line that is not an
	// address.
	t.Run("control", func(t *testing.T) {
		re := writeFile(t, t.TempDir(), "bad-re.txt", []byte("^a(b\n"))
		if _, bad, _ := squidParse(t, squid, []string{fmt.Sprintf("acl x srcdom_regex -i %q", re), "http_access deny x"}); len(bad) == 0 {
			t.Error("no problem reported for a bad regular expression")
		}
		addr := writeFile(t, t.TempDir(), "bad-addr.txt", []byte("10.0.0.300\n"))
		if out, _, err := squidParse(t, squid, []string{fmt.Sprintf("acl x src %q", addr), "http_access deny x"}); err == nil {
			t.Errorf("squid accepted a bad address:\n%s", out)
		}
	})
}

// TestDaemonsAcceptLargeInput runs the DHCP daemons' checks on 2,000
// generated reservations of each family, to catch problems that only show with many hosts
// (name clashes, duplicate detection).
func TestDaemonsAcceptLargeInput(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	in, in6 := generatedInput(2000, false), generatedInput(2000, true)
	t.Run("dhcpd", func(t *testing.T) {
		dhcpd := requireDaemon(t, "dhcpd")
		b := mustRender(t, ISCDHCP, in)
		dir := t.TempDir()
		var main bytes.Buffer
		for _, p := range in.Subnets {
			fmt.Fprintf(&main, "subnet %s netmask 255.255.255.0 {\n}\n", p.Prefix.Addr())
		}
		fmt.Fprintf(&main, "include %q;\n", writeFile(t, dir, "hosts", b))
		out, err := runDaemon(t, dhcpd, "-t", "-q", "-cf", writeFile(t, dir, "dhcpd.conf", main.Bytes()),
			"-lf", writeFile(t, dir, "leases", nil))
		if err != nil {
			t.Fatalf("dhcpd -t: %v\n%s", err, out)
		}
	})
	t.Run("kea-dhcp4", func(t *testing.T) {
		kea := requireDaemon(t, "kea-dhcp4")
		if out, err := keaCheck(t, kea, false, keaInclude(t, "subnet4.json", mustRender(t, KeaDHCP4, in))); err != nil {
			t.Fatalf("kea-dhcp4 -t: %v\n%s", err, out)
		}
	})
	t.Run("dnsmasq", func(t *testing.T) {
		dnsmasq := requireDaemon(t, "dnsmasq")
		both := *in
		both.Hosts = append(slices.Clone(in.Hosts), in6.Hosts...)
		if bad := dnsmasqProblems(dnsmasqLoad(t, dnsmasq, mustRender(t, Dnsmasq, &both))); len(bad) > 0 {
			t.Fatalf("dnsmasq refused lines:\n%s", strings.Join(bad, "\n"))
		}
	})
	t.Run("dhcpd6", func(t *testing.T) {
		dhcpd := requireDaemon(t, "dhcpd")
		dir := t.TempDir()
		var main bytes.Buffer
		for _, p := range in6.Subnets {
			fmt.Fprintf(&main, "subnet6 %s {\n}\n", p.Prefix)
		}
		fmt.Fprintf(&main, "include %q;\n", writeFile(t, dir, "hosts", mustRender(t, ISCDHCP6, in6)))
		out, err := runDaemon(t, dhcpd, "-6", "-t", "-q", "-cf", writeFile(t, dir, "dhcpd.conf", main.Bytes()),
			"-lf", writeFile(t, dir, "leases", nil))
		if err != nil {
			t.Fatalf("dhcpd -6 -t: %v\n%s", err, out)
		}
	})
	t.Run("kea-dhcp6", func(t *testing.T) {
		kea := requireDaemon(t, "kea-dhcp6")
		if out, err := keaCheck(t, kea, true, keaInclude(t, "subnet6.json", mustRender(t, KeaDHCP6, in6))); err != nil {
			t.Fatalf("kea-dhcp6 -t: %v\n%s", err, out)
		}
	})
}

// generatedInput makes n reservations in /24 subnets of 250 hosts each,
// IPv4 or IPv6, with realistic text, in shuffled order.
func generatedInput(n int, v6 bool) *Input {
	in := &Input{Locations: map[int64]*ipdesk.Location{}}
	for r := int64(1); r <= 500; r++ {
		in.Locations[r] = &ipdesk.Location{ID: r, Kind: ipdesk.LocationRoom, Name: "Кабинет " + strconv.FormatInt(r, 10), HostnamePattern: "z" + strconv.FormatInt(r, 10) + "c"}
	}
	for i := 0; i < n; i++ {
		net, host := i/250, i%250+2
		if len(in.Subnets) <= net {
			var p netip.Prefix
			if v6 {
				p = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(net >> 8), byte(net)}), 64)
			} else {
				p = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(net >> 8), byte(net), 0}), 24)
			}
			in.Subnets = append(in.Subnets, &ipdesk.Prefix{ID: int64(net + 1), Prefix: p, Kind: ipdesk.PrefixSubnet, DHCP: true, Description: "VLAN " + strconv.Itoa(net)})
		}
		var addr netip.Addr
		if v6 {
			b := in.Subnets[net].Prefix.Addr().As16()
			b[14], b[15] = byte(host>>8), byte(host)
			addr = netip.AddrFrom16(b)
		} else {
			b := in.Subnets[net].Prefix.Addr().As4()
			b[3] = byte(host)
			addr = netip.AddrFrom4(b)
		}
		room := int64(i%500 + 1)
		in.Hosts = append(in.Hosts, &ipdesk.Address{
			ID: int64(i + 1), PrefixID: int64(net + 1), Addr: addr,
			MAC:         ipdesk.MAC{0x02, 0x00, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)},
			Hostname:    "z" + strconv.FormatInt(room, 10) + "c" + strconv.Itoa(i),
			Owner:       "Иванов И.И.",
			Description: "Рабочее место преподавателя; монитор 24\"",
			LocationID:  room, AccessLevel: i % 4, DHCPReservation: true,
		})
	}
	// A fixed shuffle: the database usually sorts already, the writers must
	// not rely on it.
	for i := len(in.Hosts) - 1; i > 0; i-- {
		j := (i * 7919) % (i + 1)
		in.Hosts[i], in.Hosts[j] = in.Hosts[j], in.Hosts[i]
	}
	return in
}

// TestRequireDaemonSkips checks that a missing daemon skips its test when
// CI is not "true".
func TestRequireDaemonSkips(t *testing.T) {
	t.Setenv("CI", "")
	skipped := false
	t.Run("missing", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		requireDaemon(t, "ipdesk-no-such-daemon")
	})
	if !skipped {
		t.Error("a missing daemon did not skip the test")
	}
}

//go:build linux

package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/render"
)

// The DHCP laboratory: the daemon's namespace "server" with serverIf at
// 10.77.0.1/24, joined by a veth pair to the namespace "client", whose
// clientIf takes the MAC of the host a test plays.
const (
	serverIf   = "srv0"
	clientIf   = "cli0"
	serverCIDR = "10.77.0.1/24"
)

// The hosts of the DHCP tests. MAC A and MAC B have reservations; MAC C
// has none. All are locally administered addresses.
var (
	macA = mustMAC("02:1d:e5:77:00:0a")
	macB = mustMAC("02:1d:e5:77:00:0b")
	macC = mustMAC("02:1d:e5:77:00:0c")
)

// Addresses of host A: reserved at first, after the edit, and in the file
// that the daemon's check must refuse.
var (
	addrA      = netip.MustParseAddr("10.77.0.50")
	addrAEdit  = netip.MustParseAddr("10.77.0.60")
	addrAWrong = netip.MustParseAddr("10.77.0.70")
	addrB      = netip.MustParseAddr("10.77.0.51")
)

func mustMAC(s string) ipdesk.MAC {
	m, err := ipdesk.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// hostileLocations are a site, building and room whose names are full of
// what could break a configuration file.
var hostileLocations = map[int64]*ipdesk.Location{
	1: {ID: 1, Kind: ipdesk.LocationSite, Name: "Главный корпус"},
	2: {ID: 2, ParentID: 1, Kind: ipdesk.LocationBuilding, Name: `Haus "B"; {Nord} # 2`},
	3: {ID: 3, ParentID: 2, Kind: ipdesk.LocationRoom, Name: `Кабинет 303 \ code`},
}

// dhcpInput is the address plan of the DHCP tests with host A at a: two
// reservations in the subnet 10.77.0.0/24, whose owners and descriptions
// try to break out of their comments in each daemon's syntax. Host B's
// description even tries to declare MAC C with its own line; ipdesk's input
// validation refuses its line breaks, and the test shows the writers are
// safe even with data that got past it (an old import).
func dhcpInput(a netip.Addr) *render.Input {
	return &render.Input{
		Subnets: []*ipdesk.Prefix{{
			ID: 7, Prefix: netip.MustParsePrefix("10.77.0.0/24"), Kind: ipdesk.PrefixSubnet,
			Gateway: netip.MustParseAddr("10.77.0.1"), DHCP: true,
			Description: `Lab "VLAN 77"; {x} # code — Кабинеты`,
		}},
		Hosts: []*ipdesk.Address{
			{
				ID: 101, PrefixID: 7, Addr: a, MAC: macA, Hostname: "pc-a", LocationID: 3,
				Owner:       `Иванов "Ваня" И.И.; {root} # code`,
				Description: `printer; } host x { # not a comment \ "code"`,
				AccessLevel: 2, DHCPReservation: true,
			},
			{
				ID: 102, PrefixID: 7, Addr: addrB, MAC: macB, Hostname: "code", LocationID: 3,
				Owner: `O'Brien"}, {"hw-address": "` + macC.String() + `", "ip-address": "10.77.0.99"}, {"x": "`,
				Description: "}\nhost evil { hardware ethernet " + macC.String() + "; fixed-address 10.77.0.99; }\n" +
					macC.String() + ",10.77.0.99,evil\n# Кириллица ; {} # code",
				AccessLevel: 0, DHCPReservation: true,
			},
		},
		Locations: hostileLocations,
	}
}

// lease is what a DHCP client was given.
type lease struct {
	addr     string // "" when the client got no lease
	hostname string
}

func (l lease) String() string {
	if l.addr == "" {
		return "no lease"
	}
	return fmt.Sprintf("%s (host name %q)", l.addr, l.hostname)
}

// dhcpLab is the server and client namespaces of one DHCP test, and a
// directory for the daemon's files.
type dhcpLab struct {
	dir    string
	server *netns
	client *netns
	script string // udhcpc's event script
}

// udhcpcScript prints the lease that udhcpc obtained and leaves the
// interface alone: the test only wants to know what the server offered
// and acknowledged.
const udhcpcScript = `#!/bin/sh
# udhcpc runs this with the event in $1 and the lease in the environment.
if [ "$1" = bound ]; then
	echo "ipdesk-lease ip=$ip hostname=$hostname"
fi
exit 0
`

func newDHCPLab(t *testing.T) *dhcpLab {
	t.Helper()
	l := &dhcpLab{dir: t.TempDir(), server: newNetns(t, "server"), client: newNetns(t, "client")}
	veth(t, l.server, serverIf, l.client, clientIf)
	l.server.addr(t, serverCIDR, serverIf)
	l.script = filepath.Join(l.dir, "udhcpc.script")
	writeFile(t, l.script, udhcpcScript, 0o755)
	return l
}

// lease runs one DHCP exchange (DISCOVER, OFFER, REQUEST, ACK) from the
// client namespace with the client's MAC set to mac: udhcpc sends up to
// three DISCOVERs a second apart and gives up when no offer comes. extra
// are further udhcpc options (such as "-x", "hostname:NAME"). The error
// reports a client that failed in another way.
func (l *dhcpLab) lease(t *testing.T, mac ipdesk.MAC, extra ...string) (lease, error) {
	t.Helper()
	l.client.ip(t, "link", "set", "dev", clientIf, "address", mac.String())
	out, err := run(l.client.command(append([]string{busyboxPath, "udhcpc", "-i", clientIf, "-f", "-q", "-n",
		"-t", "3", "-T", "1", "-s", l.script}, extra...)...)...)
	var got lease
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "ipdesk-lease "); ok {
			for _, f := range strings.Fields(rest) {
				if v, ok := strings.CutPrefix(f, "ip="); ok {
					got.addr = v
				} else if v, ok := strings.CutPrefix(f, "hostname="); ok {
					got.hostname = v
				}
			}
		}
	}
	switch {
	case err == nil && got.addr == "":
		return got, fmt.Errorf("udhcpc succeeded without reporting a lease:\n%s", out)
	case err != nil && (got.addr != "" || !strings.Contains(err.Error(), "no lease, failing")):
		return lease{}, fmt.Errorf("udhcpc failed: %w", err)
	}
	return got, nil
}

// expectLease requires that mac gets exactly want with host name name.
// Only "no lease" is tried again, until startTimeout, for a daemon that is
// still starting; a wrong address fails at once.
func (l *dhcpLab) expectLease(t *testing.T, mac ipdesk.MAC, want netip.Addr, name string) {
	t.Helper()
	start := time.Now()
	var got lease
	err := waitFor(startTimeout, fmt.Sprintf("a lease for %s", mac), func() (bool, error) {
		var err error
		got, err = l.lease(t, mac)
		if err == nil && got.addr == "" {
			err = fmt.Errorf("no lease")
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.addr != want.String() || got.hostname != name {
		t.Fatalf("%s got %s, want %s (host name %q)", mac, got, want, name)
	}
	t.Logf("%s got %s in %s", mac, got, time.Since(start).Round(time.Millisecond))
}

// waitLease waits until mac gets want, after a change the daemon loads in
// the background; until then it may still get its previous address.
func (l *dhcpLab) waitLease(t *testing.T, mac ipdesk.MAC, want netip.Addr, previous netip.Addr) {
	t.Helper()
	start := time.Now()
	err := waitFor(changeTimeout, fmt.Sprintf("%s getting %s", mac, want), func() (bool, error) {
		got, err := l.lease(t, mac)
		switch {
		case err != nil:
			return false, err
		case got.addr == want.String():
			return true, nil
		case got.addr == "" || got.addr == previous.String():
			return false, fmt.Errorf("got %s", got)
		}
		t.Fatalf("%s got %s, which is neither %s nor the previous %s", mac, got, want, previous)
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s got %s %s after the apply", mac, want, time.Since(start).Round(time.Millisecond))
}

// expectNoLease requires that mac gets no address at all, and that the
// daemon saw its requests (logged its MAC), so the silence is a refusal
// and not a lost packet.
func (l *dhcpLab) expectNoLease(t *testing.T, mac ipdesk.MAC, daemonLog func() string) {
	t.Helper()
	start := time.Now()
	got, err := l.lease(t, mac)
	if err != nil {
		t.Fatal(err)
	}
	if got.addr != "" {
		t.Fatalf("%s, which has no reservation, got %s", mac, got)
	}
	if !strings.Contains(strings.ToLower(daemonLog()), mac.String()) {
		t.Fatalf("the daemon did not log a request from %s, so the client's requests may not have reached it", mac)
	}
	t.Logf("%s got no lease; the daemon logged its requests (%s)", mac, time.Since(start).Round(time.Millisecond))
}

// dhcpCase is one DHCP daemon under test.
type dhcpCase struct {
	// name is the target's name.
	name string
	// programs must be installed.
	programs []string
	// render writes the target's file.
	render func(*render.Input) ([]byte, error)
	// setup writes what the operator writes (the daemon's main
	// configuration) into l.dir and returns the target of the file the
	// daemon reads, with the daemon's own check and no reload yet.
	setup func(t *testing.T, l *dhcpLab) apply.Target
	// start starts the daemon on the target's file, which must exist.
	start func(t *testing.T, l *dhcpLab, target apply.Target) dhcpDaemon
	// corrupt turns the rendered file with host A at addrAWrong into one
	// that the daemon's check must refuse.
	corrupt func(good []byte) ([]byte, error)
	// refusal is part of the daemon's message about the corrupt file.
	refusal string
}

// require fails (or skips, outside CI) the test when it cannot run the
// case: not root, or a program missing.
func (c dhcpCase) require(t *testing.T) {
	t.Helper()
	requireRoot(t)
	requireDaemon(t, busyboxPath)
	requireDaemon(t, killPath)
	for _, p := range c.programs {
		requireDaemon(t, p)
	}
}

// dhcpDaemon is a running DHCP daemon.
type dhcpDaemon struct {
	// reload is the target's reload command.
	reload []string
	// log returns what the daemon has logged.
	log func() string
	// loadMark is the line the daemon logs each time it has loaded its
	// configuration, at the start and at each reload or restart.
	loadMark string
}

// loads counts how often the daemon has loaded its configuration.
func (d dhcpDaemon) loads() int {
	return strings.Count(d.log(), d.loadMark)
}

// waitLoads waits until the daemon has loaded its configuration n times.
func (d dhcpDaemon) waitLoads(t *testing.T, n int) {
	t.Helper()
	err := waitFor(changeTimeout, fmt.Sprintf("the daemon loading its configuration (%q %d times)", d.loadMark, n), func() (bool, error) {
		return d.loads() >= n, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// renderFunc returns the apply.RenderFunc that renders in with f.
func renderFunc(f func(*render.Input) ([]byte, error), in *render.Input) apply.RenderFunc {
	return func(context.Context) ([]byte, error) { return f(in) }
}

// applyExpect applies target with r and requires the status want.
func applyExpect(t *testing.T, a *apply.Applier, target apply.Target, r apply.RenderFunc, want apply.Status) apply.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*targetTimeout)
	defer cancel()
	run, err := a.Apply(ctx, target, r)
	if err != nil {
		t.Fatalf("apply %s: %v", target.Name, err)
	}
	if run.Status != want {
		t.Fatalf("apply %s: status %q, want %q:\n%s", target.Name, run.Status, want, run.Message)
	}
	t.Logf("apply %s: %s in %s (+%d -%d lines)", target.Name, run.Status, run.Duration.Round(time.Millisecond), run.Added, run.Removed)
	return run
}

// testDHCP runs the DHCP scenario against one daemon:
//
//  1. the rendered reservations are applied (checked by the daemon) before
//     the daemon starts, and the daemon serves the applied file;
//  2. MAC A gets exactly 10.77.0.50 and MAC B 10.77.0.51, each with its
//     host name;
//  3. MAC C, without a reservation, gets nothing: the subnet has no pool,
//     and host B's description did not smuggle in a declaration for it;
//  4. host A is moved to 10.77.0.60 and the change applied with the
//     daemon's reload: MAC A then gets 10.77.0.60, MAC B still .51;
//  5. a file that the daemon's check refuses (with MAC A at .70) ends as
//     "invalid" with the daemon's message and without a reload, the live
//     file is unchanged and no temporary file is left, and the daemon,
//     made to read its files again, still gives MAC A 10.77.0.60.
func testDHCP(t *testing.T, c dhcpCase) {
	c.require(t)
	t.Parallel()
	began := time.Now()
	l := newDHCPLab(t)
	target := c.setup(t, l)
	target.Timeout = targetTimeout
	var a apply.Applier

	// 1. The first file goes live before the daemon starts.
	first := dhcpInput(addrA)
	applyExpect(t, &a, target, renderFunc(c.render, first), apply.StatusApplied)
	want, err := c.render(first)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, target.Path); !bytes.Equal(got, want) {
		t.Fatalf("the live file is not the rendered one:\n%s", got)
	}
	d := c.start(t, l, target)
	target.Reload = d.reload
	if err := target.Check(); err != nil {
		t.Fatal(err)
	}

	// 2. Reserved MACs get exactly their addresses and names.
	l.expectLease(t, macA, addrA, "pc-a")
	l.expectLease(t, macB, addrB, "code")

	// 3. A MAC without a reservation gets nothing.
	l.expectNoLease(t, macC, d.log)

	// 4. An edit, applied and reloaded, reaches the client.
	edited := dhcpInput(addrAEdit)
	loads := d.loads()
	run := applyExpect(t, &a, target, renderFunc(c.render, edited), apply.StatusApplied)
	if run.Added == 0 || run.Removed == 0 {
		t.Errorf("the edit changed no line: +%d -%d\n%s", run.Added, run.Removed, run.Diff)
	}
	d.waitLoads(t, loads+1)
	l.waitLease(t, macA, addrAEdit, addrA)
	l.expectLease(t, macB, addrB, "code")

	// 5. A file the daemon's check refuses never goes live.
	live := readFile(t, target.Path)
	bad := func(context.Context) ([]byte, error) {
		good, err := c.render(dhcpInput(addrAWrong))
		if err != nil {
			return nil, err
		}
		return c.corrupt(good)
	}
	loads = d.loads()
	run = applyExpect(t, &a, target, bad, apply.StatusInvalid)
	t.Logf("the daemon's check refused the file:\n%s", run.Message)
	if n := d.loads(); n != loads {
		t.Errorf("the daemon loaded its configuration %d more times although its check refused the file", n-loads)
	}
	if !strings.Contains(run.Message, c.refusal) {
		t.Errorf("the message of the refused apply does not have the daemon's %q:\n%s", c.refusal, run.Message)
	}
	if got := readFile(t, target.Path); !bytes.Equal(got, live) {
		t.Fatalf("the live file changed although the check refused the new one:\n%s", got)
	}
	if left := tempFiles(t, filepath.Dir(target.Path)); len(left) > 0 {
		t.Errorf("the refused apply left %q behind", left)
	}
	mustRun(t, d.reload...)
	d.waitLoads(t, loads+1)
	l.expectLease(t, macA, addrAEdit, "pc-a")
	t.Logf("%s: whole scenario in %s", c.name, time.Since(began).Round(time.Millisecond))
}

// cutAfter returns b up to and including the first s: a half-written file.
func cutAfter(b []byte, s string) ([]byte, error) {
	i := bytes.Index(b, []byte(s))
	if i < 0 {
		return nil, fmt.Errorf("%q is not in the rendered file:\n%s", s, b)
	}
	return b[:i+len(s)], nil
}

// dhcpdStarted is the line dhcpd logs when it serves.
const dhcpdStarted = "Server starting service."

// TestISCDHCP runs the DHCP scenario (see testDHCP) against ISC dhcpd.
func TestISCDHCP(t *testing.T) { testDHCP(t, iscDHCP()) }

// iscDHCP is ISC dhcpd: the reservations are an include file of host
// declarations, checked with "dhcpd -t" on the operator's dhcpd.conf
// pointing at the candidate. dhcpd cannot reload, so the reload command
// restarts it.
func iscDHCP() dhcpCase {
	return dhcpCase{
		name:     "dhcpd",
		programs: []string{dhcpdPath},
		render:   render.ISCDHCP,
		setup: func(t *testing.T, l *dhcpLab) apply.Target {
			main := filepath.Join(l.dir, "dhcpd.conf")
			hosts := filepath.Join(l.dir, "dhcpd.hosts")
			writeFile(t, main, `# The operator's dhcpd.conf: a subnet without a range (no dynamic
# pool) and the reservations that ipdesk writes.
authoritative;
ddns-update-style none;
default-lease-time 600;
max-lease-time 600;
subnet 10.77.0.0 netmask 255.255.255.0 {
  option routers 10.77.0.1;
}
include "`+hosts+`";
`, 0o644)
			return apply.Target{
				Name: "dhcpd", Kind: apply.KindISCDHCP, Path: hosts, MainConfig: main,
				Validate: l.server.command(dhcpdPath, "-4", "-t", "-cf", apply.PlaceholderMain),
			}
		},
		start: func(t *testing.T, l *dhcpLab, target apply.Target) dhcpDaemon {
			leases := filepath.Join(l.dir, "dhcpd.leases")
			pidFile := filepath.Join(l.dir, "dhcpd.pid")
			writeFile(t, leases, "", 0o644)
			svc := newService(t, "dhcpd", l.dir, func() (*process, error) {
				p, err := startProcess("dhcpd", childEnv(), l.server.command(dhcpdPath, "-4", "-f", "-d",
					"-cf", target.MainConfig, "-lf", leases, "-pf", pidFile, serverIf)...)
				if err != nil {
					return nil, err
				}
				if err := p.waitOutput(dhcpdStarted, 1, startTimeout); err != nil {
					p.stop()
					return nil, fmt.Errorf("%w\n%s", err, p.out.String())
				}
				return p, nil
			})
			return dhcpDaemon{reload: svc.reloadCommand(), log: svc.output, loadMark: dhcpdStarted}
		},
		corrupt: func(good []byte) ([]byte, error) {
			// Cut off after host A's address, before its ';'.
			return cutAfter(good, "fixed-address "+addrAWrong.String())
		},
		refusal: "semicolon expected",
	}
}

// TestKea runs the DHCP scenario (see testDHCP) against Kea.
func TestKea(t *testing.T) { testDHCP(t, keaDHCP()) }

// keaDHCP is Kea: the rendered "subnet4" fragment (the subnet with its
// reservations and no pool) is included into the operator's kea.conf with
// <?include?>, checked with "kea-dhcp4 -t", and loaded by SIGHUP.
func keaDHCP() dhcpCase {
	return dhcpCase{
		name:     "kea",
		programs: []string{keaPath},
		render:   render.KeaDHCP4,
		setup: func(t *testing.T, l *dhcpLab) apply.Target {
			main := filepath.Join(l.dir, "kea-dhcp4.conf")
			subnets := filepath.Join(l.dir, "kea-subnet4.json")
			// Kea 2.2 needs a lease file and writes a pid file and a
			// logger lock file (their directories come from the
			// environment, see start); all live in the test's directory.
			writeFile(t, main, `{
  "Dhcp4": {
    "interfaces-config": { "interfaces": [ "`+serverIf+`" ] },
    "lease-database": {
      "type": "memfile", "persist": true, "lfc-interval": 0,
      "name": "`+filepath.Join(l.dir, "kea-leases4.csv")+`"
    },
    "valid-lifetime": 600,
    "loggers": [ {
      "name": "kea-dhcp4", "severity": "INFO",
      "output_options": [ { "output": "stdout" } ]
    } ],
    <?include "`+subnets+`"?>
  }
}
`, 0o644)
			// kea-dhcp4 -t also checks that the interfaces exist, so it
			// runs where the daemon runs.
			return apply.Target{
				Name: "kea", Kind: apply.KindKea, Path: subnets, MainConfig: main,
				Validate: l.server.command(keaPath, "-t", apply.PlaceholderMain),
			}
		},
		start: func(t *testing.T, l *dhcpLab, target apply.Target) dhcpDaemon {
			env := childEnv("KEA_PIDFILE_DIR="+l.dir, "KEA_LOCKFILE_DIR="+l.dir)
			p := startDaemon(t, "kea-dhcp4", env, l.server.command(keaPath, "-c", target.MainConfig)...)
			if err := p.waitOutput("DHCP4_STARTED", 1, startTimeout); err != nil {
				t.Fatal(err)
			}
			// Kea logs DHCP4_CONFIG_COMPLETE at the start and after each
			// successful reload.
			return dhcpDaemon{reload: []string{killPath, "-HUP", strconv.Itoa(p.pid())}, log: p.out.String, loadMark: "DHCP4_CONFIG_COMPLETE"}
		},
		corrupt: func(good []byte) ([]byte, error) {
			// Cut off inside host A's reservation: broken JSON.
			return cutAfter(good, `"ip-address":"`+addrAWrong.String()+`"`)
		},
		refusal: "syntax error",
	}
}

// TestDnsmasq runs the DHCP scenario (see testDHCP) against dnsmasq.
func TestDnsmasq(t *testing.T) { testDHCP(t, dnsmasqDHCP()) }

// dnsmasqDHCP is dnsmasq: the reservations are a dhcp-hostsfile, which
// dnsmasq reads again on SIGHUP. The check loads the candidate into a
// throwaway dnsmasq (see helperDnsmasqCheck), since "dnsmasq --test" does
// not read hosts files.
func dnsmasqDHCP() dhcpCase {
	return dhcpCase{
		name:     "dnsmasq",
		programs: []string{dnsmasqPath},
		render:   render.Dnsmasq,
		setup: func(t *testing.T, l *dhcpLab) apply.Target {
			return apply.Target{
				Name: "dnsmasq", Kind: apply.KindDnsmasq, Path: filepath.Join(l.dir, "dnsmasq.hosts"),
				Validate: append([]string{selfPath, helperFlag, "dnsmasq-check", apply.PlaceholderCandidate},
					l.server.command(dnsmasqPath)...),
			}
		},
		start: func(t *testing.T, l *dhcpLab, target apply.Target) dhcpDaemon {
			// --dhcp-range=…,static: reserved hosts only, no pool.
			// --user=root: dnsmasq reads the hosts file again on SIGHUP
			// and must still be allowed to, in the test's directory.
			p := startDaemon(t, "dnsmasq", childEnv(), l.server.command(dnsmasqPath,
				"--no-daemon", "--conf-file=/dev/null", "--port=0",
				"--dhcp-range=10.77.0.0,static", "--dhcp-authoritative",
				"--dhcp-hostsfile="+target.Path, "--interface="+serverIf, "--bind-interfaces",
				"--dhcp-leasefile="+filepath.Join(l.dir, "dnsmasq.leases"),
				"--pid-file=", "--log-facility=-", "--log-dhcp", "--user=root")...)
			if err := p.waitOutput("read "+target.Path, 1, startTimeout); err != nil {
				t.Fatal(err)
			}
			// dnsmasq logs "read FILE" at the start and after each SIGHUP.
			return dhcpDaemon{reload: []string{killPath, "-HUP", strconv.Itoa(p.pid())}, log: p.out.String, loadMark: "read " + target.Path}
		},
		corrupt: func(good []byte) ([]byte, error) {
			// A line dnsmasq cannot use; it would skip it and serve the
			// rest, MAC A at .70 included.
			return append(good, "02:1d:e5:77:00:0d,10.77.0.71,bad host name\n"...), nil
		},
		refusal: "bad DHCP host name",
	}
}

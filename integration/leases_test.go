//go:build linux

package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The dynamic pool of the lease test, from which the client unknown to
// ipdesk (MAC C) gets its address, and the name it sends.
const (
	poolFirst  = "10.77.0.100"
	poolLast   = "10.77.0.110"
	guestName  = "guest-c"
	leaseTimeS = "600"
)

// leaseDaemon is one DHCP server of the lease test: it reserves addrA for
// MAC A (host name pc-a) and hands out the pool to anyone else, and
// writes its lease file at leases.
type leaseDaemon struct {
	name, kind string
	lab        *dhcpLab
	leases     string
	leaseTime  string // dnsmasq's, for the config file's lease_time
}

// startLeaseDaemons starts ISC dhcpd, Kea and dnsmasq, each in a
// laboratory of its own, with a pool and the reservation of MAC A.
func startLeaseDaemons(t *testing.T) []*leaseDaemon {
	t.Helper()
	var out []*leaseDaemon

	// ISC dhcpd.
	l := newDHCPLab(t)
	d := &leaseDaemon{name: "dhcpd", kind: "isc-dhcp", lab: l, leases: filepath.Join(l.dir, "dhcpd.leases")}
	conf := filepath.Join(l.dir, "dhcpd.conf")
	writeFile(t, conf, fmt.Sprintf(`authoritative;
ddns-update-style none;
default-lease-time %[1]s;
max-lease-time %[1]s;
subnet 10.77.0.0 netmask 255.255.255.0 {
  option routers 10.77.0.1;
  range %[2]s %[3]s;
}
host pc-a { hardware ethernet %[4]s; fixed-address %[5]s; option host-name "pc-a"; }
`, leaseTimeS, poolFirst, poolLast, macA, addrA), 0o644)
	writeFile(t, d.leases, "", 0o644)
	p := startDaemon(t, "dhcpd", childEnv(), l.server.command(dhcpdPath, "-4", "-f", "-d", "-cf", conf, "-lf", d.leases,
		"-pf", filepath.Join(l.dir, "dhcpd.pid"), serverIf)...)
	if err := p.waitOutput(dhcpdStarted, 1, startTimeout); err != nil {
		t.Fatal(err)
	}
	out = append(out, d)

	// Kea, with its memfile lease file.
	l = newDHCPLab(t)
	d = &leaseDaemon{name: "kea", kind: "kea", lab: l, leases: filepath.Join(l.dir, "kea-leases4.csv")}
	conf = filepath.Join(l.dir, "kea-dhcp4.conf")
	writeFile(t, conf, fmt.Sprintf(`{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ %q ] },
  "lease-database": { "type": "memfile", "persist": true, "lfc-interval": 0, "name": %q },
  "valid-lifetime": %s,
  "loggers": [ { "name": "kea-dhcp4", "severity": "INFO", "output_options": [ { "output": "stdout" } ] } ],
  "subnet4": [ { "id": 1, "subnet": "10.77.0.0/24",
    "pools": [ { "pool": "%s - %s" } ],
    "reservations": [ { "hw-address": %q, "ip-address": %q, "hostname": "pc-a" } ] } ]
} }
`, serverIf, d.leases, leaseTimeS, poolFirst, poolLast, macA.String(), addrA.String()), 0o644)
	p = startDaemon(t, "kea-dhcp4", childEnv("KEA_PIDFILE_DIR="+l.dir, "KEA_LOCKFILE_DIR="+l.dir), l.server.command(keaPath, "-c", conf)...)
	if err := p.waitOutput("DHCP4_STARTED", 1, startTimeout); err != nil {
		t.Fatal(err)
	}
	out = append(out, d)

	// dnsmasq.
	l = newDHCPLab(t)
	d = &leaseDaemon{name: "dnsmasq", kind: "dnsmasq", lab: l, leases: filepath.Join(l.dir, "dnsmasq.leases"), leaseTime: leaseTimeS + "s"}
	p = startDaemon(t, "dnsmasq", childEnv(), l.server.command(dnsmasqPath,
		"--no-daemon", "--conf-file=/dev/null", "--port=0",
		"--dhcp-range="+poolFirst+","+poolLast+","+leaseTimeS, "--dhcp-authoritative",
		"--dhcp-host="+macA.String()+","+addrA.String()+",pc-a",
		"--interface="+serverIf, "--bind-interfaces", "--dhcp-leasefile="+d.leases,
		"--pid-file=", "--log-facility=-", "--log-dhcp", "--user=root")...)
	if err := p.waitOutput("DHCP, IP range", 1, startTimeout); err != nil {
		t.Fatal(err)
	}
	out = append(out, d)
	return out
}

// TestLeases runs real DHCP clients against ISC dhcpd, Kea and dnsmasq,
// each with a pool and a reservation, and shows their lease files through
// ipdesk's API:
//
//  1. in each laboratory MAC A gets its reserved 10.77.0.50 and MAC C,
//     which ipdesk does not know, an address of the pool (sending the
//     host name guest-c);
//  2. "ipdesk serve", with the three lease files in its config file and
//     the plan (the subnet and host A) made through the API, lists per
//     server the pool lease of MAC C as unknown with its host name, and
//     MAC A's lease as reserved where the daemon records leases of
//     reserved hosts (Kea, dnsmasq; dhcpd writes no lease for a host with
//     a fixed-address);
//     then Kea's lease of MAC C, adopted through the API, is a reserved
//     host, and MAC C's leases at other addresses show as reserved
//     elsewhere;
//  3. host A's address carries when its client was last seen;
//  4. a user without view on the space sees none of it (an empty list, a
//     404 for the subnet), and the lease files' summary names no skipped
//     line.
func TestLeases(t *testing.T) {
	requireRoot(t)
	requireDaemon(t, busyboxPath)
	for _, p := range []string{dhcpdPath, keaPath, dnsmasqPath} {
		requireDaemon(t, p)
	}
	t.Parallel()
	bin := buildIpdesk(t)
	daemons := startLeaseDaemons(t)

	// 1. Real clients.
	pool := netip.MustParsePrefix("10.77.0.96/28")
	guests := map[string]string{}
	for _, d := range daemons {
		d.lab.expectLease(t, macA, addrA, "pc-a")
		var got lease
		err := waitFor(startTimeout, d.name+" leasing to MAC C", func() (bool, error) {
			var err error
			got, err = d.lab.lease(t, macC, "-x", "hostname:"+guestName)
			return err == nil && got.addr != "", err
		})
		if err != nil {
			t.Fatal(err)
		}
		a, err := netip.ParseAddr(got.addr)
		if err != nil || !pool.Contains(a) {
			t.Fatalf("%s gave MAC C %s, not an address of its pool", d.name, got)
		}
		guests[d.name] = got.addr
		t.Logf("%s: MAC C got %s from the pool", d.name, got.addr)
	}

	// 2. ipdesk reads the lease files.
	dir := t.TempDir()
	var sources []map[string]any
	for _, d := range daemons {
		src := map[string]any{"name": d.name, "kind": d.kind, "path": d.leases}
		if d.leaseTime != "" {
			src["lease_time"] = d.leaseTime
		}
		sources = append(sources, src)
	}
	config := filepath.Join(dir, "ipdesk.json")
	cfg, err := json.MarshalIndent(map[string]any{"db": filepath.Join(dir, "ipdesk.db"), "listen": "127.0.0.1:0", "leases": sources}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, config, string(cfg), 0o600)
	srv := startIpdesk(t, bin, config)
	admin := &apiClient{t: t, base: srv.base, token: strings.TrimSpace(srv.cli(t, nil, "token", "create", "--user", "admin"))}
	space := id(t, admin.call("POST", "/api/v1/spaces", map[string]any{"name": "lab"}, http.StatusCreated))
	subnet := id(t, admin.call("POST", "/api/v1/prefixes", map[string]any{"space_id": space, "prefix": "10.77.0.0/24", "kind": "subnet", "dhcp": true}, http.StatusCreated))
	hostA := id(t, admin.call("POST", "/api/v1/addresses", map[string]any{"space_id": space, "address": addrA.String(), "mac": macA.String(),
		"hostname": "pc-a", "dhcp_reservation": true}, http.StatusCreated))

	want := map[string]string{} // "server address" → "status mac hostname"
	for _, d := range daemons {
		want[d.name+" "+guests[d.name]] = "unknown " + macC.String() + " " + guestName
		if d.name != "dhcpd" {
			want[d.name+" "+addrA.String()] = "reserved " + macA.String() + " pc-a"
		}
	}
	var got map[string]string
	err = waitFor(changeTimeout, "the leases in the API", func() (bool, error) {
		v := admin.call("GET", fmt.Sprintf("/api/v1/leases?prefix=%d", subnet), nil, http.StatusOK)
		got = map[string]string{}
		for _, r := range v["results"].([]any) {
			r := r.(map[string]any)
			got[fmt.Sprint(r["server"], " ", r["address"])] = fmt.Sprint(r["status"], " ", r["mac"], " ", r["hostname"])
		}
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Errorf("got %v", got)
	})
	if err != nil {
		t.Fatalf("%v\nwant %v", err, want)
	}
	t.Logf("the API shows the leases of the three daemons: %v", got)
	for _, s := range admin.call("GET", "/api/v1/lease-sources", nil, http.StatusOK)["results"].([]any) {
		s := s.(map[string]any)
		if s["skipped"].(float64) != 0 || s["error"] != "" || s["active"].(float64) == 0 {
			t.Errorf("lease file %v", s)
		}
	}

	// The unknown lease of Kea becomes a host; where another daemon gave
	// MAC C a different address, its lease is now one of a MAC reserved
	// elsewhere.
	created := admin.call("POST", "/api/v1/leases/adopt", map[string]any{"prefix_id": subnet, "address": guests["kea"], "server": "kea"}, http.StatusCreated)
	if created["mac"] != macC.String() || created["hostname"] != guestName || created["dhcp_reservation"] != true {
		t.Fatalf("the host made from Kea's lease: %v", created)
	}
	for _, d := range daemons {
		key := d.name + " " + guests[d.name]
		if guests[d.name] == guests["kea"] {
			want[key] = "reserved " + macC.String() + " " + guestName
		} else {
			want[key] = "moved " + macC.String() + " " + guestName
		}
	}
	v := admin.call("GET", fmt.Sprintf("/api/v1/leases?prefix=%d", subnet), nil, http.StatusOK)
	got = map[string]string{}
	for _, r := range v["results"].([]any) {
		r := r.(map[string]any)
		got[fmt.Sprint(r["server"], " ", r["address"])] = fmt.Sprint(r["status"], " ", r["mac"], " ", r["hostname"])
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the adoption:\n got %v\nwant %v", got, want)
	}

	// 3. Last seen.
	a := admin.call("GET", fmt.Sprintf("/api/v1/addresses/%d", hostA), nil, http.StatusOK)
	seen, err := time.Parse(time.RFC3339, fmt.Sprint(a["last_seen"]))
	if err != nil || time.Since(seen) > time.Hour || time.Until(seen) > time.Minute || (a["last_seen_server"] != "kea" && a["last_seen_server"] != "dnsmasq") {
		t.Errorf("host A last seen %v by %v", a["last_seen"], a["last_seen_server"])
	}

	// 4. A user without view on the space.
	srv.cli(t, []string{"IPDESK_PASSWORD=a plain user's password"}, "user", "add", "anna")
	anna := &apiClient{t: t, base: srv.base, token: strings.TrimSpace(srv.cli(t, nil, "token", "create", "--user", "anna"))}
	if v := anna.call("GET", "/api/v1/leases", nil, http.StatusOK); v["count"].(float64) != 0 {
		t.Errorf("a user without view sees leases: %v", v)
	}
	anna.call("GET", fmt.Sprintf("/api/v1/leases?prefix=%d", subnet), nil, http.StatusNotFound)
	anna.call("GET", fmt.Sprintf("/api/v1/addresses/%d", hostA), nil, http.StatusNotFound)
}

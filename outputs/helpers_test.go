package outputs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/internal/testwait"
	"ipdesk/sqldb"
)

// discard is a logger that writes nothing.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// admin is the context of test changes.
var admin = ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: 1, Name: "anna"})

// fakes is a directory of fake daemon scripts for one test.
type fakes struct {
	t   *testing.T
	dir string
	log string // every reload appends a line here
}

func newFakes(t *testing.T) *fakes {
	t.Helper()
	dir := t.TempDir()
	return &fakes{t: t, dir: dir, log: filepath.Join(dir, "reload.log")}
}

// script writes an executable /bin/sh script and returns its path.
func (f *fakes) script(name, body string) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// validator refuses a file ($1) that mentions the host name "refused",
// with a message like a daemon's.
func (f *fakes) validator() string {
	return f.script("validate", `if grep -n 'refused' "$1" >&2; then echo "$1: host name refused is not allowed here" >&2; exit 1; fi
echo "configuration OK"`)
}

// reloader appends to the log and succeeds.
func (f *fakes) reloader() string {
	return f.script("reload", fmt.Sprintf(`echo reload >> %q`, f.log))
}

// reloads returns how many reloads the log has.
func (f *fakes) reloads() int {
	data, err := os.ReadFile(f.log)
	if os.IsNotExist(err) {
		return 0
	} else if err != nil {
		f.t.Fatal(err)
	}
	return bytes.Count(data, []byte("reload\n"))
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// plan is a small address plan: a space "school" with a DHCP subnet
// 10.0.0.0/24 (gateway .1), a subnet 10.0.1.0/24 without DHCP and an IPv6
// DHCP subnet 2001:db8::/64, a space "lab" with its own 10.0.0.0/24 (DHCP
// on), and a room.
type plan struct {
	db                       *sqldb.DB
	school, lab              int64
	dhcpNet, plainNet, v6Net *ipdesk.Prefix
	labNet                   *ipdesk.Prefix
	room                     int64
}

func newPlan(t *testing.T, db *sqldb.DB) *plan {
	t.Helper()
	p := &plan{db: db}
	for _, sp := range []struct {
		name string
		id   *int64
	}{{"school", &p.school}, {"lab", &p.lab}} {
		s := &ipdesk.Space{Name: sp.name}
		if err := db.CreateSpace(admin, s); err != nil {
			t.Fatal(err)
		}
		*sp.id = s.ID
	}
	mk := func(space int64, cidr string, dhcp bool, gw string) *ipdesk.Prefix {
		t.Helper()
		x := &ipdesk.Prefix{SpaceID: space, Prefix: netip.MustParsePrefix(cidr), Kind: ipdesk.PrefixSubnet, DHCP: dhcp, Description: "net " + cidr}
		if gw != "" {
			x.Gateway = netip.MustParseAddr(gw)
		}
		if _, err := db.CreatePrefix(admin, x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	p.dhcpNet = mk(p.school, "10.0.0.0/24", true, "10.0.0.1")
	p.plainNet = mk(p.school, "10.0.1.0/24", false, "")
	p.v6Net = mk(p.school, "2001:db8::/64", true, "")
	p.labNet = mk(p.lab, "10.0.0.0/24", true, "")
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Main"}
	if err := db.CreateLocation(admin, site); err != nil {
		t.Fatal(err)
	}
	room := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "Room 303", ParentID: site.ID}
	if err := db.CreateLocation(admin, room); err != nil {
		t.Fatal(err)
	}
	p.room = room.ID
	return p
}

// host stores a host with a DHCP reservation, at access level 1, and
// returns it; mod changes it before it is stored.
func (p *plan) host(t *testing.T, space int64, addr, mac, name string, mod func(*ipdesk.Address)) *ipdesk.Address {
	t.Helper()
	a := &ipdesk.Address{SpaceID: space, Addr: netip.MustParseAddr(addr), Hostname: name, Owner: "Owner of " + name,
		LocationID: p.room, AccessLevel: 1, DHCPReservation: mac != ""}
	if mac != "" {
		m, err := ipdesk.ParseMAC(mac)
		if err != nil {
			t.Fatal(err)
		}
		a.MAC = m
	}
	if mod != nil {
		mod(a)
	}
	if _, err := p.db.CreateAddress(admin, a); err != nil {
		t.Fatalf("create %s: %v", addr, err)
	}
	return a
}

// waitFor polls cond until it holds; d is how long that usually takes
// (see testwait.Until: only the test binary's deadline fails it).
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, what, d, cond)
}

// lastRun returns the newest stored run of target.
func lastRun(t *testing.T, db *sqldb.DB, target string) *ipdesk.ApplyRun {
	t.Helper()
	runs, _, err := db.FindApplyRuns(context.Background(), ipdesk.ApplyRunFilter{Target: &target, Page: ipdesk.Page{Limit: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) == 0 {
		return nil
	}
	return runs[0]
}

// contains reports whether s has every one of subs.
func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

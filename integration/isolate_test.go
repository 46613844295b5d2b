//go:build linux

package integration

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/outputs"
	"ipdesk/sqldb"
)

// Hosts of the isolation test beside A (school) and B (lab): the lab's
// intruder P reserves A's address for MAC C; D is added to the school
// while the reload fails.
var (
	addrD = netip.MustParseAddr("10.77.0.52")
	macD  = mustMAC("02:1d:e5:77:00:0d")
)

// TestIsolatedConflicts runs, against each real DHCP daemon, the outputs
// service on a database with two spaces that both have 10.77.0.0/24 with
// DHCP on (which Kea cannot take twice), and a reservation in the lab
// space of the school's host A's address (which no DHCP server can give
// twice):
//
//  1. the output applies with the clash left out (and, for Kea, the lab's
//     copy of the subnet): A, and the lab's host B, get their leases, the
//     intruder's MAC gets none, and the output lists what it left out;
//  2. a change in the school (A moves) reaches the daemon through the
//     scheduler, and the intruder, no longer clashing, is served too;
//  3. a reload that fails (while a marker file exists) leaves the output
//     failing with a next try; once the marker is gone, without any other
//     change, the retry applies it and host D gets its lease.
func TestIsolatedConflicts(t *testing.T) {
	for _, c := range []dhcpCase{iscDHCP(), keaDHCP(), dnsmasqDHCP()} {
		t.Run(c.name, func(t *testing.T) { testIsolated(t, c) })
	}
}

func testIsolated(t *testing.T, c dhcpCase) {
	c.require(t)
	t.Parallel()
	l := newDHCPLab(t)
	target := c.setup(t, l)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}

	// The plan.
	db, err := sqldb.Open(context.Background(), filepath.Join(l.dir, "ipdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	anna := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "anna"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var school, lab ipdesk.Space
	school.Name, lab.Name = "school", "lab"
	must(db.CreateSpace(anna, &school))
	must(db.CreateSpace(anna, &lab))
	subnet := func(space int64, dhcp bool) *ipdesk.Prefix {
		p := &ipdesk.Prefix{SpaceID: space, Prefix: netip.MustParsePrefix("10.77.0.0/24"), Kind: ipdesk.PrefixSubnet,
			Gateway: netip.MustParseAddr("10.77.0.1"), DHCP: dhcp}
		_, err := db.CreatePrefix(anna, p)
		must(err)
		return p
	}
	host := func(space int64, addr netip.Addr, mac ipdesk.MAC, name string) *ipdesk.Address {
		a := &ipdesk.Address{SpaceID: space, Addr: addr, MAC: mac, Hostname: name, DHCPReservation: true}
		_, err := db.CreateAddress(anna, a)
		must(err)
		return a
	}
	subnet(school.ID, true)
	labNet := subnet(lab.ID, false)
	hostA := host(school.ID, addrA, macA, "pc-a")
	spec := outputs.Spec{Name: c.name, Kind: target.Kind, Path: target.Path, MainConfig: target.MainConfig,
		Validate: target.Validate, Timeout: targetTimeout.String()}
	scopes, err := outputs.Scopes([]outputs.Spec{spec})
	must(err)
	db.SetReservationScopes(scopes)
	// The lab's subnet has DHCP off, so no output carries its hosts, and
	// the store lets the lab reserve A's address; turning DHCP on later
	// makes the clash.
	hostB := host(lab.ID, addrB, macB, "pc-b")
	intruder := host(lab.ID, addrA, macC, "pc-c")
	dhcp := true
	_, err = db.UpdatePrefix(anna, labNet.ID, ipdesk.PrefixUpdate{DHCP: &dhcp})
	must(err)
	// Now a clashing reservation made directly is refused (409 in the
	// API): A's MAC in the lab's copy of the subnet.
	_, err = db.CreateAddress(anna, &ipdesk.Address{SpaceID: lab.ID, Addr: netip.MustParseAddr("10.77.0.53"), MAC: macA, DHCPReservation: true})
	if ipdesk.ErrorCode(err) != ipdesk.ECONFLICT || ipdesk.ErrorField(err) != "mac" {
		t.Fatalf("A's MAC reserved in the lab: %v", err)
	}

	// 1. The first file, with the clash left out, goes live before the
	// daemon starts.
	first, err := outputs.New(db, []outputs.Spec{spec}, outputs.Config{Logger: logger})
	must(err)
	runs, err := first.ApplyNow(anna, c.name)
	must(err)
	if len(runs) != 1 || runs[0].Status != ipdesk.ApplyApplied {
		t.Fatalf("first apply: %+v", runs)
	}
	d := c.start(t, l, target)
	l.expectLease(t, macA, addrA, "pc-a")
	l.expectLease(t, macB, addrB, "pc-b")
	l.expectNoLease(t, macC, d.log)

	// The service as the server runs it, with the daemon's reload behind
	// a switch: it fails while the marker file exists.
	marker := filepath.Join(l.dir, "reload-broken")
	gate := filepath.Join(l.dir, "reload-gate")
	writeFile(t, gate, "#!/bin/sh\nif [ -e '"+marker+"' ]; then echo \"reload refused: $0 found the marker\" >&2; exit 1; fi\nexec \"$@\"\n", 0o755)
	spec.Reload = append([]string{gate}, d.reload...)
	svc, err := outputs.New(db, []outputs.Spec{spec}, outputs.Config{Logger: logger, Quiet: 20 * time.Millisecond,
		MaxDelay: 200 * time.Millisecond, Poll: time.Hour, RetryMin: 50 * time.Millisecond, RetryMax: 400 * time.Millisecond})
	must(err)
	db.OnCommit = svc.Changed
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	st := status(t, svc)
	wantLeft := []string{"address:" + strconv.FormatInt(intruder.ID, 10) + ":address_twice"}
	if c.name == "kea" {
		wantLeft = append(wantLeft, "prefix:"+strconv.FormatInt(labNet.ID, 10)+":subnet_twice")
	}
	if got := leftOutKeys(st.LeftOut); !slices.Equal(got, wantLeft) {
		t.Errorf("left out %v, want %v", got, wantLeft)
	}

	// 2. A change in the school reaches the daemon; the intruder, now
	// alone at its address, is served as well.
	moved := addrAEdit
	_, _, err = db.UpdateAddress(anna, hostA.ID, ipdesk.AddressUpdate{Addr: &moved})
	must(err)
	l.waitLease(t, macA, addrAEdit, addrA)
	l.waitLease(t, macC, addrA, netip.Addr{})
	l.expectLease(t, macB, addrB, "pc-b")
	if c.name == "kea" {
		wantLeft = wantLeft[1:]
	} else {
		wantLeft = nil
	}
	waitStatus(t, svc, "nothing but the subnet left out", func(o ipdesk.Output) bool { return slices.Equal(leftOutKeys(o.LeftOut), wantLeft) })

	// 3. The reload fails while the marker exists; the output is failing
	// and retried by itself.
	writeFile(t, marker, "", 0o644)
	host(school.ID, addrD, macD, "pc-d")
	waitStatus(t, svc, "a failing output with a next try", func(o ipdesk.Output) bool {
		return o.Failing && o.RetryAt != nil && o.LastRun != nil && o.LastRun.Status == ipdesk.ApplyReloadFailed
	})
	must(os.Remove(marker))
	waitStatus(t, svc, "the retry applying the change", func(o ipdesk.Output) bool {
		return !o.Failing && o.RetryAt == nil && o.LastRun != nil && o.LastRun.Status == ipdesk.ApplyApplied
	})
	// The good run is the scheduler's own (nobody asked for an apply).
	err = waitFor(changeTimeout, "the good run recorded", func() (bool, error) {
		r := newestStoredRun(t, db, c.name)
		return r != nil && r.Status == ipdesk.ApplyApplied && r.Actor == "system", nil
	})
	must(err)
	l.expectLease(t, macD, addrD, "pc-d")
	l.expectLease(t, macB, addrB, "pc-b")
	if hostB.SpaceID != lab.ID {
		t.Errorf("host B is in space %d", hostB.SpaceID)
	}
}

// status returns the state of the service's only output.
func status(t *testing.T, svc *outputs.Service) ipdesk.Output {
	t.Helper()
	st, err := svc.Status(context.Background())
	if err != nil || len(st) != 1 {
		t.Fatalf("status: %v %+v", err, st)
	}
	return st[0]
}

// waitStatus waits until the state of the service's only output is as
// cond wants.
func waitStatus(t *testing.T, svc *outputs.Service, what string, cond func(ipdesk.Output) bool) {
	t.Helper()
	var last ipdesk.Output
	err := waitFor(changeTimeout, what, func() (bool, error) {
		last = status(t, svc)
		return cond(last), nil
	})
	if err != nil {
		run := "none"
		if last.LastRun != nil {
			run = string(last.LastRun.Status) + ": " + last.LastRun.Message
		}
		t.Fatalf("%v; the output: %+v; its last run: %s", err, last, run)
	}
}

// leftOutKeys names the left-out records as object:id:reason.
func leftOutKeys(ls []ipdesk.LeftOut) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Object+":"+strconv.FormatInt(l.ID, 10)+":"+string(l.Reason))
	}
	return out
}

// newestStoredRun returns the newest run of target in db, or nil.
func newestStoredRun(t *testing.T, db *sqldb.DB, target string) *ipdesk.ApplyRun {
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

package outputs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestRenderSelection: each kind gets the hosts of its scope, family and
// statuses, from subnets with DHCP on.
func TestRenderSelection(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		p := newPlan(t, db)
		p.host(t, p.school, "10.0.0.10", "02:00:00:00:00:10", "pc10", nil)
		p.host(t, p.school, "10.0.0.11", "02:00:00:00:00:11", "pc11", func(a *ipdesk.Address) { a.Status = ipdesk.StatusReserved; a.AccessLevel = 2 })
		p.host(t, p.school, "10.0.0.12", "02:00:00:00:00:12", "old12", func(a *ipdesk.Address) { a.Status = ipdesk.StatusDeprecated })
		p.host(t, p.school, "10.0.0.13", "02:00:00:00:00:13", "nodhcp13", func(a *ipdesk.Address) { a.DHCPReservation = false })
		p.host(t, p.school, "10.0.0.14", "", "nomac14", nil)
		p.host(t, p.school, "10.0.1.20", "02:00:00:00:01:20", "plain20", nil) // subnet without DHCP
		p.host(t, p.school, "2001:db8::30", "02:00:00:00:00:30", "six30", nil)
		p.host(t, p.lab, "10.0.0.10", "02:00:00:00:09:10", "lab10", func(a *ipdesk.Address) { a.AccessLevel = 3 })

		dir := t.TempDir()
		specs := []Spec{
			{Name: "dhcpd", Kind: apply.KindISCDHCP, Path: filepath.Join(dir, "dhcpd.hosts"), Spaces: []string{"school"}},
			{Name: "dhcpd6", Kind: apply.KindISCDHCP6, Path: filepath.Join(dir, "dhcpd6.hosts"), Spaces: []string{"school"}},
			{Name: "kea", Kind: apply.KindKea, Path: filepath.Join(dir, "kea.json"), Spaces: []string{"school"}},
			{Name: "dnsmasq", Kind: apply.KindDnsmasq, Path: filepath.Join(dir, "dnsmasq.hosts"), Spaces: []string{"school"}},
			{Name: "lab", Kind: apply.KindISCDHCP, Path: filepath.Join(dir, "lab.hosts"), Spaces: []string{"lab"}},
			{Name: "part", Kind: apply.KindISCDHCP, Path: filepath.Join(dir, "part.hosts"), Spaces: []string{"school"}, Prefixes: []string{"10.0.0.8/30", "10.0.1.0/24"}},
			{Name: "both", Kind: apply.KindISCDHCP, Path: filepath.Join(dir, "both.hosts"), Prefixes: []string{"10.0.0.0/8"}},
			{Name: "proxy", Kind: apply.KindSquidLevels, LevelFiles: map[string]string{"1": filepath.Join(dir, "proxy1"), "2": filepath.Join(dir, "proxy2"), "3": filepath.Join(dir, "proxy3")}},
		}
		s, err := New(db, specs, Config{Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		render := func(name string) string {
			t.Helper()
			b, err := s.Render(ctx, name)
			if err != nil {
				t.Fatalf("render %s: %v", name, err)
			}
			return string(b)
		}
		for _, tc := range []struct {
			target  string
			has     []string
			hasNot  []string
			exactly int // number of hosts, by a line every format has once per host
			per     string
		}{
			{"dhcpd", []string{"host pc10-10-0-0-10 {", "fixed-address 10.0.0.11;", "# owner: Owner of pc10; room: Main / Room 303"},
				[]string{"old12", "nodhcp13", "nomac14", "plain20", "six30", "lab10"}, 2, "hardware ethernet"},
			{"dhcpd6", []string{"fixed-address6 2001:db8::30;"}, []string{"10.0.0"}, 1, "hardware ethernet"},
			{"kea", []string{`"id":` + fmt.Sprint(p.dhcpNet.ID) + `,"subnet":"10.0.0.0/24"`, `{"name":"routers","data":"10.0.0.1"}`, `"hw-address":"02:00:00:00:00:10"`},
				[]string{"10.0.1.0/24", "2001:db8", "lab10", "old12"}, 2, `"hw-address"`},
			{"dnsmasq", []string{"02:00:00:00:00:10,10.0.0.10,pc10", "02:00:00:00:00:30,[2001:db8::30],six30"}, []string{"lab10", "plain20"}, 3, "02:00:00"},
			{"lab", []string{"host lab10-10-0-0-10 {"}, []string{"pc10"}, 1, "hardware ethernet"},
			{"part", []string{"pc10", "pc11"}, []string{"old12", "lab10", "plain20"}, 2, "hardware ethernet"},
			{"proxy.level1", []string{"10.0.0.10\n", "10.0.0.13\n", "10.0.0.14\n", "10.0.1.20\n", "2001:db8::30\n", `level 1 "restricted"`}, []string{"10.0.0.11\n", "10.0.0.12\n"}, 0, ""},
			{"proxy.level2", []string{"10.0.0.11\n"}, []string{"10.0.0.10\n"}, 0, ""},
			{"proxy.level3", []string{"10.0.0.10\n"}, []string{"10.0.0.11\n"}, 0, ""}, // the lab host
		} {
			out := render(tc.target)
			for _, h := range tc.has {
				if !strings.Contains(out, h) {
					t.Errorf("%s lacks %q:\n%s", tc.target, h, out)
				}
			}
			for _, h := range tc.hasNot {
				if strings.Contains(out, h) {
					t.Errorf("%s has %q:\n%s", tc.target, h, out)
				}
			}
			if tc.per != "" && strings.Count(out, tc.per) != tc.exactly {
				t.Errorf("%s has %d × %q, want %d:\n%s", tc.target, strings.Count(out, tc.per), tc.per, tc.exactly, out)
			}
		}

		// Without spaces, a scope takes every space, and the same address
		// reserved in two spaces is a conflict no DHCP server can serve:
		// the newer record is left out, the rest is written.
		if out, err := s.Render(ctx, "both"); err != nil || strings.Count(string(out), "fixed-address 10.0.0.10;") != 1 {
			t.Errorf("render of overlapping spaces: %v\n%s", err, out)
		}
		if st, _ := s.Status(ctx); !slices.ContainsFunc(st, func(o ipdesk.Output) bool {
			return o.Name == "both" && len(o.LeftOut) == 1 && o.LeftOut[0].Reason == ipdesk.LeftOutAddressTwice && o.LeftOut[0].Address == "10.0.0.10"
		}) {
			t.Errorf("the left-out record is not in the status: %+v", st)
		}

		// A space that does not exist is an error, not an empty file.
		if err := db.DeleteSpace(admin, p.lab, ipdesk.DeleteOptions{Cascade: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Render(ctx, "lab"); err == nil || !strings.Contains(err.Error(), `space "lab" of the target's spaces does not exist`) {
			t.Errorf("render of a missing space: %v", err)
		}
		if _, err := s.Render(ctx, "nothing"); ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
			t.Errorf("render of an unknown output: %v", err)
		}
	})
}

// newService returns a service of one isc-dhcp target for the space
// "school" with a fake check and reload, and the live path.
func newService(t *testing.T, db Store, f *fakes, cfg Config) (*Service, string) {
	t.Helper()
	live := filepath.Join(t.TempDir(), "dhcpd.hosts")
	spec := Spec{Name: "dhcpd", Kind: apply.KindISCDHCP, Path: live, Spaces: []string{"school"},
		Validate: []string{f.validator(), "{candidate}"}, Reload: []string{f.reloader()}, Timeout: "10s"}
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	s, err := New(db, []Spec{spec}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, live
}

// run starts s.Run until the test ends.
func run(t *testing.T, s *Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return")
		}
	})
}

// TestEditApplied: an address edit through the store reaches the live
// file within the debounce, through OnCommit, check and reload; the run is
// recorded. Edits in a burst cause one apply.
func TestEditApplied(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		p := newPlan(t, db)
		pc := p.host(t, p.school, "10.0.0.10", "02:00:00:00:00:10", "pc10", nil)
		f := newFakes(t)
		const quiet = 400 * time.Millisecond
		s, live := newService(t, db, f, Config{Quiet: quiet, MaxDelay: 10 * time.Second})
		db.OnCommit = s.Changed
		run(t, s)

		// The start applies once.
		waitFor(t, 5*time.Second, "the first apply", func() bool { return f.reloads() == 1 })
		var first *ipdesk.ApplyRun
		waitFor(t, 5*time.Second, "the record of the first apply", func() bool { first = lastRun(t, db, "dhcpd"); return first != nil })
		if got := readFile(t, live); !contains(got, "host pc10-10-0-0-10 {", "hardware ethernet 02:00:00:00:00:10;") {
			t.Fatalf("live file after start:\n%s", got)
		}

		// Move the host and give it a new MAC.
		newAddr := netip.MustParseAddr("10.0.0.77")
		newMAC, _ := ipdesk.ParseMAC("02:00:00:00:00:77")
		start := time.Now()
		if _, _, err := db.UpdateAddress(admin, pc.ID, ipdesk.AddressUpdate{Addr: &newAddr, MAC: &newMAC}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the edit in the live file", func() bool {
			return strings.Contains(readFile(t, live), "fixed-address 10.0.0.77;")
		})
		took := time.Since(start)
		got := readFile(t, live)
		if !contains(got, "host pc10-10-0-0-77 {", "hardware ethernet 02:00:00:00:00:77;") || strings.Contains(got, "10.0.0.10;") {
			t.Errorf("live file after the edit:\n%s", got)
		}
		if took < quiet {
			t.Errorf("applied after %v, before the quiet period of %v", took, quiet)
		}
		t.Logf("edit applied after %v", took)
		waitFor(t, 5*time.Second, "the reload", func() bool { return f.reloads() == 2 })
		var r *ipdesk.ApplyRun
		waitFor(t, 5*time.Second, "the record", func() bool {
			r = lastRun(t, db, "dhcpd")
			return r.ID != first.ID
		})
		if r.Status != ipdesk.ApplyApplied || r.Actor != "system" || r.Kind != apply.KindISCDHCP || r.Path != live || r.Removed == 0 || r.Bytes != len(got) {
			t.Errorf("recorded run %+v", *r)
		}

		// A burst of 20 edits is one apply.
		for i := range 20 {
			owner := fmt.Sprintf("owner %d", i)
			if _, _, err := db.UpdateAddress(admin, pc.ID, ipdesk.AddressUpdate{Owner: &owner}); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 5*time.Second, "the burst in the live file", func() bool { return strings.Contains(readFile(t, live), "owner: owner 19;") })
		time.Sleep(3 * quiet)
		if n := f.reloads(); n != 3 {
			t.Errorf("%d reloads after a burst of 20 edits, want 3 in all", n)
		}

		// A change that feeds no output kind (a user) marks nothing.
		if err := db.CreateUser(admin, &ipdesk.User{Name: "bob"}, "password123"); err != nil {
			t.Fatal(err)
		}
		st, err := s.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st[0].Dirty {
			t.Error("a new user made the output dirty")
		}
		if st[0].LastRun == nil || st[0].LastRun.Status != ipdesk.ApplyApplied || st[0].LastRun.ID == 0 {
			t.Errorf("status: last run %+v", st[0].LastRun)
		}
	})
}

// TestInvalidKeepsLive: when the check refuses the rendered file, the live
// file stays byte for byte, nothing is reloaded, and the run is recorded
// with the daemon's message; ApplyNow answers the same run.
func TestInvalidKeepsLive(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		p := newPlan(t, db)
		p.host(t, p.school, "10.0.0.10", "02:00:00:00:00:10", "pc10", nil)
		f := newFakes(t)
		s, live := newService(t, db, f, Config{})
		runs, err := s.ApplyNow(admin, "dhcpd")
		if err != nil || len(runs) != 1 || runs[0].Status != ipdesk.ApplyApplied {
			t.Fatalf("first apply: %v %+v", err, runs)
		}
		before := readFile(t, live)

		p.host(t, p.school, "10.0.0.11", "02:00:00:00:00:11", "refused", nil)
		runs, err = s.ApplyNow(admin, "dhcpd")
		if err != nil {
			t.Fatal(err)
		}
		r := runs[0]
		if r.Status != ipdesk.ApplyInvalid || !strings.Contains(r.Message, "host name refused is not allowed here") || r.Actor != "anna" || r.ID == 0 {
			t.Fatalf("run %+v", *r)
		}
		if got := readFile(t, live); got != before {
			t.Errorf("the live file changed:\n%s", got)
		}
		if n := f.reloads(); n != 1 {
			t.Errorf("%d reloads, want 1", n)
		}
		stored := lastRun(t, db, "dhcpd")
		if *stored != *r {
			t.Errorf("stored %+v\nanswered %+v", *stored, *r)
		}
		st, _ := s.Status(context.Background())
		if st[0].LastRun == nil || st[0].LastRun.ID != r.ID {
			t.Errorf("status shows %+v", st[0].LastRun)
		}
		// The preview shows what the refused apply would change.
		d, err := s.Preview(context.Background(), "dhcpd")
		if err != nil {
			t.Fatal(err)
		}
		if !d.Changed || d.Added == 0 || !strings.Contains(d.Text, "+host refused-10-0-0-11 {") || d.Error != "" {
			t.Errorf("preview %+v", *d)
		}
	})
}

var errBroken = errors.New("read tcp 10.0.0.1:5432: connection reset by peer")

// failingStore fails ScanHosts after delivering some hosts, or FindSpaces,
// like a database that goes away during a render.
type failingStore struct {
	Store
	mu         sync.Mutex
	failScan   bool
	failSpaces bool
}

func (s *failingStore) ScanHosts(ctx context.Context, f ipdesk.HostFilter, fn func(*ipdesk.Address) error) error {
	s.mu.Lock()
	fail := s.failScan
	s.mu.Unlock()
	if !fail {
		return s.Store.ScanHosts(ctx, f, fn)
	}
	// Some hosts are delivered, then the connection breaks.
	n := 0
	err := s.Store.ScanHosts(ctx, f, func(a *ipdesk.Address) error {
		if n++; n > 1 {
			return errBroken
		}
		return fn(a)
	})
	if err == nil {
		err = errBroken
	}
	return err
}

func (s *failingStore) FindSpaces(ctx context.Context, f ipdesk.SpaceFilter) ([]*ipdesk.Space, int, error) {
	s.mu.Lock()
	fail := s.failSpaces
	s.mu.Unlock()
	if fail {
		return nil, 0, errors.New("database is closed")
	}
	return s.Store.FindSpaces(ctx, f)
}

// TestDatabaseErrorWritesNothing: a database error during the render, even
// after part of the hosts were read, leaves the live file as it was and
// reloads nothing; the run says why.
func TestDatabaseErrorWritesNothing(t *testing.T) {
	db := sqldbtest.SQLite(t)
	p := newPlan(t, db)
	p.host(t, p.school, "10.0.0.10", "02:00:00:00:00:10", "pc10", nil)
	p.host(t, p.school, "10.0.0.11", "02:00:00:00:00:11", "pc11", nil)
	fs := &failingStore{Store: db}
	f := newFakes(t)
	s, live := newService(t, fs, f, Config{})
	if runs, err := s.ApplyNow(admin, ""); err != nil || runs[0].Status != ipdesk.ApplyApplied {
		t.Fatalf("first apply: %v %+v", err, runs)
	}
	before := readFile(t, live)
	p.host(t, p.school, "10.0.0.12", "02:00:00:00:00:12", "pc12", nil)

	for _, tc := range []struct {
		name string
		set  func()
		msg  string
	}{
		{"mid-scan", func() { fs.failScan = true }, "cannot read the data: read tcp 10.0.0.1:5432: connection reset by peer"},
		{"before the scan", func() { fs.failScan, fs.failSpaces = false, true }, "cannot read the data: database is closed"},
	} {
		fs.mu.Lock()
		tc.set()
		fs.mu.Unlock()
		runs, err := s.ApplyNow(admin, "dhcpd")
		if err != nil {
			t.Fatal(err)
		}
		if r := runs[0]; r.Status != ipdesk.ApplyRenderFailed || !strings.Contains(r.Message, tc.msg) || r.Bytes != 0 {
			t.Errorf("%s: run %+v", tc.name, *r)
		}
		if got := readFile(t, live); got != before {
			t.Errorf("%s: the live file changed:\n%s", tc.name, got)
		}
		if n := f.reloads(); n != 1 {
			t.Errorf("%s: %d reloads", tc.name, n)
		}
		entries, _ := os.ReadDir(filepath.Dir(live))
		if len(entries) != 1 {
			t.Errorf("%s: files beside the live one: %v", tc.name, entries)
		}
		d, err := s.Preview(context.Background(), "dhcpd")
		if err != nil || !strings.Contains(d.Error, tc.msg) || d.Changed {
			t.Errorf("%s: preview %+v %v", tc.name, d, err)
		}
	}
	if stored := lastRun(t, db, "dhcpd"); stored.Status != ipdesk.ApplyRenderFailed {
		t.Errorf("stored %+v", *stored)
	}
}

// TestApplyNowNames: "" applies all, a squid-levels target all its levels,
// a level name one level; an unknown name lists the configured ones.
func TestApplyNowNames(t *testing.T) {
	db := sqldbtest.SQLite(t)
	p := newPlan(t, db)
	p.host(t, p.school, "10.0.0.10", "02:00:00:00:00:10", "pc10", nil)
	dir := t.TempDir()
	s, err := New(db, []Spec{
		{Name: "dnsmasq", Kind: apply.KindDnsmasq, Path: filepath.Join(dir, "dnsmasq.hosts")},
		{Name: "proxy", Kind: apply.KindSquidLevels, LevelFiles: map[string]string{"1": filepath.Join(dir, "proxy1"), "2": filepath.Join(dir, "proxy2")}},
	}, Config{Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	names := func(runs []*ipdesk.ApplyRun) string {
		var out []string
		for _, r := range runs {
			out = append(out, r.Target+":"+string(r.Status))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct{ name, want string }{
		{"", "dnsmasq:applied proxy.level1:applied proxy.level2:applied"},
		{"proxy", "proxy.level1:unchanged proxy.level2:unchanged"},
		{"proxy.level2", "proxy.level2:unchanged"},
		{"dnsmasq", "dnsmasq:unchanged"},
	} {
		runs, err := s.ApplyNow(admin, tc.name)
		if err != nil || names(runs) != tc.want {
			t.Errorf("ApplyNow(%q): %s %v, want %s", tc.name, names(runs), err, tc.want)
		}
	}
	_, err = s.ApplyNow(admin, "squid")
	if ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND || ipdesk.ErrorMessage(err) != `target "squid" is not configured; configured: dnsmasq, proxy` {
		t.Errorf("unknown name: %v", err)
	}
	if got := strings.Join(s.Names(), " "); got != "dnsmasq proxy.level1 proxy.level2" {
		t.Errorf("Names: %s", got)
	}
	if got := readFile(t, filepath.Join(dir, "proxy1")); !strings.Contains(got, "\n10.0.0.10\n") {
		t.Errorf("proxy1:\n%s", got)
	}
	st, err := s.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 3 || st[1].Name != "proxy.level1" || st[1].Group != "proxy" || st[0].Group != "dnsmasq" || st[1].LastRun.Status != ipdesk.ApplyUnchanged {
		t.Errorf("status %+v", st)
	}
	_, n, _ := db.FindApplyRuns(context.Background(), ipdesk.ApplyRunFilter{})
	if n != 7 {
		t.Errorf("%d runs recorded, want 7", n)
	}
}

// TestRealDhcpd applies through the real "dhcpd -t -cf {main}": a good
// file goes live; a file dhcpd refuses (its host name clashes with one in
// dhcpd.conf) stays out, with dhcpd's own message in the run.
func TestRealDhcpd(t *testing.T) {
	const dhcpd = "/usr/sbin/dhcpd"
	if _, err := os.Stat(dhcpd); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (required in CI)", dhcpd)
		}
		t.Skipf("%s is not installed", dhcpd)
	}
	db := sqldbtest.SQLite(t)
	p := newPlan(t, db)
	p.host(t, p.school, "10.0.0.10", "02:00:00:00:00:10", "pc10", func(a *ipdesk.Address) {
		a.Owner = `Anna "the admin"; } host x { #`
		a.Description = "Кабинет 303, code"
	})
	dir := t.TempDir()
	live := filepath.Join(dir, "dhcpd.hosts")
	main := filepath.Join(dir, "dhcpd.conf")
	writeFile(t, main, fmt.Sprintf("ddns-update-style none;\nauthoritative;\n"+
		"subnet 10.0.0.0 netmask 255.255.255.0 {\n  option routers 10.0.0.1;\n}\n"+
		"host printer-10-0-0-50 {\n  hardware ethernet 02:00:00:00:00:50;\n  fixed-address 10.0.0.50;\n}\n"+
		"include \"%s\";\n", live))
	leases := filepath.Join(dir, "dhcpd.leases")
	writeFile(t, leases, "")
	f := newFakes(t)
	s, err := New(db, []Spec{{Name: "dhcpd", Kind: apply.KindISCDHCP, Path: live, MainConfig: main, Spaces: []string{"school"},
		Validate: []string{dhcpd, "-4", "-t", "-cf", "{main}", "-lf", leases, "-pf", filepath.Join(dir, "dhcpd.pid")},
		Reload:   []string{f.reloader()}}}, Config{Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.ApplyNow(admin, "dhcpd")
	if err != nil || runs[0].Status != ipdesk.ApplyApplied {
		t.Fatalf("good file: %v %+v", err, runs[0])
	}
	good := readFile(t, live)
	if !strings.Contains(good, "fixed-address 10.0.0.10;") {
		t.Fatalf("live file:\n%s", good)
	}
	// Sanity: dhcpd reads the live configuration too.
	out, err := exec.Command(dhcpd, "-4", "-t", "-q", "-cf", main, "-lf", leases, "-pf", filepath.Join(dir, "dhcpd.pid")).CombinedOutput()
	if err != nil {
		t.Fatalf("dhcpd -t on the live config: %v\n%s", err, out)
	}

	p.host(t, p.school, "10.0.0.50", "02:00:00:00:00:51", "printer", nil)
	runs, err = s.ApplyNow(admin, "dhcpd")
	if err != nil {
		t.Fatal(err)
	}
	r := runs[0]
	if r.Status != ipdesk.ApplyInvalid || !strings.Contains(r.Message, "printer-10-0-0-50") {
		t.Fatalf("clashing file: %+v", *r)
	}
	t.Logf("dhcpd said:\n%s", r.Message)
	if got := readFile(t, live); got != good {
		t.Errorf("the live file changed:\n%s", got)
	}
	if n := f.reloads(); n != 1 {
		t.Errorf("%d reloads, want 1", n)
	}
}

// TestChangesOfOtherProcesses: a change that another process commits
// (here a second handle on the same database, as "ipdesk import" beside
// the server) reaches the live file through the audit log, an import of
// many rows with one apply; a change of the server's own, marked through
// OnCommit, is applied once, not again when the watcher reads it.
func TestChangesOfOtherProcesses(t *testing.T) {
	dsns := map[string]string{"sqlite": filepath.Join(t.TempDir(), "ipdesk.db")}
	if pg := sqldbtest.PostgresDSN(t); pg != "" {
		dsns["postgres"] = pg
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			open := func() *sqldb.DB {
				db, err := sqldb.Open(context.Background(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
			server, cli := open(), open()
			p := newPlan(t, server)
			pc := p.host(t, p.school, "10.0.0.10", "02:00:00:00:00:10", "pc10", nil)
			f := newFakes(t)
			// The poll interval is longer than the quiet period, so the
			// watcher reads the server's own edit after its apply.
			const poll, quiet = 300 * time.Millisecond, 50 * time.Millisecond
			var seenMu sync.Mutex
			var seen []string
			s, live := newService(t, server, f, Config{Quiet: quiet, MaxDelay: 5 * time.Second, Poll: poll, Seen: func(types []string) {
				seenMu.Lock()
				seen = append(seen, types...)
				seenMu.Unlock()
			}})
			server.OnCommit = s.Changed
			run(t, s)
			runs := func() int { return runCount(t, server) }
			settle := func() { time.Sleep(3*poll + 4*quiet) }
			waitFor(t, 10*time.Second, "the first apply", func() bool { return f.reloads() == 1 && runs() == 1 })

			// An import of 200 rows by another process: one apply.
			var rows []*ipdesk.Address
			for i := range 200 {
				rows = append(rows, &ipdesk.Address{SpaceID: p.school, Addr: netip.AddrFrom4([4]byte{10, 0, 0, byte(20 + i)}),
					MAC: ipdesk.MAC{2, 0, 0, 0, 1, byte(i)}, Hostname: fmt.Sprintf("imported%d", i), DHCPReservation: true})
			}
			res, err := cli.ImportAddresses(admin, rows, false)
			if err != nil || len(res.Problems) > 0 || res.Created != 200 {
				t.Fatalf("import: %v %+v", err, res)
			}
			start := time.Now()
			waitFor(t, 10*time.Second, "the import in the live file", func() bool {
				return strings.Contains(readFile(t, live), "fixed-address 10.0.0.219;")
			})
			applied := time.Now() // a quiet period after a poll
			t.Logf("an import by another process applied after %v", applied.Sub(start).Round(time.Millisecond))
			seenMu.Lock()
			if !slices.Contains(seen, ipdesk.ObjectAddress) {
				t.Errorf("Seen was told %v, not the addresses of the import", seen)
			}
			seenMu.Unlock()
			settle()
			if n, r := runs(), f.reloads(); n != 2 || r != 2 {
				t.Errorf("after an import of 200 rows: %d runs and %d reloads, want 2 and 2 in all", n, r)
			}

			// An edit of the server's own: OnCommit marks it, the watcher
			// sees it too, after its apply (the edit comes half a poll
			// interval after a poll), and leaves it.
			time.Sleep(time.Until(applied.Add(5*poll + poll/2 - quiet)))
			owner := "Anna"
			if _, _, err := server.UpdateAddress(admin, pc.ID, ipdesk.AddressUpdate{Owner: &owner}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "the edit in the live file", func() bool { return strings.Contains(readFile(t, live), "owner: Anna;") })
			settle()
			if n, r := runs(), f.reloads(); n != 3 || r != 3 {
				t.Errorf("after an edit of the server's own: %d runs and %d reloads, want 3 and 3 in all", n, r)
			}

			// A change of the other process that feeds no output marks
			// nothing.
			if err := cli.CreateUser(admin, &ipdesk.User{Name: "bob"}, "password123"); err != nil {
				t.Fatal(err)
			}
			settle()
			if n := runs(); n != 3 {
				t.Errorf("a new user caused an apply: %d runs", n)
			}
		})
	}
}

// runCount returns the number of recorded apply runs.
func runCount(t *testing.T, db *sqldb.DB) int {
	t.Helper()
	_, n, err := db.FindApplyRuns(context.Background(), ipdesk.ApplyRunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// gatedStore holds, once armed, the first read of the newest audit entry
// (the first thing the render of an apply does) until it is released, and
// holds the watcher's reads of the log until then; it counts the watcher's
// reads, and how many wait.
type gatedStore struct {
	*sqldb.DB
	armed   atomic.Bool
	held    chan struct{} // closed when the render's read is held
	release chan struct{}
	polls   atomic.Int64
	waiting atomic.Int64
}

func (g *gatedStore) ChangesSince(ctx context.Context, after int64) (map[string]int64, int64, error) {
	if after >= 0 {
		if g.armed.Load() {
			g.waiting.Add(1)
			<-g.held
		}
		g.polls.Add(1)
	} else if g.armed.CompareAndSwap(true, false) {
		close(g.held)
		<-g.release
	}
	return g.DB.ChangesSince(ctx, after)
}

// TestWatcherLeavesAnApplyUnderWay: the watcher reads an edit of this
// process while the apply the edit caused is under way, before its render
// noted the newest audit entry. The render holds the edit, so the edit is
// applied once, not a second time. (Under load, this is how an edit came
// to be applied twice.)
func TestWatcherLeavesAnApplyUnderWay(t *testing.T) {
	db, err := sqldb.Open(context.Background(), filepath.Join(t.TempDir(), "ipdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := newPlan(t, db)
	pc := p.host(t, p.school, "10.0.0.10", "02:00:00:00:00:10", "pc10", nil)
	f := newFakes(t)
	g := &gatedStore{DB: db, held: make(chan struct{}), release: make(chan struct{})}
	var seenMu sync.Mutex
	seenAddresses := 0
	s, live := newService(t, g, f, Config{Quiet: 10 * time.Millisecond, Poll: 10 * time.Millisecond, Seen: func(types []string) {
		if slices.Contains(types, ipdesk.ObjectAddress) {
			seenMu.Lock()
			seenAddresses++
			seenMu.Unlock()
		}
	}})
	db.OnCommit = s.Changed
	run(t, s)
	runs := func() int { return runCount(t, db) }
	idle := func() bool {
		st, err := s.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return !st[0].Dirty && !st[0].Running
	}
	waitFor(t, 10*time.Second, "the first apply", func() bool { return runs() == 1 && idle() })

	// The watcher reads the edit only once its apply is under way.
	g.armed.Store(true)
	waitFor(t, 10*time.Second, "the watcher to wait", func() bool { return g.waiting.Load() > 0 })
	owner := "Anna"
	if _, _, err := db.UpdateAddress(admin, pc.ID, ipdesk.AddressUpdate{Owner: &owner}); err != nil {
		t.Fatal(err)
	}
	<-g.held
	waitFor(t, 10*time.Second, "the watcher to read the edit", func() bool {
		seenMu.Lock()
		defer seenMu.Unlock()
		return seenAddresses > 0
	})
	close(g.release)
	waitFor(t, 10*time.Second, "the edit in the live file", func() bool { return strings.Contains(readFile(t, live), "owner: Anna;") })
	waitFor(t, 10*time.Second, "the apply to end", idle)
	polls := g.polls.Load()
	waitFor(t, 10*time.Second, "three more reads of the log", func() bool { return g.polls.Load() >= polls+3 })
	waitFor(t, 10*time.Second, "the outputs to settle", idle)
	if n := runs(); n != 2 {
		t.Errorf("%d runs for the first apply and one edit, want 2", n)
	}
}

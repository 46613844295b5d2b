package sqldb_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

func TestApplyRuns(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		start := time.Date(2026, 3, 1, 8, 0, 0, 123456789, time.UTC)
		mk := func(target string, status ipdesk.ApplyStatus, at time.Duration) *ipdesk.ApplyRun {
			return &ipdesk.ApplyRun{Target: target, Kind: "isc-dhcp", Path: "/etc/dhcp/" + target, Started: start.Add(at),
				Duration: 1234567 * time.Nanosecond, Status: status, Message: "the check said:\n\tline 3: semicolon expected",
				Bytes: 4096, Added: 3, Removed: 1}
		}
		runs := []*ipdesk.ApplyRun{
			mk("dhcpd", ipdesk.ApplyApplied, 0),
			mk("dhcpd", ipdesk.ApplyInvalid, time.Minute),
			mk("kea", ipdesk.ApplyUnchanged, 2*time.Minute),
			mk("dhcpd", ipdesk.ApplyUnchanged, 3*time.Minute),
		}
		admin := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "anna"})
		for i, r := range runs {
			c := context.Background()
			if i == 1 {
				c = admin
			}
			if err := db.RecordApplyRun(c, r); err != nil {
				t.Fatal(err)
			}
			if r.ID == 0 {
				t.Fatal("no ID set")
			}
		}
		if runs[1].Actor != "anna" || runs[0].Actor != "system" {
			t.Errorf("actors %q, %q", runs[0].Actor, runs[1].Actor)
		}

		all, n, err := db.FindApplyRuns(ctx, ipdesk.ApplyRunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if n != 4 || len(all) != 4 || all[0].ID != runs[3].ID || all[3].ID != runs[0].ID {
			t.Fatalf("all runs: n=%d %v", n, ids(all))
		}
		got := all[2] // runs[1]
		want := *runs[1]
		want.Started = start.Add(time.Minute).Truncate(time.Microsecond)
		if *got != want {
			t.Errorf("stored run\n%+v\nwant\n%+v", *got, want)
		}

		target := "dhcpd"
		failed, notFailed := true, false
		invalid := ipdesk.ApplyInvalid
		since := start.Add(time.Minute)
		until := start.Add(3 * time.Minute)
		for _, tc := range []struct {
			name string
			f    ipdesk.ApplyRunFilter
			want []int64
		}{
			{"target", ipdesk.ApplyRunFilter{Target: &target}, []int64{runs[3].ID, runs[1].ID, runs[0].ID}},
			{"failed", ipdesk.ApplyRunFilter{Failed: &failed}, []int64{runs[1].ID}},
			{"not failed", ipdesk.ApplyRunFilter{Failed: &notFailed}, []int64{runs[3].ID, runs[2].ID, runs[0].ID}},
			{"status", ipdesk.ApplyRunFilter{Status: &invalid}, []int64{runs[1].ID}},
			{"time", ipdesk.ApplyRunFilter{Since: &since, Until: &until}, []int64{runs[2].ID, runs[1].ID}},
			{"page", ipdesk.ApplyRunFilter{Target: &target, Page: ipdesk.Page{Offset: 1, Limit: 1}}, []int64{runs[1].ID}},
		} {
			got, _, err := db.FindApplyRuns(ctx, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, ids(got), tc.want)
			}
		}
		_, n, _ = db.FindApplyRuns(ctx, ipdesk.ApplyRunFilter{Target: &target, Page: ipdesk.Page{Limit: 1}})
		if n != 3 {
			t.Errorf("count of a page: %d, want 3", n)
		}

		bad := ipdesk.ApplyStatus("exploded")
		_, _, err = db.FindApplyRuns(ctx, ipdesk.ApplyRunFilter{Status: &bad})
		wantCode(t, err, ipdesk.EINVALID)
		wantCode(t, db.RecordApplyRun(ctx, &ipdesk.ApplyRun{Target: "x", Status: bad}), ipdesk.EINVALID)
		wantCode(t, db.RecordApplyRun(ctx, &ipdesk.ApplyRun{Status: ipdesk.ApplyApplied}), ipdesk.EINVALID)

		// Recording a run is not a change of the plan: no audit entry, no
		// OnCommit.
		if n := auditCount(t, db); n != 0 {
			t.Errorf("%d audit entries after recording runs", n)
		}
	})
}

func ids(runs []*ipdesk.ApplyRun) []int64 {
	var out []int64
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

// TestApplyRunsKept: only the newest runs of a target stay (ApplyRunsKept,
// lowered for the test).
func TestApplyRunsKept(t *testing.T) {
	const kept = 50
	defer sqldb.WithApplyRunsKept(kept)()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		for range kept + 5 {
			r := &ipdesk.ApplyRun{Target: "squid.level1", Kind: "squid-levels", Status: ipdesk.ApplyUnchanged, Started: time.Now()}
			if err := db.RecordApplyRun(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		other := &ipdesk.ApplyRun{Target: "dhcpd", Status: ipdesk.ApplyApplied, Started: time.Now()}
		if err := db.RecordApplyRun(ctx, other); err != nil {
			t.Fatal(err)
		}
		target := "squid.level1"
		_, n, err := db.FindApplyRuns(ctx, ipdesk.ApplyRunFilter{Target: &target})
		if err != nil {
			t.Fatal(err)
		}
		if n != kept {
			t.Errorf("%d runs kept, want %d", n, kept)
		}
		if _, n, _ := db.FindApplyRuns(ctx, ipdesk.ApplyRunFilter{}); n != kept+1 {
			t.Errorf("%d runs in all, want %d", n, kept+1)
		}
	})
}

// TestOnCommit: the hook hears the object types of each committed write,
// and nothing of rolled-back writes and reads.
func TestOnCommit(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		var mu sync.Mutex
		var got [][]string
		db.OnCommit = func(types []string) {
			mu.Lock()
			got = append(got, slices.Clone(types))
			mu.Unlock()
		}
		take := func() [][]string {
			mu.Lock()
			defer mu.Unlock()
			out := got
			got = nil
			return out
		}
		s := mustSpace(t, db, "campus")
		p := mustPrefix(t, db, s.ID, "10.1.0.0/24", ipdesk.PrefixSubnet)
		a := mustAddr(t, db, s.ID, "10.1.0.5", nil)
		want := [][]string{{ipdesk.ObjectSpace}, {ipdesk.ObjectPrefix}, {ipdesk.ObjectAddress}}
		if g := take(); !equalTypes(g, want) {
			t.Errorf("after creates: %v, want %v", g, want)
		}

		// A failed write and a dry-run import commit nothing.
		if _, err := db.CreateAddress(ctx, &ipdesk.Address{SpaceID: s.ID, Addr: netip.MustParseAddr("10.1.0.5")}); err == nil {
			t.Fatal("duplicate address accepted")
		}
		res, err := db.ImportAddresses(ctx, []*ipdesk.Address{{SpaceID: s.ID, Addr: netip.MustParseAddr("10.1.0.6")}}, true)
		if err != nil || res.Created != 1 {
			t.Fatalf("dry run: %+v %v", res, err)
		}
		if _, _, err := db.FindAddresses(ctx, ipdesk.AddressFilter{}); err != nil {
			t.Fatal(err)
		}
		if g := take(); len(g) != 0 {
			t.Errorf("failed write, dry run and read reported %v", g)
		}

		// An import is one commit, one call.
		rows := []*ipdesk.Address{
			{SpaceID: s.ID, Addr: netip.MustParseAddr("10.1.0.7")},
			{SpaceID: s.ID, Addr: netip.MustParseAddr("10.1.0.8")},
		}
		if res, err := db.ImportAddresses(ctx, rows, false); err != nil || res.Created != 2 {
			t.Fatalf("import: %+v %v", res, err)
		}
		if g := take(); !equalTypes(g, [][]string{{ipdesk.ObjectAddress}}) {
			t.Errorf("after an import of 2: %v", g)
		}

		// A cascading delete names every type it removed.
		if err := db.DeleteSpace(ctx, s.ID, ipdesk.DeleteOptions{Cascade: true}); err != nil {
			t.Fatal(err)
		}
		g := take()
		if len(g) != 1 {
			t.Fatalf("cascade delete: %v", g)
		}
		for _, typ := range []string{ipdesk.ObjectSpace, ipdesk.ObjectPrefix, ipdesk.ObjectAddress} {
			if !slices.Contains(g[0], typ) {
				t.Errorf("cascade delete reported %v, without %s", g[0], typ)
			}
		}
		_, _ = p, a

		// Users and tokens are audited too.
		if err := db.CreateUser(ctx, &ipdesk.User{Name: "bob"}, "password123"); err != nil {
			t.Fatal(err)
		}
		if g := take(); !equalTypes(g, [][]string{{ipdesk.ObjectUser}}) {
			t.Errorf("after a user: %v", g)
		}
	})
}

func equalTypes(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

// TestScanHosts reads the filtered hosts with the fields the outputs use.
func TestScanHosts(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s1 := mustSpace(t, db, "one")
		s2 := mustSpace(t, db, "two")
		mustPrefix(t, db, s1.ID, "10.1.0.0/24", ipdesk.PrefixSubnet)
		mustPrefix(t, db, s1.ID, "10.2.0.0/24", ipdesk.PrefixSubnet)
		mustPrefix(t, db, s1.ID, "2001:db8::/64", ipdesk.PrefixSubnet)
		mustPrefix(t, db, s2.ID, "10.1.0.0/24", ipdesk.PrefixSubnet)
		site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Main"}
		if err := db.CreateLocation(ctx, site); err != nil {
			t.Fatal(err)
		}
		room := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "Кабинет 303", ParentID: site.ID}
		if err := db.CreateLocation(ctx, room); err != nil {
			t.Fatal(err)
		}
		dhcp := func(mac string) func(*ipdesk.Address) {
			return func(a *ipdesk.Address) {
				a.MAC = mustMAC(mac)
				a.DHCPReservation = true
				a.Hostname = "pc-" + strings.ReplaceAll(mac[12:], ":", "")
				a.Owner = `Anna "the admin"; {code} #1`
				a.Description = "Schrank, 2. Fach – ключ"
				a.LocationID = room.ID
				a.AccessLevel = 2
			}
		}
		mustAddr(t, db, s1.ID, "10.2.0.9", dhcp("02:00:00:00:00:01"))
		mustAddr(t, db, s1.ID, "10.1.0.20", func(a *ipdesk.Address) { a.MAC = mustMAC("02:00:00:00:00:09"); a.AccessLevel = 1 })
		mustAddr(t, db, s1.ID, "10.1.0.3", dhcp("02:00:00:00:00:02"))
		mustAddr(t, db, s1.ID, "10.1.0.4", func(a *ipdesk.Address) { dhcp("02:00:00:00:00:04")(a); a.Status = ipdesk.StatusDeprecated })
		mustAddr(t, db, s1.ID, "2001:db8::5", dhcp("02:00:00:00:00:05"))
		mustAddr(t, db, s2.ID, "10.1.0.3", dhcp("02:00:00:00:00:03"))

		names := map[int64]string{s1.ID: "one", s2.ID: "two"}
		scan := func(f ipdesk.HostFilter) []string {
			t.Helper()
			var out []string
			err := db.ScanHosts(ctx, f, func(a *ipdesk.Address) error {
				out = append(out, a.Addr.String()+"@"+names[a.SpaceID])
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(out)
			return out
		}
		level := 1
		within := netip.MustParsePrefix("10.1.0.0/16")
		hosts := []ipdesk.AddressStatus{ipdesk.StatusActive, ipdesk.StatusReserved}
		for _, tc := range []struct {
			name string
			f    ipdesk.HostFilter
			want []string
		}{
			{"all", ipdesk.HostFilter{}, []string{"10.1.0.20@one", "10.1.0.3@one", "10.1.0.3@two", "10.1.0.4@one", "10.2.0.9@one", "2001:db8::5@one"}},
			{"dhcp in one", ipdesk.HostFilter{SpaceID: &s1.ID, DHCP: true, Statuses: hosts}, []string{"10.1.0.3@one", "10.2.0.9@one", "2001:db8::5@one"}},
			{"within", ipdesk.HostFilter{Within: &within}, []string{"10.1.0.20@one", "10.1.0.3@one", "10.1.0.3@two", "10.1.0.4@one"}},
			{"deprecated", ipdesk.HostFilter{Statuses: []ipdesk.AddressStatus{ipdesk.StatusDeprecated}}, []string{"10.1.0.4@one"}},
			{"level", ipdesk.HostFilter{AccessLevel: &level}, []string{"10.1.0.20@one"}},
		} {
			if got := scan(tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}

		// The fields the outputs use come back as stored.
		var got []*ipdesk.Address
		db.ScanHosts(ctx, ipdesk.HostFilter{SpaceID: &s1.ID}, func(a *ipdesk.Address) error { got = append(got, a); return nil })
		if len(got) != 5 {
			t.Fatalf("%d hosts in one", len(got))
		}
		for _, h := range got {
			want, err := db.FindAddressByID(ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			want.Phone, want.Version, want.Timestamps = "", 0, ipdesk.Timestamps{}
			if *h != *want {
				t.Errorf("scanned %+v\nstored  %+v", *h, *want)
			}
		}

		// fn's error ends the scan.
		n := 0
		stop := ipdesk.Errorf(ipdesk.ECONFLICT, "enough")
		err := db.ScanHosts(ctx, ipdesk.HostFilter{}, func(*ipdesk.Address) error { n++; return stop })
		if err != stop || n != 1 {
			t.Errorf("scan went on after an error: n=%d err=%v", n, err)
		}
	})
}

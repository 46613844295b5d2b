package sqldb_test

import (
	"context"
	"fmt"
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

var t0 = time.Date(2024, 5, 6, 8, 0, 0, 0, time.UTC)

func report(kind ipdesk.CallEventKind, pbxID, from string, at time.Time) *ipdesk.CallReport {
	return &ipdesk.CallReport{
		Kind: kind, PBXCallID: pbxID, Time: at, Source: "192.0.2.10",
		From:    ipdesk.PhoneNumber{Raw: from, Number: from, Kind: ipdesk.NumberExtension},
		Matches: ipdesk.CallMatches{Kind: ipdesk.MatchNone},
	}
}

func mustRecord(t *testing.T, db *sqldb.DB, r *ipdesk.CallReport) *ipdesk.CallEvent {
	t.Helper()
	ev, err := db.RecordCallEvent(ctx, r)
	if err != nil {
		t.Fatalf("RecordCallEvent(%+v): %v", r, err)
	}
	return ev
}

func TestCallEvents(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		audits := auditCount(t, db)

		// One call: ring, answer, hangup under the PBX's call id.
		ring := mustRecord(t, db, report(ipdesk.CallRing, "1715000000.17", "2345", t0))
		if ring.ID == 0 || ring.Call == nil || ring.Call.ID == 0 || ring.State != ipdesk.CallRinging || ring.Call.State != ipdesk.CallRinging {
			t.Fatalf("ring: %+v", ring)
		}
		ans := report(ipdesk.CallAnswer, "1715000000.17", "", t0.Add(5*time.Second))
		ans.Extension = "201"
		answer := mustRecord(t, db, ans)
		hangup := mustRecord(t, db, report(ipdesk.CallHangup, "1715000000.17", "", t0.Add(65*time.Second)))
		if answer.CallID != ring.CallID || hangup.CallID != ring.CallID {
			t.Fatalf("events of one call got calls %d, %d, %d", ring.CallID, answer.CallID, hangup.CallID)
		}
		if answer.State != ipdesk.CallAnswered || hangup.State != ipdesk.CallEnded || !(ring.ID < answer.ID && answer.ID < hangup.ID) {
			t.Fatalf("states %s %s, ids %d %d %d", answer.State, hangup.State, ring.ID, answer.ID, hangup.ID)
		}
		c, err := db.FindCallByID(ctx, ring.CallID)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != ipdesk.CallEnded || c.Extension != "201" || c.From.Raw != "2345" || !c.Started.Equal(t0) || !c.Updated.Equal(t0.Add(65*time.Second)) || len(c.Events) != 3 {
			t.Fatalf("call: %+v", c)
		}
		if c.Events[0].Kind != ipdesk.CallRing || c.Events[1].Extension != "201" || c.Events[2].State != ipdesk.CallEnded || c.Events[0].Source != "192.0.2.10" {
			t.Fatalf("events: %+v %+v %+v", c.Events[0], c.Events[1], c.Events[2])
		}

		// A hangup without an answer: missed. An answer arriving after it
		// makes the call ended; a late ring changes nothing.
		mustRecord(t, db, report(ipdesk.CallRing, "b", "2346", t0.Add(time.Minute)))
		if ev := mustRecord(t, db, report(ipdesk.CallHangup, "b", "", t0.Add(2*time.Minute))); ev.State != ipdesk.CallMissed {
			t.Fatalf("hangup without answer: %s", ev.State)
		}
		if ev := mustRecord(t, db, report(ipdesk.CallAnswer, "b", "", t0.Add(90*time.Second))); ev.State != ipdesk.CallEnded {
			t.Fatalf("late answer: %s", ev.State)
		}
		if ev := mustRecord(t, db, report(ipdesk.CallRing, "b", "", t0.Add(50*time.Second))); ev.State != ipdesk.CallEnded || !ev.Call.Started.Equal(t0.Add(50*time.Second)) {
			t.Fatalf("late ring: %s, started %s", ev.State, ev.Call.Started)
		}

		// GET /set_call reports carry no call id: each is a call.
		s1 := mustRecord(t, db, report(ipdesk.CallRing, "", "2345", t0.Add(3*time.Minute)))
		s2 := mustRecord(t, db, report(ipdesk.CallRing, "", "2345", t0.Add(3*time.Minute)))
		if s1.CallID == s2.CallID {
			t.Fatal("two set_call reports made one call")
		}
		// A PBX call id used again after the correlation window is a new call.
		again := mustRecord(t, db, report(ipdesk.CallRing, "1715000000.17", "2347", t0.Add(ipdesk.CallCorrelationWindow+time.Hour)))
		if again.CallID == ring.CallID || again.State != ipdesk.CallRinging {
			t.Fatalf("reused call id joined the old call: %+v", again)
		}
		// The first event known may be the hangup.
		if ev := mustRecord(t, db, report(ipdesk.CallHangup, "only-hangup", "2348", t0.Add(4*time.Minute))); ev.State != ipdesk.CallMissed {
			t.Fatalf("lone hangup: %s", ev.State)
		}

		// Bad reports change nothing.
		last, _ := db.LastCallEventID(ctx)
		for _, r := range []*ipdesk.CallReport{
			report("dial", "", "1", t0),
			report(ipdesk.CallRing, "a\nb", "1", t0),
			report(ipdesk.CallRing, strings.Repeat("x", ipdesk.MaxPBXCallIDLen+1), "1", t0),
			report(ipdesk.CallRing, "", "1", time.Time{}),
		} {
			_, err := db.RecordCallEvent(ctx, r)
			wantCode(t, err, ipdesk.EINVALID)
		}
		if l, _ := db.LastCallEventID(ctx); l != last {
			t.Fatalf("a refused report was stored: last id %d → %d", last, l)
		}
		if got := auditCount(t, db); got != audits {
			t.Fatalf("call events wrote %d audit entries", got-audits)
		}

		// Following the events: all of them, in id order, with their calls.
		evs, err := db.CallEventsAfter(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 11 || evs[0].ID != ring.ID || evs[len(evs)-1].ID != last || evs[2].Call == nil || evs[2].Call.ID != ring.CallID {
			t.Fatalf("CallEventsAfter(0): %d events", len(evs))
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].ID <= evs[i-1].ID {
				t.Fatalf("events out of order: %d after %d", evs[i].ID, evs[i-1].ID)
			}
		}
		page, _ := db.CallEventsAfter(ctx, evs[3].ID, 2)
		if len(page) != 2 || page[0].ID != evs[4].ID || page[1].ID != evs[5].ID {
			t.Fatalf("CallEventsAfter(%d, 2): %v", evs[3].ID, page)
		}
	})
}

func TestFindCallsAndPurge(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		for i := range 30 {
			r := report(ipdesk.CallRing, "", fmt.Sprintf("2%03d", i), t0.Add(time.Duration(i)*time.Minute))
			if i%3 == 0 {
				r.Matches = ipdesk.CallMatches{Kind: ipdesk.MatchFull, Locations: []ipdesk.CallLocation{{ID: 1, Kind: ipdesk.LocationRoom, Name: "303", Path: "Main > A > 303"}},
					Hosts: []ipdesk.CallHost{{ID: 9, Hostname: fmt.Sprintf("Z303C%d", i)}}}
			}
			ev := mustRecord(t, db, r)
			if i%2 == 0 {
				mustRecord(t, db, report(ipdesk.CallHangup, "", "", r.Time)) // a call of its own, missed
			} else {
				_ = ev
			}
		}
		all, n, err := db.FindCalls(ctx, ipdesk.CallFilter{})
		if err != nil || n != 45 || len(all) != 45 {
			t.Fatalf("FindCalls: %d of %d, %v", len(all), n, err)
		}
		for i := 1; i < len(all); i++ {
			if all[i].Started.After(all[i-1].Started) {
				t.Fatal("calls not newest first")
			}
		}
		if all[0].Events != nil {
			t.Fatal("FindCalls returned events")
		}
		missed := ipdesk.CallMissed
		_, n, _ = db.FindCalls(ctx, ipdesk.CallFilter{State: &missed})
		if n != 15 {
			t.Fatalf("missed calls: %d", n)
		}
		full := ipdesk.MatchFull
		got, n, _ := db.FindCalls(ctx, ipdesk.CallFilter{Match: &full})
		if n != 10 || got[0].Matches.Locations[0].Path != "Main > A > 303" || len(got[0].Matches.People) != 0 || got[0].Matches.People == nil {
			t.Fatalf("full matches: %d %+v", n, got[0].Matches)
		}
		// The search matches the number and the matched names, in any case.
		if _, n, _ = db.FindCalls(ctx, ipdesk.CallFilter{Query: "2012"}); n != 1 {
			t.Fatalf("q=2012: %d", n)
		}
		if _, n, _ = db.FindCalls(ctx, ipdesk.CallFilter{Query: "z303c27"}); n != 1 {
			t.Fatalf("q=z303c27: %d", n)
		}
		if _, n, _ = db.FindCalls(ctx, ipdesk.CallFilter{Query: "a > 303"}); n != 10 {
			t.Fatalf("q=path: %d", n)
		}
		if _, n, _ = db.FindCalls(ctx, ipdesk.CallFilter{Query: "%"}); n != 0 {
			t.Fatalf("q=%%: %d", n)
		}
		since, until := t0.Add(10*time.Minute), t0.Add(20*time.Minute)
		_, n, _ = db.FindCalls(ctx, ipdesk.CallFilter{Since: &since, Until: &until})
		if n != 15 {
			t.Fatalf("10..20 minutes: %d", n)
		}
		p, n, _ := db.FindCalls(ctx, ipdesk.CallFilter{Page: ipdesk.Page{Offset: 40, Limit: 10}})
		if n != 45 || len(p) != 5 {
			t.Fatalf("last page: %d of %d", len(p), n)
		}

		// Purging removes the old calls and their events, once, audited.
		lastBefore, _ := db.LastCallEventID(ctx)
		removed, err := db.PurgeCalls(ctx, t0.Add(10*time.Minute))
		if err != nil || removed != 15 {
			t.Fatalf("PurgeCalls: %d, %v", removed, err)
		}
		if removed, _ := db.PurgeCalls(ctx, t0.Add(10*time.Minute)); removed != 0 {
			t.Fatalf("second purge removed %d", removed)
		}
		_, n, _ = db.FindCalls(ctx, ipdesk.CallFilter{})
		evs, _ := db.CallEventsAfter(ctx, 0, 1000)
		if n != 30 || len(evs) != 30 {
			t.Fatalf("after purge: %d calls, %d events", n, len(evs))
		}
		obj := ipdesk.ObjectCall
		entries, _, _ := db.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: &obj})
		if len(entries) != 1 || !strings.Contains(string(entries[0].Before), `"calls":15`) {
			t.Fatalf("purge audit: %+v", entries)
		}

		// Event ids are never reused, not even after the newest is purged.
		if _, err := db.PurgeCalls(ctx, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ev := mustRecord(t, db, report(ipdesk.CallRing, "", "1", t0.Add(2*time.Hour)))
		if ev.ID <= lastBefore {
			t.Fatalf("event id %d reused after purge (last was %d)", ev.ID, lastBefore)
		}
		if _, err := db.FindCallByID(ctx, 1); ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
			t.Fatalf("purged call: %v", err)
		}
	})
}

// TestCallEventOrder: concurrent writers (on PostgreSQL several instances
// would be the same) commit event ids in ascending order, so a reader that
// polls for "after the last id it saw" never skips one.
func TestCallEventOrder(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		const writers, each = 8, 25
		done := make(chan struct{})
		var seen []int64
		var readErr error
		go func() {
			defer close(done)
			var last int64
			for len(seen) < writers*each {
				evs, err := db.CallEventsAfter(ctx, last, 100)
				if err != nil {
					readErr = err
					return
				}
				for _, ev := range evs {
					seen = append(seen, ev.ID)
					last = ev.ID
				}
			}
		}()
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if _, err := db.RecordCallEvent(ctx, report(ipdesk.CallRing, fmt.Sprintf("w%d-%d", w, i%5), "1", t0)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("reader saw %d of %d events", len(seen), writers*each)
		}
		if readErr != nil {
			t.Fatal(readErr)
		}
		if !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != writers*each {
			t.Fatalf("reader saw %d events, sorted %v", len(seen), slices.IsSorted(seen))
		}
		// The calls of one PBX call id were joined.
		_, n, _ := db.FindCalls(ctx, ipdesk.CallFilter{})
		if n != writers*5 {
			t.Fatalf("%d calls, want %d", n, writers*5)
		}
	})
}

func TestListenCallEvents(t *testing.T) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := sqldbtest.SQLite(t).ListenCallEvents(lctx, func() { t.Error("ready on SQLite") }, func(int64) {}); err != nil {
		t.Fatalf("SQLite: %v", err)
	}
	dsn := sqldbtest.PostgresDSN(t)
	if dsn == "" {
		t.Skipf("%s not set", sqldbtest.EnvPostgres)
	}
	// Two handles on one database stand for two instances.
	db, other := openDSN(t, dsn), openDSN(t, dsn)
	ready := make(chan struct{})
	ids := make(chan int64, 10)
	errc := make(chan error, 1)
	go func() { errc <- db.ListenCallEvents(lctx, func() { close(ready) }, func(id int64) { ids <- id }) }()
	select {
	case <-ready:
	case err := <-errc:
		t.Fatal(err)
	}
	ev := mustRecord(t, other, report(ipdesk.CallRing, "", "2345", t0))
	select {
	case id := <-ids:
		if id != ev.ID {
			t.Fatalf("notified of %d, recorded %d", id, ev.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("after cancel: %v", err)
	}
}

func openDSN(t *testing.T, dsn string) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustIP(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestMatchPhones(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		sp := mustSpace(t, db, "school")
		mustPrefix(t, db, sp.ID, "10.1.0.0/16", ipdesk.PrefixSubnet)
		site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Main"}
		if err := db.CreateLocation(ctx, site); err != nil {
			t.Fatal(err)
		}
		bld := &ipdesk.Location{Kind: ipdesk.LocationBuilding, Name: "A", ParentID: site.ID}
		if err := db.CreateLocation(ctx, bld); err != nil {
			t.Fatal(err)
		}
		r303 := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "303", ParentID: bld.ID, Phones: []string{"+49 (0)3591 123-45", "2399"}}
		r304 := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "304", ParentID: bld.ID}
		for _, l := range []*ipdesk.Location{r303, r304} {
			if err := db.CreateLocation(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		pc1 := mustAddr(t, db, sp.ID, "10.1.3.1", func(a *ipdesk.Address) {
			a.Hostname, a.LocationID, a.MAC = "z303c1", r303.ID, mustMAC("02:00:00:00:03:01")
		})
		mustAddr(t, db, sp.ID, "10.1.3.2", func(a *ipdesk.Address) { a.Hostname, a.LocationID = "z303c2", r303.ID })
		anna := mustAddr(t, db, sp.ID, "10.1.4.1", func(a *ipdesk.Address) {
			a.Hostname, a.Owner, a.Phone, a.LocationID = "anna-pc", "Anna Müller", "03591 9876-5", r304.ID
		})
		mustAddr(t, db, sp.ID, "10.1.4.2", func(a *ipdesk.Address) { a.Hostname, a.Owner, a.Phone = "anna-laptop", "Anna Müller", "0359198765" })

		// A room by its full number: the room and its hosts.
		m, _, err := db.MatchPhones(ctx, ipdesk.PhoneQuery{Digits: []string{"49359112345", "490359112345"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Locations) != 1 || m.Locations[0].ID != r303.ID || m.Locations[0].Path != "Main > A > 303" || m.Locations[0].Phone != "+49 (0)3591 123-45" {
			t.Fatalf("locations: %+v", m.Locations)
		}
		if len(m.Hosts) != 2 || m.HostsTotal != 2 || m.Hosts[0].ID != pc1.ID || m.Hosts[0].MatchedBy != ipdesk.MatchedByLocation ||
			m.Hosts[0].MAC.String() != "02:00:00:00:03:01" || m.Hosts[0].Addr.String() != "10.1.3.1" || len(m.People) != 0 {
			t.Fatalf("hosts: %+v, people %+v", m.Hosts, m.People)
		}

		// A person by the phone of their hosts: the person, the hosts and
		// the room of the host that has one.
		m, _, _ = db.MatchPhones(ctx, ipdesk.PhoneQuery{Digits: []string{"0359198765"}})
		if len(m.People) != 1 || m.People[0].Name != "Anna Müller" || m.People[0].LocationID != r304.ID || len(m.Hosts) != 2 ||
			m.Hosts[0].ID != anna.ID || m.Hosts[0].MatchedBy != ipdesk.MatchedByPhone || len(m.Locations) != 1 || m.Locations[0].ID != r304.ID || m.Locations[0].Phone != "" {
			t.Fatalf("person: %+v", m)
		}

		// An extension: the stored numbers that end with it.
		m, _, _ = db.MatchPhones(ctx, ipdesk.PhoneQuery{Suffix: "2345"})
		if len(m.Locations) != 1 || m.Locations[0].ID != r303.ID {
			t.Fatalf("suffix 2345: %+v", m.Locations)
		}
		m, _, _ = db.MatchPhones(ctx, ipdesk.PhoneQuery{Suffix: "8765"})
		if len(m.Hosts) != 2 || len(m.People) != 1 {
			t.Fatalf("suffix 8765: %+v", m)
		}
		// Suffix bounds at the top of the digit range (9 carries over).
		m, _, _ = db.MatchPhones(ctx, ipdesk.PhoneQuery{Suffix: "99"})
		if len(m.Locations) != 1 || m.Locations[0].ID != r303.ID {
			t.Fatalf("suffix 99: %+v", m.Locations)
		}
		for _, q := range []ipdesk.PhoneQuery{{}, {Digits: []string{"1"}}, {Suffix: "0000"}, {Suffix: "45", Digits: []string{"9"}}} {
			m, which, err := db.MatchPhones(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if q.Suffix == "45" {
				if len(m.Locations) != 1 || which != 0 {
					t.Fatalf("%+v: %+v", q, m)
				}
			} else if !m.Empty() || m.Hosts == nil || m.HostsTotal != 0 || which != -1 {
				t.Fatalf("%+v matched %+v", q, m)
			}
		}

		// Several queries: the first that selects anything wins.
		m, which, err := db.MatchPhones(ctx, ipdesk.PhoneQuery{Digits: []string{"1"}}, ipdesk.PhoneQuery{}, ipdesk.PhoneQuery{Suffix: "8765"}, ipdesk.PhoneQuery{Suffix: "2345"})
		if err != nil || which != 2 || len(m.People) != 1 || len(m.Locations) != 1 || m.Locations[0].ID != r304.ID {
			t.Fatalf("in order: %d %+v %v", which, m, err)
		}
		if m, which, _ := db.MatchPhones(ctx); which != -1 || !m.Empty() {
			t.Fatalf("no queries: %d %+v", which, m)
		}

		// Changing a phone changes what matches (the reversed digits follow).
		if _, _, err := db.UpdateAddress(ctx, anna.ID, ipdesk.AddressUpdate{Phone: ptr("1111")}); err != nil {
			t.Fatal(err)
		}
		if m, _, _ := db.MatchPhones(ctx, ipdesk.PhoneQuery{Suffix: "111"}); len(m.Hosts) != 1 || m.Hosts[0].ID != anna.ID {
			t.Fatalf("after update: %+v", m.Hosts)
		}
		if _, err := db.UpdateLocation(ctx, r303.ID, ipdesk.LocationUpdate{Phones: &[]string{"4711"}}); err != nil {
			t.Fatal(err)
		}
		if m, _, _ := db.MatchPhones(ctx, ipdesk.PhoneQuery{Suffix: "711"}); len(m.Locations) != 1 {
			t.Fatalf("after location update: %+v", m.Locations)
		}
		if m, _, _ := db.MatchPhones(ctx, ipdesk.PhoneQuery{Suffix: "2345"}); len(m.Locations) != 0 {
			t.Fatalf("old phone still matches: %+v", m.Locations)
		}

		// Many hosts on one phone: at most MaxCallHosts, all counted.
		rows := make([]*ipdesk.Address, 60)
		for i := range rows {
			rows[i] = &ipdesk.Address{SpaceID: sp.ID, Addr: mustIP(fmt.Sprintf("10.1.9.%d", i+1)), Phone: "+49 3591 55555"}
		}
		if res, err := db.ImportAddresses(ctx, rows, false); err != nil || len(res.Problems) > 0 {
			t.Fatalf("import: %v %+v", err, res.Problems)
		}
		m, _, _ = db.MatchPhones(ctx, ipdesk.PhoneQuery{Digits: []string{"49359155555"}})
		if len(m.Hosts) != ipdesk.MaxCallHosts || m.HostsTotal != 60 || m.Hosts[0].Addr.String() != "10.1.9.1" {
			t.Fatalf("%d hosts of %d", len(m.Hosts), m.HostsTotal)
		}
		if m, _, _ = db.MatchPhones(ctx, ipdesk.PhoneQuery{Suffix: "5555"}); m.HostsTotal != 60 {
			t.Fatalf("imported phones by suffix: %d", m.HostsTotal)
		}
	})
}

// TestPhoneDigitsBackfill runs the UPDATE statements of migration 6 on
// rows whose reversed digits are blank, as rows written before it are, and
// compares the result with what the writers store.
func TestPhoneDigitsBackfill(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		sp := mustSpace(t, db, "s")
		mustPrefix(t, db, sp.ID, "10.0.0.0/24", ipdesk.PrefixSubnet)
		site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Main", Phones: []string{"+49 (0)3591 123-45", "2"}}
		if err := db.CreateLocation(ctx, site); err != nil {
			t.Fatal(err)
		}
		for i, phone := range []string{"03591 98765", "", "8 (495) 123-45-67"} {
			mustAddr(t, db, sp.ID, fmt.Sprintf("10.0.0.%d", i+1), func(a *ipdesk.Address) { a.Phone = phone })
		}
		read := func() string {
			var all []string
			for _, q := range []string{"SELECT digits_rev FROM location_phones ORDER BY location_id, position", "SELECT phone_digits_rev FROM addresses ORDER BY id"} {
				got, err := sqldb.QueryStrings(db, q)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, got...)
			}
			return strings.Join(all, ",")
		}
		want := read()
		if want != "543211953094,2,5678919530,,76543215948" {
			t.Fatalf("writers store %q", want)
		}
		for _, q := range []string{"UPDATE location_phones SET digits_rev = ''", "UPDATE addresses SET phone_digits_rev = ''"} {
			if err := sqldb.ExecRaw(db, q); err != nil {
				t.Fatal(err)
			}
		}
		stmts, err := sqldb.MigrationUpdates(db, "0006_calls.sql")
		if err != nil || len(stmts) != 2 {
			t.Fatalf("migration updates: %d, %v", len(stmts), err)
		}
		for _, q := range stmts {
			if err := sqldb.ExecRaw(db, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if got := read(); got != want {
			t.Fatalf("backfilled %q, writers store %q", got, want)
		}
	})
}

package callerid_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/callerid"
	"ipdesk/internal/testwait"
	"ipdesk/live"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

var ctx = ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "tester"})

var (
	germany = callerid.Config{CountryCode: "49", InternationalPrefix: "00", TrunkPrefix: "0", ExtensionDigits: 4}
	russia  = callerid.Config{CountryCode: "7", InternationalPrefix: "810", TrunkPrefix: "8", ExtensionDigits: 3}
)

// plan is a small school: rooms with phones written in several forms,
// hosts in them, and people with phones of their own.
type plan struct {
	rooms map[string]int64
	hosts map[string]int64
}

func makePlan(t *testing.T, db *sqldb.DB, rooms map[string][]string, hosts []ipdesk.Address) *plan {
	t.Helper()
	p := &plan{rooms: map[string]int64{}, hosts: map[string]int64{}}
	sp := &ipdesk.Space{Name: "school"}
	if err := db.CreateSpace(ctx, sp); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: sp.ID, Prefix: netip.MustParsePrefix("10.0.0.0/16"), Kind: ipdesk.PrefixSubnet}); err != nil {
		t.Fatal(err)
	}
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Main"}
	if err := db.CreateLocation(ctx, site); err != nil {
		t.Fatal(err)
	}
	for name, phones := range rooms {
		l := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: name, ParentID: site.ID, Phones: phones}
		if err := db.CreateLocation(ctx, l); err != nil {
			t.Fatalf("room %s: %v", name, err)
		}
		p.rooms[name] = l.ID
	}
	for i, h := range hosts {
		a := h
		a.SpaceID = sp.ID
		a.Addr = netip.AddrFrom4([4]byte{10, 0, byte(i / 200), byte(i%200 + 1)})
		if h.Description != "" {
			a.LocationID = p.rooms[h.Description]
		}
		if _, err := db.CreateAddress(ctx, &a); err != nil {
			t.Fatalf("host %s: %v", h.Hostname, err)
		}
		p.hosts[h.Hostname] = a.ID
	}
	return p
}

func newService(t *testing.T, db *sqldb.DB, rules callerid.Config) *callerid.Service {
	t.Helper()
	s, err := callerid.New(db, callerid.Options{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMatchGermany matches German number forms against rooms and people
// stored in other forms, on SQLite and PostgreSQL.
func TestMatchGermany(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		p := makePlan(t, db, map[string][]string{
			"303":         {"+49 (0)3591 123-45"},
			"304":         {"03591 12346"},
			"305":         {"0049 3591 12347", "4711"},
			"Sekretariat": {"2350"},
		}, []ipdesk.Address{
			{Hostname: "z303c1", Description: "303"},
			{Hostname: "z303c2", Description: "303"},
			{Hostname: "z304c1", Description: "304"},
			{Hostname: "anna-pc", Owner: "Anna Müller", Phone: "+49 351 987 65 43", Description: "305"},
			{Hostname: "ivan-pc", Owner: "Ivan Petrov", Phone: "+7 (495) 123-45-67"},
		})
		s := newService(t, db, germany)
		tests := []struct {
			raw      string
			kind     ipdesk.MatchKind
			location string // the first location
			person   string
			hosts    int
		}{
			{"+49 3591 12345", ipdesk.MatchFull, "303", "", 2},
			{"+49 (0)3591 123-45", ipdesk.MatchFull, "303", "", 2},
			{"0049359112345", ipdesk.MatchFull, "303", "", 2},
			{"03591 123 45", ipdesk.MatchFull, "303", "", 2},
			{"03591/12346", ipdesk.MatchFull, "304", "", 1},
			{"+49359112347", ipdesk.MatchFull, "305", "", 1},
			{"4711", ipdesk.MatchFull, "305", "", 1},
			{"0351 9876543", ipdesk.MatchFull, "305", "Anna Müller", 1},
			{"+7 495 1234567", ipdesk.MatchFull, "", "Ivan Petrov", 1},
			{"00 7 495 123 45 67", ipdesk.MatchFull, "", "Ivan Petrov", 1},
			// Extensions: an internal call from 2345 is room 303, stored in
			// full; the full number of the secretariat's extension 2350.
			{"2345", ipdesk.MatchExtension, "303", "", 2},
			{"2346", ipdesk.MatchExtension, "304", "", 1},
			{"+49 3591 12350", ipdesk.MatchExtension, "Sekretariat", "", 0},
			{"03591 99 2350", ipdesk.MatchExtension, "Sekretariat", "", 0},
			// No match: a foreign number never matches an extension; a
			// number shorter than an extension only in full.
			{"+44 20 7946 2350", ipdesk.MatchNone, "", "", 0},
			{"345", ipdesk.MatchNone, "", "", 0},
			{"+49 3591 99999", ipdesk.MatchNone, "", "", 0},
			{"anonymous", ipdesk.MatchNone, "", "", 0},
			{"", ipdesk.MatchNone, "", "", 0},
			{"<script>", ipdesk.MatchNone, "", "", 0},
			{"٢٣٤٥", ipdesk.MatchNone, "", "", 0},
		}
		for _, tt := range tests {
			m, err := s.Match(ctx, s.Rules().Normalize(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			loc, person := firstNames(m)
			if m.Kind != tt.kind || loc != tt.location || person != tt.person || len(m.Hosts) != tt.hosts {
				t.Errorf("Match(%q) = %s %q %q %d hosts, want %s %q %q %d", tt.raw, m.Kind, loc, person, len(m.Hosts), tt.kind, tt.location, tt.person, tt.hosts)
			}
		}
		// Suggestions: how to store the number so that it matches in full.
		m, _ := s.Match(ctx, s.Rules().Normalize("03591 99 2350"))
		if m.Suggestion == nil || m.Suggestion.Phone != "+493591992350" || m.Suggestion.LocationID != p.rooms["Sekretariat"] {
			t.Errorf("extension suggestion: %+v", m.Suggestion)
		}
		m, _ = s.Match(ctx, s.Rules().Normalize("+49 3591 99999"))
		if m.Suggestion == nil || m.Suggestion.Phone != "+49359199999" || m.Suggestion.LocationID != 0 {
			t.Errorf("unknown number suggestion: %+v", m.Suggestion)
		}
		if m, _ = s.Match(ctx, s.Rules().Normalize("anonymous")); m.Suggestion != nil {
			t.Errorf("suggestion for anonymous: %+v", m.Suggestion)
		}
		if m, _ = s.Match(ctx, s.Rules().Normalize("+49 3591 12345")); m.Suggestion != nil || m.Hosts[0].ID != p.hosts["z303c1"] || m.Hosts[0].Hostname != "z303c1" {
			t.Errorf("full match: %+v", m)
		}
	})
}

// TestMatchRussia: the same with Russian rules (trunk 8, international 810).
func TestMatchRussia(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		makePlan(t, db, map[string][]string{
			"101": {"8 (495) 123-45-67"},
			"102": {"+7 495 765-43-21"},
			"103": {"205"},
		}, []ipdesk.Address{
			{Hostname: "hans-pc", Owner: "Hans Meier", Phone: "8-10-49-3591-12345"},
		})
		s := newService(t, db, russia)
		for _, tt := range []struct {
			raw, location, person string
			kind                  ipdesk.MatchKind
		}{
			{"+7 (495) 123-45-67", "101", "", ipdesk.MatchFull},
			{"84951234567", "101", "", ipdesk.MatchFull},
			{"8 495 765 43 21", "102", "", ipdesk.MatchFull},
			{"+74957654321", "102", "", ipdesk.MatchFull},
			{"+49 3591 12345", "", "Hans Meier", ipdesk.MatchFull},
			{"810 49 3591 12345", "", "Hans Meier", ipdesk.MatchFull},
			{"205", "103", "", ipdesk.MatchFull},
			{"567", "101", "", ipdesk.MatchExtension},
			{"+7 495 000-02-05", "103", "", ipdesk.MatchExtension},
		} {
			m, err := s.Match(ctx, s.Rules().Normalize(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			loc, person := firstNames(m)
			if m.Kind != tt.kind || loc != tt.location || person != tt.person {
				t.Errorf("Match(%q) = %s %q %q, want %s %q %q", tt.raw, m.Kind, loc, person, tt.kind, tt.location, tt.person)
			}
		}
	})
}

// firstNames returns the names of the first location and person of m.
func firstNames(m *ipdesk.CallMatches) (location, person string) {
	if len(m.Locations) > 0 {
		location = m.Locations[0].Name
	}
	if len(m.People) > 0 {
		person = m.People[0].Name
	}
	return location, person
}

// subscribe opens a stream of the call topic on b.
func subscribe(t *testing.T, b *live.Broker) *live.Subscription {
	t.Helper()
	s, err := b.Subscribe(ctx, live.Request{Key: "t", Topics: []string{callerid.Topic}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// next waits for the next event of s and decodes it.
func next(t *testing.T, s *live.Subscription) (live.Event, *ipdesk.CallEvent) {
	t.Helper()
	select {
	case <-s.Ready():
	case <-s.Done():
		t.Fatalf("stream ended: %v", s.Err())
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	evs := s.Take()
	if len(evs) != 1 {
		t.Fatalf("%d events at once", len(evs))
	}
	var d callerid.EventData
	if err := json.Unmarshal(evs[0].Data, &d); err != nil {
		t.Fatal(err)
	}
	ev := &ipdesk.CallEvent{ID: d.ID, CallID: d.Call.ID, Kind: d.Kind, Time: d.Time, State: d.State, Call: d.Call}
	return evs[0], ev
}

// run starts the service until the end of the test.
func run(t *testing.T, s *callerid.Service) {
	t.Helper()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Run(rctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestReportAndPublish(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		makePlan(t, db, map[string][]string{"303": {"+49 3591 12345"}}, []ipdesk.Address{{Hostname: "z303c1", Description: "303"}})
		// An event recorded before the start is history, not news.
		if _, err := db.RecordCallEvent(ctx, &ipdesk.CallReport{Kind: ipdesk.CallRing, Time: time.Now(), From: ipdesk.PhoneNumber{Kind: ipdesk.NumberUnknown}}); err != nil {
			t.Fatal(err)
		}
		b := live.New(live.Options{Journal: callerid.Journal{Store: db}})
		s, err := callerid.New(db, callerid.Options{Rules: germany, Broker: b, PollEvery: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		run(t, s)
		<-s.Ready()
		sub := subscribe(t, b)

		ev, err := s.Report(ctx, callerid.Report{CallID: "42", From: "03591 12345", To: "+49 3591 100", Source: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != ipdesk.CallRing || ev.Call.From.Number != "+49359112345" || ev.Call.Matches.Kind != ipdesk.MatchFull || ev.Call.To.Number != "+493591100" {
			t.Fatalf("reported: %+v", ev.Call)
		}
		le, got := next(t, sub)
		if le.ID != ev.ID || le.Name != callerid.EventName || got.ID != ev.ID || got.Call.Matches.Locations[0].Name != "303" || got.Call.Matches.Hosts[0].Hostname != "z303c1" {
			t.Fatalf("published %+v: %+v", le, got)
		}
		if _, err := s.Report(ctx, callerid.Report{Event: ipdesk.CallAnswer, CallID: "42", Extension: "201"}); err != nil {
			t.Fatal(err)
		}
		if _, got := next(t, sub); got.State != ipdesk.CallAnswered || got.Call.Extension != "201" || got.Call.From.Number != "+49359112345" {
			t.Fatalf("answer: %+v", got)
		}

		// Bad numbers are stored as given, bounded, and match nothing.
		for _, raw := range []string{"", "anonymous", strings.Repeat("9", 1000), "../", "<script>alert(1)</script>", "1\r\n2", "１２３", "\xff"} {
			ev, err := s.Report(ctx, callerid.Report{From: raw})
			if err != nil {
				t.Fatalf("%q: %v", raw, err)
			}
			c := ev.Call
			if c.From.Kind != ipdesk.NumberUnknown || c.From.Raw != ipdesk.BoundRaw(raw) || c.Matches.Kind != ipdesk.MatchNone || len(c.Matches.Hosts) != 0 {
				t.Fatalf("%q: %+v", raw, c.From)
			}
			stored, _ := db.FindCallByID(ctx, c.ID)
			if stored.From.Raw != ipdesk.BoundRaw(raw) {
				t.Fatalf("%q stored as %q", raw, stored.From.Raw)
			}
			next(t, sub)
		}

		// Bad reports are refused and change nothing.
		last, _ := db.LastCallEventID(ctx)
		for field, r := range map[string]callerid.Report{
			"event":   {Event: "dial"},
			"call_id": {CallID: "a\nb"},
			"time":    {Time: time.Now().Add(-3 * time.Hour)},
		} {
			_, err := s.Report(ctx, r)
			if ipdesk.ErrorCode(err) != ipdesk.EINVALID || ipdesk.ErrorField(err) != field {
				t.Errorf("%+v: %v, want an error about %s", r, err, field)
			}
		}
		if l, _ := db.LastCallEventID(ctx); l != last {
			t.Fatal("a refused report was recorded")
		}
		select {
		case <-sub.Ready():
			t.Fatalf("published: %v", sub.Take())
		case <-time.After(50 * time.Millisecond):
		}
	})
}

func TestRetention(t *testing.T) {
	db := sqldbtest.SQLite(t)
	now := time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		at := now.Add(-time.Duration(i) * 24 * time.Hour)
		if _, err := db.RecordCallEvent(ctx, &ipdesk.CallReport{Kind: ipdesk.CallRing, Time: at, From: ipdesk.PhoneNumber{Kind: ipdesk.NumberUnknown}}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := callerid.New(db, callerid.Options{Retention: 72*time.Hour + time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	run(t, s)
	deadline := testwait.Deadline(t)
	for {
		_, n, _ := db.FindCalls(ctx, ipdesk.CallFilter{})
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls kept, want 4", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTwoInstances: two services on two handles of one PostgreSQL
// database stand for two ipdesk instances; a call reported to one reaches
// the streams of the other, in order, through LISTEN/NOTIFY.
func TestTwoInstances(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	if dsn == "" {
		t.Skipf("%s not set", sqldbtest.EnvPostgres)
	}
	open := func() (*sqldb.DB, *live.Broker, *callerid.Service) {
		db, err := sqldb.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		b := live.New(live.Options{Journal: callerid.Journal{Store: db}})
		// No polling: only the notifications can wake the other instance.
		s, err := callerid.New(db, callerid.Options{Rules: germany, Broker: b, PollEvery: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		run(t, s)
		select {
		case <-s.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("the service did not get ready")
		}
		return db, b, s
	}
	_, _, a := open()
	_, bb, _ := open()
	sub := subscribe(t, bb)
	var want []int64
	for i := range 5 {
		ev, err := a.Report(ctx, callerid.Report{From: fmt.Sprintf("0359112%03d", i)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ev.ID)
	}
	var got []live.Event
	for len(got) < len(want) {
		select {
		case <-sub.Ready():
			got = append(got, sub.Take()...)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d events reached the other instance", len(got), len(want))
		}
	}
	for i, id := range want {
		var ev callerid.EventData
		json.Unmarshal(got[i].Data, &ev)
		if got[i].ID != id || ev.Call.From.Raw != fmt.Sprintf("0359112%03d", i) {
			t.Fatalf("event %d on the other instance: %d %q, want %d", i, got[i].ID, ev.Call.From.Raw, id)
		}
	}
}

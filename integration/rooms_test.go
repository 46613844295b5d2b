//go:build linux

package integration

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/outputs"
	"ipdesk/schedule"
	"ipdesk/schedule/schedtest"
	"ipdesk/sqldb"
)

// The computers of room 303: z303c1 is a host in ipdesk; z303c2 is not,
// and is blocked by its name alone (squid's srcdom_regex on the names
// list; squid finds the name in its hosts_file).
const (
	pc303IP  = "10.77.0.30"
	pc303bIP = "10.77.0.31"
)

// TestSquidRooms proves the timetable's room blocking with the real squid
// and the whole ipdesk path: the store (SQLite), the schedule engine, the
// switcher on a fake clock, package outputs with a squid-rooms target, and
// apply with squid's own check (squid -k parse on squid.conf pointing at
// the candidate) and reload (squid -k reconfigure):
//
//  1. at 08:55 on a Monday, in period 2, room 303 has a lesson: the
//     switcher blocks it at once on start, and squid refuses the room's
//     computers (403 ERR_ACCESS_DENIED): the one ipdesk knows by its
//     address, the other by its name;
//  2. the fake clock reaches 09:35, the end of the period: the switcher
//     opens the room and the computer gets through to the origin;
//  3. an override blocks the free period 3: at 09:55 the computer is
//     refused again;
//  4. "open now" flips it: the computer gets through at once;
//  5. every switch is in the logbook, by the timetable or by the user who
//     made the change.
func TestSquidRooms(t *testing.T) {
	lab := newRoomLab(t)
	began := time.Now()
	dir, lists := lab.dir, lab.lists

	// The proxy's bridge with the computers of room 303, and the origin
	// behind the proxy.
	proxy, pcs, _, body := lab.network(t, squidClient{"pc303", "p303", pc303IP}, squidClient{"pc303b", "p303b", pc303bIP})
	pc, pcb := pcs[0], pcs[1]

	// squid.conf with the lines of the README: the deny lines of the
	// blocked rooms before the allow line of the LAN.
	hostsFile, namesFile := filepath.Join(lists, "blocked-hosts.txt"), filepath.Join(lists, "blocked-names.txt")
	conf := filepath.Join(dir, "squid.conf")
	writeFile(t, filepath.Join(dir, "hosts"), pc303IP+" z303c1\n"+pc303bIP+" z303c2\n", 0o644)
	writeFile(t, conf, lab.conf()+fmt.Sprintf(`hosts_file %[1]s/hosts
acl ipdesk_blocked src %[2]q
acl ipdesk_blocked_names srcdom_regex -i %[3]q
acl lan src 10.77.0.0/24
http_access deny ipdesk_blocked
http_access deny ipdesk_blocked_names
http_access allow lan
http_access deny all
`, dir, hostsFile, namesFile), 0o644)
	// The operator creates the lists, readable by squid, before squid
	// first starts; each apply keeps their mode.
	writeFile(t, hostsFile, "", 0o644)
	writeFile(t, namesFile, "", 0o644)
	squid := lab.startSquid(t, proxy, conf)
	if err := waitFor(startTimeout, "squid serving", func() (bool, error) {
		if squid.exited() {
			t.Fatalf("squid ended: %v\n%s", squid.err, squid.out.String())
		}
		_, err := fetch(pc)
		return err == nil, err
	}); err != nil {
		t.Fatal(err)
	}

	// The plan: the bell schedule, room 303 with its computer and a
	// lesson in period 2 on Monday 2 March 2026.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqldb.Open(context.Background(), filepath.Join(dir, "ipdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	anna := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "anna"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var periods []*ipdesk.Period
	for i, p := range [][2]ipdesk.TimeOfDay{{480, 525}, {530, 575}, {595, 640}, {645, 690}} {
		periods = append(periods, &ipdesk.Period{Number: i + 1, Start: p[0], End: p[1]})
	}
	must(db.ReplacePeriods(anna, periods))
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Campus"}
	must(db.CreateLocation(anna, site))
	room := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "303", ParentID: site.ID, HostnamePattern: "z303c"}
	must(db.CreateLocation(anna, room))
	space := &ipdesk.Space{Name: "school"}
	must(db.CreateSpace(anna, space))
	_, err = db.CreatePrefix(anna, &ipdesk.Prefix{SpaceID: space.ID, Prefix: netip.MustParsePrefix("10.77.0.0/24"), Kind: ipdesk.PrefixSubnet})
	must(err)
	_, err = db.CreateAddress(anna, &ipdesk.Address{SpaceID: space.ID, Addr: netip.MustParseAddr(pc303IP), Hostname: "z303c1", LocationID: room.ID, AccessLevel: 2})
	must(err)
	monday := ipdesk.Date{Year: 2026, Month: 3, Day: 2}
	must(db.CreateLesson(anna, &ipdesk.Lesson{RoomID: room.ID, Date: monday, Period: 2, Course: "Mathe"}))

	// ipdesk: the switcher on a fake clock, the squid-rooms target.
	clock := schedtest.NewClock(time.Date(2026, 3, 2, 8, 55, 0, 0, berlin))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	looked := make(chan ipdesk.RoomStates, 16)
	var svc *outputs.Service
	sw := schedule.NewSwitcher(db, schedule.SwitcherConfig{
		Settings: schedule.Settings{Location: berlin}, Clock: clock, Logger: logger,
		Apply:  func(ctx context.Context) ([]*ipdesk.ApplyRun, error) { return svc.ApplyRooms(ctx) },
		Notify: func(st ipdesk.RoomStates) { looked <- st },
	})
	svc, err = outputs.New(db, []outputs.Spec{{
		Name: "rooms", Kind: apply.KindSquidRooms, HostsFile: hostsFile, NamesFile: namesFile,
		MainConfig: conf, Timeout: targetTimeout.String(),
		Validate: proxy.command(squidPath, "-k", "parse", "-f", apply.PlaceholderMain),
		Reload:   proxy.command(squidPath, "-k", "reconfigure", "-f", conf),
	}}, outputs.Config{Rooms: sw, Logger: logger})
	must(err)
	db.OnCommit = sw.Changed
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sw.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	look := func(what string) ipdesk.RoomStates {
		t.Helper()
		select {
		case st := <-looked:
			return st
		case <-time.After(2 * targetTimeout):
			t.Fatalf("the switcher did not act on %s", what)
		}
		panic("unreachable")
	}
	// waitBoundary moves the clock to at, which must be the boundary the
	// switcher waits for.
	waitBoundary := func(at time.Time) {
		t.Helper()
		next, ok := clock.WaitTimer(changeTimeout)
		if !ok || !next.Equal(at) {
			t.Fatalf("the switcher waits until %s, want %s", next.In(berlin), at.In(berlin))
		}
		clock.Set(at)
		look(at.In(berlin).Format("15:04"))
	}

	// 1. Blocked at once on start.
	st := look("the start")
	if !st.Rooms[0].Blocked || st.Rooms[0].Reason != ipdesk.ReasonLesson {
		t.Fatalf("room 303 at 08:55: %+v", st.Rooms[0])
	}
	if got := string(readFile(t, hostsFile)); !strings.HasSuffix(got, "\n"+pc303IP+"\n") {
		t.Fatalf("the blocked hosts list:\n%s", got)
	}
	if got := string(readFile(t, namesFile)); !strings.HasSuffix(got, "\n^z303c[0-9]+(\\.|$)\n") {
		t.Fatalf("the blocked names list:\n%s", got)
	}
	waitDenied(t, pc)
	waitDenied(t, pcb)

	// 2. The end of the lesson opens the room.
	waitBoundary(time.Date(2026, 3, 2, 9, 35, 0, 0, berlin))
	if got := string(readFile(t, hostsFile)); strings.Contains(got, pc303IP) {
		t.Fatalf("the computer is still listed after the lesson:\n%s", got)
	}
	waitAllowed(t, pc, body)
	waitAllowed(t, pcb, body)

	// 3. An override blocks the free period 3.
	must(db.SetOverride(anna, &ipdesk.Override{RoomID: room.ID, Date: monday, Period: 3, Reason: "exam"}, nil))
	look("the override")
	waitAllowed(t, pc, body) // the break before period 3 is open
	waitBoundary(time.Date(2026, 3, 2, 9, 55, 0, 0, berlin))
	waitDenied(t, pc)
	waitDenied(t, pcb)

	// 4. "Open now" flips it at once.
	must(db.SetNowOverride(anna, &ipdesk.NowOverride{RoomID: room.ID, Blocked: false, Start: clock.Now(), Until: time.Date(2026, 3, 2, 10, 40, 0, 0, berlin)}))
	look("open now")
	waitAllowed(t, pc, body)

	// 5. The logbook.
	es, _, err := db.FindLogEntries(context.Background(), ipdesk.LogFilter{})
	must(err)
	var got []string
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		got = append(got, fmt.Sprintf("%s %s blocked=%d opened=%d error=%q", e.Time.In(berlin).Format("15:04"), e.Actor, len(e.Blocked), len(e.Opened), e.Error))
	}
	want := []string{
		`08:55 timetable blocked=1 opened=0 error=""`,
		`09:35 timetable blocked=0 opened=1 error=""`,
		`09:55 timetable blocked=1 opened=0 error=""`,
		`09:55 anna blocked=0 opened=1 error=""`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logbook:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if left := tempFiles(t, lists); len(left) > 0 {
		t.Errorf("the applies left %q behind", left)
	}
	if squid.exited() {
		t.Fatalf("squid ended: %v", squid.err)
	}
	t.Logf("squid rooms: whole scenario in %s", time.Since(began).Round(time.Millisecond))
}

// waitDenied waits until squid, reloading in the background, refuses the
// client with its own 403.
func waitDenied(t *testing.T, client *netns) {
	t.Helper()
	start := time.Now()
	err := waitFor(changeTimeout, "squid refusing the client", func() (bool, error) {
		reply, err := fetch(client)
		if err != nil {
			return false, err
		}
		return reply.status == http.StatusForbidden && strings.HasPrefix(reply.squidError, "ERR_ACCESS_DENIED"),
			fmt.Errorf("status %d %s", reply.status, reply.squidError)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("squid refuses the client (%s)", time.Since(start).Round(time.Millisecond))
}

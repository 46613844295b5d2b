package schedule_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// BenchmarkBoundaryToReload measures the whole switch with the real
// storage (SQLite), outputs and apply: from the fake clock reaching a
// period boundary to the start of the reload command, with 500 rooms of
// 20 hosts each (10,000 hosts, each with a name pattern), every room
// having a lesson in every period, so that every boundary blocks or opens
// all rooms. The reload command records when it started. Each iteration
// is one boundary; run it with -benchtime=40x (the plan has lessons for
// ten school days, 240 boundaries).
func BenchmarkBoundaryToReload(b *testing.B) {
	const rooms, hostsPerRoom, days = 500, 20, 10
	dir := b.TempDir()
	db, err := sqldb.Open(context.Background(), filepath.Join(dir, "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var ps []*ipdesk.Period
	for i := range 12 {
		start := ipdesk.TimeOfDay(7*60 + 50*i)
		ps = append(ps, &ipdesk.Period{Number: i + 1, Start: start, End: start + 45})
	}
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	must(db.ReplacePeriods(anna, ps))
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Campus"}
	must(db.CreateLocation(anna, site))
	space := &ipdesk.Space{Name: "school"}
	must(db.CreateSpace(anna, space))
	_, err = db.CreatePrefix(anna, &ipdesk.Prefix{SpaceID: space.ID, Prefix: netip.MustParsePrefix("10.40.0.0/16"), Kind: ipdesk.PrefixSubnet})
	must(err)
	var hosts []*ipdesk.Address
	var lessons []*ipdesk.Lesson
	first := ipdesk.Date{Year: 2026, Month: 3, Day: 2}
	for r := range rooms {
		l := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: fmt.Sprintf("R%03d", r), ParentID: site.ID, HostnamePattern: fmt.Sprintf("r%03dc", r)}
		must(db.CreateLocation(anna, l))
		for h := range hostsPerRoom {
			n := r*hostsPerRoom + h + 1
			hosts = append(hosts, &ipdesk.Address{SpaceID: space.ID, Addr: netip.AddrFrom4([4]byte{10, 40, byte(n >> 8), byte(n)}),
				Hostname: fmt.Sprintf("r%03dc%d", r, h+1), LocationID: l.ID, AccessLevel: 2})
		}
		for d := 0; len(lessons) < (r+1)*days*12; d++ {
			day := first.AddDays(d)
			if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
				continue
			}
			for p := 1; p <= 12; p++ {
				lessons = append(lessons, &ipdesk.Lesson{RoomID: l.ID, Date: day, Period: p, Course: "C"})
			}
		}
	}
	res, err := db.ImportAddresses(anna, hosts, false)
	must(err)
	if len(res.Problems) > 0 {
		b.Fatal(res.Problems[0])
	}
	lres, err := db.ImportLessons(anna, lessons, ipdesk.LessonImportOptions{})
	must(err)
	if len(lres.Problems) > 0 {
		b.Fatal(lres.Problems[0])
	}

	marks := filepath.Join(dir, "reloads")
	reload := filepath.Join(dir, "reload")
	must(os.WriteFile(reload, []byte("#!/bin/sh\ndate +%s%N >> "+marks+"\n"), 0o755))
	clock := schedtest.NewClock(time.Date(2026, 3, 2, 7, 0, 0, 0, berlin))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var svc *outputs.Service
	looked := make(chan ipdesk.RoomStates, 10)
	sw := schedule.NewSwitcher(db, schedule.SwitcherConfig{
		Settings: schedule.Settings{Location: berlin}, Clock: clock, Logger: quiet,
		Apply:  func(ctx context.Context) ([]*ipdesk.ApplyRun, error) { return svc.ApplyRooms(ctx) },
		Notify: func(st ipdesk.RoomStates) { looked <- st },
	})
	svc, err = outputs.New(db, []outputs.Spec{{Name: "rooms", Kind: apply.KindSquidRooms,
		HostsFile: filepath.Join(dir, "blocked-hosts.txt"), NamesFile: filepath.Join(dir, "blocked-names.txt"),
		Reload: []string{reload}}}, outputs.Config{Rooms: sw, Logger: quiet})
	must(err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sw.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-looked

	reloads := func() []int64 {
		data, _ := os.ReadFile(marks)
		var out []int64
		for _, f := range strings.Fields(string(data)) {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				b.Fatalf("reload mark %q", f)
			}
			out = append(out, n)
		}
		return out
	}
	var lat []time.Duration
	blocked := rooms // at 07:00 period 1 runs
	for b.Loop() {
		next, ok := clock.WaitTimer(10 * time.Second)
		if !ok {
			b.Fatal("no boundary ahead")
		}
		before := len(reloads())
		began := time.Now()
		clock.Set(next)
		st := <-looked
		ms := reloads()
		if len(ms) == before {
			if len(st.Blocked()) == blocked {
				continue // the hourly safety wake in the night, not a boundary
			}
			b.Fatalf("no reload at %s (%d blocked)", next.In(berlin), len(st.Blocked()))
		}
		blocked = len(st.Blocked())
		lat = append(lat, time.Unix(0, ms[before]).Sub(began))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ms-max")
	live, _ := os.ReadFile(filepath.Join(dir, "blocked-hosts.txt"))
	b.Logf("%d boundaries; boundary → reload started: median %s, max %s; hosts list %d lines", len(lat),
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), bytes.Count(live, []byte("\n")))
}

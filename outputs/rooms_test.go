package outputs

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestRoomsOutputs: a squid-rooms target is two outputs, the addresses of
// the hosts in blocked rooms (at any access level, in the target's scope)
// and the name patterns of blocked rooms, rendered with the blocked set
// of the RoomSource and applied together by ApplyRooms.
func TestRoomsOutputs(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		p := newPlan(t, db)
		site, err := db.FindLocationByID(admin, p.room)
		if err != nil {
			t.Fatal(err)
		}
		other := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "Room 316", ParentID: site.ParentID, HostnamePattern: "z316c"}
		if err := db.CreateLocation(admin, other); err != nil {
			t.Fatal(err)
		}
		pattern := "z303c"
		if _, err := db.UpdateLocation(admin, p.room, ipdesk.LocationUpdate{HostnamePattern: &pattern}); err != nil {
			t.Fatal(err)
		}
		p.host(t, p.school, "10.0.0.31", "", "z303c1", func(a *ipdesk.Address) { a.AccessLevel = 3 })
		p.host(t, p.school, "10.0.0.32", "", "z303c2", func(a *ipdesk.Address) { a.Status = ipdesk.StatusDeprecated })
		p.host(t, p.school, "10.0.0.40", "", "z316c1", func(a *ipdesk.Address) { a.LocationID = other.ID })
		p.host(t, p.lab, "10.0.0.33", "", "lab33", nil) // another space, out of the scope

		f := newFakes(t)
		dir := t.TempDir()
		blocked := []int64{p.room}
		var source RoomSource = RoomSourceFunc(func(context.Context) ([]int64, error) { return blocked, nil })
		spec := Spec{Name: "rooms", Kind: apply.KindSquidRooms, Spaces: []string{"school"},
			HostsFile: filepath.Join(dir, "blocked-hosts.txt"), NamesFile: filepath.Join(dir, "blocked-names.txt"),
			Reload: []string{f.reloader()}}
		s, err := New(db, []Spec{spec}, Config{Logger: discard, Rooms: source})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(s.Names(), " "); got != "rooms.hosts rooms.names" || !s.HasRooms() {
			t.Fatalf("outputs %q", got)
		}
		ctx := context.Background()
		hosts, err := s.Render(ctx, "rooms.hosts")
		if err != nil {
			t.Fatal(err)
		}
		if lines := strings.Split(strings.TrimSpace(string(hosts)), "\n"); len(lines) != 3 || lines[2] != "10.0.0.31" {
			t.Errorf("hosts list:\n%s", hosts)
		}
		names, _ := s.Render(ctx, "rooms.names")
		if !strings.HasSuffix(string(names), "\n^z303c[0-9]+(\\.|$)\n") {
			t.Errorf("names list:\n%s", names)
		}

		runs, err := s.ApplyRooms(admin)
		if err != nil || len(runs) != 2 || runs[0].Status != ipdesk.ApplyApplied || runs[1].Status != ipdesk.ApplyApplied || f.reloads() != 2 {
			t.Fatalf("apply: %+v %v, %d reloads", runs, err, f.reloads())
		}
		// The set changes: both lists change (the header counts too); then
		// nothing changes.
		blocked = []int64{p.room, other.ID}
		runs, _ = s.ApplyRooms(admin)
		if runs[0].Status != ipdesk.ApplyApplied || runs[0].Added != 2 || f.reloads() != 4 {
			t.Errorf("apply after the change: %+v", runs[0])
		}
		if live := readFile(t, spec.HostsFile); !strings.Contains(live, "10.0.0.40\n") {
			t.Errorf("live hosts list:\n%s", live)
		}
		runs, _ = s.ApplyRooms(admin)
		if runs[0].Status != ipdesk.ApplyUnchanged || runs[1].Status != ipdesk.ApplyUnchanged || f.reloads() != 4 {
			t.Errorf("unchanged apply: %+v %+v", runs[0], runs[1])
		}

		// Without a source, or when it fails, nothing is written.
		s2, _ := New(db, []Spec{spec}, Config{Logger: discard})
		if runs, _ := s2.ApplyRooms(admin); runs[0].Status != ipdesk.ApplyRenderFailed || !strings.Contains(runs[0].Message, "the timetable is not running") {
			t.Errorf("without a source: %+v", runs[0])
		}
		s3, _ := New(db, []Spec{spec}, Config{Logger: discard, Rooms: RoomSourceFunc(func(context.Context) ([]int64, error) {
			return nil, errors.New("database is locked")
		})})
		if runs, _ := s3.ApplyRooms(admin); runs[0].Status != ipdesk.ApplyRenderFailed || !strings.Contains(runs[0].Message, "cannot compute the blocked rooms: database is locked") {
			t.Errorf("failing source: %+v", runs[0])
		}
		if live := readFile(t, spec.HostsFile); !strings.Contains(live, "10.0.0.40\n") {
			t.Errorf("a failed render changed the live list:\n%s", live)
		}
	})
}

// TestRoomSpecs: the lists of a squid-rooms target are checked like paths.
func TestRoomSpecs(t *testing.T) {
	for _, c := range []struct {
		sp    Spec
		field string
		want  string
	}{
		{Spec{Name: "rooms", Kind: apply.KindSquidRooms}, "hosts_file", "needs hosts_file"},
		{Spec{Name: "rooms", Kind: apply.KindSquidRooms, HostsFile: "blocked.txt"}, "hosts_file", `target "rooms": hosts_file "blocked.txt" is not an absolute path`},
		{Spec{Name: "rooms", Kind: apply.KindSquidRooms, NamesFile: "/a/../b"}, "names_file", `names_file "/a/../b" is not clean`},
		{Spec{Name: "rooms", Kind: apply.KindSquidRooms, HostsFile: "/a", LevelFiles: map[string]string{"1": "/b"}}, "level_files", "only for kind squid-levels"},
		{Spec{Name: "rooms", Kind: apply.KindSquidRooms, HostsFile: "/a", NamesFile: "/a"}, "path", `path "/a" is also written by target "rooms.hosts"`},
	} {
		err := Check([]Spec{c.sp})
		if ipdesk.ErrorField(err) != c.field || !strings.Contains(ipdesk.ErrorMessage(err), c.want) {
			t.Errorf("%+v: %v (field %q), want %q on %s", c.sp, err, ipdesk.ErrorField(err), c.want, c.field)
		}
	}
	ts, err := expand([]Spec{{Name: "rooms", Kind: apply.KindSquidRooms, NamesFile: "/var/lib/ipdesk/names.txt"}})
	if err != nil || len(ts) != 1 || ts[0].Name != "rooms.names" || ts[0].list != roomsNames {
		t.Errorf("names only: %v %v", ts, err)
	}
}

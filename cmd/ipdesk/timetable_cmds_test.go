package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
)

// rooms creates a site with the rooms 303 and 316 in the database dsn.
func rooms(t *testing.T, dsn string) {
	t.Helper()
	db, err := sqldb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Campus"}
	if err := db.CreateLocation(ctx, site); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"303", "316"} {
		if err := db.CreateLocation(ctx, &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: name, ParentID: site.ID}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTimetableCLI sets up the bell schedule and holidays on the command
// line and imports lessons from CSV and iCalendar: a file with broken lines
// and unknown rooms imports nothing and names every problem with its line;
// --ignore-unknown-rooms leaves the unknown rooms out; --dry-run writes
// nothing; --replace replaces the plan the file covers.
func TestTimetableCLI(t *testing.T) {
	for name, dsn := range dbs(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			vars := map[string]string{"IPDESK_DB": dsn, "USER": "root"}
			rooms(t, dsn)
			file := func(name, content string) string {
				t.Helper()
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			}
			mustRun := func(args ...string) string {
				t.Helper()
				out, errOut, err := run(t, vars, "", args...)
				if err != nil {
					t.Fatalf("%v: %v\n%s", args, err, errOut)
				}
				return out
			}

			// The bell schedule.
			if _, _, err := run(t, vars, "", "periods", "set", "1=08:00-08:45", "2=08:30-09:35"); err == nil || !strings.Contains(err.Error(), "period 2 starts at 08:30, before period 1 ends at 08:45") {
				t.Fatalf("overlapping periods: %v", err)
			}
			if _, _, err := run(t, vars, "", "periods", "set", "1=8-9"); err == nil || !strings.Contains(err.Error(), `start "8" is not a time`) {
				t.Fatalf("bad period: %v", err)
			}
			out := mustRun("periods", "set", "1=08:00-08:45", "2=08:50-09:35", "3=9:55-10:40", "4=10:45-11:30")
			if want := "1  08:00  08:45\n2  08:50  09:35\n3  09:55  10:40\n4  10:45  11:30\n"; out != want {
				t.Errorf("periods:\n%s", out)
			}
			if out := mustRun("periods"); !strings.HasPrefix(out, "1  08:00  08:45\n") {
				t.Errorf("periods list:\n%s", out)
			}

			// Holidays.
			if out := mustRun("holidays", "add", "Osterferien", "30.3.2026", "2026-04-10"); !strings.Contains(out, `"Osterferien": 2026-03-30 to 2026-04-10`) {
				t.Errorf("holidays add: %s", out)
			}
			if _, _, err := run(t, vars, "", "holidays", "add", "x", "2026-02-30"); err == nil || !strings.Contains(err.Error(), "first day") {
				t.Errorf("bad holiday: %v", err)
			}
			if out := mustRun("holidays"); !strings.Contains(out, "2026-03-30  2026-04-10  Osterferien") {
				t.Errorf("holidays:\n%s", out)
			}

			// A CSV with problems imports nothing.
			bad := file("bad.csv", "room,date,period,course,teacher\n"+
				"303,2026-03-02,1,Mathe,Müller\n"+
				"Aula,2026-03-02,1,Chor,\n"+
				"303,2026-03-02,9,x,\n"+
				"316,2026-03-02,2-3,Latein,\n"+
				"316,2026-03-02,3,Clash,\n"+
				"303,tomorrow,1,x,\n")
			_, errOut, err := run(t, vars, "", "import", "lessons", bad)
			if err == nil || !strings.Contains(err.Error(), "4 problems; nothing was imported") {
				t.Fatalf("bad import: %v\n%s", err, errOut)
			}
			for _, want := range []string{`line 3: room: room "Aula" does not exist`, "line 4: period: period 9 is not in the bell schedule",
				"line 6: period: periods 3 overlap another lesson of the import", `line 7: date: date "tomorrow"`} {
				if !strings.Contains(errOut, want) {
					t.Errorf("report lacks %q:\n%s", want, errOut)
				}
			}
			good := file("good.csv", "room,date,period,course,teacher\n"+
				"303,2026-03-02,1,Mathe,Müller\n"+
				"Aula,2026-03-02,1,Chor,\n"+
				"Campus > 316,2026-03-02,2-3,Latein,\n")
			out = mustRun("import", "lessons", good, "--ignore-unknown-rooms", "--dry-run")
			if want := "would import 2 lessons: 2 created, 0 updated, 0 unchanged; 1 lesson of unknown rooms left out (Aula)\n"; out != want {
				t.Errorf("dry run: %q", out)
			}
			out = mustRun("import", "lessons", good, "--ignore-unknown-rooms")
			if !strings.HasPrefix(out, "imported 2 lessons: 2 created") {
				t.Errorf("import: %q", out)
			}
			out = mustRun("import", "lessons", good, "--ignore-unknown-rooms")
			if !strings.HasPrefix(out, "imported 2 lessons: 0 created, 0 updated, 2 unchanged") {
				t.Errorf("second import: %q", out)
			}

			// iCalendar: a weekly series replacing the CSV's lessons of
			// room 303, with a broken line first.
			ics := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:m@s\r\nDTSTART;TZID=Europe/Berlin:20260302T085000\r\nDTEND;TZID=Europe/Berlin:20260302T093500\r\n" +
				"RRULE:FREQ=WEEKLY;COUNT=2\r\nSUMMARY:Mathe\\, 5a\r\nLOCATION:303\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
			brokenICS := file("broken.ics", strings.Replace(ics, "UID:m@s", "UID:m@s\r\nnot a line", 1))
			cfg := file("ipdesk.json", `{"time_zone": "Europe/Berlin"}`)
			vars["IPDESK_CONFIG"] = cfg
			_, errOut, err = run(t, vars, "", "import", "lessons", brokenICS)
			if err == nil || !strings.Contains(errOut, `line 4: "not a line" is not an iCalendar content line`) {
				t.Fatalf("broken ics: %v\n%s", err, errOut)
			}
			out = mustRun("import", "lessons", file("plan.ics", ics), "--replace")
			if want := "imported 2 lessons: 2 created, 0 updated, 0 unchanged; 1 lesson of the file's rooms and days removed first\n"; out != want {
				t.Errorf("ics import: %q", out)
			}

			// Bad calendar settings are refused before anything is read.
			vars["IPDESK_CONFIG"] = file("bad.json", `{"time_zone": "Europe/Berln"}`)
			if _, _, err := run(t, vars, "", "import", "lessons", good); err == nil || !strings.Contains(err.Error(), `time_zone "Europe/Berln" is not a known time zone`) {
				t.Errorf("bad time zone: %v", err)
			}
			vars["IPDESK_CONFIG"] = file("bad2.json", `{"timetable": {"school_days": ["mon", "funday"]}}`)
			if _, _, err := run(t, vars, "", "import", "lessons", good); err == nil || !strings.Contains(err.Error(), `"funday" is not a weekday`) {
				t.Errorf("bad school day: %v", err)
			}
		})
	}
}

package importer

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzLessonsICal: whatever the input, the iCalendar reader ends, every
// row has a room, a real date and periods of the bell schedule on a line
// of the input, and every message has a line of the input.
func FuzzLessonsICal(f *testing.F) {
	f.Add([]byte(icsExport))
	f.Add([]byte("BEGIN:VEVENT\nDTSTART:20260302T080000\nDURATION:PT45M\nRRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TU\nLOCATION:303\nEND:VEVENT\n"))
	f.Add([]byte("BEGIN:VEVENT\nDTSTART;TZID=\"a:b\":20260302T080000\n LOCATION:3\nEXDATE:20260309,20260316T080000Z\nEND:VEVENT"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, problems, warnings, err := ReadLessonsICal(bytes.NewReader(data), ICalOptions{Location: berlin, Periods: bell()})
		if err != nil {
			return // a line too long to read
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, r := range rows {
			if strings.TrimSpace(r.Room) == "" || r.Date.Check("date") != nil || r.Period < 1 || r.LastPeriod < r.Period || r.LastPeriod > len(bell()) || r.Line < 1 || r.Line > lines {
				t.Fatalf("bad row %+v", r)
			}
		}
		for _, p := range append(problems, warnings...) {
			if p.Line < 1 || p.Line > lines || p.Err == "" {
				t.Fatalf("bad message %+v", p)
			}
		}
	})
}

package importer

import (
	"encoding/csv"
	"io"
	"strings"
	"time"

	"ipdesk"
)

// LogbookColumns are the columns of the logbook CSV.
var LogbookColumns = []string{"time", "actor", "blocked", "opened", "blocked_now", "error"}

// WriteLogbookCSV writes logbook entries as CSV with a header row: the
// time in loc (YYYY-MM-DD HH:MM:SS), the actor, the names of the rooms
// blocked, opened and blocked after the switch (separated by ", "), and the error. Cells a spreadsheet would
// run as a formula get a leading apostrophe; line breaks in errors stay
// inside their quoted cell.
func WriteLogbookCSV(w io.Writer, entries []*ipdesk.LogEntry, loc *time.Location) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(LogbookColumns); err != nil {
		return err
	}
	names := func(rs []ipdesk.LogRoom) string {
		s := make([]string, len(rs))
		for i, r := range rs {
			s[i] = r.Name
		}
		return strings.Join(s, ", ")
	}
	for _, e := range entries {
		rec := []string{e.Time.In(loc).Format("2006-01-02 15:04:05"), e.Actor, names(e.Blocked), names(e.Opened), names(e.BlockedNow), e.Error}
		for i := range rec {
			rec[i] = escapeCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

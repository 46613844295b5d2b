package web

// The timetable actions that the API and the pages share: "block or open
// now", removing an override, the logbook as CSV.

import (
	"context"
	"net/http"

	"ipdesk"
	"ipdesk/importer"
)

// startNowOverride blocks or opens a room now, until the time until (a
// time of day HH:MM, or an RFC 3339 time; "" for the end of the room's
// current lesson or period), for the API and the pages alike.
func (s *Server) startNowOverride(ctx context.Context, room int64, blocked bool, until, reason string) (*ipdesk.NowOverride, error) {
	n := &ipdesk.NowOverride{RoomID: room, Blocked: blocked, Start: s.timetable.Now(), Reason: reason}
	var err error
	if until == "" {
		n.Until, err = s.timetable.DefaultUntil(ctx, room)
	} else {
		n.Until, err = s.timetable.ParseUntil(until)
	}
	if err != nil {
		return nil, err
	}
	return n, s.store.SetNowOverride(ctx, n)
}

// deleteRoomOverride removes override id of room; ENOTFOUND when the
// room has no such override.
func (s *Server) deleteRoomOverride(ctx context.Context, room, id int64) error {
	o, err := s.store.FindOverrideByID(ctx, id)
	if err != nil {
		return err
	}
	if o.RoomID != room {
		return ipdesk.Errorf(ipdesk.ENOTFOUND, "room %d has no override %d", room, id)
	}
	return s.store.DeleteOverride(ctx, id)
}

// writeLogbookCSV writes the logbook entries of f (at most
// maxLogExport) as a CSV download.
func (s *Server) writeLogbookCSV(ctx context.Context, w http.ResponseWriter, f ipdesk.LogFilter) error {
	var all []*ipdesk.LogEntry
	for off := 0; off < maxLogExport; off += ipdesk.MaxLimit {
		f.Page = ipdesk.Page{Offset: off, Limit: ipdesk.MaxLimit}
		es, n, err := s.store.FindLogEntries(ctx, f)
		if err != nil {
			return err
		}
		all = append(all, es...)
		if off+len(es) >= n || len(es) == 0 {
			break
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="logbook.csv"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	return importer.WriteLogbookCSV(w, all, s.timetable.Location())
}

// maxLogExport bounds the entries of one CSV export.
const maxLogExport = 100_000

// periodFields are the fields of a period that a client may set.
var periodFields = []string{"number", "start", "end"}

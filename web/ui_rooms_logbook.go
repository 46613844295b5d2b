package web

// The switching logbook: every change of the set of blocked rooms (and
// every failure to make it), filtered by days, room, actor and outcome,
// paged, and exported as CSV with the same filter.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"ipdesk"
	"ipdesk/i18n"
)

// logbookPageSize is how many entries one page of the logbook shows.
const logbookPageSize = 50

// logbookView is the logbook's filter as typed.
type logbookView struct {
	From, To string
	Room     string
	Actor    string
	Failed   string // "", "yes" or "no"
}

// logbookData is the data of the logbook page.
type logbookData struct {
	page
	View    logbookView
	Errors  fieldErrors
	Entries []*ipdesk.LogEntry
	Total   int
	Pager   planPager
	Rooms   []locOption
	CSV     string
}

// readLogbookView reads the logbook's filter from a query and turns it
// into a logbook filter: days in the school's time zone, from the start
// of From to the end of To.
func (s *Server) readLogbookView(cat *i18n.Catalog, q url.Values) (logbookView, ipdesk.LogFilter, fieldErrors) {
	v := logbookView{From: q.Get("from"), To: q.Get("to"), Room: q.Get("room"), Actor: q.Get("actor"), Failed: q.Get("failed")}
	var f ipdesk.LogFilter
	fe := fieldErrors{}
	loc := s.timetable.Location()
	var from, to ipdesk.Date
	if v.From != "" {
		d, err := ipdesk.ParseDate("from", v.From)
		if err != nil {
			fe["from"] = localError(cat, err)
		} else {
			from = d
			t := d.At(0, loc)
			f.Since = &t
		}
	}
	if v.To != "" {
		d, err := ipdesk.ParseDate("to", v.To)
		if err != nil {
			fe["to"] = localError(cat, err)
		} else {
			to = d
			t := d.AddDays(1).At(0, loc)
			f.Until = &t
		}
	}
	if f.Since != nil && f.Until != nil && to.Before(from) {
		fe["to"] = localError(cat, ipdesk.FieldErrorf(ipdesk.EINVALID, "to", "to %s is before from %s", to, from))
	}
	if v.Room != "" {
		id, err := strconv.ParseInt(v.Room, 10, 64)
		if err != nil || id <= 0 {
			fe["room"] = localError(cat, ipdesk.FieldErrorf(ipdesk.EINVALID, "room", "room %q is not a room", clipValue(v.Room)))
		} else {
			f.RoomID = &id
		}
	}
	if v.Actor != "" {
		f.Actor = &v.Actor
	}
	switch v.Failed {
	case "":
	case "yes", "no":
		failed := v.Failed == "yes"
		f.Failed = &failed
	default:
		fe["failed"] = localError(cat, ipdesk.FieldErrorf(ipdesk.EINVALID, "failed", "failed %q is not yes or no", clipValue(v.Failed)))
	}
	return v, f, fe
}

// allRooms returns every room, by name, for the filters of the timetable
// pages: the rooms' names are public with the timetable.
func (s *Server) allRooms(ctx context.Context) ([]locOption, error) {
	kind := ipdesk.LocationRoom
	idx := locIndex{}
	for off := 0; ; off += ipdesk.MaxLimit {
		rooms, total, err := s.store.FindLocations(ctx, ipdesk.LocationFilter{Kind: &kind, Page: ipdesk.Page{Offset: off, Limit: ipdesk.MaxLimit}})
		if err != nil {
			return nil, err
		}
		var parents []int64
		for _, r := range rooms {
			idx[r.ID] = r
			parents = append(parents, r.ParentID)
		}
		if err := s.completeLocations(ctx, idx, parents); err != nil {
			return nil, err
		}
		if off+ipdesk.MaxLimit >= total {
			break
		}
	}
	return idx.options(func(l *ipdesk.Location) bool { return l.Kind == ipdesk.LocationRoom }), nil
}

func (s *Server) logbookPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: objectLogbook}); err != nil {
		return err
	}
	d := &logbookData{page: s.base(w, r, s.catalog(r).T("rooms.logbook.title"), "rooms")}
	var f ipdesk.LogFilter
	d.View, f, d.Errors = s.readLogbookView(s.catalog(r), r.URL.Query())
	offset := queryOffset(r, "offset")
	var err error
	if d.Rooms, err = s.allRooms(ctx); err != nil {
		return err
	}
	status := http.StatusOK
	if len(d.Errors) == 0 {
		f.Page = ipdesk.Page{Offset: offset, Limit: logbookPageSize}
		if d.Entries, d.Total, err = s.store.FindLogEntries(ctx, f); err != nil {
			return err
		}
		q := r.URL.Query()
		q.Del("offset")
		d.Pager = newPlanPager("/rooms/logbook", q, "offset", offset, logbookPageSize, len(d.Entries), d.Total)
		d.CSV = "/rooms/logbook.csv" + queryWith(q)
	} else {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "rooms_logbook", d)
	return nil
}

// logbookCSV exports the entries of the logbook's filter as CSV.
func (s *Server) logbookCSV(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: objectLogbook}); err != nil {
		return err
	}
	_, f, fe := s.readLogbookView(s.catalog(r), r.URL.Query())
	for field, msg := range fe {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "%s", msg)
	}
	return s.writeLogbookCSV(ctx, w, f)
}

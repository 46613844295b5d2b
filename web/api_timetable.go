package web

import (
	"context"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"ipdesk"
)

// The timetable API: the bell schedule, holidays, lessons, room policies,
// overrides, "block now / open now until", room states, the occupancy
// preview and the switching logbook.

// Fields a client may set.
var (
	holidayFields = []string{"name", "first", "last"}
	lessonFields  = []string{"room_id", "date", "period", "last_period", "course", "teacher"}
)

// periodsRequest is the body of PUT /api/v1/periods.
type periodsRequest struct {
	Periods []*ipdesk.Period `json:"periods"`
}

// overrideRequest is the body of POST /api/v1/rooms/{id}/overrides.
type overrideRequest struct {
	Date   ipdesk.Date `json:"date"`
	Period int         `json:"period"`
	// Blocked is the state the period gets; absent: the opposite of its
	// lesson (or of the lack of one).
	Blocked *bool  `json:"blocked"`
	Reason  string `json:"reason"`
}

// overrideResult answers the creation of an override, with the room's
// state after it.
type overrideResult struct {
	Override *ipdesk.Override `json:"override"`
	State    ipdesk.RoomState `json:"state"`
}

// nowRequest is the body of POST /api/v1/rooms/{id}/now.
type nowRequest struct {
	Blocked bool `json:"blocked"`
	// Until is a time of day HH:MM (today; tomorrow when past) or an RFC
	// 3339 time; absent: the end of the room's current lesson or period.
	Until  string `json:"until"`
	Reason string `json:"reason"`
}

// nowResult answers POST /api/v1/rooms/{id}/now.
type nowResult struct {
	NowOverride *ipdesk.NowOverride `json:"now_override"`
	State       ipdesk.RoomState    `json:"state"`
}

func lessonURL(id int64) string   { return "/api/v1/lessons/" + strconv.FormatInt(id, 10) }
func holidayURL(id int64) string  { return "/api/v1/holidays/" + strconv.FormatInt(id, 10) }
func periodURL(number int) string { return "/api/v1/periods/" + strconv.Itoa(number) }
func overrideURL(o *ipdesk.Override) string {
	return "/api/v1/rooms/" + strconv.FormatInt(o.RoomID, 10) + "/overrides/" + strconv.FormatInt(o.ID, 10)
}

// timetableRoutes lists the routes of the timetable.
func (s *Server) timetableRoutes() []*route {
	cascade := qp("cascade", ptBool, "also delete the lessons and overrides of the period")
	fromTo := []param{
		qp("from", ptDate, "the first day (YYYY-MM-DD)"),
		qp("to", ptDate, "the last day (YYYY-MM-DD)"),
	}
	logParams := []param{
		qp("since", ptTime, "entries at or after this time (RFC 3339)"),
		qp("until", ptTime, "entries before this time (RFC 3339)"),
		qp("room", ptInt, "entries that blocked or opened this room"),
		qp("actor", ptString, "user name, or \"timetable\" for the switches at the boundaries"),
		qp("failed", ptBool, "true: the failed switches; false: the others"),
	}
	return []*route{
		// Bell schedule.
		{method: "GET", path: "/api/v1/periods", op: "listPeriods", tag: "timetable", summary: "The bell schedule: the periods of every school day",
			act: actRead, object: ipdesk.ObjectPeriod, reply: list[ipdesk.Period](), h: s.listPeriods},
		{method: "PUT", path: "/api/v1/periods", op: "replacePeriods", tag: "timetable", summary: "Replace the whole bell schedule (periods lessons use must stay)",
			act: actWrite, object: ipdesk.ObjectPeriod, body: body[periodsRequest]("PeriodsReplace", []string{"periods"}),
			reply: list[ipdesk.Period](), h: s.replacePeriods},
		{method: "POST", path: "/api/v1/periods", op: "createPeriod", tag: "timetable", summary: "Add a period to the bell schedule",
			act: actWrite, object: ipdesk.ObjectPeriod, body: body[ipdesk.Period]("PeriodCreate", periodFields, periodFields...),
			reply: one[ipdesk.Period](http.StatusCreated), h: s.createPeriod},
		{method: "GET", path: "/api/v1/periods/{number}", op: "getPeriod", tag: "timetable", summary: "Get a period",
			act: actRead, object: ipdesk.ObjectPeriod, reply: one[ipdesk.Period](http.StatusOK), h: s.getPeriod},
		{method: "PATCH", path: "/api/v1/periods/{number}", op: "updatePeriod", tag: "timetable", summary: "Change the times of a period",
			act: actWrite, object: ipdesk.ObjectPeriod, body: body[ipdesk.PeriodUpdate]("PeriodUpdate", nil),
			reply: one[ipdesk.Period](http.StatusOK), h: s.updatePeriod},
		{method: "DELETE", path: "/api/v1/periods/{number}", op: "deletePeriod", tag: "timetable", summary: "Delete a period",
			act: actWrite, object: ipdesk.ObjectPeriod, params: []param{cascade}, reply: noContent, h: s.deletePeriod},

		// Holidays.
		{method: "GET", path: "/api/v1/holidays", op: "listHolidays", tag: "timetable", summary: "List holidays and closed days",
			act: actRead, object: ipdesk.ObjectHoliday, paged: true, params: fromTo,
			reply: list[ipdesk.Holiday](), h: s.listHolidays},
		{method: "POST", path: "/api/v1/holidays", op: "createHoliday", tag: "timetable", summary: "Add holidays or a closed day (last defaults to first)",
			act: actWrite, object: ipdesk.ObjectHoliday, body: body[ipdesk.Holiday]("HolidayCreate", []string{"name", "first"}, holidayFields...),
			reply: one[ipdesk.Holiday](http.StatusCreated), h: s.createHoliday},
		{method: "GET", path: "/api/v1/holidays/{id}", op: "getHoliday", tag: "timetable", summary: "Get a holiday",
			act: actRead, object: ipdesk.ObjectHoliday, reply: one[ipdesk.Holiday](http.StatusOK), h: s.getHoliday},
		{method: "PATCH", path: "/api/v1/holidays/{id}", op: "updateHoliday", tag: "timetable", summary: "Change a holiday",
			act: actWrite, object: ipdesk.ObjectHoliday, body: body[ipdesk.HolidayUpdate]("HolidayUpdate", nil),
			reply: one[ipdesk.Holiday](http.StatusOK), h: s.updateHoliday},
		{method: "DELETE", path: "/api/v1/holidays/{id}", op: "deleteHoliday", tag: "timetable", summary: "Delete a holiday",
			act: actWrite, object: ipdesk.ObjectHoliday, reply: noContent, h: s.deleteHoliday},

		// Lessons.
		{method: "GET", path: "/api/v1/lessons", op: "listLessons", tag: "timetable", summary: "List lessons by date, room and period",
			act: actRead, object: ipdesk.ObjectLesson, paged: true,
			params: append([]param{
				qp("room", ptInt, "room id"),
				qp("course", ptString, "exact course"),
				qp("teacher", ptString, "exact teacher"),
			}, fromTo...),
			reply: list[ipdesk.Lesson](), h: s.listLessons},
		{method: "POST", path: "/api/v1/lessons", op: "createLesson", tag: "timetable", summary: "Add a lesson (last_period defaults to period)",
			act: actWrite, object: ipdesk.ObjectLesson, body: body[ipdesk.Lesson]("LessonCreate", []string{"room_id", "date", "period"}, lessonFields...),
			reply: one[ipdesk.Lesson](http.StatusCreated), h: s.createLesson},
		{method: "GET", path: "/api/v1/lessons/{id}", op: "getLesson", tag: "timetable", summary: "Get a lesson",
			act: actRead, object: ipdesk.ObjectLesson, reply: one[ipdesk.Lesson](http.StatusOK), h: s.getLesson},
		{method: "PATCH", path: "/api/v1/lessons/{id}", op: "updateLesson", tag: "timetable", summary: "Change a lesson (moved to another period, it keeps its length)",
			act: actWrite, object: ipdesk.ObjectLesson, body: body[ipdesk.LessonUpdate]("LessonUpdate", nil),
			reply: one[ipdesk.Lesson](http.StatusOK), h: s.updateLesson},
		{method: "DELETE", path: "/api/v1/lessons/{id}", op: "deleteLesson", tag: "timetable", summary: "Delete a lesson",
			act: actWrite, object: ipdesk.ObjectLesson, reply: noContent, h: s.deleteLesson},

		// Rooms: state, policy, overrides.
		{method: "GET", path: "/api/v1/room-states", op: "listRoomStates", tag: "timetable",
			summary: "Whether each room is blocked now, why, and until when; next is the next boundary",
			act:     actRead, object: objectRoomState,
			reply: replySpec{kind: replyObject, status: http.StatusOK, typ: reflect.TypeFor[ipdesk.RoomStates]()}, h: s.listRoomStates},
		{method: "GET", path: "/api/v1/rooms/{id}/state", op: "getRoomState", tag: "timetable", summary: "Whether a room is blocked now, why, and until when",
			act: actRead, object: objectRoomState,
			reply: replySpec{kind: replyObject, status: http.StatusOK, typ: reflect.TypeFor[ipdesk.RoomState]()}, h: s.getRoomState},
		{method: "GET", path: "/api/v1/rooms/{id}/policy", op: "getRoomPolicy", tag: "timetable", summary: "A room's policy: timetable (default), never or always blocked",
			act: actRead, object: ipdesk.ObjectRoomPolicy, reply: one[ipdesk.RoomPolicySetting](http.StatusOK), h: s.getRoomPolicy},
		{method: "PUT", path: "/api/v1/rooms/{id}/policy", op: "setRoomPolicy", tag: "timetable", summary: "Set a room's policy",
			act: actWrite, object: ipdesk.ObjectRoomPolicy, body: body[ipdesk.RoomPolicyUpdate]("RoomPolicySet", []string{"policy"}),
			reply: one[ipdesk.RoomPolicySetting](http.StatusOK), h: s.setRoomPolicy},
		{method: "GET", path: "/api/v1/overrides", op: "listOverrides", tag: "timetable", summary: "List the overrides of all rooms",
			act: actRead, object: ipdesk.ObjectOverride, paged: true,
			params: append([]param{qp("room", ptInt, "room id")}, fromTo...),
			reply:  list[ipdesk.Override](), h: s.listOverrides},
		{method: "GET", path: "/api/v1/rooms/{id}/overrides", op: "listRoomOverrides", tag: "timetable", summary: "List a room's overrides",
			act: actRead, object: ipdesk.ObjectOverride, paged: true, params: fromTo,
			reply: list[ipdesk.Override](), h: s.listRoomOverrides},
		{method: "POST", path: "/api/v1/rooms/{id}/overrides", op: "setOverride", tag: "timetable",
			summary: "Override one period of a room (replacing an override of that period); blocked absent flips the timetable",
			act:     actOverride, object: ipdesk.ObjectOverride, body: body[overrideRequest]("OverrideSet", []string{"date", "period"}),
			reply: replySpec{kind: replyObject, status: http.StatusCreated, typ: reflect.TypeFor[overrideResult]()}, h: s.setOverride},
		{method: "DELETE", path: "/api/v1/rooms/{id}/overrides/{override}", op: "deleteOverride", tag: "timetable", summary: "Remove an override of a room",
			act: actOverride, object: ipdesk.ObjectOverride, reply: noContent, h: s.deleteOverride},
		{method: "POST", path: "/api/v1/rooms/{id}/now", op: "setNowOverride", tag: "timetable",
			summary: "Block or open a room now, until a time (default: the end of its current lesson or period)",
			act:     actOverride, object: ipdesk.ObjectNowOverride, body: body[nowRequest]("NowOverrideSet", []string{"blocked"}),
			reply: replySpec{kind: replyObject, status: http.StatusOK, typ: reflect.TypeFor[nowResult]()}, h: s.setNowOverride},
		{method: "DELETE", path: "/api/v1/rooms/{id}/now", op: "deleteNowOverride", tag: "timetable", summary: "End a room's \"now, until\" override",
			act: actOverride, object: ipdesk.ObjectNowOverride, reply: noContent, h: s.deleteNowOverride},

		// Preview and logbook.
		{method: "GET", path: "/api/v1/timetable/preview", op: "previewTimetable", tag: "timetable",
			summary: "The rooms × periods grid of a range of days (default: five days from today, or up to to) with the planned states, the current and the past periods",
			act:     actRead, object: objectRoomState, params: fromTo,
			reply: replySpec{kind: replyObject, status: http.StatusOK, typ: reflect.TypeFor[ipdesk.SchedulePreview]()}, h: s.previewTimetable},
		{method: "GET", path: "/api/v1/logbook", op: "listLogEntries", tag: "timetable", summary: "The switching logbook, newest first",
			act: actRead, object: objectLogbook, paged: true, params: logParams,
			reply: list[ipdesk.LogEntry](), h: s.listLogEntries},
		{method: "GET", path: "/api/v1/logbook.csv", op: "exportLogEntries", tag: "timetable", summary: "The switching logbook as CSV, newest first",
			act: actRead, object: objectLogbook, params: logParams,
			reply: replySpec{kind: replyCSV, status: http.StatusOK}, h: s.exportLogEntries},
	}
}

// Bell schedule.

func (s *Server) listPeriods(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.store.FindPeriods(r.Context())
	if err != nil {
		return err
	}
	writeList(w, ipdesk.Page{Limit: len(ps)}, len(ps), ps)
	return nil
}

func (s *Server) replacePeriods(w http.ResponseWriter, r *http.Request) error {
	var req periodsRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	for _, p := range req.Periods {
		if p == nil {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "periods", "periods has a null entry")
		}
	}
	if err := s.store.ReplacePeriods(r.Context(), req.Periods); err != nil {
		return err
	}
	return s.listPeriods(w, r)
}

func (s *Server) createPeriod(w http.ResponseWriter, r *http.Request) error {
	var p ipdesk.Period
	if err := s.decodeBody(w, r, &p); err != nil {
		return err
	}
	if err := s.store.CreatePeriod(r.Context(), &p); err != nil {
		return err
	}
	writeCreated(w, r, periodURL(p.Number), p.Version, &p)
	return nil
}

// number returns the {number} path parameter as a period number.
func number(r *http.Request) int { return int(min(paramsOf(r).id("number"), 1<<20)) }

func (s *Server) getPeriod(w http.ResponseWriter, r *http.Request) error {
	p, err := s.store.FindPeriod(r.Context(), number(r))
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, p.Version, p)
	return nil
}

func (s *Server) updatePeriod(w http.ResponseWriter, r *http.Request) error {
	var upd ipdesk.PeriodUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		return err
	}
	var err error
	if upd.Version, err = ifMatch(r); err != nil {
		return err
	}
	p, err := s.store.UpdatePeriod(r.Context(), number(r), upd)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, p.Version, p)
	return nil
}

func (s *Server) deletePeriod(w http.ResponseWriter, r *http.Request) error {
	n := number(r)
	cascade := paramsOf(r).bool("cascade")
	return deleteObject(w, r, cascade != nil && *cascade, func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeletePeriod(ctx, n, opts)
	})
}

// Holidays.

func (s *Server) listHolidays(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	f := ipdesk.HolidayFilter{From: p.date("from"), To: p.date("to"), Page: p.page}
	hs, n, err := s.store.FindHolidays(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, p.page, n, hs)
	return nil
}

func (s *Server) createHoliday(w http.ResponseWriter, r *http.Request) error {
	var h ipdesk.Holiday
	if err := s.decodeBody(w, r, &h); err != nil {
		return err
	}
	if err := s.store.CreateHoliday(r.Context(), &h); err != nil {
		return err
	}
	writeCreated(w, r, holidayURL(h.ID), h.Version, &h)
	return nil
}

func (s *Server) getHoliday(w http.ResponseWriter, r *http.Request) error {
	h, err := s.store.FindHolidayByID(r.Context(), paramsOf(r).id("id"))
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, h.Version, h)
	return nil
}

func (s *Server) updateHoliday(w http.ResponseWriter, r *http.Request) error {
	var upd ipdesk.HolidayUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		return err
	}
	var err error
	if upd.Version, err = ifMatch(r); err != nil {
		return err
	}
	h, err := s.store.UpdateHoliday(r.Context(), paramsOf(r).id("id"), upd)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, h.Version, h)
	return nil
}

func (s *Server) deleteHoliday(w http.ResponseWriter, r *http.Request) error {
	id := paramsOf(r).id("id")
	return deleteObject(w, r, false, func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeleteHoliday(ctx, id, opts)
	})
}

// Lessons.

func (s *Server) listLessons(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	f := ipdesk.LessonFilter{RoomID: p.int64("room"), From: p.date("from"), To: p.date("to"),
		Course: p.str("course"), Teacher: p.str("teacher"), Page: p.page}
	ls, n, err := s.store.FindLessons(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, p.page, n, ls)
	return nil
}

func (s *Server) createLesson(w http.ResponseWriter, r *http.Request) error {
	var l ipdesk.Lesson
	if err := s.decodeBody(w, r, &l); err != nil {
		return err
	}
	if err := s.store.CreateLesson(r.Context(), &l); err != nil {
		return err
	}
	writeCreated(w, r, lessonURL(l.ID), l.Version, &l)
	return nil
}

func (s *Server) getLesson(w http.ResponseWriter, r *http.Request) error {
	l, err := s.store.FindLessonByID(r.Context(), paramsOf(r).id("id"))
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, l.Version, l)
	return nil
}

func (s *Server) updateLesson(w http.ResponseWriter, r *http.Request) error {
	var upd ipdesk.LessonUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		return err
	}
	var err error
	if upd.Version, err = ifMatch(r); err != nil {
		return err
	}
	l, err := s.store.UpdateLesson(r.Context(), paramsOf(r).id("id"), upd)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, l.Version, l)
	return nil
}

func (s *Server) deleteLesson(w http.ResponseWriter, r *http.Request) error {
	id := paramsOf(r).id("id")
	return deleteObject(w, r, false, func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeleteLesson(ctx, id, opts)
	})
}

// Rooms.

func (s *Server) listRoomStates(w http.ResponseWriter, r *http.Request) error {
	st, err := s.timetable.States(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) getRoomState(w http.ResponseWriter, r *http.Request) error {
	st, err := s.timetable.RoomState(r.Context(), paramsOf(r).id("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) getRoomPolicy(w http.ResponseWriter, r *http.Request) error {
	pol, err := s.store.FindRoomPolicy(r.Context(), paramsOf(r).id("id"))
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, pol.Version, pol)
	return nil
}

func (s *Server) setRoomPolicy(w http.ResponseWriter, r *http.Request) error {
	var upd ipdesk.RoomPolicyUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		return err
	}
	var err error
	if upd.Version, err = ifMatch(r); err != nil {
		return err
	}
	pol, err := s.store.SetRoomPolicy(r.Context(), paramsOf(r).id("id"), upd)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, pol.Version, pol)
	return nil
}

func (s *Server) listOverrides(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	return s.writeOverrides(w, r, ipdesk.OverrideFilter{RoomID: p.int64("room"), From: p.date("from"), To: p.date("to"), Page: p.page})
}

func (s *Server) listRoomOverrides(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	room := p.id("id")
	return s.writeOverrides(w, r, ipdesk.OverrideFilter{RoomID: &room, From: p.date("from"), To: p.date("to"), Page: p.page})
}

func (s *Server) writeOverrides(w http.ResponseWriter, r *http.Request, f ipdesk.OverrideFilter) error {
	os, n, err := s.store.FindOverrides(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, f.Page, n, os)
	return nil
}

func (s *Server) setOverride(w http.ResponseWriter, r *http.Request) error {
	var req overrideRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	room := paramsOf(r).id("id")
	o := &ipdesk.Override{RoomID: room, Date: req.Date, Period: req.Period, Reason: req.Reason}
	if err := s.store.SetOverride(r.Context(), o, req.Blocked); err != nil {
		return err
	}
	st, err := s.timetable.RoomState(r.Context(), room)
	if err != nil {
		return err
	}
	w.Header().Set("Location", overrideURL(o))
	writeJSON(w, http.StatusCreated, overrideResult{Override: o, State: st})
	return nil
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	if err := s.deleteRoomOverride(r.Context(), p.id("id"), p.id("override")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) setNowOverride(w http.ResponseWriter, r *http.Request) error {
	var req nowRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	room := paramsOf(r).id("id")
	n, err := s.startNowOverride(r.Context(), room, req.Blocked, req.Until, req.Reason)
	if err != nil {
		return err
	}
	st, err := s.timetable.RoomState(r.Context(), room)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nowResult{NowOverride: n, State: st})
	return nil
}

func (s *Server) deleteNowOverride(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.DeleteNowOverride(r.Context(), paramsOf(r).id("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Preview and logbook.

// previewDays is the default length of a preview.
const previewDays = 5

func (s *Server) previewTimetable(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	from, to := p.date("from"), p.date("to")
	if from == nil && to != nil {
		first := to.AddDays(1 - previewDays)
		from = &first
	}
	if from == nil {
		today := ipdesk.DateOf(s.timetable.Now().In(s.timetable.Location()))
		from = &today
	}
	if to == nil {
		last := from.AddDays(previewDays - 1)
		to = &last
	}
	pv, err := s.timetable.Preview(r.Context(), *from, *to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pv)
	return nil
}

// logFilter returns the logbook filter of the request's parameters.
func logFilter(r *http.Request) (ipdesk.LogFilter, error) {
	p := paramsOf(r)
	f := ipdesk.LogFilter{Since: p.time("since"), Until: p.time("until"), RoomID: p.int64("room"), Actor: p.str("actor"), Failed: p.bool("failed")}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return f, ipdesk.FieldErrorf(ipdesk.EINVALID, "until", "until %s is not after since %s", f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
	}
	return f, nil
}

func (s *Server) listLogEntries(w http.ResponseWriter, r *http.Request) error {
	f, err := logFilter(r)
	if err != nil {
		return err
	}
	f.Page = paramsOf(r).page
	es, n, err := s.store.FindLogEntries(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, f.Page, n, es)
	return nil
}

func (s *Server) exportLogEntries(w http.ResponseWriter, r *http.Request) error {
	f, err := logFilter(r)
	if err != nil {
		return err
	}
	return s.writeLogbookCSV(r.Context(), w, f)
}

// stateReasons returns the state reasons as strings, for the OpenAPI
// document.
func stateReasons() []string {
	out := make([]string, len(ipdesk.StateReasons))
	for i, r := range ipdesk.StateReasons {
		out[i] = string(r)
	}
	return out
}

package web

// The changes of the occupancy view: the override grid's form of a day
// (the seed's "Senden" per day: the ticked periods are flipped, the
// others follow the timetable), "block now / open now until …", the end
// of a "now" override, and the removal of one override.

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"ipdesk"
)

// roomsOverrides saves the override form of one day: for each room of
// the form (each one the user may override) the ticked periods get an
// override that flips the timetable, the others none. Periods that are
// over stay as they are. All rooms change in one transaction, or none.
func (s *Server) roomsOverrides(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	f := &overrideForm{Date: formValue(r, "date"), Flips: map[string]bool{}, Reason: formValue(r, "reason"), Errors: fieldErrors{}}
	for _, k := range r.PostForm["flip"] {
		f.Flips[k] = true
	}
	date, err := ipdesk.ParseDate("date", f.Date)
	if err != nil {
		return err
	}
	var rooms []int64
	for _, v := range r.PostForm["room"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "room", "room %q is not a room", clipValue(v))
		}
		rooms = append(rooms, id)
	}
	if len(rooms) == 0 {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "room", "the form names no room")
	}
	for _, id := range rooms {
		if err := s.authorize(ctx, actOverride, object{Type: ipdesk.ObjectOverride, ID: id}); err != nil {
			return err
		}
	}
	back := localPath(formValue(r, "back"))
	if back == "/" {
		back = "/rooms?date=" + date.String()
	}
	ch, err := s.saveDayOverrides(ctx, date, rooms, f)
	if err == nil {
		if ch.Created+ch.Deleted == 0 {
			s.setFlash(w, r, "flash.rooms.unchanged", "")
		} else {
			s.setFlash(w, r, "flash.rooms.overrides", s.dayLabel(s.catalog(r), date))
		}
		redirect(w, r, back)
		return nil
	}
	if !isFormError(err) {
		return err
	}
	f.Errors, f.Error = formError(s.catalog(r), err)
	if id, err := strconv.ParseInt(r.PostFormValue("room_page"), 10, 64); err == nil && id > 0 {
		return s.renderRoomPage(w, r, id, date, roomForms{Override: f}, formStatus(err))
	}
	d, derr := s.occupancy(r, s.base(w, r, s.catalog(r).T("rooms.title"), "rooms"), f)
	if derr != nil {
		return derr
	}
	s.render(w, r, formStatus(err), "rooms", d)
	return nil
}

// saveDayOverrides turns the form of a day into the overrides of its
// rooms and stores them.
func (s *Server) saveDayOverrides(ctx context.Context, date ipdesk.Date, rooms []int64, f *overrideForm) (ipdesk.OverrideChanges, error) {
	var none ipdesk.OverrideChanges
	if err := ipdesk.ValidateText("reason", f.Reason, ipdesk.MaxReasonLen); err != nil {
		return none, err
	}
	plan, err := s.timetable.Plan(ctx, date, date)
	if err != nil {
		return none, err
	}
	pv := plan.Preview(date, date, s.timetable.Now())
	school := len(pv.Days) == 1 && pv.Days[0].SchoolDay
	byRoom := make(map[int64]*ipdesk.PreviewRoom, len(pv.Rooms))
	for i := range pv.Rooms {
		byRoom[pv.Rooms[i].RoomID] = &pv.Rooms[i]
	}
	known := map[string]bool{}
	var days []ipdesk.DayOverrides
	for _, id := range rooms {
		pr := byRoom[id]
		if pr == nil {
			return none, ipdesk.FieldErrorf(ipdesk.ENOTFOUND, "room", "room %d does not exist", id)
		}
		day := ipdesk.DayOverrides{RoomID: id, Date: date}
		for _, c := range pr.Cells {
			key := strconv.FormatInt(id, 10) + ":" + strconv.Itoa(c.Period)
			known[key] = true
			keep := &ipdesk.Override{Period: c.Period, Blocked: c.Blocked}
			switch {
			case c.Past || !f.Flips[key]:
				// A period that is over keeps its override; an unticked
				// one follows the timetable.
				if c.Past && c.OverrideID != 0 {
					day.Overrides = append(day.Overrides, keep)
				}
			case c.OverrideID != 0:
				day.Overrides = append(day.Overrides, keep)
			default:
				// Ticked: the opposite of the timetable (a lesson on a
				// closed day does not count).
				base := c.LessonID != 0 && school
				day.Overrides = append(day.Overrides, &ipdesk.Override{Period: c.Period, Blocked: !base, Reason: f.Reason})
			}
		}
		if pr.Policy != ipdesk.PolicyTimetable {
			continue // the policy decides; its overrides stay as they are
		}
		days = append(days, day)
	}
	for k := range f.Flips {
		if !known[k] {
			return none, ipdesk.FieldErrorf(ipdesk.EINVALID, "flip", "flip %q is not a period of a room of this form", clipValue(k))
		}
	}
	return s.store.SetDayOverrides(ctx, days)
}

// nowForm is the "block now / open now until" form as typed.
type nowForm struct {
	Blocked bool
	Until   string
	Reason  string
	Errors  fieldErrors
	Error   string
}

// roomChange reads the room of a change's path and its form, and checks
// that the user may do act to the room's objects of type objectType.
func (s *Server) roomChange(w http.ResponseWriter, r *http.Request, act action, objectType string) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	if err := s.parseForm(w, r); err != nil {
		return 0, err
	}
	return id, s.authorize(r.Context(), act, object{Type: objectType, ID: id})
}

// roomBack is where a room's form leads back to: the page it was sent
// from, else the room's page.
func roomBack(r *http.Request, id int64) string {
	if back := localPath(formValue(r, "back")); back != "/" {
		return back
	}
	return "/rooms/" + strconv.FormatInt(id, 10)
}

// roomNow blocks or opens a room now, until the time given or the end of
// its current lesson or period.
func (s *Server) roomNow(w http.ResponseWriter, r *http.Request) error {
	id, err := s.roomChange(w, r, actOverride, ipdesk.ObjectNowOverride)
	if err != nil {
		return err
	}
	f := &nowForm{Blocked: formValue(r, "blocked") == "1", Until: formValue(r, "until"), Reason: formValue(r, "reason"), Errors: fieldErrors{}}
	n, err := s.startNowOverride(r.Context(), id, f.Blocked, f.Until, f.Reason)
	if err == nil {
		key := "flash.rooms.now_opened"
		if n.Blocked {
			key = "flash.rooms.now_blocked"
		}
		s.setFlash(w, r, key, s.clockText(s.catalog(r), n.Until))
		redirect(w, r, roomBack(r, id))
		return nil
	}
	if !isFormError(err) {
		return err
	}
	f.Errors, f.Error = formError(s.catalog(r), err)
	return s.renderRoomPage(w, r, id, s.today(), roomForms{Now: f}, formStatus(err))
}

// roomNowDelete ends a room's "now" override: the timetable decides
// again.
func (s *Server) roomNowDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := s.roomChange(w, r, actOverride, ipdesk.ObjectNowOverride)
	if err != nil {
		return err
	}
	if err := s.store.DeleteNowOverride(r.Context(), id); err != nil && ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
		return err
	}
	s.setFlash(w, r, "flash.rooms.now_ended", "")
	redirect(w, r, roomBack(r, id))
	return nil
}

// roomOverrideDelete removes one override of a room.
func (s *Server) roomOverrideDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := s.roomChange(w, r, actOverride, ipdesk.ObjectOverride)
	if err != nil {
		return err
	}
	oid, err := pathID(r, "override")
	if err != nil {
		return err
	}
	if err := s.deleteRoomOverride(r.Context(), id, oid); err != nil {
		return err
	}
	s.setFlash(w, r, "flash.rooms.override_removed", "")
	redirect(w, r, roomBack(r, id))
	return nil
}

// untilValue is the value of a time input for t: HH:MM in the school's
// time zone.
func (s *Server) untilValue(t time.Time) string {
	return t.In(s.timetable.Location()).Format("15:04")
}

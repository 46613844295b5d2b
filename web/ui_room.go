package web

// A room's page: its state now and why, "block now / open now until",
// the periods of a day with their lessons and overrides (the override
// form of one room), its policy, its hosts and its logbook.

import (
	"net/http"
	"net/url"
	"strconv"

	"ipdesk"
)

// roomLogEntries is how many logbook entries a room's page shows.
const roomLogEntries = 10

// roomSlot is one period of the day on a room's page.
type roomSlot struct {
	Period   *ipdesk.Period
	Cell     periodCell
	Override *ipdesk.Override
}

// roomForms are the forms of a room's page shown again with their
// errors; nil ones are filled from the stored data.
type roomForms struct {
	Override *overrideForm
	Now      *nowForm
	Policy   *policyForm
}

// policyForm is the policy form as typed.
type policyForm struct {
	Policy  string
	Reason  string
	Version string
	Errors  fieldErrors
	Error   string
}

// roomData is the data of a room's page.
type roomData struct {
	page
	Room *roomInfo
	Loc  *ipdesk.Location
	// Day is the room's grid of the day shown, Slots its periods.
	Day   *dayGrid
	Slots []roomSlot
	// Links of the day picker.
	PrevLink, NextLink, TodayLink string
	Back                          string
	// Now is the room's "now" override in force, if any.
	Now *ipdesk.NowOverride
	// NowEnd is when Now ends, as the page says it.
	NowEnd  string
	NowForm *nowForm
	// NowUntil is the default end of "block/open now" as HH:MM.
	NowUntil   string
	Policy     *ipdesk.RoomPolicySetting
	PolicyForm *policyForm
	Policies   []ipdesk.RoomPolicy
	CanPolicy  bool
	Log        []*ipdesk.LogEntry
	LogTotal   int
	// CanSeeLocation tells whether the user may open the room's location
	// page.
	CanSeeLocation bool
	// OverrideForm is the day's form shown again, if it is.
	OverrideForm *overrideForm
}

func (s *Server) roomPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	day := s.today()
	if v := r.URL.Query().Get("date"); v != "" {
		if day, err = ipdesk.ParseDate("date", v); err != nil {
			return err
		}
	}
	return s.renderRoomPage(w, r, id, day, roomForms{}, http.StatusOK)
}

// renderRoomPage shows the page of room id on day, with the forms given
// shown again.
func (s *Server) renderRoomPage(w http.ResponseWriter, r *http.Request, id int64, day ipdesk.Date, forms roomForms, status int) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: objectRoomState, ID: id}); err != nil {
		return err
	}
	tv, err := s.readTimetable(ctx, day, day)
	if err != nil {
		return err
	}
	// Only this room.
	for i := range tv.preview.Rooms {
		if tv.preview.Rooms[i].RoomID == id {
			tv.preview.Rooms = tv.preview.Rooms[i : i+1]
			break
		}
	}
	if len(tv.preview.Rooms) != 1 || tv.preview.Rooms[0].RoomID != id {
		return ipdesk.Errorf(ipdesk.ENOTFOUND, "room %d does not exist (or is not a location of kind room)", id)
	}
	cat := s.catalog(r)
	rooms, err := s.roomInfos(ctx, cat, tv)
	if err != nil {
		return err
	}
	ri := rooms[0]
	d := &roomData{page: s.base(w, r, ri.Name, "rooms"), Room: ri, Loc: tv.idx[id], Policies: ipdesk.RoomPolicies,
		OverrideForm: forms.Override, NowForm: forms.Now, PolicyForm: forms.Policy}
	d.Day = dayGrids(cat, s, tv.preview, rooms, forms.Override)[0]
	q := url.Values{}
	if day != s.today() {
		q.Set("date", day.String())
		d.TodayLink = "/rooms/" + strconv.FormatInt(id, 10)
	}
	self := "/rooms/" + strconv.FormatInt(id, 10)
	d.Back = self + queryWith(q)
	d.PrevLink = self + "?date=" + day.AddDays(-1).String()
	d.NextLink = self + "?date=" + day.AddDays(1).String()

	os, _, err := s.store.FindOverrides(ctx, ipdesk.OverrideFilter{RoomID: &id, From: &day, To: &day, Page: ipdesk.Page{Limit: ipdesk.MaxPeriods}})
	if err != nil {
		return err
	}
	byPeriod := map[int]*ipdesk.Override{}
	for _, o := range os {
		byPeriod[o.Period] = o
	}
	for i, p := range tv.preview.Periods {
		d.Slots = append(d.Slots, roomSlot{Period: p, Cell: d.Day.Rows[0].Cells[i], Override: byPeriod[p.Number]})
	}

	nows, err := s.store.FindNowOverrides(ctx, s.timetable.Now())
	if err != nil {
		return err
	}
	for _, n := range nows {
		if n.RoomID == id && n.Active(s.timetable.Now()) {
			d.Now, d.NowEnd = n, s.clockText(cat, n.Until)
		}
	}
	if d.NowForm == nil {
		d.NowForm = &nowForm{Blocked: !ri.State.Blocked}
	}
	if t, ok := tv.until(id); ok {
		d.NowUntil = s.untilValue(t)
	}

	if d.Policy, err = s.store.FindRoomPolicy(ctx, id); err != nil {
		return err
	}
	if d.PolicyForm == nil {
		d.PolicyForm = &policyForm{Policy: string(d.Policy.Policy), Reason: d.Policy.Reason}
		if d.Policy.Version > 0 {
			d.PolicyForm.Version = strconv.FormatInt(d.Policy.Version, 10)
		}
	}
	perms, err := s.permissions(ctx)
	if err != nil {
		return err
	}
	d.CanPolicy = perms.CanLocation(id, tv.idx.ancestors(id), ipdesk.RightEdit)
	d.CanSeeLocation = perms.CanLocation(id, tv.idx.ancestors(id), ipdesk.RightView)

	if d.Log, d.LogTotal, err = s.store.FindLogEntries(ctx, ipdesk.LogFilter{RoomID: &id, Page: ipdesk.Page{Limit: roomLogEntries}}); err != nil {
		return err
	}
	s.render(w, r, status, "room", d)
	return nil
}

// roomPolicy sets a room's policy: follow the timetable, never or always
// blocked.
func (s *Server) roomPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := s.roomChange(w, r, actWrite, ipdesk.ObjectRoomPolicy)
	if err != nil {
		return err
	}
	f := &policyForm{Policy: formValue(r, "policy"), Reason: formValue(r, "policy_reason"), Version: formValue(r, "version"), Errors: fieldErrors{}}
	upd := ipdesk.RoomPolicyUpdate{Reason: &f.Reason}
	pol := ipdesk.RoomPolicy(f.Policy)
	upd.Policy = &pol
	if f.Version != "" {
		if upd.Version, err = formVersion(f.Version); err != nil {
			return err
		}
	}
	if _, err = s.store.SetRoomPolicy(r.Context(), id, upd); err == nil {
		s.setFlash(w, r, "flash.saved", "")
		redirect(w, r, roomBack(r, id))
		return nil
	}
	if !isFormError(err) {
		return err
	}
	f.Errors, f.Error = formError(s.catalog(r), err)
	if fe := f.Errors["reason"]; fe != "" {
		f.Errors["policy_reason"] = fe
	}
	return s.renderRoomPage(w, r, id, s.today(), roomForms{Policy: f}, formStatus(err))
}

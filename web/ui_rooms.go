package web

// The timetable pages: the room occupancy (rooms × periods of today and
// the next days, the current period marked, past ones grey), the
// override grid of the rooms the user may override (the seed's checkbox
// per period: tick to flip the timetable), "block now / open now until",
// a room's page, the switching logbook, and for administrators the bell
// schedule, holidays and lessons. Every grid comes from one reading of
// the timetable (schedule.Plan), never a query per cell.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"ipdesk"
	"ipdesk/i18n"
	"ipdesk/schedule"
)

// roomsPages are the pages of the timetable area.
func (s *Server) roomsPages() []pageRoute {
	return []pageRoute{
		{pattern: "GET /rooms", act: actRead, object: objectRoomState, h: s.roomsPage},
		{pattern: "GET /rooms/grid", act: actRead, object: objectRoomState, h: s.roomsGrid},
		{pattern: "POST /rooms/overrides", act: actRead, object: ipdesk.ObjectOverride, h: s.roomsOverrides},
		{pattern: "GET /rooms/{id}", act: actRead, object: objectRoomState, h: s.roomPage},
		{pattern: "POST /rooms/{id}/now", act: actOverride, object: ipdesk.ObjectNowOverride, h: s.roomNow},
		{pattern: "POST /rooms/{id}/now/end", act: actOverride, object: ipdesk.ObjectNowOverride, h: s.roomNowDelete},
		{pattern: "POST /rooms/{id}/overrides/{override}/delete", act: actOverride, object: ipdesk.ObjectOverride, h: s.roomOverrideDelete},
		{pattern: "POST /rooms/{id}/policy", act: actWrite, object: ipdesk.ObjectRoomPolicy, h: s.roomPolicy},
		{pattern: "GET /rooms/logbook", act: actRead, object: objectLogbook, h: s.logbookPage},
		{pattern: "GET /rooms/logbook.csv", act: actRead, object: objectLogbook, h: s.logbookCSV},
		{pattern: "GET /rooms/periods", act: actRead, object: ipdesk.ObjectPeriod, h: s.periodsPage},
		{pattern: "POST /rooms/periods", act: actWrite, object: ipdesk.ObjectPeriod, h: s.periodsSave},
		{pattern: "POST /rooms/holidays", act: actWrite, object: ipdesk.ObjectHoliday, h: s.holidayCreate},
		{pattern: "GET /rooms/holidays/{id}", act: actRead, object: ipdesk.ObjectHoliday, h: s.holidayPage},
		{pattern: "POST /rooms/holidays/{id}/save", act: actWrite, object: ipdesk.ObjectHoliday, h: s.holidayUpdate},
		{pattern: "POST /rooms/holidays/{id}/delete", act: actWrite, object: ipdesk.ObjectHoliday, h: s.holidayDelete},
		{pattern: "GET /rooms/lessons", act: actRead, object: ipdesk.ObjectLesson, h: s.lessonsPage},
		{pattern: "GET /rooms/lessons/new", act: actWrite, object: ipdesk.ObjectLesson, h: s.lessonNewPage},
		{pattern: "POST /rooms/lessons/new", act: actWrite, object: ipdesk.ObjectLesson, h: s.lessonCreate},
		{pattern: "GET /rooms/lessons/import", act: actWrite, object: ipdesk.ObjectLesson, h: s.lessonsImportPage},
		{pattern: "POST /rooms/lessons/import", act: actWrite, object: ipdesk.ObjectLesson, h: s.lessonsImport},
		{pattern: "GET /rooms/lessons/{id}", act: actRead, object: ipdesk.ObjectLesson, h: s.lessonPage},
		{pattern: "POST /rooms/lessons/{id}/save", act: actWrite, object: ipdesk.ObjectLesson, h: s.lessonUpdate},
		{pattern: "POST /rooms/lessons/{id}/delete", act: actWrite, object: ipdesk.ObjectLesson, h: s.lessonDelete},
	}
}

// Limits of the occupancy view.
const (
	// occupancyDays is how many days the view shows by default, and
	// maxOccupancyDays how many it shows at most.
	occupancyDays    = 5
	maxOccupancyDays = 14
	// occupancyRooms is how many rooms one page of the view shows.
	occupancyRooms = 30
)

// roomInfo is a room of the timetable pages with its state now and what
// the user may do there.
type roomInfo struct {
	ID     int64
	Name   string
	Path   string
	Policy ipdesk.RoomPolicy
	State  ipdesk.RoomState
	// Why is the state's reason in the reader's language, Until the time
	// the state changes next ("" when none is due soon).
	Why   string
	Until string
	// CanOverride tells whether the user may override the room's
	// timetable; DefaultUntil is when "block/open now" ends by default
	// ("" when no period is left today).
	CanOverride  bool
	DefaultUntil string
}

// Follows tells whether the room follows the timetable (its overrides
// count).
func (r *roomInfo) Follows() bool { return r.Policy == ipdesk.PolicyTimetable || r.Policy == "" }

// periodCell is one period of one room on one day in the grid, with the
// fields of its ipdesk.PreviewCell the page shows (flat: templates look
// fields up by name, which is slow through an embedded struct).
type periodCell struct {
	Period int
	// Blocked is the state the timetable and the period's override give
	// (what the override form's preview works from); Shown the state the
	// cell shows: while a "now" override is in force in the period, its
	// state, and in the period running, the room's state now.
	Blocked, Shown  bool
	Course, Teacher string
	Current, Past   bool
	// Flipped tells that an override flips the timetable in the cell.
	Flipped bool
	// HasNow tells that a "now" override is in force during part of the
	// period, NowBlocked that it blocks the room.
	HasNow, NowBlocked bool
	// Base is the state the timetable alone gives (the lesson on a
	// school day), without the override.
	Base bool
	// Key names the cell in the override form: "ROOM:PERIOD".
	Key string
	// Editable tells whether the user may tick the cell; Ticked whether
	// it is ticked (an override exists, or the form said so).
	Editable bool
	Ticked   bool
}

// roomRow is one room's row of a day's grid.
type roomRow struct {
	Room  *roomInfo
	Cells []periodCell
}

// dayGrid is one day of the occupancy view.
type dayGrid struct {
	Date      ipdesk.Date
	Label     string
	Today     bool
	Past      bool
	SchoolDay bool
	Holiday   string
	Rows      []roomRow
	// Editable tells whether the day has a cell the user may tick: its
	// form and save button are shown.
	Editable bool
	// Current is the number of the period running now on this day, 0
	// for none.
	Current int
	// Form is what the override form of the day said, when it is shown
	// again with its errors.
	Form *overrideForm
}

// EditableRooms returns the rooms of the day's form.
func (g *dayGrid) EditableRooms() []int64 {
	var out []int64
	for _, r := range g.Rows {
		if r.Room.CanOverride && r.Room.Follows() {
			out = append(out, r.Room.ID)
		}
	}
	return out
}

// PeriodPast tells whether period n is over on this day.
func (g *dayGrid) PeriodPast(n int) bool {
	for _, r := range g.Rows {
		for _, c := range r.Cells {
			if c.Period == n {
				return c.Past
			}
		}
	}
	return g.Past
}

// overrideForm is the override form of a day as posted.
type overrideForm struct {
	Date   string
	Flips  map[string]bool
	Reason string
	Errors fieldErrors
	Error  string
}

// roomsView is the state of the occupancy view in its query.
type roomsView struct {
	From   ipdesk.Date
	Days   int
	In     int64 // a site or building whose rooms are shown; 0 for all
	Offset int
}

// query returns the view as a query, without defaults; today is the
// default first day.
func (v roomsView) query(today ipdesk.Date) url.Values {
	q := url.Values{}
	if v.From != today {
		q.Set("date", v.From.String())
	}
	if v.Days != occupancyDays {
		q.Set("days", strconv.Itoa(v.Days))
	}
	if v.In != 0 {
		q.Set("in", strconv.FormatInt(v.In, 10))
	}
	if v.Offset != 0 {
		q.Set("offset", strconv.Itoa(v.Offset))
	}
	return q
}

// occupancyData is the data of the occupancy page and of its grid
// fragment.
type occupancyData struct {
	page
	View  roomsView
	Today ipdesk.Date
	// AsOf is the time the view shows the state at.
	AsOf    string
	Periods []*ipdesk.Period
	Rooms   []*roomInfo
	Days    []*dayGrid
	// Places are the sites and buildings to filter by.
	Places []locOption
	Pager  planPager
	// Links of the day picker.
	PrevLink, NextLink, TodayLink string
	// GridQuery is the query of the grid fragment, for the live update.
	GridQuery string
	// Back is the view's address, where the forms lead back to.
	Back string
	// CanOverride tells whether the user may override a room shown;
	// CanPlan whether they may change the bell schedule and lessons.
	CanOverride bool
	CanPlan     bool
	Error       string
}

// readRoomsView reads the occupancy view's query: bad values give an
// error naming the parameter.
func (s *Server) readRoomsView(q url.Values, today ipdesk.Date) (roomsView, error) {
	v := roomsView{From: today, Days: occupancyDays}
	if d := q.Get("date"); d != "" {
		dt, err := ipdesk.ParseDate("date", d)
		if err != nil {
			return v, err
		}
		v.From = dt
	}
	if d := q.Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > maxOccupancyDays {
			return v, ipdesk.FieldErrorf(ipdesk.EINVALID, "days", "days %q is not a number of days from 1 to %d", clipValue(d), maxOccupancyDays)
		}
		v.Days = n
	}
	if in := q.Get("in"); in != "" {
		n, err := strconv.ParseInt(in, 10, 64)
		if err != nil || n <= 0 {
			return v, ipdesk.FieldErrorf(ipdesk.EINVALID, "in", "in %q is not a site or building", clipValue(in))
		}
		v.In = n
	}
	if o := q.Get("offset"); o != "" {
		n, err := strconv.Atoi(o)
		if err != nil || n < 0 || n > maxPlanOffset {
			return v, ipdesk.FieldErrorf(ipdesk.EINVALID, "offset", "offset %q is not a whole number of at least 0", clipValue(o))
		}
		v.Offset = n
	}
	return v, nil
}

// today returns the current day in the school's time zone.
func (s *Server) today() ipdesk.Date {
	return ipdesk.DateOf(s.timetable.Now().In(s.timetable.Location()))
}

// timetableView is what one reading of the timetable gives the pages:
// the grid of the days asked for and the state of every room now.
type timetableView struct {
	preview *ipdesk.SchedulePreview
	states  ipdesk.RoomStates
	// until returns the default end of "block/open now" of a room
	// (false when no period is left today).
	until func(room int64) (time.Time, bool)
	// rooms are the rooms with their places, idx their parents.
	idx locIndex
}

// readTimetable reads the timetable once for the days from to to and
// for the rooms' states now (twice when the days are too far from
// today for one reading).
func (s *Server) readTimetable(ctx context.Context, from, to ipdesk.Date) (*timetableView, error) {
	now := s.timetable.Now()
	today := ipdesk.DateOf(now.In(s.timetable.Location()))
	first, last := from, to
	if today.Before(first) {
		first = today
	}
	if ahead := today.AddDays(8); ahead.After(last) {
		last = ahead
	}
	if first.DaysUntil(last)+1 > ipdesk.MaxTimetableDays {
		// Days far from today: the grid and the states apart.
		plan, err := s.timetable.Current(ctx, now)
		if err != nil {
			return nil, err
		}
		pv, err := s.timetable.Preview(ctx, from, to)
		if err != nil {
			return nil, err
		}
		return s.newTimetableView(ctx, pv, plan, now)
	}
	plan, err := s.timetable.Plan(ctx, first, last)
	if err != nil {
		return nil, err
	}
	return s.newTimetableView(ctx, plan.Preview(from, to, now), plan, now)
}

// newTimetableView returns the view of a preview and of the plan of now.
func (s *Server) newTimetableView(ctx context.Context, pv *ipdesk.SchedulePreview, plan *schedule.Plan, now time.Time) (*timetableView, error) {
	v := &timetableView{preview: pv, states: plan.States(now)}
	v.until = func(room int64) (time.Time, bool) { return plan.LessonEnd(room, now) }
	return v, s.roomPlaces(ctx, v, plan.Rooms())
}

// roomPlaces fills the index of the rooms and their parents (batched:
// one query per level of the tree). The names of the rooms are public
// with the timetable; so are the places they are in.
func (s *Server) roomPlaces(ctx context.Context, v *timetableView, rooms []*ipdesk.Location) error {
	v.idx = locIndex{}
	parents := make([]int64, 0, len(rooms))
	for _, r := range rooms {
		v.idx[r.ID] = r
		parents = append(parents, r.ParentID)
	}
	return s.completeLocations(ctx, v.idx, parents)
}

// roomInfos returns the rooms of the view with their states and the
// user's rights, in the order of the preview (by name).
func (s *Server) roomInfos(ctx context.Context, cat *i18n.Catalog, v *timetableView) ([]*roomInfo, error) {
	perms, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	states := make(map[int64]ipdesk.RoomState, len(v.states.Rooms))
	for _, st := range v.states.Rooms {
		states[st.RoomID] = st
	}
	holiday := ""
	today := s.today()
	for _, d := range v.preview.Days {
		if d.Date == today {
			holiday = d.Holiday
		}
	}
	out := make([]*roomInfo, 0, len(v.preview.Rooms))
	for _, pr := range v.preview.Rooms {
		ri := &roomInfo{ID: pr.RoomID, Name: pr.Name, Path: v.idx.path(pr.RoomID), Policy: pr.Policy, State: states[pr.RoomID],
			CanOverride: perms.CanLocation(pr.RoomID, v.idx.ancestors(pr.RoomID), ipdesk.RightOverride)}
		ri.Why = s.stateWhy(cat, ri.State, holiday)
		if ri.State.ValidUntil != nil {
			ri.Until = s.clockText(cat, *ri.State.ValidUntil)
		}
		if ri.CanOverride {
			if t, ok := v.until(pr.RoomID); ok {
				ri.DefaultUntil = s.clockText(cat, t)
			}
		}
		out = append(out, ri)
	}
	return out, nil
}

// stateWhy says why a room has its state, in the reader's language, from
// the state's reason code (the English Why of the engine is for the
// logs and the API).
func (s *Server) stateWhy(cat *i18n.Catalog, st ipdesk.RoomState, holiday string) string {
	var why string
	switch st.Reason {
	case ipdesk.ReasonPolicy:
		why = cat.T("rooms.why.policy_never")
		if st.Blocked {
			why = cat.T("rooms.why.policy_always")
		}
	case ipdesk.ReasonNow:
		why = cat.T("rooms.why.now_open")
		if st.Blocked {
			why = cat.T("rooms.why.now_blocked")
		}
	case ipdesk.ReasonClosed:
		why = cat.T("rooms.why.closed")
		if holiday != "" {
			why = cat.T("rooms.why.holiday", holiday)
		}
	case ipdesk.ReasonBreak:
		why = cat.T("rooms.why.break")
	case ipdesk.ReasonOutside:
		why = cat.T("rooms.why.outside")
	case ipdesk.ReasonOverride:
		why = cat.T("rooms.why.override", st.Period)
	case ipdesk.ReasonLesson:
		why = cat.T("rooms.why.lesson", st.Period)
		if c := lessonText(st.Course, st.Teacher); c != "" {
			why += ": " + c
		}
	case ipdesk.ReasonFree:
		why = cat.T("rooms.why.free", st.Period)
	default:
		return ""
	}
	if st.SetBy != "" {
		why += " · " + cat.T("rooms.set_by", st.SetBy)
	}
	return why
}

// lessonText is "Course (Teacher)", as far as given.
func lessonText(course, teacher string) string {
	course, teacher = strings.TrimSpace(course), strings.TrimSpace(teacher)
	switch {
	case course != "" && teacher != "":
		return course + " (" + teacher + ")"
	case teacher != "":
		return "(" + teacher + ")"
	}
	return course
}

// clockText shows an instant as HH:MM in the school's time zone, with
// the day when it is not today.
func (s *Server) clockText(cat *i18n.Catalog, t time.Time) string {
	loc := s.timetable.Location()
	lt := t.In(loc)
	if d := ipdesk.DateOf(lt); d != s.today() {
		return s.dayLabel(cat, d) + " " + lt.Format("15:04")
	}
	return lt.Format("15:04")
}

// dayLabel names a day: its weekday and date in the reader's language.
func (s *Server) dayLabel(cat *i18n.Catalog, d ipdesk.Date) string {
	return cat.T("rooms.weekday."+strconv.Itoa(int(d.Weekday()))) + " " + s.fmtDate(cat.Lang, d.At(12*60, s.loc))
}

// dayGrids builds the grid of every day of the preview for the rooms
// shown; form, when set, is a posted override form shown again.
func dayGrids(cat *i18n.Catalog, s *Server, pv *ipdesk.SchedulePreview, shown []*roomInfo, form *overrideForm) []*dayGrid {
	today := s.today()
	byID := make(map[int64]*roomInfo, len(shown))
	for _, ri := range shown {
		byID[ri.ID] = ri
	}
	np := len(pv.Periods)
	out := make([]*dayGrid, len(pv.Days))
	for i, d := range pv.Days {
		g := &dayGrid{Date: d.Date, Label: s.dayLabel(cat, d.Date), Today: d.Date == today, Past: d.Date.Before(today),
			SchoolDay: d.SchoolDay, Holiday: d.Holiday}
		if form != nil && form.Date == d.Date.String() {
			g.Form = form
		}
		out[i] = g
	}
	for _, pr := range pv.Rooms {
		ri := byID[pr.RoomID]
		if ri == nil {
			continue
		}
		for i, g := range out {
			row := roomRow{Room: ri, Cells: make([]periodCell, np)}
			for j := 0; j < np && i*np+j < len(pr.Cells); j++ {
				pc := pr.Cells[i*np+j]
				c := periodCell{Period: pc.Period, Blocked: pc.Blocked, Course: pc.Course, Teacher: pc.Teacher, Current: pc.Current, Past: pc.Past,
					Flipped: pc.OverrideID != 0, HasNow: pc.NowOverride != nil, NowBlocked: pc.NowOverride != nil && *pc.NowOverride,
					Base: pc.LessonID != 0 && g.SchoolDay, Key: strconv.FormatInt(pr.RoomID, 10) + ":" + strconv.Itoa(pc.Period)}
				c.Shown = shownState(pc, ri.State.Blocked)
				c.Editable = ri.CanOverride && ri.Follows() && !pc.Past
				c.Ticked = pc.OverrideID != 0
				if g.Form != nil && c.Editable {
					c.Ticked = g.Form.Flips[c.Key]
				}
				if pc.Current {
					g.Current = pc.Period
				}
				g.Editable = g.Editable || c.Editable
				row.Cells[j] = c
			}
			g.Rows = append(g.Rows, row)
		}
	}
	return out
}

// underPlace tells whether a room is in the place (a site or building).
func underPlace(idx locIndex, room, place int64) bool {
	return place == 0 || slices.Contains(idx.ancestors(room), place)
}

// occupancy builds the occupancy view of request r.
func (s *Server) occupancy(r *http.Request, p page, form *overrideForm) (*occupancyData, error) {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: objectRoomState}); err != nil {
		return nil, err
	}
	cat := s.catalog(r)
	today := s.today()
	d := &occupancyData{page: p, Today: today,
		AsOf: s.dayLabel(cat, today) + " " + s.timetable.Now().In(s.timetable.Location()).Format("15:04:05")}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		// A form shown again: the view it was sent from.
		if u, err := url.Parse(r.PostFormValue("back")); err == nil {
			q = u.Query()
		}
	}
	v, err := s.readRoomsView(q, today)
	if err != nil {
		if !isFormError(err) {
			return nil, err
		}
		d.Error = s.errorText(r, err)
		v = roomsView{From: today, Days: occupancyDays}
	}
	d.View = v
	tv, err := s.readTimetable(ctx, v.From, v.From.AddDays(v.Days-1))
	if err != nil {
		return nil, err
	}
	d.Periods = tv.preview.Periods
	rooms, err := s.roomInfos(ctx, cat, tv)
	if err != nil {
		return nil, err
	}
	var inPlace []*roomInfo
	for _, ri := range rooms {
		if underPlace(tv.idx, ri.ID, v.In) {
			inPlace = append(inPlace, ri)
		}
	}
	shown := inPlace[min(v.Offset, len(inPlace)):min(v.Offset+occupancyRooms, len(inPlace))]
	d.Rooms = shown
	for _, ri := range shown {
		d.CanOverride = d.CanOverride || ri.CanOverride
	}
	d.Days = dayGrids(cat, s, tv.preview, shown, form)
	d.Places = tv.idx.options(func(l *ipdesk.Location) bool { return l.Kind != ipdesk.LocationRoom })
	d.CanPlan = s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectLesson}) == nil

	base := v.query(today)
	d.Pager = newPlanPager("/rooms", base, "offset", v.Offset, occupancyRooms, len(shown), len(inPlace))
	day := func(dt ipdesk.Date) string {
		w := v
		w.From = dt
		return "/rooms" + queryWith(w.query(today))
	}
	d.PrevLink, d.NextLink = day(v.From.AddDays(-v.Days)), day(v.From.AddDays(v.Days))
	if v.From != today {
		d.TodayLink = day(today)
	}
	d.GridQuery = queryWith(base)
	d.Back = "/rooms" + queryWith(base)
	return d, nil
}

func (s *Server) roomsPage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.occupancy(r, s.base(w, r, s.catalog(r).T("rooms.title"), "rooms"), nil)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "rooms", d)
	return nil
}

// roomsGrid answers the grid alone, for the live update of the page.
func (s *Server) roomsGrid(w http.ResponseWriter, r *http.Request) error {
	d, err := s.occupancy(r, s.fragmentPage(r), nil)
	if err != nil {
		return err
	}
	s.renderTemplate(w, r, http.StatusOK, "rooms", "rooms-grid", d)
	return nil
}

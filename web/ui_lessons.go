package web

// The lessons: a list per room and range of days for everyone; for
// administrators the lesson form and the import of a timetable export
// (CSV or iCalendar), checked in full with every problem shown by its
// line before anything is written.

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"ipdesk"
	"ipdesk/importer"
)

// lessonsPageSize is how many lessons one page of the list shows.
const lessonsPageSize = 50

// lessonsView is the lessons list's filter as typed.
type lessonsView struct {
	Room, From, To string
}

// lessonRow is a lesson of the list with its room's name.
type lessonRow struct {
	*ipdesk.Lesson
	Room string
	Day  string
}

// lessonsData is the data of the lessons list.
type lessonsData struct {
	page
	View    lessonsView
	Errors  fieldErrors
	Rows    []lessonRow
	Total   int
	Pager   planPager
	Rooms   []locOption
	CanEdit bool
}

// lessonForm is the lesson form as typed.
type lessonForm struct {
	Room, Date, Period, LastPeriod, Course, Teacher, Version string
}

// lessonData is the data of the lesson form.
type lessonData struct {
	page
	// Lesson is the stored lesson; nil for a new one.
	Lesson  *ipdesk.Lesson
	Form    lessonForm
	Errors  fieldErrors
	Error   string
	Rooms   []locOption
	Periods []*ipdesk.Period
	CanEdit bool
}

// roomNames returns the paths of the rooms of opts by id.
func roomNames(opts []locOption) map[int64]string {
	out := make(map[int64]string, len(opts))
	for _, o := range opts {
		out[o.ID] = o.Path
	}
	return out
}

func (s *Server) lessonsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectLesson}); err != nil {
		return err
	}
	cat := s.catalog(r)
	q := r.URL.Query()
	d := &lessonsData{page: s.base(w, r, cat.T("rooms.lessons.title"), "rooms"), Errors: fieldErrors{},
		View: lessonsView{Room: q.Get("room"), From: q.Get("from"), To: q.Get("to")}, CanEdit: s.mayPlan(ctx, ipdesk.ObjectLesson)}
	if _, set := q["from"]; !set {
		d.View.From = s.today().String()
	}
	var err error
	if d.Rooms, err = s.allRooms(ctx); err != nil {
		return err
	}
	var f ipdesk.LessonFilter
	if d.View.Room != "" {
		id, err := strconv.ParseInt(d.View.Room, 10, 64)
		if err != nil || id <= 0 {
			d.Errors["room"] = s.errorText(r, ipdesk.FieldErrorf(ipdesk.EINVALID, "room", "room %q is not a room", clipValue(d.View.Room)))
		}
		f.RoomID = &id
	}
	for _, x := range []struct {
		field, v string
		to       **ipdesk.Date
	}{{"from", d.View.From, &f.From}, {"to", d.View.To, &f.To}} {
		day, err := parseDay(x.field, x.v)
		if err != nil {
			d.Errors[x.field] = s.errorText(r, err)
		} else if !day.IsZero() {
			*x.to = &day
		}
	}
	if len(d.Errors) > 0 {
		s.render(w, r, http.StatusBadRequest, "rooms_lessons", d)
		return nil
	}
	offset := queryOffset(r, "offset")
	f.Page = ipdesk.Page{Offset: offset, Limit: lessonsPageSize}
	ls, n, err := s.store.FindLessons(ctx, f)
	if err != nil {
		return err
	}
	names := roomNames(d.Rooms)
	for _, l := range ls {
		d.Rows = append(d.Rows, lessonRow{Lesson: l, Room: names[l.RoomID], Day: s.dayLabel(cat, l.Date)})
	}
	d.Total = n
	q.Del("offset")
	d.Pager = newPlanPager("/rooms/lessons", q, "offset", offset, lessonsPageSize, len(ls), n)
	s.render(w, r, http.StatusOK, "rooms_lessons", d)
	return nil
}

// lessonFormOf fills the form with a stored lesson.
func lessonFormOf(l *ipdesk.Lesson) lessonForm {
	return lessonForm{Room: strconv.FormatInt(l.RoomID, 10), Date: l.Date.String(), Period: strconv.Itoa(l.Period),
		LastPeriod: strconv.Itoa(l.LastPeriod), Course: l.Course, Teacher: l.Teacher, Version: strconv.FormatInt(l.Version, 10)}
}

// readLessonForm reads the posted lesson form.
func readLessonForm(r *http.Request) lessonForm {
	return lessonForm{Room: formValue(r, "room_id"), Date: formValue(r, "date"), Period: formValue(r, "period"),
		LastPeriod: formValue(r, "last_period"), Course: formValue(r, "course"), Teacher: formValue(r, "teacher"), Version: formValue(r, "version")}
}

// lesson parses the form into a lesson.
func (f lessonForm) lesson() (*ipdesk.Lesson, error) {
	l := &ipdesk.Lesson{Course: f.Course, Teacher: f.Teacher}
	room, err := optionalInt("room_id", f.Room)
	if err != nil {
		return nil, err
	}
	if room != nil {
		l.RoomID = *room
	}
	if l.Date, err = parseDay("date", f.Date); err != nil {
		return nil, err
	}
	for _, x := range []struct {
		field, v string
		to       *int
	}{{"period", f.Period, &l.Period}, {"last_period", f.LastPeriod, &l.LastPeriod}} {
		n, err := optionalInt(x.field, x.v)
		if err != nil {
			return nil, err
		}
		if n != nil {
			*x.to = int(min(max(*n, -1), ipdesk.MaxPeriods+1))
		}
	}
	return l, nil
}

// lessonPageData builds the lesson form of l (nil for a new lesson).
func (s *Server) lessonPageData(w http.ResponseWriter, r *http.Request, l *ipdesk.Lesson, f lessonForm) (*lessonData, error) {
	ctx := r.Context()
	cat := s.catalog(r)
	title := cat.T("rooms.lessons.new")
	if l != nil {
		title = cat.T("rooms.lessons.lesson", lessonText(l.Course, l.Teacher))
	}
	d := &lessonData{page: s.base(w, r, title, "rooms"), Lesson: l, Form: f, Errors: fieldErrors{}, CanEdit: s.mayPlan(ctx, ipdesk.ObjectLesson)}
	var err error
	if d.Rooms, err = s.allRooms(ctx); err != nil {
		return nil, err
	}
	if d.Periods, err = s.store.FindPeriods(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) lessonPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectLesson, ID: id}); err != nil {
		return err
	}
	l, err := s.store.FindLessonByID(ctx, id)
	if err != nil {
		return err
	}
	d, err := s.lessonPageData(w, r, l, lessonFormOf(l))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "rooms_lesson", d)
	return nil
}

// lessonNewPage shows the form for a new lesson; ?room=ID&date=D&period=N
// fill it in.
func (s *Server) lessonNewPage(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorize(r.Context(), actWrite, object{Type: ipdesk.ObjectLesson}); err != nil {
		return err
	}
	q := r.URL.Query()
	f := lessonForm{Room: q.Get("room"), Date: q.Get("date"), Period: q.Get("period"), LastPeriod: q.Get("period")}
	if f.Date == "" {
		f.Date = s.today().String()
	}
	d, err := s.lessonPageData(w, r, nil, f)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "rooms_lesson", d)
	return nil
}

// lessonFormError shows the lesson form again with err.
func (s *Server) lessonFormError(w http.ResponseWriter, r *http.Request, l *ipdesk.Lesson, f lessonForm, err error) error {
	if !isFormError(err) {
		return err
	}
	d, derr := s.lessonPageData(w, r, l, f)
	if derr != nil {
		return derr
	}
	d.Errors, d.Error = fieldFormError(s.catalog(r), err)
	s.render(w, r, formStatus(err), "rooms_lesson", d)
	return nil
}

// lessonBack is the lessons list of a lesson's room and day.
func lessonBack(l *ipdesk.Lesson) string {
	return "/rooms/lessons?room=" + strconv.FormatInt(l.RoomID, 10) + "&from=" + l.Date.String()
}

func (s *Server) lessonCreate(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectLesson}); err != nil {
		return err
	}
	f := readLessonForm(r)
	l, err := f.lesson()
	if err == nil {
		if err = s.store.CreateLesson(ctx, l); err == nil {
			s.setFlash(w, r, "flash.created", lessonText(l.Course, l.Teacher))
			redirect(w, r, lessonBack(l))
			return nil
		}
	}
	return s.lessonFormError(w, r, nil, f, err)
}

func (s *Server) lessonUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := s.changeTarget(w, r, ipdesk.ObjectLesson)
	if err != nil {
		return err
	}
	ctx := r.Context()
	cur, err := s.store.FindLessonByID(ctx, id)
	if err != nil {
		return err
	}
	f := readLessonForm(r)
	version, err := formVersion(f.Version)
	if err != nil {
		return err
	}
	l, err := f.lesson()
	if err == nil {
		upd := ipdesk.LessonUpdate{RoomID: &l.RoomID, Date: &l.Date, Period: &l.Period, LastPeriod: &l.LastPeriod,
			Course: &l.Course, Teacher: &l.Teacher, Version: version}
		if l.LastPeriod == 0 {
			upd.LastPeriod = &l.Period
		}
		var saved *ipdesk.Lesson
		if saved, err = s.store.UpdateLesson(ctx, id, upd); err == nil {
			s.setFlash(w, r, "flash.saved", "")
			redirect(w, r, lessonBack(saved))
			return nil
		}
	}
	return s.lessonFormError(w, r, cur, f, err)
}

func (s *Server) lessonDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := s.changeTarget(w, r, ipdesk.ObjectLesson)
	if err != nil {
		return err
	}
	cur, err := s.store.FindLessonByID(r.Context(), id)
	if err != nil {
		return err
	}
	del := func(ctx context.Context, opts ipdesk.DeleteOptions) error { return s.store.DeleteLesson(ctx, id, opts) }
	return s.formDelete(w, r, lessonText(cur.Course, cur.Teacher), lessonBack(cur), del, func(refusal error) error {
		return s.lessonFormError(w, r, cur, lessonFormOf(cur), refusal)
	})
}

// The import of lessons.

// lessonImportData is the data of the lessons import page.
type lessonImportData struct {
	page
	// Error is about the upload as a whole.
	Error string
	// Checked tells that a file was read; Rows and Report are its check.
	Checked       bool
	Rows          []lessonImportRow
	Report        *importer.LessonReport
	FileName      string
	Format        string
	Data          string
	Replace       bool
	IgnoreUnknown bool
}

// CanImport tells whether the checked file may be imported.
func (d *lessonImportData) CanImport() bool {
	return d.Checked && d.Report != nil && len(d.Report.Problems) == 0 && d.Report.Lessons > 0
}

// Unchanged is the number of lessons the import leaves as they are.
func (d *lessonImportData) Unchanged() int {
	return d.Report.Lessons - d.Report.Result.Created - d.Report.Result.Updated
}

// lessonImportRow is one line of the file as the preview shows it: its
// lesson (nil when the line could not be read) and its problems and
// warnings.
type lessonImportRow struct {
	Line     int
	Lesson   *importer.LessonRow
	Problems []importer.LineError
	Warnings []importer.LineError
}

// lessonFormat is the format of an uploaded lessons file by its name.
func lessonFormat(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ics", ".ical":
		return "ics"
	}
	return "csv"
}

func (s *Server) lessonsImportPage(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorize(r.Context(), actWrite, object{Type: ipdesk.ObjectLesson}); err != nil {
		return err
	}
	d := &lessonImportData{page: s.base(w, r, s.catalog(r).T("rooms.import.title"), "rooms"), IgnoreUnknown: true}
	s.render(w, r, http.StatusOK, "rooms_import", d)
	return nil
}

// lessonsImport checks an uploaded lessons file (a dry run) and shows
// every row with its problems; with commit=1 it imports the file carried
// over from the check, all lessons or, if one fails now, none.
func (s *Server) lessonsImport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectLesson}); err != nil {
		return err
	}
	d := &lessonImportData{page: s.base(w, r, s.catalog(r).T("rooms.import.title"), "rooms")}
	data, format, name, commit, err := s.readUpload(w, r, lessonFormat, "csv", "ics")
	if err != nil {
		status, msg, shown := uploadFailure(s.catalog(r), err)
		if !shown {
			return err
		}
		d.Error = msg
		s.render(w, r, status, "rooms_import", d)
		return nil
	}
	d.FileName, d.Format, d.Data = name, format, string(data)
	d.Replace, d.IgnoreUnknown = checkbox(r, "replace"), checkbox(r, "ignore_unknown")
	f := importer.LessonFile{ICal: format == "ics", Location: s.timetable.Location(), IgnoreUnknown: d.IgnoreUnknown,
		Options: ipdesk.LessonImportOptions{DryRun: !commit, Replace: d.Replace}}
	rep, err := importer.ImportLessons(ctx, s.store, bytes.NewReader(data), f)
	if err != nil {
		if !isFormError(err) {
			return err
		}
		// The file as a whole is not a lessons file (a bad header row),
		// or there is no bell schedule to map its times to.
		d.Error = s.errorText(r, err)
		s.render(w, r, http.StatusBadRequest, "rooms_import", d)
		return nil
	}
	if rep.Written(f) {
		s.setFlash(w, r, "flash.rooms.imported", strconv.Itoa(rep.Lessons))
		redirect(w, r, "/rooms/lessons")
		return nil
	}
	d.Checked, d.Report, d.Rows = true, rep, lessonImportRows(rep)
	status := http.StatusOK
	if len(rep.Problems) > 0 {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "rooms_import", d)
	return nil
}

// lessonImportRows lines up the rows of a check with its problems and
// warnings, by line; lines that could not be read have no lesson.
func lessonImportRows(rep *importer.LessonReport) []lessonImportRow {
	var out []lessonImportRow
	at := map[int]int{}
	row := func(line int) *lessonImportRow {
		if i, ok := at[line]; ok {
			return &out[i]
		}
		at[line] = len(out)
		out = append(out, lessonImportRow{Line: line})
		return &out[len(out)-1]
	}
	for i := range rep.Rows {
		row(rep.Rows[i].Line).Lesson = &rep.Rows[i]
	}
	for _, p := range rep.Problems {
		x := row(p.Line)
		x.Problems = append(x.Problems, p)
	}
	for _, w := range rep.Warnings {
		x := row(w.Line)
		x.Warnings = append(x.Warnings, w)
	}
	slices.SortStableFunc(out, func(a, b lessonImportRow) int { return a.Line - b.Line })
	return out
}

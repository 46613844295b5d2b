package web

// The bell schedule and the holidays: every user sees them; administrators
// change them. The periods are saved as a whole (one transaction), so that
// moving every period by five minutes cannot leave them overlapping half
// way.

import (
	"context"
	"net/http"
	"strconv"

	"ipdesk"
	"ipdesk/importer"
	"ipdesk/schedule"
)

// Sizes of the bell schedule form and the holidays list.
const (
	// periodBlankRows are the empty rows the form offers for new periods.
	periodBlankRows = 2
	holidaysPage    = 100
)

// periodRow is one row of the bell schedule form as typed.
type periodRow struct {
	Index              int
	Number, Start, End string
}

// Value returns the row's field f (number, start or end).
func (r periodRow) Value(f string) string {
	switch f {
	case "number":
		return r.Number
	case "start":
		return r.Start
	}
	return r.End
}

// holidayFormView is the holiday form with its errors, for the fields'
// partial.
type holidayFormView struct {
	Form   holidayForm
	Errors fieldErrors
}

// holidayForm is the holiday form as typed.
type holidayForm struct {
	Name, First, Last, Version string
}

// periodsData is the data of the bell schedule and holidays page.
type periodsData struct {
	page
	Rows     []periodRow
	Errors   fieldErrors
	Error    string
	Holidays []*ipdesk.Holiday
	Pager    planPager
	// New is the form for a new holiday, with its errors.
	New          holidayForm
	NewErrors    fieldErrors
	NewError     string
	CanEdit      bool
	SchoolDays   []string
	PeriodFields []string
}

// NewForm is the form for a new holiday with its errors.
func (d *periodsData) NewForm() holidayFormView {
	return holidayFormView{Form: d.New, Errors: d.NewErrors}
}

// holidayData is the data of a holiday's page.
type holidayData struct {
	page
	Holiday *ipdesk.Holiday
	Form    holidayForm
	Errors  fieldErrors
	Error   string
	CanEdit bool
}

// FormView is the holiday's form with its errors.
func (d *holidayData) FormView() holidayFormView {
	return holidayFormView{Form: d.Form, Errors: d.Errors}
}

// periodRows returns the rows of the form for the stored periods, with
// blank rows after them.
func periodRows(ps []*ipdesk.Period) []periodRow {
	rows := make([]periodRow, 0, len(ps)+periodBlankRows)
	for i, p := range ps {
		rows = append(rows, periodRow{Index: i, Number: strconv.Itoa(p.Number), Start: p.Start.String(), End: p.End.String()})
	}
	for i := 0; i < periodBlankRows && len(rows) < ipdesk.MaxPeriods; i++ {
		rows = append(rows, periodRow{Index: len(rows)})
	}
	return rows
}

// periodsPageData builds the page with the bell schedule rows given
// (nil: the stored periods).
func (s *Server) periodsPageData(w http.ResponseWriter, r *http.Request, rows []periodRow) (*periodsData, error) {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectPeriod}); err != nil {
		return nil, err
	}
	cat := s.catalog(r)
	d := &periodsData{page: s.base(w, r, cat.T("rooms.periods.title"), "rooms"), Rows: rows, Errors: fieldErrors{}, NewErrors: fieldErrors{},
		CanEdit: s.mayPlan(ctx, ipdesk.ObjectPeriod), PeriodFields: periodFields}
	if rows == nil {
		ps, err := s.store.FindPeriods(ctx)
		if err != nil {
			return nil, err
		}
		d.Rows = periodRows(ps)
	}
	days := s.timetable.Settings().SchoolDays
	if days == nil {
		days = schedule.DefaultSchoolDays
	}
	for _, wd := range days {
		d.SchoolDays = append(d.SchoolDays, cat.T("rooms.weekday."+strconv.Itoa(int(wd))))
	}
	offset := queryOffset(r, "offset")
	hs, n, err := s.store.FindHolidays(ctx, ipdesk.HolidayFilter{Page: ipdesk.Page{Offset: offset, Limit: holidaysPage}})
	if err != nil {
		return nil, err
	}
	d.Holidays = hs
	d.Pager = newPlanPager("/rooms/periods", nil, "offset", offset, holidaysPage, len(hs), n)
	return d, nil
}

func (s *Server) periodsPage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.periodsPageData(w, r, nil)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "rooms_periods", d)
	return nil
}

// periodsSave replaces the bell schedule with the rows of the form; an
// empty row removes its period.
func (s *Server) periodsSave(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectPeriod}); err != nil {
		return err
	}
	fe := fieldErrors{}
	var rows []periodRow
	var ps []*ipdesk.Period
	for i := 0; i < ipdesk.MaxPeriods+periodBlankRows; i++ {
		n := strconv.Itoa(i)
		row := periodRow{Index: i, Number: formValue(r, "number-"+n), Start: formValue(r, "start-"+n), End: formValue(r, "end-"+n)}
		if _, sent := r.PostForm["number-"+n]; !sent {
			break
		}
		rows = append(rows, row)
		if row.Number == "" && row.Start == "" && row.End == "" {
			continue
		}
		p := &ipdesk.Period{}
		var err error
		if p.Number, err = strconv.Atoi(row.Number); err != nil {
			fe["number-"+n] = s.errorText(r, ipdesk.FieldErrorf(ipdesk.EINVALID, "number", "number %q is not a whole number", clipValue(row.Number)))
		}
		if p.Start, err = ipdesk.ParseTimeOfDay("start", row.Start); err != nil {
			fe["start-"+n] = s.errorText(r, err)
		}
		if p.End, err = ipdesk.ParseTimeOfDay("end", row.End); err != nil {
			fe["end-"+n] = s.errorText(r, err)
		}
		ps = append(ps, p)
	}
	var err error
	if len(fe) == 0 {
		if err = s.store.ReplacePeriods(ctx, ps); err == nil {
			s.setFlash(w, r, "flash.saved", "")
			redirect(w, r, "/rooms/periods")
			return nil
		}
		if !isFormError(err) {
			return err
		}
	}
	for len(rows) < ipdesk.MaxPeriods && len(rows) < len(ps)+periodBlankRows {
		rows = append(rows, periodRow{Index: len(rows)})
	}
	d, derr := s.periodsPageData(w, r, rows)
	if derr != nil {
		return derr
	}
	d.Errors = fe
	status := http.StatusBadRequest
	if err != nil {
		d.Error, status = s.errorText(r, err), formStatus(err)
	}
	s.render(w, r, status, "rooms_periods", d)
	return nil
}

// holidayFormOf fills the form with a stored holiday.
func holidayFormOf(h *ipdesk.Holiday) holidayForm {
	return holidayForm{Name: h.Name, First: h.First.String(), Last: h.Last.String(), Version: strconv.FormatInt(h.Version, 10)}
}

// readHolidayForm reads the posted holiday form.
func readHolidayForm(r *http.Request) holidayForm {
	return holidayForm{Name: formValue(r, "name"), First: formValue(r, "first"), Last: formValue(r, "last"), Version: formValue(r, "version")}
}

// parseDay reads a date of a form: YYYY-MM-DD, as date inputs send it,
// or D.M.YYYY as typed; "" is the zero date.
func parseDay(field, v string) (ipdesk.Date, error) {
	if v == "" {
		return ipdesk.Date{}, nil
	}
	d, err := importer.ParseLessonDate(v)
	if err != nil {
		return d, ipdesk.FieldErrorf(ipdesk.EINVALID, field, "%s %q is not a date written YYYY-MM-DD or D.M.YYYY", field, clipValue(v))
	}
	return d, nil
}

// dates parses the days of the form.
func (f holidayForm) dates() (first, last ipdesk.Date, err error) {
	if first, err = parseDay("first", f.First); err != nil {
		return
	}
	last, err = parseDay("last", f.Last)
	return
}

// holidayCreate adds holidays or a closed day.
func (s *Server) holidayCreate(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectHoliday}); err != nil {
		return err
	}
	f := readHolidayForm(r)
	first, last, err := f.dates()
	if err == nil {
		if first.IsZero() {
			err = ipdesk.FieldErrorf(ipdesk.EINVALID, "first", "first is required")
		} else {
			h := &ipdesk.Holiday{Name: f.Name, First: first, Last: last}
			if err = s.store.CreateHoliday(ctx, h); err == nil {
				s.setFlash(w, r, "flash.created", h.Name)
				redirect(w, r, "/rooms/periods#holidays")
				return nil
			}
		}
	}
	if !isFormError(err) {
		return err
	}
	d, derr := s.periodsPageData(w, r, nil)
	if derr != nil {
		return derr
	}
	d.New = f
	d.NewErrors, d.NewError = fieldFormError(s.catalog(r), err)
	s.render(w, r, formStatus(err), "rooms_periods", d)
	return nil
}

// holidayPageData builds a holiday's page with the form f.
func (s *Server) holidayPageData(w http.ResponseWriter, r *http.Request, h *ipdesk.Holiday, f holidayForm) *holidayData {
	return &holidayData{page: s.base(w, r, h.Name, "rooms"), Holiday: h, Form: f, Errors: fieldErrors{},
		CanEdit: s.mayPlan(r.Context(), ipdesk.ObjectHoliday)}
}

func (s *Server) holidayPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectHoliday, ID: id}); err != nil {
		return err
	}
	h, err := s.store.FindHolidayByID(ctx, id)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "rooms_holiday", s.holidayPageData(w, r, h, holidayFormOf(h)))
	return nil
}

// holidayUpdate saves the holiday form.
func (s *Server) holidayUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := s.changeTarget(w, r, ipdesk.ObjectHoliday)
	if err != nil {
		return err
	}
	ctx := r.Context()
	h, err := s.store.FindHolidayByID(ctx, id)
	if err != nil {
		return err
	}
	f := readHolidayForm(r)
	version, err := formVersion(f.Version)
	if err != nil {
		return err
	}
	first, last, err := f.dates()
	if err == nil {
		upd := ipdesk.HolidayUpdate{Name: &f.Name, First: &first, Last: &last, Version: version}
		if last.IsZero() {
			upd.Last = &first
		}
		if _, err = s.store.UpdateHoliday(ctx, id, upd); err == nil {
			s.setFlash(w, r, "flash.saved", "")
			redirect(w, r, "/rooms/periods#holidays")
			return nil
		}
	}
	if !isFormError(err) {
		return err
	}
	d := s.holidayPageData(w, r, h, f)
	d.Errors, d.Error = fieldFormError(s.catalog(r), err)
	s.render(w, r, formStatus(err), "rooms_holiday", d)
	return nil
}

// holidayDelete removes a holiday.
func (s *Server) holidayDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := s.changeTarget(w, r, ipdesk.ObjectHoliday)
	if err != nil {
		return err
	}
	h, err := s.store.FindHolidayByID(r.Context(), id)
	if err != nil {
		return err
	}
	del := func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeleteHoliday(ctx, id, opts)
	}
	return s.formDelete(w, r, h.Name, "/rooms/periods#holidays", del, func(refusal error) error {
		d := s.holidayPageData(w, r, h, holidayFormOf(h))
		d.Error = s.errorText(r, refusal)
		s.render(w, r, formStatus(refusal), "rooms_holiday", d)
		return nil
	})
}

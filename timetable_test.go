package ipdesk

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Date
		err  string
	}{
		{"2026-03-02", Date{2026, 3, 2}, ""},
		{"2028-02-29", Date{2028, 2, 29}, ""},
		{"2026-02-29", Date{}, `day "2026-02-29" is not a day of the calendar`},
		{"2026-13-01", Date{}, "is not a day of the calendar"},
		{"2026-00-10", Date{}, "is not a day of the calendar"},
		{"1999-12-31", Date{}, "is outside the years 2000 to 2199"},
		{"2026-3-2", Date{}, "is not a date written YYYY-MM-DD"},
		{"02.03.2026", Date{}, "is not a date written YYYY-MM-DD"},
		{"2026-03-0x", Date{}, "is not a date written YYYY-MM-DD"},
		{"+026-03-02", Date{}, "is not a date written YYYY-MM-DD"},
		{"", Date{}, "is not a date written YYYY-MM-DD"},
		{"2026-03-02\n", Date{}, "is not a date written YYYY-MM-DD"},
	} {
		got, err := ParseDate("day", c.in)
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("%q: %v %v", c.in, got, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) || ErrorField(err) != "day" || !strings.HasPrefix(ErrorMessage(err), "day ") {
			t.Errorf("%q: %v, want %q", c.in, err, c.err)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	d := Date{2026, 2, 27}
	if got := d.AddDays(2); got != (Date{2026, 3, 1}) {
		t.Errorf("AddDays: %v", got)
	}
	if got := d.AddDays(-58); got != (Date{2025, 12, 31}) {
		t.Errorf("AddDays back: %v", got)
	}
	if n := (Date{2026, 3, 28}).DaysUntil(Date{2026, 3, 30}); n != 2 {
		t.Errorf("DaysUntil across the change to summer time: %d", n)
	}
	if (Date{2026, 3, 2}).Weekday() != time.Monday || !d.Before(Date{2026, 2, 28}) || d.After(d) || d.Compare(d) != 0 {
		t.Error("weekday or comparison")
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, c := range []struct {
		d    Date
		want string
	}{
		{Date{2026, 3, 27}, "2026-03-27T07:00:00Z"},
		{Date{2026, 3, 30}, "2026-03-30T06:00:00Z"},
		{Date{2026, 10, 26}, "2026-10-26T07:00:00Z"},
	} {
		if got := c.d.At(8*60, berlin).UTC().Format(time.RFC3339); got != c.want {
			t.Errorf("%s 08:00 in Berlin is %s, want %s", c.d, got, c.want)
		}
	}
	if DateOf(time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC).In(berlin)) != (Date{2026, 3, 3}) {
		t.Error("DateOf takes the location")
	}
}

func TestTimeOfDay(t *testing.T) {
	for _, c := range []struct {
		in   string
		want TimeOfDay
		ok   bool
	}{
		{"08:00", 480, true}, {"8:05", 485, true}, {"23:59", 1439, true}, {"24:00", 1440, true}, {"00:00", 0, true},
		{"24:01", 0, false}, {"8:5", 0, false}, {"08:60", 0, false}, {"-1:00", 0, false}, {"0800", 0, false}, {"08:00 ", 0, false}, {"", 0, false},
	} {
		got, err := ParseTimeOfDay("start", c.in)
		if c.ok != (err == nil) || got != c.want {
			t.Errorf("%q: %v %v", c.in, got, err)
		}
		if err != nil && (ErrorField(err) != "start" || !strings.Contains(ErrorMessage(err), `start "`+c.in+`" is not a time`)) {
			t.Errorf("%q: message %q", c.in, ErrorMessage(err))
		}
	}
	var v struct {
		D Date      `json:"d"`
		T TimeOfDay `json:"t"`
	}
	if err := json.Unmarshal([]byte(`{"d": "2026-03-02", "t": "09:55"}`), &v); err != nil || v.D != (Date{2026, 3, 2}) || v.T != 595 {
		t.Fatalf("decode: %+v %v", v, err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"d":"2026-03-02","t":"09:55"}` {
		t.Errorf("encode: %s", b)
	}
	err := json.Unmarshal([]byte(`{"d": "2026-02-30"}`), &v)
	if ErrorCode(err) != EINVALID || ErrorField(err) != "" || !strings.Contains(ErrorMessage(err), `"2026-02-30" is not a day of the calendar`) {
		t.Errorf("decode a bad date: %v", err)
	}
	if _, err := json.Marshal(struct{ T TimeOfDay }{2000}); err == nil {
		t.Error("a time of day past 24:00 was encoded")
	}
}

func TestTimetableValidation(t *testing.T) {
	p := func(n int, s, e TimeOfDay) *Period { return &Period{Number: n, Start: s, End: e} }
	for _, c := range []struct {
		ps    []*Period
		field string
	}{
		{[]*Period{p(1, 480, 525), p(2, 525, 570)}, ""}, // back to back
		{[]*Period{p(2, 530, 575), p(1, 480, 525)}, ""}, // any order
		{[]*Period{p(1, 480, 525), p(2, 520, 570)}, "start"},
		{[]*Period{p(1, 480, 525), p(1, 530, 570)}, "number"},
		{[]*Period{p(0, 480, 525)}, "number"},
		{[]*Period{p(21, 480, 525)}, "number"},
		{[]*Period{p(1, 480, 480)}, "end"},
		{[]*Period{p(1, 1440, 1440)}, "start"},
	} {
		err := ValidatePeriods(c.ps)
		if ErrorField(err) != c.field || (c.field == "") != (err == nil) {
			t.Errorf("%v: %v, want field %q", c.ps, err, c.field)
		}
	}
	h := &Holiday{Name: "Ferien", First: Date{2026, 3, 30}}
	if err := h.Validate(); err != nil || h.Last != h.First {
		t.Errorf("holiday: %+v %v", h, err)
	}
	long := &Holiday{Name: "x", First: Date{2026, 1, 1}, Last: Date{2027, 1, 2}}
	if err := long.Validate(); ErrorField(err) != "last" {
		t.Errorf("long holiday: %v", err)
	}
	l := &Lesson{RoomID: 1, Date: Date{2026, 3, 2}, Period: 3}
	if err := l.Validate(); err != nil || l.LastPeriod != 3 || l.Periods() != "3" {
		t.Errorf("lesson: %+v %v", l, err)
	}
	l.LastPeriod = 4
	if l.Periods() != "3-4" {
		t.Errorf("periods %q", l.Periods())
	}
	for _, c := range []struct {
		l     Lesson
		field string
	}{
		{Lesson{Date: Date{2026, 3, 2}, Period: 1}, "room_id"},
		{Lesson{RoomID: 1, Period: 1}, "date"},
		{Lesson{RoomID: 1, Date: Date{2026, 3, 2}}, "period"},
		{Lesson{RoomID: 1, Date: Date{2026, 3, 2}, Period: 3, LastPeriod: 2}, "last_period"},
		{Lesson{RoomID: 1, Date: Date{2026, 3, 2}, Period: 3, Teacher: "M\u2028x"}, "teacher"},
	} {
		if err := c.l.Validate(); ErrorField(err) != c.field {
			t.Errorf("%+v: %v, want field %q", c.l, err, c.field)
		}
	}
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	n := &NowOverride{RoomID: 1, Start: start, Until: start.Add(time.Hour)}
	if err := n.Validate(); err != nil || !n.Active(start) || n.Active(n.Until) || n.Active(start.Add(-time.Second)) {
		t.Errorf("now override: %v", err)
	}
	if err := (&RoomPolicySetting{Policy: "maybe"}).Validate(); ErrorField(err) != "policy" {
		t.Errorf("policy: %v", err)
	}
	o := &Override{RoomID: 1, Date: Date{2026, 3, 2}, Period: 2, Reason: strings.Repeat("x", MaxReasonLen+1)}
	if err := o.Validate(); ErrorField(err) != "reason" {
		t.Errorf("override reason: %v", err)
	}
}

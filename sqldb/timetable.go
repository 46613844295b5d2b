package sqldb

import (
	"context"
	"fmt"
	"strings"

	"ipdesk"
)

// The timetable: bell schedule, holidays, room policies and the snapshot
// the engine computes from. Lessons are in lesson.go, overrides in
// override.go, the logbook in logbook.go.

// scanAll runs q and returns every row, read by scan.
func scanAll[T any](tx *Tx, scan func(row interface{ Scan(...any) error }) (*T, error), q string, a ...any) ([]*T, error) {
	rows, err := tx.query(q, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// readValue runs fn with read (db.read or db.readOne) and returns its
// value.
func readValue[T any](ctx context.Context, read func(context.Context, func(*Tx) error) error, fn func(tx *Tx) (T, error)) (T, error) {
	var out T
	err := read(ctx, func(tx *Tx) (err error) {
		out, err = fn(tx)
		return err
	})
	return out, err
}

// findRow returns the row of q read by scan, or ENOTFOUND for the object
// with the id.
func findRow[T any](tx *Tx, scan func(row interface{ Scan(...any) error }) (*T, error), object string, id any, q string, a ...any) (*T, error) {
	v, err := scan(tx.queryRow(q, a...))
	if isNoRows(err) {
		return nil, notFound(object, id)
	}
	return v, err
}

// scanDay reads a stored day.
func scanDay(s string) (ipdesk.Date, error) {
	d, err := ipdesk.ParseDate("day", s)
	if err != nil {
		return d, fmt.Errorf("stored day %q: %w", s, err)
	}
	return d, nil
}

const periodColumns = "number, start_minute, end_minute, version, created_at, updated_at"

func scanPeriod(row interface{ Scan(...any) error }) (*ipdesk.Period, error) {
	var p ipdesk.Period
	var start, end int
	var c, u int64
	if err := row.Scan(&p.Number, &start, &end, &p.Version, &c, &u); err != nil {
		return nil, err
	}
	p.Start, p.End = ipdesk.TimeOfDay(start), ipdesk.TimeOfDay(end)
	p.CreatedAt, p.UpdatedAt = fromMicros(c), fromMicros(u)
	return &p, nil
}

func (tx *Tx) findPeriods() ([]*ipdesk.Period, error) {
	return scanAll(tx, scanPeriod, "SELECT "+periodColumns+" FROM periods ORDER BY number")
}

func (tx *Tx) findPeriod(number int) (*ipdesk.Period, error) {
	return findRow(tx, scanPeriod, "period", number, "SELECT "+periodColumns+" FROM periods WHERE number = $1", number)
}

// FindPeriods returns the bell schedule in the order of the numbers.
func (db *DB) FindPeriods(ctx context.Context) ([]*ipdesk.Period, error) {
	return readValue(ctx, db.readOne, func(tx *Tx) ([]*ipdesk.Period, error) { return tx.findPeriods() })
}

// FindPeriod returns one period.
func (db *DB) FindPeriod(ctx context.Context, number int) (*ipdesk.Period, error) {
	return readValue(ctx, db.readOne, func(tx *Tx) (*ipdesk.Period, error) { return tx.findPeriod(number) })
}

// checkSchedule checks the bell schedule as it would be with p in place of
// the period of its number (nil removes number).
func (tx *Tx) checkSchedule(number int, p *ipdesk.Period) error {
	ps, err := tx.findPeriods()
	if err != nil {
		return err
	}
	var next []*ipdesk.Period
	for _, q := range ps {
		if q.Number != number {
			next = append(next, q)
		}
	}
	if p != nil {
		next = append(next, p)
	}
	return ipdesk.ValidatePeriods(next)
}

// CreatePeriod adds a period to the bell schedule.
func (db *DB) CreatePeriod(ctx context.Context, p *ipdesk.Period) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if _, err := tx.findPeriod(p.Number); err == nil {
			return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "number", "period %d exists already", p.Number)
		} else if ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
			return err
		}
		if err := tx.checkSchedule(p.Number, p); err != nil {
			return err
		}
		return tx.insertPeriod(p)
	})
}

func (tx *Tx) insertPeriod(p *ipdesk.Period) error {
	p.Version = 1
	p.CreatedAt, p.UpdatedAt = tx.now, tx.now
	if _, err := tx.exec("INSERT INTO periods (number, start_minute, end_minute, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
		p.Number, int(p.Start), int(p.End), micros(tx.now)); err != nil {
		return err
	}
	return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectPeriod, int64(p.Number), nil, p)
}

// UpdatePeriod changes the times of a period.
func (db *DB) UpdatePeriod(ctx context.Context, number int, upd ipdesk.PeriodUpdate) (*ipdesk.Period, error) {
	var out *ipdesk.Period
	err := db.write(ctx, func(tx *Tx) error {
		before, err := tx.findPeriod(number)
		if err != nil {
			return err
		}
		if err := checkVersion("period", number, upd.Version, before.Version); err != nil {
			return err
		}
		p := *before
		if upd.Start != nil {
			p.Start = *upd.Start
		}
		if upd.End != nil {
			p.End = *upd.End
		}
		if err := tx.checkSchedule(number, &p); err != nil {
			return err
		}
		out = &p
		return tx.updatePeriod(before, &p)
	})
	return out, err
}

// updatePeriod stores the new times of p, which was before, and audits
// the change.
func (tx *Tx) updatePeriod(before, p *ipdesk.Period) error {
	p.Version = before.Version + 1
	p.UpdatedAt = tx.now
	if _, err := tx.exec("UPDATE periods SET start_minute = $1, end_minute = $2, version = $3, updated_at = $4 WHERE number = $5",
		int(p.Start), int(p.End), p.Version, micros(tx.now), p.Number); err != nil {
		return err
	}
	return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectPeriod, int64(p.Number), before, p)
}

// DeletePeriod removes a period; see ipdesk.TimetableService.
func (db *DB) DeletePeriod(ctx context.Context, number int, opts ipdesk.DeleteOptions) error {
	return db.write(ctx, func(tx *Tx) error {
		p, err := tx.findPeriod(number)
		if err != nil {
			return err
		}
		if err := checkVersion("period", number, opts.Version, p.Version); err != nil {
			return err
		}
		if err := tx.releasePeriod(number, opts.Cascade); err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM periods WHERE number = $1", number); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionDelete, ipdesk.ObjectPeriod, int64(number), p, nil)
	})
}

// releasePeriod refuses the removal of a period that lessons or
// overrides use, or with cascade removes those lessons and overrides.
func (tx *Tx) releasePeriod(number int, cascade bool) error {
	ls, err := tx.scanLessons("WHERE first_period <= $1 AND last_period >= $1 ORDER BY id", number)
	if err != nil {
		return err
	}
	os, err := tx.scanOverrides("WHERE period = $1 ORDER BY id", number)
	if err != nil {
		return err
	}
	if len(ls)+len(os) == 0 {
		return nil
	}
	if !cascade {
		return ipdesk.Errorf(ipdesk.ECONFLICT, "period %d is used by %d lessons and %d overrides; delete them first, or delete the period with cascade", number, len(ls), len(os))
	}
	if err := tx.deleteLessons(ls); err != nil {
		return err
	}
	for _, o := range os {
		if err := tx.deleteOverride(o); err != nil {
			return err
		}
	}
	return nil
}

// ReplacePeriods makes ps the bell schedule in one transaction.
func (db *DB) ReplacePeriods(ctx context.Context, ps []*ipdesk.Period) error {
	if err := ipdesk.ValidatePeriods(ps); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		old, err := tx.findPeriods()
		if err != nil {
			return err
		}
		keep := map[int]*ipdesk.Period{}
		for _, p := range ps {
			keep[p.Number] = p
		}
		for _, o := range old {
			p := keep[o.Number]
			if p == nil {
				if err := tx.releasePeriod(o.Number, false); err != nil {
					return err
				}
				if _, err := tx.exec("DELETE FROM periods WHERE number = $1", o.Number); err != nil {
					return err
				}
				if err := tx.audit(ipdesk.ActionDelete, ipdesk.ObjectPeriod, int64(o.Number), o, nil); err != nil {
					return err
				}
				continue
			}
			delete(keep, o.Number)
			if p.Start == o.Start && p.End == o.End {
				*p = *o
				continue
			}
			after := *o
			after.Start, after.End = p.Start, p.End
			if err := tx.updatePeriod(o, &after); err != nil {
				return err
			}
			*p = after
		}
		for _, p := range ps {
			if keep[p.Number] != nil {
				if err := tx.insertPeriod(p); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Holidays.

const holidayColumns = "id, name, first_day, last_day, version, created_at, updated_at"

func scanHoliday(row interface{ Scan(...any) error }) (*ipdesk.Holiday, error) {
	var h ipdesk.Holiday
	var first, last string
	var c, u int64
	if err := row.Scan(&h.ID, &h.Name, &first, &last, &h.Version, &c, &u); err != nil {
		return nil, err
	}
	var err error
	if h.First, err = scanDay(first); err != nil {
		return nil, err
	}
	if h.Last, err = scanDay(last); err != nil {
		return nil, err
	}
	h.CreatedAt, h.UpdatedAt = fromMicros(c), fromMicros(u)
	return &h, nil
}

func (tx *Tx) findHoliday(id int64) (*ipdesk.Holiday, error) {
	return findRow(tx, scanHoliday, "holiday", id, "SELECT "+holidayColumns+" FROM holidays WHERE id = $1", id)
}

// FindHolidayByID returns one holiday.
func (db *DB) FindHolidayByID(ctx context.Context, id int64) (*ipdesk.Holiday, error) {
	return readValue(ctx, db.readOne, func(tx *Tx) (*ipdesk.Holiday, error) { return tx.findHoliday(id) })
}

// holidayWhere returns the condition of a day range: the holidays with a
// day in it.
func holidayWhere(a *args, from, to *ipdesk.Date) string {
	var where []string
	if from != nil {
		where = append(where, "last_day >= "+a.add(from.String()))
	}
	if to != nil {
		where = append(where, "first_day <= "+a.add(to.String()))
	}
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

func (tx *Tx) scanHolidays(cond string, a ...any) ([]*ipdesk.Holiday, error) {
	return scanAll(tx, scanHoliday, "SELECT "+holidayColumns+" FROM holidays"+cond, a...)
}

// FindHolidays returns holidays by their first day, and their total.
func (db *DB) FindHolidays(ctx context.Context, f ipdesk.HolidayFilter) ([]*ipdesk.Holiday, int, error) {
	f.Page = f.Page.Normalize()
	var a args
	cond := holidayWhere(&a, f.From, f.To)
	var out []*ipdesk.Holiday
	var n int
	err := db.read(ctx, func(tx *Tx) (err error) {
		if err := tx.queryRow("SELECT COUNT(*) FROM holidays"+cond, a...).Scan(&n); err != nil {
			return err
		}
		out, err = tx.scanHolidays(cond+" ORDER BY first_day, id LIMIT "+a.add(f.Limit)+" OFFSET "+a.add(f.Offset), a...)
		return err
	})
	return out, n, err
}

// CreateHoliday stores a holiday.
func (db *DB) CreateHoliday(ctx context.Context, h *ipdesk.Holiday) error {
	h.ID = 0
	if err := h.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		h.Version = 1
		h.CreatedAt, h.UpdatedAt = tx.now, tx.now
		if err := tx.queryRow("INSERT INTO holidays (name, first_day, last_day, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
			h.Name, h.First.String(), h.Last.String(), micros(tx.now)).Scan(&h.ID); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectHoliday, h.ID, nil, h)
	})
}

// UpdateHoliday changes a holiday.
func (db *DB) UpdateHoliday(ctx context.Context, id int64, upd ipdesk.HolidayUpdate) (*ipdesk.Holiday, error) {
	var out *ipdesk.Holiday
	err := db.write(ctx, func(tx *Tx) error {
		before, err := tx.findHoliday(id)
		if err != nil {
			return err
		}
		if err := checkVersion("holiday", id, upd.Version, before.Version); err != nil {
			return err
		}
		h := *before
		if upd.Name != nil {
			h.Name = *upd.Name
		}
		if upd.First != nil {
			h.First = *upd.First
			if upd.Last == nil && h.Last.Before(h.First) {
				h.Last = h.First
			}
		}
		if upd.Last != nil {
			h.Last = *upd.Last
		}
		if err := h.Validate(); err != nil {
			return err
		}
		h.Version++
		h.UpdatedAt = tx.now
		if _, err := tx.exec("UPDATE holidays SET name = $1, first_day = $2, last_day = $3, version = $4, updated_at = $5 WHERE id = $6",
			h.Name, h.First.String(), h.Last.String(), h.Version, micros(tx.now), id); err != nil {
			return err
		}
		out = &h
		return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectHoliday, id, before, &h)
	})
	return out, err
}

// DeleteHoliday removes a holiday.
func (db *DB) DeleteHoliday(ctx context.Context, id int64, opts ipdesk.DeleteOptions) error {
	return db.write(ctx, func(tx *Tx) error {
		h, err := tx.findHoliday(id)
		if err != nil {
			return err
		}
		if err := checkVersion("holiday", id, opts.Version, h.Version); err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM holidays WHERE id = $1", id); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionDelete, ipdesk.ObjectHoliday, id, h, nil)
	})
}

// Rooms and their policies.

// findRoom returns the location id, which must be a room; field names the
// input for the error.
func (tx *Tx) findRoom(field string, id int64) (*ipdesk.Location, error) {
	l, err := scanLocation(tx.queryRow("SELECT "+locationColumns+" FROM locations WHERE id = $1", id))
	if isNoRows(err) {
		return nil, ipdesk.FieldErrorf(ipdesk.ENOTFOUND, field, "room %d does not exist", id)
	} else if err != nil {
		return nil, err
	}
	if l.Kind != ipdesk.LocationRoom {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, field, "location %d %q is a %s, not a room", id, l.Name, l.Kind)
	}
	return l, nil
}

// rooms returns every location of kind room, by name.
func (tx *Tx) rooms() ([]*ipdesk.Location, error) {
	return scanAll(tx, scanLocation, "SELECT "+locationColumns+" FROM locations WHERE kind = $1 ORDER BY name, id", string(ipdesk.LocationRoom))
}

const policyColumns = "room_id, policy, reason, version, updated_by, updated_at"

func scanPolicy(row interface{ Scan(...any) error }) (*ipdesk.RoomPolicySetting, error) {
	var s ipdesk.RoomPolicySetting
	var policy string
	var u int64
	if err := row.Scan(&s.RoomID, &policy, &s.Reason, &s.Version, &s.UpdatedBy, &u); err != nil {
		return nil, err
	}
	s.Policy = ipdesk.RoomPolicy(policy)
	s.UpdatedAt = fromMicros(u)
	return &s, nil
}

func (tx *Tx) findPolicy(roomID int64) (*ipdesk.RoomPolicySetting, error) {
	if _, err := tx.findRoom("room_id", roomID); err != nil {
		return nil, err
	}
	s, err := scanPolicy(tx.queryRow("SELECT "+policyColumns+" FROM room_policies WHERE room_id = $1", roomID))
	if isNoRows(err) {
		return &ipdesk.RoomPolicySetting{RoomID: roomID, Policy: ipdesk.PolicyTimetable}, nil
	}
	return s, err
}

// FindRoomPolicy returns a room's policy; see ipdesk.TimetableService.
func (db *DB) FindRoomPolicy(ctx context.Context, roomID int64) (*ipdesk.RoomPolicySetting, error) {
	return readValue(ctx, db.read, func(tx *Tx) (*ipdesk.RoomPolicySetting, error) { return tx.findPolicy(roomID) })
}

// SetRoomPolicy changes a room's policy.
func (db *DB) SetRoomPolicy(ctx context.Context, roomID int64, upd ipdesk.RoomPolicyUpdate) (*ipdesk.RoomPolicySetting, error) {
	var out *ipdesk.RoomPolicySetting
	err := db.write(ctx, func(tx *Tx) error {
		before, err := tx.findPolicy(roomID)
		if err != nil {
			return err
		}
		if err := checkVersion("the policy of room", roomID, upd.Version, before.Version); err != nil {
			return err
		}
		s := *before
		if upd.Policy != nil {
			s.Policy = *upd.Policy
		}
		if upd.Reason != nil {
			s.Reason = *upd.Reason
		}
		if err := s.Validate(); err != nil {
			return err
		}
		s.Version++
		s.UpdatedBy, s.UpdatedAt = ipdesk.ActorName(ctx), tx.now
		action := ipdesk.ActionUpdate
		if before.Version == 0 {
			action = ipdesk.ActionCreate
			_, err = tx.exec("INSERT INTO room_policies (room_id, policy, reason, version, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
				roomID, string(s.Policy), s.Reason, s.Version, s.UpdatedBy, micros(tx.now))
		} else {
			_, err = tx.exec("UPDATE room_policies SET policy = $1, reason = $2, version = $3, updated_by = $4, updated_at = $5 WHERE room_id = $6",
				string(s.Policy), s.Reason, s.Version, s.UpdatedBy, micros(tx.now), roomID)
		}
		if err != nil {
			return err
		}
		out = &s
		var prev any = before
		if before.Version == 0 {
			prev = nil
		}
		return tx.audit(action, ipdesk.ObjectRoomPolicy, roomID, prev, &s)
	})
	return out, err
}

// TimetableSnapshot reads the timetable of a range of days; see
// ipdesk.TimetableService.
func (db *DB) TimetableSnapshot(ctx context.Context, from, to ipdesk.Date) (*ipdesk.TimetableData, error) {
	if err := from.Check("from"); err != nil {
		return nil, err
	}
	if err := to.Check("to"); err != nil {
		return nil, err
	}
	if to.Before(from) {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "to", "to %s is before from %s", to, from)
	}
	if n := from.DaysUntil(to) + 1; n > ipdesk.MaxTimetableDays {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "to", "the range %s to %s has %d days; at most %d are allowed", from, to, n, ipdesk.MaxTimetableDays)
	}
	d := &ipdesk.TimetableData{From: from, To: to}
	err := db.read(ctx, func(tx *Tx) error {
		var err error
		if d.Periods, err = tx.findPeriods(); err != nil {
			return err
		}
		var a args
		if d.Holidays, err = tx.scanHolidays(holidayWhere(&a, &from, &to)+" ORDER BY first_day, id", a...); err != nil {
			return err
		}
		if d.Rooms, err = tx.rooms(); err != nil {
			return err
		}
		if d.Policies, err = tx.scanPolicies(); err != nil {
			return err
		}
		if d.Lessons, err = tx.scanLessons("WHERE day >= $1 AND day <= $2 ORDER BY day, room_id, first_period", from.String(), to.String()); err != nil {
			return err
		}
		if d.Overrides, err = tx.scanOverrides("WHERE day >= $1 AND day <= $2 ORDER BY day, room_id, period", from.String(), to.String()); err != nil {
			return err
		}
		d.NowOverrides, err = tx.scanNowOverrides("ORDER BY room_id")
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (tx *Tx) scanPolicies() ([]*ipdesk.RoomPolicySetting, error) {
	return scanAll(tx, scanPolicy, "SELECT "+policyColumns+" FROM room_policies ORDER BY room_id")
}

package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"ipdesk"
)

var _ ipdesk.LessonService = (*DB)(nil)

const lessonColumns = "id, room_id, day, first_period, last_period, course, teacher, version, created_at, updated_at"

func scanLesson(row interface{ Scan(...any) error }) (*ipdesk.Lesson, error) {
	var l ipdesk.Lesson
	var day string
	var c, u int64
	if err := row.Scan(&l.ID, &l.RoomID, &day, &l.Period, &l.LastPeriod, &l.Course, &l.Teacher, &l.Version, &c, &u); err != nil {
		return nil, err
	}
	var err error
	if l.Date, err = scanDay(day); err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = fromMicros(c), fromMicros(u)
	return &l, nil
}

// scanLessons returns the lessons of "SELECT … FROM lessons " + cond.
func (tx *Tx) scanLessons(cond string, a ...any) ([]*ipdesk.Lesson, error) {
	return scanAll(tx, scanLesson, "SELECT "+lessonColumns+" FROM lessons "+cond, a...)
}

func (tx *Tx) findLesson(id int64) (*ipdesk.Lesson, error) {
	return findRow(tx, scanLesson, "lesson", id, "SELECT "+lessonColumns+" FROM lessons WHERE id = $1", id)
}

// FindLessonByID returns one lesson.
func (db *DB) FindLessonByID(ctx context.Context, id int64) (*ipdesk.Lesson, error) {
	return readValue(ctx, db.readOne, func(tx *Tx) (*ipdesk.Lesson, error) { return tx.findLesson(id) })
}

// FindLessons returns lessons by date, room and period, and their total.
func (db *DB) FindLessons(ctx context.Context, f ipdesk.LessonFilter) ([]*ipdesk.Lesson, int, error) {
	f.Page = f.Page.Normalize()
	var a args
	var where []string
	if f.ID != nil {
		where = append(where, "id = "+a.add(*f.ID))
	}
	if f.RoomID != nil {
		where = append(where, "room_id = "+a.add(*f.RoomID))
	}
	where = dayRange(&a, where, f.From, f.To)
	if f.Course != nil {
		where = append(where, "course = "+a.add(*f.Course))
	}
	if f.Teacher != nil {
		where = append(where, "teacher = "+a.add(*f.Teacher))
	}
	cond := ""
	if len(where) > 0 {
		cond = "WHERE " + strings.Join(where, " AND ")
	}
	var out []*ipdesk.Lesson
	var n int
	err := db.read(ctx, func(tx *Tx) (err error) {
		if err := tx.queryRow("SELECT COUNT(*) FROM lessons "+cond, a...).Scan(&n); err != nil {
			return err
		}
		out, err = tx.scanLessons(cond+" ORDER BY day, room_id, first_period, id LIMIT "+a.add(f.Limit)+" OFFSET "+a.add(f.Offset), a...)
		return err
	})
	return out, n, err
}

// dayRange adds to where the conditions of the days from to to (nil for
// open ends).
func dayRange(a *args, where []string, from, to *ipdesk.Date) []string {
	if from != nil {
		where = append(where, "day >= "+a.add(from.String()))
	}
	if to != nil {
		where = append(where, "day <= "+a.add(to.String()))
	}
	return where
}

// lessonRefs checks the references of lessons against stored data: the
// rooms and the bell schedule, read once.
type lessonRefs struct {
	tx      *Tx
	rooms   map[int64]error // nil for a room
	periods map[int]bool
}

func (tx *Tx) lessonRefs() (*lessonRefs, error) {
	ps, err := tx.findPeriods()
	if err != nil {
		return nil, err
	}
	r := &lessonRefs{tx: tx, rooms: map[int64]error{}, periods: map[int]bool{}}
	for _, p := range ps {
		r.periods[p.Number] = true
	}
	return r, nil
}

// check tests that l's room is a room and its periods exist.
func (r *lessonRefs) check(l *ipdesk.Lesson) error {
	err, seen := r.rooms[l.RoomID]
	if !seen {
		_, err = r.tx.findRoom("room_id", l.RoomID)
		if code := ipdesk.ErrorCode(err); code == ipdesk.ENOTFOUND {
			err = ipdesk.FieldErrorf(ipdesk.EINVALID, "room_id", "room %d does not exist", l.RoomID)
		} else if code == ipdesk.EINTERNAL {
			return err
		}
		r.rooms[l.RoomID] = err
	}
	if err != nil {
		return err
	}
	for p := l.Period; p <= l.LastPeriod; p++ {
		if !r.periods[p] {
			field := "period"
			if p > l.Period {
				field = "last_period"
			}
			if len(r.periods) == 0 {
				return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "the bell schedule has no periods yet; set it up first")
			}
			return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "period %d is not in the bell schedule", p)
		}
	}
	return nil
}

// overlapError tells that l overlaps other.
func overlapError(l, other *ipdesk.Lesson) error {
	what := fmt.Sprintf("lesson %d", other.ID)
	if other.ID == 0 {
		what = "another lesson of the import"
	}
	return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "period", "periods %s overlap %s in the room on %s (periods %s, course %q)", l.Periods(), what, l.Date, other.Periods(), other.Course)
}

// checkOverlap refuses a lesson that overlaps another stored lesson of
// its room.
func (tx *Tx) checkOverlap(l *ipdesk.Lesson) error {
	other, err := scanLesson(tx.queryRow("SELECT "+lessonColumns+" FROM lessons WHERE room_id = $1 AND day = $2 AND first_period <= $3 AND last_period >= $4 AND id <> $5 ORDER BY first_period LIMIT 1",
		l.RoomID, l.Date.String(), l.LastPeriod, l.Period, l.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	return overlapError(l, other)
}

// CreateLesson stores a lesson; see ipdesk.LessonService.
func (db *DB) CreateLesson(ctx context.Context, l *ipdesk.Lesson) error {
	l.ID = 0
	if err := l.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		refs, err := tx.lessonRefs()
		if err != nil {
			return err
		}
		if err := refs.check(l); err != nil {
			return err
		}
		if err := tx.checkOverlap(l); err != nil {
			return err
		}
		l.Version = 1
		l.CreatedAt, l.UpdatedAt = tx.now, tx.now
		if err := tx.queryRow("INSERT INTO lessons (room_id, day, first_period, last_period, course, teacher, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
			l.RoomID, l.Date.String(), l.Period, l.LastPeriod, l.Course, l.Teacher, micros(tx.now)).Scan(&l.ID); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectLesson, l.ID, nil, l)
	})
}

// UpdateLesson changes a lesson.
func (db *DB) UpdateLesson(ctx context.Context, id int64, upd ipdesk.LessonUpdate) (*ipdesk.Lesson, error) {
	var out *ipdesk.Lesson
	err := db.write(ctx, func(tx *Tx) error {
		before, err := tx.findLesson(id)
		if err != nil {
			return err
		}
		if err := checkVersion("lesson", id, upd.Version, before.Version); err != nil {
			return err
		}
		l := *before
		if upd.RoomID != nil {
			l.RoomID = *upd.RoomID
		}
		if upd.Date != nil {
			l.Date = *upd.Date
		}
		if upd.Period != nil {
			l.Period = *upd.Period
			if upd.LastPeriod == nil {
				// A lesson moved to another period keeps its length.
				l.LastPeriod = l.Period + before.LastPeriod - before.Period
			}
		}
		if upd.LastPeriod != nil {
			l.LastPeriod = *upd.LastPeriod
		}
		if upd.Course != nil {
			l.Course = *upd.Course
		}
		if upd.Teacher != nil {
			l.Teacher = *upd.Teacher
		}
		if err := l.Validate(); err != nil {
			return err
		}
		refs, err := tx.lessonRefs()
		if err != nil {
			return err
		}
		if err := refs.check(&l); err != nil {
			return err
		}
		if err := tx.checkOverlap(&l); err != nil {
			return err
		}
		l.Version++
		l.UpdatedAt = tx.now
		if err := tx.updateLesson(&l); err != nil {
			return err
		}
		out = &l
		return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectLesson, id, before, &l)
	})
	return out, err
}

func (tx *Tx) updateLesson(l *ipdesk.Lesson) error {
	_, err := tx.exec("UPDATE lessons SET room_id = $1, day = $2, first_period = $3, last_period = $4, course = $5, teacher = $6, version = $7, updated_at = $8 WHERE id = $9",
		l.RoomID, l.Date.String(), l.Period, l.LastPeriod, l.Course, l.Teacher, l.Version, micros(l.UpdatedAt), l.ID)
	return err
}

// DeleteLesson removes a lesson.
func (db *DB) DeleteLesson(ctx context.Context, id int64, opts ipdesk.DeleteOptions) error {
	return db.write(ctx, func(tx *Tx) error {
		l, err := tx.findLesson(id)
		if err != nil {
			return err
		}
		if err := checkVersion("lesson", id, opts.Version, l.Version); err != nil {
			return err
		}
		return tx.deleteLessons([]*ipdesk.Lesson{l})
	})
}

// deleteLessons removes lessons with their audit entries.
func (tx *Tx) deleteLessons(ls []*ipdesk.Lesson) error {
	if len(ls) == 0 {
		return nil
	}
	ids := make([]any, len(ls))
	entries := make([]auditEntry, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
		entries[i] = auditEntry{ipdesk.ActionDelete, ipdesk.ObjectLesson, l.ID, l, nil}
	}
	if err := tx.queryIn("DELETE FROM lessons WHERE id IN (%s)", nil, ids, nil); err != nil {
		return err
	}
	return tx.auditAll(entries)
}

// lessonSlot is a room and a date; the lessons of one slot are checked
// against each other for overlaps.
type lessonSlot struct {
	room int64
	day  ipdesk.Date
}

// ImportLessons stores lessons in one transaction; see
// ipdesk.LessonService. The stored lessons of the rooms and days the rows
// cover are read once; the rows are checked against them and against each
// other, and only when every row passed are the changes written.
func (db *DB) ImportLessons(ctx context.Context, rows []*ipdesk.Lesson, opts ipdesk.LessonImportOptions) (ipdesk.LessonImportResult, error) {
	var res ipdesk.LessonImportResult
	problem := func(i int, err error) {
		res.Problems = append(res.Problems, ipdesk.RowError{Row: i + 1, Field: ipdesk.ErrorField(err), Error: ipdesk.ErrorMessage(err)})
	}
	err := db.write(ctx, func(tx *Tx) error {
		refs, err := tx.lessonRefs()
		if err != nil {
			return err
		}
		valid := make([]bool, len(rows))
		var first, last ipdesk.Date
		rooms := map[int64]bool{}
		for i, l := range rows {
			l.ID = 0
			if err := l.Validate(); err != nil {
				problem(i, err)
				continue
			}
			if err := refs.check(l); err != nil {
				if ipdesk.ErrorCode(err) == ipdesk.EINTERNAL {
					return err
				}
				problem(i, err)
				continue
			}
			valid[i] = true
			rooms[l.RoomID] = true
			if first.IsZero() || l.Date.Before(first) {
				first = l.Date
			}
			if last.IsZero() || l.Date.After(last) {
				last = l.Date
			}
		}
		// The stored lessons of the rooms and days.
		stored := map[lessonSlot][]*ipdesk.Lesson{}
		var gone []*ipdesk.Lesson
		if len(rooms) > 0 {
			ids := make([]any, 0, len(rooms))
			for id := range rooms {
				ids = append(ids, id)
			}
			err := tx.queryIn("SELECT "+lessonColumns+" FROM lessons WHERE day >= $1 AND day <= $2 AND room_id IN (%s) ORDER BY id",
				[]any{first.String(), last.String()}, ids, func(r *sql.Rows) error {
					l, err := scanLesson(r)
					if err != nil {
						return err
					}
					if opts.Replace {
						gone = append(gone, l)
					} else {
						k := lessonSlot{l.RoomID, l.Date}
						stored[k] = append(stored[k], l)
					}
					return nil
				})
			if err != nil {
				return err
			}
		}
		res.Deleted = len(gone)
		var creates, updates []*ipdesk.Lesson
		for i, l := range rows {
			if !valid[i] {
				continue
			}
			k := lessonSlot{l.RoomID, l.Date}
			var match *ipdesk.Lesson
			var clash error
			for _, o := range stored[k] {
				if o.Period > l.LastPeriod || o.LastPeriod < l.Period {
					continue
				}
				if o.ID != 0 && o.Period == l.Period && o.LastPeriod == l.LastPeriod && match == nil {
					match = o
					continue
				}
				clash = overlapError(l, o)
				break
			}
			if clash != nil {
				problem(i, clash)
				continue
			}
			switch {
			case match == nil:
				res.Created++
				creates = append(creates, l)
				stored[k] = append(stored[k], l)
			case match.Course != l.Course || match.Teacher != l.Teacher:
				res.Updated++
				course, teacher := l.Course, l.Teacher
				*l = *match
				l.Course, l.Teacher = course, teacher
				updates = append(updates, match, l)
				// A second row for the same periods clashes with this one.
				stored[k] = append(stored[k], &ipdesk.Lesson{RoomID: l.RoomID, Date: l.Date, Period: l.Period, LastPeriod: l.LastPeriod, Course: l.Course})
			default:
				*l = *match
				stored[k] = append(stored[k], &ipdesk.Lesson{RoomID: l.RoomID, Date: l.Date, Period: l.Period, LastPeriod: l.LastPeriod, Course: l.Course})
			}
		}
		if len(res.Problems) > 0 || opts.DryRun {
			return errRollback
		}
		if err := tx.deleteLessons(gone); err != nil {
			return err
		}
		var entries []auditEntry
		for i := 0; i < len(updates); i += 2 {
			before, after := updates[i], updates[i+1]
			after.Version++
			after.UpdatedAt = tx.now
			if err := tx.updateLesson(after); err != nil {
				return err
			}
			entries = append(entries, auditEntry{ipdesk.ActionUpdate, ipdesk.ObjectLesson, after.ID, before, after})
		}
		if err := tx.insertLessons(creates); err != nil {
			return err
		}
		for _, l := range creates {
			entries = append(entries, auditEntry{ipdesk.ActionCreate, ipdesk.ObjectLesson, l.ID, nil, l})
		}
		return tx.auditAll(entries)
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	slices.SortStableFunc(res.Problems, func(a, b ipdesk.RowError) int { return a.Row - b.Row })
	if len(res.Problems) > 0 {
		res.Created, res.Updated, res.Deleted = 0, 0, 0
	}
	return res, err
}

// insertLessons stores new lessons in batches and sets their IDs. The
// lessons of one import have distinct rooms, days and first periods, by
// which the returned rows are matched.
func (tx *Tx) insertLessons(ls []*ipdesk.Lesson) error {
	type key struct {
		room   int64
		day    string
		period int
	}
	byKey := make(map[key]*ipdesk.Lesson, len(ls))
	for _, l := range ls {
		l.Version = 1
		l.CreatedAt, l.UpdatedAt = tx.now, tx.now
		byKey[key{l.RoomID, l.Date.String(), l.Period}] = l
	}
	t := micros(tx.now)
	return tx.insertMany("INSERT INTO lessons (room_id, day, first_period, last_period, course, teacher, created_at, updated_at)",
		" RETURNING id, room_id, day, first_period", 8, len(ls),
		func(dst []any, i int) []any {
			l := ls[i]
			return append(dst, l.RoomID, l.Date.String(), l.Period, l.LastPeriod, l.Course, l.Teacher, t, t)
		},
		func(r *sql.Rows) error {
			var id int64
			var k key
			if err := r.Scan(&id, &k.room, &k.day, &k.period); err != nil {
				return err
			}
			l := byKey[k]
			if l == nil {
				return fmt.Errorf("insert lessons: returned row %v matches no lesson", k)
			}
			l.ID = id
			return nil
		})
}

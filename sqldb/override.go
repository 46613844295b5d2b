package sqldb

import (
	"context"
	"strings"
	"time"

	"ipdesk"
)

var _ ipdesk.OverrideService = (*DB)(nil)

const overrideColumns = "id, room_id, day, period, blocked, reason, created_by, created_at"

func scanOverride(row interface{ Scan(...any) error }) (*ipdesk.Override, error) {
	var o ipdesk.Override
	var day string
	var c int64
	if err := row.Scan(&o.ID, &o.RoomID, &day, &o.Period, &o.Blocked, &o.Reason, &o.CreatedBy, &c); err != nil {
		return nil, err
	}
	var err error
	if o.Date, err = scanDay(day); err != nil {
		return nil, err
	}
	o.CreatedAt = fromMicros(c)
	return &o, nil
}

// scanOverrides returns the overrides of "SELECT … FROM overrides " +
// cond.
func (tx *Tx) scanOverrides(cond string, a ...any) ([]*ipdesk.Override, error) {
	return scanAll(tx, scanOverride, "SELECT "+overrideColumns+" FROM overrides "+cond, a...)
}

func (tx *Tx) findOverride(id int64) (*ipdesk.Override, error) {
	return findRow(tx, scanOverride, "override", id, "SELECT "+overrideColumns+" FROM overrides WHERE id = $1", id)
}

// FindOverrideByID returns one override.
func (db *DB) FindOverrideByID(ctx context.Context, id int64) (*ipdesk.Override, error) {
	return readValue(ctx, db.readOne, func(tx *Tx) (*ipdesk.Override, error) { return tx.findOverride(id) })
}

// FindOverrides returns overrides by date, room and period, and their
// total.
func (db *DB) FindOverrides(ctx context.Context, f ipdesk.OverrideFilter) ([]*ipdesk.Override, int, error) {
	f.Page = f.Page.Normalize()
	var a args
	var where []string
	if f.RoomID != nil {
		where = append(where, "room_id = "+a.add(*f.RoomID))
	}
	where = dayRange(&a, where, f.From, f.To)
	cond := ""
	if len(where) > 0 {
		cond = "WHERE " + strings.Join(where, " AND ")
	}
	var out []*ipdesk.Override
	var n int
	err := db.read(ctx, func(tx *Tx) (err error) {
		if err := tx.queryRow("SELECT COUNT(*) FROM overrides "+cond, a...).Scan(&n); err != nil {
			return err
		}
		out, err = tx.scanOverrides(cond+" ORDER BY day, room_id, period, id LIMIT "+a.add(f.Limit)+" OFFSET "+a.add(f.Offset), a...)
		return err
	})
	return out, n, err
}

// SetOverride stores an override; see ipdesk.OverrideService.
func (db *DB) SetOverride(ctx context.Context, o *ipdesk.Override, blocked *bool) error {
	o.ID = 0
	if err := o.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if _, err := tx.findRoom("room_id", o.RoomID); err != nil {
			return err
		}
		if blocked != nil {
			o.Blocked = *blocked
		} else {
			// The opposite of the timetable: block a free period, open a
			// lesson.
			var n int
			if err := tx.queryRow("SELECT COUNT(*) FROM lessons WHERE room_id = $1 AND day = $2 AND first_period <= $3 AND last_period >= $3",
				o.RoomID, o.Date.String(), o.Period).Scan(&n); err != nil {
				return err
			}
			o.Blocked = n == 0
		}
		olds, err := tx.scanOverrides("WHERE room_id = $1 AND day = $2 AND period = $3", o.RoomID, o.Date.String(), o.Period)
		if err != nil {
			return err
		}
		if len(olds) > 0 {
			if err := tx.deleteOverride(olds[0]); err != nil {
				return err
			}
		}
		return tx.insertOverride(o)
	})
}

// insertOverride stores a new override of a period of the bell schedule,
// set by the actor of the transaction now.
func (tx *Tx) insertOverride(o *ipdesk.Override) error {
	if _, err := tx.findPeriod(o.Period); ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "period", "period %d is not in the bell schedule", o.Period)
	} else if err != nil {
		return err
	}
	o.CreatedBy, o.CreatedAt = ipdesk.ActorName(tx.ctx), tx.now
	if err := tx.queryRow("INSERT INTO overrides (room_id, day, period, blocked, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
		o.RoomID, o.Date.String(), o.Period, o.Blocked, o.Reason, o.CreatedBy, micros(tx.now)).Scan(&o.ID); err != nil {
		return err
	}
	return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectOverride, o.ID, nil, o)
}

// SetDayOverrides makes the overrides of rooms' days the given ones; see
// ipdesk.OverrideService. Stored overrides that stay keep their id,
// reason and author; the others are removed, the new ones created.
func (db *DB) SetDayOverrides(ctx context.Context, days []ipdesk.DayOverrides) (ipdesk.OverrideChanges, error) {
	type key struct {
		room int64
		date ipdesk.Date
	}
	seenDay := map[key]bool{}
	for _, d := range days {
		k := key{d.RoomID, d.Date}
		if seenDay[k] {
			return ipdesk.OverrideChanges{}, ipdesk.FieldErrorf(ipdesk.EINVALID, "date", "room %d on %s is given twice", d.RoomID, d.Date)
		}
		seenDay[k] = true
		seen := map[int]bool{}
		for _, o := range d.Overrides {
			o.ID, o.RoomID, o.Date = 0, d.RoomID, d.Date
			if err := o.Validate(); err != nil {
				return ipdesk.OverrideChanges{}, err
			}
			if seen[o.Period] {
				return ipdesk.OverrideChanges{}, ipdesk.FieldErrorf(ipdesk.EINVALID, "period", "period %d of room %d on %s is given twice", o.Period, d.RoomID, d.Date)
			}
			seen[o.Period] = true
		}
	}
	var ch ipdesk.OverrideChanges
	err := db.write(ctx, func(tx *Tx) error {
		ch = ipdesk.OverrideChanges{}
		for _, d := range days {
			if _, err := tx.findRoom("room_id", d.RoomID); err != nil {
				return err
			}
			olds, err := tx.scanOverrides("WHERE room_id = $1 AND day = $2 ORDER BY period", d.RoomID, d.Date.String())
			if err != nil {
				return err
			}
			stored := map[int]*ipdesk.Override{}
			for _, o := range olds {
				stored[o.Period] = o
			}
			for _, o := range d.Overrides {
				if old := stored[o.Period]; old != nil {
					delete(stored, o.Period)
					if old.Blocked == o.Blocked {
						*o = *old
						continue
					}
					if err := tx.deleteOverride(old); err != nil {
						return err
					}
					ch.Deleted++
				}
				if err := tx.insertOverride(o); err != nil {
					return err
				}
				ch.Created++
			}
			for _, old := range olds {
				if stored[old.Period] == old {
					if err := tx.deleteOverride(old); err != nil {
						return err
					}
					ch.Deleted++
				}
			}
		}
		return nil
	})
	return ch, err
}

// DeleteOverride removes an override.
func (db *DB) DeleteOverride(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *Tx) error {
		o, err := tx.findOverride(id)
		if err != nil {
			return err
		}
		return tx.deleteOverride(o)
	})
}

func (tx *Tx) deleteOverride(o *ipdesk.Override) error {
	if _, err := tx.exec("DELETE FROM overrides WHERE id = $1", o.ID); err != nil {
		return err
	}
	return tx.audit(ipdesk.ActionDelete, ipdesk.ObjectOverride, o.ID, o, nil)
}

const nowOverrideColumns = "room_id, blocked, starts_at, ends_at, reason, created_by"

func scanNowOverride(row interface{ Scan(...any) error }) (*ipdesk.NowOverride, error) {
	var n ipdesk.NowOverride
	var start, until int64
	if err := row.Scan(&n.RoomID, &n.Blocked, &start, &until, &n.Reason, &n.CreatedBy); err != nil {
		return nil, err
	}
	n.Start, n.Until = fromMicros(start), fromMicros(until)
	return &n, nil
}

func (tx *Tx) scanNowOverrides(cond string, a ...any) ([]*ipdesk.NowOverride, error) {
	return scanAll(tx, scanNowOverride, "SELECT "+nowOverrideColumns+" FROM now_overrides "+cond, a...)
}

// FindNowOverrides returns the "now, until" overrides in force at or
// after t, by room.
func (db *DB) FindNowOverrides(ctx context.Context, t time.Time) ([]*ipdesk.NowOverride, error) {
	return readValue(ctx, db.readOne, func(tx *Tx) ([]*ipdesk.NowOverride, error) {
		return tx.scanNowOverrides("WHERE ends_at > $1 ORDER BY room_id", micros(t))
	})
}

// SetNowOverride stores a room's "now, until" override, replacing its
// previous one. Start and Until are kept to the microsecond.
func (db *DB) SetNowOverride(ctx context.Context, n *ipdesk.NowOverride) error {
	n.Start = n.Start.UTC().Truncate(time.Microsecond)
	n.Until = n.Until.UTC().Truncate(time.Microsecond)
	if err := n.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if _, err := tx.findRoom("room_id", n.RoomID); err != nil {
			return err
		}
		n.CreatedBy = ipdesk.ActorName(ctx)
		old, err := scanNowOverride(tx.queryRow("SELECT "+nowOverrideColumns+" FROM now_overrides WHERE room_id = $1", n.RoomID))
		action := ipdesk.ActionUpdate
		if isNoRows(err) {
			old, action = nil, ipdesk.ActionCreate
		} else if err != nil {
			return err
		}
		if old != nil {
			_, err = tx.exec("UPDATE now_overrides SET blocked = $1, starts_at = $2, ends_at = $3, reason = $4, created_by = $5 WHERE room_id = $6",
				n.Blocked, micros(n.Start), micros(n.Until), n.Reason, n.CreatedBy, n.RoomID)
		} else {
			_, err = tx.exec("INSERT INTO now_overrides (room_id, blocked, starts_at, ends_at, reason, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
				n.RoomID, n.Blocked, micros(n.Start), micros(n.Until), n.Reason, n.CreatedBy)
		}
		if err != nil {
			return err
		}
		var before any
		if old != nil {
			before = old
		}
		return tx.audit(action, ipdesk.ObjectNowOverride, n.RoomID, before, n)
	})
}

// DeleteNowOverride removes a room's "now, until" override.
func (db *DB) DeleteNowOverride(ctx context.Context, roomID int64) error {
	return db.write(ctx, func(tx *Tx) error {
		old, err := scanNowOverride(tx.queryRow("SELECT "+nowOverrideColumns+" FROM now_overrides WHERE room_id = $1", roomID))
		if isNoRows(err) {
			return ipdesk.Errorf(ipdesk.ENOTFOUND, "room %d has no \"now, until\" override", roomID)
		} else if err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM now_overrides WHERE room_id = $1", roomID); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionDelete, ipdesk.ObjectNowOverride, roomID, old, nil)
	})
}

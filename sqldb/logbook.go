package sqldb

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"ipdesk"
)

var _ ipdesk.LogbookService = (*DB)(nil)

// RecordLogEntry stores a logbook entry and sets its ID; its time is kept
// to the microsecond. It writes no audit entry.
func (db *DB) RecordLogEntry(ctx context.Context, e *ipdesk.LogEntry) error {
	if e.Time.IsZero() {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "time", "a logbook entry needs a time")
	}
	if err := ipdesk.ValidateName("actor", e.Actor); err != nil {
		return err
	}
	if err := ipdesk.ValidateText("error", strings.NewReplacer("\n", " ", "\t", " ").Replace(e.Error), ipdesk.MaxDescriptionLen*8); err != nil {
		return err
	}
	for _, rs := range [][]ipdesk.LogRoom{e.Blocked, e.Opened, e.BlockedNow} {
		for _, r := range rs {
			if err := ipdesk.ValidateText("name", r.Name, ipdesk.MaxNameLen); err != nil {
				return err
			}
		}
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	enc := func(rs []ipdesk.LogRoom) (string, error) {
		if rs == nil {
			rs = []ipdesk.LogRoom{}
		}
		b, err := json.Marshal(rs)
		return string(b), err
	}
	blocked, err := enc(e.Blocked)
	if err != nil {
		return err
	}
	opened, err := enc(e.Opened)
	if err != nil {
		return err
	}
	state, err := enc(e.BlockedNow)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if err := tx.queryRow("INSERT INTO logbook (time, actor, blocked_json, opened_json, state_json, error) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
			micros(e.Time), e.Actor, blocked, opened, state, e.Error).Scan(&e.ID); err != nil {
			return err
		}
		seen := map[int64]bool{}
		var changed []int64
		for _, r := range append(append([]ipdesk.LogRoom{}, e.Blocked...), e.Opened...) {
			if !seen[r.ID] {
				seen[r.ID] = true
				changed = append(changed, r.ID)
			}
		}
		return tx.insertMany("INSERT INTO logbook_rooms (room_id, entry_id)", "", 2, len(changed),
			func(dst []any, i int) []any { return append(dst, changed[i], e.ID) }, nil)
	})
}

// FindLogEntries returns logbook entries, newest first, and their total.
func (db *DB) FindLogEntries(ctx context.Context, f ipdesk.LogFilter) ([]*ipdesk.LogEntry, int, error) {
	f.Page = f.Page.Normalize()
	var a args
	var where []string
	if f.Since != nil {
		where = append(where, "time >= "+a.add(micros(*f.Since)))
	}
	if f.Until != nil {
		where = append(where, "time < "+a.add(micros(*f.Until)))
	}
	if f.Actor != nil {
		where = append(where, "actor = "+a.add(*f.Actor))
	}
	if f.RoomID != nil {
		where = append(where, "id IN (SELECT entry_id FROM logbook_rooms WHERE room_id = "+a.add(*f.RoomID)+")")
	}
	if f.Failed != nil {
		op := "<>"
		if !*f.Failed {
			op = "="
		}
		where = append(where, "error "+op+" ''")
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var out []*ipdesk.LogEntry
	var n int
	err := db.read(ctx, func(tx *Tx) error {
		if err := tx.queryRow("SELECT COUNT(*) FROM logbook"+cond, a...).Scan(&n); err != nil {
			return err
		}
		rows, err := tx.query("SELECT id, time, actor, blocked_json, opened_json, state_json, error FROM logbook"+cond+
			" ORDER BY id DESC LIMIT "+a.add(f.Limit)+" OFFSET "+a.add(f.Offset), a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e ipdesk.LogEntry
			var t int64
			var blocked, opened, state string
			if err := rows.Scan(&e.ID, &t, &e.Actor, &blocked, &opened, &state, &e.Error); err != nil {
				return err
			}
			e.Time = fromMicros(t)
			for _, x := range []struct {
				s   string
				dst *[]ipdesk.LogRoom
			}{{blocked, &e.Blocked}, {opened, &e.Opened}, {state, &e.BlockedNow}} {
				if err := json.Unmarshal([]byte(x.s), x.dst); err != nil {
					return err
				}
			}
			out = append(out, &e)
		}
		return rows.Err()
	})
	return out, n, err
}

// ChangeActorsSince returns the actors of the audit entries of the object
// types (all when none are given) newer than the entry with ID after, in
// the order of their latest entry, and the ID of the newest entry of the
// log. With after < 0 it returns only that ID (0 for an empty log). It
// reads only the entries after after, in ranges of the audit log's
// primary key (see scanChanges), whatever the types.
func (db *DB) ChangeActorsSince(ctx context.Context, after int64, objectTypes []string) ([]string, int64, error) {
	newest := after
	latest := map[string]int64{} // actor → its newest entry of the types
	err := db.read(ctx, func(tx *Tx) error {
		if err := tx.queryRow("SELECT COALESCE(MAX(id), 0) FROM audit_log").Scan(&newest); err != nil || after < 0 || newest <= after {
			return err
		}
		return tx.scanChanges(after, newest, func(g changeGroup) {
			if len(objectTypes) == 0 || slices.Contains(objectTypes, g.objectType) {
				latest[g.actor] = max(latest[g.actor], g.newest)
			}
		})
	})
	if err != nil {
		return nil, newest, err
	}
	var actors []string
	for a := range latest {
		actors = append(actors, a)
	}
	slices.SortFunc(actors, func(a, b string) int { return cmp.Compare(latest[a], latest[b]) })
	return actors, newest, nil
}

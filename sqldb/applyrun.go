package sqldb

import (
	"context"
	"strings"
	"time"

	"ipdesk"
)

var _ ipdesk.ApplyRunService = (*DB)(nil)

// ApplyRunsKept is the number of runs kept per target; older ones are
// removed as new ones are recorded, so that the history of a target
// applied every few seconds does not grow without end.
const ApplyRunsKept = 10000

// applyRunsKept is ApplyRunsKept; tests lower it.
var applyRunsKept = ApplyRunsKept

const applyRunColumns = "id, target, kind, path, started, duration, status, message, bytes, added, removed, actor"

func scanApplyRun(row interface{ Scan(...any) error }) (*ipdesk.ApplyRun, error) {
	var r ipdesk.ApplyRun
	var started, duration int64
	var status string
	if err := row.Scan(&r.ID, &r.Target, &r.Kind, &r.Path, &started, &duration, &status, &r.Message, &r.Bytes, &r.Added, &r.Removed, &r.Actor); err != nil {
		return nil, err
	}
	r.Started = fromMicros(started)
	r.Duration = time.Duration(duration)
	r.Status = ipdesk.ApplyStatus(status)
	return &r, nil
}

// RecordApplyRun stores r, sets its ID, its actor (from ctx) and its
// start time to the stored precision (microseconds), and removes the
// target's runs beyond the newest ApplyRunsKept.
func (db *DB) RecordApplyRun(ctx context.Context, r *ipdesk.ApplyRun) error {
	if r.Target == "" {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "target", "an apply run needs a target name")
	}
	if !validApplyStatus(r.Status) {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "status", "apply status %q is not one of %s", r.Status, applyStatusList())
	}
	r.Actor = ipdesk.ActorName(ctx)
	r.Started = r.Started.UTC().Truncate(time.Microsecond)
	return db.write(ctx, func(tx *Tx) error {
		err := tx.queryRow(`INSERT INTO apply_runs (target, kind, path, started, duration, status, message, bytes, added, removed, actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			r.Target, r.Kind, r.Path, micros(r.Started), int64(r.Duration), string(r.Status), r.Message, r.Bytes, r.Added, r.Removed, r.Actor).Scan(&r.ID)
		if err != nil {
			return err
		}
		_, err = tx.exec(`DELETE FROM apply_runs WHERE target = $1 AND id <
			(SELECT id FROM apply_runs WHERE target = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`, r.Target, applyRunsKept-1)
		return err
	})
}

// FindApplyRuns returns apply runs, newest first, and their total.
func (db *DB) FindApplyRuns(ctx context.Context, f ipdesk.ApplyRunFilter) ([]*ipdesk.ApplyRun, int, error) {
	f.Page = f.Page.Normalize()
	var a args
	var where []string
	if f.Target != nil {
		where = append(where, "target = "+a.add(*f.Target))
	}
	if f.Status != nil {
		if !validApplyStatus(*f.Status) {
			return nil, 0, ipdesk.FieldErrorf(ipdesk.EINVALID, "status", "apply status %q is not one of %s", *f.Status, applyStatusList())
		}
		where = append(where, "status = "+a.add(string(*f.Status)))
	}
	if f.Failed != nil {
		op := "NOT IN"
		if !*f.Failed {
			op = "IN"
		}
		where = append(where, "status "+op+" ("+a.add(string(ipdesk.ApplyApplied))+", "+a.add(string(ipdesk.ApplyUnchanged))+")")
	}
	if f.Since != nil {
		where = append(where, "started >= "+a.add(micros(*f.Since)))
	}
	if f.Until != nil {
		where = append(where, "started < "+a.add(micros(*f.Until)))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var out []*ipdesk.ApplyRun
	var n int
	err := db.read(ctx, func(tx *Tx) error {
		if err := tx.queryRow("SELECT COUNT(*) FROM apply_runs"+cond, a...).Scan(&n); err != nil {
			return err
		}
		lim := a
		rows, err := tx.query("SELECT "+applyRunColumns+" FROM apply_runs"+cond+
			" ORDER BY id DESC LIMIT "+lim.add(f.Limit)+" OFFSET "+lim.add(f.Offset), lim...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanApplyRun(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, n, err
}

func validApplyStatus(s ipdesk.ApplyStatus) bool {
	for _, v := range ipdesk.ApplyStatuses {
		if s == v {
			return true
		}
	}
	return false
}

func applyStatusList() string {
	names := make([]string, len(ipdesk.ApplyStatuses))
	for i, s := range ipdesk.ApplyStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

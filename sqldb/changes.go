package sqldb

import (
	"context"

	"ipdesk"
)

var _ ipdesk.ChangeLog = (*DB)(nil)

// changePage bounds the audit entries one statement of the change readers
// looks at. Reading in pages ordered by ID keeps every read a range scan of
// the audit log's primary key, on SQLite and on PostgreSQL (whose generic
// plan for "id > $1" alone may be a sequential scan), so that a look at
// the changes costs what they number, not what the log holds.
const changePage = 5000

// changeGroup is the newest audit entry of one object type by one actor
// among a page of entries, and how many entries the group has.
type changeGroup struct {
	objectType, actor string
	newest, count     int64
}

// scanChanges reads the audit entries after the entry after (up to the
// entry upto, if positive) page by page, and passes each page's groups to
// fn. The object types are filtered outside the page's subquery, so that
// no index on the type is taken in place of the primary key.
func (tx *Tx) scanChanges(after, upto int64, fn func(changeGroup)) error {
	q := "SELECT object_type, actor, MAX(id), COUNT(*) FROM (SELECT id, object_type, actor FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2) page GROUP BY object_type, actor"
	if upto > 0 {
		q = "SELECT object_type, actor, MAX(id), COUNT(*) FROM (SELECT id, object_type, actor FROM audit_log WHERE id > $1 AND id <= $3 ORDER BY id LIMIT $2) page GROUP BY object_type, actor"
	}
	for {
		args := []any{after, changePage}
		if upto > 0 {
			args = append(args, upto)
		}
		rows, err := tx.query(q, args...)
		if err != nil {
			return err
		}
		var n int64
		last := after
		for rows.Next() {
			var g changeGroup
			if err := rows.Scan(&g.objectType, &g.actor, &g.newest, &g.count); err != nil {
				rows.Close()
				return err
			}
			n += g.count
			last = max(last, g.newest)
			fn(g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n < changePage {
			return nil
		}
		after = last
	}
}

// ChangesSince returns the object types audited after the entry after,
// each with its newest entry's ID, and the newest entry's ID; see
// ipdesk.ChangeLog. It reads only the entries after after, in ranges of
// the audit log's primary key.
func (db *DB) ChangesSince(ctx context.Context, after int64) (map[string]int64, int64, error) {
	var types map[string]int64
	newest := after
	err := db.readOne(ctx, func(tx *Tx) error {
		if after < 0 {
			return tx.queryRow("SELECT COALESCE(MAX(id), 0) FROM audit_log").Scan(&newest)
		}
		return tx.scanChanges(after, 0, func(g changeGroup) {
			if types == nil {
				types = make(map[string]int64)
			}
			types[g.objectType] = max(types[g.objectType], g.newest)
			newest = max(newest, g.newest)
		})
	})
	return types, newest, err
}

// ObjectChanges returns the objects the audit entries in (after, upto]
// are about; see ipdesk.ChangeLog. It reads a range of the audit log's
// primary key.
func (db *DB) ObjectChanges(ctx context.Context, after, upto int64, limit int) ([]ipdesk.ChangedObject, bool, error) {
	var objs []ipdesk.ChangedObject
	complete := true
	err := db.readOne(ctx, func(tx *Tx) error {
		rows, err := tx.query("SELECT object_type, object_id FROM audit_log WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3", after, upto, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		seen := map[ipdesk.ChangedObject]bool{}
		n := 0
		for rows.Next() {
			var o ipdesk.ChangedObject
			if err := rows.Scan(&o.Type, &o.ID); err != nil {
				return err
			}
			if n++; n > limit {
				complete, objs = false, nil
				return nil
			}
			if !seen[o] {
				seen[o] = true
				objs = append(objs, o)
			}
		}
		return rows.Err()
	})
	return objs, complete, err
}

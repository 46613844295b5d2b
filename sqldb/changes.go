package sqldb

import (
	"context"

	"ipdesk"
)

var _ ipdesk.ChangeLog = (*DB)(nil)

// ChangesSince returns the object types audited after the entry after,
// each with its newest entry's ID, and the newest entry's ID; see
// ipdesk.ChangeLog. Both are range reads on the audit log's primary key.
func (db *DB) ChangesSince(ctx context.Context, after int64) (map[string]int64, int64, error) {
	var types map[string]int64
	newest := after
	err := db.readOne(ctx, func(tx *Tx) error {
		if after < 0 {
			return tx.queryRow("SELECT COALESCE(MAX(id), 0) FROM audit_log").Scan(&newest)
		}
		rows, err := tx.query("SELECT object_type, MAX(id) FROM audit_log WHERE id > $1 GROUP BY object_type", after)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var typ string
			var id int64
			if err := rows.Scan(&typ, &id); err != nil {
				return err
			}
			if types == nil {
				types = make(map[string]int64)
			}
			types[typ] = id
			newest = max(newest, id)
		}
		return rows.Err()
	})
	return types, newest, err
}

package sqldb

import (
	"context"

	"ipdesk"
)

var _ ipdesk.ChangeLog = (*DB)(nil)

// ChangesSince returns the object types audited after the entry after and
// the newest entry's ID; see ipdesk.ChangeLog. Both are index lookups on
// the audit log's primary key.
func (db *DB) ChangesSince(ctx context.Context, after int64) ([]string, int64, error) {
	var types []string
	newest := after
	err := db.readOne(ctx, func(tx *Tx) error {
		if after < 0 {
			return tx.queryRow("SELECT COALESCE(MAX(id), 0) FROM audit_log").Scan(&newest)
		}
		rows, err := tx.query("SELECT object_type, MAX(id) FROM audit_log WHERE id > $1 GROUP BY object_type ORDER BY object_type", after)
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
			types = append(types, typ)
			newest = max(newest, id)
		}
		return rows.Err()
	})
	return types, newest, err
}

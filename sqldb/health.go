package sqldb

import (
	"context"
	"database/sql"
	"fmt"
)

// Ready checks that the database answers and that its schema is the one
// this binary writes (every migration applied).
func (db *DB) Ready(ctx context.Context) error {
	if err := db.r.PingContext(ctx); err != nil {
		return err
	}
	v, err := db.CurrentVersion(ctx)
	if err != nil {
		return err
	}
	if want := SchemaVersion(); v != want {
		return fmt.Errorf("database schema version %d, this binary needs %d", v, want)
	}
	return nil
}

// PoolStats returns the state of the connection pools by name: on SQLite
// "write" and "read", on PostgreSQL the one pool "main".
func (db *DB) PoolStats() map[string]sql.DBStats {
	if db.r == db.w {
		return map[string]sql.DBStats{"main": db.w.Stats()}
	}
	return map[string]sql.DBStats{"write": db.w.Stats(), "read": db.r.Stats()}
}

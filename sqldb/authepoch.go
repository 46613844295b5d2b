package sqldb

import "context"

const qAuthEpoch = "SELECT epoch FROM auth_epoch WHERE id = 1"

// AuthEpoch returns the authentication epoch: a number that moves on with
// every committed change to users, groups, group memberships, grants and
// API tokens, and with the end of a session, made by any process or
// instance sharing the database (database triggers move it in the
// changing transaction). The last use of a token or session does not move
// it. A cache of credentials and permissions filled after reading epoch e
// is current for as long as AuthEpoch still returns e.
func (db *DB) AuthEpoch(ctx context.Context) (int64, error) {
	if err := db.prepare(ctx, db.r, qAuthEpoch); err != nil {
		return 0, mapError(err)
	}
	var e int64
	err := db.readOne(ctx, func(tx *Tx) error {
		return tx.queryRow(qAuthEpoch).Scan(&e)
	})
	return e, err
}

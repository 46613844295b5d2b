package sqldb

import (
	"context"

	"ipdesk"
)

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

// ConfirmsAuth reports whether the writes check an ipdesk.AuthGuard of
// their context (on PostgreSQL), so that a request need not read the
// epoch before it writes.
func (db *DB) ConfirmsAuth() bool { return db.pg }

// qAuthEpochIs fails the transaction with qAuthEpochMoved unless the
// authentication epoch is $1 (migration 0017).
const (
	qAuthEpochIs    = "SELECT ipdesk_auth_epoch_is($1)"
	qAuthEpochMoved = "IP001"
)

// guardWrite makes the write tx, run for ctx, check ctx's AuthGuard first
// (PostgreSQL): the check goes, held, with the write's first statement. A
// guard that an earlier write of the request confirmed needs no check:
// the request is let in, and a failure now would undo none of it.
func (tx *Tx) guardWrite(ctx context.Context) error {
	g := ipdesk.AuthGuardFrom(ctx)
	if g == nil || !tx.db.pg {
		return nil
	}
	if confirmed, _ := g.State(); confirmed {
		return nil
	}
	return tx.later(qAuthEpochIs, g.Epoch)
}

// settleGuards tells the AuthGuards of a group's writes what became of
// them: a write that committed confirms its guard; one whose group failed
// in its commit may have committed.
func (db *DB) settleGuards(batch []*pendingWrite, errs []error, txErr error) {
	if !db.pg {
		return
	}
	for i, w := range batch {
		g := ipdesk.AuthGuardFrom(w.ctx)
		if g == nil || errs[i] != nil {
			continue
		}
		if txErr == nil {
			g.Confirm()
		} else {
			g.Unsure()
		}
	}
}

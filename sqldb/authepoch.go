package sqldb

import (
	"context"
	"slices"

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

// ConfirmsAuth reports that the writes (and the reads of one address)
// check an ipdesk.AuthGuard of their context, so that a request need not
// read the epoch before it writes. On PostgreSQL the check rides with the
// write's statements (see placeGuard); on SQLite a write reads the epoch
// in its transaction, whose write lock keeps it from moving until the
// commit.
func (db *DB) ConfirmsAuth() bool { return true }

// unconfirmedGuard returns the AuthGuard of ctx when it still needs
// confirming, or nil.
func (db *DB) unconfirmedGuard(ctx context.Context) *ipdesk.AuthGuard {
	g := ipdesk.AuthGuardFrom(ctx)
	if g == nil {
		return nil
	}
	if confirmed, _ := g.State(); confirmed {
		return nil
	}
	return g
}

// qAuthEpochIs fails the transaction with qAuthEpochMoved unless the
// authentication epoch is $1 (migration 0017).
const (
	qAuthEpochIs    = "SELECT ipdesk_auth_epoch_is($1)"
	qAuthEpochMoved = "IP001"
)

// guardWrite makes the write tx, run for ctx, check ctx's AuthGuard
// (PostgreSQL) in its first round trip (see placeGuard). A guard that an
// earlier write or read of the request confirmed needs no check: the
// request is let in, and a failure now would undo none of it.
func (tx *Tx) guardWrite(ctx context.Context) {
	tx.guard = tx.db.unconfirmedGuard(ctx)
}

// placeGuard puts the check of the guard tx still has to make into the
// round trip of reads: as one more column of the first read that can
// carry the epoch (see pipeRead.atEpoch), or else as a held check
// statement, which goes before anything else of the write is sent.
func (tx *Tx) placeGuard(reads []pipeRead) ([]pipeRead, error) {
	g := tx.guard
	if g == nil {
		return reads, nil
	}
	tx.guard = nil
	if !tx.db.pg {
		// SQLite: the write holds the database's write lock, so that the
		// epoch read now stays until the commit (see settleGuards).
		var e int64
		if err := tx.queryRow(qAuthEpoch).Scan(&e); err != nil {
			return reads, err
		}
		if e != g.Epoch {
			return reads, ipdesk.ErrAuthChanged
		}
		return reads, nil
	}
	for i, r := range reads {
		if r.atEpoch != "" {
			reads = slices.Clone(reads)
			reads[i] = tx.checkingEpoch(r, g)
			return reads, nil
		}
	}
	return reads, tx.later(qAuthEpochIs, g.Epoch)
}

// holdGuard holds the check of the guard tx still has to make, for a
// write that ends without a round trip of its own: the check goes with
// its held writes.
func (tx *Tx) holdGuard() error {
	_, err := tx.placeGuard(nil)
	return err
}

// checkingEpoch returns r reading the authentication epoch along with its
// row: the epoch of g confirms g, another one fails the read with
// ipdesk.ErrAuthChanged (the write rolls back to its start). A read that
// found no row leaves the check to the write's next round trip.
func (tx *Tx) checkingEpoch(r pipeRead, g *ipdesk.AuthGuard) pipeRead {
	scan := r.scan
	r.query, r.atEpoch = r.atEpoch, ""
	r.scan = func(rows resultRows) error {
		er := &epochRows{resultRows: rows}
		if err := scan(er); err != nil {
			return err
		}
		switch {
		case !er.seen:
			tx.guard = g
		case er.epoch != g.Epoch:
			return ipdesk.ErrAuthChanged
		default:
			g.Confirm()
		}
		return nil
	}
	return r
}

// epochRows are the rows of a read that carries the authentication epoch
// as its last column, which Scan puts into epoch.
type epochRows struct {
	resultRows
	epoch int64
	seen  bool
}

func (e *epochRows) Scan(dst ...any) error {
	e.seen = true
	return e.resultRows.Scan(append(dst, &e.epoch)...)
}

// settleGuards tells the AuthGuards of a group's writes what became of
// them: a write that committed confirms its guard; one whose group failed
// in its commit may have committed.
func (db *DB) settleGuards(batch []*pendingWrite, errs []error, txErr error) {
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

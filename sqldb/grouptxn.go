package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/stdlib"
)

// groupTxn is the transaction of a group commit (see runGroup).
//
// On SQLite it is a database/sql transaction. On PostgreSQL it is run by
// statements on a connection of its own, so that its BEGIN and COMMIT cost
// no round trip of their own: the BEGIN (and the first write's SAVEPOINT)
// are held like a write's held writes (see later) and go with the first
// statements a write sends; a write's held writes, the end of its
// savepoint and the start of the next one's go with the next write's
// first statements; and the COMMIT goes with what is held last.
type groupTxn struct {
	q     querier
	sqltx *sql.Tx   // SQLite
	conn  *sql.Conn // PostgreSQL
	// carry holds what is still to be sent (PostgreSQL): BEGIN and the
	// first SAVEPOINT, or the held writes of the write that ran last with
	// the end of its savepoint and the start of the next one's.
	carry []heldWrite
	// begun: BEGIN was sent; committed: the COMMIT went with the last
	// write; gone: the transaction ended otherwise (rolled back, or its
	// commit failed).
	begun, committed, gone bool
}

// beginGroup starts the transaction of a group.
func (db *DB) beginGroup() (*groupTxn, error) {
	ctx := context.Background()
	if !db.pg {
		sqltx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		return &groupTxn{q: sqltx, sqltx: sqltx}, nil
	}
	// The transaction's connection itself, for COPY (see copyRowsIn) and
	// for the statements of the transaction.
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &groupTxn{q: conn, conn: conn, carry: []heldWrite{{query: "BEGIN", owner: -1}}}, nil
}

// statement runs a statement of the transaction itself (one without
// arguments): at once on SQLite, with the next write's first one on
// PostgreSQL.
func (t *groupTxn) statement(q string) error {
	if t.sqltx != nil {
		_, err := t.sqltx.Exec(q)
		return err
	}
	t.carry = append(t.carry, heldWrite{query: q, owner: -1})
	return nil
}

// hand gives the statements not sent yet to the write tx, as held writes
// before its own.
func (t *groupTxn) hand(tx *Tx) {
	tx.held = append(tx.held[:0:0], t.carry...)
	tx.carried = len(t.carry)
}

// takeBack learns from the write tx, which ran, whether it sent the
// statements it was handed, and keeps what is still to be sent: all that
// tx holds when all is set (it succeeded, and its held writes wait for
// the next round trip), otherwise only what it was handed and did not
// send (a write that failed drops its own).
func (t *groupTxn) takeBack(tx *Tx, all bool) {
	if len(t.carry) > 0 && tx.carried == 0 {
		t.begun = true
	}
	switch {
	case all:
		t.carry = tx.held
	case tx.carried > 0:
		t.carry = tx.held[:tx.carried:tx.carried]
	default:
		t.carry = nil
	}
}

// redoFrom undoes the earlier write whose held writes failed when tx sent
// them (see Tx.carryErr), back to its savepoint, which stays for the next
// write, and returns the index in batch where the group goes on. A write
// that presumed its checks (see presumeChecks) runs again from there,
// asking first; any other fails with the error. The writes after it, of
// which nothing ran (their statements were held behind its own, and
// skipped once they failed), run again after it: those that succeeded as
// well as those that failed, which may have failed on what it did.
func (t *groupTxn) redoFrom(tx *Tx, batch []*pendingWrite, errs []error) (int, error) {
	k := tx.carryOwner
	tx.db.prefixCache.reset()
	if err := t.rollbackTo(); err != nil {
		return 0, err
	}
	next := k + 1
	if batch[k].presumed {
		batch[k].askFirst = true
		next = k
	} else {
		errs[k] = mapError(tx.carryErr)
	}
	for j := next; j < len(batch); j++ {
		errs[j] = nil
		batch[j].audited, batch[j].searchNoted = nil, 0
	}
	return next, nil
}

// failedInside tells, after a statement failed, whether the transaction
// is still open in the failed state (PostgreSQL): the failure was a
// statement's, not the commit's.
func (t *groupTxn) failedInside() bool {
	inside := false
	t.conn.Raw(func(driverConn any) error {
		if c, ok := driverConn.(*stdlib.Conn); ok {
			inside = c.Conn().PgConn().TxStatus() == 'E'
		}
		return nil
	})
	return inside
}

// rollbackTo undoes the current write, back to its savepoint. A write
// that sent nothing has nothing to undo.
func (t *groupTxn) rollbackTo() error {
	if t.sqltx == nil && len(t.carry) > 0 {
		return nil
	}
	_, err := t.q.ExecContext(context.Background(), "ROLLBACK TO write")
	return err
}

// undo undoes the current write: back to its savepoint in a group of
// several writes; in a group of one, which has no savepoint, with the
// whole transaction, which starts again with the write's next run.
func (t *groupTxn) undo(multi bool) error {
	if multi || t.sqltx != nil {
		return t.rollbackTo()
	}
	if t.begun && !t.committed && !t.gone {
		if _, err := t.conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			return err
		}
	}
	t.begun, t.committed, t.gone = false, false, false
	t.carry = []heldWrite{{query: "BEGIN", owner: -1}}
	return nil
}

// rollback ends the transaction without its writes.
func (t *groupTxn) rollback() {
	if t.sqltx != nil {
		t.sqltx.Rollback()
		return
	}
	if t.begun && !t.committed && !t.gone {
		t.gone = true
		// A connection left inside a transaction is not used again (the
		// driver's session reset refuses it).
		t.conn.ExecContext(context.Background(), "ROLLBACK")
	}
}

// commit commits the transaction, sending with the COMMIT what is still
// held (handed to tx), unless the last write's held writes carried the
// commit already or nothing was ever sent.
func (t *groupTxn) commit(tx *Tx) error {
	if t.sqltx != nil {
		return t.sqltx.Commit()
	}
	switch {
	case t.gone:
		return errors.New("the transaction ended before its commit")
	case t.committed || !t.begun && !holdsWrites(t.carry):
		return nil
	}
	err := tx.sendHeld("COMMIT")
	t.committed = err == nil
	t.gone = err != nil && tx.carryErr == nil
	return err
}

// holdsWrites tells whether held has writes of a write (beyond the
// transaction's own statements).
func holdsWrites(held []heldWrite) bool {
	for _, w := range held {
		if w.owner >= 0 {
			return true
		}
	}
	return false
}

// close frees the transaction's connection, rolled back if it is still
// open.
func (t *groupTxn) close() {
	t.rollback()
	if t.conn != nil {
		t.conn.Close()
	}
}

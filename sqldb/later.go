package sqldb

// Writes held for the next round trip (PostgreSQL). A write transaction's
// last statements are often writes whose results nobody reads: the chunk
// count, the audit entry. On PostgreSQL every statement is a round trip,
// and with its wake-ups on both sides a round trip costs more than such a
// statement itself, so they are held (later) and sent together with the
// next statements: the end of the write's savepoint in a group commit,
// the commit, or the next reads of the transaction, which go after them
// in the same round trip (see roundTrip) and so see their effects. A
// failure of one of them is the failure of the write that held it, rolled
// back with its savepoint. On SQLite, which has no round trips, later runs
// the statement at once.

// heldWrite is a statement held by later and its arguments.
type heldWrite struct {
	query string
	args  []any
	// owner is the index in its group of the write that held it, or -1
	// for a statement of the transaction itself (see groupTxn).
	owner int
	// collect, when set, reads the statement's rows: a read held by
	// laterRead.
	collect func(rows resultRows)
}

// later runs the write q (no result is read) now on SQLite or in a read,
// or on PostgreSQL with the next statement of the transaction.
func (tx *Tx) later(q string, args ...any) error {
	if !tx.db.pg || !tx.writes {
		_, err := tx.exec(q, args...)
		return err
	}
	tx.held = append(tx.held, heldWrite{query: q, args: args, owner: tx.index})
	return nil
}

// laterRead holds the read q like later holds a write: its rows are read
// with the held writes' outcomes, when the statement is sent, so that the
// write may go on without them. collect may only collect what it reads
// (the statements after it ran already); the statement's own failure is
// the failure of the write. On SQLite, and in a read, it runs at once.
func (tx *Tx) laterRead(q string, args []any, collect func(rows resultRows)) error {
	if !tx.db.pg || !tx.writes {
		rows, err := tx.query(q, args...)
		if err != nil {
			return err
		}
		collect(rows)
		rows.Close()
		return rows.Err()
	}
	tx.held = append(tx.held, heldWrite{query: q, args: args, owner: tx.index, collect: collect})
	return nil
}

// sendHeld sends the held writes, followed by the statements tail (of
// the transaction itself, without arguments), in one round trip.
func (tx *Tx) sendHeld(tail ...string) error {
	return tx.roundTrip(tail, nil)
}

// sendHeldFirst sends the held writes before another statement. A failure
// is kept in heldErr: the statement then fails too, as the transaction is
// aborted, and the write reports heldErr (see runGroup).
func (tx *Tx) sendHeldFirst() {
	if len(tx.held) > 0 || tx.guard != nil {
		tx.sendHeld()
	}
}

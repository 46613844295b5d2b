package sqldb

import (
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Round trips of a write transaction (PostgreSQL). The held writes (see
// later), statements of the transaction itself (BEGIN, SAVEPOINT, COMMIT)
// and reads that do not depend on each other, such as the subnet a write
// goes into and the checks of its record, go to PostgreSQL in one round
// trip, in its pipeline mode: each statement is prepared once per
// connection and bound to its arguments, and runs after the ones before
// it, in order, as if sent one by one; after a failure the rest is
// skipped. On SQLite, and outside a write transaction, the statements run
// one after the other.

// pipeRead is a read of a round trip: a statement and what reads its rows.
type pipeRead struct {
	query string
	args  []any
	scan  func(rows resultRows) error
	// atEpoch, when set, is query with the authentication epoch as one
	// more, last column, so that the read can check a write's AuthGuard
	// (see placeGuard); scan still reads the columns of query.
	atEpoch string
}

// resultRows are the rows of a statement, from database/sql or pgx.
type resultRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// pipeline runs the reads, after the held writes, and passes each its
// rows.
func (tx *Tx) pipeline(reads ...pipeRead) error {
	return tx.roundTrip(nil, reads)
}

// roundTrip sends the held writes, then the statements tail and then the
// reads, and passes each read its rows. A failure of a held write is kept
// in heldErr, as the failure of the write that held it, and fails the
// statements after it.
func (tx *Tx) roundTrip(tail []string, reads []pipeRead) error {
	reads, err := tx.placeGuard(reads)
	if err != nil {
		return err
	}
	if tx.conn == nil || !tx.db.pg {
		for _, q := range tail {
			if _, err := tx.q.ExecContext(tx.ctx, q); err != nil {
				return err
			}
		}
		for _, r := range reads {
			rows, err := tx.query(r.query, r.args...)
			if err != nil {
				return err
			}
			err = r.scan(rows)
			rows.Close()
			if rerr := rows.Err(); rerr != nil {
				return rerr // the statement's failure, rather than what scan made of it
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	held := tx.held
	tx.held, tx.carried = nil, 0
	if len(held)+len(tail)+len(reads) == 0 {
		return nil
	}
	return tx.conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errors.New("round trip: the connection is not pgx's")
		}
		b := &pgx.Batch{}
		for _, w := range held {
			b.Queue(w.query, w.args...)
		}
		for _, q := range tail {
			b.Queue(q)
		}
		for _, r := range reads {
			b.Queue(r.query, r.args...)
		}
		return tx.readBatch(c.Conn().SendBatch(tx.ctx, b), held, len(tail), reads)
	})
}

// readBatch reads the results of a round trip's statements: held writes,
// then tail statements, then reads.
func (tx *Tx) readBatch(br pgx.BatchResults, held []heldWrite, tail int, reads []pipeRead) error {
	defer br.Close()
	for _, w := range held {
		if err := tx.readHeld(br, w); err != nil {
			switch {
			case w.owner >= 0 && w.owner != tx.index:
				tx.carryErr, tx.carryOwner = err, w.owner
			case tx.heldErr == nil:
				tx.heldErr = err
			}
			return err
		}
	}
	for range tail {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	for _, r := range reads {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		err = r.scan(rows)
		rows.Close()
		if rerr := rows.Err(); rerr != nil {
			return rerr
		}
		if err != nil {
			return err
		}
	}
	return br.Close()
}

// readHeld reads the result of the held statement w: the outcome of a
// write, the rows of a held read (see laterRead).
func (tx *Tx) readHeld(br pgx.BatchResults, w heldWrite) error {
	if w.collect == nil {
		_, err := br.Exec()
		return err
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	w.collect(rows)
	rows.Close()
	return rows.Err()
}

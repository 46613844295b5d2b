package sqldb

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Writes held for the next round trip (PostgreSQL). A write transaction's
// last statements are often writes whose results nobody reads: the chunk
// count, the audit entry. On PostgreSQL every statement is a round trip,
// and with its wake-ups on both sides a round trip costs more than such a
// statement itself, so they are held (later) and sent together with the
// next statement that needs no result: the end of the write's savepoint
// in a group commit, or one message of their own before the commit (see
// runGroup). Any other statement of the transaction sends them first, so
// that it sees their effects, and a failure of one of them is the failure
// of the write that held it, rolled back with its savepoint.
//
// They travel in PostgreSQL's simple query protocol, several statements in
// one message, their arguments written into the text by pgx (which quotes
// them and refuses to when the server does not use standard conforming
// strings). On SQLite, which has no round trips, later runs the statement
// at once.

// heldWrite is a statement held by later and its arguments.
type heldWrite struct {
	query string
	args  []any
}

// later runs the write q (no result is read) now on SQLite or in a read,
// or on PostgreSQL with the next statement of the transaction.
func (tx *Tx) later(q string, args ...any) error {
	if !tx.db.pg || !tx.writes {
		_, err := tx.exec(q, args...)
		return err
	}
	tx.held = append(tx.held, heldWrite{q, args})
	return nil
}

// sendHeld sends the held writes, followed by tail (statements without
// arguments, or ""), in one round trip.
func (tx *Tx) sendHeld(tail string) error {
	if len(tx.held) == 0 {
		if tail == "" {
			return nil
		}
		_, err := tx.q.ExecContext(tx.ctx, tail)
		return err
	}
	var text strings.Builder
	args := []any{pgx.QueryExecModeSimpleProtocol}
	for _, w := range tx.held {
		text.WriteString(renumberParams(w.query, len(args)-1))
		text.WriteString("; ")
		args = append(args, w.args...)
	}
	text.WriteString(tail)
	tx.held = nil
	_, err := tx.q.ExecContext(tx.ctx, text.String(), args...)
	return err
}

// sendHeldFirst sends the held writes before another statement. A failure
// is kept in heldErr: the statement then fails too, as the transaction is
// aborted, and the write reports heldErr (see runGroup).
func (tx *Tx) sendHeldFirst() {
	if len(tx.held) == 0 {
		return
	}
	if err := tx.sendHeld(""); err != nil && tx.heldErr == nil {
		tx.heldErr = err
	}
}

// renumberParams returns q with each parameter $N as $(N+offset), so that
// statements joined into one text take their arguments from one list.
// Quoted literals and identifiers are left as they are.
func renumberParams(q string, offset int) string {
	if offset == 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '$' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(q[i+1 : j])
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n + offset))
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

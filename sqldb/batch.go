package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// maxBatchArgs bounds the arguments of one batched statement, far below
// the limits of SQLite (32766 variables) and PostgreSQL (65535
// parameters); larger statements would not be faster.
const maxBatchArgs = 4000

// insertMany runs head + " VALUES (…), (…)" + tail for n rows of cols
// values each, in as few statements as maxBatchArgs allows. args appends
// the values of row i to dst. With scan set, each statement is a query
// (tail holds its RETURNING clause) and scan gets its result rows.
func (tx *Tx) insertMany(head, tail string, cols, n int, args func(dst []any, i int) []any, scan func(*sql.Rows) error) error {
	per := max(1, maxBatchArgs/cols)
	b := tx.batcher(per, n, func(rows int) string {
		return head + " VALUES " + tx.db.valuesList(1, rows, cols) + tail
	})
	defer b.close()
	for start := 0; start < n; start += per {
		end := min(n, start+per)
		vals, err := rowValues(args, start, end, cols)
		if err != nil {
			return err
		}
		if err := b.run(end-start, vals, scan); err != nil {
			return err
		}
	}
	return nil
}

// rowValues returns the values of rows start..end-1, cols of each, as
// args appends them.
func rowValues(args func(dst []any, i int) []any, start, end, cols int) ([]any, error) {
	vals := make([]any, 0, (end-start)*cols)
	for i := start; i < end; i++ {
		if vals = args(vals, i); len(vals) != (i-start+1)*cols {
			return nil, fmt.Errorf("batch insert: row %d has %d values, want %d", i, len(vals)-(i-start)*cols, cols)
		}
	}
	return vals, nil
}

// heldRows is the most rows a write holds with insertLater; more go at
// once with insertMany.
const heldRows = 16

// insertLater is insertMany without results for a write transaction's
// last inserts: a few rows are held for the next round trip (see later).
func (tx *Tx) insertLater(head, tail string, cols, n int, args func(dst []any, i int) []any) error {
	if n == 0 {
		return nil
	}
	if !tx.db.pg || n > heldRows {
		return tx.insertMany(head, tail, cols, n, args, nil)
	}
	vals, err := rowValues(args, 0, n, cols)
	if err != nil {
		return err
	}
	return tx.later(head+" VALUES "+tx.db.valuesList(1, n, cols)+tail, vals...)
}

// queryIn runs q, whose "IN (%s)" takes the values, in as few statements
// as maxBatchArgs allows; fixed are the arguments before the list ($1…).
// scan gets every result row.
func (tx *Tx) queryIn(q string, fixed []any, values []any, scan func(*sql.Rows) error) error {
	per := maxBatchArgs - len(fixed)
	b := tx.batcher(per, len(values), func(n int) string {
		list := tx.db.valuesList(len(fixed)+1, 1, n)
		return fmt.Sprintf(q, list[1:len(list)-1])
	})
	defer b.close()
	for start := 0; start < len(values); start += per {
		end := min(len(values), start+per)
		vals := append(append(make([]any, 0, len(fixed)+end-start), fixed...), values[start:end]...)
		if err := b.run(end-start, vals, scan); err != nil {
			return err
		}
	}
	return nil
}

// batcher runs the statements of a batched operation: per rows at a time
// and a shorter last one. The full statement is prepared once when it
// recurs, which spares SQLite parsing thousands of parameters again.
type batcher struct {
	tx   *Tx
	per  int
	text func(rows int) string
	full *sql.Stmt
	// prepare tells whether the full statement runs more than once.
	prepare bool
}

func (tx *Tx) batcher(per, n int, text func(rows int) string) *batcher {
	return &batcher{tx: tx, per: per, text: text, prepare: n >= 2*per}
}

// run runs the statement for rows rows with args, a query when scan is
// set, whose result rows scan gets.
func (b *batcher) run(rows int, args []any, scan func(*sql.Rows) error) error {
	if rows != b.per || !b.prepare {
		return b.tx.execOrScan(nil, b.text(rows), args, scan)
	}
	if b.full == nil {
		p, ok := b.tx.q.(interface {
			PrepareContext(context.Context, string) (*sql.Stmt, error)
		})
		if !ok {
			b.prepare = false
			return b.run(rows, args, scan)
		}
		var err error
		if b.full, err = p.PrepareContext(b.tx.ctx, b.text(rows)); err != nil {
			return err
		}
	}
	return b.tx.execOrScan(b.full, "", args, scan)
}

func (b *batcher) close() {
	if b.full != nil {
		b.full.Close()
	}
}

// execOrScan executes stmt, or q when stmt is nil; with scan set it
// queries instead and passes every result row to scan.
func (tx *Tx) execOrScan(stmt *sql.Stmt, q string, args []any, scan func(*sql.Rows) error) error {
	var rows *sql.Rows
	var err error
	if stmt != nil {
		tx.sendHeldFirst()
	}
	switch {
	case scan == nil && stmt != nil:
		_, err = stmt.ExecContext(tx.ctx, args...)
		return err
	case scan == nil:
		_, err = tx.exec(q, args...)
		return err
	case stmt != nil:
		rows, err = stmt.QueryContext(tx.ctx, args...)
	default:
		rows, err = tx.query(q, args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// valuesList returns the placeholders of rows rows of cols arguments
// each, numbered from first: "($1, $2), ($3, $4)". SQLite gets "(?, ?),
// (?, ?)" instead, which number themselves in order when every parameter
// before them is numbered in order too: it looks each "$N" up by name in a
// list of the statement's parameters, which makes a statement with
// thousands of them take quadratic time to prepare and bind.
func (db *DB) valuesList(first, rows, cols int) string {
	if !db.pg {
		row := "(" + strings.Repeat("?, ", cols-1) + "?)"
		return strings.Repeat(row+", ", rows-1) + row
	}
	b := make([]byte, 0, rows*cols*8)
	for r := range rows {
		if r > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '(')
		for c := range cols {
			if c > 0 {
				b = append(b, ", "...)
			}
			b = append(b, '$')
			b = strconv.AppendInt(b, int64(first+r*cols+c), 10)
		}
		b = append(b, ')')
	}
	return string(b)
}

package sqldb

import (
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Bulk writes on PostgreSQL go with COPY, PostgreSQL's bulk load: the rows
// stream in binary without a statement to parse, plan and bind per few
// hundred rows. It took the insert of 100,000 imported addresses and their
// audit entries from about 7.5 s to 4 s of PostgreSQL's time on the test
// machine. COPY returns nothing, so the rows get their ids first (see
// numberCreates).

// copyRows is the least number of rows a write sends with COPY on
// PostgreSQL; fewer go as INSERT statements.
const copyRows = 1000

// canCopy reports whether n rows go with copyRowsIn.
func (tx *Tx) canCopy(n int) bool {
	return tx.db.pg && tx.conn != nil && n >= copyRows
}

// copyRowsIn loads n rows into table's columns with COPY, in the write
// transaction (see canCopy); row appends the values of row i to dst.
func (tx *Tx) copyRowsIn(table string, columns []string, n int, row func(dst []any, i int) []any) error {
	if !tx.canCopy(n) {
		return errors.New("copy: not a PostgreSQL write transaction")
	}
	tx.sendHeldFirst()
	if tx.heldErr != nil {
		return tx.heldErr
	}
	return tx.conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errors.New("copy: the connection is not pgx's")
		}
		i := 0
		var vals []any
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			vals = row(vals[:0], i)
			i++
			return vals, nil
		})
		_, err := c.Conn().CopyFrom(tx.ctx, pgx.Identifier{table}, columns, src)
		return err
	})
}

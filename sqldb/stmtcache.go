package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements of hot queries (the caller-ID
// intake and feed run the same few statements hundreds of times a
// second). On SQLite preparing a statement costs about as much as running
// it; pgx caches prepared statements by itself, so PostgreSQL does not use
// this cache. Only statements whose text is one of a few fixed forms may
// be cached: the text is the key.
//
// A statement is created on a pool by prepare, outside any transaction of
// that pool (the SQLite writer has one connection, which a transaction
// holds); inside a transaction hot reuses it through Tx.StmtContext, which
// prepares it on the transaction's own connection once.
type stmtCache struct {
	mu     sync.Mutex
	m      map[stmtKey]*sql.Stmt
	closed bool
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

// maxCachedStmts bounds the cache; beyond it statements are prepared
// each time (a bug made a query text vary).
const maxCachedStmts = 256

// prepare makes sure the queries are prepared on pool. It must not run in
// a transaction of pool. The cache is not locked while a statement is
// prepared (which waits for a connection of the pool).
func (db *DB) prepare(ctx context.Context, pool *sql.DB, queries ...string) error {
	if db.pg {
		return nil
	}
	c := &db.stmts
	for _, q := range queries {
		k := stmtKey{pool, q}
		c.mu.Lock()
		_, ok := c.m[k]
		full := len(c.m) >= maxCachedStmts
		c.mu.Unlock()
		if ok || full {
			continue
		}
		st, err := pool.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		c.mu.Lock()
		if _, ok := c.m[k]; ok || c.closed {
			st.Close() // prepared meanwhile, or closing
		} else {
			if c.m == nil {
				c.m = map[stmtKey]*sql.Stmt{}
			}
			c.m[k] = st
		}
		c.mu.Unlock()
	}
	return nil
}

func (c *stmtCache) lookup(pool *sql.DB, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[stmtKey{pool, query}]
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m, c.closed = nil, true
}

// hot returns the prepared statement of query for tx, or nil (not
// prepared: run the query as usual).
func (tx *Tx) hot(query string) *sql.Stmt {
	if tx.db.pg || tx.pool == nil {
		return nil
	}
	st := tx.db.stmts.lookup(tx.pool, query)
	if st == nil {
		return nil
	}
	if sqltx, ok := tx.q.(*sql.Tx); ok {
		st = sqltx.StmtContext(tx.ctx, st)
	}
	return st
}

// hotQuery, hotQueryRow and hotExec run a query through its prepared
// statement when there is one.
func (tx *Tx) hotQuery(query string, args ...any) (*sql.Rows, error) {
	if st := tx.hot(query); st != nil {
		return st.QueryContext(tx.ctx, args...)
	}
	return tx.query(query, args...)
}

func (tx *Tx) hotQueryRow(query string, args ...any) *sql.Row {
	if st := tx.hot(query); st != nil {
		return st.QueryRowContext(tx.ctx, args...)
	}
	return tx.queryRow(query, args...)
}

func (tx *Tx) hotExec(query string, args ...any) (sql.Result, error) {
	if st := tx.hot(query); st != nil {
		return st.ExecContext(tx.ctx, args...)
	}
	return tx.exec(query, args...)
}

package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements of the queries that run often. On
// SQLite preparing a statement costs about as much as running it (a
// create ran a dozen statements, and parsing them took a sixth of its
// CPU); pgx caches prepared statements by itself, so PostgreSQL does not
// use this cache. The text is the key.
//
// A statement is created on a pool by prepare, outside any transaction of
// that pool (the SQLite writer has one connection, which a transaction
// holds); inside a transaction hot reuses it through Tx.StmtContext, which
// prepares it on the transaction's own connection once. A text that runs
// autoPrepareAfter times unprepared is prepared after the transaction it
// ran in has ended (see prepareWanted); texts built with values in them
// never repeat often enough to fill the cache.
type stmtCache struct {
	mu     sync.Mutex
	m      map[stmtKey]*sql.Stmt
	closed bool
	seen   map[stmtKey]int // runs of texts not prepared
	wanted []stmtKey       // texts to prepare once their pool is free
}

// autoPrepareAfter is how many times a text runs unprepared before it is
// prepared; maxSeenStmts bounds the texts counted, and maxAutoPrepareText
// their length.
const (
	autoPrepareAfter   = 3
	maxSeenStmts       = 1024
	maxAutoPrepareText = 2048
)

// note counts a run of query on pool without a prepared statement. Long
// texts (batches of many rows) are not counted: they are prepared by
// their batcher when they recur, and keeping them would cost memory.
func (c *stmtCache) note(pool *sql.DB, query string) {
	if len(query) > maxAutoPrepareText {
		return
	}
	k := stmtKey{pool, query}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.m) >= maxCachedStmts {
		return
	}
	if c.seen == nil || len(c.seen) >= maxSeenStmts {
		c.seen = map[stmtKey]int{}
	}
	if c.seen[k]++; c.seen[k] == autoPrepareAfter {
		c.wanted = append(c.wanted, k)
	}
}

// prepareWanted prepares the statements wanted on pool. The caller must
// hold no transaction or connection of pool.
func (db *DB) prepareWanted(pool *sql.DB) {
	c := &db.stmts
	c.mu.Lock()
	var qs []string
	rest := c.wanted[:0]
	for _, k := range c.wanted {
		if k.pool == pool {
			qs = append(qs, k.query)
		} else {
			rest = append(rest, k)
		}
	}
	c.wanted = rest
	c.mu.Unlock()
	if len(qs) > 0 {
		// A text that cannot be prepared runs unprepared, as before.
		db.prepare(context.Background(), pool, qs...)
	}
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
// prepared: run the query as usual, and count the run).
func (tx *Tx) hot(query string) *sql.Stmt {
	if tx.db.pg || tx.pool == nil {
		return nil
	}
	st := tx.db.stmts.lookup(tx.pool, query)
	if st == nil {
		tx.db.stmts.note(tx.pool, query)
		return nil
	}
	if sqltx, ok := tx.q.(*sql.Tx); ok {
		st = sqltx.StmtContext(tx.ctx, st)
	}
	return st
}

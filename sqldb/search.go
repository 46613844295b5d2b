package sqldb

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The search index (address_search: on SQLite an FTS5 table, on
// PostgreSQL a table with a pg_trgm GIN index) is brought up to date in
// batches. A write that creates, changes or deletes an address only notes
// its id in address_search_pending; a later write moves the noted rows
// into the index. FTS5 writes every transaction's entries as a new segment
// and merges segments as they pile up, so a segment per single create cost
// more than the rest of the create; a batch of a thousand rows makes one
// dense segment instead. On PostgreSQL a row's GIN entries cost about as
// much as the rest of its indexes: a bulk import leaves them to the move.
//
// A search stays exact meanwhile: it takes the index's rows less the
// pending ones, and checks the pending rows' current text directly (see
// queryCondition).
//
// On SQLite, this process's writes are the only ones, and it moves the rows
// once a batch is noted (noteSearchBacklog). On PostgreSQL, where other
// instances and the command line write too, the server moves whatever is
// pending every few seconds (RunSearchIndexer), one instance at a time.

// searchBatch is the number of pending rows at which SQLite moves them into
// the index; a search there reads at most about that many rows directly (on
// PostgreSQL, up to an import's rows for the seconds until the next move).
const searchBatch = 1000

// searchState is the DB's count of pending rows that its own writes
// noted, and whether a move into the index is running.
type searchState struct {
	pending atomic.Int64
	moving  atomic.Bool
	wg      sync.WaitGroup // the running move
}

// searchChanged notes that the search texts of the addresses ids changed
// (or that they were created or deleted).
func (tx *Tx) searchChanged(ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	head, tail := "INSERT OR IGNORE INTO address_search_pending (id)", ""
	if tx.db.pg {
		// The row is written even when it is there already, so that the
		// write holds its lock: a move that runs meanwhile either waits
		// for this write to commit, and then reads its text, or took the
		// row out before, and this write puts it back (see moveSearchBatch).
		head, tail = "INSERT INTO address_search_pending (id)", " ON CONFLICT (id) DO UPDATE SET id = excluded.id"
	}
	err := tx.insertLater(head, tail, 1, len(ids), func(dst []any, i int) []any {
		return append(dst, ids[i])
	})
	if err == nil {
		tx.searchNoted += len(ids)
	}
	return err
}

// noteSearchBacklog counts n more pending rows after a commit and, on
// SQLite, starts moving them into the index once a batch is full.
func (db *DB) noteSearchBacklog(n int) {
	if db.pg || n == 0 || db.search.pending.Add(int64(n)) < searchBatch || !db.search.moving.CompareAndSwap(false, true) {
		return
	}
	db.search.wg.Go(func() {
		defer db.search.moving.Store(false)
		// A failure leaves the rows pending: searches stay exact, and the
		// next batch tries again.
		db.IndexPendingSearch(context.Background())
	})
}

// IndexPendingSearch moves every pending row into the search index: on
// SQLite in one write, on PostgreSQL in writes of searchMoveBatch rows,
// unless another instance is moving them at the same time. The server
// does it by itself (see noteSearchBacklog and RunSearchIndexer).
func (db *DB) IndexPendingSearch(ctx context.Context) error {
	if !db.pg {
		db.search.pending.Store(0)
		return db.write(ctx, func(tx *Tx) error {
			return tx.indexPendingSearch()
		})
	}
	for {
		moved := 0
		err := db.write(ctx, func(tx *Tx) (err error) {
			moved, err = tx.moveSearchBatch()
			return err
		})
		if err != nil || moved < searchMoveBatch {
			return err
		}
	}
}

// indexPendingSearch replaces SQLite's index rows of the pending
// addresses by their current texts and empties the pending list.
func (tx *Tx) indexPendingSearch() error {
	for _, q := range []string{
		"DELETE FROM address_search WHERE rowid IN (SELECT id FROM address_search_pending)",
		// IN, not a join: the planner, which knows the size of addresses
		// from ANALYZE but not of the pending list, scanned every address
		// for a join (a second per batch at 500,000 hosts).
		"INSERT INTO address_search (rowid, search) SELECT id, search FROM addresses WHERE id IN (SELECT id FROM address_search_pending)",
		"DELETE FROM address_search_pending",
	} {
		if _, err := tx.exec(q); err != nil {
			return err
		}
	}
	return nil
}

// searchMoveBatch is the most pending rows a write moves into the index on
// PostgreSQL, so that a move after a bulk import does not hold the writes
// of its instance back for long.
const searchMoveBatch = 5000

// searchMoveLock is the key of the PostgreSQL advisory lock that the
// instance moving pending rows into the search index holds.
const searchMoveLock int64 = 0x6970_6465_736c // "ipdesl"

// moveSearchBatch moves up to searchMoveBatch pending rows into the index
// on PostgreSQL and returns how many it took, 0 when another instance is
// moving rows. The rows leave the pending list in one statement, and
// their texts are read by a later one: a write that noted a row again
// holds its lock (see searchChanged), so the delete waits for that write
// to commit and the read, which sees what committed before it started,
// gets the write's text; a write that notes a row after it left puts it
// back for the next move.
func (tx *Tx) moveSearchBatch() (int, error) {
	var mine bool
	if err := tx.queryRow("SELECT pg_try_advisory_xact_lock($1)", searchMoveLock).Scan(&mine); err != nil || !mine {
		return 0, err
	}
	rows, err := tx.query("DELETE FROM address_search_pending WHERE id IN (SELECT id FROM address_search_pending ORDER BY id LIMIT $1) RETURNING id", searchMoveBatch)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return 0, err
	}
	if _, err := tx.exec("DELETE FROM address_search WHERE id = ANY($1)", ids); err != nil {
		return 0, err
	}
	if _, err := tx.exec("INSERT INTO address_search (id, search) SELECT id, search FROM addresses WHERE id = ANY($1)", ids); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// searchIndexInterval is how often the server moves pending rows into the
// search index on PostgreSQL.
const searchIndexInterval = 2 * time.Second

// RunSearchIndexer moves the rows pending for the search index into it
// every few seconds, until ctx ends; on SQLite, whose writes move them
// themselves, it only waits for ctx. A failure is logged by the caller's
// logger, if given, and tried again at the next look.
func (db *DB) RunSearchIndexer(ctx context.Context, logf func(err error)) {
	if !db.pg {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(searchIndexInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var waiting bool
		err := db.readOne(ctx, func(tx *Tx) error {
			return tx.queryRow("SELECT EXISTS (SELECT 1 FROM address_search_pending)").Scan(&waiting)
		})
		if err == nil && waiting {
			err = db.IndexPendingSearch(ctx)
		}
		if err != nil && ctx.Err() == nil && logf != nil {
			logf(err)
		}
	}
}

// waitSearch waits for a running move into the index to end.
func (db *DB) waitSearch() { db.search.wg.Wait() }

// searchMatch is the SQLite condition that an address's search text holds
// the lower-case text f, whose argument a gets: through the index for the
// rows it holds up to date, on the text itself for the pending ones and
// for texts too short for trigrams.
func searchMatch(f string, a *args, trigrams bool) string {
	if !trigrams {
		return "instr(search, " + a.add(f) + ") > 0"
	}
	return "((id IN (SELECT rowid FROM address_search WHERE search GLOB " + a.add("*"+globEscape(f)+"*") +
		") AND id NOT IN (SELECT id FROM address_search_pending)) OR (id IN (SELECT id FROM address_search_pending) AND instr(search, " + a.add(f) + ") > 0))"
}

// searchMatchPG is the PostgreSQL condition that an address's search text
// holds the lower-case text f: the ids of the index's rows that hold it
// (through the trigram index, where pg_trgm exists) less the pending ones,
// and of the pending rows whose current text holds it. The ids are
// computed first (ARRAY of a subquery), so that the addresses are read by
// their primary key instead of scanned.
func searchMatchPG(f string, a *args) string {
	return `id = ANY (ARRAY(SELECT s.id FROM address_search s WHERE s.search LIKE ` + a.add("%"+likeEscape(f)+"%") + ` ESCAPE ''` +
		` AND NOT EXISTS (SELECT 1 FROM address_search_pending p WHERE p.id = s.id)` +
		` UNION ALL SELECT p.id FROM address_search_pending p JOIN addresses c ON c.id = p.id WHERE strpos(c.search, ` + a.add(f) + `) > 0))`
}

// globEscape makes s match itself in a GLOB pattern: its wildcards and
// brackets become one-character classes.
func globEscape(s string) string {
	return strings.NewReplacer("*", "[*]", "?", "[?]", "[", "[[]").Replace(s)
}

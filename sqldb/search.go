package sqldb

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
)

// The search index on SQLite (address_search: FTS5, trigram) is brought
// up to date in batches. A write that creates, changes or deletes an
// address only notes its id in address_search_pending; once enough ids
// wait, one write moves them all into the index. FTS5 writes every
// transaction's entries as a new segment and merges segments as they
// pile up, so a segment per single create cost more than the rest of the
// create; a batch of a thousand rows makes one dense segment instead.
//
// A search stays exact meanwhile: it takes the index's rows less the
// pending ones, and checks the pending rows' current text directly (see
// queryCondition). PostgreSQL has no such index; its trigram index is
// updated by PostgreSQL itself.

// searchBatch is the number of pending rows at which they are moved into
// the index; a search reads at most about that many rows directly.
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
	if tx.db.pg || len(ids) == 0 {
		return nil
	}
	err := tx.insertMany("INSERT OR IGNORE INTO address_search_pending (id)", "", 1, len(ids), func(dst []any, i int) []any {
		return append(dst, ids[i])
	}, nil)
	if err == nil {
		tx.searchNoted += len(ids)
	}
	return err
}

// noteSearchBacklog counts n more pending rows after a commit and starts
// moving them into the index once a batch is full.
func (db *DB) noteSearchBacklog(n int) {
	if n == 0 || db.search.pending.Add(int64(n)) < searchBatch || !db.search.moving.CompareAndSwap(false, true) {
		return
	}
	db.search.wg.Go(func() {
		defer db.search.moving.Store(false)
		// A failure leaves the rows pending: searches stay exact, and the
		// next batch tries again.
		db.IndexPendingSearch(context.Background())
	})
}

// IndexPendingSearch moves every pending row into SQLite's search index
// in one write (see searchBatch); on PostgreSQL it does nothing. The
// server also does it by itself whenever a batch is full.
func (db *DB) IndexPendingSearch(ctx context.Context) error {
	if db.pg {
		return nil
	}
	db.search.pending.Store(0)
	return db.write(ctx, func(tx *Tx) error {
		return tx.indexPendingSearch()
	})
}

// indexPendingSearch replaces the index rows of the pending addresses by
// their current texts and empties the pending list.
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

// globEscape makes s match itself in a GLOB pattern: its wildcards and
// brackets become one-character classes.
func globEscape(s string) string {
	return strings.NewReplacer("*", "[*]", "?", "[?]", "[", "[[]").Replace(s)
}

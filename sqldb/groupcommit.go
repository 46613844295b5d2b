package sqldb

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit: the writes that arrive while a transaction is being
// written and synced to disk wait, and then share the next transaction,
// one savepoint each, and its single sync. On SQLite, which has one writer
// connection, a sync per write would otherwise bound the writes a second
// to the syncs the disk does a second, however many clients write; on
// PostgreSQL it saves the round trips of BEGIN and COMMIT and a WAL flush
// per write the same way.
//
// Each write still returns only after its transaction committed, so the
// caller's answer comes after its change is durable. A write that fails
// is rolled back to its savepoint and fails alone; the others of its
// group commit (see runGroup for failures of the disk).

// maxGroup bounds the writes of one transaction, so that a long queue is
// answered in several commits rather than one late one.
const maxGroup = 64

// pendingWrite is a write waiting in the queue for its group.
type pendingWrite struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	done chan error
	// Set by the group's leader before done is sent.
	audited     []string
	searchNoted int
	// presumed: the write's last run held statements whose success it
	// presumed (see presumeChecks); askFirst: they failed, and the write
	// presumes nothing any more.
	presumed, askFirst bool
}

// groupCommit is the queue of writes and whether a leader drains it.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*pendingWrite
	leading bool
	// subnetsHanded counts the allocations that knew their subnet from
	// the write before them (see subnetAfter), for tests.
	subnetsHanded atomic.Int64
	// presumed counts the allocations that presumed their checks (see
	// presumeChecks), for tests.
	presumed atomic.Int64
	// earlierStates counts the allocations that took their subnet's
	// state from an earlier transaction (see rememberAllocated), and
	// earlierMoved those of them whose check found it changed, for
	// tests.
	earlierStates, earlierMoved atomic.Int64
}

// write runs fn in a write transaction, committed with the other writes
// that arrive at the same time, and returns once it committed (or failed).
// fn may run on another goroutine than the caller's; it sees the writes
// of its group that came before it, as if they had committed before it
// began. The statements run with ctx's values but not its cancellation: a
// caller that gives up cannot interrupt its group. A write whose ctx ends
// before it starts is not run.
func (db *DB) write(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &pendingWrite{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g := &db.group
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		db.lead()
	}
	err := <-w.done
	if err == nil && db.OnCommit != nil && len(w.audited) > 0 {
		db.OnCommit(w.audited)
	}
	return err
}

// lead commits the next group of the queue, and hands the lead on to a
// new goroutine when more writes wait: the writer that led returns with
// its own group, and does not serve the others for as long as they come.
func (db *DB) lead() {
	g := &db.group
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = append([]*pendingWrite(nil), g.queue[n:]...)
	g.mu.Unlock()
	db.commitGroup(batch)
	// The writer's connection is free until the next group begins.
	db.prepareWanted(db.w)
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.leading = false
	} else {
		go db.lead()
	}
	g.mu.Unlock()
}

// commitGroup runs the writes of batch in one transaction and sends each
// its result. Writes that did not run because the transaction broke
// before their turn go back to the front of the queue.
func (db *DB) commitGroup(batch []*pendingWrite) {
	errs, txErr := db.runGroup(batch)
	db.settleGuards(batch, errs, txErr)
	var again []*pendingWrite
	for i, w := range batch {
		err := errs[i]
		switch {
		case err == errNotRun:
			again = append(again, w)
			continue
		case err == nil:
			err = txErr
		}
		if err != nil {
			w.audited = nil
		}
		w.done <- err
	}
	if len(again) > 0 {
		g := &db.group
		g.mu.Lock()
		g.queue = append(again, g.queue...)
		g.mu.Unlock()
	}
}

// errNotRun marks the writes of a group that did not run.
var errNotRun = errors.New("not run")

// runGroup runs the writes of batch in one transaction, each in a
// savepoint of its own when there are several, and commits it. errs holds
// the errors of the writes that failed by themselves (rolled back to their
// savepoints), and errNotRun for those after a write whose failure broke
// the transaction; txErr is set when the transaction failed as a whole,
// so that none of its writes committed.
//
// A write whose failure leaves no savepoint to return to (SQLite rolls
// back the whole transaction on a full disk or an I/O error) fails the
// writes before it in its group too: they cannot run again, since a write
// may leave results outside the database (counts, ids) that a second run
// would add to. Those are failures of the disk, which would fail them
// alone as well; errors of the writes themselves (invalid data, a
// conflict, a broken constraint) fail only the write. On PostgreSQL, where
// a write's last statements are held for the next round trip (see later),
// the held statements of an earlier write may fail only when a later one
// sends them; that later write, and every write between them, none of
// whose statements ran, runs again (see redoFrom), as does a write that
// presumed its checks (see presumeChecks) and met a rule of the schema.
func (db *DB) runGroup(batch []*pendingWrite) (errs []error, txErr error) {
	errs = make([]error, len(batch))
	t, err := db.beginGroup()
	if err != nil {
		return errs, mapError(err)
	}
	defer t.close()
	abort := func(at int, err error) ([]error, error) {
		t.rollback()
		db.prefixCache.reset()
		for j := at + 1; j < len(batch); j++ {
			errs[j] = errNotRun
		}
		return errs, mapError(err)
	}
	multi := len(batch) > 1
	// Each write of several runs in its savepoint. On PostgreSQL the
	// writes a write held (see later), the release of its savepoint and
	// the start of the next write's go with the next write's first round
	// trip, and the last write's held writes go with the commit; on
	// SQLite the release and the next savepoint follow the write at once.
	// A write that failed leaves its savepoint, rolled back to its start,
	// to the next write.
	open := false
	// handed: by the write that ran last and succeeded; for the first
	// write, by the last one of the group committed before.
	handed := db.takeAllocated()
	i := 0
	for {
		for ; i < len(batch); i++ {
			w := batch[i]
			if err := w.ctx.Err(); err != nil {
				errs[i] = err
				continue
			}
			tx := &Tx{q: t.q, pool: db.w, db: db, ctx: context.WithoutCancel(w.ctx), now: db.Now().UTC().Truncate(time.Microsecond), writes: true, conn: t.conn, index: i, before: handed, askFirst: w.askFirst}
			handed = nil
			if multi && !open {
				if err := t.statement("SAVEPOINT write"); err != nil {
					return abort(i-1, err)
				}
				open = true
			}
			t.hand(tx)
			last := i == len(batch)-1
			tx.guardWrite(w.ctx)
			var err error
			if !db.pg {
				// SQLite checks the guard first: a write refused by it
				// runs none of its statements.
				err = tx.holdGuard()
			}
			if err == nil {
				err = w.fn(tx)
			}
			if err == nil {
				err = tx.holdGuard()
			}
			deferred := false
			if err == nil && tx.heldErr == nil && tx.carryErr == nil {
				switch {
				case !last && multi && db.pg:
					tx.held = append(tx.held, heldWrite{query: "RELEASE write", owner: -1}, heldWrite{query: "SAVEPOINT write", owner: -1})
					deferred = true
				case !last && multi:
					err = tx.sendHeld("RELEASE write", "SAVEPOINT write")
				case last && db.pg:
					// The commit goes with the held writes: the transaction
					// ends here, unless a held write failed (see below).
					err = tx.sendHeld("COMMIT")
					switch {
					case err == nil:
						t.committed = true
					case tx.carryErr == nil && !t.failedInside():
						// The commit itself failed: none of the writes is.
						db.prefixCache.reset()
						t.gone = true
						return errs, mapError(err)
					}
				default:
					err = tx.sendHeld()
				}
			}
			t.takeBack(tx, deferred)
			w.presumed = tx.presumed
			switch {
			case tx.carryErr != nil:
				// The held writes of an earlier write failed when this one
				// sent them: that write is undone, and the group goes on
				// from it (see redoFrom).
				next, err := t.redoFrom(tx, batch, errs)
				handed = nil
				if err != nil {
					return abort(i-1, err)
				}
				i = next - 1
				continue
			case tx.heldErr != nil && tx.presumed:
				// Its own presumed statements failed (sent with the
				// commit): it runs again, asking first.
				db.prefixCache.reset()
				if isCode(tx.heldErr, qSubnetMoved) {
					db.group.earlierMoved.Add(1)
				}
				if err := t.undo(multi); err != nil {
					return abort(i, err)
				}
				w.askFirst = true
				i--
				continue
			}
			if err != nil || tx.heldErr != nil {
				if tx.heldErr != nil {
					// A held write failed, and with it the statement after it.
					err = tx.heldErr
				}
				errs[i] = mapError(err)
				// Caches filled inside the write may hold what it undoes.
				db.prefixCache.reset()
				if !multi {
					t.rollback()
					return errs, nil
				}
				if err := t.rollbackTo(); err != nil {
					return abort(i, err)
				}
			} else {
				w.audited, w.searchNoted = tx.audited, tx.searchNoted
				if db.pg {
					handed = tx.after
				}
			}
		}
		// Whatever is still held goes with the commit.
		tx := &Tx{q: t.q, pool: db.w, db: db, ctx: context.Background(), writes: true, conn: t.conn, index: -1}
		t.hand(tx)
		err := t.commit(tx)
		t.takeBack(tx, false)
		if tx.carryErr != nil {
			next, err := t.redoFrom(tx, batch, errs)
			handed = nil
			if err != nil {
				return abort(len(batch)-1, err)
			}
			i = next
			continue
		}
		if err != nil {
			db.prefixCache.reset()
			return errs, mapError(err)
		}
		break
	}
	if db.pg {
		db.rememberAllocated(handed)
	}
	noted := 0
	for i, w := range batch {
		if errs[i] == nil {
			noted += w.searchNoted
		}
	}
	db.noteSearchBacklog(noted)
	return errs, nil
}

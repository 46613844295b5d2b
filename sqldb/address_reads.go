package sqldb

import (
	"context"
	"sync"
	"time"

	"ipdesk"
)

// Reads of one address by its id (PostgreSQL), the API's most frequent
// request, are shared between the requests that arrive together: one
// statement reads the addresses of them all. Each read by itself is a
// round trip to another process, whose cost (the messages, the wake-ups
// on both sides, the statement's start) is most of what the read costs;
// shared, that cost is paid once per round trip instead of once per
// request (in bench/run.sh half again the GETs a second, with PostgreSQL
// spending a fifth of the CPU per GET it spent before). A request joins
// the next read that starts after it arrived, never one already under
// way, so it sees every change committed before it arrived, as a read of
// its own would. On SQLite, a library call in ipdesk's own process, each
// request reads by itself: shared reads there (the ids as a JSON array)
// cost as much CPU per GET or more, in turns with reads of their own.

const (
	qAddressesByIDs        = "SELECT " + addressColumns + " FROM addresses WHERE id = ANY($1)"
	qAddressesByIDsAtEpoch = "SELECT " + addressColumns + ", (" + qAuthEpoch + ") FROM addresses WHERE id = ANY($1)"
)

// addressReadTimeout bounds one shared read.
const addressReadTimeout = 10 * time.Second

// addressReads queues the reads of addresses by id: with one read under
// way, the requests that arrive meanwhile wait for the one read that
// follows it, so that under load a statement serves many requests.
type addressReads struct {
	mu      sync.Mutex
	running bool         // a read is under way
	next    *addressRead // the read that starts when the running one ends

	// beforeRead, if set, is called with the ids before each statement
	// (for tests).
	beforeRead func(ids []int64)
}

// addressRead is one statement and the requests waiting for it.
type addressRead struct {
	done    chan struct{} // closed when found, epoch and err are set
	ids     []int64
	guarded bool // some request checks an AuthGuard: read the epoch along
	found   map[int64]*ipdesk.Address
	epoch   int64
	err     error
}

// findAddressShared returns the address id from a read that started after
// it was called. A guard g (nil for none) is checked against the epoch
// the read saw along with the address, as FindAddressByID describes.
func (db *DB) findAddressShared(ctx context.Context, id int64, g *ipdesk.AuthGuard) (*ipdesk.Address, error) {
	r := &db.addressReads
	r.mu.Lock()
	if r.next == nil {
		r.next = &addressRead{done: make(chan struct{})}
	}
	rd := r.next
	rd.ids = append(rd.ids, id)
	rd.guarded = rd.guarded || g != nil
	if !r.running {
		r.running, r.next = true, nil
		r.mu.Unlock()
		db.runAddressRead(rd)
	} else {
		r.mu.Unlock()
	}
	select {
	case <-rd.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if rd.err != nil {
		return nil, rd.err
	}
	a, ok := rd.found[id]
	if !ok {
		// No row carried the epoch: the guard waits for the request's
		// next statement, or its own read of the epoch.
		return nil, notFound("address", id)
	}
	if g != nil {
		if rd.epoch != g.Epoch {
			return nil, ipdesk.ErrAuthChanged
		}
		g.Confirm()
	}
	c := *a // each request gets an address of its own
	return &c, nil
}

// runAddressRead performs rd, then the read that requests queued
// meanwhile (on a goroutine of its own, so that the caller goes on with
// its request).
func (db *DB) runAddressRead(rd *addressRead) {
	r := &db.addressReads
	if r.beforeRead != nil {
		r.beforeRead(rd.ids)
	}
	ctx, cancel := context.WithTimeout(context.Background(), addressReadTimeout)
	rd.found, rd.epoch, rd.err = db.readAddresses(ctx, rd.ids, rd.guarded)
	cancel()
	close(rd.done)
	r.mu.Lock()
	next := r.next
	r.next = nil
	r.running = next != nil
	r.mu.Unlock()
	if next != nil {
		go db.runAddressRead(next)
	}
}

// readAddresses reads the addresses of ids in one statement, and with
// withEpoch the authentication epoch along (0 when no row was found).
func (db *DB) readAddresses(ctx context.Context, ids []int64, withEpoch bool) (map[int64]*ipdesk.Address, int64, error) {
	q := qAddressesByIDs
	if withEpoch {
		q = qAddressesByIDsAtEpoch
	}
	rows, err := db.r.QueryContext(ctx, q, ids)
	if err != nil {
		return nil, 0, mapError(err)
	}
	defer rows.Close()
	found := make(map[int64]*ipdesk.Address, len(ids))
	er := &epochRows{resultRows: rows}
	var src resultRows = rows
	if withEpoch {
		src = er
	}
	for src.Next() {
		a, err := scanAddress(src)
		if err != nil {
			return nil, 0, mapError(err)
		}
		found[a.ID] = a
	}
	if err := rows.Err(); err != nil {
		return nil, 0, mapError(err)
	}
	return found, er.epoch, nil
}

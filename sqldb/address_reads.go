package sqldb

import (
	"context"
	"time"

	"ipdesk"
	"ipdesk/internal/sharedread"
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

// addressReads queues the reads of addresses by id (see sharedread).
type addressReads struct {
	q sharedread.Queue[addressRead]

	// beforeRead, if set, is called with the ids before each statement
	// (for tests).
	beforeRead func(ids []int64)
}

// addressRead is one statement: the ids its requests want, and what it
// found.
type addressRead struct {
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
	rd := db.addressReads.q.Join(func(r *addressRead) {
		r.ids = append(r.ids, id)
		r.guarded = r.guarded || g != nil
	}, db.runAddressRead)
	if err := rd.Wait(ctx); err != nil {
		return nil, err
	}
	if rd.R.err != nil {
		return nil, rd.R.err
	}
	a, ok := rd.R.found[id]
	if !ok {
		// No row carried the epoch: the guard waits for the request's
		// next statement, or its own read of the epoch.
		return nil, notFound("address", id)
	}
	if g != nil {
		if rd.R.epoch != g.Epoch {
			return nil, ipdesk.ErrAuthChanged
		}
		g.Confirm()
	}
	c := *a // each request gets an address of its own
	return &c, nil
}

// runAddressRead performs one read of addresses.
func (db *DB) runAddressRead(rd *addressRead) {
	if f := db.addressReads.beforeRead; f != nil {
		f(rd.ids)
	}
	ctx, cancel := context.WithTimeout(context.Background(), addressReadTimeout)
	defer cancel()
	rd.found, rd.epoch, rd.err = db.readAddresses(ctx, rd.ids, rd.guarded)
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

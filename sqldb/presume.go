package sqldb

import (
	"errors"
	"strings"
	"sync"

	"ipdesk"
)

// Presumed allocations (PostgreSQL). In a group commit an allocation from
// the subnet that the write before it allocated from knows the subnet
// from that write (see subnetAfter); what it still asked the database
// before its insert were the checks of its record and its id, one round
// trip, which the next write of the group waited for. Everything those
// checks refuse, the schema refuses too: the address and the MAC by their
// unique indexes, the location and the access level by their foreign
// keys, and a request let in on cached rights by the epoch check
// (qAuthEpochIs). So such an allocation presumes that it may be written:
// it takes its id from a block of the sequence fetched ahead, holds its
// statements (see later) like any write, and the next write starts at
// once. The only answer it needs, the other records with its hostname for
// its warning, is a held read (see laterRead) that goes with them.
//
// When a presumed write's statements fail, the write did not refuse
// itself with a message naming the field and the value: it is undone back
// to its savepoint and runs again, asking first (its checks then give the
// error, or it succeeds, if the conflict was another transaction's that
// went away), and the writes after it in the group, of which nothing ran,
// run again after it (see runGroup). A write that needs a check the
// schema does not make (a DHCP reservation checked against the other
// spaces', see checkReservation) asks first.

// idBlock is how many ids of the addresses' sequence a block holds.
const idBlock = 32

// idPool holds the ids of the addresses' sequence fetched ahead.
type idPool struct {
	mu  sync.Mutex
	ids []int64
}

// take returns an id of the pool, if it has one.
func (p *idPool) take() (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ids) == 0 {
		return 0, false
	}
	id := p.ids[len(p.ids)-1]
	p.ids = p.ids[:len(p.ids)-1]
	return id, true
}

// add puts ids into the pool.
func (p *idPool) add(ids []int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, ids...)
}

// addressIDs is a read of the next id of the addresses' sequence into id,
// and of a block more for the pool when it is empty. It can carry the
// authentication epoch (see pipeRead.atEpoch).
func (db *DB) addressIDs(id *int64) pipeRead {
	n := 1
	if db.idsAhead.empty() {
		n += idBlock
	}
	seq := "nextval(" + db.addressSeq + ")"
	from := " FROM generate_series(1, $1)"
	return pipeRead{query: "SELECT " + seq + from, args: []any{n}, atEpoch: "SELECT " + seq + ", (" + qAuthEpoch + ")" + from,
		scan: func(rows resultRows) error {
			var ids []int64
			for rows.Next() {
				var v int64
				if err := rows.Scan(&v); err != nil {
					return err
				}
				ids = append(ids, v)
			}
			if len(ids) == 0 {
				return errors.New("the sequence of addresses gave no id")
			}
			*id = ids[0]
			db.idsAhead.add(ids[1:])
			return nil
		}}
}

// empty tells whether the pool has no id.
func (p *idPool) empty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ids) == 0
}

// mayPresume tells whether the allocation of a into subnet p, which the
// write before handed on, may presume its checks: on PostgreSQL, unless
// it ran before and its presumed statements failed, or a needs a check
// the schema does not make.
func (tx *Tx) mayPresume(a *ipdesk.Address, p *ipdesk.Prefix) bool {
	return tx.db.pg && tx.writes && tx.conn != nil && !tx.askFirst && !tx.reservationChecked(a, p)
}

// presumeChecks is what a presumed allocation of a (with its id) into
// subnet p does instead of its checks: the one the database cannot make,
// the epoch check of its guard held first, and the read of the other
// records with its hostname held for its warnings, which it sets.
func (tx *Tx) presumeChecks(a *ipdesk.Address, p *ipdesk.Prefix, warnings *[]ipdesk.Warning) error {
	if ipdesk.IsReservedInSubnet(p.Prefix, a.Addr) {
		return reservedAddressError(a, p)
	}
	if err := tx.holdGuard(); err != nil {
		return err
	}
	tx.presumed = true
	tx.db.group.presumed.Add(1)
	if a.Hostname == "" {
		return nil
	}
	// A value that cannot be read (none can: the addresses are text) is
	// left out of the warning.
	return tx.laterRead(qHostnameUsers, []any{strings.ToLower(a.Hostname), a.ID}, func(rows resultRows) {
		var others []string
		for rows.Next() {
			var s string
			if rows.Scan(&s) == nil {
				others = append(others, s)
			}
		}
		*warnings = hostnameWarnings(a.Hostname, others)
	})
}

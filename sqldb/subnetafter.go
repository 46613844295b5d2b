package sqldb

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"

	"github.com/jackc/pgx/v5/pgconn"

	"ipdesk"
	"ipdesk/ipam"
)

// What an allocation hands to the next write of its group (PostgreSQL).
// The writes of a group run one after the other in one transaction, so
// that its allocations from one subnet form a chain, each waiting for the
// one before. The first of them reads the subnet with its row lock and its
// chunk counts; what it then took tells the next one, exactly, what those
// reads would find: the transaction still holds the lock, which every
// writer of the subnet's addresses takes, the mark of full chunks stayed,
// and one more address of the mark's chunk is used, the new highest one
// unless a higher one was. The next allocation from the subnet, if it is
// the next write of the group and searches from the start, skips the two
// reads. Whatever else happens (another write in between, a failure, a
// rollback, a search from an address, a mark that moved) hands nothing on.

// subnetAfter is a subnet as an allocation left it: the subnet, its mark
// of full chunks, and the chunk counts from the mark on with the highest
// used address of the mark's chunk.
type subnetAfter struct {
	p    *ipdesk.Prefix
	mark subnetMark
	pre  chunksAhead
	// earlier: the state was left by an earlier transaction of this
	// server (see lastAllocated), not by the write before in this one:
	// nothing holds the subnet's lock, and other writers may have
	// changed it since.
	earlier bool
}

// allocatedFrom returns what the allocation of a from subnet p, whose
// search from the start (from invalid) used mark and pre, hands on, or nil
// when it cannot tell: the search did not start at the mark, pre read
// nothing, or a lies outside the mark's chunk (the mark moves then).
func allocatedFrom(p *ipdesk.Prefix, mark subnetMark, pre chunksAhead, from, a netip.Addr) *subnetAfter {
	start := pre.start
	if from.IsValid() || !start.IsValid() || mark.fullBelow != start || !pre.top.known || ipam.ChunkOf(a) != start {
		return nil
	}
	counts := slices.Clone(pre.counts)
	if len(counts) > 0 && counts[0].start == start {
		counts[0].used++
	} else {
		counts = slices.Insert(counts, 0, chunkCount{start: start, used: 1})
	}
	top := pre.top
	if k := ipam.Key(a); top.key == nil || bytes.Compare(k, top.key) > 0 {
		top.key = k
	}
	return &subnetAfter{p: p, mark: mark, pre: chunksAhead{start: start, counts: counts, top: top}}
}

// Across transactions (PostgreSQL). A client that allocates one address
// after the other makes groups of one write each, so that no allocation
// knows its subnet from a write before it in its group. The state the
// last allocation of a group left is kept (see lastAllocated) for the
// next group's first write: when that allocates from the same subnet,
// may presume its checks (see mayPresume), and the state tells its
// address without a read (see nextInRun), it asks nothing either. Since
// the state may be stale, the allocation holds, first of all its
// statements, the check ipdesk_subnet_is (migration 0018): it takes the
// subnet's lock, and fails unless the subnet's version, its mark, the
// used count of the mark's chunk and the highest used address in it are
// still what the state says, which is all the address depended on. When
// it fails, the write runs again, asking first (see runGroup).

// remember keeps what the last write of a committed group handed on, for
// the next group's first write.
func (db *DB) rememberAllocated(k *subnetAfter) {
	if k != nil {
		k = &subnetAfter{p: k.p, mark: k.mark, pre: k.pre, earlier: true}
	}
	db.lastAllocated.Store(k)
}

// takeAllocated returns what the last committed group's last write handed
// on, if anything, and forgets it: a group that fails leaves nothing.
func (db *DB) takeAllocated() *subnetAfter {
	return db.lastAllocated.Swap(nil)
}

// nextInRun returns the first free address of the subnet in state k when
// the state tells it without a read: the mark's chunk is a run of used
// addresses from its first host address without gaps (see denseNext),
// which ends before the chunk does.
func (k *subnetAfter) nextInRun() (netip.Addr, bool) {
	start, pre := k.pre.start, &k.pre
	if !start.IsValid() || k.mark.fullBelow != start || len(pre.counts) == 0 || pre.counts[0].start != start || !pre.top.known || pre.top.key == nil {
		return netip.Addr{}, false
	}
	hostLo, hi := ipam.HostBounds(k.p.Prefix)
	if start.BitLen() != hostLo.BitLen() || start.Less(ipam.ChunkOf(hostLo)) || hi.Less(start) {
		return netip.Addr{}, false
	}
	last, ok := ipam.AddrFromKey(pre.top.key)
	if !ok {
		return netip.Addr{}, false
	}
	first, end := runBounds(start, hostLo, hi)
	return denseNext(k.p, first, end, last, pre.counts[0].used)
}

// checkSubnetIs holds the check that subnet state k, from an earlier
// transaction, is still the subnet's (see above).
func (tx *Tx) checkSubnetIs(k *subnetAfter) error {
	var used uint64
	if len(k.pre.counts) > 0 && k.pre.counts[0].start == k.pre.start {
		used = k.pre.counts[0].used
	}
	return tx.later(qSubnetIs, k.p.ID, k.p.Version, ipam.Key(k.mark.fullBelow), int64(used), k.pre.top.key)
}

// qSubnetIs fails the transaction with qSubnetMoved unless the subnet is
// in the state given (migration 0018).
const (
	qSubnetIs    = "SELECT ipdesk_subnet_is($1, $2, $3, $4, $5)"
	qSubnetMoved = "IP002"
)

// subnetBefore returns what the write before tx in its group handed on of
// subnet prefixID, when an allocation from it searching from from may use
// it, or nil.
func (tx *Tx) subnetBefore(prefixID int64, from netip.Addr) *subnetAfter {
	b := tx.before
	if b == nil || from.IsValid() || b.p.ID != prefixID {
		return nil
	}
	if !b.earlier {
		tx.db.group.subnetsHanded.Add(1)
	}
	return b
}

// isCode tells whether err is a PostgreSQL error with SQLSTATE code.
func isCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

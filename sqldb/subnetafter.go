package sqldb

import (
	"bytes"
	"net/netip"
	"slices"

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

// subnetBefore returns what the write before tx in its group handed on of
// subnet prefixID, when an allocation from it searching from from may use
// it, or nil.
func (tx *Tx) subnetBefore(prefixID int64, from netip.Addr) *subnetAfter {
	b := tx.before
	if b == nil || from.IsValid() || b.p.ID != prefixID {
		return nil
	}
	tx.db.group.subnetsHanded.Add(1)
	return b
}

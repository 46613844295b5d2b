// Package ipam is ipdesk's address maths on net/netip: sortable address
// keys, prefix bounds and sizes, first free address, free ranges and next
// free child prefix. It does no I/O.
package ipam

import (
	"math"
	"math/big"
	"math/bits"
	"net/netip"

	"go4.org/netipx"
)

// KeyLen is the length of an address key in bytes.
const KeyLen = 16

// Key returns the 16-byte big-endian key of a. IPv4 addresses are mapped
// into ::ffff:0:0/96, so keys of both families compare like the addresses
// (bytewise, as SQLite's BLOB and PostgreSQL's bytea do).
func Key(a netip.Addr) []byte {
	b := a.Unmap().As16()
	return b[:]
}

// AddrFromKey is the inverse of Key. Keys inside ::ffff:0:0/96 give IPv4
// addresses.
func AddrFromKey(k []byte) (netip.Addr, bool) {
	if len(k) != KeyLen {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16([KeyLen]byte(k)).Unmap(), true
}

// Bounds returns the first and last address of p.
func Bounds(p netip.Prefix) (first, last netip.Addr) {
	r := netipx.RangeOfPrefix(p.Masked())
	return r.From(), r.To()
}

// hostBits returns the number of host bits of p.
func hostBits(p netip.Prefix) int {
	return p.Addr().BitLen() - p.Bits()
}

// Size returns the number of addresses in p, saturated at math.MaxUint64.
func Size(p netip.Prefix) uint64 {
	h := hostBits(p)
	if h >= 64 {
		return math.MaxUint64
	}
	return 1 << uint(h)
}

// RangeSize returns the number of addresses from a to b inclusive,
// saturated at math.MaxUint64; 0 when b is before a.
func RangeSize(a, b netip.Addr) uint64 {
	if b.Less(a) {
		return 0
	}
	ah, al := split(a)
	bh, bl := split(b)
	lo, borrow := bits.Sub64(bl, al, 0)
	hi, _ := bits.Sub64(bh, ah, borrow)
	if hi != 0 || lo == math.MaxUint64 {
		return math.MaxUint64
	}
	return lo + 1
}

func split(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return hi, lo
}

// HostBounds returns the first and last address of subnet p that a host
// may have: for IPv4 subnets shorter than /31 the network and broadcast
// addresses are left out.
func HostBounds(p netip.Prefix) (first, last netip.Addr) {
	first, last = Bounds(p)
	if p.Addr().Is4() && p.Bits() < 31 {
		return first.Next(), last.Prev()
	}
	return first, last
}

// Supernets returns every prefix that strictly contains p, from the
// longest (p's parent-to-be) to /0.
func Supernets(p netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, p.Bits())
	for b := p.Bits() - 1; b >= 0; b-- {
		out = append(out, netip.PrefixFrom(p.Addr(), b).Masked())
	}
	return out
}

// Contains reports whether outer contains inner (or equals it).
func Contains(outer, inner netip.Prefix) bool {
	return outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// ChunkBits is the number of low address bits a chunk spans: address use is
// counted per chunk of 256 addresses so that "first free" can skip full
// chunks without reading their addresses.
const ChunkBits = 8

// ChunkOf returns the first address of the chunk that holds a.
func ChunkOf(a netip.Addr) netip.Addr {
	p, _ := a.Prefix(a.BitLen() - ChunkBits)
	return p.Addr()
}

// ChunkEnd returns the last address of the chunk that starts at c.
func ChunkEnd(c netip.Addr) netip.Addr {
	_, last := Bounds(netip.PrefixFrom(c, c.BitLen()-ChunkBits))
	return last
}

// NextChunk returns the start of the chunk after the one starting at c,
// and false at the end of the address space.
func NextChunk(c netip.Addr) (netip.Addr, bool) {
	n := ChunkEnd(c).Next()
	return n, n.IsValid()
}

// ChunkCapacity returns how many addresses of subnet p, inside the chunk
// starting at c, a host may have.
func ChunkCapacity(p netip.Prefix, c netip.Addr) uint64 {
	lo, hi := HostBounds(p)
	ce := ChunkEnd(c)
	if c.Compare(lo) > 0 {
		lo = c
	}
	if ce.Compare(hi) < 0 {
		hi = ce
	}
	return RangeSize(lo, hi)
}

// FirstFree returns the first address in [lo, hi] that is not in used (sorted
// ascending) and is not skip (pass the zero Addr to skip nothing).
func FirstFree(lo, hi netip.Addr, used []netip.Addr, skip netip.Addr) (netip.Addr, bool) {
	i := 0
	for c := lo; c.IsValid() && c.Compare(hi) <= 0; c = c.Next() {
		if c == skip {
			continue
		}
		for i < len(used) && used[i].Less(c) {
			i++
		}
		if i < len(used) && used[i] == c {
			continue
		}
		return c, true
	}
	return netip.Addr{}, false
}

// Range is an inclusive address range.
type Range struct{ From, To netip.Addr }

// FreeRanges returns the ranges in [lo, hi] not covered by used (sorted
// ascending) and not equal to skip, stopping after max ranges (max ≤ 0:
// no limit).
func FreeRanges(lo, hi netip.Addr, used []netip.Addr, skip netip.Addr, max int) []Range {
	var out []Range
	c := lo
	add := func(to netip.Addr) bool {
		if !c.IsValid() || to.Less(c) {
			return true
		}
		if skip.IsValid() && c.Compare(skip) <= 0 && skip.Compare(to) <= 0 {
			if c != skip {
				out = append(out, Range{c, skip.Prev()})
			}
			if max > 0 && len(out) >= max {
				return false
			}
			if skip != to {
				out = append(out, Range{skip.Next(), to})
			}
		} else {
			out = append(out, Range{c, to})
		}
		return max <= 0 || len(out) < max
	}
	for _, u := range used {
		if u.Less(c) || u.Compare(hi) > 0 {
			continue
		}
		if c.Less(u) && !add(u.Prev()) {
			return out[:max]
		}
		c = u.Next()
		if !c.IsValid() {
			return out
		}
	}
	if c.IsValid() && c.Compare(hi) <= 0 {
		add(hi)
	}
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out
}

// NextFreePrefix returns the first prefix of the given length inside parent
// that overlaps none of children. children must be sorted by their first
// address and be disjoint (the direct children of parent).
func NextFreePrefix(parent netip.Prefix, children []netip.Prefix, bits int) (netip.Prefix, bool) {
	blocks := make([]Block, len(children))
	for i, c := range children {
		blocks[i] = BlockOf(c)
	}
	return NextFreeBlock(parent, blocks, bits)
}

// freeSet returns the part of parent not covered by children.
func freeSet(parent netip.Prefix, children []netip.Prefix) *netipx.IPSet {
	var b netipx.IPSetBuilder
	b.AddPrefix(parent.Masked())
	for _, c := range children {
		b.RemovePrefix(c)
	}
	s, _ := b.IPSet()
	return s
}

// FreePrefixes returns the largest aligned prefixes of parent that overlap
// none of children, in address order.
func FreePrefixes(parent netip.Prefix, children []netip.Prefix) []netip.Prefix {
	return freeSet(parent, children).Prefixes()
}

// FreePrefixesPage returns the free prefixes of parent (those FreePrefixes
// returns) from the offset-th on, at most limit of them. children must be
// disjoint prefixes inside parent, sorted by address, such as the direct
// children of a container. It walks the gaps between the children in order
// and stops once the page is full, so a first page costs what it holds
// plus a pass over the children before it, not a set of all of them.
func FreePrefixesPage(parent netip.Prefix, children []netip.Prefix, offset, limit int) []netip.Prefix {
	var out []netip.Prefix
	if limit <= 0 {
		return nil
	}
	first, end := Bounds(parent)
	// gap adds the free prefixes of [from, to]; false when the page is full.
	gap := func(from, to netip.Addr) bool {
		for _, p := range netipx.IPRangeFrom(from, to).Prefixes() {
			if offset > 0 {
				offset--
				continue
			}
			out = append(out, p)
			if len(out) == limit {
				return false
			}
		}
		return true
	}
	cursor := first
	for _, c := range children {
		cf, cl := Bounds(c)
		if cl.Less(cursor) {
			continue
		}
		if cursor.Less(cf) && !gap(cursor, cf.Prev()) {
			return out
		}
		if cl == end {
			return out
		}
		cursor = cl.Next()
	}
	gap(cursor, end)
	return out
}

// UncoveredRanges returns the ranges of parent that none of children cover.
func UncoveredRanges(parent netip.Prefix, children []netip.Prefix) []Range {
	rs := freeSet(parent, children).Ranges()
	out := make([]Range, len(rs))
	for i, r := range rs {
		out[i] = Range{r.From(), r.To()}
	}
	return out
}

// SizeBig returns the number of addresses in p, exactly (up to 2^128).
func SizeBig(p netip.Prefix) *big.Int {
	return new(big.Int).Lsh(big.NewInt(1), uint(hostBits(p)))
}

// RangeSizeBig returns the number of addresses from a to b inclusive,
// exactly; 0 when b is before a.
func RangeSizeBig(a, b netip.Addr) *big.Int {
	if b.Less(a) {
		return new(big.Int)
	}
	ab, bb := a.Unmap().As16(), b.Unmap().As16()
	n := new(big.Int).Sub(new(big.Int).SetBytes(bb[:]), new(big.Int).SetBytes(ab[:]))
	return n.Add(n, big.NewInt(1))
}

// CoveredSizeBig returns the number of addresses the given disjoint
// prefixes cover, exactly: two /48s in a /32 are 2^81 of 2^96, where
// CoveredSize saturates.
func CoveredSizeBig(prefixes []netip.Prefix) *big.Int {
	var small uint64 // the sum of the prefixes below 2^63 addresses, while it fits
	total := new(big.Int)
	for _, p := range prefixes {
		if h := hostBits(p); h < 63 && small+1<<uint(h) >= small {
			small += 1 << uint(h)
			continue
		}
		total.Add(total, SizeBig(p))
	}
	return total.Add(total, new(big.Int).SetUint64(small))
}

// CoveredSize returns the number of addresses the given disjoint prefixes
// cover, saturated at math.MaxUint64.
func CoveredSize(prefixes []netip.Prefix) uint64 {
	var n uint64
	for _, p := range prefixes {
		s := Size(p)
		if n+s < n {
			return math.MaxUint64
		}
		n += s
	}
	return n
}

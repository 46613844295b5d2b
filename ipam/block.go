package ipam

import (
	"math/bits"
	"net/netip"
)

// u128 is an address as a 128-bit unsigned integer (IPv4 mapped into
// ::ffff:0:0/96), for walks over many prefixes without netip overhead.
type u128 struct{ hi, lo uint64 }

func toU128(a netip.Addr) u128 {
	hi, lo := split(a) // As16 maps IPv4 into ::ffff:0:0/96
	return u128{hi, lo}
}

func (u u128) addr(is4 bool) netip.Addr {
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(u.hi >> (56 - 8*i))
		b[8+i] = byte(u.lo >> (56 - 8*i))
	}
	a := netip.AddrFrom16(b)
	if is4 {
		return a.Unmap()
	}
	return a
}

func (u u128) less(v u128) bool { return u.hi < v.hi || u.hi == v.hi && u.lo < v.lo }

// add returns u+v and whether it overflowed.
func (u u128) add(v u128) (u128, bool) {
	lo, c := bits.Add64(u.lo, v.lo, 0)
	hi, c := bits.Add64(u.hi, v.hi, c)
	return u128{hi, lo}, c != 0
}

func (u u128) and(v u128) u128    { return u128{u.hi & v.hi, u.lo & v.lo} }
func (u u128) andNot(v u128) u128 { return u128{u.hi &^ v.hi, u.lo &^ v.lo} }

// lowMask returns a value with the n low bits set.
func lowMask(n int) u128 {
	switch {
	case n <= 0:
		return u128{}
	case n < 64:
		return u128{0, 1<<uint(n) - 1}
	case n == 64:
		return u128{0, ^uint64(0)}
	case n < 128:
		return u128{1<<uint(n-64) - 1, ^uint64(0)}
	}
	return u128{^uint64(0), ^uint64(0)}
}

// Block is a prefix's address range as integers: cheap to compare when a
// walk passes tens of thousands of prefixes.
type Block struct{ first, last u128 }

// BlockOf returns the block of p.
func BlockOf(p netip.Prefix) Block {
	f := toU128(p.Masked().Addr())
	return Block{f, f.andNot(lowMask(hostBits(p))).add1or(lowMask(hostBits(p)))}
}

// add1or returns u with the bits of m set.
func (u u128) add1or(m u128) u128 { return u128{u.hi | m.hi, u.lo | m.lo} }

// Less orders blocks by their first address.
func (b Block) Less(c Block) bool { return b.first.less(c.first) }

// NextFreeBlock is NextFreePrefix over blocks: children must be sorted by
// their first address and disjoint.
func NextFreeBlock(parent netip.Prefix, children []Block, bitLen int) (netip.Prefix, bool) {
	is4 := parent.Addr().Is4()
	if bitLen < parent.Bits() || bitLen > parent.Addr().BitLen() {
		return netip.Prefix{}, false
	}
	pb := BlockOf(parent)
	mask := lowMask(parent.Addr().BitLen() - bitLen)
	cursor := pb.first
	// fits reports the aligned block at or after cursor if it ends at or
	// before limit.
	fits := func(limit u128) (u128, bool) {
		c := cursor
		if c.and(mask) != (u128{}) {
			var over bool
			c, over = c.andNot(mask).add(mask.add1())
			if over {
				return u128{}, false
			}
		}
		end := c.add1or(mask)
		if limit.less(end) {
			return u128{}, false
		}
		return c, true
	}
	for _, ch := range children {
		if ch.last.less(cursor) {
			continue
		}
		if cursor.less(ch.first) {
			limit := ch.first.sub1()
			if c, ok := fits(limit); ok {
				return netip.PrefixFrom(c.addr(is4), bitLen), true
			}
		}
		next, over := ch.last.add(u128{0, 1})
		if over || pb.last.less(next) {
			return netip.Prefix{}, false
		}
		cursor = next
	}
	if c, ok := fits(pb.last); ok {
		return netip.PrefixFrom(c.addr(is4), bitLen), true
	}
	return netip.Prefix{}, false
}

func (u u128) add1() u128 {
	v, _ := u.add(u128{0, 1})
	return v
}

func (u u128) sub1() u128 {
	lo, b := bits.Sub64(u.lo, 1, 0)
	hi, _ := bits.Sub64(u.hi, 0, b)
	return u128{hi, lo}
}

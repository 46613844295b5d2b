package ipam

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestKeySortsLikeAddresses(t *testing.T) {
	in := addrs("10.0.0.2", "::1", "10.0.0.10", "192.168.1.1", "2001:db8::1", "0.0.0.0", "255.255.255.255", "fe80::1", "10.0.1.0")
	byAddr := slices.Clone(in)
	slices.SortFunc(byAddr, netip.Addr.Compare)
	byKey := slices.Clone(in)
	slices.SortFunc(byKey, func(a, b netip.Addr) int { return bytes.Compare(Key(a), Key(b)) })
	// IPv4 sorts among the mapped range; inside each family the orders agree.
	for _, fam := range []func(netip.Addr) bool{netip.Addr.Is4, netip.Addr.Is6} {
		a := slices.DeleteFunc(slices.Clone(byAddr), func(x netip.Addr) bool { return !fam(x) })
		k := slices.DeleteFunc(slices.Clone(byKey), func(x netip.Addr) bool { return !fam(x) })
		if !slices.Equal(a, k) {
			t.Errorf("key order %v differs from address order %v", k, a)
		}
	}
	for _, a := range in {
		back, ok := AddrFromKey(Key(a))
		if !ok || back != a {
			t.Errorf("AddrFromKey(Key(%v)) = %v, %v", a, back, ok)
		}
	}
	if _, ok := AddrFromKey([]byte{1, 2}); ok {
		t.Error("AddrFromKey accepted a short key")
	}
}

func TestBoundsAndSize(t *testing.T) {
	tests := []struct {
		p           string
		first, last string
		size        uint64
		hostFirst   string
		hostLast    string
	}{
		{"10.0.0.0/24", "10.0.0.0", "10.0.0.255", 256, "10.0.0.1", "10.0.0.254"},
		{"10.0.0.0/31", "10.0.0.0", "10.0.0.1", 2, "10.0.0.0", "10.0.0.1"},
		{"10.0.0.7/32", "10.0.0.7", "10.0.0.7", 1, "10.0.0.7", "10.0.0.7"},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255", 1 << 32, "0.0.0.1", "255.255.255.254"},
		{"2001:db8::/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", math.MaxUint64, "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff"},
		{"2001:db8::/120", "2001:db8::", "2001:db8::ff", 256, "2001:db8::", "2001:db8::ff"},
	}
	for _, tt := range tests {
		p := netip.MustParsePrefix(tt.p)
		f, l := Bounds(p)
		if f.String() != tt.first || l.String() != tt.last {
			t.Errorf("Bounds(%s) = %s, %s", p, f, l)
		}
		if s := Size(p); s != tt.size {
			t.Errorf("Size(%s) = %d, want %d", p, s, tt.size)
		}
		hf, hl := HostBounds(p)
		if hf.String() != tt.hostFirst || hl.String() != tt.hostLast {
			t.Errorf("HostBounds(%s) = %s, %s", p, hf, hl)
		}
	}
}

func TestRangeSize(t *testing.T) {
	tests := []struct {
		a, b string
		want uint64
	}{
		{"10.0.0.1", "10.0.0.1", 1},
		{"10.0.0.1", "10.0.0.0", 0},
		{"10.0.0.0", "10.0.1.255", 512},
		{"::", "::ffff:ffff:ffff:ffff", math.MaxUint64},
		{"::", "::1:0:0:0:0", math.MaxUint64},
		{"::", "::fffe:ffff:ffff:ffff", 0xfffeffffffffffff + 1},
	}
	for _, tt := range tests {
		if got := RangeSize(netip.MustParseAddr(tt.a), netip.MustParseAddr(tt.b)); got != tt.want {
			t.Errorf("RangeSize(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSupernets(t *testing.T) {
	got := Supernets(netip.MustParsePrefix("10.1.2.0/24"))
	if len(got) != 24 || got[0].String() != "10.1.2.0/23" || got[23].String() != "0.0.0.0/0" || got[8].String() != "10.0.0.0/15" {
		t.Fatalf("Supernets = %v", got)
	}
	if !Contains(got[10], netip.MustParsePrefix("10.1.2.0/24")) || Contains(netip.MustParsePrefix("10.1.3.0/24"), netip.MustParsePrefix("10.1.2.0/23")) {
		t.Error("Contains is wrong")
	}
}

func TestChunks(t *testing.T) {
	a := netip.MustParseAddr("10.1.2.77")
	if c := ChunkOf(a); c.String() != "10.1.2.0" {
		t.Errorf("ChunkOf = %s", c)
	}
	if e := ChunkEnd(netip.MustParseAddr("10.1.2.0")); e.String() != "10.1.2.255" {
		t.Errorf("ChunkEnd = %s", e)
	}
	if n, ok := NextChunk(netip.MustParseAddr("10.1.2.0")); !ok || n.String() != "10.1.3.0" {
		t.Errorf("NextChunk = %s %v", n, ok)
	}
	if _, ok := NextChunk(netip.MustParseAddr("255.255.255.0")); ok {
		t.Error("NextChunk past the end of IPv4 said ok")
	}
	caps := []struct {
		p, c string
		want uint64
	}{
		{"10.0.0.0/24", "10.0.0.0", 254},
		{"10.0.0.0/16", "10.0.0.0", 255},
		{"10.0.0.0/16", "10.0.5.0", 256},
		{"10.0.0.0/16", "10.0.255.0", 255},
		{"10.0.0.64/26", "10.0.0.0", 62},
		{"10.0.0.64/31", "10.0.0.0", 2},
		{"2001:db8::/64", "2001:db8::100", 256},
	}
	for _, tt := range caps {
		if got := ChunkCapacity(netip.MustParsePrefix(tt.p), netip.MustParseAddr(tt.c)); got != tt.want {
			t.Errorf("ChunkCapacity(%s, %s) = %d, want %d", tt.p, tt.c, got, tt.want)
		}
	}
}

func TestFirstFree(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi string
		used   []string
		skip   string
		want   string
	}{
		{"empty", "10.0.0.1", "10.0.0.254", nil, "", "10.0.0.1"},
		{"gap", "10.0.0.1", "10.0.0.254", []string{"10.0.0.1", "10.0.0.2", "10.0.0.4"}, "", "10.0.0.3"},
		{"skip gateway", "10.0.0.1", "10.0.0.254", nil, "10.0.0.1", "10.0.0.2"},
		{"skip after used", "10.0.0.1", "10.0.0.254", []string{"10.0.0.1"}, "10.0.0.2", "10.0.0.3"},
		{"used below lo ignored", "10.0.0.5", "10.0.0.254", []string{"10.0.0.1", "10.0.0.5"}, "", "10.0.0.6"},
		{"full", "10.0.0.1", "10.0.0.2", []string{"10.0.0.1", "10.0.0.2"}, "", ""},
		{"full with skip", "10.0.0.1", "10.0.0.3", []string{"10.0.0.1", "10.0.0.3"}, "10.0.0.2", ""},
		{"end of space", "255.255.255.255", "255.255.255.255", []string{"255.255.255.255"}, "", ""},
		{"ipv6", "2001:db8::", "2001:db8::ff", []string{"2001:db8::", "2001:db8::1"}, "", "2001:db8::2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var skip netip.Addr
			if tt.skip != "" {
				skip = netip.MustParseAddr(tt.skip)
			}
			got, ok := FirstFree(netip.MustParseAddr(tt.lo), netip.MustParseAddr(tt.hi), addrs(tt.used...), skip)
			if tt.want == "" {
				if ok {
					t.Fatalf("got %s, want none", got)
				}
				return
			}
			if !ok || got.String() != tt.want {
				t.Fatalf("got %s %v, want %s", got, ok, tt.want)
			}
		})
	}
}

func TestFreeRanges(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi string
		used   []string
		skip   string
		max    int
		want   string
	}{
		{"empty", "10.0.0.1", "10.0.0.254", nil, "", 0, "[10.0.0.1-10.0.0.254]"},
		{"holes", "10.0.0.1", "10.0.0.10", []string{"10.0.0.1", "10.0.0.5", "10.0.0.6", "10.0.0.10"}, "", 0, "[10.0.0.2-10.0.0.4 10.0.0.7-10.0.0.9]"},
		{"gateway splits", "10.0.0.1", "10.0.0.10", nil, "10.0.0.5", 0, "[10.0.0.1-10.0.0.4 10.0.0.6-10.0.0.10]"},
		{"gateway at start", "10.0.0.1", "10.0.0.10", nil, "10.0.0.1", 0, "[10.0.0.2-10.0.0.10]"},
		{"gateway used", "10.0.0.1", "10.0.0.10", []string{"10.0.0.1"}, "10.0.0.1", 0, "[10.0.0.2-10.0.0.10]"},
		{"max", "10.0.0.1", "10.0.0.10", []string{"10.0.0.2", "10.0.0.4", "10.0.0.6"}, "", 2, "[10.0.0.1-10.0.0.1 10.0.0.3-10.0.0.3]"},
		{"full", "10.0.0.1", "10.0.0.2", []string{"10.0.0.1", "10.0.0.2"}, "", 0, "[]"},
		{"top of space", "255.255.255.250", "255.255.255.255", []string{"255.255.255.255"}, "", 0, "[255.255.255.250-255.255.255.254]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var skip netip.Addr
			if tt.skip != "" {
				skip = netip.MustParseAddr(tt.skip)
			}
			got := FreeRanges(netip.MustParseAddr(tt.lo), netip.MustParseAddr(tt.hi), addrs(tt.used...), skip, tt.max)
			var s []string
			for _, r := range got {
				s = append(s, r.From.String()+"-"+r.To.String())
			}
			if fmt.Sprint(s) != tt.want {
				t.Fatalf("got %v, want %s", s, tt.want)
			}
		})
	}
}

func TestNextFreePrefix(t *testing.T) {
	tests := []struct {
		name     string
		parent   string
		children []string
		bits     int
		want     string
	}{
		{"empty", "10.0.0.0/8", nil, 24, "10.0.0.0/24"},
		{"after first", "10.0.0.0/8", []string{"10.0.0.0/24"}, 24, "10.0.1.0/24"},
		{"gap too small", "10.0.0.0/16", []string{"10.0.0.0/24", "10.0.1.128/25", "10.0.2.0/24"}, 24, "10.0.3.0/24"},
		{"small fits in gap", "10.0.0.0/16", []string{"10.0.0.0/24", "10.0.1.128/25"}, 25, "10.0.1.0/25"},
		{"alignment", "10.0.0.0/16", []string{"10.0.0.0/25"}, 23, "10.0.2.0/23"},
		{"full", "10.0.0.0/23", []string{"10.0.0.0/24", "10.0.1.0/24"}, 24, ""},
		{"shorter than parent", "10.0.0.0/24", nil, 16, ""},
		{"whole parent", "10.0.0.0/24", nil, 24, "10.0.0.0/24"},
		{"end of space", "255.255.255.0/24", []string{"255.255.255.0/25"}, 25, "255.255.255.128/25"},
		{"ipv6", "2001:db8::/48", []string{"2001:db8::/64", "2001:db8:0:1::/64"}, 64, "2001:db8:0:2::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NextFreePrefix(netip.MustParsePrefix(tt.parent), prefixes(tt.children...), tt.bits)
			if tt.want == "" {
				if ok {
					t.Fatalf("got %s, want none", got)
				}
				return
			}
			if !ok || got.String() != tt.want {
				t.Fatalf("got %s %v, want %s", got, ok, tt.want)
			}
		})
	}
}

func TestFreePrefixesAndRanges(t *testing.T) {
	parent := netip.MustParsePrefix("10.0.0.0/22")
	children := prefixes("10.0.1.0/24", "10.0.2.0/25")
	if got := fmt.Sprint(FreePrefixes(parent, children)); got != "[10.0.0.0/24 10.0.2.128/25 10.0.3.0/24]" {
		t.Errorf("FreePrefixes = %s", got)
	}
	r := UncoveredRanges(parent, children)
	if len(r) != 2 || r[0].To.String() != "10.0.0.255" || r[1].From.String() != "10.0.2.128" {
		t.Errorf("UncoveredRanges = %v", r)
	}
	if n := CoveredSize(children); n != 384 {
		t.Errorf("CoveredSize = %d", n)
	}
}

func ExampleNextFreePrefix() {
	parent := netip.MustParsePrefix("10.20.0.0/16")
	used := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/24"), netip.MustParsePrefix("10.20.1.0/25")}
	p, _ := NextFreePrefix(parent, used, 24)
	fmt.Println(p)
	// Output: 10.20.2.0/24
}

func ExampleFirstFree() {
	lo, hi := HostBounds(netip.MustParsePrefix("192.168.10.0/24"))
	gateway := netip.MustParseAddr("192.168.10.1")
	used := []netip.Addr{netip.MustParseAddr("192.168.10.2")}
	a, _ := FirstFree(lo, hi, used, gateway)
	fmt.Println(a)
	// Output: 192.168.10.3
}

func BenchmarkNextFreeBlock20k(b *testing.B) {
	parent := netip.MustParsePrefix("10.0.0.0/8")
	children := make([]netip.Prefix, 0, 20000)
	for i := 0; i < 20000; i++ {
		children = append(children, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24))
	}
	blocks := make([]Block, len(children))
	for i, c := range children {
		blocks[i] = BlockOf(c)
	}
	for b.Loop() {
		if _, ok := NextFreeBlock(parent, blocks, 24); !ok {
			b.Fatal("none free")
		}
	}
}

// TestFreePrefixesPage: every page of FreePrefixesPage is the same window
// of FreePrefixes, for random sets of children.
func TestFreePrefixesPage(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, parentText := range []string{"10.0.0.0/16", "2001:db8::/112", "0.0.0.0/0"} {
		parent := netip.MustParsePrefix(parentText)
		for round := 0; round < 50; round++ {
			// Random disjoint children: random prefixes, kept when they
			// overlap none kept before.
			var children []netip.Prefix
			for range rng.IntN(40) {
				bits := parent.Bits() + 1 + rng.IntN(min(12, parent.Addr().BitLen()-parent.Bits()))
				a := parent.Addr()
				for range rng.IntN(1 << 12) {
					a = a.Next()
				}
				c := netip.PrefixFrom(a, bits).Masked()
				if !parent.Contains(c.Addr()) || c.Bits() < parent.Bits() {
					continue
				}
				ok := true
				for _, k := range children {
					ok = ok && !k.Overlaps(c)
				}
				if ok {
					children = append(children, c)
				}
			}
			slices.SortFunc(children, func(x, y netip.Prefix) int { return x.Addr().Compare(y.Addr()) })
			all := FreePrefixes(parent, children)
			for _, w := range []struct{ off, lim int }{{0, 1}, {0, 5}, {3, 7}, {0, len(all) + 3}, {len(all), 2}, {max(0, len(all)-1), 10}} {
				got := FreePrefixesPage(parent, children, w.off, w.lim)
				want := all[min(w.off, len(all)):min(len(all), w.off+w.lim)]
				if !slices.Equal(got, want) {
					t.Fatalf("%s children %v page %d+%d: %v, want %v", parent, children, w.off, w.lim, got, want)
				}
			}
		}
	}
}

// TestSizesBig: the exact sizes do not saturate at 2^64.
func TestSizesBig(t *testing.T) {
	pow := func(k uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), k) }
	sum := func(ns ...*big.Int) *big.Int {
		t := new(big.Int)
		for _, n := range ns {
			t.Add(t, n)
		}
		return t
	}
	for _, tt := range []struct {
		name string
		got  *big.Int
		want *big.Int
	}{
		{"a /24", SizeBig(netip.MustParsePrefix("10.0.0.0/24")), big.NewInt(256)},
		{"a /32 of IPv6", SizeBig(netip.MustParsePrefix("2001:db8::/32")), pow(96)},
		{"all of IPv6", SizeBig(netip.MustParsePrefix("::/0")), pow(128)},
		{"two /48s", CoveredSizeBig(prefixes("2001:db8::/48", "2001:db8:1::/48")), pow(81)},
		{"three /48s", CoveredSizeBig(prefixes("2001:db8::/48", "2001:db8:1::/48", "2001:db8:2::/48")), new(big.Int).Mul(big.NewInt(3), pow(80))},
		{"small and large", CoveredSizeBig(prefixes("10.0.0.0/24", "2001:db8::/64", "2001:db8:1::/64", "2001:db8:2::/120")), sum(big.NewInt(256), pow(65), big.NewInt(256))},
		{"just over 2^64 from small ones", CoveredSizeBig(prefixes("2001:db8::/66", "2001:db8:0:0:4000::/66", "2001:db8:0:0:8000::/66", "2001:db8:0:0:c000::/66", "2001:db8:0:1::/128")), sum(pow(64), big.NewInt(1))},
		{"none", CoveredSizeBig(nil), big.NewInt(0)},
		{"a range", RangeSizeBig(netip.MustParseAddr("2001:db8::"), netip.MustParseAddr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")), pow(96)},
		{"an IPv4 range", RangeSizeBig(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.254")), big.NewInt(254)},
		{"a backward range", RangeSizeBig(netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.1")), big.NewInt(0)},
	} {
		if tt.got.Cmp(tt.want) != 0 {
			t.Errorf("%s: %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

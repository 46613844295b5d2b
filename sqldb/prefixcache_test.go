package sqldb

import (
	"net/netip"
	"slices"
	"testing"

	"ipdesk/ipam"
)

// TestPrefixCacheAddLeaf: a leaf added to a cached container's children
// lands in order, whether after the others (appended) or between them
// (copied), and a list taken before stays as it was.
func TestPrefixCacheAddLeaf(t *testing.T) {
	p := netip.MustParsePrefix
	var c prefixCache
	c.put(1, 5, 7, newChildList([]netip.Prefix{p("10.0.0.0/24"), p("10.0.2.0/24")}))
	first, _ := c.get(1, 5, 7)

	c.addLeaf(1, 5, 7, p("10.0.3.0/24")) // after the others
	second, ok := c.get(1, 6, 7)
	if !ok {
		t.Fatal("the cache did not move to the next generation")
	}
	c.addLeaf(1, 6, 7, p("10.0.1.0/24")) // between, while second has room after its end
	third, _ := c.get(1, 7, 7)
	c.addLeaf(1, 7, 7, p("10.0.4.0/24")) // after the others again
	fourth, _ := c.get(1, 8, 7)
	c.addLeaf(1, 8, 7, p("10.0.5.0/24"))
	fifth, _ := c.get(1, 9, 7)
	c.addLeaf(1, 5, 7, p("10.0.9.0/24")) // of a generation gone: ignored

	want := func(name string, l *childList, ps ...string) {
		t.Helper()
		var got []string
		for _, x := range l.prefixes {
			got = append(got, x.String())
		}
		if !slices.Equal(got, ps) {
			t.Errorf("%s: %v, want %v", name, got, ps)
		}
		if len(l.blocks) != len(l.prefixes) {
			t.Errorf("%s: %d blocks for %d prefixes", name, len(l.blocks), len(l.prefixes))
		}
		for i, x := range l.prefixes {
			if b := l.blocks[i]; b != ipam.BlockOf(x) {
				t.Errorf("%s: block %d does not match %s", name, i, x)
			}
		}
	}
	want("first", first, "10.0.0.0/24", "10.0.2.0/24")
	want("second", second, "10.0.0.0/24", "10.0.2.0/24", "10.0.3.0/24")
	want("third", third, "10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24")
	want("fourth", fourth, "10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.4.0/24")
	want("fifth", fifth, "10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.4.0/24", "10.0.5.0/24")
	if _, ok := c.get(1, 10, 7); ok {
		t.Error("a late addLeaf of an old generation moved the cache")
	}
}

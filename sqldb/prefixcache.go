package sqldb

import (
	"net/netip"
	"slices"
	"sync"

	"ipdesk/ipam"
)

// prefixCache keeps the sorted direct children of container prefixes, so
// that "next free prefix" in a container of 20,000 subnets does not read
// them all from the database each time. Each space's entry is valid for
// one value of spaces.prefix_gen, which every prefix change in the space
// increments inside its transaction; a reader compares the generation it
// reads with the cached one, so another instance's changes are seen too.
type prefixCache struct {
	mu     sync.Mutex
	spaces map[int64]*cachedSpace
}

type cachedSpace struct {
	gen      int64
	children map[int64]*childList // parent prefix id → its direct children
}

// childList is immutable once cached; changes copy it.
type childList struct {
	prefixes []netip.Prefix
	blocks   []ipam.Block
}

func newChildList(ps []netip.Prefix) *childList {
	l := &childList{prefixes: ps, blocks: make([]ipam.Block, len(ps))}
	for i, p := range ps {
		l.blocks[i] = ipam.BlockOf(p)
	}
	return l
}

func (c *prefixCache) get(space, gen, parent int64) (*childList, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.spaces[space]
	if s == nil || s.gen != gen {
		return nil, false
	}
	l, ok := s.children[parent]
	return l, ok
}

func (c *prefixCache) put(space, gen, parent int64, l *childList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.spaces == nil {
		c.spaces = make(map[int64]*cachedSpace)
	}
	s := c.spaces[space]
	if s == nil || s.gen != gen {
		s = &cachedSpace{gen: gen, children: make(map[int64]*childList)}
		c.spaces[space] = s
	}
	s.children[parent] = l
}

// addLeaf records, after a commit that moved the space from gen to gen+1,
// that leaf was added under parent and has no children of its own. If the
// cache was not at gen, it is left alone and the next reader reloads.
func (c *prefixCache) addLeaf(space, gen, parent int64, leaf netip.Prefix) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.spaces[space]
	if s == nil || s.gen != gen {
		return
	}
	s.gen = gen + 1
	if old, ok := s.children[parent]; ok {
		b := ipam.BlockOf(leaf)
		i, _ := slices.BinarySearchFunc(old.blocks, b, func(x, y ipam.Block) int {
			if x.Less(y) {
				return -1
			} else if y.Less(x) {
				return 1
			}
			return 0
		})
		s.children[parent] = &childList{prefixes: withAt(old.prefixes, i, leaf), blocks: withAt(old.blocks, i, b)}
	}
}

// withAt returns list with v inserted at i, leaving list as it was for
// those who hold it. A leaf after all the others (a container filled from
// its start, the usual case) is appended: the elements list holds stay as
// they are, and its length hides the new one, so the cost does not grow
// with the container's children. Only the newest list of a parent is
// extended, so no two lists write the same element.
func withAt[T any](list []T, i int, v T) []T {
	if i == len(list) {
		return append(list, v)
	}
	out := make([]T, len(list)+1, len(list)+1+len(list)/4)
	copy(out, list[:i])
	out[i] = v
	copy(out[i+1:], list[i:])
	return out
}

// forget drops a space's entry.
func (c *prefixCache) forget(space int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.spaces, space)
}

// reset drops every entry: a write that filled the cache inside its
// transaction was rolled back, so entries of generations it bumped may
// hold prefixes that were never committed.
func (c *prefixCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spaces = nil
}

package web

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"ipdesk"
	"ipdesk/i18n"
	"ipdesk/ipam"
)

// The address grid of a subnet: one cell per address of one block of
// ipdesk.BlockSize addresses, the stored ones read with one range query;
// and for subnets of many blocks, a map of the blocks around it.

// Grid geometry.
const (
	blockBits   = 8  // log2 of ipdesk.BlockSize
	gridColumns = 16 // cells per row
	mapBits     = 16 // the block map covers 2^mapBits addresses
)

// Cell states; each is a CSS class and has a letter in the catalogue.
const (
	cellFree       = "free"
	cellUsed       = "used"
	cellReserved   = "reserved"
	cellDeprecated = "deprecated"
	cellGateway    = "gateway"
	cellNetwork    = "network"
	cellBroadcast  = "broadcast"
)

// cellStates are the states in the order the legend shows them.
var cellStates = []string{cellFree, cellUsed, cellReserved, cellDeprecated, cellGateway, cellNetwork, cellBroadcast}

// gridCell is one address of the grid.
type gridCell struct {
	Addr  netip.Addr
	Label string // the address's last byte, as the cell shows it
	State string
	// Letter marks the state without colour; Title describes the cell.
	Letter string
	Title  string
	Host   *ipdesk.Address
	// Claim is the link that claims a free address ("" when the user may
	// not).
	Claim string
}

// gridRow is a row of the grid.
type gridRow struct {
	Start netip.Addr
	Cells []gridCell
}

// mapCell is one block of the block map.
type mapCell struct {
	Start   netip.Addr
	Label   string
	Link    string
	Used    int
	Level   int // 0 empty … 5 full
	Current bool
}

// planGrid is the grid of one block of a subnet.
type planGrid struct {
	Subnet  netip.Prefix
	Block   netip.Prefix
	Columns []string // column headings
	Rows    []gridRow
	Counts  map[string]int
	// Blocks is the number of blocks of the subnet (0 when too many to
	// count), Index the shown one's, from 1.
	Blocks, Index      uint64
	Multi              bool
	First, Prev        string // links to other blocks; "" where there is none
	Next, Last         string
	Map                []mapCell
	MapWindow          netip.Prefix
	MapPrev, MapNext   string
	MapColumns         int
	Legend             []gridCell
	JumpValue, JumpErr string
}

// gridBlock returns the block of subnet p that holds at, or p's first
// block when at is not in p. A subnet smaller than a block is its own
// block.
func gridBlock(p netip.Prefix, at netip.Addr) netip.Prefix {
	bits := max(p.Bits(), p.Addr().BitLen()-blockBits)
	if at.IsValid() && p.Contains(at) {
		return netip.PrefixFrom(at, bits).Masked()
	}
	return netip.PrefixFrom(p.Addr(), bits).Masked()
}

// neighbour returns the prefix of the same length before (dir -1) or
// after (dir +1) b, if it lies inside p.
func neighbour(p, b netip.Prefix, dir int) (netip.Prefix, bool) {
	first, last := ipam.Bounds(b)
	var a netip.Addr
	if dir < 0 {
		a = first.Prev()
	} else {
		a = last.Next()
	}
	if !a.IsValid() || !p.Contains(a) {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, b.Bits()).Masked(), true
}

// blockIndex returns the number of blocks of length b.Bits() in p and
// the position of b among them, from 1; 0, 0 when they are too many.
func blockIndex(p, b netip.Prefix) (count, index uint64) {
	n := b.Bits() - p.Bits()
	if n >= 63 || p.Addr().BitLen()-p.Bits() > 64 {
		return 0, 0
	}
	// Within p the distance of the first addresses is below 2^64.
	pf, _ := ipam.Bounds(p)
	bf, _ := ipam.Bounds(b)
	diff := ipam.RangeSize(pf, bf) - 1
	return 1 << uint(n), diff>>uint(b.Addr().BitLen()-b.Bits()) + 1
}

// cellLabel is what a cell shows of its address: the last byte, in
// decimal for IPv4 and in hex for IPv6.
func cellLabel(a netip.Addr) string {
	b := a.AsSlice()
	last := b[len(b)-1]
	if a.Is4() {
		return strconv.Itoa(int(last))
	}
	return fmt.Sprintf("%02x", last)
}

// gridState returns the state of address a of subnet p, with the record
// stored there (or nil).
func gridState(p *ipdesk.Prefix, a netip.Addr, rec *ipdesk.Address) string {
	switch {
	case ipdesk.IsReservedInSubnet(p.Prefix, a) && a == p.Prefix.Masked().Addr():
		return cellNetwork
	case ipdesk.IsReservedInSubnet(p.Prefix, a):
		return cellBroadcast
	case p.Gateway.IsValid() && a == p.Gateway:
		return cellGateway
	case rec == nil:
		return cellFree
	case rec.Status == ipdesk.StatusReserved:
		return cellReserved
	case rec.Status == ipdesk.StatusDeprecated:
		return cellDeprecated
	}
	return cellUsed
}

// buildGrid lays out block of subnet p with the records stored in it
// (sorted by address). claim, if not nil, gives the link that claims a
// free address; link gives the link to another block.
func buildGrid(c *i18n.Catalog, p *ipdesk.Prefix, block netip.Prefix, recs []*ipdesk.Address, claim func(netip.Addr) string, link func(netip.Prefix) string) *planGrid {
	g := &planGrid{Subnet: p.Prefix, Block: block, Counts: map[string]int{}}
	first, last := ipam.Bounds(block)
	size := int(ipam.RangeSize(first, last))
	cols := min(gridColumns, size)
	for i := 0; i < cols; i++ {
		if first.Is4() {
			g.Columns = append(g.Columns, "+"+strconv.Itoa(i))
		} else {
			g.Columns = append(g.Columns, "+"+strconv.FormatInt(int64(i), 16))
		}
	}
	i := 0
	for a := first; a.IsValid() && !last.Less(a); a = a.Next() {
		for i < len(recs) && recs[i].Addr.Less(a) {
			i++
		}
		var rec *ipdesk.Address
		if i < len(recs) && recs[i].Addr == a {
			rec = recs[i]
		}
		cell := gridCell{Addr: a, Label: cellLabel(a), State: gridState(p, a, rec), Host: rec}
		cell.Letter = c.T("plan.grid.letter." + cell.State)
		cell.Title = cellTitle(c, cell)
		if cell.State == cellFree && claim != nil {
			cell.Claim = claim(a)
		}
		g.Counts[cell.State]++
		if len(g.Rows) == 0 || len(g.Rows[len(g.Rows)-1].Cells) == cols {
			g.Rows = append(g.Rows, gridRow{Start: a})
		}
		row := &g.Rows[len(g.Rows)-1]
		row.Cells = append(row.Cells, cell)
		if a == last {
			break
		}
	}
	for _, st := range cellStates {
		g.Legend = append(g.Legend, gridCell{State: st, Letter: c.T("plan.grid.letter." + st), Title: c.T("plan.grid.state." + st)})
	}
	g.Blocks, g.Index = blockIndex(p.Prefix, block)
	g.Multi = block != p.Prefix.Masked()
	if !g.Multi {
		return g
	}
	if b, ok := neighbour(p.Prefix, block, -1); ok {
		g.Prev = link(b)
		g.First = link(gridBlock(p.Prefix, netip.Addr{}))
	}
	if b, ok := neighbour(p.Prefix, block, +1); ok {
		g.Next = link(b)
		_, pl := ipam.Bounds(p.Prefix)
		g.Last = link(gridBlock(p.Prefix, pl))
	}
	return g
}

// cellTitle describes a cell in words: its address, state and host.
func cellTitle(c *i18n.Catalog, cell gridCell) string {
	parts := []string{cell.Addr.String(), c.T("plan.grid.state." + cell.State)}
	if h := cell.Host; h != nil {
		for _, v := range []string{h.Hostname, h.MAC.String(), h.Owner} {
			if v != "" {
				parts = append(parts, v)
			}
		}
	}
	return strings.Join(parts, " · ")
}

// mapWindow returns the part of subnet p the block map shows around
// block: the aligned 2^mapBits addresses holding it, or all of p when p
// is smaller.
func mapWindow(p, block netip.Prefix) netip.Prefix {
	bits := max(p.Bits(), block.Addr().BitLen()-mapBits)
	return netip.PrefixFrom(block.Addr(), bits).Masked()
}

// buildMap lays out the blocks of window with their use (uses holds the
// blocks that have any, sorted), marking block as the current one.
func buildMap(c *i18n.Catalog, p *ipdesk.Prefix, window, block netip.Prefix, uses []ipdesk.BlockUse, link func(netip.Prefix) string) []mapCell {
	var out []mapCell
	first, last := ipam.Bounds(window)
	bits := block.Bits()
	step := netip.PrefixFrom(first, bits)
	i := 0
	for {
		b := step.Masked()
		for i < len(uses) && uses[i].Start.Less(b.Addr()) {
			i++
		}
		mc := mapCell{Start: b.Addr(), Link: link(b), Current: b == block}
		if i < len(uses) && uses[i].Start == b.Addr() {
			mc.Used = uses[i].Used
		}
		capacity := ipam.ChunkCapacity(p.Prefix, b.Addr())
		switch {
		case mc.Used == 0:
		case uint64(mc.Used) >= capacity:
			mc.Level = 5
		default:
			mc.Level = 1 + int(uint64(mc.Used)*4/max(capacity, 1))
		}
		mc.Label = c.T("plan.map.cell", b.String(), mc.Used, capacity)
		out = append(out, mc)
		_, bl := ipam.Bounds(b)
		if !bl.Less(last) {
			break
		}
		step = netip.PrefixFrom(bl.Next(), bits)
	}
	return out
}

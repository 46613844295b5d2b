package sqldb

// Reads for the address plan pages: the use of many prefixes at once,
// the use of a subnet per block, and a walk through a subnet's stored
// addresses.

import (
	"context"
	"fmt"
	"math/big"
	"net/netip"
	"slices"

	"ipdesk"
	"ipdesk/ipam"
)

// usageBatch is how many prefixes one statement of PrefixUsages asks for.
const usageBatch = 500

// PrefixUsages returns the usage of several prefixes in one read: a few
// statements per batch of prefixes, whatever their number, instead of
// one PrefixUsage each.
func (db *DB) PrefixUsages(ctx context.Context, ids []int64) (map[int64]ipdesk.Usage, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	out := make(map[int64]ipdesk.Usage, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	err := db.read(ctx, func(tx *Tx) error {
		for start := 0; start < len(ids); start += usageBatch {
			if err := tx.usages(ids[start:min(start+usageBatch, len(ids))], out); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// usages adds the usage of the prefixes ids to out.
func (tx *Tx) usages(ids []int64, out map[int64]ipdesk.Usage) error {
	var a args
	rows, err := tx.query("SELECT "+prefixColumns+" FROM prefixes WHERE "+idList("id", ids, &a), a...)
	if err != nil {
		return err
	}
	var subnets, containers []*ipdesk.Prefix
	for rows.Next() {
		p, err := scanPrefix(rows)
		if err != nil {
			rows.Close()
			return err
		}
		if p.Kind == ipdesk.PrefixSubnet {
			subnets = append(subnets, p)
		} else {
			containers = append(containers, p)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := tx.subnetUsages(subnets, out); err != nil {
		return err
	}
	return tx.containerUsages(containers, out)
}

// subnetUsages adds the use of subnets: their stored addresses, summed
// from the per-block counts in one grouped statement.
func (tx *Tx) subnetUsages(subnets []*ipdesk.Prefix, out map[int64]ipdesk.Usage) error {
	if len(subnets) == 0 {
		return nil
	}
	ids := make([]int64, len(subnets))
	for i, p := range subnets {
		ids[i] = p.ID
		lo, hi := ipam.HostBounds(p.Prefix)
		out[p.ID] = ipdesk.NewUsage(ipam.RangeSizeBig(lo, hi), new(big.Int))
	}
	var a args
	rows, err := tx.query("SELECT prefix_id, COALESCE(SUM(used), 0) FROM address_chunks WHERE "+idList("prefix_id", ids, &a)+" GROUP BY prefix_id", a...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, used int64
		if err := rows.Scan(&id, &used); err != nil {
			return err
		}
		size, _ := out[id].Counts()
		out[id] = ipdesk.NewUsage(size, big.NewInt(used))
	}
	return rows.Err()
}

// containerUsages adds the use of containers: the space their direct
// children cover. Children lists come from the prefix cache where it is
// current; the others are read in one statement and cached.
func (tx *Tx) containerUsages(containers []*ipdesk.Prefix, out map[int64]ipdesk.Usage) error {
	if len(containers) == 0 {
		return nil
	}
	var spaceIDs []int64
	for _, p := range containers {
		spaceIDs = append(spaceIDs, p.SpaceID)
	}
	spaceIDs = slices.Compact(slices.Sorted(slices.Values(spaceIDs)))
	var a args
	rows, err := tx.query("SELECT id, prefix_gen FROM spaces WHERE "+idList("id", spaceIDs, &a), a...)
	if err != nil {
		return err
	}
	gens := map[int64]int64{}
	for rows.Next() {
		var id, gen int64
		if err := rows.Scan(&id, &gen); err != nil {
			rows.Close()
			return err
		}
		gens[id] = gen
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	lists := map[int64]*childList{}
	var missing []int64
	for _, p := range containers {
		if l, ok := tx.db.prefixCache.get(p.SpaceID, gens[p.SpaceID], p.ID); ok {
			lists[p.ID] = l
		} else {
			missing = append(missing, p.ID)
		}
	}
	if len(missing) > 0 {
		loaded, err := tx.loadChildrenOf(missing)
		if err != nil {
			return err
		}
		for _, p := range containers {
			if lists[p.ID] != nil {
				continue
			}
			l := newChildList(loaded[p.ID])
			tx.db.prefixCache.put(p.SpaceID, gens[p.SpaceID], p.ID, l)
			lists[p.ID] = l
		}
	}
	for _, p := range containers {
		out[p.ID] = ipdesk.NewUsage(ipam.SizeBig(p.Prefix), ipam.CoveredSizeBig(lists[p.ID].prefixes))
	}
	return nil
}

// loadChildrenOf reads the sorted direct children of several containers.
func (tx *Tx) loadChildrenOf(parents []int64) (map[int64][]netip.Prefix, error) {
	var a args
	rows, err := tx.query("SELECT parent_id, prefix FROM prefixes WHERE "+idList("parent_id", parents, &a)+" ORDER BY parent_id, first_key", a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]netip.Prefix{}
	for rows.Next() {
		var parent int64
		var s string
		if err := rows.Scan(&parent, &s); err != nil {
			return nil, err
		}
		c, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("child of prefix %d: stored prefix %q: %w", parent, s, err)
		}
		out[parent] = append(out[parent], c)
	}
	return out, rows.Err()
}

// BlockUsage returns the blocks of a subnet inside within that hold
// stored addresses, with their counts, from the per-block counts that
// address changes keep.
func (db *DB) BlockUsage(ctx context.Context, id int64, within netip.Prefix, page ipdesk.Page) ([]ipdesk.BlockUse, error) {
	page = page.Normalize()
	var out []ipdesk.BlockUse
	err := db.read(ctx, func(tx *Tx) error {
		p, err := tx.subnet(id)
		if err != nil {
			return err
		}
		first, last := ipam.Bounds(p.Prefix)
		if within.IsValid() {
			if within.Addr().Is4() != p.Prefix.Addr().Is4() {
				return ipdesk.FieldErrorf(ipdesk.EINVALID, "within", "within %s is of another address family than subnet %s", within, p.Prefix)
			}
			if !within.Overlaps(p.Prefix) {
				return nil
			}
			wf, wl := ipam.Bounds(within)
			if first.Less(wf) {
				first = wf
			}
			if wl.Less(last) {
				last = wl
			}
		}
		rows, err := tx.query("SELECT chunk_key, used FROM address_chunks WHERE prefix_id = $1 AND chunk_key >= $2 AND chunk_key <= $3 ORDER BY chunk_key LIMIT $4 OFFSET $5",
			p.ID, ipam.Key(ipam.ChunkOf(first)), ipam.Key(last), page.Limit, page.Offset)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k []byte
			var b ipdesk.BlockUse
			if err := rows.Scan(&k, &b.Used); err != nil {
				return err
			}
			var ok bool
			if b.Start, ok = ipam.AddrFromKey(k); !ok {
				return fmt.Errorf("stored block key of %d bytes", len(k))
			}
			out = append(out, b)
		}
		return rows.Err()
	})
	return out, err
}

// SubnetAddresses returns stored addresses of a subnet from an address
// on, in order, read on the (prefix_id, ip_key) index with no total.
func (db *DB) SubnetAddresses(ctx context.Context, id int64, from netip.Addr, limit int) ([]*ipdesk.Address, error) {
	limit = ipdesk.Page{Limit: limit}.Normalize().Limit
	var out []*ipdesk.Address
	err := db.read(ctx, func(tx *Tx) error {
		p, err := tx.subnet(id)
		if err != nil {
			return err
		}
		first, last := ipam.Bounds(p.Prefix)
		if from.IsValid() {
			from = from.Unmap()
			if from.Is4() != first.Is4() {
				return ipdesk.FieldErrorf(ipdesk.EINVALID, "from", "from %s is of another address family than subnet %s", from, p.Prefix)
			}
			if last.Less(from) {
				return nil
			}
			if first.Less(from) {
				first = from
			}
		}
		rows, err := tx.query("SELECT "+addressColumns+" FROM addresses WHERE prefix_id = $1 AND ip_key >= $2 AND ip_key <= $3 ORDER BY ip_key LIMIT $4",
			p.ID, ipam.Key(first), ipam.Key(last), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAddress(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}

package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"ipdesk"
	"ipdesk/ipam"
)

const addressColumns = "id, space_id, prefix_id, address, status, mac, hostname, description, owner, phone, location_id, access_level, dhcp_reservation, version, created_at, updated_at"

func scanAddress(row interface{ Scan(...any) error }) (*ipdesk.Address, error) {
	var a ipdesk.Address
	var addr, status, mac string
	var loc sql.NullInt64
	var c, u int64
	if err := row.Scan(&a.ID, &a.SpaceID, &a.PrefixID, &addr, &status, &mac, &a.Hostname, &a.Description, &a.Owner, &a.Phone, &loc, &a.AccessLevel, &a.DHCPReservation, &a.Version, &c, &u); err != nil {
		return nil, err
	}
	var err error
	if a.Addr, err = netip.ParseAddr(addr); err != nil {
		return nil, fmt.Errorf("address %d: stored address %q: %w", a.ID, addr, err)
	}
	if mac != "" {
		if a.MAC, err = ipdesk.ParseMAC(mac); err != nil {
			return nil, fmt.Errorf("address %d: stored mac %q: %w", a.ID, mac, err)
		}
	}
	a.Status = ipdesk.AddressStatus(status)
	a.LocationID = loc.Int64
	a.CreatedAt, a.UpdatedAt = fromMicros(c), fromMicros(u)
	return &a, nil
}

func (tx *Tx) findAddress(id int64) (*ipdesk.Address, error) {
	a, err := scanAddress(tx.queryRow("SELECT "+addressColumns+" FROM addresses WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("address", id)
	}
	return a, err
}

// FindAddressByID returns one address.
func (db *DB) FindAddressByID(ctx context.Context, id int64) (*ipdesk.Address, error) {
	var a *ipdesk.Address
	err := db.readOne(ctx, func(tx *Tx) (err error) {
		a, err = tx.findAddress(id)
		return err
	})
	return a, err
}

// macForms returns m in every accepted notation, for substring search.
func macForms(m ipdesk.MAC) string {
	if m.IsZero() {
		return ""
	}
	c := m.String()
	bare := strings.ReplaceAll(c, ":", "")
	return c + " " + strings.ReplaceAll(c, ":", "-") + " " + bare[0:4] + "." + bare[4:8] + "." + bare[8:12] + " " + bare
}

// digits returns the decimal digits of s.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// searchText is the lower-case text ?q= matches substrings of.
func searchText(a *ipdesk.Address) string {
	return strings.ToLower(strings.Join([]string{a.Addr.String(), macForms(a.MAC), a.Hostname, a.Owner, a.Phone, digits(a.Phone), a.Description}, "\x1f"))
}

// subnetFor returns the subnet of the space that contains addr. Subnets of
// a space do not overlap, so the one starting last at or before addr is the
// only candidate.
func (tx *Tx) subnetFor(spaceID int64, addr netip.Addr) (*ipdesk.Prefix, error) {
	p, err := scanPrefix(tx.queryRow("SELECT "+prefixColumns+" FROM prefixes WHERE space_id = $1 AND kind = 'subnet' AND first_key <= $2 ORDER BY first_key DESC LIMIT 1", spaceID, ipam.Key(addr)))
	if errors.Is(err, sql.ErrNoRows) || err == nil && !p.Prefix.Contains(addr) {
		var n int
		if err := tx.queryRow("SELECT COUNT(*) FROM spaces WHERE id = $1", spaceID).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "space_id", "space %d does not exist", spaceID)
		}
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "address", "address %s is not inside any subnet of space %d; create the subnet first", addr, spaceID)
	}
	return p, err
}

// checkAddress checks a against the stored data: its subnet (returned),
// the reserved addresses, unique IP in the space, unique MAC in the subnet,
// the location and the access level. It returns warnings too.
func (tx *Tx) checkAddress(a *ipdesk.Address) (*ipdesk.Prefix, []ipdesk.Warning, error) {
	p, err := tx.subnetFor(a.SpaceID, a.Addr)
	if err != nil {
		return nil, nil, err
	}
	return tx.checkAddressIn(a, p)
}

// checkAddressIn is checkAddress for an address known to lie in subnet p.
func (tx *Tx) checkAddressIn(a *ipdesk.Address, p *ipdesk.Prefix) (*ipdesk.Prefix, []ipdesk.Warning, error) {
	var err error
	if ipdesk.IsReservedInSubnet(p.Prefix, a.Addr) {
		return nil, nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "address", "address %s is the network or broadcast address of %s", a.Addr, p.Prefix)
	}
	var otherID int64
	var otherHost string
	err = tx.queryRow("SELECT id, hostname FROM addresses WHERE space_id = $1 AND ip_key = $2 AND id <> $3", a.SpaceID, ipam.Key(a.Addr), a.ID).Scan(&otherID, &otherHost)
	if err == nil {
		return nil, nil, ipdesk.FieldErrorf(ipdesk.ECONFLICT, "address", "address %s is already used by address record %d (hostname %q)", a.Addr, otherID, otherHost)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, err
	}
	if !a.MAC.IsZero() {
		var otherAddr string
		err = tx.queryRow("SELECT id, address FROM addresses WHERE prefix_id = $1 AND mac = $2 AND id <> $3", p.ID, a.MAC.String(), a.ID).Scan(&otherID, &otherAddr)
		if err == nil {
			return nil, nil, ipdesk.FieldErrorf(ipdesk.ECONFLICT, "mac", "mac %s is already bound to %s (address record %d) in subnet %s", a.MAC, otherAddr, otherID, p.Prefix)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, nil, err
		}
	}
	if a.LocationID != 0 {
		var n int
		if err := tx.queryRow("SELECT COUNT(*) FROM locations WHERE id = $1", a.LocationID).Scan(&n); err != nil {
			return nil, nil, err
		}
		if n == 0 {
			return nil, nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "location_id", "location %d does not exist", a.LocationID)
		}
	}
	var n int
	if err := tx.queryRow("SELECT COUNT(*) FROM access_levels WHERE level = $1", a.AccessLevel).Scan(&n); err != nil {
		return nil, nil, err
	}
	if n == 0 {
		return nil, nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "access_level", "access level %d does not exist", a.AccessLevel)
	}
	var warnings []ipdesk.Warning
	if a.Hostname != "" {
		rows, err := tx.query("SELECT address FROM addresses WHERE hostname_lc = $1 AND id <> $2 ORDER BY ip_key LIMIT 5", strings.ToLower(a.Hostname), a.ID)
		if err != nil {
			return nil, nil, err
		}
		var others []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, nil, err
			}
			others = append(others, s)
		}
		rows.Close()
		if len(others) > 0 {
			warnings = append(warnings, ipdesk.Warning{Code: ipdesk.WDuplicateHostname,
				Message: fmt.Sprintf("hostname %q is also used by %s", a.Hostname, strings.Join(others, ", "))})
		}
	}
	return p, warnings, nil
}

// countChunk adds delta to the used count of addr's chunk in a subnet.
func (tx *Tx) countChunk(prefixID int64, addr netip.Addr, delta int) error {
	ck := ipam.Key(ipam.ChunkOf(addr))
	if delta > 0 {
		_, err := tx.exec(`INSERT INTO address_chunks (prefix_id, chunk_key, used) VALUES ($1, $2, $3)
			ON CONFLICT (prefix_id, chunk_key) DO UPDATE SET used = address_chunks.used + excluded.used`, prefixID, ck, delta)
		return err
	}
	if _, err := tx.exec("UPDATE address_chunks SET used = used + $1 WHERE prefix_id = $2 AND chunk_key = $3", delta, prefixID, ck); err != nil {
		return err
	}
	_, err := tx.exec("DELETE FROM address_chunks WHERE prefix_id = $1 AND chunk_key = $2 AND used <= 0", prefixID, ck)
	return err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// insertAddress stores a checked address in subnet p and audits it.
func (tx *Tx) insertAddress(a *ipdesk.Address, p *ipdesk.Prefix) error {
	a.PrefixID = p.ID
	a.Version = 1
	a.CreatedAt, a.UpdatedAt = tx.now, tx.now
	err := tx.queryRow(`INSERT INTO addresses (space_id, prefix_id, ip_key, address, status, mac, hostname, hostname_lc, description, owner, phone, phone_digits, location_id, access_level, dhcp_reservation, search, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id`,
		a.SpaceID, p.ID, ipam.Key(a.Addr), a.Addr.String(), string(a.Status), a.MAC.String(), a.Hostname, strings.ToLower(a.Hostname),
		a.Description, a.Owner, a.Phone, digits(a.Phone), nullID(a.LocationID), a.AccessLevel, a.DHCPReservation, searchText(a), micros(tx.now)).Scan(&a.ID)
	if err != nil {
		return err
	}
	if !tx.db.pg {
		if _, err := tx.exec("INSERT INTO address_search (rowid, search) VALUES ($1, $2)", a.ID, searchText(a)); err != nil {
			return err
		}
	}
	if err := tx.countChunk(p.ID, a.Addr, 1); err != nil {
		return err
	}
	return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectAddress, a.ID, nil, a)
}

// updateAddress writes the new state of a checked address (moved to
// subnet p) and audits it.
func (tx *Tx) updateAddress(before, a *ipdesk.Address, p *ipdesk.Prefix) error {
	a.PrefixID = p.ID
	a.Version = before.Version + 1
	a.UpdatedAt = tx.now
	_, err := tx.exec(`UPDATE addresses SET prefix_id = $1, ip_key = $2, address = $3, status = $4, mac = $5, hostname = $6, hostname_lc = $7, description = $8, owner = $9, phone = $10, phone_digits = $11,
		location_id = $12, access_level = $13, dhcp_reservation = $14, search = $15, version = $16, updated_at = $17 WHERE id = $18`,
		p.ID, ipam.Key(a.Addr), a.Addr.String(), string(a.Status), a.MAC.String(), a.Hostname, strings.ToLower(a.Hostname), a.Description, a.Owner, a.Phone, digits(a.Phone),
		nullID(a.LocationID), a.AccessLevel, a.DHCPReservation, searchText(a), a.Version, micros(tx.now), a.ID)
	if err != nil {
		return err
	}
	if !tx.db.pg && searchText(a) != searchText(before) {
		if _, err := tx.exec("UPDATE address_search SET search = $1 WHERE rowid = $2", searchText(a), a.ID); err != nil {
			return err
		}
	}
	if before.Addr != a.Addr || before.PrefixID != a.PrefixID {
		if err := tx.countChunk(before.PrefixID, before.Addr, -1); err != nil {
			return err
		}
		if err := tx.countChunk(a.PrefixID, a.Addr, 1); err != nil {
			return err
		}
	}
	return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectAddress, a.ID, before, a)
}

// CreateAddress stores a in the subnet of its space that contains it.
func (db *DB) CreateAddress(ctx context.Context, a *ipdesk.Address) ([]ipdesk.Warning, error) {
	a.ID = 0
	if err := a.Validate(); err != nil {
		return nil, err
	}
	var warnings []ipdesk.Warning
	err := db.write(ctx, func(tx *Tx) error {
		p, err := tx.subnetFor(a.SpaceID, a.Addr)
		if err != nil {
			return err
		}
		if err := tx.lockRow("prefixes", p.ID); err != nil {
			return err
		}
		if p, warnings, err = tx.checkAddressIn(a, p); err != nil {
			return err
		}
		return tx.insertAddress(a, p)
	})
	return warnings, err
}

// UpdateAddress changes an address record; a new IP must lie in a subnet
// of the same space.
func (db *DB) UpdateAddress(ctx context.Context, id int64, upd ipdesk.AddressUpdate) (*ipdesk.Address, []ipdesk.Warning, error) {
	var out *ipdesk.Address
	var warnings []ipdesk.Warning
	err := db.write(ctx, func(tx *Tx) error {
		before, err := tx.findAddress(id)
		if err != nil {
			return err
		}
		if err := tx.lockRow("prefixes", before.PrefixID); err != nil {
			return err
		}
		if err := checkVersion("address", id, upd.Version, before.Version); err != nil {
			return err
		}
		a := *before
		upd.Apply(&a)
		if err := a.Validate(); err != nil {
			return err
		}
		p, w, err := tx.checkAddress(&a)
		if err != nil {
			return err
		}
		if p.ID != before.PrefixID {
			if err := tx.lockRow("prefixes", p.ID); err != nil {
				return err
			}
		}
		warnings = w
		out = &a
		return tx.updateAddress(before, &a, p)
	})
	return out, warnings, err
}

// DeleteAddress removes an address record.
func (db *DB) DeleteAddress(ctx context.Context, id int64, opts ipdesk.DeleteOptions) error {
	return db.write(ctx, func(tx *Tx) error {
		a, err := tx.findAddress(id)
		if err != nil {
			return err
		}
		if err := checkVersion("address", id, opts.Version, a.Version); err != nil {
			return err
		}
		if err := tx.lockRow("prefixes", a.PrefixID); err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM addresses WHERE id = $1", id); err != nil {
			return err
		}
		if !tx.db.pg {
			if _, err := tx.exec("DELETE FROM address_search WHERE rowid = $1", id); err != nil {
				return err
			}
		}
		if err := tx.countChunk(a.PrefixID, a.Addr, -1); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionDelete, ipdesk.ObjectAddress, id, a, nil)
	})
}

// deleteAddressesOf removes every address of a subnet, each audited.
func (tx *Tx) deleteAddressesOf(prefixID int64) error {
	rows, err := tx.query("SELECT "+addressColumns+" FROM addresses WHERE prefix_id = $1 ORDER BY ip_key", prefixID)
	if err != nil {
		return err
	}
	var all []*ipdesk.Address
	for rows.Next() {
		a, err := scanAddress(rows)
		if err != nil {
			rows.Close()
			return err
		}
		all = append(all, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, a := range all {
		if err := tx.audit(ipdesk.ActionDelete, ipdesk.ObjectAddress, a.ID, a, nil); err != nil {
			return err
		}
	}
	if !tx.db.pg {
		if _, err := tx.exec("DELETE FROM address_search WHERE rowid IN (SELECT id FROM addresses WHERE prefix_id = $1)", prefixID); err != nil {
			return err
		}
	}
	if _, err := tx.exec("DELETE FROM addresses WHERE prefix_id = $1", prefixID); err != nil {
		return err
	}
	_, err = tx.exec("DELETE FROM address_chunks WHERE prefix_id = $1", prefixID)
	return err
}

// usedAddrs returns the stored addresses of a subnet in [lo, hi], sorted.
func (tx *Tx) usedAddrs(prefixID int64, lo, hi netip.Addr, max int) ([]netip.Addr, error) {
	q := "SELECT ip_key FROM addresses WHERE prefix_id = $1 AND ip_key >= $2 AND ip_key <= $3 ORDER BY ip_key"
	if max > 0 {
		q += fmt.Sprintf(" LIMIT %d", max)
	}
	rows, err := tx.query(q, prefixID, ipam.Key(lo), ipam.Key(hi))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []netip.Addr
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		a, ok := ipam.AddrFromKey(k)
		if !ok {
			return nil, fmt.Errorf("stored address key of %d bytes", len(k))
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// subnet returns the prefix id as a subnet, or EINVALID.
func (tx *Tx) subnet(id int64) (*ipdesk.Prefix, error) {
	p, err := tx.findPrefix(id)
	if err != nil {
		return nil, err
	}
	if p.Kind != ipdesk.PrefixSubnet {
		return nil, ipdesk.Errorf(ipdesk.EINVALID, "prefix %s is a container; only subnets hold addresses", p.Prefix)
	}
	return p, nil
}

type chunkCount struct {
	start netip.Addr
	used  uint64
}

// firstFree finds the first free host address of subnet p at or after
// from. It walks the chunk counts in key order: a chunk without a row has
// no used address, a chunk whose count reaches its capacity is full and
// skipped unread, and only a partly used chunk has its addresses read.
func (tx *Tx) firstFree(p *ipdesk.Prefix, from netip.Addr) (netip.Addr, error) {
	lo, hi := ipam.HostBounds(p.Prefix)
	if from.IsValid() {
		from = from.Unmap()
		if !p.Prefix.Contains(from) {
			return netip.Addr{}, ipdesk.FieldErrorf(ipdesk.EINVALID, "from", "from %s is not inside %s", from, p.Prefix)
		}
		if lo.Less(from) {
			lo = from
		}
	}
	full := ipdesk.Errorf(ipdesk.ECONFLICT, "subnet %s has no free address left", p.Prefix)
	if hi.Less(lo) {
		return netip.Addr{}, full
	}
	// tryChunk looks for a free address in the chunk starting at c, given
	// its used addresses (nil for a chunk without any).
	tryChunk := func(c netip.Addr, used []netip.Addr) (netip.Addr, bool) {
		start, end := c, ipam.ChunkEnd(c)
		if start.Less(lo) {
			start = lo
		}
		if hi.Less(end) {
			end = hi
		}
		return ipam.FirstFree(start, end, used, p.Gateway)
	}
	const batch = 512
	chunk := ipam.ChunkOf(lo)
	for {
		rows, err := tx.query("SELECT chunk_key, used FROM address_chunks WHERE prefix_id = $1 AND chunk_key >= $2 ORDER BY chunk_key LIMIT $3", p.ID, ipam.Key(chunk), batch)
		if err != nil {
			return netip.Addr{}, err
		}
		var counts []chunkCount
		for rows.Next() {
			var k []byte
			var c chunkCount
			if err := rows.Scan(&k, &c.used); err != nil {
				rows.Close()
				return netip.Addr{}, err
			}
			c.start, _ = ipam.AddrFromKey(k)
			counts = append(counts, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return netip.Addr{}, err
		}
		for _, c := range counts {
			for chunk.Less(c.start) { // chunks without a row are empty
				if a, ok := tryChunk(chunk, nil); ok {
					return a, nil
				}
				var ok bool
				if chunk, ok = ipam.NextChunk(chunk); !ok || hi.Less(chunk) {
					return netip.Addr{}, full
				}
			}
			if c.used < ipam.ChunkCapacity(p.Prefix, chunk) {
				start := chunk
				if start.Less(lo) {
					start = lo
				}
				used, err := tx.usedAddrs(p.ID, start, ipam.ChunkEnd(chunk), 0)
				if err != nil {
					return netip.Addr{}, err
				}
				if a, ok := tryChunk(chunk, used); ok {
					return a, nil
				}
			}
			var ok bool
			if chunk, ok = ipam.NextChunk(chunk); !ok || hi.Less(chunk) {
				return netip.Addr{}, full
			}
		}
		if len(counts) < batch {
			// Every chunk from here on is empty.
			for {
				if a, ok := tryChunk(chunk, nil); ok {
					return a, nil
				}
				var ok bool
				if chunk, ok = ipam.NextChunk(chunk); !ok || hi.Less(chunk) {
					return netip.Addr{}, full
				}
			}
		}
	}
}

// FirstFreeAddress returns the first free address of a subnet.
func (db *DB) FirstFreeAddress(ctx context.Context, prefixID int64, from netip.Addr) (netip.Addr, error) {
	var out netip.Addr
	err := db.read(ctx, func(tx *Tx) error {
		p, err := tx.subnet(prefixID)
		if err != nil {
			return err
		}
		out, err = tx.firstFree(p, from)
		return err
	})
	return out, err
}

// AllocateAddress takes the first free address of a subnet and stores tmpl
// there, atomically: concurrent allocations get distinct addresses.
func (db *DB) AllocateAddress(ctx context.Context, prefixID int64, from netip.Addr, tmpl *ipdesk.Address) ([]ipdesk.Warning, error) {
	var warnings []ipdesk.Warning
	err := db.write(ctx, func(tx *Tx) error {
		p, err := tx.subnet(prefixID)
		if err != nil {
			return err
		}
		if err := tx.lockRow("prefixes", p.ID); err != nil {
			return err
		}
		a, err := tx.firstFree(p, from)
		if err != nil {
			return err
		}
		tmpl.ID = 0
		tmpl.SpaceID = p.SpaceID
		tmpl.Addr = a
		if err := tmpl.Validate(); err != nil {
			return err
		}
		if p, warnings, err = tx.checkAddressIn(tmpl, p); err != nil {
			return err
		}
		return tx.insertAddress(tmpl, p)
	})
	return warnings, err
}

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

// qAddressByID reads one address; qAddressByIDAtEpoch with the
// authentication epoch as one more column.
const (
	qAddressByID        = "SELECT " + addressColumns + " FROM addresses WHERE id = $1"
	qAddressByIDAtEpoch = "SELECT " + addressColumns + ", (" + qAuthEpoch + ") FROM addresses WHERE id = $1"
)

func (tx *Tx) findAddress(id int64) (*ipdesk.Address, error) {
	a, err := scanAddress(tx.queryRow(qAddressByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("address", id)
	}
	return a, err
}

// FindAddressByID returns one address. For a request let in on cached
// credentials (an ipdesk.AuthGuard not yet confirmed), the read carries
// the authentication epoch along: the epoch the request was let in at
// confirms the guard (the read, made after the request arrived, showed
// the cached rights current), another one fails the read with
// ipdesk.ErrAuthChanged; a read that finds no address leaves the guard as
// it was. On PostgreSQL the requests that arrive together share one read
// (see findAddressShared).
func (db *DB) FindAddressByID(ctx context.Context, id int64) (*ipdesk.Address, error) {
	g := db.unconfirmedGuard(ctx)
	if db.pg {
		return db.findAddressShared(ctx, id, g)
	}
	q := qAddressByID
	if g != nil {
		q = qAddressByIDAtEpoch
	}
	if err := db.prepare(ctx, db.r, q); err != nil {
		return nil, mapError(err)
	}
	var a *ipdesk.Address
	var epoch int64
	err := db.readOne(ctx, func(tx *Tx) error {
		var err error
		row := tx.queryRow(q, id)
		if g != nil {
			a, err = scanAddress(scanWith(row, &epoch))
		} else {
			a, err = scanAddress(row)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("address", id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if g != nil {
		if epoch != g.Epoch {
			return nil, ipdesk.ErrAuthChanged
		}
		g.Confirm()
	}
	return a, nil
}

// macHex returns m as 12 hex digits without separators, the one form of
// a MAC in the search text: a query in another notation is brought to it
// (see macFragment). Each further form would add trigrams to the index
// that every write of the address pays for.
func macHex(m ipdesk.MAC) string {
	if m.IsZero() {
		return ""
	}
	return strings.ReplaceAll(m.String(), ":", "")
}

// macFragment tells whether lower-case q is a piece of a MAC written with
// separators: hex pairs joined by ':' or '-' (02:00:5e), or hex quads
// joined by '.' with one of them whole (0200.5e00); the groups at either
// end may be cut short. It returns the hex digits of q, which the search
// text holds (see macHex). An IPv6 or IPv4 fragment (fe80::1, 10.0.1) is
// not one.
func macFragment(q string) (string, bool) {
	sep := byte(0)
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == ':' || c == '-' || c == '.':
			if sep != 0 && sep != c {
				return "", false
			}
			sep = c
		case c >= '0' && c <= '9' || c >= 'a' && c <= 'f':
		default:
			return "", false
		}
	}
	if sep == 0 {
		return "", false
	}
	width := 2
	if sep == '.' {
		width = 4
	}
	groups := strings.Split(q, string(sep))
	whole := false
	for i, g := range groups {
		edge := i == 0 || i == len(groups)-1
		if len(g) > width || !edge && len(g) != width {
			return "", false
		}
		whole = whole || len(g) == width
	}
	if sep == '.' && !whole {
		return "", false
	}
	return strings.Join(groups, ""), true
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
	return strings.ToLower(strings.Join([]string{a.Addr.String(), macHex(a.MAC), a.Hostname, a.Owner, a.Phone, digits(a.Phone), a.Description}, "\x1f"))
}

// addressLookups answers the questions the address rules ask of the stored
// data. A *Tx asks the database; an import asks its in-memory copy of the
// data its rows touch (importState), which also holds the earlier rows.
// self is the id of the record being checked (0 for a new one): it is
// never another holder.
type addressLookups interface {
	// lastSubnetFrom returns the subnet of the space that starts last at
	// or before addr, or nil.
	lastSubnetFrom(spaceID int64, addr netip.Addr) (*ipdesk.Prefix, error)
	spaceExists(id int64) (bool, error)
	// addressHolder returns the other record with addr in the space, or nil.
	addressHolder(spaceID int64, addr netip.Addr, self int64) (*holder, error)
	// macHolder returns the other record with mac in the subnet, or nil.
	macHolder(prefixID int64, mac ipdesk.MAC, self int64) (*holder, error)
	locationExists(id int64) (bool, error)
	accessLevelExists(level int) (bool, error)
	// hostnameUsers returns the addresses of up to five other records
	// with the hostname (in any case), in address order.
	hostnameUsers(hostname string, self int64) ([]string, error)
}

// holder is a record that already has the address or MAC another asks for.
type holder struct {
	id       int64
	addr     string
	hostname string
	// pending tells that an earlier row of the running import made the
	// record, which has no id yet.
	pending bool
}

// String names the record in messages.
func (h *holder) String() string {
	if h.pending {
		return "an earlier row of this import"
	}
	return fmt.Sprintf("address record %d", h.id)
}

// subnetFor returns the subnet of the space that contains addr. Subnets of
// a space do not overlap, so the one starting last at or before addr is the
// only candidate.
func subnetFor(l addressLookups, spaceID int64, addr netip.Addr) (*ipdesk.Prefix, error) {
	p, err := l.lastSubnetFrom(spaceID, addr)
	if err != nil || p != nil && p.Prefix.Contains(addr) {
		return p, err
	}
	ok, err := l.spaceExists(spaceID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "space_id", "space %d does not exist", spaceID)
	}
	return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "address", "address %s is not inside any subnet of space %d; create the subnet first", addr, spaceID)
}

// checkAddress checks a against the stored data: its subnet (returned),
// the reserved addresses, unique IP in the space, unique MAC in the subnet,
// the location and the access level. It returns warnings too.
func checkAddress(l addressLookups, a *ipdesk.Address) (*ipdesk.Prefix, []ipdesk.Warning, error) {
	p, err := subnetFor(l, a.SpaceID, a.Addr)
	if err != nil {
		return nil, nil, err
	}
	warnings, err := checkAddressIn(l, a, p)
	if err != nil {
		return nil, nil, err
	}
	return p, warnings, nil
}

// checkAddressIn is checkAddress for an address known to lie in subnet p.
func checkAddressIn(l addressLookups, a *ipdesk.Address, p *ipdesk.Prefix) ([]ipdesk.Warning, error) {
	if ipdesk.IsReservedInSubnet(p.Prefix, a.Addr) {
		return nil, reservedAddressError(a, p)
	}
	if h, err := l.addressHolder(a.SpaceID, a.Addr, a.ID); err != nil {
		return nil, err
	} else if h != nil {
		return nil, ipdesk.FieldErrorf(ipdesk.ECONFLICT, "address", "address %s is already used by %s (hostname %q)", a.Addr, h, h.hostname)
	}
	if !a.MAC.IsZero() {
		if h, err := l.macHolder(p.ID, a.MAC, a.ID); err != nil {
			return nil, err
		} else if h != nil {
			return nil, ipdesk.FieldErrorf(ipdesk.ECONFLICT, "mac", "mac %s is already bound to %s (%s) in subnet %s", a.MAC, h.addr, h, p.Prefix)
		}
	}
	if a.LocationID != 0 {
		if ok, err := l.locationExists(a.LocationID); err != nil {
			return nil, err
		} else if !ok {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "location_id", "location %d does not exist", a.LocationID)
		}
	}
	if ok, err := l.accessLevelExists(a.AccessLevel); err != nil {
		return nil, err
	} else if !ok {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "access_level", "access level %d does not exist", a.AccessLevel)
	}
	if a.Hostname == "" {
		return nil, nil
	}
	others, err := l.hostnameUsers(a.Hostname, a.ID)
	if err != nil {
		return nil, err
	}
	return hostnameWarnings(a.Hostname, others), nil
}

// reservedAddressError refuses a, the network or broadcast address of p.
func reservedAddressError(a *ipdesk.Address, p *ipdesk.Prefix) error {
	return ipdesk.FieldErrorf(ipdesk.EINVALID, "address", "address %s is the network or broadcast address of %s", a.Addr, p.Prefix)
}

// hostnameWarnings warns that the other records at the addresses others
// have the hostname too.
func hostnameWarnings(hostname string, others []string) []ipdesk.Warning {
	if len(others) == 0 {
		return nil
	}
	return []ipdesk.Warning{ipdesk.Warnf(ipdesk.WDuplicateHostname,
		"hostname %q is also used by %s", hostname, strings.Join(others, ", "))}
}

// The addressLookups of a transaction ask the database.
var _ addressLookups = (*Tx)(nil)

func (tx *Tx) lastSubnetFrom(spaceID int64, addr netip.Addr) (*ipdesk.Prefix, error) {
	p, err := scanPrefix(tx.queryRow("SELECT "+prefixColumns+" FROM prefixes WHERE space_id = $1 AND kind = 'subnet' AND first_key <= $2 ORDER BY first_key DESC LIMIT 1", spaceID, ipam.Key(addr)))
	if isNoRows(err) {
		return nil, nil
	}
	return p, err
}

func (tx *Tx) spaceExists(id int64) (bool, error) {
	return tx.exists("SELECT COUNT(*) FROM spaces WHERE id = $1", id)
}

func (tx *Tx) addressHolder(spaceID int64, addr netip.Addr, self int64) (*holder, error) {
	return tx.holder("SELECT id, address, hostname FROM addresses WHERE space_id = $1 AND ip_key = $2 AND id <> $3", spaceID, ipam.Key(addr), self)
}

func (tx *Tx) macHolder(prefixID int64, mac ipdesk.MAC, self int64) (*holder, error) {
	return tx.holder("SELECT id, address, hostname FROM addresses WHERE prefix_id = $1 AND mac <> '' AND mac = $2 AND id <> $3", prefixID, mac.String(), self)
}

func (tx *Tx) locationExists(id int64) (bool, error) {
	return tx.exists("SELECT COUNT(*) FROM locations WHERE id = $1", id)
}

func (tx *Tx) accessLevelExists(level int) (bool, error) {
	return tx.exists("SELECT COUNT(*) FROM access_levels WHERE level = $1", level)
}

// qHostnameUsers reads the addresses of up to five records with a
// hostname (lower case) other than record $2, in address order.
const qHostnameUsers = "SELECT address FROM addresses WHERE hostname_lc = $1 AND id <> $2 ORDER BY ip_key LIMIT 5"

func (tx *Tx) hostnameUsers(hostname string, self int64) ([]string, error) {
	rows, err := tx.query(qHostnameUsers, strings.ToLower(hostname), self)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var others []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		others = append(others, s)
	}
	return others, rows.Err()
}

// exists runs a COUNT(*) query and reports whether it counted anything.
func (tx *Tx) exists(q string, args ...any) (bool, error) {
	var n int
	err := tx.queryRow(q, args...).Scan(&n)
	return n > 0, err
}

// holder runs a query for the id, address and hostname of a record.
func (tx *Tx) holder(q string, args ...any) (*holder, error) {
	var h holder
	err := tx.queryRow(q, args...).Scan(&h.id, &h.addr, &h.hostname)
	if isNoRows(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &h, nil
}

// countChunk adds delta to the used count of addr's chunk in a subnet.
func (tx *Tx) countChunk(prefixID int64, addr netip.Addr, delta int) error {
	return tx.countChunks(map[chunkRef]int{{prefixID, ipam.ChunkOf(addr)}: delta})
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// insertAddress stores a checked address in subnet p and audits it.
func (tx *Tx) insertAddress(a *ipdesk.Address, p *ipdesk.Prefix) error {
	w := tx.addressWriter()
	w.create(a, p)
	return w.flush()
}

// updateAddress writes the new state of a checked address (moved to
// subnet p) and audits it.
func (tx *Tx) updateAddress(before, a *ipdesk.Address, p *ipdesk.Prefix) error {
	w := tx.addressWriter()
	w.update(before, a, p)
	return w.flush()
}

// CreateAddress stores a in the subnet of its space that contains it.
func (db *DB) CreateAddress(ctx context.Context, a *ipdesk.Address) ([]ipdesk.Warning, error) {
	a.ID = 0
	if err := a.Validate(); err != nil {
		return nil, err
	}
	var warnings []ipdesk.Warning
	err := db.write(ctx, func(tx *Tx) error {
		p, err := subnetFor(tx, a.SpaceID, a.Addr)
		if err != nil {
			return err
		}
		if err := tx.lockRow("prefixes", p.ID); err != nil {
			return err
		}
		if warnings, err = tx.checkAddressIn(a, p); err != nil {
			return err
		}
		if err := tx.checkReservation(a, p); err != nil {
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
		out, warnings, err = tx.changeAddress(before, upd)
		return err
	})
	return out, warnings, err
}

// changeAddress applies upd to the stored record before, whose subnet the
// caller has locked, checks the result and writes it.
func (tx *Tx) changeAddress(before *ipdesk.Address, upd ipdesk.AddressUpdate) (*ipdesk.Address, []ipdesk.Warning, error) {
	if err := checkVersion("address", before.ID, upd.Version, before.Version); err != nil {
		return nil, nil, err
	}
	a := *before
	upd.Apply(&a)
	if err := a.Validate(); err != nil {
		return nil, nil, err
	}
	p, err := subnetFor(tx, a.SpaceID, a.Addr)
	if err != nil {
		return nil, nil, err
	}
	warnings, err := tx.checkAddressIn(&a, p)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.checkReservation(&a, p); err != nil {
		return nil, nil, err
	}
	if p.ID != before.PrefixID {
		if err := tx.lockRow("prefixes", p.ID); err != nil {
			return nil, nil, err
		}
	}
	return &a, warnings, tx.updateAddress(before, &a, p)
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
		if err := tx.searchChanged(id); err != nil {
			return err
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
	ids := make([]int64, len(all))
	for i, a := range all {
		ids[i] = a.ID
	}
	if err := tx.searchChanged(ids...); err != nil {
		return err
	}
	if _, err := tx.exec("DELETE FROM addresses WHERE prefix_id = $1", prefixID); err != nil {
		return err
	}
	if _, err := tx.exec("DELETE FROM address_chunks WHERE prefix_id = $1", prefixID); err != nil {
		return err
	}
	return tx.forgetSubnetFill(prefixID)
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
	return onlySubnet(tx.findPrefix(id))
}

// subnetFill reads subnet id with its mark of full chunks (see
// firstFree), in one statement: on PostgreSQL, with lock set, it also
// takes the subnet's row lock (see lockRow), which serialises the writers
// of the subnet.
func (tx *Tx) subnetFill(id int64, lock bool) (*ipdesk.Prefix, subnetMark, error) {
	var f subnetFillRead
	if err := tx.pipeline(f.read(tx, id, lock)); err != nil {
		return nil, subnetMark{}, err
	}
	return f.result()
}

// subnetFillRead is the read of subnetFill as a read of a pipeline, and
// what it found.
type subnetFillRead struct {
	p    *ipdesk.Prefix
	mark subnetMark
	err  error
}

func (f *subnetFillRead) read(tx *Tx, id int64, lock bool) pipeRead {
	q, atEpoch := qSubnetFill, ""
	if lock && tx.db.pg {
		q, atEpoch = qSubnetFillLocked, qSubnetFillLockedAtEpoch
	}
	return pipeRead{query: q, args: []any{id}, atEpoch: atEpoch, scan: func(rows resultRows) error {
		if !rows.Next() {
			f.err = notFound("prefix", id)
			return nil
		}
		var k []byte
		p, err := scanPrefix(scanWith(rows, &k))
		if err != nil {
			return err
		}
		f.p, f.err = onlySubnet(p, nil)
		if k != nil {
			f.mark.fullBelow, _ = ipam.AddrFromKey(k)
		}
		return nil
	}}
}

// result is the subnet read, or why there is none.
func (f *subnetFillRead) result() (*ipdesk.Prefix, subnetMark, error) {
	if f.err != nil {
		return nil, subnetMark{}, f.err
	}
	return f.p, f.mark, nil
}

// The statements of subnetFill: a prefix's columns, qualified, and the
// mark of its subnet_fill row if it has one; with the lock, they can carry
// the authentication epoch (see pipeRead.atEpoch).
const (
	qSubnetFillColumns = "p.id, p.space_id, p.parent_id, p.prefix, p.kind, p.description, p.gateway, p.dhcp, p.vlan, p.version, p.created_at, p.updated_at, f.full_below"
	qSubnetFillFrom    = "prefixes p LEFT JOIN subnet_fill f ON f.prefix_id = p.id WHERE p.id = $1"
	qSubnetFill        = "SELECT " + qSubnetFillColumns + " FROM " + qSubnetFillFrom
	qSubnetFillLocked  = qSubnetFill + " FOR UPDATE OF p"

	qSubnetFillLockedAtEpoch = "SELECT " + qSubnetFillColumns + ", (" + qAuthEpoch + ") FROM " + qSubnetFillFrom + " FOR UPDATE OF p"
)

// subnetMark is a subnet's mark of full chunks as read with the subnet:
// every chunk before fullBelow is full (no mark: invalid).
type subnetMark struct {
	fullBelow netip.Addr
}

// scanWith is a row whose Scan fills the destinations given to it and then
// extra: a scanner of n columns used for a row of n+len(extra).
func scanWith(row interface{ Scan(...any) error }, extra ...any) interface{ Scan(...any) error } {
	return rowScanner(func(dst ...any) error { return row.Scan(append(dst, extra...)...) })
}

// rowScanner is a function that scans a row.
type rowScanner func(dst ...any) error

func (f rowScanner) Scan(dst ...any) error { return f(dst...) }

// onlySubnet passes on a prefix found, or refuses it when it is no subnet.
func onlySubnet(p *ipdesk.Prefix, err error) (*ipdesk.Prefix, error) {
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
//
// pre, when it read anything, is the first read of chunk counts done
// ahead (see chunksAhead), used when the search starts where it did.
func (tx *Tx) firstFree(p *ipdesk.Prefix, mark subnetMark, from netip.Addr, pre *chunksAhead) (netip.Addr, error) {
	lo, hi := ipam.HostBounds(p.Prefix)
	hostLo := lo
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
	chunk := ipam.ChunkOf(lo)
	// Every chunk before fullBelow is full; the search starts there, and a
	// write moves the mark up to the chunk where it found the address.
	fullBelow := mark.fullBelow
	fromStart := true // the chunks looked at run on from the mark
	if fullBelow.IsValid() && fullBelow.BitLen() == chunk.BitLen() {
		if chunk.Less(fullBelow) {
			chunk = fullBelow
			if lo.Less(chunk) {
				lo = chunk
			}
		} else {
			fromStart = !fullBelow.Less(chunk)
		}
	} else {
		fromStart = chunk == ipam.ChunkOf(p.Prefix.Masked().Addr())
	}
	// A search from inside a chunk (from) says nothing of the addresses of
	// that chunk before lo.
	firstHost := chunk
	if firstHost.Less(hostLo) {
		firstHost = hostLo
	}
	if firstHost.Less(lo) {
		fromStart = false
	}
	if hi.Less(lo) {
		return netip.Addr{}, full
	}
	found := func(c, a netip.Addr) (netip.Addr, error) {
		if fromStart && tx.writes && (!fullBelow.IsValid() || fullBelow.Less(c)) {
			if err := tx.setSubnetFullBelow(p.ID, c); err != nil {
				return netip.Addr{}, err
			}
		}
		return a, nil
	}
	for {
		// The chunks from here on, and the highest used address of the
		// first one, for afterDenseRun, in the same statement.
		first, end := runBounds(chunk, hostLo, hi)
		var counts []chunkCount
		var top denseTop
		if pre != nil && pre.start.IsValid() && pre.start == chunk {
			counts, top = pre.counts, pre.topWithin(first, end)
			pre = nil
		} else {
			rows, err := tx.query(qChunksFrom, p.ID, ipam.Key(chunk), chunkBatch, ipam.Key(first), ipam.Key(end))
			if err != nil {
				return netip.Addr{}, err
			}
			for rows.Next() {
				var k, t []byte
				var c chunkCount
				if err := rows.Scan(&k, &c.used, &t); err != nil {
					rows.Close()
					return netip.Addr{}, err
				}
				c.start, _ = ipam.AddrFromKey(k)
				if c.start == chunk {
					top = denseTop{known: true, key: t}
				}
				counts = append(counts, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return netip.Addr{}, err
			}
		}
		queried := chunk
		for _, c := range counts {
			for chunk.Less(c.start) { // chunks without a row are empty
				if a, ok := tryChunk(chunk, nil); ok {
					return found(chunk, a)
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
				t := denseTop{}
				if chunk == queried {
					t = top
				}
				if a, ok, err := tx.afterDenseRun(p, chunk, start, hostLo, hi, c.used, t); err != nil || ok {
					if err != nil {
						return netip.Addr{}, err
					}
					return found(chunk, a)
				}
				used, err := tx.usedAddrs(p.ID, start, ipam.ChunkEnd(chunk), 0)
				if err != nil {
					return netip.Addr{}, err
				}
				if a, ok := tryChunk(chunk, used); ok {
					return found(chunk, a)
				}
			}
			var ok bool
			if chunk, ok = ipam.NextChunk(chunk); !ok || hi.Less(chunk) {
				return netip.Addr{}, full
			}
		}
		if len(counts) < chunkBatch {
			// Every chunk from here on is empty.
			for {
				if a, ok := tryChunk(chunk, nil); ok {
					return found(chunk, a)
				}
				var ok bool
				if chunk, ok = ipam.NextChunk(chunk); !ok || hi.Less(chunk) {
					return netip.Addr{}, full
				}
			}
		}
	}
}

// qChunksFrom reads the used counts of a subnet's chunks from a chunk on
// ($1 subnet, $2 chunk, $3 how many), with the highest used address
// between $4 and $5 on the row of the chunk $2 (see runBounds).
const qChunksFrom = "SELECT chunk_key, used, CASE WHEN chunk_key = $2 THEN " +
	"(SELECT ip_key FROM addresses WHERE prefix_id = $1 AND ip_key >= $4 AND ip_key <= $5 ORDER BY ip_key DESC LIMIT 1) END " +
	"FROM address_chunks WHERE prefix_id = $1 AND chunk_key >= $2 ORDER BY chunk_key LIMIT $3"

// chunkBatch is how many chunk counts firstFree reads at a time.
const chunkBatch = 512

// chunksAhead is the first read of firstFree done ahead, with the read of
// the subnet (PostgreSQL, where it saves a round trip): the chunk counts
// from the subnet's mark of full chunks on, and the highest used address
// of the mark's chunk. It is used when the search starts at the mark, as
// an allocation's does unless it asks for addresses from a later one; it
// reads nothing when the subnet has no mark.
type chunksAhead struct {
	start  netip.Addr // the chunk the counts start at; invalid: nothing read
	counts []chunkCount
	top    denseTop // of the whole chunk start
}

// qChunksAhead is chunksAhead's read ($1 subnet, $2 how many). The last
// address of the mark's chunk is its key with the last byte all ones (a
// chunk is the last ChunkBits bits, checked below).
const qChunksAhead = "SELECT f.full_below, c.chunk_key, c.used, CASE WHEN c.chunk_key = f.full_below THEN " +
	"(SELECT ip_key FROM addresses WHERE prefix_id = $1 AND ip_key >= f.full_below AND ip_key <= overlay(f.full_below placing '\\xff'::bytea from 16) ORDER BY ip_key DESC LIMIT 1) END " +
	"FROM subnet_fill f LEFT JOIN LATERAL (SELECT chunk_key, used FROM address_chunks WHERE prefix_id = $1 AND chunk_key >= f.full_below ORDER BY chunk_key LIMIT $2) c ON true " +
	"WHERE f.prefix_id = $1"

// qChunksAhead takes a chunk's last address to be its key with the last
// byte all ones: this stops the build if chunks are ever not 8 bits.
const _ = uint(ipam.ChunkBits-8) + uint(8-ipam.ChunkBits)

func (c *chunksAhead) read(prefixID int64) pipeRead {
	return pipeRead{query: qChunksAhead, args: []any{prefixID, chunkBatch}, scan: func(rows resultRows) error {
		for rows.Next() {
			var start, k, t []byte
			var used sql.NullInt64
			if err := rows.Scan(&start, &k, &used, &t); err != nil {
				return err
			}
			s, ok := ipam.AddrFromKey(start)
			if !ok {
				return nil // no mark: nothing read ahead
			}
			c.start = s
			if k == nil {
				continue // no chunk counts from the mark on
			}
			cc := chunkCount{used: uint64(used.Int64)}
			cc.start, _ = ipam.AddrFromKey(k)
			if cc.start == s {
				c.top = denseTop{known: true, key: t}
			}
			c.counts = append(c.counts, cc)
		}
		if c.start.IsValid() && !c.top.known {
			// No count for the mark's chunk: it has no used address.
			c.top = denseTop{known: true}
		}
		return nil
	}}
}

// topWithin returns the highest used address of [first, end], which lies
// in the chunk read ahead, when the chunk's highest tells it: when that
// lies in the range (or there is none), it is the range's too.
func (c *chunksAhead) topWithin(first, end netip.Addr) denseTop {
	if !c.top.known || c.top.key == nil {
		return c.top
	}
	a, ok := ipam.AddrFromKey(c.top.key)
	if !ok || a.Less(first) || end.Less(a) {
		return denseTop{}
	}
	return c.top
}

// runBounds returns the host addresses of the chunk starting at chunk in
// a subnet whose host addresses are [hostLo, hi]: the addresses a run from
// the chunk's first host address can take.
func runBounds(chunk, hostLo, hi netip.Addr) (first, end netip.Addr) {
	first, end = chunk, ipam.ChunkEnd(chunk)
	if first.Less(hostLo) {
		first = hostLo
	}
	if hi.Less(end) {
		end = hi
	}
	return first, end
}

// denseTop is the highest used address of a chunk's host addresses when
// it was read with the chunk's count (known; key nil: none).
type denseTop struct {
	known bool
	key   []byte
}

// afterDenseRun is the quick answer for a chunk filled from its start
// without gaps, as allocations fill a subnet: when the chunk's used
// addresses, count of them, are exactly the host addresses from its first
// one up to the highest used, the first free address follows the highest
// (the gateway skipped), found with one look at the index (or none, when
// top has it already) instead of a read of every used address. ok is
// false when the chunk is not such a run, or start is not its first host
// address (a search from inside it), or the run fills the chunk up to hi.
func (tx *Tx) afterDenseRun(p *ipdesk.Prefix, chunk, start, hostLo, hi netip.Addr, count uint64, top denseTop) (netip.Addr, bool, error) {
	first, end := runBounds(chunk, hostLo, hi)
	if start != first || count <= 0 {
		return netip.Addr{}, false, nil
	}
	k := top.key
	if !top.known {
		err := tx.queryRow("SELECT ip_key FROM addresses WHERE prefix_id = $1 AND ip_key >= $2 AND ip_key <= $3 ORDER BY ip_key DESC LIMIT 1",
			p.ID, ipam.Key(first), ipam.Key(end)).Scan(&k)
		if errors.Is(err, sql.ErrNoRows) {
			return netip.Addr{}, false, nil
		} else if err != nil {
			return netip.Addr{}, false, err
		}
	}
	if k == nil {
		return netip.Addr{}, false, nil
	}
	last, ok := ipam.AddrFromKey(k)
	if !ok {
		return netip.Addr{}, false, nil
	}
	next, ok := denseNext(p, first, end, last, count)
	return next, ok, nil
}

// denseNext returns the address after a run of count used addresses of
// subnet p from first up to last, the gateway skipped, when the run has
// no gap and its next address is no further than end.
func denseNext(p *ipdesk.Prefix, first, end, last netip.Addr, count uint64) (netip.Addr, bool) {
	if count == 0 || last.Less(first) {
		return netip.Addr{}, false
	}
	slots := ipam.RangeSize(first, last)
	if g := p.Gateway; g.IsValid() && !g.Less(first) && !last.Less(g) {
		slots--
	}
	if slots != count {
		return netip.Addr{}, false
	}
	next := last.Next()
	if next == p.Gateway {
		next = next.Next()
	}
	if !next.IsValid() || end.Less(next) {
		return netip.Addr{}, false
	}
	return next, true
}

// FirstFreeAddress returns the first free address of a subnet.
func (db *DB) FirstFreeAddress(ctx context.Context, prefixID int64, from netip.Addr) (netip.Addr, error) {
	var out netip.Addr
	err := db.read(ctx, func(tx *Tx) error {
		p, mark, err := tx.subnetFill(prefixID, false)
		if err != nil {
			return err
		}
		out, err = tx.firstFree(p, mark, from, nil)
		return err
	})
	return out, err
}

// AllocateAddress takes the first free address of a subnet and stores tmpl
// there, atomically: concurrent allocations get distinct addresses.
func (db *DB) AllocateAddress(ctx context.Context, prefixID int64, from netip.Addr, tmpl *ipdesk.Address) ([]ipdesk.Warning, error) {
	var warnings []ipdesk.Warning
	err := db.write(ctx, func(tx *Tx) error {
		warnings = nil
		// The subnet and the checks of the record, which do not depend on
		// the address it gets, in one round trip. The check of the
		// address itself is left out: it lies in the subnet, and the
		// search found no record of the subnet at it, and subnets do not
		// overlap other prefixes of their space, so that no record of the
		// space has it (the unique index of the space's addresses would
		// refuse one anyway).
		// On PostgreSQL the record's id is taken from the sequence with
		// them (or from the ids fetched ahead), so that its insert needs
		// no answer and waits, held, for the commit.
		// An allocation from the subnet that the write before it in its
		// group took an address of knows the subnet from that write (see
		// subnetAfter): it holds the lock, and its read would find what
		// that write left. It then presumes its checks when it may (see
		// presumeChecks) and asks nothing.
		var f subnetFillRead
		l := &prefetchedLookups{Tx: tx}
		probe := *tmpl
		probe.ID, probe.SpaceID = 0, 0
		known := tx.subnetBefore(prefixID, from)
		var id int64
		presume := known != nil && tx.mayPresume(&probe, known.p)
		if db.pg {
			id, _ = db.idsAhead.take()
		}
		presume = presume && id != 0
		// The state of an earlier transaction (see lastAllocated) is
		// used only when it tells the address and the allocation
		// presumes its checks: the check of the state then goes first
		// (see checkSubnetIs).
		var next netip.Addr
		if known != nil && known.earlier {
			ok := false
			if presume {
				next, ok = known.nextInRun()
			}
			if !ok {
				known, presume = nil, false
			}
		}
		var reads []pipeRead
		if known == nil {
			// The lock first: the checks after it see what the subnet's
			// other writers committed before it.
			reads = append(reads, f.read(tx, prefixID, true))
		}
		if !presume {
			reads = append(reads, l.read(&probe, prefixID))
		}
		var pre chunksAhead
		if db.pg {
			if id == 0 {
				reads = append(reads, db.addressIDs(&id))
			}
			if known == nil {
				reads = append(reads, pre.read(prefixID))
			}
		}
		if len(reads) > 0 {
			if err := tx.pipeline(reads...); err != nil {
				return err
			}
		}
		var p *ipdesk.Prefix
		var mark subnetMark
		if known != nil {
			p, mark, pre = known.p, known.mark, known.pre
		} else {
			var err error
			if p, mark, err = f.result(); err != nil {
				return err
			}
		}
		a := next
		if a.IsValid() {
			if err := tx.checkSubnetIs(known); err != nil {
				return err
			}
			db.group.earlierStates.Add(1)
		} else {
			var err error
			if a, err = tx.firstFree(p, mark, from, &pre); err != nil {
				return err
			}
		}
		tmpl.ID = 0
		tmpl.SpaceID = p.SpaceID
		tmpl.Addr = a
		if err := tmpl.Validate(); err != nil {
			return err
		}
		var err error
		if presume {
			tmpl.ID = id
			err = tx.presumeChecks(tmpl, p, &warnings)
		} else {
			l.a, l.addr = *tmpl, nil
			if warnings, err = checkAddressIn(l, tmpl, p); err == nil {
				err = tx.checkReservation(tmpl, p)
			}
		}
		if err != nil {
			tmpl.ID = 0
			return err
		}
		w := tx.addressWriter()
		w.create(tmpl, p)
		if id != 0 {
			tmpl.ID, w.numbered = id, true
		}
		if err := w.flush(); err != nil {
			return err
		}
		tx.after = allocatedFrom(p, mark, pre, from, a)
		return nil
	})
	return warnings, err
}

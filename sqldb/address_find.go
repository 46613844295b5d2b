package sqldb

import (
	"context"
	"net/netip"
	"strings"
	"unicode/utf8"

	"ipdesk"
	"ipdesk/ipam"
)

// addressSorts maps the sort names of ipdesk.AddressFilter to columns.
var addressSorts = map[string]string{
	"address":      "space_id, ip_key",
	"hostname":     "hostname_lc",
	"mac":          "mac",
	"owner":        "owner",
	"phone":        "phone",
	"access_level": "access_level",
	"status":       "status",
	"updated_at":   "updated_at",
	"created_at":   "created_at",
	"id":           "id",
}

// addressWhere builds the WHERE clause of an address filter.
func (db *DB) addressWhere(f ipdesk.AddressFilter, a *args) (string, error) {
	var where []string
	if f.ID != nil {
		where = append(where, "id = "+a.add(*f.ID))
	}
	if f.SpaceID != nil {
		where = append(where, "space_id = "+a.add(*f.SpaceID))
	}
	if f.PrefixID != nil {
		where = append(where, "prefix_id = "+a.add(*f.PrefixID))
	}
	if f.LocationID != nil {
		if *f.LocationID == 0 {
			where = append(where, "location_id IS NULL")
		} else {
			where = append(where, "location_id IS NOT NULL AND location_id = "+a.add(*f.LocationID))
		}
	}
	if f.AccessLevel != nil {
		where = append(where, "access_level = "+a.add(*f.AccessLevel))
	}
	if f.Addr != nil {
		where = append(where, "ip_key = "+a.add(ipam.Key(*f.Addr)))
	}
	if f.MAC != nil {
		where = append(where, macCondition(*f.MAC, a))
	}
	if f.Hostname != nil {
		where = append(where, "hostname_lc = "+a.add(strings.ToLower(*f.Hostname)))
	}
	if f.DHCP != nil {
		where = append(where, "dhcp_reservation = "+a.add(*f.DHCP))
	}
	if f.Within != nil {
		first, last := ipam.Bounds(*f.Within)
		where = append(where, "ip_key >= "+a.add(ipam.Key(first))+" AND ip_key <= "+a.add(ipam.Key(last)))
	}
	if f.Scope != nil {
		where = append(where, scopeCondition(*f.Scope, "ip_key", "ip_key", a))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		if len(q) > 200 {
			return "", ipdesk.FieldErrorf(ipdesk.EINVALID, "q", "the search text is %d bytes long; at most 200 are allowed", len(q))
		}
		where = append(where, db.queryCondition(q, a))
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), nil
}

// macCondition matches the addresses with MAC m. The index on the MAC
// holds only addresses that have one (see migration 0014), and a query
// names that condition so that both databases take the index.
func macCondition(m ipdesk.MAC, a *args) string {
	if m.IsZero() {
		return "mac = ''"
	}
	return "(mac <> '' AND mac = " + a.add(m.String()) + ")"
}

// queryCondition is the condition for ?q=: a whole IP, prefix or MAC is
// looked up on its index; anything else is a substring of the search text
// (IP, MAC, hostname, owner, phone, description; see searchText) or of
// the host's room name. A piece of a MAC in a notation with separators is
// also looked for as the hex digits the search text holds.
func (db *DB) queryCondition(q string, a *args) string {
	if addr, err := netip.ParseAddr(q); err == nil && addr.Zone() == "" {
		return "ip_key = " + a.add(ipam.Key(addr))
	}
	if p, err := netip.ParsePrefix(q); err == nil {
		first, last := ipam.Bounds(p)
		return "(ip_key >= " + a.add(ipam.Key(first)) + " AND ip_key <= " + a.add(ipam.Key(last)) + ")"
	}
	if m, err := ipdesk.ParseMAC(q); err == nil {
		return macCondition(m, a)
	}
	lq := strings.ToLower(q)
	forms := []string{lq}
	if hex, ok := macFragment(lq); ok && hex != "" {
		forms = append(forms, hex)
	}
	like := a.add("%" + likeEscape(lq) + "%")
	var conds []string
	for _, f := range forms {
		switch {
		case db.pg:
			conds = append(conds, searchMatchPG(f, a))
		default:
			// The FTS5 trigram index (detail=none) finds the rows that hold
			// every trigram of a text of three characters or more.
			conds = append(conds, searchMatch(f, a, utf8.RuneCountInString(f) >= 3))
		}
	}
	rooms := `(location_id IS NOT NULL AND location_id IN (SELECT id FROM locations WHERE search LIKE ` + like + ` ESCAPE '\'))`
	if db.pg {
		// The room ids are computed first (ARRAY of a subquery) so that the
		// OR can combine index scans instead of scanning the table.
		rooms = `(location_id IS NOT NULL AND location_id = ANY (ARRAY(SELECT id FROM locations WHERE search LIKE ` + like + ` ESCAPE '\')))`
	}
	return "(" + strings.Join(append(conds, rooms), " OR ") + ")"
}

// filterFirstRows is the number of matching rows up to which SQLite is
// told to find them first and sort them after; a list of more is read in
// sort order along its index, which stops after the page. (PostgreSQL
// plans this from its statistics.)
const filterFirstRows = 5000

// FindAddresses returns the addresses matching f and their total.
func (db *DB) FindAddresses(ctx context.Context, f ipdesk.AddressFilter) ([]*ipdesk.Address, int, error) {
	f.Page = f.Page.Normalize()
	var a args
	cond, err := db.addressWhere(f, &a)
	if err != nil {
		return nil, 0, err
	}
	sortName, desc := strings.CutPrefix(f.Sort, "-")
	if sortName == "" {
		sortName = "address"
	}
	col, ok := addressSorts[sortName]
	if !ok {
		return nil, 0, ipdesk.FieldErrorf(ipdesk.EINVALID, "sort", "sort %q is not one of address, hostname, mac, owner, phone, access_level, status, created_at, updated_at, id", f.Sort)
	}
	// orderBy returns the ORDER BY terms; filterFirst (SQLite) makes
	// them expressions, so that no index can give the order and the
	// planner finds the few matching rows by the index of the condition
	// and sorts them, instead of walking the whole table in sort order.
	orderBy := func(filterFirst bool) string {
		terms := append(strings.Split(col, ", "), "id")
		for i, t := range terms {
			if filterFirst {
				t = "+" + t
			}
			if desc && i < len(terms)-1 {
				t += " DESC"
			}
			terms[i] = t
		}
		return strings.Join(terms, ", ")
	}
	var out []*ipdesk.Address
	var n int
	err = db.read(ctx, func(tx *Tx) error {
		// The total and the page are two statements: a window total
		// (COUNT(*) OVER ()) would read every matching row in full before
		// the LIMIT, hundreds of milliseconds for an unfiltered list of
		// 100,000 hosts, where the count alone walks an index and the page
		// reads its rows along the index of the sort order.
		if err := tx.queryRow("SELECT COUNT(*) FROM addresses"+cond, a...).Scan(&n); err != nil {
			return err
		}
		if n <= f.Offset {
			return nil
		}
		order := orderBy(!db.pg && cond != "" && n <= filterFirstRows)
		rows, err := tx.query("SELECT "+addressColumns+" FROM addresses"+cond+" ORDER BY "+order+" LIMIT "+a.add(f.Limit)+" OFFSET "+a.add(f.Offset), a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			x, err := scanAddress(rows)
			if err != nil {
				return err
			}
			out = append(out, x)
		}
		return rows.Err()
	})
	return out, n, err
}

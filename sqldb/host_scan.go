package sqldb

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"ipdesk"
	"ipdesk/ipam"
)

var _ ipdesk.HostScanner = (*DB)(nil)

// hostSep separates the fields of a scanned host row. Stored text fields
// cannot contain it: ipdesk refuses control characters in them, and
// host names are letters, digits, hyphens and dots.
const hostSep = "\x1f"

// hostFields is the number of fields of a scanned host row.
const hostFields = 12

// ScanHosts calls fn with each address f selects; see ipdesk.HostScanner.
//
// The row comes as one text column: the pure Go SQLite driver pays per
// column and row, and reading 100,000 hosts as twelve columns costs about
// twice the time of one.
func (db *DB) ScanHosts(ctx context.Context, f ipdesk.HostFilter, fn func(*ipdesk.Address) error) error {
	var a args
	sep := a.add(hostSep)
	var where []string
	if f.SpaceID != nil {
		where = append(where, "space_id = "+a.add(*f.SpaceID))
	}
	if f.Within != nil {
		first, last := ipam.Bounds(*f.Within)
		where = append(where, "ip_key >= "+a.add(ipam.Key(first))+" AND ip_key <= "+a.add(ipam.Key(last)))
	}
	if len(f.Statuses) > 0 {
		in := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			in[i] = a.add(string(s))
		}
		where = append(where, "status IN ("+strings.Join(in, ", ")+")")
	}
	if f.DHCP {
		where = append(where, "dhcp_reservation = "+a.add(true)+" AND mac <> ''")
	}
	if f.AccessLevel != nil {
		where = append(where, "access_level = "+a.add(*f.AccessLevel))
	}
	if len(f.IDs) > 0 {
		in := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			in[i] = a.add(id)
		}
		where = append(where, "id IN ("+strings.Join(in, ", ")+")")
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	cols := []string{"id", "space_id", "prefix_id", "address", "status", "mac", "COALESCE(location_id, 0)", "access_level",
		"CASE WHEN dhcp_reservation THEN 1 ELSE 0 END", "hostname", "owner", "description"}
	q := "SELECT " + strings.Join(cols, " || "+sep+" || ") + " FROM addresses" + cond
	return db.readOne(ctx, func(tx *Tx) error {
		rows, err := tx.query(q, a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var slab []ipdesk.Address // hosts are allocated in blocks
		var row string
		for rows.Next() {
			if err := rows.Scan(&row); err != nil {
				return err
			}
			if len(slab) == 0 {
				slab = make([]ipdesk.Address, 256)
			}
			h := &slab[0]
			slab = slab[1:]
			if err := parseHost(row, h); err != nil {
				return err
			}
			if err := fn(h); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// parseHost parses a row of ScanHosts into h.
func parseHost(row string, h *ipdesk.Address) error {
	var fs [hostFields]string
	rest := row
	for i := 0; i < hostFields-1; i++ {
		f, r, ok := strings.Cut(rest, hostSep)
		if !ok {
			return fmt.Errorf("host row %q has %d fields, want %d", row, i+1, hostFields)
		}
		fs[i], rest = f, r
	}
	fs[hostFields-1] = rest
	var err error
	ints := [...]*int64{&h.ID, &h.SpaceID, &h.PrefixID}
	for i, p := range ints {
		if *p, err = strconv.ParseInt(fs[i], 10, 64); err != nil {
			return fmt.Errorf("host row %q: %w", row, err)
		}
	}
	if h.Addr, err = netip.ParseAddr(fs[3]); err != nil {
		return fmt.Errorf("address %d: stored address %q: %w", h.ID, fs[3], err)
	}
	h.Status = internStatus(fs[4])
	if fs[5] != "" {
		var ok bool
		if h.MAC, ok = parseStoredMAC(fs[5]); !ok {
			if h.MAC, err = ipdesk.ParseMAC(fs[5]); err != nil {
				return fmt.Errorf("address %d: stored mac %q: %w", h.ID, fs[5], err)
			}
		}
	}
	if h.LocationID, err = strconv.ParseInt(fs[6], 10, 64); err != nil {
		return fmt.Errorf("host row %q: %w", row, err)
	}
	if h.AccessLevel, err = strconv.Atoi(fs[7]); err != nil {
		return fmt.Errorf("host row %q: %w", row, err)
	}
	h.DHCPReservation = fs[8] == "1"
	// The texts are copied out of the row in one piece, so that a host
	// kept long (the outputs' cache) does not keep the whole row.
	texts := strings.Clone(fs[9] + hostSep + fs[10] + hostSep + fs[11])
	h.Hostname = texts[:len(fs[9])]
	h.Owner = texts[len(fs[9])+1 : len(fs[9])+1+len(fs[10])]
	h.Description = texts[len(fs[9])+len(fs[10])+2:]
	return nil
}

// internStatus returns the status s names, sharing the text of a known
// one.
func internStatus(s string) ipdesk.AddressStatus {
	for _, st := range [...]ipdesk.AddressStatus{ipdesk.StatusActive, ipdesk.StatusReserved, ipdesk.StatusDeprecated} {
		if string(st) == s {
			return st
		}
	}
	return ipdesk.AddressStatus(strings.Clone(s))
}

// parseStoredMAC parses a MAC in the form the store writes it,
// aa:bb:cc:dd:ee:ff in lower case, without allocating; ok is false for any
// other text, which ipdesk.ParseMAC then reads (or refuses).
func parseStoredMAC(s string) (m ipdesk.MAC, ok bool) {
	if len(s) != 17 {
		return m, false
	}
	for i := range m {
		if i > 0 && s[3*i-1] != ':' {
			return m, false
		}
		hi, ok1 := lowerHex(s[3*i])
		lo, ok2 := lowerHex(s[3*i+1])
		if !ok1 || !ok2 {
			return m, false
		}
		m[i] = hi<<4 | lo
	}
	return m, !m.IsZero() && m != ipdesk.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
}

// lowerHex returns the value of a lower-case hexadecimal digit.
func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

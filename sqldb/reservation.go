package sqldb

import (
	"net/netip"

	"ipdesk"
	"ipdesk/ipam"
)

// SetReservationScopes makes CreateAddress, UpdateAddress and
// AllocateAddress refuse a DHCP reservation that a config output would
// carry together with the reservation of another space for the same
// address, or for the same MAC in a subnet of the same prefix: the DHCP
// server could serve only one of them (the outputs then leave the newer
// one out). nil turns the check off. Set it before the DB is shared.
// Imports are not checked row by row; what they bring in that clashes is
// left out of the outputs and shown there.
func (db *DB) SetReservationScopes(rs ipdesk.ReservationScopes) { db.reservationScopes = rs }

// reservationChecked tells whether checkReservation has anything to check
// about a in subnet p: a DHCP reservation of a MAC in a DHCP subnet, while
// the check is on.
func (tx *Tx) reservationChecked(a *ipdesk.Address, p *ipdesk.Prefix) bool {
	return tx.db.reservationScopes != nil && a.DHCPReservation && !a.MAC.IsZero() && p.DHCP && a.Status != ipdesk.StatusDeprecated
}

// checkReservation checks a, to be stored in subnet p, against the DHCP
// reservations of other spaces, with one query on the address and MAC
// indexes. The error names the field and the output, not the other
// record, which the writer may not be allowed to see.
func (tx *Tx) checkReservation(a *ipdesk.Address, p *ipdesk.Prefix) error {
	if !tx.reservationChecked(a, p) {
		return nil
	}
	rs := tx.db.reservationScopes
	rows, err := tx.query(`SELECT s.name, a.address, a.mac, p.prefix FROM addresses a
		JOIN prefixes p ON p.id = a.prefix_id JOIN spaces s ON s.id = a.space_id
		WHERE (a.ip_key = $1 OR (a.mac <> '' AND a.mac = $2)) AND a.id <> $3 AND a.space_id <> $4
		AND a.dhcp_reservation = $5 AND a.status <> $6 AND p.dhcp = $5
		LIMIT 100`, ipam.Key(a.Addr), a.MAC.String(), a.ID, a.SpaceID, true, string(ipdesk.StatusDeprecated))
	if err != nil {
		return err
	}
	type other struct {
		space, addr, mac, prefix string
	}
	var others []other
	for rows.Next() {
		var o other
		if err := rows.Scan(&o.space, &o.addr, &o.mac, &o.prefix); err != nil {
			rows.Close()
			return err
		}
		others = append(others, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(others) == 0 {
		return err
	}
	var space string
	if err := tx.queryRow("SELECT name FROM spaces WHERE id = $1", a.SpaceID).Scan(&space); err != nil {
		return err
	}
	self := ipdesk.ReservationSite{SpaceName: space, Addr: a.Addr}
	var macOut string // an output that would carry the MAC twice
	for _, o := range others {
		addr, err := netip.ParseAddr(o.addr)
		if err != nil {
			continue
		}
		sameAddr := addr == a.Addr
		sameMAC := o.mac == a.MAC.String() && o.prefix == p.Prefix.String()
		if !sameAddr && (!sameMAC || macOut != "") {
			continue
		}
		out := rs.SharedOutput(self, ipdesk.ReservationSite{SpaceName: o.space, Addr: addr})
		switch {
		case out == "":
		case sameAddr:
			return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "address",
				"address %s is already reserved for DHCP by a host in another space, and the config output %q serves both spaces; a DHCP server can give an address to one host only: choose another address, or leave dhcp_reservation off", a.Addr, out)
		default:
			macOut = out
		}
	}
	if macOut != "" {
		return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "mac",
			"mac %s already has a DHCP reservation in subnet %s of another space, and the config output %q serves both spaces; a DHCP server matches a MAC to one reservation per subnet", a.MAC, p.Prefix, macOut)
	}
	return nil
}

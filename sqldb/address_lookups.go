package sqldb

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"

	"ipdesk"
	"ipdesk/ipam"
)

// checkAddressIn checks the address a, which lies in subnet p, against the
// stored data (see the function checkAddressIn) with one query for all of
// its lookups: on PostgreSQL each lookup on its own is a round trip, and
// together they were a third of the statements of a create.
func (tx *Tx) checkAddressIn(a *ipdesk.Address, p *ipdesk.Prefix) ([]ipdesk.Warning, error) {
	l, err := tx.lookupsFor(a, p)
	if err != nil {
		return nil, err
	}
	return checkAddressIn(l, a, p)
}

// qAddressLookups answers, for one address, who else holds its address in
// the space ('a') and its MAC in the subnet ('m'), whether its location
// ('o') and access level ('l') exist, and up to five other records with
// its hostname ('h'). An empty MAC or hostname matches nothing; the
// conditions on the arguments alone are evaluated once, before any scan.
const qAddressLookups = `SELECT 'a', id, address, hostname, ip_key FROM addresses WHERE space_id = $1 AND ip_key = $2 AND id <> $3
UNION ALL SELECT 'm', id, address, hostname, ip_key FROM addresses WHERE prefix_id = $4 AND mac = $5 AND mac <> '' AND id <> $3
UNION ALL SELECT 'h', id, address, '', ip_key FROM (SELECT id, address, ip_key FROM addresses WHERE hostname_lc = $6 AND $6 <> '' AND id <> $3 ORDER BY ip_key LIMIT 5) AS h
UNION ALL SELECT 'o', id, '', '', NULL FROM locations WHERE id = $7
UNION ALL SELECT 'l', level, '', '', NULL FROM access_levels WHERE level = $8`

// lookupsFor reads what checkAddressIn asks about a in subnet p.
func (tx *Tx) lookupsFor(a *ipdesk.Address, p *ipdesk.Prefix) (*prefetchedLookups, error) {
	l := &prefetchedLookups{Tx: tx}
	if err := tx.pipeline(l.read(a, p.ID)); err != nil {
		return nil, err
	}
	return l, nil
}

// read is the read of the lookups about a in subnet prefixID, as a read
// of a pipeline, which fills l.
func (l *prefetchedLookups) read(a *ipdesk.Address, prefixID int64) pipeRead {
	l.a, l.prefixID = *a, prefixID
	return pipeRead{
		query: qAddressLookups,
		args:  []any{a.SpaceID, ipam.Key(a.Addr), a.ID, prefixID, a.MAC.String(), strings.ToLower(a.Hostname), a.LocationID, a.AccessLevel},
		scan: func(rows resultRows) error {
			type named struct {
				addr string
				key  []byte
			}
			var others []named
			for rows.Next() {
				var kind string
				var h holder
				var key []byte
				if err := rows.Scan(&kind, &h.id, &h.addr, &h.hostname, &key); err != nil {
					return err
				}
				switch kind {
				case "a":
					l.addr = &h
				case "m":
					l.mac = &h
				case "h":
					others = append(others, named{h.addr, key})
				case "o":
					l.location = true
				case "l":
					l.level = true
				}
			}
			slices.SortFunc(others, func(x, y named) int { return bytes.Compare(x.key, y.key) })
			for _, o := range others {
				l.hostUsers = append(l.hostUsers, o.addr)
			}
			return nil
		},
	}
}

// prefetchedLookups answers the lookups about the address a in subnet
// prefixID from what lookupsFor read, and asks the transaction anything
// else.
type prefetchedLookups struct {
	*Tx
	a         ipdesk.Address
	prefixID  int64
	addr, mac *holder
	location  bool
	level     bool
	hostUsers []string
}

func (l *prefetchedLookups) addressHolder(spaceID int64, addr netip.Addr, self int64) (*holder, error) {
	if spaceID != l.a.SpaceID || addr != l.a.Addr || self != l.a.ID {
		return l.Tx.addressHolder(spaceID, addr, self)
	}
	return l.addr, nil
}

func (l *prefetchedLookups) macHolder(prefixID int64, mac ipdesk.MAC, self int64) (*holder, error) {
	if prefixID != l.prefixID || mac != l.a.MAC || self != l.a.ID {
		return l.Tx.macHolder(prefixID, mac, self)
	}
	return l.mac, nil
}

func (l *prefetchedLookups) locationExists(id int64) (bool, error) {
	if id != l.a.LocationID {
		return l.Tx.locationExists(id)
	}
	return l.location, nil
}

func (l *prefetchedLookups) accessLevelExists(level int) (bool, error) {
	if level != l.a.AccessLevel {
		return l.Tx.accessLevelExists(level)
	}
	return l.level, nil
}

func (l *prefetchedLookups) hostnameUsers(hostname string, self int64) ([]string, error) {
	if strings.ToLower(hostname) != strings.ToLower(l.a.Hostname) || hostname == "" || self != l.a.ID {
		return l.Tx.hostnameUsers(hostname, self)
	}
	return l.hostUsers, nil
}

package sqldb

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"ipdesk"
	"ipdesk/ipam"
)

// errRollback ends a transaction without an error for the caller.
var errRollback = errors.New("rollback")

// ImportAddresses creates or updates addresses in one transaction; see
// ipdesk.AddressService. The rows are checked in order by the rules of
// CreateAddress and UpdateAddress, each against the data as the rows
// before it leave them. The stored data the rows touch is read once
// (importState) and kept up to date in memory; only when every row passed
// are the changes written, in batches (addressWriter).
func (db *DB) ImportAddresses(ctx context.Context, rows []*ipdesk.Address, dryRun bool) (ipdesk.ImportResult, error) {
	var res ipdesk.ImportResult
	problem := func(i int, err error) {
		res.Problems = append(res.Problems, ipdesk.RowError{Row: i + 1, Field: ipdesk.ErrorField(err), Error: ipdesk.ErrorMessage(err)})
	}
	err := db.write(ctx, func(tx *Tx) error {
		invalid := make([]error, len(rows))
		for i, a := range rows {
			a.ID = 0
			invalid[i] = a.Validate()
		}
		st, err := tx.loadImportState(rows, invalid)
		if err != nil {
			return err
		}
		w := tx.addressWriter()
		for i, a := range rows {
			if err := ctx.Err(); err != nil {
				return err
			}
			if invalid[i] != nil {
				problem(i, invalid[i])
				continue
			}
			outcome, warnings, err := st.apply(w, i+1, a)
			if err != nil {
				if ipdesk.ErrorCode(err) == ipdesk.EINTERNAL {
					return err
				}
				problem(i, err)
				continue
			}
			for _, w := range warnings {
				res.Warnings = append(res.Warnings, ipdesk.RowWarning{Row: i + 1, Warning: w})
			}
			switch outcome {
			case importCreated:
				res.Created++
			case importUpdated:
				res.Updated++
			}
		}
		if len(res.Problems) > 0 || dryRun {
			forgetPendingIDs(rows)
			return errRollback
		}
		return w.flush()
	})
	if errors.Is(err, errRollback) {
		err = nil
	} else if err == nil && res.Created+res.Updated >= analyzeAfter {
		// Fresh statistics keep the planner on the right indexes after a
		// bulk load (PostgreSQL's autoanalyze would come later).
		db.analyze(ctx)
	}
	if len(res.Problems) > 0 {
		res.Created, res.Updated = 0, 0
	}
	return res, err
}

// analyzeAfter is the import size after which table statistics are renewed.
const analyzeAfter = 1000

// analyze renews the planner's statistics of the addresses table. A
// failure only costs speed, so it is not reported.
func (db *DB) analyze(ctx context.Context) {
	if db.pg {
		db.w.ExecContext(ctx, "ANALYZE addresses")
		return
	}
	db.w.ExecContext(ctx, "PRAGMA analysis_limit = 1000; ANALYZE addresses")
}

// sameHost reports whether two records carry the same data.
func sameHost(x, y *ipdesk.Address) bool {
	return x.Addr == y.Addr && x.Status == y.Status && x.MAC == y.MAC && x.Hostname == y.Hostname &&
		x.Description == y.Description && x.Owner == y.Owner && x.Phone == y.Phone && x.LocationID == y.LocationID &&
		x.AccessLevel == y.AccessLevel && x.DHCPReservation == y.DHCPReservation
}

// importOutcome is what applying a row did.
type importOutcome int

const (
	importUnchanged importOutcome = iota
	importCreated
	importUpdated
)

// importState is the in-memory copy of the stored data an import's rows
// are checked against: the spaces the rows name and their subnets, the
// locations they name, the access levels, and the stored addresses that
// share an address, a MAC or a hostname with a row. Applying a row
// changes it as writing the row would, so that later rows see it. It
// implements addressLookups.
type importState struct {
	spaces    map[int64]bool
	subnets   map[int64][]importSubnet // per space, by first address
	locations map[int64]bool
	levels    map[int]bool
	byAddr    map[addrRef]*importRecord
	byMAC     map[macRef]*importRecord
	byHost    map[string][]*importRecord // lower-case hostname → records in address order
	arrivals  int
}

var _ addressLookups = (*importState)(nil)

// importSubnet is a subnet with its first address key.
type importSubnet struct {
	first []byte
	p     *ipdesk.Prefix
}

// importRecord is an address record as the import has it so far.
type importRecord struct {
	a   *ipdesk.Address
	key []byte // ipam.Key(a.Addr)
	// arrival orders records with the same address (in different spaces)
	// as their ids do.
	arrival int
	// new is set for a record an earlier row made; until it is written
	// its id is the negated row number.
	new *newAddress
}

// addrRef names an address of a space, macRef a MAC in a subnet.
type (
	addrRef struct {
		space int64
		key   [ipam.KeyLen]byte
	}
	macRef struct {
		prefix int64
		mac    ipdesk.MAC
	}
)

func addrRefOf(a *ipdesk.Address) addrRef {
	return addrRef{a.SpaceID, [ipam.KeyLen]byte(ipam.Key(a.Addr))}
}

// apply checks row number row (a, valid by itself) against the data as
// the rows before it leave them and records its change in w and s.
func (s *importState) apply(w *addressWriter, row int, a *ipdesk.Address) (importOutcome, []ipdesk.Warning, error) {
	r := s.byAddr[addrRefOf(a)]
	if r != nil {
		a.ID = r.a.ID
		a.CreatedAt = r.a.CreatedAt
	}
	p, warnings, err := checkAddress(s, a)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case r == nil:
		n := w.create(a, p)
		a.ID = -int64(row)
		s.add(&importRecord{a: a, new: n})
		return importCreated, warnings, nil
	case sameHost(r.a, a):
		*a = *r.a
		if r.new != nil {
			r.new.copies = append(r.new.copies, a)
		}
		return importUnchanged, warnings, nil
	case r.new != nil:
		w.amend(r.new, a, p)
	default:
		w.update(r.a, a, p)
	}
	s.replace(r, a)
	return importUpdated, warnings, nil
}

// forgetPendingIDs clears the temporary ids of rows that were not written.
func forgetPendingIDs(rows []*ipdesk.Address) {
	for _, a := range rows {
		if a.ID < 0 {
			a.ID = 0
		}
	}
}

// add enters a record.
func (s *importState) add(r *importRecord) {
	s.arrivals++
	r.arrival = s.arrivals
	r.key = ipam.Key(r.a.Addr)
	s.byAddr[addrRefOf(r.a)] = r
	s.link(r)
}

// replace makes a, at the same space and address, the state of r.
func (s *importState) replace(r *importRecord, a *ipdesk.Address) {
	s.unlink(r)
	r.a = a
	s.link(r)
}

// link enters r under its MAC and hostname.
func (s *importState) link(r *importRecord) {
	if !r.a.MAC.IsZero() {
		s.byMAC[macRef{r.a.PrefixID, r.a.MAC}] = r
	}
	if r.a.Hostname != "" {
		h := strings.ToLower(r.a.Hostname)
		list := s.byHost[h]
		i := sort.Search(len(list), func(i int) bool { return r.before(list[i]) })
		s.byHost[h] = slices.Insert(list, i, r)
	}
}

// unlink removes r from under its MAC and hostname.
func (s *importState) unlink(r *importRecord) {
	if ref := (macRef{r.a.PrefixID, r.a.MAC}); !r.a.MAC.IsZero() && s.byMAC[ref] == r {
		delete(s.byMAC, ref)
	}
	if r.a.Hostname != "" {
		h := strings.ToLower(r.a.Hostname)
		if i := slices.Index(s.byHost[h], r); i >= 0 {
			s.byHost[h] = slices.Delete(s.byHost[h], i, i+1)
		}
	}
}

// before orders records by address key, then arrival.
func (r *importRecord) before(o *importRecord) bool {
	if c := bytes.Compare(r.key, o.key); c != 0 {
		return c < 0
	}
	return r.arrival < o.arrival
}

func (s *importState) lastSubnetFrom(spaceID int64, addr netip.Addr) (*ipdesk.Prefix, error) {
	list, k := s.subnets[spaceID], ipam.Key(addr)
	i := sort.Search(len(list), func(i int) bool { return bytes.Compare(list[i].first, k) > 0 })
	if i == 0 {
		return nil, nil
	}
	return list[i-1].p, nil
}

func (s *importState) spaceExists(id int64) (bool, error) { return s.spaces[id], nil }

func (s *importState) addressHolder(spaceID int64, addr netip.Addr, self int64) (*holder, error) {
	return s.holder(s.byAddr[addrRef{spaceID, [ipam.KeyLen]byte(ipam.Key(addr))}], self), nil
}

func (s *importState) macHolder(prefixID int64, mac ipdesk.MAC, self int64) (*holder, error) {
	return s.holder(s.byMAC[macRef{prefixID, mac}], self), nil
}

func (s *importState) holder(r *importRecord, self int64) *holder {
	if r == nil || r.a.ID == self {
		return nil
	}
	return &holder{id: r.a.ID, addr: r.a.Addr.String(), hostname: r.a.Hostname, pending: r.new != nil}
}

func (s *importState) locationExists(id int64) (bool, error) { return s.locations[id], nil }

func (s *importState) accessLevelExists(level int) (bool, error) { return s.levels[level], nil }

func (s *importState) hostnameUsers(hostname string, self int64) ([]string, error) {
	var others []string
	for _, r := range s.byHost[strings.ToLower(hostname)] {
		if r.a.ID != self {
			if others = append(others, r.a.Addr.String()); len(others) == 5 {
				break
			}
		}
	}
	return others, nil
}

// loadImportState reads what the valid rows (invalid[i] == nil) are
// checked against. On PostgreSQL it first locks the subnets the rows lie
// in, as CreateAddress does, so that no address appears there unseen.
func (tx *Tx) loadImportState(rows []*ipdesk.Address, invalid []error) (*importState, error) {
	s := &importState{spaces: map[int64]bool{}, subnets: map[int64][]importSubnet{}, locations: map[int64]bool{}, levels: map[int]bool{},
		byAddr: map[addrRef]*importRecord{}, byMAC: map[macRef]*importRecord{}, byHost: map[string][]*importRecord{}}
	var valid []*ipdesk.Address
	for i, a := range rows {
		if invalid[i] == nil {
			valid = append(valid, a)
		}
	}
	spaces := distinct(valid, func(a *ipdesk.Address) (int64, bool) { return a.SpaceID, true })
	err := tx.queryIn("SELECT id FROM spaces WHERE id IN (%s)", nil, spaces, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		s.spaces[id] = true
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := tx.loadSubnets(s, spaces); err != nil {
		return nil, err
	}
	locations := distinct(valid, func(a *ipdesk.Address) (int64, bool) { return a.LocationID, a.LocationID != 0 })
	err = tx.queryIn("SELECT id FROM locations WHERE id IN (%s)", nil, locations, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		s.locations[id] = true
		return err
	})
	if err != nil {
		return nil, err
	}
	err = tx.execOrScan(nil, "SELECT level FROM access_levels", nil, func(r *sql.Rows) error {
		var level int
		err := r.Scan(&level)
		s.levels[level] = true
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := tx.lockSubnets(s, valid); err != nil {
		return nil, err
	}
	return s, tx.loadAddresses(s, valid)
}

// loadSubnets reads the subnets of the spaces.
func (tx *Tx) loadSubnets(s *importState, spaces []any) error {
	err := tx.queryIn("SELECT first_key, "+prefixColumns+" FROM prefixes WHERE kind = 'subnet' AND space_id IN (%s)", nil, spaces, func(r *sql.Rows) error {
		var first []byte
		p, err := scanPrefix(leading{r, []any{&first}})
		if err == nil {
			s.subnets[p.SpaceID] = append(s.subnets[p.SpaceID], importSubnet{first, p})
		}
		return err
	})
	for _, list := range s.subnets {
		slices.SortFunc(list, func(x, y importSubnet) int { return bytes.Compare(x.first, y.first) })
	}
	return err
}

// lockSubnets locks, on PostgreSQL, the subnets the rows lie in, in id
// order.
func (tx *Tx) lockSubnets(s *importState, valid []*ipdesk.Address) error {
	if !tx.db.pg {
		return nil
	}
	ids := distinct(valid, func(a *ipdesk.Address) (int64, bool) {
		p, _ := s.lastSubnetFrom(a.SpaceID, a.Addr)
		if p == nil || !p.Prefix.Contains(a.Addr) {
			return 0, false
		}
		return p.ID, true
	})
	slices.SortFunc(ids, func(x, y any) int { return cmp.Compare(x.(int64), y.(int64)) })
	return tx.queryIn("SELECT id FROM prefixes WHERE id IN (%s) ORDER BY id FOR UPDATE", nil, ids, func(*sql.Rows) error { return nil })
}

// loadAddresses reads the stored addresses that have the address, MAC or
// hostname of a row.
func (tx *Tx) loadAddresses(s *importState, valid []*ipdesk.Address) error {
	found := map[int64]*ipdesk.Address{}
	scan := func(r *sql.Rows) error {
		a, err := scanAddress(r)
		if err == nil {
			found[a.ID] = a
		}
		return err
	}
	var maxID int64
	if err := tx.queryRow("SELECT coalesce(max(id), 0) FROM addresses").Scan(&maxID); err != nil {
		return err
	}
	if maxID <= int64(len(valid)) {
		// No more stored addresses than rows (ids only grow): reading them
		// all costs less than looking each row's keys up.
		err := tx.loadAllMatching(valid, found)
		if err == nil {
			s.addFound(found)
		}
		return err
	}
	bySpace := map[int64][]*ipdesk.Address{}
	for _, a := range valid {
		bySpace[a.SpaceID] = append(bySpace[a.SpaceID], a)
	}
	for space, in := range bySpace {
		keys := distinct(in, func(a *ipdesk.Address) ([ipam.KeyLen]byte, bool) { return addrRefOf(a).key, true })
		for i, k := range keys {
			k := k.([ipam.KeyLen]byte)
			keys[i] = k[:]
		}
		if err := tx.queryIn("SELECT "+addressColumns+" FROM addresses WHERE space_id = $1 AND ip_key IN (%s)", []any{space}, keys, scan); err != nil {
			return err
		}
	}
	macs := distinct(valid, func(a *ipdesk.Address) (string, bool) { return a.MAC.String(), !a.MAC.IsZero() })
	if err := tx.queryIn("SELECT "+addressColumns+" FROM addresses WHERE mac <> '' AND mac IN (%s)", nil, macs, scan); err != nil {
		return err
	}
	hosts := distinct(valid, func(a *ipdesk.Address) (string, bool) { return strings.ToLower(a.Hostname), a.Hostname != "" })
	if err := tx.queryIn("SELECT "+addressColumns+" FROM addresses WHERE hostname_lc IN (%s)", nil, hosts, scan); err != nil {
		return err
	}
	s.addFound(found)
	return nil
}

// loadAllMatching reads every stored address and puts those that share
// the address, MAC or hostname of a row into found.
func (tx *Tx) loadAllMatching(valid []*ipdesk.Address, found map[int64]*ipdesk.Address) error {
	refs := make(map[addrRef]bool, len(valid))
	macs := make(map[ipdesk.MAC]bool, len(valid))
	hosts := make(map[string]bool, len(valid))
	for _, a := range valid {
		refs[addrRefOf(a)] = true
		if !a.MAC.IsZero() {
			macs[a.MAC] = true
		}
		if a.Hostname != "" {
			hosts[strings.ToLower(a.Hostname)] = true
		}
	}
	return tx.execOrScan(nil, "SELECT "+addressColumns+" FROM addresses", nil, func(r *sql.Rows) error {
		a, err := scanAddress(r)
		if err == nil && (refs[addrRefOf(a)] || macs[a.MAC] || hosts[strings.ToLower(a.Hostname)]) {
			found[a.ID] = a
		}
		return err
	})
}

// addFound enters the stored addresses found, in id order.
func (s *importState) addFound(found map[int64]*ipdesk.Address) {
	ids := make([]int64, 0, len(found))
	for id := range found {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		s.add(&importRecord{a: found[id]})
	}
}

// distinct returns the distinct values of key over the rows for which it
// reports true, in order of first appearance.
func distinct[K comparable](rows []*ipdesk.Address, key func(*ipdesk.Address) (K, bool)) []any {
	seen := make(map[K]bool)
	var out []any
	for _, a := range rows {
		if k, ok := key(a); ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// leading scans a row whose first columns go to extra.
type leading struct {
	rows  interface{ Scan(...any) error }
	extra []any
}

func (l leading) Scan(dest ...any) error {
	return l.rows.Scan(slices.Concat(l.extra, dest)...)
}

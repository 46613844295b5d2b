package sqldb

import (
	"cmp"
	"database/sql"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"ipdesk"
	"ipdesk/ipam"
)

// addressWriter collects the checked address changes of a transaction and
// writes them with few statements (see flush): CreateAddress and its kin
// write one change through it, ImportAddresses all of its rows.
type addressWriter struct {
	tx      *Tx
	updates []addressChange
	creates []*newAddress
	chunks  map[chunkRef]int
	audit   []addressAudit
	// numbered: the new addresses have their ids already (see
	// reserveAddressID), and their insert waits, held, for the commit.
	numbered bool
}

// addressChange is an update of a stored address.
type addressChange struct{ before, after *ipdesk.Address }

// newAddress is an address to insert. a is its final state; copies are
// other values that stand for the same record (its earlier states within
// an import, rows that repeat it) and get its id too.
type newAddress struct {
	a      *ipdesk.Address
	copies []*ipdesk.Address
}

// addressAudit is an audit entry of an address, whose id may be known
// only once it is inserted.
type addressAudit struct {
	action        string
	before, after *ipdesk.Address
}

// chunkRef names a chunk (by its first address) of a subnet.
type chunkRef struct {
	prefixID int64
	chunk    netip.Addr
}

func (tx *Tx) addressWriter() *addressWriter {
	return &addressWriter{tx: tx, chunks: map[chunkRef]int{}}
}

// create records the insertion of the checked new address a into subnet p.
func (w *addressWriter) create(a *ipdesk.Address, p *ipdesk.Prefix) *newAddress {
	a.PrefixID = p.ID
	a.Version = 1
	a.CreatedAt, a.UpdatedAt = w.tx.now, w.tx.now
	n := &newAddress{a: a}
	w.creates = append(w.creates, n)
	w.count(p.ID, a.Addr, 1)
	w.audit = append(w.audit, addressAudit{ipdesk.ActionCreate, nil, a})
	return n
}

// update records that the stored address before changes to the checked
// state a, in subnet p.
func (w *addressWriter) update(before, a *ipdesk.Address, p *ipdesk.Prefix) {
	w.change(before, a, p)
	w.updates = append(w.updates, addressChange{before, a})
}

// amend records that a later row of an import changes the new address n
// to the checked state a, in subnet p: n is inserted in its final state
// and audited as created and then updated, as if written row by row.
func (w *addressWriter) amend(n *newAddress, a *ipdesk.Address, p *ipdesk.Prefix) {
	w.change(n.a, a, p)
	n.copies = append(n.copies, n.a)
	n.a = a
}

// change sets the stored fields of a, the next state of before, and
// records its chunk counts and audit entry.
func (w *addressWriter) change(before, a *ipdesk.Address, p *ipdesk.Prefix) {
	a.PrefixID = p.ID
	a.Version = before.Version + 1
	a.UpdatedAt = w.tx.now
	if before.Addr != a.Addr || before.PrefixID != a.PrefixID {
		w.count(before.PrefixID, before.Addr, -1)
		w.count(a.PrefixID, a.Addr, 1)
	}
	w.audit = append(w.audit, addressAudit{ipdesk.ActionUpdate, before, a})
}

// count adds delta to the used count of addr's chunk in a subnet.
func (w *addressWriter) count(prefixID int64, addr netip.Addr, delta int) {
	w.chunks[chunkRef{prefixID, ipam.ChunkOf(addr)}] += delta
}

// flush writes the collected changes. The updates go first, one by one
// in their order: each leaves a state that the changes before it also
// left, less the new addresses, so that no unique index sees a MAC that
// an earlier change gave up still held. The new addresses follow in
// batches, then their search rows, the chunk counts and the audit entries.
//
// When many new addresses get their ids before they are inserted (see
// numberCreates), the audit entries' documents are encoded meanwhile, on
// another goroutine.
func (w *addressWriter) flush() error {
	for _, c := range w.updates {
		if err := w.tx.writeUpdate(c.before, c.after); err != nil {
			return err
		}
	}
	numbered, err := w.numberCreates()
	if err != nil {
		return err
	}
	type encoded struct {
		docs []any
		err  error
	}
	var early chan encoded
	if numbered && len(w.creates) >= concurrentAuditMin {
		early = make(chan encoded, 1)
		go func() {
			docs, err := auditDocs(w.auditEntries())
			early <- encoded{docs, err}
		}()
	}
	err = w.insert(numbered)
	if err == nil {
		err = w.tx.countChunks(w.chunks)
	}
	var enc encoded
	if early != nil {
		enc = <-early
	} else if err == nil {
		enc.docs, enc.err = auditDocs(w.auditEntries())
	}
	if err != nil {
		return err
	}
	if enc.err != nil {
		return enc.err
	}
	return w.tx.writeAudit(w.auditEntries(), enc.docs)
}

// concurrentAuditMin is the fewest new addresses whose audit entries are
// encoded on another goroutine while they are inserted: for fewer, whose
// insert is held (see later) and costs nothing to wait for, the goroutine
// and its wake-up cost more than the encoding.
const concurrentAuditMin = 64

// auditEntries returns the audit entries of the changes, which must have
// their ids.
func (w *addressWriter) auditEntries() []auditEntry {
	entries := make([]auditEntry, len(w.audit))
	for i, e := range w.audit {
		entries[i] = auditEntry{action: e.action, objectType: ipdesk.ObjectAddress, objectID: e.after.ID, after: e.after}
		if e.before != nil {
			entries[i].before = e.before
		}
	}
	return entries
}

// numberCreates gives the new addresses their ids before they are
// inserted, so that the insert needs no RETURNING clause, whose result
// rows cost a tenth of a bulk insert, and the audit entries can be
// encoded meanwhile. On SQLite, when there are several, these are the ids
// SQLite would give them, one more than the largest id and on, in order
// (its one writer is this transaction). On PostgreSQL, for as many as go
// with COPY (which returns nothing), they are taken from the table's
// sequence, as an insert would take them. It reports whether it did.
func (w *addressWriter) numberCreates() (bool, error) {
	switch {
	case w.numbered:
		return true, nil
	case w.tx.db.pg && w.tx.canCopy(len(w.creates)):
		ids := make([]int64, 0, len(w.creates))
		rows, err := w.tx.query("SELECT nextval("+w.tx.db.addressSeq+") FROM generate_series(1, $1)", len(w.creates))
		if err != nil {
			return false, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return false, err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return false, err
		}
		if len(ids) != len(w.creates) {
			return false, fmt.Errorf("the sequence of addresses gave %d ids for %d addresses", len(ids), len(w.creates))
		}
		w.setIDs(func(i int) int64 { return ids[i] })
		return true, nil
	case w.tx.db.pg || len(w.creates) < 2:
		return false, nil
	}
	var top int64
	if err := w.tx.queryRow("SELECT coalesce(max(id), 0) FROM addresses").Scan(&top); err != nil {
		return false, err
	}
	w.setIDs(func(i int) int64 { return top + 1 + int64(i) })
	return true, nil
}

// setIDs gives new address i (and its copies) the id id(i).
func (w *addressWriter) setIDs(id func(i int) int64) {
	for i, n := range w.creates {
		n.a.ID = id(i)
		for _, c := range n.copies {
			c.ID = n.a.ID
		}
	}
}

// insert stores the new addresses and their search rows and gives them
// (and their copies) their ids, unless numbered tells that they have them.
func (w *addressWriter) insert(numbered bool) error {
	if len(w.creates) == 0 {
		return nil
	}
	type ref struct {
		space int64
		key   string
	}
	byRef := make(map[ref]*newAddress, len(w.creates))
	search := make([]string, len(w.creates))
	for i, n := range w.creates {
		if !numbered {
			byRef[ref{n.a.SpaceID, string(ipam.Key(n.a.Addr))}] = n
		}
		search[i] = searchText(n.a)
	}
	const columns = `space_id, prefix_id, ip_key, address, status, mac, hostname, hostname_lc, description, owner, phone, phone_digits, phone_digits_rev,
		location_id, access_level, dhcp_reservation, search, version, created_at, updated_at`
	values := func(dst []any, i int) []any {
		a := w.creates[i].a
		if numbered {
			dst = append(dst, a.ID)
		}
		d := digits(a.Phone)
		return append(dst, a.SpaceID, a.PrefixID, ipam.Key(a.Addr), a.Addr.String(), string(a.Status), a.MAC.String(), a.Hostname, strings.ToLower(a.Hostname),
			a.Description, a.Owner, a.Phone, d, reverseDigits(d), nullID(a.LocationID), a.AccessLevel, a.DHCPReservation, search[i], a.Version, micros(a.CreatedAt), micros(a.UpdatedAt))
	}
	var err error
	switch {
	case numbered && w.tx.canCopy(len(w.creates)):
		err = w.tx.copyRowsIn("addresses", append([]string{"id"}, strings.Fields(strings.ReplaceAll(columns, ",", ""))...), len(w.creates), values)
	case numbered && w.tx.db.pg:
		// With their notes for the search index, in one statement: new
		// ids, which no other write can have noted (see searchChanged).
		err = w.tx.insertLater("WITH a AS (INSERT INTO addresses (id, "+columns+")",
			" RETURNING id) INSERT INTO address_search_pending (id) SELECT id FROM a", 21, len(w.creates), values)
		if err == nil {
			w.tx.searchNoted += len(w.creates)
		}
		return err
	case numbered:
		err = w.tx.insertLater("INSERT INTO addresses (id, "+columns+")", "", 21, len(w.creates), values)
	default:
		// RETURNING gives the rows in no promised order: the ids are
		// matched by space and address.
		err = w.tx.insertMany("INSERT INTO addresses ("+columns+")", " RETURNING id, space_id, ip_key", 20, len(w.creates), values,
			func(rows *sql.Rows) error {
				var id, space int64
				var key []byte
				if err := rows.Scan(&id, &space, &key); err != nil {
					return err
				}
				n := byRef[ref{space, string(key)}]
				if n == nil {
					return fmt.Errorf("insert returned address %x of space %d, which was not inserted", key, space)
				}
				n.a.ID = id
				for _, c := range n.copies {
					c.ID = id
				}
				return nil
			})
	}
	if err != nil {
		return err
	}
	if len(w.creates) >= bulkSearchRows && !w.tx.db.pg {
		// FTS5 writes its pending terms out as a new segment whenever they
		// outgrow its hash table (1 MB), and merges segments after each
		// write: for a bulk insert, most of the time. With a larger table
		// and no merging during the insert, the rows make few segments,
		// which later writes merge a bit at a time as usual. Both settings
		// are stored in the table's config, in this transaction.
		if err := w.tx.ftsConfig(bulkHashSize, 0); err != nil {
			return err
		}
		defer w.tx.ftsConfig(ftsHashSize, ftsAutomerge)
		// FTS5 also writes a segment at the end of every statement: the
		// rows go in with one statement when their ids are one range
		// (SQLite numbers the rows of one writer in order).
		lo, hi := w.creates[0].a.ID, w.creates[0].a.ID
		for _, n := range w.creates {
			lo, hi = min(lo, n.a.ID), max(hi, n.a.ID)
		}
		if hi-lo+1 == int64(len(w.creates)) {
			_, err := w.tx.exec("INSERT INTO address_search (rowid, search) SELECT id, search FROM addresses WHERE id >= $1 AND id <= $2", lo, hi)
			return err
		}
		return w.tx.insertMany("INSERT INTO address_search (rowid, search)", "", 2, len(w.creates), func(dst []any, i int) []any {
			return append(dst, w.creates[i].a.ID, search[i])
		}, nil)
	}
	// Fewer rows, and on PostgreSQL all, wait for the next move into the
	// search index.
	ids := make([]int64, len(w.creates))
	for i, n := range w.creates {
		ids[i] = n.a.ID
	}
	if w.tx.canCopy(len(ids)) {
		// New ids, which no other write can have noted: no conflict to
		// resolve, no lock to hold (see searchChanged).
		w.tx.searchNoted += len(ids)
		return w.tx.copyRowsIn("address_search_pending", []string{"id"}, len(ids), func(dst []any, i int) []any {
			return append(dst, ids[i])
		})
	}
	return w.tx.searchChanged(ids...)
}

// FTS5 settings of address_search: the hash size is SQLite's default,
// automerge merges eight segments of a level at a time (SQLite's default
// is four; fewer levels mean fewer rewrites of each entry, see migration
// 0012), and a bulk insert of at least bulkSearchRows rows gets a larger
// hash.
const (
	ftsHashSize    = 1024 * 1024
	ftsAutomerge   = 8
	bulkHashSize   = 4 * 1024 * 1024
	bulkSearchRows = 5000
)

// ftsConfig sets the hash size and automerge of address_search.
func (tx *Tx) ftsConfig(hashSize, automerge int) error {
	if _, err := tx.exec("INSERT INTO address_search (address_search, rank) VALUES ('hashsize', $1)", hashSize); err != nil {
		return err
	}
	_, err := tx.exec("INSERT INTO address_search (address_search, rank) VALUES ('automerge', $1)", automerge)
	return err
}

// writeUpdate writes the new state a of a stored address.
func (tx *Tx) writeUpdate(before, a *ipdesk.Address) error {
	d := digits(a.Phone)
	_, err := tx.exec(`UPDATE addresses SET prefix_id = $1, ip_key = $2, address = $3, status = $4, mac = $5, hostname = $6, hostname_lc = $7, description = $8, owner = $9, phone = $10, phone_digits = $11,
		phone_digits_rev = $12, location_id = $13, access_level = $14, dhcp_reservation = $15, search = $16, version = $17, updated_at = $18 WHERE id = $19`,
		a.PrefixID, ipam.Key(a.Addr), a.Addr.String(), string(a.Status), a.MAC.String(), a.Hostname, strings.ToLower(a.Hostname), a.Description, a.Owner, a.Phone, d,
		reverseDigits(d), nullID(a.LocationID), a.AccessLevel, a.DHCPReservation, searchText(a), a.Version, micros(a.UpdatedAt), a.ID)
	if err != nil {
		return err
	}
	if searchText(a) != searchText(before) {
		err = tx.searchChanged(a.ID)
	}
	return err
}

// countChunks adds the deltas to the used counts of their chunks; a chunk
// whose count drops to zero loses its row.
func (tx *Tx) countChunks(deltas map[chunkRef]int) error {
	refs := make([]chunkRef, 0, len(deltas))
	for r, d := range deltas {
		if d != 0 {
			refs = append(refs, r)
		}
	}
	slices.SortFunc(refs, func(x, y chunkRef) int {
		if c := cmp.Compare(x.prefixID, y.prefixID); c != 0 {
			return c
		}
		return x.chunk.Compare(y.chunk)
	})
	var adds []chunkRef
	for _, r := range refs {
		if deltas[r] > 0 {
			adds = append(adds, r)
			continue
		}
		ck := ipam.Key(r.chunk)
		if _, err := tx.exec("UPDATE address_chunks SET used = used + $1 WHERE prefix_id = $2 AND chunk_key = $3", deltas[r], r.prefixID, ck); err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM address_chunks WHERE prefix_id = $1 AND chunk_key = $2 AND used <= 0", r.prefixID, ck); err != nil {
			return err
		}
		// The chunk has room again: first free must look at it.
		if _, err := tx.exec("UPDATE subnet_fill SET full_below = $1 WHERE prefix_id = $2 AND full_below > $1", ck, r.prefixID); err != nil {
			return err
		}
	}
	return tx.insertLater("INSERT INTO address_chunks (prefix_id, chunk_key, used)",
		" ON CONFLICT (prefix_id, chunk_key) DO UPDATE SET used = address_chunks.used + excluded.used", 3, len(adds),
		func(dst []any, i int) []any {
			return append(dst, adds[i].prefixID, ipam.Key(adds[i].chunk), deltas[adds[i]])
		})
}

// setSubnetFullBelow notes that every chunk of subnet id before the one
// starting at chunk is full.
func (tx *Tx) setSubnetFullBelow(id int64, chunk netip.Addr) error {
	return tx.later("INSERT INTO subnet_fill (prefix_id, full_below) VALUES ($1, $2) ON CONFLICT (prefix_id) DO UPDATE SET full_below = excluded.full_below", id, ipam.Key(chunk))
}

// forgetSubnetFill drops what is known of the full chunks of subnet id.
func (tx *Tx) forgetSubnetFill(id int64) error {
	_, err := tx.exec("DELETE FROM subnet_fill WHERE prefix_id = $1", id)
	return err
}

package sqldb

import (
	"context"
	"slices"

	"ipdesk"
)

// UpdateAddresses applies one change to several address records in one
// transaction; see ipdesk.AddressService. Each record is checked by the
// rules of UpdateAddress against the data as the records before it leave
// it, and audited as its own update. A record given twice is changed once.
func (db *DB) UpdateAddresses(ctx context.Context, refs []ipdesk.AddressRef, upd ipdesk.AddressUpdate) ([]*ipdesk.Address, error) {
	switch {
	case len(refs) == 0:
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "id", "no addresses were selected")
	case len(refs) > ipdesk.MaxBulk:
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "id", "%d addresses were selected; at most %d can be changed at once", len(refs), ipdesk.MaxBulk)
	case upd.Addr != nil:
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "address", "a change of several records cannot set their address; several hosts cannot have one address")
	}
	var out []*ipdesk.Address
	err := db.write(ctx, func(tx *Tx) error {
		seen := make(map[int64]bool, len(refs))
		var befores []*ipdesk.Address
		var versions []int64
		var prefixes []int64
		for _, ref := range refs {
			if seen[ref.ID] {
				continue
			}
			seen[ref.ID] = true
			before, err := tx.findAddress(ref.ID)
			if err != nil {
				return err
			}
			befores = append(befores, before)
			versions = append(versions, ref.Version)
			prefixes = append(prefixes, before.PrefixID)
		}
		// Subnets are locked in one order, so that two bulk changes of
		// overlapping records cannot wait for each other.
		slices.Sort(prefixes)
		for _, p := range slices.Compact(prefixes) {
			if err := tx.lockRow("prefixes", p); err != nil {
				return err
			}
		}
		for i, before := range befores {
			u := upd
			u.Version = nil
			if versions[i] != 0 {
				u.Version = &versions[i]
			}
			a, _, err := tx.changeAddress(before, u)
			if err != nil {
				return bulkError(before, err)
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// bulkError names the record a coded error of a bulk change is about.
func bulkError(a *ipdesk.Address, err error) error {
	if ipdesk.ErrorCode(err) == ipdesk.EINTERNAL {
		return err
	}
	name := a.Addr.String()
	if a.Hostname != "" {
		name += " (" + a.Hostname + ")"
	}
	return ipdesk.FieldErrorf(ipdesk.ErrorCode(err), ipdesk.ErrorField(err), "%s: %s", name, ipdesk.AsError(err))
}

package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"ipdesk"
)

const locationColumns = "id, parent_id, kind, name, hostname_pattern, description, version, created_at, updated_at"

func scanLocation(row interface{ Scan(...any) error }) (*ipdesk.Location, error) {
	var l ipdesk.Location
	var kind string
	var c, u int64
	if err := row.Scan(&l.ID, &l.ParentID, &kind, &l.Name, &l.HostnamePattern, &l.Description, &l.Version, &c, &u); err != nil {
		return nil, err
	}
	l.Kind = ipdesk.LocationKind(kind)
	l.Phones = []string{}
	l.CreatedAt, l.UpdatedAt = fromMicros(c), fromMicros(u)
	return &l, nil
}

// loadPhones fills in the phone numbers of the given locations.
func (tx *Tx) loadPhones(ls []*ipdesk.Location) error {
	if len(ls) == 0 {
		return nil
	}
	byID := make(map[int64]*ipdesk.Location, len(ls))
	var a args
	var ids []string
	for _, l := range ls {
		byID[l.ID] = l
		ids = append(ids, a.add(l.ID))
	}
	rows, err := tx.query("SELECT location_id, phone FROM location_phones WHERE location_id IN ("+strings.Join(ids, ", ")+") ORDER BY location_id, position", a...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var phone string
		if err := rows.Scan(&id, &phone); err != nil {
			return err
		}
		byID[id].Phones = append(byID[id].Phones, phone)
	}
	return rows.Err()
}

func (tx *Tx) findLocation(id int64) (*ipdesk.Location, error) {
	l, err := scanLocation(tx.queryRow("SELECT "+locationColumns+" FROM locations WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("location", id)
	} else if err != nil {
		return nil, err
	}
	return l, tx.loadPhones([]*ipdesk.Location{l})
}

// FindLocationByID returns one location with its phone numbers.
func (db *DB) FindLocationByID(ctx context.Context, id int64) (*ipdesk.Location, error) {
	var l *ipdesk.Location
	err := db.read(ctx, func(tx *Tx) (err error) {
		l, err = tx.findLocation(id)
		return err
	})
	return l, err
}

// FindLocations returns locations by kind and name, and their total.
func (db *DB) FindLocations(ctx context.Context, f ipdesk.LocationFilter) ([]*ipdesk.Location, int, error) {
	f.Page = f.Page.Normalize()
	var a args
	var where []string
	if f.ID != nil {
		where = append(where, "id = "+a.add(*f.ID))
	}
	if f.IDs != nil {
		where = append(where, idList("id", *f.IDs, &a))
	}
	if f.ParentID != nil {
		where = append(where, "parent_id = "+a.add(*f.ParentID))
	}
	if f.Kind != nil {
		where = append(where, "kind = "+a.add(string(*f.Kind)))
	}
	if f.Name != nil {
		where = append(where, "name = "+a.add(*f.Name))
	}
	if f.Under != nil {
		// Locations nest at most three deep (site, building, room).
		roots := idList("id", *f.Under, &a)
		where = append(where, "("+roots+" OR parent_id IN (SELECT id FROM locations WHERE "+roots+
			") OR parent_id IN (SELECT id FROM locations WHERE parent_id IN (SELECT id FROM locations WHERE "+roots+")))")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := a.add("%" + likeEscape(strings.ToLower(q)) + "%")
		where = append(where, "(search LIKE "+like+` ESCAPE '\' OR id IN (SELECT location_id FROM location_phones WHERE phone LIKE `+like+` ESCAPE '\'))`)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var out []*ipdesk.Location
	var n int
	err := db.read(ctx, func(tx *Tx) error {
		if err := tx.queryRow("SELECT COUNT(*) FROM locations"+cond, a...).Scan(&n); err != nil {
			return err
		}
		rows, err := tx.query("SELECT "+locationColumns+" FROM locations"+cond+" ORDER BY name, id LIMIT "+a.add(f.Limit)+" OFFSET "+a.add(f.Offset), a...)
		if err != nil {
			return err
		}
		for rows.Next() {
			l, err := scanLocation(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.loadPhones(out)
	})
	return out, n, err
}

// checkLocation checks l's parent and name against the stored data.
func (tx *Tx) checkLocation(l *ipdesk.Location) error {
	if l.ParentID != 0 {
		parent, err := tx.findLocation(l.ParentID)
		if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "parent_id", "parent location %d does not exist", l.ParentID)
		} else if err != nil {
			return err
		}
		if !parent.Kind.CanContain(l.Kind) {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "parent_id", "a %s cannot be inside the %s %q", l.Kind, parent.Kind, parent.Name)
		}
		// The new parent may not be l itself or inside l.
		for p := parent; p != nil && l.ID != 0; {
			if p.ID == l.ID {
				return ipdesk.FieldErrorf(ipdesk.EINVALID, "parent_id", "location %q cannot be inside itself", l.Name)
			}
			if p.ParentID == 0 {
				break
			}
			if p, err = tx.findLocation(p.ParentID); err != nil {
				return err
			}
		}
	} else if l.Kind != ipdesk.LocationSite {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "parent_id", "a %s needs a parent location (a site or building)", l.Kind)
	}
	var other int64
	err := tx.queryRow("SELECT id FROM locations WHERE parent_id = $1 AND name = $2 AND id <> $3", l.ParentID, l.Name, l.ID).Scan(&other)
	if err == nil {
		return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "name", "name %q is taken by location %d in the same place", l.Name, other)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

func (tx *Tx) writePhones(l *ipdesk.Location) error {
	if _, err := tx.exec("DELETE FROM location_phones WHERE location_id = $1", l.ID); err != nil {
		return err
	}
	for i, p := range l.Phones {
		d := digits(p)
		if _, err := tx.exec("INSERT INTO location_phones (location_id, position, phone, digits, digits_rev) VALUES ($1, $2, $3, $4, $5)", l.ID, i, p, d, reverseDigits(d)); err != nil {
			return err
		}
	}
	return nil
}

// CreateLocation stores a new site, building or room.
func (db *DB) CreateLocation(ctx context.Context, l *ipdesk.Location) error {
	l.ID = 0
	if l.Phones == nil {
		l.Phones = []string{}
	}
	if err := l.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if err := tx.checkLocation(l); err != nil {
			return err
		}
		l.Version = 1
		l.CreatedAt, l.UpdatedAt = tx.now, tx.now
		if err := tx.queryRow("INSERT INTO locations (parent_id, kind, name, hostname_pattern, description, search, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
			l.ParentID, string(l.Kind), l.Name, l.HostnamePattern, l.Description, locationSearch(l), micros(tx.now)).Scan(&l.ID); err != nil {
			return err
		}
		if err := tx.writePhones(l); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectLocation, l.ID, nil, l)
	})
}

// UpdateLocation changes a location.
func (db *DB) UpdateLocation(ctx context.Context, id int64, upd ipdesk.LocationUpdate) (*ipdesk.Location, error) {
	var out *ipdesk.Location
	err := db.write(ctx, func(tx *Tx) error {
		before, err := tx.findLocation(id)
		if err != nil {
			return err
		}
		if err := checkVersion("location", id, upd.Version, before.Version); err != nil {
			return err
		}
		l := *before
		if upd.ParentID != nil {
			l.ParentID = *upd.ParentID
		}
		if upd.Name != nil {
			l.Name = *upd.Name
		}
		if upd.Phones != nil {
			l.Phones = *upd.Phones
			if l.Phones == nil {
				l.Phones = []string{}
			}
		}
		if upd.HostnamePattern != nil {
			l.HostnamePattern = *upd.HostnamePattern
		}
		if upd.Description != nil {
			l.Description = *upd.Description
		}
		if err := l.Validate(); err != nil {
			return err
		}
		if err := tx.checkLocation(&l); err != nil {
			return err
		}
		l.Version++
		l.UpdatedAt = tx.now
		if _, err := tx.exec("UPDATE locations SET parent_id = $1, name = $2, hostname_pattern = $3, description = $4, search = $5, version = $6, updated_at = $7 WHERE id = $8",
			l.ParentID, l.Name, l.HostnamePattern, l.Description, locationSearch(&l), l.Version, micros(tx.now), id); err != nil {
			return err
		}
		if err := tx.writePhones(&l); err != nil {
			return err
		}
		out = &l
		return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectLocation, id, before, &l)
	})
	return out, err
}

// DeleteLocation removes a location without children; its hosts keep their
// records with no location.
func (db *DB) DeleteLocation(ctx context.Context, id int64, opts ipdesk.DeleteOptions) error {
	return db.write(ctx, func(tx *Tx) error {
		l, err := tx.findLocation(id)
		if err != nil {
			return err
		}
		if err := checkVersion("location", id, opts.Version, l.Version); err != nil {
			return err
		}
		var n int
		if err := tx.queryRow("SELECT COUNT(*) FROM locations WHERE parent_id = $1", id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ipdesk.Errorf(ipdesk.ECONFLICT, "location %q still contains %d locations; delete or move them first", l.Name, n)
		}
		rows, err := tx.query("SELECT id FROM addresses WHERE location_id = $1", id)
		if err != nil {
			return err
		}
		var hosts []int64
		for rows.Next() {
			var h int64
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return err
			}
			hosts = append(hosts, h)
		}
		rows.Close()
		for _, h := range hosts {
			before, err := tx.findAddress(h)
			if err != nil {
				return err
			}
			after := *before
			after.LocationID = 0
			after.Version++
			after.UpdatedAt = tx.now
			if _, err := tx.exec("UPDATE addresses SET location_id = NULL, version = $1, updated_at = $2 WHERE id = $3", after.Version, micros(tx.now), h); err != nil {
				return err
			}
			if err := tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectAddress, h, before, &after); err != nil {
				return err
			}
		}
		if err := tx.deleteGrantsOn(ipdesk.ObjectLocation, []int64{id}); err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM location_phones WHERE location_id = $1", id); err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM locations WHERE id = $1", id); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionDelete, ipdesk.ObjectLocation, id, l, nil)
	})
}

// locationSearch is the lower-case text location queries match.
func locationSearch(l *ipdesk.Location) string {
	return strings.ToLower(l.Name + "\x1f" + l.HostnamePattern + "\x1f" + l.Description)
}

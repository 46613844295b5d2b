package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"ipdesk"
)

const spaceColumns = "id, name, description, version, created_at, updated_at"

func scanSpace(row interface{ Scan(...any) error }) (*ipdesk.Space, error) {
	var s ipdesk.Space
	var c, u int64
	if err := row.Scan(&s.ID, &s.Name, &s.Description, &s.Version, &c, &u); err != nil {
		return nil, err
	}
	s.CreatedAt, s.UpdatedAt = fromMicros(c), fromMicros(u)
	return &s, nil
}

func (tx *Tx) findSpace(id int64) (*ipdesk.Space, error) {
	s, err := scanSpace(tx.queryRow("SELECT "+spaceColumns+" FROM spaces WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("space", id)
	}
	return s, err
}

// FindSpaceByID returns one space.
func (db *DB) FindSpaceByID(ctx context.Context, id int64) (*ipdesk.Space, error) {
	var s *ipdesk.Space
	err := db.readOne(ctx, func(tx *Tx) (err error) {
		s, err = tx.findSpace(id)
		return err
	})
	return s, err
}

// FindSpaces returns spaces by name and their total.
func (db *DB) FindSpaces(ctx context.Context, f ipdesk.SpaceFilter) ([]*ipdesk.Space, int, error) {
	f.Page = f.Page.Normalize()
	var a args
	var where []string
	if f.ID != nil {
		where = append(where, "id = "+a.add(*f.ID))
	}
	if f.Name != nil {
		where = append(where, "name = "+a.add(*f.Name))
	}
	if f.Scope != nil && !f.Scope.All {
		ids := slices.Clone(f.Scope.Spaces)
		for _, p := range f.Scope.Prefixes {
			ids = append(ids, p.SpaceID)
		}
		where = append(where, idList("id", ids, &a))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var out []*ipdesk.Space
	var n int
	err := db.read(ctx, func(tx *Tx) error {
		if err := tx.queryRow("SELECT COUNT(*) FROM spaces"+cond, a...).Scan(&n); err != nil {
			return err
		}
		rows, err := tx.query("SELECT "+spaceColumns+" FROM spaces"+cond+" ORDER BY name LIMIT "+a.add(f.Limit)+" OFFSET "+a.add(f.Offset), a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			s, err := scanSpace(rows)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, n, err
}

func (tx *Tx) checkSpaceName(name string, self int64) error {
	var other int64
	err := tx.queryRow("SELECT id FROM spaces WHERE name = $1 AND id <> $2", name, self).Scan(&other)
	if err == nil {
		return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "name", "name %q is taken by space %d", name, other)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

// CreateSpace stores a new space. A space made by a user who is not an
// administrator is granted (edit) to that user's groups that may create
// spaces, in the same transaction, so its creator can work in it.
func (db *DB) CreateSpace(ctx context.Context, s *ipdesk.Space) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if err := tx.checkSpaceName(s.Name, 0); err != nil {
			return err
		}
		s.CreatedAt, s.UpdatedAt, s.Version = tx.now, tx.now, 1
		if err := tx.queryRow("INSERT INTO spaces (name, description, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
			s.Name, s.Description, micros(tx.now)).Scan(&s.ID); err != nil {
			return err
		}
		if err := tx.audit(ipdesk.ActionCreate, ipdesk.ObjectSpace, s.ID, nil, s); err != nil {
			return err
		}
		return tx.grantToCreator(s.ID)
	})
}

// UpdateSpace changes a space's name or description.
func (db *DB) UpdateSpace(ctx context.Context, id int64, upd ipdesk.SpaceUpdate) (*ipdesk.Space, error) {
	var out *ipdesk.Space
	err := db.write(ctx, func(tx *Tx) error {
		before, err := tx.findSpace(id)
		if err != nil {
			return err
		}
		if err := checkVersion("space", id, upd.Version, before.Version); err != nil {
			return err
		}
		s := *before
		if upd.Name != nil {
			s.Name = *upd.Name
		}
		if upd.Description != nil {
			s.Description = *upd.Description
		}
		if err := s.Validate(); err != nil {
			return err
		}
		if err := tx.checkSpaceName(s.Name, id); err != nil {
			return err
		}
		s.Version++
		s.UpdatedAt = tx.now
		if _, err := tx.exec("UPDATE spaces SET name = $1, description = $2, version = $3, updated_at = $4 WHERE id = $5",
			s.Name, s.Description, s.Version, micros(tx.now), id); err != nil {
			return err
		}
		out = &s
		return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectSpace, id, before, &s)
	})
	return out, err
}

// DeleteSpace removes a space. One that still has prefixes is refused
// unless opts.Cascade is set.
func (db *DB) DeleteSpace(ctx context.Context, id int64, opts ipdesk.DeleteOptions) error {
	return db.write(ctx, func(tx *Tx) error {
		s, err := tx.findSpace(id)
		if err != nil {
			return err
		}
		if err := checkVersion("space", id, opts.Version, s.Version); err != nil {
			return err
		}
		if err := tx.lockRow("spaces", id); err != nil {
			return err
		}
		var n int
		if err := tx.queryRow("SELECT COUNT(*) FROM prefixes WHERE space_id = $1", id).Scan(&n); err != nil {
			return err
		}
		if n > 0 && !opts.Cascade {
			return ipdesk.Errorf(ipdesk.ECONFLICT, "space %q still has %d prefixes; delete them first or ask for a cascading delete", s.Name, n)
		}
		rows, err := tx.query("SELECT id FROM prefixes WHERE space_id = $1 AND parent_id = 0", id)
		if err != nil {
			return err
		}
		var tops []int64
		for rows.Next() {
			var pid int64
			if err := rows.Scan(&pid); err != nil {
				rows.Close()
				return err
			}
			tops = append(tops, pid)
		}
		rows.Close()
		for _, pid := range tops {
			p, err := tx.findPrefix(pid)
			if err != nil {
				return err
			}
			if err := tx.deletePrefixTree(p); err != nil {
				return err
			}
		}
		if err := tx.deleteGrantsOn(ipdesk.ObjectSpace, []int64{id}); err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM spaces WHERE id = $1", id); err != nil {
			return err
		}
		db.prefixCache.forget(id)
		return tx.audit(ipdesk.ActionDelete, ipdesk.ObjectSpace, id, s, nil)
	})
}

// grantToCreator grants edit on a new space to the groups of the acting
// user that may create spaces, unless the user is an administrator (or
// the change is ipdesk's own).
func (tx *Tx) grantToCreator(spaceID int64) error {
	u := ipdesk.ActorFromContext(tx.ctx)
	if u == nil || u.Admin {
		return nil
	}
	rows, err := tx.query("SELECT g.id FROM user_groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 AND g.create_spaces ORDER BY g.id", u.ID)
	if err != nil {
		return err
	}
	var groups []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		groups = append(groups, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range groups {
		if err := tx.putGrant(&ipdesk.Grant{GroupID: g, ObjectType: ipdesk.ObjectSpace, ObjectID: spaceID, Right: ipdesk.RightEdit}); err != nil {
			return err
		}
	}
	return nil
}

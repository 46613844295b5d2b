package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"slices"
	"strings"

	"ipdesk"
)

const groupColumns = "id, name, description, create_spaces, view_all, helpdesk, version, created_at, updated_at"

func scanGroup(row interface{ Scan(...any) error }) (*ipdesk.Group, error) {
	var g ipdesk.Group
	var c, u int64
	if err := row.Scan(&g.ID, &g.Name, &g.Description, &g.CreateSpaces, &g.ViewAll, &g.Helpdesk, &g.Version, &c, &u); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromMicros(c), fromMicros(u)
	g.Members = []int64{}
	return &g, nil
}

// scanGroups reads the groups of rows and then their members.
func (tx *Tx) scanGroups(rows *sql.Rows) ([]*ipdesk.Group, error) {
	var out []*ipdesk.Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, g)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, tx.loadMembers(out)
}

// loadMembers fills in the member lists of gs.
func (tx *Tx) loadMembers(gs []*ipdesk.Group) error {
	if len(gs) == 0 {
		return nil
	}
	byID := make(map[int64]*ipdesk.Group, len(gs))
	ids := make([]any, len(gs))
	for i, g := range gs {
		byID[g.ID] = g
		ids[i] = g.ID
	}
	return tx.queryIn("SELECT group_id, user_id FROM group_members WHERE group_id IN (%s) ORDER BY group_id, user_id", nil, ids, func(rows *sql.Rows) error {
		var gid, uid int64
		if err := rows.Scan(&gid, &uid); err != nil {
			return err
		}
		byID[gid].Members = append(byID[gid].Members, uid)
		return nil
	})
}

func (tx *Tx) findGroup(id int64) (*ipdesk.Group, error) {
	g, err := scanGroup(tx.queryRow("SELECT "+groupColumns+" FROM user_groups WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("group", id)
	} else if err != nil {
		return nil, err
	}
	return g, tx.loadMembers([]*ipdesk.Group{g})
}

// FindGroupByID returns one group with its members.
func (db *DB) FindGroupByID(ctx context.Context, id int64) (*ipdesk.Group, error) {
	var g *ipdesk.Group
	err := db.read(ctx, func(tx *Tx) (err error) {
		g, err = tx.findGroup(id)
		return err
	})
	return g, err
}

// FindGroups returns groups by name and their total.
func (db *DB) FindGroups(ctx context.Context, p ipdesk.Page) ([]*ipdesk.Group, int, error) {
	p = p.Normalize()
	var out []*ipdesk.Group
	var n int
	err := db.read(ctx, func(tx *Tx) error {
		if err := tx.queryRow("SELECT COUNT(*) FROM user_groups").Scan(&n); err != nil {
			return err
		}
		rows, err := tx.query("SELECT "+groupColumns+" FROM user_groups ORDER BY name LIMIT $1 OFFSET $2", p.Limit, p.Offset)
		if err != nil {
			return err
		}
		out, err = tx.scanGroups(rows)
		return err
	})
	return out, n, err
}

// FindUserGroups returns the groups of a user by name.
func (db *DB) FindUserGroups(ctx context.Context, userID int64) ([]*ipdesk.Group, error) {
	var out []*ipdesk.Group
	err := db.read(ctx, func(tx *Tx) error {
		rows, err := tx.query("SELECT "+prefixed("g.", groupColumns)+" FROM user_groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name", userID)
		if err != nil {
			return err
		}
		out, err = tx.scanGroups(rows)
		return err
	})
	return out, err
}

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = alias + c
	}
	return strings.Join(cols, ", ")
}

// checkGroup checks what g needs of stored data: a free name and existing
// members.
func (tx *Tx) checkGroup(g *ipdesk.Group) error {
	var other int64
	err := tx.queryRow("SELECT id FROM user_groups WHERE name = $1 AND id <> $2", g.Name, g.ID).Scan(&other)
	if err == nil {
		return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "name", "name %q is taken by group %d", g.Name, other)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if len(g.Members) == 0 {
		return nil
	}
	ids := make([]any, len(g.Members))
	for i, id := range g.Members {
		ids[i] = id
	}
	found := map[int64]bool{}
	if err := tx.queryIn("SELECT id FROM users WHERE id IN (%s)", nil, ids, func(rows *sql.Rows) error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		found[id] = true
		return nil
	}); err != nil {
		return err
	}
	for _, id := range g.Members {
		if !found[id] {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "members", "member %d is not a user", id)
		}
	}
	return nil
}

// writeMembers replaces the member list of g.
func (tx *Tx) writeMembers(g *ipdesk.Group) error {
	if _, err := tx.exec("DELETE FROM group_members WHERE group_id = $1", g.ID); err != nil {
		return err
	}
	if len(g.Members) == 0 {
		return nil
	}
	return tx.insertMany("INSERT INTO group_members (group_id, user_id)", "", 2, len(g.Members), func(dst []any, i int) []any {
		return append(dst, g.ID, g.Members[i])
	}, nil)
}

// CreateGroup stores a new group with its members.
func (db *DB) CreateGroup(ctx context.Context, g *ipdesk.Group) error {
	if g.Members == nil {
		g.Members = []int64{}
	}
	if err := g.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if err := tx.checkGroup(g); err != nil {
			return err
		}
		g.Version = 1
		g.CreatedAt, g.UpdatedAt = tx.now, tx.now
		if err := tx.queryRow("INSERT INTO user_groups (name, description, create_spaces, view_all, helpdesk, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
			g.Name, g.Description, g.CreateSpaces, g.ViewAll, g.Helpdesk, micros(tx.now)).Scan(&g.ID); err != nil {
			return err
		}
		if err := tx.writeMembers(g); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectGroup, g.ID, nil, g)
	})
}

// UpdateGroup changes a group's fields or members.
func (db *DB) UpdateGroup(ctx context.Context, id int64, upd ipdesk.GroupUpdate) (*ipdesk.Group, error) {
	var out *ipdesk.Group
	err := db.write(ctx, func(tx *Tx) error {
		before, err := tx.findGroup(id)
		if err != nil {
			return err
		}
		if err := checkVersion("group", id, upd.Version, before.Version); err != nil {
			return err
		}
		g := *before
		g.Members = slices.Clone(before.Members)
		upd.Apply(&g)
		if err := g.Validate(); err != nil {
			return err
		}
		if err := tx.checkGroup(&g); err != nil {
			return err
		}
		g.Version++
		g.UpdatedAt = tx.now
		if _, err := tx.exec("UPDATE user_groups SET name = $1, description = $2, create_spaces = $3, view_all = $4, helpdesk = $5, version = $6, updated_at = $7 WHERE id = $8",
			g.Name, g.Description, g.CreateSpaces, g.ViewAll, g.Helpdesk, g.Version, micros(tx.now), id); err != nil {
			return err
		}
		if upd.Members != nil {
			if err := tx.writeMembers(&g); err != nil {
				return err
			}
		}
		out = &g
		return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectGroup, id, before, &g)
	})
	return out, err
}

// DeleteGroup removes a group, its memberships and its grants.
func (db *DB) DeleteGroup(ctx context.Context, id int64, opts ipdesk.DeleteOptions) error {
	return db.write(ctx, func(tx *Tx) error {
		before, err := tx.findGroup(id)
		if err != nil {
			return err
		}
		if err := checkVersion("group", id, opts.Version, before.Version); err != nil {
			return err
		}
		grants, err := tx.findGrants(ipdesk.GrantFilter{GroupID: &id, Page: ipdesk.Page{Limit: ipdesk.MaxLimit}})
		if err != nil {
			return err
		}
		if len(grants) > 0 && !opts.Cascade {
			return ipdesk.Errorf(ipdesk.ECONFLICT, "group %q still has %d grants; remove them first or delete with cascade", before.Name, len(grants))
		}
		for _, q := range []string{"DELETE FROM grants WHERE group_id = $1", "DELETE FROM group_members WHERE group_id = $1", "DELETE FROM user_groups WHERE id = $1"} {
			if _, err := tx.exec(q, id); err != nil {
				return err
			}
		}
		entries := []auditEntry{{ipdesk.ActionDelete, ipdesk.ObjectGroup, id, before, nil}}
		for _, g := range grants {
			entries = append(entries, auditEntry{ipdesk.ActionDelete, ipdesk.ObjectGrant, g.ID, g, nil})
		}
		return tx.auditAll(entries)
	})
}

const grantColumns = "id, group_id, object_type, object_id, right_name, created_at, updated_at"

func scanGrant(row interface{ Scan(...any) error }) (*ipdesk.Grant, error) {
	var g ipdesk.Grant
	var c, u int64
	if err := row.Scan(&g.ID, &g.GroupID, &g.ObjectType, &g.ObjectID, &g.Right, &c, &u); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromMicros(c), fromMicros(u)
	return &g, nil
}

// grantCond returns the WHERE clause of f.
func grantCond(f ipdesk.GrantFilter, a *args) string {
	var where []string
	if f.GroupID != nil {
		where = append(where, "group_id = "+a.add(*f.GroupID))
	}
	if f.ObjectType != nil {
		where = append(where, "object_type = "+a.add(*f.ObjectType))
	}
	if f.ObjectID != nil {
		where = append(where, "object_id = "+a.add(*f.ObjectID))
	}
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

func (tx *Tx) findGrants(f ipdesk.GrantFilter) ([]*ipdesk.Grant, error) {
	var a args
	cond := grantCond(f, &a)
	rows, err := tx.query("SELECT "+grantColumns+" FROM grants"+cond+" ORDER BY group_id, object_type, object_id LIMIT "+a.add(f.Limit)+" OFFSET "+a.add(f.Offset), a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*ipdesk.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// FindGrants returns grants and their total.
func (db *DB) FindGrants(ctx context.Context, f ipdesk.GrantFilter) ([]*ipdesk.Grant, int, error) {
	f.Page = f.Page.Normalize()
	var out []*ipdesk.Grant
	var n int
	err := db.read(ctx, func(tx *Tx) error {
		var a args
		if err := tx.queryRow("SELECT COUNT(*) FROM grants"+grantCond(f, &a), a...).Scan(&n); err != nil {
			return err
		}
		var err error
		out, err = tx.findGrants(f)
		return err
	})
	return out, n, err
}

// grantTargetExists tells whether the object of a grant exists.
func (tx *Tx) grantTargetExists(objectType string, id int64) (bool, error) {
	table := map[string]string{ipdesk.ObjectSpace: "spaces", ipdesk.ObjectPrefix: "prefixes", ipdesk.ObjectLocation: "locations"}[objectType]
	return tx.exists("SELECT COUNT(*) FROM "+table+" WHERE id = $1", id)
}

// CreateGrant stores a grant, replacing the group's right on the object.
func (db *DB) CreateGrant(ctx context.Context, g *ipdesk.Grant) error {
	if err := g.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		return tx.putGrant(g)
	})
}

// putGrant stores g, replacing the group's right on the object.
func (tx *Tx) putGrant(g *ipdesk.Grant) error {
	if _, err := tx.findGroup(g.GroupID); err != nil {
		if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "group_id", "group %d does not exist", g.GroupID)
		}
		return err
	}
	if ok, err := tx.grantTargetExists(g.ObjectType, g.ObjectID); err != nil {
		return err
	} else if !ok {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "object_id", "%s %d does not exist", g.ObjectType, g.ObjectID)
	}
	before, err := scanGrant(tx.queryRow("SELECT "+grantColumns+" FROM grants WHERE group_id = $1 AND object_type = $2 AND object_id = $3", g.GroupID, g.ObjectType, g.ObjectID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		g.CreatedAt, g.UpdatedAt = tx.now, tx.now
		if err := tx.queryRow("INSERT INTO grants (group_id, object_type, object_id, right_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
			g.GroupID, g.ObjectType, g.ObjectID, g.Right, micros(tx.now)).Scan(&g.ID); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectGrant, g.ID, nil, g)
	case err != nil:
		return err
	}
	g.ID, g.CreatedAt, g.UpdatedAt = before.ID, before.CreatedAt, tx.now
	if _, err := tx.exec("UPDATE grants SET right_name = $1, updated_at = $2 WHERE id = $3", g.Right, micros(tx.now), g.ID); err != nil {
		return err
	}
	return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectGrant, g.ID, before, g)
}

// DeleteGrant removes a grant.
func (db *DB) DeleteGrant(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *Tx) error {
		before, err := scanGrant(tx.queryRow("SELECT "+grantColumns+" FROM grants WHERE id = $1", id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("grant", id)
		} else if err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM grants WHERE id = $1", id); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionDelete, ipdesk.ObjectGrant, id, before, nil)
	})
}

// deleteGrantsOn removes the grants on an object that is being deleted,
// with their audit entries.
func (tx *Tx) deleteGrantsOn(objectType string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	vals := make([]any, len(ids))
	for i, id := range ids {
		vals[i] = id
	}
	var gone []*ipdesk.Grant
	if err := tx.queryIn("SELECT "+grantColumns+" FROM grants WHERE object_type = $1 AND object_id IN (%s)", []any{objectType}, vals, func(rows *sql.Rows) error {
		g, err := scanGrant(rows)
		if err != nil {
			return err
		}
		gone = append(gone, g)
		return nil
	}); err != nil {
		return err
	}
	if len(gone) == 0 {
		return nil
	}
	entries := make([]auditEntry, len(gone))
	gids := make([]any, len(gone))
	for i, g := range gone {
		entries[i] = auditEntry{ipdesk.ActionDelete, ipdesk.ObjectGrant, g.ID, g, nil}
		gids[i] = g.ID
	}
	if err := tx.queryIn("DELETE FROM grants WHERE id IN (%s)", nil, gids, nil); err != nil {
		return err
	}
	return tx.auditAll(entries)
}

// FindPermissions returns what u may do, read in one transaction.
func (db *DB) FindPermissions(ctx context.Context, u *ipdesk.User) (*ipdesk.Permissions, error) {
	p := &ipdesk.Permissions{
		UserID:    u.ID,
		Admin:     u.Admin && !u.Disabled,
		Spaces:    map[int64]ipdesk.Right{},
		Locations: map[int64]ipdesk.Right{},
	}
	if u.Disabled {
		return p, nil
	}
	err := db.read(ctx, func(tx *Tx) error {
		rows, err := tx.query("SELECT g.id, g.create_spaces, g.view_all, g.helpdesk FROM user_groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.id", u.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var cs, va, hd bool
			if err := rows.Scan(&id, &cs, &va, &hd); err != nil {
				rows.Close()
				return err
			}
			p.GroupIDs = append(p.GroupIDs, id)
			p.CreateSpaces = p.CreateSpaces || cs
			p.ViewAll = p.ViewAll || va
			p.Helpdesk = p.Helpdesk || hd
		}
		if err := rows.Close(); err != nil {
			return err
		}
		// The grants of the user's groups, with the prefix of each prefix
		// grant.
		rows, err = tx.query(`SELECT gr.object_type, gr.object_id, gr.right_name, COALESCE(p.space_id, 0), COALESCE(p.prefix, '')
			FROM grants gr JOIN group_members m ON m.group_id = gr.group_id
			LEFT JOIN prefixes p ON gr.object_type = 'prefix' AND p.id = gr.object_id
			WHERE m.user_id = $1`, u.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var typ, prefix string
			var id, spaceID int64
			var r ipdesk.Right
			if err := rows.Scan(&typ, &id, &r, &spaceID, &prefix); err != nil {
				return err
			}
			switch typ {
			case ipdesk.ObjectSpace:
				p.Spaces[id] = best(p.Spaces[id], r)
			case ipdesk.ObjectLocation:
				p.Locations[id] = best(p.Locations[id], r)
			case ipdesk.ObjectPrefix:
				pfx, err := netip.ParsePrefix(prefix)
				if err != nil {
					continue // the prefix is gone
				}
				p.Prefixes = append(p.Prefixes, ipdesk.PrefixRight{SpaceID: spaceID, Prefix: pfx, Right: r})
			}
		}
		return rows.Err()
	})
	return p, err
}

// best returns the greater of two rights.
func best(a, b ipdesk.Right) ipdesk.Right {
	if a.Allows(b) {
		return a
	}
	return b
}

package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"ipdesk"
)

// SyncDirectoryUser creates or updates the local record of a directory
// user and its memberships in the mapped groups, in one transaction. It
// writes audit entries only for what changed, with the user as the actor.
func (db *DB) SyncDirectoryUser(ctx context.Context, id ipdesk.DirectoryIdentity) (*ipdesk.User, []string, error) {
	if id.Source != ipdesk.DirectoryLDAP && id.Source != ipdesk.DirectoryOIDC {
		return nil, nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "directory", "directory %q is not ldap or oidc", id.Source)
	}
	want := &ipdesk.User{Name: id.Name, FullName: id.FullName, Directory: id.Source}
	if err := want.Validate(); err != nil {
		return nil, nil, err
	}
	ctx = ipdesk.NewContextWithActor(ctx, &ipdesk.User{Name: id.Name})
	var out *ipdesk.User
	var missing []string
	err := db.write(ctx, func(tx *Tx) error {
		u, err := scanUser(tx.queryRow("SELECT "+userColumns+" FROM users WHERE name = $1", id.Name))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			u = want
			u.Version = 1
			u.CreatedAt, u.UpdatedAt = tx.now, tx.now
			if err := tx.queryRow("INSERT INTO users (name, full_name, password_hash, admin, disabled, language, directory, created_at, updated_at) VALUES ($1, $2, '', FALSE, FALSE, '', $3, $4, $4) RETURNING id",
				u.Name, u.FullName, u.Directory, micros(tx.now)).Scan(&u.ID); err != nil {
				return err
			}
			if err := tx.audit(ipdesk.ActionCreate, ipdesk.ObjectUser, u.ID, nil, u); err != nil {
				return err
			}
		case err != nil:
			return err
		case u.Directory == "":
			return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "name", "user %q is a local account with a password; the directory may not take it over", id.Name)
		case u.Directory != id.Source:
			return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "name", "user %q signs in through %s, not %s", id.Name, u.Directory, id.Source)
		case u.FullName != id.FullName || u.Disabled:
			before := *u
			u.FullName, u.Disabled = id.FullName, false
			u.Version++
			u.UpdatedAt = tx.now
			if _, err := tx.exec("UPDATE users SET full_name = $1, disabled = FALSE, version = $2, updated_at = $3 WHERE id = $4",
				u.FullName, u.Version, micros(tx.now), u.ID); err != nil {
				return err
			}
			if err := tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectUser, u.ID, &before, u); err != nil {
				return err
			}
		}
		out = u
		missing, err = tx.syncMemberships(u.ID, id.Groups, id.Managed)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return out, missing, nil
}

// syncMemberships makes user a member of exactly the groups named in
// member among those named in managed, and returns the names that name no
// group. Each group whose members change gets an audit entry.
func (tx *Tx) syncMemberships(user int64, member, managed []string) ([]string, error) {
	var missing []string
	for _, name := range managed {
		var gid int64
		err := tx.queryRow("SELECT id FROM user_groups WHERE name = $1", name).Scan(&gid)
		if errors.Is(err, sql.ErrNoRows) {
			if slices.Contains(member, name) {
				missing = append(missing, name)
			}
			continue
		} else if err != nil {
			return nil, err
		}
		var n int
		if err := tx.queryRow("SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND user_id = $2", gid, user).Scan(&n); err != nil {
			return nil, err
		}
		is, should := n > 0, slices.Contains(member, name)
		if is == should {
			continue
		}
		before, err := tx.findGroup(gid)
		if err != nil {
			return nil, err
		}
		if should {
			_, err = tx.exec("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)", gid, user)
		} else {
			_, err = tx.exec("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2", gid, user)
		}
		if err != nil {
			return nil, err
		}
		if _, err := tx.exec("UPDATE user_groups SET version = version + 1, updated_at = $1 WHERE id = $2", micros(tx.now), gid); err != nil {
			return nil, err
		}
		after, err := tx.findGroup(gid)
		if err != nil {
			return nil, err
		}
		if err := tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectGroup, gid, before, after); err != nil {
			return nil, err
		}
	}
	return missing, nil
}

// DisableDirectoryUser disables a directory user the directory no longer
// vouches for and ends their sessions.
func (db *DB) DisableDirectoryUser(ctx context.Context, source, name string) error {
	ctx = ipdesk.NewContextWithActor(ctx, &ipdesk.User{Name: source})
	return db.write(ctx, func(tx *Tx) error {
		u, err := scanUser(tx.queryRow("SELECT "+userColumns+" FROM users WHERE name = $1", name))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		if u.Directory != source || u.Disabled {
			return nil
		}
		before := *u
		u.Disabled = true
		u.Version++
		u.UpdatedAt = tx.now
		if _, err := tx.exec("UPDATE users SET disabled = TRUE, version = $1, updated_at = $2 WHERE id = $3", u.Version, micros(tx.now), u.ID); err != nil {
			return err
		}
		if err := tx.purgeSessions(u.ID); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectUser, u.ID, &before, u)
	})
}

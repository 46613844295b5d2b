package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"ipdesk"
)

const accessLevelColumns = "level, name, description, version, created_at, updated_at"

func scanAccessLevel(row interface{ Scan(...any) error }) (*ipdesk.AccessLevel, error) {
	var l ipdesk.AccessLevel
	var c, u int64
	if err := row.Scan(&l.Level, &l.Name, &l.Description, &l.Version, &c, &u); err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = fromMicros(c), fromMicros(u)
	return &l, nil
}

func (tx *Tx) findAccessLevel(level int) (*ipdesk.AccessLevel, error) {
	l, err := scanAccessLevel(tx.queryRow("SELECT "+accessLevelColumns+" FROM access_levels WHERE level = $1", level))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("access level", level)
	}
	return l, err
}

// FindAccessLevel returns one access level.
func (db *DB) FindAccessLevel(ctx context.Context, level int) (*ipdesk.AccessLevel, error) {
	var l *ipdesk.AccessLevel
	err := db.readOne(ctx, func(tx *Tx) (err error) {
		l, err = tx.findAccessLevel(level)
		return err
	})
	return l, err
}

// FindAccessLevels returns all access levels in order.
func (db *DB) FindAccessLevels(ctx context.Context) ([]*ipdesk.AccessLevel, error) {
	var out []*ipdesk.AccessLevel
	err := db.read(ctx, func(tx *Tx) error {
		rows, err := tx.query("SELECT " + accessLevelColumns + " FROM access_levels ORDER BY level")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanAccessLevel(rows)
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		return rows.Err()
	})
	return out, err
}

func (tx *Tx) checkLevelName(l *ipdesk.AccessLevel) error {
	var other int
	err := tx.queryRow("SELECT level FROM access_levels WHERE name = $1 AND level <> $2", l.Name, l.Level).Scan(&other)
	if err == nil {
		return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "name", "name %q is taken by access level %d", l.Name, other)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

// CreateAccessLevel stores a new access level.
func (db *DB) CreateAccessLevel(ctx context.Context, l *ipdesk.AccessLevel) error {
	if err := l.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if _, err := tx.findAccessLevel(l.Level); err == nil {
			return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "level", "access level %d already exists", l.Level)
		} else if ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
			return err
		}
		if err := tx.checkLevelName(l); err != nil {
			return err
		}
		l.Version = 1
		l.CreatedAt, l.UpdatedAt = tx.now, tx.now
		if _, err := tx.exec("INSERT INTO access_levels (level, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
			l.Level, l.Name, l.Description, micros(tx.now)); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectAccessLevel, int64(l.Level), nil, l)
	})
}

// UpdateAccessLevel renames or describes an access level.
func (db *DB) UpdateAccessLevel(ctx context.Context, level int, upd ipdesk.AccessLevelUpdate) (*ipdesk.AccessLevel, error) {
	var out *ipdesk.AccessLevel
	err := db.write(ctx, func(tx *Tx) error {
		before, err := tx.findAccessLevel(level)
		if err != nil {
			return err
		}
		if err := checkVersion("access level", level, upd.Version, before.Version); err != nil {
			return err
		}
		l := *before
		if upd.Name != nil {
			l.Name = *upd.Name
		}
		if upd.Description != nil {
			l.Description = *upd.Description
		}
		if err := l.Validate(); err != nil {
			return err
		}
		if err := tx.checkLevelName(&l); err != nil {
			return err
		}
		l.Version++
		l.UpdatedAt = tx.now
		if _, err := tx.exec("UPDATE access_levels SET name = $1, description = $2, version = $3, updated_at = $4 WHERE level = $5",
			l.Name, l.Description, l.Version, micros(tx.now), level); err != nil {
			return err
		}
		out = &l
		return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectAccessLevel, int64(level), before, &l)
	})
	return out, err
}

// DeleteAccessLevel removes an access level no address uses. Level 0 (no
// access) always exists.
func (db *DB) DeleteAccessLevel(ctx context.Context, level int, opts ipdesk.DeleteOptions) error {
	return db.write(ctx, func(tx *Tx) error {
		l, err := tx.findAccessLevel(level)
		if err != nil {
			return err
		}
		if err := checkVersion("access level", level, opts.Version, l.Version); err != nil {
			return err
		}
		if level == 0 {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "level", "access level 0 (no access) cannot be deleted")
		}
		var n int
		if err := tx.queryRow("SELECT COUNT(*) FROM addresses WHERE access_level = $1", level).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ipdesk.Errorf(ipdesk.ECONFLICT, "access level %d (%s) is used by %d addresses; move them to another level first", level, l.Name, n)
		}
		if _, err := tx.exec("DELETE FROM access_levels WHERE level = $1", level); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionDelete, ipdesk.ObjectAccessLevel, int64(level), l, nil)
	})
}

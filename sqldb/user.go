package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"ipdesk"
	"ipdesk/secret"
)

const userColumns = "id, name, full_name, admin, disabled, language, version, created_at, updated_at, directory"

func scanUser(row interface{ Scan(...any) error }) (*ipdesk.User, error) {
	var u ipdesk.User
	var c, m int64
	if err := row.Scan(&u.ID, &u.Name, &u.FullName, &u.Admin, &u.Disabled, &u.Language, &u.Version, &c, &m, &u.Directory); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(c), fromMicros(m)
	return &u, nil
}

func (tx *Tx) findUser(id int64) (*ipdesk.User, error) {
	u, err := scanUser(tx.queryRow("SELECT "+userColumns+" FROM users WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", id)
	}
	return u, err
}

// FindUserByID returns one user.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*ipdesk.User, error) {
	var u *ipdesk.User
	err := db.readOne(ctx, func(tx *Tx) (err error) {
		u, err = tx.findUser(id)
		return err
	})
	return u, err
}

// FindUserByName returns the user with this name.
func (db *DB) FindUserByName(ctx context.Context, name string) (*ipdesk.User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE name = $1", name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ipdesk.FieldErrorf(ipdesk.ENOTFOUND, "name", "user %q does not exist", name)
	}
	return u, mapError(err)
}

// FindUsers returns users by name and their total.
func (db *DB) FindUsers(ctx context.Context, p ipdesk.Page) ([]*ipdesk.User, int, error) {
	p = p.Normalize()
	var out []*ipdesk.User
	var n int
	err := db.read(ctx, func(tx *Tx) error {
		if err := tx.queryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil {
			return err
		}
		rows, err := tx.query("SELECT "+userColumns+" FROM users ORDER BY name LIMIT $1 OFFSET $2", p.Limit, p.Offset)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, n, err
}

// CountUsers returns the number of users.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, mapError(err)
}

// CreateUser stores a new user with a password.
func (db *DB) CreateUser(ctx context.Context, u *ipdesk.User, password string) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if err := ipdesk.ValidatePassword(password); err != nil {
		return err
	}
	hash, err := secret.HashPassword(password)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		var other int64
		if err := tx.queryRow("SELECT id FROM users WHERE name = $1", u.Name).Scan(&other); err == nil {
			return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "name", "name %q is taken by user %d", u.Name, other)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		u.Version = 1
		u.CreatedAt, u.UpdatedAt = tx.now, tx.now
		if err := tx.queryRow("INSERT INTO users (name, full_name, password_hash, admin, disabled, language, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
			u.Name, u.FullName, hash, u.Admin, u.Disabled, u.Language, micros(tx.now)).Scan(&u.ID); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectUser, u.ID, nil, u)
	})
}

// UpdateUser changes a user's full name, admin flag or disabled flag.
func (db *DB) UpdateUser(ctx context.Context, id int64, upd ipdesk.UserUpdate) (*ipdesk.User, error) {
	var out *ipdesk.User
	err := db.write(ctx, func(tx *Tx) error {
		before, err := tx.findUser(id)
		if err != nil {
			return err
		}
		if err := checkVersion("user", id, upd.Version, before.Version); err != nil {
			return err
		}
		u := *before
		if upd.FullName != nil {
			u.FullName = *upd.FullName
		}
		if upd.Admin != nil {
			u.Admin = *upd.Admin
		}
		if upd.Disabled != nil {
			u.Disabled = *upd.Disabled
		}
		if upd.Language != nil {
			u.Language = *upd.Language
		}
		if err := u.Validate(); err != nil {
			return err
		}
		// A disabled user's sessions end at once.
		if u.Disabled {
			if err := tx.purgeSessions(id); err != nil {
				return err
			}
		}
		u.Version++
		u.UpdatedAt = tx.now
		if _, err := tx.exec("UPDATE users SET full_name = $1, admin = $2, disabled = $3, language = $4, version = $5, updated_at = $6 WHERE id = $7",
			u.FullName, u.Admin, u.Disabled, u.Language, u.Version, micros(tx.now), id); err != nil {
			return err
		}
		out = &u
		return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectUser, id, before, &u)
	})
	return out, err
}

// SetPassword replaces a user's password.
func (db *DB) SetPassword(ctx context.Context, id int64, password string) error {
	if err := ipdesk.ValidatePassword(password); err != nil {
		return err
	}
	hash, err := secret.HashPassword(password)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		u, err := tx.findUser(id)
		if err != nil {
			return err
		}
		if u.Directory != "" {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "password", "user %q signs in through the directory (%s) and has no local password", u.Name, u.Directory)
		}
		if _, err := tx.exec("UPDATE users SET password_hash = $1, version = version + 1, updated_at = $2 WHERE id = $3", hash, micros(tx.now), id); err != nil {
			return err
		}
		// The audit entry says that the password changed, never what to.
		return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectUser, id, u, map[string]any{"id": id, "name": u.Name, "password": "changed"})
	})
}

// dummyHash is checked against when the user does not exist, so that
// a login takes as long for unknown names as for wrong passwords.
var dummyHash, _ = secret.HashPassword("ipdesk-timing-equaliser")

// Authenticate returns the enabled user with this name and password.
func (db *DB) Authenticate(ctx context.Context, name, password string) (*ipdesk.User, error) {
	bad := ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "wrong user name or password")
	if len(password) > ipdesk.MaxPasswordLen {
		return nil, bad
	}
	var hash string
	row := db.r.QueryRowContext(ctx, "SELECT "+userColumns+", password_hash FROM users WHERE name = $1", name)
	var u ipdesk.User
	var c, m int64
	err := row.Scan(&u.ID, &u.Name, &u.FullName, &u.Admin, &u.Disabled, &u.Language, &u.Version, &c, &m, &u.Directory, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		secret.CheckPassword(dummyHash, password)
		return nil, bad
	} else if err != nil {
		return nil, mapError(err)
	}
	if !secret.CheckPassword(hash, password) || u.Disabled {
		return nil, bad
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(c), fromMicros(m)
	return &u, nil
}

// CreateToken makes a new API token of full scope without expiry; only
// its hash is stored.
func (db *DB) CreateToken(ctx context.Context, userID int64, description string) (string, *ipdesk.Token, error) {
	return db.CreateScopedToken(ctx, userID, ipdesk.TokenSpec{Description: description})
}

// CreateScopedToken makes a new API token; only its hash is stored.
func (db *DB) CreateScopedToken(ctx context.Context, userID int64, spec ipdesk.TokenSpec) (string, *ipdesk.Token, error) {
	description := spec.Description
	if err := ipdesk.ValidateText("description", description, ipdesk.MaxNameLen); err != nil {
		return "", nil, err
	}
	if spec.Scope == "" {
		spec.Scope = ipdesk.ScopeFull
	}
	if err := ipdesk.ValidateTokenScope(spec.Scope); err != nil {
		return "", nil, err
	}
	if spec.ExpiresAt != nil && !spec.ExpiresAt.After(db.Now()) {
		return "", nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "expires_at", "expires_at %s is not in the future", spec.ExpiresAt.UTC().Format(time.RFC3339))
	}
	s, err := secret.NewToken()
	if err != nil {
		return "", nil, err
	}
	t := &ipdesk.Token{UserID: userID, Description: description, Scope: spec.Scope}
	var expires sql.NullInt64
	if spec.ExpiresAt != nil {
		at := fromMicros(micros(*spec.ExpiresAt))
		t.ExpiresAt = &at
		expires = sql.NullInt64{Int64: micros(at), Valid: true}
	}
	err = db.write(ctx, func(tx *Tx) error {
		if _, err := tx.findUser(userID); err != nil {
			return err
		}
		var n int
		if err := tx.queryRow("SELECT COUNT(*) FROM api_tokens WHERE user_id = $1", userID).Scan(&n); err != nil {
			return err
		}
		if n >= ipdesk.MaxTokensPerUser {
			return ipdesk.Errorf(ipdesk.ECONFLICT, "user %d already has %d API tokens; revoke some first", userID, n)
		}
		t.CreatedAt = tx.now
		if err := tx.queryRow("INSERT INTO api_tokens (user_id, token_hash, description, created_at, scope, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
			userID, secret.HashToken(s), description, micros(tx.now), string(t.Scope), expires).Scan(&t.ID); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectToken, t.ID, nil, t)
	})
	if err != nil {
		return "", nil, err
	}
	return s, t, nil
}

// tokenUseInterval bounds how often a token's last use is written.
const tokenUseInterval = time.Minute

// FindUserByToken returns the enabled user a token belongs to.
func (db *DB) FindUserByToken(ctx context.Context, s string) (*ipdesk.User, error) {
	bad := ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the API token is not valid")
	if len(s) > 200 {
		return nil, bad
	}
	var u ipdesk.User
	var c, m int64
	var tok *ipdesk.Token
	row := db.r.QueryRowContext(ctx, "SELECT "+prefixed("t.", tokenColumns)+", "+prefixed("u.", userColumns)+" FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
		secret.HashToken(s))
	tok, err := scanToken(scanFunc(func(dst ...any) error {
		return row.Scan(append(dst, &u.ID, &u.Name, &u.FullName, &u.Admin, &u.Disabled, &u.Language, &u.Version, &c, &m, &u.Directory)...)
	}))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bad
	} else if err != nil {
		return nil, mapError(err)
	}
	if u.Disabled || tok.Expired(db.Now()) {
		return nil, bad
	}
	u.Token = tok
	tokenID := tok.ID
	u.CreatedAt, u.UpdatedAt = fromMicros(c), fromMicros(m)
	now := db.Now()
	if last, ok := db.tokenUse.Load(tokenID); !ok || now.Sub(last.(time.Time)) > tokenUseInterval {
		db.tokenUse.Store(tokenID, now)
		if _, err := db.w.ExecContext(ctx, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", micros(now), tokenID); err != nil {
			return nil, mapError(err)
		}
	}
	return &u, nil
}

const tokenColumns = "id, user_id, description, created_at, last_used_at, scope, expires_at"

// scanFunc is a Scan method made of a function.
type scanFunc func(dst ...any) error

func (f scanFunc) Scan(dst ...any) error { return f(dst...) }

func scanToken(row interface{ Scan(...any) error }) (*ipdesk.Token, error) {
	var t ipdesk.Token
	var c int64
	var used, expires sql.NullInt64
	var scope string
	if err := row.Scan(&t.ID, &t.UserID, &t.Description, &c, &used, &scope, &expires); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMicros(c)
	t.Scope = ipdesk.TokenScope(scope)
	if expires.Valid {
		e := fromMicros(expires.Int64)
		t.ExpiresAt = &e
	}
	if used.Valid {
		u := fromMicros(used.Int64)
		t.LastUsedAt = &u
	}
	return &t, nil
}

// FindTokens returns a user's API tokens, the newest first.
func (db *DB) FindTokens(ctx context.Context, userID int64) ([]*ipdesk.Token, error) {
	var out []*ipdesk.Token
	err := db.readOne(ctx, func(tx *Tx) error {
		rows, err := tx.query("SELECT "+tokenColumns+" FROM api_tokens WHERE user_id = $1 ORDER BY id DESC LIMIT $2", userID, ipdesk.MaxTokensPerUser)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteToken revokes one of a user's API tokens.
func (db *DB) DeleteToken(ctx context.Context, userID, id int64) error {
	return db.write(ctx, func(tx *Tx) error {
		t, err := scanToken(tx.queryRow("SELECT "+tokenColumns+" FROM api_tokens WHERE id = $1 AND user_id = $2", id, userID))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("API token", id)
		} else if err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM api_tokens WHERE id = $1", id); err != nil {
			return err
		}
		db.tokenUse.Delete(id)
		return tx.audit(ipdesk.ActionDelete, ipdesk.ObjectToken, id, t, nil)
	})
}

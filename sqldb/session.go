package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"ipdesk"
	"ipdesk/secret"
)

// sessionTouchInterval bounds how often a session's last use is written.
const sessionTouchInterval = time.Minute

// maxSessionSecretLen bounds the cookie value looked up.
const maxSessionSecretLen = 100

// CreateSession starts a session and returns its secret; only its hash is
// stored. Expired sessions of every user are removed in the same
// transaction. Sessions are not audited: sign-ins are logged by the web
// server.
func (db *DB) CreateSession(ctx context.Context, s *ipdesk.Session, limits ipdesk.SessionLimits) (string, error) {
	sec, err := secret.NewSessionSecret()
	if err != nil {
		return "", err
	}
	s.Remote = clipText(s.Remote, 100)
	s.UserAgent = clipText(s.UserAgent, 300)
	err = db.write(ctx, func(tx *Tx) error {
		if limits.Idle > 0 {
			if _, err := tx.exec("DELETE FROM sessions WHERE last_seen < $1", micros(tx.now.Add(-limits.Idle))); err != nil {
				return err
			}
		}
		if limits.Absolute > 0 {
			if _, err := tx.exec("DELETE FROM sessions WHERE created_at < $1", micros(tx.now.Add(-limits.Absolute))); err != nil {
				return err
			}
		}
		s.CreatedAt, s.LastSeen = tx.now, tx.now
		return tx.queryRow("INSERT INTO sessions (user_id, secret_hash, created_at, last_seen, remote, user_agent) VALUES ($1, $2, $3, $3, $4, $5) RETURNING id",
			s.UserID, secret.HashToken(sec), micros(tx.now), s.Remote, s.UserAgent).Scan(&s.ID)
	})
	if err != nil {
		return "", err
	}
	return sec, nil
}

// clipText returns s cut to at most n bytes of valid UTF-8 without
// control characters, for descriptive fields taken from requests.
func clipText(s string, n int) string {
	out := make([]rune, 0, len(s))
	size := 0
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			r = '?'
		}
		if size += len(string(r)); size > n {
			break
		}
		out = append(out, r)
	}
	return string(out)
}

// FindSession returns a live session and its enabled user and records its
// use at most once a minute. Expired sessions are removed.
func (db *DB) FindSession(ctx context.Context, sec string, limits ipdesk.SessionLimits) (*ipdesk.Session, *ipdesk.User, error) {
	bad := ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the session has ended; sign in again")
	if sec == "" || len(sec) > maxSessionSecretLen {
		return nil, nil, bad
	}
	var s ipdesk.Session
	var u ipdesk.User
	var sc, seen, c, m int64
	err := db.r.QueryRowContext(ctx, "SELECT s.id, s.user_id, s.created_at, s.last_seen, s.remote, s.user_agent, "+prefixed("u.", userColumns)+
		" FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.secret_hash = $1", secret.HashToken(sec)).
		Scan(&s.ID, &s.UserID, &sc, &seen, &s.Remote, &s.UserAgent, &u.ID, &u.Name, &u.FullName, &u.Admin, &u.Disabled, &u.Language, &u.Version, &c, &m, &u.Directory)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, bad
	} else if err != nil {
		return nil, nil, mapError(err)
	}
	s.CreatedAt, s.LastSeen = fromMicros(sc), fromMicros(seen)
	u.CreatedAt, u.UpdatedAt = fromMicros(c), fromMicros(m)
	now := db.Now()
	expired := (limits.Idle > 0 && now.Sub(s.LastSeen) > limits.Idle) || (limits.Absolute > 0 && now.Sub(s.CreatedAt) > limits.Absolute)
	if expired || u.Disabled {
		if _, err := db.w.ExecContext(ctx, "DELETE FROM sessions WHERE id = $1", s.ID); err != nil {
			return nil, nil, mapError(err)
		}
		return nil, nil, bad
	}
	if now.Sub(s.LastSeen) > sessionTouchInterval {
		s.LastSeen = now.UTC().Truncate(time.Microsecond)
		if _, err := db.w.ExecContext(ctx, "UPDATE sessions SET last_seen = $1 WHERE id = $2", micros(now), s.ID); err != nil {
			return nil, nil, mapError(err)
		}
	}
	return &s, &u, nil
}

// DeleteSession ends the session of a secret.
func (db *DB) DeleteSession(ctx context.Context, sec string) error {
	if sec == "" || len(sec) > maxSessionSecretLen {
		return nil
	}
	_, err := db.w.ExecContext(ctx, "DELETE FROM sessions WHERE secret_hash = $1", secret.HashToken(sec))
	return mapError(err)
}

// DeleteUserSessions ends the sessions of a user but the one with ID
// except.
func (db *DB) DeleteUserSessions(ctx context.Context, userID, except int64) error {
	_, err := db.w.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1 AND id <> $2", userID, except)
	return mapError(err)
}

// purgeSessions removes the sessions of a user in tx (the user is being
// disabled).
func (tx *Tx) purgeSessions(userID int64) error {
	_, err := tx.exec("DELETE FROM sessions WHERE user_id = $1", userID)
	return err
}

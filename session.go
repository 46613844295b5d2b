package ipdesk

import (
	"context"
	"time"
)

// Session is a signed-in browser. Its secret lives only in the browser's
// cookie; the store keeps a hash of it.
type Session struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	// LastSeen is the last time the session was used, recorded at most
	// about once a minute.
	LastSeen time.Time `json:"last_seen"`
	// Remote and UserAgent describe the browser at sign-in.
	Remote    string `json:"remote"`
	UserAgent string `json:"user_agent"`
}

// SessionLimits are the timeouts of sessions.
type SessionLimits struct {
	// Idle ends a session not used for this long.
	Idle time.Duration
	// Absolute ends a session this long after sign-in, used or not.
	Absolute time.Duration
}

// SessionService keeps the sessions of signed-in browsers.
type SessionService interface {
	// CreateSession starts a session for s.UserID and returns its secret;
	// sessions past the limits are removed.
	CreateSession(ctx context.Context, s *Session, limits SessionLimits) (secret string, err error)
	// FindSession returns the session of a secret and its user, and
	// records its use. An unknown or expired session, or one of a
	// disabled user, gives EUNAUTHORIZED; an expired one is removed.
	FindSession(ctx context.Context, secret string, limits SessionLimits) (*Session, *User, error)
	// DeleteSession ends the session of a secret (sign-out); an unknown
	// secret is no error.
	DeleteSession(ctx context.Context, secret string) error
	// DeleteUserSessions ends every session of a user but the one with
	// the ID except (0: all).
	DeleteUserSessions(ctx context.Context, userID, except int64) error
}

package ipdesk

import (
	"context"
	"time"
)

// User is a person (or a program) that signs in to ipdesk.
type User struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	// Admin users may do everything.
	Admin    bool `json:"admin"`
	Disabled bool `json:"disabled"`
	// Language is the user's UI language ("en", "de", "ru"); "" follows
	// the browser.
	Language string `json:"language"`
	// Directory is where the user signs in: "" with a local password, or
	// DirectoryLDAP or DirectoryOIDC for a user whose record ipdesk keeps
	// from the directory (no local password).
	Directory string `json:"directory"`
	Version   int64  `json:"version"`
	Timestamps
	// Token is the API token the user was found by (FindUserByToken);
	// nil otherwise. Never sent.
	Token *Token `json:"-"`
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// MaxPasswordLen bounds passwords so that hashing cannot be abused.
const MaxPasswordLen = 1024

// Validate checks the fields of u.
func (u *User) Validate() error {
	if err := ValidateName("name", u.Name); err != nil {
		return err
	}
	for _, r := range u.Name {
		if r == ' ' || r == '/' || r == ':' {
			return FieldErrorf(EINVALID, "name", "name %q contains %q; user names have no blanks, slashes or colons", clip(u.Name), string(r))
		}
	}
	if err := ValidateText("full_name", u.FullName, MaxNameLen); err != nil {
		return err
	}
	return ValidateLanguage(u.Language)
}

// Languages are the languages of the UI; the first is the default.
var Languages = []string{"en", "de", "ru"}

// ValidateLanguage checks a language choice: one of Languages, or "".
func ValidateLanguage(lang string) error {
	if lang == "" {
		return nil
	}
	for _, l := range Languages {
		if l == lang {
			return nil
		}
	}
	return FieldErrorf(EINVALID, "language", "language %q is not one of en, de, ru", clip(lang))
}

// ValidatePassword checks a new password's length.
func ValidatePassword(pw string) error {
	if n := len([]rune(pw)); n < MinPasswordLen {
		return FieldErrorf(EINVALID, "password", "password has %d characters; at least %d are needed", n, MinPasswordLen)
	}
	if len(pw) > MaxPasswordLen {
		return FieldErrorf(EINVALID, "password", "password is longer than %d bytes", MaxPasswordLen)
	}
	return nil
}

// Token is an API token. Its secret is shown once, at creation; only a hash
// is stored.
type Token struct {
	ID          int64      `json:"id"`
	UserID      int64      `json:"user_id"`
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	// Scope limits what the token may do besides its user's rights.
	Scope TokenScope `json:"scope"`
	// ExpiresAt ends the token; nil: it lasts until revoked.
	ExpiresAt *time.Time `json:"expires_at"`
}

// TokenScope limits an API token.
type TokenScope string

// Token scopes.
const (
	// ScopeFull may do whatever the user may.
	ScopeFull TokenScope = "full"
	// ScopeRead may only read (GET and HEAD requests).
	ScopeRead TokenScope = "read"
	// ScopePBX may only report calls (GET /set_call, POST /api/v1/calls,
	// as a PBX token; its user must be an administrator) and use the
	// call API (/api/v1/calls…) with the user's rights.
	ScopePBX TokenScope = "pbx"
)

// TokenScopes are the scopes, the widest first.
var TokenScopes = []TokenScope{ScopeFull, ScopeRead, ScopePBX}

// ValidateTokenScope checks a scope.
func ValidateTokenScope(s TokenScope) error {
	for _, v := range TokenScopes {
		if s == v {
			return nil
		}
	}
	return FieldErrorf(EINVALID, "scope", "scope %q is not one of full, read, pbx", clip(string(s)))
}

// TokenSpec describes a new API token.
type TokenSpec struct {
	Description string
	// Scope is the token's scope; "" means ScopeFull.
	Scope TokenScope
	// ExpiresAt, if set, ends the token; it must lie in the future.
	ExpiresAt *time.Time
}

// Expired reports whether t has expired at now.
func (t *Token) Expired(now time.Time) bool {
	return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)
}

// UserUpdate holds the fields to change; nil fields stay as they are.
type UserUpdate struct {
	FullName *string `json:"full_name"`
	Admin    *bool   `json:"admin"`
	Disabled *bool   `json:"disabled"`
	Language *string `json:"language"`
	Version  *int64  `json:"-"`
}

// UserService manages users, their passwords and API tokens.
type UserService interface {
	FindUserByID(ctx context.Context, id int64) (*User, error)
	FindUserByName(ctx context.Context, name string) (*User, error)
	FindUsers(ctx context.Context, p Page) ([]*User, int, error)
	CountUsers(ctx context.Context) (int, error)
	CreateUser(ctx context.Context, u *User, password string) error
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) (*User, error)
	SetPassword(ctx context.Context, id int64, password string) error
	// Authenticate returns the enabled user with this name and password,
	// or EUNAUTHORIZED.
	Authenticate(ctx context.Context, name, password string) (*User, error)
	// CreateToken makes a new API token for the user, of full scope and
	// without expiry, and returns its secret.
	CreateToken(ctx context.Context, userID int64, description string) (string, *Token, error)
	// CreateScopedToken makes a new API token as spec says and returns
	// its secret.
	CreateScopedToken(ctx context.Context, userID int64, spec TokenSpec) (string, *Token, error)
	// FindUserByToken returns the enabled user a token secret belongs to,
	// with User.Token set to the token, or EUNAUTHORIZED (also for an
	// expired token).
	FindUserByToken(ctx context.Context, secret string) (*User, error)
	// FindTokens returns the API tokens of a user, the newest first
	// (never their secrets).
	FindTokens(ctx context.Context, userID int64) ([]*Token, error)
	// DeleteToken revokes token id of user userID at once; a token of
	// another user is ENOTFOUND.
	DeleteToken(ctx context.Context, userID, id int64) error
}

// MaxTokensPerUser bounds the API tokens one user may hold.
const MaxTokensPerUser = 100

// TOTPService keeps the second factor of local accounts: a TOTP secret
// (RFC 6238) and the time step of the last code used.
type TOTPService interface {
	// FindTOTP returns the user's secret ("" while two-factor is off) and
	// the step of the last code used.
	FindTOTP(ctx context.Context, userID int64) (secret string, lastStep int64, err error)
	// SetTOTP turns two-factor on with secret, or off with "", for a
	// local account; step is the step of the code that confirmed the
	// secret (it counts as used). The audit entry never holds the secret.
	SetTOTP(ctx context.Context, userID int64, secret string, step int64) error
	// UseTOTPStep records that the code of step was used; a step not
	// after the last one used gives EUNAUTHORIZED (a replayed code), also
	// when two sign-ins race.
	UseTOTPStep(ctx context.Context, userID int64, step int64) error
}

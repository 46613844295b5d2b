// Package ipdesk holds the domain of ipdesk: address spaces, prefixes,
// addresses with their host fields, locations, access levels, users and the
// audit log, the rules that apply to them, and the service interfaces that
// the storage implements. It does no I/O and imports no project package.
package ipdesk

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// Warning is a message about an accepted change that the user should know
// of, such as a prefix overlapping one in another space.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`

	// Format and Args are the message before formatting, as in Error:
	// Format is the message's key in the translations.
	Format string `json:"-"`
	Args   []any  `json:"-"`
}

// Warnf returns a Warning with the given code and a formatted message.
func Warnf(code, format string, args ...any) Warning {
	return Warning{Code: code, Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}

// Warning codes.
const (
	WOverlapOtherSpace = "overlap_other_space"
	WDuplicateHostname = "duplicate_hostname"
)

// AddrRange is an inclusive range of addresses of one family.
type AddrRange struct {
	From netip.Addr `json:"from"`
	To   netip.Addr `json:"to"`
}

// Page selects a window of a list. Limit 0 means the default.
type Page struct {
	Offset int
	Limit  int
}

// Page limits.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Normalize returns p with its limit and offset clamped to the allowed range.
func (p Page) Normalize() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultLimit
	}
	if p.Limit > MaxLimit {
		p.Limit = MaxLimit
	}
	if p.Offset < 0 {
		p.Offset = 0
	}
	return p
}

type contextKey int

const actorKey contextKey = iota

// NewContextWithActor returns a context that carries the user on whose behalf
// changes are made; the audit log records that user.
func NewContextWithActor(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, actorKey, u)
}

// ActorFromContext returns the user carried by ctx, or nil.
func ActorFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(actorKey).(*User)
	return u
}

// ActorName returns the name recorded in the audit log for ctx: the user's
// name, or "system" for changes ipdesk makes by itself.
func ActorName(ctx context.Context) string {
	if u := ActorFromContext(ctx); u != nil {
		return u.Name
	}
	return "system"
}

// DeleteOptions qualify a delete.
type DeleteOptions struct {
	// Cascade also removes what the object holds (prefixes, addresses);
	// without it an object that holds anything is refused.
	Cascade bool
	// Version, if set, makes the delete conditional on the stored version
	// (optimistic concurrency), checked in the deleting transaction.
	Version *int64
}

// Timestamps are set by the storage.
type Timestamps struct {
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

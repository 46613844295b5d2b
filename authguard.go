package ipdesk

import (
	"context"
	"errors"
	"sync"
)

// ErrAuthChanged is the failure of a write whose AuthGuard found the
// authentication epoch moved on: the credentials or permissions the
// request was let in with may no longer hold. Nothing of the write is
// stored.
var ErrAuthChanged = errors.New("users, groups, grants, tokens or sessions changed while the request was checked")

// AuthGuard lets a request be checked against cached credentials and
// permissions without reading the authentication epoch first: the
// store's writes made for it check, in their own transaction, that the
// epoch is still Epoch, the one the cache was filled at, and fail with
// ErrAuthChanged otherwise. A write that committed confirms the guard, and
// so does a read that carries the epoch along and finds it Epoch: the
// request was let in on credentials that held after it arrived.
type AuthGuard struct {
	// Epoch is the authentication epoch the request was checked at.
	Epoch int64

	mu        sync.Mutex
	confirmed bool // a committed write or a read found Epoch current
	unsure    bool // a write may have committed unchecked (its commit failed)
}

// Confirm records that the epoch was found to be Epoch after the request
// arrived: a write checked it and committed, or a read saw it.
func (g *AuthGuard) Confirm() {
	g.mu.Lock()
	g.confirmed = true
	g.mu.Unlock()
}

// Unsure records that a write of the request may have committed without
// the caller knowing (its commit failed on the way): the request must not
// run again.
func (g *AuthGuard) Unsure() {
	g.mu.Lock()
	g.unsure = true
	g.mu.Unlock()
}

// State reports whether a write confirmed the guard, and whether one may
// have committed unconfirmed.
func (g *AuthGuard) State() (confirmed, unsure bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.confirmed, g.unsure
}

const authGuardKey contextKey = actorKey + 1

// WithAuthGuard returns a context whose writes check g (see AuthGuard).
func WithAuthGuard(ctx context.Context, g *AuthGuard) context.Context {
	return context.WithValue(ctx, authGuardKey, g)
}

// AuthGuardFrom returns the guard of ctx's writes, or nil.
func AuthGuardFrom(ctx context.Context) *AuthGuard {
	g, _ := ctx.Value(authGuardKey).(*AuthGuard)
	return g
}

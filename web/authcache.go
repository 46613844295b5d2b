package web

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"ipdesk"
	"ipdesk/internal/sharedread"
)

// authEpochs is what a store offers for caching credentials and
// permissions: a number that moves on with every committed change to
// users, groups, memberships, grants, API tokens and with the end of a
// session, by whichever process made it (sqldb.DB implements it). Without
// it the server asks the store on every request.
type authEpochs interface {
	AuthEpoch(ctx context.Context) (int64, error)
}

// Bounds of the authentication cache.
const (
	// authCacheMax bounds each of the cache's maps; a full map is
	// emptied and fills again.
	authCacheMax = 4096
	// authRecheck is how often a cached token or session is checked by
	// the store again, which records its last use (the store writes it
	// at most once a minute) and sees a session's use on other
	// instances.
	authRecheck = time.Minute
)

// authCache keeps, for the auth epoch it was filled at, the users of API
// tokens and sessions and the users' permissions, so that a request costs
// one read of the epoch instead of the credential and permission queries.
// A change of the epoch empties it: a disabled user, a revoked token, an
// ended session or a changed group or grant take effect on the next
// request, whichever instance made the change.
//
// A request reads the epoch first, then consults the cache or the store;
// what it read from the store is kept only while the cache is still at
// the epoch the request read, so nothing read before a change is served
// after it.
type authCache struct {
	store authEpochs // nil: no caching
	reads epochReads

	mu       sync.Mutex
	epoch    int64
	filled   bool // epoch is set
	tokens   map[[sha256.Size]byte]*cachedCred
	sessions map[[sha256.Size]byte]*cachedCred
	perms    map[int64]*ipdesk.Permissions
}

// cachedCred is a credential's user (and session) as the store last
// returned them.
type cachedCred struct {
	user    ipdesk.User
	session ipdesk.Session // sessions only
	checked time.Time      // when the store returned them
}

func newAuthCache(store ipdesk.Store) *authCache {
	c := &authCache{}
	c.store, _ = store.(authEpochs)
	if c.store != nil {
		c.reads.read = c.store.AuthEpoch
	}
	return c
}

// readEpoch returns the current epoch and true, or false when the store
// cannot cache (or the epoch could not be read: the caller asks the store
// itself, which reports the failure).
func (c *authCache) readEpoch(ctx context.Context) (int64, bool) {
	if c.store == nil {
		return 0, false
	}
	e, err := c.reads.get(ctx)
	if err != nil {
		return 0, false
	}
	return e, true
}

// current returns the epoch the cache is at, and false when it caches
// nothing (no epoch read yet, or a store that cannot cache).
func (c *authCache) current() (int64, bool) {
	if c.store == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch, c.filled
}

// at moves the cache to epoch e, emptying it if it was at another one. It
// must be called with mu held.
func (c *authCache) at(e int64) {
	if c.filled && c.epoch == e {
		return
	}
	c.epoch, c.filled = e, true
	c.tokens, c.sessions, c.perms = nil, nil, nil
}

// credential returns the cached credential of key read at epoch e, or nil.
func (c *authCache) credential(sessions bool, key [sha256.Size]byte, e int64) *cachedCred {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at(e)
	if sessions {
		return c.sessions[key]
	}
	return c.tokens[key]
}

// keepCredential caches what the store returned for key after the epoch e
// was read.
func (c *authCache) keepCredential(sessions bool, key [sha256.Size]byte, e int64, cred *cachedCred) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.filled || c.epoch != e {
		return
	}
	m := &c.tokens
	if sessions {
		m = &c.sessions
	}
	if *m == nil || len(*m) >= authCacheMax {
		*m = map[[sha256.Size]byte]*cachedCred{}
	}
	(*m)[key] = cred
}

// permissions returns the cached permissions of a user read at epoch e,
// or nil.
func (c *authCache) permissions(userID, e int64) *ipdesk.Permissions {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at(e)
	return c.perms[userID]
}

// keepPermissions caches a user's permissions read after epoch e was read.
func (c *authCache) keepPermissions(userID, e int64, p *ipdesk.Permissions) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.filled || c.epoch != e {
		return
	}
	if c.perms == nil || len(c.perms) >= authCacheMax {
		c.perms = map[int64]*ipdesk.Permissions{}
	}
	c.perms[userID] = p
}

// tokenUser returns the enabled user of an API token, from the cache when
// it is current; st receives the epoch for the permission lookup.
func (s *Server) tokenUser(ctx context.Context, token string, st *authState) (*ipdesk.User, error) {
	e, ok := s.auth.readEpoch(ctx)
	if !ok {
		return s.store.FindUserByToken(ctx, token)
	}
	st.epoch, st.epochOK = e, true
	key := sha256.Sum256([]byte(token))
	now := s.now()
	if c := s.auth.credential(false, key, e); c != nil && s.usable(c, false, now) {
		u := c.user
		return &u, nil
	}
	u, err := s.store.FindUserByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	s.auth.keepCredential(false, key, e, &cachedCred{user: *u, checked: now})
	return u, nil
}

// sessionUser returns a live session and its enabled user, from the cache
// when it is current and the session is neither due to be recorded as
// used nor near a limit by what the cache knows; st receives the epoch.
func (s *Server) sessionUser(ctx context.Context, secret string, st *authState) (*ipdesk.Session, *ipdesk.User, error) {
	e, ok := s.auth.readEpoch(ctx)
	if !ok {
		return s.store.FindSession(ctx, secret, s.sessionLimits)
	}
	st.epoch, st.epochOK = e, true
	key := sha256.Sum256([]byte(secret))
	now := s.now()
	if c := s.auth.credential(true, key, e); c != nil && s.usable(c, true, now) {
		sess, u := c.session, c.user
		return &sess, &u, nil
	}
	sess, u, err := s.store.FindSession(ctx, secret, s.sessionLimits)
	if err != nil {
		return nil, nil, err
	}
	s.auth.keepCredential(true, key, e, &cachedCred{user: *u, session: *sess, checked: now})
	return sess, u, nil
}

// usable tells whether a cached credential may be used without the store
// at now: it was checked within authRecheck, and a session is neither due
// to be recorded as used nor near a limit by what the cache knows.
func (s *Server) usable(c *cachedCred, session bool, now time.Time) bool {
	if now.Sub(c.checked) >= authRecheck {
		return false
	}
	return !session || now.Sub(c.session.LastSeen) < s.sessionLimits.Idle && now.Sub(c.session.CreatedAt) < s.sessionLimits.Absolute
}

// userPermissions returns what the user of st may do, from the cache when
// it is current.
func (s *Server) userPermissions(ctx context.Context, st *authState) (*ipdesk.Permissions, error) {
	if !st.epochOK {
		return s.store.FindPermissions(ctx, st.user)
	}
	if p := s.auth.permissions(st.user.ID, st.epoch); p != nil {
		return p, nil
	}
	p, err := s.store.FindPermissions(ctx, st.user)
	if err != nil {
		return nil, err
	}
	s.auth.keepPermissions(st.user.ID, st.epoch, p)
	return p, nil
}

// epochReadTimeout bounds one shared read of the epoch.
const epochReadTimeout = 10 * time.Second

// epochReads shares reads of the auth epoch between concurrent requests
// without giving any of them an older value than a read of its own would
// (see sharedread): under load a read of the epoch serves many requests,
// and a change committed before a request arrived is always seen by it.
type epochReads struct {
	read func(ctx context.Context) (int64, error)
	q    sharedread.Queue[epochRead]
}

// epochRead is what one read of the epoch found.
type epochRead struct {
	epoch int64
	err   error
}

// get returns an epoch read that started after get was called.
func (r *epochReads) get(ctx context.Context) (int64, error) {
	rd := r.q.Join(nil, r.run)
	if err := rd.Wait(ctx); err != nil {
		return 0, err
	}
	return rd.R.epoch, rd.R.err
}

// run performs one read of the epoch.
func (r *epochReads) run(e *epochRead) {
	ctx, cancel := context.WithTimeout(context.Background(), epochReadTimeout)
	defer cancel()
	e.epoch, e.err = r.read(ctx)
}

package web

// The rights of requests, for the API and the pages alike: who may do
// what to which object (authorize, which the route tables of both declare),
// the finer checks of handlers whose form names more (the may* helpers),
// and what a user is shown of lists, calls and messages (scope,
// callViewer, visibleWarnings). Every rights decision lives in this file.

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"ipdesk"
)

// action is what a request does, as far as rights are concerned.
type action int

const (
	actPublic   action = iota // no credentials needed
	actRead                   // look at objects
	actWrite                  // create, change or delete objects
	actHelpdesk               // see and handle caller-ID calls: the helpdesk role
	actOverride               // override the timetable of the room obj.ID: the room-override right
)

func (a action) String() string {
	switch a {
	case actRead:
		return "read"
	case actWrite:
		return "write"
	case actHelpdesk:
		return "helpdesk"
	case actOverride:
		return "override"
	}
	return "public"
}

// right is the right on an object that an action needs.
func (a action) right() ipdesk.Right {
	switch a {
	case actWrite:
		return ipdesk.RightEdit
	case actOverride:
		return ipdesk.RightOverride
	}
	return ipdesk.RightView
}

// object names what a request acts on: an audit object type such as
// ipdesk.ObjectPrefix, and the object's id when the request names one.
type object struct {
	Type string
	ID   int64
}

// Object types handed to authorize that are not stored objects.
const (
	objectMe        = "me"         // the calling user
	objectAudit     = "audit"      // the audit log
	objectOutput    = "output"     // the config outputs
	objectApplyRun  = "apply_run"  // the history of applies
	objectRoomState = "room_state" // the occupancy view of the rooms
	objectLogbook   = "logbook"    // the switching logbook
)

// maxTokenLen bounds the bearer token looked up in the store.
const maxTokenLen = 512

// authKey keys the request's authState in its context.
type authKey struct{}

// authState is who a request comes from and, once asked for, what they
// may do. It lives for one request.
type authState struct {
	user    *ipdesk.User
	session *ipdesk.Session // nil for API tokens
	// perms may be shared with other requests through the cache: read
	// only.
	perms *ipdesk.Permissions
	// epoch is the auth epoch read when the credential was checked;
	// epochOK says it was read, so that the permissions may come from
	// the cache (see authCache).
	epoch   int64
	epochOK bool
	// address is the address authorize read to decide on it, for the
	// handler that would read it again.
	address *ipdesk.Address
}

// authorizedAddress returns the address id as authorize read it for this
// request, or nil.
func authorizedAddress(ctx context.Context, id int64) *ipdesk.Address {
	if st := authOf(ctx); st != nil && st.address != nil && st.address.ID == id {
		return st.address
	}
	return nil
}

// withAuth returns ctx carrying the user of st (as the actor of changes)
// and st as the request's auth state.
func withAuth(ctx context.Context, st *authState) context.Context {
	ctx = ipdesk.NewContextWithActor(ctx, st.user)
	setLogUser(ctx, st.user.Name)
	return context.WithValue(ctx, authKey{}, st)
}

// authOf returns the auth state of ctx, or nil.
func authOf(ctx context.Context) *authState {
	st, _ := ctx.Value(authKey{}).(*authState)
	return st
}

// authenticate returns who the request comes from: the user of its bearer
// token, or else of its session cookie. A missing, malformed or unknown
// credential gives EUNAUTHORIZED.
func (s *Server) authenticate(ctx context.Context, r *http.Request) (*authState, error) {
	st := &authState{}
	h := r.Header.Get("Authorization")
	if h == "" {
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			sess, u, err := s.sessionUser(ctx, c.Value, st)
			if err != nil {
				return nil, err
			}
			st.user, st.session = u, sess
			return st, nil
		}
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "authentication required: send the header \"Authorization: Bearer <token>\"")
	}
	token, err := bearerToken(h)
	if err != nil {
		return nil, err
	}
	u, err := s.tokenUser(ctx, token, st)
	if err != nil {
		if ipdesk.ErrorCode(err) == ipdesk.EUNAUTHORIZED {
			return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the bearer token is not valid")
		}
		return nil, err
	}
	if u.Disabled {
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the bearer token is not valid")
	}
	st.user = u
	return st, nil
}

// bearerToken returns the token of an Authorization header, or
// EUNAUTHORIZED when it is not one the store could know.
func bearerToken(h string) (string, error) {
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the Authorization header must have the form \"Bearer <token>\"")
	}
	if len(token) > maxTokenLen {
		return "", ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the bearer token is not valid")
	}
	return token, nil
}

// permissions returns what the actor of ctx may do, read once per request.
func (s *Server) permissions(ctx context.Context) (*ipdesk.Permissions, error) {
	st := authOf(ctx)
	if st == nil {
		u := ipdesk.ActorFromContext(ctx)
		if u == nil {
			return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "authentication required")
		}
		return s.store.FindPermissions(ctx, u)
	}
	if st.perms == nil {
		p, err := s.userPermissions(ctx, st)
		if err != nil {
			return nil, err
		}
		st.perms = p
	}
	return st.perms, nil
}

// forbidden returns the EFORBIDDEN error of a user who may see an object
// but not do act to it.
func forbidden(u *ipdesk.User, act action, what string) error {
	verb := "change"
	switch act {
	case actOverride:
		verb = "override the timetable of"
	case actHelpdesk:
		verb = "handle"
	case actRead:
		verb = "see"
	}
	return ipdesk.Errorf(ipdesk.EFORBIDDEN, "user %q may not %s %s; ask an administrator for the right", u.Name, verb, what)
}

// hidden returns the ENOTFOUND error for an object the user may not know
// of: the same answer as for one that does not exist.
func hidden(objectType string, id int64) error {
	return ipdesk.Errorf(ipdesk.ENOTFOUND, "%s %d does not exist", strings.ReplaceAll(objectType, "_", " "), id)
}

// authorize decides whether the actor of ctx may do act to obj. It is the
// one place where rights are decided, for the API and the UI alike: no
// right gives 403, or 404 for an object the user may not know of; view
// rights allow reading, edit rights changing. For a list (obj.ID 0 with
// actRead) it only checks that the user may list that kind at all; the
// handler narrows the list with scope. A create (obj.ID 0 with actWrite)
// of an object that lives inside another is checked by the handler with
// mayAddress, mayPrefix or mayLocation once the body names where.
func (s *Server) authorize(ctx context.Context, act action, obj object) error {
	if act == actPublic {
		return nil
	}
	u := ipdesk.ActorFromContext(ctx)
	if u == nil {
		return ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "authentication required")
	}
	if u.Disabled {
		return ipdesk.Errorf(ipdesk.EFORBIDDEN, "user %q is disabled", u.Name)
	}
	p, err := s.permissions(ctx)
	if err != nil {
		return err
	}
	if p.Admin {
		return nil
	}
	switch act {
	case actHelpdesk:
		if p.Helpdesk {
			return nil
		}
		return forbidden(u, act, "caller-ID calls (the helpdesk role)")
	case actOverride:
		return s.mayLocationID(ctx, obj.ID, ipdesk.RightOverride)
	}
	want := act.right()
	switch obj.Type {
	case ipdesk.ObjectSpace:
		switch {
		case obj.ID != 0 && !p.KnowsSpace(obj.ID):
			return hidden(obj.Type, obj.ID)
		case obj.ID != 0 && act == actWrite && !p.CanSpace(obj.ID, ipdesk.RightEdit):
			return forbidden(u, act, "this address space")
		case obj.ID == 0 && act == actWrite && !p.CreateSpaces:
			return forbidden(u, act, "address spaces (creating them needs a group that may create spaces)")
		}
		return nil
	case ipdesk.ObjectPrefix:
		if obj.ID == 0 {
			return nil // lists are scoped, creates checked by the handler
		}
		pfx, err := s.store.FindPrefixByID(ctx, obj.ID)
		if err != nil {
			return err
		}
		if err := s.mayPrefix(ctx, pfx.SpaceID, pfx.Prefix, ipdesk.RightView); err != nil {
			return hidden(obj.Type, obj.ID)
		}
		return s.mayPrefix(ctx, pfx.SpaceID, pfx.Prefix, want)
	case ipdesk.ObjectAddress:
		if obj.ID == 0 {
			return nil
		}
		a, err := s.store.FindAddressByID(ctx, obj.ID)
		if err != nil {
			return err
		}
		if err := s.mayAddress(ctx, a.SpaceID, a.Addr, ipdesk.RightView); err != nil {
			return hidden(obj.Type, obj.ID)
		}
		if err := s.mayAddress(ctx, a.SpaceID, a.Addr, want); err != nil {
			return err
		}
		if st := authOf(ctx); st != nil {
			st.address = a
		}
		return nil
	case ipdesk.ObjectLocation:
		if obj.ID == 0 {
			return nil
		}
		return s.mayLocationID(ctx, obj.ID, want)
	case ipdesk.ObjectAccessLevel:
		if act == actRead {
			return nil // every user sees the level names
		}
		return forbidden(u, act, "access levels (administrators only)")
	case objectMe:
		return nil
	case objectAudit:
		if act == actRead {
			return nil // listAuditEntries narrows it to what the user may see
		}
		return forbidden(u, act, "the audit log")
	case ipdesk.ObjectUser, ipdesk.ObjectToken:
		// Users manage themselves through /me; others are for admins.
		if obj.ID == u.ID && act == actRead {
			return nil
		}
		return forbidden(u, act, "users (administrators only)")
	case ipdesk.ObjectPeriod, ipdesk.ObjectHoliday, ipdesk.ObjectLesson:
		// The bell schedule, holidays and lessons are the school's plan:
		// every user sees it, administrators change it.
		if act == actRead {
			return nil
		}
		return forbidden(u, act, "the timetable (administrators only; teachers override single periods)")
	case objectRoomState, objectLogbook, ipdesk.ObjectOverride, ipdesk.ObjectNowOverride:
		if act == actRead {
			return nil // the occupancy view and the logbook are for everyone
		}
	case ipdesk.ObjectRoomPolicy:
		if act == actRead {
			return nil
		}
		err := s.mayLocationID(ctx, obj.ID, ipdesk.RightEdit)
		if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
			// The room is in everybody's occupancy view: known, not
			// changeable.
			if l, lerr := s.store.FindLocationByID(ctx, obj.ID); lerr == nil && l.Kind == ipdesk.LocationRoom {
				return forbidden(u, act, "the policy of room "+strconv.Quote(l.Name))
			}
		}
		return err
	case objectOutput, objectApplyRun:
		if act == actRead && p.ViewAll {
			return nil
		}
		return forbidden(u, act, strings.ReplaceAll(obj.Type, "_", " ")+"s (administrators, and for reading groups that see everything)")
	}
	// Groups, grants and every other kind of object: administrators only.
	return forbidden(u, act, strings.ReplaceAll(obj.Type, "_", " ")+"s (administrators only)")
}

// mayPrefix checks that the actor of ctx has want on a prefix of a space
// (for a new prefix: on the space, or on a prefix that will contain it).
// Without the right the answer is 403 where the user knows the space,
// 404 elsewhere; authorize hides existing objects the user cannot see.
func (s *Server) mayPrefix(ctx context.Context, spaceID int64, prefix netip.Prefix, want ipdesk.Right) error {
	p, err := s.permissions(ctx)
	if err != nil {
		return err
	}
	r := p.PrefixRightOf(spaceID, prefix)
	switch {
	case r.Allows(want):
		return nil
	case r.Allows(ipdesk.RightView) || p.KnowsSpace(spaceID):
		return forbidden(ipdesk.ActorFromContext(ctx), actWrite, "prefix "+prefix.String())
	}
	return ipdesk.Errorf(ipdesk.ENOTFOUND, "prefix %s does not exist in space %d", prefix, spaceID)
}

// mayAddress checks that the actor of ctx has want on the address record
// at addr in a space (for a new record: where it will be).
func (s *Server) mayAddress(ctx context.Context, spaceID int64, addr netip.Addr, want ipdesk.Right) error {
	p, err := s.permissions(ctx)
	if err != nil {
		return err
	}
	r := p.AddressRightOf(spaceID, addr)
	switch {
	case r.Allows(want):
		return nil
	case r.Allows(ipdesk.RightView) || p.KnowsSpace(spaceID):
		return forbidden(ipdesk.ActorFromContext(ctx), actWrite, "address "+addr.String())
	}
	return ipdesk.Errorf(ipdesk.ENOTFOUND, "address %s does not exist in space %d", addr, spaceID)
}

// locationAncestors returns the parents of a location, the nearest first.
func (s *Server) locationAncestors(ctx context.Context, l *ipdesk.Location) ([]int64, error) {
	var out []int64
	for parent := l.ParentID; parent != 0 && len(out) < 8; {
		out = append(out, parent)
		pl, err := s.store.FindLocationByID(ctx, parent)
		if err != nil {
			return nil, err
		}
		parent = pl.ParentID
	}
	return out, nil
}

// mayLocationID checks that the actor of ctx has want on the location id.
func (s *Server) mayLocationID(ctx context.Context, id int64, want ipdesk.Right) error {
	l, err := s.store.FindLocationByID(ctx, id)
	if err != nil {
		return err
	}
	return s.mayLocation(ctx, l, want)
}

// mayLocation checks that the actor of ctx has want on l (for a new
// location: on its parent).
func (s *Server) mayLocation(ctx context.Context, l *ipdesk.Location, want ipdesk.Right) error {
	p, err := s.permissions(ctx)
	if err != nil {
		return err
	}
	if p.Admin {
		return nil
	}
	anc, err := s.locationAncestors(ctx, l)
	if err != nil {
		return err
	}
	r := p.LocationRightOf(l.ID, anc)
	switch {
	case r.Allows(want):
		return nil
	case r.Allows(ipdesk.RightView) || (want == ipdesk.RightOverride && l.Kind == ipdesk.LocationRoom):
		// Every user sees the rooms in the occupancy view, so a refused
		// override of a room is 403, not 404.
		act := actWrite
		if want == ipdesk.RightOverride {
			act = actOverride
		}
		return forbidden(ipdesk.ActorFromContext(ctx), act, "location "+strconv.Quote(l.Name))
	}
	return hidden("location", l.ID)
}

// scope returns the part of the address plan the actor of ctx may see,
// for narrowing lists; nil when it is everything.
func (s *Server) scope(ctx context.Context, want ipdesk.Right) (*ipdesk.Scope, error) {
	p, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	sc := p.ScopeFor(want)
	if sc.All {
		return nil, nil
	}
	return &sc, nil
}

// locationScope returns the locations the actor of ctx may see, for
// narrowing lists; nil when it is every location.
func (s *Server) locationScope(ctx context.Context) (*[]int64, error) {
	p, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	roots, all := p.LocationScope(ipdesk.RightView)
	if all {
		return nil, nil
	}
	if roots == nil {
		roots = []int64{}
	}
	return &roots, nil
}

// callViewer narrows the matches of calls to what a helpdesk user may
// see. The matches are stored as they were at the time of the call, for
// every host of every space; a user who may not see a host learns only
// the room and the person (the locations and people of the matches),
// not the host's address, MAC, name, owner or phone.
type callViewer struct {
	p *ipdesk.Permissions
}

// callViewer returns the viewer of the actor of ctx; nil when the actor
// may see every host, so that nothing is narrowed.
func (s *Server) callViewer(ctx context.Context) (*callViewer, error) {
	p, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	if p.Admin || p.ScopeFor(ipdesk.RightView).All {
		return nil, nil
	}
	return &callViewer{p: p}, nil
}

// call returns c as the viewer may see it: c itself for a nil viewer,
// else a copy without the hosts the viewer may not see. The count of
// matched hosts is the count of the hosts shown: the hosts beyond
// ipdesk.MaxCallHosts may lie anywhere.
func (v *callViewer) call(c *ipdesk.Call) *ipdesk.Call {
	if v == nil || c == nil {
		return c
	}
	out := *c
	out.Matches.Hosts = make([]ipdesk.CallHost, 0, len(c.Matches.Hosts))
	for _, h := range c.Matches.Hosts {
		if v.p.CanAddress(h.SpaceID, h.Addr, ipdesk.RightView) {
			out.Matches.Hosts = append(out.Matches.Hosts, h)
		}
	}
	out.Matches.HostsTotal = len(out.Matches.Hosts)
	return &out
}

// seesHosts tells whether the viewer may see any host at all, so that
// links to the hosts table can lead somewhere.
func (v *callViewer) seesHosts() bool {
	return v == nil || !v.p.ScopeFor(ipdesk.RightView).Empty()
}

// visibleWarnings returns the warnings of a change as the actor of ctx may
// read them: the store's warnings name other records (the hosts that share
// a hostname, the prefixes of other spaces that overlap), which only users
// who see everything may know of; others get the warning without the
// names.
func (s *Server) visibleWarnings(r *http.Request, ws []ipdesk.Warning) []ipdesk.Warning {
	if len(ws) == 0 {
		return warningsOrEmpty(nil)
	}
	p, err := s.permissions(r.Context())
	seesAll := err == nil && (p.Admin || p.ViewAll)
	cat := s.catalog(r)
	out := make([]ipdesk.Warning, len(ws))
	for i, w := range ws {
		if !seesAll {
			switch w.Code {
			case ipdesk.WDuplicateHostname:
				w = ipdesk.Warnf(w.Code, "the hostname is also used by other hosts")
			case ipdesk.WOverlapOtherSpace:
				w = ipdesk.Warnf(w.Code, "the prefix overlaps prefixes of other address spaces")
			default:
				w = ipdesk.Warnf(w.Code, "the change was stored with a warning (%s)", w.Code)
			}
		}
		if w.Format != "" {
			w.Message = cat.Errorf(w.Format, w.Args...)
		}
		out[i] = w
	}
	return out
}

// visibleSpaceConflict rewords the conflict of a space name taken by a
// space the actor of ctx may not know of: "taken by another address
// space", without the other space's id. Users who know the space get the
// store's message.
func (s *Server) visibleSpaceConflict(ctx context.Context, err error, name string) error {
	if ipdesk.ErrorCode(err) != ipdesk.ECONFLICT || ipdesk.ErrorField(err) != "name" {
		return err
	}
	p, perr := s.permissions(ctx)
	if perr != nil {
		return perr
	}
	if p.Admin {
		return err
	}
	spaces, _, ferr := s.store.FindSpaces(ctx, ipdesk.SpaceFilter{Name: &name, Page: ipdesk.Page{Limit: 1}})
	if ferr != nil {
		return ferr
	}
	if len(spaces) == 1 && p.KnowsSpace(spaces[0].ID) {
		return err
	}
	return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "name", "name %q is taken by another address space", name)
}

// mayPlaceHost checks that the actor of ctx may put a host at a's address
// and in a's room: edit on the address, view on the room.
func (s *Server) mayPlaceHost(ctx context.Context, a *ipdesk.Address) error {
	if a.Addr.IsValid() {
		if err := s.mayAddress(ctx, a.SpaceID, a.Addr.Unmap(), ipdesk.RightEdit); err != nil {
			return err
		}
	}
	return s.mayUseLocation(ctx, a.LocationID)
}

// mayUpdateHost checks the parts of an update that reach beyond the
// record (whose edit right authorize checked): a new address needs edit
// there too, a new room view on it.
func (s *Server) mayUpdateHost(ctx context.Context, id int64, upd ipdesk.AddressUpdate) error {
	if upd.Addr != nil && upd.Addr.IsValid() {
		a, err := s.store.FindAddressByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.mayAddress(ctx, a.SpaceID, upd.Addr.Unmap(), ipdesk.RightEdit); err != nil {
			return err
		}
	}
	if upd.LocationID != nil {
		return s.mayUseLocation(ctx, *upd.LocationID)
	}
	return nil
}

// mayUseLocation checks that the actor of ctx may see the location a host
// is put in; 0 (no location) is always allowed. A location the user may
// not see is answered as one that does not exist.
func (s *Server) mayUseLocation(ctx context.Context, id int64) error {
	if id == 0 {
		return nil
	}
	if err := s.mayLocationID(ctx, id, ipdesk.RightView); err != nil {
		if c := ipdesk.ErrorCode(err); c == ipdesk.ENOTFOUND || c == ipdesk.EFORBIDDEN {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "location_id", "location_id %d: no such location", id)
		}
		return err
	}
	return nil
}

// mayReadAudit checks that the actor of ctx may read the audit entries f
// selects: the whole log is for administrators and groups that see
// everything; others may read the history of one object they may see.
func (s *Server) mayReadAudit(ctx context.Context, f ipdesk.AuditFilter) error {
	p, err := s.permissions(ctx)
	if err != nil {
		return err
	}
	if p.Admin || p.ViewAll {
		return nil
	}
	if f.ObjectType != nil && f.ObjectID != nil {
		switch *f.ObjectType {
		case ipdesk.ObjectSpace, ipdesk.ObjectPrefix, ipdesk.ObjectAddress, ipdesk.ObjectLocation:
			return s.authorize(ctx, actRead, object{Type: *f.ObjectType, ID: *f.ObjectID})
		}
	}
	return forbidden(ipdesk.ActorFromContext(ctx), actRead, "the whole audit log; ask for the history of one object (object_type and object_id) you may see")
}

// mayPlaceLocation checks that the actor of ctx may create or move a
// location under parent: edit on the parent; top-level locations
// (sites) are for administrators.
func (s *Server) mayPlaceLocation(ctx context.Context, parent int64) error {
	if parent == 0 {
		p, err := s.permissions(ctx)
		if err != nil {
			return err
		}
		if !p.Admin {
			return forbidden(ipdesk.ActorFromContext(ctx), actWrite, "top-level locations (administrators only)")
		}
		return nil
	}
	if err := s.mayLocationID(ctx, parent, ipdesk.RightEdit); err != nil {
		if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "parent_id", "parent_id %d: no such location", parent)
		}
		return err
	}
	return nil
}

// mayImport checks that the user may create or change hosts somewhere.
func (s *Server) mayImport(r *http.Request) error {
	perms, err := s.permissions(r.Context())
	if err != nil {
		return err
	}
	if perms.ScopeFor(ipdesk.RightEdit).Empty() {
		return forbidden(ipdesk.ActorFromContext(r.Context()), actWrite, "hosts (no group of yours may edit any part of the address plan)")
	}
	return nil
}

// mayPlan tells whether the user may change the bell schedule, the
// holidays and the lessons.
func (s *Server) mayPlan(ctx context.Context, objectType string) bool {
	return s.authorize(ctx, actWrite, object{Type: objectType}) == nil
}

// mayKnowLeftOut tells whether p may see the host or subnet at address
// (an IP address or a prefix) in a space.
func mayKnowLeftOut(p *ipdesk.Permissions, object string, spaceID int64, address string) bool {
	if p.Admin {
		return true
	}
	if object == ipdesk.ObjectPrefix {
		pfx, err := netip.ParsePrefix(address)
		return err == nil && p.CanPrefix(spaceID, pfx, ipdesk.RightView)
	}
	addr, err := netip.ParseAddr(address)
	return err == nil && p.CanAddress(spaceID, addr, ipdesk.RightView)
}

// mayKnowRecord tells whether p may see the stored address or prefix id.
func (s *Server) mayKnowRecord(ctx context.Context, p *ipdesk.Permissions, object string, id int64) bool {
	if object == ipdesk.ObjectPrefix {
		x, err := s.store.FindPrefixByID(ctx, id)
		return err == nil && p.CanPrefix(x.SpaceID, x.Prefix, ipdesk.RightView)
	}
	a, err := s.store.FindAddressByID(ctx, id)
	return err == nil && p.CanAddress(a.SpaceID, a.Addr, ipdesk.RightView)
}

package web

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"time"

	"ipdesk"
)

// route is one entry of the API's route table. The mux is registered from
// the table, requests are checked against it and the OpenAPI document is
// built from it.
type route struct {
	method  string
	path    string // ServeMux path; {name} segments are integer path parameters
	op      string // OpenAPI operationId
	tag     string
	summary string
	act     action
	pbx     bool   // reported by a PBX: a PBX token, not a user (see pbx.go)
	object  string // object type handed to authorize
	params  []param
	paged   bool // takes ?offset= and ?limit= (added to params by apiRoutes)
	body    *bodySpec
	reply   replySpec
	h       func(w http.ResponseWriter, r *http.Request) error
	// guarded: the request can be let in on cached credentials without
	// reading the auth epoch first, under an ipdesk.AuthGuard (see
	// serveConfirmed): the handler changes data only through the store's
	// write transactions, which on a store that confirms credentials
	// check the guard, and its answer waits until the guard is confirmed.
	guarded bool
}

// pattern returns the route's ServeMux pattern.
func (rt *route) pattern() string { return rt.method + " " + rt.path }

// pathParams returns the names of the {name} segments of the path.
func (rt *route) pathParams() []string {
	var names []string
	for _, seg := range strings.Split(rt.path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, seg[1:len(seg)-1])
		}
	}
	return names
}

// queryParams returns the declared query parameters, paging included.
func (rt *route) queryParams() []param { return rt.params }

// pagingParams are the query parameters of every paged route.
var pagingParams = []param{
	{name: "offset", typ: ptInt, desc: "number of results to skip"},
	{name: "limit", typ: ptInt, desc: "number of results to return (default 50, at most 1000)"},
}

// paramType is the type of a query parameter; the request parser enforces
// it and the OpenAPI document shows it.
type paramType int

const (
	ptString    paramType = iota
	ptInt                 // a whole number ≥ 0
	ptBool                // true or false
	ptIP                  // an IPv4 or IPv6 address
	ptCIDR                // a CIDR prefix
	ptMAC                 // a MAC address in any accepted form
	ptTime                // an RFC 3339 time
	ptEnum                // one of param.enum
	ptPrefixRef           // a prefix id or a CIDR prefix
	ptDate                // a day, YYYY-MM-DD
)

// param declares a query parameter.
type param struct {
	name string
	typ  paramType
	desc string
	enum []string
}

// bodySpec declares a request body: the Go type it is decoded into and
// which of its JSON members a client may send.
type bodySpec struct {
	name     string       // schema name in the OpenAPI document
	typ      reflect.Type // what the handler decodes into
	fields   []string     // accepted members; nil accepts every member of typ
	required []string     // members that must be present
	optional bool         // an empty body is allowed
}

// replyKind is the shape of a successful answer.
type replyKind int

const (
	replyNone     replyKind = iota // no body (204)
	replyObject                    // one JSON object of typ
	replyList                      // {"count", "offset", "limit", "results": [typ…]}
	replyWindow                    // {"offset", "limit", "results": [typ…]}
	replyText                      // text/plain
	replyDocument                  // an arbitrary JSON document
	replyCSV                       // text/csv
	replyStream                    // text/event-stream, open until the client goes
)

// replySpec declares a successful answer.
type replySpec struct {
	kind   replyKind
	status int
	typ    reflect.Type
	etag   bool // carries ETag: "<version>"
}

// Helpers that keep the route table short.

func qp(name string, t paramType, desc string) param { return param{name: name, typ: t, desc: desc} }

func qEnum(name, desc string, values ...string) param {
	return param{name: name, typ: ptEnum, desc: desc, enum: values}
}

func body[T any](name string, required []string, fields ...string) *bodySpec {
	return &bodySpec{name: name, typ: reflect.TypeFor[T](), fields: fields, required: required}
}

func optionalBody[T any](name string, fields ...string) *bodySpec {
	return &bodySpec{name: name, typ: reflect.TypeFor[T](), fields: fields, optional: true}
}

func one[T any](status int) replySpec {
	return replySpec{kind: replyObject, status: status, typ: reflect.TypeFor[T](), etag: true}
}

func list[T any]() replySpec {
	return replySpec{kind: replyList, status: http.StatusOK, typ: reflect.TypeFor[T]()}
}

func window[T any]() replySpec {
	return replySpec{kind: replyWindow, status: http.StatusOK, typ: reflect.TypeFor[T]()}
}

var noContent = replySpec{kind: replyNone, status: http.StatusNoContent}

// Fields a client may set when creating objects; the rest is set by the
// server.
var (
	spaceFields       = []string{"name", "description"}
	prefixFields      = []string{"space_id", "prefix", "kind", "description", "gateway", "dhcp", "vlan"}
	hostFields        = []string{"status", "mac", "hostname", "description", "owner", "phone", "location_id", "access_level", "dhcp_reservation"}
	addressFields     = append([]string{"space_id", "prefix_id", "address"}, hostFields...)
	locationFields    = []string{"parent_id", "kind", "name", "phones", "hostname_pattern", "description"}
	accessLevelFields = []string{"level", "name", "description"}
)

// addressSorts returns the sort orders of the address list, ascending and
// descending.
func addressSorts() []string {
	var out []string
	for _, f := range []string{"address", "hostname", "mac", "owner", "phone", "access_level", "status", "created_at", "updated_at", "id"} {
		out = append(out, f, "-"+f)
	}
	return out
}

// apiRoutes returns the route table.
func (s *Server) apiRoutes() []*route {
	routes := append(s.routeTable(), s.accountRoutes()...)
	for _, rt := range routes {
		if rt.paged {
			rt.params = append(rt.params[:len(rt.params):len(rt.params)], pagingParams...)
		}
	}
	return routes
}

// routeTable lists the routes.
func (s *Server) routeTable() []*route {
	cascade := qp("cascade", ptBool, "also delete everything inside")
	routes := []*route{
		{method: "GET", path: "/healthz", op: "health", tag: "system", summary: "Liveness: the server process answers (the database is not asked)",
			act: actPublic, reply: replySpec{kind: replyText, status: http.StatusOK}, h: s.health},
		{method: "GET", path: "/readyz", op: "ready", tag: "system", summary: "Readiness: the database answers and its schema is up to date (503 otherwise)",
			act: actPublic, reply: replySpec{kind: replyText, status: http.StatusOK}, h: s.ready},
		{method: "GET", path: "/api/v1/openapi.json", op: "getOpenAPI", tag: "system", summary: "This API's OpenAPI 3.1 document",
			act: actPublic, reply: replySpec{kind: replyDocument, status: http.StatusOK}, h: s.getOpenAPI},
		{method: "GET", path: "/api/v1/me", op: "getMe", tag: "system", summary: "The calling user",
			act: actRead, object: objectMe, reply: one[ipdesk.User](http.StatusOK), h: s.getMe},

		// Spaces.
		{method: "GET", path: "/api/v1/spaces", op: "listSpaces", tag: "spaces", summary: "List address spaces",
			act: actRead, object: ipdesk.ObjectSpace, paged: true,
			params: []param{qp("name", ptString, "exact name")},
			reply:  list[ipdesk.Space](), h: s.listSpaces},
		{method: "POST", path: "/api/v1/spaces", op: "createSpace", tag: "spaces", summary: "Create an address space",
			act: actWrite, object: ipdesk.ObjectSpace,
			body:  body[ipdesk.Space]("SpaceCreate", []string{"name"}, spaceFields...),
			reply: one[spaceResult](http.StatusCreated), h: s.createSpace},
		{method: "GET", path: "/api/v1/spaces/{id}", op: "getSpace", tag: "spaces", summary: "Get an address space",
			act: actRead, object: ipdesk.ObjectSpace, reply: one[ipdesk.Space](http.StatusOK), h: s.getSpace},
		{method: "PATCH", path: "/api/v1/spaces/{id}", op: "updateSpace", tag: "spaces", summary: "Change an address space",
			act: actWrite, object: ipdesk.ObjectSpace,
			body:  body[ipdesk.SpaceUpdate]("SpaceUpdate", nil),
			reply: one[spaceResult](http.StatusOK), h: s.updateSpace},
		{method: "DELETE", path: "/api/v1/spaces/{id}", op: "deleteSpace", tag: "spaces", summary: "Delete an address space",
			act: actWrite, object: ipdesk.ObjectSpace, params: []param{cascade}, reply: noContent, h: s.deleteSpace},

		// Prefixes.
		{method: "GET", path: "/api/v1/prefixes", op: "listPrefixes", tag: "prefixes", summary: "List prefixes in address order",
			act: actRead, object: ipdesk.ObjectPrefix, paged: true,
			params: []param{
				qp("space", ptInt, "space id"),
				qp("parent", ptInt, "direct children of this prefix id; 0 for top-level prefixes"),
				qEnum("kind", "prefix kind", string(ipdesk.PrefixContainer), string(ipdesk.PrefixSubnet)),
				qp("contains", ptIP, "prefixes that contain this address"),
				qp("within", ptCIDR, "prefixes equal to or inside this prefix"),
				qp("q", ptString, "matches the prefix text, description or VLAN"),
			},
			reply: list[ipdesk.Prefix](), h: s.listPrefixes},
		{method: "POST", path: "/api/v1/prefixes", op: "createPrefix", tag: "prefixes", summary: "Create a prefix",
			act: actWrite, object: ipdesk.ObjectPrefix,
			body:  body[ipdesk.Prefix]("PrefixCreate", []string{"space_id", "prefix"}, prefixFields...),
			reply: one[prefixResult](http.StatusCreated), h: s.createPrefix},
		{method: "GET", path: "/api/v1/prefixes/{id}", op: "getPrefix", tag: "prefixes", summary: "Get a prefix with its usage",
			act: actRead, object: ipdesk.ObjectPrefix, reply: one[prefixView](http.StatusOK), h: s.getPrefix},
		{method: "PATCH", path: "/api/v1/prefixes/{id}", op: "updatePrefix", tag: "prefixes", summary: "Change a prefix (gateway \"\" clears it)",
			act: actWrite, object: ipdesk.ObjectPrefix,
			body:  body[ipdesk.PrefixUpdate]("PrefixUpdate", nil),
			reply: one[prefixResult](http.StatusOK), h: s.updatePrefix},
		{method: "DELETE", path: "/api/v1/prefixes/{id}", op: "deletePrefix", tag: "prefixes", summary: "Delete a prefix",
			act: actWrite, object: ipdesk.ObjectPrefix, params: []param{cascade}, reply: noContent, h: s.deletePrefix},
		{method: "GET", path: "/api/v1/prefixes/{id}/available-addresses", op: "listAvailableAddresses", tag: "prefixes",
			summary: "The first free addresses of a subnet",
			act:     actRead, object: ipdesk.ObjectPrefix, paged: true,
			reply: window[freeAddress](), h: s.listAvailableAddresses},
		{method: "POST", path: "/api/v1/prefixes/{id}/available-addresses", op: "allocateAddress", tag: "prefixes",
			summary: "Take the first free address of a subnet (at or after \"from\") and store a host there",
			act:     actWrite, object: ipdesk.ObjectPrefix,
			body:  optionalBody[allocateAddressRequest]("AddressAllocate", append([]string{"from"}, hostFields...)...),
			reply: one[addressResult](http.StatusCreated), h: s.allocateAddress, guarded: true},
		{method: "GET", path: "/api/v1/prefixes/{id}/free-ranges", op: "listFreeRanges", tag: "prefixes",
			summary: "The unused address ranges of a prefix",
			act:     actRead, object: ipdesk.ObjectPrefix, paged: true,
			reply: window[freeRange](), h: s.listFreeRanges},
		{method: "GET", path: "/api/v1/prefixes/{id}/available-prefixes", op: "listAvailablePrefixes", tag: "prefixes",
			summary: "The largest free aligned prefixes of a container",
			act:     actRead, object: ipdesk.ObjectPrefix, paged: true,
			reply: window[freePrefix](), h: s.listAvailablePrefixes},
		{method: "POST", path: "/api/v1/prefixes/{id}/available-prefixes", op: "allocatePrefix", tag: "prefixes",
			summary: "Take the first free child prefix of the given length and store it",
			act:     actWrite, object: ipdesk.ObjectPrefix,
			body:  body[allocatePrefixRequest]("PrefixAllocate", []string{"prefix_length"}, "prefix_length", "kind", "description", "dhcp", "vlan"),
			reply: one[prefixResult](http.StatusCreated), h: s.allocatePrefix},

		// Addresses.
		{method: "GET", path: "/api/v1/addresses", op: "listAddresses", tag: "addresses", summary: "List addresses and their hosts",
			act: actRead, object: ipdesk.ObjectAddress, paged: true,
			params: []param{
				qp("space", ptInt, "space id"),
				qp("prefix", ptPrefixRef, "subnet id, or a CIDR prefix the addresses lie in"),
				qp("location", ptInt, "location id"),
				qp("access_level", ptInt, "internet access level"),
				qp("dhcp", ptBool, "DHCP reservation on or off"),
				qp("mac", ptMAC, "MAC address in any accepted form"),
				qp("address", ptIP, "exact address"),
				qp("hostname", ptString, "exact host name, case-insensitive"),
				qp("q", ptString, "matches the address (or its beginning), a MAC in any accepted form, and parts of host name, owner, phone and description"),
				qEnum("sort", "sort order (default address); a leading - sorts descending", addressSorts()...),
			},
			reply: list[ipdesk.Address](), h: s.listAddresses},
		{method: "POST", path: "/api/v1/addresses", op: "createAddress", tag: "addresses",
			summary: "Store a host at an address (the subnet is found from space_id or prefix_id)",
			act:     actWrite, object: ipdesk.ObjectAddress,
			body:  body[ipdesk.Address]("AddressCreate", []string{"address"}, addressFields...),
			reply: one[addressResult](http.StatusCreated), h: s.createAddress, guarded: true},
		{method: "GET", path: "/api/v1/addresses/{id}", op: "getAddress", tag: "addresses", summary: "Get an address",
			act: actRead, object: ipdesk.ObjectAddress, reply: one[addressView](http.StatusOK), h: s.getAddress, guarded: true},
		{method: "PATCH", path: "/api/v1/addresses/{id}", op: "updateAddress", tag: "addresses", summary: "Change an address (mac \"\" clears it)",
			act: actWrite, object: ipdesk.ObjectAddress,
			body:  body[ipdesk.AddressUpdate]("AddressUpdate", nil),
			reply: one[addressResult](http.StatusOK), h: s.updateAddress, guarded: true},
		{method: "DELETE", path: "/api/v1/addresses/{id}", op: "deleteAddress", tag: "addresses", summary: "Delete an address",
			act: actWrite, object: ipdesk.ObjectAddress, reply: noContent, h: s.deleteAddress, guarded: true},

		// Locations.
		{method: "GET", path: "/api/v1/locations", op: "listLocations", tag: "locations", summary: "List sites, buildings and rooms",
			act: actRead, object: ipdesk.ObjectLocation, paged: true,
			params: []param{
				qp("parent", ptInt, "children of this location id; 0 for the top level"),
				qEnum("kind", "location kind", string(ipdesk.LocationSite), string(ipdesk.LocationBuilding), string(ipdesk.LocationRoom)),
				qp("name", ptString, "exact name"),
				qp("q", ptString, "matches name, description or phone numbers"),
			},
			reply: list[ipdesk.Location](), h: s.listLocations},
		{method: "POST", path: "/api/v1/locations", op: "createLocation", tag: "locations", summary: "Create a site, building or room",
			act: actWrite, object: ipdesk.ObjectLocation,
			body:  body[ipdesk.Location]("LocationCreate", []string{"kind", "name"}, locationFields...),
			reply: one[locationResult](http.StatusCreated), h: s.createLocation},
		{method: "GET", path: "/api/v1/locations/{id}", op: "getLocation", tag: "locations", summary: "Get a location",
			act: actRead, object: ipdesk.ObjectLocation, reply: one[ipdesk.Location](http.StatusOK), h: s.getLocation},
		{method: "PATCH", path: "/api/v1/locations/{id}", op: "updateLocation", tag: "locations", summary: "Change a location",
			act: actWrite, object: ipdesk.ObjectLocation,
			body:  body[ipdesk.LocationUpdate]("LocationUpdate", nil),
			reply: one[locationResult](http.StatusOK), h: s.updateLocation},
		{method: "DELETE", path: "/api/v1/locations/{id}", op: "deleteLocation", tag: "locations", summary: "Delete a location without children",
			act: actWrite, object: ipdesk.ObjectLocation, reply: noContent, h: s.deleteLocation},

		// Access levels.
		{method: "GET", path: "/api/v1/access-levels", op: "listAccessLevels", tag: "access-levels", summary: "List internet access levels",
			act: actRead, object: ipdesk.ObjectAccessLevel, paged: true,
			reply: list[ipdesk.AccessLevel](), h: s.listAccessLevels},
		{method: "POST", path: "/api/v1/access-levels", op: "createAccessLevel", tag: "access-levels", summary: "Create an access level",
			act: actWrite, object: ipdesk.ObjectAccessLevel,
			body:  body[ipdesk.AccessLevel]("AccessLevelCreate", []string{"level", "name"}, accessLevelFields...),
			reply: one[accessLevelResult](http.StatusCreated), h: s.createAccessLevel},
		{method: "GET", path: "/api/v1/access-levels/{level}", op: "getAccessLevel", tag: "access-levels", summary: "Get an access level",
			act: actRead, object: ipdesk.ObjectAccessLevel, reply: one[ipdesk.AccessLevel](http.StatusOK), h: s.getAccessLevel},
		{method: "PATCH", path: "/api/v1/access-levels/{level}", op: "updateAccessLevel", tag: "access-levels", summary: "Change an access level",
			act: actWrite, object: ipdesk.ObjectAccessLevel,
			body:  body[ipdesk.AccessLevelUpdate]("AccessLevelUpdate", nil),
			reply: one[accessLevelResult](http.StatusOK), h: s.updateAccessLevel},
		{method: "DELETE", path: "/api/v1/access-levels/{level}", op: "deleteAccessLevel", tag: "access-levels", summary: "Delete an access level no address uses",
			act: actWrite, object: ipdesk.ObjectAccessLevel, reply: noContent, h: s.deleteAccessLevel},

		// Audit log.
		{method: "GET", path: "/api/v1/audit", op: "listAuditEntries", tag: "audit", summary: "Read the audit log, newest first",
			act: actRead, object: objectAudit, paged: true,
			params: []param{
				qp("actor", ptString, "user name"),
				qEnum("object_type", "object type", ipdesk.ObjectSpace, ipdesk.ObjectPrefix, ipdesk.ObjectAddress,
					ipdesk.ObjectLocation, ipdesk.ObjectAccessLevel, ipdesk.ObjectUser, ipdesk.ObjectToken,
					ipdesk.ObjectGroup, ipdesk.ObjectGrant, ipdesk.ObjectCall),
				qp("object_id", ptInt, "object id"),
				qp("since", ptTime, "entries at or after this time (RFC 3339)"),
				qp("until", ptTime, "entries before this time (RFC 3339)"),
			},
			reply: list[ipdesk.AuditEntry](), h: s.listAuditEntries},

		// Config outputs: listed and applied here, configured only in the
		// server's config file.
		{method: "GET", path: "/api/v1/outputs", op: "listOutputs", tag: "outputs",
			summary: "The config outputs (DHCP reservations, proxy lists) with their state (failing, next retry), last run, the records each leaves out because its daemon cannot carry them (left_out, narrowed to what the caller may see) and what the next apply would change",
			act:     actRead, object: objectOutput,
			params: []param{
				qp("target", ptString, "only this target, or one output of a squid-levels target (NAME.levelN)"),
				qp("diff", ptBool, "render each output now and show what the next apply would change (default true)"),
			},
			reply: list[ipdesk.Output](), h: s.listOutputs},
		{method: "POST", path: "/api/v1/apply", op: "applyOutputs", tag: "outputs",
			summary: "Write, check and reload the config outputs now: all, or the one target named (409 when none are configured)",
			act:     actWrite, object: objectOutput,
			body:  optionalBody[applyRequest]("ApplyRequest", "target"),
			reply: replySpec{kind: replyObject, status: http.StatusOK, typ: reflect.TypeFor[applyResult]()}, h: s.applyOutputs},
		{method: "GET", path: "/api/v1/apply-runs", op: "listApplyRuns", tag: "outputs", summary: "The history of applies, newest first",
			act: actRead, object: objectApplyRun, paged: true,
			params: []param{
				qp("target", ptString, "output name"),
				qEnum("status", "the run's status", applyStatuses()...),
				qp("failed", ptBool, "true: the runs that did not leave the daemon on the new file; false: the others"),
				qp("since", ptTime, "runs started at or after this time (RFC 3339)"),
				qp("until", ptTime, "runs started before this time (RFC 3339)"),
			},
			reply: list[ipdesk.ApplyRun](), h: s.listApplyRuns},
	}
	routes = append(routes, s.timetableRoutes()...)
	routes = append(routes, s.callRoutes()...)
	routes = append(routes, s.eventRoutes()...)
	routes = append(routes, s.leaseRoutes()...)
	return routes
}

// withTimeout is context.WithTimeout, without a deadline for d == 0.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d == 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// apiHandler wraps a route's handler: it authenticates the caller, checks
// the path and query parameters against the route's declaration, asks
// authorize, and writes the handler's error in the API's format.
func (s *Server) apiHandler(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timeout := requestTimeout
		if rt.reply.kind == replyStream {
			timeout = 0 // open for as long as the client stays
		}
		ctx, cancel := withTimeout(r.Context(), timeout)
		defer cancel()
		if rt.act != actPublic {
			if rt.guarded && s.confirmsAuth && rt.reply.kind != replyStream {
				if st := s.cachedAuth(r); st != nil && s.serveConfirmed(w, r, ctx, rt, st) {
					return
				}
			}
			st, err := s.authenticate(ctx, r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			ctx = withAuth(ctx, st)
		}
		if err := s.serveRoute(w, r, ctx, rt); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// serveRoute serves r, authenticated in ctx, by rt's handler, once the
// token's scope and the request's parameters and rights are checked; it
// returns the error to answer with.
func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, ctx context.Context, rt *route) error {
	if st := authOf(ctx); st != nil {
		if err := s.checkTokenScope(st.user, r); err != nil {
			return err
		}
	}
	p, err := parseParams(r, rt)
	if err != nil {
		return err
	}
	ctx = context.WithValue(ctx, paramsKey{}, p)
	obj := object{Type: rt.object}
	if names := rt.pathParams(); len(names) > 0 {
		obj.ID = p.path[names[0]]
	}
	if err := s.authorize(ctx, rt.act, obj); err != nil {
		return err
	}
	return rt.h(w, r.WithContext(ctx))
}

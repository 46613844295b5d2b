package web

// The OpenAPI 3.1 document, built from the route table and from the Go
// types the handlers decode and encode.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"ipdesk"
)

// APIVersion is the version of the API described by the OpenAPI document.
const APIVersion = "1.0.0"

// openAPI returns the server's OpenAPI document, built once.
func (s *Server) openAPI() ([]byte, error) {
	s.openapiOnce.Do(func() {
		s.openapiDoc, s.openapiErr = json.MarshalIndent(buildOpenAPI(s.routes), "", "  ")
	})
	return s.openapiDoc, s.openapiErr
}

// obj is a JSON object under construction.
type obj = map[string]any

// buildOpenAPI describes routes as an OpenAPI 3.1 document.
func buildOpenAPI(routes []*route) obj {
	g := &schemaGen{components: obj{}, names: map[string]reflect.Type{}}
	paths := obj{}
	var tags []string
	for _, rt := range routes {
		item, _ := paths[rt.path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = g.operation(rt)
		if !slices.Contains(tags, rt.tag) {
			tags = append(tags, rt.tag)
		}
	}
	tagList := make([]obj, len(tags))
	for i, t := range tags {
		tagList[i] = obj{"name": t}
	}
	g.components["Error"] = obj{
		"type":     "object",
		"required": []string{"error"},
		"properties": obj{"error": obj{
			"type":     "object",
			"required": []string{"code", "message"},
			"properties": obj{
				"code": obj{"type": "string", "enum": []string{ipdesk.EINVALID, ipdesk.EUNAUTHORIZED, ipdesk.EFORBIDDEN, ipdesk.ENOTFOUND,
					eMethodNotAllowed, ipdesk.ECONFLICT, ipdesk.EPRECONDITION, eTooLarge, eUnsupportedMediaType, ipdesk.ETOOMANY, ipdesk.ESTORAGEFULL,
					ipdesk.EINTERNAL, eUnavailable}},
				"field":   obj{"type": "string", "description": "the input field, query parameter or header the error is about"},
				"message": obj{"type": "string"},
			},
		}},
	}
	responses := obj{}
	for _, st := range errorStatuses {
		responses[st.name] = obj{
			"description": st.desc,
			"content":     obj{"application/json": obj{"schema": ref("Error")}},
		}
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "ipdesk API",
			"version":     APIVersion,
			"description": "IP address plan, DHCP reservations and internet access levels of a LAN. Every single-object answer carries ETag: \"<version>\"; send it back in If-Match to make a PATCH or DELETE conditional. Answers to changes carry the object with a \"warnings\" array.",
		},
		"tags":     tagList,
		"paths":    paths,
		"security": []obj{{"bearer": []string{}}},
		"components": obj{
			"securitySchemes": obj{
				"bearer":   obj{"type": "http", "scheme": "bearer", "description": "an API token"},
				"pbxToken": obj{"type": "apiKey", "in": "header", "name": pbxTokenHeader, "description": "a PBX token of the server's config file (callerid.pbx_tokens); needed when tokens are configured"},
			},
			"schemas":   g.components,
			"responses": responses,
		},
	}
}

// errorStatuses are the error answers the document names.
var errorStatuses = []struct {
	status int
	name   string
	desc   string
}{
	{http.StatusBadRequest, "BadRequest", "the input is invalid; error.field names the field or parameter"},
	{http.StatusUnauthorized, "Unauthorized", "no valid bearer token"},
	{http.StatusForbidden, "Forbidden", "the user may not do this"},
	{http.StatusNotFound, "NotFound", "no such object"},
	{http.StatusConflict, "Conflict", "the change clashes with stored data (overlap, duplicate, full, still in use)"},
	{http.StatusPreconditionFailed, "PreconditionFailed", "If-Match does not name the stored version"},
	{http.StatusRequestEntityTooLarge, "TooLarge", "the request body is too large"},
	{http.StatusUnsupportedMediaType, "UnsupportedMediaType", "the request body is not application/json"},
	{http.StatusTooManyRequests, "TooManyRequests", "too many requests (reports from one source, streams of one user)"},
	{0, "Error", "an unexpected error"},
}

func errorResponseRef(status int) obj {
	for _, st := range errorStatuses {
		if st.status == status {
			return obj{"$ref": "#/components/responses/" + st.name}
		}
	}
	panic(fmt.Sprintf("web: no error response for status %d", status))
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

// operation describes one route.
func (g *schemaGen) operation(rt *route) obj {
	op := obj{"operationId": rt.op, "summary": rt.summary, "tags": []string{rt.tag}}
	var ps []obj
	for _, name := range rt.pathParams() {
		ps = append(ps, obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "integer", "minimum": 0}})
	}
	for _, p := range rt.queryParams() {
		ps = append(ps, obj{"name": p.name, "in": "query", "required": false, "description": p.desc, "schema": paramSchema(p)})
	}
	if len(ps) > 0 {
		op["parameters"] = ps
	}
	if rt.pbx {
		op["security"] = []obj{{"pbxToken": []string{}}, {}}
	} else if rt.act == actPublic {
		op["security"] = []obj{}
	}
	if rt.method == http.MethodPatch || rt.method == http.MethodDelete {
		op["parameters"] = append(ps, obj{"name": "If-Match", "in": "header", "required": false,
			"description": "the ETag of the version the change is based on; * or absent: unconditional",
			"schema":      obj{"type": "string"}})
	}
	if b := rt.body; b != nil {
		if _, ok := g.components[b.name]; ok {
			panic(fmt.Sprintf("web: body schema name %s is used twice", b.name))
		}
		g.components[b.name] = g.object(b.typ, b.accepted(), b.required)
		op["requestBody"] = obj{
			"required": !b.optional,
			"content":  obj{"application/json": obj{"schema": ref(b.name)}},
		}
	}
	responses := obj{}
	code := strconv.Itoa(rt.reply.status)
	switch rt.reply.kind {
	case replyNone:
		responses[code] = obj{"description": "done"}
	case replyText:
		responses[code] = obj{"description": "ok", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}
		responses["503"] = obj{"description": "the database does not answer", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}
	case replyDocument:
		responses[code] = obj{"description": "the document", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}
	case replyCSV:
		responses[code] = obj{"description": "CSV with a header row", "content": obj{"text/csv": obj{"schema": obj{"type": "string"}}}}
	case replyStream:
		responses[code] = obj{"description": "server-sent events, open until the client goes; each message has an event name (the topic's), an id (the stream's position) and JSON data",
			"content": obj{"text/event-stream": obj{"schema": obj{"type": "string"}}}}
	case replyObject:
		r := obj{"description": "the object", "content": obj{"application/json": obj{"schema": g.schema(rt.reply.typ)}}}
		if rt.reply.etag {
			r["headers"] = obj{"ETag": obj{"description": "the object's version", "schema": obj{"type": "string"}}}
		}
		responses[code] = r
	case replyList, replyWindow:
		props := obj{
			"offset":  obj{"type": "integer"},
			"limit":   obj{"type": "integer"},
			"results": obj{"type": "array", "items": g.schema(rt.reply.typ)},
		}
		required := []string{"offset", "limit", "results"}
		if rt.reply.kind == replyList {
			props["count"] = obj{"type": "integer", "description": "the number of objects that match, on all pages"}
			required = append([]string{"count"}, required...)
		}
		responses[code] = obj{"description": "one page of results", "content": obj{"application/json": obj{"schema": obj{
			"type": "object", "required": required, "properties": props}}}}
	}
	if rt.reply.kind != replyText {
		if len(rt.pathParams()) > 0 || len(rt.queryParams()) > 0 || rt.body != nil {
			responses["400"] = errorResponseRef(http.StatusBadRequest)
		}
		if rt.act != actPublic {
			responses["401"] = errorResponseRef(http.StatusUnauthorized)
		}
		if rt.act == actWrite || rt.act == actOverride {
			responses["403"] = errorResponseRef(http.StatusForbidden)
			responses["409"] = errorResponseRef(http.StatusConflict)
		}
		if rt.act == actHelpdesk || rt.pbx || rt.reply.kind == replyStream {
			responses["403"] = errorResponseRef(http.StatusForbidden)
		}
		if rt.pbx || rt.reply.kind == replyStream {
			responses["429"] = errorResponseRef(http.StatusTooManyRequests)
		}
		if len(rt.pathParams()) > 0 {
			responses["404"] = errorResponseRef(http.StatusNotFound)
		}
		if rt.method == http.MethodPatch || rt.method == http.MethodDelete {
			responses["412"] = errorResponseRef(http.StatusPreconditionFailed)
		}
		if rt.body != nil {
			responses["413"] = errorResponseRef(http.StatusRequestEntityTooLarge)
			responses["415"] = errorResponseRef(http.StatusUnsupportedMediaType)
		}
		responses["default"] = errorResponseRef(0)
	}
	op["responses"] = responses
	return op
}

// paramSchema is the schema of a query parameter.
func paramSchema(p param) obj {
	switch p.typ {
	case ptInt:
		return obj{"type": "integer", "minimum": 0}
	case ptBool:
		return obj{"type": "boolean"}
	case ptIP:
		return obj{"type": "string", "format": "ip"}
	case ptCIDR:
		return obj{"type": "string", "format": "cidr"}
	case ptMAC:
		return obj{"type": "string", "format": "mac"}
	case ptTime:
		return obj{"type": "string", "format": "date-time"}
	case ptEnum:
		return obj{"type": "string", "enum": p.enum}
	case ptPrefixRef:
		return obj{"oneOf": []obj{{"type": "integer", "minimum": 0}, {"type": "string", "format": "cidr"}}}
	case ptDate:
		return obj{"type": "string", "format": "date"}
	}
	return obj{"type": "string"}
}

// schemaGen makes JSON schemas of Go types, collecting named structs as
// components.
type schemaGen struct {
	components obj
	names      map[string]reflect.Type
}

// Schema names of types whose Go name would mislead.
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[prefixView](): "PrefixDetail",
	reflect.TypeFor[usageView]():  "Usage",
}

// Values of the domain's string enums.
var enumValues = map[reflect.Type][]string{
	reflect.TypeFor[ipdesk.PrefixKind]():    {string(ipdesk.PrefixContainer), string(ipdesk.PrefixSubnet)},
	reflect.TypeFor[ipdesk.LocationKind]():  {string(ipdesk.LocationSite), string(ipdesk.LocationBuilding), string(ipdesk.LocationRoom)},
	reflect.TypeFor[ipdesk.AddressStatus](): {string(ipdesk.StatusActive), string(ipdesk.StatusReserved), string(ipdesk.StatusDeprecated)},
	reflect.TypeFor[ipdesk.ApplyStatus]():   applyStatuses(),
	reflect.TypeFor[ipdesk.RoomPolicy]():    {string(ipdesk.PolicyTimetable), string(ipdesk.PolicyNever), string(ipdesk.PolicyAlways)},
	reflect.TypeFor[ipdesk.StateReason]():   stateReasons(),
	reflect.TypeFor[ipdesk.CallState]():     enumStrings(ipdesk.CallStates),
	reflect.TypeFor[ipdesk.CallEventKind](): enumStrings(ipdesk.CallEventKinds),
	reflect.TypeFor[ipdesk.NumberKind]():    enumStrings(ipdesk.NumberKinds),
	reflect.TypeFor[ipdesk.MatchKind]():     enumStrings(ipdesk.MatchKinds),
}

// enumStrings returns the values of a string enum as strings.
func enumStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func schemaName(t reflect.Type) string {
	if n, ok := schemaNames[t]; ok {
		return n
	}
	r := []rune(t.Name())
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// schema returns the schema of t, a reference for named structs.
func (g *schemaGen) schema(t reflect.Type) obj {
	switch t {
	case reflect.TypeFor[netip.Addr]():
		return obj{"type": "string", "format": "ip", "description": "an IPv4 or IPv6 address; \"\" for none"}
	case reflect.TypeFor[netip.Prefix]():
		return obj{"type": "string", "format": "cidr"}
	case reflect.TypeFor[ipdesk.MAC]():
		return obj{"type": "string", "format": "mac",
			"description": "accepted as aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff or aabbccddeeff; answered as aa:bb:cc:dd:ee:ff; \"\" for none"}
	case reflect.TypeFor[time.Time]():
		return obj{"type": "string", "format": "date-time"}
	case reflect.TypeFor[json.RawMessage]():
		return obj{"description": "any JSON value"}
	case reflect.TypeFor[ipdesk.Date]():
		return obj{"type": "string", "format": "date", "description": "a day, YYYY-MM-DD"}
	case reflect.TypeFor[ipdesk.TimeOfDay]():
		return obj{"type": "string", "pattern": "^([01]?[0-9]|2[0-3]):[0-5][0-9]$|^24:00$", "description": "a wall-clock time HH:MM in the school's time zone"}
	}
	if vs, ok := enumValues[t]; ok {
		return obj{"type": "string", "enum": vs}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.Struct:
		name := schemaName(t)
		if prev, ok := g.names[name]; ok {
			if prev != t {
				panic(fmt.Sprintf("web: schema name %s stands for %v and %v", name, prev, t))
			}
			return ref(name)
		}
		g.names[name] = t
		g.components[name] = obj{} // placeholder while the fields are described
		fields := jsonFields(t)
		all := make([]string, 0, len(fields))
		for n := range fields {
			all = append(all, n)
		}
		g.components[name] = g.object(t, all, all)
		return ref(name)
	case reflect.Slice, reflect.Array:
		return obj{"type": "array", "items": g.schema(t.Elem())}
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int64:
		return obj{"type": "integer", "format": "int64"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32:
		return obj{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return obj{"type": "number"}
	}
	panic(fmt.Sprintf("web: no schema for type %v", t))
}

// object returns the schema of struct t with only the given members.
func (g *schemaGen) object(t reflect.Type, members, required []string) obj {
	fields := jsonFields(t)
	props := obj{}
	for _, name := range members {
		f, ok := fields[name]
		if !ok {
			panic(fmt.Sprintf("web: %v has no JSON member %q", t, name))
		}
		props[name] = g.schema(f.typ)
	}
	req := slices.Clone(required)
	sort.Strings(req)
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(req) > 0 {
		o["required"] = req
	}
	return o
}

package web

// Request helpers: query and path parameters, JSON bodies, If-Match.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"ipdesk"
)

// Error codes of the web layer that have no domain meaning; they map to
// HTTP statuses like the domain codes.
const (
	eMethodNotAllowed     = "method_not_allowed"
	eTooLarge             = "too_large"
	eUnsupportedMediaType = "unsupported_media_type"
	eUnavailable          = ipdesk.EUNAVAILABLE
)

// maxParamLen bounds a query parameter's value.
const maxParamLen = 1000

type paramsKey struct{}

// params holds a request's path and query parameters, parsed and checked
// against the route's declaration.
type params struct {
	rt    *route
	path  map[string]int64
	query map[string]any
	page  ipdesk.Page
}

// paramsOf returns the parameters apiHandler parsed for r.
func paramsOf(r *http.Request) *params {
	p, _ := r.Context().Value(paramsKey{}).(*params)
	if p == nil {
		panic("web: paramsOf called outside apiHandler")
	}
	return p
}

// parseParams parses the path and query parameters of r as rt declares
// them. A parameter that is not declared, given twice or does not parse is
// refused with a message that names it and quotes the value.
func parseParams(r *http.Request, rt *route) (*params, error) {
	p := &params{rt: rt, path: map[string]int64{}, query: map[string]any{}}
	for _, name := range rt.pathParams() {
		v := r.PathValue(name)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, name, "path parameter %s: %q is not a whole number", name, clipText(v))
		}
		p.path[name] = n
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, ipdesk.Errorf(ipdesk.EINVALID, "the query string is not properly URL-encoded: %s", err)
	}
	declared := rt.queryParams()
	names := make([]string, 0, len(vals))
	for name := range vals {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		i := slices.IndexFunc(declared, func(d param) bool { return d.name == name })
		if i < 0 {
			known := make([]string, len(declared))
			for j, d := range declared {
				known[j] = d.name
			}
			if len(known) == 0 {
				return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, clipText(name), "unknown query parameter %q; this endpoint takes none", clipText(name))
			}
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, clipText(name), "unknown query parameter %q; known: %s", clipText(name), strings.Join(known, ", "))
		}
		vs := vals[name]
		if len(vs) > 1 {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, name, "query parameter %s is given %d times; give it once", name, len(vs))
		}
		if vs[0] == "" {
			continue // an empty value filters nothing
		}
		v, err := parseParam(declared[i], vs[0])
		if err != nil {
			return nil, err
		}
		p.query[name] = v
	}
	if rt.paged {
		if v, ok := p.query["offset"]; ok {
			p.page.Offset = int(min(v.(int64), int64(1)<<40))
		}
		if v, ok := p.query["limit"]; ok {
			p.page.Limit = int(min(v.(int64), int64(ipdesk.MaxLimit)))
		}
		p.page = p.page.Normalize()
	}
	return p, nil
}

// parseParam parses one query parameter value by its declared type.
func parseParam(d param, v string) (any, error) {
	bad := func(want string) error {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, d.name, "query parameter %s: %q is not %s", d.name, clipText(v), want)
	}
	if len(v) > maxParamLen || !utf8.ValidString(v) {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, d.name, "query parameter %s: the value is longer than %d bytes or not UTF-8", d.name, maxParamLen)
	}
	switch d.typ {
	case ptString:
		return v, nil
	case ptInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, d.name, "query parameter %s: %s is too large", d.name, clipText(v))
		}
		if err != nil || n < 0 {
			return nil, bad("a whole number ≥ 0")
		}
		return n, nil
	case ptBool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, bad("true or false")
		}
		return b, nil
	case ptIP:
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return nil, bad("an IP address")
		}
		return a.Unmap(), nil
	case ptCIDR:
		pfx, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, bad("a CIDR prefix (for example 10.1.0.0/16)")
		}
		return pfx.Masked(), nil
	case ptPrefixRef:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return n, nil
		}
		pfx, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, bad("a prefix id or a CIDR prefix")
		}
		return pfx.Masked(), nil
	case ptMAC:
		m, err := ipdesk.ParseMAC(v)
		if err != nil {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, d.name, "query parameter %s: %s", d.name, ipdesk.AsError(err))
		}
		return m, nil
	case ptTime:
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, bad("an RFC 3339 time (for example 2024-05-01T08:00:00Z)")
		}
		return t, nil
	case ptEnum:
		if !slices.Contains(d.enum, v) {
			return nil, bad("one of " + strings.Join(d.enum, ", "))
		}
		return v, nil
	case ptDate:
		dt, err := ipdesk.ParseDate(d.name, v)
		if err != nil {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, d.name, "query parameter %s", ipdesk.AsError(err))
		}
		return dt, nil
	}
	panic(fmt.Sprintf("web: parameter %s has unknown type %d", d.name, d.typ))
}

// lookup returns the parsed value of the query parameter name. Asking for a
// parameter the route does not declare, or as another type, is a bug of
// the handler and panics, so that documentation and code cannot drift.
func (p *params) lookup(name string, t paramType) (any, bool) {
	declared := p.rt.queryParams()
	i := slices.IndexFunc(declared, func(d param) bool { return d.name == name })
	if i < 0 {
		panic(fmt.Sprintf("web: %s reads undeclared query parameter %q", p.rt.pattern(), name))
	}
	if d := declared[i]; d.typ != t {
		panic(fmt.Sprintf("web: %s reads query parameter %q as type %d, declared %d", p.rt.pattern(), name, t, d.typ))
	}
	v, ok := p.query[name]
	return v, ok
}

func lookupAs[T any](p *params, name string, t paramType) *T {
	v, ok := p.lookup(name, t)
	if !ok {
		return nil
	}
	x := v.(T)
	return &x
}

// Typed accessors; nil means the parameter was absent or empty.

func (p *params) str(name string) *string { return lookupAs[string](p, name, ptString) }

func (p *params) enum(name string) *string { return lookupAs[string](p, name, ptEnum) }

func (p *params) int64(name string) *int64 { return lookupAs[int64](p, name, ptInt) }

func (p *params) int(name string) *int {
	v := p.int64(name)
	if v == nil {
		return nil
	}
	n := int(min(*v, int64(1)<<31))
	return &n
}

func (p *params) bool(name string) *bool { return lookupAs[bool](p, name, ptBool) }

func (p *params) addr(name string) *netip.Addr { return lookupAs[netip.Addr](p, name, ptIP) }

func (p *params) prefix(name string) *netip.Prefix { return lookupAs[netip.Prefix](p, name, ptCIDR) }

func (p *params) mac(name string) *ipdesk.MAC { return lookupAs[ipdesk.MAC](p, name, ptMAC) }

func (p *params) time(name string) *time.Time { return lookupAs[time.Time](p, name, ptTime) }

func (p *params) date(name string) *ipdesk.Date { return lookupAs[ipdesk.Date](p, name, ptDate) }

// prefixRef returns the prefix id or the CIDR given for name.
func (p *params) prefixRef(name string) (*int64, *netip.Prefix) {
	v, ok := p.lookup(name, ptPrefixRef)
	if !ok {
		return nil, nil
	}
	switch x := v.(type) {
	case int64:
		return &x, nil
	case netip.Prefix:
		return nil, &x
	}
	return nil, nil
}

// id returns the path parameter name, declared by the route's path.
func (p *params) id(name string) int64 {
	v, ok := p.path[name]
	if !ok {
		panic(fmt.Sprintf("web: %s has no path parameter %q", p.rt.pattern(), name))
	}
	return v
}

// ifMatch returns the version an If-Match header asks for: nil when the
// header is absent or "*" (unconditional). The ETags of this API are
// strong, so a weak tag never matches.
func ifMatch(r *http.Request) (*int64, error) {
	h := strings.TrimSpace(strings.Join(r.Header.Values("If-Match"), ","))
	if h == "" || h == "*" {
		return nil, nil
	}
	if strings.HasPrefix(h, "W/") {
		return nil, ipdesk.Errorf(ipdesk.EPRECONDITION, "If-Match %q is a weak entity tag, which never matches; send the ETag as received", clipText(h))
	}
	if len(h) >= 3 && h[0] == '"' && h[len(h)-1] == '"' {
		if n, err := strconv.ParseInt(h[1:len(h)-1], 10, 64); err == nil && n >= 0 {
			return &n, nil
		}
	}
	return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "If-Match", "If-Match %q is not one entity tag of this API (send the ETag as received, like \"3\", or *)", clipText(h))
}

// deleteObject answers a DELETE: it hands the request's If-Match version
// and the cascade flag to del, which deletes in one transaction, and
// answers 204.
func deleteObject(w http.ResponseWriter, r *http.Request, cascade bool, del func(ctx context.Context, opts ipdesk.DeleteOptions) error) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	opts := ipdesk.DeleteOptions{Version: version, Cascade: cascade}
	if err := del(r.Context(), opts); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decodeBody reads the JSON object in r's body into dst, a pointer to the
// type the route declares. It accepts only the members the route lists,
// decodes each member by itself so that an error names it, and refuses
// bodies over the size limit, of another media type, or with trailing data.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	spec := paramsOf(r).rt.body
	if spec == nil || reflect.TypeOf(dst) != reflect.PointerTo(spec.typ) {
		panic(fmt.Sprintf("web: %s decodes a %T, which its route does not declare", r.Pattern, dst))
	}
	ct := r.Header.Get("Content-Type")
	if ct != "" {
		mt, ps, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return ipdesk.Errorf(eUnsupportedMediaType, "Content-Type %q is not supported; send application/json", clipText(ct))
		}
		if cs, ok := ps["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return ipdesk.Errorf(eUnsupportedMediaType, "Content-Type %q: charset %q is not supported; send UTF-8", clipText(ct), clipText(cs))
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return ipdesk.Errorf(eTooLarge, "request body is larger than %d bytes", s.maxBody)
		}
		return ipdesk.Errorf(ipdesk.EINVALID, "request body could not be read")
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		if spec.optional {
			return nil
		}
		return ipdesk.Errorf(ipdesk.EINVALID, "request body is empty; send a JSON object")
	}
	if ct == "" {
		return ipdesk.Errorf(eUnsupportedMediaType, "the request has a body but no Content-Type; send it as application/json")
	}
	if data[0] != '{' {
		return ipdesk.Errorf(ipdesk.EINVALID, "request body must be a JSON object")
	}
	if err := checkJSONText(data); err != nil {
		return err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return ipdesk.Errorf(ipdesk.EINVALID, "request body is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)
		}
		return ipdesk.Errorf(ipdesk.EINVALID, "request body must be a JSON object")
	}
	fields := jsonFields(spec.typ)
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	sort.Strings(names)
	accepted := spec.accepted()
	v := reflect.ValueOf(dst).Elem()
	for _, name := range names {
		f, ok := fields[name]
		if !ok || !slices.Contains(accepted, name) {
			if ok {
				return ipdesk.FieldErrorf(ipdesk.EINVALID, name, "field %q is set by the server and cannot be given here; accepted fields: %s", name, strings.Join(accepted, ", "))
			}
			return ipdesk.FieldErrorf(ipdesk.EINVALID, clipText(name), "unknown field %q; accepted fields: %s", clipText(name), strings.Join(accepted, ", "))
		}
		if err := json.Unmarshal(members[name], v.FieldByIndex(f.index).Addr().Interface()); err != nil {
			return fieldDecodeError(name, f.typ, members[name], err)
		}
	}
	for _, name := range spec.required {
		if raw, ok := members[name]; !ok || string(raw) == "null" {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, name, "field %q is required", name)
		}
	}
	return nil
}

// checkJSONText refuses what encoding/json would let through without a
// word: bytes that are not UTF-8 and \u escapes of lone surrogates (both
// would be stored as U+FFFD), and an object with a key twice (the last
// would win). Syntax errors are left to the decoder.
func checkJSONText(data []byte) error {
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return ipdesk.Errorf(ipdesk.EINVALID, "request body is not valid UTF-8 (byte 0x%02x at offset %d); send the text as UTF-8", data[i], i)
	}
	if off := loneSurrogate(data); off >= 0 {
		return ipdesk.Errorf(ipdesk.EINVALID, "request body has an escape %s at offset %d that is half a UTF-16 surrogate pair, not a character", data[off:off+6], off)
	}
	return duplicateKey(data)
}

// loneSurrogate returns the offset of the first \u escape inside a JSON
// string that is a surrogate without its partner, or -1.
func loneSurrogate(data []byte) int {
	hex := func(i int) (rune, bool) {
		if i+6 > len(data) || data[i] != '\\' || data[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(data[i+2:i+6]), 16, 16)
		return rune(n), err == nil
	}
	in := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			in = !in
		case in && c == '\\' && i+1 < len(data) && data[i+1] != 'u':
			i++ // a one-character escape, maybe \"
		case in && c == '\\':
			r, ok := hex(i)
			if !ok {
				return -1 // a syntax error; the decoder names it
			}
			switch {
			case utf16.IsSurrogate(r) && r < 0xdc00:
				lo, ok := hex(i + 6)
				if !ok || lo < 0xdc00 || lo > 0xdfff {
					return i
				}
				i += 11
			case utf16.IsSurrogate(r):
				return i
			default:
				i += 5
			}
		}
	}
	return -1
}

// duplicateKey refuses a JSON text in which an object has a key twice,
// naming the key (with the keys of the objects around it).
func duplicateKey(data []byte) error {
	type object struct {
		keys    map[string]bool
		key     string // the current member's key
		wantKey bool
	}
	var stack []*object // nil entries are arrays
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	path := func(key string) string {
		var p []string
		for _, o := range stack[:len(stack)-1] {
			if o != nil {
				p = append(p, o.key)
			}
		}
		return strings.Join(append(p, key), ".")
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or a syntax error the decoder names
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1] != nil {
					stack[len(stack)-1].wantKey = true
				}
				continue
			}
			key, _ := tok.(string)
			if top.keys[key] {
				name := clipText(path(key))
				return ipdesk.FieldErrorf(ipdesk.EINVALID, name, "request body has the key %q twice; give each key once", name)
			}
			top.keys[key], top.key, top.wantKey = true, key, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &object{keys: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, nil)
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1] != nil {
				stack[len(stack)-1].wantKey = true
			}
		default:
			if top != nil {
				top.wantKey = true
			}
		}
	}
}

// accepted returns the JSON members a client may send.
func (b *bodySpec) accepted() []string {
	if b.fields != nil {
		return b.fields
	}
	fs := jsonFields(b.typ)
	names := make([]string, 0, len(fs))
	for name := range fs {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return fs[names[i]].order < fs[names[j]].order })
	return names
}

// fieldDecodeError explains why the member name did not decode into a t.
func fieldDecodeError(name string, t reflect.Type, raw json.RawMessage, err error) error {
	var de *ipdesk.Error
	if errors.As(err, &de) && de.Field == "" {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, name, "field %q: %s", name, de)
	} else if de != nil {
		return ipdesk.WithField(de, ipdesk.EINVALID, name)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, name, "field %q must be %s, not a JSON %s", name, jsonTypeName(t), te.Value)
	}
	return ipdesk.FieldErrorf(ipdesk.EINVALID, name, "field %q: %s is not %s", name, clipText(string(raw)), jsonTypeName(t))
}

// jsonTypeName describes in words the JSON value a Go type takes.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[netip.Addr]():
		return "an IP address (a string like \"10.1.2.3\" or \"2001:db8::1\")"
	case reflect.TypeFor[netip.Prefix]():
		return "a CIDR prefix (a string like \"10.1.0.0/24\")"
	case reflect.TypeFor[ipdesk.MAC]():
		return "a MAC address (a string like \"aa:bb:cc:dd:ee:ff\")"
	case reflect.TypeFor[time.Time]():
		return "an RFC 3339 time"
	case reflect.TypeFor[ipdesk.Date]():
		return "a date (a string like \"2026-03-02\")"
	case reflect.TypeFor[ipdesk.TimeOfDay]():
		return "a time of day (a string like \"08:00\")"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonTypeName(t.Elem()), "a "), "an ") + "s"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a valid value"
}

// fieldInfo locates the struct field of a JSON member.
type fieldInfo struct {
	index []int
	typ   reflect.Type
	order int
}

var fieldCache sync.Map // reflect.Type → map[string]fieldInfo

// jsonFields returns the JSON members of struct type t the way
// encoding/json names them, with fields of embedded structs promoted. Body
// types embed structs by value only, so that every field is addressable.
func jsonFields(t reflect.Type) map[string]fieldInfo {
	if v, ok := fieldCache.Load(t); ok {
		return v.(map[string]fieldInfo)
	}
	out := map[string]fieldInfo{}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			index := append(prefix[:len(prefix):len(prefix)], i)
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, index)
				}
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, dup := out[name]; !dup || len(index) < len(out[name].index) {
				out[name] = fieldInfo{index: index, typ: f.Type, order: len(out)}
			}
		}
	}
	walk(t, nil)
	fieldCache.Store(t, out)
	return out
}

// clipText shortens s for quoting in a message.
func clipText(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) > max {
		r = r[:max]
	}
	return string(r) + "…"
}

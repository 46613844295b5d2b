package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"ipdesk"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI    string                                 `json:"openapi"`
	Paths      map[string]map[string]openAPIOperation `json:"paths"`
	Components struct {
		Schemas   map[string]json.RawMessage `json:"schemas"`
		Responses map[string]json.RawMessage `json:"responses"`
	} `json:"components"`
}

type openAPIOperation struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	Responses map[string]json.RawMessage `json:"responses"`
}

func fetchOpenAPI(t *testing.T, e *testEnv) (openAPIDoc, []byte) {
	t.Helper()
	r := e.must(200, "GET", "/api/v1/openapi.json", "", nil, nil)
	var doc openAPIDoc
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc, r.body
}

// isAPIPattern tells whether a registered pattern belongs to the API (the
// HTML pages are not described by the OpenAPI document).
func isAPIPattern(pattern string) bool {
	_, p, _ := strings.Cut(pattern, " ")
	return strings.HasPrefix(p, "/api/") || p == "/healthz"
}

// TestOpenAPICompleteness walks the mux's registered routes and the
// document's operations: each must be in the other, and the mux must route
// a request for each documented operation to exactly that pattern.
func TestOpenAPICompleteness(t *testing.T) {
	e := newEnv(t)
	doc, raw := fetchOpenAPI(t, e)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}

	documented := map[string]bool{}
	opIDs := map[string]bool{}
	for p, item := range doc.Paths {
		for method, op := range item {
			pattern := strings.ToUpper(method) + " " + p
			documented[pattern] = true
			if op.OperationID == "" || opIDs[op.OperationID] {
				t.Errorf("%s: operationId %q missing or repeated", pattern, op.OperationID)
			}
			opIDs[op.OperationID] = true
			if len(op.Responses) == 0 {
				t.Errorf("%s: no responses", pattern)
			}
			// The mux routes a concrete request to this very pattern.
			concrete := p
			for _, prm := range op.Parameters {
				if prm.In == "path" {
					concrete = strings.ReplaceAll(concrete, "{"+prm.Name+"}", "7")
				}
			}
			if strings.Contains(concrete, "{") {
				t.Errorf("%s: path parameter not declared", pattern)
			}
			_, got := e.srv.mux.Handler(httptest.NewRequest(strings.ToUpper(method), concrete, nil))
			if got != pattern {
				t.Errorf("documented %s, but the mux routes %s %s to %q", pattern, strings.ToUpper(method), concrete, got)
			}
		}
	}

	registered := map[string]bool{}
	for _, pattern := range e.srv.patterns {
		if !isAPIPattern(pattern) {
			continue
		}
		registered[pattern] = true
		if !documented[pattern] {
			t.Errorf("route %s is served but not documented", pattern)
		}
	}
	for pattern := range documented {
		if !registered[pattern] {
			t.Errorf("route %s is documented but not served", pattern)
		}
	}
	if len(registered) < 30 {
		t.Errorf("only %d API routes registered", len(registered))
	}

	// Every reference resolves.
	var refs []string
	collectRefs(json.RawMessage(raw), &refs)
	for _, ref := range refs {
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if ok {
			if _, found := doc.Components.Schemas[name]; !found {
				t.Errorf("dangling reference %s", ref)
			}
			continue
		}
		name, ok = strings.CutPrefix(ref, "#/components/responses/")
		if _, found := doc.Components.Responses[name]; !ok || !found {
			t.Errorf("dangling reference %s", ref)
		}
	}
}

func collectRefs(raw json.RawMessage, out *[]string) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if s, ok := val.(string); ok && k == "$ref" {
					*out = append(*out, s)
				}
				walk(val)
			}
		case []any:
			for _, val := range x {
				walk(val)
			}
		}
	}
	walk(v)
}

// sampleValue is a valid value of a query parameter, for the tests.
func sampleValue(p param) string {
	switch p.typ {
	case ptInt, ptPrefixRef:
		return "1"
	case ptBool:
		return "true"
	case ptIP:
		return "10.1.0.5"
	case ptCIDR:
		return "10.0.0.0/8"
	case ptMAC:
		return "AA-BB-CC-DD-EE-FF"
	case ptTime:
		return "2020-01-01T00:00:00Z"
	case ptEnum:
		return p.enum[0]
	case ptDate:
		return "2026-03-02"
	}
	return "x"
}

// TestOpenAPIMatchesAnswers: every GET route accepts all the query
// parameters the document lists (a handler that read an undeclared one
// would fail with 500), and the members of its answer are the properties
// of the documented schema.
func TestOpenAPIMatchesAnswers(t *testing.T) {
	e := newOutputsEnv(t, filepath.Join(t.TempDir(), "t.db")).testEnv
	sp := e.space("campus")
	subnet := e.prefix(sp, "10.1.0.0/24", ipdesk.PrefixSubnet)
	e.prefix(sp, "10.2.0.0/16", ipdesk.PrefixContainer)
	e.must(http.StatusCreated, "POST", path("/api/v1/prefixes/%d/available-addresses", subnet.ID), e.admin, map[string]any{"hostname": "pc1"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "site", "name": "Main"}, nil)
	e.must(http.StatusOK, "POST", "/api/v1/apply", e.admin, nil, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/grants", e.admin, map[string]any{"group_id": 1, "object_type": "space", "object_id": sp, "right": "view"}, nil)
	room := seedTimetable(t, e)
	e.call("2345")
	e.srv.leases = oneLeaseReader(t, "10.1.0.9") // a lease in the subnet
	doc, _ := fetchOpenAPI(t, e)

	for _, rt := range e.srv.routes {
		if rt.method != "GET" || rt.reply.kind == replyStream { // streams: see api_events_test.go
			continue
		}
		concrete := rt.path
		for _, name := range rt.pathParams() {
			id := "1"
			if strings.Contains(rt.path, "available-prefixes") {
				id = "2" // the container
			}
			if strings.HasPrefix(rt.path, "/api/v1/rooms/") {
				id = strconv.FormatInt(room, 10)
			}
			concrete = strings.ReplaceAll(concrete, "{"+name+"}", id)
		}
		// Each documented query parameter, alone and with all the others.
		q := url.Values{}
		for _, prm := range rt.queryParams() {
			q.Set(prm.name, sampleValue(prm))
			r := e.do("GET", concrete+"?"+prm.name+"="+url.QueryEscape(sampleValue(prm)), e.admin, nil)
			if r.code >= 500 || (r.code == 400 && r.apiError(t).Field == prm.name) {
				t.Errorf("GET %s?%s=%s: %d %s", rt.path, prm.name, sampleValue(prm), r.code, r.body)
			}
		}
		if len(q) > 0 {
			if r := e.do("GET", concrete+"?"+q.Encode(), e.admin, nil); r.code >= 500 {
				t.Errorf("GET %s?%s: %d %s", rt.path, q.Encode(), r.code, r.body)
			}
		}

		// The answer's members are the documented ones.
		r := e.do("GET", concrete, e.admin, nil)
		if r.code != rt.reply.status {
			t.Errorf("GET %s: %d %s", concrete, r.code, r.body)
			continue
		}
		if rt.reply.kind != replyObject && rt.reply.kind != replyList && rt.reply.kind != replyWindow {
			continue
		}
		var resp struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		}
		op := doc.Paths[rt.path]["get"]
		if err := json.Unmarshal(op.Responses["200"], &resp); err != nil {
			t.Fatalf("%s: %v", rt.path, err)
		}
		schema := resp.Content["application/json"].Schema
		var body map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatalf("%s: %v", rt.path, err)
		}
		checkMembers(t, doc, "GET "+rt.path, schema, body)
		if rt.reply.kind != replyObject {
			var items []map[string]json.RawMessage
			json.Unmarshal(body["results"], &items)
			var s struct {
				Properties struct {
					Results struct {
						Items json.RawMessage `json:"items"`
					} `json:"results"`
				} `json:"properties"`
			}
			json.Unmarshal(schema, &s)
			if len(items) == 0 {
				t.Errorf("GET %s: no results to check", concrete)
				continue
			}
			checkMembers(t, doc, "GET "+rt.path+" results", s.Properties.Results.Items, items[0])
		}
	}
}

// checkMembers compares the members of an answer with the properties of
// its schema, following a $ref.
func checkMembers(t *testing.T, doc openAPIDoc, what string, schema json.RawMessage, body map[string]json.RawMessage) {
	t.Helper()
	var s struct {
		Ref        string                     `json:"$ref"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	json.Unmarshal(schema, &s)
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		json.Unmarshal(doc.Components.Schemas[name], &s)
	}
	var want, got []string
	for k := range s.Properties {
		want = append(want, k)
	}
	for k := range body {
		got = append(got, k)
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(want, got) {
		t.Errorf("%s: answer has members %v, schema documents %v", what, got, want)
	}
}

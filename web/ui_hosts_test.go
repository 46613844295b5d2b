package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/i18n"
)

// uiWorld is the permission world with a browser session of every user.
type uiWorld struct {
	*permWorld
	cookies map[string]*http.Cookie
}

func newUIWorld(t *testing.T, e *testEnv) *uiWorld {
	t.Helper()
	w := &uiWorld{permWorld: newPermWorld(t, e), cookies: map[string]*http.Cookie{}}
	for _, u := range []string{"admin", "reader", "viewer", "editor", "teacher", "outsider"} {
		w.cookies[u] = e.login(u, "password123")
	}
	return w
}

// get fetches a page as user and checks its status.
func (w *uiWorld) get(t *testing.T, user, target string, want int) string {
	t.Helper()
	r := w.page(target, w.cookies[user])
	if r.code != want {
		t.Fatalf("%s GET %s: %d, want %d: %.400s", user, target, r.code, want, r.body)
	}
	return string(r.body)
}

// post sends a form as user and checks its status.
func (w *uiWorld) post(t *testing.T, user, target string, v url.Values, want int) *response {
	t.Helper()
	r := w.form("POST", target, w.cookies[user], v)
	if r.code != want {
		t.Fatalf("%s POST %s: %d, want %d: %.600s", user, target, r.code, want, r.body)
	}
	return r
}

// follow fetches the page a change redirected to, as user, with the
// flash message the change left.
func (w *uiWorld) follow(t *testing.T, user string, r *response) string {
	t.Helper()
	target, _, _ := strings.Cut(r.header.Get("Location"), "#")
	req := httptest.NewRequest("GET", target, nil)
	req.AddCookie(w.cookies[user])
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == flashCookie {
			req.AddCookie(c)
		}
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s after a change: %d", r.header.Get("Location"), rec.Code)
	}
	return rec.Body.String()
}

// addr reads an address from the store.
func (w *uiWorld) addr(t *testing.T, id int64) *ipdesk.Address {
	t.Helper()
	a, err := w.db.FindAddressByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// rowIDs returns the ids of the host rows of a hosts page, in order.
func rowIDs(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr data-id="(\d+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func id64(n int64) string { return fmt.Sprint(n) }

// TestHostsPageScoped: every user sees the hosts they may see, and edit
// controls only where they may edit; the server refuses the changes of
// the others whatever they post, and changes nothing.
func TestHostsPageScoped(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		w := newUIWorld(t, e)
		for _, c := range []struct {
			user     string
			rows     []int64
			editable bool
		}{
			{"admin", []int64{w.a1, w.a2, w.b1}, true},
			{"reader", []int64{w.a1, w.a2, w.b1}, false},
			{"viewer", []int64{w.a1, w.a2}, false},
			{"editor", []int64{w.a1}, true},
			{"teacher", nil, false},
		} {
			body := w.get(t, c.user, "/hosts", http.StatusOK)
			var want []string
			for _, id := range c.rows {
				want = append(want, id64(id))
			}
			if got := rowIDs(body); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s sees rows %v, want %v", c.user, got, want)
			}
			controls := []string{`data-field="mac"`, `name="sel"`, `id="bulk"`, `href="/hosts/new"`, `href="/hosts/import"`}
			for _, ctl := range controls {
				if strings.Contains(body, ctl) != c.editable {
					t.Errorf("%s: edit control %s shown: %v, want %v", c.user, ctl, !c.editable, c.editable)
				}
			}
			// The host page: a form for editors, plain text for viewers.
			for _, id := range c.rows {
				hp := w.get(t, c.user, "/hosts/"+id64(id), http.StatusOK)
				if strings.Contains(hp, `name="mac"`) != c.editable || strings.Contains(hp, "/delete") != c.editable {
					t.Errorf("%s: the page of host %d shows the form: %v, want %v", c.user, id, !c.editable, c.editable)
				}
			}
		}
		// Hosts the user may not see are not found.
		w.get(t, "editor", "/hosts/"+id64(w.a2), http.StatusNotFound)
		w.get(t, "viewer", "/hosts/"+id64(w.b1), http.StatusNotFound)
		w.get(t, "outsider", "/hosts/"+id64(w.a1), http.StatusNotFound)
		w.get(t, "viewer", "/hosts/new", http.StatusForbidden)
		w.get(t, "viewer", "/hosts/import", http.StatusForbidden)

		// Forced posts of users without the right are refused.
		a1 := w.addr(t, w.a1)
		edit := url.Values{"address": {w.ipA1}, "status": {"active"}, "owner": {"Mallory"}, "version": {id64(a1.Version)}}
		w.post(t, "viewer", "/hosts/"+id64(w.a1), edit, http.StatusForbidden)
		w.post(t, "reader", "/hosts/"+id64(w.a1), edit, http.StatusForbidden)
		w.post(t, "editor", "/hosts/"+id64(w.a2), edit, http.StatusNotFound)
		w.post(t, "viewer", "/hosts/"+id64(w.a1)+"/delete", url.Values{}, http.StatusForbidden)
		w.post(t, "viewer", "/hosts/bulk", url.Values{"access_level": {"3"}, "sel": {id64(w.a1) + ":" + id64(a1.Version)}}, http.StatusForbidden)
		a2 := w.addr(t, w.a2)
		w.post(t, "editor", "/hosts/bulk", url.Values{"access_level": {"3"}, "sel": {id64(w.a1) + ":" + id64(a1.Version), id64(w.a2) + ":" + id64(a2.Version)}}, http.StatusNotFound)
		w.post(t, "viewer", "/hosts/new", url.Values{"space_id": {id64(w.spaceA)}, "address": {"10.1.1.77"}}, http.StatusForbidden)
		w.post(t, "editor", "/hosts/new", url.Values{"space_id": {id64(w.spaceA)}, "address": {"10.1.2.77"}}, http.StatusForbidden)
		w.post(t, "editor", "/hosts/new", url.Values{"space_id": {id64(w.spaceA)}, "subnet": {"10.1.2.0/24"}}, http.StatusBadRequest) // A2 is not one the editor knows
		// The API refuses the inline edit of a viewer the same way.
		r := e.do("PATCH", "/api/v1/addresses/"+id64(w.a1), "", map[string]any{"owner": "Mallory"}, "Cookie", sessionCookie+"="+w.cookies["viewer"].Value, "Sec-Fetch-Site", "same-origin")
		if r.code != http.StatusForbidden {
			t.Fatalf("viewer's inline edit: %d %s", r.code, r.body)
		}
		for _, id := range []int64{w.a1, w.a2} {
			if got := w.addr(t, id); got.Owner != "" || got.AccessLevel != 0 {
				t.Fatalf("a refused change changed host %d: %+v", id, got)
			}
		}
		if _, n, _ := e.db.FindAddresses(context.Background(), ipdesk.AddressFilter{}); n != 3 {
			t.Fatalf("refused creates left %d addresses, want 3", n)
		}

		// The editor may change its own host.
		edit.Set("owner", "Anna")
		w.post(t, "editor", "/hosts/"+id64(w.a1), edit, http.StatusSeeOther)
		if got := w.addr(t, w.a1); got.Owner != "Anna" {
			t.Fatalf("the editor's change: %+v", got)
		}
	})
}

// TestHostsSearchSortPage: the search finds a MAC in any notation, the
// filters and sort orders work in the database, the URL keeps the state
// and pages through the list; bad filter values are named.
func TestHostsSearchSortPage(t *testing.T) {
	e := newEnv(t)
	sp := e.space("lan")
	e.prefix(sp, "10.2.0.0/24", ipdesk.PrefixSubnet)
	var site, room ipdesk.Location
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "site", "name": "Main"}, &site)
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "room", "name": "303", "parent_id": site.ID}, &room)
	var ids []int64
	for i := 1; i <= 7; i++ {
		body := map[string]any{"space_id": sp, "address": fmt.Sprintf("10.2.0.%d", i), "hostname": fmt.Sprintf("pc%d", 8-i),
			"mac": fmt.Sprintf("02:00:00:00:00:%02x", i), "access_level": i % 3, "owner": fmt.Sprintf("Owner %d", i)}
		if i%2 == 0 {
			body["location_id"] = room.ID
		}
		var a ipdesk.Address
		e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, body, &a)
		ids = append(ids, a.ID)
	}
	c := e.login("admin", "password123")
	get := func(target string, want int) string {
		t.Helper()
		r := e.page(target, c)
		if r.code != want {
			t.Fatalf("GET %s: %d, want %d: %.300s", target, r.code, want, r.body)
		}
		return string(r.body)
	}
	for _, tc := range []struct {
		query string
		want  []int64 // row ids in order
	}{
		{"", ids},
		{"?q=0200.0000.0003", ids[2:3]},             // a MAC in Cisco notation
		{"?q=02-00-00-00-00-05", ids[4:5]},          // and with hyphens
		{"?q=owner+6", ids[5:6]},                    // a substring of the owner
		{"?q=303", []int64{ids[1], ids[3], ids[5]}}, // the room's name
		{"?location=" + id64(room.ID), []int64{ids[1], ids[3], ids[5]}},
		{"?location=0", []int64{ids[0], ids[2], ids[4], ids[6]}},
		{"?level=2", []int64{ids[1], ids[4]}},
		{"?prefix=10.2.0.0/30", ids[0:3]},
		{"?sort=-address", []int64{ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"?sort=hostname&limit=25", []int64{ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"?sort=hostname&limit=25&offset=5", []int64{ids[1], ids[0]}},
	} {
		body := get("/hosts"+tc.query, http.StatusOK)
		var want []string
		for _, id := range tc.want {
			want = append(want, id64(id))
		}
		if got := rowIDs(body); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("/hosts%s: rows %v, want %v", tc.query, got, want)
		}
	}
	// The fragment is the table alone, with the same rows.
	frag := get("/hosts/rows?q=0200.0000.0003", http.StatusOK)
	if strings.Contains(frag, "<html") || !strings.Contains(frag, `id="hosts-results"`) || strings.Join(rowIDs(frag), ",") != id64(ids[2]) {
		t.Fatalf("fragment: %.500s", frag)
	}
	// The sort links keep the search and toggle the order.
	body := get("/hosts?q=owner&sort=hostname", http.StatusOK)
	if !strings.Contains(body, `href="/hosts?q=owner&amp;sort=-hostname"`) || !strings.Contains(body, `aria-sort="ascending"`) {
		t.Errorf("the hostname column does not link to the descending order")
	}
	// Paging links.
	body = get("/hosts?limit=25&offset=0&sort=hostname", http.StatusOK)
	if strings.Contains(body, `rel="next"`) {
		t.Errorf("one page of 7 hosts links to a next page")
	}
	// Bad filters are named, and shown without rows.
	for _, bad := range []struct{ query, says string }{
		{"?prefix=10.2.0.0/99", `prefix &#34;10.2.0.0/99&#34; is not a CIDR prefix`},
		{"?level=x", `level &#34;x&#34; is not a whole number`},
		{"?sort=evil", `sort &#34;evil&#34; is not one of`},
		{"?prefix=999", `subnet 999 does not exist`},
		{"?q=" + strings.Repeat("x", 201), `at most 200 are allowed`},
	} {
		body := get("/hosts"+bad.query, http.StatusBadRequest)
		if !strings.Contains(body, bad.says) || !strings.Contains(bad.query, "sort") && !strings.Contains(body, `aria-invalid="true"`) || len(rowIDs(body)) != 0 {
			t.Errorf("/hosts%s: want the message %q beside the field and no rows", bad.query, bad.says)
		}
	}
}

// TestHostsBulk: the bulk change sets the level of every selected host in
// one transaction, or, when one is stale, of none.
func TestHostsBulk(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		w := newUIWorld(t, e)
		a1, a2, b1 := w.addr(t, w.a1), w.addr(t, w.a2), w.addr(t, w.b1)
		sel := func(as ...*ipdesk.Address) []string {
			var out []string
			for _, a := range as {
				out = append(out, id64(a.ID)+":"+id64(a.Version))
			}
			return out
		}
		// One stale row: nothing changes, the form says why.
		stale := *b1
		stale.Version++
		r := w.post(t, "admin", "/hosts/bulk", url.Values{"access_level": {"2"}, "sel": sel(a1, a2, &stale), "back": {"/hosts?q=10."}}, http.StatusPreconditionFailed)
		if !strings.Contains(string(r.body), "changed by someone else") || !strings.Contains(string(r.body), `id="bulk-error"`) {
			t.Fatalf("stale bulk change: %.500s", r.body)
		}
		for _, a := range []*ipdesk.Address{a1, a2, b1} {
			if got := w.addr(t, a.ID); got.AccessLevel != 0 || got.Version != a.Version {
				t.Fatalf("a refused bulk change changed %s: %+v", a.Addr, got)
			}
		}
		w.post(t, "admin", "/hosts/bulk", url.Values{"access_level": {"2"}, "back": {"/hosts"}}, http.StatusBadRequest)
		w.post(t, "admin", "/hosts/bulk", url.Values{"access_level": {"42"}, "sel": sel(a1)}, http.StatusBadRequest)

		r = w.post(t, "admin", "/hosts/bulk", url.Values{"access_level": {"2"}, "sel": sel(a1, a2, b1), "back": {"/hosts?q=10."}}, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != "/hosts?q=10." {
			t.Fatalf("after the bulk change the browser goes to %q", loc)
		}
		for _, a := range []*ipdesk.Address{a1, a2, b1} {
			if got := w.addr(t, a.ID); got.AccessLevel != 2 || got.Version != a.Version+1 {
				t.Fatalf("bulk change of %s: %+v", a.Addr, got)
			}
		}
		// Elsewhere the back link is not followed.
		r = w.post(t, "admin", "/hosts/bulk", url.Values{"access_level": {"1"}, "sel": sel(w.addr(t, w.a1)), "back": {"https://evil.example/"}}, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != "/hosts" {
			t.Fatalf("a foreign back link led to %q", loc)
		}
	})
}

// TestHostForm: bad input is shown beside its field with what was typed
// and changes nothing; good input is saved and appears in the history;
// delete removes the host; new hosts are created at an address or at the
// first free one of a subnet.
func TestHostForm(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		w := newUIWorld(t, e)
		a1 := w.addr(t, w.a1)
		form := func(mod func(url.Values)) url.Values {
			v := url.Values{"address": {w.ipA1}, "status": {"active"}, "hostname": {a1.Hostname}, "location_id": {"0"},
				"access_level": {"0"}, "version": {id64(a1.Version)}}
			mod(v)
			return v
		}
		for _, bad := range []struct {
			name, field, value, says string
			status                   int
		}{
			{"bad MAC", "mac", "zz:zz", `mac &#34;zz:zz&#34; is not a MAC address`, 400},
			{"bad hostname", "hostname", "pc 1", `hostname &#34;pc 1&#34; contains`, 400},
			{"address outside the subnets", "address", "10.7.7.7", `10.7.7.7`, 400},
			{"no such level", "access_level", "42", `access level 42 does not exist`, 400},
			{"room not visible", "location_id", id64(w.site), `location_id ` + id64(w.site) + `: no such location`, 400},
		} {
			t.Run(bad.name, func(t *testing.T) {
				user := "admin"
				if bad.field == "location_id" {
					user = "editor"
				}
				r := w.post(t, user, "/hosts/"+id64(w.a1), form(func(v url.Values) { v.Set(bad.field, bad.value) }), bad.status)
				body := string(r.body)
				fieldID := map[string]string{"mac": "mac", "hostname": "hostname", "address": "address", "access_level": "access_level", "location_id": "location_id"}[bad.field]
				if !strings.Contains(body, `id="e-`+fieldID+`"`) || !strings.Contains(body, bad.says) {
					t.Fatalf("the error is not beside %s: %s", bad.field, body[strings.Index(body, "<main"):])
				}
				if bad.field != "location_id" && bad.field != "access_level" && !strings.Contains(body, `value="`+strings.ReplaceAll(bad.value, " ", " ")+`"`) {
					t.Fatalf("the typed %s %q is not kept", bad.field, bad.value)
				}
				if got := w.addr(t, w.a1); got.Version != a1.Version {
					t.Fatalf("a refused edit changed the host: %+v", got)
				}
			})
		}
		// A stale version is refused with a message above the form.
		r := w.post(t, "admin", "/hosts/"+id64(w.a1), form(func(v url.Values) { v.Set("owner", "X"); v.Set("version", id64(a1.Version+5)) }), http.StatusPreconditionFailed)
		if !strings.Contains(string(r.body), `id="form-error"`) {
			t.Fatalf("stale edit: %.500s", r.body)
		}
		// A good edit.
		r = w.post(t, "admin", "/hosts/"+id64(w.a1), form(func(v url.Values) {
			v.Set("mac", "AA-BB-CC-00-00-01")
			v.Set("owner", "Иванов")
			v.Set("location_id", id64(w.room))
			v.Set("dhcp_reservation", "1")
		}), http.StatusSeeOther)
		got := w.addr(t, w.a1)
		if got.MAC.String() != "aa:bb:cc:00:00:01" || got.Owner != "Иванов" || got.LocationID != w.room || !got.DHCPReservation {
			t.Fatalf("saved %+v", got)
		}
		page := w.follow(t, "admin", r)
		for _, want := range []string{"Saved, with a warning: hostname &#34;h10&#34; is also used", "aa:bb:cc:00:00:01", "Иванов", "S &gt; R", "changed", "History"} {
			if !strings.Contains(page, want) {
				t.Errorf("the host page after the edit lacks %q: %s", want, page[strings.Index(page, "<main"):strings.Index(page, "<main")+400])
			}
		}
		// The editor sees the host in room R, which it may see, and may
		// keep it there.
		w.post(t, "editor", "/hosts/"+id64(w.a1), url.Values{"address": {w.ipA1}, "status": {"active"}, "mac": {"aa:bb:cc:00:00:01"}, "owner": {"Anna"},
			"location_id": {id64(w.room)}, "access_level": {"0"}, "dhcp_reservation": {"1"}, "version": {id64(got.Version)}}, http.StatusSeeOther)

		// New hosts.
		r = w.post(t, "editor", "/hosts/new", url.Values{"space_id": {id64(w.spaceA)}, "address": {"10.1.1.40"}, "status": {"active"}, "hostname": {"new1"}, "access_level": {"1"}}, http.StatusSeeOther)
		if !strings.HasPrefix(r.header.Get("Location"), "/hosts/") {
			t.Fatalf("create: %v", r.header)
		}
		r = w.post(t, "editor", "/hosts/new", url.Values{"space_id": {id64(w.spaceA)}, "subnet": {"10.1.1.0/24"}, "status": {"active"}, "hostname": {"new2"}}, http.StatusSeeOther)
		var id int64
		fmt.Sscanf(r.header.Get("Location"), "/hosts/%d", &id)
		if a := w.addr(t, id); a.Addr.String() != "10.1.1.1" || a.Hostname != "new2" {
			t.Fatalf("first free: %+v", a)
		}
		for _, bad := range []struct {
			form url.Values
			id   string
		}{
			{url.Values{"space_id": {id64(w.spaceA)}}, "e-address"},
			{url.Values{"space_id": {id64(w.spaceA)}, "address": {"10.1.1.10"}}, "e-address"}, // taken
			{url.Values{"space_id": {id64(w.spaceA)}, "subnet": {"10.1.9.0/24"}}, "e-subnet"},
			{url.Values{"space_id": {id64(w.spaceA)}, "subnet": {"nonsense"}}, "e-subnet"},
			{url.Values{"space_id": {id64(w.spaceA)}, "address": {"10.1.1.41"}, "mac": {"zz"}}, "e-mac"},
		} {
			r := w.form("POST", "/hosts/new", w.cookies["editor"], bad.form)
			if r.code < 400 || !strings.Contains(string(r.body), `id="`+bad.id+`"`) {
				t.Errorf("new host %v: %d, want the error %s: %.300s", bad.form, r.code, bad.id, r.body)
			}
		}
		// Delete.
		cur := w.addr(t, id)
		w.post(t, "editor", "/hosts/"+id64(id)+"/delete", url.Values{"version": {id64(cur.Version)}}, http.StatusSeeOther)
		w.get(t, "editor", "/hosts/"+id64(id), http.StatusNotFound)
	})
}

// TestHostsExport: the export holds the hosts the user may see, in the
// format the import reads, with spreadsheet formulas defused.
func TestHostsExport(t *testing.T) {
	e := newEnv(t)
	w := newUIWorld(t, e)
	e.must(http.StatusOK, "PATCH", "/api/v1/addresses/"+id64(w.a1), e.admin, map[string]any{"owner": "=HYPERLINK(\"http://evil\")"}, nil)
	r := e.page("/hosts/export.csv", w.cookies["editor"])
	if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", r.code, r.header)
	}
	lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "space,address,") || !strings.Contains(lines[1], w.ipA1) || !strings.Contains(lines[1], `'=HYPERLINK`) {
		t.Fatalf("the editor's export: %q", lines)
	}
	r = e.page("/hosts/export.json?q=10.1.", w.cookies["viewer"])
	var hosts []map[string]any
	if err := json.Unmarshal(r.body, &hosts); err != nil || len(hosts) != 2 {
		t.Fatalf("the viewer's JSON export of 10.1.: %v %s", err, r.body)
	}
	r = e.page("/hosts/export.csv", w.cookies["admin"])
	if n := strings.Count(strings.TrimSpace(string(r.body)), "\n"); n != 3 {
		t.Fatalf("the admin's export has %d hosts, want 3", n)
	}
	if r := e.page("/hosts/export.csv?level=x", w.cookies["admin"]); r.code != 400 {
		t.Fatalf("export with a bad filter: %d", r.code)
	}
	if r := e.page("/hosts/export.csv", w.cookies["outsider"]); r.code != 200 || strings.Count(string(r.body), "\n") != 1 {
		t.Fatalf("the outsider's export: %d %q", r.code, r.body)
	}
}

// upload posts a host list (and other fields) to the import page as a
// browser would and checks the status.
func (w *uiWorld) upload(t *testing.T, user, name, content string, fields map[string]string, want int) string {
	t.Helper()
	rec := w.uploadRaw(t, user, name, content, fields)
	if rec.Code != want {
		t.Fatalf("%s import %s: %d, want %d: %.800s", user, name, rec.Code, want, rec.Body.String())
	}
	return rec.Body.String()
}

// uploadRaw posts a multipart form to the import page; name "" sends no
// file.
func (w *uiWorld) uploadRaw(t *testing.T, user, name, content string, fields map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write([]byte(content))
	}
	mw.Close()
	req := httptest.NewRequest("POST", "/hosts/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(w.cookies[user])
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	return rec
}

// TestHostsImport: the preview shows every row with its problems and
// writes nothing; rows outside the user's rights are problems of those
// rows; a clean file is imported in full with the second step.
func TestHostsImport(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *testEnv) {
		w := newUIWorld(t, e)
		count := func() int {
			_, n, _ := e.db.FindAddresses(context.Background(), ipdesk.AddressFilter{})
			return n
		}
		before := count()
		broken := "space,address,mac,hostname,owner,location\n" +
			"A,10.1.1.50,aa:bb:cc:00:00:50,pc50,Anna,S > R\n" + // line 2: fine
			"A,10.1.1.51,zz:zz,pc51,,\n" + // line 3: bad MAC
			"A,10.1.2.52,,pc52,,\n" + // line 4: subnet A2, not the editor's
			"B,10.9.0.53,,pc53,,\n" + // line 5: space B, unknown to the editor
			"Nowhere,10.1.1.54,,pc54,,\n" + // line 6: no such space
			"A,10.1.1.55,,pc55,,S\n" + // line 7: site S, which the editor may not see
			"A,10.1.1.56,,pc_56,,\n" + // line 8: bad hostname
			"A,10.1.1.57,,pc57,,\n" + // line 9: the same address as line 10
			"A,10.1.1.57,,pc57b,,\n" + // line 10
			"A,10.1.1.58,,pc58,,,Müller\n" // line 11: a cell too many
		body := w.upload(t, "editor", "hosts.csv", broken, nil, http.StatusBadRequest)
		for _, want := range []string{
			`<th scope="row">2</th>`, `pc50`,
			`<th scope="row">3</th>`, `mac &#34;zz:zz&#34; is not a MAC address`,
			`<th scope="row">4</th>`, `may not change address 10.1.2.52`,
			`<th scope="row">5</th>`, `space &#34;B&#34; does not exist`,
			`<th scope="row">6</th>`, `space &#34;Nowhere&#34; does not exist`,
			`<th scope="row">7</th>`, `location &#34;S&#34; does not exist`,
			`<th scope="row">8</th>`, `pc_56`,
			`<th scope="row">9</th>`, `address 10.1.1.57 of space &#34;A&#34; is also on line 10`,
			`<th scope="row">10</th>`, `address 10.1.1.57 of space &#34;A&#34; is also on line 9`,
			`<th scope="row">11</th>`, `7 cells, but the header row names 6 columns`,
			`9 problems`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the preview lacks %q", want)
			}
		}
		if strings.Contains(body, `name="commit"`) {
			t.Errorf("a file with problems can be imported")
		}
		if n := count(); n != before {
			t.Fatalf("the preview of a broken file stored %d addresses", n-before)
		}
		// A forged commit of the broken file writes nothing either.
		body = w.upload(t, "editor", "", "", map[string]string{"commit": "1", "format": "csv", "data": broken}, http.StatusBadRequest)
		if n := count(); n != before || !strings.Contains(body, "problems") {
			t.Fatalf("a forged commit of a broken file: %d stored", n-before)
		}

		good := "space,address,mac,hostname,owner,location\n" +
			"A,10.1.1.50,aa:bb:cc:00:00:50,pc50,Anna,S > R\n" +
			"A,10.1.1.10,,h10,Bert,\n" // updates a1
		body = w.upload(t, "editor", "hosts.csv", good, nil, http.StatusOK)
		if !strings.Contains(body, `name="commit"`) || !strings.Contains(body, "1 hosts would be created, 1 changed") {
			t.Fatalf("preview of a good file: %.2000s", body)
		}
		if n := count(); n != before {
			t.Fatalf("the preview stored %d addresses", n-before)
		}
		m := regexp.MustCompile(`name="data" value="([^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("the preview does not carry the file")
		}
		data := htmlUnescape(m[1])
		if data != good {
			t.Fatalf("the carried file %q differs from the upload", data)
		}
		r := w.uploadRaw(t, "editor", "", "", map[string]string{"commit": "1", "format": "csv", "name": "hosts.csv", "data": data})
		if r.Code != http.StatusSeeOther {
			t.Fatalf("import: %d %s", r.Code, r.Body)
		}
		if n := count(); n != before+1 {
			t.Fatalf("the import stored %d addresses, want 1", n-before)
		}
		if a := w.addr(t, w.a1); a.Owner != "Bert" {
			t.Fatalf("the import did not update a1: %+v", a)
		}
		// Too large, not UTF-8, a bad header: messages about the file.
		w.upload(t, "editor", "big.csv", "space,address\n"+strings.Repeat("A,10.1.1.1\n", maxImportBytes/11+1), nil, http.StatusRequestEntityTooLarge)
		body = w.upload(t, "editor", "latin1.csv", "space,address,owner\nA,10.1.1.60,M\xfcller\n", nil, http.StatusBadRequest)
		if !strings.Contains(body, "not UTF-8") {
			t.Fatalf("latin-1 file: %.500s", body)
		}
		body = w.upload(t, "editor", "x.csv", "spaces,address\n", nil, http.StatusBadRequest)
		if !strings.Contains(body, `unknown column &#34;spaces&#34;`) {
			t.Fatalf("bad header: %.500s", body)
		}
		// The viewer may not import at all.
		w.upload(t, "viewer", "hosts.csv", good, nil, http.StatusForbidden)
		// JSON works too.
		js := `[{"space":"A","address":"10.1.1.61","hostname":"pc61"}]`
		body = w.upload(t, "editor", "hosts.json", js, nil, http.StatusOK)
		if !strings.Contains(body, "pc61") || !strings.Contains(body, `name="format" value="json"`) {
			t.Fatalf("JSON preview: %.800s", body)
		}
	})
}

// htmlUnescape undoes html/template's escaping of an attribute value.
func htmlUnescape(s string) string {
	return strings.NewReplacer("&#10;", "\n", "&#13;", "\r", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&#43;", "+", "&amp;", "&").Replace(s)
}

// TestHostFieldKeys: every field the history names has a text.
func TestHostFieldKeys(t *testing.T) {
	for _, lang := range i18n.Languages {
		c := i18n.For(lang)
		for _, f := range hostHistoryFields {
			if !c.Has("hosts.field." + f) {
				t.Errorf("%s: no text for hosts.field.%s", lang, f)
			}
		}
		for _, f := range locationHistoryFields {
			if !c.Has("locations.field." + f) {
				t.Errorf("%s: no text for locations.field.%s", lang, f)
			}
		}
		for _, st := range addressStatuses {
			if !c.Has("hosts.status." + string(st)) {
				t.Errorf("%s: no text for status %s", lang, st)
			}
		}
		for _, k := range locationKinds {
			if !c.Has("locations.kind." + string(k)) {
				t.Errorf("%s: no text for kind %s", lang, k)
			}
			if k != ipdesk.LocationSite && !c.Has("locations.add."+string(k)) {
				t.Errorf("%s: no text for adding a %s", lang, k)
			}
		}
	}
}

// TestHostsImportWarningsScoped: the preview's warning about a repeated
// hostname names the other hosts only to users who see everything.
func TestHostsImportWarningsScoped(t *testing.T) {
	w := newUIWorld(t, newEnv(t))
	csv := "space,address,hostname\nA,10.1.1.60,h10\n" // h10 is also a1's, a2's and b1's name
	editor := w.upload(t, "editor", "hosts.csv", csv, nil, http.StatusOK)
	if !strings.Contains(editor, "also used by other hosts") || strings.Contains(editor, w.ipA2) {
		t.Errorf("the editor's preview warning names hosts it may not see, or no warning at all")
	}
	admin := w.upload(t, "admin", "hosts.csv", csv, nil, http.StatusOK)
	if !strings.Contains(admin, w.ipA2) {
		t.Errorf("the administrator's preview warning does not name the other hosts")
	}
}

package web

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/leases"
	"ipdesk/sqldb"
)

// Lease files of the three daemons for the web tests: far-future ends, so
// that every lease is active whenever the test runs. The lab subnet
// 10.77.0.0/24 holds a lease as reserved (.50), a reserved MAC on another
// address (.101, reserved at .51), an address leased by another MAC than
// recorded (.52) and an unknown lease (.100, with a host name); the other
// space's 10.88.0.0/24 one unknown lease.
const (
	webISCLeases = `# dhcpd.leases
lease 10.77.0.100 {
  starts 4 2099/01/01 00:00:00;
  ends 4 2099/12/31 00:00:00;
  cltt 4 2099/01/01 00:00:00;
  binding state active;
  hardware ethernet 02:1d:e5:77:00:0c;
  client-hostname "pc-c";
}
this line is garbage;
`
	webKeaLeases = `address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context
10.77.0.50,02:1d:e5:77:00:0a,,600,4102444800,1,0,0,pc-a,0,
10.77.0.101,02:1d:e5:77:00:0b,,600,4102444800,1,0,0,pc-b,0,
garbage
`
	webDnsmasqLeases = `4102444800 02:1d:e5:77:00:99 10.77.0.52 intruder *
4102444800 02:1d:e5:88:00:01 10.88.0.7 other-pc *
`
)

// leaseEnv is a server with the three lease files and the plan above.
type leaseEnv struct {
	*testEnv
	dir                     string
	lab, other              int64 // spaces
	labSubnet, otherSubnet  int64
	hostA, hostB, hostD     int64
	limited                 string // token of a user who sees only the other space
	limitedName, editorName string
	editor                  string // token of a user who may edit the lab subnet
}

func newLeaseEnv(t *testing.T) *leaseEnv {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"dhcpd.leases": webISCLeases, "kea-leases4.csv": webKeaLeases, "dnsmasq.leases": webDnsmasqLeases}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reader, err := leases.NewReader([]leases.Source{
		{Name: "dhcpd", Kind: leases.KindISCDHCP, Path: filepath.Join(dir, "dhcpd.leases")},
		{Name: "kea", Kind: leases.KindKea, Path: filepath.Join(dir, "kea-leases4.csv")},
		{Name: "dnsmasq", Kind: leases.KindDnsmasq, Path: filepath.Join(dir, "dnsmasq.leases"), LeaseTime: "12h"},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &leaseEnv{dir: dir, testEnv: newEnvWith(t, filepath.Join(t.TempDir(), "t.db"), nil, func(_ *sqldb.DB, o *Options) { o.Leases = reader })}
	e.lab, e.other = e.space("lab"), e.space("other")
	e.labSubnet = e.prefix(e.lab, "10.77.0.0/24", ipdesk.PrefixSubnet, "dhcp", true).ID
	e.otherSubnet = e.prefix(e.other, "10.88.0.0/24", ipdesk.PrefixSubnet, "dhcp", true).ID
	host := func(addr, mac, name string) int64 {
		var a ipdesk.Address
		e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": e.lab, "address": addr,
			"mac": mac, "hostname": name, "dhcp_reservation": true}, &a)
		return a.ID
	}
	e.hostA = host("10.77.0.50", "02:1d:e5:77:00:0a", "pc-a")
	e.hostB = host("10.77.0.51", "02:1d:e5:77:00:0b", "pc-b")
	e.hostD = host("10.77.0.52", "02:1d:e5:77:00:0d", "pc-d")
	user := func(name string, spaceOrPrefix string, id int64, right string) string {
		tok := e.makeUser(name, false)
		u, err := e.db.FindUserByName(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		var g ipdesk.Group
		e.must(http.StatusCreated, "POST", "/api/v1/groups", e.admin, map[string]any{"name": name + "s", "members": []int64{u.ID}}, &g)
		e.must(http.StatusCreated, "POST", "/api/v1/grants", e.admin, map[string]any{"group_id": g.ID, "object_type": spaceOrPrefix, "object_id": id, "right": right}, nil)
		return tok
	}
	e.limitedName, e.editorName = "limited", "editor"
	e.limited = user(e.limitedName, "space", e.other, "view")
	e.editor = user(e.editorName, "prefix", e.labSubnet, "edit")
	return e
}

type leaseList struct {
	Count   int        `json:"count"`
	Results []leaseRow `json:"results"`
}

// statuses returns "address server status" of each row.
func (l leaseList) statuses() string {
	var out []string
	for _, r := range l.Results {
		out = append(out, r.Address.String()+" "+r.Server+" "+r.Status)
	}
	return strings.Join(out, ", ")
}

func TestLeasesAPI(t *testing.T) {
	e := newLeaseEnv(t)
	var l leaseList
	e.must(http.StatusOK, "GET", path("/api/v1/leases?prefix=%d", e.labSubnet), e.admin, nil, &l)
	want := "10.77.0.50 kea reserved, 10.77.0.52 dnsmasq other_mac, 10.77.0.100 dhcpd unknown, 10.77.0.101 kea moved"
	if got := l.statuses(); got != want || l.Count != 4 {
		t.Fatalf("the lab subnet's leases:\n got %s\nwant %s", got, want)
	}
	a, d, c, b := l.Results[0], l.Results[1], l.Results[2], l.Results[3]
	if a.AddressID != e.hostA || a.MAC.String() != "02:1d:e5:77:00:0a" || a.Hostname != "pc-a" || a.Ends == nil || a.LastSeen == nil ||
		a.LastSeen.Unix() != 4102444800-600 {
		t.Errorf("the reserved lease: %+v", a)
	}
	if d.AddressID != e.hostD || d.RecordedMAC.String() != "02:1d:e5:77:00:0d" || d.MAC.String() != "02:1d:e5:77:00:99" {
		t.Errorf("the lease by another MAC: %+v", d)
	}
	if c.AddressID != 0 || c.Hostname != "pc-c" || c.MAC.String() != "02:1d:e5:77:00:0c" || c.State != "active" {
		t.Errorf("the unknown lease: %+v", c)
	}
	if b.ReservationID != e.hostB || b.ReservedAddress == nil || b.ReservedAddress.String() != "10.77.0.51" {
		t.Errorf("the reservation leasing elsewhere: %+v", b)
	}
	// Filters and paging.
	e.must(http.StatusOK, "GET", "/api/v1/leases?status=unknown", e.admin, nil, &l)
	if got := l.statuses(); got != "10.77.0.100 dhcpd unknown, 10.88.0.7 dnsmasq unknown" {
		t.Errorf("unknown leases everywhere: %s", got)
	}
	e.must(http.StatusOK, "GET", path("/api/v1/leases?space=%d&limit=1&offset=1", e.lab), e.admin, nil, &l)
	if l.Count != 4 || len(l.Results) != 1 || l.Results[0].Address.String() != "10.77.0.52" {
		t.Errorf("a page of the lab space: %+v", l)
	}
	if r := e.do("GET", "/api/v1/leases?status=lost", e.admin, nil); r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "lost") {
		t.Errorf("a bad status: %d %s", r.code, r.body)
	}
	// The sources, with the garbage lines counted.
	var src struct {
		Results []leaseSource `json:"results"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/lease-sources", e.admin, nil, &src)
	if len(src.Results) != 3 || src.Results[0].Skipped != 1 || src.Results[1].Skipped != 1 || src.Results[2].Active != 2 {
		t.Errorf("sources: %+v", src.Results)
	}
	// Last seen, in the address.
	var av struct {
		ipdesk.Address
		LastSeen       *string `json:"last_seen"`
		LastSeenServer string  `json:"last_seen_server"`
	}
	e.must(http.StatusOK, "GET", path("/api/v1/addresses/%d", e.hostA), e.admin, nil, &av)
	if av.LastSeen == nil || *av.LastSeen != "2099-12-31T23:50:00Z" || av.LastSeenServer != "kea" {
		t.Errorf("host A last seen: %v %q", av.LastSeen, av.LastSeenServer)
	}
	e.must(http.StatusOK, "GET", path("/api/v1/addresses/%d", e.hostD), e.admin, nil, &av)
	if av.LastSeen != nil {
		t.Errorf("host D, whose MAC leases nothing, last seen %v", *av.LastSeen)
	}
}

// TestLeasesPermissions: a user without view on the lab space sees
// nothing of its leases, in the API or on the page, and cannot adopt one.
func TestLeasesPermissions(t *testing.T) {
	e := newLeaseEnv(t)
	var l leaseList
	e.must(http.StatusOK, "GET", "/api/v1/leases", e.limited, nil, &l)
	if got := l.statuses(); got != "10.88.0.7 dnsmasq unknown" {
		t.Errorf("the limited user's leases: %s", got)
	}
	if r := e.do("GET", path("/api/v1/leases?prefix=%d", e.labSubnet), e.limited, nil); r.code != http.StatusNotFound {
		t.Errorf("the lab subnet for the limited user: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/lease-sources", e.limited, nil); r.code != http.StatusForbidden {
		t.Errorf("the sources for the limited user: %d", r.code)
	}
	cookie := e.login(e.limitedName, "password123")
	page := e.page("/leases", cookie)
	if page.code != http.StatusOK || strings.Contains(string(page.body), "10.77.") || !strings.Contains(string(page.body), "10.88.0.7") {
		t.Errorf("the limited user's page (%d):\n%s", page.code, page.body)
	}
	if r := e.page(path("/leases?prefix=%d", e.labSubnet), cookie); r.code != http.StatusNotFound || strings.Contains(string(r.body), "10.77.0.100") {
		t.Errorf("the lab subnet's page for the limited user: %d", r.code)
	}
	r := e.form("POST", "/leases/adopt", cookie, url.Values{"prefix_id": {path("%d", e.labSubnet)}, "address": {"10.77.0.100"}, "server": {"dhcpd"}})
	if r.code != http.StatusNotFound {
		t.Errorf("adopting by the limited user: %d", r.code)
	}
	// In the other space, where the user may look but not edit: no button,
	// and a posted form is refused.
	if strings.Contains(string(page.body), "/leases/adopt") {
		t.Errorf("the limited user is offered to adopt a lease")
	}
	r = e.form("POST", "/leases/adopt", cookie, url.Values{"prefix_id": {path("%d", e.otherSubnet)}, "address": {"10.88.0.7"}, "server": {"dnsmasq"}})
	if r.code != http.StatusForbidden {
		t.Errorf("adopting without edit rights: %d", r.code)
	}
	var n leaseList
	e.must(http.StatusOK, "GET", "/api/v1/addresses?address=10.88.0.7", e.admin, nil, &n)
	if n.Count != 0 {
		t.Errorf("a refused adoption stored a host")
	}
}

// TestLeaseAdopt: one POST turns the unknown lease into a reserved host
// with the lease's MAC and name; a second finds nothing to do.
func TestLeaseAdopt(t *testing.T) {
	e := newLeaseEnv(t)
	cookie := e.login(e.editorName, "password123")
	page := e.page(path("/leases?prefix=%d", e.labSubnet), cookie)
	body := string(page.body)
	if page.code != http.StatusOK || !strings.Contains(body, `id="lease-10.77.0.100"`) || strings.Count(body, `action="/leases/adopt"`) != 1 {
		t.Fatalf("the lab subnet's page (%d):\n%s", page.code, body)
	}
	form := url.Values{"prefix_id": {path("%d", e.labSubnet)}, "address": {"10.77.0.100"}, "server": {"dhcpd"}}
	r := e.form("POST", "/leases/adopt", cookie, form)
	if r.code != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), path("/leases?prefix=%d", e.labSubnet)) {
		t.Fatalf("adopt: %d %s %s", r.code, r.header.Get("Location"), r.body)
	}
	var hosts struct {
		Count   int               `json:"count"`
		Results []*ipdesk.Address `json:"results"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/addresses?address=10.77.0.100", e.admin, nil, &hosts)
	if hosts.Count != 1 || hosts.Results[0].MAC.String() != "02:1d:e5:77:00:0c" || hosts.Results[0].Hostname != "pc-c" ||
		!hosts.Results[0].DHCPReservation || hosts.Results[0].PrefixID != e.labSubnet {
		t.Fatalf("the adopted host: %+v", hosts.Results)
	}
	var audit struct {
		Results []ipdesk.AuditEntry `json:"results"`
	}
	e.must(http.StatusOK, "GET", path("/api/v1/audit?object_type=address&object_id=%d", hosts.Results[0].ID), e.admin, nil, &audit)
	if len(audit.Results) != 1 || audit.Results[0].Actor != e.editorName {
		t.Errorf("the audit of the adoption: %+v", audit.Results)
	}
	var l leaseList
	e.must(http.StatusOK, "GET", path("/api/v1/leases?prefix=%d&status=reserved", e.labSubnet), e.admin, nil, &l)
	if got := l.statuses(); got != "10.77.0.50 kea reserved, 10.77.0.100 dhcpd reserved" {
		t.Errorf("after the adoption: %s", got)
	}
	// Again: the lease is known now; nothing changes.
	r = e.form("POST", "/leases/adopt", cookie, form)
	if r.code != http.StatusSeeOther {
		t.Fatalf("adopt again: %d %s", r.code, r.body)
	}
	e.must(http.StatusOK, "GET", "/api/v1/addresses?address=10.77.0.100", e.admin, nil, &hosts)
	if hosts.Count != 1 {
		t.Errorf("adopting twice: %d hosts", hosts.Count)
	}
	// Bad input names the field.
	r = e.form("POST", "/leases/adopt", cookie, url.Values{"prefix_id": {path("%d", e.labSubnet)}, "address": {"10.77.0.300"}, "server": {"dhcpd"}})
	if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "10.77.0.300") {
		t.Errorf("a bad address: %d", r.code)
	}
	// The host page shows when the client was last seen.
	hp := e.page(path("/hosts/%d", e.hostA), cookie)
	if !strings.Contains(string(hp.body), `id="last-seen"`) || !strings.Contains(string(hp.body), "(kea)") {
		t.Errorf("host A's page shows no last contact:\n%s", hp.body)
	}
}

func TestLeasesNotConfigured(t *testing.T) {
	e := newEnv(t)
	var l leaseList
	e.must(http.StatusOK, "GET", "/api/v1/leases", e.admin, nil, &l)
	if l.Count != 0 {
		t.Errorf("leases without lease files: %+v", l)
	}
	cookie := e.login("admin", "password123")
	if r := e.page("/leases", cookie); r.code != http.StatusOK || !strings.Contains(string(r.body), `id="leases-none"`) {
		t.Errorf("the page without lease files: %d", r.code)
	}
}

// oneLeaseReader returns a reader of a dnsmasq lease file with one active
// lease of addr.
func oneLeaseReader(t *testing.T, addr string) *leases.Reader {
	t.Helper()
	file := filepath.Join(t.TempDir(), "dnsmasq.leases")
	if err := os.WriteFile(file, []byte("4102444800 02:1d:e5:77:00:01 "+addr+" pc *\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := leases.NewReader([]leases.Source{{Name: "dnsmasq", Kind: leases.KindDnsmasq, Path: file}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLeaseAdoptAPI: the API's adoption needs edit rights, answers the
// new host, and 409 naming the address for a lease that is known by now.
func TestLeaseAdoptAPI(t *testing.T) {
	e := newLeaseEnv(t)
	body := map[string]any{"prefix_id": e.labSubnet, "address": "10.77.0.100", "server": "dhcpd"}
	if r := e.do("POST", "/api/v1/leases/adopt", e.limited, body); r.code != http.StatusNotFound {
		t.Errorf("adopting without view: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/leases/adopt", e.user, body); r.code != http.StatusForbidden {
		t.Errorf("adopting with view only: %d %s", r.code, r.body)
	}
	var a addressResult
	e.must(http.StatusCreated, "POST", "/api/v1/leases/adopt", e.editor, body, &a)
	if a.Address == nil || a.MAC.String() != "02:1d:e5:77:00:0c" || a.Hostname != "pc-c" || !a.DHCPReservation {
		t.Errorf("the adopted host: %+v", a.Address)
	}
	r := e.do("POST", "/api/v1/leases/adopt", e.editor, body)
	if r.code != http.StatusConflict || r.apiError(t).Field != "address" || !strings.Contains(string(r.body), "10.77.0.100") {
		t.Errorf("adopting again: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/leases/adopt", e.editor, map[string]any{"prefix_id": e.labSubnet, "server": "dhcpd"}); r.code != http.StatusBadRequest {
		t.Errorf("no address: %d %s", r.code, r.body)
	}
}

package browser

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ipdesk"
	"ipdesk/leases"
	"ipdesk/sqldb"
	"ipdesk/web"
)

// TestLeaseConflictView: the prefix page leads to the subnet's leases;
// the lease unknown to ipdesk is shown with a button, one click makes it
// a host with a reservation and the page then shows the lease as
// reserved; a client's host name full of markup stays text.
func TestLeaseConflictView(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		// Far-future ends: active whenever the test runs.
		"kea-leases4.csv": "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n" +
			"10.3.0.5,aa:bb:cc:00:00:05,,600,4102444800,1,0,0,z303c1,0,\n",
		"dnsmasq.leases": "4102444800 02:00:00:00:00:64 10.3.0.100 guest-pc *\n",
		"dhcpd.leases": "lease 10.3.0.101 {\n  starts 4 2099/01/01 00:00:00;\n  ends never;\n  binding state active;\n" +
			"  hardware ethernet 02:00:00:00:00:65;\n  client-hostname \"\\\"><script>alert(1)</script>\";\n}\n",
	}
	for name, data := range files {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	reader, err := leases.NewReader([]leases.Source{
		{Name: "kea", Kind: leases.KindKea, Path: filepath.Join(dir, "kea-leases4.csv")},
		{Name: "dnsmasq", Kind: leases.KindDnsmasq, Path: filepath.Join(dir, "dnsmasq.leases")},
		{Name: "dhcpd", Kind: leases.KindISCDHCP, Path: filepath.Join(dir, "dhcpd.leases")},
	})
	must(t, err)
	s := newSite(t, web.Options{}, func(_ *sqldb.DB, o *web.Options) { o.Leases = reader })
	ctx0 := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "setup"})
	sp := &ipdesk.Space{Name: "School"}
	must(t, s.db.CreateSpace(ctx0, sp))
	subnet := &ipdesk.Prefix{SpaceID: sp.ID, Prefix: netip.MustParsePrefix("10.3.0.0/24"), Kind: ipdesk.PrefixSubnet, DHCP: true}
	_, err = s.db.CreatePrefix(ctx0, subnet)
	must(t, err)
	m, _ := ipdesk.ParseMAC("aa:bb:cc:00:00:05")
	_, err = s.db.CreateAddress(ctx0, &ipdesk.Address{SpaceID: sp.ID, Addr: netip.MustParseAddr("10.3.0.5"), MAC: m, Hostname: "z303c1", DHCPReservation: true})
	must(t, err)

	ctx := s.browser(90 * time.Second)
	dialogs := watchDialogs(t, ctx)
	s.login(ctx, "admin")
	unknown := `#leases-` + strconv.FormatInt(subnet.ID, 10) + ` tr[data-address="10.3.0.100"]`
	s.run(ctx, "open the subnet and its leases",
		chromedp.Navigate(s.url+"/prefixes/"+strconv.FormatInt(subnet.ID, 10)),
		chromedp.WaitVisible(chromedp.CSS(`#prefix-leases`)),
		chromedp.Click(chromedp.CSS(`#prefix-leases`)),
		chromedp.WaitVisible(chromedp.CSS(unknown+` button`)),
	)
	rows := eval[string](s, ctx, `Array.from(document.querySelectorAll("table.leases tbody tr"), (r) => r.dataset.address + " " + r.dataset.server + " " + r.dataset.status).join(", ")`)
	if want := "10.3.0.5 kea reserved, 10.3.0.100 dnsmasq unknown, 10.3.0.101 dhcpd unknown"; rows != want {
		t.Fatalf("the lease table shows %q, want %q", rows, want)
	}
	if name := s.text(ctx, `tr[data-address="10.3.0.101"] td:nth-child(3)`); name != `"><script>alert(1)</script>` {
		t.Errorf("the client's host name is shown as %q", name)
	}
	s.screenshot(ctx, "leases-before")

	s.run(ctx, "create the host from the unknown lease",
		chromedp.Click(chromedp.CSS(unknown+` button`)),
		chromedp.WaitVisible(chromedp.CSS(unknown+`[data-status="reserved"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main p.flash`)),
	)
	if n := eval[int](s, ctx, `document.querySelectorAll('`+unknown+` button').length`); n != 0 {
		t.Errorf("the adopted lease still has its button")
	}
	if link := eval[string](s, ctx, `document.querySelector('`+unknown+` a').getAttribute("href")`); link == "" {
		t.Errorf("the adopted lease links to no host")
	}
	s.screenshot(ctx, "leases-after")
	hosts, _, err := s.db.FindAddresses(ctx0, ipdesk.AddressFilter{MAC: ptr(mustMAC(t, "02:00:00:00:00:64"))})
	must(t, err)
	if len(hosts) != 1 || hosts[0].Addr.String() != "10.3.0.100" || hosts[0].Hostname != "guest-pc" || !hosts[0].DHCPReservation {
		t.Fatalf("the host made from the lease: %+v", hosts)
	}
	dialogs.none(t)
}

func mustMAC(t *testing.T, s string) ipdesk.MAC {
	t.Helper()
	m, err := ipdesk.ParseMAC(s)
	must(t, err)
	return m
}

package browser

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"ipdesk"
	"ipdesk/web"
)

// hostsPlan stores a small plan: a space with a subnet, a site with a
// room, and hosts, one of them with script payloads in its texts.
func hostsPlan(t *testing.T, s *site) (target *ipdesk.Address) {
	t.Helper()
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "setup"})
	sp := &ipdesk.Space{Name: "School"}
	must(t, s.db.CreateSpace(ctx, sp))
	_, err := s.db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: sp.ID, Prefix: netip.MustParsePrefix("10.3.0.0/24"), Kind: ipdesk.PrefixSubnet})
	must(t, err)
	main := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Main"}
	must(t, s.db.CreateLocation(ctx, main))
	room := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "303", ParentID: main.ID, Phones: []string{"+49 3591 303"}, HostnamePattern: "z303c"}
	must(t, s.db.CreateLocation(ctx, room))
	for i, h := range []struct{ mac, name, owner string }{
		{"aa:bb:cc:00:00:05", "z303c1", "Frau Weber"},
		{"aa:bb:cc:00:00:06", "z303c2", `"><img src=x onerror=alert(1)>`},
		{"02:00:00:00:00:07", "printer", `"><script>alert(2)</script>`},
	} {
		m, err := ipdesk.ParseMAC(h.mac)
		must(t, err)
		a := &ipdesk.Address{SpaceID: sp.ID, Addr: netip.AddrFrom4([4]byte{10, 3, 0, byte(5 + i)}), MAC: m, Hostname: h.name,
			Owner: h.owner, Description: `" onmouseover=alert(3) x="`, LocationID: room.ID, AccessLevel: 2}
		_, err = s.db.CreateAddress(ctx, a)
		must(t, err)
		if i == 0 {
			target = a
		}
	}
	return target
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestHostsSearchAndInlineEdit: the search finds a host by its MAC in
// another notation as one types; an inline edit of the MAC with a bad
// value shows the server's message beside the field, keeps what was
// typed and stores nothing; a good value is stored; no stored payload
// runs.
func TestHostsSearchAndInlineEdit(t *testing.T) {
	s := newSite(t, web.Options{})
	target := hostsPlan(t, s)
	ctx := s.browser(90 * time.Second)
	dialogs := watchDialogs(t, ctx)
	s.login(ctx, "admin")

	s.run(ctx, "open the hosts page",
		chromedp.Navigate(s.url+"/hosts"),
		chromedp.WaitVisible(chromedp.CSS(`#hosts-table tbody tr`)),
	)
	if n := eval[int](s, ctx, `document.querySelectorAll("#hosts-table tbody tr").length`); n != 3 {
		t.Fatalf("the hosts page shows %d rows, want 3", n)
	}
	s.screenshot(ctx, "hosts")

	s.run(ctx, "search for a MAC in Cisco notation",
		chromedp.SendKeys(chromedp.CSS(`#f-q`), "AABB.CC00.0005"),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#hosts-table tbody tr").length === 1`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if got := s.text(ctx, `#hosts-table tbody tr th.ip`); got != "10.3.0.5" {
		t.Fatalf("the search found %q, want 10.3.0.5", got)
	}
	if loc := eval[string](s, ctx, `location.pathname + location.search`); loc != "/hosts?q=AABB.CC00.0005" {
		t.Fatalf("the URL after the search is %q", loc)
	}

	mac := `#hosts-table tbody tr td[data-field="mac"]`
	s.run(ctx, "edit the MAC with a bad value",
		chromedp.Click(chromedp.CSS(mac)),
		chromedp.WaitVisible(chromedp.CSS(mac+` input`)),
		clear(mac+` input`),
		chromedp.SendKeys(chromedp.CSS(mac+` input`), "zz:zz"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(mac+` .field-error`)),
	)
	if msg := s.text(ctx, mac+` .field-error`); !strings.Contains(msg, `mac "zz:zz" is not a MAC address`) {
		t.Fatalf("the error beside the MAC says %q", msg)
	}
	if v := eval[string](s, ctx, `document.querySelector('`+mac+` input').value`); v != "zz:zz" {
		t.Fatalf("the typed value is not kept: %q", v)
	}
	if inv := eval[string](s, ctx, `document.querySelector('`+mac+` input').getAttribute("aria-invalid")`); inv != "true" {
		t.Fatalf("the input is not marked invalid")
	}
	stored, err := s.db.FindAddressByID(context.Background(), target.ID)
	must(t, err)
	if stored.MAC != target.MAC || stored.Version != target.Version {
		t.Fatalf("a refused inline edit changed the host: %+v", stored)
	}
	s.screenshot(ctx, "hosts-inline-error")

	s.run(ctx, "edit the MAC with a good value",
		clear(mac+` input`),
		chromedp.SendKeys(chromedp.CSS(mac+` input`), "AA-BB-CC-00-00-99"+kb.Enter),
		chromedp.WaitNotPresent(chromedp.CSS(mac+` input`)),
	)
	if got := s.text(ctx, mac); got != "aa:bb:cc:00:00:99" {
		t.Fatalf("after saving the cell shows %q", got)
	}
	stored, err = s.db.FindAddressByID(context.Background(), target.ID)
	must(t, err)
	if stored.MAC.String() != "aa:bb:cc:00:00:99" {
		t.Fatalf("the good MAC was not stored: %+v", stored)
	}
	// A change made elsewhere meanwhile: the edit is refused (412) and
	// says so beside the field.
	_, _, err = s.db.UpdateAddress(ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "other"}), target.ID, ipdesk.AddressUpdate{Description: ptr("moved")})
	must(t, err)
	host := `#hosts-table tbody tr td[data-field="hostname"]`
	s.run(ctx, "edit the host name of a host changed meanwhile",
		chromedp.Click(chromedp.CSS(host)),
		chromedp.WaitVisible(chromedp.CSS(host+` input`)),
		chromedp.SendKeys(chromedp.CSS(host+` input`), "z303c9"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(host+` .field-error`)),
	)
	if msg := s.text(ctx, host+` .field-error`); !strings.Contains(msg, "Someone else changed this host") {
		t.Fatalf("the stale edit says %q", msg)
	}
	if stored, _ := s.db.FindAddressByID(context.Background(), target.ID); stored.Hostname != "z303c1" {
		t.Fatalf("the stale edit was stored: %+v", stored)
	}
	s.run(ctx, "cancel it", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(chromedp.CSS(host+` input`)))
	// Escape cancels; the keyboard reaches the cells.
	s.run(ctx, "start an edit of the owner and cancel it",
		chromedp.Focus(chromedp.CSS(mac)),
		chromedp.KeyEvent(kb.ArrowRight),
		chromedp.KeyEvent(kb.ArrowRight),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`td[data-field="owner"] input`)),
		chromedp.SendKeys(chromedp.CSS(`td[data-field="owner"] input`), " changed"),
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotPresent(chromedp.CSS(`td[data-field="owner"] input`)),
	)
	if got := s.text(ctx, `td[data-field="owner"]`); got != "Frau Weber" {
		t.Fatalf("after Escape the owner is %q", got)
	}
	// Back to all rows: the stored payloads are shown as text.
	s.run(ctx, "clear the search",
		clear(`#f-q`),
		chromedp.SendKeys(chromedp.CSS(`#f-q`), " "),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#hosts-table tbody tr").length === 3`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Navigate(s.url+"/hosts/"+itoa(target.ID+1)),
		chromedp.WaitVisible(chromedp.CSS(`#f-owner`)),
	)
	if v := eval[string](s, ctx, `document.getElementById("f-owner").value`); v != `"><img src=x onerror=alert(1)>` {
		t.Fatalf("the owner field holds %q", v)
	}
	s.screenshot(ctx, "host")
	s.run(ctx, "open the locations page",
		chromedp.Navigate(s.url+"/locations"),
		chromedp.WaitVisible(chromedp.CSS(`ul.loc-tree`)),
	)
	if got := s.text(ctx, `ul.loc-tree li.loc-room .loc-name`); got != "303" {
		t.Fatalf("the room in the tree is %q", got)
	}
	s.screenshot(ctx, "locations")
	dialogs.none(t)
}

// TestHostsViewOnly: a view-only user sees the hosts without editable
// cells or selection boxes, and the server refuses the edit anyway.
func TestHostsViewOnly(t *testing.T) {
	s := newSite(t, web.Options{})
	target := hostsPlan(t, s)
	u := s.user("viewer", false)
	must(t, s.db.CreateGroup(context.Background(), &ipdesk.Group{Name: "readers", ViewAll: true, Members: []int64{u.ID}}))
	ctx := s.browser(60 * time.Second)
	dialogs := watchDialogs(t, ctx)
	s.login(ctx, "viewer")
	s.run(ctx, "open the hosts page",
		chromedp.Navigate(s.url+"/hosts"),
		chromedp.WaitVisible(chromedp.CSS(`#hosts-table tbody tr`)),
	)
	for js, want := range map[string]int{
		`document.querySelectorAll("#hosts-table tbody tr").length`:                                        3,
		`document.querySelectorAll("td[data-field], input[name=sel], #bulk, a[href='/hosts/new']").length`: 0,
	} {
		if n := eval[int](s, ctx, js); n != want {
			t.Fatalf("%s = %d, want %d", js, n, want)
		}
	}
	s.run(ctx, "click a cell", chromedp.Click(chromedp.CSS(`#hosts-table tbody tr td.mono`)))
	if n := eval[int](s, ctx, `document.querySelectorAll("#hosts-table input, #hosts-table select").length`); n != 0 {
		t.Fatalf("a click opened an editor for a view-only user")
	}
	s.screenshot(ctx, "hosts-view-only")
	// The server refuses the change sent the way the inline editor would.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.ipdesk.api("PATCH", "/api/v1/addresses/`+itoa(target.ID)+`", {mac: "aa:bb:cc:00:00:77"}, {"If-Match": '"1"'}).then(() => 200, (e) => e.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Fatalf("the viewer's PATCH: %d %v", status, err)
	}
	stored, err := s.db.FindAddressByID(context.Background(), target.ID)
	must(t, err)
	if stored.MAC != target.MAC {
		t.Fatalf("the refused edit changed the host")
	}
	dialogs.none(t)
}

// clear empties the input sel without an event, as selecting its text
// before typing over it would.
func clear(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.querySelector(` + strconv.Quote(sel) + `).value = "", undefined`)
}

func ptr[T any](v T) *T { return &v }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

package browser

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"ipdesk"
	"ipdesk/web"
)

// xssTitle is typed into text fields: nothing of it may run.
const xssTitle = `"><script>alert(1)</script>`

// pressEnter presses Enter as a keyboard does: one key-down event that
// carries the text, whose default the page may prevent (chromedp's
// KeyEvent sends the character as an event of its own, which a page
// cannot cancel), then the key-up.
func pressEnter(t *testing.T, ctx context.Context) {
	t.Helper()
	down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter", Text: "\r", UnmodifiedText: "\r", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
	up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
	for _, ev := range []input.DispatchKeyEventParams{down, up} {
		if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, ev); err != nil {
			t.Fatalf("press Enter: %v", err)
		}
	}
}

// TestPlanGridClaim: an administrator creates a space, a container and a
// subnet through the forms, opens the subnet's grid, walks it with the
// arrow keys, sees the host of a used cell on hover, and claims a free
// address by clicking its cell: the new host appears as a used cell.
// Text fields carry script payloads, which must stay text.
func TestPlanGridClaim(t *testing.T) {
	s := newSite(t, web.Options{})
	ctx := s.browser(120 * time.Second)
	defer watchDialogs(t, ctx).none(t)
	s.login(ctx, "admin")

	s.run(ctx, "create a space",
		chromedp.Navigate(s.url+"/spaces"),
		chromedp.WaitVisible(chromedp.CSS(`#space-name`)),
		chromedp.SendKeys(chromedp.CSS(`#space-name`), "Campus"),
		chromedp.SendKeys(chromedp.CSS(`#space-description`), xssTitle),
		chromedp.Submit(chromedp.CSS(`#space-name`)),
		chromedp.WaitVisible(chromedp.CSS(`#p-prefix`)),
	)
	if got := s.text(ctx, "main h1"); got != "Campus" {
		t.Fatalf("after creating the space the page says %q", got)
	}
	s.run(ctx, "create a container",
		chromedp.SendKeys(chromedp.CSS(`#p-prefix`), "10.20.0.0/16"),
		chromedp.SetValue(chromedp.CSS(`#p-kind`), "container"),
		chromedp.SendKeys(chromedp.CSS(`#p-description`), "Main building"),
		chromedp.Submit(chromedp.CSS(`#p-prefix`)),
		chromedp.WaitVisible(chromedp.CSS(`#allocate`)),
		chromedp.Click(chromedp.CSS(`nav.crumbs a[href^="/spaces/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#p-prefix`)),
	)
	s.run(ctx, "create a subnet",
		chromedp.SendKeys(chromedp.CSS(`#p-prefix`), "10.20.1.0/24"),
		chromedp.SendKeys(chromedp.CSS(`#p-description`), "Room 101 "+xssTitle),
		chromedp.SendKeys(chromedp.CSS(`#p-gateway`), "10.20.1.1"),
		chromedp.SendKeys(chromedp.CSS(`#p-vlan`), "101"),
		chromedp.Click(chromedp.CSS(`#p-dhcp`)),
		chromedp.Submit(chromedp.CSS(`#p-prefix`)),
		chromedp.WaitVisible(chromedp.CSS(`table.addr-grid`)),
	)
	if got := s.text(ctx, ".flash"); !strings.Contains(got, "10.20.1.0/24") {
		t.Errorf("flash after creating the subnet: %q", got)
	}
	if n := eval[int](s, ctx, `document.querySelectorAll("table.addr-grid td .cell").length`); n != 256 {
		t.Fatalf("the grid of a /24 has %d cells", n)
	}
	if n := eval[int](s, ctx, `document.querySelectorAll("table.addr-grid td.c-gateway").length`); n != 1 {
		t.Fatalf("%d gateway cells", n)
	}

	// The tree shows the subnet inside the container.
	s.run(ctx, "open the tree",
		chromedp.Click(chromedp.CSS(`nav.crumbs a[href^="/spaces/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tree details summary`)),
	)
	if got := s.text(ctx, "#tree details ul .row .pfx a"); got != "10.20.1.0/24" {
		t.Fatalf("the tree's nested row is %q", got)
	}
	if got := s.text(ctx, "#tree details ul .row .desc"); got != "Room 101 "+xssTitle {
		t.Fatalf("the description shows as %q", got)
	}
	s.run(ctx, "collapse the tree", chromedp.Click(chromedp.CSS(`button[data-tree="close"]`)))
	if open := eval[bool](s, ctx, `document.querySelector("#tree details").open`); open {
		t.Fatal("the tree is open after collapsing it")
	}
	s.run(ctx, "expand the tree", chromedp.Click(chromedp.CSS(`button[data-tree="open"]`)))
	if open := eval[bool](s, ctx, `document.querySelector("#tree details").open`); !open {
		t.Fatal("the tree is closed after expanding it")
	}
	s.screenshot(ctx, "plan-tree")
	s.run(ctx, "back to the list of spaces", chromedp.Navigate(s.url+"/spaces"), chromedp.WaitVisible(chromedp.CSS(`table.spaces`)))
	s.screenshot(ctx, "plan-spaces")

	// Claim .50 by clicking its cell.
	s.run(ctx, "open the subnet and click a free cell",
		chromedp.Navigate(s.url+"/spaces"),
		chromedp.Click(chromedp.CSS(`table.spaces a[href^="/spaces/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tree`)),
		chromedp.Click(chromedp.CSS(`#tree details ul .row .pfx a`)),
		chromedp.WaitVisible(chromedp.CSS(`table.addr-grid`)),
		chromedp.Click(chromedp.CSS(`a.cell[data-claim="10.20.1.50"]`)),
	)
	if addr := s.value(ctx, `#claim-address`); addr != "10.20.1.50" {
		t.Fatalf("clicking the cell of 10.20.1.50 filled in %q", addr)
	}
	if id := eval[string](s, ctx, `document.activeElement.id`); id != "claim-hostname" {
		t.Fatalf("after the click the focus is on %q, want the hostname", id)
	}
	s.run(ctx, "fill in the host and claim",
		chromedp.SendKeys(chromedp.CSS(`#claim-hostname`), "pc50"),
		chromedp.SendKeys(chromedp.CSS(`#claim-mac`), "AA-BB-CC-00-00-50"),
		chromedp.SendKeys(chromedp.CSS(`#claim-owner`), `Anna " onmouseover=alert(2) `+xssTitle),
		chromedp.Click(chromedp.CSS(`#claim button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`td.c-used a.cell[href^="/hosts/"]`)),
	)
	if got := s.text(ctx, ".flash"); !strings.Contains(got, "10.20.1.50") {
		t.Errorf("flash after claiming: %q", got)
	}
	label := eval[string](s, ctx, `document.querySelector("td.c-used a.cell").getAttribute("aria-label")`)
	if !strings.Contains(label, "10.20.1.50") || !strings.Contains(label, "pc50") || !strings.Contains(label, "aa:bb:cc:00:00:50") {
		t.Fatalf("the used cell is labelled %q", label)
	}

	// Hovering the used cell shows the host in the tooltip, as text.
	s.run(ctx, "hover the used cell",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("td.c-used a.cell").dispatchEvent(new MouseEvent("mouseover", {bubbles: true})), undefined`),
		chromedp.WaitVisible(chromedp.CSS(`.plan-tip`)),
	)
	if tip := s.text(ctx, ".plan-tip"); !strings.Contains(tip, "pc50") || !strings.Contains(tip, xssTitle) {
		t.Fatalf("the tooltip says %q", tip)
	}
	if n := eval[int](s, ctx, `document.querySelectorAll(".plan-tip script, main script").length`); n != 0 {
		t.Fatalf("%d script elements came from stored text", n)
	}
	s.screenshot(ctx, "plan-prefix-grid")

	// The arrow keys walk the grid: right from .50 is .51, down is .66.
	s.run(ctx, "walk the grid with the keyboard",
		chromedp.Focus(chromedp.CSS(`td.c-used a.cell`)),
		chromedp.KeyEvent(kb.ArrowRight),
	)
	if got := eval[string](s, ctx, `document.activeElement.getAttribute("aria-label")`); !strings.HasPrefix(got, "10.20.1.51 ") {
		t.Fatalf("ArrowRight from 10.20.1.50 went to %q", got)
	}
	s.run(ctx, "down one row", chromedp.KeyEvent(kb.ArrowDown))
	if got := eval[string](s, ctx, `document.activeElement.getAttribute("aria-label")`); !strings.HasPrefix(got, "10.20.1.67 ") {
		t.Fatalf("ArrowDown from 10.20.1.51 went to %q", got)
	}
	if n := eval[int](s, ctx, `document.querySelectorAll('table.addr-grid .cell[tabindex="0"]').length`); n != 1 {
		t.Fatalf("%d grid cells are in the tab order, want 1", n)
	}
	pressEnter(t, ctx)
	if addr := s.value(ctx, `#claim-address`); addr != "10.20.1.67" {
		t.Fatalf("Enter on 10.20.1.67 filled in %q", addr)
	}

	// A bad MAC: the error beside the field, the typed values kept.
	s.run(ctx, "claim with a bad MAC",
		chromedp.SendKeys(chromedp.CSS(`#claim-hostname`), "pc67"),
		chromedp.SendKeys(chromedp.CSS(`#claim-mac`), "not-a-mac"),
		chromedp.Click(chromedp.CSS(`#claim button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#claim-mac-error`)),
	)
	if got := s.text(ctx, "#claim-mac-error"); !strings.Contains(got, `"not-a-mac"`) {
		t.Fatalf("the MAC error says %q", got)
	}
	if v := s.value(ctx, `#claim-hostname`); v != "pc67" {
		t.Fatalf("the hostname field holds %q after the error", v)
	}

	// Claim the first free one.
	s.run(ctx, "claim the first free address",
		chromedp.Navigate(eval[string](s, ctx, `document.querySelector("#claim form").action.replace(/\/claim$/, "")`)),
		chromedp.WaitVisible(chromedp.CSS(`#claim`)),
		chromedp.SendKeys(chromedp.CSS(`#claim-hostname`), "first"),
		chromedp.Click(chromedp.CSS(`#claim button[name="first"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if got := s.text(ctx, ".flash"); !strings.Contains(got, "10.20.1.2") {
		t.Fatalf("the first free address claimed: %q", got)
	}
}

// TestPlanLargeSubnetViewOnly: a user who may only look sees a /16 block
// by block through the block map, without any edit control; a free cell
// leads nowhere, and a claim sent anyway is refused.
func TestPlanLargeSubnetViewOnly(t *testing.T) {
	s := newSite(t, web.Options{})
	bg := context.Background()
	admin, err := s.db.FindUserByName(bg, "admin")
	if err != nil {
		t.Fatal(err)
	}
	actx := ipdesk.NewContextWithActor(bg, admin)
	reader := s.user("reader", false)
	if err := s.db.CreateGroup(actx, &ipdesk.Group{Name: "readers", ViewAll: true, Members: []int64{reader.ID}}); err != nil {
		t.Fatal(err)
	}
	sp := &ipdesk.Space{Name: "Campus"}
	if err := s.db.CreateSpace(actx, sp); err != nil {
		t.Fatal(err)
	}
	sub := &ipdesk.Prefix{SpaceID: sp.ID, Prefix: netip.MustParsePrefix("10.30.0.0/16"), Kind: ipdesk.PrefixSubnet, Gateway: netip.MustParseAddr("10.30.0.1"), Description: "Wireless"}
	if _, err := s.db.CreatePrefix(actx, sub); err != nil {
		t.Fatal(err)
	}
	var rows []*ipdesk.Address
	for i := 0; i < 700; i++ {
		st := ipdesk.StatusActive
		switch i % 50 {
		case 7:
			st = ipdesk.StatusReserved
		case 9:
			st = ipdesk.StatusDeprecated
		}
		rows = append(rows, &ipdesk.Address{SpaceID: sp.ID, Addr: netip.AddrFrom4([4]byte{10, 30, byte(i / 90 * 3), byte(2 + i%90)}), Status: st,
			Hostname: fmt.Sprintf("ap%d", i), Owner: "IT"})
	}
	if res, err := s.db.ImportAddresses(actx, rows, false); err != nil || len(res.Problems) > 0 {
		t.Fatal(err, res.Problems)
	}

	ctx := s.browser(90 * time.Second)
	defer watchDialogs(t, ctx).none(t)
	s.login(ctx, "reader")
	s.run(ctx, "open the /16",
		chromedp.Navigate(fmt.Sprintf("%s/prefixes/%d", s.url, sub.ID)),
		chromedp.WaitVisible(chromedp.CSS(`table.addr-grid`)),
	)
	if n := eval[int](s, ctx, `document.querySelectorAll(".block-map .m").length`); n != 256 {
		t.Fatalf("the block map has %d cells", n)
	}
	if n := eval[int](s, ctx, `document.querySelectorAll("#claim, #allocate, a[href$='/edit'], a.cell[data-claim], form[method='post'][action^='/prefixes']").length`); n != 0 {
		t.Fatalf("a view-only user sees %d edit controls", n)
	}
	s.run(ctx, "pick block 10.30.3.0 on the map",
		chromedp.Click(chromedp.CSS(`.block-map a[href$="at=10.30.3.0"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.block-map a[aria-current="true"][href$="at=10.30.3.0"]`)),
	)
	if got := s.text(ctx, "#grid-title"); got != "Addresses 10.30.3.0/24" {
		t.Fatalf("after the map click the grid shows %q", got)
	}
	s.screenshot(ctx, "plan-prefix-16")
	// A free cell is no link; the keys still walk the grid.
	s.run(ctx, "focus a free cell",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("td.c-free .cell").focus(), undefined`),
		chromedp.KeyEvent(kb.ArrowLeft),
	)
	if tag := eval[string](s, ctx, `document.activeElement.className + " " + document.activeElement.tagName`); tag != "cell A" && tag != "cell SPAN" {
		t.Fatalf("the focus left the grid: %q", tag)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch("/prefixes/%d/claim", {method: "POST", body: new URLSearchParams({address: "10.30.3.200", hostname: "sneaky"})}).then((r) => r.status)`, sub.ID), chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Fatalf("a claim sent by the view-only user got %d (%v)", status, err)
	}
	a := netip.MustParseAddr("10.30.3.200")
	if got, _, err := s.db.FindAddresses(bg, ipdesk.AddressFilter{Addr: &a}); err != nil || len(got) != 0 {
		t.Fatalf("the refused claim stored %v (%v)", got, err)
	}
}

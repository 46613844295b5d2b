package browser

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ipdesk"
	"ipdesk/web"
)

// xss is a stored cross-site scripting payload put into every text field
// these tests fill.
const xss = `"><script>alert(1)</script><img src=x onerror=alert(2)>`

// outputs is a fixed set of config outputs: a dhcpd file whose check
// failed with a message full of markup, and a proxy list.
type outputs struct{}

func (outputs) Status(context.Context) ([]ipdesk.Output, error) {
	started := time.Now().Add(-3 * time.Minute)
	retry := time.Date(2026, 3, 2, 9, 41, 27, 0, time.UTC)
	return []ipdesk.Output{
		{Name: "dhcpd", Group: "dhcpd", Kind: "isc-dhcp", Path: "/etc/dhcp/ipdesk.hosts", Dirty: true, DirtySince: &started,
			Failing: true, RetryAt: &retry,
			LeftOut: []ipdesk.LeftOut{{Object: ipdesk.ObjectAddress, ID: 77, SpaceID: 1, Address: "10.20.1.13", MAC: "aa:bb:cc:00:11:24",
				Hostname: xss, Reason: ipdesk.LeftOutAddressTwice, OtherID: 12, Message: "address record 77 is left out"}},
			LastRun: &ipdesk.ApplyRun{Target: "dhcpd", Kind: "isc-dhcp", Started: started, Duration: 912 * time.Millisecond, Status: ipdesk.ApplyInvalid,
				Message: "/etc/dhcp/dhcpd.conf line 4: " + xss + "\nConfiguration file errors encountered -- exiting", Actor: "system"}},
		{Name: "proxy.level1", Group: "proxy", Kind: "squid-levels", Path: "/etc/squid/proxy1",
			LastRun: &ipdesk.ApplyRun{Target: "proxy.level1", Kind: "squid-levels", Started: started, Duration: 31 * time.Millisecond, Status: ipdesk.ApplyApplied, Actor: "admin"}},
	}, nil
}

func (outputs) Preview(_ context.Context, name string) (*ipdesk.OutputDiff, error) {
	if name == "dhcpd" {
		return &ipdesk.OutputDiff{Changed: true, Bytes: 161, Added: 3, Removed: 1, Text: "@@ -1,4 +1,6 @@\n host z303c1 {\n   hardware ethernet aa:bb:cc:00:11:22;\n-  fixed-address 10.20.1.10;\n+  fixed-address 10.20.1.11;\n+  # owner: " + xss + "\n }\n+host z303c2 { hardware ethernet aa:bb:cc:00:11:23; fixed-address 10.20.1.12; }\n"}, nil
	}
	return &ipdesk.OutputDiff{Bytes: 24}, nil
}

func (outputs) ApplyNow(context.Context, string) ([]*ipdesk.ApplyRun, error) { return nil, nil }

// TestAdminGrantsView: the administrator creates a group, adds a user and
// gives the group view on a space, all in the browser; the user then sees
// the space without edit controls, and edits forced from the page are
// refused. The administration pages are photographed, stored markup runs
// nowhere, and the language is switched on the settings page.
func TestAdminGrantsView(t *testing.T) {
	s := newSite(t, web.Options{Outputs: outputs{}})
	ctx := context.Background()
	admin, err := s.db.FindUserByName(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	actx := ipdesk.NewContextWithActor(ctx, admin)
	sp := &ipdesk.Space{Name: "school", Description: "Gymnasium " + xss}
	if err := s.db.CreateSpace(actx, sp); err != nil {
		t.Fatal(err)
	}
	other := &ipdesk.Space{Name: "office"}
	if err := s.db.CreateSpace(actx, other); err != nil {
		t.Fatal(err)
	}
	teacher := s.user("lehrer", false)
	full := "Anna Lehrer " + xss
	if _, err := s.db.UpdateUser(actx, teacher.ID, ipdesk.UserUpdate{FullName: &full}); err != nil {
		t.Fatal(err)
	}

	bctx := s.browser(120 * time.Second)
	seen := watchDialogs(t, bctx)
	s.login(bctx, "admin")
	s.run(bctx, "open the user list", chromedp.Navigate(s.url+"/users"), chromedp.WaitVisible(chromedp.CSS(`#u-name`)))
	if got := s.text(bctx, "table.list tbody"); !strings.Contains(got, "Anna Lehrer "+xss) {
		t.Fatalf("the user list shows %q, want the full name as text", got)
	}
	s.screenshot(bctx, "users")

	s.run(bctx, "create a group",
		chromedp.Navigate(s.url+"/groups"),
		chromedp.WaitVisible(chromedp.CSS(`#g-name`)),
		chromedp.SendKeys(chromedp.CSS(`#g-name`), "Lehrer"),
		chromedp.SendKeys(chromedp.CSS(`#g-description`), "Lehrkräfte "+xss),
		chromedp.Submit(chromedp.CSS(`#g-name`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-user`)),
	)
	groupURL := eval[string](s, bctx, `location.pathname`)
	if !strings.HasPrefix(groupURL, "/groups/") {
		t.Fatalf("after creating the group the browser is at %s", groupURL)
	}
	s.run(bctx, "add the teacher",
		chromedp.SendKeys(chromedp.CSS(`#m-user`), "lehrer"),
		chromedp.Submit(chromedp.CSS(`#m-user`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/members/`+fmt.Sprint(teacher.ID)+`/remove"]`)),
	)
	// The form shows the fields of the chosen object type only.
	if hidden := eval[bool](s, bctx, `document.getElementById("gr-prefix").closest("div").hidden`); !hidden {
		t.Error("the prefix field shows while the object type is space")
	}
	s.run(bctx, "give view on the space",
		chromedp.SetValue(chromedp.CSS(`#gr-type`), "space"),
		chromedp.SetValue(chromedp.CSS(`#gr-space`), fmt.Sprint(sp.ID)),
		chromedp.SetValue(chromedp.CSS(`#gr-right`), "view"),
		chromedp.Submit(chromedp.CSS(`#gr-right`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action*="/grants/"][action$="/delete"]`)),
	)
	if got := s.text(bctx, "#grants + p + table tbody"); !strings.Contains(got, "school") || !strings.Contains(got, "view") {
		t.Fatalf("the grants read %q", got)
	}
	s.screenshot(bctx, "groups_"+strings.TrimPrefix(groupURL, "/groups/"))

	s.run(bctx, "open the audit log", chromedp.Navigate(s.url+"/audit"), chromedp.WaitVisible(chromedp.CSS(`table.audit`)))
	if got := s.text(bctx, "table.audit"); !strings.Contains(got, "Lehrkräfte "+xss) {
		t.Errorf("the audit log lacks the group's description as text")
	}
	s.screenshot(bctx, "audit")
	s.run(bctx, "open the outputs", chromedp.Navigate(s.url+"/outputs"), chromedp.WaitVisible(chromedp.CSS(`pre.diff`)))
	if got := s.text(bctx, "#dhcpd pre.message"); !strings.Contains(got, xss) {
		t.Errorf("the daemon's message reads %q", got)
	}
	// The record the output leaves out, its name shown as text, with a
	// link to its host page, and the failing output's next try.
	if got := s.text(bctx, "#left-out-dhcpd li"); !strings.Contains(got, xss) || !strings.Contains(got, "10.20.1.13") {
		t.Errorf("the left-out record reads %q", got)
	}
	if n := eval[int](s, bctx, `document.querySelectorAll('#left-out-dhcpd a[href="/hosts/77"], #left-out-dhcpd a[href="/hosts/12"]').length`); n != 2 {
		t.Errorf("%d links to the left-out record and the one that keeps its place, want 2", n)
	}
	if got := s.text(bctx, "#dhcpd .badge.failing"); !strings.Contains(got, "next try at") || !strings.Contains(got, ":27") {
		t.Errorf("the failing badge reads %q", got)
	}
	s.screenshot(bctx, "outputs")
	s.run(bctx, "open the help", chromedp.Navigate(s.url+"/help"), chromedp.WaitVisible(chromedp.CSS(`#rights`)))
	s.screenshot(bctx, "help")
	seen.none(t)

	// The teacher signs in elsewhere: the space is there, the other is
	// not, and nothing can be changed.
	tctx := s.browser(90 * time.Second)
	tseen := watchDialogs(t, tctx)
	s.login(tctx, "lehrer")
	if got := s.text(tctx, "main"); !strings.Contains(got, "school") || strings.Contains(got, "office") {
		t.Fatalf("the teacher's dashboard reads %q; want school and not office", got)
	}
	if n := eval[int](s, tctx, `document.querySelectorAll('main form[method="post"], main button, main input, main textarea, main select').length`); n != 0 {
		t.Errorf("the view-only user sees %d edit controls", n)
	}
	if n := eval[int](s, tctx, `document.querySelectorAll('a[href="/users"], a[href="/audit"], a[href="/outputs"]').length`); n != 0 {
		t.Errorf("the view-only user sees %d links to administration pages", n)
	}
	status := await[int](s, tctx, fmt.Sprintf(`ipdesk.api("PATCH", "/api/v1/spaces/%d", {description: "changed"}).then(() => 200, e => e.status)`, sp.ID))
	if status != 403 {
		t.Errorf("a forced change of the space answered %d, want 403", status)
	}
	status = await[int](s, tctx, `fetch("/groups", {method: "POST", body: new URLSearchParams({name: "mine", view_all: "1"})}).then(r => r.status)`)
	if status != 403 {
		t.Errorf("a forced group creation answered %d, want 403", status)
	}
	status = await[int](s, tctx, fmt.Sprintf(`ipdesk.api("POST", "/api/v1/grants", {group_id: 1, object_type: "space", object_id: %d, right: "edit"}).then(() => 201, e => e.status)`, sp.ID))
	if status != 403 {
		t.Errorf("a forced grant to oneself answered %d, want 403", status)
	}
	if got, _ := s.db.FindSpaceByID(ctx, sp.ID); got.Description != sp.Description {
		t.Fatalf("the space changed: %q", got.Description)
	}
	if gs, _, _ := s.db.FindGroups(ctx, ipdesk.Page{Limit: 10}); len(gs) != 1 {
		t.Fatalf("%d groups after the forced creation, want 1", len(gs))
	}

	// The teacher switches the language on the settings page.
	s.run(tctx, "open the settings", chromedp.Navigate(s.url+"/settings"), chromedp.WaitVisible(chromedp.CSS(`#s-language`)))
	s.screenshot(tctx, "settings")
	s.run(tctx, "choose German",
		chromedp.SetValue(chromedp.CSS(`#s-language`), "de"),
		chromedp.Submit(chromedp.CSS(`#s-language`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="de"] #s-language`)),
	)
	if got := s.text(tctx, "main h1"); got != "Einstellungen" {
		t.Errorf("after choosing German the heading is %q", got)
	}
	if got := eval[string](s, tctx, `document.getElementById("lang-select").value`); got != "de" {
		t.Errorf("the header's language menu shows %q", got)
	}
	s.run(tctx, "open the help in German", chromedp.Navigate(s.url+"/help"), chromedp.WaitVisible(chromedp.CSS(`#rights`)))
	if got := s.text(tctx, "#rights"); got != "Rechte: Gruppen, Rechtevergaben und Rollen" {
		t.Errorf("the German help's heading reads %q", got)
	}
	tseen.none(t)
	seen.none(t)
}

// await runs JavaScript that returns a promise and returns its value.
func await[T any](s *site, ctx context.Context, js string) T {
	s.t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		s.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

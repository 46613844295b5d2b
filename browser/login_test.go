package browser

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ipdesk/web"
)

// TestLoginAndLanguage: a wrong password is refused with a message, the
// right one opens the dashboard, the language switch changes every text
// and stays with the user, and signing out ends the session.
func TestLoginAndLanguage(t *testing.T) {
	s := newSite(t, web.Options{})
	ctx := s.browser(60 * time.Second)

	s.run(ctx, "open the sign-in page",
		chromedp.Navigate(s.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
	)
	s.screenshot(ctx, "login")
	s.run(ctx, "sign in with a wrong password",
		chromedp.SendKeys(chromedp.CSS(`#name`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "wrong password"),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#login-error`)),
	)
	if got := s.text(ctx, "#login-error"); !strings.Contains(got, "Wrong user name or password") {
		t.Fatalf("wrong password: message %q", got)
	}
	s.login(ctx, "admin")
	if got := s.text(ctx, "main h1"); got != "Dashboard" {
		t.Fatalf("after sign-in the page says %q, want Dashboard", got)
	}
	s.screenshot(ctx, "dashboard")

	for _, c := range []struct{ lang, heading string }{{"de", "Übersicht"}, {"ru", "Обзор"}, {"en", "Dashboard"}} {
		s.run(ctx, "switch to "+c.lang,
			chromedp.WaitReady(chromedp.CSS(`#lang-select`)),
			// One step in the page: choose the language and send its form
			// (the page's own script would send it on the change too).
			chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("lang-select"); s.value = "`+c.lang+`"; s.form.requestSubmit(); })()`),
			chromedp.WaitVisible(chromedp.CSS(`html[lang="`+c.lang+`"] main h1`)),
		)
		if got := s.text(ctx, "main h1"); got != c.heading {
			t.Errorf("in %s the heading is %q, want %q", c.lang, got, c.heading)
		}
	}

	s.run(ctx, "sign out",
		chromedp.Click(chromedp.CSS(`header.top form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
	)
	s.run(ctx, "open the dashboard again", chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#name`)))
}

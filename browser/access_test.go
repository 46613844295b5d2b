package browser

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ipdesk/sqldb"
	"ipdesk/totp"
	"ipdesk/web"
)

// TestTwoFactorSignIn: an administrator sets up two-factor sign-in on the
// settings page from the secret shown as text, and the next sign-in asks
// for the code after the password.
func TestTwoFactorSignIn(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	s := newSite(t, web.Options{}, func(_ *sqldb.DB, o *web.Options) { o.Now = now })
	ctx := s.browser(90 * time.Second)
	s.login(ctx, "admin")
	s.run(ctx, "start the set-up",
		chromedp.Navigate(s.url+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/settings/totp/start"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/settings/totp/start"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#totp-secret`)),
	)
	s.screenshot(ctx, "settings-totp")
	secret := s.text(ctx, "#totp-secret")
	if uri := s.text(ctx, "#totp-uri"); !strings.HasPrefix(uri, "otpauth://totp/ipdesk:admin?") {
		t.Fatalf("URI %q", uri)
	}
	key, err := totp.Decode(secret)
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	s.run(ctx, "confirm with a code",
		chromedp.SendKeys(chromedp.CSS(`#totp-code`), totp.Code(key, totp.Step(now()))),
		chromedp.Submit(chromedp.CSS(`#totp-code`)),
		chromedp.WaitVisible(chromedp.CSS(`#totp-state`)),
	)
	if got := s.text(ctx, "#totp-state"); !strings.Contains(got, "is on") {
		t.Fatalf("state %q", got)
	}
	s.run(ctx, "sign out",
		chromedp.Click(chromedp.CSS(`header.top form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
	)
	clock.Add(30)
	s.run(ctx, "sign in with the password",
		chromedp.SendKeys(chromedp.CSS(`#name`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)),
	)
	s.screenshot(ctx, "login-totp")
	s.run(ctx, "and with the code",
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.SendKeys(chromedp.CSS(`#code`), totp.Code(key, totp.Step(now()))),
		chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top nav`)),
	)
	if got := s.text(ctx, "main h1"); got != "Dashboard" {
		t.Fatalf("after sign-in the page says %q", got)
	}
}

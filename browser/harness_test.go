// Package browser holds ipdesk's browser tests: the real server on a
// temporary database, driven through headless Chromium (Debian's package)
// with chromedp. Under CI=true a missing Chromium fails the tests; elsewhere
// they are skipped with a message.
package browser

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"ipdesk"
	"ipdesk/internal/headless"
	"ipdesk/sqldb"
	"ipdesk/web"
)

// chromiumPath finds the browser, or fails (CI) or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if path, ok := headless.Find(); ok {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed (apt-get install chromium); browser tests cannot run under CI without it")
	}
	t.Skip("Chromium is not installed; browser tests skipped (they fail under CI=true)")
	return ""
}

// site is a running ipdesk with its database.
type site struct {
	t   *testing.T
	db  *sqldb.DB
	srv *web.Server
	url string
}

// password is every test user's password.
const password = "correct horse battery"

// newSite starts ipdesk on 127.0.0.1:0 with an SQLite database and the
// administrator "admin"; each of more may set further options on the
// database before the server starts.
func newSite(t *testing.T, opts web.Options, more ...func(db *sqldb.DB, o *web.Options)) *site {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for _, f := range more {
		f(db, &opts)
	}
	srv := web.NewServer(db, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	s := &site{t: t, db: db, srv: srv, url: "http://" + ln.Addr().String()}
	s.user("admin", true)
	return s
}

// user creates a user with the test password.
func (s *site) user(name string, admin bool) *ipdesk.User {
	s.t.Helper()
	u := &ipdesk.User{Name: name, Admin: admin}
	if err := s.db.CreateUser(context.Background(), u, password); err != nil {
		s.t.Fatal(err)
	}
	return u
}

// browser starts a headless Chromium with a fresh profile and returns a
// tab's context; each call is a separate browser (its own cookies).
func (s *site) browser(timeout time.Duration) context.Context {
	t := s.t
	t.Helper()
	path := chromiumPath(t)
	opts := headless.Options(path, t.TempDir())
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// login signs in through the sign-in page.
func (s *site) login(ctx context.Context, name string) {
	s.t.Helper()
	s.run(ctx, "sign in as "+name,
		chromedp.Navigate(s.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), name),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top nav`)),
	)
}

// run runs browser actions and fails the test with what on error.
func (s *site) run(ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

// screenshot saves a full-page PNG of the current page as name.png in
// the screenshot folder ($IPDESK_SCREENSHOTS, else a temporary folder)
// and logs where.
func (s *site) screenshot(ctx context.Context, name string) {
	s.t.Helper()
	file, n, err := headless.Screenshot(ctx, name)
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	s.t.Logf("screenshot %s: %s (%d bytes)", name, file, n)
}

// text returns the visible text of the first element matching a CSS
// selector ("" when it is hidden), waiting until there is one. It finds and
// reads the element in one step in the page, by selector: a query for a
// node id and a second call to read it would fail with "No node with given
// id found" when the page is replaced in between. Callers first wait for
// a selector that only the state they read has.
func (s *site) text(ctx context.Context, sel string) string {
	s.t.Helper()
	return s.read(ctx, sel, "text")
}

// value returns the value of the first form field matching a CSS selector,
// read as text reads.
func (s *site) value(ctx context.Context, sel string) string {
	s.t.Helper()
	return s.read(ctx, sel, "value")
}

// read polls until an element matches sel and returns its visible text or
// its value (what).
func (s *site) read(ctx context.Context, sel, what string) string {
	s.t.Helper()
	q, _ := json.Marshal(sel)
	js := `(() => {
		const e = document.querySelector(` + string(q) + `);
		if (!e) return null;
		if ("` + what + `" === "value") return {v: e.value};
		return {v: e.offsetWidth || e.offsetHeight || e.getClientRects().length ? e.innerText : ""};
	})()`
	out, err := chromedp.Run(ctx, chromedp.Poll[struct{ V string }](js, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		s.t.Fatalf("read the %s of %s: %v", what, sel, err)
	}
	return out.V
}

// get fetches a page without a browser, for checks of the server alone.
func (s *site) get(path string, cookies ...*http.Cookie) (*http.Response, string) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.url+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// eval runs JavaScript in the page and returns its value.
func eval[T any](s *site, ctx context.Context, js string) T {
	s.t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		s.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// dialogs records the JavaScript dialogs (alert, confirm) a tab opens:
// a payload that ran would open one.
type dialogs struct {
	mu   sync.Mutex
	seen []string
}

// watchDialogs starts recording the dialogs of the tab of ctx.
func watchDialogs(t *testing.T, ctx context.Context) *dialogs {
	t.Helper()
	d := &dialogs{}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			d.mu.Lock()
			d.seen = append(d.seen, e.Message)
			d.mu.Unlock()
			// Dismiss it, so that the page does not hang on it.
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}); err != nil {
		t.Fatal(err)
	}
	return d
}

// none fails the test if a dialog was opened.
func (d *dialogs) none(t *testing.T) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.seen) > 0 {
		t.Fatalf("a script from stored data ran: dialogs %q", d.seen)
	}
}

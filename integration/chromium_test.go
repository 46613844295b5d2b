//go:build linux

package integration

// Headless Chromium for TestEndToEnd, driven with chromedp: the few lines
// that find and start it are a small copy of those in the browser
// package's harness (test packages cannot import each other), with the
// same flags and two more that keep the browser off every network but
// the loopback one.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// requireChromium returns the path of the browser ($IPDESK_CHROMIUM, else
// where Debian installs it), or skips the test (fails it under CI=true).
func requireChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("IPDESK_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	skipOrFail(t, "Chromium is not installed (apt-get install chromium)")
	return ""
}

// browserTab is a tab of a headless Chromium of its own (a fresh profile,
// so no cookies), in which the test drives ipdesk's pages.
type browserTab struct {
	t       *testing.T
	ctx     context.Context
	out     syncBuffer   // what Chromium wrote, shown when the test fails
	dialogs atomic.Int32 // alerts, confirms and prompts the pages opened
}

// startChromium starts the browser at path and returns its tab; every
// action in it must end within timeout. The browser ends with the test.
// It resolves no host name (only 127.0.0.1 is reachable by its literal
// address), uses no proxy whatever the environment says, and its
// background services, which would call the internet, are off.
func startChromium(t *testing.T, path string, timeout time.Duration) *browserTab {
	t.Helper()
	b := &browserTab{t: t}
	home := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(home, "profile")),
		chromedp.NoInheritEnv,
		chromedp.Env(childEnv("HOME="+home)...),
		chromedp.CombinedOutput(&b.out),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, timeout)
	b.ctx = ctx
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
		if t.Failed() {
			t.Logf("output of Chromium:\n%s", b.out.String())
		}
	})
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v\n%s", err, b.out.String())
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			b.dialogs.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("Chromium started in %s", time.Since(start).Round(time.Millisecond))
	return b
}

// run runs browser actions and fails the test with what on error.
func (b *browserTab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("in the browser: %s: %v", what, err)
	}
}

// eval evaluates the JavaScript expression js in the page; its value must
// be a string.
func (b *browserTab) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("in the browser: %s: %v", js, err)
	}
	return v
}

// screenshot saves a full-page PNG of the page as name.png in the folder
// $IPDESK_SCREENSHOTS (else ipdesk-screenshots in the temporary folder),
// as the browser tests do, and logs where.
func (b *browserTab) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("IPDESK_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ipdesk-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s: %s (%d bytes)", name, file, len(png))
}

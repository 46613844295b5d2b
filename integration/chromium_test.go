//go:build linux

package integration

// Headless Chromium for TestEndToEnd, driven with chromedp, started by
// package headless as in the browser tests.

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"ipdesk/internal/headless"
)

// requireChromium returns the path of the browser, or skips the test
// (fails it under CI=true).
func requireChromium(t *testing.T) string {
	t.Helper()
	path, ok := headless.Find()
	if !ok {
		skipOrFail(t, "Chromium is not installed (apt-get install chromium)")
	}
	return path
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
	opts := headless.Options(path, filepath.Join(home, "profile"),
		chromedp.NoInheritEnv,
		chromedp.Env(childEnv("HOME="+home)...),
		chromedp.CombinedOutput(&b.out),
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
	file, n, err := headless.Screenshot(b.ctx, name)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.t.Logf("screenshot %s: %s (%d bytes)", name, file, n)
}

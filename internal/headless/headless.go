// Package headless starts the headless Chromium that ipdesk's browser
// tests drive with chromedp, in one way for every test package: Debian's
// chromium, a fresh profile, no sandbox (the tests run as root), and no
// network but the loopback: no proxy, no name resolution, none of the
// background services that would call the internet.
package headless

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/chromedp/chromedp"
)

// Find returns the path of the browser: $IPDESK_CHROMIUM, else where
// Debian and others install it; ok is false when there is none.
func Find() (path string, ok bool) {
	for _, p := range []string{os.Getenv("IPDESK_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if found, err := exec.LookPath(p); err == nil {
			return found, true
		}
	}
	return "", false
}

// Options returns the allocator options for the browser at path with the
// profile in the folder profile. Extra options come after them.
func Options(path, profile string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		// Only 127.0.0.1 is reachable, by its literal address: no host
		// name resolves and no proxy from the environment is used.
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
	)
	return append(opts, extra...)
}

// ScreenshotDir is the folder screenshots go to: $IPDESK_SCREENSHOTS, else
// ipdesk-screenshots in the temporary folder.
func ScreenshotDir() string {
	if dir := os.Getenv("IPDESK_SCREENSHOTS"); dir != "" {
		return dir
	}
	return filepath.Join(os.TempDir(), "ipdesk-screenshots")
}

// Screenshot saves a full-page PNG of the tab of ctx as name.png in
// ScreenshotDir and returns the file's path and size.
func Screenshot(ctx context.Context, name string) (string, int, error) {
	dir := ScreenshotDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", 0, err
	}
	file := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".png")
	return file, len(png), os.WriteFile(file, png, 0o644)
}

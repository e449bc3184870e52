// Package browsertest starts a real headless Chromium for tests of the
// pages a person uses (the subscriber pages, the editor's desk), as
// net/http/httptest starts a real HTTP server. Tests only.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser
// (.ci/run installs it); elsewhere it is looked up on $PATH.
const ChromiumPath = "/usr/bin/chromium"

// New starts a headless Chromium of its own for t (a fresh profile, no
// network of its own making) and returns the context to run chromedp
// actions in (chromedp.Do, chromedp.Run); it is closed when t ends.
// Without Chromium the test is skipped, with how to install it, except in
// CI (CI=true), where a missing browser must fail the run rather than
// hide the test.
func New(t testing.TB) context.Context {
	t.Helper()
	path := ChromiumPath
	if _, err := os.Stat(path); err != nil {
		if path, err = exec.LookPath("chromium"); err != nil {
			msg := "no Chromium at " + ChromiumPath + " or on $PATH; install it: apt-get update && apt-get install -y chromium"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	profile := t.TempDir() // made first, so removed after the browser stops
	var output bytes.Buffer
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests may run as root, where the sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(&output),
	}
	// A bound so that a browser that hangs fails the test instead of
	// holding it until go test's own timeout.
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 2*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
		if t.Failed() && output.Len() > 0 {
			t.Logf("chromium's output:\n%s", output.String())
		}
	})
	// Start it now, so a browser that cannot start is reported as such.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return browser
}

// Screenshot is the whole page as a PNG, after scrolling the element that
// selector names into view and letting two frames paint: Chromium leaves
// an off-screen frame of another origin (a sandboxed iframe is one) blank.
func Screenshot(browser context.Context, selector string) ([]byte, error) {
	if _, err := chromedp.Run(browser, chromedp.Evaluate[bool](`new Promise(done => {
		document.querySelector(`+"`"+selector+"`"+`).scrollIntoView();
		requestAnimationFrame(() => requestAnimationFrame(() => done(true)));
	})`, chromedp.EvalAwaitPromise)); err != nil {
		return nil, err
	}
	return chromedp.Run(browser, chromedp.FullScreenshot(100))
}

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gull/digest/store"
	"gull/digest/web"
	"gull/subscribers"
)

// chromiumPath is where Debian's chromium package puts the browser
// (.ci/run installs it); elsewhere it is looked up on $PATH.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless Chromium of its own for t (a fresh
// profile, no network of its own making) and returns the context to
// run chromedp actions in (chromedp.Do, chromedp.Run); it is closed when
// t ends. Without Chromium the test
// is skipped, with how to install it, except in CI (CI=true), where a
// missing browser must fail the run rather than hide the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		if path, err = exec.LookPath("chromium"); err != nil {
			msg := "no Chromium at " + chromiumPath + " or on $PATH; install it: apt-get update && apt-get install -y chromium"
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

// themeBoxes reads the page's theme checkboxes as "id=ticked".
func themeBoxes(ctx context.Context) ([]string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input[type=checkbox][name=themes]')].map(b => b.value + "=" + b.checked)`))
}

// A reader who chose only the catch-all section opens their preferences
// link, served by a real `gull run`, in a real browser: the choice shows,
// and what they tick and untick is what the store then holds.
func TestPreferencesInBrowser(t *testing.T) {
	browser := newBrowser(t)
	d := newDaemonSetup(t, "0 8 1 1 *", 0, time.Now)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--config", d.cfg, "subscribers", "add", "other@example.org", "--themes", "other"}, &out, &errb); code != 0 {
		t.Fatalf("subscribers add: exit %d: %s", code, errb.String())
	}
	// The link as a mail carries it, signed with the key the daemon
	// will find in the store.
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(d.dir, "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := st.TokenSecret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := st.SubscriberByEmail(ctx, "other@example.org")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := subscribers.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	prefs := web.Links{BaseURL: d.base, Signer: signer}.Preferences(sub)
	d.start(t)

	if err := chromedp.Do(browser,
		chromedp.Navigate(prefs),
		chromedp.WaitVisible(chromedp.CSS(`form[action=preferences]`)),
	); err != nil {
		t.Fatalf("opening the preferences link: %v", err)
	}
	before, err := themeBoxes(browser)
	if err != nil {
		t.Fatal(err)
	}
	// Evaluated rather than queried: a query waits for a box that may
	// never come.
	label, err := chromedp.Run(browser, chromedp.Evaluate[string](`(document.querySelector('input[value=other]')?.closest('label')?.textContent ?? "").trim()`))
	if err != nil {
		t.Fatalf("other's label: %v", err)
	}
	if want := []string{"compute=false", "regulation=false", "other=true"}; !slices.Equal(before, want) {
		t.Errorf("the page of a reader of other only shows %q, want %q", before, want)
	}
	if label != "More this week" {
		t.Errorf("other's box is labelled %q, want its name, More this week", label)
	}
	if t.Failed() {
		t.FailNow()
	}
	// Tick both themes, untick other: two themes, not "all".
	if err := chromedp.Do(browser,
		chromedp.Click(chromedp.CSS(`input[value=compute]`)),
		chromedp.Click(chromedp.CSS(`input[value=regulation]`)),
		chromedp.Click(chromedp.CSS(`input[value=other]`)),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.note.saved`)),
	); err != nil {
		t.Fatalf("choosing and saving: %v", err)
	}
	after, err := themeBoxes(browser)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"compute=true", "regulation=true", "other=false"}; !slices.Equal(after, want) {
		t.Errorf("after saving, the page shows %q, want %q", after, want)
	}
	st, err = store.Open(ctx, filepath.Join(d.dir, "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.SubscriberByEmail(ctx, "other@example.org")
	if err != nil || !slices.Equal(got.Themes, []string{"compute", "regulation"}) {
		t.Errorf("the store holds %q (%v), want compute and regulation", got.Themes, err)
	}
}

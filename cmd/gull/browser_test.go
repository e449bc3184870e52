package main

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gull/digest/web/browsertest"

	"gull/digest/store"
	"gull/digest/web"
	"gull/subscribers"
)

// themeBoxes reads the page's theme checkboxes as "id=ticked".
func themeBoxes(ctx context.Context) ([]string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input[type=checkbox][name=themes]')].map(b => b.value + "=" + b.checked)`))
}

// A reader who chose only the catch-all section opens their preferences
// link, served by a real `gull run`, in a real browser: the choice shows,
// and what they tick and untick is what the store then holds.
func TestPreferencesInBrowser(t *testing.T) {
	browser := browsertest.New(t)
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

package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gull/digest/web/browsertest"

	"gull/digest"
	"gull/subscribers"
)

// serveDesk serves a desk fixture over real HTTP on loopback, the links
// it mails pointing at it, its clock the real one (the browser keeps the
// cookie by the real time).
func serveDesk(t *testing.T) (*deskFixture, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	df := newDeskFixtureAt(t, base)
	df.clock.t = time.Now()
	srv.Config.Handler = df.sh
	srv.Start()
	t.Cleanup(srv.Close)
	return df, base
}

// bodyText is the text of the page.
func bodyText(ctx context.Context) (string, error) {
	return chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
}

// An editor, in a real browser, signs in with the link mailed, hides,
// moves and pins articles, writes a note and approves; the store's draft
// is what they did. A signed-out browser, and a reader's link, get
// nothing of the draft. The desk at 1280 and 390 px is saved as
// screenshots (to $GULL_DESK_SCREENSHOTS when set) and fits a phone.
func TestDeskInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	df, base := serveDesk(t)
	secret := "GPU 수출 규제 강화"
	a, b, c := "#a-"+deskArticleIDs[0], "#a-"+deskArticleIDs[1], "#a-"+deskArticleIDs[2]

	// Signed out: the desk is the sign-in form, nothing of the draft.
	if err := chromedp.Do(browser,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/desk"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
	); err != nil {
		t.Fatalf("signed-out /desk: %v", err)
	}
	if text, _ := bodyText(browser); strings.Contains(text, secret) {
		t.Errorf("the signed-out page shows the draft:\n%s", text)
	}
	// A reader's unsubscribe link's token opens nothing.
	sub := df.add("reader@example.org", subscribers.Active)
	unsub := linkToken(t, df.links().Unsubscribe(sub, deskIssue))
	if err := chromedp.Do(browser,
		chromedp.Navigate(base+"/desk/sign-in?t="+url.QueryEscape(unsub)),
		chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)),
	); err != nil {
		t.Fatalf("a reader's token: %v", err)
	}
	if text, _ := bodyText(browser); strings.Contains(text, secret) || strings.Contains(text, "Press the button") {
		t.Errorf("a reader's token opened something:\n%s", text)
	}

	// Sign in through the mailed link.
	if err := chromedp.Do(browser,
		chromedp.Navigate(base+"/desk"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), deskEditor),
		chromedp.Submit(chromedp.CSS(`input[name=email]`)),
		chromedp.WaitVisible(chromedp.CSS(`.saved`)),
	); err != nil {
		t.Fatalf("asking for a link: %v", err)
	}
	df.desk.Wait()
	links := df.mailer.links(deskEditor)
	if len(links) != 1 || !strings.HasPrefix(links[0], base+DeskSignInPath+"?t=") {
		t.Fatalf("links mailed: %v", links)
	}
	if err := chromedp.Do(browser,
		chromedp.Navigate(links[0]),
		chromedp.Click(chromedp.CSS(`#sign-in`)),
		chromedp.WaitVisible(chromedp.CSS(`#status`)),
	); err != nil {
		t.Fatalf("signing in: %v", err)
	}

	// Hide, move, pin, note: each a form, each page the one after it.
	for _, step := range []struct {
		what    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"hide", []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(a + ` button.hide`)),
			chromedp.WaitVisible(chromedp.CSS(a + ` button.show-again`)),
		}},
		{"move", []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(chromedp.CSS(c+` select[name=theme]`), "compute"),
			chromedp.Click(chromedp.CSS(c + ` form.move button`)),
			chromedp.WaitVisible(chromedp.CSS(`#theme-compute ` + c)),
		}},
		{"pin", []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(b + ` button.pin`)),
			chromedp.WaitVisible(chromedp.CSS(b + ` button.unpin`)),
		}},
		{"note", []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS(`#note`), "이번 주는 *반도체*가 중심입니다."),
			chromedp.Submit(chromedp.CSS(`#note`)),
			chromedp.WaitVisible(chromedp.Search(`//p[contains(., "Note saved.")]`)),
		}},
	} {
		// A bound per step, so a step that hangs is named.
		ctx, cancel := context.WithTimeout(browser, time.Minute)
		err := chromedp.Do(ctx, step.actions...)
		cancel()
		if err != nil {
			text, _ := bodyText(browser)
			t.Fatalf("%s: %v\n%s\nlog:\n%s", step.what, err, text, df.log.String())
		}
	}
	text, err := bodyText(browser)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"version 5", "1 hidden", "숨김 / hidden", "고정 / pinned", "Broken Feed failed: HTTP 503", "editor@example.org · note"} {
		if !strings.Contains(text, w) {
			t.Errorf("the desk lacks %q:\n%s", w, text)
		}
	}
	dir := os.Getenv("GULL_DESK_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, width := range []int64{1280, 390} {
		// Loaded at that width, as a phone or a desktop opens it.
		if err := chromedp.Do(browser,
			chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(base+"/desk"),
			chromedp.WaitVisible(chromedp.CSS(`#status`)),
		); err != nil {
			t.Fatal(err)
		}
		scroll, err := chromedp.Run(browser, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if scroll > width {
			t.Errorf("at %d px the desk is %d px wide: it scrolls sideways", width, scroll)
		}
		// The mail's iframe painted before the shot.
		png, err := browsertest.Screenshot(browser, ".mail iframe")
		if err != nil {
			t.Fatalf("screenshot at %d px: %v", width, err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("desk-%d.png", width)), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if err := chromedp.Do(browser,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Click(chromedp.CSS(`#approve`)),
		chromedp.WaitVisible(chromedp.CSS(`#reopen`)),
	); err != nil {
		t.Fatalf("approving: %v", err)
	}
	d := df.draft()
	is := d.Issue()
	if d.Status != digest.DraftApproved || is.Note != "이번 주는 *반도체*가 중심입니다." {
		t.Errorf("the store's draft: status %q, note %q", d.Status, is.Note)
	}
	if got, want := entries(is), []string{"compute:bbbb^", "compute:aaaa!", "compute:cccc"}; !slices.Equal(got, want) {
		t.Errorf("the store's draft: %v, want %v", got, want)
	}
	if got := entries(d.Readers()); !slices.Equal(got, []string{"compute:bbbb^", "compute:cccc"}) {
		t.Errorf("readers would get %v", got)
	}

	// Signed out, the desk is closed again.
	if err := chromedp.Do(browser,
		chromedp.Click(chromedp.CSS(`form[action="/desk/sign-out"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.Navigate(base+"/desk"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
	); err != nil {
		t.Fatalf("signing out: %v", err)
	}
	if text, _ := bodyText(browser); strings.Contains(text, secret) {
		t.Errorf("after signing out the desk shows the draft:\n%s", text)
	}
}

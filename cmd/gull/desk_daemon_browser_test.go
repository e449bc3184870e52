package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gull/digest/web/browsertest"

	"gull/digest"
	"gull/digest/store"
	"gull/digest/web"
	"gull/subscribers"
)

// deskEditorAddr is the editor of the desk tests.
const deskEditorAddr = "ed@example.org"

// reviewSetup is a daemon folder whose config has review: with one
// editor, required and held, and a send slot a few minutes from now (every
// day at that minute): the draft time (24 h before) is past at start, so
// the daemon's first round builds the draft and mails the review, and the
// week's issue is the one --once makes now. It returns the slot.
func reviewSetup(t *testing.T, readers int) (*daemonSetup, time.Time) {
	t.Helper()
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	slot := time.Now().In(seoul).Truncate(time.Minute).Add(10 * time.Minute)
	d := newDaemonSetup(t, fmt.Sprintf("%d %d * * *", slot.Minute(), slot.Hour()), readers, time.Now)
	f, err := os.OpenFile(d.cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "review: {editors: [%s], required: true, unapproved: hold}\n", deskEditorAddr)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return d, slot
}

// readerToken is the token of a reader's unsubscribe link, signed with
// the key the daemon will find in the store.
func readerToken(t *testing.T, d *daemonSetup, email string) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(d.dir, "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, err := st.TokenSecret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := st.SubscriberByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := subscribers.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(web.Links{BaseURL: d.base, Signer: signer}.Unsubscribe(sub, "x"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("t")
}

// pageText is the text of the browser's page.
func pageText(ctx context.Context) string {
	s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return s
}

// deskArticle is the id of the desk's article whose card holds title.
func deskArticle(t *testing.T, browser context.Context, title string) string {
	t.Helper()
	cards, err := chromedp.Run(browser, chromedp.Evaluate[[]string](`[...document.querySelectorAll('div.art')].map(e => e.dataset.id + "\t" + e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cards {
		if id, text, _ := strings.Cut(c, "\t"); strings.Contains(text, title) {
			return id
		}
	}
	t.Fatalf("no article %q on the desk: %q", title, cards)
	return ""
}

// The whole editor's loop against a real `gull run`: the daemon builds
// the draft at start and mails the review; in a real browser the editor
// asks for a sign-in link, opens it from the mail the SMTP server got,
// hides one article, moves one to another section and pins it, writes a
// note and approves. The send (`gull run --once`, the daemon stopped)
// mails readers the edited issue: the hidden article absent, the pinned
// one leading, the note in. A signed-out browser and a reader's
// unsubscribe token get nothing of the draft. The desk is saved at 1280
// and 390 px (to $GULL_DESK_SCREENSHOTS when set).
func TestDeskOnDaemonInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	d, slot := reviewSetup(t, 2)
	token := readerToken(t, d, "reader000@example.org")
	p := d.start(t)
	p.waitLog(t, "draft built", nil)
	review := waitMessage(t, d.smtp, deskEditorAddr, func(r received) bool { return strings.HasPrefix(r.subject, "Review: ") })
	if !strings.Contains(review.text, d.base+"/desk") {
		t.Errorf("the review mail has no link to the desk:\n%s", review.text)
	}
	const hidden, moved, kept = "HBM chips", "AI기본법 시행령", "반도체 수출과 GPU"
	if code, page := httpGet(t, d.base+"/desk/sign-in"); code != 200 {
		t.Fatalf("GET /desk/sign-in on the daemon: %d, want the sign-in form\n%s", code, page)
	}

	// Signed out: the sign-in form, nothing of the draft.
	if err := chromedp.Do(browser,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(d.base+"/desk"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
	); err != nil {
		t.Fatalf("signed-out /desk: %v", err)
	}
	if text := pageText(browser); strings.Contains(text, kept) || strings.Contains(text, hidden) {
		t.Errorf("the signed-out desk shows the draft:\n%s", text)
	}
	// A reader's token, as a sign-in link and on /desk, opens nothing.
	for _, u := range []string{d.base + "/desk/sign-in?t=" + url.QueryEscape(token), d.base + "/desk?t=" + url.QueryEscape(token)} {
		if err := chromedp.Do(browser,
			chromedp.Navigate(u),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/desk/sign-in"]`)),
		); err != nil {
			t.Fatalf("a reader's token at %s: %v", u, err)
		}
		if text := pageText(browser); strings.Contains(text, kept) || strings.Contains(text, "version") {
			t.Errorf("a reader's token at %s opened the desk:\n%s", u, text)
		}
	}

	// The sign-in link, mailed through the daemon's SMTP server.
	if err := chromedp.Do(browser,
		chromedp.Navigate(d.base+"/desk/sign-in"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), deskEditorAddr),
		chromedp.Submit(chromedp.CSS(`input[name=email]`)),
		chromedp.WaitVisible(chromedp.CSS(`.saved`)),
	); err != nil {
		t.Fatalf("asking for a link: %v", err)
	}
	signIn := waitMessage(t, d.smtp, deskEditorAddr, func(r received) bool { return strings.Contains(r.subject, "Sign in to the desk") })
	link := regexp.MustCompile(regexp.QuoteMeta(d.base) + `/desk/sign-in\?t=\S+`).FindString(signIn.text)
	if link == "" {
		t.Fatalf("no sign-in link in the mail:\n%s", signIn.text)
	}
	if strings.Contains(p.log(), link) {
		t.Error("the sign-in link is in the daemon's log")
	}
	if err := chromedp.Do(browser,
		chromedp.Navigate(link),
		chromedp.Click(chromedp.CSS(`#sign-in`)),
		chromedp.WaitVisible(chromedp.CSS(`#status`)),
	); err != nil {
		t.Fatalf("signing in: %v\n%s", err, pageText(browser))
	}

	h, m := "#a-"+deskArticle(t, browser, hidden), "#a-"+deskArticle(t, browser, moved)
	note := "이번 주는 *반도체*가 중심입니다."
	for _, step := range []struct {
		what    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"hide", []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(h + ` button.hide`)),
			chromedp.WaitVisible(chromedp.CSS(h + ` button.show-again`)),
		}},
		{"move", []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(chromedp.CSS(m+` select[name=theme]`), "compute"),
			chromedp.Click(chromedp.CSS(m + ` form.move button`)),
			chromedp.WaitVisible(chromedp.CSS(`#theme-compute ` + m)),
		}},
		{"pin", []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(m + ` button.pin`)),
			chromedp.WaitVisible(chromedp.CSS(m + ` button.unpin`)),
		}},
		{"note", []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS(`#note`), note),
			chromedp.Submit(chromedp.CSS(`#note`)),
			chromedp.WaitVisible(chromedp.Search(`//p[contains(., "Note saved.")]`)),
		}},
	} {
		ctx, cancel := context.WithTimeout(browser, time.Minute)
		err := chromedp.Do(ctx, step.actions...)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v\n%s", step.what, err, pageText(browser))
		}
	}

	dir := os.Getenv("GULL_DESK_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, width := range []int64{1280, 390} {
		if err := chromedp.Do(browser,
			chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(d.base+"/desk"),
			chromedp.WaitVisible(chromedp.CSS(`#status`)),
		); err != nil {
			t.Fatal(err)
		}
		if scroll, err := chromedp.Run(browser, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); err != nil || scroll > width {
			t.Errorf("at %d px the desk is %d px wide (%v): it scrolls sideways", width, scroll, err)
		}
		// The mail's iframe painted before the shot.
		png, err := browsertest.Screenshot(browser, ".mail iframe")
		if err != nil {
			t.Fatalf("screenshot at %d px: %v", width, err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("desk-daemon-%d.png", width)), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if err := chromedp.Do(browser,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Click(chromedp.CSS(`#approve`)),
		chromedp.WaitVisible(chromedp.CSS(`#reopen`)),
	); err != nil {
		t.Fatalf("approving: %v\n%s", err, pageText(browser))
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("gull run exited %d after SIGTERM", code)
	}
	for _, r := range []string{"reader000@example.org", "reader001@example.org"} {
		if n := copiesByReader(d.smtp)[r]; n != 0 {
			t.Fatalf("%s got %d messages before the send", r, n)
		}
	}

	// The send: --once makes the week's run now, the issue of the slot
	// (the same week) unless a week boundary fell in between, when the
	// slot's send is asked for by name.
	args := []string{"--config", d.cfg, "run", "--once"}
	loc := slot.Location()
	if week := func(at time.Time) string { return digest.IssueID(digest.WeekEnding(at, 168*time.Hour, loc)) }; week(time.Now()) != week(slot) {
		t.Logf("a week boundary fell between now and the slot; sending the slot's issue with send --all --now")
		args = []string{"--config", d.cfg, "send", "--all", "--yes", "--now", slot.Format(time.RFC3339)}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("%s: exit %d\n%s%s", strings.Join(args[2:], " "), code, out.String(), errb.String())
	}
	for _, r := range []string{"reader000@example.org", "reader001@example.org"} {
		got := waitMessage(t, d.smtp, r, func(received) bool { return true })
		if strings.Contains(got.text, hidden) || strings.Contains(got.html, hidden) {
			t.Errorf("%s got the hidden article:\n%s", r, got.text)
		}
		i, j := strings.Index(got.text, "AI기본법 시행령"), strings.Index(got.text, kept)
		if i < 0 || j < 0 || i > j {
			t.Errorf("%s: the pinned article does not lead (at %d, the other at %d):\n%s", r, i, j, got.text)
		}
		if !strings.Contains(got.text, "이번 주는") || !strings.Contains(got.html, "<em>반도체</em>") {
			t.Errorf("%s: the note is missing:\n%s", r, got.text)
		}
	}
}

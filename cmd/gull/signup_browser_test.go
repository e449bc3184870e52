package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"gull/digest/web/browsertest"

	"gull/digest/store"
	"gull/subscribers"
)

// mailTo waits for the n-th message (from 1) the SMTP server took for
// addr, and returns it as a mail program shows it.
func (d *daemonSetup) mailTo(t *testing.T, addr string, n int) received {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var got []received
		for _, m := range d.smtp.Messages() {
			if strings.Join(m.To, ",") == addr {
				got = append(got, parseMessage(t, m.Data))
			}
		}
		if len(got) >= n {
			return got[n-1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("mail %d to %s did not come within 30 s", n, addr)
	return received{}
}

// mailLink is the first link to route in a mail's text part.
func mailLink(t *testing.T, m received, route string) string {
	t.Helper()
	link := regexp.MustCompile(`https?://\S+` + regexp.QuoteMeta(route) + `\S*`).FindString(m.text)
	if link == "" {
		t.Fatalf("no %s link in the mail %q:\n%s", route, m.subject, m.text)
	}
	return link
}

// page is what a reader sees: the page's language, its text, and whether
// it scrolls sideways.
type page struct {
	lang, text string
	sideways   bool
}

func look(t *testing.T, browser context.Context, what string) page {
	t.Helper()
	var p page
	var err error
	if p.lang, err = chromedp.Run(browser, chromedp.Evaluate[string](`document.documentElement.lang`)); err == nil {
		if p.text, err = chromedp.Run(browser, chromedp.Text(chromedp.CSS("body"))); err == nil {
			p.sideways, err = chromedp.Run(browser, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`))
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if p.sideways {
		t.Errorf("%s scrolls sideways at 390 px", what)
	}
	return p
}

// seeing fails t unless the page is in lang and shows every want.
func seeing(t *testing.T, browser context.Context, what, lang string, want ...string) page {
	t.Helper()
	p := look(t, browser, what)
	if p.lang != lang {
		t.Errorf("%s is in %q, want %q", what, p.lang, lang)
	}
	for _, w := range want {
		if !strings.Contains(p.text, w) {
			t.Errorf("%s does not show %q:\n%s", what, w, p.text)
		}
	}
	return p
}

// A reader, in a real browser on a phone-wide screen (390 px) that asks
// for Korean, signs up with a real `gull run`: the form is in Korean; the
// confirmation and welcome mails (delivered by the strict SMTP server) are
// in Korean, and their links work; the reader switches their language to
// English on the preferences page, later asks /manage for a link (which
// comes in English now), and unsubscribes on a page that names the address
// partly masked. No page scrolls sideways.
func TestSignUpJourneyInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	// $GULL_SIGNUP_SCREENSHOTS: a folder for a picture of each page, as
	// examples/screenshots/ shows them.
	shot := func(name string) {
		t.Helper()
		dir := os.Getenv("GULL_SIGNUP_SCREENSHOTS")
		if dir == "" {
			return
		}
		png, err := browsertest.Screenshot(browser, "body")
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := newDaemonSetup(t, "0 8 1 1 *", 0, time.Now)
	d.start(t)
	const addr = "kimhaneul@example.org"

	// A browser set to Korean, as a reader's phone in Korea is.
	if _, err := chromedp.Call(browser, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(browser, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(browser,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(d.base+"/subscribe"),
		chromedp.WaitVisible(chromedp.CSS(`form[action=subscribe]`)),
	); err != nil {
		t.Fatalf("opening the sign-up page: %v", err)
	}
	seeing(t, browser, "the sign-up page", "ko", "구독 신청", "이름 (선택)", "메일의 언어", "받을 기사", "English", "이미 구독 중인가요?")
	shot("signup-390-ko")
	if t.Failed() {
		t.FailNow() // the rest waits for Korean pages that would never come
	}
	if err := chromedp.Do(browser,
		chromedp.SendKeys(chromedp.ID("email"), addr),
		chromedp.SendKeys(chromedp.ID("name"), "김하늘"),
		chromedp.Click(chromedp.CSS(`input[name=articles][value=en]`)),
		// Unticked: compute alone.
		chromedp.Click(chromedp.CSS(`input[name=themes][value=regulation]`)),
		chromedp.Click(chromedp.CSS(`input[name=themes][value=other]`)),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(`//h1[contains(., "메일함을 확인해 주세요")]`),
	); err != nil {
		t.Fatalf("signing up: %v", err)
	}
	seeing(t, browser, "the answer to the sign-up", "ko", "구독을 확인하는 링크를 메일로 보냈습니다")

	confirmation := d.mailTo(t, addr, 1)
	if !strings.Contains(confirmation.subject, "구독을 확인해 주세요") || !strings.Contains(confirmation.text, "7일") {
		t.Errorf("the confirmation mail: %q\n%s", confirmation.subject, confirmation.text)
	}
	if err := chromedp.Do(browser,
		chromedp.Navigate(mailLink(t, confirmation, "/confirm?t=")),
		chromedp.WaitVisible(chromedp.CSS(`form[action=confirm]`)),
	); err != nil {
		t.Fatalf("opening the confirm link: %v", err)
	}
	seeing(t, browser, "the confirm page", "ko", "구독을 확인할까요?", "ki•••@example.org")
	shot("signup-confirm-390-ko")
	if err := chromedp.Do(browser,
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(`//h1[contains(., "구독이 확인되었습니다")]`),
	); err != nil {
		t.Fatalf("confirming: %v", err)
	}
	seeing(t, browser, "the confirmed page", "ko", "환영 메일")

	welcome := d.mailTo(t, addr, 2)
	if !strings.Contains(welcome.subject, "구독을 환영합니다") || !strings.Contains(welcome.text, "첫 호는 정해진 발송 일정에 맞춰") {
		t.Errorf("the welcome mail: %q\n%s", welcome.subject, welcome.text)
	}
	if err := chromedp.Do(browser,
		chromedp.Navigate(mailLink(t, welcome, "/preferences?t=")),
		chromedp.WaitVisible(chromedp.CSS(`form[action=preferences]`)),
	); err != nil {
		t.Fatalf("opening the welcome mail's preferences link: %v", err)
	}
	seeing(t, browser, "the preferences page", "ko", "구독 설정", "ki•••@example.org", "한국어 기사만")
	shot("signup-preferences-390-ko")
	ticked, err := chromedp.Run(browser, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input:checked')].map(b => b.name + "=" + b.value)`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ticked, " ") != "language=ko articles=en themes=compute" {
		t.Errorf("the preferences page ticks %q, want what the sign-up chose", ticked)
	}
	if err := chromedp.Do(browser,
		chromedp.Click(chromedp.CSS(`input[name=language][value=en]`)),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.note.saved`)),
	); err != nil {
		t.Fatalf("changing the language: %v", err)
	}
	seeing(t, browser, "the saved preferences", "en", "Saved", "Your preferences", "English articles only")

	// A reader who lost every mail: the manage link, from the sign-up page.
	if err := chromedp.Do(browser,
		chromedp.Navigate(d.base+"/subscribe"),
		chromedp.Click(chromedp.CSS(`a[href^=manage]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action=manage]`)),
	); err != nil {
		t.Fatalf("opening /manage: %v", err)
	}
	seeing(t, browser, "the manage page", "ko", "구독 관리")
	shot("signup-manage-390-ko")
	if err := chromedp.Do(browser,
		chromedp.SendKeys(chromedp.ID("email"), addr),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(`//h1[contains(., "메일함을 확인해 주세요")]`),
	); err != nil {
		t.Fatalf("asking for a manage link: %v", err)
	}
	manage := d.mailTo(t, addr, 3)
	if !strings.Contains(manage.subject, "Your preferences link") {
		t.Errorf("the manage mail is not in the reader's language now: %q\n%s", manage.subject, manage.text)
	}
	if err := chromedp.Do(browser,
		chromedp.Navigate(mailLink(t, manage, "/preferences?t=")),
		chromedp.WaitVisible(chromedp.CSS(`form[action=preferences]`)),
		chromedp.Click(`//a[.="Unsubscribe"]`),
		chromedp.WaitVisible(chromedp.CSS(`form[action=unsubscribe]`)),
	); err != nil {
		t.Fatalf("from the manage link to the unsubscribe page: %v", err)
	}
	p := seeing(t, browser, "the unsubscribe page", "en", "Unsubscribe?", "ki•••@example.org")
	shot("signup-unsubscribe-390-en")
	if strings.Contains(p.text, addr) {
		t.Error("the unsubscribe page shows the whole address")
	}
	if err := chromedp.Do(browser,
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(`//h1[contains(., "You are unsubscribed")]`),
	); err != nil {
		t.Fatalf("unsubscribing: %v", err)
	}
	seeing(t, browser, "the unsubscribed page", "en", "ki•••@example.org", "Sign up again")

	ctx := context.Background()
	var st *store.Store
	st, err = store.Open(ctx, filepath.Join(d.dir, "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.SubscriberByEmail(ctx, addr)
	if err != nil || got.Status != subscribers.Unsubscribed || got.Name != "김하늘" || got.Language != "en" || got.Articles != "en" ||
		subscribers.FormatThemes(got.Themes) != "compute" {
		t.Errorf("the store holds %+v (%v)", got, err)
	}
}

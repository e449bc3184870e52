package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gull/subscribers"
)

// getIn asks for target as a browser that prefers acceptLanguage.
func (f *fixture) getIn(target, acceptLanguage string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	req.Header.Set("Accept-Language", acceptLanguage)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// The sign-up form is in the browser's language when it names ko or en
// (the higher q wins), else the list's; ?lang= (the page's switch) wins
// over both. The form asks for name, language, article languages and
// themes, with theme names in the page's language, and links /manage.
func TestSignUpFormLanguage(t *testing.T) {
	f := newFixture(t, func(p *SubscriberPages) {
		p.Themes[0].Names.Ko, p.Themes[0].Names.En = "반도체와 컴퓨팅", "Compute & Chips"
		p.Titles.Ko, p.Titles.En = "AI 정책 주간 <Weekly>", "AI 정책 주간 <Weekly> in English"
	})
	for _, c := range []struct{ target, accept, want string }{
		{"/subscribe", "", "ko"},
		{"/subscribe", "en-US,en;q=0.9", "en"},
		{"/subscribe", "fr-FR, en;q=0.5, ko;q=0.8", "ko"},
		{"/subscribe", "fr, de", "ko"},
		{"/subscribe", "ko;q=0.2, EN-gb", "en"},
		{"/subscribe?lang=en", "ko", "en"},
		{"/subscribe?lang=ko", "en", "ko"},
		{"/subscribe?lang=fr", "en", "en"},
	} {
		rec := f.getIn(c.target, c.accept)
		body := rec.Body.String()
		other := map[string]string{"ko": "en", "en": "ko"}[c.want]
		checkPage(t, c.target+" "+c.accept, rec, 200, `<html lang="`+c.want+`">`, `name="name"`,
			`name="language" value="`+c.want+`" checked`, `name="articles" value="both" checked`,
			`href="subscribe?lang=`+other+`"`, `href="manage?lang=`+c.want+`"`)
		if c.want == "ko" && (!strings.Contains(body, "반도체와 컴퓨팅") || !strings.Contains(body, "이미 구독 중인가요?") || strings.Contains(body, "Subscribe</button>")) {
			t.Errorf("%s %s: not the Korean page:\n%s", c.target, c.accept, body)
		}
		if c.want == "en" && (!strings.Contains(body, "Compute &amp; Chips") || !strings.Contains(body, "<title>Subscribe · AI 정책 주간 &lt;Weekly&gt; in English</title>") || !strings.Contains(body, "Already subscribed?") || strings.Contains(body, "구독 신청</button>")) {
			t.Errorf("%s %s: not the English page:\n%s", c.target, c.accept, body)
		}
	}
}

// A sign-up keeps the whole form on the pending row; the confirmation
// mail, the confirm page and the answers are in the language chosen; the
// confirmation sends a welcome mail (no issue yet: its link is empty, the
// mail says the first comes on the schedule) with working preferences and
// unsubscribe links. A bad name or language is one clear line, nothing
// stored.
func TestSignUpInTheReadersLanguage(t *testing.T) {
	f := newFixture(t)
	rec := f.post("/subscribe", url.Values{"email": {"jane@example.org"}, "name": {"Jane Kim"}, "language": {"en"}, "articles": {"ko"}, "themes": {"safety"}})
	checkPage(t, "POST /subscribe in English", rec, 200, `<html lang="en">`, "Please check your inbox")
	s := f.byEmail("jane@example.org")
	if s.Status != subscribers.Pending || s.Name != "Jane Kim" || s.Language != "en" || s.Articles != "ko" || subscribers.FormatThemes(s.Themes) != "safety" {
		t.Errorf("the pending row: %+v", s)
	}
	m := f.mailer.mails()
	if len(m) != 1 || m[0].to.Language != "en" {
		t.Fatalf("confirmation mails: %+v", m)
	}
	page := f.get(path(t, m[0].url))
	checkPage(t, "GET /confirm", page, 200, `<html lang="en">`, "Confirm your subscription?", "j•••e@example.org")
	checkPage(t, "confirmed", f.confirm(m[0].url), 200, `<html lang="en">`, "You are subscribed")
	if s := f.byEmail("jane@example.org"); s.Status != subscribers.Active || s.Language != "en" || s.Articles != "ko" {
		t.Errorf("confirmed: %+v", s)
	}
	w := f.mailer.of("welcome")
	if len(w) != 1 || w[0].to.Language != "en" || w[0].welcome.IssueURL != "" ||
		!strings.HasPrefix(w[0].welcome.PreferencesURL, baseURL+"/preferences?t=") || !strings.HasPrefix(w[0].welcome.UnsubscribeURL, baseURL+"/unsubscribe?t=") {
		t.Fatalf("welcome mails: %+v", w)
	}
	checkPage(t, "the welcome's preferences link", f.get(path(t, w[0].welcome.PreferencesURL)), 200, `<html lang="en">`, "Your preferences", "j•••e@example.org")
	// Pressing the button again sends no second welcome.
	f.confirm(m[0].url)
	if n := len(f.mailer.of("welcome")); n != 1 {
		t.Errorf("%d welcome mails after confirming twice", n)
	}

	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"email": {"x@example.org"}, "name": {"a\nBcc: b@example.org"}}, "contains a control character"},
		{url.Values{"email": {"x@example.org"}, "language": {"jp"}}, `unknown language &#34;jp&#34;; use ko (Korean) or en (English)`},
		{url.Values{"email": {"x@example.org"}, "articles": {"all"}}, `unknown article languages &#34;all&#34;; use ko, en or both`},
	} {
		checkPage(t, c.form.Encode(), f.post("/subscribe", c.form), 400, c.want, `value="x@example.org"`)
	}
	if _, err := f.store.SubscriberByEmail(context.Background(), "x@example.org"); err == nil {
		t.Error("a refused sign-up was stored")
	}
}

// A welcome mail that fails leaves the reader subscribed.
func TestWelcomeFailureKeepsTheConfirmation(t *testing.T) {
	f := newFixture(t)
	f.post("/subscribe", url.Values{"email": {"kim@example.kr"}, "language": {"ko"}})
	m := f.mailer.mails()
	f.mailer.mu.Lock()
	f.mailer.err = context.DeadlineExceeded
	f.mailer.mu.Unlock()
	checkPage(t, "confirmed", f.confirm(m[0].url), 200, `<html lang="ko">`, "구독이 확인되었습니다")
	if s := f.byEmail("kim@example.kr"); s.Status != subscribers.Active {
		t.Errorf("after a failed welcome: %+v", s)
	}
	if !strings.Contains(f.log.String(), "welcome mail failed; the subscription stands") {
		t.Errorf("log:\n%s", f.log)
	}
}

// A confirm link mailed before the languages came carries the themes
// alone; it still confirms, with those themes.
func TestOldConfirmLinkStillWorks(t *testing.T) {
	f := newFixture(t)
	s := f.add("old@example.org", subscribers.Pending)
	tok := f.pages.Signer.Sign(subscribers.Claims{Purpose: subscribers.PurposeConfirm, Subscriber: s.ID, Data: "compute safety",
		Expires: start.Add(subscribers.ConfirmTTL)})
	checkPage(t, "old link", f.confirm(baseURL+"/confirm?t="+url.QueryEscape(tok)), 200, "구독이 확인되었습니다")
	if got := f.sub(s.ID); got.Status != subscribers.Active || subscribers.FormatThemes(got.Themes) != "compute safety" || got.Language != "" {
		t.Errorf("confirmed by an old link: %+v", got)
	}
}

// The preferences page carries the language and article languages; saving
// English answers in English; a bad value saves nothing.
func TestPreferencesLanguage(t *testing.T) {
	f := newFixture(t)
	sub := f.add("reader@example.org", subscribers.Active)
	prefs := path(t, f.links().Preferences(sub))
	checkPage(t, "GET", f.get(prefs), 200, `<html lang="ko">`, `name="language" value="ko" checked`, `name="articles" value="both" checked`, "re•••@example.org")
	tok, _ := url.ParseQuery(strings.TrimPrefix(prefs, "/preferences?"))
	checkPage(t, "bad", f.post("/preferences", url.Values{"t": {tok.Get("t")}, "language": {"de"}}), 400, "고를 수 없는 값입니다", `unknown language &#34;de&#34;`)
	if s := f.sub(sub.ID); s.Language != "" {
		t.Errorf("a bad value saved: %+v", s)
	}
	checkPage(t, "save", f.post("/preferences", url.Values{"t": {tok.Get("t")}, "language": {"en"}, "articles": {"en"}}), 200,
		`<html lang="en">`, "Saved", `name="language" value="en" checked`, `name="articles" value="en" checked`)
	if s := f.sub(sub.ID); s.Language != "en" || s.Articles != "en" {
		t.Errorf("saved: %+v", s)
	}
	// The unsubscribe page is in their language now, and names them.
	checkPage(t, "unsubscribe", f.get(path(t, f.links().Unsubscribe(sub, ""))), 200, `<html lang="en">`, "Unsubscribe?", "re•••@example.org")
}

// /manage: GET is a form and changes nothing; POST answers the same page
// for every address and mails a preferences link to active and
// unsubscribed readers, the confirmation again to a pending one, nothing
// to a bounced one or one not on the list; it is limited per address and
// per client, and refuses a POST a browser says came from another site.
func TestManage(t *testing.T) {
	f := newFixture(t, func(p *SubscriberPages) { p.SubscribeBurst, p.SubscribeEvery = 7, time.Hour })
	active := f.add("active@example.org", subscribers.Active)
	gone := f.add("gone@example.org", subscribers.Unsubscribed)
	f.add("bounced@example.org", subscribers.Bounced)
	pending, _, err := f.store.CreatePending(context.Background(), subscribers.Subscriber{Email: "pending@example.org", Language: "en", Themes: []string{"safety"}}, start)
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, "GET /manage", f.get("/manage"), 200, `<form method="post" action="manage">`, `name="email"`, `href="manage?lang=en"`)
	checkPage(t, "GET /manage?lang=en", f.get("/manage?lang=en"), 200, `<html lang="en">`, "Manage your subscription")

	var first string
	for i, addr := range []string{"active@example.org", "GONE@example.org", "bounced@example.org", "pending@example.org", "nobody@example.org"} {
		rec := f.post("/manage", url.Values{"email": {addr}, "lang": {"ko"}})
		checkPage(t, "POST /manage "+addr, rec, 200, "메일함을 확인해 주세요")
		if i == 0 {
			first = rec.Body.String()
		} else if rec.Body.String() != first {
			t.Errorf("the answer for %s differs:\n%s\n%s", addr, first, rec.Body)
		}
	}
	links := f.mailer.of("manage")
	if len(links) != 2 || links[0].to.ID != active.ID || links[1].to.ID != gone.ID {
		t.Fatalf("manage links: %+v", links)
	}
	checkPage(t, "the mailed link", f.get(path(t, links[0].url)), 200, "받을 주제", "ac•••@example.org")
	if conf := f.mailer.mails(); len(conf) != 1 || conf[0].to.ID != pending.ID || conf[0].to.Language != "en" {
		t.Errorf("confirmations: %+v", conf)
	} else if c := f.pages.tokenChoice(mustClaims(t, f, conf[0].url).Data); subscribers.FormatThemes(c.Themes) != "safety" || c.Language != "en" {
		t.Errorf("the pending reader's link carries %+v", c)
	}
	if s := f.sub(gone.ID); s.Status != subscribers.Unsubscribed {
		t.Errorf("/manage changed the unsubscribed reader: %+v", s)
	}

	// Per address: once every 10 minutes.
	f.post("/manage", url.Values{"email": {"active@example.org"}})
	if n := len(f.mailer.of("manage")); n != 2 {
		t.Errorf("a second link within 10 minutes: %d links", n)
	}
	f.clock.add(11 * time.Minute)
	f.post("/manage", url.Values{"email": {"active@example.org"}})
	if n := len(f.mailer.of("manage")); n != 3 {
		t.Errorf("after 10 minutes: %d links, want 3", n)
	}
	// Per client: the burst (7) is spent.
	if rec := f.post("/manage", url.Values{"email": {"active@example.org"}}); rec.Code != http.StatusTooManyRequests {
		t.Errorf("past the burst: %d, want 429", rec.Code)
	}
	if rec := f.do("POST", "/manage", "application/x-www-form-urlencoded", "email=active%40example.org", "192.0.2.9:1"); rec.Code != 200 {
		t.Errorf("another client: %d", rec.Code)
	}
	req := httptest.NewRequest("POST", "/manage", strings.NewReader("email=active%40example.org"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.RemoteAddr = "192.0.2.10:1"
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("a cross-site POST: %d, want 400", rec.Code)
	}
	checkPage(t, "bad address", f.do("POST", "/manage", "application/x-www-form-urlencoded", "email=not-an-address", "192.0.2.11:1"), 400, `value="not-an-address"`)
}

func mustClaims(t *testing.T, f *fixture, link string) subscribers.Claims {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.pages.Signer.Verify(u.Query().Get("t"), subscribers.PurposeConfirm, f.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Someone who unsubscribed and signs up again keeps their row as it is
// until they open the link; confirming applies what the form chose then
// (language and article languages included), and they are back.
func TestSignUpAgainAppliesTheChoiceOnConfirm(t *testing.T) {
	f := newFixture(t)
	gone := f.add("back@example.org", subscribers.Unsubscribed, "compute")
	f.post("/subscribe", url.Values{"email": {"back@example.org"}, "language": {"en"}, "articles": {"ko"}, "themes": {"safety"}})
	if s := f.sub(gone.ID); s.Status != subscribers.Unsubscribed || s.Language != "" || subscribers.FormatThemes(s.Themes) != "compute" {
		t.Errorf("the sign-up changed the row before the link was opened: %+v", s)
	}
	m := f.mailer.mails()
	if len(m) != 1 || m[0].to.Language != "en" {
		t.Fatalf("confirmation mails: %+v", m)
	}
	checkPage(t, "confirmed", f.confirm(m[0].url), 200, `<html lang="en">`, "You are subscribed")
	if s := f.sub(gone.ID); s.Status != subscribers.Active || s.Language != "en" || s.Articles != "ko" || subscribers.FormatThemes(s.Themes) != "safety" {
		t.Errorf("after confirming: %+v", s)
	}
}

package daemon

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gull/subscribers"
)

// get asks h for path as a browser does, in the languages it prefers.
func get(h http.Handler, path, acceptLanguage string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// linkIn is the path and query of the first link to route in text, or "".
func linkIn(text, route string) string {
	m := regexp.MustCompile(`https?://[^\s"<>]+` + regexp.QuoteMeta(route) + `[^\s"<>]*`).FindString(text)
	if m == "" {
		return ""
	}
	u, err := url.Parse(m)
	if err != nil {
		return ""
	}
	return u.RequestURI()
}

// mustHave fails t unless body holds every want.
func mustHave(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, body)
		}
	}
}

// A reader's journey through the daemon's web side, every mail delivered
// by the strict SMTP server and its links followed: a Korean sign-up
// (name, language, article languages, themes), the Korean confirmation
// mail, the welcome mail with the latest issue's page, the preferences
// changed to English, a manage link asked for (in English now), and the
// unsubscribe page that names the address, masked. /manage answers an
// address not on the list with the same page, and mails it nothing.
func TestDaemonSignUpJourney(t *testing.T) {
	d := newTestDaemon(t, 0, "window: 336h\n")
	ctx := context.Background()
	// An issue comes out first, so the welcome mail has one to link to.
	if err := d.Once(ctx, &bytes.Buffer{}); err != nil {
		t.Fatalf("run: %v\n%s", err, d.log)
	}
	recs, err := d.st.Issues(ctx, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("published issues: %v %v", recs, err)
	}
	h := &siteHolder{}
	deskSite(t, d, h)
	t.Cleanup(func() { h.stop(); h.wait(); h.close() })

	// The form in the browser's language, with a switch to the other.
	form := get(h, "/subscribe", "ko-KR,ko;q=0.9,en;q=0.8")
	mustHave(t, "the Korean sign-up form", form.Body.String(), `<html lang="ko">`, "구독 신청", `name="name"`,
		`name="language" value="ko" checked`, `name="articles" value="both" checked`, `href="subscribe?lang=en"`, `href="manage?lang=ko"`)
	mustHave(t, "the English sign-up form", get(h, "/subscribe?lang=en", "ko").Body.String(), `<html lang="en">`, "Subscribe", `name="language" value="en" checked`)

	const addr = "kimhaneul@example.org"
	w := post(h, "/subscribe", url.Values{"email": {addr}, "name": {"김하늘"}, "language": {"ko"}, "articles": {"en"}, "themes": {"compute"}})
	mustHave(t, "the answer to the sign-up", w.Body.String(), `<html lang="ko">`, "메일함을 확인해 주세요")
	h.wait()
	sub, err := d.st.SubscriberByEmail(ctx, addr)
	if err != nil || sub.Status != subscribers.Pending || sub.Name != "김하늘" || sub.Language != "ko" || sub.Articles != "en" ||
		subscribers.FormatThemes(sub.Themes) != "compute" {
		t.Fatalf("the pending row: %+v %v", sub, err)
	}
	mails := to(d.inbox(t), addr)
	if len(mails) != 1 || !strings.Contains(mails[0].subject, "구독을 확인해 주세요") || strings.Contains(mails[0].subject, "Please confirm") {
		t.Fatalf("confirmation mails: %+v", mails)
	}
	confirm := linkIn(mails[0].text, "/confirm?t=")
	page := get(h, confirm, "en")
	mustHave(t, "the confirm page", page.Body.String(), `<html lang="ko">`, "구독을 확인할까요?", "ki•••@example.org")
	tok := regexp.MustCompile(`name="t" value="([^"]+)"`).FindStringSubmatch(page.Body.String())
	if tok == nil {
		t.Fatal("no button on the confirm page")
	}
	mustHave(t, "the confirmed page", post(h, "/confirm", url.Values{"t": {tok[1]}}).Body.String(), `<html lang="ko">`, "구독이 확인되었습니다")
	h.wait()

	// The welcome mail, in Korean, with the issue's page and the links.
	mails = to(d.inbox(t), addr)
	if len(mails) != 2 {
		t.Fatalf("%d mails after confirming, want the welcome too", len(mails))
	}
	welcome := mails[1]
	mustHave(t, "the welcome mail", welcome.subject, "구독을 환영합니다")
	mustHave(t, "the welcome mail's text", welcome.text, "구독해 주셔서 고맙습니다", "/issues/"+recs[0].ID, "구독 설정 바꾸기", "구독 해지")
	issue := linkIn(welcome.text, "/issues/")
	if w := get(h, issue, ""); w.Code != http.StatusOK {
		t.Errorf("the welcome mail's issue link %s: %d", issue, w.Code)
	}
	// The list is in English; the reader's issue page is in Korean (each
	// language's page cached on its own).
	bare := strings.TrimSuffix(issue, "?lang=ko")
	if w := get(h, bare, ""); !strings.Contains(w.Body.String(), `<html lang="en"`) {
		t.Errorf("the issue's bare page %s is not in the list's language:\n%.600s", bare, w.Body.String())
	}
	if w := get(h, issue, ""); !strings.HasSuffix(issue, "?lang=ko") || !strings.Contains(w.Body.String(), `<html lang="ko"`) {
		t.Errorf("the welcome mail's issue link %s is not the page in the reader's language:\n%.600s", issue, w.Body.String())
	}

	// Preferences: language to English; the answer is in English.
	prefs := linkIn(welcome.text, "/preferences?t=")
	mustHave(t, "the preferences page", get(h, prefs, "").Body.String(), `<html lang="ko">`, "ki•••@example.org",
		`name="language" value="ko" checked`, `name="articles" value="en" checked`, `name="themes" value="compute" checked`)
	ptok, _ := url.ParseQuery(strings.TrimPrefix(prefs, "/preferences?"))
	saved := post(h, "/preferences", url.Values{"t": {ptok.Get("t")}, "language": {"en"}, "articles": {"both"}, "themes": {"compute"}})
	mustHave(t, "the saved preferences", saved.Body.String(), `<html lang="en">`, "Saved", `name="language" value="en" checked`)
	if s, _ := d.st.SubscriberByEmail(ctx, addr); s.Language != "en" || s.Articles != "both" || s.Status != subscribers.Active {
		t.Errorf("after saving: %+v", s)
	}

	// The manage link, now in English; an address not on the list gets
	// the same page and no mail.
	known := post(h, "/manage", url.Values{"email": {addr}})
	unknown := post(h, "/manage", url.Values{"email": {"nobody@example.org"}})
	if known.Code != http.StatusOK || known.Body.String() != unknown.Body.String() {
		t.Errorf("/manage answers differ: %d\n%s\n%s", known.Code, known.Body, unknown.Body)
	}
	h.wait()
	mails = to(d.inbox(t), addr)
	if len(mails) != 3 || !strings.Contains(mails[2].subject, "Your preferences link") {
		t.Fatalf("mails after /manage: %+v", mails)
	}
	if n := len(to(d.inbox(t), "nobody@example.org")); n != 0 {
		t.Errorf("an address not on the list got %d mails", n)
	}
	mustHave(t, "the manage link's page", get(h, linkIn(mails[2].text, "/preferences?t="), "").Body.String(), `<html lang="en">`, "Your preferences")

	// Unsubscribe from the welcome mail's link: the address, masked.
	unsub := linkIn(welcome.text, "/unsubscribe?t=")
	mustHave(t, "the unsubscribe page", get(h, unsub, "").Body.String(), `<html lang="en">`, "Unsubscribe?", "ki•••@example.org")
	utok, _ := url.ParseQuery(strings.TrimPrefix(unsub, "/unsubscribe?"))
	done := post(h, "/unsubscribe", url.Values{"t": {utok.Get("t")}}).Body.String()
	mustHave(t, "the unsubscribed page", done, "You are unsubscribed", "ki•••@example.org")
	if strings.Contains(done, addr) {
		t.Error("the unsubscribed page shows the whole address")
	}
	if s, _ := d.st.SubscriberByEmail(ctx, addr); s.Status != subscribers.Unsubscribed {
		t.Errorf("after unsubscribing: %+v", s)
	}
}

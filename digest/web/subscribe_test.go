package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gull/digest/store"
	"gull/subscribers"
)

var (
	start   = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	baseURL = "https://news.example.org"
)

// fakeMailer records the mails instead of sending them: the confirmation
// mails (mails), and the welcome and manage-link ones (others).
type fakeMailer struct {
	mu     sync.Mutex
	sent   []sentMail
	others []sentMail
	err    error
}

type sentMail struct {
	to      subscribers.Subscriber
	url     string
	kind    string // "welcome" or "manage" in others
	welcome Welcome
}

func (m *fakeMailer) SendConfirmation(_ context.Context, to subscribers.Subscriber, confirmURL string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, sentMail{to: to, url: confirmURL})
	return m.err
}

func (m *fakeMailer) SendWelcome(_ context.Context, to subscribers.Subscriber, w Welcome) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.others = append(m.others, sentMail{to: to, url: w.PreferencesURL, kind: "welcome", welcome: w})
	return m.err
}

func (m *fakeMailer) SendManageLink(_ context.Context, to subscribers.Subscriber, preferencesURL string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.others = append(m.others, sentMail{to: to, url: preferencesURL, kind: "manage"})
	return m.err
}

func (m *fakeMailer) mails() []sentMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sent)
}

// of is the welcome or manage mails sent.
func (m *fakeMailer) of(kind string) []sentMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []sentMail
	for _, s := range m.others {
		if s.kind == kind {
			out = append(out, s)
		}
	}
	return out
}

// clock is the pages' Now, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a log the sign-up goroutines write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	t      *testing.T
	pages  *SubscriberPages
	h      http.Handler
	store  *store.Store
	mailer *fakeMailer
	clock  *clock
	log    *syncBuffer
}

func newFixture(t *testing.T, edit ...func(*SubscriberPages)) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := subscribers.NewSigner([]byte("a test key of thirty-two bytes!!"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: st, mailer: &fakeMailer{}, clock: &clock{t: start}, log: &syncBuffer{}}
	f.pages = &SubscriberPages{
		Store:   st,
		Signer:  signer,
		Mailer:  f.mailer,
		BaseURL: baseURL,
		Title:   "AI 정책 주간 <Weekly>",
		// Pages without a reader are in Korean unless the browser asks.
		Language: "ko",
		Themes: []ThemeChoice{
			{ID: "compute", Name: "Compute & Chips"},
			{ID: "regulation", Name: "규제 / Regulation"},
			{ID: "safety", Name: "Safety"},
		},
		Now:            f.clock.now,
		Log:            slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		SubscribeBurst: 100,
		SubscribeEvery: time.Second,
	}
	for _, e := range edit {
		e(f.pages)
	}
	f.h = f.pages.Handler()
	t.Cleanup(func() {
		f.pages.Wait()
		f.pages.Stop() // its workers end
		st.Close()
	})
	return f
}

// do sends a request and, for a sign-up, waits for its work to finish.
func (f *fixture) do(method, target, contentType, body, remote string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if remote != "" {
		req.RemoteAddr = remote
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	f.pages.Wait()
	return rec
}

func (f *fixture) get(target string) *httptest.ResponseRecorder {
	return f.do("GET", target, "", "", "")
}

func (f *fixture) post(target string, form url.Values) *httptest.ResponseRecorder {
	return f.do("POST", target, "application/x-www-form-urlencoded", form.Encode(), "")
}

func (f *fixture) signUp(email string, themes ...string) *httptest.ResponseRecorder {
	return f.post("/subscribe", url.Values{"email": {email}, "themes": themes})
}

// confirm does what a reader does with the link of a confirmation mail:
// opens it and, when the page has the confirm button, presses it. It
// returns the last page.
func (f *fixture) confirm(link string) *httptest.ResponseRecorder {
	f.t.Helper()
	rec := f.get(path(f.t, link))
	if token, ok := confirmButton(rec.Body.String()); ok {
		return f.post("/confirm", url.Values{"t": {token}})
	}
	return rec
}

var confirmFormRE = regexp.MustCompile(`<form method="post" action="confirm">\s*<input type="hidden" name="t" value="([^"]+)">`)

// confirmButton finds the confirm page's button and the token it posts.
func confirmButton(body string) (string, bool) {
	m := confirmFormRE.FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}

func (f *fixture) sub(id int64) subscribers.Subscriber {
	f.t.Helper()
	s, err := f.store.SubscriberByID(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) byEmail(email string) subscribers.Subscriber {
	f.t.Helper()
	s, err := f.store.SubscriberByEmail(context.Background(), email)
	if err != nil {
		f.t.Fatalf("%s: %v", email, err)
	}
	return s
}

func (f *fixture) add(email string, st subscribers.Status, themes ...string) subscribers.Subscriber {
	f.t.Helper()
	s, _, _, err := f.store.SaveSubscriber(context.Background(), subscribers.Subscriber{Email: email, Status: st, Themes: themes}, subscribers.AllFields, start.Add(-time.Hour))
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) links() Links { return Links{BaseURL: baseURL, Signer: f.pages.Signer} }

func (f *fixture) token(purpose subscribers.Purpose, id int64, data string) string {
	return f.pages.Signer.Sign(subscribers.Claims{Purpose: purpose, Subscriber: id, Data: data})
}

// path makes a link from a mail or a page into a request target.
func path(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(html.UnescapeString(link))
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

var hrefRE = regexp.MustCompile(`href="([^"]*)"`)

// link finds the page's link to route.
func link(t *testing.T, body, route string) string {
	t.Helper()
	for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
		if strings.Contains(m[1], route+"?t=") {
			return path(t, m[1])
		}
	}
	t.Fatalf("no link to %s in\n%s", route, body)
	return ""
}

// checkPage checks what every subscriber page must be.
func checkPage(t *testing.T, what string, rec *httptest.ResponseRecorder, code int, want ...string) {
	t.Helper()
	if rec.Code != code {
		t.Errorf("%s: status %d, want %d\n%s", what, rec.Code, code, rec.Body)
	}
	h := rec.Header()
	for k, v := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-store",
		"Referrer-Policy":        "no-referrer",
		"X-Content-Type-Options": "nosniff",
	} {
		if h.Get(k) != v {
			t.Errorf("%s: %s is %q, want %q", what, k, h.Get(k), v)
		}
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy %q", what, csp)
	}
	body := rec.Body.String()
	for _, w := range []string{
		"<!DOCTYPE html>", `<html lang="`, `<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"AI 정책 주간 &lt;Weekly&gt;", "</html>",
	} {
		if !strings.Contains(body, w) {
			t.Errorf("%s: the page lacks %q\n%s", what, w, body)
		}
	}
	if strings.Contains(strings.ToLower(body), "<script") || strings.Contains(body, "<Weekly>") {
		t.Errorf("%s: script or unescaped markup in\n%s", what, body)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: the page lacks %q\n%s", what, w, body)
		}
	}
}

func TestDoubleOptIn(t *testing.T) {
	f := newFixture(t)
	checkPage(t, "GET /subscribe", f.get("/subscribe"), 200,
		`<form method="post" action="subscribe">`, `name="email"`, `value="compute" checked`, "Compute &amp; Chips", "구독 신청")

	rec := f.signUp(" Reader@Example.ORG ", "compute", "safety")
	checkPage(t, "POST /subscribe", rec, 200, "메일함을 확인해 주세요", "메일함을 확인해 주세요")
	mails := f.mailer.mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails, want 1", len(mails))
	}
	m := mails[0]
	if m.to.Email != "Reader@example.org" || m.to.Status != subscribers.Pending || m.to.ID == 0 {
		t.Errorf("mailed %+v", m.to)
	}
	if !strings.HasPrefix(m.url, baseURL+"/confirm?t=") {
		t.Errorf("confirm link %q", m.url)
	}
	if strings.Contains(rec.Body.String(), "Reader") || strings.Contains(f.log.String(), m.url[len(baseURL+"/confirm?t="):]) {
		t.Error("the page shows the address, or the log has the token")
	}
	if s := f.sub(m.to.ID); s.Status != subscribers.Pending || !s.Confirmed.IsZero() {
		t.Errorf("before confirming: %+v", s)
	}

	f.clock.add(time.Hour)
	rec = f.confirm(m.url)
	checkPage(t, "GET /confirm", rec, 200, "구독이 확인되었습니다", "구독이 확인되었습니다")
	s := f.sub(m.to.ID)
	if s.Status != subscribers.Active || !s.Confirmed.Equal(start.Add(time.Hour)) || !slices.Equal(s.Themes, []string{"compute", "safety"}) {
		t.Errorf("after confirming: %+v", s)
	}

	// The page links to the preferences with a working token.
	prefs := link(t, rec.Body.String(), "/preferences")
	checkPage(t, "preferences from the confirm page", f.get(prefs), 200, `value="compute" checked`, `value="safety" checked`)
	if strings.Contains(f.get(prefs).Body.String(), `value="regulation" checked`) {
		t.Error("a theme not chosen is ticked")
	}

	// Opening the link again is harmless, and does not undo a later choice.
	if _, err := f.store.SetThemes(context.Background(), s.ID, []string{"regulation"}, start.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Hour)
	checkPage(t, "GET /confirm again", f.confirm(m.url), 200, "구독이 확인되었습니다")
	if again := f.sub(s.ID); !again.Confirmed.Equal(s.Confirmed) || !slices.Equal(again.Themes, []string{"regulation"}) {
		t.Errorf("after confirming twice: %+v", again)
	}
}

func TestSubscribeChoosingEverythingOrNothingIsAll(t *testing.T) {
	f := newFixture(t)
	f.post("/subscribe", url.Values{"email": {"all@example.org"}, "themes": {"compute,Regulation", "safety"}})
	f.signUp("none@example.org")
	for _, e := range []string{"all@example.org", "none@example.org"} {
		if s := f.byEmail(e); len(s.Themes) != 0 {
			t.Errorf("%s: themes %q, want nil (every theme)", e, s.Themes)
		}
	}
	for _, m := range f.mailer.mails() {
		f.confirm(m.url)
		if s := f.sub(m.to.ID); s.Status != subscribers.Active || len(s.Themes) != 0 {
			t.Errorf("%s confirmed: %+v", m.to.Email, s)
		}
	}
}

func TestSubscribeRevealsNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pending, _, err := f.store.CreatePending(ctx, subscribers.Subscriber{Email: "pending@example.org", Themes: nil}, start.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	active := f.add("active@example.org", subscribers.Active, "compute")
	gone := f.add("gone@example.org", subscribers.Active, "compute")
	if gone, err = f.store.SetStatus(ctx, gone.ID, subscribers.Unsubscribed, start.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	bounced := f.add("bounced@example.org", subscribers.Bounced)
	before := map[string]subscribers.Subscriber{}
	for _, s := range []subscribers.Subscriber{pending, active, gone, bounced} {
		before[s.Email] = f.sub(s.ID)
	}

	var first *httptest.ResponseRecorder
	for _, email := range []string{"new@example.org", "pending@example.org", "ACTIVE@example.org", "gone@example.org", "bounced@example.org"} {
		rec := f.signUp(email, "regulation")
		if first == nil {
			first = rec
			checkPage(t, email, rec, 200)
			continue
		}
		if rec.Code != first.Code || !bytes.Equal(rec.Body.Bytes(), first.Body.Bytes()) || !reflect.DeepEqual(rec.Header(), first.Header()) {
			t.Errorf("%s: the answer differs from a new address's:\n%d %v\n%s", email, rec.Code, rec.Header(), rec.Body)
		}
	}

	var mailed []string
	for _, m := range f.mailer.mails() {
		mailed = append(mailed, m.to.Email)
	}
	if want := []string{"new@example.org", "pending@example.org", "gone@example.org", "bounced@example.org"}; !slices.Equal(mailed, want) {
		t.Errorf("mailed %q, want %q (never the active one)", mailed, want)
	}
	// Existing rows stay as they were until the link is opened.
	for email, b := range before {
		if s := f.byEmail(email); !reflect.DeepEqual(s, b) {
			t.Errorf("%s changed by signing up:\n%+v\n%+v", email, b, s)
		}
	}
	// Confirming brings the unsubscribed address back, with its new choice.
	for _, m := range f.mailer.mails() {
		if m.to.Email == "gone@example.org" {
			f.clock.add(time.Minute)
			checkPage(t, "confirm again", f.confirm(m.url), 200, "구독이 확인되었습니다")
			s := f.sub(gone.ID)
			if s.Status != subscribers.Active || !slices.Equal(s.Themes, []string{"regulation"}) || !s.Confirmed.Equal(start.Add(time.Minute)) {
				t.Errorf("re-subscribed: %+v", s)
			}
		}
	}

	// Signing up again within 10 minutes sends no second mail; later it does.
	n := len(f.mailer.mails())
	f.signUp("new@example.org")
	if len(f.mailer.mails()) != n {
		t.Error("a second mail within 10 minutes")
	}
	f.clock.add(11 * time.Minute)
	f.signUp("new@example.org")
	if len(f.mailer.mails()) != n+1 {
		t.Error("no new mail after 10 minutes")
	}
}

func TestSubscribeMailerFails(t *testing.T) {
	f := newFixture(t)
	ok := f.signUp("ok@example.org")
	f.mailer.err = errors.New("smtp: 451 try later")
	failed := f.signUp("fails@example.org")
	if failed.Code != 200 || !bytes.Equal(failed.Body.Bytes(), ok.Body.Bytes()) {
		t.Errorf("a mail failure shows: %d\n%s", failed.Code, failed.Body)
	}
	mails := f.mailer.mails()
	token := strings.TrimPrefix(mails[1].url, baseURL+"/confirm?t=")
	log := f.log.String()
	if !strings.Contains(log, "confirmation mail failed") || !strings.Contains(log, "451 try later") || strings.Contains(log, token) {
		t.Errorf("the log:\n%s", log)
	}
	// The failed send does not count against the address.
	f.mailer.err = nil
	f.signUp("fails@example.org")
	if n := len(f.mailer.mails()); n != 3 {
		t.Errorf("%d mails after retrying, want 3", n)
	}
}

func TestSubscribeBadInput(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		form url.Values
		want []string
	}{
		{url.Values{"email": {"reader.example.org"}}, []string{"이메일 주소를 확인해 주세요", "has no @", `value="reader.example.org"`}},
		{url.Values{}, []string{"the address is empty"}},
		{url.Values{"email": {`"><script>x</script>@example.org`}}, []string{"&lt;script&gt;"}},
		{url.Values{"email": {"ok@example.org"}, "themes": {"compute", "nope"}}, []string{"없는 주제", `unknown theme &#34;nope&#34;`}},
	} {
		checkPage(t, c.form.Encode(), f.post("/subscribe", c.form), 400, c.want...)
	}
	if n := len(f.mailer.mails()); n != 0 {
		t.Errorf("%d mails for bad input", n)
	}
	if _, err := f.store.SubscriberByEmail(context.Background(), "ok@example.org"); !errors.Is(err, subscribers.ErrNotFound) {
		t.Errorf("a sign-up with an unknown theme was stored: %v", err)
	}
}

func TestSubscribeRateLimit(t *testing.T) {
	f := newFixture(t, func(p *SubscriberPages) { p.SubscribeBurst, p.SubscribeEvery = 3, time.Minute })
	send := func(remote string) *httptest.ResponseRecorder {
		return f.do("POST", "/subscribe", "application/x-www-form-urlencoded", "email=a@example.org", remote)
	}
	for i := range 3 {
		if rec := send("192.0.2.1:1000"); rec.Code != 200 {
			t.Fatalf("request %d: %d", i+1, rec.Code)
		}
	}
	rec := send("192.0.2.1:1001")
	checkPage(t, "over the burst", rec, 429, "요청이 너무 많습니다", "요청이 너무 많습니다")
	if ra := rec.Header().Get("Retry-After"); ra != "60" {
		t.Errorf("Retry-After %q, want 60", ra)
	}
	// Another client is not held back; the same /64 is the same client.
	if rec := send("192.0.2.2:1000"); rec.Code != 200 {
		t.Errorf("another client: %d", rec.Code)
	}
	for i := range 3 {
		send(fmt.Sprintf("[2001:db8::%d]:443", i+1))
	}
	if rec := send("[2001:db8::ffff]:443"); rec.Code != 429 {
		t.Errorf("same /64: %d, want 429", rec.Code)
	}
	f.clock.add(30 * time.Second)
	if rec := send("192.0.2.1:1000"); rec.Code != 429 || rec.Header().Get("Retry-After") != "30" {
		t.Errorf("half a minute later: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	f.clock.add(30 * time.Second)
	if rec := send("192.0.2.1:1000"); rec.Code != 200 {
		t.Errorf("a minute later: %d", rec.Code)
	}
}

func TestBodyTooLarge(t *testing.T) {
	f := newFixture(t)
	sub := f.add("reader@example.org", subscribers.Active)
	big := "email=big@example.org&themes=" + strings.Repeat("compute,", 2100) // > 16 KiB
	for _, target := range []string{
		"/subscribe",
		"/unsubscribe?t=" + url.QueryEscape(f.token(subscribers.PurposeUnsubscribe, sub.ID, "")),
		"/preferences?t=" + url.QueryEscape(f.token(subscribers.PurposePreferences, sub.ID, "")),
	} {
		checkPage(t, "POST "+target, f.do("POST", target, "application/x-www-form-urlencoded", big, ""), 413, "요청이 너무 큽니다")
	}
	if s := f.sub(sub.ID); s.Status != subscribers.Active || len(s.Themes) != 0 {
		t.Errorf("changed by a refused request: %+v", s)
	}
	if _, err := f.store.SubscriberByEmail(context.Background(), "big@example.org"); !errors.Is(err, subscribers.ErrNotFound) || len(f.mailer.mails()) != 0 {
		t.Errorf("a refused sign-up was stored or mailed: %v", err)
	}
}

func TestOneClickUnsubscribe(t *testing.T) {
	f := newFixture(t)
	a := f.add("a@example.org", subscribers.Active)
	b := f.add("b@example.org", subscribers.Active)
	// URL-encoded, as most mail services send it.
	rec := f.post(path(t, f.links().Unsubscribe(a, "2026-W48")), url.Values{"List-Unsubscribe": {"One-Click"}})
	checkPage(t, "one-click", rec, 200, "구독이 해지되었습니다", "구독이 해지되었습니다")
	// multipart/form-data, as RFC 8058 prefers.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.Close()
	rec = f.do("POST", path(t, f.links().Unsubscribe(b, "2026-W48")), mw.FormDataContentType(), body.String(), "")
	checkPage(t, "one-click multipart", rec, 200, "구독이 해지되었습니다")
	for _, s := range []subscribers.Subscriber{a, b} {
		if got := f.sub(s.ID); got.Status != subscribers.Unsubscribed || !got.Unsubscribed.Equal(start) {
			t.Errorf("%s: %+v", s.Email, got)
		}
	}
	if !strings.Contains(f.log.String(), "one_click=true") {
		t.Errorf("the log does not say one-click:\n%s", f.log)
	}
}

func TestUnsubscribeByButtonIsIdempotent(t *testing.T) {
	f := newFixture(t)
	sub := f.add("reader@example.org", subscribers.Active, "compute")
	link := path(t, f.links().Unsubscribe(sub, "2026-W48"))

	// Opening the link (as a mail scanner does) only shows the button.
	for range 3 {
		rec := f.get(link)
		checkPage(t, "GET /unsubscribe", rec, 200, "구독을 해지할까요?", `<form method="post" action="unsubscribe">`, `<input type="hidden" name="t" value="`)
		if n := strings.Count(rec.Body.String(), "<button"); n != 1 {
			t.Errorf("%d buttons", n)
		}
	}
	if s := f.sub(sub.ID); s.Status != subscribers.Active {
		t.Fatalf("GET unsubscribed: %+v", s)
	}
	if rec := f.do("HEAD", link, "", "", ""); rec.Code != 200 || f.sub(sub.ID).Status != subscribers.Active {
		t.Errorf("HEAD: %d, %s", rec.Code, f.sub(sub.ID).Status)
	}

	// The button posts the token in the body.
	token := regexp.MustCompile(`name="t" value="([^"]+)"`).FindStringSubmatch(f.get(link).Body.String())[1]
	checkPage(t, "the button", f.post("/unsubscribe", url.Values{"t": {html.UnescapeString(token)}}), 200, "구독이 해지되었습니다")
	first := f.sub(sub.ID)
	if first.Status != subscribers.Unsubscribed || !first.Unsubscribed.Equal(start) {
		t.Fatalf("after the button: %+v", first)
	}
	for range 2 {
		f.clock.add(time.Hour)
		checkPage(t, "again", f.post(link, url.Values{"List-Unsubscribe": {"One-Click"}}), 200, "구독이 해지되었습니다")
	}
	if again := f.sub(sub.ID); !reflect.DeepEqual(again, first) {
		t.Errorf("a repeated unsubscribe changed the row:\n%+v\n%+v", first, again)
	}
	checkPage(t, "GET after unsubscribing", f.get(link), 200, "구독이 해지되었습니다")
}

func TestBadTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sub := f.add("reader@example.org", subscribers.Pending, "compute")
	other, err := subscribers.NewSigner([]byte("another key, thirty-two bytes..."))
	if err != nil {
		t.Fatal(err)
	}
	routes := []struct {
		method, route string
		purpose       subscribers.Purpose
		wrong         subscribers.Purpose
	}{
		{"GET", "/confirm", subscribers.PurposeConfirm, subscribers.PurposeUnsubscribe},
		{"GET", "/unsubscribe", subscribers.PurposeUnsubscribe, subscribers.PurposeConfirm},
		{"POST", "/unsubscribe", subscribers.PurposeUnsubscribe, subscribers.PurposePreferences},
		{"GET", "/preferences", subscribers.PurposePreferences, subscribers.PurposeUnsubscribe},
		{"POST", "/preferences", subscribers.PurposePreferences, subscribers.PurposeConfirm},
	}
	for _, r := range routes {
		good := f.token(r.purpose, sub.ID, "")
		changed := []byte(good)
		changed[len(changed)/3] ^= 0x01
		for _, c := range []struct {
			name, token string
			code        int
			want        string
		}{
			{"no token", "", 400, "링크가 올바르지 않습니다"},
			{"garbage", "hello", 400, "링크가 올바르지 않습니다"},
			{"truncated", good[:len(good)-4], 400, "링크가 올바르지 않습니다"},
			{"a changed byte", string(changed), 400, "링크가 올바르지 않습니다"},
			{"forged", other.Sign(subscribers.Claims{Purpose: r.purpose, Subscriber: sub.ID}), 400, "링크가 올바르지 않습니다"},
			{"wrong purpose", f.token(r.wrong, sub.ID, ""), 400, "링크가 올바르지 않습니다"},
			{"removed subscriber", f.token(r.purpose, 9999, ""), 404, "구독 정보를 찾을 수 없습니다"},
		} {
			target := r.route + "?t=" + url.QueryEscape(c.token)
			var rec *httptest.ResponseRecorder
			if r.method == "GET" {
				rec = f.get(target)
			} else {
				rec = f.post(target, url.Values{"themes": {"regulation"}, "List-Unsubscribe": {"One-Click"}})
			}
			checkPage(t, r.method+" "+r.route+" "+c.name, rec, c.code, c.want)
			if got := f.sub(sub.ID); !reflect.DeepEqual(got, sub) {
				t.Errorf("%s %s %s changed the subscriber:\n%+v\n%+v", r.method, r.route, c.name, sub, got)
			}
		}
	}
	// The token of another subscriber's row that was removed: 404 and
	// nothing else changes.
	gone := f.add("gone@example.org", subscribers.Active)
	link := path(t, f.links().Unsubscribe(gone, ""))
	if err := f.store.RemoveSubscriber(ctx, gone.Email); err != nil {
		t.Fatal(err)
	}
	checkPage(t, "removed", f.post(link, nil), 404, "구독 정보를 찾을 수 없습니다", `href="subscribe?lang=ko"`)
	if got := f.sub(sub.ID); !reflect.DeepEqual(got, sub) {
		t.Errorf("changed: %+v", got)
	}
}

func TestExpiredConfirmLink(t *testing.T) {
	f := newFixture(t)
	f.signUp("late@example.org", "compute")
	mails := f.mailer.mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	before := f.sub(mails[0].to.ID)
	f.clock.add(subscribers.ConfirmTTL + time.Minute)
	rec := f.confirm(mails[0].url)
	checkPage(t, "expired", rec, 400, "링크가 만료되었습니다", "링크가 만료되었습니다", "다시 구독 신청해 주세요", `href="subscribe?lang=ko"`)
	if s := f.sub(before.ID); !reflect.DeepEqual(s, before) || s.Status != subscribers.Pending {
		t.Errorf("an expired link changed the row: %+v", s)
	}
	// Signing up again gives a new link that works (on a new row: the
	// old one was past http.pending_ttl, and went).
	f.signUp("late@example.org", "compute")
	mails = f.mailer.mails()
	f.confirm(mails[len(mails)-1].url)
	if s := f.byEmail("late@example.org"); s.Status != subscribers.Active {
		t.Errorf("the new link: %+v", s)
	}
}

// Mail scanners open every link in a mail: opening the confirm link (GET
// or HEAD, any number of times) confirms nothing. The page names the
// address, partly masked, and its button (a POST) confirms.
func TestConfirmNeedsTheButton(t *testing.T) {
	f := newFixture(t)
	f.signUp("reader@example.org", "safety")
	m := f.mailer.mails()[0]
	if rec := f.do("HEAD", path(t, m.url), "", "", ""); rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	var page *httptest.ResponseRecorder
	for range 3 {
		page = f.get(path(t, m.url))
	}
	checkPage(t, "GET /confirm", page, 200, "구독을 확인할까요?", "re•••@example.org",
		`<form method="post" action="confirm">`, "구독 확인")
	if strings.Contains(page.Body.String(), "reader@") {
		t.Error("the confirm page shows the whole address")
	}
	if s := f.sub(m.to.ID); s.Status != subscribers.Pending {
		t.Fatalf("opening the link confirmed: %+v", s)
	}
	token, ok := confirmButton(page.Body.String())
	if !ok {
		t.Fatal("no confirm button")
	}
	checkPage(t, "POST /confirm", f.post("/confirm", url.Values{"t": {token}}), 200, "구독이 확인되었습니다")
	if s := f.sub(m.to.ID); s.Status != subscribers.Active || !slices.Equal(s.Themes, []string{"safety"}) {
		t.Errorf("after the button: %+v", s)
	}
	// Once confirmed, the link says so, with no button.
	if rec := f.get(path(t, m.url)); strings.Contains(rec.Body.String(), "<form") || !strings.Contains(rec.Body.String(), "구독이 확인되었습니다") {
		t.Errorf("the link after confirming:\n%s", rec.Body)
	}
	// A forged or wrong-purpose token in the POST changes nothing.
	other := f.add("other@example.org", subscribers.Pending)
	rec := f.post("/confirm", url.Values{"t": {f.token(subscribers.PurposeUnsubscribe, other.ID, "")}})
	if rec.Code != 400 || f.sub(other.ID).Status != subscribers.Pending {
		t.Errorf("a wrong-purpose token in the POST: %d, %s", rec.Code, f.sub(other.ID).Status)
	}
}

// The pages that name a reader show their domain as they typed it:
// the unsubscribe page of 독자님이름@한국.kr says 독•••름@한국.kr, not the
// xn-- form the store keeps.
func TestPagesShowTheDomainInItsOwnScript(t *testing.T) {
	f := newFixture(t)
	email, err := subscribers.NormalizeEmail("독자님이름@한국.kr")
	if err != nil {
		t.Fatal(err)
	}
	sub := f.add(email, subscribers.Active)
	page := f.get(path(t, f.links().Unsubscribe(sub, "")))
	checkPage(t, "GET /unsubscribe", page, 200, "독•••름@한국.kr")
	if strings.Contains(page.Body.String(), "xn--") {
		t.Errorf("the unsubscribe page shows the domain in punycode:\n%s", page.Body)
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"reader@example.org": "re•••@example.org",
		"kimjisoo@naver.com": "ki•••@naver.com",
		"jane@example.org":   "j•••e@example.org",
		"ab@example.org":     "a•••@example.org",
		"abc@example.org":    "a•••@example.org",
		"a@example.org":      "•••@example.org",
		"독자님이름@example.kr":   "독•••름@example.kr",
		"박@example.kr":       "•••@example.kr",
		// The store keeps a domain in its xn-- form; its owner knows the Hangul.
		"독자님이름@xn--3e0b707e.kr":        "독•••름@한국.kr",
		"reader@xn--bcher-kva.example": "re•••@bücher.example",
		// Not valid punycode: shown as stored rather than guessed at.
		"reader@xn--a.example": "re•••@xn--a.example",
	} {
		if got := maskEmail(in); got != want {
			t.Errorf("maskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPreferences(t *testing.T) {
	f := newFixture(t)
	sub := f.add("reader@example.org", subscribers.Active)
	prefs := path(t, f.links().Preferences(sub))

	rec := f.get(prefs)
	checkPage(t, "GET /preferences", rec, 200, "받을 주제", `<form method="post" action="preferences">`,
		`value="compute" checked`, `value="regulation" checked`, `value="safety" checked`, "규제 / Regulation")
	// Its unsubscribe link works (and, being a GET, only asks).
	unsub := link(t, rec.Body.String(), "/unsubscribe")
	checkPage(t, "its unsubscribe link", f.get(unsub), 200, "구독을 해지할까요?")

	token := html.UnescapeString(regexp.MustCompile(`name="t" value="([^"]+)"`).FindStringSubmatch(rec.Body.String())[1])
	f.clock.add(time.Hour)
	rec = f.post("/preferences", url.Values{"t": {token}, "themes": {"regulation", "safety"}})
	checkPage(t, "save", rec, 200, "저장했습니다", "저장했습니다", `value="regulation" checked`, `value="safety" checked`)
	if strings.Contains(rec.Body.String(), `value="compute" checked`) {
		t.Error("compute still ticked after saving without it")
	}
	saved := f.sub(sub.ID)
	if !slices.Equal(saved.Themes, []string{"regulation", "safety"}) || !saved.Updated.Equal(start.Add(time.Hour)) {
		t.Errorf("saved: %+v", saved)
	}

	// An unknown theme saves nothing.
	rec = f.post(prefs, url.Values{"themes": {"compute,nope"}})
	checkPage(t, "unknown theme", rec, 400, "고를 수 없는 값입니다", `unknown theme &#34;nope&#34;`, "nothing was saved")
	if got := f.sub(sub.ID); !reflect.DeepEqual(got, saved) {
		t.Errorf("an unknown theme changed the row: %+v", got)
	}

	// Ticking every theme, or none, is every theme.
	for _, themes := range [][]string{{"compute", "regulation", "safety"}, nil} {
		f.post(prefs, url.Values{"themes": themes})
		if got := f.sub(sub.ID); len(got.Themes) != 0 {
			t.Errorf("after choosing %q: %q", themes, got.Themes)
		}
	}

	// Someone not subscribed is told so.
	if _, err := f.store.SetStatus(context.Background(), sub.ID, subscribers.Unsubscribed, start); err != nil {
		t.Fatal(err)
	}
	checkPage(t, "not active", f.get(prefs), 200, "지금은 이 주소로 뉴스레터를 보내지 않습니다")
}

// The catch-all section (config key other) is a choice like a theme: a
// reader who chose only it sees it ticked and the themes not, rather
// than an empty form that reads as "every theme", and can change it.
func TestPreferencesOther(t *testing.T) {
	f := newFixture(t, func(p *SubscriberPages) {
		p.Other = ThemeChoice{ID: "other", Name: "More this week · 이번 주 더 읽을거리"}
	})
	sub := f.add("other@example.org", subscribers.Active, "other")
	prefs := path(t, f.links().Preferences(sub))

	rec := f.get(prefs)
	checkPage(t, "GET /preferences of a reader of other only", rec, 200,
		`value="other" checked>More this week · 이번 주 더 읽을거리</label>`, `value="compute">`, `value="regulation">`, `value="safety">`)
	if n := strings.Count(rec.Body.String(), `name="themes" value="other" checked`); n != 1 || strings.Count(rec.Body.String(), `type="checkbox" name="themes" value="`) != 4 ||
		strings.Count(rec.Body.String(), `name="themes" value="compute" checked`)+strings.Count(rec.Body.String(), `name="themes" value="regulation" checked`)+strings.Count(rec.Body.String(), `name="themes" value="safety" checked`) != 0 {
		t.Errorf("%d boxes ticked, want other alone:\n%s", n, rec.Body)
	}

	// Adding a theme keeps other; the page shows what was saved.
	rec = f.post(prefs, url.Values{"themes": {"compute", "other"}})
	checkPage(t, "save compute and other", rec, 200, "저장했습니다", `value="compute" checked`, `value="other" checked`, `value="safety">`)
	if got := f.sub(sub.ID).Themes; !slices.Equal(got, []string{"compute", "other"}) {
		t.Errorf("saved %q, want compute and other", got)
	}
	// Every theme but other is a choice, not "all": other's articles
	// stay out.
	f.post(prefs, url.Values{"themes": {"compute", "regulation", "safety"}})
	if got := f.sub(sub.ID).Themes; !slices.Equal(got, []string{"compute", "regulation", "safety"}) {
		t.Errorf("saved %q, want the three themes without other", got)
	}
	// Everything, other included, is every theme.
	f.post(prefs, url.Values{"themes": {"compute", "regulation", "safety", "other"}})
	if got := f.sub(sub.ID).Themes; len(got) != 0 {
		t.Errorf("saved %q, want none (every theme)", got)
	}

	// The sign-up form offers it too, and a confirm link keeps it.
	checkPage(t, "GET /subscribe", f.get("/subscribe"), 200, `value="other" checked>More this week`)
	f.signUp("new@example.org", "other")
	mails := f.mailer.mails()
	if len(mails) != 1 {
		t.Fatalf("%d confirmation mails, want 1", len(mails))
	}
	f.confirm(mails[0].url)
	if got := f.byEmail("new@example.org"); got.Status != subscribers.Active || !slices.Equal(got.Themes, []string{"other"}) {
		t.Errorf("confirmed %+v, want active with other", got)
	}
}

func TestWrongMethods(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ method, path, allow string }{
		{"PUT", "/subscribe", "GET, HEAD, POST"},
		{"DELETE", "/subscribe", "GET, HEAD, POST"},
		{"PUT", "/confirm", "GET, HEAD, POST"},
		{"DELETE", "/confirm?t=x", "GET, HEAD, POST"},
		{"PATCH", "/unsubscribe", "GET, HEAD, POST"},
		{"DELETE", "/preferences", "GET, HEAD, POST"},
	} {
		rec := f.do(c.method, c.path, "", "", "")
		if rec.Code != 405 || rec.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d, Allow %q; want 405, %q", c.method, c.path, rec.Code, rec.Header().Get("Allow"), c.allow)
		}
		if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: headers %v", c.method, c.path, rec.Header())
		}
	}
	if rec := f.get("/nothing"); rec.Code != 404 {
		t.Errorf("GET /nothing: %d", rec.Code)
	}
}

func TestHandlerNeedsItsParts(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic without a Store")
		}
	}()
	(&SubscriberPages{}).Handler()
}

func TestClientKey(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.1:5000":             "192.0.2.1",
		"[::ffff:192.0.2.1]:5000":    "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:443":         "fe80::/64",
		"not an address":             "not an address",
		"@unix":                      "@unix",
	} {
		if got := clientKey(&http.Request{RemoteAddr: remote}); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", remote, got, want)
		}
	}
}

// A flood from every /64 of one IPv6 /48 (65,536 client keys, the
// limiter's cap) and more must not lock new clients out: the limiter
// forgets the least recently seen, stays within its cap, and a reader
// who comes during or a minute after the flood signs up.
func TestLimiterPastItsCap(t *testing.T) {
	f := newFixture(t, func(p *SubscriberPages) { p.SubscribeBurst, p.SubscribeEvery = 5, time.Minute })
	l := f.pages.st.limiter
	flood := func(i int) string {
		return clientKey(&http.Request{RemoteAddr: fmt.Sprintf("[2001:db8:%x:%x::1]:443", 1+i>>16, i&0xffff)})
	}
	for i := range maxClients + 1000 {
		for range 5 { // each key spends its whole burst
			l.allow(flood(i), start)
		}
	}
	if n := len(l.clients); n > maxClients {
		t.Errorf("the limiter holds %d clients, cap %d", n, maxClients)
	}
	if ok, _ := l.allow("192.0.2.7", start); !ok {
		t.Error("a new client during the flood was refused")
	}
	// The most recent flood key is still followed: it has no token left.
	if ok, _ := l.allow(flood(maxClients+999), start); ok {
		t.Error("a flooding client got past its limit")
	}
	f.clock.add(time.Minute)
	rec := f.do("POST", "/subscribe", "application/x-www-form-urlencoded",
		url.Values{"email": {"late@example.org"}}.Encode(), "[2001:db8:ffff:1::1]:443")
	checkPage(t, "a new client a minute after the flood", rec, 200, "메일함을 확인해 주세요")
}

func TestConfirmLinkOlderThanUnsubscribe(t *testing.T) {
	f := newFixture(t)
	f.signUp("reader@example.org")
	m := f.mailer.mails()[0]
	f.confirm(m.url)
	f.clock.add(time.Hour)
	sub := f.sub(m.to.ID)
	f.post(path(t, f.links().Unsubscribe(sub, "")), nil)
	gone := f.sub(sub.ID)
	if gone.Status != subscribers.Unsubscribed {
		t.Fatalf("%+v", gone)
	}
	// The old confirm link, still within its 7 days, does not undo it.
	f.clock.add(time.Hour)
	checkPage(t, "old confirm link", f.confirm(m.url), 400, "이 링크는 더 이상 쓸 수 없습니다", `href="subscribe?lang=ko"`)
	if got := f.sub(sub.ID); !reflect.DeepEqual(got, gone) {
		t.Errorf("an old confirm link changed the row: %+v", got)
	}
	// A new sign-up's link does.
	f.signUp("reader@example.org")
	mails := f.mailer.mails()
	checkPage(t, "new confirm link", f.confirm(mails[len(mails)-1].url), 200, "구독이 확인되었습니다")
	if got := f.sub(sub.ID); got.Status != subscribers.Active {
		t.Errorf("re-subscribed: %+v", got)
	}
}

func TestMultipartBodyTooLarge(t *testing.T) {
	f := newFixture(t)
	sub := f.add("reader@example.org", subscribers.Active)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.WriteField("padding", strings.Repeat("x", 20<<10))
	mw.Close()
	rec := f.do("POST", path(t, f.links().Unsubscribe(sub, "")), mw.FormDataContentType(), body.String(), "")
	checkPage(t, "multipart too large", rec, 413, "요청이 너무 큽니다")
	if got := f.sub(sub.ID); got.Status != subscribers.Active {
		t.Errorf("unsubscribed by a refused request: %+v", got)
	}
}

// Nobody can use the form to pester a stranger: at most one confirmation
// mail every 10 minutes and 3 a day per address, and the whole site sends
// at most ConfirmPerHour an hour, however many clients ask.
func TestConfirmationMailCaps(t *testing.T) {
	f := newFixture(t, func(p *SubscriberPages) { p.ConfirmPerHour = 5 })
	for range 6 {
		f.signUp("victim@example.org")
		f.clock.add(11 * time.Minute)
	}
	if n := len(f.mailer.mails()); n != 3 {
		t.Errorf("one address got %d confirmation mails in an hour, want 3 a day", n)
	}
	f.clock.add(24 * time.Hour)
	for i := range 10 {
		f.signUp(fmt.Sprintf("stranger%d@example.org", i))
	}
	if n := len(f.mailer.mails()); n != 3+5 {
		t.Errorf("the site sent %d confirmation mails in an hour, want the cap of 5 (after the first 3)", n-3)
	}
	f.clock.add(time.Hour)
	f.signUp("stranger9@example.org")
	if n := len(f.mailer.mails()); n != 9 {
		t.Errorf("after the hour: %d mails, want 9", n)
	}
}

// A confirm link mailed before the address bounced does not make it
// active again (a mail scanner re-opening it, say).
func TestConfirmLinkOlderThanBounce(t *testing.T) {
	f := newFixture(t)
	f.signUp("reader@example.org")
	m := f.mailer.mails()[0]
	f.confirm(m.url)
	f.clock.add(time.Hour)
	bounced, err := f.store.SetStatus(context.Background(), m.to.ID, subscribers.Bounced, f.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Hour)
	checkPage(t, "old confirm link", f.confirm(m.url), 400, "이 링크는 더 이상 쓸 수 없습니다")
	if got := f.sub(bounced.ID); got.Status != subscribers.Bounced {
		t.Errorf("an old confirm link re-activated a bounced address: %s", got.Status)
	}
}

// A failed send releases its reservation without leaving an empty entry
// behind (which once made a later sweep panic), and a reservation of an
// earlier hour does not lend the current hour extra room.
func TestMailThrottleRelease(t *testing.T) {
	m := mailThrottle{sent: map[int64][]time.Time{}, sweepAt: 3, perHour: 2}
	t0 := start
	if !m.reserve(1, t0) {
		t.Fatal("first reserve refused")
	}
	m.release(1, t0)
	for id := int64(2); id <= 6; id++ {
		m.reserve(id, t0.Add(time.Duration(id)*time.Minute)) // must not panic in the sweep
	}
	m2 := mailThrottle{sent: map[int64][]time.Time{}, sweepAt: 1024, perHour: 2}
	m2.reserve(1, t0)
	late := t0.Add(time.Hour + time.Second)
	m2.reserve(2, late) // a new hour
	m2.release(1, t0)
	m2.release(2, late)
	granted := 0
	for id := int64(10); id < 15; id++ {
		if m2.reserve(id, late.Add(time.Minute)) {
			granted++
		}
	}
	if granted != 2 {
		t.Errorf("%d mails granted in the hour, want the cap of 2", granted)
	}
}

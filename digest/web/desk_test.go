package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/render"
	"gull/digest/store"
	"gull/subscribers"
)

// The store is what `gull run` gives the desk.
var _ DraftStore = (*store.Store)(nil)

// linkMailer records the sign-in links the desk mails.
type linkMailer struct {
	mu   sync.Mutex
	sent map[string][]string // by address
}

func (m *linkMailer) SendDeskLink(_ context.Context, to, link string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sent == nil {
		m.sent = map[string][]string{}
	}
	m.sent[to] = append(m.sent[to], link)
	return nil
}

func (m *linkMailer) links(to string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sent[to])
}

const (
	deskEditor = "editor@example.org"
	deskIssue  = "2026-W48"
)

var deskThemes = []digest.Theme{{ID: "compute", Name: "반도체와 컴퓨팅"}, {ID: "regulation", Name: "규제 / Regulation"}, {ID: "other", Name: "More this week"}}

// deskArticleIDs are the ids of the draft's articles: 24 hex digits.
var deskArticleIDs = []string{"aaaa00000000000000000001", "bbbb00000000000000000002", "cccc00000000000000000003"}

// deskBuild is a draft's build: three articles, two in compute and one in
// regulation, and a feed that failed.
func deskBuild() digest.Issue {
	day := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	art := func(id, title, theme string) digest.Article {
		return digest.Article{ID: id, FeedURL: "https://feeds.example.org/" + theme, FeedName: "Feed " + theme,
			Title: title, Link: "https://news.example.org/" + id, Summary: "요약: " + title,
			Published: &day, FirstSeen: day, Themes: []string{theme}}
	}
	return digest.Issue{
		ID: deskIssue, Title: "AI 정책 주간",
		Period: digest.Period{Start: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)},
		Sections: []digest.Section{
			{ID: "compute", Name: "반도체와 컴퓨팅", Articles: []digest.Article{
				art(deskArticleIDs[0], "GPU 수출 규제 강화", "compute"),
				art(deskArticleIDs[1], "New chip fab in Busan", "compute"),
			}},
			{ID: "regulation", Name: "규제 / Regulation", Articles: []digest.Article{
				art(deskArticleIDs[2], "AI 기본법 시행령 입법예고", "regulation"),
			}},
		},
		Feeds: []digest.FeedReport{
			{URL: "https://feeds.example.org/compute", Name: "Feed compute", Status: digest.FeedOK, Items: 2},
			{URL: "https://broken.example.org/rss", Name: "Broken Feed", Status: digest.FeedError, Error: "HTTP 503"},
		},
	}
}

// deskFixture is the whole site with the desk, a real store holding a
// draft, the real renderer, and a mailer that keeps the links.
type deskFixture struct {
	*siteFixture
	drafts *store.Store
	mailer *linkMailer
	desk   *Desk
}

func newDeskFixture(t *testing.T) *deskFixture {
	t.Helper()
	return newDeskFixtureAt(t, baseURL)
}

// newDeskFixtureAt is a deskFixture whose links start with base.
func newDeskFixtureAt(t *testing.T, base string) *deskFixture {
	t.Helper()
	ctx := context.Background()
	drafts, err := store.Open(ctx, filepath.Join(t.TempDir(), "drafts.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drafts.Close() })
	if _, err := drafts.SaveDraft(ctx, deskBuild(), deskThemes, start); err != nil {
		t.Fatal(err)
	}
	r, err := render.New(render.Options{Lang: "ko", BaseURL: baseURL, ThemeNames: map[string]string{"compute": "반도체와 컴퓨팅", "regulation": "규제 / Regulation"}})
	if err != nil {
		t.Fatal(err)
	}
	df := &deskFixture{drafts: drafts, mailer: &linkMailer{}}
	auth := newDeskAuth(t, base, NewMemoryUsedLinks(), deskEditor, "second@example.org")
	df.desk = &Desk{
		Auth: auth, Store: drafts, Mailer: df.mailer, Title: "AI 정책 주간 <Weekly>",
		Render: func(is digest.Issue) ([]byte, error) {
			m, err := r.Render(is, render.Recipient{Email: "reader@example.org"})
			return []byte(m.HTML), err
		},
		SignInBurst: 100, SignInEvery: time.Second,
	}
	df.siteFixture = newSiteFixture(t, func(s *Site) { s.Desk = df.desk })
	df.desk.Now = df.clock.now
	df.desk.Log = df.pages.Log
	return df
}

// do sends a request with cookies, as a browser would, and waits for the
// links being mailed.
func (df *deskFixture) do(method, target string, form url.Values, cookie *http.Cookie) *httptest.ResponseRecorder {
	df.t.Helper()
	var body string
	if form != nil {
		body = form.Encode()
	}
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	rec := httptest.NewRecorder()
	df.sh.ServeHTTP(rec, req)
	df.desk.Wait()
	checkSecurity(df.t, method+" "+target, rec)
	return rec
}

// signIn asks for a link for editor, opens it and presses its button:
// the session cookie.
func (df *deskFixture) signIn(editor string) *http.Cookie {
	df.t.Helper()
	rec := df.do("POST", "/desk/sign-in", url.Values{"email": {editor}}, nil)
	if rec.Code != 200 {
		df.t.Fatalf("asking for a link: %d\n%s", rec.Code, rec.Body)
	}
	links := df.mailer.links(editor)
	if len(links) == 0 {
		df.t.Fatalf("no sign-in link was mailed to %s", editor)
	}
	tok := linkToken(df.t, links[len(links)-1])
	if rec := df.do("GET", "/desk/sign-in?t="+url.QueryEscape(tok), nil, nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `name="t"`) {
		df.t.Fatalf("opening the link: %d\n%s", rec.Code, rec.Body)
	}
	rec = df.do("POST", "/desk/sign-in", url.Values{"t": {tok}}, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/desk" {
		df.t.Fatalf("signing in: %d %v\n%s", rec.Code, rec.Header(), rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == DeskCookie {
			return c
		}
	}
	df.t.Fatal("signing in set no session cookie")
	return nil
}

var (
	csrfRe    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	versionRe = regexp.MustCompile(`name="version" value="(\d+)"`)
)

// formOf reads the desk page's CSRF token and draft version.
func formOf(t *testing.T, page string) (csrf, version string) {
	t.Helper()
	c, v := csrfRe.FindStringSubmatch(page), versionRe.FindStringSubmatch(page)
	if c == nil || v == nil {
		t.Fatalf("the desk page has no form token or version:\n%s", page)
	}
	return c[1], v[1]
}

// change posts one change from the desk page as it is now.
func (df *deskFixture) change(cookie *http.Cookie, fields ...string) *httptest.ResponseRecorder {
	df.t.Helper()
	page := df.do("GET", "/desk", nil, cookie)
	csrf, version := formOf(df.t, page.Body.String())
	form := url.Values{"csrf": {csrf}, "version": {version}, "issue": {deskIssue}}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	return df.do("POST", "/desk/change", form, cookie)
}

func (df *deskFixture) draft() digest.Draft {
	df.t.Helper()
	d, err := df.drafts.Draft(context.Background(), deskIssue)
	if err != nil {
		df.t.Fatal(err)
	}
	return d
}

// entries lists the draft's entries as editors see them: "section:id"
// with "!" hidden and "^" pinned.
func entries(is digest.Issue) []string {
	var out []string
	for _, s := range is.Sections {
		for _, a := range s.Articles {
			m := s.ID + ":" + a.ID[:4]
			if a.Hidden {
				m += "!"
			}
			if a.Pinned {
				m += "^"
			}
			out = append(out, m)
		}
	}
	return out
}

// An editor signs in through the mailed link and sees the draft: its
// articles, the failed feed, the mail, the history.
func TestDeskSignInShowsDraft(t *testing.T) {
	df := newDeskFixture(t)
	ck := df.signIn(deskEditor)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/desk" {
		t.Errorf("session cookie %+v", ck)
	}
	rec := df.do("GET", "/desk", nil, ck)
	checkSitePage(t, "the desk", rec, 200, "no-store",
		"Signed in as <strong>editor@example.org</strong>", "GPU 수출 규제 강화", "AI 기본법 시행령 입법예고",
		"Broken Feed", "HTTP 503", `srcdoc="`, `sandbox=""`, "version 1", "build: 3 articles", `name="csrf"`)
}

// Every control of the desk changes the draft as the editor meant, and
// the history names the editor.
func TestDeskChanges(t *testing.T) {
	df := newDeskFixture(t)
	ck := df.signIn(deskEditor)
	a, b, c := deskArticleIDs[0], deskArticleIDs[1], deskArticleIDs[2]
	steps := []struct {
		fields []string
		want   []string
	}{
		{[]string{"action", "hide", "article", a}, []string{"compute:aaaa!", "compute:bbbb", "regulation:cccc"}},
		{[]string{"action", "show-again", "article", a}, []string{"compute:aaaa", "compute:bbbb", "regulation:cccc"}},
		{[]string{"action", "move", "article", c, "theme", "compute"}, []string{"compute:aaaa", "compute:bbbb", "compute:cccc"}},
		{[]string{"action", "pin", "article", b}, []string{"compute:bbbb^", "compute:aaaa", "compute:cccc"}},
		{[]string{"action", "unpin", "article", b}, []string{"compute:aaaa", "compute:bbbb", "compute:cccc"}},
	}
	for _, s := range steps {
		rec := df.change(ck, s.fields...)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("%v: %d\n%s", s.fields, rec.Code, rec.Body)
		}
		if got := entries(df.draft().Issue()); !slices.Equal(got, s.want) {
			t.Errorf("after %v: %v, want %v", s.fields, got, s.want)
		}
	}
	for _, f := range [][]string{
		{"action", "blurb", "article", a, "text", "편집자 요약 <b>bold</b>"},
		{"action", "note", "text", "이번 주는 *반도체*가 중심입니다."},
		{"action", "subject", "text", "이번 주: GPU 수출 규제"},
	} {
		if rec := df.change(ck, f...); rec.Code != http.StatusSeeOther {
			t.Fatalf("%v: %d\n%s", f, rec.Code, rec.Body)
		}
	}
	is := df.draft().Issue()
	if is.Note != "이번 주는 *반도체*가 중심입니다." || is.Subject != "이번 주: GPU 수출 규제" || is.Sections[0].Articles[0].Blurb != "편집자 요약 <b>bold</b>" {
		t.Errorf("note %q subject %q blurb %q", is.Note, is.Subject, is.Sections[0].Articles[0].Blurb)
	}
	// The page after the redirect says what was done; the blurb's markup
	// is text on it.
	rec := df.do("GET", "/desk?done=subject", nil, ck)
	checkSitePage(t, "the desk after the changes", rec, 200, "no-store", "Subject saved.",
		"편집자 요약 &lt;b&gt;bold&lt;/b&gt;", "editor@example.org · subject")
	if strings.Contains(rec.Body.String(), "<b>bold</b>") {
		t.Error("the blurb's HTML is on the page as markup")
	}

	if rec := df.change(ck, "action", "approve"); rec.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d\n%s", rec.Code, rec.Body)
	}
	if st := df.draft().Status; st != digest.DraftApproved {
		t.Fatalf("after approve: status %q", st)
	}
	// Approved, the draft takes no edit until it is reopened.
	rec = df.change(ck, "action", "hide", "article", b)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "is approved: reopen it to change it") {
		t.Errorf("an edit of the approved draft: %d\n%s", rec.Code, rec.Body)
	}
	if rec := df.change(ck, "action", "reopen"); rec.Code != http.StatusSeeOther {
		t.Fatalf("reopen: %d\n%s", rec.Code, rec.Body)
	}
	if st := df.draft().Status; st != digest.DraftOpen {
		t.Errorf("after reopen: status %q", st)
	}
	hist, err := df.drafts.DraftHistory(context.Background(), deskIssue)
	if err != nil {
		t.Fatal(err)
	}
	var who []string
	for _, h := range hist[1:] {
		who = append(who, h.Editor+" "+h.Action)
	}
	want := []string{"hide", "show-again", "move", "pin", "unpin", "blurb", "note", "subject", "approve", "reopen"}
	for i := range want {
		want[i] = deskEditor + " " + want[i]
	}
	if !slices.Equal(who, want) {
		t.Errorf("history %v, want %v", who, want)
	}
}

// Bad input is refused with its reason on the page, and the draft is
// unchanged.
func TestDeskBadInput(t *testing.T) {
	df := newDeskFixture(t)
	ck := df.signIn(deskEditor)
	for _, c := range []struct {
		fields []string
		code   int
		want   string
	}{
		{[]string{"action", "hide", "article", "ffffff000000000000000000"}, 400, "not in issue 2026-W48"},
		{[]string{"action", "move", "article", deskArticleIDs[0], "theme", "nope"}, 400, "theme &#34;nope&#34;: no such theme"},
		{[]string{"action", "note", "text", "  "}, 400, "note: empty"},
		{[]string{"action", "subject", "text", "one\r\ntwo"}, 400, "a line break is not allowed"},
		{[]string{"action", "launch"}, 400, "not an edit"},
	} {
		rec := df.change(ck, c.fields...)
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.want) || !strings.Contains(rec.Body.String(), "Nothing was changed") {
			t.Errorf("%v: %d, want %d and %q\n%s", c.fields, rec.Code, c.code, c.want, rec.Body)
		}
	}
	// A note of 10 MB is refused before it is read.
	page := df.do("GET", "/desk", nil, ck).Body.String()
	csrf, version := formOf(t, page)
	rec := df.do("POST", "/desk/change", url.Values{"csrf": {csrf}, "version": {version}, "issue": {deskIssue},
		"action": {"note"}, "text": {strings.Repeat("가", 10<<20/3)}}, ck)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "nothing was changed") {
		t.Errorf("a 10 MB note: %d\n%.500s", rec.Code, rec.Body)
	}
	// A note of 100 KB passes the site's form cap and is the store's to
	// refuse.
	rec = df.do("POST", "/desk/change", url.Values{"csrf": {csrf}, "version": {version}, "issue": {deskIssue},
		"action": {"note"}, "text": {strings.Repeat("a", 100<<10)}}, ck)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "over the limit of 65536") {
		t.Errorf("a 100 KB note: %d\n%.500s", rec.Code, rec.Body)
	}
	d := df.draft()
	if d.Version != 1 || len(d.Edits) != 0 {
		t.Errorf("bad input changed the draft: version %d, edits %v", d.Version, d.Edits)
	}
	// A note with a script: kept as text, shown as text.
	if rec := df.change(ck, "action", "note", "text", `<script>alert(1)</script> hi`); rec.Code != http.StatusSeeOther {
		t.Fatalf("note with a script: %d\n%s", rec.Code, rec.Body)
	}
	body := df.do("GET", "/desk", nil, ck).Body.String()
	if strings.Contains(body, "<script>alert") {
		t.Error("the note's script is markup on the desk")
	}
}

// Two editors load the desk; the second's change, made against the
// version both saw, is refused with a clear message and not applied
// over the first's.
func TestDeskStaleChange(t *testing.T) {
	df := newDeskFixture(t)
	one, two := df.signIn(deskEditor), df.signIn("second@example.org")
	pageTwo := df.do("GET", "/desk", nil, two).Body.String()
	csrfTwo, versionTwo := formOf(t, pageTwo)
	if rec := df.change(one, "action", "hide", "article", deskArticleIDs[0]); rec.Code != http.StatusSeeOther {
		t.Fatalf("first editor's hide: %d\n%s", rec.Code, rec.Body)
	}
	rec := df.do("POST", "/desk/change", url.Values{"csrf": {csrfTwo}, "version": {versionTwo}, "issue": {deskIssue},
		"action": {"move"}, "article": {deskArticleIDs[0]}, "theme": {"regulation"}}, two)
	if rec.Code != http.StatusConflict {
		t.Errorf("stale change: %d, want 409", rec.Code)
	}
	for _, w := range []string{"Nothing was changed: the draft changed since you loaded it (version 1, now 2)", "version 2"} {
		if !strings.Contains(rec.Body.String(), w) {
			t.Errorf("stale answer lacks %q\n%s", w, rec.Body)
		}
	}
	if got := entries(df.draft().Issue()); !slices.Equal(got, []string{"compute:aaaa!", "compute:bbbb", "regulation:cccc"}) {
		t.Errorf("after the stale change: %v", got)
	}
}

// Nobody else sees the desk: no cookie, a forged or foreign one, a
// reader's token, a form without its CSRF token or another session's.
func TestDeskKeepsOthersOut(t *testing.T) {
	df := newDeskFixture(t)
	secret := "GPU 수출 규제 강화"
	rec := df.do("GET", "/desk", nil, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != DeskSignInPath || strings.Contains(rec.Body.String(), secret) {
		t.Errorf("signed out GET /desk: %d %v\n%s", rec.Code, rec.Header(), rec.Body)
	}
	// A reader's unsubscribe token as the session, and as a sign-in link.
	sub := df.add("reader@example.org", subscribers.Active)
	unsub := linkToken(t, df.links().Unsubscribe(sub, deskIssue))
	reader := &http.Cookie{Name: DeskCookie, Value: unsub}
	if rec := df.do("GET", "/desk", nil, reader); rec.Code != http.StatusSeeOther || strings.Contains(rec.Body.String(), secret) {
		t.Errorf("a reader's token as the cookie: %d\n%s", rec.Code, rec.Body)
	}
	if rec := df.do("GET", "/desk/sign-in?t="+url.QueryEscape(unsub), nil, nil); rec.Code != 400 || strings.Contains(rec.Body.String(), `name="t"`) {
		t.Errorf("a reader's token as a sign-in link: %d\n%s", rec.Code, rec.Body)
	}
	if rec := df.do("POST", "/desk/sign-in", url.Values{"t": {unsub}}, nil); rec.Code != 400 || len(rec.Result().Cookies()) != 0 {
		t.Errorf("posting a reader's token: %d %v", rec.Code, rec.Result().Cookies())
	}
	// A change without a session, with none, and with another's CSRF token.
	form := url.Values{"issue": {deskIssue}, "version": {"1"}, "action": {"hide"}, "article": {deskArticleIDs[0]}}
	if rec := df.do("POST", "/desk/change", form, reader); rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), secret) {
		t.Errorf("a change without a session: %d\n%s", rec.Code, rec.Body)
	}
	one, two := df.signIn(deskEditor), df.signIn("second@example.org")
	if rec := df.do("POST", "/desk/change", form, one); rec.Code != http.StatusForbidden {
		t.Errorf("a change without a CSRF token: %d", rec.Code)
	}
	csrfTwo, _ := formOf(t, df.do("GET", "/desk", nil, two).Body.String())
	form.Set("csrf", csrfTwo)
	if rec := df.do("POST", "/desk/change", form, one); rec.Code != http.StatusForbidden {
		t.Errorf("a change with another session's CSRF token: %d", rec.Code)
	}
	// A GET changes nothing, whatever it carries.
	df.do("GET", "/desk/change?"+form.Encode(), nil, one)
	df.do("GET", "/desk?"+form.Encode(), nil, one)
	if d := df.draft(); d.Version != 1 {
		t.Errorf("the draft changed: version %d", d.Version)
	}
	// Signed out, the cookie is gone and the desk closed.
	csrfOne, _ := formOf(t, df.do("GET", "/desk", nil, one).Body.String())
	rec = df.do("POST", "/desk/sign-out", url.Values{"csrf": {csrfOne}}, one)
	if rec.Code != http.StatusSeeOther || len(rec.Result().Cookies()) != 1 || rec.Result().Cookies()[0].MaxAge >= 0 {
		t.Errorf("sign out: %d %v", rec.Code, rec.Result().Cookies())
	}
}

// The sign-in form answers an editor and a stranger alike, mails only
// editors, and only a few links per address; a link works once.
func TestDeskSignInForm(t *testing.T) {
	df := newDeskFixture(t)
	stranger := df.do("POST", "/desk/sign-in", url.Values{"email": {"stranger@example.org"}}, nil)
	editor := df.do("POST", "/desk/sign-in", url.Values{"email": {deskEditor}}, nil)
	if stranger.Code != 200 || editor.Code != 200 || stranger.Body.String() != editor.Body.String() {
		t.Errorf("answers differ: %d %d\n%s\n---\n%s", stranger.Code, editor.Code, stranger.Body, editor.Body)
	}
	if n := len(df.mailer.links("stranger@example.org")); n != 0 {
		t.Errorf("a stranger was mailed %d links", n)
	}
	for range 5 {
		df.do("POST", "/desk/sign-in", url.Values{"email": {deskEditor}}, nil)
	}
	if n := len(df.mailer.links(deskEditor)); n != deskLinksPerAddress {
		t.Errorf("an editor asked 6 times got %d links, want %d", n, deskLinksPerAddress)
	}
	if rec := df.do("POST", "/desk/sign-in", url.Values{"email": {"not an address"}}, nil); rec.Code != 400 || !strings.Contains(rec.Body.String(), "not an email address") {
		t.Errorf("a bad address: %d\n%s", rec.Code, rec.Body)
	}
	tok := linkToken(t, df.mailer.links(deskEditor)[0])
	if rec := df.do("POST", "/desk/sign-in", url.Values{"t": {tok}}, nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("first use: %d", rec.Code)
	}
	if rec := df.do("POST", "/desk/sign-in", url.Values{"t": {tok}}, nil); rec.Code != 400 || !strings.Contains(rec.Body.String(), "used already") {
		t.Errorf("second use: %d\n%s", rec.Code, rec.Body)
	}
	df.clock.add(DeskLinkTTL + time.Second)
	late := linkToken(t, df.mailer.links(deskEditor)[1])
	if rec := df.do("GET", "/desk/sign-in?t="+url.QueryEscape(late), nil, nil); rec.Code != 400 || !strings.Contains(rec.Body.String(), "expired") {
		t.Errorf("an expired link: %d\n%s", rec.Code, rec.Body)
	}
}

// The sign-in form is rate-limited per client like the sign-up form.
func TestDeskSignInRateLimit(t *testing.T) {
	df := newDeskFixture(t)
	df.desk.st.clients = newLimiter(2, time.Minute)
	var codes []int
	for i := range 3 {
		codes = append(codes, df.do("POST", "/desk/sign-in", url.Values{"email": {fmt.Sprintf("x%d@example.org", i)}}, nil).Code)
	}
	if !slices.Equal(codes, []int{200, 200, 429}) {
		t.Errorf("codes %v", codes)
	}
}

// A rebuild that brings an article marks it new on the desk, keeps the
// editors' edits, and makes a page loaded before it stale: its editor
// has not seen the new article.
func TestDeskAfterRebuild(t *testing.T) {
	df := newDeskFixture(t)
	ck := df.signIn(deskEditor)
	if rec := df.change(ck, "action", "hide", "article", deskArticleIDs[0]); rec.Code != http.StatusSeeOther {
		t.Fatalf("hide: %d", rec.Code)
	}
	before := df.do("GET", "/desk", nil, ck).Body.String()
	csrf, version := formOf(t, before)
	if strings.Contains(before, "새 기사 / new") {
		t.Fatal("the first build's articles are marked new")
	}
	is := deskBuild()
	extra := is.Sections[1].Articles[0]
	extra.ID, extra.Title, extra.Link = "dddd00000000000000000004", "AI 안전연구소 출범", "https://news.example.org/d"
	is.Sections[1].Articles = append(is.Sections[1].Articles, extra)
	if _, err := df.drafts.SaveDraft(context.Background(), is, deskThemes, start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rec := df.do("POST", "/desk/change", url.Values{"csrf": {csrf}, "version": {version}, "issue": {deskIssue},
		"action": {"pin"}, "article": {deskArticleIDs[1]}}, ck)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "the draft changed since you loaded it (version 2, now 3)") {
		t.Errorf("a change from the page before the rebuild: %d\n%s", rec.Code, rec.Body)
	}
	after := df.do("GET", "/desk", nil, ck).Body.String()
	card := after[strings.Index(after, `id="a-dddd00000000000000000004"`):]
	card = card[:strings.Index(card, "</h3>")]
	if !strings.Contains(card, "새 기사 / new") || strings.Count(after, "새 기사 / new") != 1 {
		t.Errorf("the new article is not the one marked new:\n%s", card)
	}
	if got := entries(df.draft().Issue()); !slices.Equal(got, []string{"compute:aaaa!", "compute:bbbb", "regulation:cccc", "regulation:dddd"}) {
		t.Errorf("after the rebuild: %v", got)
	}
}

// A reload (SIGHUP) keeps the desk's sign-in limits: the new site
// continues the old one's.
func TestDeskLimitsSurviveReload(t *testing.T) {
	df := newDeskFixture(t)
	for range deskLinksPerAddress {
		df.do("POST", "/desk/sign-in", url.Values{"email": {deskEditor}}, nil)
	}
	next := &Desk{Auth: df.desk.Auth, Store: df.desk.Store, Mailer: df.mailer, Render: df.desk.Render, Now: df.clock.now}
	site := *df.site
	site.st, site.Desk = nil, next
	site.Continue(df.site)
	h := site.Handler()
	req := httptest.NewRequest("POST", "/desk/sign-in", strings.NewReader(url.Values{"email": {deskEditor}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(httptest.NewRecorder(), req)
	next.Wait()
	if n := len(df.mailer.links(deskEditor)); n != deskLinksPerAddress {
		t.Errorf("after a reload an editor got %d links, want at most %d", n, deskLinksPerAddress)
	}
}

// Before the daemon builds a draft, a signed-in editor is told so, with
// nothing to change.
func TestDeskNoDraftYet(t *testing.T) {
	df := newDeskFixture(t)
	empty, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { empty.Close() })
	df.desk.Store = empty
	ck := df.signIn(deskEditor)
	rec := df.do("GET", "/desk", nil, ck)
	checkSitePage(t, "the desk without a draft", rec, 200, "no-store", "No draft has been built yet", "Sign out")
	if strings.Contains(rec.Body.String(), `action="/desk/change"`) {
		t.Errorf("the desk without a draft offers changes:\n%s", rec.Body)
	}
}

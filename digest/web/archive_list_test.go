package web

import (
	"context"
	"encoding/xml"
	"fmt"
	"html"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/subscribers"
)

// linkedTitles are the article titles a list page links, in order.
func linkedTitles(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<a class="article-link" href="[^"]*">(.*?)</a>`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestThemePage(t *testing.T) {
	sf := newSiteFixture(t)
	var older, newer []string
	for i := range 12 {
		older = append(older, fmt.Sprintf("older %02d", i))
		newer = append(newer, fmt.Sprintf("newer %02d", i))
	}
	sf.saveIssue("2026-W47", "AI Policy Weekly", monday8(2026, 11, 23), digest.IssueDone, start, older...)
	sf.saveIssue("2026-W48", "AI Policy Weekly", monday8(2026, 11, 30), digest.IssueOpen, start.Add(time.Hour), newer...)
	sf.saveIssue("2026-W49", "Quiet", monday8(2026, 12, 7), digest.IssueQuiet, start.Add(2*time.Hour))

	rec := sf.open("/themes/regulation")
	checkSitePage(t, "GET /themes/regulation", rec, 200, "public, max-age=300", testStyles,
		"<title>규제 · AI 정책 주간 &lt;Weekly&gt;</title>", `<h1 class="dateline">규제</h1>`,
		`<a class="muted-link" href="https://news.example.org/issues/2026-W48">제2호 · 2026년 11월 23일–29일</a>`,
		`<a class="read" rel="next" href="https://news.example.org/themes/regulation?page=2">다음 →</a>`, "1 / 2 쪽")
	// Newest issue first, each issue in its own order, 20 a page.
	want := append(slices.Clone(newer), older[:8]...)
	if got := linkedTitles(rec.Body.String()); !slices.Equal(got, want) {
		t.Errorf("page 1: %q, want %q", got, want)
	}
	rec = sf.open("/themes/regulation?page=2")
	checkSitePage(t, "page 2", rec, 200, "public, max-age=300",
		`<a class="read" rel="prev" href="https://news.example.org/themes/regulation">← 이전</a>`, "2 / 2 쪽")
	if got := linkedTitles(rec.Body.String()); !slices.Equal(got, older[8:]) {
		t.Errorf("page 2: %q, want %q", got, older[8:])
	}
	if strings.Contains(rec.Body.String(), `rel="next"`) {
		t.Errorf("the last page links a next one")
	}
	for _, target := range []string{"/themes/regulation?page=3", "/themes/regulation?page=0", "/themes/regulation?page=x"} {
		checkSitePage(t, target, sf.open(target), 404, "no-store")
	}
	// A configured theme with no article yet, the catch-all, and no theme.
	checkSitePage(t, "empty theme", sf.open("/themes/compute"), 200, "public, max-age=300", "이 주제의 기사가 아직 없습니다.")
	checkSitePage(t, "the catch-all", sf.open("/themes/other"), 200, "public, max-age=300", `<h1 class="dateline">기타</h1>`)
	for _, target := range []string{"/themes/nosuch", "/themes/%3Cscript%3E", "/themes/"} {
		checkSitePage(t, target, sf.open(target), 404, "no-store")
	}
	checkSitePage(t, "unknown theme", sf.open("/themes/nosuch"), 404, "no-store", "이 주제를 찾을 수 없습니다")

	// In English when the config says so, names from the theme's own.
	en := newSiteFixture(t, func(s *Site) { s.Lang = "en" })
	en.saveIssue("2026-W48", "AI Policy Weekly", monday8(2026, 11, 30), digest.IssueOpen, start, "one")
	body := en.open("/themes/regulation").Body.String()
	for _, w := range []string{`<html lang="en">`, `<h1 class="dateline">Regulation</h1>`, "No. 1 · 23–29 Nov 2026"} {
		if !strings.Contains(body, w) {
			t.Errorf("English theme page lacks %q:\n%s", w, body)
		}
	}
}

func TestArchiveIndexPages(t *testing.T) {
	sf := newSiteFixture(t)
	end := monday8(2026, 1, 5)
	for i := range 23 {
		e := end.AddDate(0, 0, 7*i)
		y, w := e.AddDate(0, 0, -3).ISOWeek()
		sf.saveIssue(fmt.Sprintf("%d-W%02d", y, w), "AI Policy Weekly", e, digest.IssueDone, e, "A")
	}
	first := sf.open("/").Body.String()
	if n := strings.Count(first, `class="article-link"`); n != 20 {
		t.Errorf("page 1 lists %d issues, want 20", n)
	}
	if !strings.Contains(first, `제23호`) || strings.Contains(first, `제3호 `) || !strings.Contains(first, `href="https://news.example.org/?page=2"`) {
		t.Errorf("page 1 is not the newest 20 with a link to page 2:\n%s", first)
	}
	second := sf.open("/?page=2").Body.String()
	if n := strings.Count(second, `class="article-link"`); n != 3 || !strings.Contains(second, "제1호 ") {
		t.Errorf("page 2 lists %d issues:\n%s", n, second)
	}
	checkSitePage(t, "page 3", sf.open("/?page=3"), 404, "no-store", "페이지를 찾을 수 없습니다")
}

func TestSearchPage(t *testing.T) {
	sf := newSiteFixture(t)
	sf.saveIssue("2026-W47", "AI Policy Weekly", monday8(2026, 11, 23), digest.IssueDone, start,
		"인공지능법 시행령 공개", "First <b>bold</b> & co")
	sf.saveIssue("2026-W48", "AI Policy Weekly", monday8(2026, 11, 30), digest.IssueOpen, start.Add(time.Hour),
		"AI 반도체 보조금", "<script>alert(1)</script> 인공지능")

	rec := sf.open("/search?q=" + url.QueryEscape("인공지능"))
	checkSitePage(t, "search 인공지능", rec, 200, "public, max-age=300", testStyles,
		`<meta name="robots" content="noindex, nofollow">`,
		`value="인공지능"`, "기사 2건",
		`&lt;script&gt;alert(1)&lt;/script&gt; <mark>인공지능</mark></a>`,
		`<mark>인공지능</mark>법 시행령 공개</a>`,
		`<a class="muted-link" href="https://news.example.org/issues/2026-W47">제1호 · 2026년 11월 16일–22일</a> · 규제`)
	// Newest first.
	if got := linkedTitles(rec.Body.String()); len(got) != 2 || !strings.HasPrefix(got[0], "&lt;script&gt;") {
		t.Errorf("order: %q", got)
	}
	// Two characters, and markup in the query: text to find, escaped.
	checkSitePage(t, "search 반도", sf.open("/search?q="+url.QueryEscape("반도")), 200, "public, max-age=300", "AI <mark>반도</mark>체 보조금")
	rec = sf.open("/search?q=" + url.QueryEscape("<b>"))
	checkSitePage(t, "search <b>", rec, 200, "public, max-age=300", "First <mark>&lt;b&gt;</mark>bold&lt;/b&gt; &amp; co", `value="&lt;b&gt;"`)

	// No query: the form, no results.
	for _, target := range []string{"/search", "/search?q=", "/search?q=%20%20"} {
		rec := sf.open(target)
		checkSitePage(t, target, rec, 200, "public, max-age=300", `<input type="search" name="q"`)
		if strings.Contains(rec.Body.String(), `class="article-link"`) || strings.Contains(rec.Body.String(), "찾는 기사가 없습니다") {
			t.Errorf("%s shows results:\n%s", target, rec.Body)
		}
	}
	checkSitePage(t, "no match", sf.open("/search?q=zzz"), 200, "public, max-age=300", "찾는 기사가 없습니다")
	// Hostile queries are harmless: a page, never an error or markup.
	for _, q := range []string{`"`, `"인공`, `*`, `NEAR(a b)`, `-AI`, `AI OR 1=1`, `'; DROP TABLE issues; --`, `a:b`,
		"\xff\xfe인공지능", strings.Repeat("인", 3000), `"><script>alert(1)</script>`, "\x00\x1b"} {
		rec := sf.open("/search?q=" + url.QueryEscape(q))
		checkSitePage(t, fmt.Sprintf("search %.30q", q), rec, 200, "public, max-age=300")
	}
	if rec := sf.open("/search?q=" + url.QueryEscape("\xff\xfe인공지능")); !strings.Contains(rec.Body.String(), "기사 2건") {
		t.Errorf("invalid UTF-8 around a word does not find it:\n%s", rec.Body)
	}
	if strings.Contains(sf.log.String(), "level=ERROR") {
		t.Errorf("a query was logged as an error:\n%s", sf.log)
	}
}

func TestSearchPages(t *testing.T) {
	sf := newSiteFixture(t)
	var titles []string
	for i := range 25 {
		titles = append(titles, fmt.Sprintf("인공지능 %02d", i))
	}
	sf.saveIssue("2026-W48", "AI Policy Weekly", monday8(2026, 11, 30), digest.IssueOpen, start, titles...)
	body := sf.open("/search?q=" + url.QueryEscape("인공지능")).Body.String()
	next := regexp.MustCompile(`rel="next" href="([^"]+)"`).FindStringSubmatch(body)
	if n := strings.Count(body, `class="article-link"`); n != 20 || next == nil || !strings.Contains(body, "기사 25건") {
		t.Fatalf("page 1: %d results, next %v", n, next)
	}
	body = sf.open(path(t, next[1])).Body.String()
	if got := linkedTitles(body); len(got) != 5 || got[0] != "<mark>인공지능</mark> 20" {
		t.Errorf("page 2 (the query kept): %q", got)
	}
}

// The issue's page carries its canonical address and OpenGraph tags.
func TestIssuePageOpenGraph(t *testing.T) {
	sf := newSiteFixture(t, func(s *Site) {
		s.IssuePage = func(is digest.Issue, _ string) ([]byte, error) {
			return []byte("<!DOCTYPE html><html><head><title>x</title></head><body><p>" + html.EscapeString(is.ID) + "</p></body></html>"), nil
		}
	})
	sf.saveIssue("2026-W48", `AI "Policy" <Weekly>`, monday8(2026, 11, 30), digest.IssueOpen, start, "반도체 보조금", `<i>Rules</i> & "AI"`, "Third", "Fourth")
	body := sf.open("/issues/2026-W48").Body.String()
	head := body[:strings.Index(body, "</head>")]
	for _, w := range []string{
		`<link rel="canonical" href="https://news.example.org/issues/2026-W48">`,
		`<meta property="og:type" content="article">`,
		`<meta property="og:site_name" content="AI 정책 주간 &lt;Weekly&gt;">`,
		`<meta property="og:title" content="AI &#34;Policy&#34; &lt;Weekly&gt; · 제1호 · 2026년 11월 23일–29일">`,
		`<meta property="og:description" content="반도체 보조금 · &lt;i&gt;Rules&lt;/i&gt; &amp; &#34;AI&#34; · Third">`,
		`<meta property="og:url" content="https://news.example.org/issues/2026-W48">`,
		`<meta property="og:locale" content="ko_KR">`,
	} {
		if !strings.Contains(head, w) {
			t.Errorf("the head lacks %q:\n%s", w, head)
		}
	}
	if strings.Contains(body, "<i>") || !strings.Contains(body, "<body><p>2026-W48</p></body>") {
		t.Errorf("page:\n%s", body)
	}
}

// Each entry carries the issue's web copy, as HTML content a reader shows.
func TestFeedCarriesTheIssue(t *testing.T) {
	sf := newSiteFixture(t, func(s *Site) {
		s.IssuePage = func(is digest.Issue, _ string) ([]byte, error) {
			return []byte("<!DOCTYPE html><html><head><style>p{}</style></head><body class=\"body\">\n<h1>" + html.EscapeString(is.Title) +
				"</h1><p>" + html.EscapeString(is.Sections[0].Articles[0].Title) + "</p>\n</body></html>"), nil
		}
	})
	sf.saveIssue("2026-W48", "AI Policy Weekly", monday8(2026, 11, 30), digest.IssueOpen, start, "반도체 <b>& co\x01")
	rec := sf.open("/feed.atom")
	var f struct {
		Entries []struct {
			Title   string `xml:"title"`
			Content struct {
				Type string `xml:"type,attr"`
				Text string `xml:",chardata"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &f); err != nil || len(f.Entries) != 1 {
		t.Fatalf("feed: %v %+v\n%s", err, f, rec.Body)
	}
	e := f.Entries[0]
	if e.Title != "AI Policy Weekly · 제1호 · 2026년 11월 23일–29일" {
		t.Errorf("entry title %q", e.Title)
	}
	if e.Content.Type != "html" || e.Content.Text != "<h1>AI Policy Weekly</h1><p>반도체 &lt;b&gt;&amp; co</p>" {
		t.Errorf("entry content (%s) %q", e.Content.Type, e.Content.Text)
	}
}

// A test send's link shows an issue not yet published; its bare address
// says it is not published yet.
func TestViewLinkOfAnUnpublishedIssue(t *testing.T) {
	sf := newSiteFixture(t)
	ctx := context.Background()
	links := Links{BaseURL: baseURL, Signer: sf.pages.Signer}
	is := digest.Issue{
		ID: "2026-W48", Title: "AI Policy Weekly", Period: digest.WeekEnding(monday8(2026, 11, 30), 7*24*time.Hour, seoul),
		Sections: []digest.Section{{ID: "regulation", Name: "Regulation", Articles: []digest.Article{
			{ID: "a1", Title: "Draft article", Link: "https://example.org/a1", Themes: []string{"regulation"}},
			{ID: "a2", Title: "Second", Link: "https://example.org/a2", Themes: []string{"regulation"}}}}},
	}

	// Nothing stored (no editors): the link shows the coming issue.
	view := path(t, links.View(is.ID, sf.clock.now()))
	if !strings.HasPrefix(view, "/issues/2026-W48?view=") {
		t.Fatalf("view link %q", view)
	}
	rec := sf.open(view)
	checkView := func(what string, rec *httptest.ResponseRecorder, want string) {
		t.Helper()
		b := rec.Body.String()
		if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-store" || !strings.Contains(b, want) ||
			!strings.Contains(b, "아직 발행되지 않은 호입니다") || !strings.Contains(b, robotsLine) {
			t.Errorf("%s: %d %v\n%s", what, rec.Code, rec.Header(), b)
		}
	}
	checkView("view of the coming issue", rec, "preview number")
	checkSitePage(t, "unknown issue", sf.open("/issues/2026-W48"), 404, "no-store", "이 호를 찾을 수 없습니다")

	// A draft: the bare address is "not yet published", the link shows it.
	if _, err := sf.store.SaveDraft(ctx, is, []digest.Theme{{ID: "regulation", Name: "Regulation"}}, monday8(2026, 11, 27)); err != nil {
		t.Fatal(err)
	}
	checkSitePage(t, "the draft's bare address", sf.open("/issues/2026-W48"), 404, "no-store", "아직 나오지 않은 호입니다")
	checkView("view of the draft", sf.open(view), "issue 2026-W48, 2 articles")
	if _, err := sf.store.EditDraft(ctx, is.ID, 1, "ed@example.org", digest.Edit{Kind: digest.EditHide, Article: "a2"}, monday8(2026, 11, 27)); err != nil {
		t.Fatal(err)
	}
	checkView("the draft as readers get it", sf.open(view), "issue 2026-W48, 1 articles")
	if _, err := sf.store.ApproveDraft(ctx, is.ID, 2, "ed@example.org", monday8(2026, 11, 28)); err != nil {
		t.Fatal(err)
	}
	checkSitePage(t, "the approved issue's bare address", sf.open("/issues/2026-W48"), 404, "no-store", "아직 나오지 않은 호입니다")
	checkView("view of the approved issue", sf.open(view), "issue 2026-W48, 1 articles")

	// Forged, for another issue, another purpose, expired.
	other := path(t, links.View("2026-W47", sf.clock.now()))
	for what, target := range map[string]string{
		"forged":          view[:len(view)-3] + "AAA",
		"another issue":   "/issues/2026-W48?" + strings.SplitN(other, "?", 2)[1],
		"another purpose": "/issues/2026-W48?view=" + url.QueryEscape(sf.pages.Signer.Sign(subscribers.Claims{Purpose: subscribers.PurposePreferences, Subscriber: 1, Data: "2026-W48"})),
	} {
		checkSitePage(t, what, sf.open(target), 400, "no-store", "링크가 올바르지 않습니다")
	}
	sf.clock.add(subscribers.ViewTTL + time.Minute)
	checkSitePage(t, "expired", sf.open(view), 410, "no-store", "링크가 만료되었습니다")

	// Once its send begins, both addresses show the published issue.
	if _, _, _, err := sf.store.SaveSubscriber(ctx, subscribers.Subscriber{Email: "r@example.org", Status: subscribers.Active}, subscribers.AllFields, start); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sf.store.PrepareDeliveries(ctx, is.ID, monday8(2026, 11, 30)); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/issues/2026-W48", view} {
		rec := sf.open(target)
		if rec.Code != 200 || strings.Contains(rec.Body.String(), "아직 발행되지") || !strings.HasPrefix(rec.Header().Get("Cache-Control"), "public") {
			t.Errorf("%s once published: %d\n%s", target, rec.Code, rec.Body)
		}
	}
}

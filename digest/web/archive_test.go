package web

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gull/digest"
)

// saveIssue stores an issue of the week that ends at end (in Seoul), with
// one article per title, frozen (or not) at created.
func (sf *siteFixture) saveIssue(id, title string, end time.Time, status digest.IssueStatus, created time.Time, titles ...string) digest.Issue {
	sf.t.Helper()
	var arts []digest.Article
	for i, t := range titles {
		arts = append(arts, digest.Article{ID: fmt.Sprint(id, i), Title: t, Link: fmt.Sprintf("https://example.org/%s/%d", id, i)})
	}
	is := digest.Issue{
		ID: id, Title: title, Period: digest.WeekEnding(end.In(seoul), 7*24*time.Hour, seoul),
		Sections: []digest.Section{{ID: "regulation", Name: "Regulation", Articles: arts}},
	}
	if _, err := sf.store.SaveIssue(context.Background(), is, status, created); err != nil {
		sf.t.Fatal(err)
	}
	return is
}

// monday8 is the Monday-morning send of the week that ends on the Sunday
// before, in Seoul.
func monday8(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 8, 0, 0, 0, seoul) }

const hostile = "Rules <script>alert(1)</script> & \"AI\"\x00\x1b\x7f\u0085\ufffe \xff end"

func TestArchiveIndex(t *testing.T) {
	sf := newSiteFixture(t)
	sf.saveIssue("2026-W46", "AI Policy Weekly", monday8(2026, 11, 16), digest.IssueDone, monday8(2026, 11, 16), "A")
	sf.saveIssue("2026-W48", "AI Policy Weekly", monday8(2026, 11, 30), digest.IssueOpen, monday8(2026, 11, 30), "반도체 보조금의 경제학", hostile, "D", "not a lead")
	sf.saveIssue("2026-W47", "AI Policy Weekly", monday8(2026, 11, 23), digest.IssueDone, monday8(2026, 11, 23), "E", "F")
	sf.saveIssue("2026-W49", "Quiet week", monday8(2026, 12, 7), digest.IssueQuiet, monday8(2026, 12, 7))
	sf.saveIssue("2027-W01", "AI Policy Weekly", monday8(2027, 1, 4), digest.IssueOpen, monday8(2027, 1, 4), "New year")

	rec := sf.open("/")
	// Each issue by its number, its dates (a week sent Monday 08:00 in
	// Seoul covers Monday to Sunday there) and its lead headlines; the
	// quiet week took no number.
	checkSitePage(t, "GET /", rec, 200, "public, max-age=300",
		"<title>지난 호 · AI 정책 주간 &lt;Weekly&gt;</title>",
		`<link rel="alternate" type="application/atom+xml" title="AI 정책 주간 &lt;Weekly&gt;" href="https://news.example.org/feed.atom">`,
		`href="https://news.example.org/subscribe"`,
		`<a class="chip" href="https://news.example.org/themes/regulation">규제</a>`,
		`<form class="search-form" role="search" method="get" action="https://news.example.org/search">`,
		`<a class="article-link" href="https://news.example.org/issues/2027-W01">제4호 · 2026년 12월 28일 – 2027년 1월 3일</a>`,
		`<a class="article-link" href="https://news.example.org/issues/2026-W48">제3호 · 2026년 11월 23일–29일</a>`,
		`<ul class="heads"><li>반도체 보조금의 경제학</li><li>Rules &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;AI&#34; end</li><li>D</li></ul>`,
		"기사 4건",
		`<a class="article-link" href="https://news.example.org/issues/2026-W47">제2호 · 2026년 11월 16일–22일</a>`,
		`<ul class="heads"><li>E</li><li>F</li></ul>`, "기사 2건",
		`<a class="article-link" href="https://news.example.org/issues/2026-W46">제1호 · 2026년 11월 9일–15일</a>`,
		`<ul class="heads"><li>A</li></ul>`, "기사 1건",
	)
	body := rec.Body.String()
	if strings.Contains(body, "not a lead") {
		t.Errorf("more than three headlines of an issue:\n%s", body)
	}
	if strings.Contains(body, "Quiet week") || strings.Contains(body, "2026-W49") {
		t.Errorf("a quiet week is listed:\n%s", body)
	}
	if strings.Contains(body, "noindex") {
		t.Errorf("the public archive asks not to be indexed")
	}
	var order []string
	for _, m := range regexp.MustCompile(`href="https://news\.example\.org/issues/([^"]+)"`).FindAllStringSubmatch(body, -1) {
		order = append(order, m[1])
	}
	if want := []string{"2027-W01", "2026-W48", "2026-W47", "2026-W46"}; !slices.Equal(order, want) {
		t.Errorf("issues listed %v, want newest first %v", order, want)
	}
	if rec := sf.visit("HEAD", "/", "", "", ""); rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD /: %d, %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}

	// A frozen issue never changes: its headlines are read once.
	asked := len(sf.archive.askedFor())
	if rec := sf.open("/"); rec.Body.String() != body || len(sf.archive.askedFor()) != asked {
		t.Errorf("the second GET / read %d issues again, or differs", len(sf.archive.askedFor())-asked)
	}
}

// An issue that cannot be read costs its headlines, not the page, and is
// tried again on the next request.
func TestArchiveIndexUnreadableIssue(t *testing.T) {
	sf := newSiteFixture(t)
	sf.saveIssue("2026-W46", "AI Policy Weekly", monday8(2026, 11, 16), digest.IssueDone, monday8(2026, 11, 16), "A")
	sf.saveIssue("2026-W47", "AI Policy Weekly", monday8(2026, 11, 23), digest.IssueDone, monday8(2026, 11, 23), "E", "F")
	sf.archive.issueErr["2026-W47"] = errors.New("store: issue 2026-W47: unreadable body: secret")
	rec := sf.open("/")
	checkSitePage(t, "GET / with an unreadable issue", rec, 200, "public, max-age=300",
		`<a class="article-link" href="https://news.example.org/issues/2026-W47">제2호 · 2026년 11월 16일–22일</a>`, `<ul class="heads"><li>A</li></ul>`)
	if strings.Contains(rec.Body.String(), "<li>E</li>") || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("the unreadable issue's headlines or error show:\n%s", rec.Body)
	}
	if !strings.Contains(sf.log.String(), "secret") {
		t.Errorf("the error was not logged:\n%s", sf.log)
	}
	delete(sf.archive.issueErr, "2026-W47")
	checkSitePage(t, "GET / once it reads", sf.open("/"), 200, "public, max-age=300", `<ul class="heads"><li>E</li><li>F</li></ul>`)
}

func TestArchiveIndexInUTC(t *testing.T) {
	sf := newSiteFixture(t, func(s *Site) { s.Location = nil })
	sf.saveIssue("2026-W48", "AI Policy Weekly", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), digest.IssueOpen, start)
	checkSitePage(t, "GET / in UTC", sf.open("/"), 200, "public, max-age=300", "제1호 · 2026년 11월 23일–29일</a>", "기사 0건")
}

func TestArchiveEmpty(t *testing.T) {
	sf := newSiteFixture(t)
	rec := sf.open("/")
	checkSitePage(t, "empty archive", rec, 200, "public, max-age=300",
		"아직 나온 호가 없습니다", `href="https://news.example.org/subscribe"`, "feed.atom")
	if strings.Contains(rec.Body.String(), "<ol") {
		t.Errorf("an empty list is shown:\n%s", rec.Body)
	}
}

func TestArchiveStoreError(t *testing.T) {
	sf := newSiteFixture(t)
	sf.archive.listErr = errors.New("store: issues: database disk image is malformed")
	rec := sf.open("/")
	checkSitePage(t, "store error", rec, 500, "no-store", "문제가 생겼습니다", "잠시 후 다시 시도해 주세요")
	if strings.Contains(rec.Body.String(), "malformed") {
		t.Errorf("the error shows:\n%s", rec.Body)
	}
	if !strings.Contains(sf.log.String(), "malformed") {
		t.Errorf("the error was not logged:\n%s", sf.log)
	}
}

func TestIssuePage(t *testing.T) {
	sf := newSiteFixture(t)
	sf.saveIssue("2026-W48", "AI Policy <Weekly>", monday8(2026, 11, 30), digest.IssueOpen, start, "A", "B")
	sf.saveIssue("2026-W47", "AI Policy Weekly", monday8(2026, 11, 23), digest.IssueDone, start, "C")
	sf.saveIssue("2026-W49", "Quiet", monday8(2026, 12, 7), digest.IssueQuiet, start)
	sf.saveIssue("2026-W45", "unrenderable", monday8(2026, 11, 9), digest.IssueDone, start, "D")

	for id, want := range map[string]string{
		"2026-W48": "<!DOCTYPE html><title>AI Policy &lt;Weekly&gt;</title><p>issue 2026-W48, 2 articles</p>",
		"2026-W47": "<!DOCTYPE html><title>AI Policy Weekly</title><p>issue 2026-W47, 1 articles</p>",
	} {
		rec := sf.open("/issues/" + id)
		if rec.Code != 200 || !strings.HasSuffix(rec.Body.String(), want) {
			t.Errorf("GET /issues/%s: %d %q, want %q", id, rec.Code, rec.Body, want)
		}
		if rec.Header().Get("Content-Type") != "text/html; charset=utf-8" || !strings.HasPrefix(rec.Header().Get("Cache-Control"), "public") {
			t.Errorf("GET /issues/%s: headers %v", id, rec.Header())
		}
	}
	rec := sf.visit("HEAD", "/issues/2026-W48", "", "", "")
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" ||
		rec.Header().Get("Content-Length") != fmt.Sprint(sf.open("/issues/2026-W48").Body.Len()) {
		t.Errorf("HEAD: %d, %d bytes, %v", rec.Code, rec.Body.Len(), rec.Header())
	}

	for _, id := range []string{"2026-W01", "2026-W49"} {
		checkSitePage(t, "GET /issues/"+id, sf.open("/issues/"+id), 404, "no-store", "이 호를 찾을 수 없습니다", `href="https://news.example.org/"`)
	}
	asked := len(sf.archive.askedFor())
	for _, target := range []string{
		"/issues/2026%20W48", "/issues/%3Cscript%3E", "/issues/a;b", "/issues/%C3%A9", "/issues/2026-W48%00",
		"/issues/" + strings.Repeat("a", 65),
	} {
		rec := sf.open(target)
		checkSitePage(t, "GET "+target, rec, 404, "no-store", "이 호를 찾을 수 없습니다")
	}
	if got := sf.archive.askedFor()[asked:]; len(got) != 0 {
		t.Errorf("the store was asked for bad ids %q", got)
	}
	if rec := sf.open("/issues/" + strings.Repeat("a", 64)); rec.Code != 404 || len(sf.archive.askedFor()) != asked+1 {
		t.Errorf("a 64-character id: %d, not looked up", rec.Code)
	}

	// Failures are logged and never shown.
	sf.archive.issueErr["2026-W47"] = errors.New("store: issue 2026-W47: unreadable body: secret")
	for _, id := range []string{"2026-W47", "2026-W45"} {
		rec := sf.open("/issues/" + id)
		checkSitePage(t, "failing "+id, rec, 500, "no-store", "문제가 생겼습니다")
		if strings.Contains(rec.Body.String(), "secret") {
			t.Errorf("%s: the error shows:\n%s", id, rec.Body)
		}
	}
	for _, w := range []string{"unreadable body: secret", "template digest.html.tmpl: secret detail"} {
		if !strings.Contains(sf.log.String(), w) {
			t.Errorf("not logged: %q\n%s", w, sf.log)
		}
	}
}

// The feed as a reader parses it: this test's own view of RFC 4287.
type testFeed struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Author  []struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Links   []testLink `xml:"link"`
	Entries []struct {
		ID      string     `xml:"id"`
		Title   string     `xml:"title"`
		Updated string     `xml:"updated"`
		Links   []testLink `xml:"link"`
		Summary struct {
			Type string `xml:"type,attr"`
			Text string `xml:",chardata"`
		} `xml:"summary"`
	} `xml:"entry"`
}

type testLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

func (sf *siteFixture) feed() testFeed {
	sf.t.Helper()
	rec := sf.open("/feed.atom")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/atom+xml; charset=utf-8" || rec.Header().Get("Cache-Control") != "public, max-age=300" {
		sf.t.Fatalf("feed: %d %v\n%s", rec.Code, rec.Header(), rec.Body)
	}
	body := rec.Body.Bytes()
	if !utf8.Valid(body) || !strings.HasPrefix(string(body), `<?xml version="1.0" encoding="UTF-8"?>`) {
		sf.t.Fatalf("feed is not UTF-8 XML:\n%q", body)
	}
	var f testFeed
	// Strict: Go's decoder refuses characters XML 1.0 forbids.
	if err := xml.Unmarshal(body, &f); err != nil {
		sf.t.Fatalf("feed does not parse: %v\n%s", err, body)
	}
	return f
}

func TestFeed(t *testing.T) {
	sf := newSiteFixture(t)
	w46 := start.Add(-14 * 24 * time.Hour)
	w47 := start.Add(-7 * 24 * time.Hour)
	w48 := start.Add(time.Minute)
	sf.saveIssue("2026-W46", "AI Policy Weekly", monday8(2026, 11, 16), digest.IssueDone, w46, "Only one")
	sf.saveIssue("2026-W48", hostile, monday8(2026, 11, 30), digest.IssueOpen, w48,
		"First <b>bold</b> & co", "Second\x00\x01", "Third", "Fourth", "Fifth", "Sixth", "Seventh")
	sf.saveIssue("2026-W47", "AI Policy Weekly", monday8(2026, 11, 23), digest.IssueDone, w47, "E", "F")
	sf.saveIssue("2026-W49", "Quiet week", monday8(2026, 12, 7), digest.IssueQuiet, w48)

	f := sf.feed()
	if f.ID != baseURL+"/" || f.Title != "AI 정책 주간 <Weekly>" || f.Updated != w48.UTC().Format(time.RFC3339) {
		t.Errorf("feed id %q, title %q, updated %q", f.ID, f.Title, f.Updated)
	}
	if len(f.Author) != 1 || f.Author[0].Name == "" {
		t.Errorf("feed author %+v: RFC 4287 wants one when entries have none", f.Author)
	}
	links := map[string]string{}
	for _, l := range f.Links {
		links[l.Rel] = l.Href
	}
	if links["self"] != baseURL+"/feed.atom" || links["alternate"] != baseURL+"/" {
		t.Errorf("feed links %v", links)
	}
	var ids []string
	for _, e := range f.Entries {
		ids = append(ids, e.ID)
		if len(e.Links) != 1 || e.Links[0].Rel != "alternate" || e.Links[0].Href != e.ID {
			t.Errorf("entry %s: links %+v", e.ID, e.Links)
		}
		if u, err := url.Parse(e.ID); err != nil || !u.IsAbs() || u.Host != "news.example.org" {
			t.Errorf("entry id %q is not an absolute link", e.ID)
		}
		if e.Summary.Type != "text" {
			t.Errorf("entry %s: summary type %q", e.ID, e.Summary.Type)
		}
	}
	want := []string{baseURL + "/issues/2026-W48", baseURL + "/issues/2026-W47", baseURL + "/issues/2026-W46"}
	if !slices.Equal(ids, want) {
		t.Fatalf("entries %q, want newest first %q", ids, want)
	}
	e := f.Entries[0]
	// The issue's number and dates, in the site's language, not its id.
	if e.Title != `Rules <script>alert(1)</script> & "AI" end · 제3호 · 2026년 11월 23일–29일` {
		t.Errorf("hostile title read back as %q", e.Title)
	}
	if e.Updated != w48.UTC().Format(time.RFC3339) || f.Entries[1].Updated != w47.UTC().Format(time.RFC3339) {
		t.Errorf("entry updated %q, %q", e.Updated, f.Entries[1].Updated)
	}
	if s := e.Summary.Text; s != "기사 7건 / 7 articles: First <b>bold</b> & co; Second; Third; Fourth; Fifth; …" {
		t.Errorf("summary %q", s)
	}
	if s := f.Entries[2].Summary.Text; s != "기사 1건 / 1 article: Only one" {
		t.Errorf("summary %q", s)
	}
	// A link a reader follows lands on the issue.
	if rec := sf.open(path(t, e.Links[0].Href)); rec.Code != 200 || !strings.Contains(rec.Body.String(), "issue 2026-W48, 7 articles") {
		t.Errorf("following the entry's link: %d %q", rec.Code, rec.Body)
	}
}

func TestFeedSkipsAnUnreadableIssue(t *testing.T) {
	sf := newSiteFixture(t)
	sf.saveIssue("2026-W47", "AI Policy Weekly", monday8(2026, 11, 23), digest.IssueDone, start.Add(-time.Hour), "A")
	sf.saveIssue("2026-W48", "AI Policy Weekly", monday8(2026, 11, 30), digest.IssueOpen, start, "B")
	sf.archive.issueErr["2026-W48"] = errors.New("store: issue 2026-W48: unreadable body")
	f := sf.feed()
	if len(f.Entries) != 1 || f.Entries[0].ID != baseURL+"/issues/2026-W47" {
		t.Fatalf("entries %+v, want W47 alone", f.Entries)
	}
	if f.Updated != start.Add(-time.Hour).UTC().Format(time.RFC3339) {
		t.Errorf("updated %q: want the newest entry's", f.Updated)
	}
	if !strings.Contains(sf.log.String(), "unreadable body") {
		t.Errorf("not logged:\n%s", sf.log)
	}
}

func TestFeedKeepsTheLatest20(t *testing.T) {
	sf := newSiteFixture(t)
	end := monday8(2026, 6, 1)
	var want []string
	for i := range 23 {
		e := end.AddDate(0, 0, 7*i)
		y, w := e.AddDate(0, 0, -3).ISOWeek()
		id := fmt.Sprintf("%d-W%02d", y, w)
		sf.saveIssue(id, "AI Policy Weekly", e, digest.IssueDone, e, "A")
		want = append([]string{baseURL + "/issues/" + id}, want...)
	}
	var got []string
	for _, e := range sf.feed().Entries {
		got = append(got, e.ID)
	}
	if !slices.Equal(got, want[:20]) {
		t.Errorf("entries %q, want the newest 20 %q", got, want[:20])
	}
}

func TestFeedEmpty(t *testing.T) {
	sf := newSiteFixture(t)
	f := sf.feed()
	if len(f.Entries) != 0 || f.Updated != start.Format(time.RFC3339) || f.ID != baseURL+"/" {
		t.Errorf("empty feed: %+v", f)
	}
}

func TestXMLText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                      "plain",
		"  a\n\tb\r\nc  ":            "a b c",
		"nul\x00 esc\x1b del\x7f":    "nul esc del",
		"c1\u0085\u009f":             "c1",
		"non\ufffe\uffffchar":        "nonchar",
		"bad \xff\xfe utf8":          "bad utf8",
		"<b>&amp;</b> 한국어 😀":         "<b>&amp;</b> 한국어 😀",
		"\u2028line\u2029separators": "line separators",
	} {
		got := xmlText(in)
		if got != want {
			t.Errorf("xmlText(%q) = %q, want %q", in, got, want)
		}
		if err := xml.Unmarshal([]byte("<t>"+escapeXML(got)+"</t>"), new(string)); err != nil {
			t.Errorf("xmlText(%q) is not XML text: %v", in, err)
		}
	}
}

func escapeXML(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func TestValidIssueID(t *testing.T) {
	for id, want := range map[string]bool{
		"2026-W48": true, "2026-11-30": true, "2026-11-30T08": true, "a.b_c-D": true, strings.Repeat("9", 64): true,
		"": false, strings.Repeat("9", 65): false, "2026 W48": false, "a/b": false, "é": false, "a%2F": false, "a\x00": false,
	} {
		if got := validIssueID(id); got != want {
			t.Errorf("validIssueID(%q) = %v, want %v", id, got, want)
		}
	}
}

// An issue an editor approved is frozen before its send and may still be
// reopened and changed: neither the index nor its page shows it until its
// send begins.
func TestArchiveHidesAnApprovedIssueUntilItsSend(t *testing.T) {
	sf := newSiteFixture(t)
	ctx := context.Background()
	is := digest.Issue{
		ID: "2026-W48", Title: "AI Policy Weekly", Period: digest.WeekEnding(monday8(2026, 11, 30), 7*24*time.Hour, seoul),
		Sections: []digest.Section{{ID: "regulation", Name: "Regulation", Articles: []digest.Article{
			{ID: "a1", Title: "Approved, not yet mailed", Link: "https://example.org/a1", Themes: []string{"regulation"}}}}},
	}
	if _, err := sf.store.SaveDraft(ctx, is, []digest.Theme{{ID: "regulation", Name: "Regulation"}}, monday8(2026, 11, 27)); err != nil {
		t.Fatal(err)
	}
	if _, err := sf.store.ApproveDraft(ctx, is.ID, 1, "ed@example.org", monday8(2026, 11, 28)); err != nil {
		t.Fatal(err)
	}
	if body := sf.open("/").Body.String(); strings.Contains(body, "Approved, not yet mailed") || strings.Contains(body, "/issues/2026-W48") {
		t.Errorf("the index lists the approved, unsent issue:\n%s", body)
	}
	checkSitePage(t, "GET /issues/2026-W48", sf.open("/issues/2026-W48"), 404, "no-store", "아직 나오지 않은 호입니다")
}

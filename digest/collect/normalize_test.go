package collect

import (
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"

	"gull/digest"
)

func TestParseDate(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	utc := func(s string) time.Time {
		tt, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return tt
	}
	cases := []struct {
		raw  string
		want time.Time // zero: must not parse
	}{
		{"Tue, 24 Nov 2026 09:00:00 +0900", utc("2026-11-24T00:00:00Z")},
		{"Tue, 24 Nov 2026 09:00:00 GMT", utc("2026-11-24T09:00:00Z")},
		{"Tue, 24 Nov 2026 09:00:00 KST", utc("2026-11-24T00:00:00Z")},   // Go alone would read KST as +0000
		{"Thu, 09 Feb 2006 16:59:45 pDt", utc("2006-02-09T23:59:45Z")},   // case of the zone name
		{"Mon, 26 Sept 2005 21:46:23+0900", utc("2005-09-26T12:46:23Z")}, // four-letter month, no space
		{"Wed, 24 Nov 2026 09:00:00 +0900", utc("2026-11-24T00:00:00Z")}, // wrong weekday is ignored
		{"2026-11-24T09:00:00+09:00", utc("2026-11-24T00:00:00Z")},
		{"2026-11-24T09:00:00Z", utc("2026-11-24T09:00:00Z")},
		{"2026-11-24T09:00:00.123+09:00", utc("2026-11-24T00:00:00.123Z")},
		{"2026-11-24 18:00:00", utc("2026-11-24T09:00:00Z")}, // no zone: the feed's zone
		{"2026-11-24T18:00:00", utc("2026-11-24T09:00:00Z")},
		{"2026-11-24", utc("2026-11-23T15:00:00Z")}, // midnight in Seoul
		{"2026년 11월 24일", utc("2026-11-23T15:00:00Z")},
		{"Sat, Dec 16 2023 02:02:33 PM", utc("2023-12-16T05:02:33Z")},
		{"24 Nov 2026 09:00 +0000", utc("2026-11-24T09:00:00Z")},
		{"", time.Time{}},
		{"yesterday", time.Time{}},
		{"Tue, 99 Nov 2026 09:00:00 +0900", time.Time{}},
	}
	for _, c := range cases {
		got, ok := parseDate(c.raw, seoul)
		if c.want.IsZero() {
			if ok {
				t.Errorf("parseDate(%q) = %v; want no date", c.raw, got)
			}
			continue
		}
		if !ok || !got.Equal(c.want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v", c.raw, got, ok, c.want)
		}
	}
}

// unsafeHTML finds active content in markup: dangerous elements, event
// handler attributes and script URLs in attributes. The same words in
// escaped text are harmless and not matched.
var unsafeHTML = regexp.MustCompile(`(?i)<(script|style|iframe|form|object|embed)\b|<[^>]*\son[a-z]+\s*=|<[^>]*=\s*["']?\s*(javascript|vbscript|data):`)

func TestSanitizeHTML(t *testing.T) {
	base, _ := url.Parse("https://news.example.kr/column/2026/")
	in := `<p onclick="x()">안녕 <a href="../about?utm_source=rss&amp;id=7">소개</a>
		<a href="javascript:alert(1)">나쁜 링크</a><script>alert(1)</script><style>p{}</style>
		<iframe src="https://evil.example/"></iframe><form action="/x"><input name=a></form>
		<img src="/img/chart.png" alt="차트" onerror="x()"><object data="x.swf"></object>
		<a href="https://other.example/a?fbclid=1&amp;q=2">ok</a></p>`
	out := string(sanitizeHTML(in, base))
	if m := unsafeHTML.FindString(out); m != "" {
		t.Errorf("unsafe %q survived: %s", m, out)
	}
	for _, want := range []string{
		`href="https://news.example.kr/column/about?id=7"`,
		`src="https://news.example.kr/img/chart.png"`,
		`alt="차트"`,
		`href="https://other.example/a?q=2"`,
		"안녕",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sanitized HTML lacks %s:\n%s", want, out)
		}
	}
}

func TestPlainText(t *testing.T) {
	cases := map[string]string{
		"<p>첫 문단</p><p>둘째&nbsp;문단 &amp; 끝</p>": "첫 문단\n\n둘째 문단 & 끝",
		"<b>Bold</b> title":        "Bold title",
		"a<script>bad()</script>b": "ab",
		"AI &lt; humans?":          "AI < humans?",
		"  spaced   out  ":         "spaced out",
	}
	for in, want := range cases {
		if got := plainText(in); got != want {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFixMojibake(t *testing.T) {
	cases := map[string]string{
		"donâ€™t":     "don’t",
		"cafÃ©":       "café",
		"café":        "café", // real Latin-1 text is left alone
		"Müller":      "Müller",
		"한국어":         "한국어",
		"plain ASCII": "plain ASCII",
	}
	for in, want := range cases {
		if got := fixMojibake(in); got != want {
			t.Errorf("fixMojibake(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncateRunesNeverSplitsARune(t *testing.T) {
	s := "인공지능 기본법 시행령은 고영향 AI의 범위를 정한다 🤖🤖 그리고 더"
	for n := 1; n < utf8.RuneCountInString(s)+2; n++ {
		got := truncateRunes(s, n)
		if !utf8.ValidString(got) {
			t.Fatalf("truncateRunes(_, %d) = %q is not valid UTF-8", n, got)
		}
		if utf8.RuneCountInString(strings.TrimSuffix(got, "…")) > n {
			t.Fatalf("truncateRunes(_, %d) = %q is longer than %d runes", n, got, n)
		}
	}
}

func TestNormalizeItems(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>칼럼 &amp; 사설</title><link>https://news.example.kr/</link>
<item><title><![CDATA[<b>[칼럼]</b> AI기본법 &amp; 시행령]]></title><link>/opinion/1?utm_medium=rss</link>
<guid isPermaLink="false">col-1</guid><pubDate>2026-11-24 09:00:00</pubDate>
<description><![CDATA[<p>본문 <script>x()</script>요약</p>]]></description></item>
<item><title>같은 글이 두 번</title><link>https://news.example.kr/opinion/2</link><guid>col-2</guid></item>
<item><title>같은 글이 두 번</title><link>https://news.example.kr/opinion/2</link><guid>col-2</guid></item>
<item><link>https://news.example.kr/opinion/3</link><description>제목이 없는 글의 본문이 제목 대신 쓰인다</description></item>
<item><title>https://www.google.com/url redirect</title><link>https://www.google.com/url?rct=j&amp;url=https://real.example/story&amp;ct=ga</link></item>
</channel></rss>`
	p, err := parseBody([]byte(doc), "", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	seoul, _ := time.LoadLocation("Asia/Seoul")
	fetchedFrom, _ := url.Parse("https://news.example.kr/rss/opinion.xml")
	arts := Normalize(p.feed, digest.Feed{URL: "https://news.example.kr/rss/opinion.xml", Location: seoul}, fetchedFrom)
	if len(arts) != 4 {
		t.Fatalf("%d articles; want 4 (the repeated item once)", len(arts))
	}
	a := arts[0]
	if a.Title != "[칼럼] AI기본법 & 시행령" {
		t.Errorf("title %q", a.Title)
	}
	if a.Link != "https://news.example.kr/opinion/1" {
		t.Errorf("link %q", a.Link)
	}
	if a.FeedName != "칼럼 & 사설" {
		t.Errorf("feed name %q", a.FeedName)
	}
	if a.Published == nil || !a.Published.Equal(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("published %v; a zoneless date is read in the feed's zone", a.Published)
	}
	if a.Summary != "본문 요약" || strings.Contains(string(a.Content), "script") {
		t.Errorf("summary %q content %q", a.Summary, a.Content)
	}
	if arts[2].Title != "제목이 없는 글의 본문이 제목 대신 쓰인다" {
		t.Errorf("untitled item: title %q", arts[2].Title)
	}
	if arts[3].Link != "https://real.example/story" {
		t.Errorf("redirect link not unwrapped: %q", arts[3].Link)
	}
	seen := map[string]bool{}
	for _, a := range arts {
		if a.ID == "" || seen[a.ID] {
			t.Errorf("article IDs must be unique and set: %q", a.ID)
		}
		seen[a.ID] = true
	}
	// The same item read again gets the same ID: the store relies on it.
	again := Normalize(p.feed, digest.Feed{URL: "https://news.example.kr/rss/opinion.xml", Location: seoul}, fetchedFrom)
	if again[0].ID != arts[0].ID {
		t.Errorf("IDs are not stable across runs")
	}
}

func TestRepairs(t *testing.T) {
	cases := []struct {
		name, doc, repair, title string
	}{
		{"bare ampersand", `<rss version="2.0"><channel><title>t</title><item><title>R&D 예산 & 인공지능</title><link>https://x.example/?a=1&b=2</link></item></channel></rss>`, "", "R&D 예산 & 인공지능"},
		{"junk before prolog", "garbage\n<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><item><title>제목</title></item></channel></rss>", "junk before the document", "제목"},
		{"cut off", `<rss version="2.0"><channel><title>t</title><item><title>온전한 글</title></item><item><title>잘린`, "cut off", "온전한 글"},
		{"html entity", `<rss version="2.0"><channel><title>t</title><item><title>A&nbsp;B &mdash; C</title></item></channel></rss>`, "", "A B — C"},
		{"doctype html around a feed", `<!DOCTYPE html><html><body><rss version="2.0"><channel><item><title>속의 피드</title></item></channel></rss></body></html>`, "HTML page", "속의 피드"},
		{"rss in json", `{"rss":{"version":"2.0","channel":{"title":"s","item":[{"title":"JSON 속 RSS","link":"https://s.example/1"}]}}}`, "RSS written as JSON", "JSON 속 RSS"},
		{"unlabelled gzip", string(gzipBytes(`<rss version="2.0"><channel><item><title>압축</title></item></channel></rss>`)), "gzip", "압축"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := parseBody([]byte(c.doc), "", 1<<20)
			if err != nil {
				t.Fatalf("not read: %v", err)
			}
			arts := Normalize(p.feed, digest.Feed{URL: "f"}, nil)
			if len(arts) == 0 || arts[0].Title != c.title {
				t.Fatalf("articles %+v; want first title %q", arts, c.title)
			}
			if c.repair != "" && !strings.Contains(strings.Join(p.repairs, "; "), c.repair) {
				t.Errorf("repairs %q do not mention %q", p.repairs, c.repair)
			}
		})
	}
}

// Relative links resolve against xml:base where the feed sets one, else
// against the URL the feed was fetched from; content links too.
func TestRelativeLinks(t *testing.T) {
	from, _ := url.Parse("https://feeds.example.net/atom.xml")
	cases := []struct{ name, doc, link, inContent string }{
		{"xml:base", `<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://site.example/blog/"><title>x</title>
			<entry xml:base="2026/"><title>a</title><link href="post-1"/><id>tag:a,2026:1</id>
			<content type="html">&lt;a href="img/x.png"&gt;x&lt;/a&gt;</content></entry></feed>`,
			"https://site.example/blog/2026/post-1", `href="https://site.example/blog/2026/img/x.png"`},
		{"fetch URL", `<rss version="2.0"><channel><title>x</title><item><title>a</title><link>/p/1</link>
			<description>&lt;a href="../about"&gt;about&lt;/a&gt;</description></item></channel></rss>`,
			"https://feeds.example.net/p/1", `href="https://feeds.example.net/about"`},
	}
	for _, c := range cases {
		p, err := parseBody([]byte(c.doc), "", 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		a := Normalize(p.feed, digest.Feed{URL: from.String()}, from)[0]
		if a.Link != c.link || !strings.Contains(string(a.Content), c.inContent) {
			t.Errorf("%s: link %q content %q; want %q and %s", c.name, a.Link, a.Content, c.link, c.inContent)
		}
	}
}

// Microsoft's names for Korean's EUC-KR superset are read as EUC-KR, in
// the XML declaration and in the HTTP charset alike.
func TestCP949Aliases(t *testing.T) {
	body := func(decl string) []byte {
		out, err := korean.EUCKR.NewEncoder().Bytes([]byte(decl + `<rss version="2.0"><channel><item><title>똠방각하 인공지능</title></item></channel></rss>`))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, label := range []string{"cp949", "CP949", "ms949", "x-windows-949", "windows-949", "ks_c_5601-1987"} {
		for _, where := range []string{"declaration", "http"} {
			doc, httpCharset := body(`<?xml version="1.0" encoding="`+label+`"?>`), ""
			if where == "http" {
				doc, httpCharset = body(""), label
			}
			p, err := parseBody(doc, httpCharset, 1<<20)
			if err != nil {
				t.Fatalf("%s in %s: %v", label, where, err)
			}
			if got := p.feed.Items[0].Title; got != "똠방각하 인공지능" || p.charset != "euc-kr" || len(p.repairs) != 0 {
				t.Errorf("%s in %s: title %q read as %s, repairs %q", label, where, got, p.charset, p.repairs)
			}
		}
	}
}

// Encodings the statistics alone get wrong: a UTF-8 feed that claims
// Latin-1 and has one stray byte, and a short Korean feed that declares
// nothing. Both must come out as their real text.
func TestCharsetEvidenceOverLabels(t *testing.T) {
	utf8WithStray := []byte(`<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><item>` +
		"<title>Don’t regulate AI — it’s early; 한국 정책</title><description>a stray \xa0 byte</description></item></channel></rss>")
	p, err := parseBody(utf8WithStray, "iso-8859-1", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.feed.Items[0].Title; got != "Don’t regulate AI — it’s early; 한국 정책" || p.charset != "utf-8" {
		t.Errorf("mostly-UTF-8 feed declared Latin-1: %q read as %s", got, p.charset)
	}
	shortKorean, err := korean.EUCKR.NewEncoder().Bytes([]byte(`<rss version="2.0"><channel><item><title>인공지능 기본법 시행</title></item><item><title>AI 규제</title></item></channel></rss>`))
	if err != nil {
		t.Fatal(err)
	}
	p, err = parseBody(shortKorean, "", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if p.charset != "euc-kr" || p.feed.Items[1].Title != "AI 규제" {
		t.Errorf("undeclared short EUC-KR read as %s: %q", p.charset, p.feed.Items[1].Title)
	}
}

func TestOnlyWebLinksSurvive(t *testing.T) {
	doc := `<rss version="2.0"><channel><title>t</title><link>https://site.example/</link>
		<item><title>one</title><link>javascript:alert(document.cookie)</link></item>
		<item><title>two</title><link>data:text/html,hi</link></item>
		<item><title>three</title><link>/ok</link><description>&lt;a href="/rel"&gt;x&lt;/a&gt;</description></item></channel></rss>`
	p, err := parseBody([]byte(doc), "", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	arts := Normalize(p.feed, digest.Feed{URL: "f"}, nil)
	if arts[0].Link != "" || arts[1].Link != "" || arts[2].Link != "https://site.example/ok" {
		t.Errorf("links %q %q %q", arts[0].Link, arts[1].Link, arts[2].Link)
	}
	if c := string(arts[2].Content); c != `<a href="https://site.example/rel">x</a>` {
		t.Errorf("content %q: resolved, and no rel=nofollow added", c)
	}
}

func TestAmbiguousAndImplausibleDates(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	chicago, _ := time.LoadLocation("America/Chicago")
	if got, _ := parseDate("Tue, 24 Nov 2026 09:00:00 CST", shanghai); !got.Equal(time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("CST in a +8 feed: %v", got)
	}
	if got, _ := parseDate("Tue, 24 Nov 2026 09:00:00 CST", chicago); !got.Equal(time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("CST in a US feed: %v", got)
	}
	for _, raw := range []string{"9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z", "Mon, 01 Jan 1900 00:00:00 GMT"} {
		if got, ok := parseDate(raw, time.UTC); ok {
			t.Errorf("parseDate(%q) = %v; a placeholder year is no date", raw, got)
		}
	}
}

// truncateRunes reads only the first n runes; it must cut exactly where
// cutting the whole rune slice does, over Hangul, emoji, spaces of every
// kind at and around the cut, and strings of about n runes.
func TestTruncateRunesIsTheRuneSliceCut(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 7))
	atoms := []string{"가", "a", " ", "  ", "\u00a0", "\u3000", "🤖", "é", ".", "\n", "word", "\xff"}
	for round := range 20000 {
		var b strings.Builder
		for range rng.IntN(60) {
			b.WriteString(atoms[rng.IntN(len(atoms))])
		}
		s, n := b.String(), 1+rng.IntN(40)
		if got, want := truncateRunes(s, n), truncateRuneSlice(s, n); got != want {
			t.Fatalf("round %d: truncateRunes(%q, %d) = %q, the rune slice cut gives %q", round, s, n, got, want)
		}
	}
}

// gofeed would parse every RSS item's HTML as a whole document to find a
// first image for Item.Image, which gull never reads; the parser is made
// without that search. The image stays in the sanitized content.
func TestParseSkipsTheImageSearch(t *testing.T) {
	doc := []byte(`<rss version="2.0"><channel><title>사진</title><description>&lt;img src="https://example.kr/c.png"&gt;</description>
		<item><title>그림 있는 글</title><link>https://example.kr/1</link>
		<description>&lt;p&gt;본문 &lt;img src="https://example.kr/a.png" alt="그림"&gt;&lt;/p&gt;</description></item>
		</channel></rss>`)
	p, err := parseBody(doc, "", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if p.feed.Image != nil || p.feed.Items[0].Image != nil {
		t.Errorf("the feed's HTML was searched for images: feed %+v, item %+v", p.feed.Image, p.feed.Items[0].Image)
	}
	arts := Normalize(p.feed, digest.Feed{URL: "https://example.kr/feed"}, nil)
	if len(arts) != 1 || !strings.Contains(string(arts[0].Content), `src="https://example.kr/a.png"`) {
		t.Errorf("the item's image left its content: %+v", arts)
	}
}

package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"gull/digest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var seoul = mustZone("Asia/Seoul")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

var fixtureThemes = []digest.Theme{
	{ID: "compute", Name: "Compute & Chips · 반도체와 컴퓨팅", Keywords: []string{"반도체", "GPU", "HBM", "semiconductor", "chips"}},
	{ID: "regulation", Name: "Regulation & Law · 규제와 법", Keywords: []string{"AI기본법", "시행령", "AI Act", "code of practice", "copyright"}},
	{ID: "strategy", Name: "National Strategy · 국가 전략", Keywords: []string{"소버린", "국가 AI", "sovereign"}},
}

func themeNames() map[string]string {
	m := map[string]string{}
	for _, t := range fixtureThemes {
		m[t.ID] = t.Name
	}
	return m
}

func at(day, hour int) *time.Time {
	t := time.Date(2026, 11, day, hour, 0, 0, 0, seoul)
	return &t
}

// fixtureIssue is a fixed week: Korean and English columns in three
// themes and the catch-all, one filtered out, one undated, one whose title
// tries to break out of its HTML and header contexts.
func fixtureIssue() digest.Issue {
	feeds := map[string]digest.Feed{
		"https://columns.example.kr/rss":  {URL: "https://columns.example.kr/rss"},
		"https://policy.example.org/atom": {URL: "https://policy.example.org/atom", Theme: "regulation"},
		"https://news.example.kr/opinion": {URL: "https://news.example.kr/opinion", Filter: true},
	}
	long := "<p>" + strings.Repeat("정부는 반도체 클러스터의 전력과 용수를 국가가 책임지겠다고 밝혔다. ", 40) + "</p>"
	arts := []digest.Article{
		{ID: "k1", FeedURL: "https://columns.example.kr/rss", FeedName: "서울 정책 칼럼", Author: "김하늘",
			Title: "엔비디아 GPU 26만 장, 한국에 무엇을 남기나", Link: "https://columns.example.kr/2026/11/gpu",
			Summary: "GPU 26만 장 공급 약속은 반갑다. 그러나 전력망과 인력이 뒤따르지 않으면 숫자에 그친다. 소버린 AI의 조건을 짚는다.",
			Content: template.HTML(long), Published: at(24, 9), Themes: nil},
		{ID: "k2", FeedURL: "https://columns.example.kr/rss", FeedName: "서울 정책 칼럼",
			Title: "AI기본법 시행령, 고영향 AI의 기준은 어디에", Link: "https://columns.example.kr/2026/11/act",
			Summary: "시행령 초안이 공개됐다. 고영향 AI의 범위를 두고 업계와 시민사회의 의견이 갈린다.", Published: at(26, 14)},
		{ID: "e1", FeedURL: "https://policy.example.org/atom", FeedName: "Global AI Policy Notes", Author: "Jane Park",
			Title: "The EU code of practice, one year on", Link: "https://policy.example.org/notes/cop",
			Summary:   "The U.S. and the EU took different paths. Compliance costs fell by 3.5 percent, the Commission says. What it means for Korean exporters.",
			Published: at(25, 18)},
		{ID: "e2", FeedURL: "https://policy.example.org/atom", FeedName: "Global AI Policy Notes",
			Title: "Newsletter #48: reading list", Link: "https://policy.example.org/notes/48", Published: at(27, 7)},
		{ID: "e3", FeedURL: "https://policy.example.org/atom", FeedName: "Global AI Policy Notes",
			Title: `HBM supply <script>alert(1)</script> "chips" & you`, Link: "https://policy.example.org/notes/hbm?a=1&b=2",
			Summary: "Memory is the new bottleneck.\r\nBcc: victim@example.org", Published: at(28, 22)},
		{ID: "k3", FeedURL: "https://news.example.kr/opinion", FeedName: "오피니언",
			Title: "김장철 배추값", Link: "https://news.example.kr/o/1", Published: at(25, 6)},
		{ID: "k4", FeedURL: "https://news.example.kr/opinion", FeedName: "오피니언",
			// No link: the feed gave a non-web one, which collect dropped.
			Title: "인공지능 교과서, 교실의 목소리", Link: "",
			FirstSeen: time.Date(2026, 11, 29, 20, 0, 0, 0, seoul)},
	}
	// Each column's language, as collect detects it (k: Korean, e: English).
	for i := range arts {
		arts[i].Lang = map[byte]string{'k': "ko", 'e': "en"}[arts[i].ID[0]]
	}
	g := digest.NewGrouper(fixtureThemes, digest.Theme{ID: "other", Name: "More this week · 더 읽을거리"}, []string{"인공지능"})
	sections, dropped := g.Group(arts, feeds)
	period := digest.WeekEnding(time.Date(2026, 11, 30, 8, 0, 0, 0, seoul), 7*24*time.Hour, seoul)
	return digest.Issue{
		ID: digest.IssueID(period), Number: 12, Title: "AI Policy Weekly", Period: period,
		Sections: sections, Dropped: dropped,
		Feeds: []digest.FeedReport{
			{URL: "https://columns.example.kr/rss", Name: "서울 정책 칼럼", Status: digest.FeedOK, Items: 2, InWindow: 2},
			{URL: "https://policy.example.org/atom", Name: "Global AI Policy Notes", Status: digest.FeedNotModified, Items: 3, InWindow: 3},
			{URL: "https://news.example.kr/opinion", Name: "오피니언", Status: digest.FeedOK, Items: 2, InWindow: 2, Dropped: 1},
		},
	}
}

func newRenderer(t testing.TB, lang, dir string) *Renderer {
	t.Helper()
	r, err := New(Options{Dir: dir, Lang: lang, Location: seoul, BaseURL: "https://gull.example.org/", ThemeNames: themeNames()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var reader = Recipient{
	Email: "reader@example.org", Name: "Reader",
	UnsubscribeURL: "https://gull.example.org/unsubscribe?t=TOKEN",
	PreferencesURL: "https://gull.example.org/preferences?t=TOKEN",
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./digest/render -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; look at the change and run go test ./digest/render -update if it is right.\n--- got ---\n%s", name, got)
	}
}

func TestGolden(t *testing.T) {
	is := fixtureIssue()
	var j bytes.Buffer
	enc := json.NewEncoder(&j)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(is); err != nil {
		t.Fatal(err)
	}
	golden(t, "issue.json", j.Bytes())
	for _, lang := range []string{"en", "ko"} {
		m, err := newRenderer(t, lang, "").Render(is, reader)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, lang+".subject.txt", []byte(m.Subject+"\n"))
		golden(t, lang+".txt", []byte(m.Text))
		golden(t, lang+".html", []byte(m.HTML))
	}
}

// The subject names the newsletter, the issue's number and the lead
// article, never the ISO week, and fits 78 columns whole (a Hangul
// syllable counting two), a test's marker included.
func TestSubject(t *testing.T) {
	en, ko := newRenderer(t, "en", ""), newRenderer(t, "ko", "")
	test := reader
	test.Test = true
	subject := func(r *Renderer, is digest.Issue, to Recipient) string {
		t.Helper()
		m, err := r.Render(is, to)
		if err != nil {
			t.Fatal(err)
		}
		if w := DisplayWidth(m.Subject); w > 78 || !utf8.ValidString(m.Subject) || strings.Contains(m.Subject, "W48") {
			t.Errorf("subject %q: %d columns (max 78), or invalid, or names the ISO week", m.Subject, w)
		}
		return m.Subject
	}
	is := fixtureIssue()
	for _, c := range []struct {
		r    *Renderer
		is   func(*digest.Issue)
		to   Recipient
		want string
	}{
		// The lead is the hostile title: 78 columns in all, which fits;
		// a test's marker makes its last words give way.
		{en, nil, reader, `AI Policy Weekly · No. 12 · HBM supply <script>alert(1)</script> "chips" & you`},
		{ko, nil, reader, `AI Policy Weekly · 제12호 · HBM supply <script>alert(1)</script> "chips" & you`},
		{ko, nil, test, `[테스트] AI Policy Weekly · 제12호 · HBM supply <script>alert(1)</script>…`},
		{en, nil, test, `[TEST] AI Policy Weekly · No. 12 · HBM supply <script>alert(1)</script>…`},
		// The reader's own copy leads with their first article.
		{en, nil, Recipient{Email: "law@example.org", Themes: []string{"regulation"}}, "AI Policy Weekly · No. 12 · Newsletter #48: reading list"},
		// A Korean title is cut at the end of a word (eojeol), never
		// inside a syllable, and Hangul counts two columns.
		{ko, func(is *digest.Issue) {
			is.Title = "AI 정책 주간"
			is.Sections[0].Articles[0].Title = "엔비디아 GPU 26만 장 공급 약속, 전력망과 인력이 뒤따르지 않으면 숫자에 그친다"
		}, reader, "AI 정책 주간 · 제12호 · 엔비디아 GPU 26만 장 공급 약속, 전력망과 인력이…"},
		// Unspaced text is cut between whole syllables.
		{ko, func(is *digest.Issue) {
			is.Title = "AI 정책 주간"
			is.Sections[0].Articles[0].Title = strings.Repeat("가나다라마바사", 10)
		}, reader, "AI 정책 주간 · 제12호 · 가나다라마바사가나다라마바사가나다라마바사가나다라마…"},
		// An issue built without a store has no number; a quiet week
		// sent all the same has no lead.
		{en, func(is *digest.Issue) { is.Number = 0 }, reader, "AI Policy Weekly · HBM supply <script>alert(1)</script> \"chips\" & you"},
		{en, func(is *digest.Issue) { is.Sections = nil }, reader, "AI Policy Weekly · No. 12"},
	} {
		is := fixtureIssue()
		if c.is != nil {
			c.is(&is)
		}
		if got := subject(c.r, is, c.to); got != c.want {
			t.Errorf("subject\n got %q\nwant %q", got, c.want)
		}
	}
	// A title cannot put a line break into the header.
	is.Title = "Weekly\r\nBcc: victim@example.org"
	if got := subject(en, is, reader); strings.ContainsAny(got, "\r\n") {
		t.Errorf("subject carries a line break: %q", got)
	}
}

// The masthead and the plain text's head say the number and the dates
// with the year, not the ISO week (which stays in the links).
func TestMastheadNumberAndDates(t *testing.T) {
	for _, c := range []struct {
		lang, title, dateline, textHead string
	}{
		{"en", "<title>AI Policy Weekly · No. 12</title>", "No. 12 · 23–29 Nov 2026 · 6 columns", "AI Policy Weekly · No. 12\n23–29 Nov 2026 · 6 columns\n"},
		{"ko", "<title>AI Policy Weekly · 제12호</title>", "제12호 · 2026년 11월 23일–29일 · 6편", "AI Policy Weekly · 제12호\n2026년 11월 23일–29일 · 6편\n"},
	} {
		m, err := newRenderer(t, c.lang, "").Render(fixtureIssue(), reader)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.HTML, c.title) {
			t.Errorf("%s: HTML lacks %q", c.lang, c.title)
		}
		if got := regexp.MustCompile(`<p class="dateline"[^>]*>([^<]*)</p>`).FindStringSubmatch(m.HTML); got == nil || got[1] != c.dateline {
			t.Errorf("%s: dateline %q, want %q", c.lang, got, c.dateline)
		}
		if !strings.HasPrefix(m.Text, c.textHead) {
			t.Errorf("%s: text starts\n%s\nwant\n%s", c.lang, m.Text[:min(len(m.Text), 120)], c.textHead)
		}
		for _, part := range []string{m.HTML, m.Text} {
			if n, links := strings.Count(part, "2026-W48"), strings.Count(part, "/issues/2026-W48"); n != links {
				t.Errorf("%s: the ISO week shows outside links (%d times, %d in links)", c.lang, n, links)
			}
		}
	}
}

// An article's other themes can be told apart though their names hold
// " · ": a chip each in HTML, a line each in the text.
func TestAlsoThemesApart(t *testing.T) {
	is := fixtureIssue()
	a := &is.Sections[0].Articles[1] // 엔비디아 GPU, in compute
	a.Themes = []string{"compute", "regulation", "strategy"}
	m, err := newRenderer(t, "en", "").Render(is, reader)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(m.HTML))
	if err != nil {
		t.Fatal(err)
	}
	var chips []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && slices.Contains(strings.Fields(attr(n, "class")), "chip") {
			chips = append(chips, textContent(n))
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if want := []string{"Regulation & Law · 규제와 법", "National Strategy · 국가 전략"}; !slices.Equal(chips, want) {
		t.Errorf("HTML chips %q, want one per theme %q", chips, want)
	}
	if want := "    Also in:\n    - Regulation & Law · 규제와 법\n    - National Strategy · 국가 전략\n"; !strings.Contains(m.Text, want) {
		t.Errorf("text lacks\n%s\nin\n%s", want, m.Text)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textContent(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textContent(c))
	}
	return b.String()
}

// The plain text shows what the HTML shows (the author, the other
// themes), and the lines under [10] and up line up with their title.
func TestPlainTextShowsWhatHTMLShows(t *testing.T) {
	m, err := newRenderer(t, "en", "").Render(fixtureIssue(), reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"[2] 엔비디아 GPU 26만 장, 한국에 무엇을 남기나\n    서울 정책 칼럼 · 김하늘 · Tue 24 Nov 2026 · 2 min read\n",
		"[5] The EU code of practice, one year on\n    Global AI Policy Notes · Jane Park · Wed 25 Nov 2026\n",
		"    https://columns.example.kr/2026/11/gpu\n    Also in:\n    - National Strategy · 국가 전략\n",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks\n%s\nin\n%s", want, m.Text)
		}
	}

	is, _ := benchIssue()
	m, err = newRenderer(t, "ko", "").Render(is, Recipient{Email: "a@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	numbered := regexp.MustCompile(`^\[(\d+)\] `)
	pad, checked := "", 0
	for i, line := range strings.Split(m.Text, "\n") {
		switch {
		case numbered.MatchString(line):
			pad = strings.Repeat(" ", len(numbered.FindString(line)))
		case line == "" || strings.HasPrefix(line, "=="):
			pad = ""
		case pad != "":
			if !strings.HasPrefix(line, pad) || line[len(pad)] == ' ' {
				t.Errorf("line %d is not under its title (%d spaces): %q", i+1, len(pad), line)
			}
			checked++
		}
	}
	if checked < 100 || !strings.Contains(m.Text, "\n[60] ") {
		t.Errorf("checked %d lines of %d articles", checked, is.Count())
	}
}

var (
	eventAttr  = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	jsURL      = regexp.MustCompile(`(?i)javascript:`)
	scriptTag  = regexp.MustCompile(`(?i)<script`)
	anyHrefSrc = regexp.MustCompile(`(?i)\s(?:href|src)="([^"]*)"`)
)

// checkHTML is what every HTML part must be, whatever the data: UTF-8, no
// script, no event handler, no javascript: URL, every link absolute, an
// in-page anchor or a mailto: (the editor's note may have one), every image with alt text, the language set.
func checkHTML(t *testing.T, name, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: not valid UTF-8", name)
	}
	for _, re := range []*regexp.Regexp{scriptTag, eventAttr, jsURL} {
		if loc := re.FindStringIndex(s); loc != nil {
			t.Errorf("%s: unsafe %q at %d: …%s…", name, s[loc[0]:loc[1]], loc[0], s[max(0, loc[0]-60):min(len(s), loc[1]+60)])
		}
	}
	for _, m := range anyHrefSrc.FindAllStringSubmatch(s, -1) {
		u := html.UnescapeString(m[1])
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "#") && !strings.HasPrefix(u, "mailto:") {
			t.Errorf("%s: link %q is not absolute", name, u)
		}
	}
	if bad := unsafeMarkup(s); bad != "" {
		t.Errorf("%s: %s", name, bad)
	}
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
			}
			switch n.Data {
			case "html":
				if attrs["lang"] == "" {
					t.Errorf("%s: <html> has no lang", name)
				}
			case "img":
				if _, ok := attrs["alt"]; !ok {
					t.Errorf("%s: <img src=%q> has no alt text", name, attrs["src"])
				}
			case "iframe", "object", "embed", "form":
				t.Errorf("%s: <%s> in an email", name, n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

func TestHTMLIsSafeAndComplete(t *testing.T) {
	is := fixtureIssue()
	for _, lang := range []string{"en", "ko"} {
		r := newRenderer(t, lang, "")
		for _, to := range []Recipient{reader, {Email: "x@example.org", Themes: []string{"regulation"}}} {
			m, err := r.Render(is, to)
			if err != nil {
				t.Fatal(err)
			}
			name := lang + "/" + strings.Join(to.Themes, ",")
			checkHTML(t, name, m.HTML)
			for _, want := range []string{
				`lang="` + lang + `"`, "max-width:600px", `name="color-scheme"`, `class="preheader"`,
				"Apple SD Gothic Neo", "https://gull.example.org/issues/2026-W48",
				// Outlook's ghost table and font, which html/template would strip.
				`<!--[if mso]><table role="presentation" width="600"`, `"Malgun Gothic", "맑은 고딕", Arial`,
			} {
				if !strings.Contains(m.HTML, want) {
					t.Errorf("%s: HTML lacks %q", name, want)
				}
			}
			// Inlined: the article title carries its style on the element.
			if !regexp.MustCompile(`<h3 class="article-title" style="[^"]*font-size:18px`).MatchString(m.HTML) {
				t.Errorf("%s: CSS not inlined on the article titles", name)
			}
			if strings.Contains(m.HTML, "<script>alert") || !strings.Contains(m.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") && to.Themes == nil {
				t.Errorf("%s: the hostile title is not escaped as text", name)
			}
		}
	}
}

func TestPersonalized(t *testing.T) {
	r := newRenderer(t, "en", "")
	is := fixtureIssue()
	m, err := r.Render(is, Recipient{Email: "law@example.org", Themes: []string{"regulation"}, UnsubscribeURL: "https://gull.example.org/unsubscribe?t=LAW"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AI기본법 시행령", "The EU code of practice", "Newsletter #48", "https://gull.example.org/unsubscribe?t=LAW"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("regulation reader's text lacks %q", want)
		}
	}
	for _, not := range []string{"엔비디아 GPU", "인공지능 교과서"} {
		if strings.Contains(m.Text, not) {
			t.Errorf("regulation reader's text has %q from another theme", not)
		}
	}
	if m.Subject != "AI Policy Weekly · No. 12 · Newsletter #48: reading list" {
		t.Errorf("subject leads with the reader's copy: %q", m.Subject)
	}
	if _, err := r.Render(is, Recipient{Email: "s@example.org", Themes: []string{"safety"}}); !errors.Is(err, ErrNothingToSend) {
		t.Errorf("a reader whose themes have nothing: %v, want ErrNothingToSend", err)
	}
}

func TestPlainTextReadsOnItsOwn(t *testing.T) {
	m, err := newRenderer(t, "ko", "").Render(fixtureIssue(), reader)
	if err != nil {
		t.Fatal(err)
	}
	// Markup of the HTML part must not leak in (the hostile title's
	// <script> is its text and rightly stays).
	if loc := regexp.MustCompile(`<(p|a|div|table|td|br|h[1-6])[\s>/]`).FindStringIndex(m.Text); loc != nil {
		t.Errorf("plain text has an HTML tag %q:\n%s", m.Text[loc[0]:loc[1]], m.Text)
	}
	for _, want := range []string{"== Compute & Chips · 반도체와 컴퓨팅 ==", "[2] 엔비디아 GPU 26만 장", "    https://columns.example.kr/2026/11/gpu", "2026년 11월 24일 (화)", "구독 해지:\nhttps://gull.example.org/unsubscribe?t=TOKEN"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("plain text lacks %q:\n%s", want, m.Text)
		}
	}
	for i, line := range strings.Split(m.Text, "\n") {
		if w := DisplayWidth(line); w > 76 && !strings.Contains(line, "://") {
			t.Errorf("line %d is %d columns wide: %q", i+1, w, line)
		}
	}
}

func TestOverrideAndBrokenTemplates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// One file overridden; the others stay embedded.
	write("subject.tmpl", `{{ .Title }} — {{ .CountText }} this week`)
	m, err := newRenderer(t, "en", dir).Render(fixtureIssue(), reader)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "AI Policy Weekly — 6 columns this week" || !strings.Contains(m.HTML, "엔비디아") {
		t.Errorf("override: subject %q", m.Subject)
	}

	for _, c := range []struct{ name, text, want string }{
		{"digest.html.tmpl", "<p>\n{{ .Title }\n</p>", "digest.html.tmpl:2: "},
		{"digest.txt.tmpl", "line one\n{{ .Titel }}\n", "digest.txt.tmpl:2:3: executing"},
		{"subject.tmpl", "{{ nosuchfunc .Title }}", `subject.tmpl:1: function "nosuchfunc" not defined`},
		// A field only a test send reaches still fails at start.
		{"subject.tmpl", "{{ if .Test }}{{ .Bogus }}{{ end }}", `subject.tmpl:1:17: executing`},
		{"digest.txt.tmpl", "{{ range .Sections }}{{ .Nope }}{{ else }}{{ .Empty }}{{ end }}", `digest.txt.tmpl:1:`},
		{"article.html.tmpl", `{{ define "article" }}<a href="{{ .A.Link }}>{{ end }}`, "article.html.tmpl"},
	} {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, c.name), []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := New(Options{Dir: d, Lang: "en", Location: seoul})
		if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), filepath.Join(d, c.name)) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("broken %s: error %v; want ErrTemplate naming %s and %q", c.name, err, filepath.Join(d, c.name), c.want)
		}
	}
	if _, err := New(Options{Dir: filepath.Join(dir, "missing")}); !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing folder: %v", err)
	}
}

// Templates are tried at start on a sample issue like a real week's:
// sections to index, articles with and without each optional field. A
// template that works on every real week starts; one that fails on some
// real article fails at start, and the error says the sample was used.
func TestTemplatesTriedOnSampleIssue(t *testing.T) {
	try := func(name, text string, opts Options) error {
		t.Helper()
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		opts.Dir, opts.Lang, opts.Location = d, "en", seoul
		_, err := New(opts)
		return err
	}
	// Real issues have sections: indexing the first is fine.
	first := "{{ (index .Sections 0).Articles | len }} in {{ (index .Sections 0).Name }}\n"
	if err := try("digest.txt.tmpl", first, Options{}); err != nil {
		t.Errorf("a template that indexes the first section fails at start: %v", err)
	}
	// Unless quiet weeks are mailed: then it would fail on Monday.
	err := try("digest.txt.tmpl", first, Options{SendQuiet: true})
	if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "digest.txt.tmpl:1:") || !strings.Contains(err.Error(), "(tried on gull's sample of a quiet week, which quiet_week: send mails)") {
		t.Errorf("quiet weeks mailed: %v", err)
	}
	for _, c := range []struct{ name, text, what string }{
		// Each fails only on articles the old sample did not have.
		{"article.html.tmpl", `{{ define "article" }}{{ range .A.Also }}{{ .Nope }}{{ end }}{{ end }}`, "an article with other themes"},
		{"article.txt.tmpl", `{{ define "article.txt" }}{{ range .A.Coverage }}{{ if not .Link }}{{ .Nope }}{{ end }}{{ end }}{{ end }}`, "a story's article without a link"},
		{"article.html.tmpl", `{{ define "article" }}{{ if not .A.Link }}{{ .A.Nope }}{{ end }}{{ end }}`, "an article without a link"},
		{"article.txt.tmpl", `{{ define "article.txt" }}{{ if not .A.Feed }}{{ .A.Nope }}{{ end }}{{ end }}`, "an article without a feed name"},
		{"article.txt.tmpl", `{{ define "article.txt" }}{{ if ge .A.N 10 }}{{ .A.Nope }}{{ end }}{{ end }}`, "a tenth article"},
		{"digest.txt.tmpl", `{{ if gt (len .Sections) 2 }}{{ .Nope }}{{ end }}`, "three sections"},
		{"article.html.tmpl", `{{ define "article" }}{{ if .A.Pinned }}{{ .A.Nope }}{{ end }}{{ end }}`, "a pinned article"},
		{"article.txt.tmpl", `{{ define "article.txt" }}{{ if .A.Blurb }}{{ .A.Nope }}{{ end }}{{ end }}`, "an editor's blurb"},
		{"digest.txt.tmpl", `{{ range .NoteText }}{{ .Nope }}{{ end }}`, "an editor's note"},
	} {
		err := try(c.name, c.text, Options{})
		if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), c.name+":1:") || !strings.Contains(err.Error(), "(tried on gull's sample issue") {
			t.Errorf("%s that fails on %s: %v", c.name, c.what, err)
		}
	}
}

// Gmail clips a message whose HTML passes 102 KB behind a "view entire
// message" link, hiding the footer with the unsubscribe link. A full week
// of 60 articles must stay under it.
func TestFullWeekFitsGmail(t *testing.T) {
	is, _ := benchIssue()
	m, err := newRenderer(t, "ko", "").Render(is, Recipient{Email: "a@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if is.Count() != 60 || len(m.HTML) >= 102*1024 {
		t.Errorf("%d articles make %d bytes of HTML; Gmail clips at %d", is.Count(), len(m.HTML), 102*1024)
	}
	t.Logf("%d articles: %d bytes of HTML, %d of text", is.Count(), len(m.HTML), len(m.Text))
	checkHTML(t, "60 articles", m.HTML)
}

func TestPeriod(t *testing.T) {
	mon8 := time.Date(2026, 11, 30, 8, 0, 0, 0, seoul)
	for _, c := range []struct {
		end    time.Time
		window time.Duration
		want   string
		ko     string
	}{
		// Sent Monday morning: through Sunday.
		{mon8, 7 * 24 * time.Hour, "23–29 Nov 2026", "2026년 11월 23일–29일"},
		{time.Date(2026, 11, 30, 0, 0, 0, 0, seoul), 7 * 24 * time.Hour, "23–29 Nov 2026", "2026년 11월 23일–29일"},
		{time.Date(2026, 11, 30, 18, 0, 0, 0, seoul), 7 * 24 * time.Hour, "23–30 Nov 2026", "2026년 11월 23일–30일"},
		{time.Date(2026, 11, 30, 0, 0, 0, 0, seoul), 24 * time.Hour, "29 Nov 2026", "2026년 11월 29일"},
		{mon8, time.Hour, "30 Nov 2026", "2026년 11월 30일"},
		{time.Date(2026, 12, 7, 8, 0, 0, 0, seoul), 7 * 24 * time.Hour, "30 Nov – 6 Dec 2026", "2026년 11월 30일 – 12월 6일"},
		{time.Date(2027, 1, 4, 8, 0, 0, 0, seoul), 7 * 24 * time.Hour, "28 Dec 2026 – 3 Jan 2027", "2026년 12월 28일 – 2027년 1월 3일"},
	} {
		p := digest.WeekEnding(c.end, c.window, seoul)
		if got := formatPeriod(p, "en", seoul); got != c.want {
			t.Errorf("period of %v ending %v: %q, want %q", c.window, c.end, got, c.want)
		}
		if got := formatPeriod(p, "ko-KR", seoul); got != c.ko {
			t.Errorf("Korean period of %v ending %v: %q, want %q", c.window, c.end, got, c.ko)
		}
	}
}

// unsafeMarkup parses s as a browser would and names the first thing in
// it that could run code: a script-like element, an event handler
// attribute, or a script URL. Text that merely mentions "<script" (a
// feed title, escaped) is not markup and passes.
func unsafeMarkup(s string) string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return err.Error()
	}
	var found string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if found != "" {
			return
		}
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "iframe", "object", "embed", "form", "base", "meta":
				if n.Data != "meta" || hasAttr(n, "http-equiv") {
					found = "element <" + n.Data + ">"
				}
			}
			for _, a := range n.Attr {
				v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
				switch {
				case strings.HasPrefix(a.Key, "on"):
					found = "event handler " + a.Key + "=" + a.Val
				case (a.Key == "href" || a.Key == "src" || a.Key == "action") &&
					(strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:")):
					found = "script URL " + a.Key + "=" + a.Val
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return found
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// TestWebPage: the archive's copy of an issue is the whole issue for
// nobody: no one's address or links, the sign-up instead, and the same
// safety as the mail.
func TestWebPage(t *testing.T) {
	for _, lang := range []string{"en", "ko"} {
		r, err := New(Options{Lang: lang, BaseURL: "https://news.example.org"})
		if err != nil {
			t.Fatal(err)
		}
		is := sampleIssue(time.UTC)
		body, err := r.WebPage(is)
		if err != nil {
			t.Fatal(err)
		}
		page := string(body)
		mail, err := r.Render(is, Recipient{Email: "reader@example.org", UnsubscribeURL: "https://news.example.org/unsubscribe?t=TOKEN"})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`href="https://news.example.org/subscribe"`, `href="https://news.example.org/"`, r.labels["subscribe"], r.labels["webwhy"]} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the web copy lacks %q", lang, want)
			}
		}
		for _, not := range []string{"/unsubscribe", "/preferences", r.labels["why"], r.labels["view"], "reader@example.org"} {
			if strings.Contains(page, not) {
				t.Errorf("%s: the web copy has %q", lang, not)
			}
		}
		for _, want := range []string{"/unsubscribe?t=TOKEN", r.labels["why"], r.labels["view"]} {
			if !strings.Contains(mail.HTML, want) {
				t.Errorf("%s: the mail lost %q", lang, want)
			}
		}
		// Every article of the issue is on the page.
		for _, s := range is.Sections {
			for _, a := range s.Articles {
				if !strings.Contains(page, htmlEscaped(a.Title)) {
					t.Errorf("%s: the web copy lacks %q", lang, a.Title)
				}
			}
		}
	}
}

// htmlEscaped is s as html/template writes it in text.
func htmlEscaped(s string) string { return template.HTMLEscapeString(s) }

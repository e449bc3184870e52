package render

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"gull/digest"
)

// editedIssue is the fixture week after an editor's pass: the hostile
// HBM column hidden, the EU column (last of its section) pinned, a blurb
// in place of a Korean column's summary, and a note in both languages
// with a link, emphasis and strong text.
func editedIssue() digest.Issue {
	is := fixtureIssue()
	is.Note = "이번 호는 **AI기본법 시행령**을 중심으로 엮었습니다. *고영향 AI*의 기준이 궁금하다면\n" +
		"[과기정통부 보도자료](https://www.msit.go.kr/bbs/view.do?sCode=user&nttSeqNo=1)를 먼저 읽어 보세요.\n\n" +
		"This week leads with the *EU code of practice*, one year on. Write to the editors at " +
		"[the desk](mailto:desk@example.org) with what we missed."
	edit(&is, "e3", func(a *digest.Article) { a.Hidden = true })
	edit(&is, "e1", func(a *digest.Article) { a.Pinned = true })
	edit(&is, "k2", func(a *digest.Article) {
		a.Blurb = "편집자 요약: 시행령 초안은 고영향 AI를 열 개 분야로 나누고, 사업자에게 위험 관리와 설명 의무를 지웁니다. " +
			"업계는 기준이 모호하다고, 시민사회는 범위가 좁다고 말합니다. 의견 수렴은 12월 15일까지이고, " +
			"정부는 내년 1월 시행을 목표로 합니다. 무엇이 바뀌는지 한 장으로 정리했습니다."
	})
	return is
}

// edit applies f to the article id of is, which must exist.
func edit(is *digest.Issue, id string, f func(*digest.Article)) {
	for s := range is.Sections {
		for i := range is.Sections[s].Articles {
			if is.Sections[s].Articles[i].ID == id {
				f(&is.Sections[s].Articles[i])
				return
			}
		}
	}
	panic("no article " + id)
}

func TestGoldenEdited(t *testing.T) {
	is := editedIssue()
	for _, lang := range []string{"en", "ko"} {
		m, err := newRenderer(t, lang, "").Render(is, reader)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, lang+".edited.subject.txt", []byte(m.Subject+"\n"))
		golden(t, lang+".edited.txt", []byte(m.Text))
		golden(t, lang+".edited.html", []byte(m.HTML))
		checkHTML(t, lang+" edited", m.HTML)
	}
}

// What an editor checks in the mail: the note on top of both parts, the
// pinned column first in its section and in the subject, the blurb
// instead of the feed's summary, and no trace of the hidden column.
func TestEditsReachTheReader(t *testing.T) {
	is := editedIssue()
	r := newRenderer(t, "en", "")
	m, err := r.Render(is, reader)
	if err != nil {
		t.Fatal(err)
	}
	page, err := r.WebPage(is)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"HTML": m.HTML, "text": m.Text, "web copy": string(page), "subject": m.Subject} {
		for _, hidden := range []string{"HBM supply", "Memory is the new bottleneck", "notes/hbm"} {
			if strings.Contains(s, hidden) {
				t.Errorf("%s shows the hidden article (%q)", name, hidden)
			}
		}
	}
	if want := "AI Policy Weekly · No. 12 · The EU code of practice, one year on"; m.Subject != want {
		t.Errorf("subject %q, want the pinned article as the lead: %q", m.Subject, want)
	}
	// The masthead counts what readers get.
	if !strings.Contains(m.Text, "23–29 Nov 2026 · 5 columns\n") {
		t.Errorf("the count includes the hidden article:\n%s", m.Text)
	}
	// The note: after the intro, before the contents; links as text <url>.
	wantNote := "This week's AI-policy columns, grouped by theme.\n\n" +
		"이번 호는 *AI기본법 시행령*을 중심으로 엮었습니다. *고영향 AI*의 기준이\n" +
		"궁금하다면 과기정통부 보도자료\n" +
		"<https://www.msit.go.kr/bbs/view.do?sCode=user&nttSeqNo=1>를 먼저 읽어\n" +
		"보세요.\n\n" +
		"This week leads with the *EU code of practice*, one year on. Write to\n" +
		"the editors at the desk <mailto:desk@example.org> with what we missed.\n\nIn this issue"
	if !strings.Contains(m.Text, wantNote) {
		t.Errorf("text part lacks the note\n%s\nin\n%s", wantNote, m.Text)
	}
	for _, want := range []string{
		`<strong>AI기본법 시행령</strong>`, `<em>고영향 AI</em>`,
		`href="https://www.msit.go.kr/bbs/view.do?sCode=user&amp;nttSeqNo=1"`, `href="mailto:desk@example.org"`,
		`>과기정통부 보도자료</a>`, `>the desk</a>`,
	} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if i, j := strings.Index(m.HTML, "AI기본법 시행령</strong>"), strings.Index(m.HTML, `class="toc"`); i < 0 || j < 0 || i > j {
		t.Errorf("the note is not above the contents (note at %d, contents at %d)", i, j)
	}
	// The pinned column leads its section, marked, in both parts.
	regulation := section(t, m.Text, "Regulation & Law")
	if !strings.HasPrefix(regulation, "[2] The EU code of practice, one year on\n    Editor's pick · Global AI Policy Notes") {
		t.Errorf("the pinned article does not lead its section:\n%s", regulation)
	}
	if i, j := strings.Index(m.HTML, "The EU code of practice"), strings.Index(m.HTML, "Newsletter #48"); i < 0 || i > j {
		t.Errorf("HTML: the pinned article comes after another of its section")
	}
	if !strings.Contains(m.HTML, `<p class="pick"`) {
		t.Errorf("HTML: the pinned article is not marked")
	}
	// The blurb is shown whole, in place of the feed's summary.
	k2 := "업계는 기준이 모호하다고, 시민사회는 범위가 좁다고 말합니다."
	if !strings.Contains(m.HTML, "정부는 내년 1월 시행을 목표로 합니다. 무엇이 바뀌는지 한 장으로 정리했습니다.") || !strings.Contains(m.HTML, k2) {
		t.Errorf("HTML lacks the whole blurb")
	}
	if !strings.Contains(strings.Join(strings.Fields(m.Text), " "), "무엇이 바뀌는지 한 장으로 정리했습니다.") {
		t.Errorf("text lacks the whole blurb")
	}
	for name, s := range map[string]string{"HTML": m.HTML, "text": m.Text} {
		if strings.Contains(s, "업계와 시민사회의") {
			t.Errorf("%s still shows the feed's summary of the blurbed article", name)
		}
	}
	// The web copy has the same edits.
	for _, want := range []string{"<em>고영향 AI</em>", k2, `class="pick"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("web copy lacks %q", want)
		}
	}
	// The caller's issue is left as it was: a draft is shared.
	if is.Sections[1].Articles[2].ID != "e1" || !is.Sections[0].Articles[0].Hidden {
		t.Errorf("rendering changed the caller's issue")
	}
}

// section is the plain text of the section whose heading starts with name.
func section(t *testing.T, text, name string) string {
	t.Helper()
	_, after, ok := strings.Cut(text, "== "+name)
	if !ok {
		t.Fatalf("no section %q in\n%s", name, text)
	}
	_, body, _ := strings.Cut(after, "==\n\n")
	body, _, _ = strings.Cut(body, "\n== ")
	return body
}

// A reader whose themes hold only hidden articles gets nothing, as for a
// week with nothing in them; a pinned article only another reader gets
// does not lead their subject.
func TestHiddenForEachReader(t *testing.T) {
	is := editedIssue()
	edit(&is, "k4", func(a *digest.Article) { a.Hidden = true }) // the catch-all's only article
	r := newRenderer(t, "en", "")
	if _, err := r.Render(is, Recipient{Email: "o@example.org", Themes: []string{"other"}}); !errors.Is(err, ErrNothingToSend) {
		t.Errorf("reader of a section whose articles are all hidden: %v, want ErrNothingToSend", err)
	}
	m, err := r.Render(is, Recipient{Email: "c@example.org", Themes: []string{"compute"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "AI Policy Weekly · No. 12 · 엔비디아 GPU 26만 장, 한국에 무엇을 남기나"; m.Subject != want {
		t.Errorf("compute reader's subject %q, want %q", m.Subject, want)
	}
	if strings.Contains(m.Text, "More this week") {
		t.Errorf("a section of hidden articles is shown")
	}
	// A hidden outlet of a story's coverage is left out of "Also covered by".
	is = fixtureIssue()
	edit(&is, "k1", func(a *digest.Article) {
		a.Also = []digest.Article{
			{ID: "x1", Title: "Shown", Link: "https://shown.example.org/1", FeedName: "Shown Outlet"},
			{ID: "x2", Title: "Hidden", Link: "https://hidden.example.org/1", FeedName: "Hidden Outlet", Hidden: true},
		}
	})
	if m, err = r.Render(is, reader); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.HTML, "Shown Outlet") || strings.Contains(m.HTML, "Hidden Outlet") || strings.Contains(m.Text, "hidden.example.org") {
		t.Errorf("coverage: want Shown Outlet only")
	}
}

// The editor's subject replaces the default one; a test send keeps its
// marker, the whole is cut to 78 columns (Hangul two each) between
// words, and a line break never reaches the header.
func TestEditorSubject(t *testing.T) {
	en, ko := newRenderer(t, "en", ""), newRenderer(t, "ko", "")
	test := reader
	test.Test = true
	for _, c := range []struct {
		r       *Renderer
		subject string
		to      Recipient
		want    string
	}{
		{en, "Seoul's AI Act, decoded", reader, "Seoul's AI Act, decoded"},
		{en, "Seoul's AI Act, decoded", test, "[TEST] Seoul's AI Act, decoded"},
		{ko, "AI기본법 시행령, 무엇이 바뀌나", test, "[테스트] AI기본법 시행령, 무엇이 바뀌나"},
		{ko, "이번 주 AI 정책: 시행령 초안 공개와 고영향 AI 기준, 업계와 시민사회의 엇갈린 반응 정리", test,
			"[테스트] 이번 주 AI 정책: 시행령 초안 공개와 고영향 AI 기준, 업계와…"},
		{en, "Two\r\nBcc: victim@example.org", reader, "Two Bcc: victim@example.org"},
	} {
		is := fixtureIssue()
		is.Subject = c.subject
		m, err := c.r.Render(is, c.to)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != c.want || DisplayWidth(m.Subject) > 78 {
			t.Errorf("subject %q: got %q (%d columns), want %q", c.subject, m.Subject, DisplayWidth(m.Subject), c.want)
		}
	}
}

// The note's Markdown subset, piece by piece: what becomes markup and
// what stays text.
func TestNoteMarkdown(t *testing.T) {
	for _, c := range []struct{ src, html, text string }{
		{"plain", `<p class="note-p">plain</p>`, "plain"},
		{"one\ntwo\n\n\n three ", `<p class="note-p">one two</p><p class="note-p">three</p>`, "one two|three"},
		{"*em* and **strong** and ***both***", `<p class="note-p"><em>em</em> and <strong>strong</strong> and <strong><em>both</em></strong></p>`, "*em* and *strong* and **both**"},
		{"**bold [link](https://a.example/x) in**", `<p class="note-p"><strong>bold <a href="https://a.example/x" class="note-link">link</a> in</strong></p>`, "*bold link <https://a.example/x> in*"},
		{"[*em* link](http://a.example)", `<p class="note-p"><a href="http://a.example" class="note-link"><em>em</em> link</a></p>`, "*em* link <http://a.example>"},
		{"[https://a.example/](https://a.example/)", `<p class="note-p"><a href="https://a.example/" class="note-link">https://a.example/</a></p>`, "<https://a.example/>"},
		{"[](mailto:ed@example.org)", `<p class="note-p"><a href="mailto:ed@example.org" class="note-link">ed@example.org</a></p>`, "<mailto:ed@example.org>"},
		{"[위키](https://ko.wikipedia.org/wiki/Go_(programming_language))", `<p class="note-p"><a href="https://ko.wikipedia.org/wiki/Go_(programming_language)" class="note-link">위키</a></p>`, "위키 <https://ko.wikipedia.org/wiki/Go_(programming_language)>"},
		{"[x](https://a.example/((x)))", `<p class="note-p">[x](https://a.example/((x)))</p>`, "[x](https://a.example/((x)))"},
		// Not emphasis: spaces inside, unclosed, escaped.
		{"5 * 3 * 2", `<p class="note-p">5 * 3 * 2</p>`, "5 * 3 * 2"},
		{"*open and **unclosed", `<p class="note-p">*open and **unclosed</p>`, "*open and **unclosed"},
		{`\*not em\*`, `<p class="note-p">*not em*</p>`, "*not em*"},
		{"****", `<p class="note-p">****</p>`, "****"},
		// Not links: other schemes, relative, spaces, no host, nested.
		{"[x](javascript:alert(1))", `<p class="note-p">[x](javascript:alert(1))</p>`, "[x](javascript:alert(1))"},
		{"[x](JavaScript:alert(1))", `<p class="note-p">[x](JavaScript:alert(1))</p>`, "[x](JavaScript:alert(1))"},
		{"[x](data:text/html,hi)", `<p class="note-p">[x](data:text/html,hi)</p>`, "[x](data:text/html,hi)"},
		{"[x](/relative)", `<p class="note-p">[x](/relative)</p>`, "[x](/relative)"},
		{"[x](https:///nohost)", `<p class="note-p">[x](https:///nohost)</p>`, "[x](https:///nohost)"},
		{"[x](https://a.example/ y)", `<p class="note-p">[x](https://a.example/ y)</p>`, "[x](https://a.example/ y)"},
		{"[x](mailto:nobody)", `<p class="note-p">[x](mailto:nobody)</p>`, "[x](mailto:nobody)"},
		{"[a [b](https://b.example) c](https://c.example)", `<p class="note-p">[a <a href="https://b.example" class="note-link">b</a> c](https://c.example)</p>`, "[a b <https://b.example> c](https://c.example)"},
		{"[x]", `<p class="note-p">[x]</p>`, "[x]"},
		{"", "", ""},
		{" \n\n \t", "", ""},
	} {
		paras := parseNote(c.src)
		if got := string(noteHTML(paras)); got != c.html {
			t.Errorf("note %q: HTML\n got %s\nwant %s", c.src, got, c.html)
		}
		if got := strings.Join(noteLines(paras), "|"); got != c.text {
			t.Errorf("note %q: text\n got %q\nwant %q", c.src, got, c.text)
		}
	}
}

// Markup and script in a note or a blurb come out as text: escaped in the
// HTML part, where a browser finds nothing to run, and as typed in the
// plain part. The only links made are the note's checked ones.
func TestNoteAndBlurbCannotInject(t *testing.T) {
	attacks := []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(2)>`,
		`[click](javascript:alert(3))`,
		`[click](https://ok.example/" onmouseover="alert(4))`,
		`[click](https://ok.example/?q=<script>alert(5)</script>)`,
		`**</p><iframe src="https://evil.example/"></iframe>**`,
		`<a href="javascript:alert(6)">x</a>`,
		`"><svg onload=alert(7)>`,
		`<style>body{display:none}</style>`,
	}
	is := fixtureIssue()
	is.Note = strings.Join(attacks, "\n\n")
	edit(&is, "k1", func(a *digest.Article) { a.Blurb = strings.Join(attacks, " ") })
	for _, lang := range []string{"en", "ko"} {
		r := newRenderer(t, lang, "")
		m, err := r.Render(is, reader)
		if err != nil {
			t.Fatal(err)
		}
		page, err := r.WebPage(is)
		if err != nil {
			t.Fatal(err)
		}
		for name, h := range map[string]string{"mail": m.HTML, "web copy": string(page)} {
			if bad := unsafeMarkup(h); bad != "" {
				t.Errorf("%s %s: %s", lang, name, bad)
			}
			doc, err := html.Parse(strings.NewReader(h))
			if err != nil {
				t.Fatal(err)
			}
			for _, el := range []string{"img", "svg", "iframe"} {
				if n := count(doc, el); n > 0 {
					t.Errorf("%s %s: %d <%s> elements", lang, name, n, el)
				}
			}
			if n := count(doc, "style"); n != 1 {
				t.Errorf("%s %s: %d <style> elements, want gull's own", lang, name, n)
			}
			// The note makes no link: every attack's link is refused.
			if strings.Contains(h, `class="note-link"`) {
				t.Errorf("%s %s: a note link was made from an attack", lang, name)
			}
			for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;", "[click](javascript:alert(3))"} {
				if strings.Count(h, want) < 2 { // the note and the blurb
					t.Errorf("%s %s: %q does not show as text in both the note and the blurb", lang, name, want)
				}
			}
		}
		// The plain part shows what was typed, as text.
		flat := strings.Join(strings.Fields(m.Text), " ")
		for _, a := range attacks {
			if !strings.Contains(flat, strings.Join(strings.Fields(a), " ")) && !strings.HasPrefix(a, "**") {
				t.Errorf("%s text: %q is not shown as typed", lang, a)
			}
		}
	}
}

func depth(ns []noteNode) int {
	d := 0
	for _, n := range ns {
		if n.kind != noteText {
			d = max(d, 1+depth(n.children))
		}
	}
	return d
}

func count(n *html.Node, tag string) int {
	c := 0
	if n.Type == html.ElementNode && n.Data == tag {
		c++
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		c += count(ch, tag)
	}
	return c
}

// Long and hostile notes render whole: no delimiter pattern makes the
// parser go over the text again and again (each case would take minutes
// if it did), and the plain part holds every letter of the input.
func TestNoteLongInput(t *testing.T) {
	const n = 100_000
	for name, src := range map[string]string{
		"openers":      strings.Repeat("[", n) + strings.Repeat("a*", n),
		"stars":        strings.Repeat("*a ", n),
		"link targets": strings.Repeat("[x](", n),
		"parens":       "[x](https://a.example/" + strings.Repeat("(", n),
		"nested":       strings.Repeat("**a *b ", n) + strings.Repeat("c* d**", n),
		"korean":       strings.Repeat("가나다 *라마* [바사](https://a.example/) ", n/10),
	} {
		paras := parseNote(src)
		h := string(noteHTML(paras))
		text := strings.Join(noteLines(paras), "\n")
		if len(h) < len(src)/2 || len(text) < len(src)/2 {
			t.Errorf("%s: %d bytes of note became %d of HTML and %d of text", name, len(src), len(h), len(text))
		}
		// Nesting stays shallow, for the inliner and mail clients.
		for _, p := range paras {
			if d := depth(p); d > 10 {
				t.Errorf("%s: markup nests %d deep", name, d)
			}
		}
		// Every letter typed is in the plain part: nothing is dropped.
		if got, want := strings.Count(text, "a"), strings.Count(src, "a"); got != want {
			t.Errorf("%s: %d of the note's %d a's are in the text", name, got, want)
		}

	}
	// And through the templates, Korean whole.
	is := fixtureIssue()
	is.Note = strings.Repeat("인공지능 기본법 시행령이 공개되었습니다. ", 20_000)
	m, err := newRenderer(t, "ko", "").Render(is, reader)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(m.Text, "시행령이"); got != 20_000 {
		t.Errorf("text part has %d of the note's 20000 sentences", got)
	}
}

// The batch renderer gives each reader of an edited issue what Render
// gives: the edits are the issue's, the same for every reader.
func TestBatchEdited(t *testing.T) {
	is := editedIssue()
	is.Subject = "편집자 제목"
	r := newRenderer(t, "ko", "")
	b := r.Batch(is)
	for i, themes := range [][]string{nil, {"compute"}, {"regulation"}, {"other"}, {"safety"}, {"compute", "regulation"}} {
		for _, test := range []bool{false, true} {
			to := plainReader(i, themes...)
			to.Test = test
			if via := sameAsRender(t, r, b, is, to); via == viaFull {
				t.Errorf("reader %s: full render, want the frame", desc(to))
			}
		}
	}
	m, err := b.Render(plainReader(9, "regulation"))
	if err != nil || !strings.Contains(m.Text, "편집자 요약") || strings.Contains(m.HTML, "HBM supply") || m.Subject != "편집자 제목" {
		t.Errorf("batch copy lost an edit: %v, subject %q", err, m.Subject)
	}
}

package render

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRenderHTML puts arbitrary feed text (titles, summaries, names,
// links) through the whole renderer: whatever a feed says, the HTML part
// stays valid UTF-8 with no script, event handler or javascript: URL, and
// the subject stays one line of at most 78 columns.
//
//	go test -run '^$' -fuzz FuzzRenderHTML -fuzztime 60s ./digest/render
func FuzzRenderHTML(f *testing.F) {
	f.Add(`<script>alert(1)</script>`, `" onmouseover="alert(1)`, "javascript:alert(1)", "Feed\r\nBcc: x@example.org", "김\u0301")
	f.Add("반도체 <img src=x onerror=alert(1)>", "</style><script>", "https://example.org/?a=<b>", "<b>bold</b>", "👩‍👩‍👧")
	f.Add("\xff\xfe bad bytes", "{{ .Title }}", "data:text/html,<script>", "]]>", "&amp;&lt;")
	r := newRenderer(f, "ko", "")
	f.Fuzz(func(t *testing.T, title, summary, link, feed, author string) {
		is := fixtureIssue()
		a := &is.Sections[0].Articles[0]
		a.Title, a.Summary, a.Link, a.FeedName, a.Author = title, summary, link, feed, author
		is.Title = feed
		m, err := r.Render(is, reader)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(m.HTML) || !utf8.ValidString(m.Text) {
			t.Fatal("output is not valid UTF-8")
		}
		if bad := unsafeMarkup(m.HTML); bad != "" {
			t.Fatalf("%s", bad)
		}
		if strings.ContainsAny(m.Subject, "\r\n") {
			t.Fatalf("subject %q has a line break", m.Subject)
		}
		if w := DisplayWidth(m.Subject); w > subjectColumns || !utf8.ValidString(m.Subject) {
			t.Fatalf("subject %q is %d columns (max %d) or not UTF-8", m.Subject, w, subjectColumns)
		}
	})
}

package render

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"gull/digest"
)

// A story's other outlets show under its lead as "Also covered by:" with a
// link each, in the HTML and the plain text, and apart from the chips of
// the other themes the article matched: a reader must not take an outlet
// for a theme or a theme for an outlet.
func TestStoryCoverageApartFromThemes(t *testing.T) {
	is := fixtureIssue()
	a := &is.Sections[0].Articles[1] // 엔비디아 GPU, in compute
	a.Themes = []string{"compute", "strategy"}
	a.Also = []digest.Article{
		{ID: "o1", FeedName: "Chip Ledger", Title: "Nvidia's 260,000 GPUs for Korea", Link: "https://ledger.example.com/gpus", Published: at(24, 3)},
		{ID: "o2", FeedName: "", Title: "GPU 26만 장의 조건", Link: "https://daily.example.kr/a/9", Published: at(24, 12)},
	}
	for _, c := range []struct {
		lang, label, chipLabel string
	}{
		{"en", "Also covered by:", "Also in"},
		{"ko", "함께 다룬 곳:", "관련 주제"},
	} {
		t.Run(c.lang, func(t *testing.T) {
			m, err := newRenderer(t, c.lang, "").Render(is, reader)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := html.Parse(strings.NewReader(m.HTML))
			if err != nil {
				t.Fatal(err)
			}
			var coverage, chips []*html.Node
			var walk func(n *html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					classes := strings.Fields(attr(n, "class"))
					if slices.Contains(classes, "coverage") {
						coverage = append(coverage, n)
					}
					if slices.Contains(classes, "chip") {
						chips = append(chips, n)
					}
				}
				for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
					walk(ch)
				}
			}
			walk(doc)
			if len(coverage) != 1 {
				t.Fatalf("%d coverage lines in the HTML, want 1 (the story's)", len(coverage))
			}
			// The feed without a name shows as its link's host.
			if got, want := textContent(coverage[0]), c.label+" Chip Ledger · daily.example.kr"; got != want {
				t.Errorf("coverage line %q, want %q", got, want)
			}
			var links []string
			var findLinks func(n *html.Node)
			findLinks = func(n *html.Node) {
				if n.Type == html.ElementNode && n.Data == "a" {
					links = append(links, attr(n, "href"))
				}
				for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
					findLinks(ch)
				}
			}
			findLinks(coverage[0])
			if want := []string{"https://ledger.example.com/gpus", "https://daily.example.kr/a/9"}; !slices.Equal(links, want) {
				t.Errorf("coverage links %q, want %q", links, want)
			}
			for _, ch := range chips {
				if s := textContent(ch); strings.Contains(s, "Chip Ledger") || strings.Contains(s, "daily.example.kr") {
					t.Errorf("an outlet shows as a theme chip: %q", s)
				}
			}
			if len(chips) != 1 || textContent(chips[0]) != "National Strategy · 국가 전략" {
				t.Errorf("theme chips changed: %d", len(chips))
			}
			if !strings.Contains(m.HTML, c.chipLabel+"</span>") {
				t.Errorf("HTML lacks the theme chips' label %q", c.chipLabel)
			}
			wantText := "    " + c.label + " Chip Ledger · daily.example.kr\n" +
				"    - Chip Ledger: https://ledger.example.com/gpus\n" +
				"    - daily.example.kr: https://daily.example.kr/a/9\n" +
				"    " + c.chipLabel + ":\n    - National Strategy · 국가 전략\n"
			if !strings.Contains(m.Text, wantText) {
				t.Errorf("text lacks\n%s\nin\n%s", wantText, m.Text)
			}
		})
	}
}

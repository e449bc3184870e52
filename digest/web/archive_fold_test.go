package web

import (
	"strings"
	"testing"

	"gull/digest"
)

// Titles whose lower case has another length in bytes: Ⱥ (2 bytes) lowers
// to ⱥ (3), the Kelvin sign K (3) to k (1). The markers of a page must be
// found in the page itself, not in a lower-cased copy.
var shiftingTitles = []string{strings.Repeat("Ⱥ", 30), strings.Repeat("\u212A", 40), "İ\xffİ" + strings.Repeat("Ⱥ", 7)}

// fullPage is an issue's web copy with a head and a body, the title in
// both, as the templates make it.
func fullPage(is digest.Issue, _ string) ([]byte, error) {
	return []byte("<!DOCTYPE html><html><head><title>" + is.Title + "</title></HEAD><BODY class=\"x\"><h1>" + is.Title +
		"</h1><p>end of " + is.ID + "</p></body></html>"), nil
}

func TestFeedContentWithTitlesThatChangeLengthInLowerCase(t *testing.T) {
	for _, title := range shiftingTitles {
		sf := newSiteFixture(t, func(s *Site) { s.IssuePage = fullPage })
		sf.saveIssue("2026-W48", title, monday8(2026, 11, 30), digest.IssueOpen, start, "A")
		body := sf.open("/feed.atom").Body.String()
		want := "&lt;h1&gt;" + strings.ToValidUTF8(title, "") + "&lt;/h1&gt;&lt;p&gt;end of 2026-W48&lt;/p&gt;</content>"
		if !strings.Contains(body, want) {
			t.Errorf("title %q: the entry's content is not the page's body:\n%s", title, body)
		}
	}
}

func TestIssueHeadAndBannerWithTitlesThatChangeLengthInLowerCase(t *testing.T) {
	for _, title := range shiftingTitles {
		sf := newSiteFixture(t, func(s *Site) { s.IssuePage = fullPage })
		sf.saveIssue("2026-W48", title, monday8(2026, 11, 30), digest.IssueOpen, start, "A")
		page := sf.open("/issues/2026-W48").Body.String()
		if !strings.Contains(page, "</title><link rel=\"canonical\"") || !strings.Contains(page, "</HEAD><BODY") {
			t.Errorf("title %q: the canonical link is not at the end of the head:\n%s", title, page)
		}
		// The banner over an unpublished issue goes right after <body ...>.
		if got := AfterBody("<p>"+title+"</p><BODY class=x>rest", "[banner]"); got != "<p>"+title+"</p><BODY class=x>[banner]rest" {
			t.Errorf("title %q: AfterBody gives %q", title, got)
		}
		if got := InHead("<title>"+title+"</title></Head>", "[tags]"); got != "<title>"+title+"</title>[tags]</Head>" {
			t.Errorf("title %q: InHead gives %q", title, got)
		}
	}
}

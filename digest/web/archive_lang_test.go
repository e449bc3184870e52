package web

import (
	"strings"
	"testing"

	"gull/digest"
)

// langPage is an issue's web copy that says which language it was asked
// in, as the renderer's does.
func langPage(is digest.Issue, lang string) ([]byte, error) {
	return []byte(`<!DOCTYPE html><html lang="` + lang + `"><head><title>` + is.Title + `</title></head><body><p>issue ` + is.ID + `</p></body></html>`), nil
}

// A Korean list's archive in English for a reader who asks (?lang=en,
// as their mail's links do): wording, dates, theme names, and every link
// keeping the language; an issue's canonical link stays the bare address,
// with its languages as alternates.
func TestArchiveInTheReadersLanguage(t *testing.T) {
	sf := newSiteFixture(t, func(s *Site) {
		s.IssuePage = langPage
		s.Titles = digest.Text{Ko: "AI 정책 주간", En: "AI Policy Weekly"}
	})
	sf.saveIssue("2026-W48", "AI 정책 주간", monday8(2026, 11, 30), digest.IssueOpen, start, "First", "Second")

	pages := map[string][]string{
		"/?lang=en": {`<html lang="en">`, "Past issues", "No. 1 · 23–29 Nov 2026", "<title>Past issues · AI Policy Weekly</title>",
			`href="https://news.example.org/issues/2026-W48?lang=en"`, `href="https://news.example.org/themes/regulation?lang=en">Regulation</a>`,
			`href="https://news.example.org/?lang=en"`, `<input type="hidden" name="lang" value="en">`},
		"/themes/regulation?lang=en": {`<html lang="en">`, `<h1 class="dateline">Regulation</h1>`, `href="https://news.example.org/issues/2026-W48?lang=en"`},
		"/search?q=first&lang=en":    {`<html lang="en">`, "Search: first", "1 article", `href="https://news.example.org/issues/2026-W48?lang=en"`},
		"/issues/2026-W48?lang=en": {`<html lang="en">`, `<link rel="canonical" href="https://news.example.org/issues/2026-W48">`,
			`<link rel="alternate" hreflang="ko" href="https://news.example.org/issues/2026-W48?lang=ko">`,
			`<link rel="alternate" hreflang="en" href="https://news.example.org/issues/2026-W48?lang=en">`,
			`<meta property="og:locale" content="en_US">`, "No. 1 · 23–29 Nov 2026"},
		"/issues/2026-W99?lang=en": {`<html lang="en">`, "No such issue"},
		// The config's language without ?lang=, or with one it does not know.
		"/":                {`<html lang="ko">`, "지난 호", `href="https://news.example.org/issues/2026-W48"`},
		"/?lang=fr":        {`<html lang="ko">`, "지난 호"},
		"/issues/2026-W48": {`<html lang="ko">`, `<meta property="og:locale" content="ko_KR">`},
	}
	for target, want := range pages {
		body := sf.open(target).Body.String()
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q:\n%s", target, w, body)
			}
		}
	}
	if body := sf.open("/").Body.String(); strings.Contains(body, "?lang=") || strings.Contains(body, `name="lang"`) {
		t.Errorf("the page in the config's language links ?lang=:\n%s", body)
	}
}

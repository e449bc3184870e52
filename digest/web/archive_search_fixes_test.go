package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"gull/digest"
)

// storyIssue stores a published week whose lead (in "compute", matched to
// "regulation" too) has another outlet's coverage under it.
func (sf *siteFixture) storyIssue(lead, coverage digest.Article) {
	sf.t.Helper()
	lead.Also = []digest.Article{coverage}
	is := digest.Issue{
		ID: "2026-W48", Title: "AI Policy Weekly", Period: digest.WeekEnding(monday8(2026, 11, 30), 7*24*time.Hour, seoul),
		Sections: []digest.Section{{ID: "compute", Name: "반도체", Articles: []digest.Article{lead}}},
	}
	if _, err := sf.store.SaveIssue(context.Background(), is, digest.IssueOpen, start); err != nil {
		sf.t.Fatal(err)
	}
}

// Another outlet's coverage of a story is found, and shown under its
// lead, linked to the issue; the outlet's name shows its match; the theme
// the lead matched lists both.
func TestSearchFindsCoverageAndMarksTheOutlet(t *testing.T) {
	sf := newSiteFixture(t)
	sf.storyIssue(
		digest.Article{ID: "lead", Title: "반도체 보조금 확대", Link: "https://example.org/lead", FeedName: "정책 칼럼", Themes: []string{"compute", "regulation"}},
		digest.Article{ID: "cov", Title: "Seoul widens chip subsidies", Link: "https://example.org/cov", FeedName: "Korea Tech Wire", Lang: "en"})
	body := sf.open("/search?q=" + "subsidies").Body.String()
	for _, w := range []string{
		`<a class="article-link" href="https://example.org/cov">Seoul widens chip <mark>subsidies</mark></a>`,
		`같은 소식: <a class="muted-link" href="https://news.example.org/issues/2026-W48">반도체 보조금 확대</a>`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("the search for the coverage lacks %q:\n%s", w, body)
		}
	}
	if body := sf.open("/search?q=tech+wire").Body.String(); !strings.Contains(body, "Korea <mark>Tech</mark> <mark>Wire</mark> · ") {
		t.Errorf("a match in the outlet's name is not marked:\n%s", body)
	}
	if got := linkedTitles(sf.open("/themes/regulation").Body.String()); strings.Join(got, "|") != "반도체 보조금 확대|Seoul widens chip subsidies" {
		t.Errorf("the regulation page (the lead matched it, in compute's section) lists %q", got)
	}
}

// Decomposed Hangul is found by the syllables a reader types, and marked.
func TestSearchMarksDecomposedHangul(t *testing.T) {
	sf := newSiteFixture(t)
	sf.saveIssue("2026-W48", "AI Policy Weekly", monday8(2026, 11, 30), digest.IssueOpen, start, norm.NFD.String("인공지능 기본법 시행"))
	body := sf.open("/search?q=" + "기본법").Body.String()
	if !strings.Contains(body, "인공지능 <mark>기본법</mark> 시행") {
		t.Errorf("an NFD title is not found and marked by an NFC query:\n%s", body)
	}
}

// An excerpt is never cut inside a flag (a pair of regional indicators).
func TestExcerptKeepsGraphemesWhole(t *testing.T) {
	text := "a" + strings.Repeat("🇰🇷", 300)
	for _, terms := range [][]string{nil, {"b"}} {
		out := excerptAround(text, terms, summaryRunes)
		flags := strings.TrimSuffix(strings.TrimPrefix(out, "a"), "…")
		if utf8.RuneCountInString(flags)%2 != 0 || strings.Count(flags, "🇰🇷") != utf8.RuneCountInString(flags)/2 {
			t.Errorf("excerpt cuts a flag: %q", out)
		}
	}
	// Around a match further in: the start is whole too.
	text = strings.Repeat("🇰🇷", 200) + " match " + strings.Repeat("x", 300)
	out := strings.TrimPrefix(excerptAround(text, []string{"match"}, summaryRunes), "…")
	if !strings.HasPrefix(out, "🇰🇷") || !strings.Contains(out, "match") {
		t.Errorf("excerpt around a match starts inside a flag: %q", out)
	}
}

// cappedArchive is the store, answering a search as one whose short
// words looked at the newest articles only.
type cappedArchive struct{ ArchiveStore }

func (a cappedArchive) SearchArchive(ctx context.Context, q string, offset, limit int) (digest.ArchivePage, error) {
	p, err := a.ArchiveStore.SearchArchive(ctx, q, offset, limit)
	p.Scanned = 5000
	return p, err
}

func TestSearchSaysWhenShortWordsWereCapped(t *testing.T) {
	sf := newSiteFixture(t)
	sf.site.Archive = cappedArchive{sf.store}
	sf.sh = sf.site.Handler()
	body := sf.open("/search?q=AI").Body.String()
	if !strings.Contains(body, "한두 글자 낱말로는 최근 기사 5000건에서만 찾습니다") {
		t.Errorf("a capped search does not say so:\n%s", body)
	}
}

// GET /search is rate-limited per client; the form without a query is not.
func TestSearchIsRateLimited(t *testing.T) {
	sf := newSiteFixture(t, func(s *Site) { s.SearchBurst = 3 })
	for i := range 3 {
		if rec := sf.visit("GET", fmt.Sprintf("/search?q=w%d", i), "", "", "192.0.2.7:1234"); rec.Code != 200 {
			t.Fatalf("search %d: %d", i, rec.Code)
		}
	}
	rec := sf.visit("GET", "/search?q=again", "", "", "192.0.2.7:1234")
	checkSitePage(t, "the fourth search at once", rec, 429, "no-store", "요청이 너무 많습니다")
	if rec.Header().Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After: %v", rec.Header())
	}
	if rec := sf.visit("GET", "/search?q=again", "", "", "192.0.2.8:1234"); rec.Code != 200 {
		t.Errorf("another client's search: %d", rec.Code)
	}
	if rec := sf.visit("GET", "/search", "", "", "192.0.2.7:1234"); rec.Code != 200 {
		t.Errorf("the search form: %d", rec.Code)
	}
	sf.clock.add(2 * time.Second)
	if rec := sf.visit("GET", "/search?q=later", "", "", "192.0.2.7:1234"); rec.Code != 200 {
		t.Errorf("a search a second later: %d", rec.Code)
	}
}

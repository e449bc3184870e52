package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"gull/digest"
)

// storyWeek is a frozen week whose compute lead has the other outlets'
// coverage under it (one English, one hidden by an editor) and matched
// the regulation theme too.
func storyWeek(t *testing.T, s *Store) {
	t.Helper()
	seoul, _ := time.LoadLocation("Asia/Seoul")
	is := archiveWeek("2026-W48", time.Date(2026, 11, 30, 8, 0, 0, 0, seoul), "반도체 보조금 확대")
	lead := &is.Sections[0].Articles[0]
	lead.Themes = []string{"compute", "regulation"}
	en := art("cov-en", "Seoul widens chip subsidies", nil)
	en.FeedName, en.Lang = "Korea Tech Wire", "en"
	hidden := art("cov-hidden", "Hidden subsidy rumour", nil)
	hidden.Hidden = true
	lead.Also = []digest.Article{en, hidden}
	if _, err := s.SaveIssue(context.Background(), is, digest.IssueOpen, day1); err != nil {
		t.Fatal(err)
	}
}

// A story's coverage by other outlets (often in the other language) is
// found by the search and listed on its themes' pages, under its lead;
// a hidden one is not.
func TestArchiveIndexesCoverage(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	storyWeek(t, s)
	p, err := s.SearchArchive(ctx, "chip subsidies", 0, 10)
	if err != nil || !slices.Equal(titlesOf(p), []string{"Seoul widens chip subsidies"}) {
		t.Fatalf("search for the coverage: %q %v", titlesOf(p), err)
	}
	if a := p.Articles[0]; a.Story != "반도체 보조금 확대" || a.IssueID != "2026-W48" || a.Section != "compute" || a.Feed != "Korea Tech Wire" {
		t.Errorf("coverage found as %+v, want it under its lead in 2026-W48", a)
	}
	if p, _ := s.SearchArchive(ctx, "rumour", 0, 10); p.Total != 0 {
		t.Errorf("a hidden coverage article is found: %q", titlesOf(p))
	}
	p, err = s.ThemeArticles(ctx, "compute", 0, 10)
	if want := []string{"반도체 보조금 확대", "Seoul widens chip subsidies"}; err != nil || !slices.Equal(titlesOf(p), want) {
		t.Errorf("compute's page: %q %v, want %q", titlesOf(p), err, want)
	}
}

// An article that matched a theme but went to another's section is on
// both themes' pages.
func TestThemeArticlesListMatchedThemes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	storyWeek(t, s)
	p, err := s.ThemeArticles(ctx, "regulation", 0, 10)
	want := []string{"반도체 보조금 확대", "Seoul widens chip subsidies", "Regulators weigh the 2026-W48 rules"}
	if err != nil || p.Total != 3 || !slices.Equal(titlesOf(p), want) {
		t.Errorf("regulation's page: %q (total %d) %v, want %q", titlesOf(p), p.Total, err, want)
	}
}

// Decomposed Hangul (conjoining jamo, as macOS writes it) is found by the
// syllables a reader types, and the other way round.
func TestSearchFindsDecomposedHangul(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	seoul, _ := time.LoadLocation("Asia/Seoul")
	nfd := norm.NFD.String("인공지능 기본법")
	is := archiveWeek("2026-W48", time.Date(2026, 11, 30, 8, 0, 0, 0, seoul), nfd, "반도체 보조금")
	if _, err := s.SaveIssue(ctx, is, digest.IssueOpen, day1); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"인공지능", "기본", norm.NFD.String("반도체"), "공지"} {
		if p, err := s.SearchArchive(ctx, q, 0, 10); err != nil || p.Total != 1 {
			t.Errorf("search %q (%d bytes): %q %v", q, len(q), titlesOf(p), err)
		}
	}
}

// A store whose archive was built before 0011 (lead articles only, fold
// not NFC) is rebuilt when it is opened.
func TestArchiveRebuiltByMigration(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	storyWeek(t, s)
	// As the archive was before 0011: no coverage row, no themes, no story.
	for _, q := range []string{
		`DELETE FROM archive_articles WHERE article_id <> '2026-W48-0' AND article_id <> '2026-W48-reg'`,
		`DROP TABLE archive_themes`,
		`ALTER TABLE archive_articles DROP COLUMN story`,
		`DELETE FROM schema_migrations WHERE version = 11`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if p, err := s2.SearchArchive(ctx, "chip subsidies", 0, 10); err != nil || p.Total != 1 {
		t.Errorf("after the upgrade, the coverage: %q %v", titlesOf(p), err)
	}
}

// A search of short words only reads the newest articles, and says how
// many.
func TestShortWordSearchIsCapped(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	seedArchive(t, s) // six articles, three of each issue
	old := shortScanRows
	shortScanRows = 3
	t.Cleanup(func() { shortScanRows = old })
	p, err := s.SearchArchive(ctx, "ru", 0, 10) // "rules" in W47's and W48's
	if err != nil || p.Scanned != 3 || !slices.Equal(titlesOf(p), []string{"Regulators weigh the 2026-W48 rules"}) {
		t.Errorf("short words over more than the cap: %q scanned %d %v", titlesOf(p), p.Scanned, err)
	}
	if p, err := s.SearchArchive(ctx, "rules", 0, 10); err != nil || p.Scanned != 0 || p.Total != 2 {
		t.Errorf("a long word is not capped: %q scanned %d %v", titlesOf(p), p.Scanned, err)
	}
	shortScanRows = 100
	if p, err := s.SearchArchive(ctx, "ru", 0, 10); err != nil || p.Scanned != 0 || p.Total != 2 {
		t.Errorf("short words under the cap: %q scanned %d %v", titlesOf(p), p.Scanned, err)
	}
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/subscribers"
)

// archiveWeek is a frozen week ending on Monday end (Seoul) with the
// given articles in the "compute" section and one in "regulation".
func archiveWeek(id string, end time.Time, titles ...string) digest.Issue {
	is := digest.Issue{ID: id, Title: "AI 정책 주간", Period: digest.Period{Start: end.AddDate(0, 0, -7), End: end}}
	comp := digest.Section{ID: "compute", Name: "반도체"}
	for i, title := range titles {
		a := art(fmt.Sprintf("%s-%d", id, i), title, nil)
		a.FeedName = "정책 칼럼"
		a.Summary = "요약: " + title
		comp.Articles = append(comp.Articles, a)
	}
	reg := art(id+"-reg", "Regulators weigh the "+id+" rules", nil)
	reg.FeedName = "Policy Wire"
	is.Sections = []digest.Section{comp, {ID: "regulation", Name: "규제", Articles: []digest.Article{reg}}}
	return is
}

func titlesOf(p digest.ArchivePage) []string {
	var out []string
	for _, a := range p.Articles {
		out = append(out, a.Title)
	}
	return out
}

func seedArchive(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	seoul, _ := time.LoadLocation("Asia/Seoul")
	w47 := archiveWeek("2026-W47", time.Date(2026, 11, 23, 8, 0, 0, 0, seoul), "인공지능법 시행령 공개", "HBM 수출 통제")
	w48 := archiveWeek("2026-W48", time.Date(2026, 11, 30, 8, 0, 0, 0, seoul), "반도체 보조금 확대", "The AI Act's code of practice")
	for i, is := range []digest.Issue{w47, w48} {
		if _, err := s.SaveIssue(ctx, is, digest.IssueOpen, day1.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSearchArchive(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	seedArchive(t, s)
	search := func(q string) []string {
		t.Helper()
		p, err := s.SearchArchive(ctx, q, 0, 50)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		if p.Total != len(p.Articles) {
			t.Errorf("search %q: total %d, %d articles", q, p.Total, len(p.Articles))
		}
		return titlesOf(p)
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		// A Hangul word inside a compound, through the trigram index.
		{"인공지능", []string{"인공지능법 시행령 공개"}},
		// Two characters: below a trigram, found by the scan.
		{"반도", []string{"반도체 보조금 확대"}},
		{"AI", []string{"The AI Act's code of practice"}},
		// Any case; newest issue first, then the issue's order.
		{"regulators", []string{"Regulators weigh the 2026-W48 rules", "Regulators weigh the 2026-W47 rules"}},
		// The feed name and the summary are searched too.
		{"policy wire", []string{"Regulators weigh the 2026-W48 rules", "Regulators weigh the 2026-W47 rules"}},
		{"요약: hbm", []string{"HBM 수출 통제"}},
		// Every term must match, long and short ones together.
		{"수출 HB", []string{"HBM 수출 통제"}},
		{"인공지능 반도", nil},
		{"", nil},
		{"   ", nil},
	} {
		if got := search(c.q); !slices.Equal(got, c.want) {
			t.Errorf("search %q = %q, want %q", c.q, got, c.want)
		}
	}
	// Hostile queries are text to find: no error, no FTS syntax.
	for _, q := range []string{`"`, `"인공`, `*`, `NEAR(a b)`, `-AI`, `AI OR 1=1`, `'; DROP TABLE issues; --`,
		"\xff\xfe인공지능", strings.Repeat("가", 5000), `a:b`, `^AI`, `(`, `AND`, `"" AND ""`} {
		if _, err := s.SearchArchive(ctx, q, 0, 10); err != nil {
			t.Errorf("hostile query %.40q: %v", q, err)
		}
	}
	if got := search("\xff\xfe인공지능"); len(got) != 1 {
		t.Errorf("invalid UTF-8 around a word: %q", got)
	}
	if got := search(`code of "practice`); len(got) != 0 {
		t.Errorf("a quote is a character to find: %q", got)
	}
	// Pages.
	p, err := s.SearchArchive(ctx, "regulators", 1, 1)
	if err != nil || p.Total != 2 || len(p.Articles) != 1 || p.Articles[0].IssueID != "2026-W47" || p.Articles[0].IssueNumber != 1 {
		t.Errorf("second page: %+v %v", p, err)
	}
	if p, err := s.SearchArchive(ctx, "regulators", 10, 5); err != nil || p.Total != 2 || len(p.Articles) != 0 {
		t.Errorf("past the end: %+v %v", p, err)
	}
}

func TestArchiveShowsOnlyPublishedIssues(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	seedArchive(t, s)
	// An approved issue whose send has not begun is not published.
	draft := draftBuild("a1", "a2")
	draft.ID = "2026-W49"
	draft.Period = digest.Period{Start: draft.Period.Start.AddDate(0, 0, 7), End: draft.Period.End.AddDate(0, 0, 7)}
	draft.Sections[0].Articles[0].Title = "승인만 된 인공지능 기사"
	if _, err := s.SaveDraft(ctx, draft, draftThemes, day1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveDraft(ctx, draft.ID, 1, ed1, day2); err != nil {
		t.Fatal(err)
	}
	// A quiet week is not one either.
	if _, err := s.SaveIssue(ctx, archiveWeek("2026-W46", day1, "조용한 주 인공지능"), digest.IssueQuiet, day1); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.SearchArchive(ctx, "인공지능", 0, 10); !slices.Equal(titlesOf(p), []string{"인공지능법 시행령 공개"}) {
		t.Errorf("before its send: %q", titlesOf(p))
	}
	if recs, total, err := s.IssuesPage(ctx, 0, 10); err != nil || total != 2 || len(recs) != 2 {
		t.Errorf("issues before its send: %d %d %v", len(recs), total, err)
	}
	if _, _, _, err := s.SaveSubscriber(ctx, subscribers.Subscriber{Email: "r@example.org", Status: subscribers.Active}, subscribers.AllFields, day1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PrepareDeliveries(ctx, draft.ID, day3); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.SearchArchive(ctx, "인공지능", 0, 10); len(p.Articles) != 2 || p.Articles[0].Title != "승인만 된 인공지능 기사" {
		t.Errorf("once its send began: %q", titlesOf(p))
	}
}

func TestReopenedIssueLeavesTheArchive(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	draft := draftBuild("a1", "a2")
	if _, err := s.SaveDraft(ctx, draft, draftThemes, day1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveDraft(ctx, draft.ID, 1, ed1, day2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReopenDraft(ctx, draft.ID, 2, ed1, day2); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM archive_articles`).Scan(&n); err != nil || n != 0 {
		t.Errorf("archive rows of a reopened issue: %d %v", n, err)
	}
	if s.pg {
		return // no FTS index there
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM archive_fts WHERE archive_fts MATCH '"a1"'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("index rows of a reopened issue: %d %v", n, err)
	}
}

func TestThemeArticles(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	seedArchive(t, s)
	p, err := s.ThemeArticles(ctx, "compute", 0, 3)
	want := []string{"반도체 보조금 확대", "The AI Act's code of practice", "인공지능법 시행령 공개"}
	if err != nil || p.Total != 4 || !slices.Equal(titlesOf(p), want) {
		t.Errorf("compute page 1: %q total %d %v", titlesOf(p), p.Total, err)
	}
	if p.Articles[0].IssueNumber != 2 || p.Articles[0].IssueID != "2026-W48" || p.Articles[0].Feed != "정책 칼럼" {
		t.Errorf("article's issue: %+v", p.Articles[0])
	}
	if p, _ := s.ThemeArticles(ctx, "compute", 3, 3); !slices.Equal(titlesOf(p), []string{"HBM 수출 통제"}) {
		t.Errorf("compute page 2: %q", titlesOf(p))
	}
	if p, _ := s.ThemeArticles(ctx, "nosuch", 0, 3); p.Total != 0 || len(p.Articles) != 0 {
		t.Errorf("unknown theme: %+v", p)
	}
}

// An issue stored before the archive's index existed is indexed at the
// next open.
func TestArchiveBackfilledAtOpen(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	seedArchive(t, s)
	if _, err := s.db.ExecContext(ctx, `DELETE FROM archive_articles`); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.SearchArchive(ctx, "인공지능", 0, 10); p.Total != 0 {
		t.Fatalf("rows deleted, still found: %+v", p)
	}
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if p, err := s2.SearchArchive(ctx, "인공지능", 0, 10); err != nil || !slices.Equal(titlesOf(p), []string{"인공지능법 시행령 공개"}) {
		t.Errorf("after reopening: %q %v", titlesOf(p), err)
	}
	var n int
	s2.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM archive_articles`).Scan(&n)
	if n != 6 {
		t.Errorf("rows after backfill: %d, want 6", n)
	}
	_ = sql.ErrNoRows
}

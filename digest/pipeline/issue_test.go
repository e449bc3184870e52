package pipeline

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gull/digest"
)

func TestBuildIssue(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	pub := func(d int) *time.Time { t := time.Date(2026, 11, d, 9, 0, 0, 0, seoul); return &t }
	opinion := digest.Feed{URL: "https://news.example.kr/opinion", Name: "오피니언", Filter: true}
	act := digest.Feed{URL: "https://act.example.org/feed", Theme: "regulation"}
	kept := digest.Article{ID: "k", FeedURL: act.URL, FeedName: "Act News", Title: "AI기본법 시행령", Link: "https://act.example.org/1", Published: pub(24)}
	g := Gathered{
		Number: 12,
		Period: digest.WeekEnding(time.Date(2026, 11, 30, 8, 0, 0, 0, seoul), 7*24*time.Hour, seoul),
		Feeds: []digest.FeedResult{
			{Feed: opinion, Title: "Opinion RSS", Status: digest.FeedOK, InWindow: 2, Articles: make([]digest.Article, 5)},
			{Feed: act, Title: "Act News", Status: digest.FeedError, Err: errors.New("collect: HTTP 503"), InWindow: 1, Articles: make([]digest.Article, 3)},
		},
		Articles: []digest.Article{
			kept,
			{ID: "o1", FeedURL: opinion.URL, FeedName: "오피니언", Title: "김장철 배추값", Link: "https://news.example.kr/o/1", Published: pub(25)},
			{ID: "o2", FeedURL: opinion.URL, FeedName: "오피니언", Title: "AI 반도체 클러스터와 전력", Link: "https://news.example.kr/o/2", Published: pub(26)},
		},
		Duplicates: []digest.Duplicate{{
			Dropped: digest.Article{Title: "[기고] AI기본법 시행령", Link: "https://mirror.example/1", FeedName: "Mirror"},
			Kept:    kept, Reason: "same title",
		}},
	}
	grouper := digest.NewGrouper([]digest.Theme{
		{ID: "compute", Name: "Compute", Keywords: []string{"반도체"}},
		{ID: "regulation", Name: "Regulation", Keywords: []string{"규제"}},
	}, digest.Theme{ID: "other", Name: "Other"}, []string{"AI"})

	is := BuildIssue("AI Policy Weekly", g, grouper)
	if is.ID != "2026-W48" || is.Number != 12 || is.Title != "AI Policy Weekly" || is.Count() != 2 {
		t.Fatalf("issue %s %q with %d articles", is.ID, is.Title, is.Count())
	}
	// The act feed's article matched no keyword: its feed's theme.
	if is.Sections[0].ID != "compute" || is.Sections[1].ID != "regulation" || is.Sections[1].Articles[0].ID != "k" {
		t.Errorf("sections %+v", is.Sections)
	}
	reasons := map[string]string{}
	for _, d := range is.Dropped {
		reasons[d.Title] = d.Reason
	}
	if reasons["김장철 배추값"] != digest.ReasonNotRelevant {
		t.Errorf("off-topic column: %q", reasons["김장철 배추값"])
	}
	if r := reasons["[기고] AI기본법 시행령"]; !strings.Contains(r, `same title as "AI기본법 시행령" (Act News)`) {
		t.Errorf("duplicate: reason %q should name the copy kept", r)
	}
	want := []digest.FeedReport{
		{URL: opinion.URL, Name: "오피니언", Status: digest.FeedOK, Items: 5, InWindow: 2, Dropped: 1},
		{URL: act.URL, Name: "Act News", Status: digest.FeedError, Items: 3, InWindow: 1, Error: "collect: HTTP 503"},
	}
	for i, w := range want {
		if is.Feeds[i] != w {
			t.Errorf("feed report %d: %+v, want %+v", i, is.Feeds[i], w)
		}
	}
}

package feedcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/pipeline"
)

// A failed feed that still has its last good copy, a feed of Korean
// columns that was repaired, and one of a filtered feed's week left out:
// each row says so, in the table and in the JSON, with times in the
// configured zone and the feed's address without its secrets.
func TestRowsAndTable(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	newest := time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)
	g := pipeline.Gathered{
		Period: digest.Period{Start: time.Date(2026, 11, 23, 8, 0, 0, 0, seoul), End: time.Date(2026, 11, 30, 8, 0, 0, 0, seoul)},
		Feeds: []digest.FeedResult{
			{Feed: digest.Feed{URL: "https://news.example.kr/rss?token=s3cret"}, Title: "AI 정책 칼럼", Status: digest.FeedOK,
				Articles: make([]digest.Article, 3), InWindow: 2, Newest: &newest, Repairs: []string{"stray & escaped"}, Duration: 1500 * time.Millisecond},
			{Feed: digest.Feed{URL: "https://down.example.org/feed", Name: "Down"}, Status: digest.FeedError,
				Articles: make([]digest.Article, 2), Err: errors.New("HTTP 503; try again later")},
		},
		Articles: make([]digest.Article, 2),
	}
	issue := digest.Issue{Feeds: []digest.FeedReport{{Dropped: 1}, {}}}
	rows := Rows(g, issue, seoul)

	var js bytes.Buffer
	if err := WriteJSON(&js, rows); err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back[0]["newest"] != "2026-11-30T08:00:00+09:00" || back[0]["dropped"] != 1.0 || back[0]["name"] != "AI 정책 칼럼" {
		t.Errorf("first row: %v", back[0])
	}
	if back[1]["error"] != "HTTP 503; try again later" || back[1]["newest"] != nil || back[1]["items"] != 2.0 {
		t.Errorf("failed row: %v", back[1])
	}
	if strings.Contains(js.String(), "s3cret") {
		t.Errorf("the feed's secret is in the JSON:\n%s", js.String())
	}

	var tb bytes.Buffer
	WriteTable(&tb, g, rows)
	out := tb.String()
	for _, want := range []string{
		"2026-11-30 08:00  1.5s",
		"  error: HTTP 503; try again later\n  using the 2 items of its last good copy\n",
		"  repaired: stray & escaped\n",
		"  filter: 1 of its 2 articles this week is not about AI and is left out",
		"2 feeds: 1 ok, 0 not modified, 1 failed. 2 articles in the week 2026-11-23 08:00 – 2026-11-30 08:00 KST (0 duplicates dropped).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("the feed's secret is in the table:\n%s", out)
	}
}

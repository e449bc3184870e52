package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/collect"
	"gull/digest/store"
)

// site is an httptest server with feeds whose content and failures a test
// switches while the pipeline runs against it.
type site struct {
	srv      *httptest.Server
	mu       sync.Mutex
	broken   map[string]bool
	requests atomic.Int32
	got304   atomic.Int32
}

func newSite(t *testing.T) *site {
	s := &site{broken: map[string]bool{}}
	feeds := map[string]string{
		"/columns.xml": `<rss version="2.0"><channel><title>칼럼</title>
			<item><title>[칼럼] AI기본법 시행령의 쟁점</title><link>https://news.example.kr/c/1?utm_source=rss</link><guid>c1</guid><pubDate>Tue, 24 Nov 2026 09:00:00 +0900</pubDate></item>
			<item><title>두 주 전의 칼럼</title><link>https://news.example.kr/c/0</link><guid>c0</guid><pubDate>Tue, 10 Nov 2026 09:00:00 +0900</pubDate></item>
			</channel></rss>`,
		"/undated.xml": `<rss version="2.0"><channel><title>날짜 없는 블로그</title>
			<item><title>날짜가 없는 글</title><link>https://blog.example.kr/p/7</link></item>
			</channel></rss>`,
		"/mirror.atom": `<feed xmlns="http://www.w3.org/2005/Atom"><title>Mirror</title>
			<entry><title>[기고] AI기본법 시행령의 쟁점</title><link href="http://www.news.example.kr/c/1/"/><id>tag:mirror,2026:1</id><updated>2026-11-24T01:00:00Z</updated></entry>
			</feed>`,
		"/flaky.xml": `<rss version="2.0"><channel><title>Flaky</title>
			<item><title>Flaky but good</title><link>https://flaky.example/1</link><pubDate>Wed, 25 Nov 2026 09:00:00 +0000</pubDate></item>
			</channel></rss>`,
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		broken := s.broken[r.URL.Path]
		s.mu.Unlock()
		body, ok := feeds[r.URL.Path]
		if !ok || broken {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		etag := fmt.Sprintf(`"%x"`, len(body))
		if r.Header.Get("If-None-Match") == etag {
			s.got304.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write([]byte(body))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) setBroken(path string, b bool) {
	s.mu.Lock()
	s.broken[path] = b
	s.mu.Unlock()
}

func titles(arts []digest.Article) string {
	var out []string
	for _, a := range arts {
		out = append(out, a.Title)
	}
	return strings.Join(out, " | ")
}

func TestGatherAcrossRuns(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seoul, _ := time.LoadLocation("Asia/Seoul")
	var feeds []digest.Feed
	for _, p := range []string{"/columns.xml", "/undated.xml", "/mirror.atom", "/flaky.xml"} {
		feeds = append(feeds, digest.Feed{URL: s.srv.URL + p, Location: seoul})
	}
	c := collect.New(collect.Options{Timeout: 5 * time.Second})
	gather := func(now time.Time) Gathered {
		t.Helper()
		g, err := Gather(ctx, c, st, feeds, digest.WeekEnding(now, 7*24*time.Hour, seoul), now)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	monday := time.Date(2026, 11, 30, 8, 0, 0, 0, seoul)

	// Run 1: everything fresh. The mirror's copy of the column is dropped,
	// the two-week-old column is out of the window, the undated post is in.
	g := gather(monday.Add(-time.Hour))
	if got := titles(g.Articles); got != "[칼럼] AI기본법 시행령의 쟁점 | 날짜가 없는 글 | Flaky but good" {
		t.Fatalf("run 1 articles: %s", got)
	}
	if len(g.Duplicates) != 1 || g.Feeds[0].InWindow != 1 || g.Feeds[0].Newest == nil {
		t.Errorf("run 1: duplicates %d, feed report %+v", len(g.Duplicates), g.Feeds[0])
	}
	if g.Number != 1 {
		t.Errorf("run 1: nothing was sent, yet the week's issue is No. %d", g.Number)
	}
	langs := func(arts []digest.Article) string {
		var out []string
		for _, a := range arts {
			out = append(out, a.Lang)
		}
		return strings.Join(out, " ")
	}
	if got := langs(g.Articles); got != "ko ko en" {
		t.Errorf("run 1 languages: %s, want ko ko en", got)
	}

	// Run 2: every feed answers 304; the same articles come from the store,
	// and the flaky feed's outage costs nothing.
	s.setBroken("/flaky.xml", true)
	before := s.got304.Load()
	g = gather(monday)
	if s.got304.Load()-before != 3 {
		t.Errorf("%d 304s on the second run; want 3", s.got304.Load()-before)
	}
	for _, r := range g.Feeds[:3] {
		if r.Status != digest.FeedNotModified {
			t.Errorf("%s: %s; want not_modified", r.Feed.URL, r.Status)
		}
	}
	if fl := g.Feeds[3]; fl.Status != digest.FeedError || !strings.Contains(fl.Err.Error(), "503") || len(fl.Articles) != 1 {
		t.Errorf("flaky feed: %s %v with %d stored items", fl.Status, fl.Err, len(fl.Articles))
	}
	if got := titles(g.Articles); got != "[칼럼] AI기본법 시행령의 쟁점 | 날짜가 없는 글 | Flaky but good" {
		t.Fatalf("run 2 articles: %s", got)
	}
	if g.Failed() != 1 {
		t.Errorf("Failed() = %d", g.Failed())
	}
	// The languages come back from the store with the articles.
	if got := langs(g.Articles); got != "ko ko en" {
		t.Errorf("languages after 304/error: %s, want ko ko en", got)
	}
	// A 304 carries no title; the feed's name comes from its last copy.
	if g.Feeds[0].Title != "칼럼" || g.Articles[0].FeedName != "칼럼" || g.Feeds[3].Title != "Flaky" {
		t.Errorf("names after 304/error: feed %q, article %q, flaky %q", g.Feeds[0].Title, g.Articles[0].FeedName, g.Feeds[3].Title)
	}

	// The issue goes out; a week later nothing of it comes again, and the
	// undated post, first seen last week, does not either.
	if err := st.MarkMailed(ctx, "2026-W49", g.Articles[:1], monday); err != nil {
		t.Fatal(err)
	}
	g = gather(monday.Add(-time.Minute))
	if strings.Contains(titles(g.Articles), "AI기본법") {
		t.Errorf("a mailed story came again: %s", titles(g.Articles))
	}
	if _, err := st.SaveIssue(ctx, digest.Issue{ID: digest.IssueID(g.Period), Title: "T", Period: g.Period}, digest.IssueOpen, monday); err != nil {
		t.Fatal(err)
	}
	g = gather(monday.Add(8 * 24 * time.Hour))
	if len(g.Articles) != 0 {
		t.Errorf("next week's digest holds last week's articles: %s", titles(g.Articles))
	}
	if g.Number != 2 {
		t.Errorf("the week after the first issue: No. %d, want 2", g.Number)
	}
}

// storedFeeds is the URLs st has a state for.
func storedFeeds(t *testing.T, st *store.Store) map[string]digest.FeedState {
	t.Helper()
	states, err := st.FeedStates(context.Background())
	if err != nil {
		t.Error(err)
	}
	return states
}

// With one fetch at a time, the feed fetched first is in the store by
// the time the second is requested: feeds are stored as they arrive,
// not after the last fetch (and no more than the fetch slots' worth of
// parsed feeds wait in memory).
func TestGatherStoresEachFeedAsItArrives(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var (
		mu    sync.Mutex
		order []string
		seen  []map[string]digest.FeedState
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		order = append(order, r.URL.Path)
		seen = append(seen, storedFeeds(t, st))
		mu.Unlock()
		fmt.Fprintf(w, `<rss version="2.0"><channel><title>%s</title>
			<item><title>글 %s</title><link>https://example.kr%s/1</link><pubDate>Tue, 24 Nov 2026 09:00:00 +0900</pubDate></item>
			</channel></rss>`, r.URL.Path, r.URL.Path, r.URL.Path)
	}))
	defer srv.Close()
	feeds := []digest.Feed{{URL: srv.URL + "/a.xml"}, {URL: srv.URL + "/b.xml"}, {URL: srv.URL + "/c.xml"}}
	c := collect.New(collect.Options{Timeout: 5 * time.Second, Concurrency: 1})
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	g, err := Gather(ctx, c, st, feeds, digest.WeekEnding(now, 7*24*time.Hour, time.UTC), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Articles) != 3 || len(order) != 3 {
		t.Fatalf("%d articles from %d requests (%v); want 3 and 3", len(g.Articles), len(order), order)
	}
	for i := 1; i < len(order); i++ {
		for _, before := range order[:i] {
			if _, ok := seen[i][srv.URL+before]; !ok {
				t.Errorf("when %s was requested, %s (fetched before it) was not stored yet", order[i], before)
			}
		}
	}
}

// `feeds check` gathers with GatherCheck: the articles outside the week
// come back without their text (the memory of a check of 500 feeds
// holds the week, not every feed's history), still counted and dated;
// the week's keep theirs, and the store keeps everything. Gather keeps
// all of it, for the daemon's preview of another week.
func TestGatherCheckDropsTheTextOutsideTheWeek(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<rss version="2.0"><channel><title>칼럼</title>
			<item><title>이번 주</title><link>https://example.kr/new</link><author>kim@example.kr (김)</author><category>AI</category>
			<description>&lt;p&gt;이번 주의 &lt;b&gt;글&lt;/b&gt;&lt;/p&gt;</description><pubDate>Tue, 24 Nov 2026 09:00:00 +0900</pubDate></item>
			<item><title>두 주 전</title><link>https://example.kr/old</link><author>lee@example.kr (이)</author><category>AI</category>
			<description>&lt;p&gt;두 주 전의 &lt;b&gt;글&lt;/b&gt;&lt;/p&gt;</description><pubDate>Tue, 10 Nov 2026 09:00:00 +0900</pubDate></item>
			</channel></rss>`)
	}))
	defer srv.Close()
	feeds := []digest.Feed{{URL: srv.URL + "/f.xml"}}
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	period := digest.WeekEnding(now, 7*24*time.Hour, time.UTC)
	c := collect.New(collect.Options{Timeout: 5 * time.Second})
	for _, check := range []bool{true, false} {
		st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gull.db"))
		if err != nil {
			t.Fatal(err)
		}
		run := Gather
		if check {
			run = GatherCheck
		}
		g, err := run(ctx, c, st, feeds, period, now)
		if err != nil {
			t.Fatal(err)
		}
		r := g.Feeds[0]
		if len(r.Articles) != 2 || r.InWindow != 1 || r.Newest == nil || !r.Newest.Equal(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("check=%v: %d articles, %d in the week, newest %v", check, len(r.Articles), r.InWindow, r.Newest)
		}
		week, old := r.Articles[0], r.Articles[1]
		if len(g.Articles) != 1 || g.Articles[0].Summary != "이번 주의 글" || !strings.Contains(string(g.Articles[0].Content), "<b>글</b>") ||
			week.Author == "" || len(week.Categories) != 1 {
			t.Errorf("check=%v: the week's article lost its text: %+v", check, g.Articles)
		}
		if old.Title != "두 주 전" || old.Link != "https://example.kr/old" || old.Published == nil {
			t.Errorf("check=%v: the old article lost its title, link or date: %+v", check, old)
		}
		stripped := old.Summary == "" && old.Content == "" && old.Author == "" && old.Categories == nil
		if stripped != check {
			t.Errorf("check=%v: the old article's text stripped=%v: %+v", check, stripped, old)
		}
		stored, err := st.FeedArticles(ctx, feeds[0].URL)
		if err != nil || len(stored) != 2 || stored[1].Summary != "두 주 전의 글" || !strings.Contains(string(stored[1].Content), "<b>글</b>") {
			t.Errorf("check=%v: the store lost the old article's text: %+v %v", check, stored, err)
		}
		st.Close()
	}
}

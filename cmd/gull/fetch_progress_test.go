package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"gull/digest"
	"gull/digest/render"
)

// syncBuffer is a stderr that the progress goroutine and the command may
// write at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The line names the feeds still awaited after a second, longest first,
// never a secret of their URLs, and gives way to a summary at the end.
func TestFetchProgressNamesSlowFeeds(t *testing.T) {
	var out bytes.Buffer
	p := newFetchProgress(&out, 4, 200)
	p.started(digest.Feed{URL: "https://oecd.example/ai.xml", Name: "OECD AI"})
	p.started(digest.Feed{URL: "https://news.example/feed?api_key=s3cret"})
	p.started(digest.Feed{URL: "https://msit.example/rss", Name: "과기정통부"})
	p.started(digest.Feed{URL: "https://fast.example/rss"})
	p.finished(digest.FeedResult{Feed: digest.Feed{URL: "https://fast.example/rss"}, Status: digest.FeedOK})

	p.draw(time.Now())
	if out.Len() != 0 {
		t.Fatalf("drew %q before any feed was slow", out.String())
	}
	p.draw(time.Now().Add(3 * time.Second))
	got := out.String()
	want := "\rfetched 1/4 feeds; still fetching OECD AI (3s), https://news.example/feed?api… (3s), 1 more..."
	if got != want {
		t.Errorf("line:\n got %q\nwant %q", got, want)
	}
	if strings.Contains(got, "s3cret") {
		t.Errorf("the line shows a URL's secret: %q", got)
	}

	// Once feeds come in, the line is redrawn over the longer one.
	for _, u := range []string{"https://oecd.example/ai.xml", "https://news.example/feed?api_key=s3cret"} {
		p.finished(digest.FeedResult{Feed: digest.Feed{URL: u}, Status: digest.FeedOK})
	}
	out.Reset()
	p.draw(time.Now().Add(4 * time.Second))
	line := "\rfetched 3/4 feeds; still fetching 과기정통부 (4s)..."
	if got := out.String(); !strings.HasPrefix(got, line) || strings.TrimRight(got[len(line):], " ") != "" || len(got) == len(line) {
		t.Errorf("redraw: got %q, want %q padded with spaces over the old line", got, line)
	}

	out.Reset()
	p.finished(digest.FeedResult{Feed: digest.Feed{URL: "https://msit.example/rss"}, Status: digest.FeedError})
	p.finish(p.began.Add(21 * time.Second))
	if got := out.String(); !strings.HasPrefix(got, "\rfetched 4 feeds in 21s; 1 failed") || !strings.HasSuffix(got, "\n") {
		t.Errorf("summary: got %q", got)
	}
}

// A fetch over within the second shows nothing at all, not even a summary.
func TestFetchProgressQuietWhenFast(t *testing.T) {
	var out bytes.Buffer
	p := newFetchProgress(&out, 1, 80)
	p.started(digest.Feed{URL: "a.xml"})
	p.draw(time.Now())
	p.finished(digest.FeedResult{Feed: digest.Feed{URL: "a.xml"}, Status: digest.FeedOK})
	p.draw(time.Now().Add(5 * time.Second))
	p.finish(time.Now())
	if out.Len() != 0 {
		t.Errorf("wrote %q", out.String())
	}
}

// The line never wraps (a wrapped line cannot be redrawn) and never cuts a
// Hangul character in half.
func TestFetchProgressFitsTheTerminal(t *testing.T) {
	var out bytes.Buffer
	p := newFetchProgress(&out, 2, 40)
	p.started(digest.Feed{URL: "a", Name: "과학기술정보통신부 인공지능 정책 보도자료 모음"})
	p.started(digest.Feed{URL: "b", Name: "한국지능정보사회진흥원"})
	p.draw(time.Now().Add(2 * time.Second))
	line := strings.TrimPrefix(out.String(), "\r")
	if w := render.DisplayWidth(line); w > 39 || !utf8.ValidString(line) || !strings.HasPrefix(line, "fetched 0/2 feeds; still fetching 과") {
		t.Errorf("line %q: %d columns on a 40-column terminal", line, w)
	}
}

// feeds check on a terminal: a feed that hangs is named with how long it
// has kept the check waiting, and the fetch ends with a summary line.
// Off a terminal the same check writes none of it (feeds_check.txtar).
func TestFeedsCheckShowsProgressOnATerminal(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		w.Write([]byte(`<rss version="2.0"><channel><title>Slow</title></channel></rss>`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	body := "timezone: Asia/Seoul\nfeeds: [{url: " + srv.URL + "/feed.xml, name: 느린 피드}]\nthemes: [{id: a, name: A, keywords: [x]}]\nstore: {path: gull.db}\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	var stderr syncBuffer
	ticks := make(chan time.Time)
	a := &app{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, configPath: cfg,
		progress: &stderr, progressWidth: 80, progressTicks: ticks}
	errc := make(chan error, 1)
	go func() { errc <- a.dispatch(context.Background(), []string{"feeds", "check", "--now", "2026-11-30"}) }()
	<-arrived
	at := time.Now().Add(3 * time.Second) // the terminal's clock, three seconds on
	ticks <- at
	// The watcher may be descheduled between taking a tick and drawing it;
	// it takes the second only once the first is drawn, before the feed
	// is released (else it could draw a fetch already over: no line).
	ticks <- at
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("feeds check: %v\n%s", err, stderr.String())
	}
	got := stderr.String()
	for _, want := range []string{"\rfetched 0/1 feeds; still fetching 느린 피드 (3s)...", "\rfetched 1 feed in "} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr %q lacks %q", got, want)
		}
	}
	if !strings.Contains(stdout.String(), "1 feed: 1 ok") {
		t.Errorf("stdout: %s", stdout.String())
	}
}

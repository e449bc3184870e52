package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gull/digest"
	"gull/digest/render"
)

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

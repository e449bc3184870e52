package web

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"gull/digest"
)

// A refresh that read articles from the feeds shows them in
// gull_articles_total; a feed answered 304 brings none, a failed one none.
func TestMetricsCountFetchedArticles(t *testing.T) {
	m := NewMetrics()
	m.CountFeeds([]digest.FeedResult{
		{Status: digest.FeedOK, Articles: make([]digest.Article, 3)},
		{Status: digest.FeedNotModified, Articles: make([]digest.Article, 5)}, // the stored copy
		{Status: digest.FeedError, Articles: make([]digest.Article, 2)},       // the last good copy
	})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{"gull_articles_total 3\n", "gull_feeds_fetched_total 2\n", "gull_feeds_failed_total 1\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grepGull(string(body)))
		}
	}
}

func grepGull(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "gull_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Bounces by kind and complaints: each kind at 0 from the start, each
// report once.
func TestMetricsCountBounces(t *testing.T) {
	m := NewMetrics()
	get := func() string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ := io.ReadAll(rec.Body)
		return string(body)
	}
	for _, want := range []string{`gull_bounces_total{kind="hard"} 0`, `gull_bounces_total{kind="soft"} 0`, "gull_complaints_total 0"} {
		if !strings.Contains(get(), want+"\n") {
			t.Errorf("/metrics at start lacks %q:\n%s", want, grepGull(get()))
		}
	}
	for _, k := range []string{"hard", "hard", "soft", "delayed", "complaint", "unknown"} {
		m.CountBounce(k)
	}
	for _, want := range []string{`gull_bounces_total{kind="hard"} 2`, `gull_bounces_total{kind="soft"} 1`,
		`gull_bounces_total{kind="delayed"} 1`, "gull_complaints_total 1"} {
		if !strings.Contains(get(), want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, grepGull(get()))
		}
	}
}

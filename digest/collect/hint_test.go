package collect

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gull/digest"
)

// A page that names its feed by a relative href gets a hint with the
// feed's absolute URL, resolved against the page as served (after
// redirects), ready to paste into feeds[].url.
func TestHTMLPageHintIsAbsolute(t *testing.T) {
	page := func(href string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(`<!DOCTYPE html><html><head><title>블로그</title>
<link rel="alternate" type="application/rss+xml" title="RSS" href="` + href + `"></head><body>안녕</body></html>`))
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/blog/", page("/feed.xml"))
	mux.HandleFunc("/news/index.html", page("rss/all.xml"))
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/news/index.html", http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c := New(Options{Timeout: 5 * time.Second, Concurrency: 2, MaxBytes: 1 << 20, UserAgent: "gull-test"})
	cases := map[string]string{
		"/blog/": srv.URL + "/feed.xml",
		"/old":   srv.URL + "/news/rss/all.xml",
	}
	for path, want := range cases {
		r := c.Collect(context.Background(), []digest.Feed{{URL: srv.URL + path, Location: time.UTC}}, nil)[0]
		if r.Err == nil || !strings.Contains(r.Err.Error(), "the page names its feed at "+want+": use that URL") {
			t.Errorf("%s: error %v; want the hint to name %s", path, r.Err, want)
		}
	}
}

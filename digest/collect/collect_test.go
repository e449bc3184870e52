package collect

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"

	"gull/digest"
)

// rss builds an RSS 2.0 document; decl is the XML declaration ("" for none).
func rss(decl string, titles ...string) string {
	var b strings.Builder
	b.WriteString(decl)
	b.WriteString("<rss version=\"2.0\"><channel><title>test feed</title><link>https://example.kr/</link>\n")
	for i, t := range titles {
		fmt.Fprintf(&b, "<item><title>%s</title><link>/a/%d?utm_source=rss</link><guid>item-%d</guid>"+
			"<pubDate>Tue, 24 Nov 2026 09:0%d:00 +0900</pubDate><description>%s: summary.</description></item>\n", t, i, i, i, t)
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

func mustEncode(t *testing.T, s string, e interface {
	Bytes([]byte) ([]byte, error)
}) []byte {
	t.Helper()
	out, err := e.Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode test data: %v", err)
	}
	return out
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// faultServer serves a good feed and one feed for every fault gull must
// survive. Each path's handler is what a real misbehaving server does.
func faultServer(t *testing.T) *httptest.Server {
	t.Helper()
	korean8 := rss(`<?xml version="1.0" encoding="UTF-8"?>`, "AI기본법 시행령 공개", "반도체 보조금의 조건")
	euckrNoDecl := mustEncode(t, rss("", "인공지능 정책 칼럼", "데이터센터와 전력"), korean.EUCKR.NewEncoder())
	// 똠, 햏 and 뷁 exist only in CP949's extension, not in strict EUC-KR.
	cp949 := mustEncode(t, rss(`<?xml version="1.0" encoding="euc-kr"?>`, "똠방각하의 햏 칼럼", "뷁: 확장 완성형 글자"), korean.EUCKR.NewEncoder())
	sjis := mustEncode(t, rss(`<?xml version="1.0" encoding="Shift_JIS"?>`, "人工知能の規制について", "半導体とデータセンター"), japanese.ShiftJIS.NewEncoder())
	sjisHeaderOnly := mustEncode(t, rss("", "生成AIとコンテンツ", "エージェントの責任"), japanese.ShiftJIS.NewEncoder())
	utf16 := mustEncode(t, rss(`<?xml version="1.0" encoding="UTF-16"?>`, "UTF-16 속의 한글 제목", "두 번째 글"),
		xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM).NewEncoder())
	utf32be := mustEncode(t, rss(`<?xml version="1.0" encoding="UTF-32"?>`, "UTF-32 한글 제목"),
		utf32.UTF32(utf32.BigEndian, utf32.UseBOM).NewEncoder())
	bomb := gzipped(t, bytes.Repeat([]byte(" "), 8<<20)) // 8 MiB of spaces in ~8 KiB
	huge := "<rss version=\"2.0\"><channel><title>big</title>" + strings.Repeat("<item><title>x</title></item>", 20000) + "</channel></rss>"

	mux := http.NewServeMux()
	xml := func(body []byte, contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Write(body)
		}
	}
	mux.HandleFunc("/good.xml", xml([]byte(korean8), "application/rss+xml; charset=utf-8"))
	mux.HandleFunc("/euckr-undeclared.xml", xml(euckrNoDecl, "text/xml"))
	mux.HandleFunc("/cp949-as-euckr.xml", xml(cp949, "text/xml"))
	mux.HandleFunc("/sjis.xml", xml(sjis, "text/xml"))
	mux.HandleFunc("/sjis-header.xml", xml(sjisHeaderOnly, "text/xml; charset=Shift_JIS"))
	mux.HandleFunc("/utf16-bom.xml", xml(utf16, "text/xml"))
	mux.HandleFunc("/utf32-bom.xml", xml(utf32be, "text/xml"))
	mux.HandleFunc("/gzip.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipped(t, []byte(korean8)))
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("/404", http.NotFound)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select { // never answers within the timeout
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	mux.HandleFunc("/drip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>`))
		for { // a byte every 50ms: each read succeeds, the body never ends
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
				w.Write([]byte("a"))
				w.(http.Flusher).Flush()
			}
		}
	})
	mux.HandleFunc("/huge", xml([]byte(huge), "text/xml"))
	mux.HandleFunc("/huge-announced", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "999999999")
		w.WriteHeader(200)
	})
	mux.HandleFunc("/gzip-bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	})
	mux.HandleFunc("/gzip-bomb-unlabelled", xml(bomb, "text/xml"))
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/hop/", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/hop/"), "%d", &n)
		if n == 0 {
			http.Redirect(w, r, "/good.xml", http.StatusMovedPermanently)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/page.html", xml([]byte(`<!DOCTYPE html><html><head><title>Blog</title>
		<link rel="alternate" type="application/rss+xml" href="https://blog.example/feed.xml"></head><body>hi</body></html>`), "text/html"))
	mux.HandleFunc("/garbage", xml([]byte("\x00\x01\x02 this is not a feed \xff\xfe at all {]"), "application/octet-stream"))
	mux.HandleFunc("/empty", xml(nil, "text/xml"))
	return httptest.NewServer(mux)
}

func TestCollectFaults(t *testing.T) {
	srv := faultServer(t)
	defer srv.Close()
	const timeout = 700 * time.Millisecond
	c := New(Options{Timeout: timeout, Concurrency: 4, MaxBytes: 256 << 10, UserAgent: "gull-test"})

	type want struct {
		path   string
		errHas string              // "" means the feed must parse
		script *unicode.RangeTable // titles must be in this script
		items  int
	}
	cases := []want{
		{path: "/good.xml", script: unicode.Hangul, items: 2},
		{path: "/gzip.xml", script: unicode.Hangul, items: 2},
		{path: "/euckr-undeclared.xml", script: unicode.Hangul, items: 2},
		{path: "/cp949-as-euckr.xml", script: unicode.Hangul, items: 2},
		{path: "/sjis.xml", script: unicode.Han, items: 2},
		{path: "/sjis-header.xml", script: unicode.Katakana, items: 2},
		{path: "/utf16-bom.xml", script: unicode.Hangul, items: 2},
		{path: "/utf32-bom.xml", script: unicode.Hangul, items: 1},
		{path: "/hop/3", script: unicode.Hangul, items: 2},
		{path: "/500", errHas: "HTTP 500"},
		{path: "/404", errHas: "HTTP 404 Not Found; the feed moved or is gone"},
		{path: "/slow", errHas: "timed out after 700ms (fetch.timeout)"},
		{path: "/drip", errHas: "timed out after 700ms (fetch.timeout)"},
		{path: "/huge", errHas: "more than fetch.max_bytes"},
		{path: "/huge-announced", errHas: "more than fetch.max_bytes"},
		{path: "/gzip-bomb", errHas: "unpacks to more than"},
		{path: "/gzip-bomb-unlabelled", errHas: "unpacks to more than"},
		{path: "/loop", errHas: "stopped after 5 (a redirect loop?)"},
		{path: "/page.html", errHas: "HTML page, not a feed; the page names its feed at https://blog.example/feed.xml"},
		{path: "/garbage", errHas: "not an RSS, Atom or JSON feed"},
		{path: "/empty", errHas: "empty"},
		{path: "/nothing-here", errHas: "HTTP 404"},
		{path: closedPortURL(t), errHas: "connection refused: the site is down or the port is wrong"},
	}
	var feeds []digest.Feed
	for _, c := range cases {
		u := srv.URL + c.path
		if strings.HasPrefix(c.path, "http") {
			u = c.path
		}
		feeds = append(feeds, digest.Feed{URL: u, Location: time.UTC})
	}
	results := c.Collect(context.Background(), feeds, nil)
	if len(results) != len(cases) {
		t.Fatalf("got %d results for %d feeds", len(results), len(cases))
	}
	for i, w := range cases {
		r := results[i]
		t.Run(strings.Trim(strings.TrimPrefix(w.path, srv.URL), "/"), func(t *testing.T) {
			if r.Feed.URL != feeds[i].URL {
				t.Fatalf("result %d is for %s; results must keep the feeds' order", i, r.Feed.URL)
			}
			// No fault may hold a feed much past its timeout: this is a
			// hang check with wide slack, not a speed target.
			if r.Duration > timeout+3*time.Second {
				t.Errorf("took %s with a %s timeout", r.Duration, timeout)
			}
			if w.errHas != "" {
				if r.Status != digest.FeedError || r.Err == nil {
					t.Fatalf("status %s, err %v; want an error containing %q", r.Status, r.Err, w.errHas)
				}
				if !strings.Contains(r.Err.Error(), w.errHas) {
					t.Errorf("error %q does not say %q", r.Err, w.errHas)
				}
				if strings.Contains(r.Err.Error(), "\n") {
					t.Errorf("error is not one line: %q", r.Err)
				}
				return
			}
			if r.Status != digest.FeedOK {
				t.Fatalf("status %s, err %v; want ok", r.Status, r.Err)
			}
			if len(r.Articles) != w.items {
				t.Fatalf("%d articles, want %d", len(r.Articles), w.items)
			}
			for _, a := range r.Articles {
				if strings.ContainsRune(a.Title+a.Summary, '\uFFFD') || !hasScript(a.Title, w.script) {
					t.Errorf("title %q (read as %s) is not clean text in the expected script", a.Title, r.Charset)
				}
				// Relative item links resolve against the site the feed
				// names (its <link>), not the server it came from.
				if !strings.HasPrefix(a.Link, "https://example.kr/a/") || strings.Contains(a.Link, "utm_") {
					t.Errorf("link %q: want absolute against the feed's site, without tracking", a.Link)
				}
			}
		})
	}
}

// closedPortURL is a loopback URL nothing listens on.
func closedPortURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u + "/feed.xml"
}

func hasScript(s string, rt *unicode.RangeTable) bool {
	for _, r := range s {
		if unicode.Is(rt, r) {
			return true
		}
	}
	return false
}

func TestCollectSendsUserAgentAndAcceptsGzip(t *testing.T) {
	var mu sync.Mutex
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		w.Write([]byte(rss("", "제목 하나")))
	}))
	defer srv.Close()
	c := New(Options{UserAgent: "gull/test (+https://news.example)"})
	r := c.CollectOne(context.Background(), digest.Feed{URL: srv.URL}, digest.FeedState{})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	mu.Lock()
	defer mu.Unlock()
	if ua := got.Get("User-Agent"); ua != "gull/test (+https://news.example)" {
		t.Errorf("User-Agent %q", ua)
	}
	if ae := got.Get("Accept-Encoding"); ae != "gzip" {
		t.Errorf("Accept-Encoding %q, want gzip", ae)
	}
}

// TestConditionalGet: the second fetch carries the validators the first
// one got, and a 304 yields not_modified without reading a body.
func TestConditionalGet(t *testing.T) {
	var mu sync.Mutex
	var requests []http.Header
	body := rss("", "첫 번째 글", "두 번째 글")
	const etag = `"v1-abc"`
	const lastMod = "Tue, 24 Nov 2026 00:00:00 GMT"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Header.Clone())
		mu.Unlock()
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	c := New(Options{})
	feed := digest.Feed{URL: srv.URL + "/feed"}

	first := c.CollectOne(context.Background(), feed, digest.FeedState{})
	if first.Status != digest.FeedOK || len(first.Articles) != 2 {
		t.Fatalf("first fetch: %s %v, %d articles", first.Status, first.Err, len(first.Articles))
	}
	if first.State.ETag != etag || first.State.LastModified != lastMod {
		t.Fatalf("state to remember: %+v", first.State)
	}
	second := c.CollectOne(context.Background(), feed, first.State)
	if second.Status != digest.FeedNotModified {
		t.Fatalf("second fetch: %s %v; want not_modified", second.Status, second.Err)
	}
	if len(second.Articles) != 0 || second.Charset != "" {
		t.Errorf("a 304 must not be parsed: %d articles, charset %q", len(second.Articles), second.Charset)
	}
	if second.State != first.State {
		t.Errorf("validators lost after 304: %+v", second.State)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(requests) != 2 {
		t.Fatalf("%d requests", len(requests))
	}
	if requests[0].Get("If-None-Match") != "" {
		t.Errorf("first request was conditional")
	}
	if requests[1].Get("If-None-Match") != etag || requests[1].Get("If-Modified-Since") != lastMod {
		t.Errorf("second request headers: If-None-Match %q, If-Modified-Since %q",
			requests[1].Get("If-None-Match"), requests[1].Get("If-Modified-Since"))
	}
}

// A broken feed never stops the others: a canceled context still gives a
// result per feed, each saying what happened.
func TestCollectCanceled(t *testing.T) {
	srv := faultServer(t)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := New(Options{Concurrency: 1})
	res := c.Collect(ctx, []digest.Feed{{URL: srv.URL + "/good.xml"}, {URL: srv.URL + "/slow"}}, nil)
	for _, r := range res {
		if r.Status != digest.FeedError || r.Err == nil {
			t.Errorf("%s: %s %v after cancel", r.Feed.URL, r.Status, r.Err)
		}
	}
}

func TestFeedLimits(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(`<rss version="2.0"><channel><title>many</title>`)
	for i := range MaxItemsPerFeed + 100 {
		fmt.Fprintf(&b, `<item><title>item %d</title><link>https://m.example/%d</link></item>`, i, i)
	}
	b.WriteString(`</channel></rss>`)
	many := filepath.Join(dir, "many.xml")
	os.WriteFile(many, []byte(b.String()), 0o644)
	truncated := filepath.Join(dir, "truncated.xml")
	gz := gzipBytes(rss("", "잘린 압축"))
	os.WriteFile(truncated, gz[:len(gz)-12], 0o644)
	fifo := filepath.Join(dir, "pipe.xml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}

	c := New(Options{Timeout: 2 * time.Second})
	res := c.Collect(context.Background(), []digest.Feed{{URL: many}, {URL: truncated}, {URL: fifo}}, nil)
	if r := res[0]; len(r.Articles) != MaxItemsPerFeed || !strings.Contains(strings.Join(r.Repairs, ";"), "kept the first 500") {
		t.Errorf("oversized feed: %d articles, repairs %q", len(r.Articles), r.Repairs)
	}
	if r := res[1]; r.Err == nil || !strings.Contains(r.Err.Error(), "gzip body is cut off") {
		t.Errorf("truncated gzip: %v; it must fail rather than save a partial copy", r.Err)
	}
	if r := res[2]; r.Err == nil || !strings.Contains(r.Err.Error(), "not a regular file") || r.Duration > time.Second {
		t.Errorf("a named pipe: %v after %s; it must be refused at once", r.Err, r.Duration)
	}
}

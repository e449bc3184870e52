package collect

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"gull/digest"
)

// writeBenchFeeds writes n RSS feeds of items items each, Korean and
// English, with HTML descriptions of about 1 KB, as real columns have.
func writeBenchFeeds(b *testing.B, n, items int) []digest.Feed {
	b.Helper()
	dir := b.TempDir()
	para := strings.Repeat("인공지능 기본법 시행령은 고영향 AI의 범위를 정한다. Export controls reshape the chip supply chain. ", 6)
	var feeds []digest.Feed
	for f := range n {
		var buf bytes.Buffer
		fmt.Fprintf(&buf, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>피드 %d</title><link>https://f%d.example.kr/</link>`, f, f)
		for i := range items {
			fmt.Fprintf(&buf, `<item><title>[칼럼] AI 정책 %d-%d: 반도체와 데이터센터</title><link>/col/%d?utm_source=rss&amp;id=%d</link>`+
				`<guid isPermaLink="false">f%d-i%d</guid><pubDate>Tue, 24 Nov 2026 %02d:%02d:00 +0900</pubDate>`+
				`<description><![CDATA[<p>%s</p><p><a href="/more/%d" onclick="x()">더 보기</a><script>t()</script></p>]]></description></item>`,
				f, i, i, i, f, i, i%24, i%60, para, i)
		}
		buf.WriteString(`</channel></rss>`)
		path := filepath.Join(dir, fmt.Sprintf("feed-%03d.xml", f))
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		feeds = append(feeds, digest.Feed{URL: path, Location: time.UTC})
	}
	return feeds
}

// BenchmarkCollect200Feeds: 200 local feeds of 50 items, the whole collect
// stage (read, decode, parse, normalize, sanitize), beside gofeed alone
// parsing the same files as the reference. Report gull/gofeed as a ratio:
//
//	go test -run '^$' -bench Collect200 -benchmem -count 5 ./digest/collect
func BenchmarkCollect200Feeds(b *testing.B) {
	feeds := writeBenchFeeds(b, 200, 50)
	b.Run("gofeed-only", func(b *testing.B) {
		for b.Loop() {
			for _, f := range feeds {
				data, err := os.ReadFile(f.URL)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := gofeed.NewParser().Parse(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("gull-sequential", func(b *testing.B) {
		c := New(Options{Concurrency: 1})
		benchCollect(b, c, feeds)
	})
	b.Run("gull-concurrent", func(b *testing.B) {
		c := New(Options{Concurrency: 8})
		benchCollect(b, c, feeds)
	})
}

func benchCollect(b *testing.B, c *Collector, feeds []digest.Feed) {
	items := 0
	for b.Loop() {
		items = 0
		for _, r := range c.Collect(context.Background(), feeds, nil) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			items += len(r.Articles)
		}
	}
	if items != 200*50 {
		b.Fatalf("%d articles, want %d", items, 200*50)
	}
	b.ReportMetric(float64(items)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

//go:build ignore

// feedserver writes N RSS feeds of ITEMS items (about 80 KB each at 50
// items, Korean and English columns with HTML descriptions) into DIR and
// serves DIR on ADDR with Go's http.FileServer: a fast static server, so
// that bench/collect.sh measures the fetchers, not the server.
//
//	go run bench/feedserver.go -dir DIR -feeds 50 -items 50 -addr 127.0.0.1:8089
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	dir := flag.String("dir", "", "folder for the feeds")
	feeds := flag.Int("feeds", 50, "how many feeds")
	items := flag.Int("items", 50, "items per feed")
	addr := flag.String("addr", "127.0.0.1:8089", "where to serve them")
	flag.Parse()
	if *dir == "" {
		log.Fatal("feedserver: -dir is required")
	}
	para := strings.Repeat("인공지능 기본법 시행령은 고영향 AI의 범위를 정한다. Export controls reshape the chip supply chain. ", 9)
	week := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for f := range *feeds {
		var b bytes.Buffer
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<rss version="2.0"><channel><title>칼럼 피드 %d</title><link>https://f%d.example.kr/</link><description>Columns %d</description>`+"\n", f, f, f)
		for i := range *items {
			pub := week.Add(-time.Duration(i*3+f%3) * time.Hour)
			fmt.Fprintf(&b, `<item><title>[칼럼] AI 정책 %d-%d: 반도체와 데이터센터, what the AI Act means</title>`+
				`<link>https://f%d.example.kr/col/%d?utm_source=rss&amp;id=%d</link><guid isPermaLink="false">f%d-i%d</guid>`+
				`<pubDate>%s</pubDate><category>AI</category><category>정책</category>`+
				`<description><![CDATA[<p>%s</p><p><a href="/more/%d" onclick="x()">더 보기</a><script>t()</script><img src="https://img.example/%d.png"></p>]]></description></item>`+"\n",
				f, i, f, i, i, f, i, pub.Format(time.RFC1123Z), para, i, i)
		}
		b.WriteString("</channel></rss>\n")
		if err := os.WriteFile(filepath.Join(*dir, fmt.Sprintf("feed-%03d.xml", f)), b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	log.Printf("feedserver: %d feeds in %s, serving on http://%s/", *feeds, *dir, *addr)
	log.Fatal(http.ListenAndServe(*addr, http.FileServer(http.Dir(*dir))))
}

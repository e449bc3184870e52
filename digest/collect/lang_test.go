package collect

import (
	"testing"
	"time"

	"gull/digest"
)

// The declaration is read from RSS, Atom and JSON Feed alike.
func TestNormalizeSetsLang(t *testing.T) {
	for name, doc := range map[string]string{
		"rss": `<rss version="2.0"><channel><title>T</title><language>ko-KR</language>
			<item><title>Weekly AI note</title><link>https://example.kr/1</link></item></channel></rss>`,
		"rss-undeclared": `<rss version="2.0"><channel><title>T</title>
			<item><title>인공지능 기본법 시행</title><link>https://example.kr/1</link></item></channel></rss>`,
		"atom": `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ko"><title>T</title><id>urn:t</id>
			<entry><title>Weekly AI note</title><id>urn:1</id><link href="https://example.kr/1"/></entry></feed>`,
		"json": `{"version": "https://jsonfeed.org/version/1.1", "title": "T", "language": "ko-KR",
			"items": [{"id": "1", "title": "Weekly AI note", "url": "https://example.kr/1"}]}`,
	} {
		p, err := parseBody([]byte(doc), "", 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		arts := Normalize(p.feed, digest.Feed{URL: "https://example.kr/feed", Location: time.UTC}, nil)
		if len(arts) != 1 || arts[0].Lang != "ko" {
			t.Errorf("%s: %+v, want one article of lang ko", name, arts)
		}
	}
}
